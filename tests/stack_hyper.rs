//! The layer in plain hyper 1.x: a tower `ServiceBuilder` stack served through
//! `hyper_util::service::TowerToHyperService`, HTTP/1.1 keep-alive, the body hyper gives
//! (`Incoming`).

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::sync::mpsc;
use tower::{service_fn, ServiceBuilder};
use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RequestBody, VerifiedCallback};

use support::fixtures::{documented_event, APP, EVENT, QUERY};
use support::net::client::Client;
use support::net::server::Server;
use support::net::{exchange_callbacks, exchange_guarded, next_event};
use support::requests::{callback_to, documented};
use support::sign_text;

const TOKEN: &str = "the console's callback token";

/// The documented callback signed at `time` with `token`.
fn signed(token: &str, time: u64) -> Request<Full<Bytes>> {
    let sign = sign_text(token, &time.to_string());
    let query = format!("{QUERY}&RequestTime={time}&Sign={sign}");
    callback_to(support::fixtures::CALLBACK_PATH, &query, EVENT)
}

/// The application behind the layer: for a recall, checks that the body is still readable and
/// passes the event on; acknowledges another command the guard verified; any other request
/// gets its path and body echoed.
fn app(
    calls: mpsc::UnboundedSender<RecallEvent>,
) -> impl tower::Service<
    Request<RequestBody<Incoming>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |request: Request<RequestBody<Incoming>>| {
        let calls = calls.clone();
        async move {
            let event = request.extensions().get::<RecallEvent>().cloned();
            if request.extensions().get::<VerifiedCallback>().is_some() {
                return Ok(Ack::ok().into_http_response());
            }
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
    })
}

#[tokio::test]
async fn keep_alive_connection_carries_several_callbacks() {
    let (calls, mut seen) = mpsc::unbounded_channel::<RecallEvent>();
    let service = ServiceBuilder::new()
        .layer(RecallLayer::unsigned([APP]).unwrap())
        .service(app(calls));
    let server = Server::http1(service).await;

    let mut client = Client::connect(server.addr).await;
    exchange_callbacks(&mut client, &mut seen).await;

    let answer = client.post("/plain", "body").await;
    answer.assert_text("/plainbody");

    client.request(documented()).await.assert_ok_ack();
    assert_eq!(next_event(&mut seen).await, documented_event());

    client.close().await;
    let connections = server.stop().await;
    assert_eq!(connections.accepted(), 1, "keep-alive was not used");
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn signed_callbacks_over_the_socket() {
    let (calls, mut seen) = mpsc::unbounded_channel::<RecallEvent>();
    let service = ServiceBuilder::new()
        .layer(RecallLayer::new([APP], [TOKEN]).unwrap())
        .service(app(calls));
    let server = Server::http1(service).await;
    let mut client = Client::connect(server.addr).await;

    // Signed now, with the console's token: accepted, and the event carries `RequestTime`.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    client.request(signed(TOKEN, now)).await.assert_ok_ack();
    let mut expected = documented_event();
    if let RecallEvent::Group(recall) = &mut expected {
        recall.context.request_time = Some(now);
    }
    assert_eq!(next_event(&mut seen).await, expected);

    // Unsigned, signed with another token, or signed long ago: 401, body never read.
    let cases = [
        (documented(), "RequestTime is missing"),
        (signed("another token", now), "Sign does not match"),
        (signed(TOKEN, 1_669_872_112), "RequestTime is too old"),
    ];
    for (refused, reason) in cases {
        let answer = client.request(refused).await;
        answer.assert_fail(StatusCode::UNAUTHORIZED, reason);
    }

    // Requests that are not callbacks need no signature.
    client
        .post("/plain", "body")
        .await
        .assert_text("/plainbody");

    client.close().await;
    server.stop().await;
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn the_guard_holds_other_commands_over_the_socket() {
    let (calls, mut seen) = mpsc::unbounded_channel::<RecallEvent>();
    let layer = RecallLayer::builder()
        .signed_app(APP, [TOKEN])
        .guard_other_commands()
        .build()
        .unwrap();
    let service = ServiceBuilder::new().layer(layer).service(app(calls));
    let server = Server::http1(service).await;
    let mut client = Client::connect(server.addr).await;
    exchange_guarded(&mut client, TOKEN, "/im/callbackplain").await;
    client.close().await;
    server.stop().await;
    assert!(
        seen.try_recv().is_err(),
        "another command was taken for a recall"
    );
}
