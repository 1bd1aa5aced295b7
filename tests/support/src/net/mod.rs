//! Over real sockets on loopback: a server on 127.0.0.1 port 0 that counts its connections and
//! is stopped by the test ([`server`]), and a real HTTP/1.1 client over one socket
//! ([`client`]), and the exchanges the stack tests share. Every wait is bounded by [`within`]:
//! a test fails instead of hanging.

pub mod client;
pub mod server;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::Extension;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tokio::sync::mpsc;
use tower_tim_recall::{Ack, RecallEvent};

use crate::fixtures::{documented_event, old_event};
use crate::requests::{documented, old_form, other_app};
use crate::Answer;
use client::Client;

/// Bounds a wait: a test fails instead of hanging. Generous, as a guard against hangs and not a
/// measure of speed: the machine may be shared and busy.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Sends `request` on a connection of its own, then closes it.
pub async fn request_once(addr: SocketAddr, request: Request<Full<Bytes>>) -> Answer {
    let mut client = Client::connect(addr).await;
    let answer = client.request(request).await;
    client.close().await;
    answer
}

/// Over one connection: the documented callback (acknowledged, its event delivered to
/// `events`), a refused one whose body the layer never reads (the connection must still carry
/// the next request), and the oldest documented form (acknowledged, delivered).
pub async fn exchange_callbacks(
    client: &mut Client,
    events: &mut mpsc::UnboundedReceiver<RecallEvent>,
) {
    client.request(documented()).await.assert_ok_ack();
    assert_eq!(next_event(events).await, documented_event());
    let answer = client.request(other_app()).await;
    answer.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    client.request(old_form()).await.assert_ok_ack();
    assert_eq!(next_event(events).await, old_event());
}

/// Receives the next event a handler passed on, within the bound.
pub async fn next_event(events: &mut mpsc::UnboundedReceiver<RecallEvent>) -> RecallEvent {
    within("event", events.recv())
        .await
        .expect("channel closed")
}

/// The callback handler of an axum app behind the layer in forward mode: the event of a recall
/// goes to the channel, and every callback command is acknowledged.
pub async fn record_recall(
    State(events): State<mpsc::UnboundedSender<RecallEvent>>,
    recall: Option<Extension<RecallEvent>>,
) -> Response<axum::body::Body> {
    if let Some(Extension(event)) = recall {
        events.send(event).unwrap();
    }
    Ack::ok().into_http_response()
}
