//! What the relay runs with, made from its flags: the layer, the handoff, TLS and the limits.
//! Every way the flags can be wrong is a [`SettingsError`] of one line, which the program
//! prints before it listens, exiting 2.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tower_tim_recall::RecallLayer;
use tower_tim_recall_handoff::Handoff;

use crate::cli::{Limits, Serve};
use crate::limits::{MAX_CONNECTIONS_LIMIT, MIN_BODY_LIMIT, MIN_HEAD, MIN_JOURNAL_BYTES};
use crate::tls;

/// The app accepted when no `--sdkappid` is given: the one in Tencent's examples.
pub(crate) const DEMO_SDKAPPID: u64 = 1_400_000_000;

/// Where the callback token is read from when no `--token` or `--token-file` is given, as the
/// crate's examples do.
pub(crate) const TOKEN_ENV: &str = "TIM_CALLBACK_TOKEN";

/// The paths the relay answers itself.
pub(crate) const HEALTHZ: &str = "/healthz";
pub(crate) const READYZ: &str = "/readyz";
pub(crate) const METRICS: &str = "/metrics";

/// A configuration the relay cannot run with: one line, for standard error.
#[derive(Debug)]
pub(crate) struct SettingsError(String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

impl From<String> for SettingsError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

fn error(message: impl Into<String>) -> SettingsError {
    SettingsError(message.into())
}

/// The relay's configuration, checked.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) addr: String,
    pub(crate) admin_addr: Option<String>,
    pub(crate) path: String,
    /// The layer in forward mode; the relay sets its handler.
    pub(crate) layer: RecallLayer,
    pub(crate) handoff: Handoff,
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) quiet: bool,
    pub(crate) limits: Limits,
    /// The apps accepted, for the start-up line.
    pub(crate) apps: Vec<u64>,
    /// Whether callbacks must be signed.
    pub(crate) signed: bool,
    /// Where the tokens came from, and how many, for the start-up line.
    pub(crate) tokens: (&'static str, usize),
}

impl Settings {
    /// Checks the flags and opens the handoff (within a tokio runtime: the Redis connection
    /// lives on it).
    pub(crate) fn new(serve: Serve) -> Result<Self, SettingsError> {
        check_path(&serve.path)?;
        if serve.apps.contains(&0) {
            return Err(error("--sdkappid 0 is no app: give your app's SDKAppID"));
        }
        if serve.body_limit < MIN_BODY_LIMIT {
            return Err(error(format!(
                "--body-limit must be at least {MIN_BODY_LIMIT} bytes"
            )));
        }
        if let Some(directory) = serve
            .journal
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
        {
            if !directory.is_dir() {
                return Err(error(format!(
                    "cannot open the journal {}: its directory {} does not exist",
                    serve.journal.display(),
                    directory.display()
                )));
            }
        }
        check_limits(&serve.limits)?;
        let (tokens, source) = tokens(&serve.tokens, serve.token_file.as_deref())?;
        let apps = if serve.apps.is_empty() {
            vec![DEMO_SDKAPPID]
        } else {
            serve.apps.clone()
        };

        let mut layer = RecallLayer::builder()
            .guard_other_commands()
            .max_age(serve.max_age)
            .max_ahead(serve.max_ahead)
            .body_limit(serve.body_limit)
            .max_messages(serve.max_messages);
        for &app in &apps {
            layer = if tokens.is_empty() {
                layer.unsigned_app(app)
            } else {
                layer.signed_app(app, tokens.iter().cloned())
            };
        }
        if tokens.is_empty() {
            layer = layer.allow_unsigned_apps();
        }
        let layer = layer
            .build()
            .map_err(|e| error(format!("invalid settings: {e}")))?;

        let tls = match (&serve.tls_cert, &serve.tls_key) {
            (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
            _ => None,
        };

        let mut handoff = Handoff::builder(&serve.journal).dedup_window(serve.dedup_window);
        if let Some(bytes) = serve.journal_max_bytes {
            if bytes < MIN_JOURNAL_BYTES {
                return Err(error(format!(
                    "--journal-max-bytes must be at least {MIN_JOURNAL_BYTES}"
                )));
            }
            handoff = handoff.journal_max_bytes(bytes);
        }
        if let Some(url) = &serve.redis {
            handoff = handoff.redis(url.as_str()).stream(serve.stream.as_str());
        }
        // The handoff's errors name the journal or the URL without its password.
        let handoff = handoff.open().map_err(|e| error(e.to_string()))?;

        Ok(Self {
            addr: serve.addr,
            admin_addr: serve.admin_addr,
            path: serve.path,
            layer,
            handoff,
            tls,
            quiet: serve.quiet,
            limits: serve.limits,
            signed: !tokens.is_empty(),
            tokens: (source, tokens.len()),
            apps,
        })
    }
}

/// The callback path: absolute, without a query, and not one the relay answers itself.
fn check_path(path: &str) -> Result<(), SettingsError> {
    // `{`, `}`, `*` and `:` would be route parameters to the router.
    let unusable = ['?', '#', '{', '}', '*', ':'];
    if !path.starts_with('/') || path.contains(unusable) || path.chars().any(char::is_whitespace) {
        return Err(error(format!(
            "--path must be an absolute URL path such as /im/callback, not {path:?}"
        )));
    }
    if [HEALTHZ, READYZ, METRICS].contains(&path) {
        return Err(error(format!(
            "--path cannot be {path}: the relay answers it itself"
        )));
    }
    Ok(())
}

fn check_limits(limits: &Limits) -> Result<(), SettingsError> {
    let timeouts = [
        ("--header-timeout", limits.header_timeout),
        ("--request-timeout", limits.request_timeout),
        ("--shutdown-timeout", limits.shutdown_timeout),
    ];
    for (flag, value) in timeouts {
        if value < Duration::from_millis(1) {
            return Err(error(format!("{flag} must be at least 1ms")));
        }
    }
    if !(1..=MAX_CONNECTIONS_LIMIT).contains(&limits.max_connections) {
        return Err(error(format!(
            "--max-connections must be between 1 and {MAX_CONNECTIONS_LIMIT}"
        )));
    }
    if limits.max_head < MIN_HEAD {
        return Err(error(format!(
            "--max-head must be at least {MIN_HEAD} bytes"
        )));
    }
    Ok(())
}

/// The callback tokens: `--token`s and the lines of `--token-file`, or else the one in
/// [`TOKEN_ENV`]; none means callbacks are not signed.
fn tokens(
    flags: &[String],
    file: Option<&Path>,
) -> Result<(Vec<String>, &'static str), SettingsError> {
    let mut tokens = flags.to_vec();
    let mut source = match (flags.is_empty(), file.is_some()) {
        (true, false) => "none",
        (true, true) => "--token-file",
        (false, false) => "--token",
        (false, true) => "--token and --token-file",
    };
    if let Some(file) = file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            error(format!(
                "cannot read the token file {}: {e}",
                file.display()
            ))
        })?;
        let before = tokens.len();
        // One token a line; blank lines and lines beginning with `#` are not tokens.
        tokens.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned),
        );
        if tokens.len() == before {
            return Err(error(format!(
                "the token file {} holds no token",
                file.display()
            )));
        }
    }
    if tokens.is_empty() {
        match std::env::var(TOKEN_ENV) {
            Ok(token) => {
                tokens.push(token);
                source = TOKEN_ENV;
            }
            Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(error(format!("{TOKEN_ENV} is not UTF-8")))
            }
        }
    }
    Ok((tokens, source))
}
