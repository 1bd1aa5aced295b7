//! Request bodies for the tests: one that arrives in scripted frames (then ends, fails or
//! stalls), and one that must never be read.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A scripted body: `count` frames of one repeated chunk, then the queued frames, then an end,
/// an error or a stall. Every frame is ready at once. By default there is no size hint, as
/// from a chunked upload; [`declared`](Self::declared) gives the exact length, as
/// `Content-Length` does. It counts its polls and says when it is dropped.
pub struct Script {
    chunk: Bytes,
    count: usize,
    queued: VecDeque<Bytes>,
    end: End,
    hint: SizeHint,
    /// How often the body was polled for a frame.
    pub polls: Arc<AtomicUsize>,
    /// Whether the body was dropped.
    pub dropped: Arc<AtomicBool>,
}

/// How a [`Script`] ends once its frames are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The body ends.
    Finish,
    /// The body fails once, as a connection reset does, then ends.
    Fail,
    /// The body never delivers anything more: a sender that stalls.
    Stall,
}

impl Script {
    /// `count` frames of `chunk`, then `end`.
    pub fn repeat(chunk: &'static [u8], count: usize, end: End) -> Self {
        Self {
            chunk: Bytes::from_static(chunk),
            count,
            queued: VecDeque::new(),
            end,
            hint: SizeHint::default(),
            polls: Arc::default(),
            dropped: Arc::default(),
        }
    }

    /// A body that never delivers anything: a sender that stalls before the first byte.
    pub fn stall() -> Self {
        Self::repeat(b"", 0, End::Stall)
    }

    /// These frames, then `end`.
    pub fn frames<I>(frames: I, end: End) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
    {
        let mut script = Self::repeat(b"", 0, end);
        script.queued = frames.into_iter().map(Into::into).collect();
        script
    }

    /// `body` cut into frames at `cuts` (in any order, clamped to its length), then `end`.
    pub fn cut(body: &[u8], cuts: &[usize], end: End) -> Self {
        let mut cuts: Vec<usize> = cuts.iter().map(|&cut| cut.min(body.len())).collect();
        cuts.sort_unstable();
        let mut start = 0;
        let mut frames = Vec::new();
        for cut in cuts.into_iter().chain([body.len()]) {
            frames.push(Bytes::copy_from_slice(&body[start..cut]));
            start = cut;
        }
        Self::frames(frames, end)
    }

    /// `bytes` in `pieces` frames of about the same size.
    pub fn pieces(bytes: Bytes, pieces: usize) -> Self {
        let size = bytes.len().div_ceil(pieces.max(1)).max(1);
        let frames = (0..bytes.len())
            .step_by(size)
            .map(|start| bytes.slice(start..(start + size).min(bytes.len())));
        Self::frames(frames, End::Finish)
    }

    /// One more frame with `tail`, after the frames before it.
    pub fn then(mut self, tail: &'static str) -> Self {
        self.queued.push_back(Bytes::from_static(tail.as_bytes()));
        self
    }

    /// Declares the body's exact length, as a `Content-Length` header does.
    pub fn declared(mut self) -> Self {
        let queued: usize = self.queued.iter().map(Bytes::len).sum();
        let total = self.chunk.len() * self.count + queued;
        self.hint = SizeHint::with_exact(total as u64);
        self
    }

    /// Gives the body this size hint, whatever it holds.
    pub fn hinted(mut self, hint: SizeHint) -> Self {
        self.hint = hint;
        self
    }
}

/// One frame with these bytes, its length declared: a body as a client sends it with
/// `Content-Length`.
impl From<Bytes> for Script {
    fn from(bytes: Bytes) -> Self {
        let frames = (!bytes.is_empty()).then_some(bytes);
        Self::frames(frames, End::Finish).declared()
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

impl Body for Script {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.count > 0 {
            self.count -= 1;
            return Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))));
        }
        if let Some(frame) = self.queued.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
        match self.end {
            End::Finish => Poll::Ready(None),
            End::Fail => {
                // Once: a body that failed has ended.
                self.end = End::Finish;
                Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
            }
            End::Stall => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.count == 0 && self.queued.is_empty() && self.end == End::Finish
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}

/// A body that must not be read: polling it fails the test. It may know its length, as
/// hyper's body does from `Content-Length`.
pub struct Unread(pub Option<u64>);

/// An unread body of unknown length.
pub const UNREAD: Unread = Unread(None);

impl Body for Unread {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        panic!("the layer read a body it should not have read")
    }

    fn size_hint(&self) -> SizeHint {
        self.0.map(SizeHint::with_exact).unwrap_or_default()
    }
}
