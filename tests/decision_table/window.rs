//! Rows: a signed app's `RequestTime` outside the window, at the head and when the body is
//! complete: 401.

use super::*;

#[tokio::test]
async fn both_bounds_are_sixty_seconds_by_default() {
    let layer = signed_layer();
    for at in [NOW - 60, NOW, NOW + 60] {
        let event = accept(&layer, &signed_at(at), full(EVENT)).await;
        assert_eq!(event.context().request_time, Some(at));
    }
    let old = post(&signed_at(NOW - 61), UNREAD);
    refused(&layer, old, StatusCode::UNAUTHORIZED, TOO_OLD).await;
    let ahead = post(&signed_at(NOW + 61), UNREAD);
    refused(&layer, ahead, StatusCode::UNAUTHORIZED, AHEAD).await;
}

/// A clock that reads `head` the first time (the head's check) and `body` after (when the
/// body is complete).
fn head_then_body(head: u64, body: u64) -> impl Fn() -> std::time::SystemTime + Send + Sync {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    move || {
        at(
            if calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                head
            } else {
                body
            },
        )
    }
}

#[tokio::test]
async fn the_window_holds_until_the_body_is_complete() {
    // Signed 10 s before the head arrives: the window (60 s) ends 50 s after the head.
    for (later, answer) in [
        (0, None),
        (50, None),
        (51, Some(TOO_OLD)),
        (3600, Some(TOO_OLD)),
    ] {
        for (_, query, body) in recalls() {
            let time = NOW - 10;
            let query = format!("{query}&RequestTime={time}&Sign={}", sign(TOKEN, time));
            let layer = RecallLayer::builder()
                .signed_app(APP, [TOKEN])
                .clock(head_then_body(NOW, NOW + later))
                .build()
                .unwrap();
            match answer {
                None => {
                    let event = accept(&layer, &query, full(body)).await;
                    assert_eq!(event.context().request_time, Some(time));
                }
                Some(reason) => {
                    let request = post(&query, full(body));
                    refused(&layer, request, StatusCode::UNAUTHORIZED, reason).await;
                }
            }
        }
    }
    // An unsigned app has no window.
    let unsigned = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .clock(head_then_body(NOW, NOW + 3600))
        .build()
        .unwrap();
    accept(&unsigned, QUERY, full(EVENT)).await;
}

#[tokio::test]
async fn each_bound_is_exact_on_its_own_and_the_reason_names_it() {
    for (age, ahead) in [
        (0, 0),
        (1, 1),
        (60, 60),
        (300, 0),
        (0, 300),
        (59, 1),
        (1, 59),
    ] {
        let layer = signed()
            .max_age(secs(age))
            .max_ahead(secs(ahead))
            .build()
            .unwrap();
        for at in [NOW - age, NOW + ahead] {
            let event = accept(&layer, &signed_at(at), full(EVENT)).await;
            assert_eq!(event.context().request_time, Some(at));
        }
        let old = post(&signed_at(NOW - age - 1), UNREAD);
        refused(&layer, old, StatusCode::UNAUTHORIZED, TOO_OLD).await;
        let early = post(&signed_at(NOW + ahead + 1), UNREAD);
        refused(&layer, early, StatusCode::UNAUTHORIZED, AHEAD).await;
    }
}

#[tokio::test]
async fn fractions_of_a_second_are_dropped_from_each_bound() {
    // 1.9 s is a bound of one second.
    let layer = signed()
        .max_age(Duration::from_millis(1900))
        .max_ahead(Duration::from_millis(1900))
        .build()
        .unwrap();
    for at in [NOW - 1, NOW + 1] {
        accept(&layer, &signed_at(at), full(EVENT)).await;
    }
    refused(
        &layer,
        post(&signed_at(NOW - 2), UNREAD),
        StatusCode::UNAUTHORIZED,
        TOO_OLD,
    )
    .await;
    refused(
        &layer,
        post(&signed_at(NOW + 2), UNREAD),
        StatusCode::UNAUTHORIZED,
        AHEAD,
    )
    .await;
}

#[tokio::test]
async fn unbounded_windows_do_not_overflow() {
    // The receiver's clock at the epoch, now, and far past anything `RequestTime` can say.
    for clock in [0, NOW, i64::MAX as u64 / 2] {
        let layer = RecallLayer::builder()
            .signed_app(APP, [TOKEN])
            .max_age(Duration::MAX)
            .max_ahead(Duration::MAX)
            .clock(move || at(clock))
            .build()
            .unwrap();
        for time in [0, 1, NOW, u64::MAX] {
            accept(&layer, &signed_at(time), full(EVENT)).await;
        }
    }
    // One bound unbounded leaves the other one whole.
    let layer = signed()
        .max_age(Duration::MAX)
        .max_ahead(secs(0))
        .build()
        .unwrap();
    accept(&layer, &signed_at(0), full(EVENT)).await;
    let early = post(&signed_at(NOW + 1), UNREAD);
    refused(&layer, early, StatusCode::UNAUTHORIZED, AHEAD).await;
    let layer = signed()
        .max_age(secs(0))
        .max_ahead(Duration::MAX)
        .build()
        .unwrap();
    accept(&layer, &signed_at(u64::MAX), full(EVENT)).await;
    let old = post(&signed_at(NOW - 1), UNREAD);
    refused(&layer, old, StatusCode::UNAUTHORIZED, TOO_OLD).await;
}
