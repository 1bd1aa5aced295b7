//! The handoff's errors: [`OpenError`] when it is built, [`Unavailable`] when a recall cannot
//! be made durable, and [`ConsumerError`] for the consumers.

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};

use tower_tim_recall::HandlerError;

/// Why a handoff or a consumer could not be built: a journal that cannot be opened or is of
/// another format, a malformed Redis URL, a Redis that refuses the URL's credentials or
/// database ([`Handoff::check_redis`](crate::Handoff::check_redis)), or no tokio runtime to
/// run on. Its message never holds a Redis URL or its password.
#[derive(Debug)]
pub struct OpenError {
    what: What,
}

#[derive(Debug)]
enum What {
    Journal {
        path: PathBuf,
        source: rusqlite::Error,
    },
    JournalFormat {
        path: PathBuf,
        why: String,
    },
    RedisUrl {
        why: &'static str,
    },
    RedisRefused {
        why: String,
    },
    StreamName,
    Setting(&'static str),
    NoRuntime,
}

impl OpenError {
    pub(crate) fn journal(path: &Path, source: rusqlite::Error) -> Self {
        let path = path.to_owned();
        Self {
            what: What::Journal { path, source },
        }
    }

    pub(crate) fn journal_format(path: &Path, why: String) -> Self {
        let path = path.to_owned();
        Self {
            what: What::JournalFormat { path, why },
        }
    }

    pub(crate) fn redis_url(why: &'static str) -> Self {
        Self {
            what: What::RedisUrl { why },
        }
    }

    pub(crate) fn redis_refused(why: String) -> Self {
        Self {
            what: What::RedisRefused { why },
        }
    }

    pub(crate) fn stream_name() -> Self {
        Self {
            what: What::StreamName,
        }
    }

    pub(crate) fn setting(why: &'static str) -> Self {
        Self {
            what: What::Setting(why),
        }
    }

    pub(crate) fn no_runtime() -> Self {
        Self {
            what: What::NoRuntime,
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.what {
            What::Journal { path, source } => {
                // SQLite's message for a file it cannot open repeats the path: its code's
                // description says the same without it.
                let why = match source {
                    rusqlite::Error::SqliteFailure(code, _) => {
                        rusqlite::ffi::code_to_str(code.extended_code).to_owned()
                    }
                    other => other.to_string(),
                };
                write!(f, "cannot open the journal {}: {why}", path.display())
            }
            What::JournalFormat { path, why } => {
                write!(f, "cannot use the journal {}: {why}", path.display())
            }
            What::RedisUrl { why } => write!(f, "malformed Redis URL: {why}"),
            What::RedisRefused { why } => {
                write!(f, "Redis refuses the handoff's connection: {why}")
            }
            What::StreamName => f.write_str("the stream name is empty"),
            What::Setting(why) => f.write_str(why),
            What::NoRuntime => f.write_str("the handoff must be opened inside a tokio runtime"),
        }
    }
}

impl Error for OpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.what {
            What::Journal { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The reason the layer answers with when a recall cannot be made durable.
pub(crate) const UNAVAILABLE: HandlerError = HandlerError::new("recall store unavailable");

/// A recall could not be made durable anywhere within the budget: the layer answers `500`
/// with the reason `recall store unavailable` (this error's [`source`](Error::source) is the
/// [`HandlerError`] that names it), and nothing was answered `OK`.
///
/// An entry may still reach the store after the budget ran out (a commit that was slow, not
/// failed); Tencent's retry of the callback is then a duplicate.
#[derive(Debug)]
pub struct Unavailable {
    keys: Vec<String>,
}

impl Unavailable {
    pub(crate) fn new(keys: Vec<String>) -> Self {
        Self { keys }
    }

    /// The dedup keys of the recall that was not stored.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(UNAVAILABLE.reason())
    }
}

impl Error for Unavailable {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&UNAVAILABLE)
    }
}

/// Why a consumer's read, acknowledgement or mark failed.
#[derive(Debug)]
pub struct ConsumerError {
    what: ConsumerWhat,
}

#[derive(Debug)]
enum ConsumerWhat {
    Open(OpenError),
    Sqlite(rusqlite::Error),
    Redis(redis::RedisError),
    Entry(String),
}

impl ConsumerError {
    pub(crate) fn entry(why: String) -> Self {
        Self {
            what: ConsumerWhat::Entry(why),
        }
    }
}

impl From<OpenError> for ConsumerError {
    fn from(error: OpenError) -> Self {
        Self {
            what: ConsumerWhat::Open(error),
        }
    }
}

impl From<rusqlite::Error> for ConsumerError {
    fn from(error: rusqlite::Error) -> Self {
        Self {
            what: ConsumerWhat::Sqlite(error),
        }
    }
}

impl From<redis::RedisError> for ConsumerError {
    fn from(error: redis::RedisError) -> Self {
        Self {
            what: ConsumerWhat::Redis(error),
        }
    }
}

impl fmt::Display for ConsumerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.what {
            ConsumerWhat::Open(error) => error.fmt(f),
            ConsumerWhat::Sqlite(error) => write!(f, "journal: {error}"),
            ConsumerWhat::Redis(error) => write!(f, "redis: {error}"),
            ConsumerWhat::Entry(why) => write!(f, "malformed entry: {why}"),
        }
    }
}

impl Error for ConsumerError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.what {
            ConsumerWhat::Open(error) => Some(error),
            ConsumerWhat::Sqlite(error) => Some(error),
            ConsumerWhat::Redis(error) => Some(error),
            ConsumerWhat::Entry(_) => None,
        }
    }
}
