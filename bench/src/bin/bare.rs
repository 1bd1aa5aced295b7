//! The floor of the load test (BENCHMARKS.md): a bare hyper server that reads each request's
//! body and answers Tencent's `OK` acknowledgement, with no routing, no checks and no parsing.
//!
//! ```text
//! cargo run --release -p tower-tim-recall-bench --bin bare -- [--addr HOST:PORT] [--layer]
//! ```
//!
//! With `--layer`, the same service sits behind [`RecallLayer`] (forward mode, the demo app
//! 1400000000, unsigned): the difference is what the layer costs over real sockets, with
//! nothing else changed.

use std::convert::Infallible;

use bytes::Bytes;
use clap::Parser;
use http::{header, HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{service_fn, Layer};
use tower_tim_recall::RecallLayer;

use support::fixtures::{APP, OK_JSON};

/// A bare hyper server that reads each body and answers the OK acknowledgement: the load
/// test's floor.
#[derive(Parser)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    /// Put the service behind RecallLayer (forward mode, app 1400000000, unsigned).
    #[arg(long)]
    layer: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let recall = RecallLayer::unsigned([APP]).expect("one app");
    let listener = tower_tim_recall_bench::listen(&cli.addr).await?;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let io = TokioIo::new(stream);
        // A client closing its connection mid-request is not the server's error.
        if cli.layer {
            let service = TowerToHyperService::new(recall.layer(service_fn(acknowledge)));
            tokio::spawn(http1::Builder::new().serve_connection(io, service));
        } else {
            let service = TowerToHyperService::new(service_fn(acknowledge));
            tokio::spawn(http1::Builder::new().serve_connection(io, service));
        }
    }
}

/// Reads the whole body, then answers `OK`.
async fn acknowledge<B: Body>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _body = request.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(OK_JSON.as_bytes())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
