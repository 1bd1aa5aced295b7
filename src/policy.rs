//! The layer's configuration, and the rows of the decision table that the request head
//! decides.

use std::fmt;

use http::{header, HeaderMap, Method};
use http_body::SizeHint;

use crate::clock::Clock;
use crate::protocol::app::SdkAppId;
use crate::protocol::context::QueryContext;
use crate::protocol::query::CallbackQuery;
use crate::protocol::rejection::Rejection;
use crate::protocol::signature::{TokenSet, Verifier};

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

/// The layer's configuration, complete and checked by the builder, shared by every clone of
/// the layer and its services.
pub(crate) struct Policy {
    /// Allowed apps, sorted by SDKAppID, each once, with their credentials.
    apps: Box<[(SdkAppId, Credentials)]>,
    /// How far `RequestTime` may be from the clock, either way, in seconds.
    pub(crate) window_secs: u64,
    /// The largest callback body read, in bytes.
    pub(crate) body_limit: usize,
    pub(crate) clock: Clock,
}

impl Policy {
    /// A policy for these apps, each with its credentials. The builder has checked that there
    /// is at least one app and that no app is given twice.
    pub(crate) fn new(
        mut apps: Vec<(SdkAppId, Credentials)>,
        window_secs: u64,
        body_limit: usize,
        clock: Clock,
    ) -> Self {
        apps.sort_unstable_by_key(|(app, _)| *app);
        debug_assert!(!apps.is_empty());
        debug_assert!(apps.windows(2).all(|pair| pair[0].0 != pair[1].0));
        Self {
            apps: apps.into_boxed_slice(),
            window_secs,
            body_limit,
            clock,
        }
    }

    fn credentials(&self, app: SdkAppId) -> Option<&Credentials> {
        let index = self.apps.binary_search_by_key(&app, |(app, _)| *app).ok()?;
        Some(&self.apps[index].1)
    }

    /// Applies every row of the decision table that the request head decides, in the table's
    /// order: the method, the app, the signature, the shape of the query, then the size of the
    /// body as `Content-Length` or the body's own size hint tells it. The body is not touched.
    /// On success, returns the query context to keep with the event.
    pub(crate) fn admit(
        &self,
        method: &Method,
        headers: &HeaderMap,
        body: &SizeHint,
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
        let limit = self.body_limit as u64;
        if declared_length(headers).is_some_and(|length| length > limit) || body.lower() > limit {
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
