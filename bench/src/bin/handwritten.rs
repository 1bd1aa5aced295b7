//! The recall callback received without this crate, as a server for the load test
//! (BENCHMARKS.md): the hand-written axum handler of `examples/handwritten/mod.rs`, with
//! `Query` and `Json` extractors, doing the `server` example's job (each accepted recall printed
//! as one JSON line on standard output).
//!
//! ```text
//! cargo run --release --example handwritten -- [--addr HOST:PORT] >/dev/null
//! ```
//!
//! Listens on `127.0.0.1:3000` unless `--addr` says otherwise, accepts the demo app
//! 1400000000 without a token, and prints `listening on http://ADDR` on standard error.

use std::io::Write;
use std::process::ExitCode;

use tower_tim_recall::RecallEvent;

mod flags;
#[path = "handwritten/mod.rs"]
mod handler;

const USAGE: &str = "\
The recall callback received by a hand-written axum handler: the load test's comparison.

Usage: handwritten [--addr HOST:PORT]

Options:
  --addr HOST:PORT  address to listen on (default 127.0.0.1:3000)
  --help            print this help";

#[tokio::main]
async fn main() -> ExitCode {
    let addr = match flags::parse_or_exit("handwritten", USAGE, flags::addr_only) {
        Ok(addr) => addr,
        Err(exit) => return exit,
    };
    let app = handler::router(handler::Config {
        apps: vec![1_400_000_000],
        token: None,
        window_secs: 60,
        on_event: print_event,
    });
    let (listener, _) = match flags::listen("handwritten", &addr).await {
        Ok(bound) => bound,
        Err(exit) => return exit,
    };
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("handwritten: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// One JSON line per event on standard output, as the `server` example writes it.
fn print_event(event: &RecallEvent) -> std::io::Result<()> {
    let line = serde_json::to_string(event)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}
