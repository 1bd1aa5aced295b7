//! The floor of the load test (BENCHMARKS.md): a bare hyper server that reads each request's
//! body and answers Tencent's `OK` acknowledgement, with no routing, no checks and no parsing.
//!
//! ```text
//! cargo run --release --example bare -- [--addr HOST:PORT] [--layer]
//! ```
//!
//! With `--layer`, the same service sits behind [`RecallLayer`] (forward mode, the demo app
//! 1400000000): the difference is what the layer costs over real sockets, with nothing else
//! changed. Listens on `127.0.0.1:3000` unless `--addr` says otherwise, and prints
//! `listening on http://ADDR` on standard error.

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::service_fn;
use tower_layer::Layer;
use tower_tim_recall::RecallLayer;

mod flags;

const USAGE: &str = "\
A bare hyper server that reads each body and answers the OK acknowledgement: the load test's floor.

Usage: bare [--addr HOST:PORT] [--layer]

Options:
  --addr HOST:PORT  address to listen on (default 127.0.0.1:3000)
  --layer           put the service behind RecallLayer (forward mode, app 1400000000)
  --help            print this help";

struct Config {
    addr: String,
    layer: bool,
}

const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

#[tokio::main]
async fn main() -> ExitCode {
    let Config { addr, layer } = match flags::parse_or_exit("bare", USAGE, parse_args) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let recall = RecallLayer::new([1_400_000_000]);
    let (listener, _) = match flags::listen("bare", &addr).await {
        Ok(bound) => bound,
        Err(exit) => return exit,
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let io = TokioIo::new(stream);
        // A client closing its connection mid-request is not the server's error.
        if layer {
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

fn parse_args(flags: &mut flags::Flags) -> Result<Option<Config>, String> {
    let mut config = Config {
        addr: "127.0.0.1:3000".to_owned(),
        layer: false,
    };
    while let Some(name) = flags.next_flag()? {
        match name.as_str() {
            "--help" | "-h" => return Ok(None),
            "--addr" => config.addr = flags.value()?,
            "--layer" => config.layer = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(config))
}
