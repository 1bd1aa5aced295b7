//! The layer's configuration, and the rows of the decision table that the request head
//! decides.

use std::fmt;

use http::{header, HeaderMap, Method};
use http_body::SizeHint;

use crate::clock::Clock;
use crate::protocol::app::SdkAppId;
use crate::protocol::context::CallbackContext;
use crate::protocol::query::{CallbackQuery, Scanned};
use crate::protocol::recall_kind::{RecallKind, RecallKinds};
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
#[derive(Clone)]
pub(crate) struct Policy {
    /// Allowed apps, sorted by SDKAppID, each once, with their credentials.
    apps: Box<[(SdkAppId, Credentials)]>,
    /// How far `RequestTime` may be behind the clock, in seconds.
    pub(crate) max_age: u64,
    /// How far `RequestTime` may be ahead of the clock, in seconds.
    pub(crate) max_ahead: u64,
    /// The largest callback body read, in bytes.
    pub(crate) body_limit: usize,
    /// The most recalled messages one callback may name; `None`: as many as the body holds.
    pub(crate) max_messages: Option<usize>,
    pub(crate) clock: Clock,
    /// The recall callbacks the layer takes.
    pub(crate) recalls: RecallKinds,
    /// Whether other callback commands are held to the app and signature rows.
    pub(crate) guard: bool,
}

impl Policy {
    /// The policy for these apps, each with its credentials. The builder has checked that there
    /// is at least one app, that no app is given twice, and that some recall is taken.
    pub(crate) fn new(mut apps: Vec<(SdkAppId, Credentials)>, settings: Policy) -> Self {
        apps.sort_unstable_by_key(|(app, _)| *app);
        debug_assert!(!apps.is_empty());
        debug_assert!(apps.windows(2).all(|pair| pair[0].0 != pair[1].0));
        debug_assert!(!settings.recalls.is_empty());
        Self {
            apps: apps.into_boxed_slice(),
            ..settings
        }
    }

    /// The settings of a policy, before its apps: 60 seconds either way, 64 KiB, the system
    /// clock, every recall, the guard off.
    pub(crate) fn defaults() -> Self {
        Self {
            apps: Box::new([]),
            max_age: 60,
            max_ahead: 60,
            body_limit: 64 * 1024,
            max_messages: None,
            clock: Clock::default(),
            recalls: RecallKinds::ALL,
            guard: false,
        }
    }

    fn credentials(&self, app: SdkAppId) -> Option<&Credentials> {
        let index = self.apps.binary_search_by_key(&app, |(app, _)| *app).ok()?;
        Some(&self.apps[index].1)
    }

    /// Applies every row of the decision table that the request head decides, in the table's
    /// order. For a recall callback: the method, the app, the signature, the shape of the
    /// query, then the size of the body as `Content-Length` or the body's own size hint tells
    /// it. For another command, with the guard on: the app and the signature alone. The body is
    /// not touched. On success, says what to do next.
    pub(crate) fn admit<'s>(
        &self,
        scanned: &'s Scanned<'_>,
        method: &Method,
        headers: &HeaderMap,
        body: &SizeHint,
    ) -> Result<Admitted<'s>, Rejection> {
        let (kind, query) = match scanned {
            Scanned::Other(query) => {
                let context = self.verify(query)?;
                let command = query.command();
                return Ok(Admitted::Other { command, context });
            }
            Scanned::Recall(kind, query) => (*kind, query),
        };
        if method != Method::POST {
            return Err(Rejection::METHOD);
        }
        let context = self.verify(query)?;
        query.check_command()?;
        query.check_content_type()?;
        let limit = self.body_limit as u64;
        let too_large = match body.exact() {
            // A body that knows its length (hyper's knows it from `Content-Length`).
            Some(length) => length > limit,
            None => {
                declared_length(headers).is_some_and(|length| length > limit)
                    || body.lower() > limit
            }
        };
        if too_large {
            return Err(Rejection::TOO_LARGE);
        }
        Ok(Admitted::Recall {
            kind,
            context,
            expected: body.exact().unwrap_or(body.lower()),
        })
    }

    /// The last second, by the layer's clock, at which a recall with this verified context may
    /// complete its body: `RequestTime` plus `max_age`, for a signed app; `None` unsigned.
    pub(crate) fn window_end(&self, context: &CallbackContext) -> Option<u64> {
        context
            .request_time
            .map(|time| time.saturating_add(self.max_age))
    }

    /// The app, then, for a signed app, `RequestTime` and `Sign`.
    fn verify(&self, query: &CallbackQuery<'_>) -> Result<CallbackContext, Rejection> {
        let app = query.sdk_app_id()?;
        let credentials = self.credentials(app).ok_or(Rejection::APP_NOT_ALLOWED)?;
        let request_time = match credentials {
            Credentials::Unsigned => None,
            Credentials::Signed(tokens) => {
                let (time, sign) = query.signature()?;
                let verifier = Verifier {
                    tokens,
                    now: self.clock.now_secs(),
                    max_age: self.max_age,
                    max_ahead: self.max_ahead,
                };
                Some(verifier.verify(time, sign)?)
            }
        };
        Ok(query.context(app, request_time))
    }
}

/// What to do with a callback whose head passed every row: read the body of a recall, or pass
/// another command, verified, on to the inner service.
#[derive(Debug)]
pub(crate) enum Admitted<'s> {
    /// A recall of `kind` with its verified context; the body is about `expected` bytes long,
    /// as its size hint tells.
    Recall {
        kind: RecallKind,
        context: CallbackContext,
        expected: u64,
    },
    /// Another command, verified by the guard.
    Other {
        command: &'s str,
        context: CallbackContext,
    },
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
            .field("max_age", &self.max_age)
            .field("max_ahead", &self.max_ahead)
            .field("body_limit", &self.body_limit)
            .field("max_messages", &self.max_messages)
            .field("clock", &self.clock)
            .field("recalls", &self.recalls)
            .field("guard", &self.guard)
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
