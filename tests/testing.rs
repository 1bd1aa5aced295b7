//! The `testing` feature as a user's test meets it: `Callback` builds a callback of each kind,
//! or of another command, exactly as Tencent's backend sends it, the layer reads back the event
//! it was built from, `read_ack` reads and checks an answer, and `sign` signs as Tencent does.

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer, ServiceExt};
use tower_tim_recall::testing::{read_ack, sign, Callback};
use tower_tim_recall::{
    Ack, GroupRecall, GroupType, OfficialAccountRecall, OneToOneRecall, Platform, RecallEvent,
    RecallKind, RecallLayer, RecalledMessage, UnixMillis, VerifiedCallback, WithdrawnMessage,
};

use support::fixtures::*;
use support::requests::OTHER_APP_URI;
use support::{send, Answer, Recorder};

/// Runs `callback` through `layer` in front of a recorder, and returns the event the inner
/// service received.
async fn received(layer: RecallLayer, callback: &Callback) -> RecallEvent {
    let (answer, recorder) = send(&layer, callback.request::<Full<Bytes>>()).await;
    answer.assert_inner();
    recorder.event().expect("the inner service got no event")
}

#[test]
fn sign_is_tencents_documented_vector() {
    assert_eq!(sign(TOKEN, NOW), DOC_SIGN);
    assert_eq!(
        sign(TOKEN, NOW),
        support::sign_text(TOKEN, &NOW.to_string())
    );
}

#[test]
fn the_query_is_written_as_tencent_writes_it() {
    let callback = Callback::new(documented_event());
    assert_eq!(callback.query(), QUERY);
    for (kind, _, event) in documented_bodies() {
        assert_eq!(Callback::new(event).query(), query_of(kind));
    }
    let signed = callback.signed(TOKEN).request_time(NOW);
    assert_eq!(
        signed.query(),
        format!("{QUERY}&RequestTime={NOW}&Sign={DOC_SIGN}")
    );
}

#[test]
fn the_body_of_an_event_is_the_documented_body() {
    for (_, body, event) in documented_bodies() {
        assert_eq!(Callback::new(event).body(), body.trim());
    }
    // A kind's own type does as well as the enum.
    assert_eq!(Callback::new(documented_one_to_one()).body(), ONE_TO_ONE);
}

#[test]
fn a_raw_body_is_sent_as_it_is() {
    let callback = Callback::from_json(APP, RecallKind::Group.command(), "not json");
    assert_eq!(callback.body(), "not json");
    let request: Request<Full<Bytes>> = callback.request();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(request.uri().path(), CALLBACK_PATH);
    assert_eq!(request.uri().query(), Some(QUERY));
}

#[test]
fn another_command_is_in_the_query_and_the_body() {
    let callback = Callback::new(documented_event()).command("Group.CallbackAfterNewMemberJoin");
    assert_eq!(
        callback.query(),
        QUERY.replace(
            "Group.CallbackAfterRecallMsg",
            "Group.CallbackAfterNewMemberJoin"
        )
    );
    let body: serde_json::Value = serde_json::from_slice(&callback.body()).unwrap();
    assert_eq!(body["CallbackCommand"], "Group.CallbackAfterNewMemberJoin");
}

#[test]
fn request_to_appends_to_a_url_and_reports_a_bad_one() {
    let callback = Callback::from_json(APP, RecallKind::Group.command(), "{}")
        .client_ip(None)
        .platform(None);
    let request: Request<Full<Bytes>> =
        callback.request_to("http://127.0.0.1:3000/cb?x=1").unwrap();
    assert_eq!(
        request.uri().to_string(),
        "http://127.0.0.1:3000/cb?x=1&SdkAppid=1400000000\
         &CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json"
    );
    assert!(callback
        .request_to::<Full<Bytes>>("http://bad host/")
        .is_err());
}

#[test]
fn debug_never_shows_the_token() {
    let callback = Callback::from_json(APP, STATE_CHANGE, "{}").signed("a-secret-token");
    let debug = format!("{callback:?}");
    assert!(debug.contains("token: Some(\"[redacted]\")"), "{debug}");
    assert!(!debug.contains("a-secret-token"), "{debug}");
}

#[tokio::test]
async fn the_layer_reads_back_the_event_a_callback_was_built_from() {
    let layer = || {
        RecallLayer::builder()
            .signed_app(APP, [TOKEN])
            .clock(|| at(NOW + 5))
            .build()
            .unwrap()
    };
    for (_, _, mut event) in documented_bodies() {
        let context = match &mut event {
            RecallEvent::Group(recall) => &mut recall.context,
            RecallEvent::OneToOne(recall) => &mut recall.context,
            RecallEvent::OfficialAccount(recall) => &mut recall.context,
            _ => unreachable!("a kind this test does not know"),
        };
        context.client_ip = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)));
        context.platform = Some(Platform::Other("HarmonyOS".to_owned()));
        context.request_time = Some(NOW);
        let callback = Callback::new(event.clone()).signed(TOKEN);
        assert_eq!(received(layer(), &callback).await, event);
    }

    // Unsigned, with neither ClientIP nor OptPlatform, and fields of every shape.
    let mut group = GroupRecall::new(7, "custom-id", [RecalledMessage::new(u32::MAX, None)]);
    group.group_type = Some(GroupType::Public);
    let mut one_to_one = OneToOneRecall::new(7, "a\"b", "\u{1F600}", "1_2_3");
    one_to_one.unread_msg_num = Some(-1);
    one_to_one.event_time = Some(UnixMillis::new(u64::MAX));
    let official = OfficialAccountRecall::new(
        7,
        "#TOA#_1",
        [WithdrawnMessage::new(""), WithdrawnMessage::new("k")],
    );
    for event in [RecallEvent::from(group), one_to_one.into(), official.into()] {
        let callback = Callback::new(event.clone());
        assert_eq!(
            callback.query(),
            format!(
                "SdkAppid=7&CallbackCommand={}&contenttype=json",
                event.kind().command()
            )
        );
        let layer = RecallLayer::unsigned([7]).unwrap();
        assert_eq!(received(layer, &callback).await, event);
    }
}

#[tokio::test]
async fn another_command_reaches_the_service_verified() {
    let layer = RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .guard_other_commands()
        .clock(|| at(NOW))
        .build()
        .unwrap();
    let callback = Callback::from_json(APP, STATE_CHANGE, r#"{"Info":{}}"#)
        .signed(TOKEN)
        .request_time(NOW);
    let (answer, recorder) = send(&layer, callback.request::<Full<Bytes>>()).await;
    answer.assert_inner();
    let seen = recorder.seen();
    assert_eq!(seen.body, r#"{"Info":{}}"#);
    let mut context = documented_context();
    context.request_time = Some(NOW);
    assert_eq!(
        seen.verified,
        Some(VerifiedCallback::new(STATE_CHANGE, context))
    );
}

#[tokio::test]
async fn a_callback_is_accepted_among_hostile_neighbours() {
    // A callback built as Tencent sends it, next to a flood of noise parameters.
    let noise = vec!["noise=%FF"; 2_000].join("&");
    let request: Request<Full<Bytes>> =
        Callback::from_json(APP, RecallKind::Group.command(), EVENT)
            .request_to(&format!("{CALLBACK_PATH}?{noise}"))
            .unwrap();
    let recorder = Recorder::default();
    let layer = RecallLayer::unsigned([APP]).unwrap();
    let response = layer
        .layer(recorder.clone())
        .oneshot(request)
        .await
        .unwrap();
    Answer::read(response).await.assert_inner();
    assert_eq!(recorder.event(), Some(documented_event()));
}

#[tokio::test]
async fn read_ack_reads_status_and_acknowledgement() {
    let layer = RecallLayer::new([APP], [TOKEN]).unwrap();
    let stale = Callback::new(documented_event())
        .signed(TOKEN)
        .request_time(1);
    let response = layer
        .layer(Recorder::default())
        .oneshot(stale.request::<Full<Bytes>>())
        .await
        .unwrap();
    assert_eq!(
        read_ack(response).await,
        (
            StatusCode::UNAUTHORIZED,
            Ack::fail_with_code(401, "RequestTime is too old")
        )
    );
    let response = layer
        .layer(Recorder::default())
        .oneshot(support::requests::post_json(OTHER_APP_URI, EVENT))
        .await
        .unwrap();
    assert_eq!(
        read_ack(response).await,
        (
            StatusCode::FORBIDDEN,
            Ack::fail_with_code(403, "SdkAppid is not allowed")
        )
    );
}

#[tokio::test]
#[should_panic(expected = "a FAIL acknowledgement needs a non-zero ErrorCode")]
async fn read_ack_refuses_an_acknowledgement_that_breaks_the_protocol() {
    let body = r#"{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":0}"#;
    let _ = read_ack(Response::new(Full::new(Bytes::from_static(
        body.as_bytes(),
    ))))
    .await;
}
