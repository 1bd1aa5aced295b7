//! The decision table of the crate documentation ("What the layer answers"), row by row and in
//! its order, for each of the three recall callbacks, through the public API and
//! `tower::ServiceExt::oneshot`: each refusal with its status and its exact reason, each one
//! decided before the body is read where the table says so, the edges of every rule, and the
//! hostile spellings of each (a query or a body written to hurt: each answered as the row says,
//! without a panic and without calling the inner service). One file per row or group of rows,
//! in the table's order; the guard's rows, for the other commands, in `guard.rs`. What each
//! case costs in allocations is in `allocations.rs`; the same rows over a real socket, in the
//! `stack_*` tests.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};
use tower_tim_recall::{
    AcceptedRecall, Acknowledge, HandlerError, Platform, RecallEvent, RecallKind, RecallLayer,
    RequestBody, SdkAppId, UnixMillis, VerifiedCallback,
};

use support::bodies::{End, Script, Unread, UNREAD};
use support::fixtures::*;
use support::requests::{full, post, request};
use support::{accepted, refused, refused_unread, send, sign_text, streamed, Answer, Recorder};

// The rows, in the table's order (one `mod` a paragraph, so that rustfmt keeps the order).
mod passthrough;

mod method;

mod app;

mod signature;

mod window;

mod guard;

mod query_shape;

mod size;

mod body;

mod messages;

mod forward;

mod acknowledge;

mod types;

const TOO_OLD: &str = "RequestTime is too old";
const AHEAD: &str = "RequestTime is too far in the future";
const TOO_LARGE: &str = "body is larger than the limit";
const MISMATCH: &str = "the body's CallbackCommand is not the query's";

/// `parameter` `count` times, joined with `&`.
fn repeated(parameter: &str, count: usize) -> String {
    vec![parameter; count].join("&")
}

/// `query` padded with an unread parameter to the longest request target `http::Uri` holds.
fn padded_to_uri_max(query: &str) -> String {
    let room = URI_MAX - CALLBACK_PATH.len() - "?".len() - query.len() - "&pad=".len();
    let padded = format!("{query}&pad={}", "x".repeat(room));
    assert_eq!(CALLBACK_PATH.len() + 1 + padded.len(), URI_MAX);
    padded
}

/// The `Sign` of `token` at `time`.
fn sign(token: &str, time: u64) -> String {
    sign_text(token, &time.to_string())
}

/// Two apps, unsigned.
fn layer() -> RecallLayer {
    RecallLayer::unsigned([APP, SECOND_APP]).unwrap()
}

/// [`APP`], unsigned, with room for large bodies (1 MiB).
fn roomy() -> RecallLayer {
    unsigned_layer(1 << 20)
}

/// The builder of a layer for the two apps signed with `TOKEN`, its clock stopped at `NOW`.
fn signed() -> tower_tim_recall::RecallLayerBuilder {
    RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .signed_app(SECOND_APP, [TOKEN])
        .clock(|| at(NOW))
}

fn signed_layer() -> RecallLayer {
    signed().build().unwrap()
}

/// Each recall callback: its kind, its documented query and its documented body.
fn recalls() -> [(RecallKind, String, &'static str); 3] {
    [
        (RecallKind::Group, QUERY.to_owned(), EVENT),
        (
            RecallKind::OneToOne,
            query_of(RecallKind::OneToOne),
            ONE_TO_ONE,
        ),
        (
            RecallKind::OfficialAccount,
            query_of(RecallKind::OfficialAccount),
            OFFICIAL_ACCOUNT,
        ),
    ]
}

/// The `CallbackCommand` parameter of `kind`.
fn command_of(kind: RecallKind) -> String {
    format!("CallbackCommand={}", kind.command())
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// The documented query with `extra` appended.
fn query_with(extra: &str) -> String {
    format!("{QUERY}{extra}")
}

/// The documented query signed at `time` with the right token.
fn signed_at(time: u64) -> String {
    query_with(&format!("&RequestTime={time}&Sign={}", sign(TOKEN, time)))
}

/// Sends a request of each kind whose body must not be read, with its documented query and
/// `extra`, through the signed layer, and expects a 401 with `reason`.
async fn unauthorized(extra: &str, reason: &str) {
    for (_, query, _) in recalls() {
        let query = format!("{query}{extra}");
        refused_unread(&signed_layer(), &query, StatusCode::UNAUTHORIZED, reason).await;
    }
}

/// Sends `body` with `query` and expects the inner service to get its event.
async fn accept<B>(layer: &RecallLayer, query: &str, body: B) -> RecallEvent
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    accepted(layer, post(query, body)).await.0
}
