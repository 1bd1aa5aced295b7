//! How a [`RecallLayer`] is made, its constructors and its builder: [`RecallLayer::new`] and
//! [`RecallLayer::unsigned`] for the common cases, [`RecallLayerBuilder`] for per-app
//! credentials and the other settings. Every way checks the whole configuration and returns a
//! [`ConfigError`] for a mistake.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config_error::ConfigError;
use crate::layer::RecallLayer;
use crate::policy::{Credentials, DebugMap, Policy};
use crate::protocol::app::SdkAppId;
use crate::protocol::recall_kind::{RecallKind, RecallKinds};
use crate::protocol::signature::{Token, TokenProblem, TokenSet};

impl RecallLayer {
    /// A layer in forward mode for these apps, every one signed with any token of `tokens`:
    /// the common case, where Tencent's console has callback authentication on and one token
    /// (or, while it is being changed, the new and the old one) for all the apps served here.
    ///
    /// Every recall callback must then carry `RequestTime` at most 60 seconds away from this
    /// machine's clock, either way, and `Sign = hex(SHA-256(token ‖ RequestTime))` for one of
    /// the tokens, or is refused with 401 before its body is read. The layer takes the three
    /// recall callbacks, reads bodies of up to 64 KiB, and passes every other request on
    /// untouched. For other settings, or apps with tokens of their own, use
    /// [`RecallLayer::builder`].
    ///
    /// Tokens come from the environment, a file or a secret store, so a bad one is an error,
    /// never a panic:
    ///
    /// ```
    /// use tower_tim_recall::{ConfigError, RecallLayer};
    ///
    /// let layer = RecallLayer::new([1400000000], ["the console's callback token"])?;
    /// # drop(layer);
    /// // A token read from a file with its line break would never verify a callback.
    /// let padded = RecallLayer::new([1400000000], ["the console's callback token\n"]);
    /// assert_eq!(padded.unwrap_err(), ConfigError::PaddedToken(1400000000.into()));
    /// # Ok::<(), ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When `apps` is empty or lists an app twice, or `tokens` is empty or holds a token that
    /// is empty or starts or ends with whitespace.
    pub fn new<A, T>(apps: A, tokens: T) -> Result<Self, ConfigError>
    where
        A: IntoIterator,
        A::Item: Into<SdkAppId>,
        T: IntoIterator,
        T::Item: AsRef<str>,
    {
        let tokens = tokens_of(tokens);
        apps.into_iter()
            .fold(Self::builder(), |builder, app| {
                builder.app(app.into(), Some(tokens.clone()))
            })
            .build()
    }

    /// A layer in forward mode for these apps **without signatures**: for an app whose
    /// console has callback authentication off. Anyone who knows the callback URL and one of
    /// these SDKAppIDs (they are not secret: they ship inside client apps) can then post
    /// recalls that the layer accepts; `SECURITY.md` says what follows. Prefer
    /// [`RecallLayer::new`] with the console's token.
    ///
    /// ```
    /// use tower_tim_recall::RecallLayer;
    ///
    /// let layer = RecallLayer::unsigned([1400000000])?;
    /// # drop(layer);
    /// # Ok::<(), tower_tim_recall::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When `apps` is empty or lists an app twice.
    pub fn unsigned<A>(apps: A) -> Result<Self, ConfigError>
    where
        A: IntoIterator,
        A::Item: Into<SdkAppId>,
    {
        apps.into_iter()
            .fold(Self::builder().allow_unsigned_apps(), |builder, app| {
                builder.unsigned_app(app)
            })
            .build()
    }

    /// Starts the configuration of a layer app by app, each with its own tokens or none, and
    /// with the other settings; see [`RecallLayerBuilder`]. Signatures are required unless
    /// [`allow_unsigned_apps`](RecallLayerBuilder::allow_unsigned_apps) says otherwise.
    pub fn builder() -> RecallLayerBuilder {
        RecallLayerBuilder::default()
    }
}

/// Configures a [`RecallLayer`]: which apps may call and how each one signs, and the
/// layer's limits; made by [`RecallLayer::builder`].
///
/// One receiver may serve several apps (production and staging, or several products), each with
/// its own callback token in Tencent's console, or with authentication off. The builder is
/// **secure by default**: every app must be a [`signed_app`](Self::signed_app) unless
/// [`allow_unsigned_apps`](Self::allow_unsigned_apps) is called. [`build`](Self::build) checks
/// the whole configuration and returns a [`ConfigError`] for any mistake, so that none is found
/// at the first callback; what it returns is complete.
///
/// ```
/// use std::time::Duration;
/// use tower_tim_recall::{RecallKind, RecallLayer};
///
/// # fn main() -> Result<(), tower_tim_recall::ConfigError> {
/// let layer = RecallLayer::builder()
///     // Being rotated in the console: callbacks signed with either token are accepted.
///     .signed_app(1400000000, ["current-token", "previous-token"])
///     .signed_app(1400000001, ["staging-token"])
///     .max_age(Duration::from_secs(30))
///     .max_ahead(Duration::from_secs(5))
///     .body_limit(16 * 1024)
///     .recalls([RecallKind::Group, RecallKind::OneToOne])
///     .guard_other_commands()
///     .build()?;
///
/// // An app with authentication off in the console must be allowed explicitly.
/// let mixed = RecallLayer::builder()
///     .signed_app(1400000000, ["current-token"])
///     .unsigned_app(1400000002)
///     .allow_unsigned_apps()
///     .build()?;
///
/// // Without that line, the layer is not built.
/// let refused = RecallLayer::builder()
///     .signed_app(1400000000, ["current-token"])
///     .unsigned_app(1400000002)
///     .build();
/// assert_eq!(refused.unwrap_err().to_string(),
///     "SdkAppid 1400000002 is unsigned, but the layer requires signatures \
///      (call allow_unsigned_apps to accept it)");
/// # drop((layer, mixed));
/// # Ok(())
/// # }
/// ```
///
/// `Debug` never shows a token.
#[derive(Clone)]
#[must_use]
pub struct RecallLayerBuilder {
    /// The apps in the order given; `None` for an unsigned app.
    apps: Vec<(SdkAppId, Option<Vec<Token>>)>,
    allow_unsigned: bool,
    /// Every other setting, as the layer will have it.
    settings: Policy,
}

impl Default for RecallLayerBuilder {
    fn default() -> Self {
        Self {
            apps: Vec::new(),
            allow_unsigned: false,
            settings: Policy::defaults(),
        }
    }
}

impl RecallLayerBuilder {
    /// Accepts callbacks for `app` signed with any token of `tokens`: the callback token set
    /// in Tencent's console for this app. List two tokens while the token is being changed in
    /// the console, and remove the old one when the change is done.
    ///
    /// Such a callback must carry `RequestTime` within [`max_age`](Self::max_age) and
    /// [`max_ahead`](Self::max_ahead) of the receiver's clock and
    /// `Sign = hex(SHA-256(token ‖ RequestTime))` for one of the tokens, or is refused with 401
    /// before its body is read.
    ///
    /// [`build`](Self::build) fails when `tokens` is empty, when one token is empty or starts or
    /// ends with whitespace (a token read from a file with its line break), or when the app is
    /// given twice.
    pub fn signed_app<I>(self, app: impl Into<SdkAppId>, tokens: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.app(app.into(), Some(tokens_of(tokens)))
    }

    /// Accepts callbacks for `app` without a signature: callback authentication is off for it
    /// in Tencent's console. `Sign` and `RequestTime` are then ignored for this app.
    ///
    /// Anyone who knows the callback URL and the SDKAppID can then post recall events for this
    /// app, so [`build`](Self::build) refuses an unsigned app unless
    /// [`allow_unsigned_apps`](Self::allow_unsigned_apps) is called too.
    pub fn unsigned_app(self, app: impl Into<SdkAppId>) -> Self {
        self.app(app.into(), None)
    }

    fn app(mut self, app: SdkAppId, tokens: Option<Vec<Token>>) -> Self {
        self.apps.push((app, tokens));
        self
    }

    /// Lets [`unsigned_app`](Self::unsigned_app)s into the layer. Signed apps stay signed.
    pub fn allow_unsigned_apps(mut self) -> Self {
        self.allow_unsigned = true;
        self
    }

    /// How old a signed callback's `RequestTime` may be, by the receiver's clock: the replay
    /// window in the past. Default: 60 seconds, as Tencent advises ("more than one minute from
    /// the current time is invalid"). Counted in whole seconds (fractions are dropped), the
    /// bound included; any `Duration` is safe, up to [`Duration::MAX`]. An older callback is
    /// refused with 401 `RequestTime is too old`. Unsigned apps have no `RequestTime` to check.
    ///
    /// The two bounds are set apart because a window that is the same both ways lets a
    /// callback stamped in the future be replayed for twice the window: keep
    /// [`max_ahead`](Self::max_ahead) at what the clocks may disagree by.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.settings.max_age = age.as_secs();
        self
    }

    /// How far ahead of the receiver's clock a signed callback's `RequestTime` may be: the
    /// clock skew tolerated. Default: 60 seconds. Counted like [`max_age`](Self::max_age); a
    /// callback further ahead is refused with 401 `RequestTime is too far in the future`.
    pub fn max_ahead(mut self, ahead: Duration) -> Self {
        self.settings.max_ahead = ahead.as_secs();
        self
    }

    /// The largest callback body accepted, in bytes. Default: 64 KiB, far above what a recall
    /// of Tencent's maximum batch takes. Larger bodies are refused with 413, from
    /// `Content-Length` before reading when the request declares it, and as soon as the limit
    /// is passed while reading otherwise.
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.settings.body_limit = limit;
        self
    }

    /// The most recalled messages one callback may name (a group's `MsgSeqList`, an official
    /// account's `WithdrawMsgList`; a one-to-one recall names one). A callback naming more is
    /// refused with 413 `body names more messages than the limit` once its body is parsed.
    /// Default: no limit but the body's size (a 64 KiB group body can list about 4 000).
    ///
    /// Set it where each message costs more than its bytes: a durable handler that stores one
    /// entry per message, each with the whole body, turns one body of `n` messages into `n`
    /// copies of it. A user's recall names one message; keep the limit well above the batches
    /// your app recalls through Tencent's REST API.
    pub fn max_messages(mut self, max: usize) -> Self {
        self.settings.max_messages = Some(max);
        self
    }

    /// Which recall callbacks the layer takes; the others are other commands, passed on (or
    /// guarded, with [`guard_other_commands`](Self::guard_other_commands)). Default: all three.
    /// [`build`](Self::build) fails when the list is empty.
    pub fn recalls(mut self, kinds: impl IntoIterator<Item = RecallKind>) -> Self {
        self.settings.recalls = RecallKinds::of(kinds);
        self
    }

    /// Holds every other request that carries a `CallbackCommand` to the checks of its app and
    /// its signature, decided from the query alone: refused with 403 or 401 as a recall would
    /// be, or passed on with its body untouched and unbuffered and a
    /// [`VerifiedCallback`](crate::VerifiedCallback) in its extensions. Its method,
    /// `contenttype` and body are left to the inner service. Off by default: other commands
    /// then pass through as any request does.
    ///
    /// A request without `CallbackCommand` (a health check, a gRPC call on the same port) is
    /// never refused, guard or not.
    pub fn guard_other_commands(mut self) -> Self {
        self.settings.guard = true;
        self
    }

    /// Replaces the clock that `RequestTime` is checked against (the system clock by default),
    /// for tests.
    ///
    /// A layer whose clock is stopped at a known time, and a callback signed 60 seconds
    /// earlier, at the edge of the default `max_age` (the `testing` feature's
    /// [`Callback`](crate::testing::Callback) plays Tencent's side):
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::{service_fn, ServiceExt};
    /// use tower_tim_recall::testing::{read_ack, Callback};
    /// use tower_tim_recall::{Ack, GroupRecall, RecallLayer, RecalledMessage};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_tim_recall::ConfigError> {
    /// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let layer = RecallLayer::builder()
    ///     .signed_app(1400000000, ["the console's callback token"])
    ///     .clock(move || now)
    ///     .build()?;
    /// let service = tower::ServiceBuilder::new().layer(layer).service(service_fn(|_| async {
    ///     Ok::<_, std::convert::Infallible>(Ack::ok().into_http_response::<Full<Bytes>>())
    /// }));
    ///
    /// let event = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(1, None)]);
    /// let callback = Callback::new(event)
    ///     .signed("the console's callback token")
    ///     .request_time(1_700_000_000 - 60);
    /// let response = service.clone().oneshot(callback.request::<Full<Bytes>>()).await.unwrap();
    /// assert!(read_ack(response).await.1.is_ok());
    ///
    /// let stale = callback.request_time(1_700_000_000 - 61);
    /// let response = service.oneshot(stale.request::<Full<Bytes>>()).await.unwrap();
    /// assert_eq!(read_ack(response).await.0, 401);
    /// # Ok(())
    /// # }
    /// ```
    pub fn clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.settings.clock = Clock::custom(now);
        self
    }

    /// The layer, in forward mode; or the first mistake in the configuration, in the order the
    /// apps were given.
    ///
    /// # Errors
    ///
    /// No app; no recall taken; an app given twice; a signed app with an empty token set, or a
    /// token that is empty or starts or ends with whitespace; an unsigned app without
    /// [`allow_unsigned_apps`](Self::allow_unsigned_apps). See [`ConfigError`].
    pub fn build(self) -> Result<RecallLayer, ConfigError> {
        if self.apps.is_empty() {
            return Err(ConfigError::NoApps);
        }
        if self.settings.recalls.is_empty() {
            return Err(ConfigError::NoRecalls);
        }
        let mut apps = Vec::with_capacity(self.apps.len());
        for (app, tokens) in self.apps {
            if apps.iter().any(|(seen, _)| *seen == app) {
                return Err(ConfigError::DuplicateApp(app));
            }
            let credentials = match tokens {
                None if self.allow_unsigned => Credentials::Unsigned,
                None => return Err(ConfigError::UnsignedApp(app)),
                Some(tokens) => Credentials::Signed(TokenSet::parse(tokens).map_err(
                    |problem| match problem {
                        TokenProblem::EmptySet => ConfigError::EmptyTokenSet(app),
                        TokenProblem::EmptyToken => ConfigError::EmptyToken(app),
                        TokenProblem::PaddedToken => ConfigError::PaddedToken(app),
                    },
                )?),
            };
            apps.push((app, credentials));
        }
        Ok(RecallLayer::from_policy(Policy::new(apps, self.settings)))
    }
}

/// The tokens as the layer keeps them.
fn tokens_of<I>(tokens: I) -> Vec<Token>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    tokens
        .into_iter()
        .map(|token| Token::new(token.as_ref()))
        .collect()
}

impl fmt::Debug for RecallLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// One app's tokens as given: shown redacted, like the built layer's.
        struct Given<'a>(&'a Option<Vec<Token>>);
        impl fmt::Debug for Given<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    None => f.write_str("unsigned"),
                    Some(tokens) => write!(f, "signed with {tokens:?}"),
                }
            }
        }
        let apps = self
            .apps
            .iter()
            .map(|(app, tokens)| (app.get(), Given(tokens)));
        f.debug_struct("RecallLayerBuilder")
            .field("apps", &DebugMap(apps))
            .field("allow_unsigned", &self.allow_unsigned)
            .field("settings", &self.settings)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-secret-token";

    fn app(id: u64) -> SdkAppId {
        SdkAppId::new(id)
    }

    #[test]
    fn every_mistake_is_an_error_naming_the_app() {
        let cases: [(RecallLayerBuilder, ConfigError); 9] = [
            (RecallLayer::builder(), ConfigError::NoApps),
            (
                RecallLayer::builder().allow_unsigned_apps(),
                ConfigError::NoApps,
            ),
            (
                RecallLayer::builder()
                    .signed_app(1, [SECRET])
                    .signed_app(2, [SECRET])
                    .signed_app(1, ["another"]),
                ConfigError::DuplicateApp(app(1)),
            ),
            (
                RecallLayer::builder()
                    .signed_app(3, [SECRET])
                    .unsigned_app(3)
                    .allow_unsigned_apps(),
                ConfigError::DuplicateApp(app(3)),
            ),
            (
                RecallLayer::builder().signed_app(4, Vec::<String>::new()),
                ConfigError::EmptyTokenSet(app(4)),
            ),
            (
                RecallLayer::builder().signed_app(5, [SECRET, ""]),
                ConfigError::EmptyToken(app(5)),
            ),
            (
                RecallLayer::builder()
                    .signed_app(6, [SECRET])
                    .unsigned_app(7),
                ConfigError::UnsignedApp(app(7)),
            ),
            (
                RecallLayer::builder().signed_app(8, [SECRET, "a-secret-token\n"]),
                ConfigError::PaddedToken(app(8)),
            ),
            (
                RecallLayer::builder().signed_app(9, [" a-secret-token"]),
                ConfigError::PaddedToken(app(9)),
            ),
        ];
        for (builder, expected) in cases {
            let error = builder.build().unwrap_err();
            assert_eq!(error, expected);
            let texts = [
                error.to_string(),
                format!("{error:?}"),
                format!("{error:#?}"),
            ];
            for text in texts {
                assert!(!text.contains(SECRET), "{text}");
                if let Some(app) = match &error {
                    ConfigError::NoApps | ConfigError::NoRecalls => None,
                    ConfigError::DuplicateApp(app)
                    | ConfigError::EmptyTokenSet(app)
                    | ConfigError::EmptyToken(app)
                    | ConfigError::PaddedToken(app)
                    | ConfigError::UnsignedApp(app) => Some(app),
                } {
                    assert!(text.contains(&app.to_string()), "{text}");
                }
            }
        }
    }

    #[test]
    fn the_short_forms_report_the_same_mistakes() {
        let tokens = [SECRET];
        let cases = [
            (
                RecallLayer::new(Vec::<u64>::new(), tokens),
                ConfigError::NoApps,
            ),
            (
                RecallLayer::new([1, 2, 1], tokens),
                ConfigError::DuplicateApp(app(1)),
            ),
            (
                RecallLayer::new([3], Vec::<String>::new()),
                ConfigError::EmptyTokenSet(app(3)),
            ),
            (
                RecallLayer::new([4], [SECRET, ""]),
                ConfigError::EmptyToken(app(4)),
            ),
            (
                RecallLayer::new([5, 6], ["a-secret-token\r\n"]),
                ConfigError::PaddedToken(app(5)),
            ),
            (
                RecallLayer::unsigned(Vec::<u64>::new()),
                ConfigError::NoApps,
            ),
            (
                RecallLayer::unsigned([7, 7]),
                ConfigError::DuplicateApp(app(7)),
            ),
        ];
        for (built, expected) in cases {
            assert_eq!(built.unwrap_err(), expected);
        }
    }

    #[test]
    fn the_short_forms_sign_every_app_alike_or_none() {
        let apps = |built: Result<RecallLayer, ConfigError>| {
            let text = format!("{:?}", built.unwrap());
            let start = text.find("apps: ").unwrap();
            let end = text.find(", max_age").unwrap();
            text[start..end].to_owned()
        };
        assert_eq!(
            apps(RecallLayer::new([2, 1], [SECRET, "previous"])),
            "apps: {1: signed with [[redacted], [redacted]], 2: signed with [[redacted], [redacted]]}"
        );
        assert_eq!(apps(RecallLayer::unsigned([3])), "apps: {3: unsigned}");
    }

    #[test]
    fn a_valid_configuration_builds() {
        let apps = |builder: RecallLayerBuilder| {
            let text = format!("{:?}", builder.build().unwrap());
            let start = text.find("apps: ").unwrap();
            let end = text.find(", max_age").unwrap();
            text[start..end].to_owned()
        };
        assert_eq!(
            apps(
                RecallLayer::builder()
                    .signed_app(2, [String::from("staging")])
                    .signed_app(1, [SECRET, "previous"])
            ),
            "apps: {1: signed with [[redacted], [redacted]], 2: signed with [[redacted]]}"
        );
        assert_eq!(
            apps(RecallLayer::builder().unsigned_app(3).allow_unsigned_apps()),
            "apps: {3: unsigned}"
        );
        // Allowing unsigned apps does not require one, and may come first.
        assert_eq!(
            apps(
                RecallLayer::builder()
                    .allow_unsigned_apps()
                    .signed_app(4, [SECRET])
            ),
            "apps: {4: signed with [[redacted]]}"
        );
        // The same token twice in a set is harmless.
        assert_eq!(
            apps(RecallLayer::builder().signed_app(5, [SECRET, SECRET])),
            "apps: {5: signed with [[redacted], [redacted]]}"
        );
    }

    #[test]
    fn debug_never_shows_a_token() {
        let builder = RecallLayer::builder()
            .signed_app(1, [SECRET, "previous-secret"])
            .unsigned_app(2)
            .allow_unsigned_apps();
        let layer = builder.clone().build().unwrap();
        for text in [
            format!("{builder:?}"),
            format!("{builder:#?}"),
            format!("{layer:?}"),
            format!("{layer:#?}"),
        ] {
            assert!(!text.contains("secret"), "{text}");
            assert!(text.contains("redacted"), "{text}");
            assert!(text.contains("unsigned"), "{text}");
        }
    }
}
