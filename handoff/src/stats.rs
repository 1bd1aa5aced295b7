//! [`Stats`]: what a handoff has done so far, for metrics and readiness.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use crate::outcome::Outcome;

/// What a handoff has done since it was opened, and whether its stores answer: a snapshot,
/// for metrics and readiness probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Entries stored as new (a spilled entry as the journal decided; the stream's claims
    /// decide again when it is forwarded).
    pub new: u64,
    /// Entries not stored again: retries of a stored message.
    pub duplicate: u64,
    /// Entries stored beside another with the same key and other content.
    pub conflict: u64,
    /// Recalls answered `recall store unavailable`.
    pub unavailable: u64,
    /// Entries written to the local journal because Redis did not answer.
    pub spilled: u64,
    /// Spilled entries moved to the stream since the handoff was opened.
    pub forwarded: u64,
    /// Entries in the journal not yet forwarded to the stream, as the forwarder last counted
    /// them (0 without Redis).
    pub backlog: u64,
    /// Transactions the journal has committed: fewer than the recalls stored when they
    /// arrived together (group commit).
    pub commits: u64,
    /// Whether the journal's last write succeeded.
    pub journal_up: bool,
    /// Whether Redis answered the last request; `None` without Redis.
    pub stream_up: Option<bool>,
}

/// The counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) new: AtomicU64,
    pub(crate) duplicate: AtomicU64,
    pub(crate) conflict: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) spilled: AtomicU64,
    pub(crate) forwarded: AtomicU64,
    pub(crate) backlog: AtomicU64,
    journal_down: AtomicBool,
    /// 0: no Redis, 1: up, 2: down.
    stream: AtomicU8,
}

impl Counters {
    pub(crate) fn with_stream(stream: bool) -> Self {
        let counters = Self::default();
        counters.stream.store(u8::from(stream), Ordering::Relaxed);
        counters
    }

    pub(crate) fn count(&self, outcomes: &[Outcome]) {
        for outcome in outcomes {
            let counter = match outcome {
                Outcome::New => &self.new,
                Outcome::Duplicate => &self.duplicate,
                Outcome::Conflict => &self.conflict,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn journal(&self, up: bool) {
        self.journal_down.store(!up, Ordering::Relaxed);
    }

    /// Records whether Redis answered; `true` when that changed.
    pub(crate) fn stream(&self, up: bool) -> bool {
        self.stream.swap(if up { 1 } else { 2 }, Ordering::Relaxed) != if up { 1 } else { 2 }
    }

    pub(crate) fn snapshot(&self, commits: u64) -> Stats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            new: load(&self.new),
            duplicate: load(&self.duplicate),
            conflict: load(&self.conflict),
            unavailable: load(&self.unavailable),
            spilled: load(&self.spilled),
            forwarded: load(&self.forwarded),
            backlog: load(&self.backlog),
            commits,
            journal_up: !self.journal_down.load(Ordering::Relaxed),
            stream_up: match self.stream.load(Ordering::Relaxed) {
                0 => None,
                1 => Some(true),
                _ => Some(false),
            },
        }
    }
}
