//! The checks a recall callback must pass before its body is read.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{header, HeaderMap, Method};

use crate::protocol::event::SdkAppId;
use crate::protocol::query::{CallbackQuery, QueryContext};
use crate::protocol::rejection::Rejection;
use crate::protocol::signature::{TokenSet, Verifier};

/// The default limit on a callback body: 64 KiB.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The default time window for `RequestTime`, either way: one minute, as Tencent advises.
pub(crate) const DEFAULT_WINDOW_SECS: u64 = 60;

/// How one allowed app's callbacks are authenticated.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// Authentication is off in the console: `Sign` and `RequestTime` are ignored.
    Unsigned,
    /// Every callback must be signed with one of these tokens, at a time within the window.
    Signed(TokenSet),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Unsigned => f.write_str("unsigned"),
            Credentials::Signed(tokens) => write!(f, "signed with {tokens:?}"),
        }
    }
}

/// The layer's configuration, shared by every clone of the layer and its services.
#[derive(Clone)]
pub(crate) struct Policy {
    /// Allowed apps, sorted by SDKAppID, each once, with their credentials.
    apps: Box<[(SdkAppId, Credentials)]>,
    pub(crate) window_secs: u64,
    pub(crate) body_limit: usize,
    pub(crate) clock: Clock,
}

impl Policy {
    /// A policy for these apps, each with its own credentials. The apps must be distinct and
    /// there must be at least one: the builder checks both before calling this.
    pub(crate) fn new(mut apps: Vec<(SdkAppId, Credentials)>) -> Self {
        apps.sort_unstable_by_key(|(app, _)| *app);
        debug_assert!(!apps.is_empty());
        debug_assert!(apps.windows(2).all(|pair| pair[0].0 != pair[1].0));
        Self {
            apps: apps.into_boxed_slice(),
            window_secs: DEFAULT_WINDOW_SECS,
            body_limit: DEFAULT_BODY_LIMIT,
            clock: Clock::system(),
        }
    }

    /// A policy for these apps, all unsigned; an app listed twice counts once.
    ///
    /// # Panics
    ///
    /// When `apps` is empty.
    pub(crate) fn unsigned(apps: impl IntoIterator<Item = SdkAppId>) -> Self {
        let mut apps: Vec<SdkAppId> = apps.into_iter().collect();
        assert!(
            !apps.is_empty(),
            "the SdkAppid allowlist is empty: every callback would be refused"
        );
        apps.sort_unstable();
        apps.dedup();
        Self::new(
            apps.into_iter()
                .map(|app| (app, Credentials::Unsigned))
                .collect(),
        )
    }

    /// Whether any app's callbacks must be signed.
    pub(crate) fn has_signed_app(&self) -> bool {
        self.apps
            .iter()
            .any(|(_, credentials)| matches!(credentials, Credentials::Signed(_)))
    }

    /// Requires every app's callbacks to be signed with one of `tokens`. The layer calls this on
    /// a policy without signed apps only.
    pub(crate) fn sign_all(&mut self, tokens: &TokenSet) {
        debug_assert!(!self.has_signed_app());
        for (_, credentials) in self.apps.iter_mut() {
            *credentials = Credentials::Signed(tokens.clone());
        }
    }

    fn credentials(&self, app: SdkAppId) -> Option<&Credentials> {
        let index = self.apps.binary_search_by_key(&app, |(app, _)| *app).ok()?;
        Some(&self.apps[index].1)
    }

    /// Applies every row of the decision table that the request head decides, in the table's
    /// order: method, app, signature, then the shape of the request. On success, returns the
    /// query context to keep with the event.
    pub(crate) fn admit(
        &self,
        method: &Method,
        headers: &HeaderMap,
        query: &CallbackQuery<'_>,
    ) -> Result<QueryContext, Rejection> {
        if method != Method::POST {
            return Err(Rejection::METHOD);
        }
        let app = query.sdk_app_id()?;
        let credentials = self.credentials(app).ok_or(Rejection::APP_NOT_ALLOWED)?;
        let request_time = match credentials {
            Credentials::Unsigned => None,
            Credentials::Signed(tokens) => {
                let (time, sign) = query.signature()?;
                let verifier = Verifier {
                    tokens,
                    now: self.clock.now_secs(),
                    window: self.window_secs,
                };
                Some(verifier.verify(time, sign)?)
            }
        };
        query.check_command()?;
        query.check_content_type()?;
        if declared_length(headers).is_some_and(|length| length > self.body_limit as u64) {
            return Err(Rejection::TOO_LARGE);
        }
        Ok(query.context(app, request_time))
    }
}

/// The `Content-Length` a request declares, when it declares exactly one that is a number.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()?.trim().parse().ok()
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let apps = self
            .apps
            .iter()
            .map(|(app, credentials)| (app.get(), credentials));
        f.debug_struct("Policy")
            .field("apps", &DebugMap(apps))
            .field("window_secs", &self.window_secs)
            .field("body_limit", &self.body_limit)
            .field("clock", &self.clock)
            .finish()
    }
}

/// Shows pairs as a map, for `Debug`.
pub(crate) struct DebugMap<I>(pub(crate) I);

impl<K: fmt::Debug, V: fmt::Debug, I: Iterator<Item = (K, V)> + Clone> fmt::Debug for DebugMap<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.clone()).finish()
    }
}

/// Where the layer reads the time to check `RequestTime` against.
#[derive(Clone)]
pub(crate) struct Clock(Option<Arc<dyn Fn() -> SystemTime + Send + Sync>>);

impl Clock {
    pub(crate) fn system() -> Self {
        Self(None)
    }

    pub(crate) fn custom(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(now)))
    }

    /// Unix seconds now; 0 for a clock set before 1970.
    fn now_secs(&self) -> u64 {
        let now = match &self.0 {
            None => SystemTime::now(),
            Some(clock) => clock(),
        };
        now.duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "custom" } else { "system" })
    }
}
