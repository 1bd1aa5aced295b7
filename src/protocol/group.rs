//! `Group.CallbackAfterRecallMsg`: group messages were recalled.

use serde::{Deserialize, Serialize};

use super::app::SdkAppId;
use super::body_command::{BodyCommand, KindBody};
use super::context::CallbackContext;
use super::dedup::DedupKey;
use super::group_type::GroupType;
use super::millis::UnixMillis;
use super::recall_kind::RecallKind;

recall_fields! {
    kind: RecallKind::Group;
    /// Group messages that were just recalled, as one `Group.CallbackAfterRecallMsg` callback
    /// reports them: by a user in a client app, or by an administrator through the REST API.
    ///
    /// Fields from the body keep Tencent's meaning (and, serialized, Tencent's names); the
    /// [`context`](Self::context) comes from the callback URL. Tencent adds fields over time:
    /// unknown fields are ignored (the raw body stays readable: see [`RecallEvent`]'s docs), and
    /// this struct is `#[non_exhaustive]` so that new ones can be added here without breaking users.
    ///
    /// ```
    /// use tower_tim_recall::{GroupRecall, RecalledMessage};
    ///
    /// let mut recall = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
    /// recall.operator_account = Some("admin".to_owned());
    /// assert_eq!(recall.context.sdk_app_id.get(), 1400000000);
    /// ```
    ///
    /// [`RecallEvent`]: crate::RecallEvent
    pub struct GroupRecall {
        /// `Operator_Account`: the UserID of whoever recalled; the app admin for a REST API recall.
        #[serde(
            rename = "Operator_Account",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub operator_account: Option<String>,
        /// `Type`: the group type.
        #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
        pub group_type: Option<GroupType>,
        /// `GroupId`: the group the messages were recalled from.
        #[serde(rename = "GroupId")]
        pub group_id: String,
        /// `MsgSeqList`: the recalled messages.
        #[serde(rename = "MsgSeqList")]
        pub messages: Vec<RecalledMessage>,
        /// `TopicId`: the topic, for a community group with topics.
        #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
        pub topic_id: Option<String>,
        /// `EventTime`: when the recall happened, in milliseconds.
        #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
        pub event_time: Option<UnixMillis>,
    }
}

impl GroupRecall {
    /// A group recall for this app, group and messages, with every optional field empty: for
    /// tests of code that handles events.
    #[must_use]
    pub fn new(
        sdk_app_id: impl Into<SdkAppId>,
        group_id: impl Into<String>,
        messages: impl IntoIterator<Item = RecalledMessage>,
    ) -> Self {
        Self {
            context: CallbackContext::new(sdk_app_id),
            operator_account: None,
            group_type: None,
            group_id: group_id.into(),
            messages: messages.into_iter().collect(),
            topic_id: None,
            event_time: None,
        }
    }

    /// One key per recalled message, to deduplicate deliveries: (`SdkAppid`, `GroupId`,
    /// `TopicId`, `MsgSeq`).
    pub fn dedup_keys(&self) -> impl Iterator<Item = DedupKey<'_>> + '_ {
        self.messages.iter().map(|message| DedupKey::Group {
            sdk_app_id: self.context.sdk_app_id,
            group_id: &self.group_id,
            topic_id: self.topic_id.as_deref(),
            msg_seq: message.msg_seq,
        })
    }
}

/// One recalled message, an item of `MsgSeqList`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecalledMessage {
    /// `MsgSeq`: the message's sequence number in its group (or topic).
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u32,
    /// `MsgId`: the message's ID, sent by newer versions of Tencent's backend.
    #[serde(rename = "MsgId", default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
}

impl RecalledMessage {
    /// A recalled message with the given sequence number and, optionally, ID.
    #[must_use]
    pub fn new(msg_seq: u32, msg_id: Option<String>) -> Self {
        Self { msg_seq, msg_id }
    }
}
