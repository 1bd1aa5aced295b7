//! The layer's handler: each accepted recall handed to the handoff, timed, counted, and its
//! stored entries printed once durable.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tower::Service;
use tower_tim_recall::AcceptedRecall;
use tower_tim_recall_handoff::{Entry, Handed, Handoff, Unavailable};

use crate::metrics::Metrics;
use crate::printer::Printer;

/// Hands each accepted recall to the handoff; the layer answers `OK` when it resolves, and
/// `500 recall store unavailable` when it fails (the handoff counts and logs that).
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    pub(crate) handoff: Handoff,
    pub(crate) metrics: Arc<Metrics>,
    /// `None` with `--quiet`.
    pub(crate) printer: Option<Printer>,
}

impl Service<AcceptedRecall> for Recorder {
    type Response = Handed;
    type Error = Unavailable;
    type Future = Pin<Box<dyn Future<Output = Result<Handed, Unavailable>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Unavailable>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, recall: AcceptedRecall) -> Self::Future {
        let entries = Entry::of(&recall, now_millis());
        // The entries are kept for their lines only when they are printed.
        let printed = self
            .printer
            .clone()
            .map(|printer| (printer, entries.clone()));
        let handing = self.handoff.hand(entries);
        let metrics = Arc::clone(&self.metrics);
        let started = Instant::now();
        Box::pin(async move {
            let handed = handing.await?;
            metrics.observe_durable(started.elapsed());
            metrics.accepted.inc();
            if let Some((printer, entries)) = printed {
                printer.print(&entries, &handed.outcomes, handed.store);
            }
            Ok(handed)
        })
    }
}

/// Now, in Unix milliseconds: when the recall was received.
fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
