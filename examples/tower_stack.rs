//! The recall layer among the middleware a service usually has: tower-http's `TraceLayer`,
//! `CatchPanicLayer`, `TimeoutLayer` and `CompressionLayer` and tower's
//! `ConcurrencyLimitLayer`, around an axum `Router`, served by hyper.
//!
//! ```text
//! cargo run --example tower_stack -- [--addr HOST:PORT] [--sdkappid N]... [--token T]
//! cargo run --example simulate --features testing   # from another terminal
//! curl -s --compressed http://127.0.0.1:3000/report
//! ```
//!
//! # Where the recall layer goes
//!
//! Anywhere in this stack compiles and works; where it sits decides what the other layers see:
//!
//! - Layers *outside* it (listed before it) see every request, the layer's refusals included,
//!   and cover the layer's reading of a callback body: the timeout cuts off a sender that
//!   stalls mid-body, the concurrency limit counts callbacks being read, and `CompressionLayer`
//!   also compresses the layer's acknowledgements when the sender asks for gzip. (A panic of an
//!   acknowledge-mode handler never reaches `CatchPanicLayer`, wherever it sits: the layer
//!   answers it itself, 500.)
//! - Layers *inside* it (listed after it) see only what the layer passes on: other requests and
//!   accepted callbacks, with the body as [`RequestBody`](tower_tim_recall::RequestBody).
//!
//! # What does not compile, and the fix
//!
//! The recall layer changes both body types: its inner service receives
//! `Request<RequestBody<B>>`, and it answers `Response<ResponseBody<B>>`, where
//! [`ResponseBody<B>`](tower_tim_recall::ResponseBody) implements `Body` when `B` does and
//! `Default` when `B` does. The one requirement that bites in this stack is `Default`:
//! tower-http's `TimeoutLayer` answers a timeout with an empty body, so the service it wraps must
//! have a response body that implements `Default`. `TraceLayer` changes the response body to its
//! own, which does not. So with `TimeoutLayer` outside the recall layer and `TraceLayer` inside
//! it (or anywhere inside `TimeoutLayer`):
//!
//! ```text
//! error[E0277]: the trait bound `tower_http::trace::ResponseBody<axum::body::Body, NeverClassifyEos<…>>: Default` is not satisfied
//!   = note: required for `tower_tim_recall::ResponseBody<tower_http::trace::ResponseBody<…>>` to implement `Default`
//!   = note: required for `tower_http::timeout::Timeout<Recall<Trace<Router, …>>>` to implement `Service<Request<Incoming>>`
//! ```
//!
//! The fix: put `TraceLayer` outermost, as below (it then also traces timeouts and panics).
//! Every other layer here (`CompressionLayer`, `CatchPanicLayer`, whose bodies implement
//! `Default`, and the ones that keep the body) may go on either side of the recall layer.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use axum::body::Body;
use axum::http::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use clap::Parser;
use http::StatusCode;
use tower::limit::ConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_tim_recall::{Ack, RecallEvent};

mod demo;

/// An axum app behind tower-http's trace, catch-panic, timeout and compression layers, tower's
/// concurrency limit and the recall layer, served by hyper. Routes: POST /im/callback
/// (Tencent's callbacks), GET /report (a large text, gzipped for clients that ask). Each
/// accepted recall is printed as one JSON line on standard output. Stop with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "tower_stack")]
struct Cli {
    #[command(flatten)]
    options: demo::Options,
}

/// Every callback command of the app comes here; only recalls carry an event.
async fn callback(recall: Option<Extension<RecallEvent>>) -> Response<Body> {
    let answer = match recall.map(|Extension(event)| demo::print_event(&event)) {
        Some(Err(_)) => Ack::fail("the event could not be recorded"),
        Some(Ok(())) | None => Ack::ok(),
    };
    answer.into_http_response()
}

/// A response worth compressing.
async fn report() -> String {
    "group @TGS#2J4SZEAEL: message 130 recalled by admin\n".repeat(100)
}

#[tokio::main]
async fn main() -> ExitCode {
    demo::exit("tower_stack", serve(Cli::parse()).await)
}

async fn serve(cli: Cli) -> Result<(), Box<dyn Error>> {
    let recall = cli.options.layer()?;
    let (listener, _addr) = cli.options.listen().await?;

    let app = Router::new()
        .route("/im/callback", post(callback))
        .route("/report", get(report));

    // Outermost first. Spans are emitted through `tracing`: install a subscriber to see them.
    let service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::new())
        // Tencent waits 2 seconds for an answer; this also bounds reading a callback body.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(2),
        ))
        .layer(CompressionLayer::new())
        .layer(ConcurrencyLimitLayer::new(256))
        .layer(recall)
        .service(app);
    demo::serve_http1(listener, service).await;
    Ok(())
}
