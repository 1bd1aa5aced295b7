//! [`RecallLayer`]: the configuration, built once and shared by every service it wraps.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_layer::Layer;
use tower_service::Service;

use crate::mode::{Acknowledge, BoxError, Forward, HandlerFn};
use crate::policy::{Clock, Policy};
use crate::protocol::event::{RecallEvent, SdkAppId};
use crate::protocol::signature::Token;
use crate::service::Recall;

/// Layer that applies the [`Recall`] middleware: receives `Group.CallbackAfterRecallMsg`
/// callbacks for an allowlist of apps and lets every other request through untouched.
///
/// Cheap to clone: the configuration is shared. `Debug` never shows the token.
///
/// ```
/// use std::time::Duration;
/// use tower_tim_recall::RecallLayer;
///
/// let layer = RecallLayer::new([1400000000])
///     .token("the token from the console")
///     .time_window(Duration::from_secs(30))
///     .body_limit(16 * 1024);
/// assert!(!format!("{layer:?}").contains("the token"));
/// ```
///
/// The [`Mode`](crate::Mode) parameter says what happens to an accepted callback: [`Forward`]
/// (the default) or [`Acknowledge`], chosen with [`acknowledge`](Self::acknowledge) or
/// [`acknowledge_fn`](Self::acknowledge_fn).
#[derive(Debug, Clone)]
#[must_use]
pub struct RecallLayer<M = Forward> {
    policy: Arc<Policy>,
    mode: M,
}

impl RecallLayer<Forward> {
    /// A layer in forward mode that accepts callbacks for these SDKAppIDs, without signature
    /// checking, with a 64 KiB body limit and a 60-second time window for when a token is set.
    ///
    /// # Panics
    ///
    /// When `apps` is empty: such a layer would refuse every callback.
    pub fn new<I>(apps: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<SdkAppId>,
    {
        Self {
            policy: Arc::new(Policy::new(apps.into_iter().map(Into::into))),
            mode: Forward,
        }
    }
}

impl<M> RecallLayer<M> {
    fn policy_mut(&mut self) -> &mut Policy {
        Arc::make_mut(&mut self.policy)
    }

    /// Turns on signature checking with the callback token from Tencent's console: every
    /// callback must then carry `RequestTime` within the [time window](Self::time_window) and
    /// `Sign = hex(SHA-256(token ‖ RequestTime))`, or is refused with 401.
    ///
    /// # Panics
    ///
    /// When `token` is empty.
    pub fn token(mut self, token: impl AsRef<str>) -> Self {
        let token = token.as_ref();
        assert!(!token.is_empty(), "the callback token is empty");
        self.policy_mut().token = Some(Token::new(token));
        self
    }

    /// How far `RequestTime` may be from the receiver's clock, in either direction, before a
    /// signed callback is refused as stale. Default: 60 seconds, as Tencent advises. Counted in
    /// whole seconds (fractions are dropped).
    pub fn time_window(mut self, window: Duration) -> Self {
        self.policy_mut().window_secs = window.as_secs();
        self
    }

    /// The largest callback body accepted, in bytes. Default: 64 KiB, far above what a recall
    /// of Tencent's maximum batch takes. Larger bodies are refused with 413, from
    /// `Content-Length` before reading when the request declares it, and as soon as the limit
    /// is passed while reading otherwise.
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.policy_mut().body_limit = limit;
        self
    }

    /// Replaces the clock that `RequestTime` is checked against (the system clock by default),
    /// for tests.
    pub fn clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.policy_mut().clock = Clock::custom(now);
        self
    }

    /// Acknowledge mode with a tower [`Service`] as the handler: each accepted callback's event
    /// is passed to `handler`; when it succeeds the layer answers `OK` itself, without calling
    /// the inner service; when it fails or panics, the layer answers 500 with a `FAIL`
    /// acknowledgement.
    ///
    /// Tencent waits two seconds for the answer, and the layer has no timer of its own: a
    /// handler should hand slow work on (to a bounded channel or a task) rather than do it
    /// before returning, or be wrapped in a timeout. See
    /// [the crate docs](crate#when-the-handler-fails-panics-or-is-slow).
    pub fn acknowledge<H>(self, handler: H) -> RecallLayer<Acknowledge<H>>
    where
        H: Service<RecallEvent> + Clone,
        H::Error: Into<BoxError>,
    {
        RecallLayer {
            policy: self.policy,
            mode: Acknowledge::new(handler),
        }
    }

    /// Acknowledge mode with an async closure as the handler; see
    /// [`acknowledge`](Self::acknowledge).
    ///
    /// The closure is cloned for each callback. Under axum's `Router::layer`, the layer, and so
    /// the closure and what it captures, must also be `Send + Sync`: capture channels and
    /// `Arc`s, not `Cell`s.
    ///
    /// ```
    /// use tower_tim_recall::RecallLayer;
    ///
    /// let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    /// let layer = RecallLayer::new([1400000000]).acknowledge_fn(move |event| {
    ///     let events = events.clone();
    ///     async move {
    ///         let _ = events.send(event);
    ///     }
    /// });
    /// # drop((layer, received.try_recv()));
    /// ```
    pub fn acknowledge_fn<F, Fut>(self, handler: F) -> RecallLayer<Acknowledge<HandlerFn<F>>>
    where
        F: FnMut(RecallEvent) -> Fut + Clone,
        Fut: Future<Output = ()>,
    {
        self.acknowledge(HandlerFn::new(handler))
    }
}

impl<S, M: Clone> Layer<S> for RecallLayer<M> {
    type Service = Recall<S, M>;

    fn layer(&self, inner: S) -> Recall<S, M> {
        Recall::from_parts(inner, Arc::clone(&self.policy), self.mode.clone())
    }
}

// `HandlerFn` never fails.
const _: fn() = || {
    fn infallible<H: Service<RecallEvent, Error = Infallible>>() {}
    infallible::<HandlerFn<fn(RecallEvent) -> std::future::Ready<()>>>();
};
