//! The benchmark package of tower-tim-recall (not published): what the layer costs next to
//! what it replaces. See the repository's `BENCHMARKS.md` for the commands and the figures.
//!
//! - `benches/recall.rs`: criterion, in-process, one request at a time;
//! - `src/bin/instructions.rs`: one case run N times, for `valgrind --tool=callgrind`;
//! - `src/bin/bare.rs` and `src/bin/handwritten.rs`: the servers the loopback load test
//!   (`load/run.sh`) and the server-level instruction count (`load/instructions.sh`) compare
//!   the crate's `server` example with;
//! - `src/bin/drive.rs`: the client of the instruction count, a fixed number of checked
//!   callbacks;
//! - `src/bin/chart.rs`: BENCHMARKS.md's chart, from the results of both;
//! - [`handwritten`]: the recall callback received without this crate, the baseline of all
//!   of them.

pub mod handwritten;

/// Binds `addr` and prints `listening on http://ADDR` on standard error, the line the load
/// test waits for.
pub async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    Ok(listener)
}
