//! The axum extractors: a handler behind the layer takes the recall event (of any kind, or of
//! one) or the verified context of another command as an argument, and learns with a clear
//! rejection when the layer is not in front of it.

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::protocol::ack::{json_response, Ack};
use crate::protocol::event::RecallEvent;
use crate::protocol::group::GroupRecall;
use crate::protocol::official_account::OfficialAccountRecall;
use crate::protocol::one_to_one::OneToOneRecall;
use crate::protocol::query::CallbackQuery;
use crate::protocol::recall_kind::{RecallKind, RecallKinds};
use crate::verified::VerifiedCallback;

/// Why an axum handler could not take what it asked for from a request the layer saw; answered
/// as a `FAIL` acknowledgement with the status as `ErrorCode`, like the layer's own refusals.
///
/// With the `axum` feature, an axum handler behind a [`RecallLayer`](crate::RecallLayer) in
/// forward mode takes, as an argument, [`RecallEvent`] (any recall), one kind ([`GroupRecall`],
/// [`OneToOneRecall`], [`OfficialAccountRecall`]), or [`VerifiedCallback`] (any callback the
/// layer checked: a recall, or, with the guard on, another command), each also as an `Option`.
/// They read the request extensions where the layer put the event, as `Extension` does, but
/// answer in Tencent's acknowledgement format:
///
/// | argument | what it asked for | another request | a callback it asked for, no layer in front |
/// | --- | --- | --- | --- |
/// | `T` | `T` | 400 `FAIL` | 500 `FAIL` |
/// | `Option<T>` | `Some(T)` | `None` | 500 `FAIL` |
///
/// The reasons: for another request, `this handler takes only recall callbacks` (for
/// `RecallEvent`), `… only C2C.CallbackAfterMsgWithDraw callbacks` (for one kind, with its
/// command), `… only callbacks the recall layer verified` (for `VerifiedCallback`); with no
/// layer in front that takes the callback, `no recall layer in front of this handler takes this
/// callback`, or for `VerifiedCallback` `no recall layer with its guard on is in front of this
/// handler`.
///
/// The last column catches a wiring mistake: a request whose query names what the handler
/// asks for (a recall command, or for `VerifiedCallback` any `CallbackCommand`) reached it
/// without what the layer would have put there, so no layer checked it as that. Answering
/// `FAIL` keeps an unchecked callback from being taken for a checked one, and the reason shows
/// in Tencent's callback log. A layer that takes only some kinds
/// ([`recalls`](crate::RecallLayerBuilder::recalls)) goes with handlers that ask for those
/// kinds, or with the guard: a recall of a kind it does not take is then verified as another
/// command, and `Option<RecallEvent>` is `None` for it. `VerifiedCallback` goes with the guard.
/// In acknowledge mode the layer answers recalls itself, and handlers behind it see none.
///
/// Tencent sends every callback command of an app to the same URL: on that route take an
/// `Option` and acknowledge the other commands too.
///
/// ```
/// use axum::{routing::post, Router};
/// use tower_tim_recall::{Ack, RecallEvent, RecallLayer};
///
/// async fn callback(recall: Option<RecallEvent>) -> Ack {
///     if let Some(RecallEvent::Group(recall)) = recall {
///         println!("{} message(s) recalled in {}", recall.messages.len(), recall.group_id);
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
pub struct CallbackRejection {
    /// The reason, in words.
    reason: &'static str,
    /// Whether the query names what the handler asked for, which is not there.
    layer_missing: bool,
}

impl CallbackRejection {
    /// `true` when a callback reached the handler without passing a
    /// [`RecallLayer`](crate::RecallLayer) that checks it: the application is wired wrong.
    pub fn is_layer_missing(&self) -> bool {
        self.layer_missing
    }

    /// The HTTP status of the answer: 500 when the layer is missing (the server's fault), 400
    /// for a request that is not what the handler asks for.
    pub fn status(&self) -> StatusCode {
        if self.is_layer_missing() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    /// The reason put in the acknowledgement's `ErrorInfo`: "this handler takes only …" for
    /// another request, or what is missing in front of the handler.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The `FAIL` acknowledgement this rejection answers with.
    pub fn ack(&self) -> Ack {
        Ack::fail_with_code(i64::from(self.status().as_u16()), self.reason())
    }
}

impl fmt::Display for CallbackRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl std::error::Error for CallbackRejection {}

impl IntoResponse for CallbackRejection {
    fn into_response(self) -> Response {
        json_response(self.status(), self.ack().to_bytes().into())
    }
}

/// Why a recall is not in a request whose query names it.
const LAYER_MISSING: &str = "no recall layer in front of this handler takes this callback";

/// How one argument type is found in a request the layer saw.
trait Extracted: Sized {
    /// The reason for another request: what the handler takes, in words.
    const OTHERWISE: &'static str;
    /// Why it is missing from a request whose query names it.
    const MISSING: &'static str = LAYER_MISSING;

    /// It, from the request extensions.
    fn extract(parts: &Parts) -> Option<Self>;

    /// Whether the query names it (read as the layer reads it): then a missing one means a
    /// missing layer, unless the guard verified the request (a recall of a kind the layer
    /// does not take, passed on as another command).
    fn named(query: Option<&str>) -> bool;

    /// Whether `parts` should have held it: the query names it, and no layer has seen it.
    fn missing(parts: &Parts) -> bool {
        Self::named(parts.uri.query()) && parts.extensions.get::<VerifiedCallback>().is_none()
    }

    /// The rejection of a request without it, whose query names it: the layer is missing.
    const LAYER_MISSING: CallbackRejection = CallbackRejection {
        reason: Self::MISSING,
        layer_missing: true,
    };

    fn required(parts: &Parts) -> Result<Self, CallbackRejection> {
        match Self::extract(parts) {
            Some(found) => Ok(found),
            None if Self::missing(parts) => Err(Self::LAYER_MISSING),
            None => Err(CallbackRejection {
                reason: Self::OTHERWISE,
                layer_missing: false,
            }),
        }
    }

    fn optional(parts: &Parts) -> Result<Option<Self>, CallbackRejection> {
        match Self::extract(parts) {
            Some(found) => Ok(Some(found)),
            None if Self::missing(parts) => Err(Self::LAYER_MISSING),
            None => Ok(None),
        }
    }
}

/// Whether the query is a recall callback of one of `kinds`.
fn recall_of(query: Option<&str>, kinds: RecallKinds) -> bool {
    CallbackQuery::scan(query, kinds, false).is_some()
}

fn event(parts: &Parts) -> Option<&RecallEvent> {
    parts.extensions.get::<RecallEvent>()
}

impl Extracted for RecallEvent {
    const OTHERWISE: &'static str = "this handler takes only recall callbacks";

    fn extract(parts: &Parts) -> Option<Self> {
        event(parts).cloned()
    }

    fn named(query: Option<&str>) -> bool {
        recall_of(query, RecallKinds::ALL)
    }
}

/// `Extracted` for one kind of recall: its variant of the event, and its command.
macro_rules! one_kind {
    ($kind:ty, $variant:ident, $command:literal) => {
        impl Extracted for $kind {
            const OTHERWISE: &'static str =
                concat!("this handler takes only ", $command, " callbacks");

            fn extract(parts: &Parts) -> Option<Self> {
                match event(parts)? {
                    RecallEvent::$variant(recall) => Some(recall.clone()),
                    _ => None,
                }
            }

            fn named(query: Option<&str>) -> bool {
                recall_of(query, RecallKinds::of([RecallKind::$variant]))
            }
        }
    };
}

one_kind!(GroupRecall, Group, "Group.CallbackAfterRecallMsg");
one_kind!(OneToOneRecall, OneToOne, "C2C.CallbackAfterMsgWithDraw");
one_kind!(
    OfficialAccountRecall,
    OfficialAccount,
    "OfficialAccount.CallbackAfterMsgWithDraw"
);

impl Extracted for VerifiedCallback {
    const OTHERWISE: &'static str = "this handler takes only callbacks the recall layer verified";
    const MISSING: &'static str = "no recall layer with its guard on is in front of this handler";

    fn extract(parts: &Parts) -> Option<Self> {
        if let Some(verified) = parts.extensions.get::<VerifiedCallback>() {
            return Some(verified.clone());
        }
        let event = event(parts)?;
        Some(VerifiedCallback::new(
            event.kind().command(),
            event.context().clone(),
        ))
    }

    fn named(query: Option<&str>) -> bool {
        CallbackQuery::scan(query, RecallKinds::ALL, true).is_some()
    }
}

/// `FromRequestParts` and `OptionalFromRequestParts` for a type the layer puts in requests.
macro_rules! extractor {
    ($type:ty) => {
        #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
        impl<S: Sync> FromRequestParts<S> for $type {
            type Rejection = CallbackRejection;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Self, Self::Rejection> {
                <$type as Extracted>::required(parts)
            }
        }

        #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
        impl<S: Sync> OptionalFromRequestParts<S> for $type {
            type Rejection = CallbackRejection;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                <$type as Extracted>::optional(parts)
            }
        }
    };
}

extractor!(RecallEvent);
extractor!(GroupRecall);
extractor!(OneToOneRecall);
extractor!(OfficialAccountRecall);
extractor!(VerifiedCallback);
