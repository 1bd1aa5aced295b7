//! The recall callbacks received the way a competent user would without this crate: an axum
//! handler with a `Query` extractor and the body as `Bytes`, parsed by `CallbackCommand` into
//! a struct of that kind's fields. It is the baseline that the benchmarks (`benches/recall.rs`)
//! and the load test (`src/bin/handwritten.rs`) compare the layer with, so it does the same
//! job, honestly:
//!
//! - the three recall callbacks, each into the same typed [`RecallEvent`] with its query
//!   context filled in;
//! - for every command, the same allowlist of `SdkAppid`s and, when a token is set, the same
//!   `Sign` / `RequestTime` check, with the same two bounds, before the body is looked at (the
//!   `server` example's guard);
//! - another command, once checked, acknowledged `OK`; a refusal answered with the layer's
//!   status in a `FAIL` acknowledgement.
//!
//! What it does not do, as most hand-written handlers would not: refuse before reading the body
//! (axum reads it before the handler runs), compare the signature in constant time, refuse
//! repeated query parameters, check the body's UTF-8 and nesting beyond what `serde_json` reads,
//! or refuse a body of another kind's command. The body is not parsed with axum's `Json`
//! extractor, whose error paths (`serde_path_to_error`) cost it three times the parse: one
//! extractor cannot serve three kinds anyway.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use support::bodies_by_hand::{GroupBody, OfficialAccountBody, OneToOneBody};
use tower_tim_recall::{Ack, Platform, RecallEvent, RecallKind};

/// The callback URL's path.
pub const CALLBACK_PATH: &str = "/im/callback";

/// What the handler checks, as the layer is configured.
pub struct Config {
    /// Allowed `SdkAppid`s.
    pub apps: Vec<u64>,
    /// The console's callback token, when signatures are checked.
    pub token: Option<String>,
    /// How far in the past and in the future `RequestTime` may be, in seconds.
    pub window_secs: u64,
    /// Called with each accepted event; an error answers 500.
    pub on_event: fn(&RecallEvent) -> std::io::Result<()>,
}

/// The query parameters Tencent sends with a callback.
#[derive(Deserialize)]
struct CallbackParams {
    #[serde(rename = "SdkAppid")]
    sdk_app_id: u64,
    #[serde(rename = "CallbackCommand")]
    command: String,
    #[serde(rename = "contenttype")]
    content_type: Option<String>,
    #[serde(rename = "ClientIP")]
    client_ip: Option<String>,
    #[serde(rename = "OptPlatform")]
    platform: Option<String>,
    #[serde(rename = "RequestTime")]
    request_time: Option<u64>,
    #[serde(rename = "Sign")]
    sign: Option<String>,
}

/// A router with the handler on `POST /im/callback`, the query read with axum's `Query`
/// extractor, as most axum code reads a query.
pub fn router(config: Config) -> Router {
    Router::new()
        .route(CALLBACK_PATH, post(callback))
        .with_state(Arc::new(config))
}

/// The same router with the query read by `serde_urlencoded` from axum's `RawQuery`: what the
/// `Query` extractor does, without the error tracking (`serde_path_to_error`) it adds. The
/// leaner of the two peers.
pub fn router_lean_query(config: Config) -> Router {
    Router::new()
        .route(CALLBACK_PATH, post(callback_lean_query))
        .with_state(Arc::new(config))
}

async fn callback(
    State(config): State<Arc<Config>>,
    Query(params): Query<CallbackParams>,
    body: Bytes,
) -> Response {
    handle(&config, params, &body)
}

async fn callback_lean_query(
    State(config): State<Arc<Config>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
        Ok(params) => handle(&config, params, &body),
        Err(_) => answer(StatusCode::BAD_REQUEST, "the query is not a callback's"),
    }
}

/// The checks, the parse and the event, whichever way the query was read.
fn handle(config: &Config, params: CallbackParams, body: &Bytes) -> Response {
    if !config.apps.contains(&params.sdk_app_id) {
        return answer(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    }
    if let Some(token) = &config.token {
        let (Some(time), Some(signature)) = (params.request_time, &params.sign) else {
            return answer(StatusCode::UNAUTHORIZED, "Sign or RequestTime is missing");
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if time.saturating_add(config.window_secs) < now {
            return answer(StatusCode::UNAUTHORIZED, "RequestTime is too old");
        }
        if time > now.saturating_add(config.window_secs) {
            return answer(
                StatusCode::UNAUTHORIZED,
                "RequestTime is too far in the future",
            );
        }
        if !sign(token, time).eq_ignore_ascii_case(signature) {
            return answer(StatusCode::UNAUTHORIZED, "Sign does not match");
        }
    }
    let Some(kind) = RecallKind::from_command(&params.command) else {
        // Another callback command sent to the same URL, checked: acknowledged.
        return Ack::ok().into_http_response::<Body>();
    };
    if params
        .content_type
        .is_some_and(|kind| !kind.eq_ignore_ascii_case("json"))
    {
        return answer(StatusCode::BAD_REQUEST, "contenttype is not json");
    }
    let parsed = match kind {
        RecallKind::Group => {
            serde_json::from_slice::<GroupBody>(body).map(|body| body.into_event(params.sdk_app_id))
        }
        RecallKind::OneToOne => serde_json::from_slice::<OneToOneBody>(body)
            .map(|body| body.into_event(params.sdk_app_id)),
        _ => serde_json::from_slice::<OfficialAccountBody>(body)
            .map(|body| body.into_event(params.sdk_app_id)),
    };
    let Ok(mut event) = parsed else {
        return answer(StatusCode::BAD_REQUEST, "invalid body");
    };
    let context = match &mut event {
        RecallEvent::Group(recall) => &mut recall.context,
        RecallEvent::OneToOne(recall) => &mut recall.context,
        RecallEvent::OfficialAccount(recall) => &mut recall.context,
        _ => unreachable!("the three kinds"),
    };
    context.client_ip = params.client_ip.and_then(|ip| ip.parse().ok());
    context.platform = params.platform.as_deref().map(Platform::from);
    context.request_time = params.request_time;
    if (config.on_event)(&event).is_err() {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the event could not be recorded",
        );
    }
    Ack::ok().into_http_response::<Body>()
}

/// A `FAIL` acknowledgement with `status` as both the HTTP status and `ErrorCode`.
fn answer(status: StatusCode, reason: &'static str) -> Response {
    let mut response =
        Ack::fail_with_code(i64::from(status.as_u16()), reason).into_http_response::<Body>();
    *response.status_mut() = status;
    response
}

/// `hex(SHA-256(token ‖ RequestTime))`, as a hand-written receiver computes it.
fn sign(token: &str, time: u64) -> String {
    let digest = Sha256::new()
        .chain_update(token)
        .chain_update(time.to_string())
        .finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}
