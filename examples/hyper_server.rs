//! The recall layer in a plain hyper 1.x server: a tower `ServiceBuilder` stack, served by
//! hyper's HTTP/1.1 server through `hyper_util::service::TowerToHyperService`, keep-alive on.
//!
//! ```text
//! cargo run --example hyper_server -- [--addr HOST:PORT] [--sdkappid N]... [--token T]
//! cargo run --example simulate --features testing   # from another terminal
//! ```
//!
//! The application behind the layer is a `service_fn` over `Request<RequestBody<Incoming>>`:
//! hyper gives `Request<Incoming>`, and the layer hands its inner service the same request with
//! the body wrapped in [`RequestBody`] (streamed through untouched, or, for a forwarded
//! callback, the bytes the layer read). A service written for `Request<Incoming>` does not fit
//! behind the layer: the compiler reports a type mismatch (error E0631, "expected
//! `Request<RequestBody<Incoming>>`"). Take `Request<RequestBody<Incoming>>`, or any body type.
//!
//! Each accepted recall, of any of the three kinds, is printed as one JSON line on standard
//! output; another callback command, once the layer's guard has checked its app and signature,
//! is acknowledged; `GET /health` answers `ok`; anything else is a 404. The accept loop is in
//! `examples/demo/mod.rs`.

use std::convert::Infallible;
use std::error::Error;
use std::process::ExitCode;

use bytes::Bytes;
use clap::Parser;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use tower::ServiceBuilder;
use tower_tim_recall::{Ack, RecallEvent, RequestBody};

mod demo;

/// A hyper server that receives Tencent Cloud IM's recall callbacks on POST /im/callback. Each accepted recall is printed as one JSON line on standard output. Stop
/// with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "hyper_server")]
struct Cli {
    #[command(flatten)]
    options: demo::Options,
}

/// The application: the recall callback (its event in the request extensions, put there by the
/// layer), a health check, and 404 for the rest.
async fn app(request: Request<RequestBody<Incoming>>) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(event) = request.extensions().get::<RecallEvent>() {
        let answer = match demo::print_event(event) {
            Ok(()) => Ack::ok(),
            Err(_) => Ack::fail("the event could not be recorded"),
        };
        return Ok(answer.into_http_response());
    }
    let response = match (request.method(), request.uri().path()) {
        // Other callback commands come to the same URL: acknowledge them too.
        (&Method::POST, "/im/callback") => Ack::ok().into_http_response(),
        (&Method::GET, "/health") => Response::new(Full::from("ok")),
        _ => {
            let mut response = Response::new(Full::from("not found"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    };
    Ok(response)
}

#[tokio::main]
async fn main() -> ExitCode {
    demo::exit("hyper_server", serve(Cli::parse()).await)
}

async fn serve(cli: Cli) -> Result<(), Box<dyn Error>> {
    let layer = cli.options.layer()?;
    let (listener, _addr) = cli.options.listen().await?;
    // `Recall<ServiceFn<…>>`: takes `Request<Incoming>`, answers `Response<ResponseBody<Full>>`.
    let service = ServiceBuilder::new().layer(layer).service_fn(app);
    demo::serve_http1(listener, service).await;
    Ok(())
}
