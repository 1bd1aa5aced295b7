//! What hostile input costs in memory, counted by a global allocator in its own test binary.
//!
//! Counts are deterministic where times are not: each case runs the same request shape with 10
//! and with 10 000 parameters and requires the same number of allocations, and bodies sent in
//! tiny chunks must never hold more than the limit allows. Only allocations made on the test's
//! own thread, while it drives the service, are counted (the runtime is single-threaded).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use tower::{service_fn, Layer, ServiceExt};
use tower_tim_recall::{RecallLayer, RequestBody};

mod common;
use common::bodies::{End, Script};
use common::fixtures::{APP, CALLBACK_PATH, EVENT};

// ---------------------------------------------------------------------------------------------
// The counting allocator

struct Counting;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Usage {
    /// Calls to `alloc` and `realloc`.
    allocations: usize,
    /// The most bytes live at once, counted from the start of the measurement (memory
    /// allocated before and freed during it lowers the count: keep requests small where this is
    /// read).
    peak_bytes: usize,
}

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(allocated: isize, counts_as_allocation: bool) {
    // `try_with`: the thread may be tearing its locals down.
    let _ = ON.try_with(|on| {
        if !on.get() {
            return;
        }
        if counts_as_allocation {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        LIVE.with(|live| {
            live.set(live.get() + allocated);
            PEAK.with(|peak| peak.set(peak.get().max(live.get())));
        });
    });
}

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping touches only
// `const`-initialised thread-local cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(size(layout), true);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(-size(layout), false);
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(size(layout), true);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grown = isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout);
        record(grown, true);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `future` to completion on a single-threaded runtime and reports what it allocated.
fn measure<F: Future>(runtime: &tokio::runtime::Runtime, future: F) -> (Usage, F::Output) {
    ALLOCATIONS.with(|n| n.set(0));
    LIVE.with(|n| n.set(0));
    PEAK.with(|n| n.set(0));
    ON.with(|on| on.set(true));
    let output = runtime.block_on(future);
    ON.with(|on| on.set(false));
    let usage = Usage {
        allocations: ALLOCATIONS.with(Cell::get),
        peak_bytes: usize::try_from(PEAK.with(Cell::get)).unwrap_or(0),
    };
    (usage, output)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The service

const COMMAND: &str = "CallbackCommand=Group.CallbackAfterRecallMsg";

/// Sends `request` through the layer in front of an inner service that answers 200 with an
/// empty body, measuring everything from the call to the dropped response.
fn send<B>(layer: &RecallLayer, request: Request<B>) -> (Usage, StatusCode)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let runtime = runtime();
    let inner = service_fn(|_: Request<RequestBody<B>>| async {
        Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
    });
    let service = layer.layer(inner);
    let (usage, status) = measure(&runtime, async move {
        let response = service.oneshot(request).await.unwrap();
        response.status()
    });
    (usage, status)
}

fn post(query: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("{CALLBACK_PATH}?{query}"))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
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
    let _ = send(layer, post(&query(10), body));
    let (few, few_status) = send(layer, post(&query(10), body));
    let (lots, lots_status) = send(layer, post(&query(many), body));
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

fn layer() -> RecallLayer {
    RecallLayer::new([APP])
}

// ---------------------------------------------------------------------------------------------
// Query strings

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
        &layer().token("xxxxyyyy"),
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
// Bodies in tiny chunks

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
    let mut request = drip(0, None);
    *request.body_mut() = Script::repeat(b"", 100_000, End::Finish);
    let (usage, status) = send(&layer(), request);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (few, _) = send(&layer(), {
        let mut request = drip(0, None);
        *request.body_mut() = Script::repeat(b"", 10, End::Finish);
        request
    });
    assert_eq!(usage.allocations, few.allocations, "{usage:?} vs {few:?}");
    assert_eq!(usage.peak_bytes, few.peak_bytes, "{usage:?} vs {few:?}");
}

#[test]
fn many_tiny_chunks_are_held_within_the_limit() {
    // 100 000 one-byte frames, over the limit: refused once the limit is passed, and never more
    // than the limit held (a buffer that grows by doubling reaches at most twice the limit).
    for limit in [64 * 1024, 50_000] {
        let (usage, status) = send(&layer().body_limit(limit), drip(100_000, None));
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_held_within(&usage, limit);
        println!("100 000 one-byte frames over a {limit}-byte limit: {usage:?}");
    }

    // The same 100 000 frames under a larger limit, ending with a whole event: accepted.
    let limit = 128 * 1024;
    let (usage, status) = send(&layer().body_limit(limit), drip(100_000, Some(EVENT)));
    assert_eq!(status, StatusCode::OK);
    assert_held_within(&usage, limit);
    println!("100 000 one-byte frames then an event, {limit}-byte limit: {usage:?}");
}
