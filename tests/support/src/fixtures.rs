//! Tencent's documented callback, its signature vector, and what the layer must make of them.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_tim_recall::{
    CallbackContext, GroupRecall, GroupType, OfficialAccountRecall, OneToOneRecall, Platform,
    RecallEvent, RecallKind, RecallLayer, RecalledMessage, UnixMillis, WithdrawnMessage,
};

/// The app of Tencent's examples, the one the layers under test accept.
pub const APP: u64 = 1_400_000_000;
/// A second app some layers under test accept.
pub const SECOND_APP: u64 = 1_400_000_001;
/// An app no layer under test accepts.
pub const STRANGER: u64 = 1_400_000_009;

/// The token of Tencent's documented signature vector.
pub const TOKEN: &str = "xxxxyyyy";
/// The `RequestTime` of Tencent's documented signature vector, and the time the tests stop the
/// layer's clock at, so that [`DOC_SIGN`] is a valid signature now.
pub const NOW: u64 = 1_669_872_112;
/// The `Sign` of Tencent's documented signature vector: `TOKEN` at `NOW`.
pub const DOC_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";
/// The same vector under the names of its source.
pub const VECTOR_TOKEN: &str = TOKEN;
/// See [`VECTOR_TOKEN`].
pub const VECTOR_TIME: u64 = NOW;
/// See [`VECTOR_TOKEN`].
pub const VECTOR_SIGN: &str = DOC_SIGN;

/// The path callbacks are sent to (the layer ignores it).
pub const CALLBACK_PATH: &str = "/im/callback";
/// The longest path and query `http::Uri` holds (`u16::MAX - 1` bytes): a longer request target
/// never reaches a tower service.
pub const URI_MAX: usize = u16::MAX as usize - 1;
/// The query of Tencent's documented callback URL, unsigned.
pub const QUERY: &str = "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg\
                         &contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI";
/// The `CallbackCommand` parameter of a group recall.
pub const COMMAND: &str = "CallbackCommand=Group.CallbackAfterRecallMsg";
/// Another callback command Tencent sends to the same URL.
pub const OTHER_COMMAND: &str = "Group.CallbackAfterSendMsg";

/// Tencent's newest documented group recall body, on one line.
pub const EVENT: &str = include_str!("../../fixtures/group_recall.json");
/// The one-to-one recall body of Tencent's international documentation: `UnreadMsgNum`.
pub const ONE_TO_ONE: &str = include_str!("../../fixtures/one_to_one_recall.json");
/// The one-to-one recall body of Tencent's Chinese documentation: `EventTime` instead.
pub const ONE_TO_ONE_ZH: &str = include_str!("../../fixtures/one_to_one_recall_zh.json");
/// The official-account recall body of Tencent's documentation.
pub const OFFICIAL_ACCOUNT: &str = include_str!("../../fixtures/official_account_recall.json");
/// A command that is no recall, as Tencent sends many to the same URL.
pub const STATE_CHANGE: &str = "State.StateChange";
/// An older body: no `TopicId` or `MsgId`, `EventTime` as a string, two messages.
pub const OLD_EVENT: &str = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1","Type":"Public","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":4294967295}],"EventTime":"1670574414123"}"#;
/// The OK acknowledgement, byte for byte as Tencent documents it.
pub const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

/// `secs` after the Unix epoch: `builder.clock(move || at(NOW))`.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A layer for [`APP`], unsigned, that reads bodies of up to `body_limit` bytes.
pub fn unsigned_layer(body_limit: usize) -> RecallLayer {
    RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .body_limit(body_limit)
        .build()
        .expect("a valid configuration")
}

/// [`QUERY`] with `kind`'s command.
pub fn query_of(kind: RecallKind) -> String {
    QUERY.replace(RecallKind::Group.command(), kind.command())
}

/// The query context of [`QUERY`]: the app, `ClientIP=127.0.0.1`, `OptPlatform=RESTAPI`.
pub fn documented_context() -> CallbackContext {
    let mut context = CallbackContext::new(APP);
    context.client_ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    context.platform = Some(Platform::RestApi);
    context
}

/// The event the layer makes of [`EVENT`] under [`QUERY`].
pub fn documented_event() -> RecallEvent {
    documented_group().into()
}

/// The group recall the layer makes of [`EVENT`] under [`QUERY`].
pub fn documented_group() -> GroupRecall {
    let mut recall = GroupRecall::new(
        APP,
        "@TGS#_@TGS#cQVLVHIM62CJ",
        [RecalledMessage::new(
            130,
            Some("144115213033478435-1739361321-2512805311".into()),
        )],
    );
    recall.context = documented_context();
    recall.operator_account = Some("admin".into());
    recall.group_type = Some(GroupType::Community);
    recall.topic_id = Some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic".into());
    recall.event_time = Some(UnixMillis::new(1_670_574_414_123));
    recall
}

/// The event the layer makes of [`OLD_EVENT`] under [`QUERY`].
pub fn old_event() -> RecallEvent {
    let mut recall = GroupRecall::new(
        APP,
        "@TGS#2J4SZEAEL",
        [
            RecalledMessage::new(1, None),
            RecalledMessage::new(u32::MAX, None),
        ],
    );
    recall.context = documented_context();
    recall.operator_account = Some("u1".into());
    recall.group_type = Some(GroupType::Public);
    recall.event_time = Some(UnixMillis::new(1_670_574_414_123));
    recall.into()
}

/// The one-to-one recall the layer makes of [`ONE_TO_ONE`] under its command's [`QUERY`].
pub fn documented_one_to_one() -> OneToOneRecall {
    let mut recall = OneToOneRecall::new(APP, "jared", "Jonh", "48374_2837546_1557481126");
    recall.context = documented_context();
    recall.unread_msg_num = Some(7);
    recall
}

/// The one-to-one recall the layer makes of [`ONE_TO_ONE_ZH`] under its command's [`QUERY`].
pub fn documented_one_to_one_zh() -> OneToOneRecall {
    let mut recall = documented_one_to_one();
    recall.unread_msg_num = None;
    recall.event_time = Some(UnixMillis::new(1_670_574_414_123));
    recall
}

/// The official-account recall the layer makes of [`OFFICIAL_ACCOUNT`] under its command's
/// [`QUERY`].
pub fn documented_official_account() -> OfficialAccountRecall {
    let mut recall =
        OfficialAccountRecall::new(APP, "#TOA#_123", [WithdrawnMessage::new("71_1_1698741698")]);
    recall.context = documented_context();
    recall.event_time = Some(UnixMillis::new(1_670_574_414_123));
    recall
}

/// Every documented body, with its kind and the event the layer makes of it under
/// [`query_of`] its kind: the group recall, the one-to-one recall of both editions, the
/// official-account recall.
pub fn documented_bodies() -> [(RecallKind, &'static str, RecallEvent); 4] {
    [
        (RecallKind::Group, EVENT, documented_event()),
        (
            RecallKind::OneToOne,
            ONE_TO_ONE,
            documented_one_to_one().into(),
        ),
        (
            RecallKind::OneToOne,
            ONE_TO_ONE_ZH,
            documented_one_to_one_zh().into(),
        ),
        (
            RecallKind::OfficialAccount,
            OFFICIAL_ACCOUNT,
            documented_official_account().into(),
        ),
    ]
}

/// The bodies the layer refuses with 400, each with its kind (the query's command) and its
/// exact reason, from `tests/fixtures/refused_bodies.txt`, which the parser's unit tests read
/// too.
pub fn refused_bodies() -> Vec<(RecallKind, &'static str, &'static str)> {
    let table = include_str!("../../fixtures/refused_bodies.txt");
    let rows = table
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    rows.map(|line| {
        let columns: Vec<&str> = line.splitn(3, " | ").collect();
        let kind = ["group", "c2c", "official-account"]
            .iter()
            .position(|name| *name == columns[0])
            .map(|index| RecallKind::ALL[index])
            .expect("a kind");
        (kind, columns[1], columns[2])
    })
    .collect()
}
