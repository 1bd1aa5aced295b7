//! Row: with `max_messages` set, a callback naming more messages: 413.

use super::*;

#[tokio::test]
async fn a_callback_naming_more_messages_than_the_limit_is_refused_with_413() {
    const TOO_MANY: &str = "body names more messages than the limit";
    let limited = |max| {
        RecallLayer::builder()
            .unsigned_app(APP)
            .allow_unsigned_apps()
            .max_messages(max)
            .build()
            .unwrap()
    };
    let group = |count: u32| {
        let list: Vec<String> = (1..=count)
            .map(|seq| format!("{{\"MsgSeq\":{seq}}}"))
            .collect();
        format!(
            "{{\"CallbackCommand\":\"Group.CallbackAfterRecallMsg\",\"GroupId\":\"g\",\"MsgSeqList\":[{}]}}",
            list.join(",")
        )
    };
    let official = |count: u32| {
        let list: Vec<String> = (1..=count)
            .map(|n| format!("{{\"MsgKey\":\"k{n}\"}}"))
            .collect();
        format!(
            "{{\"CallbackCommand\":\"OfficialAccount.CallbackAfterMsgWithDraw\",\"Official_Account\":\"a\",\"WithdrawMsgList\":[{}]}}",
            list.join(",")
        )
    };
    let official_query = query_of(RecallKind::OfficialAccount);
    for (max, count) in [(0, 0), (1, 1), (2, 2), (100, 100)] {
        let layer = limited(max);
        let event = accept(&layer, QUERY, full(group(count))).await;
        assert_eq!(event.dedup_keys().count(), count as usize);
        accept(&layer, &official_query, full(official(count))).await;
    }
    for (max, count) in [(0, 1), (1, 2), (2, 3), (100, 101)] {
        let layer = limited(max);
        let request = post(QUERY, full(group(count)));
        refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_MANY).await;
        let request = post(&official_query, full(official(count)));
        refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_MANY).await;
    }
    // A one-to-one recall names one message.
    accept(
        &limited(1),
        &query_of(RecallKind::OneToOne),
        full(ONE_TO_ONE),
    )
    .await;
    let request = post(&query_of(RecallKind::OneToOne), full(ONE_TO_ONE));
    refused(
        &limited(0),
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        TOO_MANY,
    )
    .await;
    // Without the setting, as many as the body holds.
    let event = accept(&layer(), QUERY, full(group(3000))).await;
    assert_eq!(event.dedup_keys().count(), 3000);
}
