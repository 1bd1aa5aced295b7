//! The recall layer in a tonic 0.14 gRPC server: one port serves gRPC (here `tonic-health`'s
//! health service) over HTTP/2 and Tencent's callback over HTTP/1.1.
//!
//! ```text
//! cargo run --example tonic_server -- [--addr HOST:PORT] [--sdkappid N]... [--token T]
//! cargo run --example simulate                # from another terminal
//! ```
//!
//! A tonic server has no JSON route to forward a callback to, so the layer runs in
//! *acknowledge mode*: it passes each accepted event to a handler (here a closure that prints it)
//! and answers Tencent's `OK` itself. `accept_http1(true)` lets the same port take Tencent's
//! HTTP/1.1 requests; gRPC requests pass through the layer untouched, streams included: the
//! layer never buffers a request that is not a recall callback.
//!
//! Tencent sends every callback command of the app to the same URL. Recalls never reach tonic
//! (the layer answers them), but other commands do, and tonic would answer them as an unknown
//! gRPC method: HTTP 200 with `grpc-status: 12` and no body, which Tencent records as a failed
//! callback. So the example adds an axum route to tonic's router that acknowledges them.
//!
//! Try the gRPC side with any gRPC client, for example
//! `grpcurl -plaintext 127.0.0.1:3000 grpc.health.v1.Health/Check`.

use std::process::ExitCode;

use axum::routing::post;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tower_tim_recall::Ack;

mod demo;
mod flags;

const USAGE: &str = "\
A tonic gRPC server (the gRPC health service) that also receives Tencent Cloud IM's
Group.CallbackAfterRecallMsg callback on the same port, on POST /im/callback.

Usage: tonic_server [--addr HOST:PORT] [--sdkappid N]... [--token T]
";

#[tokio::main]
async fn main() -> ExitCode {
    let (options, listener) = match demo::start("tonic_server", USAGE).await {
        Ok(started) => started,
        Err(exit) => return exit,
    };

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("tim.Recall", tonic_health::ServingStatus::Serving)
        .await;

    // Acknowledge mode: the closure gets each accepted event; the layer answers `OK`. Tencent
    // waits two seconds: printing is quick, slow work belongs on a channel or a task.
    let recall = options.layer().acknowledge_fn(|event| {
        demo::print_event(&event);
        std::future::ready(())
    });

    // The gRPC services, plus the callback URL for Tencent's other callback commands.
    let routes = Routes::new(health)
        .into_axum_router()
        .route("/im/callback", post(|| async { Ack::ok() }));

    let served = tonic::transport::Server::builder()
        .accept_http1(true)
        .layer(recall)
        .add_routes(Routes::from(routes))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), demo::shutdown_signal())
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tonic_server: {error}");
            ExitCode::FAILURE
        }
    }
}
