//! Heap allocations per request, counted by a global allocator: unlike times, counts are
//! deterministic, so they are pinned exactly. A change that adds an allocation fails here, and
//! so does one that removes one (update the pinned number, and BENCHMARKS.md, with it).
//!
//! Two kinds of check:
//! - what one ordinary request costs: only the allocations made on the test's own thread while
//!   the service handles it are counted (building the request and dropping the response are
//!   outside), with the requests the benchmarks measure;
//! - what hostile input costs: the same request shape with 10 and with 10 000 parameters must
//!   cost the same, and bodies sent in tiny frames must never hold more than the limit allows.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body::Body;
use http_body_util::Full;
use serde::Deserialize;
use tower::{service_fn, Layer, Service, ServiceExt};
use tower_tim_recall::{AcceptedRecall, Ack, RecallKind, RecallLayer, RequestBody};

use support::alloc::{measure, Counting, Usage};
use support::bodies::{End, Script};
use support::bodies_by_hand::{GroupBody, OfficialAccountBody, OneToOneBody};
use support::fixtures::{
    query_of, unsigned_layer, APP, CALLBACK_PATH, COMMAND, EVENT, OFFICIAL_ACCOUNT, ONE_TO_ONE,
    ONE_TO_ONE_ZH, STATE_CHANGE, TOKEN,
};
use support::requests::*;
use support::{complete, sign_text, trivial};

#[global_allocator]
static COUNTING: Counting = Counting;

/// A request through `service`, driven to its answer on this thread, and the allocations it
/// made.
fn call<S, R>(service: S, request: R) -> (S::Response, usize)
where
    S: Service<R>,
    S::Error: std::fmt::Debug,
{
    let (response, usage) = measure(|| complete(service.oneshot(request)).unwrap());
    (response, usage.allocations)
}

/// What `serde_json` alone allocates to parse `body` of `kind` into a struct of its fields.
fn parse_alone(kind: RecallKind, body: &str) -> usize {
    fn parse<'a, T: Deserialize<'a>>(body: &'a str) -> usize {
        let (parsed, usage) = measure(|| serde_json::from_str::<T>(body));
        assert!(parsed.is_ok());
        usage.allocations
    }
    match kind {
        RecallKind::Group => parse::<GroupBody>(body),
        RecallKind::OneToOne => parse::<OneToOneBody>(body),
        RecallKind::OfficialAccount => parse::<OfficialAccountBody>(body),
        _ => unreachable!("a kind this test does not know"),
    }
}

fn layer() -> RecallLayer {
    unsigned_layer(1 << 20)
}

/// The layer for `APP` signed with `TOKEN`, with a window wide enough for the test's run.
fn signed_layer() -> RecallLayer {
    RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .max_age(Duration::from_secs(3600))
        .max_ahead(Duration::from_secs(3600))
        .build()
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What the layer allocates for a valid recall on top of `serde_json`'s parse of its body: the
/// request extensions that carry the event (the map, its table, the boxed event).
const RECALL_EXTRA: usize = 3;

/// What one of the layer's own answers allocates: the `Content-Type` header (the header map's
/// index and entry tables); the `FAIL` JSON of a fixed reason is static.
const ANSWER: usize = 2;

// ---------------------------------------------------------------------------------------------
// One ordinary request

#[test]
fn passthrough_adds_no_allocation() {
    let layered = layer().layer(trivial());
    for uri in [
        OTHER_COMMAND_URI,
        NO_QUERY_URI,
        "/search?q=100%25&ClientIP=%3A%3A1&CallbackCommand=Group.CallbackAfterSendMsg",
    ] {
        let (_, bare) = call(trivial(), post_json(uri, EVENT).map(RequestBody::new));
        let (response, through) = call(layered.clone(), post_json(uri, EVENT));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            bare, 0,
            "{uri}: the trivial inner service allocates nothing"
        );
        assert_eq!(through, bare, "{uri}");
    }
}

/// What the layer allocates for each documented body, in all: pinned, so that a change in the
/// parse shows here too.
const DOCUMENTED: [(RecallKind, &str, usize); 4] = [
    (RecallKind::Group, EVENT, 8),
    (RecallKind::OneToOne, ONE_TO_ONE, 6),
    (RecallKind::OneToOne, ONE_TO_ONE_ZH, 6),
    (RecallKind::OfficialAccount, OFFICIAL_ACCOUNT, 6),
];

#[test]
fn a_valid_recall_allocates_the_parse_and_a_fixed_number_more() {
    let large = large(1000);
    let group = [EVENT, TYPICAL_NO_TOPIC, &large].map(|body| (RecallKind::Group, body));
    let others = DOCUMENTED.map(|(kind, body, _)| (kind, body));
    for (kind, body) in group.into_iter().chain(others) {
        let uri = format!("{CALLBACK_PATH}?{}", query_of(kind));
        let (response, through) = call(layer().layer(trivial()), post_json(&uri, body.to_owned()));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(through, parse_alone(kind, body) + RECALL_EXTRA, "{kind}");
    }
}

#[test]
fn each_documented_recall_allocates_its_pinned_count() {
    for (kind, body, pinned) in DOCUMENTED {
        let uri = format!("{CALLBACK_PATH}?{}", query_of(kind));
        let (response, through) = call(layer().layer(trivial()), post_json(&uri, body));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(through, pinned, "{kind}: {body}");
    }
}

/// What the guard allocates to pass another command on: the command's name and the request
/// extensions that carry the verified context (the map, its table, the boxed context).
const GUARDED_EXTRA: usize = 4;

#[test]
fn a_guarded_command_allocates_its_verified_context_only() {
    let layer = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .guard_other_commands()
        .build()
        .unwrap();
    let layered = layer.layer(trivial());
    let uri =
        format!("{CALLBACK_PATH}?SdkAppid={APP}&CallbackCommand={STATE_CHANGE}&ClientIP=127.0.0.1");
    let (response, through) = call(layered.clone(), post_json(&uri, EVENT));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(through, GUARDED_EXTRA);
    // A request without a command costs the guard nothing.
    for uri in [NO_QUERY_URI, "/search?q=100%25&ClientIP=%3A%3A1"] {
        let (response, through) = call(layered.clone(), post_json(uri, EVENT));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(through, 0, "{uri}");
    }
}

#[test]
fn a_signed_recall_allocates_nothing_more_than_an_unsigned_one() {
    let now = now();
    let request = post_json(&signed_uri(now, &sign_text(TOKEN, &now.to_string())), EVENT);
    let (response, through) = call(signed_layer().layer(trivial()), request);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        through,
        parse_alone(RecallKind::Group, EVENT) + RECALL_EXTRA
    );
}

#[test]
fn acknowledge_mode_allocates_the_parse_and_the_answer() {
    let handler = service_fn(|accepted: AcceptedRecall| {
        drop(accepted);
        std::future::ready(Ok::<_, Infallible>(()))
    });
    let layered = layer().acknowledge(handler).layer(trivial());
    let (response, through) = call(layered, post_json(RECALL_URI, EVENT));
    assert_eq!(response.status(), StatusCode::OK);
    // The `OK` acknowledgement is a static text: only its header is allocated.
    assert_eq!(through, parse_alone(RecallKind::Group, EVENT) + ANSWER);
}

#[test]
fn refusals_decided_before_the_body_allocate_only_the_answer() {
    let now = now();
    let layered = layer().layer(trivial());
    let signed = signed_layer().layer(trivial());
    // A byte over the limit, its `Content-Length` saying so, as hyper's bodies are.
    let too_large = post_json(RECALL_URI, vec![b' '; (1 << 20) + 1]);
    let mut get = post_json(RECALL_URI, EVENT);
    *get.method_mut() = Method::GET;
    let wrong_sign = sign_text("another token", &now.to_string());
    let cases = [
        (
            layered.clone(),
            post_json(OTHER_APP_URI, EVENT),
            StatusCode::FORBIDDEN,
        ),
        (layered.clone(), too_large, StatusCode::PAYLOAD_TOO_LARGE),
        (layered, get, StatusCode::METHOD_NOT_ALLOWED),
        (
            signed.clone(),
            post_json(&signed_uri(now, &wrong_sign), EVENT),
            StatusCode::UNAUTHORIZED,
        ),
        (
            signed,
            post_json(RECALL_URI, EVENT),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (service, request, status) in cases {
        let (response, through) = call(service, request);
        assert_eq!(response.status(), status);
        assert_eq!(through, ANSWER, "{status}");
    }
    // No more than the smallest answer the public API builds: the static `OK`.
    let (_, answer) = measure(|| Ack::ok().into_http_response::<Full<Bytes>>());
    assert_eq!(answer.allocations, ANSWER);
}

// ---------------------------------------------------------------------------------------------
// Hostile input: the same cost for 10 parameters and for 10 000

/// Runs `future` to completion on a single-threaded runtime and reports what it allocated.
fn measure_async<F: Future>(future: F) -> (F::Output, Usage) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    measure(|| runtime.block_on(future))
}

/// Sends `request` through `layer` in front of an inner service that answers 200 with an
/// empty body, measuring everything from the call to the dropped response.
fn send<B>(layer: &RecallLayer, request: Request<B>) -> (Usage, StatusCode)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let service = layer.layer(trivial());
    let (status, usage) = measure_async(async move {
        let response = service.oneshot(request).await.unwrap();
        response.status()
    });
    (usage, status)
}

/// `parameter` repeated `count` times, joined with `&`.
fn repeated(parameter: &str, count: usize) -> String {
    vec![parameter; count].join("&")
}

/// Asserts that the request built with 10 parameters and the one built with `many` (as many as
/// `http::Uri` holds, up to 10 000) get the same answer for the same number of allocations, and
/// prints that number.
fn same_cost(
    what: &str,
    layer: &RecallLayer,
    many: usize,
    query: impl Fn(usize) -> String,
    body: &'static str,
) {
    assert!(
        query(many).len() < usize::from(u16::MAX) - 20,
        "{what}: too long for a URI"
    );
    // Once first, so that nothing lazily set up on first use is counted.
    let _ = send(layer, post(&query(10), full(body)));
    let (few, few_status) = send(layer, post(&query(10), full(body)));
    let (lots, lots_status) = send(layer, post(&query(many), full(body)));
    assert_eq!(few_status, lots_status, "{what}");
    assert_eq!(
        few.allocations, lots.allocations,
        "{what}: allocations grow with the number of parameters ({few:?} for 10, {lots:?} for {many})"
    );
    println!(
        "{what}: {few_status}, {} allocations for 10 and for {many} parameters",
        few.allocations
    );
}

#[test]
fn passthrough_costs_the_same_for_any_number_of_parameters() {
    same_cost(
        "plain parameters, no command",
        &layer(),
        10_000,
        |n| repeated("a=1", n),
        "",
    );
    // A `%` makes the layer scan the whole query: escaped names and values nobody reads must
    // not be decoded.
    same_cost(
        "escaped parameters, no command",
        &layer(),
        10_000,
        |n| repeated("%41=+", n),
        "",
    );
}

#[test]
fn unread_parameters_of_a_callback_cost_nothing() {
    same_cost(
        "escaped unknown parameters around a valid callback",
        &layer(),
        10_000,
        |n| format!("{}&SdkAppid=1400000000&{COMMAND}", repeated("%5F=+", n)),
        EVENT,
    );
}

#[test]
fn a_repeated_parameter_keeps_no_values() {
    same_cost(
        "repeated escaped SdkAppid",
        &layer(),
        4_000,
        |n| format!("{COMMAND}&{}", repeated("SdkAppid=%31", n)),
        "",
    );
    same_cost(
        "repeated escaped ClientIP on a valid callback",
        &layer(),
        3_000,
        |n| {
            format!(
                "SdkAppid=1400000000&{COMMAND}&{}",
                repeated("ClientIP=%3A%3A1", n)
            )
        },
        EVENT,
    );
    same_cost(
        "repeated escaped CallbackCommand",
        &layer(),
        1_300,
        |n| {
            let command = "CallbackCommand=Group%2ECallbackAfterRecallMsg";
            format!("SdkAppid=1400000000&{}", repeated(command, n))
        },
        "",
    );
    same_cost(
        "repeated signature parameters",
        &signed_layer(),
        2_500,
        |n| {
            format!(
                "SdkAppid=1400000000&{COMMAND}&{}",
                repeated("Sign=%61&RequestTime=%31", n)
            )
        },
        "",
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile input: bodies in tiny frames

/// `leading_spaces` one-byte frames of whitespace, then (when `tail` is set) a whole event.
fn drip(leading_spaces: usize, tail: Option<&'static str>) -> Request<Script> {
    let mut body = Script::repeat(b" ", leading_spaces, End::Finish);
    if let Some(tail) = tail {
        body = body.then(tail);
    }
    Request::builder()
        .method(Method::POST)
        .uri(format!("{CALLBACK_PATH}?SdkAppid={APP}&{COMMAND}"))
        .body(body)
        .unwrap()
}

/// Never more than twice `limit` bytes held at once: what a buffer that grows by doubling
/// reaches at most.
fn assert_held_within(usage: &Usage, limit: usize) {
    assert!(
        usage.peak_bytes <= 2 * limit,
        "{} bytes held for a {limit}-byte limit",
        usage.peak_bytes
    );
}

#[test]
fn endless_empty_frames_hold_nothing() {
    // 100 000 empty frames, then the end: nothing to keep, so nothing is held however many there
    // are (the body is then empty, which is not a recall event).
    let frames = |count| {
        let mut request = drip(0, None);
        *request.body_mut() = Script::repeat(b"", count, End::Finish);
        request
    };
    let (usage, status) = send(&layer(), frames(100_000));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (few, _) = send(&layer(), frames(10));
    assert_eq!(usage.allocations, few.allocations, "{usage:?} vs {few:?}");
    assert_eq!(usage.peak_bytes, few.peak_bytes, "{usage:?} vs {few:?}");
}

#[test]
fn many_tiny_frames_are_held_within_the_limit() {
    // 100 000 one-byte frames, over the limit: refused once the limit is passed, and never more
    // than the limit held (a buffer that grows by doubling reaches at most twice the limit).
    for limit in [64 * 1024, 50_000] {
        let (usage, status) = send(&unsigned_layer(limit), drip(100_000, None));
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_held_within(&usage, limit);
        println!("100 000 one-byte frames over a {limit}-byte limit: {usage:?}");
    }

    // The same 100 000 frames under a larger limit, ending with a whole event: accepted.
    let limit = 128 * 1024;
    let (usage, status) = send(&unsigned_layer(limit), drip(100_000, Some(EVENT)));
    assert_eq!(status, StatusCode::OK);
    assert_held_within(&usage, limit);
    println!("100 000 one-byte frames then an event, {limit}-byte limit: {usage:?}");
}
