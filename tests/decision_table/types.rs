//! What the types promise: no secret in `Debug`, the inner service given back, `Send` and `Sync`
//! where axum and hyper need them.

use super::*;

#[test]
fn debug_never_shows_a_token() {
    let secrets = ["super-secret-token", "previous-secret-token"];
    let common = RecallLayer::new([APP], secrets).unwrap();
    let builder = RecallLayer::builder()
        .signed_app(APP, secrets)
        .unsigned_app(SECOND_APP)
        .allow_unsigned_apps();
    let built = builder.clone().build().unwrap();
    let service = common.layer(());
    let acknowledging = common.clone().acknowledge(service_fn(|_: AcceptedRecall| {
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    let texts = [
        format!("{common:?}"),
        format!("{common:#?}"),
        format!("{builder:?}"),
        format!("{built:?}"),
        format!("{built:#?}"),
        format!("{service:?}"),
        format!("{:?}", acknowledging.layer(())),
    ];
    for text in texts {
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(!text.contains(&sign(secrets[0], NOW)), "{text}");
    }
}

#[tokio::test]
async fn the_response_future_debug_shows_its_step_and_no_secret() {
    let mut service = signed_layer().layer(Recorder::default());
    let signed = query_with(&format!("&RequestTime={NOW}&Sign={DOC_SIGN}"));
    let cases = [
        (Request::new(full("not a callback")), "inner service"),
        (post(QUERY, full(EVENT)), "answer"),
        (post(&signed, full(EVENT)), "reading the body"),
    ];
    for (request, step) in cases {
        let future = ServiceExt::<Request<Full<Bytes>>>::ready(&mut service)
            .await
            .unwrap()
            .call(request);
        let text = format!("{future:?}");
        assert_eq!(text, format!("ResponseFuture {{ step: {step:?}, .. }}"));
    }
}

#[tokio::test]
async fn the_inner_service_can_be_taken_back() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let mut service = layer().layer(service_fn(move |_: Request<RequestBody<Full<Bytes>>>| {
        counted.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok::<_, Infallible>(Response::new(full(""))))
    }));
    let _ = service.get_mut();
    let _ = service.get_ref();
    let inner = service.into_inner();
    inner
        .oneshot(Request::new(RequestBody::new(full(""))))
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let body = RequestBody::new(full("x"))
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, "x");
}

// The service and its future can be used by axum (`Send + Sync` service, `Send` future) and by
// hyper with its own body type, in both modes: checked when the tests compile, never run.
const _: fn() = || {
    use tower::util::BoxCloneSyncService;
    use tower_tim_recall::Recall;

    fn service<S, R>()
    where
        S: Service<R> + Send + Sync + Clone + 'static,
        S::Future: Send,
    {
    }
    type Inner<B> = BoxCloneSyncService<Request<RequestBody<B>>, Response<Full<Bytes>>, Infallible>;
    type Handler = BoxCloneSyncService<AcceptedRecall, (), tower::BoxError>;

    service::<Recall<Inner<hyper::body::Incoming>>, Request<hyper::body::Incoming>>();
    service::<Recall<Inner<axum::body::Body>>, Request<axum::body::Body>>();
    service::<Recall<Inner<axum::body::Body>, Acknowledge<Handler>>, Request<axum::body::Body>>();
    service::<
        Recall<Inner<hyper::body::Incoming>, Acknowledge<Handler>>,
        Request<hyper::body::Incoming>,
    >();
};
