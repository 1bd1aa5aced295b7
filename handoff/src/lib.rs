//! Where an accepted recall goes: `OK` only once it is durable, each recalled message handed on
//! once.
//!
//! [`tower-tim-recall`](tower_tim_recall) verifies and types every recall callback. Tencent
//! never retries a callback that was answered (only a timeout, and only when its console says
//! so), so a recall lost after the answer is lost for good, and the message its sender recalled
//! stays visible in the archive or search index that mirrors it. This crate is the
//! acknowledge-mode handler that closes that gap: a [`Handoff`] is a tower `Service` of
//! [`AcceptedRecall`](tower_tim_recall::AcceptedRecall) that resolves only once the recall is
//! durable.
//!
//! # The promise
//!
//! 1. **`OK` means durable.** The layer answers `OK` only once every entry of the recall is in
//!    the journal (committed with WAL and `synchronous=FULL`: it survives a kill -9 and a power
//!    cut) or in the Redis stream (Redis acknowledged it; see [Redis's own
//!    durability](#rediss-own-durability)).
//! 2. **Once per recalled message.** Each message's dedup key is stored once within the dedup
//!    window ([`DEFAULT_WINDOW`], 10 minutes), also when retries arrive concurrently on
//!    replicas that share one Redis. A duplicate (same key, same content) is answered `OK` and
//!    not stored again. The content is what the body says about the message (its event
//!    fields, `EventTime` included); the query (`RequestTime`, `Sign`, `ClientIP`,
//!    `OptPlatform`) and the time received are details of one delivery and do not count.
//! 3. **A conflict is kept, never dropped.** The same key with other content is stored beside
//!    the first, marked `conflict`, and logged at `WARN`; it never overwrites the first.
//! 4. **No `OK` without durability.** When nothing can store the recall within the budget
//!    ([`DEFAULT_BUDGET`], 800 ms), the layer answers `500` with the `FAIL` acknowledgement
//!    and the reason `recall store unavailable`, an `ERROR` event names the dedup keys (never
//!    the body or a token), and [`Stats::unavailable`] counts it.
//! 5. **An answer within the budget**, whatever the store does (an error, a hang, a dropped
//!    connection), well within Tencent's two seconds.
//!
//! # Two topologies, one line
//!
//! | topology | destination | when it fails |
//! | --- | --- | --- |
//! | one machine | the **journal**: an SQLite file, with group commit (the recalls that arrive while a commit is on disk share the next transaction and its fsync) | `500 recall store unavailable` |
//! | replicas behind a load balancer | a **Redis stream** that all replicas share; one atomic script per recall claims each key and appends the new entries | the recall **spills** to the replica's journal and is answered `OK`; a forwarder moves it to the stream, in order, once Redis answers again, and the claims make what already reached the stream a duplicate |
//!
//! On one machine:
//!
//! ```no_run
//! use axum::{routing::post, Router};
//! use tower_tim_recall::RecallLayer;
//! use tower_tim_recall_handoff::Handoff;
//!
//! # fn app() -> Result<Router, Box<dyn std::error::Error>> {
//! let handoff = Handoff::builder("tim-recall.db").open()?;
//! let recalls = RecallLayer::new([1400000000], ["the console's callback token"])?.acknowledge(handoff);
//! let app = Router::new()
//!     .route("/im/callback", post(|| async { "not a recall" }))
//!     .route_layer(recalls);
//! # Ok(app)
//! # }
//! ```
//!
//! With replicas, every replica the same, each with a journal of its own as its spill:
//!
//! ```no_run
//! # use tower_tim_recall_handoff::Handoff;
//! # async fn open() -> Result<(), tower_tim_recall_handoff::OpenError> {
//! let handoff = Handoff::builder("tim-recall-spill.db")
//!     .redis("redis://:password@redis.internal:6379/0")
//!     .stream("tim:recalls")
//!     .open()?;
//! # let _ = handoff;
//! # Ok(())
//! # }
//! ```
//!
//! A journal that cannot be opened, a malformed Redis URL or an empty stream name is an
//! [`OpenError`], never a panic; a Redis that is merely down is not an error (recalls spill
//! until it answers). Neither errors nor `Debug` show a Redis URL's password.
//!
//! # The entry (format version 1)
//!
//! One entry per recalled message: a group recall of three `MsgSeq`s is three entries. In the
//! journal and in the stream alike, each entry has these fields:
//!
//! | field | content |
//! | --- | --- |
//! | `key` | the dedup key as `serde_json::to_string(&key)` writes it, e.g. `{"Group":{"SdkAppid":1400000000,"GroupId":"@TGS#2J4SZEAEL","TopicId":null,"MsgSeq":130}}` |
//! | `event` | the event narrowed to this message, in the crate's queued JSON form ([`RecallEvent`](tower_tim_recall::RecallEvent)'s serde form), e.g. `{"CallbackCommand":"Group.CallbackAfterRecallMsg","SdkAppid":1400000000,"RequestTime":1700000000,"Operator_Account":"jared","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":130}]}` |
//! | `body` | the body exactly as Tencent sent it: fields this crate does not model are not lost |
//! | `received` | when the receiver accepted it, Unix milliseconds |
//! | `conflict` | `1` when the key was stored before with other content, else `0` |
//!
//! The stream's entries also carry `v` (`1`, the format version); the journal's version is its
//! `PRAGMA user_version`. A consumer checks the version before it reads.
//!
//! # Consumers
//!
//! Delivery to consumers is at least once in both stores (a consumer can crash between doing
//! the work and acknowledging it), so a consumer must be idempotent by `key`: remember the
//! keys it applied, or make applying a recall twice harmless (hiding a message that is hidden
//! already).
//!
//! - **The journal**: [`JournalReader`] reads entries in order, from a position or from what
//!   is not marked done, and marks them done; after a crash it reads again what it had not
//!   marked. From another language, open the file with any SQLite driver (WAL: readers never
//!   block the writer):
//!
//!   ```sh
//!   sqlite3 tim-recall.db "SELECT position, key, event FROM entries WHERE done IS NULL ORDER BY position LIMIT 100"
//!   sqlite3 tim-recall.db "UPDATE entries SET done = unixepoch() * 1000 WHERE position <= 100 AND done IS NULL"
//!   ```
//!
//! - **The stream**: [`StreamConsumer`] is a member of a consumer group (`XREADGROUP`, `XACK`,
//!   and `XAUTOCLAIM` for what a crashed member left pending). With `redis-cli`:
//!
//!   ```sh
//!   redis-cli XGROUP CREATE tim:recalls archive 0 MKSTREAM
//!   redis-cli XREADGROUP GROUP archive worker-1 COUNT 10 BLOCK 5000 STREAMS tim:recalls '>'
//!   redis-cli XACK tim:recalls archive 1700000000000-0
//!   redis-cli XAUTOCLAIM tim:recalls archive worker-1 60000 0-0 COUNT 10
//!   ```
//!
//! # The journal's schema
//!
//! Claims older than the dedup window are purged. In the journal alone, entries are never
//! deleted by the handoff: delete what every consumer is done with (`DELETE FROM entries
//! WHERE done IS NOT NULL`) as your retention asks. As a spill, an entry is marked `spilled`,
//! and deleted by the first write after it has been forwarded for a dedup window. A journal
//! that was the destination and becomes a spill keeps its entries (they are not forwarded),
//! and a spill that becomes the destination keeps what it had not forwarded, for its
//! consumers. A journal on a network file system is not supported (SQLite's WAL needs shared
//! memory on one machine). A journal whose tables are not exactly these is refused at open.
//!
#![doc = concat!("```sql\n", include_str!("schema.sql"), "```")]
//!
//! The stream is never trimmed by the handoff: once every group has acknowledged an entry, trim
//! up to it (`XTRIM tim:recalls MINID <id>`) as your retention asks.
//!
//! # What the claims cannot absorb
//!
//! A spilled entry whose script ran in Redis but whose answer was lost (a timeout) is sent
//! again by the forwarder, and the claim makes it a duplicate. If Redis stays away longer than
//! the dedup window, the claim has expired when the forwarder sends it again, and the entry is
//! in the stream twice. Consumers are idempotent by `key` for that reason too.
//!
//! # Redis's own durability
//!
//! Redis acknowledges a write before it reaches its disk unless it runs with `appendonly yes`
//! and `appendfsync always` (`everysec` can lose the last second on a power cut), and a
//! `maxmemory-policy` other than `noeviction` can evict claims (a duplicate is handed on
//! again) or the stream. When Redis first answers, the handoff reads these settings
//! (`CONFIG GET`) and logs at `WARN` what each one that weakens the promise means
//! ([`Handoff::durability_warnings`]); it does not refuse to run. Claims are kept under
//! `STREAM:claim:KEY` (the first content) and `STREAM:conflicts:KEY` (the others), with the
//! dedup window as their expiry. The script touches keys that
//! are not in one hash slot: use a single Redis server (with replicas), not Redis Cluster.
//!
//! # Metrics
//!
//! [`Handoff::stats`] gives the counters (new, duplicate, conflict, unavailable, spilled,
//! forwarded), the entries spilled and not yet forwarded, and whether each store answered its
//! last request, for a metrics exporter and a readiness probe.
#![deny(missing_docs, unreachable_pub, unsafe_code)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

mod consumer;
mod durability;
mod entry;
mod error;
mod forwarder;
mod handoff;
mod journal;
mod journal_reader;
mod outcome;
mod router;
mod schema;
mod stats;
mod stream;

pub use consumer::{Delivered, MalformedEntry, StreamConsumer, StreamEntry};
pub use durability::DurabilityWarning;
pub use entry::{Entry, FORMAT_VERSION};
pub use error::{ConsumerError, OpenError, Unavailable};
pub use handoff::{
    Handoff, HandoffBuilder, DEFAULT_BUDGET, DEFAULT_REDIS_TIMEOUT, DEFAULT_STREAM, DEFAULT_WINDOW,
    MAX_BUDGET, MAX_WINDOW,
};
pub use journal_reader::{JournalReader, StoredEntry};
pub use outcome::{Handed, Outcome, Store};
pub use stats::Stats;
