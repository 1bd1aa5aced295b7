//! [`ConfigError`]: a mistake in a layer's configuration, found when the layer is built.

use std::error::Error;
use std::fmt;

use crate::protocol::app::SdkAppId;

/// A mistake in a layer's configuration, found when the layer is built: by
/// [`RecallLayer::new`](crate::RecallLayer::new), [`RecallLayer::unsigned`](crate::RecallLayer::unsigned)
/// or [`RecallLayerBuilder::build`](crate::RecallLayerBuilder::build).
///
/// It names the app concerned, never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No app was given: the layer would refuse every callback.
    NoApps,
    /// The list of recalls to take was empty: the layer would take no callback.
    NoRecalls,
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
    /// [`allow_unsigned_apps`](crate::RecallLayerBuilder::allow_unsigned_apps) was not called.
    UnsignedApp(SdkAppId),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoApps => {
                f.write_str("no SdkAppid is configured: every callback would be refused")
            }
            ConfigError::NoRecalls => {
                f.write_str("no recall callback is taken: the layer would take no callback")
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

    fn app(id: u64) -> SdkAppId {
        SdkAppId::new(id)
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
}
