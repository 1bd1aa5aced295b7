//! [`RecallLayerBuilder`]: which apps may call, and the tokens each one signs with.

use std::error::Error;
use std::fmt;

use crate::layer::RecallLayer;
use crate::policy::{Credentials, DebugMap, Policy};
use crate::protocol::event::SdkAppId;
use crate::protocol::signature::{Token, TokenProblem, TokenSet};

/// Configures the apps of a [`RecallLayer`], each with its own credentials; made by
/// [`RecallLayer::builder`].
///
/// One receiver may serve several apps (production and staging, or several products), each with
/// its own callback token in Tencent's console, or with authentication off. The builder is
/// **secure by default**: every app must be a [`signed_app`](Self::signed_app) unless
/// [`allow_unsigned_apps`](Self::allow_unsigned_apps) is called. [`build`](Self::build) checks
/// the whole configuration and returns a [`ConfigError`] for any mistake, so that none is found
/// at the first callback.
///
/// ```
/// use std::time::Duration;
/// use tower_tim_recall::RecallLayer;
///
/// # fn main() -> Result<(), tower_tim_recall::ConfigError> {
/// let layer = RecallLayer::builder()
///     // Being rotated in the console: callbacks signed with either token are accepted.
///     .signed_app(1400000000, ["current-token", "previous-token"])
///     .signed_app(1400000001, ["staging-token"])
///     .build()?
///     // Then the layer's other settings, as for any layer.
///     .time_window(Duration::from_secs(30));
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
/// The builder only says who may call. The time window, body limit, clock and mode are set on
/// the built layer ([`RecallLayer::time_window`] and the others), in the same way as for a
/// layer made with [`RecallLayer::new`]. `Debug` never shows a token.
#[derive(Clone, Default)]
#[must_use]
pub struct RecallLayerBuilder {
    /// The apps in the order given; `None` for an unsigned app.
    apps: Vec<(SdkAppId, Option<Vec<Token>>)>,
    allow_unsigned: bool,
}

impl RecallLayerBuilder {
    /// A builder with no app, requiring signatures; the same as [`RecallLayer::builder`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts callbacks for `app` signed with any token of `tokens`: the callback token set
    /// in Tencent's console for this app. List two tokens while the token is being changed in
    /// the console, and remove the old one when the change is done.
    ///
    /// Such a callback must carry `RequestTime` within the layer's
    /// [time window](RecallLayer::time_window) and `Sign = hex(SHA-256(token ‖ RequestTime))`
    /// for one of the tokens, or is refused with 401 before its body is read.
    ///
    /// [`build`](Self::build) fails when `tokens` is empty, when one token is empty or starts or
    /// ends with whitespace (a token read from a file with its line break), or when the app is
    /// given twice.
    pub fn signed_app<I>(mut self, app: impl Into<SdkAppId>, tokens: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let tokens = tokens
            .into_iter()
            .map(|token| Token::new(token.as_ref()))
            .collect();
        self.apps.push((app.into(), Some(tokens)));
        self
    }

    /// Accepts callbacks for `app` without a signature: callback authentication is off for it
    /// in Tencent's console. `Sign` and `RequestTime` are then ignored for this app.
    ///
    /// Anyone who knows the callback URL and the SDKAppID can then post recall events for this
    /// app, so [`build`](Self::build) refuses an unsigned app unless
    /// [`allow_unsigned_apps`](Self::allow_unsigned_apps) is called too.
    pub fn unsigned_app(mut self, app: impl Into<SdkAppId>) -> Self {
        self.apps.push((app.into(), None));
        self
    }

    /// Lets [`unsigned_app`](Self::unsigned_app)s into the layer. Signed apps stay signed.
    pub fn allow_unsigned_apps(mut self) -> Self {
        self.allow_unsigned = true;
        self
    }

    /// The layer, in forward mode, with the default time window (60 seconds) and body limit
    /// (64 KiB); or the first mistake in the configuration, in the order the apps were given.
    pub fn build(self) -> Result<RecallLayer, ConfigError> {
        if self.apps.is_empty() {
            return Err(ConfigError::NoApps);
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
        Ok(RecallLayer::from_policy(Policy::new(apps)))
    }
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
            .finish()
    }
}

/// A mistake in a [`RecallLayerBuilder`]'s configuration, found by
/// [`build`](RecallLayerBuilder::build).
///
/// It names the app concerned, never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No app was given: the layer would refuse every callback.
    NoApps,
    /// The app was given twice.
    DuplicateApp(SdkAppId),
    /// The app was given an empty set of tokens: no callback could be verified.
    EmptyTokenSet(SdkAppId),
    /// One of the app's tokens is empty: Tencent's console has no empty token.
    EmptyToken(SdkAppId),
    /// One of the app's tokens starts or ends with whitespace, as a token read from a file or
    /// an environment variable with its line break does: no callback would match it. Trim it.
    PaddedToken(SdkAppId),
    /// The app is unsigned, but the layer requires signatures:
    /// [`allow_unsigned_apps`](RecallLayerBuilder::allow_unsigned_apps) was not called.
    UnsignedApp(SdkAppId),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoApps => {
                f.write_str("no SdkAppid is configured: every callback would be refused")
            }
            ConfigError::DuplicateApp(app) => write!(f, "SdkAppid {app} is configured twice"),
            ConfigError::EmptyTokenSet(app) => write!(f, "SdkAppid {app} is signed with no token"),
            ConfigError::EmptyToken(app) => write!(f, "SdkAppid {app} has an empty token"),
            ConfigError::PaddedToken(app) => write!(
                f,
                "SdkAppid {app} has a token that starts or ends with whitespace"
            ),
            ConfigError::UnsignedApp(app) => write!(
                f,
                "SdkAppid {app} is unsigned, but the layer requires signatures \
                 (call allow_unsigned_apps to accept it)"
            ),
        }
    }
}

impl Error for ConfigError {}

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
                    ConfigError::NoApps => None,
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
    fn display_texts() {
        let texts = [
            (
                ConfigError::NoApps,
                "no SdkAppid is configured: every callback would be refused",
            ),
            (
                ConfigError::DuplicateApp(app(1)),
                "SdkAppid 1 is configured twice",
            ),
            (
                ConfigError::EmptyTokenSet(app(2)),
                "SdkAppid 2 is signed with no token",
            ),
            (
                ConfigError::EmptyToken(app(3)),
                "SdkAppid 3 has an empty token",
            ),
            (
                ConfigError::PaddedToken(app(4)),
                "SdkAppid 4 has a token that starts or ends with whitespace",
            ),
        ];
        for (error, text) in texts {
            assert_eq!(error.to_string(), text);
        }
        let boxed: Box<dyn Error + Send + Sync> = ConfigError::NoApps.into();
        assert!(boxed.source().is_none());
    }

    #[test]
    fn a_valid_configuration_builds() {
        let apps = |builder: RecallLayerBuilder| {
            let text = format!("{:?}", builder.build().unwrap());
            let start = text.find("apps: ").unwrap();
            let end = text.find(", window_secs").unwrap();
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
