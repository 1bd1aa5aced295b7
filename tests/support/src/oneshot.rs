//! One request through a layer in front of a [`Recorder`], driven with
//! `tower::ServiceExt::oneshot`, and the checks of what came of it.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body::Body;
use tower::{Layer, ServiceExt};
use tower_tim_recall::{Mode, RecallEvent, RecallLayer};

use crate::bodies::UNREAD;
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
