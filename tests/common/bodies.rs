//! Request bodies for the tests: a scripted one (chunks, then an end, an error or a stall), and
//! one that must never be read.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A scripted body: `count` frames of one repeated chunk, then the frames queued with
/// [`then`](Self::then), then an end, an error or a stall. Every frame is ready at once and
/// there is no size hint, as from a chunked upload. It counts its polls and says when it is
/// dropped.
pub struct Script {
    chunk: Bytes,
    count: usize,
    queued: VecDeque<Bytes>,
    end: End,
    pub polls: Arc<AtomicUsize>,
    pub dropped: Arc<AtomicBool>,
}

/// How a [`Script`] ends once its frames are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Finish,
    Fail,
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
            polls: Arc::default(),
            dropped: Arc::default(),
        }
    }

    /// A body that never delivers anything: a sender that stalls mid-body.
    pub fn stall() -> Self {
        Self::repeat(b"", 0, End::Stall)
    }

    /// `body` cut into frames at `cuts` (in any order, clamped to its length), then `end`.
    pub fn cut(body: &[u8], cuts: &[usize], end: End) -> Self {
        let mut cuts: Vec<usize> = cuts.iter().map(|&cut| cut.min(body.len())).collect();
        cuts.sort_unstable();
        let mut script = Self::repeat(b"", 0, end);
        let mut start = 0;
        for cut in cuts.into_iter().chain([body.len()]) {
            script
                .queued
                .push_back(Bytes::copy_from_slice(&body[start..cut]));
            start = cut;
        }
        script
    }

    /// One more frame with `tail`, after the frames before it.
    pub fn then(mut self, tail: &'static str) -> Self {
        self.queued.push_back(Bytes::from_static(tail.as_bytes()));
        self
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

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// A body that must not be read: polling it fails the test.
pub struct Unread;

impl Body for Unread {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        panic!("the layer read a body it should not have read")
    }
}
