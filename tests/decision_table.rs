//! The decision table of the crate documentation ("What the layer answers"), row by row and in
//! its order, for each of the three recall callbacks, through the public API and
//! `tower::ServiceExt::oneshot`: each refusal with its status and its exact reason, each one
//! decided before the body is read where the table says so, and the edges of every rule. The
//! guard's rows, for the other commands, are in `guard.rs`.

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
    AcceptedRecall, Acknowledge, HandlerError, Platform, RecallEvent, RecallKind, RecallLayer,
    RequestBody, SdkAppId, UnixMillis, VerifiedCallback,
};

use support::bodies::{End, Script, Unread, UNREAD};
use support::fixtures::*;
use support::requests::{full, post, request};
use support::{accepted, refused, refused_unread, send, sign_text, streamed, Answer, Recorder};

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

/// Each recall callback: its kind, its documented query and its documented body.
fn recalls() -> [(RecallKind, String, &'static str); 3] {
    [
        (RecallKind::Group, QUERY.to_owned(), EVENT),
        (
            RecallKind::OneToOne,
            query_of(RecallKind::OneToOne),
            ONE_TO_ONE,
        ),
        (
            RecallKind::OfficialAccount,
            query_of(RecallKind::OfficialAccount),
            OFFICIAL_ACCOUNT,
        ),
    ]
}

/// The `CallbackCommand` parameter of `kind`.
fn command_of(kind: RecallKind) -> String {
    format!("CallbackCommand={}", kind.command())
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// The documented query with `extra` appended.
fn query_with(extra: &str) -> String {
    format!("{QUERY}{extra}")
}

/// The documented query signed at `time` with the right token.
fn signed_at(time: u64) -> String {
    query_with(&format!("&RequestTime={time}&Sign={}", sign(TOKEN, time)))
}

/// Sends a request of each kind whose body must not be read, with its documented query and
/// `extra`, through the signed layer, and expects a 401 with `reason`.
async fn unauthorized(extra: &str, reason: &str) {
    for (_, query, _) in recalls() {
        let query = format!("{query}{extra}");
        refused_unread(&signed_layer(), &query, StatusCode::UNAUTHORIZED, reason).await;
    }
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
async fn requests_without_a_recall_command_pass_through_untouched() {
    for uri in [
        "/",
        "/im/callback",
        "/im/callback?",
        "/im/callback?SdkAppid=1400000000",
        "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg",
        "/im/callback?SdkAppid=1&CallbackCommand=State.StateChange&Sign=x",
        "/im/callback?CallbackCommand=group.callbackafterrecallmsg",
        "/im/callback?callbackcommand=Group.CallbackAfterRecallMsg",
        "/im/callback?CallbackCommand=Group.CallbackAfterRecallMsgX",
        "/im/callback?CallbackCommand=C2C.CallbackAfterMsgWithdraw",
        "/im/callback?CallbackCommand=C2C.CallbackBeforeMsgWithDraw",
        "/im/callback?CallbackCommand=OfficialAccount.CallbackAfterMsgWithDraw%20",
        "/im/callback?CallbackCommand",
    ] {
        for method in [Method::POST, Method::GET, Method::PUT] {
            passes_untouched(&layer(), method, uri).await;
        }
    }
}

/// Sends `method` `uri` with a body that is no JSON, and checks that the inner service got
/// the request as it was sent, without an event or a verified context.
async fn passes_untouched(layer: &RecallLayer, method: Method, uri: &'static str) {
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
        assert!(request.extensions().get::<VerifiedCallback>().is_none());
        inner.clone().oneshot(request)
    });
    let response = layer.layer(checking).oneshot(request).await.unwrap();
    Answer::read(response).await.assert_inner();
    let seen = recorder.seen();
    assert_eq!(seen.calls, 1, "{method} {uri}");
    assert_eq!(seen.body, "not json at all");
}

#[tokio::test]
async fn a_recall_the_layer_does_not_take_passes_through_untouched() {
    let layer = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .recalls([RecallKind::OneToOne, RecallKind::OfficialAccount])
        .build()
        .unwrap();
    passes_untouched(
        &layer,
        Method::GET,
        "/im/callback?SdkAppid=1&CallbackCommand=Group.CallbackAfterRecallMsg",
    )
    .await;
    passes_untouched(
        &layer,
        Method::POST,
        "/im/callback?CallbackCommand=Group.CallbackAfterRecallMsg",
    )
    .await;
    // The kinds it takes, it takes.
    for (kind, query, body) in recalls().into_iter().skip(1) {
        assert_eq!(accept(&layer, &query, full(body)).await.kind(), kind);
    }
    // The first recall command it takes decides, wherever it is; a second is still refused.
    let query = format!("{}&{QUERY}", command_of(RecallKind::OneToOne));
    let reason = "CallbackCommand is repeated";
    refused_unread(&layer, &query, StatusCode::BAD_REQUEST, reason).await;
}

#[test]
fn a_passthrough_body_is_streamed_not_collected() {
    for query in [
        "CallbackCommand=Group.CallbackAfterSendMsg&SdkAppid=1",
        "a=b",
        "",
    ] {
        let extensions = streamed(&layer(), query);
        assert!(extensions.get::<RecallEvent>().is_none(), "{query}");
    }
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
// Row: a recall command with another method

#[tokio::test]
async fn a_recall_command_must_be_posted() {
    for (_, query, _) in recalls() {
        for method in [
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
            Method::PATCH,
            Method::from_bytes(b"X-HOSTILE").unwrap(),
        ] {
            let request = request(method, &query, UNREAD);
            let reason = "callbacks must be sent with POST";
            refused(&layer(), request, StatusCode::METHOD_NOT_ALLOWED, reason).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Row: SdkAppid

#[tokio::test]
async fn sdk_app_id_must_be_one_allowed_decimal_integer() {
    for &kind in RecallKind::ALL {
        let command = command_of(kind);
        let cases = [
            (command.clone(), "SdkAppid is missing"),
            (
                format!("{command}&sdkappid=1400000000"),
                "SdkAppid is missing",
            ),
            (
                format!("{command}&SdkAppid="),
                "SdkAppid is not a decimal integer",
            ),
            (
                format!("{command}&SdkAppid=14e8"),
                "SdkAppid is not a decimal integer",
            ),
            (
                format!("{command}&SdkAppid=-1400000000"),
                "SdkAppid is not a decimal integer",
            ),
            (
                format!("{command}&SdkAppid=%FF%FE"),
                "SdkAppid is not a decimal integer",
            ),
            (
                format!("{command}&SdkAppid=1400000000&SdkAppid=1400000000"),
                "SdkAppid is repeated",
            ),
            (
                format!("{command}&SdkAppid={STRANGER}"),
                "SdkAppid is not allowed",
            ),
            (format!("{command}&SdkAppid=0"), "SdkAppid is not allowed"),
        ];
        for (query, reason) in cases {
            refused_unread(&layer(), &query, StatusCode::FORBIDDEN, reason).await;
        }
    }
}

#[tokio::test]
async fn every_allowed_app_is_accepted() {
    for (kind, _, body) in recalls() {
        for app in [APP, SECOND_APP] {
            let query = format!("SdkAppid={app}&{}", command_of(kind));
            let event = accept(&layer(), &query, full(body)).await;
            assert_eq!(event.context().sdk_app_id, SdkAppId::new(app));
            assert_eq!(event.kind(), kind);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Row: the signature

const TOO_OLD: &str = "RequestTime is too old";
const AHEAD: &str = "RequestTime is too far in the future";

#[tokio::test]
async fn tencent_documentation_vector_is_accepted() {
    for (kind, query, body) in recalls() {
        let query = format!("{query}&RequestTime={NOW}&Sign={DOC_SIGN}");
        let event = accept(&signed_layer(), &query, full(body)).await;
        assert_eq!(event.context().request_time, Some(NOW), "{kind}");
    }
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
            TOO_OLD,
        ),
        (
            format!("&RequestTime={ahead}&Sign={}", sign(TOKEN, ahead)),
            AHEAD,
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
    // The largest and the smallest times there are, well spelled: only outside the window.
    let max = u64::MAX;
    unauthorized(
        &format!("&RequestTime={max}&Sign={}", sign(TOKEN, max)),
        AHEAD,
    )
    .await;
    unauthorized(&format!("&RequestTime=0&Sign={}", sign(TOKEN, 0)), TOO_OLD).await;
}

#[tokio::test]
async fn both_bounds_are_sixty_seconds_by_default() {
    let layer = signed_layer();
    for at in [NOW - 60, NOW, NOW + 60] {
        let event = accept(&layer, &signed_at(at), full(EVENT)).await;
        assert_eq!(event.context().request_time, Some(at));
    }
    let old = post(&signed_at(NOW - 61), UNREAD);
    refused(&layer, old, StatusCode::UNAUTHORIZED, TOO_OLD).await;
    let ahead = post(&signed_at(NOW + 61), UNREAD);
    refused(&layer, ahead, StatusCode::UNAUTHORIZED, AHEAD).await;
}

/// A clock that reads `head` the first time (the head's check) and `body` after (when the
/// body is complete).
fn head_then_body(head: u64, body: u64) -> impl Fn() -> std::time::SystemTime + Send + Sync {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    move || {
        at(
            if calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                head
            } else {
                body
            },
        )
    }
}

#[tokio::test]
async fn the_window_holds_until_the_body_is_complete() {
    // Signed 10 s before the head arrives: the window (60 s) ends 50 s after the head.
    for (later, answer) in [
        (0, None),
        (50, None),
        (51, Some(TOO_OLD)),
        (3600, Some(TOO_OLD)),
    ] {
        for (_, query, body) in recalls() {
            let time = NOW - 10;
            let query = format!("{query}&RequestTime={time}&Sign={}", sign(TOKEN, time));
            let layer = RecallLayer::builder()
                .signed_app(APP, [TOKEN])
                .clock(head_then_body(NOW, NOW + later))
                .build()
                .unwrap();
            match answer {
                None => {
                    let event = accept(&layer, &query, full(body)).await;
                    assert_eq!(event.context().request_time, Some(time));
                }
                Some(reason) => {
                    let request = post(&query, full(body));
                    refused(&layer, request, StatusCode::UNAUTHORIZED, reason).await;
                }
            }
        }
    }
    // An unsigned app has no window.
    let unsigned = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .clock(head_then_body(NOW, NOW + 3600))
        .build()
        .unwrap();
    accept(&unsigned, QUERY, full(EVENT)).await;
}

#[tokio::test]
async fn each_bound_is_exact_on_its_own_and_the_reason_names_it() {
    for (age, ahead) in [
        (0, 0),
        (1, 1),
        (60, 60),
        (300, 0),
        (0, 300),
        (59, 1),
        (1, 59),
    ] {
        let layer = signed()
            .max_age(secs(age))
            .max_ahead(secs(ahead))
            .build()
            .unwrap();
        for at in [NOW - age, NOW + ahead] {
            let event = accept(&layer, &signed_at(at), full(EVENT)).await;
            assert_eq!(event.context().request_time, Some(at));
        }
        let old = post(&signed_at(NOW - age - 1), UNREAD);
        refused(&layer, old, StatusCode::UNAUTHORIZED, TOO_OLD).await;
        let early = post(&signed_at(NOW + ahead + 1), UNREAD);
        refused(&layer, early, StatusCode::UNAUTHORIZED, AHEAD).await;
    }
}

#[tokio::test]
async fn fractions_of_a_second_are_dropped_from_each_bound() {
    // 1.9 s is a bound of one second.
    let layer = signed()
        .max_age(Duration::from_millis(1900))
        .max_ahead(Duration::from_millis(1900))
        .build()
        .unwrap();
    for at in [NOW - 1, NOW + 1] {
        accept(&layer, &signed_at(at), full(EVENT)).await;
    }
    refused(
        &layer,
        post(&signed_at(NOW - 2), UNREAD),
        StatusCode::UNAUTHORIZED,
        TOO_OLD,
    )
    .await;
    refused(
        &layer,
        post(&signed_at(NOW + 2), UNREAD),
        StatusCode::UNAUTHORIZED,
        AHEAD,
    )
    .await;
}

#[tokio::test]
async fn unbounded_windows_do_not_overflow() {
    // The receiver's clock at the epoch, now, and far past anything `RequestTime` can say.
    for clock in [0, NOW, i64::MAX as u64 / 2] {
        let layer = RecallLayer::builder()
            .signed_app(APP, [TOKEN])
            .max_age(Duration::MAX)
            .max_ahead(Duration::MAX)
            .clock(move || at(clock))
            .build()
            .unwrap();
        for time in [0, 1, NOW, u64::MAX] {
            accept(&layer, &signed_at(time), full(EVENT)).await;
        }
    }
    // One bound unbounded leaves the other one whole.
    let layer = signed()
        .max_age(Duration::MAX)
        .max_ahead(secs(0))
        .build()
        .unwrap();
    accept(&layer, &signed_at(0), full(EVENT)).await;
    let early = post(&signed_at(NOW + 1), UNREAD);
    refused(&layer, early, StatusCode::UNAUTHORIZED, AHEAD).await;
    let layer = signed()
        .max_age(secs(0))
        .max_ahead(Duration::MAX)
        .build()
        .unwrap();
    accept(&layer, &signed_at(u64::MAX), full(EVENT)).await;
    let old = post(&signed_at(NOW - 1), UNREAD);
    refused(&layer, old, StatusCode::UNAUTHORIZED, TOO_OLD).await;
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
    for &kind in RecallKind::ALL {
        let query = format!("SdkAppid=1&{}", command_of(kind));
        let reason = "SdkAppid is not allowed";
        refused_unread(&signed_layer(), &query, StatusCode::FORBIDDEN, reason).await;
    }
}

#[tokio::test]
async fn without_a_token_signature_parameters_are_ignored() {
    for (_, query, body) in recalls() {
        let query = format!("{query}&RequestTime=garbage&Sign=garbage");
        let event = accept(&layer(), &query, full(body)).await;
        assert_eq!(event.context().request_time, None);
    }
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
            let event = recorder.event().unwrap();
            assert_eq!(event.context().sdk_app_id, SdkAppId::new(app));
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
    assert_eq!(event.context().request_time, None);
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
    for (kind, query, _) in recalls() {
        let repeated = "CallbackCommand is repeated";
        let cases = [
            (
                format!("{query}&CallbackCommand=State.StateChange"),
                repeated,
            ),
            (
                format!("CallbackCommand=State.StateChange&{query}"),
                repeated,
            ),
            (format!("{query}&{}", command_of(kind)), repeated),
            // Two recall commands: which one the body is would be a guess.
            (
                format!("{query}&{COMMAND}&{}", command_of(RecallKind::OneToOne)),
                repeated,
            ),
            (
                query.replace("contenttype=json", "contenttype=xml"),
                "contenttype is not json",
            ),
            (
                query.replace("contenttype=json", "contenttype=json&contenttype=json"),
                "contenttype is repeated",
            ),
        ];
        for (query, reason) in cases {
            refused_unread(&layer(), &query, StatusCode::BAD_REQUEST, reason).await;
        }
        // The signature is checked before the shape: an unsigned request with a bad shape is
        // a 401.
        let query = format!("{query}&CallbackCommand=State.StateChange");
        let reason = "RequestTime is missing";
        refused_unread(&signed_layer(), &query, StatusCode::UNAUTHORIZED, reason).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Row: the number of messages, with `max_messages` set

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

// ---------------------------------------------------------------------------------------------
// Row: the size of the body

const TOO_LARGE: &str = "body is larger than the limit";

/// `body` padded with spaces to exactly `len` bytes.
fn padded(body: &str, len: usize) -> Vec<u8> {
    let mut body = body.as_bytes().to_vec();
    assert!(len >= body.len());
    body.resize(len, b' ');
    body
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let limit = 1024;
    let layer = unsigned_layer(limit);
    for (_, query, _) in recalls() {
        let mut request = post(&query, UNREAD);
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (limit + 1).into());
        refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).await;
        // Over the limit by the body's own size hint, as a body of known length tells it.
        refused(
            &layer,
            post(&query, Unread(Some(limit as u64 + 1))),
            StatusCode::PAYLOAD_TOO_LARGE,
            TOO_LARGE,
        )
        .await;
        // After the query's shape: a bad shape with a large body is a 400.
        let mut request = post(&format!("{query}&contenttype=xml"), Unread(Some(1 << 30)));
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (1u64 << 30).into());
        let reason = "contenttype is repeated";
        refused(&layer, request, StatusCode::BAD_REQUEST, reason).await;
    }
}

#[tokio::test]
async fn a_body_that_knows_its_length_is_judged_by_it() {
    // hyper's body knows its length from `Content-Length`, so the two agree; where they do
    // not, the body's own length is what will be read.
    let limit = 1024;
    let layer = unsigned_layer(limit);
    let mut request = post(QUERY, Unread(Some(limit as u64 + 1)));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, 10.into());
    refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).await;
    let mut request = post(QUERY, full(EVENT));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (limit + 1).into());
    accepted(&layer, request).await;
}

#[tokio::test]
async fn the_limit_is_exact_with_or_without_content_length() {
    let limit = 1000;
    let layer = unsigned_layer(limit);
    for (kind, query, event) in recalls() {
        for (len, declared) in [
            (limit, true),
            (limit, false),
            (limit + 1, true),
            (limit + 1, false),
        ] {
            let body = padded(event, len);
            let mut request = post(
                &query,
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
                assert_eq!(recorder.event().unwrap().kind(), kind);
            } else {
                answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
                assert_eq!(recorder.calls(), 0);
            }
        }
    }
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    for (_, query, _) in recalls() {
        // 100 bytes a frame, forever, without Content-Length.
        let endless = Script::repeat(&[b' '; 100], usize::MAX, End::Finish);
        let (answer, recorder) = send(&unsigned_layer(10_000), post(&query, endless)).await;
        answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        assert_eq!(recorder.calls(), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Row: the body is not a recall event

const MISMATCH: &str = "the body's CallbackCommand is not the query's";

/// Sends each `(query, body)` and expects a 400 with its reason, the inner service not called.
async fn refused_bodies_of(cases: &[(&str, &str, &str)]) {
    for (query, body, reason) in cases {
        let (answer, recorder) = send(&layer(), post(query, full(body.to_string()))).await;
        answer.assert_fail(StatusCode::BAD_REQUEST, reason);
        assert_eq!(recorder.calls(), 0, "{body}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_event_of_its_kind_is_refused() {
    // Every rule of every kind's body, in the table the parser's unit tests read too: the layer
    // and `RecallEvent::parse` refuse the same bodies with the same words.
    let table = refused_bodies();
    assert_eq!(table.len(), 40);
    for (kind, body, reason) in table {
        refused_bodies_of(&[(&query_of(kind), body, reason)]).await;
    }
    // And what the table cannot hold: an empty body, a control character.
    refused_bodies_of(&[
        (QUERY, "", "body is not a JSON object"),
        (QUERY, "{\"GroupId\":\"\u{1}\"", "invalid body: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 13"),
    ])
    .await;
}

#[tokio::test]
async fn a_body_of_another_command_is_refused_for_it() {
    // Every body under every other kind's query: refused for its command, not for the fields
    // it lacks. A group body under the one-to-one command among them.
    for (kind, query, _) in recalls() {
        for (other, _, body) in recalls() {
            if other != kind {
                refused_bodies_of(&[(&query, body, MISMATCH)]).await;
            }
        }
    }
    // A body of the right kind but another command.
    let body = ONE_TO_ONE.replace("C2C.CallbackAfterMsgWithDraw", "C2C.CallbackBeforeSendMsg");
    refused_bodies_of(&[(&query_of(RecallKind::OneToOne), &body, MISMATCH)]).await;
}

#[tokio::test]
async fn a_body_that_fails_mid_stream_is_refused() {
    // Even when what arrived before the failure is a whole event: the body was not complete.
    for (_, query, event) in recalls() {
        for frames in [&br#"{"GroupId":"#[..], event.as_bytes()] {
            let body = Script::frames([Bytes::copy_from_slice(frames)], End::Fail);
            let (answer, recorder) = send(&layer(), post(&query, body)).await;
            answer.assert_fail(StatusCode::BAD_REQUEST, "body could not be read");
            assert_eq!(recorder.calls(), 0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Row: valid, forward mode

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

// ---------------------------------------------------------------------------------------------
// Row: valid, acknowledge mode

/// A layer in acknowledge mode whose handler keeps every accepted recall it gets.
type Kept = Arc<Mutex<Vec<AcceptedRecall>>>;

fn keeping(
    layer: RecallLayer,
) -> (
    RecallLayer<
        Acknowledge<impl Service<AcceptedRecall, Response = (), Error = Infallible> + Clone>,
    >,
    Kept,
) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&kept);
    let layer = layer.acknowledge(service_fn(move |accepted: AcceptedRecall| {
        sink.lock().unwrap().push(accepted);
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    (layer, kept)
}

#[tokio::test]
async fn acknowledge_mode_hands_the_event_and_the_body_over_and_answers_ok() {
    let (layer, kept) = keeping(layer());
    for (kind, body, expected) in documented_bodies() {
        let body = Bytes::from_static(body.as_bytes());
        let request = post(&query_of(kind), Full::new(body.clone()));
        let (answer, recorder) = send(&layer, request).await;
        answer.assert_ok_ack();
        assert_eq!(recorder.calls(), 0, "the inner service was called");
        let accepted = kept.lock().unwrap().pop().unwrap();
        assert_eq!(accepted.event, expected);
        // The raw body, for fields the crate does not model: the bytes read, not a copy.
        assert_eq!(accepted.body, body);
        assert_eq!(accepted.body.as_ptr(), body.as_ptr());
    }

    // Other requests still reach the inner service.
    let (answer, recorder) = send(&layer, post("x=1", full(""))).await;
    answer.assert_inner();
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn acknowledge_mode_reports_a_handler_failure_without_its_error() {
    let failing = service_fn(|_accepted: AcceptedRecall| async {
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
async fn acknowledge_mode_answers_the_reason_a_handler_error_names() {
    /// A handler's own error, whose source names the reason; its message is never shown.
    #[derive(Debug)]
    struct StoreDown(HandlerError);
    impl std::fmt::Display for StoreDown {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("redis://:hunter2@10.0.0.5 refused")
        }
    }
    impl std::error::Error for StoreDown {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    const UNAVAILABLE: HandlerError = HandlerError::new("recall store unavailable");

    let query = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let named = service_fn(|_accepted: AcceptedRecall| async { Err::<(), _>(UNAVAILABLE) });
    let (answer, recorder) = send(
        &signed_layer().acknowledge(named),
        post(&query, full(EVENT)),
    )
    .await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "recall store unavailable",
    );
    assert_eq!(recorder.calls(), 0);

    let wrapped =
        service_fn(|_accepted: AcceptedRecall| async { Err::<(), _>(StoreDown(UNAVAILABLE)) });
    let (answer, _) = send(
        &signed_layer().acknowledge(wrapped),
        post(&query, full(EVENT)),
    )
    .await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "recall store unavailable",
    );
}

#[tokio::test]
async fn acknowledge_mode_still_refuses_bad_callbacks() {
    let (layer, kept) = keeping(layer());
    let (answer, recorder) = send(&layer, post(QUERY, full("{}"))).await;
    answer.assert_fail(
        StatusCode::BAD_REQUEST,
        "invalid body: missing field `GroupId` at line 1 column 2",
    );
    let c2c = post(&query_of(RecallKind::OneToOne), full(EVENT));
    let (mismatch, _) = send(&layer, c2c).await;
    mismatch.assert_fail(StatusCode::BAD_REQUEST, MISMATCH);
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
    let acknowledging = common.clone().acknowledge(service_fn(|_: AcceptedRecall| {
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
    type Handler = BoxCloneSyncService<AcceptedRecall, (), tower::BoxError>;

    service::<Recall<Inner<hyper::body::Incoming>>, Request<hyper::body::Incoming>>();
    service::<Recall<Inner<axum::body::Body>>, Request<axum::body::Body>>();
    service::<Recall<Inner<axum::body::Body>, Acknowledge<Handler>>, Request<axum::body::Body>>();
    service::<
        Recall<Inner<hyper::body::Incoming>, Acknowledge<Handler>>,
        Request<hyper::body::Incoming>,
    >();
};
