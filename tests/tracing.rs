//! The `tracing` feature: the spans and events the layer emits, captured by a small subscriber
//! of the test's own.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, ServiceExt};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use tower_tim_recall::{AcceptedRecall, Mode, RecallKind, RecallLayer, RequestBody};

const RECALL_COMMAND: &str = "Group.CallbackAfterRecallMsg";

use support::fixtures::{at, APP, EVENT as DOCUMENTED, NOW};
use support::sign_text;

const TOKEN: &str = "a-token-that-must-stay-secret";
const GROUP: &str = "@TGS#_@TGS#cQVLVHIM62CJ";

fn sign(token: &str, time: u64) -> String {
    sign_text(token, &time.to_string())
}

// ---------------------------------------------------------------------------------------------
// A subscriber that keeps everything it is told

/// What was recorded on one span.
#[derive(Debug, Clone)]
struct SpanRecord {
    name: &'static str,
    level: Level,
    parent: Option<u64>,
    fields: BTreeMap<&'static str, String>,
}

/// One event, with the span it was emitted in.
#[derive(Debug, Clone)]
struct EventRecord {
    level: Level,
    parent: Option<u64>,
    fields: BTreeMap<&'static str, String>,
}

#[derive(Debug, Default)]
struct Captured {
    spans: Vec<SpanRecord>,
    events: Vec<EventRecord>,
    /// Every name and value, as text, in the order recorded: where a secret would show.
    text: String,
    /// The spans entered, innermost last.
    entered: Vec<u64>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Captured>>);

/// The values a span or an event records.
#[derive(Default)]
struct Fields(BTreeMap<&'static str, String>);

impl Fields {
    fn of(record: impl FnOnce(&mut Fields)) -> Self {
        let mut fields = Self::default();
        record(&mut fields);
        fields
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

impl Captured {
    /// Adds `fields` to the text, under `heading`, and returns them.
    fn note(&mut self, heading: &str, fields: Fields) -> BTreeMap<&'static str, String> {
        self.text.push_str(heading);
        for (name, value) in &fields.0 {
            self.text.push_str(&format!(" {name}={value}"));
        }
        self.text.push('\n');
        fields.0
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut captured = self.0.lock().unwrap();
        let parent = match span.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if span.is_contextual() => captured.entered.last().copied(),
            None => None,
        };
        let name = span.metadata().name();
        let fields = captured.note(name, Fields::of(|fields| span.record(fields)));
        captured.spans.push(SpanRecord {
            name,
            level: *span.metadata().level(),
            parent,
            fields,
        });
        Id::from_u64(captured.spans.len() as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut captured = self.0.lock().unwrap();
        let index = usize::try_from(span.into_u64() - 1).unwrap();
        let heading = format!("record {}", captured.spans[index].name);
        let fields = captured.note(&heading, Fields::of(|fields| values.record(fields)));
        captured.spans[index].fields.extend(fields);
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut captured = self.0.lock().unwrap();
        let level = *event.metadata().level();
        let fields = captured.note(level.as_str(), Fields::of(|fields| event.record(fields)));
        captured.events.push(EventRecord {
            level,
            parent: event.parent().map(Id::into_u64),
            fields,
        });
    }

    fn enter(&self, span: &Id) {
        self.0.lock().unwrap().entered.push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut captured = self.0.lock().unwrap();
        assert_eq!(captured.entered.pop(), Some(span.into_u64()));
    }
}

impl Capture {
    fn take(&self) -> Captured {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

// ---------------------------------------------------------------------------------------------
// Driving the layer

fn builder() -> tower_tim_recall::RecallLayerBuilder {
    RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .clock(|| at(NOW))
}

fn signed() -> RecallLayer {
    builder().build().unwrap()
}

/// A signed callback query for `APP`, with `extra` appended.
fn query(time: u64, extra: &str) -> String {
    format!(
        "SdkAppid={APP}&CallbackCommand={RECALL_COMMAND}&contenttype=json\
         &RequestTime={time}&Sign={}{extra}",
        sign(TOKEN, time)
    )
}

fn post(uri: &str, body: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// The documented event, signed now.
fn valid_callback() -> Request<Full<Bytes>> {
    post(&format!("/im/callback?{}", query(NOW, "")), DOCUMENTED)
}

/// Sends `request` through `layer` in front of an inner service that answers 200, with the
/// capturing subscriber as the default; returns the answer's status and body, and what was
/// captured. Checks that no token and no signature were captured.
async fn traced<M: Mode>(
    layer: RecallLayer<M>,
    request: Request<Full<Bytes>>,
) -> (StatusCode, Captured) {
    let capture = Capture::default();
    let signs: Vec<String> = (NOW - 120..=NOW + 120).map(|t| sign(TOKEN, t)).collect();
    let status = {
        let _default = tracing::subscriber::set_default(capture.clone());
        let inner = service_fn(|_: Request<RequestBody<Full<Bytes>>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"inner"))))
        });
        let response = tower::Layer::layer(&layer, inner)
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(!String::from_utf8_lossy(&body).contains(TOKEN));
        status
    };
    let captured = capture.take();
    assert!(!captured.text.contains(TOKEN), "{}", captured.text);
    for sign in &signs {
        assert!(!captured.text.contains(sign.as_str()), "{}", captured.text);
    }
    (status, captured)
}

/// The one `recall_callback` span, and the one event inside it.
fn one_callback(captured: &Captured) -> (&SpanRecord, &EventRecord) {
    assert_eq!(captured.spans.len(), 1, "{captured:#?}");
    assert_eq!(captured.events.len(), 1, "{captured:#?}");
    let span = &captured.spans[0];
    assert_eq!(span.name, "recall_callback");
    assert_eq!(span.level, Level::INFO);
    assert_eq!(span.parent, None);
    let event = &captured.events[0];
    assert_eq!(event.parent, Some(1), "the event is in the callback's span");
    (span, event)
}

fn field<'a>(fields: &'a BTreeMap<&'static str, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(String::as_str)
}

// ---------------------------------------------------------------------------------------------
// The tests

#[tokio::test]
async fn a_forwarded_callback_has_a_span_with_its_app_group_count_and_decision() {
    let request = valid_callback();
    let (status, captured) = traced(signed(), request).await;
    assert_eq!(status, StatusCode::OK);
    let (span, event) = one_callback(&captured);
    assert_eq!(field(&span.fields, "SdkAppid"), Some("1400000000"));
    assert_eq!(field(&span.fields, "GroupId"), Some(GROUP));
    assert_eq!(field(&span.fields, "messages"), Some("1"));
    assert_eq!(field(&span.fields, "decision"), Some("forwarded"));
    assert_eq!(field(&span.fields, "status"), None);
    assert_eq!(event.level, Level::INFO);
    assert_eq!(
        field(&event.fields, "message"),
        Some("recall callback forwarded")
    );
}

#[tokio::test]
async fn each_kind_of_recall_names_its_command_and_counts_its_messages() {
    let cases = [
        (RecallKind::Group, DOCUMENTED, Some(GROUP), "1"),
        (
            RecallKind::OneToOne,
            r#"{"From_Account":"jared","To_Account":"Jonh","MsgKey":"k"}"#,
            None,
            "1",
        ),
        (
            RecallKind::OfficialAccount,
            r#"{"Official_Account":"a","WithdrawMsgList":[{"MsgKey":"k"},{"MsgKey":"l"}]}"#,
            None,
            "2",
        ),
    ];
    for (kind, body, group, messages) in cases {
        let query = query(NOW, "").replace(RECALL_COMMAND, kind.command());
        let (status, captured) =
            traced(signed(), post(&format!("/im/callback?{query}"), body)).await;
        assert_eq!(status, StatusCode::OK);
        let (span, _) = one_callback(&captured);
        assert_eq!(field(&span.fields, "CallbackCommand"), Some(kind.command()));
        assert_eq!(field(&span.fields, "GroupId"), group);
        assert_eq!(field(&span.fields, "messages"), Some(messages));
        assert_eq!(field(&span.fields, "decision"), Some("forwarded"));
    }
}

#[tokio::test]
async fn a_guarded_command_has_a_span_of_its_own() {
    let layer = || builder().guard_other_commands().build().unwrap();
    let other = query(NOW, "").replace(RECALL_COMMAND, "State.StateChange");
    let (status, captured) = traced(layer(), post(&format!("/im/callback?{other}"), "{}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (captured.spans.len(), captured.events.len()),
        (1, 1),
        "{captured:#?}"
    );
    let (span, event) = (&captured.spans[0], &captured.events[0]);
    assert_eq!((span.name, span.level), ("guarded_callback", Level::INFO));
    assert_eq!(
        field(&span.fields, "CallbackCommand"),
        Some("State.StateChange")
    );
    assert_eq!(field(&span.fields, "SdkAppid"), Some("1400000000"));
    assert_eq!(field(&span.fields, "decision"), Some("passed"));
    assert_eq!(field(&span.fields, "status"), None);
    assert_eq!(event.level, Level::INFO);
    assert_eq!(
        field(&event.fields, "message"),
        Some("guarded callback passed")
    );

    // Refused: a warning, as for a recall; the command, any stranger's text until verified,
    // is not recorded.
    let hostile = "x".repeat(30_000);
    let unsigned = format!("/im/callback?SdkAppid=1400000000&CallbackCommand={hostile}");
    let (status, captured) = traced(layer(), post(&unsigned, "{}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!captured.text.contains("xxxx"), "{}", captured.text);
    let (span, event) = (&captured.spans[0], &captured.events[0]);
    assert_eq!(span.name, "guarded_callback");
    assert_eq!(field(&span.fields, "CallbackCommand"), None);
    assert_eq!(field(&span.fields, "decision"), Some("refused"));
    assert_eq!(field(&span.fields, "status"), Some("401"));
    assert_eq!(event.level, Level::WARN);
    assert_eq!(
        field(&event.fields, "reason"),
        Some("RequestTime is missing")
    );
}

#[tokio::test]
async fn an_acknowledged_callback_records_the_answer() {
    let layer = signed().acknowledge(service_fn(|_: AcceptedRecall| {
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    let request = valid_callback();
    let (status, captured) = traced(layer, request).await;
    assert_eq!(status, StatusCode::OK);
    let (span, event) = one_callback(&captured);
    assert_eq!(field(&span.fields, "GroupId"), Some(GROUP));
    assert_eq!(field(&span.fields, "decision"), Some("acknowledged"));
    assert_eq!(field(&span.fields, "status"), Some("200"));
    assert_eq!(event.level, Level::INFO);
}

#[tokio::test]
async fn refusals_are_warnings_with_their_status_and_fixed_reason() {
    let stale = NOW - 61;
    let cases = [
        // Signed with another token.
        (
            format!(
                "SdkAppid={APP}&CallbackCommand={RECALL_COMMAND}&RequestTime={NOW}&Sign={}",
                sign("another-token", NOW)
            ),
            DOCUMENTED,
            Some("1400000000"),
            401,
            "Sign does not match",
        ),
        (
            query(stale, ""),
            DOCUMENTED,
            Some("1400000000"),
            401,
            "RequestTime is too old",
        ),
        (
            query(NOW + 61, ""),
            DOCUMENTED,
            Some("1400000000"),
            401,
            "RequestTime is too far in the future",
        ),
        (
            format!("SdkAppid=7&CallbackCommand={RECALL_COMMAND}"),
            DOCUMENTED,
            Some("7"),
            403,
            "SdkAppid is not allowed",
        ),
        (
            format!("SdkAppid=x&CallbackCommand={RECALL_COMMAND}"),
            DOCUMENTED,
            None,
            403,
            "SdkAppid is not a decimal integer",
        ),
        (
            // The query already says `contenttype=json`.
            query(NOW, "&contenttype=xml"),
            DOCUMENTED,
            Some("1400000000"),
            400,
            "contenttype is repeated",
        ),
        // The parser's message would quote the body: only the fixed reason is logged.
        (
            query(NOW, ""),
            r#"{"GroupId":"secret body text","MsgSeqList":"secret body text"}"#,
            Some("1400000000"),
            400,
            "invalid body",
        ),
        (
            query(NOW, ""),
            "[]",
            Some("1400000000"),
            400,
            "body is not a JSON object",
        ),
    ];
    for (query, body, app, status, reason) in cases {
        let request = post(&format!("/im/callback?{query}"), body);
        let (answered, captured) = traced(signed(), request).await;
        assert_eq!(answered.as_u16(), status, "{query}");
        let (span, event) = one_callback(&captured);
        assert_eq!(field(&span.fields, "SdkAppid"), app, "{query}");
        assert_eq!(field(&span.fields, "decision"), Some("refused"));
        assert_eq!(
            field(&span.fields, "status"),
            Some(status.to_string().as_str())
        );
        assert_eq!(field(&span.fields, "GroupId"), None);
        assert_eq!(event.level, Level::WARN, "{query}");
        assert_eq!(field(&event.fields, "message"), Some("callback refused"));
        assert_eq!(field(&event.fields, "reason"), Some(reason), "{query}");
        assert_eq!(
            field(&event.fields, "status"),
            Some(status.to_string().as_str())
        );
        assert!(
            !captured.text.contains("secret body text"),
            "{}",
            captured.text
        );
    }

    // A body over the limit, known from its size before reading.
    let request = valid_callback();
    let (answered, captured) = traced(builder().body_limit(8).build().unwrap(), request).await;
    assert_eq!(answered, StatusCode::PAYLOAD_TOO_LARGE);
    let (span, event) = one_callback(&captured);
    assert_eq!(field(&span.fields, "status"), Some("413"));
    assert_eq!(event.level, Level::WARN);
}

#[tokio::test]
async fn a_failing_handler_is_an_error_without_its_message() {
    let failing = service_fn(|_: AcceptedRecall| async {
        Err::<(), _>(std::io::Error::other(format!(
            "database down; token={TOKEN}"
        )))
    });
    let layer = signed().acknowledge(failing);
    let request = valid_callback();
    let (status, captured) = traced(layer, request).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (span, event) = one_callback(&captured);
    assert_eq!(field(&span.fields, "GroupId"), Some(GROUP));
    assert_eq!(field(&span.fields, "decision"), Some("failed"));
    assert_eq!(field(&span.fields, "status"), Some("500"));
    assert_eq!(event.level, Level::ERROR);
    assert_eq!(
        field(&event.fields, "reason"),
        Some("the recall handler failed")
    );
    assert!(!captured.text.contains("database"), "{}", captured.text);
}

#[tokio::test]
async fn other_requests_leave_no_trace() {
    for uri in [
        "/".to_owned(),
        "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg".to_owned(),
        format!("/im/callback?x={RECALL_COMMAND}&%41=1"),
    ] {
        let (status, captured) = traced(signed(), post(&uri, DOCUMENTED)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(captured.spans.is_empty(), "{uri}: {captured:#?}");
        assert!(captured.events.is_empty(), "{uri}: {captured:#?}");
        assert!(captured.text.is_empty(), "{uri}: {captured:#?}");
    }
}

#[tokio::test]
async fn the_span_is_a_child_of_the_current_one() {
    let capture = Capture::default();
    {
        let _default = tracing::subscriber::set_default(capture.clone());
        let outer = tracing::info_span!("request");
        let _entered = outer.enter();
        let inner = service_fn(|_: Request<RequestBody<Full<Bytes>>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
        let request = valid_callback();
        // Polled to completion inside the outer span: the layer's span is made in `call`.
        let response = tower::Layer::layer(&signed(), inner)
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let captured = capture.take();
    let spans: Vec<_> = captured
        .spans
        .iter()
        .map(|span| (span.name, span.parent))
        .collect();
    assert_eq!(spans, [("request", None), ("recall_callback", Some(1))]);
}
