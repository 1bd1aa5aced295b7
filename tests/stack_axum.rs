//! The layer in axum 0.8, served by `axum::serve` on 127.0.0.1 and called over a real socket:
//! `Router::layer` on a whole app, `route_layer` on one route, the `Extension` and the
//! `RecallEvent` extractor, and acknowledge mode.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use common::client::*;
use common::fixtures::*;
use common::server::Server;
use common::within;
use http::{header, Method, StatusCode};
use http_body_util::Full;
use tokio::sync::mpsc;
use tower::ServiceExt;
use tower_tim_recall::testing::{read_ack, Callback};
use tower_tim_recall::{Ack, RecallEvent, RecallLayer};

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
async fn router_layer_on_the_whole_app() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(CALLBACK_PATH, post(axum_callback))
        .route("/health", get(|| async { "healthy" }))
        .route("/echo", post(echo))
        .with_state(calls)
        .layer(RecallLayer::new([APP]));
    let server = Server::axum(app).await;
    let mut client = Client::connect(server.addr).await;

    // A valid callback reaches the handler with its event, and the body is still readable.
    client.callback(&documented()).await.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_documented_event(&event);
    assert_eq!(body, EVENT);

    // A refused callback is answered by the layer and never reaches the handler.
    let reply = client.callback(&other_app()).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    // The recall command with another method than POST: 405, before axum's routing.
    let mut get_callback = documented().request_to(CALLBACK_PATH).unwrap();
    *get_callback.method_mut() = Method::GET;
    *get_callback.body_mut() = Full::default();
    let reply = client.request(get_callback).await;
    reply.assert_fail(
        StatusCode::METHOD_NOT_ALLOWED,
        "callbacks must be sent with POST",
    );
    // A body that is not a recall event: 400.
    let reply = client
        .callback(&Callback::from_json(APP, r#"{"GroupId":1}"#))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.content_type(), "application/json");

    // Other routes work through the layer, bodies untouched.
    let reply = client.send(Method::GET, "/health", "").await;
    reply.assert_text("healthy");
    let reply = client.post("/echo?a=b", "not a callback").await;
    reply.assert_text("not a callback");
    // Unknown paths get axum's own 404 (the fallback is layered too, and lets it through).
    let reply = client.send(Method::GET, "/nowhere", "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A second valid callback on the same connection, older body shape.
    client.callback(&old_form()).await.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_old_event(&event);
    assert_eq!(body, OLD_EVENT);

    client.close().await;
    server.stop().await;
    // Exactly the two valid callbacks reached the handler.
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn route_layer_on_one_route() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(CALLBACK_PATH, post(axum_callback))
        .route_layer(RecallLayer::new([APP]))
        // Added after `route_layer`: not layered.
        .route("/echo", post(echo))
        .with_state(calls);
    let server = Server::axum(app).await;

    let reply = callback_once(server.addr, CALLBACK_PATH, &documented()).await;
    reply.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_documented_event(&event);
    assert_eq!(body, EVENT);

    let reply = callback_once(server.addr, CALLBACK_PATH, &other_app()).await;
    reply.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");

    // The same refused callback on a route without the layer reaches that route untouched...
    let reply = callback_once(server.addr, "/echo", &other_app()).await;
    reply.assert_text(EVENT);
    // ...and on no route at all, axum answers 404: `route_layer` runs only on a matched route.
    let reply = callback_once(server.addr, "/nowhere", &other_app()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "a refused callback reached the handler"
    );
}

/// A handler that requires a recall.
async fn recall_only(
    State(calls): State<mpsc::UnboundedSender<RecallEvent>>,
    event: RecallEvent,
) -> Ack {
    calls.send(event).unwrap();
    Ack::ok()
}

#[tokio::test]
async fn the_event_as_a_handler_argument() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(CALLBACK_PATH, post(record_recall))
        .route("/recalls-only", post(recall_only))
        .route_layer(RecallLayer::new([APP]))
        // A wiring mistake: this route is added after `route_layer`, so no layer checks it.
        .route("/unchecked", post(record_recall))
        .with_state(calls);
    let server = Server::axum(app).await;
    let mut client = Client::connect(server.addr).await;

    // A recall: `Some(event)` and `RecallEvent` both take it.
    exchange_callbacks(&mut client, &mut seen).await;
    client
        .callback_to("/recalls-only", &documented())
        .await
        .assert_ok_ack();
    assert_documented_event(&next_event(&mut seen).await);

    // Another callback command at the same URL: `None`, acknowledged; refused by a handler
    // that requires a recall.
    let other_command = documented().command("Group.CallbackAfterSendMsg");
    client.callback(&other_command).await.assert_ok_ack();
    let reply = client.callback_to("/recalls-only", &other_command).await;
    reply.assert_fail(
        StatusCode::BAD_REQUEST,
        "not a Group.CallbackAfterRecallMsg callback",
    );

    // A recall that reached a handler past the layer: refused, and the answer says why.
    let reply = client.callback_to("/unchecked", &documented()).await;
    reply.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the recall layer is not installed in front of this handler",
    );
    // That route still serves requests that are not recalls.
    client
        .callback_to("/unchecked", &other_command)
        .await
        .assert_ok_ack();

    client.close().await;
    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "an unexpected event was passed on"
    );
}

/// Acknowledge mode in axum (no socket: the `Router` is itself a tower service). `Router::layer`
/// wants the layer and its service `Send + Sync`, so the handler closure must be `Sync` too.
#[tokio::test]
async fn router_layer_in_acknowledge_mode() {
    let (events, mut received) = mpsc::unbounded_channel();
    let handler_calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&handler_calls);
    let app = Router::new()
        .route(
            CALLBACK_PATH,
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

    let request = documented().request::<Body>();
    let response = within("oneshot", app.clone().oneshot(request))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(body_of(response).await, OK_JSON);
    assert_documented_event(&next_event(&mut received).await);

    let request = other_app().request::<Body>();
    let response = within("oneshot", app.oneshot(request)).await.unwrap();
    let (status, ack) = read_ack(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(ack.error_info(), "SdkAppid is not allowed");
    assert_eq!(handler_calls.load(Ordering::SeqCst), 0);
    assert!(received.try_recv().is_err());
}
