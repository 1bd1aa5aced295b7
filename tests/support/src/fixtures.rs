//! Tencent's documented callback, its signature vector, and what the layer must make of them.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_tim_recall::{
    GroupType, Platform, RecallEvent, RecallLayer, RecalledMessage, UnixMillis,
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
/// The query of Tencent's documented callback URL, unsigned.
pub const QUERY: &str = "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg\
                         &contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI";
/// The `CallbackCommand` parameter of a group recall.
pub const COMMAND: &str = "CallbackCommand=Group.CallbackAfterRecallMsg";
/// Another callback command Tencent sends to the same URL.
pub const OTHER_COMMAND: &str = "Group.CallbackAfterSendMsg";

/// Tencent's newest documented body, on one line.
pub const EVENT: &str = include_str!("../../fixtures/recall_documented.json");
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

/// The event the layer makes of [`EVENT`] under [`QUERY`].
pub fn documented_event() -> RecallEvent {
    let mut event = RecallEvent::new(
        APP,
        "@TGS#_@TGS#cQVLVHIM62CJ",
        [RecalledMessage::new(
            130,
            Some("144115213033478435-1739361321-2512805311".into()),
        )],
    );
    event.operator_account = Some("admin".into());
    event.group_type = Some(GroupType::Community);
    event.topic_id = Some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic".into());
    event.event_time = Some(UnixMillis::new(1_670_574_414_123));
    event.client_ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    event.platform = Some(Platform::RestApi);
    event
}

/// The event the layer makes of [`OLD_EVENT`] under [`QUERY`].
pub fn old_event() -> RecallEvent {
    let mut event = RecallEvent::new(
        APP,
        "@TGS#2J4SZEAEL",
        [
            RecalledMessage::new(1, None),
            RecalledMessage::new(u32::MAX, None),
        ],
    );
    event.operator_account = Some("u1".into());
    event.group_type = Some(GroupType::Public);
    event.event_time = Some(UnixMillis::new(1_670_574_414_123));
    event.client_ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    event.platform = Some(Platform::RestApi);
    event
}
