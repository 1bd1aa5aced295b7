//! The command line: `serve` (the default) and `dump`, each flag also an environment variable
//! `TIM_RECALL_` plus its name. Only parsing here; [`crate::settings`] turns the flags into
//! what the relay runs with, and says what is wrong with them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::limits;

/// Receives Tencent Cloud IM's recall callbacks, verifies them, and makes each recalled
/// message durable once, in an SQLite journal or a Redis stream, before answering OK.
///
/// Point the console's callback URL at http(s)://HOST:PORT/im/callback. Without --sdkappid it
/// runs for the demo app 1400000000; without a token, callbacks are not signed.
// No `Debug` here or on `Serve`: the flags hold the callback tokens and the Redis URL.
#[derive(Parser)]
#[command(
    name = "tim-recall-relay",
    version,
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) serve: Serve,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the receiver (what the program does without a subcommand).
    Serve(Box<Serve>),
    /// Print every journal entry as one JSON line, in order; safe while a relay runs on it.
    Dump(Dump),
}

/// The receiver's flags.
#[derive(Args)]
pub(crate) struct Serve {
    /// Where to listen.
    #[arg(
        long,
        env = "TIM_RECALL_ADDR",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:3000"
    )]
    pub(crate) addr: String,
    /// Serve /healthz, /readyz and /metrics on this address (127.0.0.1:9090, say) instead of
    /// the callback's: they then stay off the port that faces the internet.
    #[arg(long, env = "TIM_RECALL_ADMIN_ADDR", value_name = "HOST:PORT")]
    pub(crate) admin_addr: Option<String>,
    /// The callback URL's path, as configured in the console.
    #[arg(long, env = "TIM_RECALL_PATH", default_value = "/im/callback")]
    pub(crate) path: String,
    /// An SDKAppID to accept; repeat, or separate with commas in the variable
    /// [default: 1400000000, the demo app].
    #[arg(
        long = "sdkappid",
        env = "TIM_RECALL_SDKAPPID",
        value_name = "N",
        value_delimiter = ','
    )]
    pub(crate) apps: Vec<u64>,
    /// The console's callback token: turns on the signature check. Repeat while the token is
    /// rotated. Prefer the variable TIM_CALLBACK_TOKEN (or TIM_RECALL_TOKEN) or --token-file:
    /// ps shows flags.
    #[arg(
        long = "token",
        env = "TIM_RECALL_TOKEN",
        value_name = "T",
        hide_env_values = true
    )]
    pub(crate) tokens: Vec<String>,
    /// A file holding the callback tokens, one per line (a secret store's mount).
    #[arg(long, env = "TIM_RECALL_TOKEN_FILE", value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,
    /// The SQLite journal: the destination, or with --redis where recalls spill.
    #[arg(
        long,
        env = "TIM_RECALL_JOURNAL",
        value_name = "PATH",
        default_value = "tim-recall.db"
    )]
    pub(crate) journal: PathBuf,
    /// The most the journal file may grow to, in bytes; a recall that would pass it is
    /// answered 500 (recall store unavailable) [default: no limit].
    #[arg(long, env = "TIM_RECALL_JOURNAL_MAX_BYTES", value_name = "BYTES")]
    pub(crate) journal_max_bytes: Option<u64>,
    /// A Redis server whose stream is the destination: redis://user:password@host:port/db (the
    /// user, the password and the database optional) or unix:///path; TLS (rediss://) is not in
    /// this build. Prefer the variable: ps shows flags.
    #[arg(
        long,
        env = "TIM_RECALL_REDIS",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) redis: Option<String>,
    /// The Redis stream's name.
    #[arg(long, env = "TIM_RECALL_STREAM", value_name = "NAME", default_value = tower_tim_recall_handoff::DEFAULT_STREAM)]
    pub(crate) stream: String,
    /// How long a recalled message's key is remembered: a retry within it is a duplicate.
    #[arg(long, env = "TIM_RECALL_DEDUP_WINDOW", value_name = "DURATION", default_value = "10m", value_parser = duration)]
    pub(crate) dedup_window: Duration,
    /// How old a signed callback's RequestTime may be.
    #[arg(long, env = "TIM_RECALL_MAX_AGE", value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub(crate) max_age: Duration,
    /// How far ahead of this machine's clock a RequestTime may be.
    #[arg(long, env = "TIM_RECALL_MAX_AHEAD", value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub(crate) max_ahead: Duration,
    /// The most recalled messages one callback may name; a callback naming more is refused
    /// with 413 (each message is an entry that holds the whole body).
    #[arg(long, env = "TIM_RECALL_MAX_MESSAGES", value_name = "N", default_value_t = limits::MAX_MESSAGES)]
    pub(crate) max_messages: usize,
    /// The largest callback body accepted, in bytes.
    #[arg(long, env = "TIM_RECALL_BODY_LIMIT", value_name = "BYTES", default_value_t = 64 * 1024)]
    pub(crate) body_limit: usize,
    /// The certificate chain (PEM) to serve HTTPS with; needs --tls-key.
    #[arg(
        long,
        env = "TIM_RECALL_TLS_CERT",
        value_name = "PATH",
        requires = "tls_key"
    )]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(
        long,
        env = "TIM_RECALL_TLS_KEY",
        value_name = "PATH",
        requires = "tls_cert"
    )]
    pub(crate) tls_key: Option<PathBuf>,
    /// Leave out the JSON line per stored entry on standard output.
    #[arg(long, env = "TIM_RECALL_QUIET")]
    pub(crate) quiet: bool,
    /// The log's format on standard error.
    #[arg(
        long,
        env = "TIM_RECALL_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub(crate) log_format: LogFormat,
    /// The least severe log events written: error, warn, info, debug or trace.
    #[arg(
        long,
        env = "TIM_RECALL_LOG_LEVEL",
        value_name = "LEVEL",
        default_value = "info"
    )]
    pub(crate) log_level: tracing_subscriber::filter::LevelFilter,
    #[command(flatten)]
    pub(crate) limits: Limits,
}

/// The limits a server facing the internet needs (see SECURITY.md): each default is safe.
#[derive(Debug, Args)]
pub(crate) struct Limits {
    /// Time for a client to send a request's head, counted from when the connection is open or
    /// idle: also how long an idle keep-alive connection stays open.
    #[arg(long, env = "TIM_RECALL_HEADER_TIMEOUT", value_name = "DURATION", default_value = limits::HEADER_TIMEOUT, value_parser = duration)]
    pub(crate) header_timeout: Duration,
    /// Time for a request's body to arrive and its answer to be made, from the end of its head.
    #[arg(long, env = "TIM_RECALL_REQUEST_TIMEOUT", value_name = "DURATION", default_value = limits::REQUEST_TIMEOUT, value_parser = duration)]
    pub(crate) request_timeout: Duration,
    /// Connections served at once; more wait in the kernel's queue.
    #[arg(long, env = "TIM_RECALL_MAX_CONNECTIONS", value_name = "N", default_value_t = limits::MAX_CONNECTIONS)]
    pub(crate) max_connections: usize,
    /// The largest request head (request line and headers), in bytes; at least 8192.
    #[arg(long, env = "TIM_RECALL_MAX_HEAD", value_name = "BYTES", default_value_t = limits::MAX_HEAD)]
    pub(crate) max_head: usize,
    /// After SIGTERM or SIGINT, how long requests in flight may take before their connections
    /// are dropped.
    #[arg(long, env = "TIM_RECALL_SHUTDOWN_TIMEOUT", value_name = "DURATION", default_value = limits::SHUTDOWN_TIMEOUT, value_parser = duration)]
    pub(crate) shutdown_timeout: Duration,
}

/// `dump`'s flags.
#[derive(Debug, Args)]
pub(crate) struct Dump {
    /// The journal to read.
    #[arg(
        long,
        env = "TIM_RECALL_JOURNAL",
        value_name = "PATH",
        default_value = "tim-recall.db"
    )]
    pub(crate) journal: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event.
    Json,
}

/// A duration as `10m`, `90s`, `500ms`, `1h 30m` (humantime's forms).
fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|error| format!("{error} (write it as 90s, 10m, 500ms)"))
}
