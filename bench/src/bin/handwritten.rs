//! The recall callback received without this crate, as a server for the load test
//! (BENCHMARKS.md): the hand-written axum handler of `src/handwritten.rs`, with `Query` and
//! `Json` extractors, doing the `server` example's job (each accepted recall printed as one
//! JSON line on standard output).
//!
//! ```text
//! cargo run --release -p tower-tim-recall-bench --bin handwritten -- [--addr HOST:PORT] [--lean-query] >/dev/null
//! cargo run --release -p tower-tim-recall-bench --bin handwritten -- --sqlite recalls.db
//! ```
//!
//! With `--sqlite PATH` it is the durable receiver a competent user writes without the handoff
//! (the relay's load-test peer): each accepted recall committed to SQLite (WAL,
//! `synchronous=FULL`) in a transaction of its own before the answer, one row per recalled
//! message, `INSERT OR IGNORE` on the dedup key, from the handler under one mutex.
//!
//! Accepts the demo app 1400000000 without a token.

use std::io::Write;

use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use rusqlite::Connection;
use tower_tim_recall::RecallEvent;
use tower_tim_recall_bench::handwritten;

use support::fixtures::APP;

/// The recall callback received by a hand-written axum handler: the load test's comparison.
#[derive(Parser)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    /// Read the query with serde_urlencoded from axum's RawQuery instead of the Query
    /// extractor: the leaner peer.
    #[arg(long)]
    lean_query: bool,
    /// Commit each recall to this SQLite database instead of printing it.
    #[arg(long)]
    sqlite: Option<std::path::PathBuf>,
}

/// The database of `--sqlite`.
static DATABASE: OnceLock<Mutex<Connection>> = OnceLock::new();

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let mut on_event: fn(&RecallEvent) -> std::io::Result<()> = print_event;
    if let Some(path) = &cli.sqlite {
        let connection = Connection::open(path).map_err(std::io::Error::other)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                 CREATE TABLE IF NOT EXISTS recalls (key TEXT PRIMARY KEY, event TEXT NOT NULL, received INTEGER NOT NULL);",
            )
            .map_err(std::io::Error::other)?;
        let _ = DATABASE.set(Mutex::new(connection));
        on_event = commit_event;
    }
    let config = handwritten::Config {
        apps: vec![APP],
        token: None,
        window_secs: 60,
        on_event,
    };
    let app = if cli.lean_query {
        handwritten::router_lean_query(config)
    } else {
        handwritten::router(config)
    };
    let listener = tower_tim_recall_bench::listen(&cli.addr).await?;
    axum::serve(listener, app).await
}

/// One JSON line per event on standard output, written as the `server` example writes it: one
/// buffer of room enough, one write, one flush.
fn print_event(event: &RecallEvent) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(1024);
    serde_json::to_writer(&mut line, event)?;
    line.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&line)?;
    stdout.flush()
}

/// One transaction per recall: a row per recalled message, a retry ignored by its key.
fn commit_event(event: &RecallEvent) -> std::io::Result<()> {
    let received = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64);
    let json = serde_json::to_string(event)?;
    let mut connection = DATABASE
        .get()
        .expect("opened in main")
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let transaction = connection.transaction().map_err(std::io::Error::other)?;
    for key in event.dedup_keys() {
        transaction
            .execute(
                "INSERT OR IGNORE INTO recalls (key, event, received) VALUES (?1, ?2, ?3)",
                (serde_json::to_string(&key)?, &json, received),
            )
            .map_err(std::io::Error::other)?;
    }
    transaction.commit().map_err(std::io::Error::other)
}
