//! The Redis stream, against `redis-server`s the tests start: each key once across replicas,
//! conflicts, the spill while Redis is killed or paused and the forwarder after it, the
//! consumers, Redis's durability settings, and no password anywhere.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tower_tim_recall_handoff::{Handoff, Outcome, Store, StreamConsumer, DEFAULT_STREAM};

use support::*;

const STREAM: &str = DEFAULT_STREAM;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_message_is_one_stream_entry_with_the_fields_of_the_format() {
    let redis = RedisServer::start();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    let handed = hand(&handoff, recall(&[130, 131], "jared")).await.unwrap();
    assert_eq!(handed.store, Store::Stream);
    assert_eq!(handed.outcomes, [Outcome::New, Outcome::New]);

    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(STREAM)
        .arg("-")
        .arg("+")
        .query(&mut redis.connection())
        .unwrap();
    assert_eq!(entries.ids.len(), 2);
    let field = |index: usize, name: &str| entries.ids[index].get::<String>(name).unwrap();
    assert_eq!(field(0, "v"), "1");
    assert_eq!(field(0, "key"), key(130));
    assert_eq!(field(1, "key"), key(131));
    assert_eq!(
        field(1, "event"),
        r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","SdkAppid":1400000000,"Operator_Account":"jared","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":131}]}"#
    );
    assert!(field(0, "body").contains(r#""Unmodelled":"kept""#));
    assert_eq!(field(0, "conflict"), "0");
    let received: u64 = field(0, "received").parse().unwrap();
    assert!(received > 1_700_000_000_000);
    // The claim expires with the window.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{STREAM}:claim:{}", key(130)))
        .query(&mut redis.connection())
        .unwrap();
    assert!(ttl > 590_000 && ttl <= 600_000, "{ttl}");
    // Nothing went to the journal.
    assert!(dir.entries().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_one_redis_store_each_key_once() {
    let redis = RedisServer::start();
    let (one, two) = (Dir::new(), Dir::new());
    let replicas = [
        one.builder().redis(redis.url()).open().unwrap(),
        two.builder().redis(redis.url()).open().unwrap(),
    ];
    let mut tasks = Vec::new();
    for task in 0..32u32 {
        let handoff = replicas[task as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for round in 0..8u32 {
                let first = ((task / 2 + round) % 8) * 4;
                let seqs: Vec<u32> = (first..first + 4).collect();
                seen.extend(outcomes(&handoff, recall(&seqs, "jared")).await);
            }
            seen
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let new = outcomes.iter().filter(|&&o| o == Outcome::New).count();
    assert_eq!((new, outcomes.len()), (32, 32 * 32));
    let keys = redis.stream_keys(STREAM);
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), unique.len()), (32, 32));
    let stats = [replicas[0].stats(), replicas[1].stats()];
    assert_eq!(stats[0].new + stats[1].new, 32);
    assert_eq!(stats[0].spilled + stats[1].spilled, 0);
}

#[tokio::test]
async fn a_conflict_in_the_stream_is_kept_marked_and_logged() {
    let (logs, _guard) = Logs::capture();
    let redis = RedisServer::start();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    assert_eq!(
        outcomes(&handoff, recall(&[9], "jared")).await,
        [Outcome::New]
    );
    let forged = hand(&handoff, recall(&[9], "mallory")).await.unwrap();
    assert_eq!(forged.outcomes, [Outcome::Conflict]);
    let again = hand(&handoff, recall(&[9], "mallory")).await.unwrap();
    assert_eq!(again.outcomes, [Outcome::Duplicate]);

    let mut consumer = StreamConsumer::connect(&redis.url(), STREAM, "audit", "a1")
        .await
        .unwrap();
    let entries = wellformed(consumer.read(10, Duration::from_millis(100)).await);
    let seen: Vec<(&str, bool)> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.conflict))
        .collect();
    assert_eq!(seen, [(key(9).as_str(), false), (key(9).as_str(), true)]);
    assert!(entries[1].event.contains("mallory"));
    let text = logs.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("recall conflict"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains(&key(9)),
        "{text}"
    );
}

/// Sends `count` recalls of distinct keys from 8 tasks, with `fault` run once a third of them
/// is answered; every one must resolve `Ok` within Tencent's two seconds. The keys sent.
async fn load_with_fault(handoff: &Handoff, count: u32, fault: impl FnOnce()) -> Vec<String> {
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut tasks = Vec::new();
    for task in 0..8u32 {
        let handoff = handoff.clone();
        let answered = answered.clone();
        tasks.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for seq in (task..count).step_by(8) {
                let start = Instant::now();
                // Every recall is sent twice, as a retry would be: the second is a duplicate.
                for _ in 0..2 {
                    let handed = hand(&handoff, recall(&[seq], "jared")).await;
                    assert!(
                        handed.is_ok(),
                        "recall {seq} was not made durable: {handed:?}"
                    );
                }
                slowest = slowest.max(start.elapsed());
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            slowest
        }));
    }
    while answered.load(std::sync::atomic::Ordering::Relaxed) < count / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fault();
    for task in tasks {
        let slowest = task.await.unwrap();
        assert!(
            slowest < Duration::from_secs(2),
            "a recall and its retry took {slowest:?}"
        );
    }
    (0..count).map(key).collect()
}

/// Waits for the forwarder to empty the journal, then checks that the stream holds each key
/// once and the journal nothing unforwarded.
async fn forwarded_each_key_once(
    handoff: &Handoff,
    redis: &RedisServer,
    dir: &Dir,
    sent: &[String],
) {
    let empty = eventually(Duration::from_secs(20), || {
        dir.entries()
            .iter()
            .all(|entry| !entry.spilled || entry.forwarded.is_some())
    })
    .await;
    assert!(
        empty,
        "spilled entries are still waiting: {:?}",
        handoff.stats()
    );
    assert!(eventually(Duration::from_secs(5), || handoff.stats().backlog == 0).await);
    let keys = redis.stream_keys(STREAM);
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(keys.len(), unique.len(), "a key is in the stream twice");
    let expected: HashSet<&String> = sent.iter().collect();
    assert_eq!(unique, expected);
    assert_eq!(handoff.stats().stream_up, Some(true));
}

/// A load during which Redis fails by `fault` and comes back by `recover`: every recall is
/// answered `Ok` while Redis is away, and afterwards each key is in the stream once.
async fn outage(fault: fn(&mut RedisServer), recover: fn(&mut RedisServer)) {
    let mut redis = RedisServer::start();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    let sent = load_with_fault(&handoff, 240, || fault(&mut redis)).await;
    let stats = handoff.stats();
    assert_eq!(stats.stream_up, Some(false));
    assert!(stats.spilled > 0, "nothing spilled: {stats:?}");
    recover(&mut redis);
    forwarded_each_key_once(&handoff, &redis, &dir, &sent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_during_a_load_spills_and_after_a_restart_each_key_is_in_the_stream_once() {
    outage(RedisServer::kill, RedisServer::restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_paused_during_a_load_spills_and_after_it_resumes_each_key_is_in_the_stream_once() {
    outage(|redis| redis.pause(), |redis| redis.resume()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_down_at_start_is_not_an_error_and_recalls_reach_it_once_it_is_up() {
    let mut redis = RedisServer::start();
    redis.kill();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    let handed = hand(&handoff, recall(&[1, 2], "jared")).await.unwrap();
    assert_eq!(handed.store, Store::Spilled);
    assert_eq!(handed.outcomes, [Outcome::New, Outcome::New]);
    assert!(handoff.durability_warnings().is_none());
    redis.restart();
    forwarded_each_key_once(&handoff, &redis, &dir, &[key(1), key(2)]).await;
    // Once Redis answered, its settings were read: the tests' server keeps the promise.
    assert!(
        eventually(Duration::from_secs(10), || handoff
            .durability_warnings()
            .is_some())
        .await
    );
    assert_eq!(handoff.durability_warnings(), Some(Vec::new()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_spilled_before_a_restart_of_the_receiver_is_forwarded_by_the_next_one() {
    let mut redis = RedisServer::start();
    redis.kill();
    let dir = Dir::new();
    let first = dir.builder().redis(redis.url()).open().unwrap();
    hand(&first, recall(&[1, 2, 3], "jared")).await.unwrap();
    drop(first);
    redis.restart();
    let second = dir.builder().redis(redis.url()).open().unwrap();
    forwarded_each_key_once(&second, &redis, &dir, &[key(1), key(2), key(3)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_entry_comes_back_to_the_group_and_an_acknowledged_one_never_does() {
    let redis = RedisServer::start();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    hand(&handoff, recall(&[1, 2], "jared")).await.unwrap();

    let mut crashed = StreamConsumer::connect(&redis.url(), STREAM, "archive", "crashed")
        .await
        .unwrap();
    let read = wellformed(crashed.read(10, Duration::from_millis(100)).await);
    assert_eq!(
        read.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
        [key(1), key(2)]
    );
    assert_eq!(
        read[0].event().unwrap().kind().command(),
        "Group.CallbackAfterRecallMsg"
    );
    // It acknowledges the first and crashes before the second.
    crashed.ack(&[read[0].id.as_str()]).await.unwrap();
    drop(crashed);

    let mut next = StreamConsumer::connect(&redis.url(), STREAM, "archive", "next")
        .await
        .unwrap();
    assert!(wellformed(next.read(10, Duration::from_millis(50)).await).is_empty());
    // Not idle long enough yet: nothing to claim.
    assert!(wellformed(next.claim_stale(Duration::from_secs(60), 10).await).is_empty());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let claimed = wellformed(next.claim_stale(Duration::from_millis(100), 10).await);
    assert_eq!(
        claimed.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
        [key(2)]
    );
    next.ack(&[claimed[0].id.as_str()]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(wellformed(next.claim_stale(Duration::from_millis(100), 10).await).is_empty());
    // A new group reads everything from the start; the first group is done.
    let mut other = StreamConsumer::connect(&redis.url(), STREAM, "search", "s1")
        .await
        .unwrap();
    assert_eq!(
        wellformed(other.read(10, Duration::from_millis(50)).await).len(),
        2
    );
    hand(&handoff, recall(&[3], "jared")).await.unwrap();
    let new = wellformed(next.read(10, Duration::from_millis(500)).await);
    assert_eq!(
        new.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
        [key(3)]
    );
}

#[tokio::test]
async fn a_redis_that_loses_what_it_acknowledged_is_named_at_warn() {
    let (logs, _guard) = Logs::capture();
    let redis =
        RedisServer::start_with(&["--appendonly", "no", "--maxmemory-policy", "allkeys-lru"]);
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || handoff
            .durability_warnings()
            .is_some())
        .await
    );
    let settings: Vec<String> = handoff
        .durability_warnings()
        .unwrap()
        .into_iter()
        .map(|warning| warning.setting)
        .collect();
    assert_eq!(settings, ["appendonly no", "maxmemory-policy allkeys-lru"]);
    let text = logs.text();
    let warned: Vec<&str> = text.lines().filter(|line| line.contains("WARN")).collect();
    assert_eq!(warned.len(), 2, "{text}");
    assert!(
        warned[0].contains("appendonly no") && warned[0].contains("a restart of Redis loses"),
        "{text}"
    );
    assert!(warned[1].contains("maxmemory-policy allkeys-lru"), "{text}");
}

#[tokio::test]
async fn no_password_in_debug_errors_or_logs() {
    let (logs, _guard) = Logs::capture();
    let redis = RedisServer::start_with(&["--requirepass", "right-horse-battery"]);
    let dir = Dir::new();
    let url = format!("{}?pass=hunter2-staple", redis.url());
    let builder = dir.builder().redis(&url);
    assert!(!format!("{builder:?}").contains("hunter2"), "{builder:?}");
    let handoff = builder.open().unwrap();
    assert!(!format!("{handoff:?}").contains("hunter2"), "{handoff:?}");
    // Redis refuses the password: the recall spills and is answered Ok.
    let handed = hand(&handoff, recall(&[1], "jared")).await.unwrap();
    assert_eq!(handed.store, Store::Spilled);
    let text = logs.text();
    assert!(text.contains("Redis does not answer"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    for malformed in [
        "redis://:hunter2@host:notaport",
        "http://user:hunter2@example.com",
        "",
        "rediss://:hunter2@host:6380",
    ] {
        let error = Handoff::builder(dir.journal())
            .redis(malformed)
            .open()
            .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(shown.starts_with("malformed Redis URL: "), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    let error = StreamConsumer::connect("redis://:hunter2@host:x", STREAM, "g", "c")
        .await
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains("hunter2"));
    let error = Handoff::builder(dir.journal())
        .redis(redis.url())
        .stream("")
        .open()
        .unwrap_err();
    assert_eq!(error.to_string(), "the stream name is empty");
    let error = Handoff::builder(dir.journal())
        .redis(redis.url())
        .redis_timeout(Duration::from_secs(1))
        .open()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the Redis timeout must be shorter than the budget, and not zero"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_and_the_journal_full_the_answer_is_500_and_nothing_is_lost() {
    let mut redis = RedisServer::start();
    let dir = Dir::new();
    let handoff = dir
        .builder()
        .redis(redis.url())
        .journal_max_bytes(64 * 1024)
        .open()
        .unwrap();
    let (status, _) = through_the_layer(handoff.clone(), group_callback(&[1])).await;
    assert_eq!(status, http::StatusCode::OK);
    redis.kill();
    let mut seq = 1;
    let refused = loop {
        seq += 1;
        let (status, body) = through_the_layer(handoff.clone(), group_callback(&[seq])).await;
        if status != http::StatusCode::OK || seq > 10_000 {
            break (status, body);
        }
    };
    assert_eq!(
        refused,
        (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            UNAVAILABLE.to_owned()
        )
    );
    assert_eq!(handoff.stats().unavailable, 1);
    // Every recall answered OK reaches the stream once Redis is back; the refused one not.
    redis.restart();
    let answered: Vec<String> = (1..seq).map(key).collect();
    forwarded_each_key_once(&handoff, &redis, &dir, &answered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_spilling_the_same_recalls_during_a_pause_store_each_content_once() {
    let redis = RedisServer::start();
    let (one, two) = (Dir::new(), Dir::new());
    let replicas = [
        one.builder().redis(redis.url()).open().unwrap(),
        two.builder().redis(redis.url()).open().unwrap(),
    ];
    // Before the pause, 0..4 by jared reach the stream.
    hand(&replicas[0], recall(&[0, 1, 2, 3], "jared"))
        .await
        .unwrap();
    redis.pause();
    // During it, both replicas get the same recalls at once: retries of 0..4, new 4..8, and
    // a forgery of 2 and 5; everything spills and is answered Ok.
    let mut tasks = Vec::new();
    for replica in &replicas {
        for (seqs, who) in [
            (vec![0, 1, 2, 3], "jared"),
            (vec![4, 5, 6, 7], "jared"),
            (vec![2, 5], "mallory"),
        ] {
            let replica = replica.clone();
            tasks.push(tokio::spawn(async move {
                hand(&replica, recall(&seqs, who)).await
            }));
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().store, Store::Spilled);
    }
    redis.resume();
    for (replica, dir) in replicas.iter().zip([&one, &two]) {
        let forwarded = eventually(Duration::from_secs(20), || {
            dir.entries()
                .iter()
                .all(|entry| !entry.spilled || entry.forwarded.is_some())
        })
        .await;
        assert!(forwarded, "{:?}", replica.stats());
    }
    let mut consumer = StreamConsumer::connect(&redis.url(), STREAM, "check", "c")
        .await
        .unwrap();
    let mut stored: Vec<(String, bool)> = consumer
        .read(1000, Duration::from_millis(50))
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .map(|entry| (entry.key, entry.conflict))
        .collect();
    stored.sort();
    let mut expected: Vec<(String, bool)> = (0..8).map(|seq| (key(seq), false)).collect();
    expected.extend([(key(2), true), (key(5), true)]);
    expected.sort();
    assert_eq!(stored, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_that_fails_at_its_append_leaves_no_claim_and_loses_nothing() {
    let redis = RedisServer::start();
    // Something else took the stream's name: XADD fails on a key of another type.
    let _: () = redis::cmd("SET")
        .arg(STREAM)
        .arg("not a stream")
        .query(&mut redis.connection())
        .unwrap();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    let handed = hand(&handoff, recall(&[1, 2], "jared")).await.unwrap();
    assert_eq!(handed.store, Store::Spilled);
    let claims: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{STREAM}:*"))
        .query(&mut redis.connection())
        .unwrap();
    assert!(claims.is_empty(), "a failed script left {claims:?}");
    // Once the key is freed, the forwarder's retry is stored, not taken for a duplicate.
    let _: () = redis::cmd("DEL")
        .arg(STREAM)
        .query(&mut redis.connection())
        .unwrap();
    forwarded_each_key_once(&handoff, &redis, &dir, &[key(1), key(2)]).await;
}

#[tokio::test]
async fn a_claim_and_its_conflicts_expire_with_the_window() {
    let redis = RedisServer::start();
    let dir = Dir::new();
    let window = Duration::from_millis(400);
    let handoff = dir
        .builder()
        .redis(redis.url())
        .dedup_window(window)
        .open()
        .unwrap();
    assert_eq!(
        outcomes(&handoff, recall(&[1], "jared")).await,
        [Outcome::New]
    );
    assert_eq!(
        outcomes(&handoff, recall(&[1], "mallory")).await,
        [Outcome::Conflict]
    );
    let ttl = |name: String| -> i64 {
        redis::cmd("PTTL")
            .arg(name)
            .query(&mut redis.connection())
            .unwrap()
    };
    let (claim, conflicts) = (
        ttl(format!("{STREAM}:claim:{}", key(1))),
        ttl(format!("{STREAM}:conflicts:{}", key(1))),
    );
    assert!(claim > 0 && claim <= 400, "{claim}");
    assert!(
        conflicts > 0 && conflicts <= claim,
        "the conflicts outlive the claim: {conflicts} > {claim}"
    );
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    // Past the window the key is new again, whoever recalls it.
    assert_eq!(
        outcomes(&handoff, recall(&[1], "mallory")).await,
        [Outcome::New]
    );
    assert_eq!(redis.stream_keys(STREAM), [key(1), key(1), key(1)]);
}

#[tokio::test]
async fn an_entry_of_another_format_is_delivered_as_malformed_with_its_id() {
    let redis = RedisServer::start();
    let dir = Dir::new();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    let foreign: String = redis::cmd("XADD")
        .arg(STREAM)
        .arg("*")
        .arg("v")
        .arg("2")
        .arg("key")
        .arg("k")
        .query(&mut redis.connection())
        .unwrap();
    hand(&handoff, recall(&[1], "jared")).await.unwrap();
    let mut consumer = StreamConsumer::connect(&redis.url(), STREAM, "g", "c")
        .await
        .unwrap();
    let delivered = consumer.read(10, Duration::from_millis(50)).await.unwrap();
    assert_eq!(delivered.len(), 2);
    let malformed = delivered[0].as_ref().unwrap_err();
    assert_eq!(malformed.id, foreign);
    assert_eq!(malformed.reason, "format version 2; this build reads 1");
    assert_eq!(delivered[1].as_ref().unwrap().key, key(1));
}

#[tokio::test]
async fn a_refused_password_over_tcp_is_never_shown() {
    let (logs, _guard) = Logs::capture();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _redis = RedisServer::start_with(&[
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--requirepass",
        "right-horse-battery",
    ]);
    let dir = Dir::new();
    let handoff = dir
        .builder()
        .redis(format!("redis://:hunter2-staple@127.0.0.1:{port}/0"))
        .open()
        .unwrap();
    assert_eq!(
        hand(&handoff, recall(&[1], "jared")).await.unwrap().store,
        Store::Spilled
    );
    let text = logs.text();
    assert!(text.contains("Redis does not answer"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!format!("{handoff:?}").contains("hunter2"));
    let error = StreamConsumer::connect(
        &format!("redis://:hunter2-staple@127.0.0.1:{port}"),
        STREAM,
        "g",
        "c",
    )
    .await
    .unwrap_err();
    assert!(
        !format!("{error} {error:?}").contains("hunter2"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_entry_leaves_the_spill_a_window_later_and_the_rest_stays() {
    let mut redis = RedisServer::start();
    let dir = Dir::new();
    // An entry of the journal as the destination, before Redis was added.
    let alone = dir.builder().open().unwrap();
    hand(&alone, recall(&[1], "jared")).await.unwrap();
    drop(alone);
    redis.kill();
    let window = Duration::from_millis(300);
    let handoff = dir
        .builder()
        .redis(redis.url())
        .dedup_window(window)
        .open()
        .unwrap();
    assert_eq!(
        hand(&handoff, recall(&[2], "jared")).await.unwrap().store,
        Store::Spilled
    );
    redis.restart();
    forwarded_each_key_once(&handoff, &redis, &dir, &[key(2)]).await;
    // A window and a purge's turn later, the next write to the journal deletes it.
    tokio::time::sleep(window + Duration::from_millis(1_100)).await;
    redis.kill();
    assert_eq!(
        hand(&handoff, recall(&[3], "jared")).await.unwrap().store,
        Store::Spilled
    );
    let left: Vec<(String, bool)> = dir
        .entries()
        .into_iter()
        .map(|entry| (entry.key, entry.spilled))
        .collect();
    assert_eq!(left, [(key(1), false), (key(3), true)]);
}

#[test]
fn a_handoff_with_redis_outside_a_runtime_is_an_error() {
    let dir = Dir::new();
    let error = Handoff::builder(dir.journal())
        .redis("redis://127.0.0.1:6379")
        .open()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the handoff must be opened inside a tokio runtime"
    );
}
