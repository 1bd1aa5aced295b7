//! What the crate's own unit tests share: Tencent's documented callback and signature vector,
//! and the event the layer must make of that callback. (Tests of the public API, under
//! `tests/`, share `tests/support` instead.)

use crate::RecallEvent;

/// The app of Tencent's documented examples.
pub(crate) const APP: u64 = 1_400_000_000;

/// The token of Tencent's documented signature vector.
pub(crate) const VECTOR_TOKEN: &str = "xxxxyyyy";
/// The `RequestTime` of Tencent's documented signature vector.
pub(crate) const VECTOR_TIME: u64 = 1_669_872_112;
/// The `Sign` of Tencent's documented signature vector.
pub(crate) const VECTOR_SIGN: &str =
    "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

/// Tencent's newest documented body, on one line.
pub(crate) const DOCUMENTED: &str = include_str!("../tests/fixtures/recall_documented.json");

/// The event the layer makes of [`DOCUMENTED`] under the query of Tencent's documented URL, as
/// it is written to a queue: Tencent's names, the query context among them.
pub(crate) const DOCUMENTED_QUEUED: &str = concat!(
    r#"{"SdkAppid":1400000000,"CallbackCommand":"Group.CallbackAfterRecallMsg","#,
    r#""Operator_Account":"admin","Type":"Community","GroupId":"@TGS#_@TGS#cQVLVHIM62CJ","#,
    r#""MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],"#,
    r#""TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic","EventTime":1670574414123,"#,
    r#""ClientIP":"127.0.0.1","OptPlatform":"RESTAPI"}"#,
);

/// The event the layer makes of [`DOCUMENTED`], read from [`DOCUMENTED_QUEUED`].
pub(crate) fn documented_event() -> RecallEvent {
    serde_json::from_str(DOCUMENTED_QUEUED).expect("a queued event")
}
