//! Row: valid, forward mode: the inner service gets the event and the body.

use super::*;

#[tokio::test]
async fn a_valid_callback_reaches_the_inner_service_with_its_event_and_body() {
    for (kind, body, expected) in documented_bodies() {
        let body = Bytes::from_static(body.as_bytes());
        let request = post(&query_of(kind), Full::new(body.clone()));
        let (answer, recorder) = send(&layer(), request).await;
        answer.assert_inner();
        let seen = recorder.seen();
        assert_eq!(seen.calls, 1);
        assert_eq!(seen.body, body);
        // The inner service reads the very bytes the layer read: no copy.
        assert_eq!(seen.first_chunk, Some(body.as_ptr() as usize));
        assert_eq!(seen.event, Some(expected));
        assert_eq!(seen.verified, None);
    }
}

#[tokio::test]
async fn a_body_in_many_frames_is_joined_once() {
    let frames = EVENT.as_bytes().chunks(7).map(Bytes::copy_from_slice);
    let (answer, recorder) = send(&layer(), post(QUERY, Script::frames(frames, End::Finish))).await;
    answer.assert_inner();
    assert_eq!(recorder.seen().body, EVENT);
    assert_eq!(recorder.event(), Some(documented_event()));
}

#[tokio::test]
async fn event_time_is_read_as_a_number_or_a_string_for_every_kind() {
    for (kind, body, _) in documented_bodies() {
        if !body.contains("1670574414123") {
            continue; // the international one-to-one edition has no `EventTime`
        }
        let as_string = body.replace("1670574414123", "\"1670574414123\"");
        for body in [body.to_owned(), as_string] {
            let event = accept(&layer(), &query_of(kind), full(body)).await;
            assert_eq!(event.event_time(), Some(UnixMillis::new(1_670_574_414_123)));
        }
    }
}

#[tokio::test]
async fn a_one_to_one_recall_takes_any_unread_count_or_none() {
    let query = query_of(RecallKind::OneToOne);
    for (field, unread) in [
        (r#","UnreadMsgNum":-1"#, Some(-1)),
        (r#","UnreadMsgNum":0"#, Some(0)),
        (r#","UnreadMsgNum":1099511627776"#, Some(1 << 40)),
        (r#","UnreadMsgNum":null"#, None),
        // Both editions' fields at once.
        (r#","UnreadMsgNum":3,"EventTime":"1670574414123""#, Some(3)),
        ("", None),
    ] {
        let body = format!(r#"{{"From_Account":"jared","To_Account":"Jonh","MsgKey":"k"{field}}}"#);
        let event = accept(&layer(), &query, full(body)).await;
        assert_eq!(
            event.as_one_to_one().unwrap().unread_msg_num,
            unread,
            "{field}"
        );
    }
}

#[tokio::test]
async fn query_values_are_percent_decoded() {
    let query = "SdkAppid=%31400000000&CallbackCommand=Group%2ECallbackAfterRecallMsg\
                 &OptPlatform=i%4FS&ClientIP=%3A%3A1&contenttype=JSON";
    let event = accept(&layer(), query, full(EVENT)).await;
    assert_eq!(event.context().sdk_app_id, SdkAppId::new(APP));
    assert_eq!(event.context().platform, Some(Platform::Ios));
    assert_eq!(event.context().client_ip, Some("::1".parse().unwrap()));
    let query = "SdkAppid=1400000000&CallbackCommand=C2C%2eCallbackAfterMsgWith%44raw";
    let event = accept(&layer(), query, full(ONE_TO_ONE)).await;
    assert_eq!(event.kind(), RecallKind::OneToOne);
}

#[tokio::test]
async fn informational_parameters_never_refuse_whatever_they_hold() {
    let many = repeated("OptPlatform", 5_000);
    for (kind, _, body) in recalls() {
        for extra in [
            "ClientIP",
            "ClientIP=",
            "ClientIP=%FF",
            "ClientIP=127.0.0.1;",
            "ClientIP=1.2.3.4&ClientIP=5.6.7.8",
            "OptPlatform",
            "OptPlatform=%00%FF",
            &many,
        ] {
            let query = format!("SdkAppid=1400000000&{}&{extra}", command_of(kind));
            let event = accept(&layer(), &query, full(body)).await;
            assert_eq!(event.context().client_ip, None, "{extra:.80}");
        }
    }
}

#[tokio::test]
async fn a_valid_callback_hidden_among_many_parameters_is_accepted() {
    let noise = repeated("x%41=%41&y", 5_000);
    for (kind, query, body) in recalls() {
        for query in [
            format!("{noise}&{query}"),
            format!("{query}&{noise}"),
            padded_to_uri_max(&query),
        ] {
            assert_eq!(accept(&layer(), &query, full(body)).await.kind(), kind);
        }
    }
    // Every name and value escaped.
    let query = "%53dkAppid=%31%34%30%30%30%30%30%30%30%30\
                 &%43allbackCommand=%47roup%2ECallbackAfterRecallMsg&ClientIP=%3A%3A1";
    let event = accept(&layer(), query, full(EVENT)).await;
    assert_eq!(
        event.as_group().unwrap().group_id,
        "@TGS#_@TGS#cQVLVHIM62CJ"
    );
}

#[tokio::test]
async fn the_oldest_documented_body_is_accepted() {
    let body = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u","Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}],"Unknown":{"x":[1]}}"#;
    let event = accept(&layer(), &format!("{COMMAND}&SdkAppid={APP}"), full(body)).await;
    let recall = event.as_group().unwrap();
    assert_eq!(recall.messages.len(), 2);
    assert_eq!(recall.topic_id, None);
    assert_eq!(recall.context.client_ip, None);
    assert_eq!(recall.context.platform, None);
    let event = accept(&layer(), QUERY, full(OLD_EVENT)).await;
    assert_eq!(event, old_event());
}

#[tokio::test]
async fn the_ready_inner_service_is_the_one_called() {
    // `ConcurrencyLimit` panics when called without a successful `poll_ready`: the layer must
    // call the instance it made ready, not a fresh clone.
    let recorder = Recorder::default();
    let service = ServiceBuilder::new()
        .layer(layer())
        .concurrency_limit(1)
        .service(recorder.clone());
    let response = service.oneshot(post(QUERY, full(EVENT))).await.unwrap();
    Answer::read(response).await.assert_inner();
    assert_eq!(recorder.calls(), 1);
}
