//! Rows: a body that is not one JSON object, not UTF-8, too deep, of another command, or not an
//! event of its kind: 400.

use super::*;

/// Sends `body` with `query` through `layer`, and expects a 400 with `reason`, the inner service
/// not called.
async fn refused_body(layer: &RecallLayer, query: &str, body: impl Into<Bytes>, reason: &str) {
    let request = post(query, full(body));
    refused(layer, request, StatusCode::BAD_REQUEST, reason).await;
}

/// [`refused_body`] with the documented group recall's query.
async fn bad_body(layer: &RecallLayer, body: impl Into<Bytes>, reason: &str) {
    refused_body(layer, QUERY, body, reason).await;
}

#[tokio::test]
async fn a_body_that_is_not_an_event_of_its_kind_is_refused() {
    // Every rule of every kind's body, in the table the parser's unit tests read too: the layer
    // and `RecallEvent::parse` refuse the same bodies with the same words.
    let table = refused_bodies();
    assert_eq!(table.len(), 40);
    for (kind, body, reason) in table {
        refused_body(&layer(), &query_of(kind), body, reason).await;
    }
    // And what the table cannot hold: an empty body, a control character.
    bad_body(&layer(), "", "body is not a JSON object").await;
    bad_body(&layer(), "{\"GroupId\":\"\u{1}\"", "invalid body: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 13").await;
}

#[tokio::test]
async fn a_body_of_another_command_is_refused_for_it() {
    // Every body under every other kind's query: refused for its command, not for the fields
    // it lacks. A group body under the one-to-one command among them.
    for (kind, query, _) in recalls() {
        for (other, _, body) in recalls() {
            if other != kind {
                refused_body(&layer(), &query, body, MISMATCH).await;
            }
        }
    }
    // A body of the right kind but another command.
    let body = ONE_TO_ONE.replace("C2C.CallbackAfterMsgWithDraw", "C2C.CallbackBeforeSendMsg");
    refused_body(&layer(), &query_of(RecallKind::OneToOne), body, MISMATCH).await;
}

/// Sends `body` as a valid callback's body and expects the inner service to get its event.
async fn good_body(layer: &RecallLayer, body: impl Into<Bytes>) -> RecallEvent {
    accept(layer, QUERY, full(body)).await
}

/// An event with `field` inserted before its last `}`.
fn event_with(field: &str) -> String {
    let end = EVENT.trim_end().strip_suffix('}').expect("an object");
    format!("{end},{field}}}")
}

fn nested(open: &str, depth: usize, inner: &str, close: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[tokio::test]
async fn deep_nesting_is_refused_without_deep_recursion() {
    let roomy = roomy();
    // Not an object at all.
    bad_body(&roomy, "[".repeat(100_000), "body is not a JSON object").await;
    bad_body(
        &roomy,
        nested("[", 100_000, "", "]"),
        "body is not a JSON object",
    )
    .await;
    // Over the default limit, it is not even read.
    let too_large = post(QUERY, full("[".repeat(100_000)));
    refused(
        &layer(),
        too_large,
        StatusCode::PAYLOAD_TOO_LARGE,
        TOO_LARGE,
    )
    .await;
    // An object that never closes its nesting.
    bad_body(&roomy, "{\"a\":".repeat(100_000), "body is nested too deep").await;
    // Deep inside an otherwise valid event: in an unknown field, in a message, in a typed field.
    for body in [
        event_with(&format!("\"a\":{}", nested("{\"a\":", 100_000, "1", "}"))),
        event_with(&format!("\"a\":{}", nested("[", 100_000, "", "]"))),
        event_with(&format!("\"a\":{}", nested("[", 20_000, "", "]"))),
        format!(
            r#"{{"GroupId":"g","MsgSeqList":[{{"MsgSeq":1,"x":{}}}]}}"#,
            nested("[", 50_000, "", "]")
        ),
        format!(
            r#"{{"GroupId":{},"MsgSeqList":[]}}"#,
            nested("[", 100_000, "", "]")
        ),
        format!(
            r#"{{"GroupId":"g","MsgSeqList":{}}}"#,
            nested("[", 100_000, "", "]")
        ),
    ] {
        bad_body(&roomy, body, "body is nested too deep").await;
    }
}

#[tokio::test]
async fn nesting_is_accepted_exactly_as_deep_as_serde_json_accepts() {
    // The event itself is three levels deep; an unknown field may nest as deep as serde_json
    // parses into a `Value`, so that an inner service can always parse what it is handed.
    let roomy = roomy();
    let parses = |json: &str| serde_json::from_str::<serde_json::Value>(json).is_ok();
    // The most levels of arrays and objects serde_json parses.
    let levels = (1..300)
        .find(|&levels| !parses(&nested("[", levels, "", "]")))
        .expect("serde_json has a recursion limit")
        - 1;
    // The event's object, then arrays in an unknown field: `levels` levels in all.
    let at = |levels: usize| event_with(&format!("\"a\":{}", nested("[", levels - 1, "", "]")));
    let body = at(levels);
    assert!(parses(&body));
    good_body(&roomy, body).await;
    let body = at(levels + 1);
    assert!(!parses(&body));
    bad_body(&roomy, body, "body is nested too deep").await;
}

#[test]
fn deep_nesting_is_refused_on_a_small_stack() {
    // A debug build, a 256 KiB stack: the refusal must not recurse with the nesting.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(async {
                for body in [
                    event_with(&format!("\"a\":{}", nested("[", 100_000, "", "]"))),
                    event_with(&format!("\"a\":{}", nested("{\"a\":", 50_000, "1", "}"))),
                    nested("{\"a\":", 50_000, "1", "}"),
                ] {
                    bad_body(&roomy(), body, "body is nested too deep").await;
                }
            });
        })
        .unwrap();
    handle.join().expect("no stack overflow, no panic");
}

#[tokio::test]
async fn numbers_out_of_range_are_refused() {
    let seq = |seq: &str| format!(r#"{{"GroupId":"g","MsgSeqList":[{{"MsgSeq":{seq}}}]}}"#);
    let time = |time: &str| format!(r#"{{"GroupId":"g","MsgSeqList":[],"EventTime":{time}}}"#);
    for (body, reason) in [
        (seq("1e400"), "invalid body: number out of range at line 1 column 44"),
        (seq("-1e400"), "invalid body: number out of range at line 1 column 45"),
        (seq("4294967296"), "invalid body: invalid value: integer `4294967296`, expected u32 at line 1 column 49"),
        (seq("18446744073709551616"), "invalid body: invalid type: floating point `1.8446744073709552e+19`, expected u32 at line 1 column 59"),
        (seq("99999999999999999999999999999999999999"), "invalid body: invalid type: floating point `1e+38`, expected u32 at line 1 column 77"),
        (seq("-1"), "invalid body: invalid value: integer `-1`, expected u32 at line 1 column 41"),
        (seq("-0.0"), "invalid body: invalid type: floating point `-0.0`, expected u32 at line 1 column 43"),
        (seq("1.5"), "invalid body: invalid type: floating point `1.5`, expected u32 at line 1 column 42"),
        (seq("1e2"), "invalid body: invalid type: floating point `100.0`, expected u32 at line 1 column 42"),
        (seq("1E0"), "invalid body: invalid type: floating point `1.0`, expected u32 at line 1 column 42"),
        (seq("0x10"), "invalid body: expected `,` or `}` at line 1 column 41"),
        (seq("01"), "invalid body: invalid number at line 1 column 41"),
        (seq("NaN"), "invalid body: expected value at line 1 column 40"),
        (seq("Infinity"), "invalid body: expected value at line 1 column 40"),
        (seq("\"1\""), "invalid body: invalid type: string \"1\", expected u32 at line 1 column 42"),
        (seq("null"), "invalid body: invalid type: null, expected u32 at line 1 column 43"),
        (seq("true"), "invalid body: invalid type: boolean `true`, expected u32 at line 1 column 43"),
        (seq("[1]"), "invalid body: invalid type: sequence, expected u32 at line 1 column 39"),
        (time("1e400"), "invalid body: number out of range at line 1 column 48"),
        (time("18446744073709551616"), "invalid body: invalid type: floating point `1.8446744073709552e+19`, expected milliseconds as a non-negative integer or a string of digits at line 1 column 63"),
        (time("-1"), "invalid body: invalid value: integer `-1`, expected milliseconds as a non-negative integer or a string of digits at line 1 column 45"),
        (time("1.5"), "invalid body: invalid type: floating point `1.5`, expected milliseconds as a non-negative integer or a string of digits at line 1 column 46"),
        (time("\"1e3\""), "invalid body: invalid value: string \"1e3\", expected milliseconds as a non-negative integer or a string of digits at line 1 column 48"),
        (time("\"18446744073709551616\""), "invalid body: invalid value: string \"18446744073709551616\", expected milliseconds as a non-negative integer or a string of digits at line 1 column 65"),
    ] {
        bad_body(&layer(), body, reason).await;
    }
    let huge = "9".repeat(60_000);
    bad_body(
        &layer(),
        format!(r#"{{"GroupId":"g","MsgSeqList":[{{"MsgSeq":{huge}}}]}}"#),
        "invalid body: number out of range at line 1 column 60039",
    )
    .await;
    // The edges of the documented ranges are accepted.
    let event = good_body(
        &layer(),
        r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":0},{"MsgSeq":4294967295}],"EventTime":"18446744073709551615"}"#,
    )
    .await;
    assert_eq!(event.as_group().unwrap().messages[1].msg_seq, u32::MAX);
    assert_eq!(event.event_time().unwrap().as_millis(), u64::MAX);
}

#[tokio::test]
async fn fields_the_layer_skips_are_checked_for_syntax_not_range() {
    // As documented: numbers and escapes in fields the layer does not read are passed on as
    // sent, even where serde_json would refuse them in a `Value` (`1e400`, a lone surrogate).
    for field in [
        r#""x":1e400"#,
        r#""x":-1e400"#,
        r#""x":123456789012345678901234567890"#,
        r#""x":"\ud800""#,
        r#""x":["\udc00",{"y":"\u0000"}]"#,
    ] {
        let body = event_with(field);
        let (_, forwarded) = accepted(&layer(), post(QUERY, full(body.clone()))).await;
        assert_eq!(forwarded, body);
    }
    // Bad syntax there is refused like anywhere else.
    for (field, reason) in [
        (
            r#""x":01"#,
            "invalid body: invalid number at line 1 column 298",
        ),
        (
            r#""x":1e"#,
            "invalid body: invalid number at line 1 column 299",
        ),
        (
            r#""x":"\x""#,
            "invalid body: invalid escape at line 1 column 299",
        ),
        (
            r#""x":[1,]"#,
            "invalid body: expected value at line 1 column 300",
        ),
        (
            r#""x":tru"#,
            "invalid body: expected ident at line 1 column 300",
        ),
        (
            r#""x":{"a"}"#,
            "invalid body: expected `:` at line 1 column 301",
        ),
        (r#""x""#, "invalid body: expected `:` at line 1 column 296"),
    ] {
        bad_body(&layer(), event_with(field), reason).await;
    }
}

#[tokio::test]
async fn duplicate_keys_of_read_fields_are_refused() {
    for (body, reason) in [
        (
            r#"{"GroupId":"g","GroupId":"g","MsgSeqList":[]}"#,
            "invalid body: duplicate field `GroupId` at line 1 column 24",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[],"MsgSeqList":[]}"#,
            "invalid body: duplicate field `MsgSeqList` at line 1 column 43",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1,"MsgSeq":2}]}"#,
            "invalid body: duplicate field `MsgSeq` at line 1 column 49",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1,"MsgId":"a","MsgId":"b"}]}"#,
            "invalid body: duplicate field `MsgId` at line 1 column 60",
        ),
        (
            r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","CallbackCommand":"Group.CallbackAfterRecallMsg","GroupId":"g","MsgSeqList":[]}"#,
            "invalid body: duplicate field `CallbackCommand` at line 1 column 67",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[],"EventTime":1,"EventTime":2}"#,
            "invalid body: duplicate field `EventTime` at line 1 column 56",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[],"TopicId":"t","TopicId":"u"}"#,
            "invalid body: duplicate field `TopicId` at line 1 column 54",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[],"Type":"Public","Type":"Public"}"#,
            "invalid body: duplicate field `Type` at line 1 column 53",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[],"Operator_Account":"a","Operator_Account":"b"}"#,
            "invalid body: duplicate field `Operator_Account` at line 1 column 72",
        ),
    ] {
        bad_body(&layer(), body, reason).await;
    }
    // Fields the layer does not read are skipped, repeated or not; a body cannot name its app.
    let event = good_body(
        &layer(),
        r#"{"SdkAppid":1,"SdkAppid":2,"x":1,"x":2,"GroupId":"g","MsgSeqList":[]}"#,
    )
    .await;
    assert_eq!(event.context().sdk_app_id.get(), APP);
}

#[tokio::test]
async fn a_byte_order_mark_is_refused() {
    // RFC 8259 §8.1: a JSON text is sent without one, and Tencent sends none.
    bad_body(
        &layer(),
        format!("\u{feff}{EVENT}"),
        "body is not a JSON object",
    )
    .await;
    bad_body(
        &layer(),
        format!("{EVENT}\u{feff}"),
        "invalid body: trailing characters at line 1 column 293",
    )
    .await;
    // UTF-16 is not UTF-8, with or without its byte-order mark.
    let utf16: Vec<u8> = EVENT.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bad_body(
        &layer(),
        utf16.clone(),
        "invalid body: key must be a string at line 1 column 2",
    )
    .await;
    let marked = [&[0xFF, 0xFE], &utf16[..]].concat();
    bad_body(&layer(), marked, "body is not a JSON object").await;
}

#[tokio::test]
async fn invalid_utf8_anywhere_is_refused() {
    let with_bytes = |prefix: &str, bytes: &[u8], suffix: &str| {
        let mut body = prefix.as_bytes().to_vec();
        body.extend_from_slice(bytes);
        body.extend_from_slice(suffix.as_bytes());
        body
    };
    let event = EVENT.trim_end().strip_suffix('}').unwrap();
    for body in [
        with_bytes(r#"{"GroupId":""#, b"\xff", r#"","MsgSeqList":[]}"#),
        with_bytes(
            r#"{"GroupId":"g","MsgSeqList":[],"Operator_Account":""#,
            b"\xc3",
            r#""}"#,
        ),
        with_bytes(
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1,"MsgId":""#,
            b"\xed\xa0\x80",
            r#""}]}"#,
        ),
        // In a field the layer does not read, and in a key.
        with_bytes(&format!(r#"{event},"x":""#), b"\xff\xfe", r#""}"#),
        with_bytes(&format!(r#"{event},""#), b"\xc0\xaf", r#"":1}"#),
        // Between tokens.
        with_bytes(event, b"\x80", "}"),
    ] {
        bad_body(&layer(), body, "body is not UTF-8").await;
    }
}

#[tokio::test]
async fn nul_bytes_are_refused_unless_escaped_inside_a_string() {
    for (body, reason) in [
        (format!("\0{EVENT}"), "body is not a JSON object"),
        (format!("{EVENT}\0"), "invalid body: trailing characters at line 1 column 293"),
        (EVENT.replacen("\"GroupId\"", "\"Group\0Id\"", 1), "invalid body: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 103"),
        (EVENT.replacen("@TGS#_", "@TGS#\0", 1), "invalid body: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 113"),
        (EVENT.replacen(',', ",\0", 1), "invalid body: key must be a string at line 1 column 51"),
    ] {
        bad_body(&layer(), body, reason).await;
    }
    // `\u0000` is a valid JSON string: the layer passes it on as it is, and does not police
    // the characters of IDs.
    let event = good_body(&layer(), r#"{"GroupId":"g\u0000","MsgSeqList":[]}"#).await;
    assert_eq!(event.as_group().unwrap().group_id, "g\0");
}

#[tokio::test]
async fn the_other_recalls_meet_hostile_bodies_as_the_group_recall_does() {
    let c2c = query_of(RecallKind::OneToOne);
    let official = query_of(RecallKind::OfficialAccount);
    let deep = format!(
        r#"{{"From_Account":"a","To_Account":"b","MsgKey":"k","x":{}}}"#,
        nested("[", 128, "", "]")
    );
    let mut not_utf8 = br#"{"From_Account":"a","To_Account":"b","MsgKey":""#.to_vec();
    not_utf8.extend_from_slice(b"\xff\"}");
    let cases: [(&str, Bytes, &str); 9] = [
        (&c2c, deep.into(), "body is nested too deep"),
        (&c2c, format!("\u{feff}{ONE_TO_ONE}").into(), "body is not a JSON object"),
        (&c2c, not_utf8.into(), "body is not UTF-8"),
        (
            &c2c,
            r#"{"From_Account":"a","From_Account":"a","To_Account":"b","MsgKey":"k"}"#.into(),
            "invalid body: duplicate field `From_Account` at line 1 column 34",
        ),
        (
            &c2c,
            r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":1,"UnreadMsgNum":2}"#.into(),
            "invalid body: duplicate field `UnreadMsgNum` at line 1 column 81",
        ),
        (
            &c2c,
            r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":9223372036854775808}"#.into(),
            "invalid body: invalid value: integer `9223372036854775808`, expected i64 at line 1 column 84",
        ),
        (
            &c2c,
            r#"{"From_Account":"a","To_Account":"b","MsgKey":"k","UnreadMsgNum":1e400}"#.into(),
            "invalid body: number out of range at line 1 column 70",
        ),
        (
            &official,
            r#"{"Official_Account":"a","WithdrawMsgList":[],"WithdrawMsgList":[]}"#.into(),
            "invalid body: duplicate field `WithdrawMsgList` at line 1 column 62",
        ),
        (
            &official,
            r#"{"Official_Account":"a","WithdrawMsgList":[{"MsgKey":"k","MsgKey":"l"}]}"#.into(),
            "invalid body: duplicate field `MsgKey` at line 1 column 65",
        ),
    ];
    for (query, body, reason) in cases {
        refused_body(&layer(), query, body, reason).await;
    }
    // Long keys and accounts, and `\u0000`, are the application's to police.
    let key = "k".repeat(4000);
    let body = format!(r#"{{"From_Account":"a\u0000","To_Account":"b","MsgKey":"{key}"}}"#);
    let event = accept(&roomy(), &c2c, full(body)).await;
    let recall = event.as_one_to_one().unwrap();
    assert_eq!(
        (recall.from_account.as_str(), recall.msg_key.len()),
        ("a\0", 4000)
    );
}
