//! The recall callback received the way a user would without this crate: an axum handler with
//! `Query` and `Json` extractors. It is the baseline that the benchmarks (`benches/recall.rs`)
//! and the load test (`src/bin/handwritten.rs`) compare the layer with, so it does the same
//! job, honestly: the same allowlist of `SdkAppid`s, the same `Sign` / `RequestTime` check when
//! a token is set, the same typed [`RecallEvent`] with its query context filled in, and the same
//! `FAIL` acknowledgements with the layer's statuses.
//!
//! What it does not do, as most hand-written handlers would not: refuse before reading the body
//! (axum's extractors read and parse the body before the handler runs), compare the signature in
//! constant time, or refuse repeated query parameters.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use support::bodies_by_hand::GroupBody;
use tower_tim_recall::{Ack, Platform, RecallEvent, RecallKind};

/// The callback URL's path.
pub const CALLBACK_PATH: &str = "/im/callback";

/// What the handler checks, as the layer is configured.
pub struct Config {
    /// Allowed `SdkAppid`s.
    pub apps: Vec<u64>,
    /// The console's callback token, when signatures are checked.
    pub token: Option<String>,
    /// How far `RequestTime` may be from this machine's clock, in seconds.
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

/// A router with the handler on `POST /im/callback`.
pub fn router(config: Config) -> Router {
    Router::new()
        .route(CALLBACK_PATH, post(callback))
        .with_state(Arc::new(config))
}

async fn callback(
    State(config): State<Arc<Config>>,
    Query(params): Query<CallbackParams>,
    Json(body): Json<GroupBody>,
) -> Response {
    if params.command != RecallKind::Group.command() {
        // Another callback command sent to the same URL (if its body happened to parse).
        return Ack::ok().into_http_response::<Body>();
    }
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
        if time.abs_diff(now) > config.window_secs {
            return answer(
                StatusCode::UNAUTHORIZED,
                "RequestTime is outside the window",
            );
        }
        if !sign(token, time).eq_ignore_ascii_case(signature) {
            return answer(StatusCode::UNAUTHORIZED, "Sign does not match");
        }
    }
    if params
        .content_type
        .is_some_and(|kind| !kind.eq_ignore_ascii_case("json"))
    {
        return answer(StatusCode::BAD_REQUEST, "contenttype is not json");
    }
    let mut event = body.into_event(params.sdk_app_id);
    if let RecallEvent::Group(recall) = &mut event {
        recall.context.client_ip = params.client_ip.and_then(|ip| ip.parse().ok());
        recall.context.platform = params.platform.as_deref().map(Platform::from);
        recall.context.request_time = params.request_time;
    }
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
