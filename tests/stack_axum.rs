//! The layer in axum 0.8: `Router::layer` on a whole app and `route_layer` on one route, served
//! by `axum::serve` on 127.0.0.1 and called over a real socket; the `Extension` and, with the
//! `axum` feature, the `RecallEvent` extractor and its rejections; acknowledge mode; and the
//! `testing` feature's callbacks against a `Router`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use tokio::sync::mpsc;
use tower::{service_fn, ServiceExt};
use tower_tim_recall::testing::{read_ack, Callback};
use tower_tim_recall::{Ack, RecallEvent, RecallEventRejection, RecallLayer};

use support::fixtures::*;
use support::net::client::Client;
use support::net::server::Server;
use support::net::{exchange_callbacks, next_event, request_once, within};
use support::requests::{callback_to, documented, old_form, other_app, other_command};
use support::Answer;

fn layer() -> RecallLayer {
    RecallLayer::unsigned([APP]).unwrap()
}

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
        .layer(layer());
    let server = Server::axum(app).await;
    let mut client = Client::connect(server.addr).await;

    // A valid callback reaches the handler with its event, and the body is still readable.
    client.request(documented()).await.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_eq!((event, &body[..]), (documented_event(), EVENT.as_bytes()));

    // A refused callback is answered by the layer and never reaches the handler.
    let answer = client.request(other_app()).await;
    answer.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    // The recall command with another method than POST: 405, before axum's routing.
    let mut get_callback = documented();
    *get_callback.method_mut() = Method::GET;
    *get_callback.body_mut() = Full::default();
    let answer = client.request(get_callback).await;
    answer.assert_fail(
        StatusCode::METHOD_NOT_ALLOWED,
        "callbacks must be sent with POST",
    );
    // A body that is not a recall event: 400.
    let answer = client
        .request(callback_to(CALLBACK_PATH, QUERY, r#"{"GroupId":1}"#))
        .await;
    answer.assert_fail(
        StatusCode::BAD_REQUEST,
        "invalid body: invalid type: integer `1`, expected a string at line 1 column 12",
    );

    // Other routes work through the layer, bodies untouched.
    let answer = client.send(Method::GET, "/health", "").await;
    answer.assert_text("healthy");
    let answer = client.post("/echo?a=b", "not a callback").await;
    answer.assert_text("not a callback");
    // Unknown paths get axum's own 404 (the fallback is layered too, and lets it through).
    let answer = client.send(Method::GET, "/nowhere", "").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    // A second valid callback on the same connection, older body shape.
    client.request(old_form()).await.assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_eq!((event, &body[..]), (old_event(), OLD_EVENT.as_bytes()));

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
        .route_layer(layer())
        // Added after `route_layer`: not layered.
        .route("/echo", post(echo))
        .with_state(calls);
    let server = Server::axum(app).await;

    request_once(server.addr, documented())
        .await
        .assert_ok_ack();
    let (event, body) = within("handler", seen.recv()).await.unwrap();
    assert_eq!((event, &body[..]), (documented_event(), EVENT.as_bytes()));

    let answer = request_once(server.addr, other_app()).await;
    answer.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");

    // The same refused callback on a route without the layer reaches that route untouched...
    let stranger = QUERY.replace("1400000000", &STRANGER.to_string());
    let answer = request_once(server.addr, callback_to("/echo", &stranger, EVENT)).await;
    answer.assert_text(EVENT);
    // ...and on no route at all, axum answers 404: `route_layer` runs only on a matched route.
    let answer = request_once(server.addr, callback_to("/nowhere", &stranger, EVENT)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "a refused callback reached the handler"
    );
}

// ---------------------------------------------------------------------------------------------
// The `axum` feature: the event as a handler argument

/// The callback handler of the `server` example: the event of a recall goes to the channel,
/// and every callback command is acknowledged.
async fn record_recall(
    State(events): State<mpsc::UnboundedSender<RecallEvent>>,
    recall: Option<RecallEvent>,
) -> Ack {
    if let Some(event) = recall {
        events.send(event).unwrap();
    }
    Ack::ok()
}

/// A handler that requires a recall.
async fn recall_only(
    State(calls): State<mpsc::UnboundedSender<RecallEvent>>,
    event: RecallEvent,
) -> Ack {
    calls.send(event).unwrap();
    Ack::ok()
}

const NOT_A_RECALL: &str = "not a Group.CallbackAfterRecallMsg callback";
const LAYER_MISSING: &str = "the recall layer is not installed in front of this handler";

#[tokio::test]
async fn the_event_as_a_handler_argument() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(CALLBACK_PATH, post(record_recall))
        .route("/recalls-only", post(recall_only))
        .route_layer(layer())
        // A wiring mistake: this route is added after `route_layer`, so no layer checks it.
        .route("/unchecked", post(record_recall))
        .with_state(calls);
    let server = Server::axum(app).await;
    let mut client = Client::connect(server.addr).await;

    // A recall: `Some(event)` and `RecallEvent` both take it.
    exchange_callbacks(&mut client, &mut seen).await;
    let to = |path: &str| callback_to(path, QUERY, EVENT);
    client.request(to("/recalls-only")).await.assert_ok_ack();
    assert_eq!(next_event(&mut seen).await, documented_event());

    // Another callback command at the same URL: `None`, acknowledged; refused by a handler
    // that requires a recall.
    client.request(other_command()).await.assert_ok_ack();
    let other = QUERY.replace("Group.CallbackAfterRecallMsg", OTHER_COMMAND);
    let answer = client
        .request(callback_to("/recalls-only", &other, EVENT))
        .await;
    answer.assert_fail(StatusCode::BAD_REQUEST, NOT_A_RECALL);

    // A recall that reached a handler past the layer: refused, and the answer says why.
    let answer = client.request(to("/unchecked")).await;
    answer.assert_fail(StatusCode::INTERNAL_SERVER_ERROR, LAYER_MISSING);
    // That route still serves requests that are not recalls.
    client
        .request(callback_to("/unchecked", &other, EVENT))
        .await
        .assert_ok_ack();

    client.close().await;
    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "an unexpected event was passed on"
    );
}

/// Answers with the group of the event it took, so that a test sees what arrived.
async fn required(event: RecallEvent) -> String {
    event.group_id
}

/// Answers the group of `Some(event)` as `required` does, and `None` with `OK`.
async fn optional(event: Option<RecallEvent>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match event {
        Some(event) => event.group_id.into_response(),
        None => Ack::ok().into_response(),
    }
}

fn extracting(layered: bool) -> Router {
    let app = Router::new()
        .route("/required", post(required))
        .route("/optional", post(optional));
    if layered {
        app.layer(layer())
    } else {
        app
    }
}

async fn extract(app: Router, request: Request<Full<Bytes>>) -> Answer {
    let request = request.map(Body::new);
    Answer::read(app.oneshot(request).await.unwrap()).await
}

#[tokio::test]
async fn each_extractor_answers_each_case() {
    let recall = |path: &str| callback_to(path, QUERY, EVENT);
    let other = |path: &str| {
        let query = QUERY.replace("Group.CallbackAfterRecallMsg", OTHER_COMMAND);
        callback_to(path, &query, EVENT)
    };
    for path in ["/required", "/optional"] {
        // A recall behind the layer: the handler saw the event the layer parsed.
        let answer = extract(extracting(true), recall(path)).await;
        answer.assert_text("@TGS#_@TGS#cQVLVHIM62CJ");
        // A recall that no layer checked: 500, and the answer says why.
        let answer = extract(extracting(false), recall(path)).await;
        answer.assert_fail(StatusCode::INTERNAL_SERVER_ERROR, LAYER_MISSING);
    }
    // Another request: `None`, or 400 for a handler that requires a recall.
    extract(extracting(true), other("/optional"))
        .await
        .assert_ok_ack();
    let answer = extract(extracting(true), other("/required")).await;
    answer.assert_fail(StatusCode::BAD_REQUEST, NOT_A_RECALL);
    // A request with no query at all.
    let plain = Request::post("/optional").body(Full::default()).unwrap();
    extract(extracting(false), plain).await.assert_ok_ack();
}

#[test]
fn the_rejection_reads_as_its_reason() {
    // The rejections are made by the extractor; the public API reads them.
    let rejection =
        |layered: bool| -> RecallEventRejection {
            let (mut parts, ()) = Request::post(format!("/?{QUERY}"))
                .body(())
                .unwrap()
                .into_parts();
            if layered {
                parts.uri = "/?CallbackCommand=Group.CallbackAfterSendMsg"
                    .parse()
                    .unwrap();
            }
            let extracted = support::complete(<RecallEvent as axum::extract::FromRequestParts<
                (),
            >>::from_request_parts(&mut parts, &()));
            extracted.unwrap_err()
        };
    let missing = rejection(false);
    assert!(missing.is_layer_missing());
    assert_eq!(missing.to_string(), LAYER_MISSING);
    assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(missing.ack(), Ack::fail_with_code(500, LAYER_MISSING));
    let other = rejection(true);
    assert!(!other.is_layer_missing());
    assert_eq!(other.reason(), NOT_A_RECALL);
    assert_eq!(other.ack(), Ack::fail_with_code(400, NOT_A_RECALL));
}

/// Acknowledge mode in axum (no socket: the `Router` is itself a tower service). `Router::layer`
/// wants the layer and its service `Send + Sync`, so the handler must be `Sync` too.
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
        .layer(layer().acknowledge(service_fn(move |event| {
            let _ = events.send(event);
            std::future::ready(Ok::<_, Infallible>(()))
        })));

    extract(app.clone(), documented()).await.assert_ok_ack();
    assert_eq!(next_event(&mut received).await, documented_event());

    let answer = extract(app, other_app()).await;
    answer.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    assert_eq!(handler_calls.load(Ordering::SeqCst), 0);
    assert!(received.try_recv().is_err());
}

/// The `testing` feature's callback against an axum `Router`, as a user's test writes it.
#[tokio::test]
async fn a_testing_callback_drives_a_router() {
    let (calls, mut seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(CALLBACK_PATH, post(record_recall))
        .with_state(calls)
        .layer(RecallLayer::new([APP], [TOKEN]).unwrap());
    let callback = Callback::new(&documented_event()).signed(TOKEN);
    let response = app
        .clone()
        .oneshot(callback.request::<Body>())
        .await
        .unwrap();
    assert_eq!(read_ack(response).await, (StatusCode::OK, Ack::ok()));
    let event = next_event(&mut seen).await;
    assert_eq!(event.group_id, documented_event().group_id);
    assert!(event.request_time.is_some());

    let unsigned = Callback::new(&documented_event());
    let response = app.oneshot(unsigned.request::<Body>()).await.unwrap();
    assert_eq!(
        read_ack(response).await,
        (
            StatusCode::UNAUTHORIZED,
            Ack::fail_with_code(401, "RequestTime is missing")
        )
    );
}
