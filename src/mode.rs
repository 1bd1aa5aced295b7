//! What the layer does with an accepted callback: forward it, or acknowledge it itself.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;

use tower::ServiceExt;
use tower_service::Service;

use crate::accepted::AcceptedRecall;
use crate::handler::{BoxError, HandlerFuture};

/// Forward mode, the default: an accepted callback goes on to the inner service with its
/// [`RecallEvent`](crate::RecallEvent) in the request extensions and its body bytes still
/// readable; the inner service answers (see [`Ack`](crate::Ack)).
#[derive(Debug, Clone, Copy, Default)]
pub struct Forward;

/// Acknowledge mode: an accepted callback goes to a handler as an [`AcceptedRecall`], and the
/// layer answers Tencent's `OK` acknowledgement itself without calling the inner service.
///
/// Chosen with [`RecallLayer::acknowledge`](crate::RecallLayer::acknowledge).
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
    H: Service<AcceptedRecall> + Clone,
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

        /// Starts the handler's work on `recall`.
        fn handle(handler: Self::Handler, recall: AcceptedRecall) -> Self::Future;
    }
}

impl sealed::Dispatch for Forward {
    type Handler = Infallible;
    type Future = std::future::Pending<Result<(), BoxError>>;

    fn handler(&self) -> Option<Infallible> {
        None
    }

    fn handle(handler: Infallible, _recall: AcceptedRecall) -> Self::Future {
        match handler {}
    }
}

impl<H> sealed::Dispatch for Acknowledge<H>
where
    H: Service<AcceptedRecall> + Clone,
    H::Error: Into<BoxError>,
{
    type Handler = H;
    type Future = HandlerFuture<H>;

    fn handler(&self) -> Option<H> {
        Some(self.handler.clone())
    }

    fn handle(handler: H, recall: AcceptedRecall) -> HandlerFuture<H> {
        HandlerFuture::new(handler.oneshot(recall))
    }
}
