//! [`RecallLayer`]: the configuration, built once and shared by every service it wraps.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_layer::Layer;
use tower_service::Service;

use crate::builder::RecallLayerBuilder;
use crate::mode::{Acknowledge, BoxError, Forward, HandlerFn};
use crate::policy::{Clock, Policy};
use crate::protocol::event::{RecallEvent, SdkAppId};
use crate::protocol::signature::{Token, TokenSet};
use crate::service::Recall;

/// Layer that applies the [`Recall`] middleware: receives `Group.CallbackAfterRecallMsg`
/// callbacks for an allowlist of apps and lets every other request through untouched.
///
/// Cheap to clone: the configuration is shared. `Debug` never shows a token.
///
/// Two ways to say which apps may call and how they sign:
/// - [`RecallLayer::builder`] gives each app its own tokens (or none), requires signatures
///   unless told otherwise, and reports every configuration mistake as a
///   [`ConfigError`](crate::ConfigError) when the layer is built;
/// - the short form [`RecallLayer::new`] lists the apps, **unsigned** (anyone who knows the URL
///   and an SDKAppID can then post recalls), and [`token`](Self::token) or
///   [`tokens`](Self::tokens) then sign them all with the same token(s); its mistakes panic.
///
/// Either way, the time window, the body limit, the clock and the mode are set on the layer
/// afterwards, with the methods below.
///
/// ```
/// use std::time::Duration;
/// use tower_tim_recall::RecallLayer;
///
/// # fn main() -> Result<(), tower_tim_recall::ConfigError> {
/// let layer = RecallLayer::builder()
///     .signed_app(1400000000, ["the token from the console"])
///     .build()?
///     .time_window(Duration::from_secs(30))
///     .body_limit(16 * 1024);
/// assert!(!format!("{layer:?}").contains("the token"));
///
/// // The same, in the short form.
/// let layer = RecallLayer::new([1400000000])
///     .token("the token from the console")
///     .time_window(Duration::from_secs(30))
///     .body_limit(16 * 1024);
/// # Ok(())
/// # }
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
    /// Starts the configuration of a layer whose apps each have their own credentials; see
    /// [`RecallLayerBuilder`]. Signatures are required unless
    /// [`allow_unsigned_apps`](RecallLayerBuilder::allow_unsigned_apps) says otherwise.
    pub fn builder() -> RecallLayerBuilder {
        RecallLayerBuilder::new()
    }

    /// The short form, **unsigned until [`token`](Self::token) or [`tokens`](Self::tokens) is
    /// called**: a layer in forward mode that accepts callbacks for these SDKAppIDs, with a
    /// 64 KiB body limit and a 60-second time window. An app listed twice counts once.
    ///
    /// Without a token, anyone who knows the callback URL and one of these SDKAppIDs (they are
    /// not secret: they ship inside client apps) can post recalls that the layer accepts; the
    /// threat model in `SECURITY.md` says what follows. Give the layer the callback token from
    /// Tencent's console with `.token(…)` or `.tokens(…)`, as below, or use
    /// [`RecallLayer::builder`], the secure-by-default path: it requires a signature for every
    /// app unless told otherwise, gives each app its own tokens, and returns configuration
    /// mistakes as errors rather than panics.
    ///
    /// ```
    /// use tower_tim_recall::RecallLayer;
    ///
    /// let layer = RecallLayer::new([1400000000]).token("the console's callback token");
    /// # drop(layer);
    /// ```
    ///
    /// # Panics
    ///
    /// When `apps` is empty: such a layer would refuse every callback.
    pub fn new<I>(apps: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<SdkAppId>,
    {
        Self::from_policy(Policy::unsigned(apps.into_iter().map(Into::into)))
    }

    pub(crate) fn from_policy(policy: Policy) -> Self {
        Self {
            policy: Arc::new(policy),
            mode: Forward,
        }
    }
}

impl<M> RecallLayer<M> {
    fn policy_mut(&mut self) -> &mut Policy {
        Arc::make_mut(&mut self.policy)
    }

    /// Turns on signature checking for every app of the layer, with the callback token from
    /// Tencent's console: every callback must then carry `RequestTime` within the
    /// [time window](Self::time_window) and `Sign = hex(SHA-256(token ‖ RequestTime))`, or is
    /// refused with 401 before its body is read.
    ///
    /// This is the short form's way to sign: it applies to a layer whose apps are all unsigned,
    /// such as one made with [`RecallLayer::new`], and is called once. For apps with different
    /// tokens, use [`RecallLayer::builder`]; to accept several tokens while one is rotated, list
    /// them all in one [`tokens`](Self::tokens) call.
    ///
    /// # Panics
    ///
    /// When `token` is empty, or starts or ends with whitespace. Also when an app of the layer
    /// is already signed, by the builder's [`signed_app`](RecallLayerBuilder::signed_app) or
    /// an earlier `token` or `tokens` call: replacing those tokens would silently undo per-app
    /// credentials or a rotation, so the mistake is loud instead.
    pub fn token(self, token: impl AsRef<str>) -> Self {
        self.tokens([token])
    }

    /// Like [`token`](Self::token), with several tokens, any of which signs a valid callback:
    /// while a token is changed in Tencent's console, callbacks signed with the old and the
    /// new one both arrive, so list both until the change is done.
    ///
    /// ```
    /// use tower_tim_recall::RecallLayer;
    ///
    /// let layer = RecallLayer::new([1400000000]).tokens(["the new token", "the old token"]);
    /// # drop(layer);
    /// ```
    ///
    /// Like `token`, it is called once, on a layer whose apps are all unsigned.
    ///
    /// # Panics
    ///
    /// When `tokens` is empty, or one of them is empty or starts or ends with whitespace (as a
    /// token read from a file with its line break does: no callback would match it). Also when
    /// an app of the layer is already signed, as for [`token`](Self::token):
    ///
    /// ```should_panic
    /// use tower_tim_recall::RecallLayer;
    ///
    /// // Panics: "the layer already has tokens: list every token in one `tokens([..])` call, or
    /// // use the builder".
    /// let layer = RecallLayer::new([1400000000]).token("the new token").token("the old token");
    /// # drop(layer);
    /// ```
    pub fn tokens<I>(mut self, tokens: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        assert!(
            !self.policy.has_signed_app(),
            "the layer already has tokens: list every token in one `tokens([..])` call, \
             or use the builder"
        );
        let tokens = TokenSet::parse(tokens.into_iter().map(|token| Token::new(token.as_ref())))
            .unwrap_or_else(|problem| panic!("{problem}"));
        self.policy_mut().sign_all(&tokens);
        self
    }

    /// How far `RequestTime` may be from the receiver's clock, in either direction, before a
    /// signed callback is refused as stale. Default: 60 seconds, as Tencent advises. Counted in
    /// whole seconds (fractions are dropped); both ends are inclusive, so with 60 seconds a
    /// callback 60 seconds old or 60 seconds ahead is accepted and one second more is not. Any
    /// `Duration` is safe, up to [`Duration::MAX`] (which accepts every time). Unsigned apps
    /// have no `RequestTime` to check.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_tim_recall::RecallLayer;
    ///
    /// // Accept a signed callback up to 30 seconds away from this server's clock.
    /// let layer = RecallLayer::new([1400000000])
    ///     .token("the console's callback token")
    ///     .time_window(Duration::from_secs(30));
    /// # drop(layer);
    /// ```
    pub fn time_window(mut self, window: Duration) -> Self {
        self.policy_mut().window_secs = window.as_secs();
        self
    }

    /// The largest callback body accepted, in bytes. Default: 64 KiB, far above what a recall
    /// of Tencent's maximum batch takes. Larger bodies are refused with 413, from
    /// `Content-Length` before reading when the request declares it, and as soon as the limit
    /// is passed while reading otherwise.
    ///
    /// ```
    /// use tower_tim_recall::RecallLayer;
    ///
    /// // Refuse, with 413, any callback body over 16 KiB.
    /// let layer = RecallLayer::new([1400000000])
    ///     .token("the console's callback token")
    ///     .body_limit(16 * 1024);
    /// # drop(layer);
    /// ```
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.policy_mut().body_limit = limit;
        self
    }

    /// Replaces the clock that `RequestTime` is checked against (the system clock by default),
    /// for tests.
    ///
    /// A layer whose clock is stopped at a known time, and a callback signed 60 seconds
    /// earlier, at the edge of the default window (the `testing` feature's
    /// [`Callback`](crate::testing::Callback) plays Tencent's side):
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::{service_fn, ServiceExt};
    /// use tower_tim_recall::testing::{read_ack, Callback};
    /// use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RecalledMessage};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let layer = RecallLayer::new([1400000000])
    ///     .token("the console's callback token")
    ///     .clock(move || now);
    /// let service = tower::ServiceBuilder::new().layer(layer).service(service_fn(|_| async {
    ///     Ok::<_, std::convert::Infallible>(Ack::ok().into_http_response::<Full<Bytes>>())
    /// }));
    ///
    /// let event = RecallEvent::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(1, None)]);
    /// let callback = Callback::new(&event)
    ///     .signed("the console's callback token")
    ///     .request_time(1_700_000_000 - 60);
    /// let response = service.clone().oneshot(callback.request::<Full<Bytes>>()).await.unwrap();
    /// assert!(read_ack(response).await.1.is_ok());
    ///
    /// let stale = callback.request_time(1_700_000_000 - 61);
    /// let response = service.oneshot(stale.request::<Full<Bytes>>()).await.unwrap();
    /// assert_eq!(read_ack(response).await.0, 401);
    /// # }
    /// ```
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
    ///
    /// A handler that queues each event for a task, and fails when the queue is full:
    ///
    /// ```
    /// use tower::service_fn;
    /// use tower_tim_recall::{RecallEvent, RecallLayer};
    ///
    /// let (events, mut queue) = tokio::sync::mpsc::channel::<RecallEvent>(1024);
    /// let layer = RecallLayer::new([1400000000])
    ///     .token("the console's callback token")
    ///     .acknowledge(service_fn(move |event: RecallEvent| {
    ///         // `try_send` never waits: a full queue is an error, answered 500.
    ///         let sent = events.try_send(event);
    ///         async move { sent.map_err(|_| "the recall queue is full") }
    ///     }));
    /// # drop((layer, queue.try_recv()));
    /// ```
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
    /// The closure cannot fail, so a full queue cannot be answered 500 from here: the closure
    /// below reports the lost event in its own log. To have a full queue answered 500, and so
    /// recorded in Tencent's callback log, use [`acknowledge`](Self::acknowledge) with a
    /// service that returns the error, as shown there.
    ///
    /// ```
    /// use tower_tim_recall::RecallLayer;
    ///
    /// let (events, mut received) = tokio::sync::mpsc::channel(1024);
    /// let layer = RecallLayer::new([1400000000])
    ///     .token("the console's callback token")
    ///     .acknowledge_fn(move |event| {
    ///         // `try_send` never waits, and the bounded queue keeps memory bounded.
    ///         if let Err(error) = events.try_send(event) {
    ///             eprintln!("recall callback not queued: {error}");
    ///         }
    ///         std::future::ready(())
    ///     });
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
