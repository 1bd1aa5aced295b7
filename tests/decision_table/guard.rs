//! The guard (`guard_other_commands`): every other command at the callback URL is held to the
//! `SdkAppid` row (403) and the signature row (401) of the decision table, decided from the
//! query with the body unread, and then passed on untouched with its verified context; a
//! request without `CallbackCommand` is never refused. Through the public API and `oneshot`.

use tower_tim_recall::CallbackContext;

use super::*;

/// A guarded layer for [`APP`], unsigned, and [`SECOND_APP`], signed with [`TOKEN`], its clock
/// stopped at [`NOW`].
fn guarded() -> RecallLayer {
    RecallLayer::builder()
        .unsigned_app(APP)
        .signed_app(SECOND_APP, [TOKEN])
        .allow_unsigned_apps()
        .guard_other_commands()
        .clock(|| at(NOW))
        .build()
        .unwrap()
}

/// The query of another command for `app`, as Tencent sends it.
fn other_query(app: u64) -> String {
    format!("SdkAppid={app}&CallbackCommand={STATE_CHANGE}&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI")
}

/// [`other_query`] for [`SECOND_APP`], signed at `time`.
fn signed_other(time: u64) -> String {
    let sign = sign_text(TOKEN, &time.to_string());
    format!("{}&RequestTime={time}&Sign={sign}", other_query(SECOND_APP))
}

/// Sends `request` through the guarded layer and checks that the inner service got it, body
/// whole and untouched, with `verified` and no event; returns what it saw.
async fn passed<B>(
    layer: &RecallLayer,
    request: Request<B>,
    verified: Option<VerifiedCallback>,
) -> Bytes
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let (answer, recorder) = send(layer, request).await;
    answer.assert_inner();
    let seen = recorder.seen();
    assert_eq!(seen.calls, 1);
    assert_eq!(seen.event, None);
    assert_eq!(seen.verified, verified);
    seen.body
}

/// The context the layer verifies for [`other_query`] of `app`.
fn context(app: u64, request_time: Option<u64>) -> CallbackContext {
    let mut context = CallbackContext::new(app);
    context.client_ip = Some("127.0.0.1".parse().unwrap());
    context.platform = Some(Platform::RestApi);
    context.request_time = request_time;
    context
}

// ---------------------------------------------------------------------------------------------
// Another command from an allowed app, correctly signed: passed on, verified

#[tokio::test]
async fn another_command_passes_with_its_verified_context_and_its_body_untouched() {
    let body = "{\"anything\": [1, 2], \"not\": \"a recall\"}";
    let verified = VerifiedCallback::new(STATE_CHANGE, context(APP, None));
    let seen = passed(
        &guarded(),
        post(&other_query(APP), full(body)),
        Some(verified),
    )
    .await;
    assert_eq!(seen, body);
    // Signed, its verified `RequestTime` comes along.
    let verified = VerifiedCallback::new(STATE_CHANGE, context(SECOND_APP, Some(NOW)));
    passed(
        &guarded(),
        post(&signed_other(NOW), full(body)),
        Some(verified),
    )
    .await;
}

#[tokio::test]
async fn no_other_row_applies_to_another_command() {
    // Its method, `contenttype`, size and body are the inner service's business.
    let verified = || Some(VerifiedCallback::new(STATE_CHANGE, context(APP, None)));
    for method in [Method::GET, Method::PUT, Method::HEAD] {
        let request = request(method, &other_query(APP), full(""));
        passed(&guarded(), request, verified()).await;
    }
    let query = other_query(APP).replace("contenttype=json", "contenttype=xml&contenttype=form");
    let mut context = context(APP, None);
    passed(
        &guarded(),
        post(&query, full("<xml/>")),
        Some(VerifiedCallback::new(STATE_CHANGE, context.clone())),
    )
    .await;
    // Larger than the limit, by `Content-Length` and in fact.
    let layer = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .guard_other_commands()
        .body_limit(16)
        .build()
        .unwrap();
    let large = "x".repeat(1000);
    let mut request = post(&other_query(APP), full(large.clone()));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, large.len().into());
    assert_eq!(passed(&layer, request, verified()).await, large);
    // A repeated command is passed on with its first value: only a recall must be unambiguous.
    let query = format!(
        "{}&CallbackCommand=Group.CallbackAfterSendMsg",
        other_query(APP)
    );
    passed(&guarded(), post(&query, full("")), verified()).await;
    // Query parameters are read as for a recall: decoded.
    let query = "%53dkAppid=1400000000&CallbackCommand=State%2EStateChange&ClientIP=%3A%3A1";
    context.client_ip = Some("::1".parse().unwrap());
    context.platform = None;
    let verified = VerifiedCallback::new(STATE_CHANGE, context);
    passed(&guarded(), post(query, full("")), Some(verified)).await;
}

#[test]
fn the_body_of_another_command_is_streamed_not_collected() {
    let extensions = streamed(&guarded(), &other_query(APP));
    let verified = VerifiedCallback::new(STATE_CHANGE, context(APP, None));
    assert_eq!(extensions.get::<VerifiedCallback>(), Some(&verified));
}

// ---------------------------------------------------------------------------------------------
// Another command from an app that is not allowed, or badly signed: refused, body unread

#[tokio::test]
async fn another_command_is_held_to_the_app_row() {
    let command = format!("CallbackCommand={STATE_CHANGE}");
    for (query, reason) in [
        (command.clone(), "SdkAppid is missing"),
        (
            format!("{command}&SdkAppid=x"),
            "SdkAppid is not a decimal integer",
        ),
        (
            format!("{command}&SdkAppid={APP}&SdkAppid={APP}"),
            "SdkAppid is repeated",
        ),
        (other_query(STRANGER), "SdkAppid is not allowed"),
    ] {
        refused(
            &guarded(),
            post(&query, UNREAD),
            StatusCode::FORBIDDEN,
            reason,
        )
        .await;
        // Whatever the method: the app is decided before anything else.
        let get = request(Method::GET, &query, UNREAD);
        refused(&guarded(), get, StatusCode::FORBIDDEN, reason).await;
    }
}

#[tokio::test]
async fn another_command_is_held_to_the_signature_row() {
    let base = other_query(SECOND_APP);
    let doc = DOC_SIGN;
    for (query, reason) in [
        (base.clone(), "RequestTime is missing"),
        (format!("{base}&RequestTime={NOW}"), "Sign is missing"),
        (
            format!("{base}&RequestTime={NOW}&Sign=abc"),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("{base}&RequestTime=x&Sign={doc}"),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            format!("{base}&RequestTime={NOW}&Sign={doc}&Sign={doc}"),
            "Sign is repeated",
        ),
        (signed_other(NOW - 61), "RequestTime is too old"),
        (
            signed_other(NOW + 61),
            "RequestTime is too far in the future",
        ),
        (
            format!("{base}&RequestTime={}&Sign={doc}", NOW + 1),
            "Sign does not match",
        ),
    ] {
        // A body of a size that would be refused for a recall: never looked at.
        let mut request = post(&query, Unread(Some(1 << 30)));
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (1u64 << 30).into());
        refused(&guarded(), request, StatusCode::UNAUTHORIZED, reason).await;
    }
    // The window's edges, as for a recall.
    for time in [NOW - 60, NOW + 60] {
        let verified = VerifiedCallback::new(STATE_CHANGE, context(SECOND_APP, Some(time)));
        passed(
            &guarded(),
            post(&signed_other(time), full("")),
            Some(verified),
        )
        .await;
    }
}

#[tokio::test]
async fn an_empty_or_unknown_command_is_still_a_command() {
    for query in [
        format!("SdkAppid={STRANGER}&CallbackCommand="),
        format!("SdkAppid={STRANGER}&CallbackCommand"),
        format!("SdkAppid={STRANGER}&%43allbackCommand=Anything.AtAll"),
        format!("SdkAppid={STRANGER}&CallbackCommand=group.callbackafterrecallmsg"),
    ] {
        let reason = "SdkAppid is not allowed";
        refused_unread(&guarded(), &query, StatusCode::FORBIDDEN, reason).await;
    }
}

// ---------------------------------------------------------------------------------------------
// No `CallbackCommand`: never refused

#[tokio::test]
async fn a_request_without_callback_command_is_never_refused() {
    for uri in [
        "/",
        "/healthz",
        "/grpc.health.v1.Health/Check",
        "/im/callback",
        "/im/callback?SdkAppid=1400000009",
        "/im/callback?SdkAppid=garbage&Sign=garbage&RequestTime=garbage",
        "/im/callback?callbackcommand=State.StateChange",
        "/im/callback?CallbackCommandX=State.StateChange",
    ] {
        for method in [Method::POST, Method::GET] {
            let request = Request::builder()
                .method(method)
                .uri(uri)
                .body(full("body"))
                .unwrap();
            assert_eq!(passed(&guarded(), request, None).await, "body");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The guard next to the recalls

#[tokio::test]
async fn recalls_keep_their_rows_under_the_guard() {
    // A recall is a recall, guard or not: every row, and its event.
    let (answer, _) = send(&guarded(), request(Method::GET, QUERY, UNREAD)).await;
    answer.assert_fail(
        StatusCode::METHOD_NOT_ALLOWED,
        "callbacks must be sent with POST",
    );
    for (kind, body, expected) in documented_bodies() {
        let (answer, recorder) = send(&guarded(), post(&query_of(kind), full(body))).await;
        answer.assert_inner();
        assert_eq!(recorder.seen().event, Some(expected));
        assert_eq!(recorder.seen().verified, None);
    }
}

#[tokio::test]
async fn a_recall_the_layer_does_not_take_is_guarded_as_another_command() {
    let layer = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .recalls([RecallKind::Group])
        .guard_other_commands()
        .build()
        .unwrap();
    let query = query_of(RecallKind::OneToOne);
    let verified = VerifiedCallback::new(RecallKind::OneToOne.command(), context(APP, None));
    // Not read: passed on as it came, even though it is no valid one-to-one recall.
    passed(&layer, post(&query, full("not json")), Some(verified)).await;
    let stranger = query.replace(&APP.to_string(), &STRANGER.to_string());
    let reason = "SdkAppid is not allowed";
    refused_unread(&layer, &stranger, StatusCode::FORBIDDEN, reason).await;
    // Repeated commands: the first that names a recall the layer takes decides, wherever it
    // is (a recall must be unambiguous: 400); without one, the first value is reported.
    let c2c = format!("CallbackCommand={}", RecallKind::OneToOne.command());
    let both = format!("SdkAppid={APP}&{c2c}&{COMMAND}");
    let reason = "CallbackCommand is repeated";
    refused_unread(&layer, &both, StatusCode::BAD_REQUEST, reason).await;
    let others = format!("SdkAppid={APP}&{c2c}&CallbackCommand={STATE_CHANGE}");
    let verified = VerifiedCallback::new(RecallKind::OneToOne.command(), CallbackContext::new(APP));
    passed(&layer, post(&others, full("")), Some(verified)).await;
}

#[tokio::test]
async fn in_acknowledge_mode_other_commands_reach_the_inner_service_verified() {
    let layer = guarded().acknowledge(service_fn(|_: AcceptedRecall| {
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    let (answer, recorder) = send(&layer, post(&other_query(APP), full("{}"))).await;
    answer.assert_inner();
    let verified = VerifiedCallback::new(STATE_CHANGE, context(APP, None));
    assert_eq!(recorder.seen().verified, Some(verified));
    let (answer, recorder) = send(&layer, post(&other_query(STRANGER), UNREAD)).await;
    answer.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    assert_eq!(recorder.calls(), 0);
    // And a recall is acknowledged by the layer.
    let (answer, recorder) = send(&layer, post(QUERY, full(EVENT))).await;
    answer.assert_ok_ack();
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn without_the_guard_another_command_passes_unverified() {
    let layer = RecallLayer::unsigned([APP]).unwrap();
    for query in [
        other_query(APP),
        other_query(STRANGER),
        format!("{}&Sign=x", other_query(SECOND_APP)),
    ] {
        passed(&layer, post(&query, full("")), None).await;
    }
}
