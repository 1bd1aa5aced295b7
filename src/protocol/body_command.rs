//! A recall body's own `CallbackCommand`, read without a copy, and what every kind's body says
//! of it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::recall_kind::RecallKind;

/// A body's `CallbackCommand`, borrowed from the body unless it is escaped there. (serde reads
/// an `Option<Cow<str>>` into an owned string every time: this reads it without a copy.)
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct BodyCommand<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BodyCommand<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;

        impl<'de> Visitor<'de> for Text {
            type Value = BodyCommand<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(BodyCommand(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(BodyCommand(Cow::Owned(text.to_owned())))
            }
        }

        deserializer.deserialize_str(Text)
    }
}

/// A recall callback's body as it was read: which kind it is, and the `CallbackCommand` it
/// carried, if any.
pub(crate) trait KindBody {
    /// The kind whose body this is.
    const KIND: RecallKind;
    /// The body's own `CallbackCommand`.
    fn command(&self) -> Option<&str>;
}
