//! The layer, unchanged, in each stack a Rust backend uses: axum, plain hyper, tonic (gRPC and
//! the callback on one port), and a tower `ServiceBuilder` next to tower's own middleware.
//!
//! Every network test uses real loopback sockets (127.0.0.1, port 0) and a real HTTP client;
//! every wait is bounded by [`within`], and every server is stopped at the end.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_tim_recall::{
    Ack, GroupType, Platform, RecallEvent, RecallLayer, RecalledMessage, RequestBody, ResponseBody,
    SdkAppId, UnixMillis,
};

const APP: u64 = 1_400_000_000;
/// A callback for `APP`, as Tencent sends it.
const CALLBACK: &str = concat!(
    "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// The same callback for an app that is not on the allowlist.
const OTHER_APP: &str = concat!(
    "/im/callback?SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterRecallMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// The newest documented body.
const EVENT: &str = include_str!("fixtures/recall_documented.json");
/// An older body: no `TopicId` or `MsgId`, `EventTime` as a string, two messages.
const OLD_EVENT: &str = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1","Type":"Public","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":4294967295}],"EventTime":"1670574414123"}"#;
const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Bounds a network wait: a test fails instead of hanging.
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A running server: its address, the signal that stops it, and its task.
struct Server {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// Starts `serve`, which must return once the given signal future completes.
    async fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (listener, addr) = bind().await;
        let (shutdown, signal) = oneshot::channel();
        let task = tokio::spawn(serve(listener, signal));
        Self {
            addr,
            shutdown,
            task,
        }
    }

    /// An axum app served with `axum::serve` and graceful shutdown.
    async fn axum(app: Router) -> Self {
        Self::start(|listener, signal| async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.await;
                })
                .await
                .unwrap();
        })
        .await
    }

    /// Signals shutdown and waits for the server to finish (gracefully, within the bound).
    async fn stop(self) {
        let _ = self.shutdown.send(());
        within("server shutdown", self.task).await.unwrap();
    }
}

/// One HTTP/1.1 client connection (hyper's client, over one `TcpStream`).
struct Client {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
    connection: JoinHandle<()>,
}

/// What came back.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Self {
        let stream = within("connect", TcpStream::connect(addr)).await.unwrap();
        let (sender, connection) = within(
            "handshake",
            hyper::client::conn::http1::handshake(TokioIo::new(stream)),
        )
        .await
        .unwrap();
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        Self {
            addr,
            sender,
            connection,
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: &'static str) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string())
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        within("request", async {
            self.sender.ready().await.expect("connection closed");
            let response = self.sender.send_request(request).await.unwrap();
            let (parts, body) = response.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            Reply {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        })
        .await
    }

    async fn post(&mut self, path: &str, body: &'static str) -> Reply {
        self.send(Method::POST, path, body).await
    }

    /// Closes the connection and waits until it is gone.
    async fn close(self) {
        drop(self.sender);
        within("client close", self.connection).await.unwrap();
    }
}

/// Sends one request on a fresh connection, then closes it.
async fn request_once(addr: SocketAddr, method: Method, path: &str, body: &'static str) -> Reply {
    let mut client = Client::connect(addr).await;
    let reply = client.send(method, path, body).await;
    client.close().await;
    reply
}

impl Reply {
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap())
            .unwrap_or("")
    }

    /// 200, JSON, the documented OK acknowledgement byte for byte.
    fn assert_ok_ack(&self) {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        assert_eq!(self.body, OK_JSON);
    }

    /// The layer's refusal: the status, JSON, `FAIL` with the status as code and this reason.
    fn assert_fail(&self, status: StatusCode, reason: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "ActionStatus": "FAIL",
                "ErrorCode": status.as_u16(),
                "ErrorInfo": reason,
            })
        );
    }
}

/// The event the layer must parse from `CALLBACK` + `EVENT`.
fn assert_documented_event(event: &RecallEvent) {
    let mut expected = RecallEvent::new(
        APP,
        "@TGS#_@TGS#cQVLVHIM62CJ",
        [RecalledMessage::new(
            130,
            Some("144115213033478435-1739361321-2512805311".into()),
        )],
    );
    expected.operator_account = Some("admin".into());
    expected.group_type = Some(GroupType::Community);
    expected.topic_id = Some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic".into());
    expected.event_time = Some(UnixMillis::new(1_670_574_414_123));
    expected.client_ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    expected.platform = Some(Platform::RestApi);
    assert_eq!(*event, expected);
}

/// The event the layer must parse from `CALLBACK` + `OLD_EVENT`.
fn assert_old_event(event: &RecallEvent) {
    assert_eq!(event.sdk_app_id, SdkAppId::new(APP));
    assert_eq!(event.operator_account.as_deref(), Some("u1"));
    assert_eq!(event.group_type, Some(GroupType::Public));
    assert_eq!(event.group_id, "@TGS#2J4SZEAEL");
    assert_eq!(
        event.messages,
        [
            RecalledMessage::new(1, None),
            RecalledMessage::new(u32::MAX, None)
        ]
    );
    assert_eq!(event.topic_id, None);
    assert_eq!(event.event_time, Some(UnixMillis::new(1_670_574_414_123)));
}

/// Over one connection: the documented callback (acknowledged, its event delivered), a refused
/// one whose body the layer never reads (the connection must still carry the next request), and
/// the oldest documented form (acknowledged, delivered).
async fn exchange_callbacks(
    client: &mut Client,
    events: &mut mpsc::UnboundedReceiver<RecallEvent>,
) {
    client.post(CALLBACK, EVENT).await.assert_ok_ack();
    assert_documented_event(&next_event(events).await);
    let reply = client.post(OTHER_APP, EVENT).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    client.post(CALLBACK, OLD_EVENT).await.assert_ok_ack();
    assert_old_event(&next_event(events).await);
}

/// Receives the next event a handler passed on, within the bound.
async fn next_event(events: &mut mpsc::UnboundedReceiver<RecallEvent>) -> RecallEvent {
    within("event", events.recv())
        .await
        .expect("channel closed")
}

// ---------------------------------------------------------------------------------------------
// 1. axum 0.8

/// What the axum callback handler saw: each event with the body bytes it could still read.
type Calls = mpsc::UnboundedSender<(RecallEvent, Bytes)>;

/// The callback handler of an ordinary axum app: the event from the extensions, the body, and
/// `Ack` as the response.
async fn axum_callback(
    State(calls): State<Calls>,
    Extension(event): Extension<RecallEvent>,
    body: Bytes,
) -> Ack {
    calls.send((event, body)).unwrap();
    Ack::ok()
}

async fn echo(body: Bytes) -> Bytes {
    body
}

#[tokio::test]
async fn axum_router_layer_on_the_whole_app() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/im/callback", post(axum_callback))
        .route("/health", get(|| async { "healthy" }))
        .route("/echo", post(echo))
        .with_state(calls)
        .layer(RecallLayer::new([APP]));
    let server = Server::axum(app).await;
    let mut client = Client::connect(server.addr).await;

    // A valid callback reaches the handler with its event, and the body is still readable.
    client.post(CALLBACK, EVENT).await.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_documented_event(&event);
    assert_eq!(body, EVENT);

    // A refused callback is answered by the layer and never reaches the handler.
    let reply = client.post(OTHER_APP, EVENT).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    // The recall command with another method than POST: 405, before axum's routing.
    let reply = client.send(Method::GET, CALLBACK, "").await;
    reply.assert_fail(
        StatusCode::METHOD_NOT_ALLOWED,
        "callbacks must be sent with POST",
    );
    // A body that is not a recall event: 400.
    let reply = client.post(CALLBACK, r#"{"GroupId":1}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.content_type(), "application/json");

    // Other routes work through the layer, bodies untouched.
    let reply = client.send(Method::GET, "/health", "").await;
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"healthy"[..])
    );
    let reply = client.post("/echo?a=b", "not a callback").await;
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"not a callback"[..])
    );
    // Unknown paths get axum's own 404 (the fallback is layered too, and lets it through).
    let reply = client.send(Method::GET, "/nowhere", "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A second valid callback on the same connection, older body shape.
    client.post(CALLBACK, OLD_EVENT).await.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_old_event(&event);
    assert_eq!(body, OLD_EVENT);

    client.close().await;
    server.stop().await;
    // Exactly the two valid callbacks reached the handler.
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn axum_route_layer_on_one_route() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/im/callback", post(axum_callback))
        .route_layer(RecallLayer::new([APP]))
        // Added after `route_layer`: not layered.
        .route("/echo", post(echo))
        .with_state(calls);
    let server = Server::axum(app).await;

    let reply = request_once(server.addr, Method::POST, CALLBACK, EVENT).await;
    reply.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_documented_event(&event);
    assert_eq!(body, EVENT);

    let reply = request_once(server.addr, Method::POST, OTHER_APP, EVENT).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");

    // The same refused query on a route without the layer reaches that route untouched...
    let other_route = OTHER_APP.replace("/im/callback", "/echo");
    let reply = request_once(server.addr, Method::POST, &other_route, EVENT).await;
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, EVENT.as_bytes())
    );
    // ...and on no route at all, axum answers 404: `route_layer` runs only on a matched route.
    let nowhere = OTHER_APP.replace("/im/callback", "/nowhere");
    let reply = request_once(server.addr, Method::POST, &nowhere, EVENT).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "a refused callback reached the handler"
    );
}

/// Acknowledge mode in axum (no socket: the `Router` is itself a tower service). `Router::layer`
/// wants the layer and its service `Send + Sync`, so the handler closure must be `Sync` too.
#[tokio::test]
async fn axum_router_layer_in_acknowledge_mode() {
    let (events, mut received) = mpsc::unbounded_channel();
    let handler_calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&handler_calls);
    let app = Router::new()
        .route(
            "/im/callback",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { Ack::fail("the route was called") }
            }),
        )
        .layer(RecallLayer::new([APP]).acknowledge_fn(move |event| {
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        }));

    let request = callback(CALLBACK, axum::body::Body::from(EVENT));
    let response = within("oneshot", app.clone().oneshot(request))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(body_of(response).await, OK_JSON);
    assert_documented_event(&next_event(&mut received).await);

    let request = callback(OTHER_APP, axum::body::Body::from(EVENT));
    let response = within("oneshot", app.oneshot(request)).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(handler_calls.load(Ordering::SeqCst), 0);
    assert!(received.try_recv().is_err());
}

// ---------------------------------------------------------------------------------------------
// 2. hyper 1.x, via `TowerToHyperService`

#[tokio::test]
async fn hyper_keep_alive_connection_carries_several_callbacks() {
    let (calls, mut seen) = mpsc::unbounded_channel::<RecallEvent>();
    let inner = service_fn(move |request: Request<RequestBody<Incoming>>| {
        let calls = calls.clone();
        async move {
            let event = request.extensions().get::<RecallEvent>().cloned();
            let response = match event {
                Some(event) => {
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    assert!(body.starts_with(b"{\"CallbackCommand\""));
                    calls.send(event).unwrap();
                    Ack::ok().into_http_response()
                }
                // Not a callback: echo the path and the body.
                None => {
                    let path = request.uri().path().to_owned();
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    let mut text = path.into_bytes();
                    text.extend_from_slice(&body);
                    Response::new(Full::new(Bytes::from(text)))
                }
            };
            Ok::<_, Infallible>(response)
        }
    });
    let service = ServiceBuilder::new()
        .layer(RecallLayer::new([APP]))
        .service(inner);
    let service = TowerToHyperService::new(service);

    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::clone(&connections);
    let server = Server::start(|listener, mut signal| async move {
        // Connection tasks live in the set: dropping it (at shutdown) ends them all.
        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut signal => break,
                accepted_stream = listener.accept() => {
                    let (stream, _) = accepted_stream.unwrap();
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let service = service.clone();
                    tasks.spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    })
    .await;

    let mut client = Client::connect(server.addr).await;
    exchange_callbacks(&mut client, &mut seen).await;

    let reply = client.post("/plain", "body").await;
    assert_eq!(
        (reply.status, &reply.body[..]),
        (StatusCode::OK, &b"/plainbody"[..])
    );

    client.post(CALLBACK, EVENT).await.assert_ok_ack();
    assert_documented_event(&next_event(&mut seen).await);

    client.close().await;
    server.stop().await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "keep-alive was not used"
    );
    assert!(seen.try_recv().is_err());
}

// ---------------------------------------------------------------------------------------------
// 3. tonic 0.14: a gRPC service and the callback on one port

#[tokio::test]
async fn tonic_grpc_and_callback_share_one_port() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let (reporter, health_service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("tim.Recall", tonic_health::ServingStatus::NotServing)
        .await;

    let (events, mut received) = mpsc::unbounded_channel();
    let layer = RecallLayer::new([APP]).acknowledge_fn(move |event| {
        let events = events.clone();
        async move {
            let _ = events.send(event);
        }
    });
    let server = Server::start(|listener, signal| async move {
        tonic::transport::Server::builder()
            .accept_http1(true)
            .layer(layer)
            .add_service(health_service)
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                async move {
                    let _ = signal.await;
                },
            )
            .await
            .unwrap();
    })
    .await;

    // gRPC (HTTP/2) through the layer.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(10));
    let channel = within("gRPC connect", channel.connect()).await.unwrap();
    let mut health = HealthClient::new(channel);
    let check = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    let overall = within("gRPC check", health.check(check(""))).await.unwrap();
    assert_eq!(overall.get_ref().status(), ServingStatus::Serving);
    let named = within("gRPC check", health.check(check("tim.Recall")))
        .await
        .unwrap();
    assert_eq!(named.get_ref().status(), ServingStatus::NotServing);
    let unknown = within("gRPC check", health.check(check("nope"))).await;
    assert_eq!(unknown.unwrap_err().code(), tonic::Code::NotFound);

    // The HTTP/1.1 callback on the same port: answered by the layer in acknowledge mode.
    let mut client = Client::connect(server.addr).await;
    exchange_callbacks(&mut client, &mut received).await;
    client.close().await;

    // gRPC still answers after the callbacks.
    let overall = within("gRPC check", health.check(check(""))).await.unwrap();
    assert_eq!(overall.get_ref().status(), ServingStatus::Serving);
    drop(health);

    server.stop().await;
    assert!(received.try_recv().is_err());
}

// ---------------------------------------------------------------------------------------------
// 4. Composition with tower's own middleware (no socket)

/// A request body that never delivers anything: a sender that stalls mid-body.
struct Stalled;

impl Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Pending
    }
}

fn callback<B>(path: &str, body: B) -> Request<B> {
    Request::post(path).body(body).unwrap()
}

fn full(body: &'static str) -> Full<Bytes> {
    Full::new(Bytes::from_static(body.as_bytes()))
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
        .layer(RecallLayer::new([APP]))
        .service(slow_inner(Arc::clone(calls), delay))
}

async fn body_of<B>(response: Response<B>) -> Bytes
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn tower_limit_and_timeout_around_the_layer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let stack = |delay| outer_stack(&calls, delay);

    // Accepted: the inner service answers through both outer layers.
    let response = within(
        "oneshot",
        stack(Duration::ZERO).oneshot(callback(CALLBACK, full(EVENT))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, OK_JSON);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Refused: the layer answers, the inner service is not called.
    let response = within(
        "oneshot",
        stack(Duration::ZERO).oneshot(callback(OTHER_APP, full(EVENT))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The outer limit and timeout cover the layer's own reading of the body: a sender that
    // stalls mid-body holds the only slot until the timeout cuts it off, then frees it.
    let mut stalled = outer_stack::<Stalled>(&calls, Duration::ZERO);
    within("ready", stalled.ready()).await.unwrap();
    let reading = stalled.call(callback(CALLBACK, Stalled));
    let blocked = tokio::time::timeout(Duration::from_millis(50), stalled.ready()).await;
    assert!(blocked.is_err(), "the outer concurrency limit was bypassed");
    let error = within("stalled", reading).await.unwrap_err();
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
    within("ready again", stalled.ready()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // And a slow inner service.
    let error = within(
        "oneshot",
        stack(Duration::from_secs(5)).oneshot(callback(CALLBACK, full(EVENT))),
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
            assert_documented_event(&event.expect("no event in the extensions"));
            Ok::<_, Infallible>(Ack::ok().into_http_response::<Full<Bytes>>())
        }
    });
    let mut service = ServiceBuilder::new()
        .layer(RecallLayer::new([APP]))
        .concurrency_limit(1)
        // Generous: the first callback below waits for the test to release it.
        .timeout(Duration::from_secs(1))
        .service(inner);

    // The first callback takes the only permit: `poll_ready` reserved it, and the layer hands
    // that ready service (with its permit) on to the body-reading future.
    within("ready", service.ready()).await.unwrap();
    let first = tokio::spawn(service.call(callback(CALLBACK, full(EVENT))));
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
    let response = service
        .call(callback(OTHER_APP, full(EVENT)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    within("ready", service.ready()).await.unwrap();

    // The inner timeout fires as an error of the layered service.
    let slow = CALLBACK.replace("/im/callback", "/slow");
    let error = within("slow", service.call(callback(&slow, full(EVENT))))
        .await
        .unwrap_err();
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
