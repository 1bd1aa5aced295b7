//! The axum extractor: an axum handler behind the layer takes the [`RecallEvent`] as an
//! argument, and learns with a clear rejection when the layer is not in front of it.

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::protocol::ack::{json_response, Ack};
use crate::protocol::event::RecallEvent;
use crate::protocol::query::CallbackQuery;

/// Why an axum handler could not take a [`RecallEvent`]; answered as a `FAIL` acknowledgement
/// with the status as `ErrorCode`, like the layer's own refusals.
///
/// With the `axum` feature, an axum handler behind a [`RecallLayer`](crate::RecallLayer) in
/// forward mode takes the event as an argument: `RecallEvent` or `Option<RecallEvent>`, read
/// from the request extensions where the layer put it (as `Extension<RecallEvent>` reads it,
/// but with answers in Tencent's acknowledgement format rather than axum's plain-text 500):
///
/// | argument | recall callback, layer in front | any other request | recall callback, no layer in front |
/// | --- | --- | --- | --- |
/// | `RecallEvent` | the event | 400 `FAIL` | 500 `FAIL` |
/// | `Option<RecallEvent>` | `Some(event)` | `None` | 500 `FAIL` |
///
/// The last column catches a wiring mistake: a request whose query says
/// `CallbackCommand=Group.CallbackAfterRecallMsg` reached the handler without an event, so no
/// layer checked it (the layer refuses or forwards every such request, it never passes one on
/// bare). Answering `FAIL` keeps an unchecked callback from being taken for a checked one, and
/// the reason, `the recall layer is not installed in front of this handler`, shows in Tencent's
/// callback log. In acknowledge mode the layer answers recalls itself and handlers behind it see
/// none.
///
/// Tencent sends every callback command of an app to the same URL: on that route take
/// `Option<RecallEvent>` and acknowledge the other commands too.
///
/// ```
/// use axum::{routing::post, Router};
/// use tower_tim_recall::{Ack, RecallEvent, RecallLayer};
///
/// async fn callback(recall: Option<RecallEvent>) -> Ack {
///     if let Some(event) = recall {
///         println!("{} message(s) recalled in {}", event.messages.len(), event.group_id);
///     }
///     Ack::ok()
/// }
///
/// let app: Router = Router::new()
///     .route("/im/callback", post(callback))
///     .layer(RecallLayer::new([1400000000], ["the console's callback token"])?);
/// # let _ = app;
/// # Ok::<(), tower_tim_recall::ConfigError>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecallEventRejection {
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The query names the recall command, but no layer put an event in the extensions.
    LayerMissing,
    /// Not a recall callback: a handler that requires one got another request.
    NotARecall,
}

impl RecallEventRejection {
    /// The rejection for a request without an event in its extensions.
    fn for_request(parts: &Parts) -> Self {
        let kind = if CallbackQuery::scan(parts.uri.query()).is_some() {
            Kind::LayerMissing
        } else {
            Kind::NotARecall
        };
        Self { kind }
    }

    /// `true` when a recall callback reached the handler without passing a
    /// [`RecallLayer`](crate::RecallLayer): the application is wired wrong.
    pub fn is_layer_missing(&self) -> bool {
        self.kind == Kind::LayerMissing
    }

    /// The HTTP status of the answer: 500 when the layer is missing (the server's fault), 400
    /// for a request that is not a recall callback.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::NotARecall => StatusCode::BAD_REQUEST,
        }
    }

    /// The reason put in the acknowledgement's `ErrorInfo`.
    pub fn reason(&self) -> &'static str {
        match self.kind {
            Kind::LayerMissing => "the recall layer is not installed in front of this handler",
            Kind::NotARecall => "not a Group.CallbackAfterRecallMsg callback",
        }
    }

    /// The `FAIL` acknowledgement this rejection answers with.
    pub fn ack(&self) -> Ack {
        Ack::fail_with_code(i64::from(self.status().as_u16()), self.reason())
    }
}

impl fmt::Display for RecallEventRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for RecallEventRejection {}

impl IntoResponse for RecallEventRejection {
    fn into_response(self) -> Response {
        json_response(self.status(), self.ack().to_bytes().into())
    }
}

/// Takes the event the [`RecallLayer`](crate::RecallLayer) checked, in forward mode; any other
/// request is rejected with a [`RecallEventRejection`], which explains the cases.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Sync> FromRequestParts<S> for RecallEvent {
    type Rejection = RecallEventRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<RecallEvent>() {
            Some(event) => Ok(event.clone()),
            None => Err(RecallEventRejection::for_request(parts)),
        }
    }
}

/// `Option<RecallEvent>`: `Some` for a recall the layer checked, `None` for any other request,
/// and a rejection only for a recall callback that did not pass the layer.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Sync> OptionalFromRequestParts<S> for RecallEvent {
    type Rejection = RecallEventRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<RecallEvent>() {
            Some(event) => Ok(Some(event.clone())),
            None => match RecallEventRejection::for_request(parts) {
                rejection if rejection.is_layer_missing() => Err(rejection),
                _ => Ok(None),
            },
        }
    }
}
