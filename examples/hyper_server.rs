//! The recall layer in a plain hyper 1.x server: a tower `ServiceBuilder` stack, served by
//! hyper's HTTP/1.1 server through `hyper_util::service::TowerToHyperService`, keep-alive on.
//!
//! ```text
//! cargo run --example hyper_server -- [--addr HOST:PORT] [--sdkappid N]... [--token T]
//! cargo run --example simulate                # from another terminal
//! ```
//!
//! The application behind the layer is a `service_fn` over `Request<RequestBody<Incoming>>`:
//! hyper gives `Request<Incoming>`, and the layer hands its inner service the same request with
//! the body wrapped in [`RequestBody`] (streamed through untouched, or, for a forwarded
//! callback, the bytes the layer read). A service written for `Request<Incoming>` does not fit
//! behind the layer: the compiler reports a type mismatch (error E0631, "expected
//! `Request<RequestBody<Incoming>>`"). Take `Request<RequestBody<Incoming>>`, or any body type.
//!
//! Each accepted recall is printed as one JSON line on standard output; `GET /health` answers
//! `ok`; anything else is a 404. The accept loop is in `examples/demo/mod.rs`.

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use tower::ServiceBuilder;
use tower_tim_recall::{Ack, RecallEvent, RequestBody};

mod demo;
mod flags;

const USAGE: &str = "\
A hyper server that receives Tencent Cloud IM's Group.CallbackAfterRecallMsg callback on
POST /im/callback.

Usage: hyper_server [--addr HOST:PORT] [--sdkappid N]... [--token T]
";

/// The application: the recall callback (its event in the request extensions, put there by the
/// layer), a health check, and 404 for the rest.
async fn app(request: Request<RequestBody<Incoming>>) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(event) = request.extensions().get::<RecallEvent>() {
        demo::print_event(event);
        return Ok(Ack::ok().into_http_response());
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
    let (options, listener) = match demo::start("hyper_server", USAGE).await {
        Ok(started) => started,
        Err(exit) => return exit,
    };

    // `Recall<ServiceFn<…>>`: takes `Request<Incoming>`, answers `Response<ResponseBody<Full>>`.
    let service = ServiceBuilder::new().layer(options.layer()).service_fn(app);
    demo::serve_http1(listener, service).await;
    ExitCode::SUCCESS
}
