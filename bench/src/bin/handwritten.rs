//! The recall callback received without this crate, as a server for the load test
//! (BENCHMARKS.md): the hand-written axum handler of `src/handwritten.rs`, with `Query` and
//! `Json` extractors, doing the `server` example's job (each accepted recall printed as one
//! JSON line on standard output).
//!
//! ```text
//! cargo run --release -p tower-tim-recall-bench --bin handwritten -- [--addr HOST:PORT] [--lean-query] >/dev/null
//! ```
//!
//! Accepts the demo app 1400000000 without a token.

use std::io::Write;

use clap::Parser;
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
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let config = handwritten::Config {
        apps: vec![APP],
        token: None,
        window_secs: 60,
        on_event: print_event,
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
