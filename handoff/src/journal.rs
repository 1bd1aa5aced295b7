//! The journal's writer: one thread owns the SQLite connection and commits what is queued
//! together (group commit), so that many concurrent recalls cost one transaction and one fsync.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rusqlite::{params, Connection, Transaction};
use tokio::sync::oneshot;

use crate::entry::{now_millis, Entry};
use crate::error::OpenError;
use crate::outcome::Outcome;
use crate::schema;

/// The most commands one transaction takes: under a flood, a commit stays short.
const MAX_BATCH: usize = 4096;
/// The most commands waiting for the writer; past it (a disk that hangs), a recall is refused
/// at once instead of waiting out its budget in a queue that only grows. As many as one
/// transaction takes: a queue that full is a disk that does not keep up.
const QUEUE: usize = MAX_BATCH;
/// How often the claims older than the window are purged.
const PURGE_EVERY_MS: u64 = 1_000;

/// Why the journal could not do what it was asked: SQLite's error, or a stopped writer.
#[derive(Debug, Clone)]
pub(crate) struct StoreError(pub(crate) String);

/// An entry the journal holds and has not forwarded to the stream yet.
#[derive(Debug, Clone)]
pub(crate) struct Spilled {
    pub(crate) position: i64,
    pub(crate) entry: Entry,
    /// Whether the journal stored it as a conflict.
    pub(crate) conflict: bool,
}

enum Command {
    Append {
        entries: Arc<Vec<Entry>>,
        spilled: bool,
        reply: oneshot::Sender<Result<Vec<Outcome>, StoreError>>,
    },
    Forwarded {
        positions: Vec<i64>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Unforwarded {
        limit: usize,
        reply: oneshot::Sender<Result<Vec<Spilled>, StoreError>>,
    },
    Probe {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// The journal's writer, shared by every clone of the handoff. The thread ends when the last
/// clone is dropped, after it has committed what was queued.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    commands: mpsc::SyncSender<Command>,
    path: PathBuf,
    commits: Arc<AtomicU64>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and starts its writer. Claims older than
    /// `window` are purged; `max_pages`, when set, bounds the file (SQLite's
    /// `max_page_count`), and a write past it fails as a full disk does.
    pub(crate) fn open(
        path: &Path,
        window: Duration,
        max_bytes: Option<u64>,
    ) -> Result<Self, OpenError> {
        let connection = schema::open_for_writing(path)?;
        if let Some(max_bytes) = max_bytes {
            let page_size: u64 = connection
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .map_err(|error| OpenError::journal(path, error))?;
            let pages = (max_bytes / page_size.max(1)).max(1);
            connection
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .map_err(|error| OpenError::journal(path, error))?;
        }
        let (commands, queue) = mpsc::sync_channel(QUEUE);
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let commits = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            connection,
            window_ms,
            last_purge: 0,
            commits: Arc::clone(&commits),
        };
        thread::Builder::new()
            .name("tim-recall-journal".to_owned())
            .spawn(move || writer.run(&queue))
            .map_err(|error| {
                OpenError::journal_format(path, format!("no writer thread: {error}"))
            })?;
        let path = path.to_owned();
        Ok(Self {
            shared: Arc::new(Shared {
                commands,
                path,
                commits,
            }),
        })
    }

    /// The journal's path.
    pub(crate) fn path(&self) -> &Path {
        &self.shared.path
    }

    /// How many transactions the writer has committed.
    pub(crate) fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Stores `entries` in the next transaction, and resolves once it is committed: each
    /// entry's outcome, in order. `spilled` entries are for the stream: the forwarder moves
    /// them there.
    pub(crate) async fn append(
        &self,
        entries: Arc<Vec<Entry>>,
        spilled: bool,
    ) -> Result<Vec<Outcome>, StoreError> {
        self.ask(|reply| Command::Append {
            entries,
            spilled,
            reply,
        })
        .await
    }

    /// Marks spilled entries as forwarded to the stream.
    pub(crate) async fn mark_forwarded(&self, positions: Vec<i64>) -> Result<(), StoreError> {
        self.ask(|reply| Command::Forwarded { positions, reply })
            .await
    }

    /// The oldest entries not forwarded yet, at most `limit`, in order.
    pub(crate) async fn unforwarded(&self, limit: usize) -> Result<Vec<Spilled>, StoreError> {
        self.ask(|reply| Command::Unforwarded { limit, reply })
            .await
    }

    /// Whether the journal takes a write now: its write lock can be taken, and a size-limited
    /// journal has room for a recall of the largest body (64 KiB) yet. Writes nothing.
    pub(crate) async fn probe(&self) -> Result<(), StoreError> {
        self.ask(|reply| Command::Probe { reply }).await
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError("the journal's writer has stopped".to_owned());
        self.shared
            .commands
            .try_send(command(reply))
            .map_err(|error| match error {
                mpsc::TrySendError::Full(_) => StoreError("the journal's queue is full".to_owned()),
                mpsc::TrySendError::Disconnected(_) => stopped(),
            })?;
        answer.await.map_err(|_| stopped())?
    }
}

struct Writer {
    connection: Connection,
    window_ms: u64,
    last_purge: u64,
    commits: Arc<AtomicU64>,
}

impl Writer {
    fn run(mut self, queue: &mpsc::Receiver<Command>) {
        while let Ok(first) = queue.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(command) => batch.push(command),
                    Err(_) => break,
                }
            }
            self.turn(batch);
        }
    }

    /// One turn: every write of the batch in one transaction, then the answers and the reads.
    fn turn(&mut self, batch: Vec<Command>) {
        let now = now_millis();
        let (mut outcomes, failure) = match self.write(&batch, now) {
            Ok(outcomes) => (outcomes.into_iter(), None),
            Err(error) => (Vec::new().into_iter(), Some(error)),
        };
        for command in batch {
            match command {
                Command::Append { reply, .. } => {
                    let answer = match &failure {
                        Some(error) => Err(error.clone()),
                        None => Ok(outcomes.next().unwrap_or_default()),
                    };
                    let _ = reply.send(answer);
                }
                Command::Forwarded { reply, .. } => {
                    let _ = reply.send(failure.clone().map_or(Ok(()), Err));
                }
                Command::Unforwarded { limit, reply } => {
                    let _ = reply.send(unforwarded(&self.connection, limit).map_err(store_error));
                }
                Command::Probe { reply } => {
                    let _ = reply.send(probe(&mut self.connection));
                }
            }
        }
    }

    /// Writes the batch's appends and marks in one transaction; once it is committed, the
    /// outcomes of each append's entries, in the batch's order.
    fn write(&mut self, batch: &[Command], now: u64) -> Result<Vec<Vec<Outcome>>, StoreError> {
        let writes = batch
            .iter()
            .any(|command| matches!(command, Command::Append { .. } | Command::Forwarded { .. }));
        if !writes {
            return Ok(Vec::new());
        }
        let cutoff = now.saturating_sub(self.window_ms);
        let purge = now >= self.last_purge + PURGE_EVERY_MS;
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(store_error)?;
        let mut outcomes = Vec::new();
        let mut statements = Statements::prepare(&transaction).map_err(store_error)?;
        for command in batch {
            match command {
                Command::Append {
                    entries, spilled, ..
                } => {
                    let appended = entries
                        .iter()
                        .map(|entry| statements.append(entry, *spilled, now, cutoff))
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(store_error)?;
                    outcomes.push(appended);
                }
                Command::Forwarded { positions, .. } => {
                    let mut mark = transaction
                        .prepare_cached("UPDATE entries SET forwarded = ?1 WHERE position = ?2")
                        .map_err(store_error)?;
                    for position in positions {
                        mark.execute(params![now, position]).map_err(store_error)?;
                    }
                }
                Command::Unforwarded { .. } | Command::Probe { .. } => {}
            }
        }
        drop(statements);
        if purge {
            transaction
                .execute("DELETE FROM claims WHERE claimed < ?1", [cutoff])
                .map_err(store_error)?;
            // A spilled entry is the stream's once forwarded: the journal keeps it for a window.
            transaction
                .execute(
                    "DELETE FROM entries WHERE forwarded IS NOT NULL AND forwarded < ?1",
                    [cutoff],
                )
                .map_err(store_error)?;
        }
        transaction.commit().map_err(store_error)?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        if purge {
            self.last_purge = now;
        }
        Ok(outcomes)
    }
}

/// The statements of an append, prepared once per transaction.
struct Statements<'t> {
    claims: rusqlite::CachedStatement<'t>,
    entry: rusqlite::CachedStatement<'t>,
    claim: rusqlite::CachedStatement<'t>,
}

impl<'t> Statements<'t> {
    fn prepare(transaction: &'t Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            claims: transaction.prepare_cached(
                "SELECT content, claimed FROM claims WHERE key = ?1 AND claimed >= ?2",
            )?,
            entry: transaction.prepare_cached(
                "INSERT INTO entries (key, event, body, received, content, conflict, spilled) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            claim: transaction.prepare_cached(
                "INSERT OR REPLACE INTO claims (key, content, claimed) VALUES (?1, ?2, ?3)",
            )?,
        })
    }

    /// Claims `entry`'s key within the window and stores it unless it is a duplicate. A
    /// conflict's claim takes the time of the key's first, so that it expires with it.
    fn append(
        &mut self,
        entry: &Entry,
        spilled: bool,
        now: u64,
        cutoff: u64,
    ) -> rusqlite::Result<Outcome> {
        let mut first: Option<u64> = None;
        let mut rows = self.claims.query(params![entry.key, cutoff])?;
        while let Some(row) = rows.next()? {
            if row.get_ref(0)?.as_str()? == entry.content {
                return Ok(Outcome::Duplicate);
            }
            let claimed: u64 = row.get(1)?;
            first = Some(first.map_or(claimed, |first| first.min(claimed)));
        }
        drop(rows);
        let claimed = first.is_some();
        self.entry.execute(params![
            entry.key,
            entry.event,
            entry.body,
            entry.received,
            entry.content,
            claimed,
            spilled
        ])?;
        self.claim
            .execute(params![entry.key, entry.content, first.unwrap_or(now)])?;
        Ok(if claimed {
            Outcome::Conflict
        } else {
            Outcome::New
        })
    }
}

fn unforwarded(connection: &Connection, limit: usize) -> rusqlite::Result<Vec<Spilled>> {
    let mut select = connection.prepare_cached(
        "SELECT position, key, event, body, received, content, conflict FROM entries \
         WHERE spilled = 1 AND forwarded IS NULL ORDER BY position LIMIT ?1",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = select.query_map([limit], |row| {
        Ok(Spilled {
            position: row.get(0)?,
            entry: Entry {
                key: row.get(1)?,
                event: row.get(2)?,
                body: row.get(3)?,
                received: row.get(4)?,
                content: row.get(5)?,
            },
            conflict: row.get(6)?,
        })
    })?;
    rows.collect()
}

/// The room a probe asks of a size-limited journal: a recall of the layer's largest body.
const PROBE_ROOM: u64 = 64 * 1024;

/// Takes the write lock and looks at the size, then lets go: [`Journal::probe`].
fn probe(connection: &mut Connection) -> Result<(), StoreError> {
    let transaction = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(store_error)?;
    let size = |pragma: &str| transaction.query_row(pragma, [], |row| row.get::<_, u64>(0));
    let pages = size("PRAGMA page_count").map_err(store_error)?;
    let limit = size("PRAGMA max_page_count").map_err(store_error)?;
    let page = size("PRAGMA page_size").map_err(store_error)?;
    if limit.saturating_sub(pages).saturating_mul(page) < PROBE_ROOM {
        return Err(StoreError("the journal is at its size limit".to_owned()));
    }
    Ok(())
}

fn store_error(error: rusqlite::Error) -> StoreError {
    StoreError(error.to_string())
}
