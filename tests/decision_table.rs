//! The decision table, row by row, driven through `tower::ServiceExt::oneshot`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, ServiceBuilder, ServiceExt};

use crate::protocol::event::tests::{documented_event, DOCUMENTED};
use crate::{
    sign, Ack, Platform, RecallEvent, RecallLayer, RequestBody, ResponseBody, SdkAppId, UnixMillis,
    RECALL_COMMAND,
};

const APP: u64 = 1_400_000_000;
const TOKEN: &str = "xxxxyyyy";
const NOW: u64 = 1_669_872_112;
const DOC_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";
const QUERY: &str = "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg\
                     &contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI";
const EVENT: &str = DOCUMENTED;

// ---------------------------------------------------------------------------------------------
// Test bodies

/// A body that must never be read: reading it fails the test. It may know its length, as
/// hyper's body does from `Content-Length`.
struct Untouchable(Option<u64>);

/// An unread body of unknown length.
const UNREAD: Untouchable = Untouchable(None);

impl Body for Untouchable {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        panic!("the layer read a body it should not have read")
    }

    fn size_hint(&self) -> SizeHint {
        self.0.map(SizeHint::with_exact).unwrap_or_default()
    }
}

/// A body made of given chunks, each ready at once, with no size hint; then, optionally, an
/// error or a stall.
struct Chunks {
    chunks: VecDeque<Bytes>,
    end: End,
    polls: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
enum End {
    Finish,
    Fail,
    Stall,
}

impl Chunks {
    fn new<I: IntoIterator<Item = &'static [u8]>>(chunks: I, end: End) -> Self {
        Self {
            chunks: chunks.into_iter().map(Bytes::from_static).collect(),
            end,
            polls: Arc::default(),
        }
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match self.end {
            End::Finish => Poll::Ready(None),
            End::Fail => Poll::Ready(Some(Err(std::io::Error::other("connection reset")))),
            End::Stall => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

fn full(body: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(body.into())
}

// ---------------------------------------------------------------------------------------------
// The inner service and how requests are sent

/// What the inner service saw of one request.
#[derive(Debug, Default, Clone)]
struct Seen {
    calls: usize,
    event: Option<RecallEvent>,
    body: Bytes,
    first_chunk_ptr: Option<usize>,
}

/// An inner service that records what it receives, reads the whole body, and answers 200 with
/// a body of its own (`inner`), so that a test can tell its answers from the layer's.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

impl Recorder {
    fn seen(&self) -> Seen {
        self.0.lock().unwrap().clone()
    }

    fn service<B>(
        &self,
    ) -> impl tower::Service<
        Request<RequestBody<B>>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
           + Send
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Debug,
    {
        let seen = Arc::clone(&self.0);
        service_fn(move |request: Request<RequestBody<B>>| {
            let seen = Arc::clone(&seen);
            async move {
                let event = request.extensions().get::<RecallEvent>().cloned();
                let mut body = std::pin::pin!(request.into_body());
                let mut bytes = Vec::new();
                let mut first_chunk_ptr = None;
                while let Some(frame) = body.frame().await {
                    let data = frame.expect("body error").into_data().unwrap_or_default();
                    first_chunk_ptr.get_or_insert(data.as_ptr() as usize);
                    bytes.extend_from_slice(&data);
                }
                let mut seen = seen.lock().unwrap();
                seen.calls += 1;
                seen.event = event;
                seen.body = bytes.into();
                seen.first_chunk_ptr = first_chunk_ptr;
                Ok::<_, Infallible>(Response::new(full("inner")))
            }
        })
    }
}

fn layer() -> RecallLayer {
    RecallLayer::new([APP, 1_400_000_001])
}

fn signed_layer() -> RecallLayer {
    layer()
        .token(TOKEN)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

fn post<B>(query: &str, body: B) -> Request<B> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/im/callback?{query}"))
        .body(body)
        .unwrap()
}

fn signed_query(extra: &str) -> String {
    format!("{QUERY}{extra}")
}

/// The answer, with its body read.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    body: Bytes,
}

impl Answer {
    async fn read<B>(response: Response<ResponseBody<B>>) -> Self
    where
        B: Body<Data = Bytes>,
        B::Error: std::fmt::Debug,
    {
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Self {
            status,
            content_type,
            body,
        }
    }

    /// Asserts that this is the layer's FAIL acknowledgement with `status`, and returns its
    /// `ErrorInfo`.
    fn assert_fail(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "body: {:?}", self.body);
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        let ack: Ack = serde_json::from_slice(&self.body).expect("a JSON acknowledgement");
        assert!(!ack.is_ok());
        assert_eq!(ack.error_code(), i64::from(status.as_u16()));
        assert!(!ack.error_info().is_empty());
        let text = String::from_utf8(self.body.to_vec()).unwrap();
        assert!(!text.contains(TOKEN), "the answer leaks the token");
        assert!(!text.contains(DOC_SIGN), "the answer leaks the signature");
        ack.error_info().to_owned()
    }

    fn assert_inner(&self) {
        assert_eq!(self.status, StatusCode::OK);
        assert_eq!(self.body, "inner");
    }
}

/// Sends one request through `layer` in front of a fresh recorder.
async fn send<B>(layer: &RecallLayer, request: Request<B>) -> (Answer, Seen)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let recorder = Recorder::default();
    let service = ServiceBuilder::new()
        .layer(layer.clone())
        .service(recorder.service::<B>());
    let response = service.oneshot(request).await.unwrap();
    (Answer::read(response).await, recorder.seen())
}

/// Sends a request whose body must not be read, and expects the layer to refuse it.
async fn refused(layer: &RecallLayer, request: Request<Untouchable>, status: StatusCode) -> String {
    let (answer, seen) = send(layer, request).await;
    assert_eq!(seen.calls, 0, "the inner service was called");
    answer.assert_fail(status)
}

// ---------------------------------------------------------------------------------------------
// Row: not ours

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
            let inner = recorder.service::<Full<Bytes>>();
            let checking = service_fn(move |request: Request<RequestBody<Full<Bytes>>>| {
                assert_eq!(request.uri(), uri);
                assert_eq!(request.headers()["x-check"], "kept");
                assert!(request.extensions().get::<RecallEvent>().is_none());
                inner.clone().oneshot(request)
            });
            let response = layer().layer_into(checking).oneshot(request).await.unwrap();
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
    let body = Chunks::new([&b"first chunk"[..]], End::Stall);
    let polls = Arc::clone(&body.polls);
    let inner = service_fn(|request: Request<RequestBody<Chunks>>| async move {
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
        layer().layer_into(inner).oneshot(request),
    )
    .await
    .expect("the layer waited for the end of a passthrough body")
    .unwrap();
    let answer = Answer::read(response).await;
    assert_eq!(answer.body, "first chunk");
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
        .layer_into(inner)
        .oneshot(post("a=b", full("")))
        .await
        .unwrap();
    assert_eq!(response.headers()["x-inner"], "yes");
    let answer = Answer::read(response).await;
    assert_eq!(answer.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(answer.body, "teapot");
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
    ] {
        let request = Request::builder()
            .method(method)
            .uri(format!("/im/callback?{QUERY}"))
            .body(UNREAD)
            .unwrap();
        refused(&layer(), request, StatusCode::METHOD_NOT_ALLOWED).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Row: SdkAppid

#[tokio::test]
async fn sdk_app_id_must_be_one_allowed_decimal_integer() {
    let cases = [
        ("CallbackCommand=Group.CallbackAfterRecallMsg", "missing"),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&sdkappid=1400000000",
            "missing",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=",
            "decimal",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=14e8",
            "decimal",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=-1400000000",
            "decimal",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=%FF%FE",
            "decimal",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=1400000000&SdkAppid=1400000000",
            "repeated",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=1400000002",
            "not allowed",
        ),
        (
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=0",
            "not allowed",
        ),
    ];
    for (query, reason) in cases {
        let info = refused(&layer(), post(query, UNREAD), StatusCode::FORBIDDEN).await;
        assert!(info.contains(reason), "{query}: {info}");
    }
}

#[tokio::test]
async fn every_allowed_app_is_accepted() {
    for app in [APP, 1_400_000_001] {
        let query = format!("SdkAppid={app}&CallbackCommand={RECALL_COMMAND}");
        let (answer, seen) = send(&layer(), post(&query, full(EVENT))).await;
        answer.assert_inner();
        assert_eq!(seen.event.unwrap().sdk_app_id, SdkAppId::new(app));
    }
}

// ---------------------------------------------------------------------------------------------
// Row: signature

/// Sends a callback with `extra` appended to the query through the signed layer, expects a 401
/// without the body read, and returns its `ErrorInfo`.
async fn unauthorized(extra: &str) -> String {
    let query = signed_query(extra);
    refused(
        &signed_layer(),
        post(&query, UNREAD),
        StatusCode::UNAUTHORIZED,
    )
    .await
}

#[tokio::test]
async fn tencent_documentation_vector_is_accepted() {
    let query = signed_query(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let (answer, seen) = send(&signed_layer(), post(&query, full(EVENT))).await;
    answer.assert_inner();
    assert_eq!(seen.event.unwrap().request_time, Some(NOW));
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_before_the_body_is_read() {
    let stale = NOW - 61;
    let future = NOW + 61;
    let cases = [
        String::new(),
        format!("&RequestTime={NOW}"),
        format!("&Sign={DOC_SIGN}"),
        format!("&RequestTime={NOW}&Sign={}", &DOC_SIGN[..63]),
        format!("&RequestTime={NOW}&Sign={}", "z".repeat(64)),
        format!("&RequestTime={NOW}&Sign="),
        format!("&RequestTime=&Sign={DOC_SIGN}"),
        format!("&RequestTime=0{NOW}&Sign={DOC_SIGN}"),
        format!("&RequestTime=%2B{NOW}&Sign={DOC_SIGN}"),
        format!("&RequestTime=-1&Sign={DOC_SIGN}"),
        format!("&RequestTime=18446744073709551616&Sign={DOC_SIGN}"),
        format!("&RequestTime={NOW}&RequestTime={NOW}&Sign={DOC_SIGN}"),
        format!("&RequestTime={NOW}&Sign={DOC_SIGN}&Sign={DOC_SIGN}"),
        format!("&RequestTime={stale}&Sign={}", sign(TOKEN, stale)),
        format!("&RequestTime={future}&Sign={}", sign(TOKEN, future)),
        format!("&RequestTime={}&Sign={DOC_SIGN}", NOW + 1),
        format!("&RequestTime={NOW}&Sign={}", sign("another token", NOW)),
    ];
    for extra in cases {
        let info = unauthorized(&extra).await;
        assert!(
            info.contains("Sign") || info.contains("RequestTime"),
            "{extra}: {info}"
        );
    }
}

#[tokio::test]
async fn the_time_window_is_configurable_and_inclusive() {
    let layer = signed_layer().time_window(Duration::from_secs(300));
    for at in [NOW - 300, NOW + 300] {
        let query = signed_query(&format!("&RequestTime={at}&Sign={}", sign(TOKEN, at)));
        let (answer, _) = send(&layer, post(&query, full(EVENT))).await;
        answer.assert_inner();
    }
    let at = NOW - 301;
    let query = signed_query(&format!("&RequestTime={at}&Sign={}", sign(TOKEN, at)));
    refused(&layer, post(&query, UNREAD), StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_app_is_checked_before_the_signature() {
    let query = format!("SdkAppid=1&CallbackCommand={RECALL_COMMAND}");
    refused(&signed_layer(), post(&query, UNREAD), StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn without_a_token_signature_parameters_are_ignored() {
    let query = signed_query("&RequestTime=garbage&Sign=garbage");
    let (answer, seen) = send(&layer(), post(&query, full(EVENT))).await;
    answer.assert_inner();
    assert_eq!(seen.event.unwrap().request_time, None);
}

#[tokio::test]
async fn request_time_edge_cases_are_refused_without_panic() {
    let cases = [
        "18446744073709551615".to_owned(),
        "18446744073709551616".to_owned(),
        "-1".to_owned(),
        "+60".to_owned(),
        "%2B60".to_owned(),
        format!("%2B{NOW}"),
        format!("0{NOW}"),
        "01669872112".to_owned(),
        "1".repeat(30),
        String::new(),
        "%00".to_owned(),
        format!("{NOW}.0"),
    ];
    for time in cases {
        // Signed as Tencent would sign the text, so that only the time itself is at fault.
        let decoded: String = form_urlencoded::parse(format!("t={time}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap();
        let signature = sign_text(TOKEN, &decoded);
        let info = unauthorized(&format!("&RequestTime={time}&Sign={signature}")).await;
        assert!(info.contains("RequestTime"), "{time:?}: {info}");
    }
}

/// `hex(SHA-256(token ‖ text))` for any `RequestTime` text, even one `sign` cannot produce.
fn sign_text(token: &str, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(token)
        .chain_update(text)
        .finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn sign_text_agrees_with_sign() {
    assert_eq!(sign_text(TOKEN, &NOW.to_string()), DOC_SIGN);
}

#[tokio::test]
async fn the_window_edge_is_accepted_and_one_second_beyond_is_not_both_ways() {
    for window in [0, 1, 60, 300] {
        let layer = signed_layer().time_window(Duration::from_secs(window));
        for at in [NOW - window, NOW + window] {
            let query = signed_query(&format!("&RequestTime={at}&Sign={}", sign(TOKEN, at)));
            let (answer, seen) = send(&layer, post(&query, full(EVENT))).await;
            answer.assert_inner();
            assert_eq!(seen.event.unwrap().request_time, Some(at));
        }
        for at in [NOW - window - 1, NOW + window + 1] {
            let query = signed_query(&format!("&RequestTime={at}&Sign={}", sign(TOKEN, at)));
            let info = refused(&layer, post(&query, UNREAD), StatusCode::UNAUTHORIZED).await;
            assert!(info.contains("time window"), "{window} {at}: {info}");
        }
    }
    // Fractions of a second are dropped: 1.9 s is a window of one second.
    let layer = signed_layer().time_window(Duration::from_millis(1900));
    let at = NOW + 2;
    let query = signed_query(&format!("&RequestTime={at}&Sign={}", sign(TOKEN, at)));
    refused(&layer, post(&query, UNREAD), StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_unbounded_window_does_not_overflow() {
    // The receiver's clock at the epoch, now, and far past anything `RequestTime` can say.
    for clock in [0, NOW, i64::MAX as u64 / 2] {
        let layer = layer()
            .token(TOKEN)
            .time_window(Duration::MAX)
            .clock(move || UNIX_EPOCH + Duration::from_secs(clock));
        for at in [0, 1, NOW, u64::MAX] {
            let query = signed_query(&format!("&RequestTime={at}&Sign={}", sign(TOKEN, at)));
            let (answer, _) = send(&layer, post(&query, full(EVENT))).await;
            answer.assert_inner();
        }
    }
}

#[tokio::test]
async fn upper_case_hex_sign_is_accepted_and_malformed_signs_are_not() {
    for spelling in [DOC_SIGN.to_ascii_uppercase(), {
        // Mixed case: each digit is read on its own.
        let mut mixed = DOC_SIGN.to_owned();
        mixed.replace_range(..8, &DOC_SIGN[..8].to_ascii_uppercase());
        mixed
    }] {
        let query = signed_query(&format!("&RequestTime={NOW}&Sign={spelling}"));
        let (answer, _) = send(&signed_layer(), post(&query, full(EVENT))).await;
        answer.assert_inner();
    }
    let cases = [
        DOC_SIGN[..62].to_owned(),
        format!("{DOC_SIGN}00"),
        format!("{}G", &DOC_SIGN[..63]),
        format!("{}%20", &DOC_SIGN[..63]),
        format!("0x{}", &DOC_SIGN[..62]),
        format!("{}%C3%A9", &DOC_SIGN[..62]),
        DOC_SIGN.repeat(100),
    ];
    for bad in cases {
        let info = unauthorized(&format!("&RequestTime={NOW}&Sign={bad}")).await;
        assert!(info.contains("64 hexadecimal"), "{bad}: {info}");
    }
}

// ---------------------------------------------------------------------------------------------
// Several apps, several tokens

const PRODUCTION: u64 = APP;
const STAGING: u64 = 1_400_000_001;
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
        .build()
        .unwrap()
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

fn query_for(app: u64, token: Option<&str>) -> String {
    let mut query = format!("SdkAppid={app}&CallbackCommand={RECALL_COMMAND}&contenttype=json");
    if let Some(token) = token {
        query.push_str(&format!("&RequestTime={NOW}&Sign={}", sign(token, NOW)));
    }
    query
}

/// Sends a callback for `app`, signed with `token`, through `layer`; returns the status, and
/// checks that neither a token nor the signature is in the answer.
async fn status_for(layer: &RecallLayer, app: u64, token: Option<&str>) -> StatusCode {
    let query = query_for(app, token);
    let (answer, seen) = send(layer, post(&query, full(EVENT))).await;
    let text = String::from_utf8(answer.body.to_vec()).unwrap();
    for secret in [CURRENT, PREVIOUS, STAGING_TOKEN, "third-token", TOKEN] {
        assert!(!text.contains(secret), "{text}");
    }
    if let Some(token) = token {
        assert!(!text.contains(&sign(token, NOW)), "{text}");
    }
    if answer.status == StatusCode::OK {
        answer.assert_inner();
        assert_eq!(seen.event.unwrap().sdk_app_id, SdkAppId::new(app));
    } else {
        answer.assert_fail(answer.status);
        assert_eq!(seen.calls, 0);
    }
    answer.status
}

#[tokio::test]
async fn each_app_accepts_its_own_tokens_only() {
    let layer = per_app_layer();
    let ok = StatusCode::OK;
    let no = StatusCode::UNAUTHORIZED;
    let cases = [
        (PRODUCTION, Some(CURRENT), ok),
        (PRODUCTION, Some(PREVIOUS), ok),
        (PRODUCTION, Some(STAGING_TOKEN), no),
        (PRODUCTION, Some("third-token"), no),
        (PRODUCTION, None, no),
        (STAGING, Some(STAGING_TOKEN), ok),
        (STAGING, Some(CURRENT), no),
        (STAGING, Some(PREVIOUS), no),
        (STAGING, None, no),
        // The unsigned app needs no signature, and ignores one.
        (OPEN, None, ok),
        (OPEN, Some("anything"), ok),
        (1_400_000_003, Some(CURRENT), StatusCode::FORBIDDEN),
    ];
    for (app, token, expected) in cases {
        assert_eq!(
            status_for(&layer, app, token).await,
            expected,
            "{app} {token:?}"
        );
    }
}

#[tokio::test]
async fn an_unsigned_app_ignores_sign_and_request_time() {
    let query = format!("{}&RequestTime=garbage&Sign=garbage", query_for(OPEN, None));
    let (answer, seen) = send(&per_app_layer(), post(&query, full(EVENT))).await;
    answer.assert_inner();
    assert_eq!(seen.event.unwrap().request_time, None);
}

#[tokio::test]
async fn rotation_in_the_short_form() {
    let layer = layer()
        .tokens([CURRENT, PREVIOUS])
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    for app in [APP, 1_400_000_001] {
        assert_eq!(status_for(&layer, app, Some(CURRENT)).await, StatusCode::OK);
        assert_eq!(
            status_for(&layer, app, Some(PREVIOUS)).await,
            StatusCode::OK
        );
        assert_eq!(
            status_for(&layer, app, Some("third-token")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // Dropping the old token is a new layer with one token, not a second call on this one.
    let layer = self::layer()
        .token(CURRENT)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    assert_eq!(status_for(&layer, APP, Some(CURRENT)).await, StatusCode::OK);
    assert_eq!(
        status_for(&layer, APP, Some(PREVIOUS)).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn token_on_a_builder_layer_of_unsigned_apps_signs_them() {
    let layer = RecallLayer::builder()
        .unsigned_app(OPEN)
        .allow_unsigned_apps()
        .build()
        .unwrap()
        .token(CURRENT)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    assert_eq!(
        status_for(&layer, OPEN, Some(CURRENT)).await,
        StatusCode::OK
    );
    assert_eq!(
        status_for(&layer, OPEN, None).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_per_app_layer_keeps_the_decision_order() {
    let layer = per_app_layer();
    // Method before app, app before signature, signature before the query's shape and the body.
    let get = Request::builder()
        .method(Method::GET)
        .uri(format!("/?{}", query_for(1, None)))
        .body(UNREAD)
        .unwrap();
    refused(&layer, get, StatusCode::METHOD_NOT_ALLOWED).await;
    let query = format!("{}&contenttype=xml", query_for(PRODUCTION, Some("wrong")));
    refused(&layer, post(&query, UNREAD), StatusCode::UNAUTHORIZED).await;
    let query = format!("{}&contenttype=xml", query_for(PRODUCTION, Some(CURRENT)));
    refused(&layer, post(&query, UNREAD), StatusCode::BAD_REQUEST).await;
    let query = format!("{}&contenttype=xml", query_for(OPEN, None));
    refused(&layer, post(&query, UNREAD), StatusCode::BAD_REQUEST).await;
}

// ---------------------------------------------------------------------------------------------
// Row: body size

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
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/im/callback?{QUERY}"))
        .header(header::CONTENT_LENGTH, limit + 1)
        .body(UNREAD)
        .unwrap();
    refused(
        &layer().body_limit(limit),
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
}

#[tokio::test]
async fn a_size_hint_over_the_limit_is_refused_before_reading() {
    let (answer, seen) = send(
        &layer().body_limit(100),
        post(QUERY, Untouchable(Some(101))),
    )
    .await;
    assert_eq!(seen.calls, 0);
    answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn exactly_the_limit_is_accepted_and_one_more_byte_is_not() {
    let limit = 1024;
    let layer = layer().body_limit(limit);
    for (len, declared) in [
        (limit, true),
        (limit, false),
        (limit + 1, true),
        (limit + 1, false),
    ] {
        let body: &'static [u8] = Box::leak(event_of_len(len).into_boxed_slice());
        // Without Content-Length and without a size hint, in small chunks.
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(format!("/im/callback?{QUERY}"));
        if declared {
            builder = builder.header(header::CONTENT_LENGTH, len);
        }
        let request = builder
            .body(Chunks::new(body.chunks(100), End::Finish))
            .unwrap();
        let (answer, seen) = send(&layer, request).await;
        if len <= limit {
            answer.assert_inner();
            assert_eq!(seen.body.len(), len);
        } else {
            assert_eq!(seen.calls, 0);
            answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE);
        }
    }
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    // 100 bytes a chunk, forever, without Content-Length.
    struct Endless(usize);
    impl Body for Endless {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.0 += 1;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[b' '; 100])))))
        }
    }
    let (answer, _) = send(&layer().body_limit(10_000), post(QUERY, Endless(0))).await;
    answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE);
}

// ---------------------------------------------------------------------------------------------
// Row: the body is not a recall event

#[tokio::test]
async fn a_body_that_is_not_a_recall_event_is_refused() {
    let cases: [(&str, &str); 12] = [
        ("", "not a JSON object"),
        ("not json", "not a JSON object"),
        ("[]", "not a JSON object"),
        ("{", "invalid body"),
        (
            r#"{"GroupId":"g","MsgSeqList":[]} trailing"#,
            "invalid body",
        ),
        (r#"{"GroupId":"g","MsgSeqList":[]}{}"#, "invalid body"),
        (r#"{"MsgSeqList":[{"MsgSeq":1}]}"#, "GroupId"),
        (r#"{"GroupId":"g"}"#, "MsgSeqList"),
        (r#"{"GroupId":7,"MsgSeqList":[]}"#, "invalid type"),
        (
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":"x"}]}"#,
            "invalid type",
        ),
        (
            r#"{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g","MsgSeqList":[]}"#,
            "Group.CallbackAfterRecallMsg",
        ),
        (
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1}],"EventTime":"yesterday"}"#,
            "invalid value",
        ),
    ];
    for (body, reason) in cases {
        let (answer, seen) = send(&layer(), post(QUERY, full(body))).await;
        assert_eq!(seen.calls, 0, "{body}");
        let info = answer.assert_fail(StatusCode::BAD_REQUEST);
        assert!(info.contains(reason), "{body}: {info}");
    }
}

#[tokio::test]
async fn a_body_that_fails_mid_stream_is_refused() {
    // Even when what arrived before the failure is a whole event: the body was not complete.
    for chunks in [&br#"{"GroupId":"#[..], EVENT.as_bytes()] {
        let body = Chunks::new([chunks], End::Fail);
        let (answer, seen) = send(&layer(), post(QUERY, body)).await;
        assert_eq!(seen.calls, 0);
        let info = answer.assert_fail(StatusCode::BAD_REQUEST);
        assert_eq!(info, "body could not be read");
    }
}

#[tokio::test]
async fn query_shape_errors_are_refused_before_reading() {
    for query in [
        format!("{QUERY}&CallbackCommand=Group.CallbackAfterSendMsg"),
        format!("CallbackCommand=Group.CallbackAfterSendMsg&{QUERY}"),
        QUERY.replace("contenttype=json", "contenttype=xml"),
    ] {
        refused(&layer(), post(&query, UNREAD), StatusCode::BAD_REQUEST).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Row: valid, forward mode

#[tokio::test]
async fn a_valid_callback_reaches_the_inner_service_with_its_event_and_body() {
    let body = Bytes::from_static(EVENT.as_bytes());
    let (answer, seen) = send(&layer(), post(QUERY, Full::new(body.clone()))).await;
    answer.assert_inner();
    assert_eq!(seen.calls, 1);
    assert_eq!(seen.body, EVENT);
    // The inner service reads the very bytes the layer read: no copy.
    assert_eq!(seen.first_chunk_ptr, Some(body.as_ptr() as usize));
    assert_eq!(seen.event, Some(documented_event()));
}

#[tokio::test]
async fn a_body_in_many_chunks_is_joined_once() {
    let chunks: Vec<&'static [u8]> = EVENT.as_bytes().chunks(7).collect();
    let (answer, seen) = send(&layer(), post(QUERY, Chunks::new(chunks, End::Finish))).await;
    answer.assert_inner();
    assert_eq!(seen.body, EVENT);
    assert_eq!(seen.event.unwrap().group_id, "@TGS#_@TGS#cQVLVHIM62CJ");
}

#[tokio::test]
async fn event_time_is_read_as_a_number_or_a_string() {
    let as_string = EVENT.replace("1670574414123", "\"1670574414123\"");
    for body in [EVENT.to_owned(), as_string] {
        let (answer, seen) = send(&layer(), post(QUERY, full(body))).await;
        answer.assert_inner();
        assert_eq!(
            seen.event.unwrap().event_time,
            Some(UnixMillis::new(1_670_574_414_123))
        );
    }
}

#[tokio::test]
async fn query_values_are_percent_decoded() {
    let query = "SdkAppid=%31400000000&CallbackCommand=Group%2ECallbackAfterRecallMsg\
                 &OptPlatform=i%4FS&ClientIP=%3A%3A1&contenttype=JSON";
    let (answer, seen) = send(&layer(), post(query, full(EVENT))).await;
    answer.assert_inner();
    let event = seen.event.unwrap();
    assert_eq!(event.sdk_app_id, SdkAppId::new(APP));
    assert_eq!(event.platform, Some(Platform::Ios));
    assert_eq!(event.client_ip, Some("::1".parse().unwrap()));
}

#[tokio::test]
async fn the_oldest_documented_body_is_accepted() {
    let body = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u","Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}],"Unknown":{"x":[1]}}"#;
    let (answer, seen) = send(
        &layer(),
        post(
            "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=1400000000",
            full(body),
        ),
    )
    .await;
    answer.assert_inner();
    let event = seen.event.unwrap();
    assert_eq!(event.messages.len(), 2);
    assert_eq!(event.topic_id, None);
    assert_eq!(event.client_ip, None);
    assert_eq!(event.platform, None);
}

#[tokio::test]
async fn the_ready_inner_service_is_the_one_called() {
    // `ConcurrencyLimit` panics when called without a successful `poll_ready`: the layer must
    // call the instance it made ready, not a fresh clone.
    let recorder = Recorder::default();
    let service = ServiceBuilder::new()
        .layer(layer())
        .concurrency_limit(1)
        .service(recorder.service::<Full<Bytes>>());
    let response = service.oneshot(post(QUERY, full(EVENT))).await.unwrap();
    Answer::read(response).await.assert_inner();
    assert_eq!(recorder.seen().calls, 1);
}

// ---------------------------------------------------------------------------------------------
// Row: valid, acknowledge mode

#[tokio::test]
async fn acknowledge_mode_hands_the_event_over_and_answers_ok() {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    let layer = layer().acknowledge_fn(move |event: RecallEvent| {
        let sink = Arc::clone(&sink);
        async move { sink.lock().unwrap().push(event) }
    });
    let recorder = Recorder::default();
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(recorder.service::<Full<Bytes>>());
    let response = service
        .clone()
        .oneshot(post(QUERY, full(EVENT)))
        .await
        .unwrap();
    let answer = Answer::read(response).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        answer.body,
        r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
    );
    assert_eq!(recorder.seen().calls, 0, "the inner service was called");
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].group_id, "@TGS#_@TGS#cQVLVHIM62CJ");

    // Other requests still reach the inner service.
    let response = service.oneshot(post("x=1", full(""))).await.unwrap();
    Answer::read(response).await.assert_inner();
    assert_eq!(recorder.seen().calls, 1);
}

#[tokio::test]
async fn acknowledge_mode_takes_a_tower_service_and_reports_its_failure() {
    let failing = service_fn(|_event: RecallEvent| async {
        Err::<(), _>(std::io::Error::other("database is down; token=xxxxyyyy"))
    });
    let service = ServiceBuilder::new()
        .layer(
            layer()
                .token(TOKEN)
                .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
                .acknowledge(failing),
        )
        .service(Recorder::default().service::<Full<Bytes>>());
    let query = signed_query(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let response = service.oneshot(post(&query, full(EVENT))).await.unwrap();
    let info = Answer::read(response)
        .await
        .assert_fail(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !info.contains("database"),
        "the handler's error is not echoed: {info}"
    );
}

#[tokio::test]
async fn acknowledge_mode_still_refuses_bad_callbacks() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let layer = layer().acknowledge_fn(move |_event| {
        counter.fetch_add(1, Ordering::SeqCst);
        std::future::ready(())
    });
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(Recorder::default().service::<Full<Bytes>>());
    let response = service.oneshot(post(QUERY, full("{}"))).await.unwrap();
    Answer::read(response)
        .await
        .assert_fail(StatusCode::BAD_REQUEST);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn debug_never_shows_a_token() {
    let secrets = ["super-secret-token", "previous-secret-token"];
    let short = layer().tokens(secrets);
    let built = RecallLayer::builder()
        .signed_app(APP, secrets)
        .unsigned_app(OPEN)
        .allow_unsigned_apps();
    let built_layer = built.clone().build().unwrap();
    let service = crate::Recall::new((), &short);
    let acknowledging = short.clone().acknowledge_fn(|_| std::future::ready(()));
    let texts = [
        format!("{short:?}"),
        format!("{short:#?}"),
        format!("{built:?}"),
        format!("{built_layer:?}"),
        format!("{built_layer:#?}"),
        format!("{service:?}"),
        format!("{:?}", crate::Recall::new((), &acknowledging)),
    ];
    for text in texts {
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(!text.contains(&sign(secrets[0], NOW)), "{text}");
    }
}

#[tokio::test]
async fn the_response_future_debug_shows_its_step_and_no_secret() {
    let recorder = Recorder::default();
    let mut service = ServiceBuilder::new()
        .layer(signed_layer())
        .service(recorder.service::<Full<Bytes>>());
    let signed = signed_query(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let cases = [
        (Request::new(full("not a callback")), "inner service"),
        (post(QUERY, full(EVENT)), "answer"),
        (post(&signed, full(EVENT)), "reading the body"),
    ];
    for (request, step) in cases {
        let future = tower::Service::call(service.ready().await.unwrap(), request);
        let text = format!("{future:?}");
        assert_eq!(text, format!("ResponseFuture {{ step: {step:?}, .. }}"));
    }
}

#[test]
#[should_panic(expected = "allowlist is empty")]
fn an_empty_allowlist_is_refused() {
    let _ = RecallLayer::new(Vec::<u64>::new());
}

#[test]
#[should_panic(expected = "token is empty")]
fn an_empty_token_is_refused() {
    let _ = layer().token("");
}

#[test]
#[should_panic(expected = "token is empty")]
fn an_empty_token_in_a_set_is_refused() {
    let _ = layer().tokens(["a token", ""]);
}

#[test]
#[should_panic(expected = "token starts or ends with whitespace")]
fn a_token_with_its_line_break_is_refused() {
    let _ = layer().token("a token read from a file\n");
}

#[test]
#[should_panic(expected = "token set is empty")]
fn an_empty_token_set_is_refused() {
    let _ = layer().tokens(Vec::<String>::new());
}

#[test]
#[should_panic(expected = "the layer already has tokens")]
fn token_on_a_builder_layer_with_signed_apps_is_refused() {
    // It would replace each app's own tokens, and sign the unsigned app, without a word.
    let _ = per_app_layer().token(CURRENT);
}

#[test]
#[should_panic(expected = "the layer already has tokens")]
fn tokens_on_a_builder_layer_with_signed_apps_is_refused() {
    let _ = per_app_layer().tokens([CURRENT, PREVIOUS]);
}

#[test]
#[should_panic(expected = "list every token in one `tokens([..])` call")]
fn a_second_token_call_is_refused() {
    // Meant as a rotation, it would have dropped the first token.
    let _ = layer().token(CURRENT).token(PREVIOUS);
}

#[test]
#[should_panic(expected = "the layer already has tokens")]
fn tokens_after_tokens_is_refused() {
    let _ = layer().tokens([CURRENT]).tokens([PREVIOUS]);
}

#[test]
#[should_panic(expected = "the layer already has tokens")]
fn a_second_token_call_is_refused_on_any_mode() {
    let _ = layer()
        .token(CURRENT)
        .acknowledge_fn(|_| std::future::ready(()))
        .token(PREVIOUS);
}

// The service and its future can be used by axum (`Send + Sync` service, `Send` future) and by
// hyper with its own body type, in both modes: checked when the tests compile, never run.
const _: fn() = || {
    use crate::{Acknowledge, HandlerFn, Recall};
    use tower::util::BoxCloneSyncService;

    fn service<S, R>()
    where
        S: tower::Service<R> + Send + Sync + Clone + 'static,
        S::Future: Send,
    {
    }
    type Inner<B> = BoxCloneSyncService<Request<RequestBody<B>>, Response<Full<Bytes>>, Infallible>;
    type Handler = BoxCloneSyncService<RecallEvent, (), crate::mode::BoxError>;
    type Closure = HandlerFn<fn(RecallEvent) -> std::future::Ready<()>>;

    service::<Recall<Inner<hyper::body::Incoming>>, Request<hyper::body::Incoming>>();
    service::<Recall<Inner<axum::body::Body>>, Request<axum::body::Body>>();
    service::<Recall<Inner<axum::body::Body>, Acknowledge<Handler>>, Request<axum::body::Body>>();
    service::<
        Recall<Inner<hyper::body::Incoming>, Acknowledge<Closure>>,
        Request<hyper::body::Incoming>,
    >();
};

/// `layer.layer(inner)` without naming the `Layer` trait at every call site.
trait LayerInto {
    fn layer_into<S>(&self, inner: S) -> crate::Recall<S>;
}

impl LayerInto for RecallLayer {
    fn layer_into<S>(&self, inner: S) -> crate::Recall<S> {
        crate::Recall::new(inner, self)
    }
}
