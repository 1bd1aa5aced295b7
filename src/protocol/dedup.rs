//! [`DedupKey`]: what names one recalled message, to deduplicate deliveries.

use serde::Serialize;

use super::app::SdkAppId;

/// What names one recalled message, across deliveries: no callback carries a delivery ID, and
/// Tencent sends a callback again when retries on timeout are switched on in its console. Keep
/// the keys already handled (for a while longer than the retries last) and skip a callback whose
/// keys are all among them.
///
/// Borrowed from the event; `Serialize` writes it as JSON that can serve as a key in a store.
///
/// ```
/// use tower_tim_recall::{DedupKey, GroupRecall, RecalledMessage};
///
/// let recall = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
/// let key = recall.dedup_keys().next().unwrap();
/// assert_eq!(
///     serde_json::to_string(&key).unwrap(),
///     r#"{"Group":{"SdkAppid":1400000000,"GroupId":"@TGS#2J4SZEAEL","TopicId":null,"MsgSeq":130}}"#
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum DedupKey<'a> {
    /// A group message: (`SdkAppid`, `GroupId`, `TopicId`, `MsgSeq`).
    Group {
        /// `SdkAppid`.
        #[serde(rename = "SdkAppid")]
        sdk_app_id: SdkAppId,
        /// `GroupId`.
        #[serde(rename = "GroupId")]
        group_id: &'a str,
        /// `TopicId`, for a community group with topics.
        #[serde(rename = "TopicId")]
        topic_id: Option<&'a str>,
        /// `MsgSeq`.
        #[serde(rename = "MsgSeq")]
        msg_seq: u32,
    },
    /// A one-to-one message: (`SdkAppid`, `MsgKey`).
    OneToOne {
        /// `SdkAppid`.
        #[serde(rename = "SdkAppid")]
        sdk_app_id: SdkAppId,
        /// `MsgKey`.
        #[serde(rename = "MsgKey")]
        msg_key: &'a str,
    },
    /// An official-account message: (`SdkAppid`, `Official_Account`, `MsgKey`).
    OfficialAccount {
        /// `SdkAppid`.
        #[serde(rename = "SdkAppid")]
        sdk_app_id: SdkAppId,
        /// `Official_Account`.
        #[serde(rename = "Official_Account")]
        official_account: &'a str,
        /// `MsgKey`.
        #[serde(rename = "MsgKey")]
        msg_key: &'a str,
    },
}
