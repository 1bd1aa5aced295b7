//! The query parameters that describe a callback, as the layer verified them.

use std::net::IpAddr;

use super::app::SdkAppId;
use super::platform::Platform;

/// The query parameters that describe a callback, kept with its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryContext {
    pub(crate) sdk_app_id: SdkAppId,
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) platform: Option<Platform>,
    pub(crate) request_time: Option<u64>,
}
