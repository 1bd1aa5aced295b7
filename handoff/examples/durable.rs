//! A receiver that answers `OK` only once a recall is durable: an axum server with
//! [`RecallLayer`](tower_tim_recall::RecallLayer) in acknowledge mode and a
//! [`Handoff`](tower_tim_recall_handoff::Handoff) as its handler.
//!
//! ```text
//! cargo run -p tower-tim-recall-handoff --example durable -- [--addr HOST:PORT]
//!     [--sdkappid N]... [--token T]... [--journal PATH] [--redis URL] [--stream NAME]
//! ```
//!
//! Without `--redis`, each recalled message becomes an entry of the SQLite journal at
//! `--journal` (default `tim-recall.db`); with it, an entry of the Redis stream `--stream`
//! (default `tim:recalls`), and the journal is where recalls spill while Redis does not answer.
//! Read what it stored with `sqlite3 tim-recall.db 'SELECT position, key FROM entries'` or
//! `redis-cli XRANGE tim:recalls - +`. The token comes from `--token` or `TIM_CALLBACK_TOKEN`;
//! without one, callbacks are not signed. Without `--sdkappid`, the demo app 1400000000.
//!
//! This example teaches the wiring; it serves with `axum::serve`, which sets none of the limits
//! a server facing the internet needs (SECURITY.md, "Limits a receiver needs").
//! `tim-recall-relay` (the workspace's `relay` package) is this receiver with them, to deploy.

use std::path::PathBuf;

use axum::{routing::post, Router};
use clap::Parser;
use tower_tim_recall::{Ack, RecallLayer};
use tower_tim_recall_handoff::Handoff;

#[derive(Parser)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    /// An SDKAppID to accept, repeatable (default: the demo app 1400000000).
    #[arg(long = "sdkappid")]
    apps: Vec<u64>,
    /// The console's callback token, repeatable; or TIM_CALLBACK_TOKEN.
    #[arg(long = "token", env = "TIM_CALLBACK_TOKEN", hide_env_values = true)]
    tokens: Vec<String>,
    /// The journal: the destination, or with --redis the spill.
    #[arg(long, default_value = "tim-recall.db")]
    journal: PathBuf,
    /// A Redis server whose stream is the destination (redis://[user:password@]host:port); or
    /// TIM_RECALL_REDIS, which `ps` does not show.
    #[arg(long, env = "TIM_RECALL_REDIS", hide_env_values = true)]
    redis: Option<String>,
    /// The stream's name.
    #[arg(long, default_value = tower_tim_recall_handoff::DEFAULT_STREAM)]
    stream: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let apps = if args.apps.is_empty() {
        vec![1400000000]
    } else {
        args.apps
    };

    // The handoff: a Result, never a panic (an unopenable journal, a malformed URL).
    let mut handoff = Handoff::builder(&args.journal);
    if let Some(url) = args.redis {
        handoff = handoff.redis(url).stream(args.stream);
    }
    let handoff = handoff.open()?;

    let mut layer = RecallLayer::builder();
    for app in apps {
        layer = if args.tokens.is_empty() {
            layer.unsigned_app(app)
        } else {
            layer.signed_app(app, args.tokens.clone())
        };
    }
    if args.tokens.is_empty() {
        layer = layer.allow_unsigned_apps();
    }
    // The one line: acknowledge mode with the handoff as the handler.
    let recalls = layer.guard_other_commands().build()?.acknowledge(handoff);

    let app = Router::new()
        .route("/im/callback", post(|| async { Ack::ok() }))
        .layer(recalls);
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    eprintln!("listening on http://{}/im/callback", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
