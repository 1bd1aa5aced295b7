//! The layer next to the middleware a user already has: tower-http's `TraceLayer`,
//! `CatchPanicLayer`, `TimeoutLayer` and `CompressionLayer` and tower's
//! `ConcurrencyLimitLayer`, in the order a user writes them, served by hyper over a socket;
//! then tower's limit and timeout on either side of the layer, driven without a socket.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;
use tower::limit::ConcurrencyLimitLayer;
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::DecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RequestBody, ResponseBody};

use support::bodies::{End, Script};
use support::fixtures::{documented_event, APP, CALLBACK_PATH, EVENT, OK_JSON, QUERY};
use support::net::client::{body_of, Client};
use support::net::server::Server;
use support::net::{exchange_callbacks, next_event, record_recall, within};
use support::requests::{callback_to, documented, other_app, other_command};
use support::Recorder;

fn layer() -> RecallLayer {
    RecallLayer::unsigned([APP]).unwrap()
}

// ---------------------------------------------------------------------------------------------
// tower-http and tower around the layer, over a socket

/// A response worth compressing.
fn report() -> String {
    "group @TGS#2J4SZEAEL: message 130 recalled by admin\n".repeat(100)
}

/// The application: the callback route, a large response, an echo, a handler that panics and
/// one that never answers.
fn app(events: mpsc::UnboundedSender<RecallEvent>) -> Router {
    async fn panics() -> &'static str {
        panic!("a bug in a handler")
    }
    Router::new()
        .route(CALLBACK_PATH, post(record_recall))
        .route("/report", get(|| async { report() }))
        .route("/echo", post(|body: Bytes| async { body }))
        .route("/panic", get(panics))
        .route("/stuck", get(std::future::pending::<()>))
        .with_state(events)
}

#[tokio::test]
async fn tower_http_stack_in_the_order_a_user_writes() {
    let (events, mut received) = mpsc::unbounded_channel();
    // Outermost first. `TraceLayer` sees every request, refusals included, and its response
    // body has no `Default`, which `TimeoutLayer` needs from the service it wraps: it goes
    // outside `TimeoutLayer`. The timeout covers the layer's reading of a callback body.
    let service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(1),
        ))
        .layer(CompressionLayer::new())
        .layer(ConcurrencyLimitLayer::new(64))
        .layer(layer())
        .service(app(events));
    let server = Server::http1(service).await;
    let mut client = Client::connect(server.addr).await;

    // The callbacks, accepted and refused, on one keep-alive connection.
    exchange_callbacks(&mut client, &mut received).await;
    // Another callback command: not a recall, acknowledged by the route.
    client.request(other_command()).await.assert_ok_ack();

    // A passthrough request, body untouched both ways.
    client
        .post("/echo?x=1", "not a callback")
        .await
        .assert_text("not a callback");

    // A passthrough response, compressed for a client that asks for gzip...
    let mut ask_gzip = Request::get("/report").body(Full::default()).unwrap();
    ask_gzip
        .headers_mut()
        .insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    let answer = client.request(ask_gzip).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-encoding"),
        Some("gzip"),
        "{answer:?}"
    );
    assert!(
        answer.body.len() < report().len() / 4,
        "{} bytes",
        answer.body.len()
    );
    // ...and not for one that does not.
    client
        .send(Method::GET, "/report", "")
        .await
        .assert_text(&report());
    // Outside the recall layer, `CompressionLayer` compresses the layer's answers too, when
    // the sender asks for gzip (read back decompressed below).
    let mut gzip_callback = documented();
    gzip_callback
        .headers_mut()
        .insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    let answer = client.request(gzip_callback).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-encoding"),
        Some("gzip"),
        "{answer:?}"
    );
    assert_eq!(next_event(&mut received).await, documented_event());

    // A panic in a handler is a 500, and the connection carries on.
    let answer = client.send(Method::GET, "/panic", "").await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{answer:?}"
    );
    // A handler that never answers is cut off by the timeout.
    let answer = client.send(Method::GET, "/stuck", "").await;
    assert_eq!(answer.status, StatusCode::REQUEST_TIMEOUT, "{answer:?}");
    client.request(documented()).await.assert_ok_ack();
    assert_eq!(next_event(&mut received).await, documented_event());
    client.close().await;

    // A client that decompresses (tower-http's `DecompressionLayer` over hyper's pooled
    // client, which asks for gzip) reads the report and the acknowledgement back.
    let decompressing = ServiceBuilder::new()
        .layer(DecompressionLayer::new())
        .service(PooledClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let request = Request::get(url("/report")).body(Full::default()).unwrap();
    let response = within("decompressed", decompressing.clone().oneshot(request))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(within("body", body_of(response)).await, report());
    let callback = callback_to(&url(CALLBACK_PATH), QUERY, EVENT);
    let response = within("decompressed", decompressing.oneshot(callback))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(within("body", body_of(response)).await, OK_JSON);
    assert_eq!(next_event(&mut received).await, documented_event());

    server.stop().await;
    assert!(received.try_recv().is_err());
}

// ---------------------------------------------------------------------------------------------
// tower's limit and timeout on either side of the layer (no socket)

/// The documented callback with this body.
fn with_body<B>(body: B) -> Request<B> {
    documented().map(|_| body)
}

/// An inner service that counts its calls, waits `delay`, and answers `Ack::ok()` for a
/// callback that carries its event (and 418 for anything else).
fn slow_inner<B>(
    calls: Arc<AtomicUsize>,
    delay: Duration,
) -> impl Service<Request<B>, Response = Response<Full<Bytes>>, Error = Infallible> + Clone
where
    B: Send + 'static,
{
    service_fn(move |request: Request<B>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(delay).await;
            if request.extensions().get::<RecallEvent>().is_some() {
                Ok(Ack::ok().into_http_response())
            } else {
                let mut response = Response::new(Full::default());
                *response.status_mut() = StatusCode::IM_A_TEAPOT;
                Ok(response)
            }
        }
    })
}

/// `ConcurrencyLimit` and `Timeout` outside the layer, `slow_inner` inside.
fn outer_stack<B>(
    calls: &Arc<AtomicUsize>,
    delay: Duration,
) -> impl Service<Request<B>, Response = Response<ResponseBody<Full<Bytes>>>, Error = tower::BoxError>
where
    B: Body<Data = Bytes> + Send + 'static,
{
    ServiceBuilder::new()
        .concurrency_limit(1)
        .timeout(Duration::from_millis(500))
        .layer(layer())
        .service(slow_inner(Arc::clone(calls), delay))
}

#[tokio::test]
async fn tower_limit_and_timeout_around_the_layer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let stack = |delay| outer_stack(&calls, delay);

    // Accepted: the inner service answers through both outer layers.
    let response = within("oneshot", stack(Duration::ZERO).oneshot(documented()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, OK_JSON);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Refused: the layer answers, the inner service is not called.
    let response = within("oneshot", stack(Duration::ZERO).oneshot(other_app()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The outer limit and timeout cover the layer's own reading of the body: a sender that
    // stalls mid-body holds the only slot until the timeout cuts it off, then frees it.
    let mut stalled = outer_stack::<Script>(&calls, Duration::ZERO);
    within("ready", stalled.ready()).await.unwrap();
    let reading = stalled.call(with_body(Script::stall()));
    let blocked = tokio::time::timeout(Duration::from_millis(50), stalled.ready()).await;
    assert!(blocked.is_err(), "the outer concurrency limit was bypassed");
    let error = within("stalled", reading).await.unwrap_err();
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
    within("ready again", stalled.ready()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // And a slow inner service.
    let error = within(
        "oneshot",
        stack(Duration::from_secs(5)).oneshot(documented()),
    )
    .await
    .unwrap_err();
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn tower_limit_and_timeout_inside_the_layer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (release, released) = tokio::sync::watch::channel(false);
    // The inner service holds each callback until released.
    let counted = Arc::clone(&calls);
    let inner = service_fn(move |request: Request<RequestBody<Full<Bytes>>>| {
        counted.fetch_add(1, Ordering::SeqCst);
        let mut released = released.clone();
        async move {
            let event = request.extensions().get::<RecallEvent>().cloned();
            if request.uri().path() == "/slow" {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            released.wait_for(|go| *go).await.unwrap();
            assert_eq!(event, Some(documented_event()));
            Ok::<_, Infallible>(Ack::ok().into_http_response::<Full<Bytes>>())
        }
    });
    let mut service = ServiceBuilder::new()
        .layer(layer())
        .concurrency_limit(1)
        // Generous: the first callback below waits for the test to release it.
        .timeout(Duration::from_secs(1))
        .service(inner);

    // The first callback takes the only permit: `poll_ready` reserved it, and the layer hands
    // that ready service (with its permit) on to the body-reading future.
    within("ready", service.ready()).await.unwrap();
    let first = tokio::spawn(service.call(documented()));
    // While it is in flight, the layer is not ready: the limit inside it holds.
    let blocked = tokio::time::timeout(Duration::from_millis(50), service.ready()).await;
    assert!(blocked.is_err(), "the concurrency limit was bypassed");
    // Released, it answers, and the permit comes back.
    release.send(true).unwrap();
    let response = within("first", first).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, OK_JSON);
    within("ready again", service.ready()).await.unwrap();

    // A refused callback does not use the permit the layer's `poll_ready` reserved: the next
    // call still gets through.
    let response = service.call(other_app()).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    within("ready", service.ready()).await.unwrap();

    // The inner timeout fires as an error of the layered service.
    let slow = callback_to("/slow", QUERY, EVENT);
    let error = within("slow", service.call(slow)).await.unwrap_err();
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_stalled_body_is_bounded_by_the_callers_timeout_and_released() {
    for chunks in [0, 1, 1000] {
        let body = Script::repeat(b" ", chunks, End::Stall);
        let dropped = Arc::clone(&body.dropped);
        let inner = Recorder::default();

        // Without a timeout, the layer waits for the body: the answer is still pending.
        let service = layer().layer(inner.clone());
        let mut pending = Box::pin(service.oneshot(with_body(body)));
        let waited = tokio::time::timeout(Duration::from_millis(20), pending.as_mut()).await;
        assert!(waited.is_err(), "a stalled body was answered");
        // The service copy kept for the request is alive while the future is.
        assert!(inner.copies() > 1);
        drop(pending);
        assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
        assert_eq!(inner.copies(), 1, "a copy of the inner service leaked");

        // With `tower::timeout` around the layer, the caller gets `Elapsed`, and everything the
        // request held is released.
        let body = Script::repeat(b" ", chunks, End::Stall);
        let dropped = Arc::clone(&body.dropped);
        let service = ServiceBuilder::new()
            .timeout(Duration::from_millis(50))
            .layer(layer())
            .service(inner.clone());
        let error = service.oneshot(with_body(body)).await.unwrap_err();
        assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
        assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
        assert_eq!(inner.copies(), 1, "a copy of the inner service leaked");
        assert_eq!(inner.calls(), 0);
    }
}
