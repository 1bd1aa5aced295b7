//! The three recall bodies as a receiver that parses them itself declares them: plain derived
//! structs of the documented fields, for the baselines that the layer's parse is measured
//! against (the allocation tests, the benchmarks' hand-written receiver).

use serde::Deserialize;
use tower_tim_recall::{
    GroupRecall, GroupType, OfficialAccountRecall, OneToOneRecall, RecallEvent, RecalledMessage,
    UnixMillis, WithdrawnMessage,
};

/// A group recall's body.
#[derive(Debug, Deserialize)]
pub struct GroupBody {
    /// `Operator_Account`.
    #[serde(rename = "Operator_Account")]
    pub operator_account: Option<String>,
    /// `Type`.
    #[serde(rename = "Type")]
    pub group_type: Option<GroupType>,
    /// `GroupId`.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `MsgSeqList`.
    #[serde(rename = "MsgSeqList")]
    pub messages: Vec<RecalledMessage>,
    /// `TopicId`.
    #[serde(rename = "TopicId")]
    pub topic_id: Option<String>,
    /// `EventTime`.
    #[serde(rename = "EventTime")]
    pub event_time: Option<UnixMillis>,
}

/// A one-to-one recall's body.
#[derive(Debug, Deserialize)]
pub struct OneToOneBody {
    /// `From_Account`.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgKey`.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `UnreadMsgNum`.
    #[serde(rename = "UnreadMsgNum")]
    pub unread_msg_num: Option<i64>,
    /// `EventTime`.
    #[serde(rename = "EventTime")]
    pub event_time: Option<UnixMillis>,
}

/// An official-account recall's body.
#[derive(Debug, Deserialize)]
pub struct OfficialAccountBody {
    /// `Official_Account`.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `WithdrawMsgList`.
    #[serde(rename = "WithdrawMsgList")]
    pub messages: Vec<WithdrawnMessage>,
    /// `EventTime`.
    #[serde(rename = "EventTime")]
    pub event_time: Option<UnixMillis>,
}

impl GroupBody {
    /// The event of this body, for `app` with no other query context.
    pub fn into_event(self, app: u64) -> RecallEvent {
        let mut recall = GroupRecall::new(app, self.group_id, self.messages);
        recall.operator_account = self.operator_account;
        recall.group_type = self.group_type;
        recall.topic_id = self.topic_id;
        recall.event_time = self.event_time;
        recall.into()
    }
}

impl OneToOneBody {
    /// The event of this body, for `app` with no other query context.
    pub fn into_event(self, app: u64) -> RecallEvent {
        let mut recall = OneToOneRecall::new(app, self.from_account, self.to_account, self.msg_key);
        recall.unread_msg_num = self.unread_msg_num;
        recall.event_time = self.event_time;
        recall.into()
    }
}

impl OfficialAccountBody {
    /// The event of this body, for `app` with no other query context.
    pub fn into_event(self, app: u64) -> RecallEvent {
        let mut recall = OfficialAccountRecall::new(app, self.official_account, self.messages);
        recall.event_time = self.event_time;
        recall.into()
    }
}
