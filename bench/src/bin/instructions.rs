//! Instruction counts per request, for `valgrind --tool=callgrind`: stable where times are not
//! (see BENCHMARKS.md).
//!
//! ```text
//! cargo build --release -p tower-tim-recall-bench --bin instructions
//! valgrind --tool=callgrind --toggle-collect='*measure*' --callgrind-out-file=/dev/null \
//!     target/release/instructions CASE [N]
//! ```
//!
//! Runs CASE N times (default 1 000) inside `measure`, the only function callgrind counts; the
//! requests are built before. Divide the `Collected` total by N. Without an argument it lists
//! the cases.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use std::hint::black_box;
use tower::{Layer, ServiceExt};
use tower_tim_recall::{AcceptedRecall, RecallKind, RecallLayer, RequestBody};
use tower_tim_recall_bench::handwritten;

use support::bodies_by_hand::{GroupBody, OfficialAccountBody, OneToOneBody};
use support::fixtures::{
    query_of, APP, CALLBACK_PATH, EVENT as TYPICAL, OFFICIAL_ACCOUNT, ONE_TO_ONE, TOKEN,
};
use support::requests::{
    large, post_json as post, signed_uri, NO_QUERY_URI, OTHER_APP_URI, OTHER_COMMAND_URI,
    RECALL_URI,
};
use support::{complete, sign_text, trivial};

const CASES: &[&str] = &[
    "passthrough/bare",
    "passthrough/layer",
    "passthrough_no_query/bare",
    "passthrough_no_query/layer",
    "guarded/layer",
    "recall_typical/serde_json",
    "recall_typical/layer",
    "recall_typical/layer_acknowledge",
    "recall_typical/axum_handwritten",
    "recall_c2c/serde_json",
    "recall_c2c/layer",
    "recall_official/serde_json",
    "recall_official/layer",
    "recall_large/serde_json",
    "recall_large/layer",
    "rejections/wrong_app",
    "rejections/too_large",
    "signature/valid",
    "signature/bad_sign",
];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(case) = args.next().filter(|case| CASES.contains(&case.as_str())) else {
        eprintln!(
            "usage: instructions CASE [N]\ncases:\n  {}",
            CASES.join("\n  ")
        );
        return ExitCode::from(2);
    };
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let layer = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .body_limit(1 << 20)
        .build()
        .expect("a valid configuration");
    let signed = RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .body_limit(1 << 20)
        .max_age(Duration::from_secs(3600))
        .max_ahead(Duration::from_secs(3600))
        .build()
        .expect("a valid configuration");
    let guarded = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .guard_other_commands()
        .build()
        .expect("a valid configuration")
        .layer(trivial());
    let layered = layer.layer(trivial());
    let uri_of = |kind: RecallKind| format!("{CALLBACK_PATH}?{}", query_of(kind));
    let large = Bytes::from(large(1000));
    let requests = |uri: &str, body: &Bytes| -> Vec<Request<Full<Bytes>>> {
        (0..n).map(|_| post(uri, body.clone())).collect()
    };
    let typical = Bytes::from_static(TYPICAL.as_bytes());
    match case.as_str() {
        "passthrough/bare" => {
            let requests = requests(OTHER_COMMAND_URI, &typical);
            measure(requests, |request| {
                drop(complete(trivial().oneshot(request.map(RequestBody::new))))
            })
        }
        "passthrough/layer" => measure(requests(OTHER_COMMAND_URI, &typical), |request| {
            drop(complete(layered.clone().oneshot(request)))
        }),
        "passthrough_no_query/bare" => {
            let requests = requests(NO_QUERY_URI, &typical);
            measure(requests, |request| {
                drop(complete(trivial().oneshot(request.map(RequestBody::new))))
            })
        }
        "passthrough_no_query/layer" => measure(requests(NO_QUERY_URI, &typical), |request| {
            drop(complete(layered.clone().oneshot(request)))
        }),
        "guarded/layer" => measure(requests(OTHER_COMMAND_URI, &typical), |request| {
            drop(complete(guarded.clone().oneshot(request)))
        }),
        "recall_typical/serde_json" => {
            measure(vec![(); n], |()| drop(parsed::<GroupBody>(&typical)))
        }
        "recall_c2c/serde_json" => measure(vec![(); n], |()| {
            drop(parsed::<OneToOneBody>(ONE_TO_ONE.as_bytes()))
        }),
        "recall_c2c/layer" => {
            let body = Bytes::from_static(ONE_TO_ONE.as_bytes());
            measure(requests(&uri_of(RecallKind::OneToOne), &body), |request| {
                drop(complete(layered.clone().oneshot(request)))
            })
        }
        "recall_official/serde_json" => measure(vec![(); n], |()| {
            drop(parsed::<OfficialAccountBody>(OFFICIAL_ACCOUNT.as_bytes()))
        }),
        "recall_official/layer" => {
            let body = Bytes::from_static(OFFICIAL_ACCOUNT.as_bytes());
            measure(
                requests(&uri_of(RecallKind::OfficialAccount), &body),
                |request| drop(complete(layered.clone().oneshot(request))),
            )
        }
        "recall_typical/layer" => measure(requests(RECALL_URI, &typical), |request| {
            drop(complete(layered.clone().oneshot(request)))
        }),
        "recall_typical/layer_acknowledge" => {
            // The handler takes the event and drops it; the layer answers.
            let handler = tower::service_fn(|accepted: AcceptedRecall| {
                drop(black_box(accepted));
                std::future::ready(Ok::<_, std::convert::Infallible>(()))
            });
            let acknowledging = RecallLayer::builder()
                .unsigned_app(APP)
                .allow_unsigned_apps()
                .body_limit(1 << 20)
                .build()
                .expect("a valid configuration")
                .acknowledge(handler)
                .layer(trivial());
            measure(requests(RECALL_URI, &typical), |request| {
                drop(complete(acknowledging.clone().oneshot(request)))
            })
        }
        "recall_typical/axum_handwritten" => {
            let router = handwritten::router(handwritten::Config {
                apps: vec![APP],
                token: None,
                window_secs: 60,
                on_event: |_| Ok(()),
            });
            measure(requests(RECALL_URI, &typical), |request| {
                drop(complete(router.clone().oneshot(request)))
            })
        }
        "recall_large/serde_json" => measure(vec![(); n], |()| drop(parsed::<GroupBody>(&large))),
        "recall_large/layer" => measure(requests(RECALL_URI, &large), |request| {
            drop(complete(layered.clone().oneshot(request)))
        }),
        "rejections/wrong_app" => measure(requests(OTHER_APP_URI, &typical), |request| {
            drop(complete(layered.clone().oneshot(request)))
        }),
        "rejections/too_large" => {
            // A byte over the limit, its `Content-Length` saying so, as hyper's bodies are.
            let over = Bytes::from(vec![b' '; (1 << 20) + 1]);
            measure(requests(RECALL_URI, &over), |request| {
                drop(complete(layered.clone().oneshot(request)))
            })
        }
        "signature/valid" | "signature/bad_sign" => {
            let token = if case == "signature/valid" {
                TOKEN
            } else {
                "another token"
            };
            let uri = signed_uri(now, &sign_text(token, &now.to_string()));
            let layered = signed.layer(trivial());
            measure(requests(&uri, &typical), |request| {
                drop(complete(layered.clone().oneshot(request)))
            })
        }
        _ => unreachable!("listed in CASES"),
    }
    ExitCode::SUCCESS
}

/// The body parsed by `serde_json` alone into a struct of its fields, as a hand-written
/// receiver declares them: the floor of the layer's parse. It must succeed, or the floor
/// would be the cost of a refusal.
fn parsed<T: serde::de::DeserializeOwned>(body: &[u8]) -> T {
    serde_json::from_slice(black_box(body)).expect("a valid body")
}

/// The only function callgrind counts (`--toggle-collect='*measure*'`): runs `work` on each
/// input, dropping what it returns.
#[inline(never)]
fn measure<T>(inputs: Vec<T>, mut work: impl FnMut(T)) {
    for input in inputs {
        work(black_box(input));
    }
}
