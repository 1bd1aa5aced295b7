//! The whole service, driven through `oneshot`, with any of its settings (signed or not,
//! guarded or not, the recall kinds it takes, the mode): any method, query and body chunks get
//! an answer (never a panic, never an error), with a status from the decision table; the inner
//! service is called exactly when the answer is its own, and every refusal is a `FAIL`
//! acknowledgement whose `ErrorCode` is the status.
#![no_main]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arbitrary::Arbitrary;
use bytes::Bytes;
use http::{Method, Request, Uri};
use http_body::SizeHint;
use libfuzzer_sys::fuzz_target;
use tower::{service_fn, Layer, ServiceExt};
use tower_tim_recall::testing::sign;
use tower_tim_recall::{AcceptedRecall, Ack, RecallKind, RecallLayer};

use support::bodies::{End, Script};
use support::fixtures::{at, APP, EVENT, NOW, OFFICIAL_ACCOUNT, ONE_TO_ONE, TOKEN};
use support::{complete, Answer, Recorder};

#[derive(Arbitrary, Debug)]
struct Input {
    method: Verb,
    parameters: Vec<Parameter>,
    chunks: Vec<Chunk>,
    fails: bool,
    hint: Option<u32>,
    signed: bool,
    acknowledge: bool,
    guard: bool,
    /// Which recall kinds the layer takes, one bit each (none means all).
    recalls: u8,
    limit: u16,
}

#[derive(Arbitrary, Debug)]
enum Verb {
    Post,
    Get,
    Put,
    Other(u8),
}

/// One query parameter; either side may be percent-encoded byte by byte (once: nesting the
/// encoding would grow the query exponentially).
#[derive(Arbitrary, Debug)]
struct Parameter {
    name: Name,
    escape_name: bool,
    value: Value,
    escape_value: bool,
}

#[derive(Arbitrary, Debug)]
enum Name {
    CallbackCommand,
    SdkAppid,
    Sign,
    RequestTime,
    Contenttype,
    ClientIp,
    OptPlatform,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    None,
    Command,
    OneToOneCommand,
    OfficialAccountCommand,
    OtherCommand,
    App,
    OtherApp,
    Now,
    GoodSign,
    Json,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Chunk {
    Event,
    OneToOne,
    OfficialAccount,
    Bytes(Vec<u8>),
}

fn escape(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

impl Name {
    fn text(&self) -> String {
        match self {
            Name::CallbackCommand => "CallbackCommand".into(),
            Name::SdkAppid => "SdkAppid".into(),
            Name::Sign => "Sign".into(),
            Name::RequestTime => "RequestTime".into(),
            Name::Contenttype => "contenttype".into(),
            Name::ClientIp => "ClientIP".into(),
            Name::OptPlatform => "OptPlatform".into(),
            Name::Text(text) => text.clone(),
        }
    }
}

impl Value {
    fn text(&self) -> Option<String> {
        Some(match self {
            Value::None => return None,
            Value::Command => RecallKind::Group.command().into(),
            Value::OneToOneCommand => RecallKind::OneToOne.command().into(),
            Value::OfficialAccountCommand => RecallKind::OfficialAccount.command().into(),
            Value::OtherCommand => "State.StateChange".into(),
            Value::App => APP.to_string(),
            Value::OtherApp => (APP + 1).to_string(),
            Value::Now => NOW.to_string(),
            Value::GoodSign => sign(TOKEN, NOW),
            Value::Json => "json".into(),
            Value::Text(text) => text.clone(),
        })
    }
}

fuzz_target!(|input: Input| {
    let query: Vec<String> = input
        .parameters
        .iter()
        .map(|parameter| {
            let mut name = parameter.name.text();
            if parameter.escape_name {
                name = escape(&name);
            }
            match parameter.value.text() {
                Some(value) if parameter.escape_value => format!("{name}={}", escape(&value)),
                Some(value) => format!("{name}={value}"),
                None => name,
            }
        })
        .collect();
    let Ok(uri) = Uri::try_from(format!("/im/callback?{}", query.join("&"))) else {
        return;
    };
    let method = match input.method {
        Verb::Post => Method::POST,
        Verb::Get => Method::GET,
        Verb::Put => Method::PUT,
        Verb::Other(n) => Method::from_bytes(format!("X{n}").as_bytes()).unwrap(),
    };
    let chunks: Vec<Bytes> = input
        .chunks
        .into_iter()
        .map(|chunk| match chunk {
            Chunk::Event => Bytes::from_static(EVENT.as_bytes()),
            Chunk::OneToOne => Bytes::from_static(ONE_TO_ONE.as_bytes()),
            Chunk::OfficialAccount => Bytes::from_static(OFFICIAL_ACCOUNT.as_bytes()),
            Chunk::Bytes(bytes) => Bytes::from(bytes),
        })
        .collect();
    let mut hint = SizeHint::new();
    if let Some(lower) = input.hint {
        hint.set_lower(u64::from(lower));
    }
    let end = if input.fails { End::Fail } else { End::Finish };
    let body = Script::frames(chunks, end).hinted(hint);
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;

    let recalls: Vec<RecallKind> = RecallKind::ALL
        .iter()
        .enumerate()
        .filter(|(bit, _)| input.recalls & (1 << bit) != 0)
        .map(|(_, &kind)| kind)
        .collect();
    let mut builder = RecallLayer::builder()
        .body_limit(usize::from(input.limit))
        .clock(|| at(NOW));
    if !recalls.is_empty() {
        builder = builder.recalls(recalls);
    }
    if input.guard {
        builder = builder.guard_other_commands();
    }
    let layer = if input.signed {
        builder.signed_app(APP, [TOKEN])
    } else {
        builder.unsigned_app(APP).allow_unsigned_apps()
    }
    .build()
    .expect("a valid configuration");
    let recorder = Recorder::default();
    let handled = Arc::new(AtomicUsize::new(0));
    let response = if input.acknowledge {
        let counted = Arc::clone(&handled);
        let service = layer
            .acknowledge(service_fn(move |_accepted: AcceptedRecall| {
                counted.fetch_add(1, Ordering::SeqCst);
                std::future::ready(Ok::<_, Infallible>(()))
            }))
            .layer(recorder.clone());
        complete(service.oneshot(request)).expect("the layer never fails")
    } else {
        let service = layer.layer(recorder.clone());
        complete(service.oneshot(request)).expect("the layer never fails")
    };
    let answer = complete(Answer::read(response));

    let calls = recorder.calls();
    let handled = handled.load(Ordering::SeqCst);
    assert!(calls <= 1 && handled <= 1 && calls + handled <= 1);
    if calls == 1 {
        answer.assert_inner();
        return;
    }
    if handled == 1 {
        answer.assert_ok_ack();
        return;
    }
    assert!(
        [400, 401, 403, 405, 413].contains(&answer.status.as_u16()),
        "unexpected status {}",
        answer.status
    );
    let ack: Ack =
        serde_json::from_slice(&answer.body).expect("the layer answers with an acknowledgement");
    assert!(!ack.error_info().is_empty());
    answer.assert_fail(answer.status, ack.error_info());
});
