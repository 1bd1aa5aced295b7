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
use tower_tim_recall::{
    AcceptedRecall, Ack, CallbackRejection, GroupRecall, OfficialAccountRecall, OneToOneRecall,
    RecallEvent, RecallKind, RecallLayer, VerifiedCallback,
};

use support::fixtures::*;
use support::net::client::Client;
use support::net::server::Server;
use support::net::{exchange_callbacks, exchange_guarded, next_event, request_once, within};
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
    // A recall with another method than the route's: the layer answers, before axum's 405.
    let mut get_callback = documented();
    *get_callback.method_mut() = Method::GET;
    *get_callback.body_mut() = Full::default();
    let answer = request_once(server.addr, get_callback).await;
    let reason = "callbacks must be sent with POST";
    answer.assert_fail(StatusCode::METHOD_NOT_ALLOWED, reason);

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
    answer.assert_fail(StatusCode::BAD_REQUEST, ONLY_RECALLS);

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

#[tokio::test]
async fn the_guard_holds_other_commands_over_the_socket() {
    // The `server` example's stack: one route, `route_layer`, the guard on, signed.
    let (calls, mut seen) = mpsc::unbounded_channel();
    let layer = RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .guard_other_commands()
        .build()
        .unwrap();
    let app = Router::new()
        .route(CALLBACK_PATH, post(record_recall))
        .route_layer(layer)
        .route("/echo", post(echo))
        .with_state(calls);
    let server = Server::axum(app).await;
    let mut client = Client::connect(server.addr).await;
    exchange_guarded(&mut client, TOKEN, OK_JSON).await;
    // Another route is not guarded: `route_layer` covers the callback route only.
    let stranger = format!("SdkAppid={STRANGER}&CallbackCommand={STATE_CHANGE}");
    let answer = client
        .request(callback_to("/echo", &stranger, "untouched"))
        .await;
    answer.assert_text("untouched");
    client.close().await;
    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "another command was taken for a recall"
    );
}

// ---------------------------------------------------------------------------------------------
// Every extractor, every kind of request, with and without the layer

/// For each type a handler can take: a handler that takes it and answers with a text naming
/// what it took, and one that takes it as an `Option` and answers `none` without it.
macro_rules! handlers {
    ($($required:ident, $optional:ident: $type:ty => $text:expr;)*) => {$(
        async fn $required(taken: $type) -> String {
            $text(taken)
        }
        async fn $optional(taken: Option<$type>) -> String {
            taken.map($text).unwrap_or_else(|| "none".to_owned())
        }
    )*};
}

handlers! {
    any_recall, any_recall_or_none: RecallEvent => |event: RecallEvent| event.kind().command().to_owned();
    group, group_or_none: GroupRecall => |recall: GroupRecall| recall.group_id;
    one_to_one, one_to_one_or_none: OneToOneRecall => |recall: OneToOneRecall| recall.msg_key;
    official, official_or_none: OfficialAccountRecall => |recall: OfficialAccountRecall| recall.official_account;
    verified, verified_or_none: VerifiedCallback => |callback: VerifiedCallback| callback.command;
}

/// How the app under test is layered.
#[derive(Debug, Clone, Copy)]
enum Front {
    /// The layer, with the guard on.
    Guarded,
    /// The layer, guard off.
    Layer,
    /// No layer: a wiring mistake.
    Missing,
    /// A layer that takes group recalls only, with the guard on.
    GroupOnlyGuarded,
    /// A layer that takes group recalls only, guard off.
    GroupOnly,
}

fn extracting(front: Front) -> Router {
    let app = Router::new()
        .route("/event", post(any_recall))
        .route("/event-or-none", post(any_recall_or_none))
        .route("/group", post(group))
        .route("/group-or-none", post(group_or_none))
        .route("/c2c", post(one_to_one))
        .route("/c2c-or-none", post(one_to_one_or_none))
        .route("/official", post(official))
        .route("/official-or-none", post(official_or_none))
        .route("/verified", post(verified))
        .route("/verified-or-none", post(verified_or_none));
    let builder = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps();
    let group_only = || builder.clone().recalls([RecallKind::Group]);
    match front {
        Front::Guarded => app.layer(builder.guard_other_commands().build().unwrap()),
        Front::Layer => app.layer(builder.build().unwrap()),
        Front::Missing => app,
        Front::GroupOnlyGuarded => app.layer(group_only().guard_other_commands().build().unwrap()),
        Front::GroupOnly => app.layer(group_only().build().unwrap()),
    }
}

async fn extract(app: Router, request: Request<Full<Bytes>>) -> Answer {
    let request = request.map(Body::new);
    Answer::read(app.oneshot(request).await.unwrap()).await
}

const GROUP: &str = "Group.CallbackAfterRecallMsg";
const C2C: &str = "C2C.CallbackAfterMsgWithDraw";
const OFFICIAL: &str = "OfficialAccount.CallbackAfterMsgWithDraw";
const LAYER_MISSING: &str = "no recall layer in front of this handler takes this callback";
const GUARD_MISSING: &str = "no recall layer with its guard on is in front of this handler";
const ONLY_RECALLS: &str = "this handler takes only recall callbacks";
const ONLY_GROUP: &str = "this handler takes only Group.CallbackAfterRecallMsg callbacks";
const ONLY_C2C: &str = "this handler takes only C2C.CallbackAfterMsgWithDraw callbacks";
const ONLY_OFFICIAL: &str =
    "this handler takes only OfficialAccount.CallbackAfterMsgWithDraw callbacks";
const ONLY_VERIFIED: &str = "this handler takes only callbacks the recall layer verified";

/// What a handler answers: its text, or a `FAIL` with this status and reason.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Text(&'static str),
    Fail(StatusCode, &'static str),
}
use Expect::{Fail, Text};

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const FAULT: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;

/// The paths of the handlers, in the order of each row of [`TABLE`].
const PATHS: [&str; 10] = [
    "/event",
    "/event-or-none",
    "/group",
    "/group-or-none",
    "/c2c",
    "/c2c-or-none",
    "/official",
    "/official-or-none",
    "/verified",
    "/verified-or-none",
];

/// What each handler of [`PATHS`] answers to a recall of each kind behind the layer, guard on
/// or off: the handlers that ask for its kind, or for any recall, or for a verified callback,
/// take it; those that ask for another kind refuse it, or take `None`.
const GROUP_TAKEN: [Expect; 10] = [
    Text(GROUP),
    Text(GROUP),
    Text(GROUP_ID),
    Text(GROUP_ID),
    Fail(BAD, ONLY_C2C),
    Text("none"),
    Fail(BAD, ONLY_OFFICIAL),
    Text("none"),
    Text(GROUP),
    Text(GROUP),
];
const C2C_TAKEN: [Expect; 10] = [
    Text(C2C),
    Text(C2C),
    Fail(BAD, ONLY_GROUP),
    Text("none"),
    Text(MSG_KEY),
    Text(MSG_KEY),
    Fail(BAD, ONLY_OFFICIAL),
    Text("none"),
    Text(C2C),
    Text(C2C),
];
const OFFICIAL_TAKEN: [Expect; 10] = [
    Text(OFFICIAL),
    Text(OFFICIAL),
    Fail(BAD, ONLY_GROUP),
    Text("none"),
    Fail(BAD, ONLY_C2C),
    Text("none"),
    Text(ACCOUNT),
    Text(ACCOUNT),
    Text(OFFICIAL),
    Text(OFFICIAL),
];

/// The recall handlers' answers to a request that is no recall: refused, or `None`.
const NO_RECALL: [Expect; 8] = [
    Fail(BAD, ONLY_RECALLS),
    Text("none"),
    Fail(BAD, ONLY_GROUP),
    Text("none"),
    Fail(BAD, ONLY_C2C),
    Text("none"),
    Fail(BAD, ONLY_OFFICIAL),
    Text("none"),
];

/// [`NO_RECALL`], then the two answers of the `VerifiedCallback` handlers.
const fn no_recall(verified: [Expect; 2]) -> [Expect; 10] {
    let r = NO_RECALL;
    [
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        verified[0],
        verified[1],
    ]
}

/// With no layer in front, a recall of `kind` (its index in `PATHS`, by pairs): the handlers
/// that ask for it, or for any recall, refuse it with 500; the others answer as for any
/// request that is not theirs.
const fn unchecked(kind: usize) -> [Expect; 10] {
    let mut row = no_recall([Fail(FAULT, GUARD_MISSING), Fail(FAULT, GUARD_MISSING)]);
    row[0] = Fail(FAULT, LAYER_MISSING);
    row[1] = Fail(FAULT, LAYER_MISSING);
    row[2 * kind] = Fail(FAULT, LAYER_MISSING);
    row[2 * kind + 1] = Fail(FAULT, LAYER_MISSING);
    row
}

/// For each front and each request, what each handler of [`PATHS`] answers.
const TABLE: [(Front, &str, [Expect; 10]); 19] = [
    (Front::Guarded, "group", GROUP_TAKEN),
    (Front::Guarded, "c2c", C2C_TAKEN),
    (Front::Guarded, "official", OFFICIAL_TAKEN),
    (
        Front::Guarded,
        "other",
        no_recall([Text(STATE_CHANGE), Text(STATE_CHANGE)]),
    ),
    (
        Front::Guarded,
        "plain",
        no_recall([Fail(BAD, ONLY_VERIFIED), Text("none")]),
    ),
    // Without the guard, another command is not verified: a handler that asks for it says so.
    (Front::Layer, "group", GROUP_TAKEN),
    (Front::Layer, "c2c", C2C_TAKEN),
    (Front::Layer, "official", OFFICIAL_TAKEN),
    (
        Front::Layer,
        "other",
        no_recall([Fail(FAULT, GUARD_MISSING), Fail(FAULT, GUARD_MISSING)]),
    ),
    (
        Front::Layer,
        "plain",
        no_recall([Fail(BAD, ONLY_VERIFIED), Text("none")]),
    ),
    // No layer: a callback that a handler asks for is refused, never taken unchecked.
    (Front::Missing, "group", unchecked(1)),
    (Front::Missing, "c2c", unchecked(2)),
    (Front::Missing, "official", unchecked(3)),
    (
        Front::Missing,
        "other",
        no_recall([Fail(FAULT, GUARD_MISSING), Fail(FAULT, GUARD_MISSING)]),
    ),
    (
        Front::Missing,
        "plain",
        no_recall([Fail(BAD, ONLY_VERIFIED), Text("none")]),
    ),
    // A layer that takes group recalls only: with the guard, a one-to-one recall is verified
    // as another command, and no handler takes it for a recall; without it, it passes
    // unchecked, and a handler that asks for it refuses it.
    (Front::GroupOnlyGuarded, "group", GROUP_TAKEN),
    (
        Front::GroupOnlyGuarded,
        "c2c",
        no_recall([Text(C2C), Text(C2C)]),
    ),
    (Front::GroupOnly, "group", GROUP_TAKEN),
    (Front::GroupOnly, "c2c", unchecked(2)),
];

const GROUP_ID: &str = "@TGS#_@TGS#cQVLVHIM62CJ";
const MSG_KEY: &str = "48374_2837546_1557481126";
const ACCOUNT: &str = "#TOA#_123";

/// The request named `name`, to `path`.
fn sent(name: &str, path: &str) -> Request<Full<Bytes>> {
    let (query, body) = match name {
        "group" => (QUERY.to_owned(), EVENT),
        "c2c" => (query_of(RecallKind::OneToOne), ONE_TO_ONE),
        "official" => (query_of(RecallKind::OfficialAccount), OFFICIAL_ACCOUNT),
        "other" => (QUERY.replace(GROUP, STATE_CHANGE), "{}"),
        "plain" => ("a=b".to_owned(), "{}"),
        _ => unreachable!("{name}"),
    };
    callback_to(path, &query, body)
}

#[tokio::test]
async fn each_extractor_answers_each_case() {
    for (front, name, row) in TABLE {
        for (path, expected) in PATHS.into_iter().zip(row) {
            let answer = extract(extracting(front), sent(name, path)).await;
            let context = format!("{front:?} {name} {path}");
            match expected {
                Text(text) => {
                    assert_eq!(answer.status, StatusCode::OK, "{context}: {answer:?}");
                    assert_eq!(answer.body, text, "{context}");
                }
                Fail(status, reason) => {
                    assert_eq!(answer.body, support::fail_json(status, reason), "{context}");
                    answer.assert_fail(status, reason);
                }
            }
        }
    }
}

#[test]
fn the_rejection_reads_as_its_reason() {
    // The rejections are made by the extractor; the public API reads them.
    let rejection =
        |query: &str| -> CallbackRejection {
            let (mut parts, ()) = Request::post(format!("/?{query}"))
                .body(())
                .unwrap()
                .into_parts();
            let extracted = support::complete(<RecallEvent as axum::extract::FromRequestParts<
                (),
            >>::from_request_parts(&mut parts, &()));
            extracted.unwrap_err()
        };
    let missing = rejection(QUERY);
    assert!(missing.is_layer_missing());
    assert_eq!(missing.to_string(), LAYER_MISSING);
    assert_eq!(missing.reason(), LAYER_MISSING);
    assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(missing.ack(), Ack::fail_with_code(500, LAYER_MISSING));
    let other = rejection("CallbackCommand=Group.CallbackAfterSendMsg");
    assert!(!other.is_layer_missing());
    assert_eq!(other.reason(), ONLY_RECALLS);
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    assert_eq!(other.ack(), Ack::fail_with_code(400, ONLY_RECALLS));
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
        .layer(
            layer().acknowledge(service_fn(move |accepted: AcceptedRecall| {
                let _ = events.send(accepted.event);
                std::future::ready(Ok::<_, Infallible>(()))
            })),
        );

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
    let callback = Callback::new(documented_event()).signed(TOKEN);
    let response = app
        .clone()
        .oneshot(callback.request::<Body>())
        .await
        .unwrap();
    assert_eq!(read_ack(response).await, (StatusCode::OK, Ack::ok()));
    let event = next_event(&mut seen).await;
    let group = |event: &RecallEvent| event.as_group().unwrap().group_id.clone();
    assert_eq!(group(&event), group(&documented_event()));
    assert!(event.context().request_time.is_some());

    let unsigned = Callback::new(documented_event());
    let response = app.oneshot(unsigned.request::<Body>()).await.unwrap();
    assert_eq!(
        read_ack(response).await,
        (
            StatusCode::UNAUTHORIZED,
            Ack::fail_with_code(401, "RequestTime is missing")
        )
    );
}
