//! Receive Tencent Cloud IM's recall callbacks in any tower stack: group, one-to-one and
//! official-account messages, verified and typed.
//!
//! # The callbacks
//!
//! When a message is recalled in Tencent Cloud IM (also sold as Tencent Cloud Chat), by a user
//! in a client app or by an administrator through the REST API, Tencent's backend sends your app
//! backend an HTTP `POST` to the callback URL configured in the console. There are three recall
//! callbacks, told apart by the `CallbackCommand` query parameter:
//!
//! | `CallbackCommand` | recalled | event type | required body fields |
//! | --- | --- | --- | --- |
//! | `Group.CallbackAfterRecallMsg` | group messages | [`GroupRecall`] | `GroupId`, `MsgSeqList` with each `MsgSeq` |
//! | `C2C.CallbackAfterMsgWithDraw` | a one-to-one message | [`OneToOneRecall`] | `From_Account`, `To_Account`, `MsgKey` |
//! | `OfficialAccount.CallbackAfterMsgWithDraw` | official-account messages | [`OfficialAccountRecall`] | `Official_Account`, `WithdrawMsgList` with each `MsgKey` |
//!
//! ```text
//! POST /im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI
//!
//! {"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin","Type":"Community",
//!  "GroupId":"@TGS#_@TGS#cQVLVHIM62CJ","MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],
//!  "TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic","EventTime":1670574414123}
//! ```
//!
//! Tencent waits two seconds for `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`. With
//! callback authentication switched on in the console, the URL also carries `RequestTime` (Unix
//! seconds) and `Sign = hex(SHA-256(token ‖ RequestTime))`. Every callback command of the app
//! (new messages, joins, logins, recalls: about sixty) goes to the same URL.
//!
//! [`RecallLayer`] is a tower [`Layer`](tower_layer::Layer) that sits in front of an existing
//! hyper, axum or tonic service and does all of that correctly: it checks the `SdkAppid` against
//! your allowlist and, when you configure the console's callback token, the `Sign` /
//! `RequestTime` signature; reads the body under a size limit; parses it into a typed
//! [`RecallEvent`]; and then either forwards the request to your service with the event in its
//! extensions, or hands the event to a handler and answers the acknowledgement itself. Every other
//! request passes through untouched and unbuffered; with the
//! [guard](#the-other-commands-the-guard) on, the other callback commands are first held to the
//! same app and signature checks.
//!
//! ```toml
//! [dependencies]
//! tower-tim-recall = { version = "0.1", features = ["axum"] }   # `axum` only for axum apps
//!
//! [dev-dependencies]
//! tower-tim-recall = { version = "0.1", features = ["testing"] }
//! ```
//!
//! # A receiver in axum
//!
//! The default, forward mode: an accepted callback reaches your handler with its
//! [`RecallEvent`]; the handler answers with [`Ack`]. With the `axum` feature, `Ack` is an
//! `IntoResponse` and the handler takes the event as an argument: `Option<RecallEvent>` is
//! `None` for the other callback commands, which are acknowledged too (without the feature, take
//! `Option<Extension<RecallEvent>>` and return `Ack::ok().into_http_response()`). A handler can
//! also take one kind, `Option<OneToOneRecall>` say: see [`CallbackRejection`].
//!
//! ```no_run
//! use axum::{routing::post, Router};
//! use tower_tim_recall::{Ack, RecallEvent, RecallLayer};
//!
//! async fn callback(recall: Option<RecallEvent>) -> Ack {
//!     // Tencent waits two seconds: hand slow work to a queue or a task.
//!     match recall {
//!         Some(RecallEvent::Group(recall)) => {
//!             println!("{} message(s) recalled in {}", recall.messages.len(), recall.group_id)
//!         }
//!         Some(RecallEvent::OneToOne(recall)) => {
//!             println!("{} recalled {} to {}", recall.from_account, recall.msg_key, recall.to_account)
//!         }
//!         Some(event) => println!("recalled: {:?}", event.dedup_keys().collect::<Vec<_>>()),
//!         None => {} // another callback command
//!     }
//!     Ack::ok()
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The token comes from the environment, a file or a secret store: a bad one is an error.
//!     let token = std::env::var("TIM_CALLBACK_TOKEN")?;
//!     let app = Router::new()
//!         .route("/im/callback", post(callback))
//!         .layer(RecallLayer::new([1400000000], [token])?);
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! `Router::layer` puts the layer in front of every route, so a callback is recognized whatever
//! its path; `Router::route_layer` puts it in front of the routes added before it only. A
//! handler that takes `RecallEvent` or `Option<RecallEvent>` but is reached by a recall callback
//! that no layer checked answers 500 with `FAIL` and "no recall layer in front of this handler
//! takes this callback", rather than take the callback as checked: see [`CallbackRejection`].
//!
//! The `tower_stack` example is this receiver behind tower-http's middleware. The `server`
//! example (`cargo run --example server`) receives the three kinds on one route
//! (`route_layer`), with the guard on, an access log and flags, in acknowledge mode (below):
//! it needs nothing of a recall but its event.
//!
//! # The events
//!
//! [`RecallEvent`] is an enum over the three kinds, `#[non_exhaustive]` so that a kind Tencent
//! adds later can be added without breaking a `match`. Each kind's type has Tencent's field
//! names in serde and Rust names in code, and carries the callback's
//! [`CallbackContext`]: the app, the end user's `ClientIP`, the `OptPlatform` and the verified
//! `RequestTime`, from the URL.
//!
//! - **Deduplication.** No callback carries a delivery ID, and Tencent sends one again when
//!   retries are on. [`RecallEvent::dedup_keys`] gives one [`DedupKey`] per recalled message:
//!   (`SdkAppid`, `GroupId`, `TopicId`, `MsgSeq`) for a group, (`SdkAppid`, `MsgKey`)
//!   one-to-one, (`SdkAppid`, `Official_Account`, `MsgKey`) for an official account.
//! - **Fields the crate does not model.** Tencent adds fields over time. In forward mode the
//!   inner service reads the body as it was sent, the very bytes the layer parsed; in
//!   acknowledge mode the handler gets an [`AcceptedRecall`], the event next to the same bytes.
//! - **Queues.** Serialized, an event is one JSON object with Tencent's names,
//!   `CallbackCommand` first, the query context beside the body's fields; it reads back whole.
//! - **Without HTTP.** [`RecallEvent::parse`] reads a body of a kind with a query context
//!   under the layer's rules and errors ([`BodyError`]), for a queue consumer or another
//!   transport.
//!
//! ```
//! use tower_tim_recall::{CallbackContext, RecallEvent, RecallKind};
//!
//! let body = br##"{"CallbackCommand":"OfficialAccount.CallbackAfterMsgWithDraw",
//!     "Official_Account":"#TOA#_123","WithdrawMsgList":[{"MsgKey":"71_1_1698741698"}],
//!     "EventTime":1670574414123}"##;
//! let event = RecallEvent::parse(RecallKind::OfficialAccount, body, CallbackContext::new(1400000000))?;
//! assert_eq!(event.kind(), RecallKind::OfficialAccount);
//! assert_eq!(event.dedup_keys().count(), 1);
//! let queued = serde_json::to_string(&event).unwrap();
//! assert!(queued.starts_with(r#"{"CallbackCommand":"OfficialAccount.CallbackAfterMsgWithDraw","SdkAppid":1400000000,"#));
//! assert_eq!(serde_json::from_str::<RecallEvent>(&queued).unwrap(), event);
//! # Ok::<(), tower_tim_recall::BodyError>(())
//! ```
//!
//! A layer takes all three kinds by default;
//! [`recalls`](RecallLayerBuilder::recalls) narrows that down, and a kind it does not take is
//! treated as any other command: passed on untouched, or, with the guard on, verified first.
//! A list of recalled messages may be empty: the event is accepted, with no dedup key.
//!
//! In forward mode the request extensions hold the [`RecallEvent`]; a tower service that wants
//! one kind matches on it (or calls [`as_one_to_one`](RecallEvent::as_one_to_one) and its
//! siblings), and an axum handler can take the kind as an argument.
//!
//! # Acknowledge mode: the layer answers
//!
//! For a stack with no JSON route of its own (a tonic gRPC server, say), or when all you want is
//! the event: the layer passes each accepted recall, an [`AcceptedRecall`], to a handler, a
//! closure or a tower [`Service`](tower_service::Service), and answers `OK` itself without
//! calling the inner service. It is also the cheaper mode: the event does not travel in the
//! request to a route that takes it out again (`BENCHMARKS.md`). Tencent waits two seconds:
//! hand slow work on, as here to a bounded channel. `try_send` never waits: when the queue is
//! full, the handler fails and the layer answers 500, so Tencent's log shows the lost
//! callback, and memory stays bounded when the consumer lags.
//!
//! ```
//! use std::time::{SystemTime, UNIX_EPOCH};
//!
//! use http::{Request, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_tim_recall::testing::sign;
//! use tower_tim_recall::{AcceptedRecall, RecallEvent, RecallLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_tim_recall::ConfigError> {
//! let token = "the console's callback token";
//! let (events, mut received) = tokio::sync::mpsc::channel(1024);
//! let handler = service_fn(move |accepted: AcceptedRecall| {
//!     // `accepted.body` holds the body as sent, for fields the event does not model.
//!     let sent = events.try_send(accepted.event);
//!     async move { sent.map_err(|_| "the recall queue is full") }
//! });
//! let service = ServiceBuilder::new()
//!     .layer(RecallLayer::new([1400000000], [token])?.acknowledge(handler))
//!     .service(service_fn(|_request| async {
//!         // The rest of the application.
//!         Ok::<_, std::convert::Infallible>(http::Response::new(Full::<bytes::Bytes>::default()))
//!     }));
//!
//! // Tencent's side: a callback signed at the current time.
//! let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
//! let callback = Request::post(format!(
//!     "/im/callback?SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterMsgWithDraw\
//!      &contenttype=json&RequestTime={now}&Sign={}",
//!     sign(token, now),
//! ))
//! .body(Full::from(r#"{"From_Account":"jared","To_Account":"Jonh","MsgKey":"48374_2837546_1557481126"}"#))
//! .unwrap();
//! let response = service.oneshot(callback).await.unwrap();
//!
//! assert_eq!(response.status(), StatusCode::OK);
//! let answer = response.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(answer, r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#);
//! let Some(RecallEvent::OneToOne(recall)) = received.recv().await else { unreachable!() };
//! assert_eq!(recall.msg_key, "48374_2837546_1557481126");
//! # Ok(())
//! # }
//! ```
//!
//! # When the handler fails, panics or is slow
//!
//! Tencent waits two seconds for the answer, ignores what an `OK` says, and records anything
//! else (another status, a body that is not JSON, no answer in time) as a failed callback in
//! the console's log; it does not retry unless retries are switched on there. So in acknowledge
//! mode the layer answers each outcome of the handler as follows, and the connection stays
//! open for the next request:
//!
//! | the handler | the layer answers | the event |
//! | --- | --- | --- |
//! | succeeds | 200, `OK` | handled |
//! | returns an error | 500, `FAIL` "the recall handler failed"; the error is not shown | a failed callback in Tencent's log |
//! | returns a [`HandlerError`], or an error with one on its source chain | 500, `FAIL` with the `HandlerError`'s reason (a `&'static str`, such as "recall store unavailable"); nothing else of the error is shown | a failed callback in Tencent's log |
//! | panics, in `poll_ready`, `call` or its future | 500, `FAIL` "the recall handler panicked"; the message is not shown (the panic hook reports it as usual) | a failed callback in Tencent's log |
//! | is slow | when it finishes: the layer has no timer of its own | after two seconds, a timeout in Tencent's log |
//!
//! The panic is caught by the layer around the handler alone, and only with the default
//! `panic = "unwind"`; the handler (its clone for that callback) is dropped, and a lock it held
//! stays poisoned as after any panic.
//!
//! To answer within Tencent's two seconds whatever the handler does, put a timeout around it
//! (its error is answered 500 like any other), or better, make the handler a queue: hand each
//! event to a bounded channel with `try_send` and let a task do the slow work. The answer is
//! then immediate, and when the queue is full the callback fails visibly in Tencent's log
//! instead of being lost without a trace.
//!
//! ```
//! use std::time::Duration;
//! use tower::{service_fn, ServiceBuilder};
//! use tower_tim_recall::{AcceptedRecall, RecallEvent, RecallLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_tim_recall::ConfigError> {
//! let (events, mut queue) = tokio::sync::mpsc::channel::<RecallEvent>(1024);
//! tokio::spawn(async move {
//!     while let Some(event) = queue.recv().await {
//!         // The slow work: the database, the search index, push notifications.
//!         # let _ = event;
//!     }
//! });
//! let handler = ServiceBuilder::new()
//!     // A handler still running after 1.5 s is answered 500, before Tencent gives up.
//!     .timeout(Duration::from_millis(1500))
//!     // `try_send` never waits: a full queue is an error, answered 500.
//!     .service(service_fn(move |accepted: AcceptedRecall| {
//!         std::future::ready(events.try_send(accepted.event))
//!     }));
//! let layer = RecallLayer::new([1400000000], ["the console's callback token"])?
//!     .acknowledge(handler);
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```
//!
//! In forward mode the inner service is the application's own, and the layer treats it as any
//! middleware does: its error is the service's error, and its panic unwinds through the layer
//! (hyper then closes the connection). Compose tower-http's `CatchPanicLayer` and
//! `TimeoutLayer` with it. Outside the layer, they also cover the layer's own reading of the
//! body (a sender that stalls); inside, only the application.
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::post, Router};
//! use http::StatusCode;
//! use tower::ServiceBuilder;
//! use tower_http::{catch_panic::CatchPanicLayer, timeout::TimeoutLayer};
//! use tower_tim_recall::{Ack, RecallLayer};
//!
//! // A panic is answered as a failed callback, in Tencent's format.
//! fn failed(_panic: Box<dyn std::any::Any + Send>) -> http::Response<axum::body::Body> {
//!     let mut response = Ack::fail_with_code(500, "internal error").into_http_response();
//!     *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
//!     response
//! }
//!
//! let app: Router = Router::new()
//!     .route("/im/callback", post(|| async { Ack::ok() }))
//!     .layer(
//!         ServiceBuilder::new()
//!             .layer(CatchPanicLayer::custom(failed))
//!             .layer(TimeoutLayer::with_status_code(
//!                 StatusCode::INTERNAL_SERVER_ERROR,
//!                 Duration::from_millis(1500),
//!             ))
//!             .layer(RecallLayer::new([1400000000], ["the console's callback token"])?),
//!     );
//! # let _ = app;
//! # Ok::<(), tower_tim_recall::ConfigError>(())
//! ```
//!
//! # Plain hyper
//!
//! `hyper_util::service::TowerToHyperService` serves a tower stack with hyper 1.x. The service
//! behind the layer receives hyper's body wrapped in [`RequestBody`]: write it for
//! `Request<RequestBody<Incoming>>` (or any body), not `Request<Incoming>`, which the compiler
//! refuses with a type mismatch (error E0631, "expected `Request<RequestBody<Incoming>>`"). Here
//! a server on a free port, and one callback sent to it over the socket:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper::body::Incoming;
//! use hyper_util::rt::TokioIo;
//! use hyper_util::service::TowerToHyperService;
//! use tower::ServiceBuilder;
//! use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RequestBody};
//!
//! async fn app(request: Request<RequestBody<Incoming>>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     if let Some(event) = request.extensions().get::<RecallEvent>() {
//!         println!("{} recalled: {:?}", event.kind(), event.dedup_keys().collect::<Vec<_>>());
//!     }
//!     Ok(Ack::ok().into_http_response())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_tim_recall::ConfigError> {
//! let service = ServiceBuilder::new()
//!     .layer(RecallLayer::new([1400000000], ["the console's callback token"])?)
//!     .service_fn(app);
//! let service = TowerToHyperService::new(service);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! tokio::spawn(async move {
//!     loop {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let service = service.clone();
//!         tokio::spawn(async move {
//!             let _ = hyper::server::conn::http1::Builder::new()
//!                 .keep_alive(true) // Tencent reuses connections
//!                 .serve_connection(TokioIo::new(stream), service)
//!                 .await;
//!         });
//!     }
//! });
//!
//! // Tencent's side, played by the `testing` feature over a hyper client connection.
//! # use tower_tim_recall::{testing::{read_ack, Callback}, GroupRecall, RecalledMessage};
//! # let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
//! # let (mut sender, connection) =
//! #     hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
//! # tokio::spawn(connection);
//! let event = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
//! let callback = Callback::new(event).signed("the console's callback token");
//! let mut request = callback.request::<Full<Bytes>>();
//! request.headers_mut().insert(http::header::HOST, addr.to_string().parse().unwrap());
//! let (status, ack) = read_ack(sender.send_request(request).await.unwrap()).await;
//! assert!(status.is_success() && ack.is_ok());
//! # Ok(())
//! # }
//! ```
//!
//! The `hyper_server` example runs this with flags and Ctrl-C handling.
//!
//! # tonic: gRPC and the callback on one port
//!
//! A tonic server serves HTTP/2 gRPC; `accept_http1(true)` lets the same port take Tencent's
//! HTTP/1.1 callback, and the layer in acknowledge mode answers it. gRPC requests, streaming
//! ones included, carry no `CallbackCommand`: they pass through untouched and unbuffered, guard
//! or not. Tencent's *other* callback commands would reach tonic and get its answer to an
//! unknown gRPC method (HTTP 200, `grpc-status: 12`, no body), which Tencent records as failed,
//! so give the callback URL a route that acknowledges them:
//!
//! ```no_run
//! use axum::routing::post;
//! use tonic::service::Routes;
//! use tower::service_fn;
//! use tower_tim_recall::{AcceptedRecall, Ack, RecallLayer};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! let recall = RecallLayer::builder()
//!     .signed_app(1400000000, ["the console's callback token"])
//!     .guard_other_commands() // the other commands are checked before the route takes them
//!     .build()?
//!     .acknowledge(service_fn(|accepted: AcceptedRecall| {
//!         println!("recalled: {}", String::from_utf8_lossy(&accepted.body));
//!         std::future::ready(Ok::<_, std::convert::Infallible>(()))
//!     }));
//! let routes = Routes::new(health)
//!     .into_axum_router()
//!     .route("/im/callback", post(|| async { Ack::ok() })); // the other commands
//!
//! tonic::transport::Server::builder()
//!     .accept_http1(true)
//!     .layer(recall)
//!     .add_routes(Routes::from(routes))
//!     .serve("0.0.0.0:3000".parse()?)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! The `tonic_server` example runs this.
//!
//! # Next to tower and tower-http middleware
//!
//! The layer takes its place in a `ServiceBuilder` like any other. In the order a user usually
//! writes them (outermost first):
//!
//! ```
//! use std::time::Duration;
//!
//! use axum::{routing::post, Router};
//! use http::StatusCode;
//! use tower::{limit::ConcurrencyLimitLayer, ServiceBuilder, ServiceExt};
//! use tower_http::{
//!     catch_panic::CatchPanicLayer, compression::CompressionLayer, timeout::TimeoutLayer,
//!     trace::TraceLayer,
//! };
//! use tower_tim_recall::testing::{read_ack, Callback};
//! use tower_tim_recall::{Ack, GroupRecall, RecallEvent, RecallLayer, RecalledMessage};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_tim_recall::ConfigError> {
//! let app = Router::new().route("/im/callback", post(|_: Option<RecallEvent>| async { Ack::ok() }));
//! let service = ServiceBuilder::new()
//!     .layer(TraceLayer::new_for_http())
//!     .layer(CatchPanicLayer::new())
//!     .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(2)))
//!     .layer(CompressionLayer::new())
//!     .layer(ConcurrencyLimitLayer::new(256))
//!     .layer(RecallLayer::new([1400000000], ["the console's callback token"])?)
//!     .service(app);
//!
//! let event = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
//! let callback = Callback::new(event).signed("the console's callback token");
//! let response = service.oneshot(callback.request::<axum::body::Body>()).await.unwrap();
//! let (status, ack) = read_ack(response).await;
//! assert!(status.is_success() && ack.is_ok());
//! # Ok(())
//! # }
//! ```
//!
//! Each of these layers works on either side of the recall layer, subject to the body-type
//! rule below; the side decides what it sees. Layers outside the recall layer see every
//! request, the layer's refusals included, and cover the layer's reading of a callback body: a
//! timeout there cuts off a sender that stalls mid-body, a concurrency limit counts callbacks
//! being read, and `CompressionLayer` also compresses the layer's acknowledgements when the
//! sender asks for gzip. Layers inside it see only what it passes on. `CatchPanicLayer`, on
//! either side, catches a panic of the application behind the recall layer (forwarded
//! callbacks and every other request); it never sees a panic of an acknowledge-mode handler,
//! which the layer answers itself (500, `the recall handler panicked`).
//!
//! Body types decide which orders compile. The layer changes both: its inner service receives
//! `Request<RequestBody<B>>` and it answers `Response<ResponseBody<B>>`. [`ResponseBody<B>`]
//! implements `Body` when `B` does and `Default` when `B` does; [`RequestBody<B>`] implements
//! `Body` when `B` does, with `Data = Bytes` (the only kind of body the layer accepts; hyper's,
//! axum's, tonic's and tower-http's bodies all are). The rule that bites: tower-http's
//! `TimeoutLayer` answers a timeout with an empty body, so the service it wraps must have a
//! `Default` response body, and a layer that changes the response body to one without `Default`
//! (`TraceLayer` does) must not sit inside it. With `TimeoutLayer` outside the recall layer and
//! `TraceLayer` inside:
//!
//! ```text
//! error[E0277]: the trait bound `tower_http::trace::ResponseBody<axum::body::Body, NeverClassifyEos<…>>: Default` is not satisfied
//!   = note: required for `tower_tim_recall::ResponseBody<tower_http::trace::ResponseBody<…>>` to implement `Default`
//!   = note: required for `tower_http::timeout::Timeout<Recall<Trace<Router, …>>>` to implement `Service<Request<Incoming>>`
//! ```
//!
//! The fix is to move `TraceLayer` outermost, as above. A layer whose body has no `Default` can
//! stay inside the recall layer only when nothing outside the recall layer needs `Default`.
//! The `tower_stack` example serves this stack with hyper; `tests/stack_composition.rs` checks
//! a callback, a passthrough request and a compressed passthrough response through it.
//!
//! # Testing a service behind the layer
//!
//! With the `testing` feature, [`testing::Callback`] builds callbacks exactly as Tencent's
//! backend does (query, signature at a chosen time, body from a typed event of any kind or raw
//! JSON under any command), so a test drives the whole service with `oneshot`, no Tencent
//! account needed; see the [`testing`] module.
//!
//! # The other commands: the guard
//!
//! Every callback command of an app arrives at the one URL, with the same `SdkAppid` and, with
//! authentication on, the same `Sign` / `RequestTime`. The layer knows the allowlist and the
//! tokens, so it can guard the whole URL:
//! [`guard_other_commands`](RecallLayerBuilder::guard_other_commands) holds every request that
//! carries a `CallbackCommand` other than the recalls it takes to the `SdkAppid` row (403) and
//! the signature row (401) of the table below. Both are decided from the query; the body is
//! left untouched and unbuffered, and no other row applies (the method, `contenttype` and body
//! of another command are the inner service's business). A request that passes goes on with a
//! [`VerifiedCallback`] in its extensions: the command and the verified [`CallbackContext`]
//! (with the `axum` feature, a handler takes it as an argument).
//!
//! ```
//! use tower_tim_recall::RecallLayer;
//!
//! let layer = RecallLayer::builder()
//!     .signed_app(1400000000, ["the console's callback token"])
//!     .guard_other_commands()
//!     .build()?;
//! # let _ = layer;
//! # Ok::<(), tower_tim_recall::ConfigError>(())
//! ```
//!
//! With the guard off (the default), the other commands pass through exactly like any other
//! request. Guard or not, a request without `CallbackCommand` is not a callback and is never
//! refused: a health check, or a gRPC call on the same port.
//!
//! What the guard reads is the query: `CallbackCommand` with any value, an empty one included,
//! makes a request a callback; a command given twice passes with the first value in the
//! `VerifiedCallback` (only a recall must be unambiguous, for its body is read as one kind).
//! So behind the guard, act on a callback only when the request carries a
//! [`VerifiedCallback`] or a [`RecallEvent`], and take its command from there: never from the
//! body's `CallbackCommand`, nor from a later value of the query's, which nothing verified.
//!
//! Tencent's console has a button that checks the callback URL, and Tencent does not document
//! the request it sends. What the layer answers follows from the rules above: a probe without
//! `CallbackCommand` goes to the inner service, like any request, so the route behind the layer
//! decides (the `server` example acknowledges it); a probe with another `CallbackCommand`
//! passes the guard when it carries the app and, for a signed app, a valid signature, as every
//! request from Tencent does, and is refused with 403 or 401 otherwise. Nothing here guesses at
//! a probe's shape: a request the layer cannot verify is never let through as one.
//!
//! # What the layer answers
//!
//! The decision table: the rows apply in this order, and the first that matches answers. Only
//! the body rows read the body. The three recall commands take every row; another command,
//! with the guard on, takes the `SdkAppid` and signature rows only.
//!
//! | request | answer | `ErrorInfo` |
//! | --- | --- | --- |
//! | no `CallbackCommand`; with the guard off, another command or a recall command the layer does not take (see [`recalls`](RecallLayerBuilder::recalls)) | passed to the inner service untouched, body streamed | |
//! | a recall command, not `POST` | 405 | `callbacks must be sent with POST` |
//! | `SdkAppid` missing, not a decimal integer, repeated, or not in the allowlist | 403, body never read | `SdkAppid is missing`, `… is not a decimal integer`, `… is repeated`, `… is not allowed` |
//! | the app is signed, and `RequestTime` / `Sign` missing, repeated or malformed | 401, body never read | `RequestTime is missing`, `… is repeated`, `… is not a decimal number of seconds`; `Sign is missing`, `… is repeated`, `… is not 64 hexadecimal digits` |
//! | the app is signed, and `RequestTime` older than the window allows, or further in the future, or `Sign` matching none of its tokens | 401, body never read | `RequestTime is too old`, `RequestTime is too far in the future`, `Sign does not match` |
//! | with the guard on, another command or a recall command the layer does not take, past the rows above | passed to the inner service with a [`VerifiedCallback`], body streamed | |
//! | `CallbackCommand` repeated, or `contenttype` other than `json` | 400, body never read | `CallbackCommand is repeated`, `contenttype is not json`, `contenttype is repeated` |
//! | body over the limit, by the body's exact size hint (hyper's body has it from `Content-Length`) or, for a body without one, by `Content-Length` or the hint's lower bound | 413, body never read | `body is larger than the limit` |
//! | body over the limit while reading | 413 | `body is larger than the limit` |
//! | body fails while reading | 400 | `body could not be read` |
//! | the app is signed, and the body completes after `RequestTime` has left the window (`max_age`): decided when the body is complete, by the clock, with no timer | 401 | `RequestTime is too old` |
//! | body not one JSON object, not UTF-8, nested deeper than 127 levels | 400 | `body is not a JSON object`, `body is not UTF-8`, `body is nested too deep` |
//! | the body's `CallbackCommand` not the query's (a group body under the one-to-one command, say) | 400 | `the body's CallbackCommand is not the query's` |
//! | body not an event of its kind: a required field missing, a field of the wrong type or given twice, trailing text | 400 | ``invalid body: `` and what serde_json found, as in ``invalid body: missing field `GroupId` at line 1 column 29`` (at most 160 bytes) |
//! | with [`max_messages`](RecallLayerBuilder::max_messages) set, the event names more recalled messages than it | 413 | `body names more messages than the limit` |
//! | valid | forwarded with the event, or acknowledged `OK` by the layer | |
//!
//! Every refusal is answered by the layer with `Content-Type: application/json` and
//! `{"ActionStatus":"FAIL","ErrorInfo":"<reason>","ErrorCode":<the HTTP status>}`; the inner
//! service is not called, and the reason never contains a token or a signature. The service
//! never returns an error of its own: its `Error` is the inner service's. In acknowledge mode,
//! a handler that fails or panics is answered 500 (see [the handler's
//! faults](#when-the-handler-fails-panics-or-is-slow)).
//!
//! An unsigned app's callbacks skip the 401 rows: their `Sign` and `RequestTime` are ignored.
//!
//! Query parameters are matched by name, as Tencent spells them (case-sensitive), after
//! percent-decoding; `contenttype` is compared case-insensitively. When the query names several
//! commands, the first recall command the layer takes decides the kind, and the request is
//! refused as repeated: which callback it is would be a guess. A `RequestTime` must be the
//! plain decimal Unix time in seconds (no sign, no leading zero) within the window; `Sign` is
//! compared in constant time over its decoded bytes, so upper-case hex is accepted too. A
//! body's `CallbackCommand`, when present and not `null`, must be the query's. Unknown body
//! fields are ignored, whatever the body says of the query parameters is too, and `EventTime`
//! is read as a number or a string of digits, as Tencent's documentation shows both. The
//! one-to-one body comes in two editions of Tencent's documentation, one with `UnreadMsgNum`
//! (any integer, `-1` included), the other with `EventTime`: both are optional.
//!
//! # The time window
//!
//! Tencent's rule is that a `RequestTime` more than a minute from the current time is invalid.
//! The layer has two bounds, each 60 seconds by default and each set on its own:
//! [`max_age`](RecallLayerBuilder::max_age), how far in the past, and
//! [`max_ahead`](RecallLayerBuilder::max_ahead), how far in the future; the 401 says which was
//! broken. Two bounds because a symmetric window lets a callback stamped in the future be
//! replayed for twice the window: a request signed 60 s ahead is good from the moment it is
//! captured until 60 s after its stamp, two minutes in all. Keep `max_ahead` at what the
//! clocks may disagree by, and `max_age` at how late Tencent's delivery may be.
//!
//! # Apps, tokens and rotation
//!
//! A layer is made in one of three ways, and each checks the whole configuration and returns
//! a [`ConfigError`] for a mistake, never a panic: tokens come from the environment, a file or
//! a secret store, and a bad one is found when the layer is built, not at the first callback.
//!
//! - [`RecallLayer::new`]`(apps, tokens)`: the common case, every app signed with the same
//!   token set;
//! - [`RecallLayer::unsigned`]`(apps)`: apps whose console has callback authentication off
//!   (see Security below);
//! - [`RecallLayer::builder`]: app by app, each with its own tokens or none, and the time
//!   window's bounds, the body limit, the recall kinds taken, the guard and the clock. It
//!   requires signatures unless
//!   [`allow_unsigned_apps`](RecallLayerBuilder::allow_unsigned_apps) is called.
//!
//! The mistakes: no app, an app twice, an empty token or token set, a token that starts or ends
//! with whitespace (as one read from a file with its line break does), an unsigned app in the
//! builder without `allow_unsigned_apps`, an empty set of recall kinds. Each app takes a set of
//! tokens, any of which verifies: while a token is changed in the console, callbacks signed
//! with the old and the new token both arrive, so list both until the change is done.
//!
//! ```
//! use std::time::Duration;
//! use tower_tim_recall::{RecallKind, RecallLayer};
//!
//! # fn main() -> Result<(), tower_tim_recall::ConfigError> {
//! // One token for every app, two while it is rotated.
//! let common = RecallLayer::new([1400000000, 1400000001], ["current-token", "previous-token"])?;
//!
//! // Each app its own way, and other settings.
//! let layer = RecallLayer::builder()
//!     .signed_app(1400000000, ["current-token", "previous-token"])
//!     .signed_app(1400000001, ["staging-token"])
//!     .unsigned_app(1400000002)
//!     .allow_unsigned_apps()
//!     .max_age(Duration::from_secs(30))
//!     .max_ahead(Duration::from_secs(5))
//!     .body_limit(16 * 1024)
//!     .recalls([RecallKind::Group, RecallKind::OneToOne])
//!     .guard_other_commands()
//!     .build()?;
//! # drop((common, layer));
//! # Ok(())
//! # }
//! ```
//!
//! The mode is chosen on the built layer: forward by default, or
//! [`acknowledge`](RecallLayer::acknowledge) with a handler.
//!
//! # Security
//!
//! Without a token, the only check is the `SdkAppid` allowlist, and SDKAppIDs are not secret
//! (they ship inside client apps): anyone who knows the URL can post recalls. Sign every app:
//! make the layer with [`RecallLayer::new`] or the builder's
//! [`signed_app`](RecallLayerBuilder::signed_app), not [`RecallLayer::unsigned`]. Tencent's
//! signature covers the token and `RequestTime`, not the body: serve the callback URL over
//! HTTPS, or a body can be changed in transit. A captured signed URL can be replayed within the
//! time window; keep both bounds short (see [the time window](#the-time-window)). The other
//! commands at the URL are not checked unless the [guard](#the-other-commands-the-guard) is
//! on: turn it on when the inner service acts on them. `ClientIP` is the end user's address as
//! Tencent reports it, not the sender's: never use it for access control. No token appears in
//! `Debug` output, error texts or answers.
//!
//! # Tracing
//!
//! With the `tracing` feature, the layer reports each callback it acts on to
//! [`tracing`](https://docs.rs/tracing). Only requests that name a recall command it takes get
//! a span, and, with the guard on, those that name another command; every other request
//! passes through without a trace of this layer. The span, `recall_callback` at `INFO` (a
//! child of the span current when the service is called, such as tower-http's `TraceLayer`
//! request span), has these fields:
//!
//! | field | value |
//! | --- | --- |
//! | `CallbackCommand` | the recall's command |
//! | `SdkAppid` | the app, as soon as the query names one as a number (also when it is refused) |
//! | `GroupId` | the group of a group recall, once the body is parsed |
//! | `messages` | how many messages were recalled, once the body is parsed |
//! | `decision` | `forwarded`, `acknowledged`, `refused` (a 4xx answer) or `failed` (the acknowledge-mode handler failed: 500) |
//! | `status` | the status the layer answered with; none for `forwarded`, where the inner service answers |
//!
//! Another command under the guard gets a `guarded_callback` span at `INFO`, with its
//! `CallbackCommand`, `SdkAppid`, a `decision` of `passed` or `refused`, and the `status` of a
//! refusal.
//!
//! The decision is also one event inside the span:
//! - `INFO` for an accepted callback (`recall callback forwarded` / `acknowledged`, `guarded
//!   callback passed`);
//! - `WARN` for a refusal (`callback refused`), with `status` and the refusal's fixed `reason`,
//!   because each one is either a callback from Tencent that is lost (a token rotated in the
//!   console but not here, an app missing from the layer, a body the layer cannot read) or a
//!   request that did not come from Tencent: both are worth an operator's look. A flood of
//!   them is a flood of bad requests; rate-limit logs in the subscriber if needed;
//! - `ERROR` when the acknowledge-mode handler returned an error.
//!
//! Never recorded: a token, the `Sign` value, the body, or the handler's error (it may carry
//! anything: log it in the handler, where its context is known). A body the parser refuses is
//! reported as `invalid body`, without the parser's message, which can quote the body. The span
//! covers the layer's work up to its decision; the inner service's own spans are not nested in
//! it. Without the feature, none of this is compiled.
//!
//! `SECURITY.md`, at the root of the repository and of the published crate, has the threat
//! model in full: what the signature does not cover and what follows, replay within the window,
//! where Tencent publishes its callback senders' addresses (`GetIPList`), the limits the layer
//! enforces by default and those it leaves to the server, and how to report a vulnerability.
//!
//! # Hostile input
//!
//! The callback URL faces the internet; what a stranger can send costs the layer little and
//! gets the answer above:
//!
//! - **Query strings** are read in one pass. Names are compared after percent-decoding without
//!   allocating; only the first value of each parameter the layer reads is decoded, so a
//!   repeated parameter keeps no values and thousands of unread parameters cost no more memory
//!   than ten. As the URL standard has it, only `&` separates parameters (`;` is text), a
//!   parameter without `=` has an empty value, an invalid escape such as `%zz` is kept as
//!   written, and decoded bytes that are not UTF-8 become U+FFFD (so they never match a name or
//!   value). `SdkAppid` with leading zeros is the same number. Raw bytes that are not UTF-8,
//!   and request targets longer than 65 534 bytes, never reach a tower service: `http::Uri`
//!   refuses them, and hyper answers 400 or 414 itself.
//! - **Bodies** are read frame by frame up to the limit, however they are cut: 100 000
//!   one-byte frames are joined into one buffer (which never grows past twice the limit) or
//!   refused with 413 at the first byte past it; an endless stream of empty frames is read 64
//!   frames per poll, yielding in between. A body must be UTF-8 JSON (RFC 8259): a byte-order
//!   mark, UTF-16 or invalid UTF-8 anywhere, even in a field the layer skips, is refused with
//!   400. Arrays and objects may nest 127 levels, as deep as `serde_json` parses into a
//!   `Value`; deeper nesting anywhere is refused with 400, without recursion. Fields the layer
//!   reads are range-checked (`MsgSeq` of `-1`, `1.5`, `4294967296` or `1e400` is refused, and
//!   so is an `UnreadMsgNum` outside the 64-bit integers) and may not be given twice; fields it
//!   skips are checked for JSON syntax only, so a repeated unknown key, a `1e400` or a lone
//!   `\ud800` there is passed on as sent. So the body a recall is forwarded with is valid JSON
//!   (RFC 8259) that a typed parse skipping unknown fields reads, as the layer's does; a parse
//!   into `serde_json::Value` refuses those two values (RFC 8259 leaves them to each parser,
//!   section 6 and 8.2), so an inner service that parses the body whole handles that error.
//!   They are not refused here: Tencent does not send them, and finding them would cost a scan
//!   of every body for input only a sender that forges or replays a callback can craft. A NUL
//!   byte is refused as JSON refuses it; an escaped `\u0000` inside a string is a character
//!   like any other.
//! - **Slow or broken peers**: a body that stalls keeps the callback waiting, as any body
//!   read does; bound it with [`tower::timeout`](https://docs.rs/tower/latest/tower/timeout/)
//!   around the layer or your server's read timeout, and dropping the response future releases
//!   the body, the bytes read and the inner service's copy. A body that fails mid-stream is
//!   refused with 400 and the inner service is not called; when the failure is a client that
//!   disconnected, the server simply drops the callback, and keeps serving the others.
//!
//! # Bodies and types
//!
//! The inner service receives `Request<`[`RequestBody<B>`](RequestBody)`>`: the original body
//! streamed for requests that are not recall callbacks (other commands passed by the guard
//! included), the bytes the layer read for forwarded callbacks. Responses are `Response<`[`ResponseBody<B>`](ResponseBody)`>`: the inner service's
//! body or the layer's acknowledgement. Both bodies require `Data = Bytes`, as hyper's, axum's
//! and tonic's bodies have.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `axum` | `IntoResponse` for [`Ack`]; [`RecallEvent`], each kind's type and [`VerifiedCallback`], each also as an `Option`, as handler arguments, rejected with [`CallbackRejection`] |
//! | `testing` | the [`testing`] module: callbacks as Tencent sends them, [`testing::read_ack`] for the answers, and [`testing::sign`] |
//! | `tracing` | a span for each callback the layer acts on and an event for its decision (see [Tracing](#tracing)) |
//!
//! # Examples
//!
//! In the repository's `examples/` folder, each runnable with `cargo run --example NAME`:
//! `server` (axum), `hyper_server`, `tonic_server`, `tower_stack` (tower-http layers around the
//! recall layer), and `simulate` (`cargo run --example simulate --features testing`), which
//! plays Tencent's backend against any of them, with each kind of recall and other commands.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The guide links to items of the `axum` and `testing` features, which exist only with them;
// docs.rs and CI document every feature, where each link is checked.
#![cfg_attr(
    not(all(feature = "axum", feature = "testing")),
    allow(rustdoc::broken_intra_doc_links)
)]
#![deny(missing_docs, unreachable_pub, unsafe_code)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

mod accepted;
mod body;
mod body_buffer;
mod clock;
mod config_error;
mod construction;
#[cfg(feature = "axum")]
mod extract;
mod future;
#[cfg(any(test, all(fuzzing, feature = "testing")))]
#[doc(hidden)]
pub mod fuzzing;
mod handler;
mod handler_error;
mod layer;
mod mode;
mod policy;
mod protocol;
mod service;
#[cfg(test)]
mod test_support;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod trace;
mod verified;

pub use accepted::AcceptedRecall;
pub use body::{RequestBody, ResponseBody};
pub use config_error::ConfigError;
pub use construction::RecallLayerBuilder;
#[cfg(feature = "axum")]
pub use extract::CallbackRejection;
pub use future::ResponseFuture;
pub use handler_error::HandlerError;
pub use layer::RecallLayer;
pub use mode::{Acknowledge, Forward, Mode};
pub use protocol::ack::{Ack, ActionStatus};
pub use protocol::app::SdkAppId;
pub use protocol::body_error::{BodyError, BodyErrorKind};
pub use protocol::context::CallbackContext;
pub use protocol::dedup::DedupKey;
pub use protocol::event::RecallEvent;
pub use protocol::group::{GroupRecall, RecalledMessage};
pub use protocol::group_type::GroupType;
pub use protocol::millis::UnixMillis;
pub use protocol::official_account::{OfficialAccountRecall, WithdrawnMessage};
pub use protocol::one_to_one::OneToOneRecall;
pub use protocol::platform::Platform;
pub use protocol::recall_kind::RecallKind;
pub use service::Recall;
pub use verified::VerifiedCallback;

// The README's Rust snippets compile.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
