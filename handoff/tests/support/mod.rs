//! What the handoff's tests share: recalls, a handoff on a fresh journal, a `redis-server` of
//! the test's own that it can kill, pause and restart (from the workspace's support package),
//! and a capture of the log.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
pub use support::redis_server::RedisServer;
use tower::{service_fn, Layer, ServiceExt};
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{AcceptedRecall, GroupRecall, OneToOneRecall, RecallLayer, RecalledMessage};
use tower_tim_recall_handoff::{
    ConsumerError, Delivered, Handed, Handoff, HandoffBuilder, JournalReader, Outcome, StoredEntry,
    StreamEntry, Unavailable,
};

pub const APP: u64 = 1400000000;
pub const GROUP: &str = "@TGS#2J4SZEAEL";

/// A group recall of `seqs` by `operator`, with the body the layer would hand over.
pub fn recall(seqs: &[u32], operator: &str) -> AcceptedRecall {
    let messages = seqs.iter().map(|&seq| RecalledMessage::new(seq, None));
    let mut event = GroupRecall::new(APP, GROUP, messages);
    event.operator_account = Some(operator.to_owned());
    let body = serde_json::json!({
        "CallbackCommand": "Group.CallbackAfterRecallMsg",
        "Operator_Account": operator,
        "GroupId": GROUP,
        "MsgSeqList": seqs.iter().map(|seq| serde_json::json!({"MsgSeq": seq})).collect::<Vec<_>>(),
        "Unmodelled": "kept",
    });
    AcceptedRecall::new(event.into(), Bytes::from(body.to_string()))
}

/// A one-to-one recall of `msg_key`.
pub fn one_to_one(msg_key: &str) -> AcceptedRecall {
    let event = OneToOneRecall::new(APP, "jared", "Jonh", msg_key);
    AcceptedRecall::new(event.into(), Bytes::from_static(b"{}"))
}

/// The dedup key of group message `seq`, as entries carry it.
pub fn key(seq: u32) -> String {
    format!(r#"{{"Group":{{"SdkAppid":{APP},"GroupId":"{GROUP}","TopicId":null,"MsgSeq":{seq}}}}}"#)
}

/// The outcomes of handing `recall` to `handoff`, which must make it durable.
pub async fn outcomes(handoff: &Handoff, recall: AcceptedRecall) -> Vec<Outcome> {
    hand(handoff, recall)
        .await
        .expect("the recall is made durable")
        .outcomes
}

/// The entries a consumer's read or claim delivered, every one of this format.
pub fn wellformed(delivered: Result<Vec<Delivered>, ConsumerError>) -> Vec<StreamEntry> {
    delivered
        .expect("Redis answers the consumer")
        .into_iter()
        .map(|delivery| delivery.expect("an entry of this format"))
        .collect()
}

/// Hands `recall` to `handoff` as the layer does.
pub async fn hand(handoff: &Handoff, recall: AcceptedRecall) -> Result<Handed, Unavailable> {
    handoff.clone().oneshot(recall).await
}

/// The layer in acknowledge mode with `handoff`, answering `callback`: status and body.
pub async fn through_the_layer(handoff: Handoff, callback: Callback) -> (StatusCode, String) {
    let layer = RecallLayer::new([APP], ["token"])
        .unwrap()
        .acknowledge(handoff);
    let inner = service_fn(|_request: http::Request<_>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
    });
    let response = layer
        .layer(inner)
        .oneshot(callback.signed("token").request::<Full<Bytes>>())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

pub fn group_callback(seqs: &[u32]) -> Callback {
    let messages = seqs.iter().map(|&seq| RecalledMessage::new(seq, None));
    Callback::new(GroupRecall::new(APP, GROUP, messages))
}

pub const UNAVAILABLE: &str =
    r#"{"ActionStatus":"FAIL","ErrorInfo":"recall store unavailable","ErrorCode":500}"#;

/// A temporary directory with a journal path in it.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("journal.db")
    }

    pub fn builder(&self) -> HandoffBuilder {
        Handoff::builder(self.journal())
    }

    /// Every entry of the journal, in order.
    pub fn entries(&self) -> Vec<StoredEntry> {
        JournalReader::open(self.journal())
            .expect("the journal opens")
            .read_after(0, usize::MAX)
            .expect("the journal reads")
    }
}

/// The keys of `entries`, in order.
pub fn keys_of<'a>(entries: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    entries.into_iter().cloned().collect()
}

/// Waits until `done` holds, for at most `limit`.
pub async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

/// The log lines written on this thread while a capture is alive.
///
/// One global subscriber for the whole test binary writes each event to the capture of the
/// thread that emitted it (a current-thread runtime's tasks run on the test's thread). A
/// subscriber per thread (`set_default`) is not enough when tests run in parallel: tracing
/// caches a callsite's interest across threads, and an event can be skipped on one thread
/// because no subscriber wanted it on another.
#[derive(Clone, Default)]
pub struct Logs {
    lines: Arc<Mutex<Vec<u8>>>,
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Ends the capture of its thread when dropped.
pub struct Capturing(());

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// Where the global subscriber writes: the emitting thread's capture, or nowhere.
struct ToCapture;

impl Write for ToCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(logs) = capture.borrow().as_ref() {
                logs.lines.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures every event this thread emits until the guard is dropped.
    pub fn capture() -> (Self, Capturing) {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .without_time()
                .with_writer(|| ToCapture)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        });
        let logs = Self::default();
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(logs.clone()));
        (logs, Capturing(()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}
