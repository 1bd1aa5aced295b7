//! The request and response bodies of a layered service: each is either a body passed on as
//! it is, or bytes the layer holds, handed out once.

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
        inner: BodyOrBytes<B>,
    }
}

pin_project! {
    /// The response body of a layered service: the inner service's body, or the layer's own
    /// JSON acknowledgement.
    pub struct ResponseBody<B> {
        #[pin]
        inner: BodyOrBytes<B>,
    }
}

pin_project! {
    /// A body passed on as it is, or bytes handed out once (none when they are empty).
    #[project = BodyOrBytesProj]
    enum BodyOrBytes<B> {
        Body { #[pin] body: B },
        Bytes { bytes: Option<Bytes> },
    }
}

impl<B> BodyOrBytes<B> {
    fn bytes(bytes: Bytes) -> Self {
        BodyOrBytes::Bytes {
            bytes: (!bytes.is_empty()).then_some(bytes),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for BodyOrBytes<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            BodyOrBytesProj::Body { body } => body.poll_frame(cx),
            BodyOrBytesProj::Bytes { bytes } => {
                Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            BodyOrBytes::Body { body } => body.is_end_stream(),
            BodyOrBytes::Bytes { bytes } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            BodyOrBytes::Body { body } => body.size_hint(),
            BodyOrBytes::Bytes { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

/// `Body` for a public body type, by its `inner` [`BodyOrBytes`].
macro_rules! body_by_inner {
    ($name:ident) => {
        impl<B: Body<Data = Bytes>> Body for $name<B> {
            type Data = Bytes;
            type Error = B::Error;

            fn poll_frame(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
                self.project().inner.poll_frame(cx)
            }

            fn is_end_stream(&self) -> bool {
                self.inner.is_end_stream()
            }

            fn size_hint(&self) -> SizeHint {
                self.inner.size_hint()
            }
        }
    };
}

body_by_inner!(RequestBody);
body_by_inner!(ResponseBody);

impl<B> RequestBody<B> {
    /// Wraps a body as the layer does for a request that is not a recall callback, so that an
    /// inner service can be tested on its own with the body type it receives behind the layer.
    pub fn new(body: B) -> Self {
        Self::streaming(body)
    }

    pub(crate) fn streaming(body: B) -> Self {
        Self {
            inner: BodyOrBytes::Body { body },
        }
    }

    pub(crate) fn buffered(bytes: Bytes) -> Self {
        Self {
            inner: BodyOrBytes::bytes(bytes),
        }
    }

    /// The original body, for a request the layer passed through; `None` for a forwarded
    /// callback, whose body the layer has read (its bytes are still readable from this body).
    pub fn into_streaming(self) -> Option<B> {
        match self.inner {
            BodyOrBytes::Body { body } => Some(body),
            BodyOrBytes::Bytes { .. } => None,
        }
    }
}

impl<B> fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            BodyOrBytes::Body { .. } => f.write_str("RequestBody::Streaming"),
            BodyOrBytes::Bytes { bytes } => f
                .debug_struct("RequestBody::Buffered")
                .field("len", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
        }
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            inner: BodyOrBytes::Body { body },
        }
    }

    /// The layer's own answer.
    pub(crate) fn ack(json: Bytes) -> Self {
        Self {
            inner: BodyOrBytes::bytes(json),
        }
    }
}

impl<B: Default> Default for ResponseBody<B> {
    fn default() -> Self {
        Self::inner(B::default())
    }
}

impl<B> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            BodyOrBytes::Body { .. } => f.write_str("ResponseBody::Inner"),
            BodyOrBytes::Bytes { bytes } => f
                .debug_struct("ResponseBody::Ack")
                .field("json", bytes)
                .finish(),
        }
    }
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
