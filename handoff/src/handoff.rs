//! [`Handoff`]: the acknowledge-mode handler that makes each accepted recall durable before the
//! layer answers `OK`.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Notify;
use tower_service::Service;
use tower_tim_recall::AcceptedRecall;

use crate::durability::DurabilityWarning;
use crate::entry::{now_millis, Entry};
use crate::error::{OpenError, Unavailable};
use crate::forwarder;
use crate::journal::Journal;
use crate::outcome::Handed;
use crate::router::Router;
use crate::stats::{Counters, Stats};
use crate::stream::{Stream, Target};

/// The default dedup window: long past the two minutes a signed URL can be replayed and past
/// any retry Tencent could plausibly make.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The default budget of one recall: the layer answers well within Tencent's two seconds.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(800);
/// The default time Redis has to answer before a recall spills to the journal.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// The longest dedup window a handoff takes.
pub const MAX_WINDOW: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The longest budget a handoff takes: the answer must reach Tencent within its two seconds.
pub const MAX_BUDGET: Duration = Duration::from_secs(1);
/// The default stream.
pub const DEFAULT_STREAM: &str = "tim:recalls";

/// Makes each accepted recall durable, once per recalled message, before the layer answers
/// `OK`: a tower [`Service`] of [`AcceptedRecall`] for the layer's acknowledge mode.
///
/// Built with [`Handoff::builder`]; cheap to clone (every clone shares the journal's writer,
/// the Redis connection and the counters). See the [crate docs](crate) for the promise, the
/// stores and the entry format.
#[derive(Clone)]
pub struct Handoff {
    router: Arc<Router>,
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("journal", &self.router.journal.path())
            .field("stream", &self.router.stream)
            .field("budget", &self.router.budget)
            .finish_non_exhaustive()
    }
}

impl Handoff {
    /// A builder for a handoff whose journal is the SQLite file at `journal` (created if it
    /// does not exist): the destination, or with [`redis`](HandoffBuilder::redis) the spill.
    pub fn builder(journal: impl AsRef<Path>) -> HandoffBuilder {
        HandoffBuilder {
            journal: journal.as_ref().to_owned(),
            redis: None,
            stream: DEFAULT_STREAM.to_owned(),
            window: DEFAULT_WINDOW,
            budget: DEFAULT_BUDGET,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
            journal_max_bytes: None,
        }
    }

    /// What the handoff has done so far, and whether its stores answer.
    pub fn stats(&self) -> Stats {
        self.router.counters.snapshot(self.router.journal.commits())
    }

    /// What Redis said about its durability when it first answered: `None` before that or
    /// without Redis, an empty list when nothing weakens the promise. Each warning is also
    /// logged at `WARN`.
    pub fn durability_warnings(&self) -> Option<Vec<DurabilityWarning>> {
        self.router
            .durability
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Asks each store whether it takes a write now, and returns the stats with the answers:
    /// the journal's write lock can be taken and, below its size limit
    /// ([`journal_max_bytes`](HandoffBuilder::journal_max_bytes)), it has room for a recall of
    /// 64 KiB; and Redis answers a `PING`.
    /// Nothing is written. For a readiness probe: the stats alone say how each store's last
    /// request went, which after a failure stays "down" until a recall succeeds. A disk that is
    /// full without a size limit is seen only by the next write. Resolves within the budget
    /// plus the Redis timeout.
    pub async fn probe(&self) -> Stats {
        self.router.probe().await;
        self.stats()
    }

    /// Connects to Redis now, when the handoff has it, and tells a Redis that refuses the URL
    /// from one that is merely down: an answer that is an error (a wrong password, a user
    /// without the rights, a database index the server does not have) is an [`OpenError`],
    /// since no retry will mend it; no answer within 2 s (down, unreachable, slow) is `Ok`,
    /// and recalls spill until Redis answers. For a program that refuses a wrong URL at start.
    ///
    /// # Errors
    ///
    /// [`OpenError`] when Redis answers with an error; its message holds Redis's reason, never
    /// the URL or its password.
    pub async fn check_redis(&self) -> Result<(), OpenError> {
        let Some(stream) = &self.router.stream else {
            return Ok(());
        };
        match tokio::time::timeout(Duration::from_secs(2), stream.ping_new()).await {
            Ok(Err(error)) if !merely_down(&error) => {
                Err(OpenError::redis_refused(error.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// The journal's path.
    pub fn journal_path(&self) -> &Path {
        self.router.journal.path()
    }

    /// Makes `entries` durable, as [`call`](Service::call) does with the entries of a recall:
    /// for a caller that keeps the entries ([`Entry::of`] made them), to print what was stored,
    /// say. The future resolves within the budget.
    ///
    /// # Errors
    ///
    /// [`Unavailable`] when no store took the entries within the budget.
    pub fn hand(
        &self,
        entries: Vec<Entry>,
    ) -> impl Future<Output = Result<Handed, Unavailable>> + Send + 'static {
        let router = Arc::clone(&self.router);
        async move { router.hand(entries).await }
    }
}

/// How a [`Handoff`] is built: [`Handoff::builder`], the settings, then [`open`](Self::open).
#[must_use]
pub struct HandoffBuilder {
    journal: PathBuf,
    redis: Option<String>,
    stream: String,
    window: Duration,
    budget: Duration,
    redis_timeout: Duration,
    journal_max_bytes: Option<u64>,
}

impl fmt::Debug for HandoffBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandoffBuilder")
            .field("journal", &self.journal)
            .field("redis", &self.redis.as_ref().map(|_| "[redacted]"))
            .field("stream", &self.stream)
            .field("window", &self.window)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl HandoffBuilder {
    /// Makes the stream on the Redis server at `url` the destination (`redis://`, with a user
    /// and password if needed, or `unix://`); the journal becomes its spill. A malformed URL is
    /// an error of [`open`](Self::open); a Redis that is down is not: recalls spill until it
    /// answers.
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.redis = Some(url.into());
        self
    }

    /// The stream's name, [`DEFAULT_STREAM`] unless set. Claims are kept under
    /// `NAME:claim:KEY` (the first content) and `NAME:conflicts:KEY` (the others).
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.stream = name.into();
        self
    }

    /// How long a key is remembered, [`DEFAULT_WINDOW`] unless set, at most [`MAX_WINDOW`]: a
    /// recall of a key stored earlier within the window is a duplicate (same content) or a
    /// conflict (other content).
    pub fn dedup_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// How long one recall may take to become durable, [`DEFAULT_BUDGET`] unless set, at most
    /// [`MAX_BUDGET`]; past it, the answer is `recall store unavailable`.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// How long Redis has to answer before a recall spills to the journal,
    /// [`DEFAULT_REDIS_TIMEOUT`] unless set; shorter than the budget.
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        self.redis_timeout = timeout;
        self
    }

    /// The most bytes the journal file may take; a recall that would grow it further is
    /// answered `recall store unavailable`, as on a full disk. Unbounded unless set.
    pub fn journal_max_bytes(mut self, bytes: u64) -> Self {
        self.journal_max_bytes = Some(bytes);
        self
    }

    /// Opens the journal and, with Redis, starts the forwarder and the check of Redis's
    /// durability settings on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// An [`OpenError`] when the journal cannot be opened or is of another format, the Redis
    /// URL is malformed, the stream name is empty, a duration is zero or past its maximum, the
    /// Redis timeout is not shorter than the budget, or, with Redis, outside a tokio runtime.
    pub fn open(self) -> Result<Handoff, OpenError> {
        if self.window.is_zero() || self.window > MAX_WINDOW {
            return Err(OpenError::setting(
                "the dedup window must be more than zero and at most 7 days",
            ));
        }
        if self.budget.is_zero() || self.budget > MAX_BUDGET {
            return Err(OpenError::setting(
                "the budget must be more than zero and at most 1 s (Tencent waits 2 s for the whole answer)",
            ));
        }
        let runtime = match &self.redis {
            Some(_) => {
                Some(tokio::runtime::Handle::try_current().map_err(|_| OpenError::no_runtime())?)
            }
            None => None,
        };
        let stream = match &self.redis {
            None => None,
            Some(url) => {
                if self.redis_timeout.is_zero() || self.redis_timeout >= self.budget {
                    return Err(OpenError::setting(
                        "the Redis timeout must be shorter than the budget, and not zero",
                    ));
                }
                let target = Target::parse(url)?;
                Some(Stream::new(
                    &target,
                    &self.stream,
                    self.window,
                    self.redis_timeout,
                )?)
            }
        };
        let journal = Journal::open(&self.journal, self.window, self.journal_max_bytes)?;
        let router = Arc::new(Router {
            journal,
            counters: Counters::with_stream(stream.is_some()),
            stream,
            budget: self.budget,
            redis_timeout: self.redis_timeout,
            wake: Arc::new(Notify::new()),
            durability: Mutex::new(None),
        });
        if let Some(runtime) = runtime {
            forwarder::start(&runtime, &router);
        }
        Ok(Handoff { router })
    }
}

impl Service<AcceptedRecall> for Handoff {
    type Response = Handed;
    type Error = Unavailable;
    type Future = Pin<Box<dyn Future<Output = Result<Handed, Unavailable>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Unavailable>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, recall: AcceptedRecall) -> Self::Future {
        Box::pin(self.hand(Entry::of(&recall, now_millis())))
    }
}

/// Whether a Redis error says the server is away, rather than that it refused the connection
/// it was asked for.
fn merely_down(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
}
