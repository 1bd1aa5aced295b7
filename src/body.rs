//! The request and response bodies of a layered service, and the bounded collection of a
//! callback body.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
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

impl<B> From<Bytes> for ResponseBody<B> {
    fn from(json: Bytes) -> Self {
        Self::ack(json)
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

/// A callback body read so far, never longer than its limit.
///
/// A body that arrives in one chunk (the usual case for a small JSON document) is kept as that
/// chunk, without a copy.
#[derive(Debug)]
pub(crate) struct Collected {
    limit: usize,
    /// How long the whole body is likely to be, to size the buffer once when chunks are joined.
    expected: u64,
    state: Chunks,
}

#[derive(Debug)]
enum Chunks {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

/// The body went past the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OverLimit;

/// How much of a declared length the layer reserves before the bytes arrive, at least.
const DECLARED_LENGTH_TRUSTED: usize = 4 * 1024;

impl Collected {
    pub(crate) fn new(limit: usize, expected: u64) -> Self {
        Self {
            limit,
            expected,
            state: Chunks::Empty,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.state {
            Chunks::Empty => 0,
            Chunks::One(bytes) => bytes.len(),
            Chunks::Many(bytes) => bytes.len(),
        }
    }

    /// Adds a chunk, or refuses it when the body would pass the limit.
    pub(crate) fn push(&mut self, chunk: Bytes) -> Result<(), OverLimit> {
        let total = self.len().checked_add(chunk.len()).ok_or(OverLimit)?;
        if total > self.limit {
            return Err(OverLimit);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.state = match std::mem::replace(&mut self.state, Chunks::Empty) {
            Chunks::Empty => Chunks::One(chunk),
            Chunks::One(first) => {
                // Room for the declared length, so the body is joined in one allocation, but
                // trusted only so far ahead of what has arrived: a sender that declares the
                // limit, sends two bytes and stalls makes the layer hold a few KiB, not the limit.
                let trusted = total.saturating_mul(4).max(DECLARED_LENGTH_TRUSTED);
                let capacity = usize::try_from(self.expected)
                    .unwrap_or(usize::MAX)
                    .min(trusted)
                    .clamp(total, self.limit);
                let mut joined = BytesMut::with_capacity(capacity);
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                Chunks::Many(joined)
            }
            Chunks::Many(mut joined) => {
                joined.extend_from_slice(&chunk);
                Chunks::Many(joined)
            }
        };
        Ok(())
    }

    /// The whole body.
    pub(crate) fn into_bytes(self) -> Bytes {
        match self.state {
            Chunks::Empty => Bytes::new(),
            Chunks::One(bytes) => bytes,
            Chunks::Many(bytes) => bytes.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn one_chunk_is_kept_without_a_copy() {
        let chunk = Bytes::from_static(b"{\"GroupId\":\"g\"}");
        let mut collected = Collected::new(64, 0);
        collected.push(chunk.clone()).unwrap();
        let bytes = collected.into_bytes();
        assert_eq!(bytes.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn chunks_are_joined_up_to_exactly_the_limit() {
        let mut collected = Collected::new(6, 0);
        collected.push(Bytes::from_static(b"ab")).unwrap();
        collected.push(Bytes::new()).unwrap();
        collected.push(Bytes::from_static(b"cd")).unwrap();
        collected.push(Bytes::from_static(b"ef")).unwrap();
        assert_eq!(collected.push(Bytes::from_static(b"g")), Err(OverLimit));
        assert_eq!(collected.into_bytes(), "abcdef");
    }

    fn capacity(collected: &Collected) -> usize {
        match &collected.state {
            Chunks::Many(joined) => joined.capacity(),
            Chunks::Empty | Chunks::One(_) => 0,
        }
    }

    #[test]
    fn a_declared_length_is_reserved_only_a_little_ahead_of_the_bytes() {
        // Two bytes of a declared 64 KiB, then a stall: a few KiB held, not the limit.
        let mut collected = Collected::new(64 * 1024, 64 * 1024);
        collected.push(Bytes::from_static(b"{")).unwrap();
        collected.push(Bytes::from_static(b" ")).unwrap();
        assert!(capacity(&collected) <= 4 * 1024, "{}", capacity(&collected));

        // A body that arrives in large pieces is still joined in one allocation.
        let half = Bytes::from(vec![b' '; 30_000]);
        let mut collected = Collected::new(64 * 1024, 60_000);
        collected.push(half.clone()).unwrap();
        collected.push(half).unwrap();
        assert_eq!(capacity(&collected), 60_000);

        // A declared length below what arrived, or none, is no obstacle.
        let mut collected = Collected::new(64, 1);
        collected.push(Bytes::from_static(b"abc")).unwrap();
        collected.push(Bytes::from_static(b"def")).unwrap();
        assert_eq!(collected.into_bytes(), "abcdef");
    }

    #[test]
    fn a_first_chunk_over_the_limit_is_refused() {
        let mut collected = Collected::new(2, 3);
        assert_eq!(collected.push(Bytes::from_static(b"abc")), Err(OverLimit));
        assert_eq!(collected.len(), 0);
    }

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
