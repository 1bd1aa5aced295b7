//! Points in time as Unix milliseconds, as in a callback body's `EventTime`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::digits::decimal;

/// A point in time as Unix milliseconds, as in `EventTime`.
///
/// Tencent's documentation sends `EventTime` as a number in some versions and as a string of
/// digits (`"1670574414123"`) in others: both are read. It is always written as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnixMillis(u64);

impl UnixMillis {
    /// The time `millis` milliseconds after the Unix epoch.
    pub const fn new(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The same time as a [`SystemTime`], or `None` when the platform's `SystemTime` cannot
    /// represent it.
    ///
    /// `EventTime` is whatever the body says, up to `u64::MAX` milliseconds (some 584 million
    /// years), so the conversion is checked rather than a panic waiting for a hostile body on a
    /// platform with a narrower `SystemTime`.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use tower_tim_recall::UnixMillis;
    ///
    /// let at = UnixMillis::new(1_669_872_112_000).to_system_time();
    /// assert_eq!(at, Some(UNIX_EPOCH + Duration::from_secs(1_669_872_112)));
    /// ```
    #[must_use]
    pub fn to_system_time(self) -> Option<SystemTime> {
        UNIX_EPOCH.checked_add(Duration::from_millis(self.0))
    }
}

impl<'de> Deserialize<'de> for UnixMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MillisVisitor;

        impl Visitor<'_> for MillisVisitor {
            type Value = UnixMillis;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("milliseconds as a non-negative integer or a string of digits")
            }

            fn visit_u64<E: de::Error>(self, millis: u64) -> Result<UnixMillis, E> {
                Ok(UnixMillis(millis))
            }

            fn visit_i64<E: de::Error>(self, millis: i64) -> Result<UnixMillis, E> {
                u64::try_from(millis)
                    .map(UnixMillis)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(millis), &self))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<UnixMillis, E> {
                decimal(text)
                    .map(UnixMillis)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }

        deserializer.deserialize_any(MillisVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_as_a_number_or_a_string_of_digits() {
        let read = |json: &str| serde_json::from_str::<UnixMillis>(json).ok();
        let at = Some(UnixMillis::new(1_670_574_414_123));
        assert_eq!(read("1670574414123"), at);
        assert_eq!(read(r#""1670574414123""#), at);
        assert_eq!(
            read(r#""18446744073709551615""#),
            Some(UnixMillis::new(u64::MAX))
        );
        for bad in [
            r#""""#, r#""-1""#, r#""12a""#, "-1", "1.5", "true", r#""+1""#, "null",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
        assert_eq!(serde_json::to_string(&at).unwrap(), "1670574414123");
    }

    #[test]
    fn converts_to_system_time_without_panicking() {
        assert_eq!(
            UnixMillis::new(1_500).to_system_time(),
            Some(UNIX_EPOCH + Duration::from_millis(1_500))
        );
        // The body chooses `EventTime`: the largest one is as representable as the platform's
        // `SystemTime` makes it, and never a panic.
        for millis in [0, u64::MAX / 2, u64::MAX] {
            assert_eq!(
                UnixMillis::new(millis).to_system_time(),
                UNIX_EPOCH.checked_add(Duration::from_millis(millis)),
                "{millis}"
            );
        }
    }
}
