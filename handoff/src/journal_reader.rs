//! [`JournalReader`]: a consumer of the journal, reading entries in order and marking them done.

use std::path::Path;

use rusqlite::{params, Connection, Row};
use tower_tim_recall::RecallEvent;

use crate::entry::now_millis;
use crate::error::{ConsumerError, OpenError};
use crate::schema;

/// An entry as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredEntry {
    /// Its place in arrival order: increasing, never reused.
    pub position: i64,
    /// The dedup key, JSON.
    pub key: String,
    /// The event narrowed to this message, in the queued JSON form; [`event`](Self::event)
    /// reads it.
    pub event: String,
    /// The body exactly as Tencent sent it.
    pub body: String,
    /// When the receiver accepted it, in Unix milliseconds.
    pub received: u64,
    /// Whether the key was stored before with other content.
    pub conflict: bool,
    /// Whether it was written while Redis did not answer, for the forwarder to move to the
    /// stream.
    pub spilled: bool,
    /// When the forwarder moved it to the Redis stream, in Unix milliseconds.
    pub forwarded: Option<u64>,
    /// When a consumer marked it done, in Unix milliseconds.
    pub done: Option<u64>,
}

impl StoredEntry {
    /// The typed event.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] if the column does not hold an event of the queued form.
    pub fn event(&self) -> Result<RecallEvent, ConsumerError> {
        serde_json::from_str(&self.event).map_err(|error| ConsumerError::entry(error.to_string()))
    }

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            position: row.get(0)?,
            key: row.get(1)?,
            event: row.get(2)?,
            body: row.get(3)?,
            received: row.get(4)?,
            conflict: row.get(5)?,
            spilled: row.get(6)?,
            forwarded: row.get(7)?,
            done: row.get(8)?,
        })
    }
}

const COLUMNS: &str = "position, key, event, body, received, conflict, spilled, forwarded, done";

/// A consumer of the journal, on a connection of its own: it reads entries in order, from a
/// position or from what is not marked done yet, and marks entries done. Reading never blocks
/// the handoff's writer; after a crash, what was not marked done is read again, so a consumer
/// must be idempotent by [`key`](StoredEntry::key).
///
/// Its calls block on SQLite: from async code, run them with `tokio::task::spawn_blocking`.
///
/// ```no_run
/// use tower_tim_recall_handoff::JournalReader;
///
/// let mut reader = JournalReader::open("tim-recall.db")?;
/// loop {
///     let entries = reader.pending(100)?;
///     if entries.is_empty() {
///         break;
///     }
///     for entry in &entries {
///         // Apply the recall, idempotently by entry.key: hide the message in the archive.
///         let _event = entry.event()?;
///     }
///     reader.mark_done(entries.iter().map(|entry| entry.position))?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct JournalReader {
    connection: Connection,
}

impl JournalReader {
    /// Opens the journal at `path`, which a handoff has created.
    ///
    /// # Errors
    ///
    /// An [`OpenError`] when the file cannot be opened or is not a journal of this format.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Ok(Self {
            connection: schema::open_for_reading(path.as_ref())?,
        })
    }

    /// At most `limit` entries after `position` (0 for the first), in order.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when SQLite fails.
    pub fn read_after(
        &self,
        position: i64,
        limit: usize,
    ) -> Result<Vec<StoredEntry>, ConsumerError> {
        let mut select = self.connection.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE position > ?1 ORDER BY position LIMIT ?2"
        ))?;
        let rows = select.query_map(params![position, limit_of(limit)], StoredEntry::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// At most `limit` of the oldest entries not marked done, in order.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when SQLite fails.
    pub fn pending(&self, limit: usize) -> Result<Vec<StoredEntry>, ConsumerError> {
        let mut select = self.connection.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE done IS NULL ORDER BY position LIMIT ?1"
        ))?;
        let rows = select.query_map(params![limit_of(limit)], StoredEntry::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks the entries at `positions` done, in one transaction: [`pending`](Self::pending)
    /// no longer returns them. Marking an entry twice keeps the first time.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when SQLite fails; then none is marked.
    pub fn mark_done(
        &mut self,
        positions: impl IntoIterator<Item = i64>,
    ) -> Result<(), ConsumerError> {
        let now = now_millis();
        let transaction = self.connection.transaction()?;
        {
            let mut mark = transaction.prepare_cached(
                "UPDATE entries SET done = ?1 WHERE position = ?2 AND done IS NULL",
            )?;
            for position in positions {
                mark.execute(params![now, position])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
