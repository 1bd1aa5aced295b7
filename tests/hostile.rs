//! Input that tries to hurt: hostile query strings and bodies, each answered as the crate
//! documents, with its exact reason, without a panic, without reading a body it must not read,
//! and without calling the inner service for anything it refuses.
//!
//! Most cases go through `tower::ServiceExt::oneshot`; the ones about connections (a client that
//! disconnects mid-body, bytes `http::Uri` refuses, a request target over its length limit) run
//! over a real loopback socket with hyper. What each case costs in allocations is measured in
//! `allocations.rs`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_tim_recall::{RecallEvent, RecallKind, RecallLayer};

use support::bodies::{End, Script, UNREAD};
use support::fixtures::*;
use support::net::server::Server;
use support::net::within;
use support::requests::{full, post, request};
use support::{accepted, refused, refused_unread, send, sign_text, Recorder};

/// The longest path and query `http::Uri` holds (`u16::MAX - 1` bytes): a longer request target
/// never reaches a tower service.
const URI_MAX: usize = u16::MAX as usize - 1;

fn layer() -> RecallLayer {
    RecallLayer::unsigned([APP]).unwrap()
}

/// A layer for `APP` with room for large bodies.
fn roomy() -> RecallLayer {
    unsigned_layer(1 << 20)
}

fn signed_layer() -> RecallLayer {
    RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .clock(|| at(NOW))
        .build()
        .unwrap()
}

/// `parameter` `count` times, joined with `&`.
fn repeated(parameter: &str, count: usize) -> String {
    vec![parameter; count].join("&")
}

/// `query` padded with an unread parameter to the longest request target `http::Uri` holds.
fn padded_to_uri_max(query: &str) -> String {
    let room = URI_MAX - CALLBACK_PATH.len() - "?".len() - query.len() - "&pad=".len();
    let padded = format!("{query}&pad={}", "x".repeat(room));
    assert_eq!(CALLBACK_PATH.len() + 1 + padded.len(), URI_MAX);
    padded
}

/// Sends `body` under the documented query and expects the inner service to get its event;
/// returns the event and the body it read.
async fn good(layer: &RecallLayer, query: &str, body: impl Into<Bytes>) -> (RecallEvent, Bytes) {
    accepted(layer, post(query, full(body))).await
}

// ---------------------------------------------------------------------------------------------
// Query strings: not the recall command, so passed through untouched

#[tokio::test]
async fn hostile_queries_without_the_recall_command_pass_through() {
    let many = repeated("a=1", 10_000);
    let escaped = repeated("%FF=%", 10_000);
    let huge = padded_to_uri_max("x=1");
    let cases: Vec<&str> = vec![
        "",
        "&&&",
        "=",
        "==&=",
        "%",
        "%%%",
        "%zz=%g",
        "%FF%FE=%C3",
        "a&b&c",
        // Without `=` the value is empty, which is not the recall command.
        "CallbackCommand",
        "CallbackCommand=",
        "SdkAppid=1400000000&CallbackCommand",
        // Names and values are case-sensitive.
        "callbackcommand=Group.CallbackAfterRecallMsg",
        "CallbackCommand=group.callbackafterrecallmsg",
        // `;` is not a separator: the value runs on to the next `&`.
        "CallbackCommand=Group.CallbackAfterRecallMsg;SdkAppid=1400000000",
        "SdkAppid=1400000000;CallbackCommand=Group.CallbackAfterRecallMsg",
        // An invalid escape is kept as it is, so the value is not the command.
        "CallbackCommand=Group%2XCallbackAfterRecallMsg",
        "CallbackCommand=Group.CallbackAfterRecallMsg%",
        // Decoded bytes that are not UTF-8 are replaced, never matched.
        "CallbackCommand=Group.CallbackAfterRecallMsg%FF",
        "CallbackCommand%FF=Group.CallbackAfterRecallMsg",
        "CallbackCommand=Group.CallbackAfter+RecallMsg",
        "x=Group.CallbackAfterRecallMsg",
        &many,
        &escaped,
        &huge,
    ];
    for query in cases {
        let (answer, recorder) = send(&layer(), post(query, full(EVENT))).await;
        answer.assert_inner();
        let seen = recorder.seen();
        assert_eq!(
            (seen.calls, seen.event, &seen.body[..]),
            (1, None, EVENT.as_bytes()),
            "{query:.80}"
        );
    }
}

#[tokio::test]
async fn raw_utf8_in_a_query_passes_through_and_is_read_like_any_text() {
    // `http::Uri` accepts raw UTF-8 in a query (not other bytes above 0x7F).
    let query = "name=🍕&CallbackCommand=Group.CallbackAfterSendMsg";
    let (answer, recorder) = send(&layer(), post(query, full(""))).await;
    answer.assert_inner();
    assert_eq!(recorder.calls(), 1);
    // Full-width digits are not decimal digits.
    let query = format!("{COMMAND}&SdkAppid=１４００００００００");
    refused_unread(
        &layer(),
        &query,
        StatusCode::FORBIDDEN,
        "SdkAppid is not a decimal integer",
    )
    .await;
}

#[test]
fn bytes_that_are_not_utf8_never_reach_a_service_raw() {
    // `http::Uri`, and so every `http::Request`, refuses them: a hyper server answers 400
    // before any service runs (see `a_request_target_http_refuses_never_reaches_the_service`).
    for target in [
        &b"/im/callback?SdkAppid=\xff&CallbackCommand=Group.CallbackAfterRecallMsg"[..],
        b"/im/callback?CallbackCommand=Group.CallbackAfterRecallMsg\xc3",
        b"/im/callback?\x80=1",
    ] {
        assert!(Uri::try_from(target).is_err(), "{target:?}");
    }
    let too_long = format!("{CALLBACK_PATH}?{}", "a".repeat(URI_MAX));
    assert!(Uri::try_from(too_long).is_err());
}

// ---------------------------------------------------------------------------------------------
// Query strings: the recall command, with hostile parameters

#[tokio::test]
async fn hostile_sdk_app_ids_are_refused_with_403() {
    const MISSING: &str = "SdkAppid is missing";
    const REPEATED: &str = "SdkAppid is repeated";
    const MALFORMED: &str = "SdkAppid is not a decimal integer";
    const NOT_ALLOWED: &str = "SdkAppid is not allowed";
    let many_repeats = format!("{COMMAND}&{}", repeated("SdkAppid", 6_000));
    let huge_repeats = padded_to_uri_max(&format!(
        "{COMMAND}&{}",
        repeated("SdkAppid=%31400000000", 2_500)
    ));
    let huge_number = format!("{COMMAND}&SdkAppid={}", "9".repeat(30_000));
    // The command first, then what the query says of the app; or what it says, then the command.
    let after = [
        ("&&&&", MISSING),
        ("&sdkappid=1400000000", MISSING),
        ("&SdkAppid", MALFORMED),
        ("&SdkAppid=", MALFORMED),
        ("&SdkAppid==1400000000", MALFORMED),
        ("&SdkAppid=1400000000;x=1", MALFORMED),
        ("&SdkAppid=%G1400000000", MALFORMED),
        ("&SdkAppid=1400000000%", MALFORMED),
        ("&SdkAppid=%FF", MALFORMED),
        ("&SdkAppid=1400000000%00", MALFORMED),
        ("&SdkAppid=%2B1400000000", MALFORMED),
        ("&SdkAppid=+1400000000", MALFORMED),
        ("&SdkAppid=0x5F5E1000", MALFORMED),
        ("&SdkAppid=1400000001", NOT_ALLOWED),
        ("&SdkAppid=0", NOT_ALLOWED),
        ("&SdkAppid=18446744073709551615", NOT_ALLOWED),
    ];
    let before = [
        ("SdkAppid=1400000000&SdkAppid=", REPEATED),
        ("SdkAppid&SdkAppid=1400000000", REPEATED),
        ("Sdk%41ppid=1&SdkAppid=1400000000", REPEATED),
        ("Sdk%61ppid=1400000000", MISSING),
        ("SdkApp%69d=1&SdkAppid=1400000000", REPEATED),
    ];
    let mut cases: Vec<(String, &str)> = vec![(COMMAND.to_owned(), MISSING)];
    cases.extend(
        after
            .iter()
            .map(|&(app, reason)| (format!("{COMMAND}{app}"), reason)),
    );
    cases.extend(
        before
            .iter()
            .map(|&(app, reason)| (format!("{app}&{COMMAND}"), reason)),
    );
    cases.extend(
        [huge_number, many_repeats, huge_repeats]
            .into_iter()
            .zip([MALFORMED, REPEATED, REPEATED]),
    );
    for (query, reason) in &cases {
        refused_unread(&layer(), query, StatusCode::FORBIDDEN, reason).await;
    }
    // Leading zeros spell the same number: `SdkAppid` is not signed, so no spelling is favoured.
    let query = format!("{COMMAND}&SdkAppid=0001400000000");
    let (event, _) = good(&layer(), &query, EVENT).await;
    assert_eq!(event.context().sdk_app_id.get(), APP);
}

#[tokio::test]
async fn hostile_signature_parameters_are_refused_with_401() {
    let time = NOW.to_string();
    let signature = sign_text(TOKEN, &time);
    let with = |extra: &str| format!("{QUERY}&{extra}");
    let cases: Vec<(String, &str)> = vec![
        (
            with(&format!("RequestTime={time}&Sign")),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            with(&format!("RequestTime={time}&Sign=")),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            with(&format!("RequestTime={time}&Sign=%FF{}", &signature[2..])),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            with(&format!("RequestTime={time}&Sign={signature};")),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            with(&format!(
                "RequestTime={time}&Sign={signature}&Sign={signature}"
            )),
            "Sign is repeated",
        ),
        (
            with(&format!("RequestTime={time}&Sign={signature}&Sign")),
            "Sign is repeated",
        ),
        (
            with(&format!("RequestTime&Sign={signature}")),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            with(&format!("RequestTime=%FF&Sign={signature}")),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            with(&format!("RequestTime={time};&Sign={signature}")),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            with(&format!("RequestTime={time}&RequestTime=&Sign={signature}")),
            "RequestTime is repeated",
        ),
        (with(&format!("Sign={signature}")), "RequestTime is missing"),
        (with(&format!("RequestTime={time}")), "Sign is missing"),
        (
            with(&format!("RequestTime={time}&{}", repeated("Sign", 10_000))),
            "Sign is repeated",
        ),
    ];
    for (query, reason) in &cases {
        refused_unread(&signed_layer(), query, StatusCode::UNAUTHORIZED, reason).await;
    }
    // Escaped, the same signature is accepted: parameters are compared after decoding.
    let escaped = with(&format!("Request%54ime=%31{}&Sign={signature}", &time[1..]));
    good(&signed_layer(), &escaped, EVENT).await;
}

#[tokio::test]
async fn hostile_shapes_of_the_command_and_contenttype_are_refused_with_400() {
    const REPEATED: &str = "CallbackCommand is repeated";
    const CONTENT_TYPE: &str = "contenttype is not json";
    const CONTENT_TYPE_REPEATED: &str = "contenttype is repeated";
    let many_commands = format!("SdkAppid=1400000000&{}", repeated(COMMAND, 1_400));
    let mut cases: Vec<(String, &str)> = vec![
        (format!("{QUERY}&CallbackCommand"), REPEATED),
        (format!("{QUERY}&CallbackCommand="), REPEATED),
        (format!("{QUERY}&Callback%43ommand=%FF"), REPEATED),
        (many_commands, REPEATED),
    ];
    // `contenttype=json` in the documented query, spelled otherwise.
    for (spelling, reason) in [
        ("contenttype", CONTENT_TYPE),
        ("contenttype=", CONTENT_TYPE),
        ("contenttype=json;charset=utf-8", CONTENT_TYPE),
        ("contenttype=json%00", CONTENT_TYPE),
        ("contenttype=json&contenttype=json", CONTENT_TYPE_REPEATED),
        ("contenttype=xml&content%74ype=json", CONTENT_TYPE_REPEATED),
    ] {
        cases.push((QUERY.replace("contenttype=json", spelling), reason));
    }
    for (query, reason) in &cases {
        refused_unread(&layer(), query, StatusCode::BAD_REQUEST, reason).await;
    }
    // Escaped or in another case, `json` is `json`.
    for query in [
        QUERY.replace("contenttype=json", "contenttype=%4A%53%4F%4E"),
        QUERY.replace("contenttype=json", "content%74ype=JSON"),
    ] {
        good(&layer(), &query, EVENT).await;
    }
}

#[tokio::test]
async fn the_method_is_checked_before_anything_in_the_query() {
    let query = format!("{COMMAND}&SdkAppid=%FF&{}", repeated("Sign", 1000));
    for method in [
        Method::GET,
        Method::PUT,
        Method::from_bytes(b"X-HOSTILE").unwrap(),
    ] {
        let reason = "callbacks must be sent with POST";
        refused(
            &layer(),
            request(method, &query, UNREAD),
            StatusCode::METHOD_NOT_ALLOWED,
            reason,
        )
        .await;
    }
}

#[tokio::test]
async fn informational_parameters_never_refuse_whatever_they_hold() {
    for extra in [
        "ClientIP",
        "ClientIP=",
        "ClientIP=%FF",
        "ClientIP=127.0.0.1;",
        "ClientIP=1.2.3.4&ClientIP=5.6.7.8",
        "OptPlatform",
        "OptPlatform=%00%FF",
        &repeated("OptPlatform", 5_000),
    ] {
        let query = format!("SdkAppid=1400000000&{COMMAND}&{extra}");
        let (event, _) = good(&layer(), &query, EVENT).await;
        assert_eq!(event.context().client_ip, None, "{extra:.80}");
    }
}

#[tokio::test]
async fn a_valid_callback_hidden_among_many_parameters_is_accepted() {
    let noise = repeated("x%41=%41&y", 5_000);
    for query in [
        format!("{noise}&{QUERY}"),
        format!("{QUERY}&{noise}"),
        padded_to_uri_max(QUERY),
        // Every name and value escaped.
        "%53dkAppid=%31%34%30%30%30%30%30%30%30%30&%43allbackCommand=%47roup%2ECallbackAfterRecallMsg\
         &ClientIP=%3A%3A1"
            .to_owned(),
    ] {
        let (event, _) = good(&layer(), &query, EVENT).await;
        assert_eq!(event.as_group().unwrap().group_id, "@TGS#_@TGS#cQVLVHIM62CJ");
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// Sends `body` as a valid callback's body through `layer`, and expects a 400 with `reason`.
async fn bad_body(layer: &RecallLayer, body: impl Into<Bytes>, reason: &str) {
    refused(
        layer,
        post(QUERY, full(body)),
        StatusCode::BAD_REQUEST,
        reason,
    )
    .await;
}

/// Sends `body` as a valid callback's body and expects the inner service to get its event.
async fn good_body(layer: &RecallLayer, body: impl Into<Bytes>) -> RecallEvent {
    good(layer, QUERY, body).await.0
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
        "body is larger than the limit",
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
        let (_, forwarded) = good(&layer(), QUERY, body.clone()).await;
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
        refused(
            &layer(),
            post(query, full(body)),
            StatusCode::BAD_REQUEST,
            reason,
        )
        .await;
    }
    // Long keys and accounts, and `\u0000`, are the application's to police.
    let key = "k".repeat(4000);
    let body = format!(r#"{{"From_Account":"a\u0000","To_Account":"b","MsgKey":"{key}"}}"#);
    let (event, _) = good(&roomy(), &c2c, body).await;
    let recall = event.as_one_to_one().unwrap();
    assert_eq!(
        (recall.from_account.as_str(), recall.msg_key.len()),
        ("a\0", 4000)
    );
}

#[tokio::test]
async fn a_hundred_thousand_tiny_chunks_under_the_limit_are_joined() {
    let body = Script::repeat(b" ", 100_000, End::Finish).then(EVENT);
    let (event, received) = accepted(&roomy(), post(QUERY, body)).await;
    assert_eq!(received.len(), 100_000 + EVENT.len());
    assert!(received.ends_with(EVENT.as_bytes()));
    assert_eq!(event, documented_event());
}

#[tokio::test]
async fn a_hundred_thousand_tiny_chunks_over_the_limit_stop_at_the_limit() {
    let body = Script::repeat(b" ", 100_000, End::Finish).then(EVENT);
    let polls = Arc::clone(&body.polls);
    let reason = "body is larger than the limit";
    refused(
        &layer(),
        post(QUERY, body),
        StatusCode::PAYLOAD_TOO_LARGE,
        reason,
    )
    .await;
    // Read up to the first byte past 64 KiB, and not one frame more.
    assert_eq!(polls.load(Ordering::SeqCst), 64 * 1024 + 1);
}

/// Counts how often a future asks to be polled again.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn empty_frames_forever_are_read_in_batches_that_yield() {
    // A body that is always ready with empty frames never passes the limit. The layer reads a
    // bounded batch of frames per poll, then wakes itself and returns `Pending`, so the task
    // yields to the executor (and to the caller's timeout) instead of spinning inside one poll.
    // What it holds meanwhile is pinned in `allocations.rs`.
    let body = Script::repeat(b"", usize::MAX, End::Finish);
    let polls = Arc::clone(&body.polls);
    let dropped = Arc::clone(&body.dropped);
    let inner = Recorder::default();
    let wakes = Arc::new(Wakes::default());
    let waker = Waker::from(Arc::clone(&wakes));
    let mut cx = Context::from_waker(&waker);
    {
        let mut answer = std::pin::pin!(layer().layer(inner.clone()).oneshot(post(QUERY, body)));
        let mut previous = 0;
        for round in 1..=100 {
            assert!(answer.as_mut().poll(&mut cx).is_pending(), "round {round}");
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                round,
                "it did not wake itself"
            );
            let read = polls.load(Ordering::SeqCst) - previous;
            assert!((1..=64).contains(&read), "{read} frames read in one poll");
            previous += read;
        }
    } // The caller gives up: the answer, and with it the body, is dropped.
    assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn a_stalled_body_is_bounded_by_the_callers_timeout_and_released() {
    for chunks in [0, 1, 1000] {
        let body = Script::repeat(b" ", chunks, End::Stall);
        let dropped = Arc::clone(&body.dropped);
        let inner = Recorder::default();

        // Without a timeout, the layer waits for the body: the answer is still pending.
        let service = layer().layer(inner.clone());
        let mut pending = Box::pin(service.oneshot(post(QUERY, body)));
        let waited = tokio::time::timeout(Duration::from_millis(20), pending.as_mut()).await;
        assert!(waited.is_err(), "a stalled body was answered");
        // The service copy kept for the request is alive while the future is.
        assert!(inner.copies() > 1);
        drop(pending);
        assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
        assert_eq!(inner.copies(), 1, "a copy of the inner service leaked");

        // With `tower::timeout` around the layer, the caller gets `Elapsed`, and everything the
        // request held is released.
        let body = Script::repeat(b" ", chunks, End::Stall);
        let dropped = Arc::clone(&body.dropped);
        let service = ServiceBuilder::new()
            .timeout(Duration::from_millis(50))
            .layer(layer())
            .service(inner.clone());
        let error = service.oneshot(post(QUERY, body)).await.unwrap_err();
        assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
        assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
        assert_eq!(inner.copies(), 1, "a copy of the inner service leaked");
        assert_eq!(inner.calls(), 0);
    }
}

#[tokio::test]
async fn a_body_that_errors_mid_stream_is_refused() {
    for (chunks, tail) in [(0, ""), (1, ""), (10_000, ""), (0, EVENT)] {
        let mut body = Script::repeat(b" ", chunks, End::Fail);
        if !tail.is_empty() {
            body = body.then(tail);
        }
        let dropped = Arc::clone(&body.dropped);
        let reason = "body could not be read";
        refused(&layer(), post(QUERY, body), StatusCode::BAD_REQUEST, reason).await;
        assert!(dropped.load(Ordering::SeqCst));
    }
}

// ---------------------------------------------------------------------------------------------
// Over a real loopback socket

/// The layer in front of a [`Recorder`], served by hyper on 127.0.0.1 port 0.
async fn serve() -> (Server, Recorder) {
    let inner = Recorder::default();
    let server = Server::http1(layer().layer(inner.clone())).await;
    (server, inner)
}

/// Writes `request` on a new connection and reads the answer until the server closes it or
/// [`within`]'s bound passes; returns what was read.
async fn exchange(addr: SocketAddr, request: &[u8], close_after_write: bool) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    if close_after_write {
        drop(stream);
        return String::new();
    }
    let mut answer = Vec::new();
    within("the server's answer", stream.read_to_end(&mut answer))
        .await
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn head(target: &[u8], headers: &str) -> Vec<u8> {
    let mut request = b"POST ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    request.extend_from_slice(headers.as_bytes());
    request.extend_from_slice(b"\r\n");
    request
}

#[tokio::test]
async fn a_client_that_disconnects_mid_body_is_survived() {
    let (server, inner) = serve().await;
    let target = format!("{CALLBACK_PATH}?{QUERY}");
    let half = &EVENT.as_bytes()[..EVENT.len() / 2];

    // Content-Length promises more than is sent; then the client is gone.
    let mut request = head(
        target.as_bytes(),
        &format!("Content-Length: {}\r\n", EVENT.len()),
    );
    request.extend_from_slice(half);
    exchange(server.addr, &request, true).await;
    // Chunked, cut inside a chunk.
    let mut request = head(target.as_bytes(), "Transfer-Encoding: chunked\r\n");
    request.extend_from_slice(format!("{:x}\r\n", EVENT.len()).as_bytes());
    request.extend_from_slice(half);
    exchange(server.addr, &request, true).await;
    // Chunked, cut between chunks after a whole event.
    let mut request = head(target.as_bytes(), "Transfer-Encoding: chunked\r\n");
    request.extend_from_slice(format!("{:x}\r\n{EVENT}\r\n", EVENT.len()).as_bytes());
    exchange(server.addr, &request, true).await;
    // Only the head.
    let request = head(target.as_bytes(), "Content-Length: 100\r\n");
    exchange(server.addr, &request, true).await;

    // The server still answers, and a whole callback is the first the inner service sees.
    let mut request = head(
        target.as_bytes(),
        &format!("Content-Length: {}\r\nConnection: close\r\n", EVENT.len()),
    );
    request.extend_from_slice(EVENT.as_bytes());
    let answer = exchange(server.addr, &request, false).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("inner"), "{answer}");
    assert_eq!(inner.calls(), 1);

    let connections = server.stop().await;
    assert_eq!(connections.accepted(), 5);
    assert_eq!(
        inner.calls(),
        1,
        "a cut-off callback reached the inner service"
    );
    assert_eq!(inner.copies(), 1, "a copy of the inner service leaked");
}

#[tokio::test]
async fn a_request_target_http_refuses_never_reaches_the_service() {
    let (server, inner) = serve().await;
    let cases: [(Vec<u8>, &str); 3] = [
        (
            b"/im/callback?SdkAppid=\xff&CallbackCommand=Group.CallbackAfterRecallMsg".to_vec(),
            "HTTP/1.1 400 ",
        ),
        (
            format!(
                "{CALLBACK_PATH}?{COMMAND}&SdkAppid=1400000000&pad={}",
                "x".repeat(URI_MAX)
            )
            .into_bytes(),
            "HTTP/1.1 414 ",
        ),
        (
            b"/im/callback?CallbackCommand=Group.CallbackAfterRecallMsg\x7f".to_vec(),
            "HTTP/1.1 400 ",
        ),
    ];
    for (target, status) in cases {
        let mut request = head(&target, "Content-Length: 0\r\nConnection: close\r\n");
        request.extend_from_slice(b"");
        let answer = exchange(server.addr, &request, false).await;
        assert!(answer.starts_with(status), "{answer:.200}");
    }
    server.stop().await;
    assert_eq!(inner.calls(), 0);
}
