//! Rows: the body over the limit, by its head or while reading: 413; the body failing while
//! reading: 400. Bodies in many tiny frames, endless ones, and ones that never end.

use super::*;

/// `body` padded with spaces to exactly `len` bytes.
fn padded(body: &str, len: usize) -> Vec<u8> {
    let mut body = body.as_bytes().to_vec();
    assert!(len >= body.len());
    body.resize(len, b' ');
    body
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let limit = 1024;
    let layer = unsigned_layer(limit);
    for (_, query, _) in recalls() {
        let mut request = post(&query, UNREAD);
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (limit + 1).into());
        refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).await;
        // Over the limit by the body's own size hint, as a body of known length tells it.
        refused(
            &layer,
            post(&query, Unread(Some(limit as u64 + 1))),
            StatusCode::PAYLOAD_TOO_LARGE,
            TOO_LARGE,
        )
        .await;
        // After the query's shape: a bad shape with a large body is a 400.
        let mut request = post(&format!("{query}&contenttype=xml"), Unread(Some(1 << 30)));
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (1u64 << 30).into());
        let reason = "contenttype is repeated";
        refused(&layer, request, StatusCode::BAD_REQUEST, reason).await;
    }
}

#[tokio::test]
async fn a_body_that_knows_its_length_is_judged_by_it() {
    // hyper's body knows its length from `Content-Length`, so the two agree; where they do
    // not, the body's own length is what will be read.
    let limit = 1024;
    let layer = unsigned_layer(limit);
    let mut request = post(QUERY, Unread(Some(limit as u64 + 1)));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, 10.into());
    refused(&layer, request, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).await;
    let mut request = post(QUERY, full(EVENT));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (limit + 1).into());
    accepted(&layer, request).await;
}

#[tokio::test]
async fn the_limit_is_exact_with_or_without_content_length() {
    let limit = 1000;
    let layer = unsigned_layer(limit);
    for (kind, query, event) in recalls() {
        for (len, declared) in [
            (limit, true),
            (limit, false),
            (limit + 1, true),
            (limit + 1, false),
        ] {
            let body = padded(event, len);
            let mut request = post(
                &query,
                Script::cut(&body, &[100, 200, 300, 900], End::Finish),
            );
            if declared {
                request
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, len.into());
            }
            let (answer, recorder) = send(&layer, request).await;
            if len <= limit {
                answer.assert_inner();
                assert_eq!(recorder.seen().body.len(), len);
                assert_eq!(recorder.event().unwrap().kind(), kind);
            } else {
                answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
                assert_eq!(recorder.calls(), 0);
            }
        }
    }
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    for (_, query, _) in recalls() {
        // 100 bytes a frame, forever, without Content-Length.
        let endless = Script::repeat(&[b' '; 100], usize::MAX, End::Finish);
        let (answer, recorder) = send(&unsigned_layer(10_000), post(&query, endless)).await;
        answer.assert_fail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        assert_eq!(recorder.calls(), 0);
    }
}

#[tokio::test]
async fn a_hundred_thousand_tiny_chunks_under_the_limit_are_joined() {
    let body = Script::repeat(b" ", 100_000, End::Finish).then(EVENT);
    let (event, received) = accepted(&roomy(), post(QUERY, body)).await;
    assert_eq!(received.len(), 100_000 + EVENT.len());
    assert!(received.ends_with(EVENT.as_bytes()));
    assert_eq!(event, documented_event());
}

#[tokio::test]
async fn a_hundred_thousand_tiny_chunks_over_the_limit_stop_at_the_limit() {
    let body = Script::repeat(b" ", 100_000, End::Finish).then(EVENT);
    let polls = Arc::clone(&body.polls);
    refused(
        &layer(),
        post(QUERY, body),
        StatusCode::PAYLOAD_TOO_LARGE,
        TOO_LARGE,
    )
    .await;
    // Read up to the first byte past 64 KiB, and not one frame more.
    assert_eq!(polls.load(Ordering::SeqCst), 64 * 1024 + 1);
}

/// Counts how often a future asks to be polled again.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl std::task::Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn empty_frames_forever_are_read_in_batches_that_yield() {
    // A body that is always ready with empty frames never passes the limit. The layer reads a
    // bounded batch of frames per poll, then wakes itself and returns `Pending`, so the task
    // yields to the executor (and to the caller's timeout) instead of spinning inside one poll.
    // What it holds meanwhile is pinned in `allocations.rs`.
    let body = Script::repeat(b"", usize::MAX, End::Finish);
    let polls = Arc::clone(&body.polls);
    let dropped = Arc::clone(&body.dropped);
    let inner = Recorder::default();
    let wakes = Arc::new(Wakes::default());
    let waker = std::task::Waker::from(Arc::clone(&wakes));
    let mut cx = std::task::Context::from_waker(&waker);
    {
        let service = layer().layer(inner.clone());
        let mut answer = std::pin::pin!(service.oneshot(post(QUERY, body)));
        let mut previous = 0;
        for round in 1..=100 {
            assert!(
                std::future::Future::poll(answer.as_mut(), &mut cx).is_pending(),
                "round {round}"
            );
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                round,
                "it did not wake itself"
            );
            let read = polls.load(Ordering::SeqCst) - previous;
            assert!((1..=64).contains(&read), "{read} frames read in one poll");
            previous += read;
        }
    } // The caller gives up: the answer, and with it the body, is dropped.
    assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn a_body_that_fails_mid_stream_is_refused() {
    const UNREADABLE: &str = "body could not be read";
    for (_, query, event) in recalls() {
        // Even when what arrived before the failure is a whole event: the body was not complete.
        let bodies = [
            Script::frames([Bytes::from_static(br#"{"GroupId":"#)], End::Fail),
            Script::frames([Bytes::from_static(event.as_bytes())], End::Fail),
            Script::repeat(b" ", 0, End::Fail),
            Script::repeat(b" ", 1, End::Fail),
            Script::repeat(b" ", 10_000, End::Fail),
        ];
        for body in bodies {
            let dropped = Arc::clone(&body.dropped);
            let (answer, recorder) = send(&layer(), post(&query, body)).await;
            answer.assert_fail(StatusCode::BAD_REQUEST, UNREADABLE);
            assert_eq!(recorder.calls(), 0);
            assert!(dropped.load(Ordering::SeqCst), "the body was not dropped");
        }
    }
}
