//! What the stack tests share: the callbacks Tencent documents, a server started on 127.0.0.1
//! port 0 and stopped gracefully, a real HTTP/1.1 client over one socket, and the checks of
//! what comes back.
//!
//! Every wait is bounded by [`within`]: a test fails instead of hanging.

// Each test file uses the part it needs.
#![allow(dead_code)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tower::{BoxError, Service};
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{
    Ack, GroupType, Platform, RecallEvent, RecalledMessage, SdkAppId, UnixMillis,
};

/// The app the servers under test accept.
pub const APP: u64 = 1_400_000_000;
/// The newest documented body.
pub const EVENT: &str = include_str!("../fixtures/recall_documented.json");
/// An older body: no `TopicId` or `MsgId`, `EventTime` as a string, two messages.
pub const OLD_EVENT: &str = r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1","Type":"Public","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":4294967295}],"EventTime":"1670574414123"}"#;
pub const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
/// The path the callbacks are sent to.
pub const CALLBACK_PATH: &str = "/im/callback";

/// The documented callback for `APP`, as Tencent sends it
/// (`?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI`).
pub fn documented() -> Callback {
    Callback::from_json(APP, EVENT)
}

/// The oldest documented body for `APP`.
pub fn old_form() -> Callback {
    Callback::from_json(APP, OLD_EVENT)
}

/// The documented callback for an app that is not on the allowlist.
pub fn other_app() -> Callback {
    Callback::from_json(APP + 1, EVENT)
}

/// Bounds a network wait: a test fails instead of hanging.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A running server: its address, the signal that stops it, and its task.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
    /// The connections accepted, for servers started with [`Server::hyper`].
    pub connections: Arc<AtomicUsize>,
}

impl Server {
    /// Starts `serve` on a listener bound to 127.0.0.1 port 0; `serve` must return once the
    /// given signal completes.
    pub async fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, signal) = oneshot::channel();
        let task = tokio::spawn(serve(listener, signal));
        Self {
            addr,
            shutdown,
            task,
            connections: Arc::default(),
        }
    }

    /// An axum app served with `axum::serve` and graceful shutdown.
    pub async fn axum(app: Router) -> Self {
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

    /// A tower service served by hyper's HTTP/1.1 server through `TowerToHyperService`, with
    /// keep-alive; [`connections`](Self::connections) counts the connections accepted.
    pub async fn hyper<S, B>(service: S) -> Self
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        let service = TowerToHyperService::new(service);
        let mut server = Self::start(|listener, mut signal| async move {
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
        server.connections = connections;
        server
    }

    /// Signals shutdown and waits for the server to finish (gracefully, within the bound).
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        within("server shutdown", self.task).await.unwrap();
    }
}

/// One HTTP/1.1 client connection (hyper's client, over one `TcpStream`).
pub struct Client {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
    connection: JoinHandle<()>,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
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

    /// Sends `request` (with a `Host` header added) and reads the whole answer.
    pub async fn request(&mut self, mut request: Request<Full<Bytes>>) -> Reply {
        let host = HeaderValue::try_from(self.addr.to_string()).unwrap();
        request.headers_mut().insert(header::HOST, host);
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

    pub async fn send(&mut self, method: Method, path: &str, body: &'static str) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        self.request(request).await
    }

    pub async fn post(&mut self, path: &str, body: &'static str) -> Reply {
        self.send(Method::POST, path, body).await
    }

    /// Posts `callback` to [`CALLBACK_PATH`].
    pub async fn callback(&mut self, callback: &Callback) -> Reply {
        self.callback_to(CALLBACK_PATH, callback).await
    }

    /// Posts `callback` to another path.
    pub async fn callback_to(&mut self, path: &str, callback: &Callback) -> Reply {
        self.request(callback.request_to(path).unwrap()).await
    }

    /// Closes the connection and waits until it is gone.
    pub async fn close(self) {
        drop(self.sender);
        within("client close", self.connection).await.unwrap();
    }
}

/// Posts `callback` to `path` on a fresh connection, then closes it.
pub async fn callback_once(addr: SocketAddr, path: &str, callback: &Callback) -> Reply {
    let mut client = Client::connect(addr).await;
    let reply = client.callback_to(path, callback).await;
    client.close().await;
    reply
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE.as_str()).unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// 200, JSON, the documented OK acknowledgement byte for byte.
    pub fn assert_ok_ack(&self) {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        assert_eq!(self.body, OK_JSON);
    }

    /// The layer's refusal: the status, JSON, `FAIL` with the status as code and this reason.
    pub fn assert_fail(&self, status: StatusCode, reason: &str) {
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

    /// A refusal with this status, whatever its reason: JSON, `FAIL`, the status as code.
    pub fn assert_refused(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(json["ActionStatus"], "FAIL", "{json}");
        assert_eq!(json["ErrorCode"], status.as_u16(), "{json}");
        assert!(json["ErrorInfo"].is_string(), "{json}");
    }

    /// 200 with this body.
    pub fn assert_text(&self, body: &str) {
        assert_eq!(
            (self.status, &self.body[..]),
            (StatusCode::OK, body.as_bytes()),
            "{self:?}"
        );
    }
}

/// The event the layer must parse from [`documented`].
pub fn assert_documented_event(event: &RecallEvent) {
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

/// The event the layer must parse from [`old_form`].
pub fn assert_old_event(event: &RecallEvent) {
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
pub async fn exchange_callbacks(
    client: &mut Client,
    events: &mut mpsc::UnboundedReceiver<RecallEvent>,
) {
    client.callback(&documented()).await.assert_ok_ack();
    assert_documented_event(&next_event(events).await);
    let reply = client.callback(&other_app()).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    client.callback(&old_form()).await.assert_ok_ack();
    assert_old_event(&next_event(events).await);
}

/// Receives the next event a handler passed on, within the bound.
pub async fn next_event(events: &mut mpsc::UnboundedReceiver<RecallEvent>) -> RecallEvent {
    within("event", events.recv())
        .await
        .expect("channel closed")
}

/// The callback handler of an axum app, as the `server` example writes it: the event of a
/// recall goes to the channel, and every callback command is acknowledged.
pub async fn record_recall(
    State(events): State<mpsc::UnboundedSender<RecallEvent>>,
    recall: Option<RecallEvent>,
) -> Ack {
    if let Some(event) = recall {
        events.send(event).unwrap();
    }
    Ack::ok()
}

/// The body of a response, whole.
pub async fn body_of<B>(response: Response<B>) -> Bytes
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}
