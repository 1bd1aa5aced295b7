//! The recall event: the JSON body of `Group.CallbackAfterRecallMsg` plus its query context.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::app::SdkAppId;
use super::command::RecallCommand;
use super::context::QueryContext;
use super::group_type::GroupType;
use super::json::object_text;
use super::millis::UnixMillis;
use super::platform::Platform;
use super::rejection::Rejection;

/// Group messages that were just recalled, as one `Group.CallbackAfterRecallMsg` callback
/// reports them.
///
/// The layer puts one in the request extensions of every accepted callback (forward mode), or
/// hands it to the handler (acknowledge mode). Fields from the JSON body keep Tencent's meaning;
/// the query context (`SdkAppid`, `ClientIP`, `OptPlatform`, `RequestTime`) comes from the
/// callback URL. Serialized, it uses Tencent's field names, so it can be logged or queued as the
/// JSON Tencent sent plus the query context.
///
/// Tencent adds fields over time: unknown fields are ignored, and this struct is
/// `#[non_exhaustive]` so that new ones can be added here without breaking users.
///
/// A callback may be delivered twice when retries on timeout are switched on in Tencent's
/// console; there is no delivery ID, so deduplicate on
/// (`sdk_app_id`, `group_id`, `topic_id`, `msg_seq`).
///
/// `Serialize` and `Deserialize` round-trip every field, so an event can be queued as JSON and
/// read back whole. The layer does not read a callback body this way: it reads the body's own
/// fields and takes the query context from the URL only, so a body cannot claim another app.
///
/// ```
/// use tower_tim_recall::{RecallEvent, RecalledMessage};
///
/// let event = RecallEvent::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
/// let queued = serde_json::to_string(&event).unwrap();
/// assert_eq!(serde_json::from_str::<RecallEvent>(&queued).unwrap(), event);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecallEvent {
    /// `SdkAppid` (query): the app the callback is for, already checked against the allowlist.
    #[serde(rename = "SdkAppid", default)]
    pub sdk_app_id: SdkAppId,
    /// `CallbackCommand` (body): when present it must be `Group.CallbackAfterRecallMsg`.
    #[serde(rename = "CallbackCommand", default)]
    command: RecallCommand,
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
    /// `EventTime`: when the recall happened, in milliseconds. Sent as a number or as a string of
    /// digits, depending on the documentation version; both are accepted.
    #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<UnixMillis>,
    /// `ClientIP` (query): the end user's client address, as Tencent reports it.
    ///
    /// This is not the address of Tencent's sender: never use it for access control.
    #[serde(rename = "ClientIP", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// `OptPlatform` (query): the platform the recall was made from.
    #[serde(
        rename = "OptPlatform",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub platform: Option<Platform>,
    /// `RequestTime` (query): Unix seconds when Tencent sent the callback, present when callback
    /// authentication is on (and then verified).
    #[serde(
        rename = "RequestTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub request_time: Option<u64>,
}

impl RecallEvent {
    /// An event with the given app, group and recalled messages, and every optional field
    /// empty: for tests of code that handles events.
    ///
    /// ```
    /// use tower_tim_recall::{RecallEvent, RecalledMessage};
    ///
    /// let mut event = RecallEvent::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
    /// event.operator_account = Some("admin".to_owned());
    /// assert_eq!(event.sdk_app_id.get(), 1400000000);
    /// ```
    #[must_use]
    pub fn new(
        sdk_app_id: impl Into<SdkAppId>,
        group_id: impl Into<String>,
        messages: impl IntoIterator<Item = RecalledMessage>,
    ) -> Self {
        Self {
            sdk_app_id: sdk_app_id.into(),
            command: RecallCommand,
            operator_account: None,
            group_type: None,
            group_id: group_id.into(),
            messages: messages.into_iter().collect(),
            topic_id: None,
            event_time: None,
            client_ip: None,
            platform: None,
            request_time: None,
        }
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

/// Parses a callback body, the query context already checked: the body rules of the decision
/// table, in its order. The body must be one JSON object, UTF-8, nested no deeper than 127
/// levels ([`object_text`]), with nothing after it; `GroupId` and `MsgSeqList` are required,
/// the fields read may not be given twice, and fields Tencent may add later are ignored.
pub(crate) fn parse_event(body: &[u8], context: QueryContext) -> Result<RecallEvent, Rejection> {
    let text = object_text(body)?;
    let body: Wire = serde_json::from_str(text).map_err(Rejection::invalid_body)?;
    Ok(RecallEvent {
        sdk_app_id: context.sdk_app_id,
        command: body.command,
        operator_account: body.operator_account,
        group_type: body.group_type,
        group_id: body.group_id,
        messages: body.messages,
        topic_id: body.topic_id,
        event_time: body.event_time,
        client_ip: context.client_ip,
        platform: context.platform,
        request_time: context.request_time,
    })
}

/// A callback body as Tencent writes it: its fields, with Tencent's names, in the order of the
/// documented example. Anything else in a body, a `SdkAppid` or `ClientIP` included, is an
/// unknown field and ignored: the query context comes from the URL. Read, its command can only
/// be the recall command; the `testing` feature writes others.
#[derive(Serialize, Deserialize)]
struct Wire<C = RecallCommand> {
    #[serde(rename = "CallbackCommand", default)]
    command: C,
    #[serde(
        rename = "Operator_Account",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    operator_account: Option<String>,
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    group_type: Option<GroupType>,
    #[serde(rename = "GroupId")]
    group_id: String,
    #[serde(rename = "MsgSeqList")]
    messages: Vec<RecalledMessage>,
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    topic_id: Option<String>,
    #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
    event_time: Option<UnixMillis>,
}

/// The JSON body Tencent sends for `event`, with `command` as its `CallbackCommand`.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn body_json(event: &RecallEvent, command: &str) -> Vec<u8> {
    let body = Wire {
        command,
        operator_account: event.operator_account.clone(),
        group_type: event.group_type.clone(),
        group_id: event.group_id.clone(),
        messages: event.messages.clone(),
        topic_id: event.topic_id.clone(),
        event_time: event.event_time,
    };
    // Strings, numbers and a list of them: serializing cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{documented_event, APP, DOCUMENTED, DOCUMENTED_QUEUED};

    fn context() -> QueryContext {
        QueryContext {
            sdk_app_id: SdkAppId::new(APP),
            client_ip: Some("127.0.0.1".parse().unwrap()),
            platform: Some(Platform::RestApi),
            request_time: None,
        }
    }

    fn parse(body: &str) -> Result<RecallEvent, Rejection> {
        parse_event(body.as_bytes(), context())
    }

    /// The `ErrorInfo` a refused body is answered with.
    fn reason(body: &str) -> String {
        parse(body).unwrap_err().reason().to_owned()
    }

    #[test]
    fn parses_the_documented_example() {
        assert_eq!(parse(DOCUMENTED), Ok(documented_event()));
    }

    #[test]
    fn event_time_as_string_or_number() {
        let body = |time: &str| {
            format!(r#"{{"GroupId":"g","MsgSeqList":[{{"MsgSeq":1}}],"EventTime":{time}}}"#)
        };
        let at = Some(UnixMillis::new(1_670_574_414_123));
        assert_eq!(parse(&body("1670574414123")).unwrap().event_time, at);
        assert_eq!(parse(&body(r#""1670574414123""#)).unwrap().event_time, at);
        assert_eq!(parse(&body("null")).unwrap().event_time, None);
        assert_eq!(
            reason(&body(r#""yesterday""#)),
            "invalid body: invalid value: string \"yesterday\", expected milliseconds as a \
             non-negative integer or a string of digits at line 1 column 66"
        );
    }

    #[test]
    fn the_oldest_form_has_only_seqs() {
        let event = parse(
            r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1",
                "Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}"#,
        )
        .unwrap();
        assert_eq!(event.topic_id, None);
        assert_eq!(event.event_time, None);
        assert_eq!(
            event.messages,
            [RecalledMessage::new(1, None), RecalledMessage::new(2, None)]
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_values_kept() {
        let event = parse(
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":4294967295,"Extra":[1,{"a":2}]}],
                "Type":"FutureRoom","NewField":{"nested":true}}"#,
        )
        .unwrap();
        assert_eq!(
            event.group_type,
            Some(GroupType::Other("FutureRoom".into()))
        );
        assert_eq!(event.messages[0].msg_seq, u32::MAX);
    }

    #[test]
    fn required_fields_and_types_are_enforced() {
        let cases = [
            (
                r#"{"MsgSeqList":[{"MsgSeq":1}]}"#,
                "invalid body: missing field `GroupId` at line 1 column 29",
            ),
            (
                r#"{"GroupId":"g"}"#,
                "invalid body: missing field `MsgSeqList` at line 1 column 15",
            ),
            (
                r#"{"GroupId":1,"MsgSeqList":[]}"#,
                "invalid body: invalid type: integer `1`, expected a string at line 1 column 12",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":{}}"#,
                "invalid body: invalid type: map, expected a sequence at line 1 column 28",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[{"MsgId":"x"}]}"#,
                "invalid body: missing field `MsgSeq` at line 1 column 42",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":4294967296}]}"#,
                "invalid body: invalid value: integer `4294967296`, expected u32 at line 1 column 49",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":-1}]}"#,
                "invalid body: invalid value: integer `-1`, expected u32 at line 1 column 41",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":"1"}]}"#,
                "invalid body: invalid type: string \"1\", expected u32 at line 1 column 42",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[],"Type":5}"#,
                "invalid body: invalid type: integer `5`, expected a string at line 1 column 39",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[],"Operator_Account":5}"#,
                "invalid body: invalid type: integer `5`, expected a string at line 1 column 51",
            ),
            (
                r#"{"GroupId":"g","GroupId":"h","MsgSeqList":[]}"#,
                "invalid body: duplicate field `GroupId` at line 1 column 24",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[]} {}"#,
                "invalid body: trailing characters at line 1 column 33",
            ),
            (
                r#"{"GroupId":"g","MsgSeqList":[]"#,
                "invalid body: EOF while parsing an object at line 1 column 30",
            ),
        ];
        for (body, expected) in cases {
            let refused = parse(body).unwrap_err();
            assert_eq!(refused.status(), 400, "{body}");
            assert_eq!(refused.reason(), expected, "{body}");
        }
    }

    #[test]
    fn the_body_command_must_be_the_recall_command() {
        assert_eq!(
            reason(
                r#"{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g","MsgSeqList":[]}"#
            ),
            "invalid body: invalid value: string \"Group.CallbackAfterSendMsg\", expected the \
             query's CallbackCommand, Group.CallbackAfterRecallMsg at line 1 column 47"
        );
    }

    #[test]
    fn serializes_with_tencent_names() {
        let event = documented_event();
        assert_eq!(serde_json::to_string(&event).unwrap(), DOCUMENTED_QUEUED);
        assert_eq!(
            (event.group_type, event.event_time, event.platform),
            (
                Some(GroupType::Community),
                Some(UnixMillis::new(1_670_574_414_123)),
                Some(Platform::RestApi)
            )
        );
    }

    #[test]
    fn a_constructed_event_equals_a_parsed_one() {
        let built = RecallEvent::new(APP, "g", [RecalledMessage::new(1, None)]);
        let bare = QueryContext {
            sdk_app_id: SdkAppId::new(APP),
            client_ip: None,
            platform: None,
            request_time: None,
        };
        let parsed = parse_event(br#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1}]}"#, bare);
        assert_eq!(parsed, Ok(built));
    }

    #[test]
    fn a_queued_event_reads_back_whole() {
        let mut event = documented_event();
        event.client_ip = Some("2001:db8::7".parse().unwrap());
        event.platform = Some(Platform::Other("HarmonyOS".to_owned()));
        event.request_time = Some(1_669_872_112);
        let queued = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            serde_json::from_slice::<RecallEvent>(&queued).unwrap(),
            event
        );
    }

    #[test]
    fn the_body_of_an_event_is_the_documented_body() {
        let body = body_json(&documented_event(), super::super::command::RECALL_COMMAND);
        assert_eq!(String::from_utf8(body).unwrap(), DOCUMENTED.trim());
        let other = body_json(&documented_event(), "Group.CallbackAfterSendMsg");
        let other: serde_json::Value = serde_json::from_slice(&other).unwrap();
        assert_eq!(other["CallbackCommand"], "Group.CallbackAfterSendMsg");
    }

    #[test]
    fn query_fields_in_a_body_are_ignored_whatever_they_hold() {
        // The layer takes the app and the query context from the URL; in a body they are
        // unknown fields, skipped even when they could not be read as such.
        let event = parse(
            r#"{"SdkAppid":"not a number","ClientIP":5,"OptPlatform":[],"RequestTime":"x",
                "GroupId":"g","MsgSeqList":[{"MsgSeq":1}]}"#,
        )
        .unwrap();
        assert_eq!(event.sdk_app_id, SdkAppId::new(APP));
        assert_eq!(event.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(event.platform, Some(Platform::RestApi));
        assert_eq!(event.request_time, None);
    }
}
