//! Row: valid, acknowledge mode: the handler gets the recall, the layer answers.

use super::*;

/// A layer in acknowledge mode whose handler keeps every accepted recall it gets.
type Kept = Arc<Mutex<Vec<AcceptedRecall>>>;

fn keeping(
    layer: RecallLayer,
) -> (
    RecallLayer<
        Acknowledge<impl Service<AcceptedRecall, Response = (), Error = Infallible> + Clone>,
    >,
    Kept,
) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&kept);
    let layer = layer.acknowledge(service_fn(move |accepted: AcceptedRecall| {
        sink.lock().unwrap().push(accepted);
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    (layer, kept)
}

#[tokio::test]
async fn acknowledge_mode_hands_the_event_and_the_body_over_and_answers_ok() {
    let (layer, kept) = keeping(layer());
    for (kind, body, expected) in documented_bodies() {
        let body = Bytes::from_static(body.as_bytes());
        let request = post(&query_of(kind), Full::new(body.clone()));
        let (answer, recorder) = send(&layer, request).await;
        answer.assert_ok_ack();
        assert_eq!(recorder.calls(), 0, "the inner service was called");
        let accepted = kept.lock().unwrap().pop().unwrap();
        assert_eq!(accepted.event, expected);
        // The raw body, for fields the crate does not model: the bytes read, not a copy.
        assert_eq!(accepted.body, body);
        assert_eq!(accepted.body.as_ptr(), body.as_ptr());
    }

    // Other requests still reach the inner service.
    let (answer, recorder) = send(&layer, post("x=1", full(""))).await;
    answer.assert_inner();
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn acknowledge_mode_reports_a_handler_failure_without_its_error() {
    let failing = service_fn(|_accepted: AcceptedRecall| async {
        Err::<(), _>(std::io::Error::other("database is down; token=xxxxyyyy"))
    });
    let layer = signed_layer().acknowledge(failing);
    let query = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let (answer, recorder) = send(&layer, post(&query, full(EVENT))).await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the recall handler failed",
    );
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn acknowledge_mode_answers_the_reason_a_handler_error_names() {
    /// A handler's own error, whose source names the reason; its message is never shown.
    #[derive(Debug)]
    struct StoreDown(HandlerError);
    impl std::fmt::Display for StoreDown {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("redis://:hunter2@10.0.0.5 refused")
        }
    }
    impl std::error::Error for StoreDown {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    const UNAVAILABLE: HandlerError = HandlerError::new("recall store unavailable");

    let query = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let named = service_fn(|_accepted: AcceptedRecall| async { Err::<(), _>(UNAVAILABLE) });
    let (answer, recorder) = send(
        &signed_layer().acknowledge(named),
        post(&query, full(EVENT)),
    )
    .await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "recall store unavailable",
    );
    assert_eq!(recorder.calls(), 0);

    let wrapped =
        service_fn(|_accepted: AcceptedRecall| async { Err::<(), _>(StoreDown(UNAVAILABLE)) });
    let (answer, _) = send(
        &signed_layer().acknowledge(wrapped),
        post(&query, full(EVENT)),
    )
    .await;
    answer.assert_fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "recall store unavailable",
    );
}

#[tokio::test]
async fn acknowledge_mode_still_refuses_bad_callbacks() {
    let (layer, kept) = keeping(layer());
    let (answer, recorder) = send(&layer, post(QUERY, full("{}"))).await;
    answer.assert_fail(
        StatusCode::BAD_REQUEST,
        "invalid body: missing field `GroupId` at line 1 column 2",
    );
    let c2c = post(&query_of(RecallKind::OneToOne), full(EVENT));
    let (mismatch, _) = send(&layer, c2c).await;
    mismatch.assert_fail(StatusCode::BAD_REQUEST, MISMATCH);
    assert_eq!(recorder.calls(), 0);
    assert!(kept.lock().unwrap().is_empty());
}
