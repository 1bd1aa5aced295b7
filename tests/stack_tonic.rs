//! The layer in tonic 0.14: one port serves gRPC (`tonic-health`'s health service, HTTP/2)
//! and Tencent's callback (HTTP/1.1), through `Server::builder().accept_http1(true).layer(..)`
//! in acknowledge mode. gRPC calls, unary and streaming, go through the layer untouched and
//! unbuffered, the guard on or off: they carry no `CallbackCommand`.

use std::convert::Infallible;
use std::time::Duration;

use axum::routing::post;
use http::StatusCode;
use tokio::sync::mpsc;
use tonic::service::Routes;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::server::HealthReporter;
use tower::service_fn;
use tower_tim_recall::{AcceptedRecall, Ack, RecallEvent, RecallLayer};

use support::fixtures::{
    documented_event, APP, CALLBACK_PATH, EVENT, OK_JSON, OTHER_COMMAND, QUERY,
};
use support::net::client::Client;
use support::net::server::Server;
use support::net::{exchange_callbacks, exchange_guarded, next_event, request_once, within};
use support::requests::{callback_to, documented, other_command};

/// A named service whose health the tests set.
const SERVICE: &str = "tim.Recall";

/// Starts the gRPC server with `layer` in acknowledge mode; accepted events go to `events`.
async fn grpc_server(
    layer: RecallLayer,
    events: mpsc::UnboundedSender<RecallEvent>,
) -> (Server, HealthReporter) {
    let (reporter, health_service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(SERVICE, tonic_health::ServingStatus::NotServing)
        .await;

    let layer = layer.acknowledge(service_fn(move |accepted: AcceptedRecall| {
        let _ = events.send(accepted.event);
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    // The gRPC service, and a route that acknowledges Tencent's other callback commands
    // (recalls never reach it: the layer answers them).
    let routes = Routes::new(health_service).into_axum_router().route(
        CALLBACK_PATH,
        post(|| async { Ack::ok().into_http_response::<axum::body::Body>() }),
    );
    let server = Server::start(|listener, signal| async move {
        tonic::transport::Server::builder()
            .accept_http1(true)
            .layer(layer)
            .add_routes(Routes::from(routes))
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
    (server, reporter)
}

fn unsigned() -> RecallLayer {
    RecallLayer::unsigned([APP]).unwrap()
}

/// A gRPC client over HTTP/2 to `server`.
async fn grpc_client(server: &Server) -> HealthClient<Channel> {
    let endpoint = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(10));
    HealthClient::new(within("gRPC connect", endpoint.connect()).await.unwrap())
}

/// Checks that gRPC still answers after the callbacks, stops the server, and checks that no
/// event was left undelivered.
async fn still_serving(
    mut health: HealthClient<Channel>,
    server: Server,
    mut received: mpsc::UnboundedReceiver<RecallEvent>,
) {
    let overall = within("gRPC check", health.check(check(""))).await.unwrap();
    assert_eq!(overall.get_ref().status(), ServingStatus::Serving);
    drop(health);
    server.stop().await;
    assert!(received.try_recv().is_err(), "an event was not taken");
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.into(),
    }
}

#[tokio::test]
async fn grpc_and_callback_share_one_port() {
    let (events, mut received) = mpsc::unbounded_channel();
    let (server, _reporter) = grpc_server(unsigned(), events).await;

    // gRPC (HTTP/2) through the layer.
    let mut health = grpc_client(&server).await;
    let overall = within("gRPC check", health.check(check(""))).await.unwrap();
    assert_eq!(overall.get_ref().status(), ServingStatus::Serving);
    let named = within("gRPC check", health.check(check(SERVICE)))
        .await
        .unwrap();
    assert_eq!(named.get_ref().status(), ServingStatus::NotServing);
    let unknown = within("gRPC check", health.check(check("nope"))).await;
    assert_eq!(unknown.unwrap_err().code(), tonic::Code::NotFound);

    // The HTTP/1.1 callback on the same port: answered by the layer in acknowledge mode.
    let mut client = Client::connect(server.addr).await;
    exchange_callbacks(&mut client, &mut received).await;
    // Another callback command reaches the route that acknowledges it; without that route,
    // tonic would answer it as an unknown gRPC method (200, `grpc-status: 12`, no body).
    client.request(other_command()).await.assert_ok_ack();
    let query = QUERY.replace("Group.CallbackAfterRecallMsg", OTHER_COMMAND);
    let answer = client
        .request(callback_to("/elsewhere", &query, EVENT))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("grpc-status"), Some("12"), "{answer:?}");
    assert!(answer.body.is_empty(), "{answer:?}");
    client.close().await;
    still_serving(health, server, received).await;
}

/// `Watch` is server streaming: the response stays open and carries one message per status
/// change. Behind the layer, the first message arrives while the stream is open, and a later
/// change arrives as a second message: the layer does not collect the response.
#[tokio::test]
async fn a_grpc_stream_is_not_buffered() {
    let (events, mut received) = mpsc::unbounded_channel();
    let (server, reporter) = grpc_server(unsigned(), events).await;
    let mut health = grpc_client(&server).await;

    let mut watch = within("gRPC watch", health.watch(check(SERVICE)))
        .await
        .unwrap()
        .into_inner();
    let first = within("first message", watch.message()).await.unwrap();
    assert_eq!(
        first.expect("the stream ended").status(),
        ServingStatus::NotServing
    );

    // A callback while the stream is open, on its own connection.
    request_once(server.addr, documented())
        .await
        .assert_ok_ack();
    assert_eq!(next_event(&mut received).await, documented_event());

    // The status changes: the open stream carries it.
    reporter
        .set_service_status(SERVICE, tonic_health::ServingStatus::Serving)
        .await;
    let second = within("second message", watch.message()).await.unwrap();
    assert_eq!(
        second.expect("the stream ended").status(),
        ServingStatus::Serving
    );
    // And the next change, on the same stream.
    reporter
        .set_service_status(SERVICE, tonic_health::ServingStatus::NotServing)
        .await;
    let third = within("third message", watch.message()).await.unwrap();
    assert_eq!(
        third.expect("the stream ended").status(),
        ServingStatus::NotServing
    );

    drop(watch);
    drop(health);
    server.stop().await;
    assert!(received.try_recv().is_err());
}

#[tokio::test]
async fn with_the_guard_grpc_passes_untouched_and_other_commands_are_held() {
    const TOKEN: &str = "the console's callback token";
    let layer = RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .guard_other_commands()
        .build()
        .unwrap();
    let (events, received) = mpsc::unbounded_channel();
    let (server, _reporter) = grpc_server(layer, events).await;

    // gRPC carries no `CallbackCommand`: never refused, guard or not.
    let mut health = grpc_client(&server).await;
    let overall = within("gRPC check", health.check(check(""))).await.unwrap();
    assert_eq!(overall.get_ref().status(), ServingStatus::Serving);
    let unknown = within("gRPC check", health.check(check("nope"))).await;
    assert_eq!(unknown.unwrap_err().code(), tonic::Code::NotFound);

    // Another command, verified, reaches the route that acknowledges it; refused otherwise. A
    // request without a command reaches the same route unchecked.
    let mut client = Client::connect(server.addr).await;
    exchange_guarded(&mut client, TOKEN, OK_JSON).await;
    client.close().await;
    still_serving(health, server, received).await;
}
