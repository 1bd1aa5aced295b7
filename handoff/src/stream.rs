//! The Redis stream: one atomic script per batch claims each key and appends the entries whose
//! claims are new. A batcher sends what concurrent recalls queued while the previous script
//! ran as the next script, over one multiplexed connection.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RedisResult, Script};
use tokio::sync::{mpsc, oneshot};

use crate::entry::Entry;
use crate::error::OpenError;
use crate::outcome::Outcome;

/// Claims each entry's key and appends the entries whose claims are new, atomically.
///
/// `KEYS[1]` is the stream. `ARGV[1]` and `ARGV[2]` are the prefixes of the claims (a key's
/// first content, set if absent with the window as expiry) and of the conflicts (the other
/// contents seen for a key), `ARGV[3]` the window in milliseconds, then five arguments per
/// entry: key, content, event, body, received. The claims and conflicts are named from the
/// keys inside the script, so a call carries each key once; it therefore needs one Redis
/// server, not a Redis Cluster. It answers one status per entry: 0 new, 1 duplicate,
/// 2 conflict. The `v` field is the entry format's version.
///
/// It decides from reads, then appends, then claims: Redis keeps what a script wrote before an
/// error, so a failed `XADD` must leave no claim behind (the spilled entry's retry would then
/// be taken for a duplicate). A claim that fails after its append leaves an entry without a
/// claim: a later retry is stored again, which consumers absorb by key; nothing is lost. A
/// key's conflicts expire with its claim.
const CLAIM_AND_APPEND: &str = r"
local claims, conflicts, window = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV, 5 do
  local key, content = ARGV[i], ARGV[i + 1]
  local claim = claims .. key
  local others = conflicts .. key
  local first = redis.call('GET', claim)
  local status = 0
  if first then
    if first == content or redis.call('SISMEMBER', others, content) == 1 then
      status = 1
    else
      status = 2
    end
  end
  if status ~= 1 then
    redis.call('XADD', KEYS[1], '*', 'v', '1', 'key', key, 'event', ARGV[i + 2],
      'body', ARGV[i + 3], 'received', ARGV[i + 4], 'conflict', status == 2 and '1' or '0')
  end
  if status == 0 then
    redis.call('SET', claim, content, 'PX', window)
  elseif status == 2 then
    redis.call('SADD', others, content)
    redis.call('PEXPIRE', others, math.max(redis.call('PTTL', claim), 1))
  end
  out[#out + 1] = status
end
return out
";

/// The most entries one script call takes.
const MAX_BATCH: usize = 256;
/// The most recalls waiting for the batcher; past it, a recall spills at once.
const QUEUE: usize = 4096;

/// A recall's entries waiting for the batcher, and where their outcomes go.
struct Job {
    entries: Arc<Vec<Entry>>,
    reply: oneshot::Sender<RedisResult<Vec<Outcome>>>,
}

/// The stream: appends go to its batcher.
#[derive(Clone)]
pub(crate) struct Stream {
    jobs: mpsc::Sender<Job>,
    connection: ConnectionManager,
    /// For a connection of its own, made on demand.
    client: redis::Client,
    name: Arc<str>,
    address: Arc<str>,
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("address", &self.address)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A parsed Redis URL; neither its `Debug` nor any error shows the URL or its password.
pub(crate) struct Target {
    client: redis::Client,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Self, OpenError> {
        if url.trim().is_empty() {
            return Err(OpenError::redis_url("it is empty"));
        }
        match redis::Client::open(url) {
            Ok(client) => Ok(Self { client }),
            Err(_) if url.starts_with("rediss://") => Err(OpenError::redis_url(
                "TLS (rediss://) is not supported by this build",
            )),
            Err(_) => Err(OpenError::redis_url(
                "expected redis://[user:password@]host[:port][/db] or unix:///path/to/socket",
            )),
        }
    }

    /// Where the server is, without user or password.
    pub(crate) fn address(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    pub(crate) fn client(&self) -> redis::Client {
        self.client.clone()
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl Stream {
    /// A stream on `target`, connected lazily: a Redis that is down now is not an error.
    /// Every request fails after `timeout` without an answer. Starts the batcher on the
    /// current tokio runtime; it stops once every clone is dropped.
    pub(crate) fn new(
        target: &Target,
        name: &str,
        window: Duration,
        timeout: Duration,
    ) -> Result<Self, OpenError> {
        if name.is_empty() {
            return Err(OpenError::stream_name());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(target.client(), config)
            .map_err(|_| OpenError::redis_url("the connection could not be set up"))?;
        let (jobs, queue) = mpsc::channel(QUEUE);
        let batcher = Batcher {
            connection: connection.clone(),
            script: Script::new(CLAIM_AND_APPEND),
            name: name.to_owned(),
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
        };
        tokio::spawn(batcher.run(queue));
        Ok(Self {
            jobs,
            connection,
            client: target.client(),
            name: name.into(),
            address: target.address().into(),
        })
    }

    /// Where the server is, without user or password.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// The stream's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// A connection that shares this stream's multiplexed connection.
    pub(crate) fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// Whether Redis answers a `PING` on a connection of its own, made now (the handoff's
    /// connection manager would retry a refusal quietly).
    pub(crate) async fn ping_new(&self) -> RedisResult<()> {
        let mut connection = self.client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(drop)
    }

    /// Whether Redis answers a `PING` on the handoff's connection.
    pub(crate) async fn ping(&self) -> RedisResult<()> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.connection())
            .await
            .map(drop)
    }

    /// Claims and appends `entries` in the batcher's next script call: each entry's outcome,
    /// in order.
    pub(crate) async fn append(&self, entries: Arc<Vec<Entry>>) -> RedisResult<Vec<Outcome>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, outcomes) = oneshot::channel();
        let stopped =
            || RedisError::from((redis::ErrorKind::Client, "the batcher is busy or stopped"));
        self.jobs
            .try_send(Job { entries, reply })
            .map_err(|_| stopped())?;
        outcomes.await.map_err(|_| stopped())?
    }
}

/// Sends the queued recalls' entries, one script call at a time: what arrives while a call is
/// on its way goes into the next one together. (Two or three calls in flight measured no
/// better: Redis runs scripts one after the other, with an fsync of its append-only file
/// between them.)
struct Batcher {
    connection: ConnectionManager,
    script: Script,
    name: String,
    window_ms: u64,
}

impl Batcher {
    async fn run(self, mut queue: mpsc::Receiver<Job>) {
        while let Some(first) = queue.recv().await {
            // What arrived while the last call was under way goes into this one.
            let mut count = first.entries.len();
            let mut jobs = vec![first];
            while count < MAX_BATCH {
                let Ok(job) = queue.try_recv() else { break };
                count += job.entries.len();
                jobs.push(job);
            }
            // A recall whose caller stopped waiting has spilled already.
            jobs.retain(|job| !job.reply.is_closed());
            if jobs.is_empty() {
                continue;
            }
            self.answer(jobs).await;
        }
    }

    /// Sends `jobs` in one script call, and answers each with its entries' outcomes.
    async fn answer(&self, jobs: Vec<Job>) {
        match self.call(&jobs).await {
            Ok(statuses) => {
                let mut statuses = statuses.into_iter();
                for job in jobs {
                    let outcomes = statuses.by_ref().take(job.entries.len()).collect();
                    let _ = job.reply.send(Ok(outcomes));
                }
            }
            Err(error) => {
                for job in jobs {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
        }
    }

    /// One script call for every entry of `jobs`.
    async fn call(&self, jobs: &[Job]) -> RedisResult<Vec<Outcome>> {
        let mut invocation = self.script.key(&self.name);
        invocation
            .arg(format!("{}:claim:", self.name))
            .arg(format!("{}:conflicts:", self.name))
            .arg(self.window_ms);
        let mut count = 0;
        for entry in jobs.iter().flat_map(|job| job.entries.iter()) {
            invocation
                .arg(&entry.key)
                .arg(&entry.content)
                .arg(&entry.event)
                .arg(&entry.body)
                .arg(entry.received);
            count += 1;
        }
        let mut connection = self.connection.clone();
        let statuses: Vec<u8> = invocation.invoke_async(&mut connection).await?;
        if statuses.len() != count {
            return Err(RedisError::from((
                redis::ErrorKind::Client,
                "the claim script answered another number of statuses than entries",
            )));
        }
        Ok(statuses
            .into_iter()
            .map(|status| match status {
                0 => Outcome::New,
                1 => Outcome::Duplicate,
                _ => Outcome::Conflict,
            })
            .collect())
    }
}
