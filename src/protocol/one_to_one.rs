//! `C2C.CallbackAfterMsgWithDraw`: a one-to-one message was recalled.

use serde::{Deserialize, Serialize};

use super::app::SdkAppId;
use super::body_command::{BodyCommand, KindBody};
use super::context::CallbackContext;
use super::dedup::DedupKey;
use super::millis::UnixMillis;
use super::recall_kind::RecallKind;

recall_fields! {
    kind: RecallKind::OneToOne;
    /// A one-to-one message that was just recalled, as one `C2C.CallbackAfterMsgWithDraw` callback
    /// reports it: by its sender in a client app, or by an administrator through the REST API
    /// (`v4/openim/admin_msgwithdraw`).
    ///
    /// Tencent's two editions of the documentation disagree on the body: the international one
    /// sends `UnreadMsgNum`, the Chinese one `EventTime`. Both are read, both are optional.
    ///
    /// ```
    /// use tower_tim_recall::OneToOneRecall;
    ///
    /// let mut recall = OneToOneRecall::new(1400000000, "jared", "Jonh", "48374_2837546_1557481126");
    /// recall.unread_msg_num = Some(7);
    /// assert_eq!(recall.dedup_keys().count(), 1);
    /// ```
    pub struct OneToOneRecall {
        /// `From_Account`: the UserID of the message's sender.
        #[serde(rename = "From_Account")]
        pub from_account: String,
        /// `To_Account`: the UserID of its recipient.
        #[serde(rename = "To_Account")]
        pub to_account: String,
        /// `MsgKey`: the message's unique key. It often looks like `MsgSeq_MsgRandom_MsgTime`, but
        /// Tencent's own samples break that pattern: treat it as opaque.
        #[serde(rename = "MsgKey")]
        pub msg_key: String,
        /// `UnreadMsgNum`: how many one-to-one messages of `To_Account` are unread, over all its
        /// conversations (the international documentation only). Any integer, `-1` included.
        #[serde(
            rename = "UnreadMsgNum",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub unread_msg_num: Option<i64>,
        /// `EventTime`: when the recall happened, in milliseconds (the Chinese documentation only).
        #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
        pub event_time: Option<UnixMillis>,
    }
}

impl OneToOneRecall {
    /// A one-to-one recall for this app, sender, recipient and message key, with every
    /// optional field empty: for tests of code that handles events.
    #[must_use]
    pub fn new(
        sdk_app_id: impl Into<SdkAppId>,
        from_account: impl Into<String>,
        to_account: impl Into<String>,
        msg_key: impl Into<String>,
    ) -> Self {
        Self {
            context: CallbackContext::new(sdk_app_id),
            from_account: from_account.into(),
            to_account: to_account.into(),
            msg_key: msg_key.into(),
            unread_msg_num: None,
            event_time: None,
        }
    }

    /// The key of the recalled message, to deduplicate deliveries: (`SdkAppid`, `MsgKey`). One
    /// callback recalls one message.
    pub fn dedup_keys(&self) -> impl Iterator<Item = DedupKey<'_>> + '_ {
        std::iter::once(DedupKey::OneToOne {
            sdk_app_id: self.context.sdk_app_id,
            msg_key: &self.msg_key,
        })
    }
}
