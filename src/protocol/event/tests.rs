use super::*;
use crate::protocol::app::SdkAppId;
use crate::protocol::group::RecalledMessage;
use crate::protocol::group_type::GroupType;
use crate::protocol::official_account::WithdrawnMessage;
use crate::protocol::platform::Platform;
use crate::test_support::{
    documented_event, refused_bodies, APP, DOCUMENTED, DOCUMENTED_QUEUED, OFFICIAL_ACCOUNT,
    ONE_TO_ONE, ONE_TO_ONE_ZH,
};

const GROUP: RecallKind = RecallKind::Group;
const C2C: RecallKind = RecallKind::OneToOne;
const OA: RecallKind = RecallKind::OfficialAccount;

/// The query context of Tencent's documented URL.
fn context() -> CallbackContext {
    let mut context = CallbackContext::new(APP);
    context.client_ip = Some("127.0.0.1".parse().unwrap());
    context.platform = Some(Platform::RestApi);
    context
}

fn parse(kind: RecallKind, body: &str) -> Result<RecallEvent, BodyError> {
    RecallEvent::parse(kind, body.as_bytes(), context())
}

/// The `ErrorInfo` a refused body is answered with.
fn reason(kind: RecallKind, body: &str) -> String {
    parse(kind, body).unwrap_err().reason().to_owned()
}

fn group(body: &str) -> GroupRecall {
    match parse(GROUP, body) {
        Ok(RecallEvent::Group(recall)) => recall,
        other => panic!("not a group recall: {other:?}"),
    }
}

fn one_to_one(body: &str) -> OneToOneRecall {
    match parse(C2C, body) {
        Ok(RecallEvent::OneToOne(recall)) => recall,
        other => panic!("not a one-to-one recall: {other:?}"),
    }
}

fn official_account(body: &str) -> OfficialAccountRecall {
    match parse(OA, body) {
        Ok(RecallEvent::OfficialAccount(recall)) => recall,
        other => panic!("not an official-account recall: {other:?}"),
    }
}

/// The event the layer makes of the international one-to-one example.
fn documented_one_to_one() -> OneToOneRecall {
    let mut recall = OneToOneRecall::new(APP, "jared", "Jonh", "48374_2837546_1557481126");
    recall.context = context();
    recall.unread_msg_num = Some(7);
    recall
}

#[test]
fn parses_the_documented_group_example() {
    assert_eq!(parse(GROUP, DOCUMENTED), Ok(documented_event()));
}

#[test]
fn parses_both_editions_of_the_one_to_one_example() {
    assert_eq!(one_to_one(ONE_TO_ONE), documented_one_to_one());
    let mut chinese = documented_one_to_one();
    chinese.unread_msg_num = None;
    chinese.event_time = Some(UnixMillis::new(1_670_574_414_123));
    assert_eq!(one_to_one(ONE_TO_ONE_ZH), chinese);
    // Both fields, or neither.
    let both = one_to_one(
        r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":0,"EventTime":"5"}"#,
    );
    assert_eq!(
        (both.unread_msg_num, both.event_time),
        (Some(0), Some(UnixMillis::new(5)))
    );
    let neither = one_to_one(r#"{"From_Account":"a","To_Account":"b","MsgKey":"k"}"#);
    assert_eq!((neither.unread_msg_num, neither.event_time), (None, None));
}

#[test]
fn unread_count_is_any_integer() {
    let unread = |count: &str| {
        let body = format!(
            r#"{{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":{count}}}"#
        );
        one_to_one(&body).unread_msg_num
    };
    assert_eq!(unread("-1"), Some(-1));
    assert_eq!(unread("0"), Some(0));
    assert_eq!(unread("9223372036854775807"), Some(i64::MAX));
    assert_eq!(unread("-9223372036854775808"), Some(i64::MIN));
    assert_eq!(unread("null"), None);
    assert_eq!(
        reason(
            C2C,
            r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":"7"}"#
        ),
        "invalid body: invalid type: string \"7\", expected i64 at line 1 column 68"
    );
    assert_eq!(
        reason(
            C2C,
            r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":1.5}"#
        ),
        "invalid body: invalid type: floating point `1.5`, expected i64 at line 1 column 68"
    );
}

#[test]
fn parses_the_documented_official_account_example() {
    let mut expected =
        OfficialAccountRecall::new(APP, "#TOA#_123", [WithdrawnMessage::new("71_1_1698741698")]);
    expected.context = context();
    expected.event_time = Some(UnixMillis::new(1_670_574_414_123));
    assert_eq!(official_account(OFFICIAL_ACCOUNT), expected);
}

#[test]
fn event_time_as_string_or_number_for_every_kind() {
    let bodies = [
        (
            GROUP,
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1}],"EventTime":"#,
        ),
        (
            C2C,
            r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","EventTime":"#,
        ),
        (
            OA,
            r#"{"Official_Account":"a","WithdrawMsgList":[],"EventTime":"#,
        ),
    ];
    let at = Some(UnixMillis::new(1_670_574_414_123));
    for (kind, head) in bodies {
        let time = |time: &str| {
            let event = parse(kind, &format!("{head}{time}}}")).unwrap();
            assert_eq!(event.kind(), kind);
            event.event_time()
        };
        assert_eq!(time("1670574414123"), at, "{kind}");
        assert_eq!(time(r#""1670574414123""#), at, "{kind}");
        assert_eq!(time("null"), None, "{kind}");
        let refused = reason(kind, &format!(r#"{head}"yesterday"}}"#));
        let column = head.len() + 11;
        assert_eq!(
            refused,
            format!(
                "invalid body: invalid value: string \"yesterday\", expected milliseconds as a \
                 non-negative integer or a string of digits at line 1 column {column}"
            ),
            "{kind}"
        );
    }
}

#[test]
fn the_oldest_group_form_has_only_seqs() {
    let event = group(
        r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1",
            "Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}"#,
    );
    assert_eq!(event.topic_id, None);
    assert_eq!(event.event_time, None);
    assert_eq!(
        event.messages,
        [RecalledMessage::new(1, None), RecalledMessage::new(2, None)]
    );
}

#[test]
fn unknown_fields_are_ignored_and_unknown_values_kept() {
    let event = group(
        r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":4294967295,"Extra":[1,{"a":2}]}],
            "Type":"FutureRoom","NewField":{"nested":true}}"#,
    );
    assert_eq!(
        event.group_type,
        Some(GroupType::Other("FutureRoom".into()))
    );
    assert_eq!(event.messages[0].msg_seq, u32::MAX);
    let event = one_to_one(
        r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","CloudCustomData":"x","MsgBody":[{"MsgType":"TIMTextElem"}]}"#,
    );
    assert_eq!(event.msg_key, "k");
    let event = official_account(
        r#"{"Official_Account":"a","WithdrawMsgList":[{"MsgKey":"k","MsgSeq":3}],"Topic":{}}"#,
    );
    assert_eq!(event.messages, [WithdrawnMessage::new("k")]);
}

/// Each kind's required fields, types and duplicates, with the exact reason: 400, and what
/// serde_json found, with its place (the table is shared with the layer's tests).
#[test]
fn required_fields_and_types_are_enforced_for_each_kind() {
    let mut count = 0;
    for (kind, body, expected) in refused_bodies() {
        let refused = parse(kind, body).unwrap_err().into_rejection();
        assert_eq!(refused.status(), 400, "{kind}: {body}");
        assert_eq!(refused.reason(), expected, "{kind}: {body}");
        count += 1;
    }
    assert_eq!(count, 40, "the table was read whole");
}

#[test]
fn the_body_command_must_be_the_query_command() {
    let mismatch = "the body's CallbackCommand is not the query's";
    // Another command under each kind's fields.
    assert_eq!(
        reason(
            GROUP,
            r#"{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g","MsgSeqList":[]}"#
        ),
        mismatch
    );
    // A body of one kind under another kind's command: refused for its command, not for the
    // fields it lacks.
    for kind in [C2C, OA] {
        assert_eq!(reason(kind, DOCUMENTED), mismatch, "{kind}");
    }
    for kind in [GROUP, OA] {
        assert_eq!(reason(kind, ONE_TO_ONE), mismatch, "{kind}");
    }
    for kind in [GROUP, C2C] {
        assert_eq!(reason(kind, OFFICIAL_ACCOUNT), mismatch, "{kind}");
    }
    // Tencent spells the commands one way.
    assert_eq!(
        reason(
            C2C,
            r#"{"CallbackCommand":"C2C.CallbackAfterMsgWithdraw","From_Account":"a","To_Account":"b","MsgKey":"k"}"#
        ),
        mismatch
    );
    // An escaped spelling of the right command is the right command.
    let escaped = one_to_one(
        r#"{"CallbackCommand":"C2C.Callback\u0041fterMsgWithDraw","From_Account":"a","To_Account":"b","MsgKey":"k"}"#,
    );
    assert_eq!(escaped.msg_key, "k");
    // Without a command, or with null, the query's decides.
    assert_eq!(
        parse(
            OA,
            r#"{"CallbackCommand":null,"Official_Account":"a","WithdrawMsgList":[]}"#
        )
        .unwrap()
        .kind(),
        OA
    );
    // A command that is not a string is a type error, whatever the fields.
    assert_eq!(
        reason(C2C, r#"{"CallbackCommand":7}"#),
        "invalid body: invalid type: integer `7`, expected a string at line 1 column 20"
    );
    // A body that is not JSON says so, even with a wrong command in it.
    assert_eq!(
        reason(C2C, r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","#),
        "invalid body: EOF while parsing a value at line 1 column 50"
    );
}

#[test]
fn serializes_with_tencent_names() {
    let event = documented_event();
    assert_eq!(serde_json::to_string(&event).unwrap(), DOCUMENTED_QUEUED);
    let RecallEvent::Group(recall) = &event else {
        panic!("a group recall")
    };
    assert_eq!(
        (
            recall.group_type.clone(),
            recall.event_time,
            recall.context.platform.clone()
        ),
        (
            Some(GroupType::Community),
            Some(UnixMillis::new(1_670_574_414_123)),
            Some(Platform::RestApi)
        )
    );
    let one_to_one = RecallEvent::from(documented_one_to_one());
    assert_eq!(
        serde_json::to_string(&one_to_one).unwrap(),
        concat!(
            r#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","SdkAppid":1400000000,"#,
            r#""ClientIP":"127.0.0.1","OptPlatform":"RESTAPI","From_Account":"jared","#,
            r#""To_Account":"Jonh","MsgKey":"48374_2837546_1557481126","UnreadMsgNum":7}"#
        )
    );
    let official = parse(OA, OFFICIAL_ACCOUNT).unwrap();
    assert_eq!(
        serde_json::to_string(&official).unwrap(),
        concat!(
            r#"{"CallbackCommand":"OfficialAccount.CallbackAfterMsgWithDraw","#,
            r#""SdkAppid":1400000000,"ClientIP":"127.0.0.1","OptPlatform":"RESTAPI","#,
            r##""Official_Account":"#TOA#_123","WithdrawMsgList":[{"MsgKey":"71_1_1698741698"}],"##,
            r#""EventTime":1670574414123}"#
        )
    );
}

#[test]
fn a_constructed_event_equals_a_parsed_one() {
    let bare = || CallbackContext::new(APP);
    let built = GroupRecall::new(APP, "g", [RecalledMessage::new(1, None)]);
    let parsed = RecallEvent::parse(
        GROUP,
        br#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1}]}"#,
        bare(),
    );
    assert_eq!(parsed, Ok(built.into()));
    let built = OneToOneRecall::new(APP, "a", "b", "k");
    let parsed = RecallEvent::parse(
        C2C,
        br#"{"From_Account":"a","To_Account":"b","MsgKey":"k"}"#,
        bare(),
    );
    assert_eq!(parsed, Ok(built.into()));
    let built = OfficialAccountRecall::new(APP, "a", [WithdrawnMessage::new("k")]);
    let parsed = RecallEvent::parse(
        OA,
        br#"{"Official_Account":"a","WithdrawMsgList":[{"MsgKey":"k"}]}"#,
        bare(),
    );
    assert_eq!(parsed, Ok(built.into()));
}

/// Each documented body parsed with a context that has every query parameter: its kind and
/// its event.
fn each_documented_event() -> Vec<(RecallKind, RecallEvent)> {
    let mut context = context();
    context.client_ip = Some("2001:db8::7".parse().unwrap());
    context.platform = Some(Platform::Other("HarmonyOS".to_owned()));
    context.request_time = Some(1_669_872_112);
    [DOCUMENTED, ONE_TO_ONE, ONE_TO_ONE_ZH, OFFICIAL_ACCOUNT]
        .into_iter()
        .map(|body| {
            let kind = [GROUP, C2C, OA]
                .into_iter()
                .find(|kind| body.contains(kind.command()))
                .unwrap();
            let event = RecallEvent::parse(kind, body.as_bytes(), context.clone()).unwrap();
            (kind, event)
        })
        .collect()
}

#[test]
fn a_queued_event_of_each_kind_reads_back_whole() {
    for (_, event) in each_documented_event() {
        let queued = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            serde_json::from_slice::<RecallEvent>(&queued).unwrap(),
            event
        );
        // The event time survives as a number.
        let value: serde_json::Value = serde_json::from_slice(&queued).unwrap();
        assert_eq!(
            value.get("EventTime").map(serde_json::Value::is_u64),
            event.event_time().map(|_| true)
        );
    }
}

#[test]
fn the_body_of_an_event_is_the_documented_body() {
    let body = body_json(&documented_event(), GROUP.command());
    assert_eq!(String::from_utf8(body).unwrap(), DOCUMENTED.trim());
    let body = body_json(&documented_one_to_one().into(), C2C.command());
    assert_eq!(String::from_utf8(body).unwrap(), ONE_TO_ONE.trim());
    let official = parse(OA, OFFICIAL_ACCOUNT).unwrap();
    let body = body_json(&official, OA.command());
    assert_eq!(String::from_utf8(body).unwrap(), OFFICIAL_ACCOUNT.trim());
    let other = body_json(&documented_event(), "Group.CallbackAfterSendMsg");
    let other: serde_json::Value = serde_json::from_slice(&other).unwrap();
    assert_eq!(other["CallbackCommand"], "Group.CallbackAfterSendMsg");
}

#[test]
fn query_fields_in_a_body_are_ignored_whatever_they_hold() {
    // The layer takes the app and the query context from the URL; in a body they are unknown
    // fields, skipped even when they could not be read as such.
    let fields = r#""SdkAppid":"not a number","ClientIP":5,"OptPlatform":[],"RequestTime":"x""#;
    let bodies = [
        (
            GROUP,
            format!(r#"{{{fields},"GroupId":"g","MsgSeqList":[{{"MsgSeq":1}}]}}"#),
        ),
        (
            C2C,
            format!(r#"{{{fields},"From_Account":"a","To_Account":"b","MsgKey":"k"}}"#),
        ),
        (
            OA,
            format!(r#"{{{fields},"Official_Account":"a","WithdrawMsgList":[]}}"#),
        ),
    ];
    for (kind, body) in bodies {
        let event = parse(kind, &body).unwrap();
        assert_eq!(event.context(), &context(), "{kind}");
        assert_eq!(event.context().sdk_app_id, SdkAppId::new(APP));
    }
}

#[test]
fn each_recalled_message_has_its_dedup_key() {
    let keys = |event: &RecallEvent| {
        serde_json::to_string(&event.dedup_keys().collect::<Vec<_>>()).unwrap()
    };
    assert_eq!(
        keys(&documented_event()),
        r#"[{"Group":{"SdkAppid":1400000000,"GroupId":"@TGS#_@TGS#cQVLVHIM62CJ","TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic","MsgSeq":130}}]"#
    );
    let two = parse(
        GROUP,
        r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}"#,
    )
    .unwrap();
    assert_eq!(two.dedup_keys().count(), 2);
    assert_eq!(
        keys(&parse(C2C, ONE_TO_ONE).unwrap()),
        r#"[{"OneToOne":{"SdkAppid":1400000000,"MsgKey":"48374_2837546_1557481126"}}]"#
    );
    let official = parse(
        OA,
        r##"{"Official_Account":"#TOA#_1","WithdrawMsgList":[{"MsgKey":"a"},{"MsgKey":"b"}]}"##,
    )
    .unwrap();
    assert_eq!(
        keys(&official),
        concat!(
            r##"[{"OfficialAccount":{"SdkAppid":1400000000,"Official_Account":"#TOA#_1","MsgKey":"a"}},"##,
            r##"{"OfficialAccount":{"SdkAppid":1400000000,"Official_Account":"#TOA#_1","MsgKey":"b"}}]"##
        )
    );
    // No messages, no keys.
    let none = parse(OA, r#"{"Official_Account":"a","WithdrawMsgList":[]}"#).unwrap();
    assert_eq!(none.dedup_keys().count(), 0);
}

#[test]
fn the_enum_gives_each_kind() {
    let event = parse(C2C, ONE_TO_ONE).unwrap();
    assert_eq!(event.kind(), C2C);
    assert!(event.as_one_to_one().is_some());
    assert!(event.as_group().is_none() && event.as_official_account().is_none());
    let event = parse(OA, OFFICIAL_ACCOUNT).unwrap();
    assert!(event.as_official_account().is_some() && event.as_group().is_none());
    assert!(documented_event().as_group().is_some());
}

#[test]
fn a_tencent_body_read_as_the_queued_form_points_to_parse() {
    for body in [DOCUMENTED, ONE_TO_ONE, ONE_TO_ONE_ZH, OFFICIAL_ACCOUNT] {
        let error = serde_json::from_str::<RecallEvent>(body).unwrap_err();
        assert_eq!(
            error.to_string(),
            "missing field `SdkAppid`: this is RecallEvent's queued form, which carries the \
             query's SdkAppid; read a body as Tencent sends it with RecallEvent::parse"
        );
    }
    // Other mistakes keep serde's own message.
    let error = serde_json::from_str::<RecallEvent>(
        r#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","SdkAppid":1}"#,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("missing field `From_Account`"),
        "{error}"
    );
}

#[test]
fn the_body_and_the_queued_form_carry_the_same_fields() {
    for (kind, event) in each_documented_event() {
        let mut queued: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&serde_json::to_vec(&event).unwrap()).unwrap();
        for from_the_query in ["SdkAppid", "ClientIP", "OptPlatform", "RequestTime"] {
            assert!(queued.remove(from_the_query).is_some(), "{from_the_query}");
        }
        let written: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&body_json(&event, kind.command())).unwrap();
        assert_eq!(queued, written, "{}", kind.command());
        assert!(written.len() > 2, "{written:?}");
    }
}
