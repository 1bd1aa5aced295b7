//! The SDKAppID: the number that names an app in Tencent Cloud IM.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An SDKAppID: the number that identifies an app in Tencent Cloud IM, sent as `SdkAppid` in
/// every callback's query.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SdkAppId(u64);

impl SdkAppId {
    /// The SDKAppID with this number.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for SdkAppId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl From<SdkAppId> for u64 {
    fn from(id: SdkAppId) -> Self {
        id.0
    }
}

impl fmt::Display for SdkAppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
