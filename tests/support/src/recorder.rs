//! An inner service that records what reached it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::Service;
use tower_tim_recall::{RecallEvent, VerifiedCallback};

/// The body the [`Recorder`] answers with, so that a test tells its answers from the layer's.
pub const INNER: &str = "inner";

/// An inner service that reads each request's body whole (or until it fails), records what it
/// saw, and answers 200 with the body [`INNER`]. Clones share the record; [`copies`](Self::copies) counts the
/// clones alive, so that a test sees one a response future kept.
#[derive(Clone, Default)]
pub struct Recorder {
    seen: Arc<Mutex<Seen>>,
    alive: Arc<()>,
}

/// What the [`Recorder`] saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// How many requests reached it.
    pub calls: usize,
    /// The last request's event, if it carried one.
    pub event: Option<RecallEvent>,
    /// The last request's verified context, when the guard passed it on.
    pub verified: Option<VerifiedCallback>,
    /// The last request's body, whole.
    pub body: Bytes,
    /// Where the last request body's first frame was in memory: the same address as the bytes
    /// the layer read means they were handed on without a copy.
    pub first_chunk: Option<usize>,
    /// Whether the last request's body failed while it was read (what came before is in
    /// `body`).
    pub body_failed: bool,
}

impl Recorder {
    /// What it saw so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests reached it.
    pub fn calls(&self) -> usize {
        self.seen.lock().unwrap().calls
    }

    /// The last request's event.
    pub fn event(&self) -> Option<RecallEvent> {
        self.seen.lock().unwrap().event.clone()
    }

    /// How many clones of this recorder are alive, this one included.
    pub fn copies(&self) -> usize {
        Arc::strong_count(&self.alive)
    }
}

impl<B> Service<Request<B>> for Recorder
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let event = request.extensions().get::<RecallEvent>().cloned();
            let verified = request.extensions().get::<VerifiedCallback>().cloned();
            let mut body = std::pin::pin!(request.into_body());
            let mut bytes = Vec::new();
            let mut first_chunk = None;
            let mut body_failed = false;
            while let Some(frame) = body.frame().await {
                let Ok(frame) = frame else {
                    body_failed = true;
                    break;
                };
                let data = frame.into_data().unwrap_or_default();
                first_chunk.get_or_insert(data.as_ptr() as usize);
                bytes.extend_from_slice(&data);
            }
            let mut seen = this.seen.lock().unwrap();
            seen.calls += 1;
            seen.event = event;
            seen.verified = verified;
            seen.body = bytes.into();
            seen.first_chunk = first_chunk;
            seen.body_failed = body_failed;
            Ok(Response::new(Full::new(Bytes::from_static(
                INNER.as_bytes(),
            ))))
        })
    }
}
