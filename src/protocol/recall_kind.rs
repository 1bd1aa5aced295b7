//! [`RecallKind`]: the three recall callbacks, by their `CallbackCommand`, and sets of them.

use std::fmt;

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// One of the three "after recall" callbacks Tencent Cloud IM sends, by its `CallbackCommand`.
///
/// Serialized, it is its command, so that a queued body can carry the kind to
/// [`RecallEvent::parse`](crate::RecallEvent::parse).
///
/// ```
/// use tower_tim_recall::RecallKind;
///
/// assert_eq!(RecallKind::OneToOne.command(), "C2C.CallbackAfterMsgWithDraw");
/// assert_eq!(RecallKind::from_command("Group.CallbackAfterRecallMsg"), Some(RecallKind::Group));
/// assert_eq!(RecallKind::from_command("Group.CallbackAfterSendMsg"), None);
/// assert_eq!(serde_json::to_string(&RecallKind::Group).unwrap(), r#""Group.CallbackAfterRecallMsg""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RecallKind {
    /// `Group.CallbackAfterRecallMsg`: group messages were recalled.
    Group,
    /// `C2C.CallbackAfterMsgWithDraw`: a one-to-one message was recalled.
    OneToOne,
    /// `OfficialAccount.CallbackAfterMsgWithDraw`: an official-account message was recalled.
    OfficialAccount,
}

impl RecallKind {
    /// Every kind, in this order: a slice, so that a kind Tencent adds later changes no type.
    pub const ALL: &'static [RecallKind] = &[
        RecallKind::Group,
        RecallKind::OneToOne,
        RecallKind::OfficialAccount,
    ];

    /// The `CallbackCommand` of this kind's callback, as Tencent spells it.
    pub const fn command(self) -> &'static str {
        match self {
            RecallKind::Group => "Group.CallbackAfterRecallMsg",
            RecallKind::OneToOne => "C2C.CallbackAfterMsgWithDraw",
            RecallKind::OfficialAccount => "OfficialAccount.CallbackAfterMsgWithDraw",
        }
    }

    /// The kind whose `CallbackCommand` is `command`, spelled exactly as Tencent spells it.
    pub fn from_command(command: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|kind| kind.command() == command)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl Serialize for RecallKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.command())
    }
}

impl<'de> Deserialize<'de> for RecallKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Command;

        impl Visitor<'_> for Command {
            type Value = RecallKind;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a recall callback's CallbackCommand")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RecallKind, E> {
                RecallKind::from_command(text)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(text), &self))
            }
        }

        deserializer.deserialize_str(Command)
    }
}

impl fmt::Display for RecallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command())
    }
}

/// A set of recall kinds: the ones a layer takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecallKinds(u8);

impl RecallKinds {
    /// Every kind.
    pub(crate) const ALL: Self = {
        let mut bits = 0;
        let mut index = 0;
        while index < RecallKind::ALL.len() {
            bits |= RecallKind::ALL[index].bit();
            index += 1;
        }
        Self(bits)
    };

    pub(crate) fn of(kinds: impl IntoIterator<Item = RecallKind>) -> Self {
        Self(kinds.into_iter().fold(0, |bits, kind| bits | kind.bit()))
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn contains(self, kind: RecallKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The kinds of the set, in [`RecallKind::ALL`]'s order.
    pub(crate) fn iter(self) -> impl Iterator<Item = RecallKind> {
        RecallKind::ALL
            .iter()
            .copied()
            .filter(move |kind| self.contains(*kind))
    }
}

impl fmt::Debug for RecallKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_command_and_back() {
        for &kind in RecallKind::ALL {
            assert_eq!(RecallKind::from_command(kind.command()), Some(kind));
            assert_eq!(kind.to_string(), kind.command());
        }
        // Spelled as Tencent spells it: case and escapes matter.
        for other in [
            "group.callbackafterrecallmsg",
            "C2C.CallbackAfterMsgWithdraw",
            "C2C.CallbackBeforeMsgWithDraw",
            "",
        ] {
            assert_eq!(RecallKind::from_command(other), None, "{other}");
        }
    }

    #[test]
    fn a_kind_is_queued_as_its_command() {
        for &kind in RecallKind::ALL {
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(text, format!("\"{}\"", kind.command()));
            assert_eq!(serde_json::from_str::<RecallKind>(&text).unwrap(), kind);
        }
        let error = serde_json::from_str::<RecallKind>(r#""State.StateChange""#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value: string \"State.StateChange\", expected a recall callback's \
             CallbackCommand at line 1 column 19"
        );
    }

    #[test]
    fn a_set_holds_what_it_is_given() {
        let set = RecallKinds::of([RecallKind::OfficialAccount, RecallKind::Group]);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [RecallKind::Group, RecallKind::OfficialAccount]
        );
        assert!(!set.contains(RecallKind::OneToOne));
        assert!(RecallKinds::of([]).is_empty());
        assert_eq!(
            RecallKinds::of(RecallKind::ALL.iter().copied()),
            RecallKinds::ALL
        );
        assert_eq!(format!("{set:?}"), "{Group, OfficialAccount}");
    }
}
