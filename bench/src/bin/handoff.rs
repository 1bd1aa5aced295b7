//! Durable recalls per second through the handoff, next to the naive way to do the same:
//!
//! - `journal`: the handoff on its SQLite journal (group commit);
//! - `fsync-each`: one SQLite transaction, and so one fsync, per recall (WAL, `synchronous=FULL`);
//! - `stream`: the handoff on a Redis stream (claims and append in one script per recall);
//! - `xadd-each`: one plain `XADD` per recall, without claims, over the same kind of shared
//!   multiplexed connection.
//!
//! Each runs with 1, 16 and 64 concurrent callers, each caller handing one group recall over
//! after the other, for `--seconds`; the kinds alternate within each of `--rounds` rounds. It
//! prints recalls per second and the p50 and p99 of the time to durable, the median over the
//! rounds.
//!
//! ```sh
//! cargo run --release -p tower-tim-recall-bench --bin handoff -- --redis redis://127.0.0.1:6379
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use redis::aio::ConnectionManager;
use tower::ServiceExt;
use tower_tim_recall::{AcceptedRecall, GroupRecall, RecalledMessage};
use tower_tim_recall_handoff::{Entry, Handoff};

#[derive(Parser)]
struct Args {
    /// The Redis server of `stream` and `xadd-each`; without it they are left out.
    #[arg(long)]
    redis: Option<String>,
    /// Where the journals go (a fresh file per run).
    #[arg(long, default_value = "target/handoff-bench")]
    dir: PathBuf,
    /// Seconds of each run.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Rounds; each runs every kind and caller count once, the kinds alternated.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The kinds to run, all of them by default (the Redis ones only with `--redis`).
    #[arg(long, value_delimiter = ',')]
    kinds: Vec<String>,
    /// The caller counts.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    callers: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Journal,
    FsyncEach,
    Stream,
    XaddEach,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Journal => "journal",
            Kind::FsyncEach => "fsync-each",
            Kind::Stream => "stream",
            Kind::XaddEach => "xadd-each",
        }
    }
}

/// One way to make a recall durable.
#[derive(Clone)]
enum Store {
    Handoff(Handoff),
    FsyncEach(Arc<Mutex<rusqlite::Connection>>),
    XaddEach(ConnectionManager, String),
}

impl Store {
    async fn open(kind: Kind, dir: &Path, redis: Option<&str>, run: usize) -> Store {
        let journal = dir.join(format!("run-{run}-{}.db", kind.name()));
        // A stream and claims of this process's own: claims left by an earlier run would make
        // its recalls duplicates, which cost less than new ones.
        let stream = format!("bench:{}:{run}:{}", std::process::id(), kind.name());
        match kind {
            Kind::Journal => {
                Store::Handoff(Handoff::builder(journal).open().expect("the journal opens"))
            }
            Kind::Stream => Store::Handoff(
                Handoff::builder(journal)
                    .redis(redis.expect("a Redis URL"))
                    .stream(stream)
                    .open()
                    .expect("the handoff opens"),
            ),
            Kind::FsyncEach => {
                let connection = rusqlite::Connection::open(journal).expect("the file opens");
                connection
                    .execute_batch(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                         CREATE TABLE entries (position INTEGER PRIMARY KEY, key TEXT, event TEXT,
                             body TEXT, received INTEGER)",
                    )
                    .expect("the table is made");
                Store::FsyncEach(Arc::new(Mutex::new(connection)))
            }
            Kind::XaddEach => {
                let client =
                    redis::Client::open(redis.expect("a Redis URL")).expect("the URL parses");
                let manager = ConnectionManager::new(client).await.expect("Redis answers");
                Store::XaddEach(manager, stream)
            }
        }
    }

    async fn store(&self, recall: AcceptedRecall) {
        match self {
            Store::Handoff(handoff) => {
                handoff.clone().oneshot(recall).await.expect("durable");
            }
            Store::FsyncEach(connection) => {
                let connection = Arc::clone(connection);
                tokio::task::spawn_blocking(move || {
                    let entries = Entry::of(&recall, 0);
                    let mut connection = connection.lock().unwrap();
                    let transaction = connection.transaction().unwrap();
                    for entry in entries {
                        transaction
                            .execute(
                                "INSERT INTO entries (key, event, body, received) VALUES (?1, ?2, ?3, ?4)",
                                (&entry.key, &entry.event, &entry.body, entry.received),
                            )
                            .unwrap();
                    }
                    transaction.commit().unwrap();
                })
                .await
                .unwrap();
            }
            Store::XaddEach(manager, stream) => {
                let mut connection = manager.clone();
                for entry in Entry::of(&recall, 0) {
                    let _: String = redis::cmd("XADD")
                        .arg(stream)
                        .arg("*")
                        .arg("key")
                        .arg(&entry.key)
                        .arg("event")
                        .arg(&entry.event)
                        .arg("body")
                        .arg(&entry.body)
                        .arg("received")
                        .arg(entry.received)
                        .query_async(&mut connection)
                        .await
                        .expect("XADD answers");
                }
            }
        }
    }
}

/// A group recall of one message, as the layer hands it over.
fn recall(seq: u32) -> AcceptedRecall {
    let mut event = GroupRecall::new(
        1400000000,
        "@TGS#2J4SZEAEL",
        [RecalledMessage::new(seq, None)],
    );
    event.operator_account = Some("jared".to_owned());
    let body = format!(
        r#"{{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"jared","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{{"MsgSeq":{seq}}}]}}"#
    );
    AcceptedRecall::new(event.into(), Bytes::from(body))
}

/// One kind at one caller count: each round's figures.
struct Row {
    kind: Kind,
    callers: usize,
    per_second: Vec<f64>,
    p50_ms: Vec<f64>,
    p99_ms: Vec<f64>,
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn run(store: Store, callers: usize, seconds: f64) -> Figures {
    let next = Arc::new(AtomicU32::new(0));
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let (store, next) = (store.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < until {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let begun = Instant::now();
                store.store(recall(seq)).await;
                times.push(begun.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Figures {
        per_second: times.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.dir).expect("the directory is made");
    let mut kinds = vec![Kind::Journal, Kind::FsyncEach];
    if args.redis.is_some() {
        kinds.extend([Kind::Stream, Kind::XaddEach]);
    }
    if !args.kinds.is_empty() {
        kinds.retain(|kind| args.kinds.iter().any(|name| name == kind.name()));
    }
    let mut results: Vec<Row> = Vec::new();
    for &kind in &kinds {
        for &callers in &args.callers {
            results.push(Row {
                kind,
                callers,
                per_second: Vec::new(),
                p50_ms: Vec::new(),
                p99_ms: Vec::new(),
            });
        }
    }
    let mut run_number = 0;
    for round in 0..args.rounds {
        for &callers in &args.callers {
            // Alternate the kinds, and rotate their order each round.
            let mut order = kinds.clone();
            order.rotate_left(round % kinds.len());
            for kind in order {
                run_number += 1;
                let store = Store::open(kind, &args.dir, args.redis.as_deref(), run_number).await;
                let figures = run(store, callers, args.seconds).await;
                eprintln!(
                    "round {round} {:<10} {callers:>3} callers: {:>8.0}/s p50 {:?} p99 {:?}",
                    kind.name(),
                    figures.per_second,
                    figures.p50,
                    figures.p99
                );
                let row = results
                    .iter_mut()
                    .find(|row| row.kind == kind && row.callers == callers)
                    .unwrap();
                row.per_second.push(figures.per_second);
                row.p50_ms.push(figures.p50.as_secs_f64() * 1e3);
                row.p99_ms.push(figures.p99.as_secs_f64() * 1e3);
            }
        }
    }
    println!("| store | callers | recalls/s | p50 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for row in &mut results {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} |",
            row.kind.name(),
            row.callers,
            median(&mut row.per_second),
            median(&mut row.p50_ms),
            median(&mut row.p99_ms)
        );
    }
    let _ = std::fs::remove_dir_all(&args.dir);
}
