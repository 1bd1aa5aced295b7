//! A kill -9 under concurrency: every recall whose handoff resolved before the kill is in the
//! journal after it, and no key is there twice. The child is this test binary, run again with
//! the journal's path in `TIM_RECALL_CRASH_CHILD`.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

const CHILD: &str = "TIM_RECALL_CRASH_CHILD";
/// What the child prints once a recall's handoff has resolved: the line, then the key's seq.
const RESOLVED: &str = "resolved ";

/// The child: 16 tasks hand recalls over as fast as the journal takes them, each recall sent
/// twice (a retry), and print each one once it resolved. It runs until it is killed.
#[test]
fn crash_child() {
    let Some(journal) = std::env::var_os(CHILD) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let handoff = tower_tim_recall_handoff::Handoff::builder(journal)
            .open()
            .unwrap();
        let mut tasks = Vec::new();
        for task in 0..16u32 {
            let handoff = handoff.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0.. {
                    let seq = task * 1_000_000 + n;
                    for _ in 0..2 {
                        hand(&handoff, recall(&[seq], "jared")).await.unwrap();
                    }
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{RESOLVED}{seq}").unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn every_recall_resolved_before_a_kill_9_is_in_the_journal_once() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = Dir::new();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, dir.journal())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut resolved = Vec::new();
        // Kill it mid-load, after a different number of recalls each round.
        let kill_after = 200 + round * 150;
        while resolved.len() < kill_after {
            let line = lines
                .next()
                .expect("the child runs until it is killed")
                .unwrap();
            if let Some(seq) = line.strip_prefix(RESOLVED) {
                resolved.push(seq.parse::<u32>().unwrap());
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // What the child printed before it died is still in the pipe.
        for line in lines {
            if let Some(seq) = line.unwrap().strip_prefix(RESOLVED) {
                resolved.push(seq.parse().unwrap());
            }
        }

        let entries = dir.entries();
        let stored: Vec<&str> = entries.iter().map(|entry| entry.key.as_str()).collect();
        let unique: HashSet<&str> = stored.iter().copied().collect();
        assert_eq!(stored.len(), unique.len(), "a key is in the journal twice");
        for seq in &resolved {
            assert!(
                unique.contains(key(*seq).as_str()),
                "recall {seq} resolved, and is lost"
            );
        }
        assert!(entries.iter().all(|entry| !entry.conflict));
        // The same keys again in the next round are duplicates: the child starts over at 0.
        std::thread::sleep(Duration::from_millis(10));
    }
}
