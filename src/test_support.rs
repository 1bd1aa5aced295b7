//! What the crate's own unit tests share: Tencent's documented callback and signature vector,
//! and the event the layer must make of that callback. (Tests of the public API, under
//! `tests/`, share `tests/support` instead.)

use crate::{RecallEvent, RecallKind};

/// The app of Tencent's documented examples.
pub(crate) const APP: u64 = 1_400_000_000;

/// The token of Tencent's documented signature vector.
pub(crate) const VECTOR_TOKEN: &str = "xxxxyyyy";
/// The `RequestTime` of Tencent's documented signature vector.
pub(crate) const VECTOR_TIME: u64 = 1_669_872_112;
/// The `Sign` of Tencent's documented signature vector.
pub(crate) const VECTOR_SIGN: &str =
    "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

/// Tencent's newest documented group recall body, on one line.
pub(crate) const DOCUMENTED: &str = include_str!("../tests/fixtures/group_recall.json");

/// The one-to-one recall body of Tencent's international documentation (with `UnreadMsgNum`).
pub(crate) const ONE_TO_ONE: &str = include_str!("../tests/fixtures/one_to_one_recall.json");
/// The one-to-one recall body of Tencent's Chinese documentation (with `EventTime` instead).
pub(crate) const ONE_TO_ONE_ZH: &str = include_str!("../tests/fixtures/one_to_one_recall_zh.json");
/// The official-account recall body of Tencent's documentation.
pub(crate) const OFFICIAL_ACCOUNT: &str =
    include_str!("../tests/fixtures/official_account_recall.json");

/// The event the layer makes of [`DOCUMENTED`] under the query of Tencent's documented URL, as
/// it is written to a queue: Tencent's names, the query context among them.
pub(crate) const DOCUMENTED_QUEUED: &str = concat!(
    r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","SdkAppid":1400000000,"#,
    r#""ClientIP":"127.0.0.1","OptPlatform":"RESTAPI","Operator_Account":"admin","#,
    r#""Type":"Community","GroupId":"@TGS#_@TGS#cQVLVHIM62CJ","#,
    r#""MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],"#,
    r#""TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic","EventTime":1670574414123}"#,
);

/// The event the layer makes of [`DOCUMENTED`], read from [`DOCUMENTED_QUEUED`].
pub(crate) fn documented_event() -> RecallEvent {
    serde_json::from_str(DOCUMENTED_QUEUED).expect("a queued event")
}

/// The bodies the parser refuses, each with its kind and its reason, from
/// `tests/fixtures/refused_bodies.txt` (which `tests/decision_table/body.rs` sends through the
/// layer).
pub(crate) fn refused_bodies() -> impl Iterator<Item = (RecallKind, &'static str, &'static str)> {
    let table = include_str!("../tests/fixtures/refused_bodies.txt");
    table
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut columns = line.splitn(3, " | ");
            let mut next = || columns.next().expect("kind | body | reason");
            let kind = match next() {
                "group" => RecallKind::Group,
                "c2c" => RecallKind::OneToOne,
                _ => RecallKind::OfficialAccount,
            };
            (kind, next(), next())
        })
}
