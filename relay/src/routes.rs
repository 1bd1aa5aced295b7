//! What the relay answers: the callback path behind the layer, and `/healthz`, `/readyz` and
//! `/metrics` (on the same listener, or on `--admin-addr`); 404 for anything else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower::timeout::TimeoutLayer;
use tower::{BoxError, ServiceBuilder};
use tower_tim_recall::{Ack, RecallLayer, VerifiedCallback};
use tower_tim_recall_handoff::Handoff;
use tracing::Instrument;

use crate::metrics::{self, Metrics};
use crate::recorder::Recorder;
use crate::settings::{HEALTHZ, METRICS, READYZ};

/// What the routes share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) handoff: Handoff,
    pub(crate) metrics: Arc<Metrics>,
}

/// The longest path written in a log line, in bytes: the rest is cut.
const LOGGED_PATH: usize = 96;

/// The refusal of a request whose body did not arrive, or whose answer was not made, within
/// `--request-timeout`.
const TIMED_OUT: &str = "request not completed in time";

/// The callback path, the recall layer on it in acknowledge mode with `recorder` as its
/// handler; 404 for anything else.
pub(crate) fn callback(
    shared: Arc<Shared>,
    path: &str,
    layer: RecallLayer,
    recorder: Recorder,
    request_timeout: Duration,
) -> Router {
    let callback = any(acknowledge_other).layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(
                Arc::clone(&shared.metrics),
                count_refusals,
            ))
            .layer(HandleErrorLayer::new(timed_out))
            .layer(TimeoutLayer::new(request_timeout))
            .layer(layer.acknowledge(recorder)),
    );
    logged(Router::new().route(path, callback).with_state(shared))
}

/// `/healthz`, `/readyz` and `/metrics`: on the callback's listener, or on `--admin-addr`.
pub(crate) fn admin(shared: Arc<Shared>) -> Router {
    logged(
        Router::new()
            .route(HEALTHZ, get(|| async { "ok\n" }))
            .route(READYZ, get(readyz))
            .route(METRICS, get(metrics))
            .with_state(shared),
    )
}

/// `router` with the request log, installed only when it logs: below DEBUG a request pays
/// nothing for it.
fn logged(router: Router) -> Router {
    if tracing::enabled!(tracing::Level::DEBUG) {
        router.layer(middleware::from_fn(log_request))
    } else {
        router
    }
}

/// Behind the layer, on the callback path: another callback command that passed the guard is
/// acknowledged `OK` and counted; a request that is no callback at all (no `CallbackCommand`)
/// is refused.
async fn acknowledge_other(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    if request.extensions().get::<VerifiedCallback>().is_none() {
        return fail(
            StatusCode::BAD_REQUEST,
            "not a callback: CallbackCommand is missing",
        );
    }
    if request.method() != Method::POST {
        return fail(
            StatusCode::METHOD_NOT_ALLOWED,
            "callbacks must be sent with POST",
        );
    }
    shared.metrics.other_commands.inc();
    Ack::ok().into_http_response::<Body>()
}

/// The `FAIL` acknowledgement with `status` as its `ErrorCode`.
fn fail(status: StatusCode, reason: &'static str) -> Response {
    (
        status,
        Ack::fail_with_code(i64::from(status.as_u16()), reason),
    )
        .into_response()
}

async fn timed_out(error: BoxError) -> Response {
    if error.is::<tower::timeout::error::Elapsed>() {
        fail(StatusCode::REQUEST_TIMEOUT, TIMED_OUT)
    } else {
        fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

/// Counts each `FAIL` with a 4xx status by its reason, read from the acknowledgement.
async fn count_refusals(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if !response.status().is_client_error() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The layer's FAIL is at most a few hundred bytes; anything else is counted as `other`.
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let reason = serde_json::from_slice::<Ack>(&bytes)
        .map(|ack| ack.error_info().to_owned())
        .unwrap_or_else(|_| "other".to_owned());
    metrics.refused(parts.status.as_u16(), &reason);
    // The body is sent as read: its length is what it is now.
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// `GET /readyz`: 200 while a recall can be made durable somewhere (the journal, or with Redis
/// the stream or the journal it spills to), else 503; the body says which store is up. Each
/// store is asked now ([`Handoff::probe`]), so that a store that came back is seen without
/// waiting for a recall, and a Redis that refuses the relay is seen before one arrives.
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let stats = shared.handoff.probe().await;
    let ready = stats.journal_up || stats.stream_up == Some(true);
    let up = |up: bool| if up { "up" } else { "down" };
    let body = serde_json::json!({
        "ready": ready,
        "journal": up(stats.journal_up),
        "stream": stats.stream_up.map(up),
        "spill_backlog": stats.backlog,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        shared.metrics.encode(),
    )
        .into_response()
}

/// From `--log-level debug` on, a span per request with its method and path (capped, escaped;
/// never the query, which may carry `Sign`), and an event with its answer. The layer's own
/// events, inside it, say what it decided about a callback and why.
async fn log_request(request: Request, next: Next) -> Response {
    let path = capped(request.uri().path());
    let span = tracing::debug_span!("request", method = %request.method(), path = ?path);
    let started = Instant::now();
    async move {
        let response = next.run(request).await;
        tracing::debug!(
            status = response.status().as_u16(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}

/// At most [`LOGGED_PATH`] bytes of `path`, cut on a character boundary, marked when cut.
fn capped(path: &str) -> String {
    if path.len() <= LOGGED_PATH {
        return path.to_owned();
    }
    let mut end = LOGGED_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &path[..end])
}
