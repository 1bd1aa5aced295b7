//! [`Router`]: what every clone of a handoff shares, and where a recall's entries go: the
//! stream, the journal as its spill, or the journal alone.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::durability::DurabilityWarning;
use crate::entry::Entry;
use crate::error::Unavailable;
use crate::journal::Journal;
use crate::outcome::{Handed, Outcome, Store};
use crate::stats::Counters;
use crate::stream::Stream;

/// The stores, the budgets and the counters, shared by every clone of a handoff and, weakly,
/// by its forwarder.
pub(crate) struct Router {
    pub(crate) journal: Journal,
    pub(crate) stream: Option<Stream>,
    pub(crate) budget: Duration,
    pub(crate) redis_timeout: Duration,
    pub(crate) counters: Counters,
    pub(crate) wake: Arc<Notify>,
    pub(crate) durability: Mutex<Option<Vec<DurabilityWarning>>>,
}

impl Router {
    /// Makes `entries` durable within the budget: in the stream, or spilled to the journal, or
    /// in the journal alone.
    pub(crate) async fn hand(&self, entries: Vec<Entry>) -> Result<Handed, Unavailable> {
        let start = Instant::now();
        let entries = Arc::new(entries);
        let Some(stream) = &self.stream else {
            return self.to_journal(entries, Store::Journal, self.budget).await;
        };
        // While spilled entries wait, new ones queue behind them, so that the stream keeps
        // the order of arrival.
        if self.counters.backlog.load(Ordering::Relaxed) == 0 {
            let sent = stream.append(Arc::clone(&entries));
            match tokio::time::timeout(self.redis_timeout, sent).await {
                Ok(Ok(outcomes)) => {
                    self.stream_answered();
                    let keys = entries.iter().map(|entry| entry.key.as_str());
                    return Ok(self.handed(Store::Stream, keys, outcomes));
                }
                Ok(Err(error)) => self.stream_failed(&error.to_string()),
                Err(_) => self.stream_failed("no answer within the Redis timeout"),
            }
        }
        let left = self.budget.saturating_sub(start.elapsed());
        let handed = self.to_journal(entries, Store::Spilled, left).await?;
        let stored = handed.outcomes.len() - handed.count(Outcome::Duplicate);
        let stored = u64::try_from(stored).unwrap_or(u64::MAX);
        self.counters.spilled.fetch_add(stored, Ordering::Relaxed);
        self.counters.backlog.fetch_add(stored, Ordering::Relaxed);
        self.wake.notify_one();
        Ok(handed)
    }

    async fn to_journal(
        &self,
        entries: Arc<Vec<Entry>>,
        store: Store,
        budget: Duration,
    ) -> Result<Handed, Unavailable> {
        let spilled = store == Store::Spilled;
        let appended = self.journal.append(Arc::clone(&entries), spilled);
        let why = match tokio::time::timeout(budget, appended).await {
            Ok(Ok(outcomes)) => {
                self.counters.journal(true);
                let keys = entries.iter().map(|entry| entry.key.as_str());
                return Ok(self.handed(store, keys, outcomes));
            }
            Ok(Err(error)) => error.0,
            Err(_) => "the journal did not commit within the budget".to_owned(),
        };
        self.counters.journal(false);
        self.counters.unavailable.fetch_add(1, Ordering::Relaxed);
        let keys: Vec<String> = entries.iter().map(|entry| entry.key.clone()).collect();
        tracing::error!(
            messages = keys.len(),
            keys = %logged(&keys),
            cause = %why,
            "recall store unavailable: the recall is answered 500"
        );
        Err(Unavailable::new(keys))
    }

    /// Counts the outcomes and logs each conflict.
    fn handed<'a>(
        &self,
        store: Store,
        keys: impl Iterator<Item = &'a str>,
        outcomes: Vec<Outcome>,
    ) -> Handed {
        self.counters.count(&outcomes);
        for (key, outcome) in keys.zip(&outcomes) {
            if *outcome == Outcome::Conflict {
                conflict_logged(key, store);
            }
        }
        Handed { store, outcomes }
    }

    /// Asks each store whether it takes a write now, and records the answers: the journal
    /// takes its write lock and is below its size limit, Redis answers a `PING`.
    pub(crate) async fn probe(&self) {
        let journal = tokio::time::timeout(self.budget, self.journal.probe()).await;
        self.counters.journal(matches!(journal, Ok(Ok(_))));
        if let Some(stream) = &self.stream {
            match tokio::time::timeout(self.redis_timeout, stream.ping()).await {
                Ok(Ok(())) => self.stream_answered(),
                Ok(Err(error)) => self.stream_failed(&error.to_string()),
                Err(_) => self.stream_failed("no answer within the Redis timeout"),
            }
        }
    }

    pub(crate) fn stream_answered(&self) {
        if self.counters.stream(true) {
            tracing::info!("Redis answers again");
        }
    }

    pub(crate) fn stream_failed(&self, why: &str) {
        if self.counters.stream(false) {
            tracing::warn!(
                cause = why,
                "Redis does not answer: recalls spill to the journal until it does"
            );
        }
    }
}

/// The `WARN` event of a conflict.
pub(crate) fn conflict_logged(key: &str, store: Store) {
    tracing::warn!(
        key = %key,
        store = ?store,
        "recall conflict: a message recalled again with other content; kept beside the first"
    );
}

/// The keys for a log line, bounded whatever the recall: the first [`LOGGED_KEYS`], each cut at
/// [`LOGGED_KEY`] bytes, and how many more there are (a key holds the sender's `GroupId`).
fn logged(keys: &[String]) -> String {
    let mut line = String::new();
    for key in keys.iter().take(LOGGED_KEYS) {
        if !line.is_empty() {
            line.push(' ');
        }
        let mut end = key.len().min(LOGGED_KEY);
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        line.push_str(&key[..end]);
        if end < key.len() {
            line.push('…');
        }
    }
    if keys.len() > LOGGED_KEYS {
        line.push_str(&format!(" and {} more", keys.len() - LOGGED_KEYS));
    }
    line
}

/// How many keys a log line names.
const LOGGED_KEYS: usize = 8;
/// The longest key a log line writes, in bytes.
const LOGGED_KEY: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_names_a_bounded_number_of_keys_each_cut() {
        let keys: Vec<String> = (0..20).map(|n| format!("k{n}")).collect();
        assert_eq!(logged(&keys[..2]), "k0 k1");
        assert_eq!(logged(&keys), "k0 k1 k2 k3 k4 k5 k6 k7 and 12 more");
        let long = format!("{}é", "x".repeat(255));
        assert_eq!(logged(&[long]), format!("{}…", "x".repeat(255)));
        assert_eq!(logged(&[]), "");
    }
}
