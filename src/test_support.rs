//! What the crate's own unit tests share: Tencent's documented callback and signature vector,
//! and the event the layer must make of that callback. (Tests of the public API, under
//! `tests/`, share `tests/support` instead.)

use crate::{GroupType, Platform, RecallEvent, RecalledMessage, UnixMillis};

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

/// The event the layer makes of [`DOCUMENTED`] under the query of Tencent's documented URL.
pub(crate) fn documented_event() -> RecallEvent {
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
    event.client_ip = Some("127.0.0.1".parse().unwrap());
    event.platform = Some(Platform::RestApi);
    event
}
