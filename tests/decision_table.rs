//! The decision table of the crate documentation ("What the layer answers"), row by row and in
//! its order, through the public API and `tower::ServiceExt::oneshot`: each refusal with its
//! status and its exact reason, each one decided before the body is read where the table says
//! so, and the edges of every rule.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};
use tower_tim_recall::{
    Acknowledge, Platform, RecallEvent, RecallLayer, RequestBody, SdkAppId, UnixMillis,
};

use support::bodies::{End, Script, Unread, UNREAD};
use support::fixtures::*;
use support::requests::{full, post, request};
use support::{accepted, refused, refused_unread, send, sign_text, Answer, Recorder};

/// The `Sign` of `token` at `time`.
fn sign(token: &str, time: u64) -> String {
    sign_text(token, &time.to_string())
}

/// Two apps, unsigned.
fn layer() -> RecallLayer {
    RecallLayer::unsigned([APP, SECOND_APP]).unwrap()
}

/// The builder of a layer for the two apps signed with `TOKEN`, its clock stopped at `NOW`.
fn signed() -> tower_tim_recall::RecallLayerBuilder {
    RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .signed_app(SECOND_APP, [TOKEN])
        .clock(|| at(NOW))
}

fn signed_layer() -> RecallLayer {
    signed().build().unwrap()
}

/// The documented query with `extra` appended.
fn query_with(extra: &str) -> String {
    format!("{QUERY}{extra}")
}

/// The documented query signed at `time` with the right token.
fn signed_at(time: u64) -> String {
    query_with(&format!("&RequestTime={time}&Sign={}", sign(TOKEN, time)))
}

/// Sends a request whose body must not be read, with the documented query and `extra`, through
/// the signed layer, and expects a 401 with `reason`.
async fn unauthorized(extra: &str, reason: &str) {
    let query = query_with(extra);
    refused_unread(&signed_layer(), &query, StatusCode::UNAUTHORIZED, reason).await;
}

/// Sends `body` with `query` and expects the inner service to get its event.
async fn accept<B>(layer: &RecallLayer, query: &str, body: B) -> RecallEvent
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    accepted(layer, post(query, body)).await.0
}

// ---------------------------------------------------------------------------------------------
// Row: not a recall callback

#[tokio::test]
async fn requests_without_the_recall_command_pass_through_untouched() {
    for uri in [
        "/",
        "/im/callback",
        "/im/callback?",
        "/im/callback?SdkAppid=1400000000",
        "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg",
        "/im/callback?CallbackCommand=group.callbackafterrecallmsg",
        "/im/callback?callbackcommand=Group.CallbackAfterRecallMsg",
        "/im/callback?CallbackCommand=Group.CallbackAfterRecallMsgX",
        "/im/callback?CallbackCommand",
    ] {
        for method in [Method::POST, Method::GET, Method::PUT] {
            let request = Request::builder()
                .method(method.clone())
                .uri(uri)
                .header("x-check", "kept")
                .body(full("not json at all"))
                .unwrap();
            let recorder = Recorder::default();
            let inner = recorder.clone();
            let checking = service_fn(move |request: Request<RequestBody<Full<Bytes>>>| {
                assert_eq!(request.uri(), uri);
                assert_eq!(request.headers()["x-check"], "kept");
                assert!(request.extensions().get::<RecallEvent>().is_none());
                inner.clone().oneshot(request)
            });
            let response = layer().layer(checking).oneshot(request).await.unwrap();
            Answer::read(response).await.assert_inner();
            let seen = recorder.seen();
            assert_eq!(seen.calls, 1, "{method} {uri}");
            assert_eq!(seen.body, "not json at all");
        }
    }
}

#[tokio::test]
async fn a_passthrough_body_is_streamed_not_collected() {
    // One chunk, then a body that never ends: a layer that collected it would never call the
    // inner service.
    let body = Script::frames([&b"first chunk"[..]], End::Stall);
    let polls = Arc::clone(&body.polls);
    let inner = service_fn(|request: Request<RequestBody<Script>>| async move {
        let mut body = request.into_body();
        let frame = body.frame().await.unwrap().unwrap();
        let data = frame.into_data().unwrap();
        Ok::<_, Infallible>(Response::new(Full::new(data)))
    });
    let request = post(
        "CallbackCommand=Group.CallbackAfterSendMsg&SdkAppid=1",
        body,
    );
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        layer().layer(inner).oneshot(request),
    )
    .await
    .expect("the layer waited for the end of a passthrough body")
    .unwrap();
    Answer::read(response).await.assert_text("first chunk");
    assert_eq!(
        polls.load(Ordering::SeqCst),
        1,
        "only the inner service polled the body"
    );
}

#[tokio::test]
async fn passthrough_keeps_the_inner_response_untouched() {
    let inner = service_fn(|_request: Request<RequestBody<Full<Bytes>>>| async {
        let response = Response::builder()
            .status(StatusCode::IM_A_TEAPOT)
            .header("x-inner", "yes")
            .body(full("teapot"))
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let response = layer()
        .layer(inner)
        .oneshot(post("a=b", full("")))
        .await
        .unwrap();
    let answer = Answer::read(response).await;
    assert_eq!(answer.header("x-inner"), Some("yes"));
    assert_eq!(
        (answer.status, &answer.body[..]),
        (StatusCode::IM_A_TEAPOT, &b"teapot"[..])
    );
}

// ---------------------------------------------------------------------------------------------
// Row: the recall command with another method

#[tokio::test]
async fn the_recall_command_must_be_posted() {
    for method in [
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::PATCH,
        Method::from_bytes(b"X-HOSTILE").unwrap(),
    ] {
        let request = request(method, QUERY, UNREAD);
        refused(
            &layer(),
            request,
            StatusCode::METHOD_NOT_ALLOWED,
            "callbacks must be sent with POST",
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// Row: SdkAppid

#[tokio::test]
async fn sdk_app_id_must_be_one_allowed_decimal_integer() {
    let cases = [
        (COMMAND.to_owned(), "SdkAppid is missing"),
        (
            format!("{COMMAND}&sdkappid=1400000000"),
            "SdkAppid is missing",
        ),
        (
            format!("{COMMAND}&SdkAppid="),
            "SdkAppid is not a decimal integer",
        ),
        (
            format!("{COMMAND}&SdkAppid=14e8"),
            "SdkAppid is not a decimal integer",
        ),
        (
            format!("{COMMAND}&SdkAppid=-1400000000"),
            "SdkAppid is not a decimal integer",
        ),
        (
            format!("{COMMAND}&SdkAppid=%FF%FE"),
            "SdkAppid is not a decimal integer",
        ),
        (
            format!("{COMMAND}&SdkAppid=1400000000&SdkAppid=1400000000"),
            "SdkAppid is repeated",
        ),
        (
            format!("{COMMAND}&SdkAppid={STRANGER}"),
            "SdkAppid is not allowed",
        ),
        (format!("{COMMAND}&SdkAppid=0"), "SdkAppid is not allowed"),
    ];
    for (query, reason) in cases {
        refused_unread(&layer(), &query, StatusCode::FORBIDDEN, reason).await;
    }
}

#[tokio::test]
async fn every_allowed_app_is_accepted() {
    for app in [APP, SECOND_APP] {
        let query = format!("SdkAppid={app}&{COMMAND}");
        let event = accept(&layer(), &query, full(EVENT)).await;
        assert_eq!(event.sdk_app_id, SdkAppId::new(app));
    }
}

// ---------------------------------------------------------------------------------------------
// Row: the signature

#[tokio::test]
async fn tencent_documentation_vector_is_accepted() {
    let query = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let event = accept(&signed_layer(), &query, full(EVENT)).await;
    assert_eq!(event.request_time, Some(NOW));
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_before_the_body_is_read() {
    let stale = NOW - 61;
    let ahead = NOW + 61;
    let cases = [
        (String::new(), "RequestTime is missing"),
        (format!("&RequestTime={NOW}"), "Sign is missing"),
        (format!("&Sign={DOC_SIGN}"), "RequestTime is missing"),
        (
            format!("&RequestTime={NOW}&Sign={}", &DOC_SIGN[..63]),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign={}", "z".repeat(64)),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign="),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime=&Sign={DOC_SIGN}"),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            format!("&RequestTime={NOW}&RequestTime={NOW}&Sign={DOC_SIGN}"),
            "RequestTime is repeated",
        ),
        (
            format!("&RequestTime={NOW}&Sign={DOC_SIGN}&Sign={DOC_SIGN}"),
            "Sign is repeated",
        ),
        (
            format!("&RequestTime={stale}&Sign={}", sign(TOKEN, stale)),
            "RequestTime is outside the allowed time window",
        ),
        (
            format!("&RequestTime={ahead}&Sign={}", sign(TOKEN, ahead)),
            "RequestTime is outside the allowed time window",
        ),
        (
            format!("&RequestTime={}&Sign={DOC_SIGN}", NOW + 1),
            "Sign does not match",
        ),
        (
            format!("&RequestTime={NOW}&Sign={}", sign("another token", NOW)),
            "Sign does not match",
        ),
    ];
    for (extra, reason) in cases {
        unauthorized(&extra, reason).await;
    }
}

#[tokio::test]
async fn request_time_must_be_the_plain_decimal_seconds() {
    // Each signed over its exact (decoded) text, as Tencent would sign it, so that only the
    // spelling of the time is at fault.
    let cases = [
        ("18446744073709551616", "18446744073709551616".to_owned()),
        ("-1", "-1".to_owned()),
        ("+60", " 60".to_owned()),
        ("%2B60", "+60".to_owned()),
        ("%2B1669872112", format!("+{NOW}")),
        ("01669872112", format!("0{NOW}")),
        ("111111111111111111111111111111", "1".repeat(30)),
        ("%00", "\0".to_owned()),
        ("1669872112.0", format!("{NOW}.0")),
    ];
    for (raw, decoded) in cases {
        let extra = format!("&RequestTime={raw}&Sign={}", sign_text(TOKEN, &decoded));
        unauthorized(&extra, "RequestTime is not a decimal number of seconds").await;
    }
    // The largest time there is, well spelled: only outside the window.
    let max = u64::MAX;
    unauthorized(
        &format!("&RequestTime={max}&Sign={}", sign(TOKEN, max)),
        "RequestTime is outside the allowed time window",
    )
    .await;
}

#[tokio::test]
async fn the_window_edge_is_accepted_and_one_second_beyond_is_not_both_ways() {
    for window in [0, 1, 60, 300] {
        let layer = signed()
            .time_window(Duration::from_secs(window))
            .build()
            .unwrap();
        for at in [NOW - window, NOW + window] {
            let event = accept(&layer, &signed_at(at), full(EVENT)).await;
            assert_eq!(event.request_time, Some(at));
        }
        for at in [NOW - window - 1, NOW + window + 1] {
            let reason = "RequestTime is outside the allowed time window";
            refused(
                &layer,
                post(&signed_at(at), UNREAD),
                StatusCode::UNAUTHORIZED,
                reason,
            )
            .await;
        }
    }
    // Fractions of a second are dropped: 1.9 s is a window of one second.
    let layer = signed()
        .time_window(Duration::from_millis(1900))
        .build()
        .unwrap();
    let reason = "RequestTime is outside the allowed time window";
    refused(
        &layer,
        post(&signed_at(NOW + 2), UNREAD),
        StatusCode::UNAUTHORIZED,
        reason,
    )
    .await;
}

#[tokio::test]
async fn an_unbounded_window_does_not_overflow() {
    // The receiver's clock at the epoch, now, and far past anything `RequestTime` can say.
    for clock in [0, NOW, i64::MAX as u64 / 2] {
        let layer = RecallLayer::builder()
            .signed_app(APP, [TOKEN])
            .time_window(Duration::MAX)
            .clock(move || at(clock))
            .build()
            .unwrap();
        for time in [0, 1, NOW, u64::MAX] {
            accept(&layer, &signed_at(time), full(EVENT)).await;
        }
    }
}

#[tokio::test]
async fn upper_case_hex_sign_is_accepted_and_malformed_signs_are_not() {
    let mut mixed = DOC_SIGN.to_owned();
    mixed.replace_range(..8, &DOC_SIGN[..8].to_ascii_uppercase());
    for spelling in [DOC_SIGN.to_ascii_uppercase(), mixed] {
        let query = query_with(&format!("&RequestTime={NOW}&Sign={spelling}"));
        accept(&signed_layer(), &query, full(EVENT)).await;
    }
    for bad in [
        DOC_SIGN[..62].to_owned(),
        format!("{DOC_SIGN}00"),
        format!("{}G", &DOC_SIGN[..63]),
        format!("{}%20", &DOC_SIGN[..63]),
        format!("0x{}", &DOC_SIGN[..62]),
        format!("{}%C3%A9", &DOC_SIGN[..62]),
        DOC_SIGN.repeat(100),
    ] {
        let extra = format!("&RequestTime={NOW}&Sign={bad}");
        unauthorized(&extra, "Sign is not 64 hexadecimal digits").await;
    }
}

#[tokio::test]
async fn the_app_is_checked_before_the_signature() {
    let query = format!("SdkAppid=1&{COMMAND}");
    let reason = "SdkAppid is not allowed";
    refused_unread(&signed_layer(), &query, StatusCode::FORBIDDEN, reason).await;
}

#[tokio::test]
async fn without_a_token_signature_parameters_are_ignored() {
    let query = query_with("&RequestTime=garbage&Sign=garbage");
    let event = accept(&layer(), &query, full(EVENT)).await;
    assert_eq!(event.request_time, None);
}

// ---------------------------------------------------------------------------------------------
// Several apps, several tokens

const PRODUCTION: u64 = APP;
const STAGING: u64 = SECOND_APP;
const OPEN: u64 = 1_400_000_002;
const CURRENT: &str = "current-token";
const PREVIOUS: &str = "previous-token";
const STAGING_TOKEN: &str = "staging-token";

fn per_app_layer() -> RecallLayer {
    RecallLayer::builder()
        .signed_app(PRODUCTION, [CURRENT, PREVIOUS])
        .signed_app(STAGING, [STAGING_TOKEN])
        .unsigned_app(OPEN)
        .allow_unsigned_apps()
        .clock(|| at(NOW))
        .build()
        .unwrap()
}

fn query_for(app: u64, token: Option<&str>) -> String {
    let mut query = format!("SdkAppid={app}&{COMMAND}&contenttype=json");
    if let Some(token) = token {
        query.push_str(&format!("&RequestTime={NOW}&Sign={}", sign(token, NOW)));
    }
    query
}

/// Sends a callback for `app`, signed with `token`, through `layer`, and checks that it is
/// accepted, or refused with this reason; every answer is free of tokens and signatures (the
/// refusals are compared byte for byte).
async fn check_app(
    layer: &RecallLayer,
    app: u64,
    token: Option<&str>,
    refusal: Option<(StatusCode, &str)>,
) {
    let (answer, recorder) = send(layer, post(&query_for(app, token), full(EVENT))).await;
    match refusal {
        None => {
            answer.assert_inner();
            assert_eq!(recorder.event().unwrap().sdk_app_id, SdkAppId::new(app));
        }
        Some((status, reason)) => {
            answer.assert_fail(status, reason);
            assert_eq!(recorder.calls(), 0);
        }
    }
}

#[tokio::test]
async fn each_app_accepts_its_own_tokens_only() {
    let layer = per_app_layer();
    let mismatch = Some((StatusCode::UNAUTHORIZED, "Sign does not match"));
    let unsigned = Some((StatusCode::UNAUTHORIZED, "RequestTime is missing"));
    let cases = [
        (PRODUCTION, Some(CURRENT), None),
        (PRODUCTION, Some(PREVIOUS), None),
        (PRODUCTION, Some(STAGING_TOKEN), mismatch),
        (PRODUCTION, Some("third-token"), mismatch),
        (PRODUCTION, None, unsigned),
        (STAGING, Some(STAGING_TOKEN), None),
        (STAGING, Some(CURRENT), mismatch),
        (STAGING, Some(PREVIOUS), mismatch),
        (STAGING, None, unsigned),
        // The unsigned app needs no signature, and ignores one.
        (OPEN, None, None),
        (OPEN, Some("anything"), None),
        (
            1_400_000_003,
            Some(CURRENT),
            Some((StatusCode::FORBIDDEN, "SdkAppid is not allowed")),
        ),
    ];
    for (app, token, refusal) in cases {
        check_app(&layer, app, token, refusal).await;
    }
}

#[tokio::test]
async fn an_unsigned_app_ignores_sign_and_request_time() {
    let query = format!("{}&RequestTime=garbage&Sign=garbage", query_for(OPEN, None));
    let event = accept(&per_app_layer(), &query, full(EVENT)).await;
    assert_eq!(event.request_time, None);
}

#[tokio::test]
async fn rotation_with_the_common_constructor() {
    let layer = RecallLayer::builder()
        .signed_app(APP, [CURRENT, PREVIOUS])
        .signed_app(SECOND_APP, [CURRENT, PREVIOUS])
        .clock(|| at(NOW))
        .build()
        .unwrap();
    let mismatch = Some((StatusCode::UNAUTHORIZED, "Sign does not match"));
    for app in [APP, SECOND_APP] {
        check_app(&layer, app, Some(CURRENT), None).await;
        check_app(&layer, app, Some(PREVIOUS), None).await;
        check_app(&layer, app, Some("third-token"), mismatch).await;
    }
    // `RecallLayer::new` signs every app alike, with the system clock: a callback signed now.
    let layer = RecallLayer::new([APP, SECOND_APP], [CURRENT, PREVIOUS]).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for token in [CURRENT, PREVIOUS] {
        let query = format!(
            "SdkAppid={SECOND_APP}&{COMMAND}&RequestTime={now}&Sign={}",
            sign(token, now)
        );
        accept(&layer, &query, full(EVENT)).await;
    }
}

#[tokio::test]
async fn the_per_app_layer_keeps_the_decision_order() {
    let layer = per_app_layer();
    // Method before app, app before signature, signature before the query's shape and the body.
    let get = request(Method::GET, &query_for(1, None), UNREAD);
    let reason = "callbacks must be sent with POST";
    refused(&layer, get, StatusCode::METHOD_NOT_ALLOWED, reason).await;
    let query = format!("{}&contenttype=xml", query_for(PRODUCTION, Some("wrong")));
    refused_unread(
        &layer,
        &query,
        StatusCode::UNAUTHORIZED,
        "Sign does not match",
    )
    .await;
    let query = format!("{}&contenttype=xml", query_for(PRODUCTION, Some(CURRENT)));
    let reason = "contenttype is repeated";
    refused_unread(&layer, &query, StatusCode::BAD_REQUEST, reason).await;
    let query = format!("{}&contenttype=xml", query_for(OPEN, None));
    refused_unread(&layer, &query, StatusCode::BAD_REQUEST, reason).await;
}

// ---------------------------------------------------------------------------------------------
// Row: the shape of the query

#[tokio::test]
async fn query_shape_errors_are_refused_before_reading() {
    let cases = [
        (
            format!("{QUERY}&CallbackCommand=Group.CallbackAfterSendMsg"),
            "CallbackCommand is repeated",
        ),
        (
            format!("CallbackCommand=Group.CallbackAfterSendMsg&{QUERY}"),
            "CallbackCommand is repeated",
        ),
        (
            QUERY.replace("contenttype=json", "contenttype=xml"),
            "contenttype is not json",
        ),
        (
            QUERY.replace("contenttype=json", "contenttype=json&contenttype=json"),
            "contenttype is repeated",
        ),
    ];
    for (query, reason) in cases {
        refused_unread(&layer(), &query, StatusCode::BAD_REQUEST, reason).await;
    }
    // The signature is checked before the shape: an unsigned request with a bad shape is a 401.
    let query = format!("{QUERY}&CallbackCommand=Group.CallbackAfterSendMsg");
    let reason = "RequestTime is missing";
    refused_unread(&signed_layer(), &query, StatusCode::UNAUTHORIZED, reason).await;
}

// ---------------------------------------------------------------------------------------------
// Row: the size of the body

const TOO_LARGE: &str = "body is larger than the limit";

/// A valid event padded with spaces to exactly `len` bytes.
fn event_of_len(len: usize) -> Vec<u8> {
    let mut body = EVENT.as_bytes().to_vec();
    assert!(len >= body.len());
    body.resize(len, b' ');
    body
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let limit = 1024;
    let layer = unsigned_layer(limit);
    let mut request = post(QUERY, UNREAD);
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (limit + 1).into());
    refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).await;
    // Over the limit by the body's own size hint, as a body of known length tells it.
    refused(
        &layer,
        post(QUERY, Unread(Some(limit as u64 + 1))),
        StatusCode::PAYLOAD_TOO_LARGE,
        TOO_LARGE,
    )
    .await;
    // After the query's shape: a bad shape with a large body is a 400.
    let mut request = post(&format!("{QUERY}&contenttype=xml"), Unread(Some(1 << 30)));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (1u64 << 30).into());
    let reason = "contenttype is repeated";
    refused(&layer, request, StatusCode::BAD_REQUEST, reason).await;
}

#[tokio::test]
async fn the_limit_is_exact_with_or_without_content_length() {
    let limit = 1000;
    let layer = unsigned_layer(limit);
    for (len, declared) in [
        (limit, true),
        (limit, false),
        (limit + 1, true),
        (limit + 1, false),
    ] {
        let body = event_of_len(len);
        let mut request = post(
            QUERY,
            Script::cut(&body, &[100, 200, 300, 900], End::Finish),
        );
        if declared {
            request
                .headers_mut()
                .insert(header::CONTENT_LENGTH, len.into());
        }
        let (answer, recorder) = send(&layer, request).await;
        if len <= limit {
            answer.assert_inner();
            assert_eq!(recorder.seen().body.len(), len);
        } else {
            answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
            assert_eq!(recorder.calls(), 0);
        }
    }
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    // 100 bytes a frame, forever, without Content-Length.
    let endless = Script::repeat(&[b' '; 100], usize::MAX, End::Finish);
    let (answer, recorder) = send(&unsigned_layer(10_000), post(QUERY, endless)).await;
    answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
    assert_eq!(recorder.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// Row: the body is not a recall event

#[tokio::test]
async fn a_body_that_is_not_a_recall_event_is_refused() {
    // One case of each kind of body refusal, in the table's order; the unit tests of the
    // parser (`src/protocol/event.rs`) pin every field rule.
    let cases = [
        ("", "body is not a JSON object"),
        ("not json", "body is not a JSON object"),
        ("[]", "body is not a JSON object"),
        ("{\"GroupId\":\"\u{1}\"", "invalid body: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 13"),
        ("{", "invalid body: EOF while parsing an object at line 1 column 1"),
        (
            r#"{"GroupId":"g","MsgSeqList":[]} trailing"#,
            "invalid body: trailing characters at line 1 column 33",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[]}{}"#,
            "invalid body: trailing characters at line 1 column 32",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":"x"}]}"#,
            "invalid body: invalid type: string \"x\", expected u32 at line 1 column 42",
        ),
        (
            r#"{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g","MsgSeqList":[]}"#,
            "invalid body: invalid value: string \"Group.CallbackAfterSendMsg\", expected the \
             query's CallbackCommand, Group.CallbackAfterRecallMsg at line 1 column 47",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1}],"EventTime":"yesterday"}"#,
            "invalid body: invalid value: string \"yesterday\", expected milliseconds as a \
             non-negative integer or a string of digits at line 1 column 66",
        ),
    ];
    for (body, reason) in cases {
        let (answer, recorder) = send(&layer(), post(QUERY, full(body))).await;
        answer.assert_fail(StatusCode::BAD_REQUEST, reason);
        assert_eq!(recorder.calls(), 0, "{body}");
    }
}

#[tokio::test]
async fn a_body_that_fails_mid_stream_is_refused() {
    // Even when what arrived before the failure is a whole event: the body was not complete.
    for frames in [&br#"{"GroupId":"#[..], EVENT.as_bytes()] {
        let body = Script::frames([Bytes::copy_from_slice(frames)], End::Fail);
        let (answer, recorder) = send(&layer(), post(QUERY, body)).await;
        answer.assert_fail(StatusCode::BAD_REQUEST, "body could not be read");
        assert_eq!(recorder.calls(), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Row: valid, forward mode

#[tokio::test]
async fn a_valid_callback_reaches_the_inner_service_with_its_event_and_body() {
    let body = Bytes::from_static(EVENT.as_bytes());
    let (answer, recorder) = send(&layer(), post(QUERY, Full::new(body.clone()))).await;
    answer.assert_inner();
    let seen = recorder.seen();
    assert_eq!(seen.calls, 1);
    assert_eq!(seen.body, EVENT);
    // The inner service reads the very bytes the layer read: no copy.
    assert_eq!(seen.first_chunk, Some(body.as_ptr() as usize));
    assert_eq!(seen.event, Some(documented_event()));
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
async fn event_time_is_read_as_a_number_or_a_string() {
    let as_string = EVENT.replace("1670574414123", "\"1670574414123\"");
    for body in [EVENT.to_owned(), as_string] {
        let event = accept(&layer(), QUERY, full(body)).await;
        assert_eq!(event.event_time, Some(UnixMillis::new(1_670_574_414_123)));
    }
}

#[tokio::test]
async fn query_values_are_percent_decoded() {
    let query = "SdkAppid=%31400000000&CallbackCommand=Group%2ECallbackAfterRecallMsg\
                 &OptPlatform=i%4FS&ClientIP=%3A%3A1&contenttype=JSON";
    let event = accept(&layer(), query, full(EVENT)).await;
    assert_eq!(event.sdk_app_id, SdkAppId::new(APP));
    assert_eq!(event.platform, Some(Platform::Ios));
    assert_eq!(event.client_ip, Some("::1".parse().unwrap()));
}

#[tokio::test]
async fn the_oldest_documented_body_is_accepted() {
    let body = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u","Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}],"Unknown":{"x":[1]}}"#;
    let event = accept(&layer(), &format!("{COMMAND}&SdkAppid={APP}"), full(body)).await;
    assert_eq!(event.messages.len(), 2);
    assert_eq!(event.topic_id, None);
    assert_eq!(event.client_ip, None);
    assert_eq!(event.platform, None);
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

// ---------------------------------------------------------------------------------------------
// Row: valid, acknowledge mode

/// A layer in acknowledge mode whose handler keeps every event it gets.
type Kept = Arc<Mutex<Vec<RecallEvent>>>;

fn keeping(
    layer: RecallLayer,
) -> (
    RecallLayer<Acknowledge<impl Service<RecallEvent, Response = (), Error = Infallible> + Clone>>,
    Kept,
) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&kept);
    let layer = layer.acknowledge(service_fn(move |event: RecallEvent| {
        sink.lock().unwrap().push(event);
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    (layer, kept)
}

#[tokio::test]
async fn acknowledge_mode_hands_the_event_over_and_answers_ok() {
    let (layer, kept) = keeping(layer());
    let (answer, recorder) = send(&layer, post(QUERY, full(EVENT))).await;
    answer.assert_ok_ack();
    assert_eq!(recorder.calls(), 0, "the inner service was called");
    assert_eq!(*kept.lock().unwrap(), [documented_event()]);

    // Other requests still reach the inner service.
    let (answer, recorder) = send(&layer, post("x=1", full(""))).await;
    answer.assert_inner();
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn acknowledge_mode_reports_a_handler_failure_without_its_error() {
    let failing = service_fn(|_event: RecallEvent| async {
        Err::<(), _>(std::io::Error::other("database is down; token=xxxxyyyy"))
    });
    let layer = signed_layer().acknowledge(failing);
    let query = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let (answer, recorder) = send(&layer, post(&query, full(EVENT))).await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the recall handler failed",
    );
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn acknowledge_mode_still_refuses_bad_callbacks() {
    let (layer, kept) = keeping(layer());
    let (answer, recorder) = send(&layer, post(QUERY, full("{}"))).await;
    answer.assert_fail(
        StatusCode::BAD_REQUEST,
        "invalid body: missing field `GroupId` at line 1 column 2",
    );
    assert_eq!(recorder.calls(), 0);
    assert!(kept.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Secrets, and what the types promise

#[test]
fn debug_never_shows_a_token() {
    let secrets = ["super-secret-token", "previous-secret-token"];
    let common = RecallLayer::new([APP], secrets).unwrap();
    let builder = RecallLayer::builder()
        .signed_app(APP, secrets)
        .unsigned_app(OPEN)
        .allow_unsigned_apps();
    let built = builder.clone().build().unwrap();
    let service = common.layer(());
    let acknowledging = common.clone().acknowledge(service_fn(|_: RecallEvent| {
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    let texts = [
        format!("{common:?}"),
        format!("{common:#?}"),
        format!("{builder:?}"),
        format!("{built:?}"),
        format!("{built:#?}"),
        format!("{service:?}"),
        format!("{:?}", acknowledging.layer(())),
    ];
    for text in texts {
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(!text.contains(&sign(secrets[0], NOW)), "{text}");
    }
}

#[tokio::test]
async fn the_response_future_debug_shows_its_step_and_no_secret() {
    let mut service = signed_layer().layer(Recorder::default());
    let signed = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let cases = [
        (Request::new(full("not a callback")), "inner service"),
        (post(QUERY, full(EVENT)), "answer"),
        (post(&signed, full(EVENT)), "reading the body"),
    ];
    for (request, step) in cases {
        let future = ServiceExt::<Request<Full<Bytes>>>::ready(&mut service)
            .await
            .unwrap()
            .call(request);
        let text = format!("{future:?}");
        assert_eq!(text, format!("ResponseFuture {{ step: {step:?}, .. }}"));
    }
}

#[tokio::test]
async fn the_inner_service_can_be_taken_back() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let mut service = layer().layer(service_fn(move |_: Request<RequestBody<Full<Bytes>>>| {
        counted.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok::<_, Infallible>(Response::new(full(""))))
    }));
    let _ = service.get_mut();
    let _ = service.get_ref();
    let inner = service.into_inner();
    inner
        .oneshot(Request::new(RequestBody::new(full(""))))
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let body = RequestBody::new(full("x"))
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, "x");
}

// The service and its future can be used by axum (`Send + Sync` service, `Send` future) and by
// hyper with its own body type, in both modes: checked when the tests compile, never run.
const _: fn() = || {
    use tower::util::BoxCloneSyncService;
    use tower_tim_recall::Recall;

    fn service<S, R>()
    where
        S: Service<R> + Send + Sync + Clone + 'static,
        S::Future: Send,
    {
    }
    type Inner<B> = BoxCloneSyncService<Request<RequestBody<B>>, Response<Full<Bytes>>, Infallible>;
    type Handler = BoxCloneSyncService<RecallEvent, (), tower::BoxError>;

    service::<Recall<Inner<hyper::body::Incoming>>, Request<hyper::body::Incoming>>();
    service::<Recall<Inner<axum::body::Body>>, Request<axum::body::Body>>();
    service::<Recall<Inner<axum::body::Body>, Acknowledge<Handler>>, Request<axum::body::Body>>();
    service::<
        Recall<Inner<hyper::body::Incoming>, Acknowledge<Handler>>,
        Request<hyper::body::Incoming>,
    >();
};
