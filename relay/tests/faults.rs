//! The faults HANDOFF.md names, against the built relay and real servers: a kill -9 under
//! load, two replicas sharing one Redis, and Redis stopped during a load with the relay killed
//! during the outage. Every key answered `OK` is stored, and none twice.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use support::*;

/// Sends signed recalls of one message each from `senders` threads, each seq once, taking the
/// next seq from `next`, until `stop`; returns the seqs answered `OK`. A refused connection or
/// a cut answer (the relay was killed) is not `OK`.
fn load(
    addrs: Vec<SocketAddr>,
    senders: usize,
    next: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Vec<u32>> {
    thread::spawn(move || {
        let answered = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..senders)
            .map(|_| {
                let (addrs, next, stop, answered) = (
                    addrs.clone(),
                    Arc::clone(&next),
                    Arc::clone(&stop),
                    Arc::clone(&answered),
                );
                thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        let callback = group(&[seq]).signed(TOKEN);
                        for &addr in &addrs {
                            if try_post(addr, &callback.query(), &callback.body())
                                .is_some_and(|answer| answer == (200, OK.to_owned()))
                            {
                                answered.lock().unwrap().push(seq);
                            }
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let answered = answered.lock().unwrap().clone();
        answered
    })
}

/// [`post`], with `None` where the relay was not there to answer.
fn try_post(addr: SocketAddr, query: &str, body: &[u8]) -> Option<(u16, String)> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream
        .write_all(post_head(query, body.len(), true).as_bytes())
        .ok()?;
    stream.write_all(body).ok()?;
    read_answer(&mut stream).ok()
}

#[test]
fn kill_9_under_load_loses_no_key_answered_ok_and_stores_none_twice() {
    let dir = dir();
    let next = Arc::new(AtomicU32::new(1));
    let mut answered = Vec::new();
    // Three rounds on one journal: each relay killed while 16 senders are under way.
    for _round in 0..3 {
        let mut relay = Relay::start(dir.path(), &["--quiet"]);
        let stop = Arc::new(AtomicBool::new(false));
        let sender = load(vec![relay.addr], 16, Arc::clone(&next), Arc::clone(&stop));
        let before = next.load(Ordering::Relaxed);
        assert!(eventually(Duration::from_secs(60), || {
            next.load(Ordering::Relaxed) > before + 300
        }));
        relay.kill9();
        stop.store(true, Ordering::Relaxed);
        answered.extend(sender.join().unwrap());
    }
    // A restarted relay opens the journal the killed one left.
    let mut relay = Relay::start(dir.path(), &["--quiet"]);
    assert_eq!(relay.recall(&[0]).0, 200);
    assert_eq!(relay.terminate().code(), Some(0));
    answered.push(0);

    let stored = once_each(dumped_seqs(&relay.journal));
    let answered = once_each(answered);
    assert!(answered.len() > 600, "{} answered", answered.len());
    let missing: Vec<_> = answered
        .iter()
        .filter(|seq| stored.binary_search(seq).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "answered OK and not stored: {missing:?}"
    );
}

#[test]
fn two_replicas_sharing_one_redis_store_each_key_once() {
    let redis = RedisServer::start();
    let url = redis.url();
    let (one, two) = (dir(), dir());
    let first = Relay::start(one.path(), &["--quiet", "--redis", &url]);
    let second = Relay::start(two.path(), &["--quiet", "--redis", &url]);
    // Each recall sent to both replicas at once, from 8 threads.
    let seqs: Vec<u32> = (1..=120).collect();
    let threads: Vec<_> = seqs
        .chunks(15)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            let addrs = [first.addr, second.addr];
            thread::spawn(move || {
                for seq in chunk {
                    let callback = group(&[seq]).signed(TOKEN);
                    let (query, body) = (callback.query(), callback.body());
                    let both: Vec<_> = addrs
                        .iter()
                        .map(|&addr| {
                            let (query, body) = (query.clone(), body.clone());
                            thread::spawn(move || post(addr, &query, &body))
                        })
                        .collect();
                    for answer in both {
                        assert_eq!(answer.join().unwrap(), (200, OK.to_owned()));
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(once_each(stream_seqs(&redis, "tim:recalls")), seqs);
    let new = first.metric(r#"tim_recall_entries_total{outcome="new"}"#)
        + second.metric(r#"tim_recall_entries_total{outcome="new"}"#);
    let duplicate = first.metric(r#"tim_recall_entries_total{outcome="duplicate"}"#)
        + second.metric(r#"tim_recall_entries_total{outcome="duplicate"}"#);
    assert_eq!((new, duplicate), (120.0, 120.0));
}

#[test]
fn redis_stopped_during_a_load_and_the_relay_killed_in_the_outage_lose_nothing() {
    let dir = dir();
    let mut redis = RedisServer::start();
    let url = redis.url();
    let next = Arc::new(AtomicU32::new(1));
    let mut relay = Relay::start(dir.path(), &["--quiet", "--redis", &url]);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = load(vec![relay.addr], 8, Arc::clone(&next), Arc::clone(&stop));
    let progress = |count: u32| {
        let before = next.load(Ordering::Relaxed);
        assert!(eventually(Duration::from_secs(60), || {
            next.load(Ordering::Relaxed) > before + count
        }));
    };
    progress(100);
    // Redis goes away under load: recalls spill to the journal and are answered OK.
    redis.kill();
    progress(100);
    assert!(relay.metric("tim_recall_spilled_total") > 0.0);
    // The relay is killed during the outage, with spilled entries not forwarded.
    relay.kill9();
    stop.store(true, Ordering::Relaxed);
    let answered = once_each(sender.join().unwrap());

    redis.restart();
    let relay = Relay::start(dir.path(), &["--quiet", "--redis", &url]);
    assert!(
        eventually(Duration::from_secs(30), || {
            dump(&relay.journal)
                .iter()
                .all(|entry| entry["spilled"] == false || !entry["forwarded"].is_null())
        }),
        "spilled entries left unforwarded"
    );
    assert_eq!(relay.metric("tim_recall_spill_backlog"), 0.0);
    let streamed = once_each(stream_seqs(&redis, "tim:recalls"));
    let missing: Vec<_> = answered
        .iter()
        .filter(|seq| streamed.binary_search(seq).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "answered OK and not in the stream: {missing:?}"
    );
    assert!(answered.len() > 150, "{} answered", answered.len());
}
