//! What the layer costs, next to its baselines, in one run (see BENCHMARKS.md):
//!
//! ```text
//! cargo bench -p tower-tim-recall-bench --bench recall
//! ```
//!
//! - `passthrough/*`: requests that are not recall callbacks, through the layer and straight to
//!   the same inner service;
//! - `guarded/*`: another command through a layer with the guard on, next to the same request
//!   passed through without it;
//! - `recall_*/*`: a recall callback through the layer in forward mode (trivial inner service),
//!   its body parsed alone with `serde_json` into a struct of the same fields (the floor,
//!   `support::bodies_by_hand`), handled by a hand-written axum handler with `Query` and `Json`
//!   extractors (`src/handwritten.rs`, group recalls), and given to the trivial inner service
//!   alone (what the request costs any service);
//! - `rejections/*`: refusals, next to the valid callback they imitate;
//! - `signature/*`: the valid signed callback next to the same refusal.
//!
//! Every service is driven in-process on this thread, polled with a no-op waker; requests are
//! built outside the measured part.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;
use tower::{Layer, ServiceExt};
use tower_tim_recall::{RecallKind, RecallLayer, RequestBody};
use tower_tim_recall_bench::handwritten;

use support::bodies_by_hand::{GroupBody, OfficialAccountBody, OneToOneBody};
use support::fixtures::{
    query_of, APP, CALLBACK_PATH, EVENT as TYPICAL, OFFICIAL_ACCOUNT, ONE_TO_ONE, TOKEN,
};
use support::requests::{
    large, post_json as post, signed_uri, NO_QUERY_URI, OTHER_APP_URI, OTHER_COMMAND_URI,
    RECALL_URI, TYPICAL_NO_TOPIC,
};
use support::{complete, sign_text, trivial};

/// Room for the 1 000-message recall (59 KB, near the default 64 KiB) and then some.
const BODY_LIMIT: usize = 1 << 20;
/// Wide enough that `RequestTime` stays fresh for the whole run.
const WINDOW_SECS: u64 = 3600;

fn layer() -> RecallLayer {
    RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .body_limit(BODY_LIMIT)
        .build()
        .expect("a valid configuration")
}

fn signed_layer() -> RecallLayer {
    RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .body_limit(BODY_LIMIT)
        .max_age(Duration::from_secs(WINDOW_SECS))
        .max_ahead(Duration::from_secs(WINDOW_SECS))
        .build()
        .expect("a valid configuration")
}

fn sign(token: &str, time: u64) -> String {
    sign_text(token, &time.to_string())
}

fn handwritten(token: Option<&str>) -> axum::Router {
    handwritten::router(handwritten::Config {
        apps: vec![APP],
        token: token.map(str::to_owned),
        window_secs: WINDOW_SECS,
        on_event: |_| Ok(()),
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Measures one request through a service: the service clone and the request are made outside
/// the measured part, the response is dropped outside it.
macro_rules! bench_service {
    ($group:expr, $name:expr, $service:expr, $request:expr) => {{
        let service = $service;
        $group.bench_function($name, |b| {
            b.iter_batched(
                || (service.clone(), $request),
                |(service, request)| complete(service.oneshot(request)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }};
}

fn passthrough(c: &mut Criterion) {
    let mut group = c.benchmark_group("passthrough");
    let layered = layer().layer(trivial());
    for (name, uri) in [
        ("other_command", OTHER_COMMAND_URI),
        ("no_query", NO_QUERY_URI),
    ] {
        bench_service!(
            group,
            format!("{name}/bare"),
            trivial(),
            post(uri, TYPICAL).map(RequestBody::new)
        );
        bench_service!(
            group,
            format!("{name}/layer"),
            layered.clone(),
            post(uri, TYPICAL)
        );
    }
    group.finish();
}

fn recall(c: &mut Criterion) {
    let large = large(1000);
    let cases = [
        ("recall_typical", TYPICAL),
        ("recall_typical_no_topic", TYPICAL_NO_TOPIC),
        ("recall_large", large.as_str()),
    ];
    for (name, body) in cases {
        let body = Bytes::copy_from_slice(body.as_bytes());
        let mut group = c.benchmark_group(name);
        group.bench_function("serde_json", |b| {
            b.iter(|| serde_json::from_slice::<GroupBody>(black_box(&body)).unwrap())
        });
        // What any service pays for this request: the trivial inner service without the layer.
        bench_service!(
            group,
            "inner_alone",
            trivial(),
            post(RECALL_URI, body.clone()).map(RequestBody::new)
        );
        bench_service!(
            group,
            "layer",
            layer().layer(trivial()),
            post(RECALL_URI, body.clone())
        );
        bench_service!(
            group,
            "axum_handwritten",
            handwritten(None),
            post(RECALL_URI, body.clone())
        );
        group.finish();
    }
}

/// The one-to-one and official-account recalls, measured as the group recall is.
fn other_kinds(c: &mut Criterion) {
    let cases = [
        ("recall_c2c", RecallKind::OneToOne, ONE_TO_ONE),
        (
            "recall_official",
            RecallKind::OfficialAccount,
            OFFICIAL_ACCOUNT,
        ),
    ];
    for (name, kind, body) in cases {
        let uri = format!("{CALLBACK_PATH}?{}", query_of(kind));
        let body = Bytes::from_static(body.as_bytes());
        let mut group = c.benchmark_group(name);
        group.bench_function("serde_json", |b| match kind {
            RecallKind::OneToOne => {
                b.iter(|| serde_json::from_slice::<OneToOneBody>(black_box(&body)).unwrap())
            }
            _ => {
                b.iter(|| serde_json::from_slice::<OfficialAccountBody>(black_box(&body)).unwrap())
            }
        });
        bench_service!(
            group,
            "layer",
            layer().layer(trivial()),
            post(&uri, body.clone())
        );
        group.finish();
    }
}

/// Another command, through a guarded layer and through one without the guard.
fn guarded(c: &mut Criterion) {
    let mut group = c.benchmark_group("guarded");
    let guard = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .guard_other_commands()
        .build()
        .expect("a valid configuration");
    bench_service!(
        group,
        "other_command/guard",
        guard.layer(trivial()),
        post(OTHER_COMMAND_URI, TYPICAL)
    );
    bench_service!(
        group,
        "other_command/no_guard",
        layer().layer(trivial()),
        post(OTHER_COMMAND_URI, TYPICAL)
    );
    group.finish();
}

fn rejections(c: &mut Criterion) {
    let mut group = c.benchmark_group("rejections");
    let layered = layer().layer(trivial());
    bench_service!(
        group,
        "valid/layer",
        layered.clone(),
        post(RECALL_URI, TYPICAL)
    );
    bench_service!(
        group,
        "wrong_app/layer",
        layered.clone(),
        post(OTHER_APP_URI, TYPICAL)
    );
    // A byte over the limit, its `Content-Length` saying so, as hyper's bodies are.
    let over = Bytes::from(vec![b' '; BODY_LIMIT + 1]);
    bench_service!(
        group,
        "too_large/layer",
        layered.clone(),
        post(RECALL_URI, over.clone())
    );
    bench_service!(
        group,
        "wrong_app/axum_handwritten",
        handwritten(None),
        post(OTHER_APP_URI, TYPICAL)
    );
    group.finish();
}

fn signature(c: &mut Criterion) {
    let mut group = c.benchmark_group("signature");
    let time = now();
    let good = sign(TOKEN, time);
    let bad = sign("another token", time);
    let layered = signed_layer().layer(trivial());
    bench_service!(
        group,
        "valid/layer",
        layered.clone(),
        post(&signed_uri(time, &good), TYPICAL)
    );
    bench_service!(
        group,
        "bad_sign/layer",
        layered.clone(),
        post(&signed_uri(time, &bad), TYPICAL)
    );
    bench_service!(
        group,
        "valid/axum_handwritten",
        handwritten(Some(TOKEN)),
        post(&signed_uri(time, &good), TYPICAL)
    );
    bench_service!(
        group,
        "bad_sign/axum_handwritten",
        handwritten(Some(TOKEN)),
        post(&signed_uri(time, &bad), TYPICAL)
    );
    group.finish();
}

/// Short measurements: the whole run takes a few minutes; ratios within one run are what count.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = passthrough, recall, other_kinds, guarded, rejections, signature
}
criterion_main!(benches);
