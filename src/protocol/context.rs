//! What a callback's query says about it, besides its command: the app, and where and when.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::app::SdkAppId;
use super::platform::Platform;

/// The query parameters that describe a callback, as the layer verified them: the app (checked
/// against the allowlist), and, when Tencent sent them, the end user's address, the platform
/// and the signed `RequestTime`.
///
/// Every recall event carries one, and so does a [`VerifiedCallback`](crate::VerifiedCallback).
/// Serialized, it uses Tencent's query parameter names, and leaves out what was not sent.
///
/// ```
/// use tower_tim_recall::CallbackContext;
///
/// let context = CallbackContext::new(1400000000);
/// assert_eq!(serde_json::to_string(&context).unwrap(), r#"{"SdkAppid":1400000000}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallbackContext {
    /// `SdkAppid`: the app the callback is for, checked against the allowlist.
    #[serde(rename = "SdkAppid")]
    pub sdk_app_id: SdkAppId,
    /// `ClientIP`: the end user's client address, as Tencent reports it.
    ///
    /// This is not the address of Tencent's sender: never use it for access control.
    #[serde(rename = "ClientIP", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// `OptPlatform`: the platform the operation came from.
    #[serde(
        rename = "OptPlatform",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub platform: Option<Platform>,
    /// `RequestTime`: Unix seconds when Tencent sent the callback, present when callback
    /// authentication is on for the app (and then verified).
    #[serde(
        rename = "RequestTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub request_time: Option<u64>,
}

impl CallbackContext {
    /// The context of a callback for `sdk_app_id` that carried nothing else: for tests, and for
    /// a transport other than the callback URL.
    #[must_use]
    pub fn new(sdk_app_id: impl Into<SdkAppId>) -> Self {
        Self {
            sdk_app_id: sdk_app_id.into(),
            client_ip: None,
            platform: None,
            request_time: None,
        }
    }
}
