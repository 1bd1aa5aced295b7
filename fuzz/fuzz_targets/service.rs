//! The whole service, driven through `oneshot`: any method, query and body chunks get an answer
//! (never a panic, never an error), with a status from the decision table; the inner service is
//! called exactly when the answer is its own, and every refusal is a `FAIL` acknowledgement
//! whose `ErrorCode` is the status.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use arbitrary::Arbitrary;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use tower::{service_fn, Layer, ServiceExt};
use tower_tim_recall::{sign, Ack, RecallLayer, RequestBody};

const APP: u64 = 1_400_000_000;
const TOKEN: &str = "xxxxyyyy";
const NOW: u64 = 1_669_872_112;
const EVENT: &[u8] = include_bytes!("../../tests/fixtures/recall_documented.json");

#[derive(Arbitrary, Debug)]
struct Input {
    method: Verb,
    parameters: Vec<Parameter>,
    chunks: Vec<Chunk>,
    fails: bool,
    hint: Option<u32>,
    signed: bool,
    acknowledge: bool,
    limit: u16,
}

#[derive(Arbitrary, Debug)]
enum Verb {
    Post,
    Get,
    Put,
    Other(u8),
}

/// One query parameter; either side may be percent-encoded byte by byte (once: nesting the
/// encoding would grow the query exponentially).
#[derive(Arbitrary, Debug)]
struct Parameter {
    name: Name,
    escape_name: bool,
    value: Value,
    escape_value: bool,
}

#[derive(Arbitrary, Debug)]
enum Name {
    CallbackCommand,
    SdkAppid,
    Sign,
    RequestTime,
    Contenttype,
    ClientIp,
    OptPlatform,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    None,
    Command,
    App,
    OtherApp,
    Now,
    GoodSign,
    Json,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Chunk {
    Event,
    Bytes(Vec<u8>),
}

fn escape(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

impl Name {
    fn text(&self) -> String {
        match self {
            Name::CallbackCommand => "CallbackCommand".into(),
            Name::SdkAppid => "SdkAppid".into(),
            Name::Sign => "Sign".into(),
            Name::RequestTime => "RequestTime".into(),
            Name::Contenttype => "contenttype".into(),
            Name::ClientIp => "ClientIP".into(),
            Name::OptPlatform => "OptPlatform".into(),
            Name::Text(text) => text.clone(),
        }
    }
}

impl Value {
    fn text(&self) -> Option<String> {
        Some(match self {
            Value::None => return None,
            Value::Command => tower_tim_recall::RECALL_COMMAND.into(),
            Value::App => APP.to_string(),
            Value::OtherApp => (APP + 1).to_string(),
            Value::Now => NOW.to_string(),
            Value::GoodSign => sign(TOKEN, NOW),
            Value::Json => "json".into(),
            Value::Text(text) => text.clone(),
        })
    }
}

/// A body of the given chunks, always ready, then its end or an error.
struct Chunks {
    chunks: std::vec::IntoIter<Bytes>,
    fails: bool,
    hint: Option<u32>,
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(chunk) = self.chunks.next() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if self.fails {
            self.fails = false;
            return Poll::Ready(Some(Err(std::io::Error::other("reset"))));
        }
        Poll::Ready(None)
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = SizeHint::new();
        if let Some(lower) = self.hint {
            hint.set_lower(u64::from(lower));
        }
        hint
    }
}

/// Polls `future` to completion; every body here is always ready, so it must finish.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the service did not answer a request whose body is always ready");
}

fuzz_target!(|input: Input| {
    let query: Vec<String> = input
        .parameters
        .iter()
        .map(|parameter| {
            let mut name = parameter.name.text();
            if parameter.escape_name {
                name = escape(&name);
            }
            match parameter.value.text() {
                Some(value) if parameter.escape_value => format!("{name}={}", escape(&value)),
                Some(value) => format!("{name}={value}"),
                None => name,
            }
        })
        .collect();
    let Ok(uri) = Uri::try_from(format!("/im/callback?{}", query.join("&"))) else {
        return;
    };
    let method = match input.method {
        Verb::Post => Method::POST,
        Verb::Get => Method::GET,
        Verb::Put => Method::PUT,
        Verb::Other(n) => Method::from_bytes(format!("X{n}").as_bytes()).unwrap(),
    };
    let chunks: Vec<Bytes> = input
        .chunks
        .into_iter()
        .map(|chunk| match chunk {
            Chunk::Event => Bytes::from_static(EVENT),
            Chunk::Bytes(bytes) => Bytes::from(bytes),
        })
        .collect();
    let body = Chunks {
        chunks: chunks.into_iter(),
        fails: input.fails,
        hint: input.hint,
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;

    let mut layer = RecallLayer::new([APP])
        .body_limit(usize::from(input.limit))
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    if input.signed {
        layer = layer.token(TOKEN);
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let inner = service_fn(move |request: Request<RequestBody<Chunks>>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            // Read what the layer hands on, as an application would.
            let _ = request.into_body().collect().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"inner"))))
        }
    });
    let handled = Arc::new(AtomicUsize::new(0));
    let (status, answer) = if input.acknowledge {
        let counted = Arc::clone(&handled);
        let service = layer
            .acknowledge_fn(move |_event| {
                counted.fetch_add(1, Ordering::SeqCst);
                std::future::ready(())
            })
            .layer(inner);
        let response = block_on(service.oneshot(request)).expect("the layer never fails");
        let status = response.status();
        (
            status,
            block_on(response.into_body().collect()).unwrap().to_bytes(),
        )
    } else {
        let service = layer.layer(inner);
        let response = block_on(service.oneshot(request)).expect("the layer never fails");
        let status = response.status();
        (
            status,
            block_on(response.into_body().collect()).unwrap().to_bytes(),
        )
    };

    let calls = calls.load(Ordering::SeqCst);
    let handled = handled.load(Ordering::SeqCst);
    assert!(calls <= 1 && handled <= 1 && calls + handled <= 1);
    if calls == 1 {
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, "inner");
        return;
    }
    let ack: Ack =
        serde_json::from_slice(&answer).expect("the layer answers with an acknowledgement");
    if handled == 1 {
        assert_eq!(status, StatusCode::OK);
        assert!(ack.is_ok());
        return;
    }
    assert!(
        [400, 401, 403, 405, 413].contains(&status.as_u16()),
        "unexpected status {status}"
    );
    assert!(!ack.is_ok());
    assert_eq!(ack.error_code(), i64::from(status.as_u16()));
    assert!(!ack.error_info().is_empty());
});
