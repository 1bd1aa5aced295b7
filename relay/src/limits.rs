//! The defaults of the limits a receiver facing the internet needs, each with why it is what it
//! is. SECURITY.md's table lists them with what happens without each.

/// A request's head must arrive within this, counted from when the connection opened or last
/// finished a request: it closes slowloris connections and idle keep-alive connections alike.
/// Tencent sends a callback's head at once and reopens a connection it finds closed.
pub(crate) const HEADER_TIMEOUT: &str = "10s";

/// A request's body must arrive, and its answer be made, within this after its head. A recall
/// body is a few hundred bytes and the handoff answers within its budget (at most 1 s); Tencent
/// gives up after 2 s. Ten seconds leaves room for a slow network, and no more for a client
/// that drips its body to hold a connection.
pub(crate) const REQUEST_TIMEOUT: &str = "10s";

/// Connections served at once. Below the common limit of 1024 file descriptors, with room for
/// the journal, Redis and the log. Tencent opens a handful of connections per receiver.
pub(crate) const MAX_CONNECTIONS: usize = 512;

/// The largest request head: Tencent's query is six short parameters and its headers a few
/// hundred bytes; this leaves room for a query of 64 KiB. A connection holds at most this much
/// for a head that never ends, and a longer head is answered 431.
pub(crate) const MAX_HEAD: usize = 72 * 1024;

/// After SIGTERM or SIGINT, requests in flight have this long to be answered; then their
/// connections are dropped. Answers already given were durable; an unanswered recall is sent
/// again by Tencent if its console retries timeouts.
pub(crate) const SHUTDOWN_TIMEOUT: &str = "5s";

/// The most recalled messages one callback may name. Each becomes an entry holding the whole
/// body, so one body of 4 000 messages (what 64 KiB can list) would be 4 000 copies of it. A
/// user's recall names one message, and Tencent's REST API recalls a short list at a time.
pub(crate) const MAX_MESSAGES: usize = 100;

/// The most connections `--max-connections` takes: far above what one process's file
/// descriptors allow, and within what a semaphore can count.
pub(crate) const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

/// The smallest `--journal-max-bytes`: room for a few recalls of the largest body, past which
/// `/readyz` says the journal is full (it asks for 64 KiB of room).
pub(crate) const MIN_JOURNAL_BYTES: u64 = 256 * 1024;

/// The smallest `--body-limit`: below it, Tencent's own recalls would be refused.
pub(crate) const MIN_BODY_LIMIT: usize = 1024;

/// hyper's smallest read buffer: a head limit below it cannot be honoured.
pub(crate) const MIN_HEAD: usize = 8192;
