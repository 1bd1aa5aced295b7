//! `OfficialAccount.CallbackAfterMsgWithDraw`: official-account messages were recalled.

use serde::{Deserialize, Serialize};

use super::app::SdkAppId;
use super::body_command::{BodyCommand, KindBody};
use super::context::CallbackContext;
use super::dedup::DedupKey;
use super::millis::UnixMillis;
use super::recall_kind::RecallKind;

recall_fields! {
    kind: RecallKind::OfficialAccount;
    /// Official-account messages that were just recalled, as one
    /// `OfficialAccount.CallbackAfterMsgWithDraw` callback reports them.
    ///
    /// ```
    /// use tower_tim_recall::{OfficialAccountRecall, WithdrawnMessage};
    ///
    /// let recall = OfficialAccountRecall::new(1400000000, "#TOA#_123", [WithdrawnMessage::new("71_1_1698741698")]);
    /// assert_eq!(recall.messages[0].msg_key, "71_1_1698741698");
    /// ```
    pub struct OfficialAccountRecall {
        /// `Official_Account`: the official account's UserID.
        #[serde(rename = "Official_Account")]
        pub official_account: String,
        /// `WithdrawMsgList`: the recalled messages.
        #[serde(rename = "WithdrawMsgList")]
        pub messages: Vec<WithdrawnMessage>,
        /// `EventTime`: when the recall happened, in milliseconds.
        #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
        pub event_time: Option<UnixMillis>,
    }
}

impl OfficialAccountRecall {
    /// An official-account recall for this app, account and messages, with every optional
    /// field empty: for tests of code that handles events.
    #[must_use]
    pub fn new(
        sdk_app_id: impl Into<SdkAppId>,
        official_account: impl Into<String>,
        messages: impl IntoIterator<Item = WithdrawnMessage>,
    ) -> Self {
        Self {
            context: CallbackContext::new(sdk_app_id),
            official_account: official_account.into(),
            messages: messages.into_iter().collect(),
            event_time: None,
        }
    }

    /// One key per recalled message, to deduplicate deliveries: (`SdkAppid`,
    /// `Official_Account`, `MsgKey`).
    pub fn dedup_keys(&self) -> impl Iterator<Item = DedupKey<'_>> + '_ {
        self.messages
            .iter()
            .map(|message| DedupKey::OfficialAccount {
                sdk_app_id: self.context.sdk_app_id,
                official_account: &self.official_account,
                msg_key: &message.msg_key,
            })
    }
}

/// One recalled official-account message, an item of `WithdrawMsgList`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WithdrawnMessage {
    /// `MsgKey`: the message's unique key, opaque.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
}

impl WithdrawnMessage {
    /// A recalled message with this key.
    #[must_use]
    pub fn new(msg_key: impl Into<String>) -> Self {
        Self {
            msg_key: msg_key.into(),
        }
    }
}
