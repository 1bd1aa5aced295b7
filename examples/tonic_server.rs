//! The recall layer in a tonic 0.14 gRPC server: one port serves gRPC (here `tonic-health`'s
//! health service) over HTTP/2 and Tencent's callback over HTTP/1.1.
//!
//! ```text
//! cargo run --example tonic_server -- [--addr HOST:PORT] [--sdkappid N]... [--token T]
//! cargo run --example simulate --features testing   # from another terminal
//! ```
//!
//! A tonic server has no JSON route to forward a callback to, so the layer runs in
//! *acknowledge mode*: it passes each accepted event to a handler (here a closure that prints it)
//! and answers Tencent's `OK` itself. `accept_http1(true)` lets the same port take Tencent's
//! HTTP/1.1 requests; gRPC requests pass through the layer untouched, streams included: the
//! layer never buffers a request that is not a recall callback.
//!
//! Tencent sends every callback command of the app to the same URL. Recalls of the three kinds
//! never reach tonic (the layer answers them), but other commands do, once the layer's guard
//! has checked their app and signature, and tonic would answer them as an unknown gRPC method:
//! HTTP 200 with `grpc-status: 12` and no body, which Tencent records as a failed callback. So
//! the example adds an axum route to tonic's router that acknowledges them. gRPC calls carry no
//! `CallbackCommand`: the guard never refuses them.
//!
//! Try the gRPC side with any gRPC client, for example
//! `grpcurl -plaintext 127.0.0.1:3000 grpc.health.v1.Health/Check`.

use std::error::Error;
use std::process::ExitCode;

use axum::routing::post;
use clap::Parser;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tower::service_fn;
use tower_tim_recall::{AcceptedRecall, Ack};

mod demo;

/// A tonic gRPC server (the gRPC health service) that also receives Tencent Cloud IM's recall
/// callbacks on the same port, on POST /im/callback. Each accepted
/// recall is printed as one JSON line on standard output. Stop with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "tonic_server")]
struct Cli {
    #[command(flatten)]
    options: demo::Options,
}

#[tokio::main]
async fn main() -> ExitCode {
    demo::exit("tonic_server", serve(Cli::parse()).await)
}

async fn serve(cli: Cli) -> Result<(), Box<dyn Error>> {
    let layer = cli.options.layer()?;
    let (listener, _addr) = cli.options.listen().await?;

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("tim.Recall", tonic_health::ServingStatus::Serving)
        .await;

    // Acknowledge mode: the handler gets each accepted event; the layer answers `OK`, or 500
    // when the handler fails. Tencent waits two seconds: printing is quick, slow work belongs
    // on a channel or a task.
    let recall = layer.acknowledge(service_fn(|accepted: AcceptedRecall| {
        std::future::ready(demo::print_event(&accepted.event))
    }));

    // The gRPC services, plus the callback URL for Tencent's other callback commands (the
    // guard has checked their app and signature; gRPC calls carry no `CallbackCommand` and
    // pass untouched).
    let routes = Routes::new(health).into_axum_router().route(
        "/im/callback",
        post(|| async { Ack::ok().into_http_response::<axum::body::Body>() }),
    );

    // HTTP/2 is what gRPC needs, so its bounds are set (SECURITY.md, "Limits a receiver needs"):
    // streams per connection and their flow-control windows (what a client can make the server
    // buffer), the header list, a deadline per request, and pings that close dead peers. tonic
    // exposes no header read timeout and no connection cap: in front of the internet, put this
    // server behind a proxy that sets them, or receive the callbacks with tim-recall-relay.
    tonic::transport::Server::builder()
        .accept_http1(true)
        .max_concurrent_streams(32)
        .concurrency_limit_per_connection(32)
        .initial_stream_window_size(64 * 1024)
        .initial_connection_window_size(256 * 1024)
        .http2_max_header_list_size(demo::MAX_HEAD as u32)
        .timeout(demo::REQUEST_TIMEOUT)
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(std::time::Duration::from_secs(10)))
        .layer(recall)
        .add_routes(Routes::from(routes))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), demo::shutdown_signal())
        .await?;
    Ok(())
}
