//! `CallbackCommand`: which callback a request is.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The `CallbackCommand` of the callback this crate receives.
pub const RECALL_COMMAND: &str = "Group.CallbackAfterRecallMsg";

/// A body's `CallbackCommand`, which can only be the recall command (the query's): a body that
/// names another is refused. Written, it is the recall command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RecallCommand;

impl Serialize for RecallCommand {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(RECALL_COMMAND)
    }
}

impl<'de> Deserialize<'de> for RecallCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;

        impl Visitor<'_> for CommandVisitor {
            type Value = RecallCommand;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "the query's CallbackCommand, {RECALL_COMMAND}")
            }

            fn visit_str<E: de::Error>(self, command: &str) -> Result<RecallCommand, E> {
                if command == RECALL_COMMAND {
                    Ok(RecallCommand)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(command), &self))
                }
            }
        }

        deserializer.deserialize_str(CommandVisitor)
    }
}
