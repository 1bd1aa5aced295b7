//! What the layer does with an accepted callback: forward it, or acknowledge it itself.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower::ServiceExt;
use tower_service::Service;

use crate::protocol::event::RecallEvent;
use crate::protocol::rejection::Rejection;

/// The error a recall handler may return.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Forward mode, the default: an accepted callback goes on to the inner service with its
/// [`RecallEvent`] in the request extensions and its body bytes still readable; the inner
/// service answers (see [`Ack`](crate::Ack)).
#[derive(Debug, Clone, Copy, Default)]
pub struct Forward;

/// Acknowledge mode: an accepted callback's [`RecallEvent`] goes to a handler, and the layer
/// answers Tencent's `OK` acknowledgement itself without calling the inner service.
///
/// Built by [`RecallLayer::acknowledge`](crate::RecallLayer::acknowledge) or
/// [`RecallLayer::acknowledge_fn`](crate::RecallLayer::acknowledge_fn).
#[derive(Clone)]
pub struct Acknowledge<H> {
    handler: H,
}

impl<H> Acknowledge<H> {
    pub(crate) fn new(handler: H) -> Self {
        Self { handler }
    }
}

impl<H> fmt::Debug for Acknowledge<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acknowledge").finish_non_exhaustive()
    }
}

/// How a layer treats an accepted callback: [`Forward`] or [`Acknowledge`].
///
/// This trait is sealed: the two modes are the only ones.
pub trait Mode: sealed::Dispatch {}

impl Mode for Forward {}
impl<H> Mode for Acknowledge<H>
where
    H: Service<RecallEvent> + Clone,
    H::Error: Into<BoxError>,
{
}

pub(crate) mod sealed {
    use super::*;

    /// What a mode does with an event, used by the service and its future.
    pub trait Dispatch: Clone {
        /// The handler taken for one callback (uninhabited in forward mode).
        type Handler;
        /// The handler's work on one event.
        type Future: Future<Output = Result<(), super::BoxError>>;

        /// The handler for the next callback, or `None` to forward to the inner service.
        fn handler(&self) -> Option<Self::Handler>;

        /// Starts the handler's work on `event`.
        fn handle(handler: Self::Handler, event: RecallEvent) -> Self::Future;
    }
}

impl sealed::Dispatch for Forward {
    type Handler = Infallible;
    type Future = std::future::Pending<Result<(), BoxError>>;

    fn handler(&self) -> Option<Infallible> {
        None
    }

    fn handle(handler: Infallible, _event: RecallEvent) -> Self::Future {
        match handler {}
    }
}

impl<H> sealed::Dispatch for Acknowledge<H>
where
    H: Service<RecallEvent> + Clone,
    H::Error: Into<BoxError>,
{
    type Handler = H;
    type Future = HandlerFuture<H>;

    fn handler(&self) -> Option<H> {
        Some(self.handler.clone())
    }

    fn handle(handler: H, event: RecallEvent) -> HandlerFuture<H> {
        HandlerFuture {
            inner: handler.oneshot(event),
        }
    }
}

pin_project! {
    /// A handler's work on one event: readiness, then the call. A panic in the handler's
    /// `poll_ready`, `call` or future is caught here and becomes a [`HandlerPanicked`] error, so
    /// that the layer answers it and the connection lives on.
    #[doc(hidden)]
    pub struct HandlerFuture<H: Service<RecallEvent>> {
        #[pin]
        inner: Oneshot<H, RecallEvent>,
    }
}

impl<H: Service<RecallEvent>> fmt::Debug for HandlerFuture<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFuture").finish_non_exhaustive()
    }
}

impl<H> Future for HandlerFuture<H>
where
    H: Service<RecallEvent>,
    H::Error: Into<BoxError>,
{
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        // Unwind safety: after a panic the handler's future is never polled again, only dropped
        // with the response future, which answers from then on.
        let polled = panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        let result = match polled {
            Ok(poll) => ready!(poll).map(drop).map_err(Into::into),
            // The payload is dropped here: the panic hook has already shown its message.
            Err(_payload) => Err(Box::new(HandlerPanicked) as BoxError),
        };
        Poll::Ready(result)
    }
}

/// The error that stands for a handler that panicked. It carries nothing of the panic: the
/// panic hook has already reported its message (to standard error, by default), and the
/// answer to Tencent never carries it; so a panic costs no allocation of its own here.
#[derive(Debug)]
pub(crate) struct HandlerPanicked;

impl fmt::Display for HandlerPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the recall handler panicked")
    }
}

impl std::error::Error for HandlerPanicked {}

/// The refusal that answers a handler's failure: 500 either way, with a reason that tells a
/// panic from an error but carries neither the error nor the panic's message.
pub(crate) fn handler_rejection(error: &BoxError) -> Rejection {
    if error.is::<HandlerPanicked>() {
        Rejection::HANDLER_PANICKED
    } else {
        Rejection::HANDLER_FAILED
    }
}

/// An async closure as a recall handler, made by
/// [`RecallLayer::acknowledge_fn`](crate::RecallLayer::acknowledge_fn).
#[derive(Clone)]
pub struct HandlerFn<F> {
    f: F,
}

impl<F> HandlerFn<F> {
    pub(crate) fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F> fmt::Debug for HandlerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFn").finish_non_exhaustive()
    }
}

impl<F, Fut> Service<RecallEvent> for HandlerFn<F>
where
    F: FnMut(RecallEvent) -> Fut,
    Fut: Future<Output = ()>,
{
    type Response = ();
    type Error = Infallible;
    type Future = HandlerFnFuture<Fut>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: RecallEvent) -> Self::Future {
        HandlerFnFuture {
            inner: (self.f)(event),
        }
    }
}

pin_project! {
    /// The future of a [`HandlerFn`]: the closure's future, which cannot fail.
    #[doc(hidden)]
    pub struct HandlerFnFuture<Fut> {
        #[pin]
        inner: Fut,
    }
}

impl<Fut> fmt::Debug for HandlerFnFuture<Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFnFuture").finish_non_exhaustive()
    }
}

impl<Fut: Future<Output = ()>> Future for HandlerFnFuture<Fut> {
    type Output = Result<(), Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_told_from_an_error_and_keeps_nothing_of_its_message() {
        for message in ["pool exhausted", "seq 7 failed"] {
            let handler = tower::service_fn(
                move |_: RecallEvent| -> std::future::Ready<Result<(), Infallible>> {
                    panic!("{message}")
                },
            );
            let event = RecallEvent::new(1, "@TGS#1", []);
            let future = HandlerFuture {
                inner: handler.oneshot(event),
            };
            let error = future.await.expect_err("a panicking handler is an error");
            assert_eq!(handler_rejection(&error), Rejection::HANDLER_PANICKED);
            assert_eq!(error.to_string(), "the recall handler panicked");
            assert!(error.is::<HandlerPanicked>());
        }
        assert_eq!(std::mem::size_of::<HandlerPanicked>(), 0);

        let error: BoxError = "the queue is full".into();
        assert_eq!(handler_rejection(&error), Rejection::HANDLER_FAILED);
    }

    #[test]
    fn handler_futures_debug_shows_no_event() {
        let event = RecallEvent::new(1, "@TGS#secret-group", []);
        let mut closure = HandlerFn::new(|_: RecallEvent| std::future::ready(()));
        let future = closure.call(event.clone());
        assert_eq!(format!("{future:?}"), "HandlerFnFuture { .. }");
        let future = HandlerFuture {
            inner: closure.oneshot(event),
        };
        assert_eq!(format!("{future:?}"), "HandlerFuture { .. }");
    }
}
