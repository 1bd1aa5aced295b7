//! An acknowledge-mode handler at work on one event, and the layer's own answer when it fails:
//! the layer's policy, not Tencent's protocol.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower_service::Service;

use crate::accepted::AcceptedRecall;
use crate::handler_error::HandlerError;
use crate::protocol::ack::Ack;

/// The error a recall handler may return.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// A handler's work on one event: readiness, then the call. A panic in the handler's
    /// `poll_ready`, `call` or future is caught here and becomes a [`HandlerPanicked`] error, so
    /// that the layer answers it and the connection lives on.
    #[doc(hidden)]
    pub struct HandlerFuture<H: Service<AcceptedRecall>> {
        #[pin]
        inner: Oneshot<H, AcceptedRecall>,
    }
}

impl<H: Service<AcceptedRecall>> HandlerFuture<H> {
    pub(crate) fn new(inner: Oneshot<H, AcceptedRecall>) -> Self {
        Self { inner }
    }
}

impl<H: Service<AcceptedRecall>> fmt::Debug for HandlerFuture<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFuture").finish_non_exhaustive()
    }
}

impl<H> Future for HandlerFuture<H>
where
    H: Service<AcceptedRecall>,
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
struct HandlerPanicked;

impl fmt::Display for HandlerPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the recall handler panicked")
    }
}

impl std::error::Error for HandlerPanicked {}

/// Why the layer answers 500 for an accepted callback: the handler failed. The reason tells a
/// panic from an error, and carries neither the error nor the panic's message: only the reason
/// a [`HandlerError`] on the error's source chain names, which the source code wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandlerFailure {
    /// The handler returned an error.
    Failed,
    /// The handler returned an error that names its reason.
    Named(&'static str),
    /// The handler panicked.
    Panicked,
}

impl HandlerFailure {
    pub(crate) fn of(error: &BoxError) -> Self {
        if error.is::<HandlerPanicked>() {
            HandlerFailure::Panicked
        } else if let Some(named) = HandlerError::find(error.as_ref()) {
            HandlerFailure::Named(named.reason())
        } else {
            HandlerFailure::Failed
        }
    }

    /// The reason in the answer's `ErrorInfo`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            HandlerFailure::Failed => "the recall handler failed",
            HandlerFailure::Named(reason) => reason,
            HandlerFailure::Panicked => "the recall handler panicked",
        }
    }

    /// The answer: 500, and a `FAIL` acknowledgement with 500 as `ErrorCode`.
    pub(crate) fn into_answer(self) -> (StatusCode, Bytes) {
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        let ack = Ack::fail_with_code(i64::from(status.as_u16()), self.reason());
        (status, ack.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::ServiceExt;

    use super::*;
    use crate::protocol::group::GroupRecall;

    fn accepted(group: &str) -> AcceptedRecall {
        AcceptedRecall::new(GroupRecall::new(1, group, []).into(), Bytes::new())
    }

    #[tokio::test]
    async fn a_panic_is_told_from_an_error_and_keeps_nothing_of_its_message() {
        for message in ["pool exhausted", "seq 7 failed"] {
            let handler = tower::service_fn(
                move |_: AcceptedRecall| -> std::future::Ready<Result<(), Infallible>> {
                    panic!("{message}")
                },
            );
            let future = HandlerFuture::new(handler.oneshot(accepted("@TGS#1")));
            let error = future.await.expect_err("a panicking handler is an error");
            assert_eq!(HandlerFailure::of(&error), HandlerFailure::Panicked);
            assert_eq!(error.to_string(), "the recall handler panicked");
        }
        assert_eq!(std::mem::size_of::<HandlerPanicked>(), 0);

        let error: BoxError = "the queue is full".into();
        assert_eq!(HandlerFailure::of(&error), HandlerFailure::Failed);
        let error: BoxError = Box::new(HandlerError::new("recall store unavailable"));
        assert_eq!(
            HandlerFailure::of(&error),
            HandlerFailure::Named("recall store unavailable")
        );
    }

    #[test]
    fn the_answers_are_fail_acknowledgements_with_500() {
        let (status, json) = HandlerFailure::Failed.into_answer();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            json,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"the recall handler failed","ErrorCode":500}"#
        );
        let (_, json) = HandlerFailure::Panicked.into_answer();
        assert_eq!(
            json,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"the recall handler panicked","ErrorCode":500}"#
        );
        let (status, json) = HandlerFailure::Named("recall store unavailable").into_answer();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            json,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"recall store unavailable","ErrorCode":500}"#
        );
    }

    #[test]
    fn the_future_debug_shows_no_event() {
        let handler =
            tower::service_fn(|_: AcceptedRecall| std::future::ready(Ok::<_, Infallible>(())));
        let future = HandlerFuture::new(handler.oneshot(accepted("@TGS#secret")));
        assert_eq!(format!("{future:?}"), "HandlerFuture { .. }");
    }
}
