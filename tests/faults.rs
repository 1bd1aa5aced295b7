//! A handler that fails, panics or is slow: what the layer answers, and what the connection and
//! the event become, row by row of the crate documentation's table ("When the handler fails,
//! panics or is slow").
//!
//! In forward mode the inner service is the application's own: tower-http's `CatchPanicLayer`
//! and `TimeoutLayer` compose with the layer, inside or outside it.

use std::convert::Infallible;
use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tokio::sync::{mpsc, watch};
use tower::{service_fn, BoxError, Service, ServiceBuilder, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_tim_recall::{
    AcceptedRecall, Ack, Acknowledge, GroupRecall, RecallEvent, RecallLayer, RequestBody,
};

use support::fixtures::{APP, COMMAND};
use support::net::client::{body_of, Client};
use support::net::server::Server;
use support::net::within;
use support::requests::{full, post};
use support::{Answer, Recorder};

/// Every deliberate panic carries this, and only those are kept out of the test output.
const PANIC_MARK: &str = "deliberate panic in a test";

/// A recall callback of one message `seq` in `group`: the group name tells the test handlers
/// what to do.
fn callback(group: &str, seq: u32) -> Request<Full<Bytes>> {
    let body = format!(r#"{{"GroupId":"{group}","MsgSeqList":[{{"MsgSeq":{seq}}}]}}"#);
    post(&format!("SdkAppid={APP}&{COMMAND}"), full(body))
}

fn layer() -> RecallLayer {
    RecallLayer::unsigned([APP]).unwrap()
}

/// Sends one callback through `layer` in front of a recorder, and reads the answer. The
/// recorder, the rest of the application, must not be called.
async fn answer<H>(layer: RecallLayer<Acknowledge<H>>) -> Answer
where
    H: Service<AcceptedRecall> + Clone,
    H::Error: Into<BoxError>,
{
    let recorder = Recorder::default();
    let service = ServiceBuilder::new().layer(layer).service(recorder.clone());
    let response = within("oneshot", service.oneshot(callback("@TGS#fault", 1)))
        .await
        .unwrap();
    assert_eq!(recorder.calls(), 0, "the application was called");
    Answer::read(response).await
}

/// The acknowledge-mode handler made of `handle`, which is given each group recall.
fn handler<F, Fut>(
    mut handle: F,
) -> impl Service<
    AcceptedRecall,
    Response = (),
    Error = Infallible,
    Future = impl Future<Output = Result<(), Infallible>> + Send,
> + Clone
       + Send
where
    F: FnMut(GroupRecall) -> Fut + Clone + Send,
    Fut: Future<Output = ()> + Send,
{
    service_fn(move |accepted: AcceptedRecall| {
        let done = handle(group(accepted.event));
        async move {
            done.await;
            Ok(())
        }
    })
}

/// The group recall the test callbacks report.
fn group(event: RecallEvent) -> GroupRecall {
    match event {
        RecallEvent::Group(recall) => recall,
        other => panic!("not a group recall: {other:?}"),
    }
}

/// A panic payload that is not a message.
struct DeliberatePanic;

/// Keeps the deliberate panics (and only them) out of the test output.
fn quiet_deliberate_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let deliberate = payload.is::<DeliberatePanic>()
                || message.is_some_and(|message| message.contains(PANIC_MARK));
            if !deliberate {
                previous(info);
            }
        }));
    });
}

/// Closes the client, stops the server, and checks that one connection carried every request
/// and ended without an error on either side.
async fn one_clean_connection(client: Client, server: Server) {
    client.close().await;
    let connections = server.stop().await;
    assert_eq!(connections.accepted(), 1);
    assert_eq!(connections.failed(), 0);
}

// ---------------------------------------------------------------------------------------------
// Acknowledge mode: an error

const FAILED: &str = "the recall handler failed";
const PANICKED: &str = "the recall handler panicked";

#[tokio::test]
async fn a_handler_error_is_answered_500_without_the_error() {
    let failing = service_fn(|_accepted: AcceptedRecall| async {
        Err::<(), _>(std::io::Error::other("database unreachable at 10.0.0.5"))
    });
    let answer = answer(layer().acknowledge(failing)).await;
    answer.assert_fail(StatusCode::INTERNAL_SERVER_ERROR, FAILED);
}

// ---------------------------------------------------------------------------------------------
// Acknowledge mode: a panic, wherever in the handler it happens

/// A handler service that panics in `poll_ready`.
#[derive(Clone)]
struct PanicsWhenPolled;

impl Service<AcceptedRecall> for PanicsWhenPolled {
    type Response = ();
    type Error = Infallible;
    type Future = std::future::Ready<Result<(), Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        panic!("{PANIC_MARK}: poll_ready, secret=hunter2")
    }

    fn call(&mut self, _accepted: AcceptedRecall) -> Self::Future {
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn a_handler_panic_is_caught_and_answered_500_without_the_message() {
    quiet_deliberate_panics();
    let panicked = |answer: Answer| answer.assert_fail(StatusCode::INTERNAL_SERVER_ERROR, PANICKED);

    // In the handler's future, after it has started.
    let in_future = handler(|_event| async {
        tokio::task::yield_now().await;
        panic!("{PANIC_MARK}: future, secret=hunter2");
    });
    panicked(answer(layer().acknowledge(in_future)).await);

    // In `call`, before any future exists.
    let in_call = service_fn(
        |_accepted: AcceptedRecall| -> std::future::Ready<Result<(), Infallible>> {
            panic!("{PANIC_MARK}: call, secret=hunter2")
        },
    );
    panicked(answer(layer().acknowledge(in_call)).await);

    // In `poll_ready`.
    panicked(answer(layer().acknowledge(PanicsWhenPolled)).await);

    // A panic whose payload is not a message.
    let odd_payload = handler(|_event| async {
        panic::panic_any(DeliberatePanic);
    });
    panicked(answer(layer().acknowledge(odd_payload)).await);
}

#[tokio::test]
async fn a_panicking_handler_leaves_the_keep_alive_connection_serving() {
    quiet_deliberate_panics();
    let (events, mut handled) = mpsc::unbounded_channel();
    let layer = layer().acknowledge(handler(move |event: GroupRecall| {
        let events = events.clone();
        async move {
            if event.group_id == "@TGS#panic" {
                panic!("{PANIC_MARK}: over a socket");
            }
            events.send(event).unwrap();
        }
    }));
    let recorder = Recorder::default();
    let service = ServiceBuilder::new().layer(layer).service(recorder.clone());
    let server = Server::http1(service).await;
    let mut client = Client::connect(server.addr).await;

    for (group, seq) in [("@TGS#a", 1), ("@TGS#panic", 2), ("@TGS#b", 3)] {
        let answer = client.request(callback(group, seq)).await;
        if group == "@TGS#panic" {
            answer.assert_fail(StatusCode::INTERNAL_SERVER_ERROR, PANICKED);
        } else {
            answer.assert_ok_ack();
            let event = within("event", handled.recv()).await.unwrap();
            assert_eq!(
                (event.group_id.as_str(), event.messages[0].msg_seq),
                (group, seq)
            );
        }
    }
    // Other requests on the same connection still reach the application.
    let other = Request::get("/health").body(Full::default()).unwrap();
    client.request(other).await.assert_inner();
    assert_eq!(recorder.calls(), 1);

    one_clean_connection(client, server).await;
    assert!(
        handled.try_recv().is_err(),
        "the panicking event was delivered"
    );
}

// ---------------------------------------------------------------------------------------------
// Acknowledge mode: a slow handler

#[tokio::test]
async fn the_layer_waits_for_a_slow_handler_and_imposes_no_timer() {
    let (started, mut handler_has) = mpsc::unbounded_channel();
    let (release, released) = watch::channel(false);
    let layer = layer().acknowledge(handler(move |event: GroupRecall| {
        let started = started.clone();
        let mut released = released.clone();
        async move {
            started.send(event).unwrap();
            released.wait_for(|go| *go).await.unwrap();
        }
    }));
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(Recorder::default());
    let mut call = std::pin::pin!(service.oneshot(callback("@TGS#slow", 7)));

    // The handler holds the event, and the answer waits for it.
    let event = tokio::select! {
        biased;
        _ = &mut call => panic!("answered before the handler finished"),
        event = handler_has.recv() => event.unwrap(),
    };
    assert_eq!(event.group_id, "@TGS#slow");
    release.send(true).unwrap();
    let response = within("answer", call).await.unwrap();
    Answer::read(response).await.assert_ok_ack();
}

#[tokio::test]
async fn a_timeout_around_the_handler_answers_500() {
    // The handler never finishes; tower's timeout, composed around it, gives up.
    let stuck =
        service_fn(|_accepted: AcceptedRecall| std::future::pending::<Result<(), Infallible>>());
    let handler = ServiceBuilder::new()
        .timeout(Duration::from_millis(100))
        .service(stuck);
    let answer = answer(layer().acknowledge(handler)).await;
    answer.assert_fail(StatusCode::INTERNAL_SERVER_ERROR, FAILED);
}

#[tokio::test]
async fn a_bounded_channel_answers_at_once_and_a_full_one_answers_500() {
    let (events, mut queue) = mpsc::channel::<GroupRecall>(2);
    let handler = service_fn(move |accepted: AcceptedRecall| {
        // `try_send` never waits: a full queue fails the callback instead of holding Tencent.
        std::future::ready(events.try_send(group(accepted.event)))
    });
    let recorder = Recorder::default();
    let service = ServiceBuilder::new()
        .layer(layer().acknowledge(handler))
        .service(recorder.clone());
    let send = |seq: u32| {
        let service = service.clone();
        async move {
            let response = service.oneshot(callback("@TGS#queue", seq)).await.unwrap();
            Answer::read(response).await
        }
    };

    for seq in [1, 2] {
        send(seq).await.assert_ok_ack();
    }
    // Nobody consumes: the third is refused, so Tencent's log shows the failure.
    send(3)
        .await
        .assert_fail(StatusCode::INTERNAL_SERVER_ERROR, FAILED);
    // Once the consumer catches up, callbacks are accepted again; nothing was lost silently.
    let seqs: Vec<u32> = [queue.recv().await, queue.recv().await]
        .into_iter()
        .map(|event| event.unwrap().messages[0].msg_seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
    send(4).await.assert_ok_ack();
    assert_eq!(queue.recv().await.unwrap().messages[0].msg_seq, 4);
    assert_eq!(recorder.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// Forward mode: the application's own handler, with tower-http's middleware

/// The application's callback handler: panics for `@TGS#panic`, never answers for `@TGS#slow`,
/// acknowledges the rest.
#[derive(Clone)]
struct CallbackHandler;

impl<B> Service<Request<RequestBody<B>>> for CallbackHandler {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RequestBody<B>>) -> Self::Future {
        let group = request
            .extensions()
            .get::<RecallEvent>()
            .and_then(RecallEvent::as_group)
            .map(|recall| recall.group_id.clone());
        Box::pin(async move {
            match group.as_deref() {
                Some("@TGS#panic") => panic!("{PANIC_MARK}: forward mode"),
                Some("@TGS#slow") => std::future::pending().await,
                Some(_) => Ok(Ack::ok().into_http_response()),
                None => Ok(Response::new(Full::from("not a recall"))),
            }
        })
    }
}

/// What the application answers when its handler panics: a `FAIL` acknowledgement, so that
/// Tencent's log shows the failure.
fn fail_on_panic(_panic: Box<dyn std::any::Any + Send>) -> Response<Full<Bytes>> {
    let mut response =
        Ack::fail_with_code(500, "the callback handler panicked").into_http_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[tokio::test]
async fn forward_mode_catch_panic_outside_the_layer_keeps_the_connection() {
    quiet_deliberate_panics();
    let service = ServiceBuilder::new()
        .layer(CatchPanicLayer::custom(fail_on_panic))
        .layer(layer())
        .service(CallbackHandler);
    let server = Server::http1(service).await;
    let mut client = Client::connect(server.addr).await;

    client.request(callback("@TGS#a", 1)).await.assert_ok_ack();
    let panicked = client.request(callback("@TGS#panic", 2)).await;
    panicked.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the callback handler panicked",
    );
    client.request(callback("@TGS#b", 3)).await.assert_ok_ack();

    one_clean_connection(client, server).await;
}

#[tokio::test]
async fn forward_mode_catch_panic_and_timeout_inside_the_layer() {
    quiet_deliberate_panics();
    // Inside the layer, these wrap only the application: the layer's own refusals never
    // reach them.
    let service = ServiceBuilder::new()
        .layer(layer())
        .layer(CatchPanicLayer::custom(fail_on_panic))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::INTERNAL_SERVER_ERROR,
            Duration::from_millis(100),
        ))
        .service(CallbackHandler);
    let send = |request: Request<Full<Bytes>>| within("oneshot", service.clone().oneshot(request));

    let answer = Answer::read(send(callback("@TGS#panic", 1)).await.unwrap()).await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the callback handler panicked",
    );

    // tower-http's timeout answers with an empty body: Tencent records any non-JSON answer as
    // a failed callback, as it should.
    let response = send(callback("@TGS#slow", 2)).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body_of(response).await.is_empty());

    let answer = Answer::read(send(callback("@TGS#ok", 3)).await.unwrap()).await;
    answer.assert_ok_ack();
    let other = Request::get("/").body(Full::default()).unwrap();
    assert_eq!(body_of(send(other).await.unwrap()).await, "not a recall");
}
