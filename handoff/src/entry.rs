//! [`Entry`]: one recalled message, as the journal and the stream store it (format version 1).

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tower_tim_recall::{AcceptedRecall, CallbackContext, RecallEvent};

/// The version of the entry format, written beside every entry (the journal's
/// `PRAGMA user_version`, the stream's `v` field). A consumer checks it before it reads an entry.
pub const FORMAT_VERSION: u32 = 1;

/// One recalled message, ready to be stored: a group recall of three `MsgSeq`s is three entries.
///
/// The fields are the contract of the entry format (see the crate docs): `key`, `event`, `body`
/// and `received` under these names, in the journal and in the stream alike.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The dedup key as `serde_json::to_string(&key)` writes it, e.g.
    /// `{"Group":{"SdkAppid":1400000000,"GroupId":"@TGS#2J4SZEAEL","TopicId":null,"MsgSeq":130}}`.
    pub key: String,
    /// The event narrowed to this one message, in the crate's queued JSON form
    /// ([`RecallEvent`]'s serde form), with the callback's query context.
    pub event: String,
    /// The body exactly as Tencent sent it (UTF-8 JSON, which the layer checked).
    pub body: String,
    /// When the receiver accepted the callback, in Unix milliseconds.
    pub received: u64,
    /// What the body says about this message, as a SHA-256 digest in hex: the narrowed event
    /// without the query context (`ClientIP`, `OptPlatform`, `RequestTime`), which are details
    /// of one delivery. Two entries with the same key are duplicates when their contents are
    /// equal, and in conflict otherwise.
    pub content: String,
}

impl Entry {
    /// The entries of one accepted recall, one per recalled message, in the body's order, each
    /// received at `received` (Unix milliseconds). An empty `MsgSeqList` gives none.
    pub fn of(accepted: &AcceptedRecall, received: u64) -> Vec<Entry> {
        // The layer has read the body as UTF-8; a lossy conversion only matters for bodies
        // built by hand outside the layer.
        let body = String::from_utf8_lossy(&accepted.body).into_owned();
        narrow(&accepted.event)
            .into_iter()
            .map(|event| Entry::new(&event, body.clone(), received))
            .collect()
    }

    /// The entry of one message's `event` (narrowed to it), `body` and `received`.
    fn new(event: &RecallEvent, body: String, received: u64) -> Entry {
        let key = event
            .dedup_keys()
            .next()
            .map(|key| serde_json::to_string(&key).expect("a dedup key serializes"))
            .unwrap_or_default();
        let content = digest(&without_delivery(event));
        Entry {
            key,
            event: serde_json::to_string(event).expect("an event serializes"),
            body,
            received,
            content,
        }
    }
}

/// Now, in Unix milliseconds.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The event split into one event per recalled message, each with the callback's context and
/// the other fields unchanged.
fn narrow(event: &RecallEvent) -> Vec<RecallEvent> {
    match event {
        RecallEvent::Group(recall) => recall
            .messages
            .iter()
            .map(|message| {
                let mut one = recall.clone();
                one.messages = vec![message.clone()];
                RecallEvent::from(one)
            })
            .collect(),
        RecallEvent::OfficialAccount(recall) => recall
            .messages
            .iter()
            .map(|message| {
                let mut one = recall.clone();
                one.messages = vec![message.clone()];
                RecallEvent::from(one)
            })
            .collect(),
        // A one-to-one recall names one message, and so does any kind the crate may add.
        other => vec![other.clone()],
    }
}

/// The event with its query context reduced to the app: what the body says.
fn without_delivery(event: &RecallEvent) -> RecallEvent {
    let mut event = event.clone();
    let app = event.context().sdk_app_id;
    match &mut event {
        RecallEvent::Group(recall) => recall.context = CallbackContext::new(app),
        RecallEvent::OneToOne(recall) => recall.context = CallbackContext::new(app),
        RecallEvent::OfficialAccount(recall) => recall.context = CallbackContext::new(app),
        _ => {}
    }
    event
}

fn digest(event: &RecallEvent) -> String {
    let json = serde_json::to_vec(event).expect("an event serializes");
    format!("{:x}", Sha256::digest(json))
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use bytes::Bytes;
    use tower_tim_recall::{GroupRecall, OneToOneRecall, RecalledMessage};

    use super::*;

    fn group(seqs: &[u32], operator: &str) -> GroupRecall {
        let messages = seqs.iter().map(|&seq| RecalledMessage::new(seq, None));
        let mut recall = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", messages);
        recall.operator_account = Some(operator.to_owned());
        recall
    }

    #[test]
    fn a_group_recall_is_one_entry_per_message_in_order() {
        let body = Bytes::from_static(br#"{"GroupId":"@TGS#2J4SZEAEL","Extra":1}"#);
        let accepted = AcceptedRecall::new(group(&[130, 131], "jared").into(), body);
        let entries = Entry::of(&accepted, 1_700_000_000_123);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].key,
            r#"{"Group":{"SdkAppid":1400000000,"GroupId":"@TGS#2J4SZEAEL","TopicId":null,"MsgSeq":130}}"#
        );
        assert_eq!(
            entries[1].event,
            r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","SdkAppid":1400000000,"Operator_Account":"jared","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":131}]}"#
        );
        assert_eq!(entries[0].body, r#"{"GroupId":"@TGS#2J4SZEAEL","Extra":1}"#);
        assert_eq!(entries[1].received, 1_700_000_000_123);
        assert_ne!(entries[0].content, entries[1].content);
        assert_eq!(entries[0].content.len(), 64);
    }

    #[test]
    fn the_content_leaves_out_the_delivery_and_keeps_the_event() {
        let first = group(&[130], "jared");
        let mut resent = first.clone();
        resent.context.client_ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        resent.context.request_time = Some(1_700_000_060);
        let forged = group(&[130], "mallory");
        let entry =
            |recall: GroupRecall| Entry::of(&AcceptedRecall::new(recall.into(), Bytes::new()), 1);
        let [first, resent, forged] = [first, resent, forged].map(|recall| entry(recall).remove(0));
        assert_eq!(first.key, resent.key);
        assert_eq!(first.content, resent.content);
        assert_ne!(
            first.event, resent.event,
            "the entry keeps the delivery's context"
        );
        assert_eq!(first.key, forged.key);
        assert_ne!(first.content, forged.content);
    }

    #[test]
    fn a_one_to_one_recall_is_one_entry_and_an_empty_list_none() {
        let recall = OneToOneRecall::new(1400000000, "jared", "Jonh", "48374_2837546_1557481126");
        let entries = Entry::of(&AcceptedRecall::new(recall.into(), Bytes::new()), 5);
        assert_eq!(
            entries
                .iter()
                .map(|entry| entry.key.as_str())
                .collect::<Vec<_>>(),
            [r#"{"OneToOne":{"SdkAppid":1400000000,"MsgKey":"48374_2837546_1557481126"}}"#]
        );
        let empty = AcceptedRecall::new(group(&[], "jared").into(), Bytes::new());
        assert!(Entry::of(&empty, 5).is_empty());
    }
}
