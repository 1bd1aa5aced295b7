//! The layer in plain hyper 1.x: a tower `ServiceBuilder` stack served through
//! `hyper_util::service::TowerToHyperService`, HTTP/1.1 keep-alive, the body hyper gives
//! (`Incoming`).

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::client::*;
use common::fixtures::*;
use common::server::Server;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::sync::mpsc;
use tower::{service_fn, ServiceBuilder};
use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RequestBody};

const TOKEN: &str = "the console's callback token";

/// The application behind the layer: for a callback, checks that the body is still readable
/// and passes the event on; any other request gets its path and body echoed.
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
        .layer(RecallLayer::new([APP]))
        .service(app(calls));
    let server = Server::http1(service).await;

    let mut client = Client::connect(server.addr).await;
    exchange_callbacks(&mut client, &mut seen).await;

    let reply = client.post("/plain", "body").await;
    reply.assert_text("/plainbody");

    client.callback(&documented()).await.assert_ok_ack();
    assert_documented_event(&next_event(&mut seen).await);

    client.close().await;
    let connections = server.stop().await;
    assert_eq!(connections.accepted(), 1, "keep-alive was not used");
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn signed_callbacks_over_the_socket() {
    let (calls, mut seen) = mpsc::unbounded_channel::<RecallEvent>();
    let service = ServiceBuilder::new()
        .layer(RecallLayer::new([APP]).token(TOKEN))
        .service(app(calls));
    let server = Server::http1(service).await;
    let mut client = Client::connect(server.addr).await;

    // Signed now, with the console's token: accepted, and the event carries `RequestTime`.
    client
        .callback(&documented().signed(TOKEN))
        .await
        .assert_ok_ack();
    let event = next_event(&mut seen).await;
    assert!(event.request_time.is_some(), "{event:?}");
    assert_eq!(event.group_id, "@TGS#_@TGS#cQVLVHIM62CJ");

    // Unsigned, signed with another token, or signed long ago: 401, body never read.
    let stale = documented().signed(TOKEN).request_time(1_669_872_112);
    for refused in [documented(), documented().signed("another token"), stale] {
        let reply = client.callback(&refused).await;
        reply.assert_refused(StatusCode::UNAUTHORIZED);
        // The answers never carry the token.
        assert!(!String::from_utf8_lossy(&reply.body).contains(TOKEN));
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
