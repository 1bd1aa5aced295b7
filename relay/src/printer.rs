//! The JSON line per stored entry on standard output, written by a thread of its own.
//!
//! A line is printed once its entry is durable, so standard output is a view of the store, not
//! the store: a reader that stops reading must not stop the answers. Lines wait in a bounded
//! queue for the writing thread (at most [`QUEUE`] lines and [`QUEUED_BYTES`] bytes); when the
//! queue is full, a line is left out, counted
//! (`tim_recall_stdout_dropped_total`) and logged at `WARN` once per stall. The entry itself
//! is in the journal or the stream either way (`dump` reads the journal).

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tower_tim_recall_handoff::{Entry, Outcome, Store};

use crate::metrics::Metrics;

/// Lines waiting for standard output at most: about 4 MB of typical lines.
const QUEUE: usize = 4096;

/// Bytes waiting for standard output at most: lines of large bodies count by their size.
const QUEUED_BYTES: usize = 16 * 1024 * 1024;

/// The sending side; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    lines: SyncSender<Vec<u8>>,
    /// The bytes of the lines queued and not yet written.
    queued: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
    /// Whether the queue was full at the last line: one warning per stall.
    stalled: Arc<AtomicBool>,
}

/// The writing thread; [`finish`](Self::finish) waits until it has written every queued line.
#[derive(Debug)]
pub(crate) struct PrinterThread(JoinHandle<()>);

impl Printer {
    pub(crate) fn start(metrics: Arc<Metrics>) -> std::io::Result<(Self, PrinterThread)> {
        let (lines, receiver) = mpsc::sync_channel(QUEUE);
        let queued = Arc::new(AtomicUsize::new(0));
        let written = Arc::clone(&queued);
        let thread = std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || write_lines(&receiver, &written))?;
        let printer = Self {
            lines,
            queued,
            metrics,
            stalled: Arc::new(AtomicBool::new(false)),
        };
        Ok((printer, PrinterThread(thread)))
    }

    /// Queues the line of each entry that was stored (new or in conflict; a duplicate was
    /// stored before and printed then).
    pub(crate) fn print(&self, entries: &[Entry], outcomes: &[Outcome], store: Store) {
        for (entry, outcome) in entries.iter().zip(outcomes) {
            if *outcome == Outcome::Duplicate {
                continue;
            }
            let line = line(entry, *outcome == Outcome::Conflict, store);
            let size = line.len();
            let room = self.queued.fetch_add(size, Ordering::Relaxed) + size <= QUEUED_BYTES;
            let sent = if room {
                self.lines.try_send(line)
            } else {
                Err(TrySendError::Full(line))
            };
            match sent {
                Ok(()) => self.stalled.store(false, Ordering::Relaxed),
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    self.queued.fetch_sub(size, Ordering::Relaxed);
                    self.metrics.stdout_dropped.inc();
                    if !self.stalled.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "standard output does not keep up: entry lines are left out \
                             (the entries are stored; `dump` reads the journal)"
                        );
                    }
                }
            }
        }
    }
}

impl PrinterThread {
    /// Waits for the queued lines to be written, for at most `limit`: a reader that stopped
    /// reading does not keep the process from exiting (the lines left are of entries that are
    /// stored). Every [`Printer`] must be dropped first. Whether every line was written.
    pub(crate) fn finish(self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while !self.0.is_finished() {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.join();
        true
    }
}

/// One entry as a JSON line: `key` and `event` as JSON values, `body` as the string Tencent
/// sent, `received` in Unix milliseconds, `conflict`, and `store` (`journal`, `stream` or
/// `spilled`: in the journal until the forwarder moves it to the stream).
pub(crate) fn line(entry: &Entry, conflict: bool, store: Store) -> Vec<u8> {
    let store = match store {
        Store::Journal => "journal",
        Store::Stream => "stream",
        Store::Spilled => "spilled",
    };
    let mut line = Vec::with_capacity(entry.event.len() + entry.body.len() + 192);
    // `key` and `event` are JSON that `serde_json` wrote: they go in as they are.
    line.extend_from_slice(b"{\"key\":");
    line.extend_from_slice(entry.key.as_bytes());
    line.extend_from_slice(b",\"event\":");
    line.extend_from_slice(entry.event.as_bytes());
    line.extend_from_slice(b",\"body\":");
    // A string cannot fail to serialize into a Vec.
    let _ = serde_json::to_writer(&mut line, &entry.body);
    line.extend_from_slice(
        format!(
            ",\"received\":{},\"conflict\":{conflict},\"store\":\"{store}\"}}\n",
            entry.received
        )
        .as_bytes(),
    );
    line
}

fn write_lines(lines: &Receiver<Vec<u8>>, queued: &AtomicUsize) {
    let stdout = std::io::stdout();
    let mut failed = false;
    while let Ok(line) = lines.recv() {
        let mut out = stdout.lock();
        let mut written = out.write_all(&line);
        queued.fetch_sub(line.len(), Ordering::Relaxed);
        // Whatever else is queued goes in the same write, then one flush.
        while written.is_ok() {
            match lines.try_recv() {
                Ok(line) => {
                    written = out.write_all(&line);
                    queued.fetch_sub(line.len(), Ordering::Relaxed);
                }
                Err(_) => break,
            }
        }
        let written = written.and_then(|()| out.flush());
        if let Err(error) = written {
            if !failed {
                tracing::error!(%error, "cannot write entry lines to standard output");
                failed = true;
            }
        }
    }
}
