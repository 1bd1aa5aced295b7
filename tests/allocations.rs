//! Heap allocations per request, counted by a global allocator: unlike times, counts are
//! deterministic, so they are pinned exactly. A change that adds an allocation fails here, and
//! so does one that removes one (update the pinned number, and BENCHMARKS.md, with it).
//!
//! Only the allocations made on the test's own thread while the service handles one request are
//! counted: building the request and dropping the response are outside.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, StatusCode};
use http_body_util::Full;
use tower::{Service, ServiceExt};
use tower_tim_recall::{sign, Ack, Recall, RecallEvent, RecallLayer, RequestBody, ResponseBody};

#[path = "../benches/common/mod.rs"]
mod common;

use common::*;

/// Counts the allocations (and reallocations) made on each thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the thread-local may already be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What `work` returns, and how many allocations it made on this thread.
fn allocations<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let output = work();
    let after = ALLOCATIONS.with(Cell::get);
    (output, after - before)
}

/// A request through `service`, driven to its answer on this thread, and the allocations it
/// made.
fn call<S, R>(service: S, request: R) -> (S::Response, usize)
where
    S: Service<R>,
    S::Error: std::fmt::Debug,
{
    allocations(|| complete(service.oneshot(request)).unwrap())
}

fn layer() -> RecallLayer {
    RecallLayer::new([APP]).body_limit(1 << 20)
}

/// What the layer allocates for a valid recall on top of `serde_json`'s parse of its body: the
/// request extensions that carry the event (the map, its table, the boxed event).
const RECALL_EXTRA: usize = 3;

/// What one of the layer's own answers allocates: the `Content-Type` header (the header map's
/// index and entry tables); the `FAIL` JSON of a fixed reason is static.
const ANSWER: usize = 2;

#[test]
fn passthrough_adds_no_allocation() {
    let layered = Recall::new(trivial(), &layer());
    for uri in [
        OTHER_COMMAND_URI,
        NO_QUERY_URI,
        "/search?q=100%25&ClientIP=%3A%3A1&CallbackCommand=Group.CallbackAfterSendMsg",
    ] {
        let (_, bare) = call(trivial(), post(uri, TYPICAL).map(RequestBody::new));
        let (response, through) = call(layered.clone(), post(uri, TYPICAL));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            bare, 0,
            "{uri}: the trivial inner service allocates nothing"
        );
        assert_eq!(through, bare, "{uri}");
    }
}

#[test]
fn a_valid_recall_allocates_the_parse_and_a_fixed_number_more() {
    let large = large(1000);
    for body in [TYPICAL, TYPICAL_NO_TOPIC, &large] {
        let (event, parse) = allocations(|| serde_json::from_slice::<RecallEvent>(body.as_bytes()));
        assert!(event.is_ok());
        let layered = Recall::new(trivial(), &layer());
        let (response, through) = call(layered, post(RECALL_URI, body.to_owned()));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(through, parse + RECALL_EXTRA, "parse alone: {parse}");
    }
}

#[test]
fn a_signed_recall_allocates_nothing_more_than_an_unsigned_one() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = Recall::new(
        trivial(),
        &layer().token(TOKEN).time_window(Duration::from_secs(3600)),
    );
    let request = post(&signed_uri(now, &sign(TOKEN, now)), TYPICAL);
    let (response, through) = call(signed, request);
    assert_eq!(response.status(), StatusCode::OK);
    let (_, parse) = allocations(|| serde_json::from_slice::<RecallEvent>(TYPICAL.as_bytes()));
    assert_eq!(through, parse + RECALL_EXTRA);
}

#[test]
fn acknowledge_mode_allocates_the_parse_and_the_answer() {
    let layered = Recall::new(
        trivial(),
        &layer().acknowledge_fn(|event| {
            drop(event);
            std::future::ready(())
        }),
    );
    let (response, through) = call(layered, post(RECALL_URI, TYPICAL));
    assert_eq!(response.status(), StatusCode::OK);
    let (_, parse) = allocations(|| serde_json::from_slice::<RecallEvent>(TYPICAL.as_bytes()));
    // The `OK` acknowledgement is a static text: only its header is allocated.
    assert_eq!(through, parse + 2);
}

#[test]
fn refusals_decided_before_the_body_allocate_only_the_answer() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let layered = Recall::new(trivial(), &layer());
    let signed = Recall::new(
        trivial(),
        &layer().token(TOKEN).time_window(Duration::from_secs(3600)),
    );
    let mut too_large = post(RECALL_URI, TYPICAL);
    too_large
        .headers_mut()
        .insert(header::CONTENT_LENGTH, ((1 << 20) + 1).into());
    let mut get = post(RECALL_URI, TYPICAL);
    *get.method_mut() = http::Method::GET;
    let cases = [
        (
            layered.clone(),
            post(OTHER_APP_URI, TYPICAL),
            StatusCode::FORBIDDEN,
        ),
        (layered.clone(), too_large, StatusCode::PAYLOAD_TOO_LARGE),
        (layered, get, StatusCode::METHOD_NOT_ALLOWED),
        (
            signed.clone(),
            post(&signed_uri(now, &sign("another token", now)), TYPICAL),
            StatusCode::UNAUTHORIZED,
        ),
        (signed, post(RECALL_URI, TYPICAL), StatusCode::UNAUTHORIZED),
    ];
    for (service, request, status) in cases {
        let (response, through) = call(service, request);
        assert_eq!(response.status(), status);
        assert_eq!(through, ANSWER, "{status}");
    }
    // No more than the smallest answer the public API builds: the static `OK`.
    let (_, answer) = allocations(|| Ack::ok().into_http_response::<ResponseBody<Full<Bytes>>>());
    assert_eq!(answer, ANSWER);
}
