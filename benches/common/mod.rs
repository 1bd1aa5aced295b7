//! Requests, bodies and a trivial inner service shared by the benchmarks (`benches/recall.rs`),
//! the allocation test (`tests/allocations.rs`) and the instruction counts
//! (`examples/instructions.rs`), so that all three measure the same work.

#![allow(dead_code)] // Each user takes what it needs.

use std::convert::Infallible;
use std::future::{ready, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{header, Request, Response};
use http_body_util::Full;
use tower::{service_fn, Service};
use tower_tim_recall::{RequestBody, RECALL_COMMAND};

/// The app on the allowlist.
pub const APP: u64 = 1_400_000_000;
/// The callback token, for the signed cases.
pub const TOKEN: &str = "xxxxyyyy";

/// The acknowledgement the trivial inner service answers.
pub const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

/// A recall callback's URL as Tencent documents it.
pub const RECALL_URI: &str = concat!(
    "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// The same callback for an app that is not on the allowlist.
pub const OTHER_APP_URI: &str = concat!(
    "/im/callback?SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterRecallMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// Another callback command sent to the same URL: the layer lets it through.
pub const OTHER_COMMAND_URI: &str = concat!(
    "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// A request with no query at all: the application's ordinary traffic.
pub const NO_QUERY_URI: &str = "/api/messages";

/// The signed URL of a callback sent at `request_time` with `Sign` as given.
pub fn signed_uri(request_time: u64, sign: &str) -> String {
    format!("{RECALL_URI}&RequestTime={request_time}&Sign={sign}")
}

/// A typical recall, as Tencent documents it: one message, in a topic.
pub const TYPICAL: &str = include_str!("../../tests/fixtures/recall_documented.json");

/// A typical recall in a group without topics: one message, no `TopicId`.
pub const TYPICAL_NO_TOPIC: &str = concat!(
    r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin","#,
    r#""Type":"Public","GroupId":"@TGS#2J4SZEAEL","#,
    r#""MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],"#,
    r#""EventTime":1670574414123}"#,
);

/// The body of a large recall: `count` messages, each with its `MsgId`.
pub fn large(count: u32) -> String {
    let messages: Vec<String> = (0..count)
        .map(|seq| format!(r#"{{"MsgSeq":{seq},"MsgId":"144115213033478435-1739361321-{seq}"}}"#))
        .collect();
    format!(
        r#"{{"CallbackCommand":"{RECALL_COMMAND}","Operator_Account":"admin","Type":"Public","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{}],"EventTime":1670574414123}}"#,
        messages.join(",")
    )
}

/// A `POST` with a JSON body and its `Content-Length`, as Tencent sends it.
pub fn post(uri: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let body = body.into();
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(body))
        .unwrap()
}

/// What the inner service receives behind the layer.
pub type InnerRequest = Request<RequestBody<Full<Bytes>>>;

/// The inner service that answers at once with a fixed acknowledgement, touching nothing.
pub fn trivial(
) -> impl Service<InnerRequest, Response = Response<Full<Bytes>>, Error = Infallible> + Clone {
    service_fn(|_request: InnerRequest| {
        ready(Ok(Response::new(Full::new(Bytes::from_static(
            OK_JSON.as_bytes(),
        )))))
    })
}

/// Polls a future that needs no I/O to completion on this thread, with a waker that does
/// nothing and allocates nothing.
// `Waker::noop` is from Rust 1.85, newer than the crate's `rust-version`; only the benchmarks
// and tests use it, and criterion 0.8 already needs 1.86 to build them.
#[allow(clippy::incompatible_msrv)]
pub fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
