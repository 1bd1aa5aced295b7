//! A future driven to its end on this thread, without a runtime.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls a future that needs no I/O to completion on this thread, with a waker that does
/// nothing and allocates nothing: for benchmarks, allocation counts and fuzz targets, where a
/// runtime would add work of its own.
///
/// A future that waits for I/O or a timer never finishes here: it is polled again and again.
// `Waker::noop` is from Rust 1.85, newer than the crate's `rust-version`; only its tests,
// benchmarks and fuzz targets use this.
#[allow(clippy::incompatible_msrv)]
pub fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Polls a future once, on this thread: its output, or `None` when it is waiting. A future
/// that waits on a body which never ends is still waiting after any number of polls.
#[allow(clippy::incompatible_msrv)]
pub fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
