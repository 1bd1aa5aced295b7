//! Where the layer reads the time that `RequestTime` is checked against.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The receiver's clock: the system clock, or one a test set.
#[derive(Clone, Default)]
pub(crate) struct Clock(Option<Arc<dyn Fn() -> SystemTime + Send + Sync>>);

impl Clock {
    pub(crate) fn custom(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(now)))
    }

    /// Unix seconds now; 0 for a clock set before 1970.
    pub(crate) fn now_secs(&self) -> u64 {
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
