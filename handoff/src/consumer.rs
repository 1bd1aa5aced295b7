//! [`StreamConsumer`]: a member of a consumer group reading the stream's entries, typed.

use std::fmt;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncCommands, AsyncConnectionConfig};
use tower_tim_recall::RecallEvent;

use crate::entry::FORMAT_VERSION;
use crate::error::ConsumerError;
use crate::stream::Target;

/// An entry as the stream holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamEntry {
    /// The stream's ID of the entry, to [`ack`](StreamConsumer::ack) it.
    pub id: String,
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
}

impl StreamEntry {
    /// The typed event.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] if the field does not hold an event of the queued form.
    pub fn event(&self) -> Result<RecallEvent, ConsumerError> {
        serde_json::from_str(&self.event).map_err(|error| ConsumerError::entry(error.to_string()))
    }

    fn from_stream(entry: &StreamId) -> Result<Self, MalformedEntry> {
        let malformed = |reason: String| MalformedEntry {
            id: entry.id.clone(),
            reason,
        };
        let text = |field: &str| {
            entry
                .get::<String>(field)
                .ok_or_else(|| malformed(format!("no field {field}")))
        };
        let version = text("v")?;
        if version != FORMAT_VERSION.to_string() {
            return Err(malformed(format!(
                "format version {version}; this build reads {FORMAT_VERSION}"
            )));
        }
        let received = text("received")?
            .parse()
            .map_err(|_| malformed("received is not a number".to_owned()))?;
        Ok(Self {
            id: entry.id.clone(),
            key: text("key")?,
            event: text("event")?,
            body: text("body")?,
            received,
            conflict: text("conflict")? == "1",
        })
    }
}

/// A stream entry that is not an entry of this format (another writer's, or of a newer
/// version): delivered with its ID, so that the consumer can set it aside and acknowledge it
/// instead of reading it again forever.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MalformedEntry {
    /// The stream's ID of the entry.
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for MalformedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream entry {}: {}", self.id, self.reason)
    }
}

impl std::error::Error for MalformedEntry {}

/// What a read delivers: each entry, or why it is not one of this format.
pub type Delivered = Result<StreamEntry, MalformedEntry>;

/// A member of a consumer group on the stream: it reads new entries, acknowledges them, and
/// claims the entries another member read and left unacknowledged (it crashed). Delivery is at
/// least once: a consumer must be idempotent by [`key`](StreamEntry::key).
///
/// ```no_run
/// use std::time::Duration;
/// use tower_tim_recall_handoff::StreamConsumer;
///
/// # async fn run() -> Result<(), tower_tim_recall_handoff::ConsumerError> {
/// let mut consumer =
///     StreamConsumer::connect("redis://127.0.0.1:6379", "tim:recalls", "archive", "archive-1").await?;
/// loop {
///     // What a crashed member left for more than a minute, then what is new.
///     let mut delivered = consumer.claim_stale(Duration::from_secs(60), 100).await?;
///     delivered.extend(consumer.read(100, Duration::from_secs(5)).await?);
///     let mut done = Vec::new();
///     for delivery in delivered {
///         match delivery {
///             Ok(entry) => {
///                 // Apply the recall, idempotently by entry.key.
///                 let _event = entry.event()?;
///                 done.push(entry.id);
///             }
///             // Not an entry of this format: set it aside (log it), and acknowledge it.
///             Err(malformed) => done.push(malformed.id),
///         }
///     }
///     let ids: Vec<&str> = done.iter().map(String::as_str).collect();
///     consumer.ack(&ids).await?;
/// }
/// # }
/// ```
pub struct StreamConsumer {
    connection: MultiplexedConnection,
    stream: String,
    group: String,
    consumer: String,
}

impl fmt::Debug for StreamConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamConsumer")
            .field("stream", &self.stream)
            .field("group", &self.group)
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl StreamConsumer {
    /// Connects to the Redis server at `url` as `consumer` of `group` on `stream`, and creates
    /// the group (reading from the stream's first entry) if it does not exist.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when the URL is malformed or Redis does not answer.
    pub async fn connect(
        url: &str,
        stream: &str,
        group: &str,
        consumer: &str,
    ) -> Result<Self, ConsumerError> {
        let target = Target::parse(url)?;
        // No response timeout: a read waits as long as its `block` says.
        let config = AsyncConnectionConfig::new().set_response_timeout(None);
        let mut connection = target
            .client()
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let created: redis::RedisResult<()> =
            connection.xgroup_create_mkstream(stream, group, "0").await;
        match created {
            Err(error) if error.code() != Some("BUSYGROUP") => return Err(error.into()),
            _ => {}
        }
        Ok(Self {
            connection,
            stream: stream.to_owned(),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
        })
    }

    /// At most `count` entries no member of the group has read, waiting up to `block` for the
    /// first one. They stay pending for this consumer until acknowledged.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when Redis fails.
    pub async fn read(
        &mut self,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Delivered>, ConsumerError> {
        let block = usize::try_from(block.as_millis())
            .unwrap_or(usize::MAX)
            .max(1);
        let options = StreamReadOptions::default()
            .group(&self.group, &self.consumer)
            .count(count)
            .block(block);
        let reply: Option<StreamReadReply> = self
            .connection
            .xread_options(&[&self.stream], &[">"], &options)
            .await?;
        let ids = reply
            .into_iter()
            .flat_map(|reply| reply.keys)
            .flat_map(|key| key.ids);
        Ok(ids.map(|id| StreamEntry::from_stream(&id)).collect())
    }

    /// Acknowledges the entries with these IDs: the group never hands them out again.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when Redis fails.
    pub async fn ack(&mut self, ids: &[&str]) -> Result<(), ConsumerError> {
        if ids.is_empty() {
            return Ok(());
        }
        let _: usize = self.connection.xack(&self.stream, &self.group, ids).await?;
        Ok(())
    }

    /// At most `count` entries that members of the group read but have not acknowledged for
    /// `min_idle` or longer (a consumer that crashed), now pending for this consumer.
    ///
    /// # Errors
    ///
    /// A [`ConsumerError`] when Redis fails.
    pub async fn claim_stale(
        &mut self,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<Delivered>, ConsumerError> {
        let min_idle = u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX);
        let options = StreamAutoClaimOptions::default().count(count);
        let reply: StreamAutoClaimReply = self
            .connection
            .xautoclaim_options(
                &self.stream,
                &self.group,
                &self.consumer,
                min_idle,
                "0-0",
                options,
            )
            .await?;
        Ok(reply.claimed.iter().map(StreamEntry::from_stream).collect())
    }
}
