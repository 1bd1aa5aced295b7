//! One request through a layer in front of a [`Recorder`], driven with
//! `tower::ServiceExt::oneshot`, and the checks of what came of it.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Extensions, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};
use tower_tim_recall::{Mode, RecallEvent, RecallLayer, RequestBody};

use crate::bodies::{End, Script, UNREAD};
use crate::poll::poll_once;
use crate::requests::post;
use crate::{Answer, Recorder};

/// Sends `request` through `layer` in front of a fresh [`Recorder`]: the answer, and what the
/// inner service saw.
pub async fn send<M, B>(layer: &RecallLayer<M>, request: Request<B>) -> (Answer, Recorder)
where
    M: Mode,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let recorder = Recorder::default();
    let response = layer
        .layer(recorder.clone())
        .oneshot(request)
        .await
        .expect("the layer never fails");
    (Answer::read(response).await, recorder)
}

/// Sends `request` and checks that the layer refused it with `status` and exactly `reason`,
/// without calling the inner service.
pub async fn refused<M, B>(
    layer: &RecallLayer<M>,
    request: Request<B>,
    status: StatusCode,
    reason: &str,
) where
    M: Mode,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let (answer, recorder) = send(layer, request).await;
    answer.assert_fail(status, reason);
    assert_eq!(recorder.calls(), 0, "the inner service was called");
}

/// Sends a `POST` with `query` and a body that must never be read (reading it fails the
/// test), and checks that the layer refused it with `status` and exactly `reason`: a refusal
/// decided from the request head.
pub async fn refused_unread(layer: &RecallLayer, query: &str, status: StatusCode, reason: &str) {
    refused(layer, post(query, UNREAD), status, reason).await;
}

/// Sends `request` through a forward-mode layer and checks that the inner service answered it,
/// once; returns the event it got and the body it read.
pub async fn accepted<B>(layer: &RecallLayer, request: Request<B>) -> (RecallEvent, Bytes)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    let (answer, recorder) = send(layer, request).await;
    answer.assert_inner();
    let seen = recorder.seen();
    assert_eq!(seen.calls, 1, "the inner service was not called once");
    (
        seen.event.expect("the inner service got no event"),
        seen.body,
    )
}

/// Sends a `POST` with `query` whose body is one chunk and then never ends, to an inner
/// service that reads the first chunk only and answers with it; checks that the answer came at
/// once, the body still open (the layer passed it on unbuffered: a layer that collected it
/// would wait for ever), and that only the inner service polled the body. Returns the request
/// extensions the inner service saw.
pub fn streamed(layer: &RecallLayer, query: &str) -> Extensions {
    let body = Script::frames([&b"first chunk"[..]], End::Stall);
    let polls = Arc::clone(&body.polls);
    let seen = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&seen);
    let inner = service_fn(move |request: Request<RequestBody<Script>>| {
        let keep = Arc::clone(&keep);
        async move {
            let (parts, mut body) = request.into_parts();
            *keep.lock().unwrap() = Some(parts.extensions);
            let frame = body.frame().await.expect("a first chunk").expect("a chunk");
            let data = frame.into_data().expect("data");
            Ok::<_, Infallible>(Response::new(Full::new(data)))
        }
    });
    let response = poll_once(layer.layer(inner).oneshot(post(query, body)))
        .expect("the layer waited for the end of a body it should pass on")
        .unwrap();
    let answer = poll_once(Answer::read(response)).expect("the answer is all there");
    answer.assert_text("first chunk");
    assert_eq!(
        polls.load(Ordering::SeqCst),
        1,
        "only the inner service polled the body"
    );
    let extensions = seen.lock().unwrap().take();
    extensions.expect("the inner service was called")
}
