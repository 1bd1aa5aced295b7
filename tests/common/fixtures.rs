//! The callbacks Tencent documents, the events the layer must make of them, and the handlers
//! the stack tests put behind it.

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::State;
use http::StatusCode;
use tokio::sync::mpsc;
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{
    Ack, GroupType, Platform, RecallEvent, RecalledMessage, SdkAppId, UnixMillis,
};

use super::client::Client;
use super::within;

/// The app the servers under test accept.
pub const APP: u64 = 1_400_000_000;
/// The newest documented body.
pub const EVENT: &str = include_str!("../fixtures/recall_documented.json");
/// An older body: no `TopicId` or `MsgId`, `EventTime` as a string, two messages.
pub const OLD_EVENT: &str = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1","Type":"Public","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":4294967295}],"EventTime":"1670574414123"}"#;
/// The OK acknowledgement, byte for byte as Tencent documents it.
pub const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
/// The path the callbacks are sent to.
pub const CALLBACK_PATH: &str = "/im/callback";

/// The documented callback for `APP`, as Tencent sends it
/// (`?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI`).
pub fn documented() -> Callback {
    Callback::from_json(APP, EVENT)
}

/// The oldest documented body for `APP`.
pub fn old_form() -> Callback {
    Callback::from_json(APP, OLD_EVENT)
}

/// The documented callback for an app that is not on the allowlist.
pub fn other_app() -> Callback {
    Callback::from_json(APP + 1, EVENT)
}

/// The event the layer must parse from [`documented`].
pub fn assert_documented_event(event: &RecallEvent) {
    let mut expected = RecallEvent::new(
        APP,
        "@TGS#_@TGS#cQVLVHIM62CJ",
        [RecalledMessage::new(
            130,
            Some("144115213033478435-1739361321-2512805311".into()),
        )],
    );
    expected.operator_account = Some("admin".into());
    expected.group_type = Some(GroupType::Community);
    expected.topic_id = Some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic".into());
    expected.event_time = Some(UnixMillis::new(1_670_574_414_123));
    expected.client_ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    expected.platform = Some(Platform::RestApi);
    assert_eq!(*event, expected);
}

/// The event the layer must parse from [`old_form`].
pub fn assert_old_event(event: &RecallEvent) {
    assert_eq!(event.sdk_app_id, SdkAppId::new(APP));
    assert_eq!(event.operator_account.as_deref(), Some("u1"));
    assert_eq!(event.group_type, Some(GroupType::Public));
    assert_eq!(event.group_id, "@TGS#2J4SZEAEL");
    assert_eq!(
        event.messages,
        [
            RecalledMessage::new(1, None),
            RecalledMessage::new(u32::MAX, None)
        ]
    );
    assert_eq!(event.topic_id, None);
    assert_eq!(event.event_time, Some(UnixMillis::new(1_670_574_414_123)));
}

/// Over one connection: the documented callback (acknowledged, its event delivered), a refused
/// one whose body the layer never reads (the connection must still carry the next request), and
/// the oldest documented form (acknowledged, delivered).
pub async fn exchange_callbacks(
    client: &mut Client,
    events: &mut mpsc::UnboundedReceiver<RecallEvent>,
) {
    client.callback(&documented()).await.assert_ok_ack();
    assert_documented_event(&next_event(events).await);
    let reply = client.callback(&other_app()).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    client.callback(&old_form()).await.assert_ok_ack();
    assert_old_event(&next_event(events).await);
}

/// Receives the next event a handler passed on, within the bound.
pub async fn next_event(events: &mut mpsc::UnboundedReceiver<RecallEvent>) -> RecallEvent {
    within("event", events.recv())
        .await
        .expect("channel closed")
}

/// The callback handler of an axum app, as the `server` example writes it: the event of a
/// recall goes to the channel, and every callback command is acknowledged.
pub async fn record_recall(
    State(events): State<mpsc::UnboundedSender<RecallEvent>>,
    recall: Option<RecallEvent>,
) -> Ack {
    if let Some(event) = recall {
        events.send(event).unwrap();
    }
    Ack::ok()
}
