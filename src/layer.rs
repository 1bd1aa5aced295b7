//! [`RecallLayer`]: the configuration, built once and shared by every service it wraps.

use std::sync::Arc;

use tower_layer::Layer;
use tower_service::Service;

use crate::accepted::AcceptedRecall;
use crate::handler::BoxError;
use crate::mode::{Acknowledge, Forward};
use crate::policy::Policy;
use crate::service::Recall;

/// Layer that applies the [`Recall`] middleware: receives Tencent Cloud IM's recall callbacks
/// for an allowlist of apps and lets every other request through untouched (or, with the guard
/// on, every other callback command once its app and signature are checked).
///
/// Made in one of three ways, each of which checks the whole configuration and returns a
/// [`ConfigError`](crate::ConfigError) for a mistake:
/// - [`RecallLayer::new`]: these apps, all signed with the same token set (the common case);
/// - [`RecallLayer::unsigned`]: these apps, **without signatures**;
/// - [`RecallLayer::builder`]: app by app, each with its own tokens or none, and the time
///   window's two bounds, the body limit, the recall kinds taken, the guard and the clock.
///
/// Cheap to clone: the configuration is shared. `Debug` never shows a token.
///
/// ```
/// use tower_tim_recall::RecallLayer;
///
/// let layer = RecallLayer::new([1400000000], ["the token from the console"])?;
/// assert!(!format!("{layer:?}").contains("the token"));
/// # Ok::<(), tower_tim_recall::ConfigError>(())
/// ```
///
/// The [`Mode`](crate::Mode) parameter says what happens to an accepted callback: [`Forward`]
/// (the default) or [`Acknowledge`], chosen with [`acknowledge`](Self::acknowledge).
#[derive(Debug, Clone)]
#[must_use]
pub struct RecallLayer<M = Forward> {
    policy: Arc<Policy>,
    mode: M,
}

impl RecallLayer<Forward> {
    pub(crate) fn from_policy(policy: Policy) -> Self {
        Self {
            policy: Arc::new(policy),
            mode: Forward,
        }
    }

    /// Acknowledge mode: each accepted callback is passed to `handler`, a tower [`Service`] (a
    /// closure through [`tower::service_fn`](https://docs.rs/tower/latest/tower/fn.service_fn.html)),
    /// as an [`AcceptedRecall`]: the event of any of the three kinds, and the body as sent.
    /// When it succeeds the layer answers `OK` itself, without calling the inner service; when
    /// it fails or panics, the layer answers 500 with a `FAIL` acknowledgement, so that
    /// Tencent's log shows the failed callback.
    ///
    /// Tencent waits two seconds for the answer, and the layer has no timer of its own: a
    /// handler should hand slow work on (to a bounded channel or a task) rather than do it
    /// before returning, or be wrapped in a timeout. See
    /// [the crate docs](crate#when-the-handler-fails-panics-or-is-slow).
    ///
    /// A handler that queues each event for a task, and fails when the queue is full:
    ///
    /// ```
    /// use tower::service_fn;
    /// use tower_tim_recall::{AcceptedRecall, RecallEvent, RecallLayer};
    ///
    /// let (events, mut queue) = tokio::sync::mpsc::channel::<RecallEvent>(1024);
    /// let layer = RecallLayer::new([1400000000], ["the console's callback token"])?
    ///     .acknowledge(service_fn(move |recall: AcceptedRecall| {
    ///         // `try_send` never waits: a full queue is an error, answered 500.
    ///         let sent = events.try_send(recall.event);
    ///         async move { sent.map_err(|_| "the recall queue is full") }
    ///     }));
    /// # drop((layer, queue.try_recv()));
    /// # Ok::<(), tower_tim_recall::ConfigError>(())
    /// ```
    ///
    /// Under axum's `Router::layer`, the layer, and so the handler and what it captures, must
    /// also be `Send + Sync`: capture channels and `Arc`s, not `Cell`s.
    pub fn acknowledge<H>(self, handler: H) -> RecallLayer<Acknowledge<H>>
    where
        H: Service<AcceptedRecall> + Clone,
        H::Error: Into<BoxError>,
    {
        RecallLayer {
            policy: self.policy,
            mode: Acknowledge::new(handler),
        }
    }
}

impl<S, M: Clone> Layer<S> for RecallLayer<M> {
    type Service = Recall<S, M>;

    fn layer(&self, inner: S) -> Recall<S, M> {
        Recall::new(inner, Arc::clone(&self.policy), self.mode.clone())
    }
}
