//! The layer in plain hyper 1.x: a tower `ServiceBuilder` stack served through
//! `hyper_util::service::TowerToHyperService`, HTTP/1.1 keep-alive, the body hyper gives
//! (`Incoming`); request targets hyper refuses before any service, and clients that leave
//! mid-body.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tower::{service_fn, Layer, ServiceBuilder};
use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RequestBody, VerifiedCallback};

use support::fixtures::{documented_event, APP, CALLBACK_PATH, COMMAND, EVENT, QUERY, URI_MAX};
use support::net::client::Client;
use support::net::server::Server;
use support::net::{exchange_callbacks, exchange_guarded, next_event, within};
use support::requests::{callback_to, documented};
use support::{sign_text, Recorder};

const TOKEN: &str = "the console's callback token";

/// The documented callback signed at `time` with `token`.
fn signed(token: &str, time: u64) -> Request<Full<Bytes>> {
    let sign = sign_text(token, &time.to_string());
    let query = format!("{QUERY}&RequestTime={time}&Sign={sign}");
    callback_to(CALLBACK_PATH, &query, EVENT)
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

// ---------------------------------------------------------------------------------------------
// What a client can do to the connection: what hyper refuses never reaches the layer, and a
// client gone mid-body costs nothing

#[test]
fn bytes_that_are_not_utf8_never_reach_a_service_raw() {
    // `http::Uri`, and so every `http::Request`, refuses them: a hyper server answers 400
    // before any service runs (see `a_request_target_http_refuses_never_reaches_the_service`).
    for target in [
        &b"/im/callback?SdkAppid=\xff&CallbackCommand=Group.CallbackAfterRecallMsg"[..],
        b"/im/callback?CallbackCommand=Group.CallbackAfterRecallMsg\xc3",
        b"/im/callback?\x80=1",
    ] {
        assert!(Uri::try_from(target).is_err(), "{target:?}");
    }
    let too_long = format!("{CALLBACK_PATH}?{}", "a".repeat(URI_MAX));
    assert!(Uri::try_from(too_long).is_err());
}

/// The layer in front of a [`Recorder`], served by hyper on 127.0.0.1 port 0.
async fn serve() -> (Server, Recorder) {
    let inner = Recorder::default();
    let server = Server::http1(RecallLayer::unsigned([APP]).unwrap().layer(inner.clone())).await;
    (server, inner)
}

/// Writes `request` on a new connection and reads the answer until the server closes it or
/// [`within`]'s bound passes; returns what was read.
async fn exchange(addr: SocketAddr, request: &[u8], close_after_write: bool) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    if close_after_write {
        drop(stream);
        return String::new();
    }
    let mut answer = Vec::new();
    within("the server's answer", stream.read_to_end(&mut answer))
        .await
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn head(target: &[u8], headers: &str) -> Vec<u8> {
    let mut request = b"POST ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    request.extend_from_slice(headers.as_bytes());
    request.extend_from_slice(b"\r\n");
    request
}

#[tokio::test]
async fn a_client_that_disconnects_mid_body_is_survived() {
    let (server, inner) = serve().await;
    let target = format!("{CALLBACK_PATH}?{QUERY}");
    let half = &EVENT.as_bytes()[..EVENT.len() / 2];

    // Content-Length promises more than is sent; then the client is gone.
    let mut request = head(
        target.as_bytes(),
        &format!("Content-Length: {}\r\n", EVENT.len()),
    );
    request.extend_from_slice(half);
    exchange(server.addr, &request, true).await;
    // Chunked, cut inside a chunk.
    let mut request = head(target.as_bytes(), "Transfer-Encoding: chunked\r\n");
    request.extend_from_slice(format!("{:x}\r\n", EVENT.len()).as_bytes());
    request.extend_from_slice(half);
    exchange(server.addr, &request, true).await;
    // Chunked, cut between chunks after a whole event.
    let mut request = head(target.as_bytes(), "Transfer-Encoding: chunked\r\n");
    request.extend_from_slice(format!("{:x}\r\n{EVENT}\r\n", EVENT.len()).as_bytes());
    exchange(server.addr, &request, true).await;
    // Only the head.
    let request = head(target.as_bytes(), "Content-Length: 100\r\n");
    exchange(server.addr, &request, true).await;

    // The server still answers, and a whole callback is the first the inner service sees.
    let mut request = head(
        target.as_bytes(),
        &format!("Content-Length: {}\r\nConnection: close\r\n", EVENT.len()),
    );
    request.extend_from_slice(EVENT.as_bytes());
    let answer = exchange(server.addr, &request, false).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("inner"), "{answer}");
    assert_eq!(inner.calls(), 1);

    let connections = server.stop().await;
    assert_eq!(connections.accepted(), 5);
    assert_eq!(
        inner.calls(),
        1,
        "a cut-off callback reached the inner service"
    );
    assert_eq!(inner.copies(), 1, "a copy of the inner service leaked");
}

#[tokio::test]
async fn a_request_target_http_refuses_never_reaches_the_service() {
    let (server, inner) = serve().await;
    let cases: [(Vec<u8>, &str); 3] = [
        (
            b"/im/callback?SdkAppid=\xff&CallbackCommand=Group.CallbackAfterRecallMsg".to_vec(),
            "HTTP/1.1 400 ",
        ),
        (
            format!(
                "{CALLBACK_PATH}?{COMMAND}&SdkAppid=1400000000&pad={}",
                "x".repeat(URI_MAX)
            )
            .into_bytes(),
            "HTTP/1.1 414 ",
        ),
        (
            b"/im/callback?CallbackCommand=Group.CallbackAfterRecallMsg\x7f".to_vec(),
            "HTTP/1.1 400 ",
        ),
    ];
    for (target, status) in cases {
        let mut request = head(&target, "Content-Length: 0\r\nConnection: close\r\n");
        request.extend_from_slice(b"");
        let answer = exchange(server.addr, &request, false).await;
        assert!(answer.starts_with(status), "{answer:.200}");
    }
    server.stop().await;
    assert_eq!(inner.calls(), 0);
}
