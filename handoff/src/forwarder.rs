//! The forwarder: moves the entries that spilled to the journal while Redis was away to the
//! stream, in order, with backoff while Redis stays away. The claims make an entry that
//! already reached the stream (a script that ran but whose answer was lost) a duplicate.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::runtime::Handle;

use crate::durability;
use crate::outcome::{Outcome, Store};
use crate::router::{conflict_logged, Router};

/// The most entries one script call forwards.
const BATCH: usize = 64;
/// The first wait after Redis failed, doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often an idle forwarder looks at the journal, in case a wake-up was missed.
const IDLE: Duration = Duration::from_secs(1);

/// What one pass did.
enum Pass {
    /// Forwarded a batch: go on at once.
    Moved,
    /// Nothing waits.
    Idle,
    /// Redis or the journal failed: wait before the next try.
    Failed,
}

/// Starts the forwarder and the check of Redis's durability settings. Both stop once every
/// clone of the handoff is dropped.
pub(crate) fn start(runtime: &Handle, router: &Arc<Router>) {
    runtime.spawn(forward(Arc::downgrade(router)));
    runtime.spawn(check_durability(Arc::downgrade(router)));
}

async fn forward(router: Weak<Router>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let Some(strong) = router.upgrade() else {
            return;
        };
        let pass = pass(&strong).await;
        let wake = Arc::clone(&strong.wake);
        drop(strong);
        match pass {
            Pass::Moved => backoff = MIN_BACKOFF,
            Pass::Idle => {
                backoff = MIN_BACKOFF;
                let _ = tokio::time::timeout(IDLE, wake.notified()).await;
            }
            Pass::Failed => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn pass(router: &Router) -> Pass {
    let Some(stream) = &router.stream else {
        return Pass::Idle;
    };
    let seen = router.counters.backlog.load(Ordering::Relaxed);
    let Ok(spilled) = router.journal.unforwarded(BATCH).await else {
        return Pass::Failed;
    };
    if spilled.is_empty() {
        // Unless a spill counted itself since the read: then the next pass, which its wake-up
        // starts, finds it.
        let _ =
            router
                .counters
                .backlog
                .compare_exchange(seen, 0, Ordering::Relaxed, Ordering::Relaxed);
        return Pass::Idle;
    }
    let entries = spilled
        .iter()
        .map(|spilled| spilled.entry.clone())
        .collect();
    match tokio::time::timeout(router.redis_timeout, stream.append(Arc::new(entries))).await {
        Ok(Ok(outcomes)) => {
            router.stream_answered();
            for (spilled, outcome) in spilled.iter().zip(&outcomes) {
                if *outcome == Outcome::Conflict && !spilled.conflict {
                    conflict_logged(&spilled.entry.key, Store::Stream);
                }
            }
        }
        Ok(Err(error)) => {
            router.stream_failed(&error.to_string());
            return Pass::Failed;
        }
        Err(_) => {
            router.stream_failed("no answer within the Redis timeout");
            return Pass::Failed;
        }
    }
    let positions: Vec<i64> = spilled.iter().map(|spilled| spilled.position).collect();
    let moved = u64::try_from(positions.len()).unwrap_or(u64::MAX);
    if router.journal.mark_forwarded(positions).await.is_err() {
        // The entries are in the stream; the next pass sends them again as duplicates.
        return Pass::Failed;
    }
    router
        .counters
        .forwarded
        .fetch_add(moved, Ordering::Relaxed);
    let _ = router
        .counters
        .backlog
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            Some(left.saturating_sub(moved))
        });
    Pass::Moved
}

/// Reads Redis's durability settings once it first answers, and logs each one that weakens
/// the promise at `WARN`.
async fn check_durability(router: Weak<Router>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let Some(strong) = router.upgrade() else {
            return;
        };
        let Some(stream) = &strong.stream else { return };
        let mut connection = stream.connection();
        let ping: redis::RedisResult<String> = tokio::time::timeout(
            strong.redis_timeout,
            redis::cmd("PING").query_async(&mut connection),
        )
        .await
        .unwrap_or_else(|_| Err((redis::ErrorKind::Io, "timed out").into()));
        if ping.is_ok() {
            let warnings =
                tokio::time::timeout(strong.redis_timeout * 4, durability::check(&mut connection))
                    .await
                    .unwrap_or_else(|_| durability::unanswered());
            for warning in &warnings {
                tracing::warn!(
                    redis = stream.address(),
                    stream = stream.name(),
                    setting = %warning.setting,
                    "{}",
                    warning.meaning
                );
            }
            *strong
                .durability
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(warnings);
            return;
        }
        drop(strong);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
