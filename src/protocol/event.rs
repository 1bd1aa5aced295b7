//! [`RecallEvent`]: one recall callback, of any of the three kinds, and how a body becomes one.

use serde::{Deserialize, Serialize};

use super::body_command::{BodyCommand, KindBody};
use super::body_error::BodyError;
use super::body_shape::object_text;
use super::context::CallbackContext;
use super::dedup::DedupKey;
use super::group::{self, GroupRecall};
use super::millis::UnixMillis;
use super::official_account::{self, OfficialAccountRecall};
use super::one_to_one::{self, OneToOneRecall};
use super::recall_kind::RecallKind;
use super::rejection::Rejection;

/// What one recall callback reports, of any of the three kinds Tencent Cloud IM sends.
///
/// The layer puts one in the request extensions of every accepted recall callback (forward
/// mode), or hands it to the handler (acknowledge mode). Match on it; it is `#[non_exhaustive]`,
/// so a match keeps a `_` arm for kinds Tencent may add.
///
/// ```
/// use tower_tim_recall::RecallEvent;
///
/// fn describe(event: &RecallEvent) -> String {
///     match event {
///         RecallEvent::Group(recall) => format!("{} message(s) in {}", recall.messages.len(), recall.group_id),
///         RecallEvent::OneToOne(recall) => format!("{} to {}", recall.from_account, recall.to_account),
///         RecallEvent::OfficialAccount(recall) => format!("{} message(s) of {}", recall.messages.len(), recall.official_account),
///         _ => "a recall of a kind this code does not know".to_owned(),
///     }
/// }
/// ```
///
/// Serialized, it is the callback's body with Tencent's field names, `CallbackCommand` first,
/// and the query context (`SdkAppid`, `ClientIP`, `OptPlatform`, `RequestTime`) beside them, so
/// it can be logged or queued as one JSON object and read back whole. Fields this crate does not
/// model are not in it: the raw body is, next to the event, in the forwarded request's body or
/// in [`AcceptedRecall::body`](crate::AcceptedRecall::body).
///
/// ```
/// use tower_tim_recall::{RecallEvent, OneToOneRecall};
///
/// let event = RecallEvent::from(OneToOneRecall::new(1400000000, "jared", "Jonh", "48374_2837546_1557481126"));
/// let queued = serde_json::to_string(&event).unwrap();
/// assert_eq!(
///     queued,
///     r#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","SdkAppid":1400000000,"From_Account":"jared","To_Account":"Jonh","MsgKey":"48374_2837546_1557481126"}"#
/// );
/// assert_eq!(serde_json::from_str::<RecallEvent>(&queued).unwrap(), event);
/// ```
///
/// This queued form is the crate's, not Tencent's: a body as Tencent sends it has no
/// `SdkAppid` (the app is in the query) and is read with [`RecallEvent::parse`].
/// Deserializing one as a `RecallEvent` fails with an error that says so.
///
/// ```
/// use tower_tim_recall::RecallEvent;
///
/// let tencent = r#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","From_Account":"jared","To_Account":"Jonh","MsgKey":"k"}"#;
/// let error = serde_json::from_str::<RecallEvent>(tencent).unwrap_err();
/// assert!(error.to_string().contains("read a body as Tencent sends it with RecallEvent::parse"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "CallbackCommand")]
#[non_exhaustive]
pub enum RecallEvent {
    /// `Group.CallbackAfterRecallMsg`.
    #[serde(rename = "Group.CallbackAfterRecallMsg")]
    Group(GroupRecall),
    /// `C2C.CallbackAfterMsgWithDraw`.
    #[serde(rename = "C2C.CallbackAfterMsgWithDraw")]
    OneToOne(OneToOneRecall),
    /// `OfficialAccount.CallbackAfterMsgWithDraw`.
    #[serde(rename = "OfficialAccount.CallbackAfterMsgWithDraw")]
    OfficialAccount(OfficialAccountRecall),
}

impl RecallEvent {
    /// Reads a callback body of `kind` whose query `context` is already checked, with the
    /// layer's own rules and errors: one JSON object, UTF-8, nested at most 127 levels, the
    /// kind's required fields with their types, no field read given twice, and no
    /// `CallbackCommand` but the kind's; fields Tencent may add later are ignored, and so is
    /// whatever the body says of the query context. For a queue consumer or a transport other
    /// than the callback URL.
    ///
    /// ```
    /// use tower_tim_recall::{CallbackContext, RecallEvent, RecallKind};
    ///
    /// let body = br#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","From_Account":"jared",
    ///     "To_Account":"Jonh","MsgKey":"48374_2837546_1557481126","UnreadMsgNum":-1}"#;
    /// let event = RecallEvent::parse(RecallKind::OneToOne, body, CallbackContext::new(1400000000))?;
    /// let RecallEvent::OneToOne(recall) = event else { unreachable!() };
    /// assert_eq!(recall.unread_msg_num, Some(-1));
    ///
    /// // A body of another kind under this kind's command is refused.
    /// let group = br#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","GroupId":"g","MsgSeqList":[]}"#;
    /// let refused = RecallEvent::parse(RecallKind::OneToOne, group, CallbackContext::new(1400000000));
    /// assert_eq!(refused.unwrap_err().reason(), "the body's CallbackCommand is not the query's");
    /// # Ok::<(), tower_tim_recall::BodyError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`BodyError`] whose reason is the one the layer answers with.
    pub fn parse(
        kind: RecallKind,
        body: &[u8],
        context: CallbackContext,
    ) -> Result<Self, BodyError> {
        let text = object_text(body).map_err(BodyError::new)?;
        Ok(match kind {
            RecallKind::Group => Self::Group(read::<group::Body<'_>>(text)?.into_event(context)),
            RecallKind::OneToOne => {
                Self::OneToOne(read::<one_to_one::Body<'_>>(text)?.into_event(context))
            }
            RecallKind::OfficialAccount => {
                Self::OfficialAccount(read::<official_account::Body<'_>>(text)?.into_event(context))
            }
        })
    }

    /// Which of the three callbacks this is.
    pub fn kind(&self) -> RecallKind {
        match self {
            Self::Group(_) => RecallKind::Group,
            Self::OneToOne(_) => RecallKind::OneToOne,
            Self::OfficialAccount(_) => RecallKind::OfficialAccount,
        }
    }

    /// The query context: the app, and where and when.
    pub fn context(&self) -> &CallbackContext {
        match self {
            Self::Group(recall) => &recall.context,
            Self::OneToOne(recall) => &recall.context,
            Self::OfficialAccount(recall) => &recall.context,
        }
    }

    /// `EventTime`, when the body carried it.
    pub fn event_time(&self) -> Option<UnixMillis> {
        match self {
            Self::Group(recall) => recall.event_time,
            Self::OneToOne(recall) => recall.event_time,
            Self::OfficialAccount(recall) => recall.event_time,
        }
    }

    /// One key per recalled message, to deduplicate deliveries (see [`DedupKey`]).
    pub fn dedup_keys(&self) -> impl Iterator<Item = DedupKey<'_>> + '_ {
        let group = self.as_group().map(GroupRecall::dedup_keys);
        let one_to_one = self.as_one_to_one().map(OneToOneRecall::dedup_keys);
        let official = self
            .as_official_account()
            .map(OfficialAccountRecall::dedup_keys);
        let keys = group.into_iter().flatten();
        keys.chain(one_to_one.into_iter().flatten())
            .chain(official.into_iter().flatten())
    }

    /// The group recall, if this is one.
    pub fn as_group(&self) -> Option<&GroupRecall> {
        match self {
            Self::Group(recall) => Some(recall),
            _ => None,
        }
    }

    /// The one-to-one recall, if this is one.
    pub fn as_one_to_one(&self) -> Option<&OneToOneRecall> {
        match self {
            Self::OneToOne(recall) => Some(recall),
            _ => None,
        }
    }

    /// The official-account recall, if this is one.
    pub fn as_official_account(&self) -> Option<&OfficialAccountRecall> {
        match self {
            Self::OfficialAccount(recall) => Some(recall),
            _ => None,
        }
    }
}

/// The queued form as the derive reads it; [`RecallEvent`]'s `Deserialize` adds the pointer to
/// `parse` to its error for a body without `SdkAppid`. (serde's `remote = "Self"` would spare
/// this list of the variants, but makes the derived functions public methods of the event.)
#[derive(Deserialize)]
#[serde(tag = "CallbackCommand")]
enum Queued {
    #[serde(rename = "Group.CallbackAfterRecallMsg")]
    Group(GroupRecall),
    #[serde(rename = "C2C.CallbackAfterMsgWithDraw")]
    OneToOne(OneToOneRecall),
    #[serde(rename = "OfficialAccount.CallbackAfterMsgWithDraw")]
    OfficialAccount(OfficialAccountRecall),
}

impl<'de> Deserialize<'de> for RecallEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Queued::deserialize(deserializer) {
            Ok(Queued::Group(recall)) => Ok(Self::Group(recall)),
            Ok(Queued::OneToOne(recall)) => Ok(Self::OneToOne(recall)),
            Ok(Queued::OfficialAccount(recall)) => Ok(Self::OfficialAccount(recall)),
            Err(error) if error.to_string().starts_with("missing field `SdkAppid`") => {
                Err(serde::de::Error::custom(format_args!(
                    "{error}: this is RecallEvent's queued form, which carries the query's \
                     SdkAppid; read a body as Tencent sends it with RecallEvent::parse"
                )))
            }
            Err(error) => Err(error),
        }
    }
}

impl From<GroupRecall> for RecallEvent {
    fn from(recall: GroupRecall) -> Self {
        Self::Group(recall)
    }
}

impl From<OneToOneRecall> for RecallEvent {
    fn from(recall: OneToOneRecall) -> Self {
        Self::OneToOne(recall)
    }
}

impl From<OfficialAccountRecall> for RecallEvent {
    fn from(recall: OfficialAccountRecall) -> Self {
        Self::OfficialAccount(recall)
    }
}

/// A kind's body read from `text`, whose `CallbackCommand`, when it has one, must be the kind's.
///
/// A body of another kind usually fails on its fields first (a group body has no `MsgKey`):
/// then its command, read alone, tells the real reason. That second reading costs only refused
/// bodies.
fn read<'a, B: KindBody + Deserialize<'a>>(text: &'a str) -> Result<B, BodyError> {
    let error = match serde_json::from_str::<B>(text) {
        Ok(body) => match body.command() {
            Some(command) if command != B::KIND.command() => return Err(mismatch()),
            _ => return Ok(body),
        },
        Err(error) => error,
    };
    match serde_json::from_str::<CommandOnly<'_>>(text) {
        Ok(CommandOnly {
            command: Some(BodyCommand(command)),
        }) if command != B::KIND.command() => Err(mismatch()),
        // serde_json's message, cut short, says what is wrong.
        _ => Err(BodyError::new(Rejection::invalid_body(error))),
    }
}

fn mismatch() -> BodyError {
    BodyError::new(Rejection::COMMAND_MISMATCH)
}

/// Any body, for its `CallbackCommand` alone.
#[derive(Deserialize)]
struct CommandOnly<'a> {
    #[serde(rename = "CallbackCommand", borrow, default)]
    command: Option<BodyCommand<'a>>,
}

/// The JSON body Tencent sends for `event`, in the order and with the names of Tencent's
/// documented examples, with `command` as its `CallbackCommand`.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn body_json(event: &RecallEvent, command: &str) -> Vec<u8> {
    // Strings, numbers and lists of them: serializing cannot fail.
    match event {
        RecallEvent::Group(recall) => serde_json::to_vec(&group::Body::of(recall, command)),
        RecallEvent::OneToOne(recall) => serde_json::to_vec(&one_to_one::Body::of(recall, command)),
        RecallEvent::OfficialAccount(recall) => {
            serde_json::to_vec(&official_account::Body::of(recall, command))
        }
    }
    .unwrap_or_default()
}

#[cfg(test)]
mod tests;
