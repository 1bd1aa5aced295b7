//! The Redis stream: one atomic script per batch claims each key and appends the entries whose
//! claims are new, over one multiplexed connection that concurrent recalls share.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use crate::entry::Entry;
use crate::error::OpenError;
use crate::outcome::Outcome;

/// Claims each entry's key and appends the entries whose claims are new, atomically.
///
/// `KEYS[1]` is the stream, `KEYS[1 + i]` entry i's claim (a set of the contents seen for its
/// key); `ARGV[1]` is the window in milliseconds, then five arguments per entry: key, content,
/// event, body, received. It answers one status per entry: 0 new, 1 duplicate, 2 conflict.
const CLAIM_AND_APPEND: &str = r"
local out = {}
for i = 2, #KEYS do
  local a = 2 + (i - 2) * 5
  local claim, content = KEYS[i], ARGV[a + 1]
  if redis.call('SISMEMBER', claim, content) == 1 then
    out[#out + 1] = 1
  else
    local fresh = redis.call('EXISTS', claim) == 0
    redis.call('SADD', claim, content)
    if fresh then redis.call('PEXPIRE', claim, ARGV[1]) end
    redis.call('XADD', KEYS[1], '*', 'v', '1', 'key', ARGV[a], 'event', ARGV[a + 2],
      'body', ARGV[a + 3], 'received', ARGV[a + 4], 'conflict', fresh and '0' or '1')
    out[#out + 1] = fresh and 0 or 2
  end
end
return out
";

/// Where the stream is: a Redis server, a stream name, and the names of its claims.
#[derive(Clone)]
pub(crate) struct Stream {
    connection: ConnectionManager,
    script: Script,
    name: String,
    claim_prefix: String,
    window_ms: u64,
    address: String,
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
    /// Every request fails after `timeout` without an answer.
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
        Ok(Self {
            connection,
            script: Script::new(CLAIM_AND_APPEND),
            name: name.to_owned(),
            claim_prefix: format!("{name}:claim:"),
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            address: target.address(),
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

    /// Claims and appends `entries` in one script call: each entry's outcome, in order.
    pub(crate) async fn append<'a, I>(&self, entries: I) -> redis::RedisResult<Vec<Outcome>>
    where
        I: IntoIterator<Item = &'a Entry>,
    {
        let mut invocation = self.script.key(&self.name);
        invocation.arg(self.window_ms);
        let mut count = 0;
        for entry in entries {
            invocation
                .key(format!("{}{}", self.claim_prefix, entry.key))
                .arg(&entry.key)
                .arg(&entry.content)
                .arg(&entry.event)
                .arg(&entry.body)
                .arg(entry.received);
            count += 1;
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut connection = self.connection.clone();
        let statuses: Vec<u8> = invocation.invoke_async(&mut connection).await?;
        if statuses.len() != count {
            return Err(redis::RedisError::from((
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
