//! The request and response bodies of a layered service.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The request body the inner service receives.
    ///
    /// For a request that is not a recall callback it is the original body, streamed through
    /// untouched. For a forwarded recall callback it is the body bytes the layer has read, handed
    /// on without another copy.
    pub struct RequestBody<B> {
        #[pin]
        kind: RequestKind<B>,
    }
}

pin_project! {
    #[project = RequestKindProj]
    enum RequestKind<B> {
        Streaming { #[pin] body: B },
        Buffered { bytes: Option<Bytes> },
    }
}

impl<B> RequestBody<B> {
    /// Wraps a body as the layer does for a request that is not a recall callback, so that an
    /// inner service can be tested on its own with the body type it receives behind the layer.
    pub fn new(body: B) -> Self {
        Self::streaming(body)
    }

    pub(crate) fn streaming(body: B) -> Self {
        Self {
            kind: RequestKind::Streaming { body },
        }
    }

    /// The original body, for a request the layer passed through; `None` for a forwarded
    /// callback, whose body the layer has read (its bytes are still readable from this body).
    pub fn into_streaming(self) -> Option<B> {
        match self.kind {
            RequestKind::Streaming { body } => Some(body),
            RequestKind::Buffered { .. } => None,
        }
    }

    pub(crate) fn buffered(bytes: Bytes) -> Self {
        let bytes = (!bytes.is_empty()).then_some(bytes);
        Self {
            kind: RequestKind::Buffered { bytes },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            RequestKindProj::Streaming { body } => body.poll_frame(cx),
            RequestKindProj::Buffered { bytes } => {
                Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            RequestKind::Streaming { body } => body.is_end_stream(),
            RequestKind::Buffered { bytes } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            RequestKind::Streaming { body } => body.size_hint(),
            RequestKind::Buffered { bytes } => exact(bytes),
        }
    }
}

impl<B> fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RequestKind::Streaming { .. } => f.write_str("RequestBody::Streaming"),
            RequestKind::Buffered { bytes } => f
                .debug_struct("RequestBody::Buffered")
                .field("len", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
        }
    }
}

pin_project! {
    /// The response body of a layered service: the inner service's body, or the layer's own
    /// JSON acknowledgement.
    pub struct ResponseBody<B> {
        #[pin]
        kind: ResponseKind<B>,
    }
}

pin_project! {
    #[project = ResponseKindProj]
    enum ResponseKind<B> {
        Inner { #[pin] body: B },
        Ack { json: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: ResponseKind::Inner { body },
        }
    }

    /// The layer's own answer.
    pub(crate) fn ack(json: Bytes) -> Self {
        Self {
            kind: ResponseKind::Ack { json: Some(json) },
        }
    }
}

impl<B: Default> Default for ResponseBody<B> {
    fn default() -> Self {
        Self::inner(B::default())
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            ResponseKindProj::Inner { body } => body.poll_frame(cx),
            ResponseKindProj::Ack { json } => Poll::Ready(json.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            ResponseKind::Inner { body } => body.is_end_stream(),
            ResponseKind::Ack { json } => json.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            ResponseKind::Inner { body } => body.size_hint(),
            ResponseKind::Ack { json } => exact(json),
        }
    }
}

impl<B> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ResponseKind::Inner { .. } => f.write_str("ResponseBody::Inner"),
            ResponseKind::Ack { json } => f
                .debug_struct("ResponseBody::Ack")
                .field("json", json)
                .finish(),
        }
    }
}

fn exact(bytes: &Option<Bytes>) -> SizeHint {
    SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn a_passed_through_body_can_be_taken_back() {
        let body = RequestBody::new(http_body_util::Full::new(Bytes::from_static(b"x")));
        assert!(body.into_streaming().is_some());
        let body = RequestBody::<http_body_util::Empty<Bytes>>::buffered(Bytes::from_static(b"x"));
        assert!(body.into_streaming().is_none());
    }

    #[tokio::test]
    async fn buffered_request_body_yields_its_bytes_once() {
        let body = RequestBody::<http_body_util::Empty<Bytes>>::buffered(Bytes::from_static(b"x"));
        assert_eq!(body.size_hint().exact(), Some(1));
        assert!(!body.is_end_stream());
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(collected, "x");
        let empty = RequestBody::<http_body_util::Empty<Bytes>>::buffered(Bytes::new());
        assert!(empty.is_end_stream());
    }

    #[tokio::test]
    async fn ack_response_body_yields_its_json_once() {
        let body = ResponseBody::<http_body_util::Empty<Bytes>>::ack(Bytes::from_static(b"{}"));
        assert_eq!(body.size_hint().exact(), Some(2));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "{}");
    }
}
