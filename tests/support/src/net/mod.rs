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

use crate::fixtures::{
    documented_bodies, old_event, query_of, CALLBACK_PATH, STATE_CHANGE, STRANGER,
};
use crate::requests::{callback_to, documented_of, old_form, other_app};
use crate::sign_text;
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

/// Over one connection: the documented callback of each kind (acknowledged, its event
/// delivered to `events`), a refused one whose body the layer never reads (the connection must
/// still carry the next request), and the oldest documented form (acknowledged, delivered).
pub async fn exchange_callbacks(
    client: &mut Client,
    events: &mut mpsc::UnboundedReceiver<RecallEvent>,
) {
    for (kind, body, event) in documented_bodies() {
        client
            .request(documented_of(kind, body))
            .await
            .assert_ok_ack();
        assert_eq!(next_event(events).await, event);
    }
    let answer = client.request(other_app()).await;
    answer.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    client.request(old_form()).await.assert_ok_ack();
    assert_eq!(next_event(events).await, old_event());
}

/// Over one connection to a guarded layer whose app [`crate::fixtures::APP`] is signed with
/// `token`: another command signed now (passed on: the application acknowledges it), the same
/// from an app that is not allowed (403) and unsigned (401), bodies never read; and a request
/// without `CallbackCommand`, which the guard never refuses (the application answers it with
/// `answer`).
pub async fn exchange_guarded(client: &mut Client, token: &str, answer: &str) {
    let other = query_of(tower_tim_recall::RecallKind::Group)
        .replace(tower_tim_recall::RecallKind::Group.command(), STATE_CHANGE);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let sign = sign_text(token, &now.to_string());
    let signed = format!("{other}&RequestTime={now}&Sign={sign}");
    let body =
        r#"{"CallbackCommand":"State.StateChange","Info":{"To_Account":"jared","Action":"Login"}}"#;
    client
        .request(callback_to(CALLBACK_PATH, &signed, body))
        .await
        .assert_ok_ack();
    let stranger = signed.replace(&crate::fixtures::APP.to_string(), &STRANGER.to_string());
    let refused = client
        .request(callback_to(CALLBACK_PATH, &stranger, body))
        .await;
    refused.assert_fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    let unsigned = client
        .request(callback_to(CALLBACK_PATH, &other, body))
        .await;
    unsigned.assert_fail(StatusCode::UNAUTHORIZED, "RequestTime is missing");
    let plain = client
        .request(callback_to(CALLBACK_PATH, "SdkAppid=1", "plain"))
        .await;
    plain.assert_text(answer);
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
