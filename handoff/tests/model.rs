//! Properties against a model: whatever the interleaving of new recalls, duplicates, conflicts
//! and Redis outages (killed, restarted, paused), each key is stored once per content, every
//! conflict is kept and marked, and nothing resolved `Ok` is missing from the store.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use tower_tim_recall_handoff::{Outcome, StreamConsumer, DEFAULT_STREAM};

use support::*;

/// Who recalls: the same key by another operator is other content.
const OPERATORS: [&str; 2] = ["jared", "mallory"];

#[derive(Debug, Clone)]
enum Op {
    /// A recall of these messages by operator 0 or 1.
    Recall(Vec<u32>, usize),
    /// Redis is killed (if it runs) or started again (if it was killed).
    KillOrRestart,
    /// Redis is paused (if it runs) or resumed (if it was paused).
    PauseOrResume,
}

fn recalls() -> impl Strategy<Value = Op> {
    (proptest::collection::vec(0u32..6, 1..4), 0usize..2)
        .prop_map(|(seqs, who)| Op::Recall(seqs, who))
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        6 => recalls(),
        1 => Just(Op::KillOrRestart),
        1 => Just(Op::PauseOrResume),
    ];
    proptest::collection::vec(op, 1..14)
}

/// For each key, the operators in the order their content first arrived: what the store must
/// hold, the first unmarked and the others marked as conflicts.
#[derive(Default)]
struct Model {
    keys: BTreeMap<String, Vec<&'static str>>,
    order: Vec<(String, &'static str)>,
}

impl Model {
    /// The outcome the store gives a message of `seq` by `who`, and what it then holds.
    fn recall(&mut self, seq: u32, who: &'static str) -> Outcome {
        let seen = self.keys.entry(key(seq)).or_default();
        let outcome = if seen.contains(&who) {
            return Outcome::Duplicate;
        } else if seen.is_empty() {
            Outcome::New
        } else {
            Outcome::Conflict
        };
        seen.push(who);
        self.order.push((key(seq), who));
        outcome
    }

    /// What the store holds: (key, operator, conflict) in the order of arrival.
    fn stored(&self) -> Vec<(String, &'static str, bool)> {
        self.order
            .iter()
            .map(|(key, who)| (key.clone(), *who, self.keys[key][0] != *who))
            .collect()
    }

    /// The same, per key: the stream keeps each key's order; across keys, spilled entries
    /// wait behind each other, so the per-key order is the promise.
    fn stored_per_key(&self) -> BTreeMap<String, Vec<(&'static str, bool)>> {
        let mut per_key: BTreeMap<String, Vec<(&'static str, bool)>> = BTreeMap::new();
        for (key, who, conflict) in self.stored() {
            per_key.entry(key).or_default().push((who, conflict));
        }
        per_key
    }
}

fn operator_of(event: &str) -> &'static str {
    OPERATORS
        .into_iter()
        .find(|who| event.contains(&format!(r#""Operator_Account":"{who}""#)))
        .expect("an event names its operator")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The journal alone: each outcome is the model's, and the journal holds what it holds.
    #[test]
    fn the_journal_holds_what_the_model_holds(recalls in proptest::collection::vec(recalls(), 1..24)) {
        runtime().block_on(async {
            let dir = Dir::new();
            let handoff = dir.builder().open().unwrap();
            let mut model = Model::default();
            for op in recalls {
                let Op::Recall(seqs, who) = op else { unreachable!() };
                let who = OPERATORS[who];
                let expected: Vec<Outcome> = seqs.iter().map(|&seq| model.recall(seq, who)).collect();
                let handed = hand(&handoff, recall(&seqs, who)).await.unwrap();
                assert_eq!(handed.outcomes, expected, "recall of {seqs:?} by {who}");
            }
            let stored: Vec<(String, &str, bool)> = dir
                .entries()
                .into_iter()
                .map(|entry| (entry.key, operator_of(&entry.event), entry.conflict))
                .collect();
            assert_eq!(stored, model.stored());
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, max_shrink_iters: 16, ..ProptestConfig::default() })]

    /// Redis with outages: every recall resolves `Ok`, and once Redis is back and the
    /// forwarder done, the stream holds each key's contents once each, in order, the first
    /// unmarked and the others marked as conflicts; nothing is left spilled.
    #[test]
    fn the_stream_holds_what_the_model_holds_whatever_the_outages(ops in ops()) {
        runtime().block_on(async {
            let mut redis = RedisServer::start();
            let (mut killed, mut paused) = (false, false);
            let dir = Dir::new();
            let handoff = dir
                .builder()
                .redis(redis.url())
                .redis_timeout(Duration::from_millis(100))
                .open()
                .unwrap();
            let mut model = Model::default();
            for op in ops {
                match op {
                    Op::Recall(seqs, who) => {
                        let who = OPERATORS[who];
                        for &seq in &seqs {
                            model.recall(seq, who);
                        }
                        let handed = hand(&handoff, recall(&seqs, who)).await;
                        assert!(handed.is_ok(), "recall of {seqs:?} by {who}: {handed:?}");
                    }
                    Op::KillOrRestart if paused => {}
                    Op::KillOrRestart if killed => {
                        redis.restart();
                        killed = false;
                    }
                    Op::KillOrRestart => {
                        redis.kill();
                        killed = true;
                    }
                    Op::PauseOrResume if killed => {}
                    Op::PauseOrResume if paused => {
                        redis.resume();
                        paused = false;
                    }
                    Op::PauseOrResume => {
                        redis.pause();
                        paused = true;
                    }
                }
            }
            if killed {
                redis.restart();
            }
            if paused {
                redis.resume();
            }
            let forwarded = eventually(Duration::from_secs(20), || {
                dir.entries()
            .iter()
            .all(|entry| !entry.spilled || entry.forwarded.is_some())
            })
            .await;
            assert!(forwarded, "entries are left spilled: {:?}", handoff.stats());

            let mut consumer = StreamConsumer::connect(&redis.url(), DEFAULT_STREAM, "model", "m").await.unwrap();
            let mut per_key: BTreeMap<String, Vec<(&str, bool)>> = BTreeMap::new();
            for entry in wellformed(consumer.read(10_000, Duration::from_millis(10)).await) {
                per_key.entry(entry.key.clone()).or_default().push((operator_of(&entry.event), entry.conflict));
            }
            assert_eq!(per_key, model.stored_per_key());
        });
    }
}
