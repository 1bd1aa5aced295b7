//! Receive Tencent Cloud IM's `Group.CallbackAfterRecallMsg` callback in any tower stack.
//!
//! When a group message is recalled in Tencent Cloud IM (also sold as Tencent Cloud Chat), by a
//! user in a client app or by an administrator through the REST API, Tencent's backend sends your
//! app backend an HTTP `POST` to the callback URL configured in the console:
//!
//! ```text
//! POST /im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI
//!
//! {"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin","Type":"Community",
//!  "GroupId":"@TGS#_@TGS#cQVLVHIM62CJ","MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],
//!  "TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic","EventTime":1670574414123}
//! ```
//!
//! and waits two seconds for `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`.
//!
//! [`RecallLayer`] is a tower [`Layer`](tower_layer::Layer) that sits in front of an existing
//! hyper, axum or tonic service and does all of that correctly: it checks the `SdkAppid` against
//! your allowlist and, when you configure the console's callback token, the `Sign` /
//! `RequestTime` signature; reads the body under a size limit; parses it into a typed
//! [`RecallEvent`]; and then either forwards the request to your service with the event in its
//! extensions, or hands the event to a handler and answers the acknowledgement itself. Every other
//! request, including other callback commands sent to the same URL, passes through untouched and
//! unbuffered.
//!
//! # Forward mode: your handler answers
//!
//! The default. An accepted callback reaches the inner service with its [`RecallEvent`] in the
//! request extensions (and its body bytes still readable); the handler answers, for example with
//! [`Ack::ok`].
//!
//! ```
//! use axum::{routing::post, Extension, Router};
//! use tower::ServiceExt;
//! use tower_tim_recall::{Ack, RecallEvent, RecallLayer};
//!
//! // Tencent sends every callback command to the same URL: only recalls carry an event, and
//! // the others are acknowledged too.
//! async fn callback(recall: Option<Extension<RecallEvent>>) -> http::Response<axum::body::Body> {
//!     if let Some(Extension(event)) = recall {
//!         println!("{} message(s) recalled in {}", event.messages.len(), event.group_id);
//!     }
//!     Ack::ok().into_http_response()
//! }
//!
//! let app: Router = Router::new()
//!     .route("/im/callback", post(callback))
//!     .layer(RecallLayer::new([1400000000]).token("the console's callback token"));
//! # let _ = app;
//! ```
//!
//! With the `axum` feature, [`Ack`] implements axum's `IntoResponse`, so the handler can return
//! `Ack` directly.
//!
//! # Acknowledge mode: the layer answers
//!
//! For a stack with no JSON route of its own (a tonic gRPC server, say), or when all you want is
//! the event: the layer passes each accepted event to a handler, a closure or a tower
//! [`Service`](tower_service::Service), and answers `OK` itself without calling the inner
//! service. Tencent waits two seconds: hand slow work on, as here to a channel.
//!
//! ```
//! use http::{Request, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_tim_recall::RecallLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
//! let service = ServiceBuilder::new()
//!     .layer(RecallLayer::new([1400000000]).acknowledge_fn(move |event| {
//!         let _ = events.send(event);
//!         std::future::ready(())
//!     }))
//!     .service(service_fn(|_request| async {
//!         // The rest of the application.
//!         Ok::<_, std::convert::Infallible>(http::Response::new(Full::<bytes::Bytes>::default()))
//!     }));
//!
//! let callback = Request::post(
//!     "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json",
//! )
//! .body(Full::from(r#"{"GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":1}]}"#))
//! .unwrap();
//! let response = service.oneshot(callback).await.unwrap();
//!
//! assert_eq!(response.status(), StatusCode::OK);
//! let answer = response.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(answer, r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#);
//! assert_eq!(received.recv().await.unwrap().group_id, "@TGS#2J4SZEAEL");
//! # }
//! ```
//!
//! A handler that returns an error gets a 500 answer with a `FAIL` acknowledgement; the error
//! itself is not shown to Tencent.
//!
//! # What the layer answers
//!
//! | request | answer |
//! | --- | --- |
//! | no `CallbackCommand=Group.CallbackAfterRecallMsg` in the query | passed to the inner service untouched, body streamed |
//! | the recall command, not `POST` | 405 |
//! | `SdkAppid` missing, not a decimal integer, repeated, or not in the allowlist | 403, body never read |
//! | token configured, `Sign` / `RequestTime` missing, repeated, malformed, outside the time window or wrong | 401, body never read |
//! | `CallbackCommand` repeated, or `contenttype` other than `json` | 400, body never read |
//! | body over the limit, by `Content-Length` or while reading | 413 |
//! | body not one JSON object, not UTF-8, nested deeper than 127 levels, `GroupId` or `MsgSeqList` missing, a field of the wrong type or given twice, the body's `CallbackCommand` not the recall command | 400 |
//! | valid | forwarded with the event, or acknowledged `OK` by the layer |
//!
//! Every refusal is answered by the layer with `Content-Type: application/json` and
//! `{"ActionStatus":"FAIL","ErrorCode":<the HTTP status>,"ErrorInfo":"<short reason>"}`; the inner
//! service is not called, and the reason never contains a token or a signature. The service
//! never returns an error of its own: its `Error` is the inner service's.
//!
//! Query parameters are matched by name, as Tencent spells them (case-sensitive), after
//! percent-decoding; `contenttype` is compared case-insensitively. A `RequestTime` must be the
//! plain decimal Unix time in seconds (no sign, no leading zero) within the window, 60 seconds
//! either way by default; `Sign` is compared in constant time over its decoded bytes, so
//! upper-case hex is accepted too.
//!
//! # Security
//!
//! Tencent's signature covers the token and `RequestTime`, not the body: serve the callback URL
//! over HTTPS, or a body can be changed in transit. A captured signed URL can be replayed within
//! the time window; keep the window short. `ClientIP` is the end user's address as Tencent
//! reports it, not the sender's: never use it for access control. The token never appears in
//! `Debug` output or in answers.
//!
//! # Hostile input
//!
//! The callback URL faces the internet; what a stranger can send costs the layer little and
//! gets the answer above:
//!
//! - **Query strings** are read in one pass. Names are compared after percent-decoding without
//!   allocating; only the first value of each parameter the layer reads is decoded, so a
//!   repeated parameter keeps no values and thousands of unread parameters cost no more memory
//!   than ten. As the URL standard has it, only `&` separates parameters (`;` is text), a
//!   parameter without `=` has an empty value, an invalid escape such as `%zz` is kept as
//!   written, and decoded bytes that are not UTF-8 become U+FFFD (so they never match a name or
//!   value). `SdkAppid` with leading zeros is the same number. Raw bytes that are not UTF-8,
//!   and request targets longer than 65 534 bytes, never reach a tower service: `http::Uri`
//!   refuses them, and hyper answers 400 or 414 itself.
//! - **Bodies** are read frame by frame up to the limit, however they are cut: 100 000
//!   one-byte frames are joined into one buffer (which never grows past twice the limit) or
//!   refused with 413 at the first byte past it; an endless stream of empty frames is read 64
//!   frames per poll, yielding in between. A body must be UTF-8 JSON (RFC 8259): a byte-order
//!   mark, UTF-16 or invalid UTF-8 anywhere, even in a field the layer skips, is refused with
//!   400. Arrays and objects may nest 127 levels, as deep as `serde_json` parses into a
//!   `Value`, so that the inner service can always parse what it is handed; deeper nesting
//!   anywhere is refused with 400, without recursion. Fields the layer reads are range-checked
//!   (`MsgSeq` of `-1`, `1.5`, `4294967296` or `1e400` is refused) and may not be given twice;
//!   fields it skips are checked for JSON syntax only, so a repeated unknown key, a `1e400` or
//!   a lone `\ud800` there is passed on as sent. A NUL byte is refused as JSON refuses it; an
//!   escaped `\u0000` inside a string is a character like any other.
//! - **Slow or broken peers**: a body that stalls keeps the callback waiting, as any body
//!   read does; bound it with [`tower::timeout`](https://docs.rs/tower/latest/tower/timeout/)
//!   around the layer or your server's read timeout, and dropping the response future releases
//!   the body, the bytes read and the inner service's copy. A body that fails mid-stream is
//!   refused with 400 and the inner service is not called; when the failure is a client that
//!   disconnected, the server simply drops the callback, and keeps serving the others.
//!
//! # Bodies and types
//!
//! The inner service receives `Request<`[`RequestBody<B>`](RequestBody)`>`: the original body
//! streamed for requests that are not recall callbacks, the bytes the layer read for forwarded
//! callbacks. Responses are `Response<`[`ResponseBody<B>`](ResponseBody)`>`: the inner service's
//! body or the layer's acknowledgement. Both bodies require `Data = Bytes`, as hyper's, axum's
//! and tonic's bodies have.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs, unreachable_pub, unsafe_code)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

/// Entry points for the fuzz targets in `fuzz/`; not part of the API (see `src/fuzzing.rs`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
mod body;
mod future;
mod layer;
mod mode;
mod policy;
mod protocol;
mod service;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use body::{RequestBody, ResponseBody};
pub use future::ResponseFuture;
pub use layer::RecallLayer;
pub use mode::{Acknowledge, Forward, HandlerFn, Mode};
pub use protocol::ack::{Ack, ActionStatus};
pub use protocol::event::{
    GroupType, Platform, RecallEvent, RecalledMessage, SdkAppId, UnixMillis,
};
pub use protocol::query::RECALL_COMMAND;
pub use protocol::signature::sign;
pub use service::Recall;

// The README's Rust snippets compile.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
