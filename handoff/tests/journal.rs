//! The journal: entries, group commit, dedup and conflicts within the window, the consumer API,
//! the budget, and a store that cannot take a recall, answered through the layer.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use http::StatusCode;
use tower_tim_recall::RecalledMessage;
use tower_tim_recall_handoff::{Handoff, JournalReader, Outcome, Store, MAX_BUDGET, MAX_WINDOW};

use support::*;

#[tokio::test]
async fn each_message_is_one_entry_in_arrival_order_with_the_fields_of_the_format() {
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    let handed = hand(&handoff, recall(&[130, 131], "jared")).await.unwrap();
    assert_eq!(handed.store, Store::Journal);
    assert_eq!(handed.outcomes, [Outcome::New, Outcome::New]);
    hand(&handoff, one_to_one("48374_2837546_1557481126"))
        .await
        .unwrap();

    let entries = dir.entries();
    let keys: Vec<&str> = entries.iter().map(|entry| entry.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            key(130).as_str(),
            key(131).as_str(),
            r#"{"OneToOne":{"SdkAppid":1400000000,"MsgKey":"48374_2837546_1557481126"}}"#
        ]
    );
    let positions: Vec<i64> = entries.iter().map(|entry| entry.position).collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(
        entries[1].event,
        r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","SdkAppid":1400000000,"Operator_Account":"jared","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":131}]}"#
    );
    let event = entries[1].event().unwrap();
    assert_eq!(
        event.as_group().unwrap().messages,
        [RecalledMessage::new(131, None)]
    );
    assert!(
        entries[0].body.contains(r#""Unmodelled":"kept""#),
        "{}",
        entries[0].body
    );
    assert_eq!(entries[0].body, entries[1].body);
    assert!(entries
        .iter()
        .all(|entry| !entry.conflict && entry.done.is_none()));
    assert!(entries.iter().all(|entry| entry.forwarded.is_none()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(entries
        .iter()
        .all(|entry| entry.received <= now && entry.received + 60_000 > now));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_from_many_tasks_give_one_entry_per_key_in_fewer_commits() {
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    let mut tasks = Vec::new();
    // 64 tasks, each sending the same 8 recalls of 4 messages: 32 keys.
    for task in 0..64u32 {
        let handoff = handoff.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for round in 0..8u32 {
                let first = ((task + round) % 8) * 4;
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
    let duplicate = outcomes
        .iter()
        .filter(|&&o| o == Outcome::Duplicate)
        .count();
    assert_eq!(
        (new, duplicate, outcomes.len()),
        (32, 64 * 32 - 32, 64 * 32)
    );

    let entries = dir.entries();
    let keys: HashSet<&str> = entries.iter().map(|entry| entry.key.as_str()).collect();
    assert_eq!((entries.len(), keys.len()), (32, 32));
    let stats = handoff.stats();
    assert_eq!(
        (stats.new, stats.duplicate, stats.conflict),
        (32, 64 * 32 - 32, 0)
    );
    // 512 recalls arrived together: group commit wrote them in fewer transactions.
    assert!(
        stats.commits < 512,
        "{} commits for 512 recalls",
        stats.commits
    );
}

#[tokio::test]
async fn a_conflict_is_kept_beside_the_first_marked_and_logged() {
    let (logs, _guard) = Logs::capture();
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    hand(&handoff, recall(&[130], "jared")).await.unwrap();
    let forged = hand(&handoff, recall(&[130], "mallory")).await.unwrap();
    assert_eq!(forged.outcomes, [Outcome::Conflict]);
    // The same forgery again is a duplicate of the conflict; the first again, of the first.
    let again = hand(&handoff, recall(&[130], "mallory")).await.unwrap();
    assert_eq!(again.outcomes, [Outcome::Duplicate]);
    let first = hand(&handoff, recall(&[130], "jared")).await.unwrap();
    assert_eq!(first.outcomes, [Outcome::Duplicate]);

    let entries = dir.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0].key.as_str(), entries[0].conflict),
        (key(130).as_str(), false)
    );
    assert_eq!(
        (entries[1].key.as_str(), entries[1].conflict),
        (key(130).as_str(), true)
    );
    assert!(entries[0].event.contains(r#""Operator_Account":"jared""#));
    assert!(entries[1].event.contains(r#""Operator_Account":"mallory""#));
    assert_eq!(handoff.stats().conflict, 1);

    let text = logs.text();
    let warnings: Vec<&str> = text.lines().filter(|line| line.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("recall conflict"), "{text}");
    assert!(warnings[0].contains(r#"MsgSeq":130"#), "{text}");
}

#[tokio::test]
async fn a_retry_signed_anew_is_a_duplicate() {
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    let mut first = recall(&[7], "jared");
    let mut resent = first.clone();
    if let tower_tim_recall::RecallEvent::Group(group) = &mut first.event {
        group.context.request_time = Some(1_700_000_000);
    }
    if let tower_tim_recall::RecallEvent::Group(group) = &mut resent.event {
        group.context.request_time = Some(1_700_000_030);
        group.context.client_ip = Some("10.1.2.3".parse().unwrap());
    }
    assert_eq!(outcomes(&handoff, first).await, [Outcome::New]);
    assert_eq!(outcomes(&handoff, resent).await, [Outcome::Duplicate]);
    assert_eq!(dir.entries().len(), 1);
}

#[tokio::test]
async fn keys_older_than_the_window_are_purged_and_stored_again() {
    let dir = Dir::new();
    let handoff = dir
        .builder()
        .dedup_window(Duration::from_millis(300))
        .open()
        .unwrap();
    assert_eq!(
        outcomes(&handoff, recall(&[1], "jared")).await,
        [Outcome::New]
    );
    assert_eq!(
        outcomes(&handoff, recall(&[1], "jared")).await,
        [Outcome::Duplicate]
    );
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    // The next commit purges: the claim is gone from the table, and the key is new again.
    assert_eq!(
        outcomes(&handoff, recall(&[1], "jared")).await,
        [Outcome::New]
    );
    assert_eq!(dir.entries().len(), 2);
    let connection = rusqlite::Connection::open(dir.journal()).unwrap();
    let claims: i64 = connection
        .query_row("SELECT count(*) FROM claims", [], |row| row.get(0))
        .unwrap();
    assert_eq!(claims, 1, "the old claim was purged, the new one is there");
}

#[tokio::test]
async fn a_consumer_reads_in_order_marks_done_and_after_a_crash_sees_again_what_it_had_not_marked()
{
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    for seq in 1..=5 {
        hand(&handoff, recall(&[seq], "jared")).await.unwrap();
    }
    let mut reader = JournalReader::open(dir.journal()).unwrap();
    let first = reader.read_after(0, 2).unwrap();
    assert_eq!(first.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2]);
    let rest = reader.read_after(2, 100).unwrap();
    assert_eq!(
        rest.iter().map(|e| e.position).collect::<Vec<_>>(),
        [3, 4, 5]
    );

    reader.mark_done([1, 2, 4]).unwrap();
    let pending = reader.pending(100).unwrap();
    assert_eq!(
        pending.iter().map(|e| e.position).collect::<Vec<_>>(),
        [3, 5]
    );
    let marked = reader.read_after(0, 1).unwrap().remove(0).done.unwrap();

    // The consumer crashes before marking 3 and 5: a new one sees them again.
    drop(reader);
    let mut again = JournalReader::open(dir.journal()).unwrap();
    let pending = again.pending(100).unwrap();
    assert_eq!(
        pending.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
        [key(3), key(5)]
    );
    // Marking twice keeps the first time.
    again.mark_done([1, 3, 5]).unwrap();
    assert_eq!(again.read_after(0, 1).unwrap()[0].done, Some(marked));
    assert!(again.pending(100).unwrap().is_empty());
    // New entries keep arriving while a consumer reads.
    hand(&handoff, recall(&[6], "jared")).await.unwrap();
    assert_eq!(again.pending(100).unwrap()[0].position, 6);
}

#[tokio::test]
async fn the_schema_in_the_docs_is_the_one_the_journal_has() {
    let dir = Dir::new();
    drop(dir.builder().open().unwrap());
    let connection = rusqlite::Connection::open(dir.journal()).unwrap();
    let mut select = connection
        .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        .unwrap();
    let created: Vec<String> = select
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let documented = include_str!("../src/schema.sql");
    let statements: Vec<&str> = documented
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .collect();
    assert_eq!(created, statements);
    let version: u32 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, tower_tim_recall_handoff::FORMAT_VERSION);
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_journal_that_cannot_be_opened_is_an_error_naming_it() {
    let dir = Dir::new();
    let missing = dir.path().join("no-such-directory").join("journal.db");
    let error = Handoff::builder(&missing).open().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot open the journal {}: unable to open database file",
            missing.display()
        )
    );

    let not_sqlite = dir.path().join("notes.txt");
    std::fs::write(
        &not_sqlite,
        "these are not the droids you are looking for, not SQLite at all",
    )
    .unwrap();
    let error = Handoff::builder(&not_sqlite).open().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot open the journal {}: file is not a database",
            not_sqlite.display()
        )
    );

    let newer = dir.journal();
    let connection = rusqlite::Connection::open(&newer).unwrap();
    connection.execute_batch("PRAGMA user_version = 2").unwrap();
    drop(connection);
    let error = Handoff::builder(&newer).open().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot use the journal {}: its format is version 2; this build reads 1",
            newer.display()
        )
    );
    let error = JournalReader::open(&newer).unwrap_err();
    assert!(error
        .to_string()
        .ends_with("its format is version 2; this build reads 1"));

    let tampered = dir.path().join("tampered.db");
    drop(Handoff::builder(&tampered).open().unwrap());
    let connection = rusqlite::Connection::open(&tampered).unwrap();
    connection
        .execute_batch("ALTER TABLE entries ADD COLUMN note TEXT")
        .unwrap();
    drop(connection);
    let error = Handoff::builder(&tampered).open().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot use the journal {}: its tables are not those of format version 1",
            tampered.display()
        )
    );
    assert_eq!(
        JournalReader::open(&tampered).unwrap_err().to_string(),
        error.to_string()
    );

    const BUDGET: &str = "the budget must be more than zero and at most 1 s (Tencent waits 2 s for the whole answer)";
    const WINDOW: &str = "the dedup window must be more than zero and at most 7 days";
    let settings = [
        (
            Handoff::builder(dir.path().join("j.db")).budget(Duration::ZERO),
            BUDGET,
        ),
        (
            Handoff::builder(dir.path().join("j.db")).budget(Duration::from_millis(1_001)),
            BUDGET,
        ),
        (
            Handoff::builder(dir.path().join("j.db")).dedup_window(Duration::ZERO),
            WINDOW,
        ),
        (
            Handoff::builder(dir.path().join("j.db"))
                .dedup_window(MAX_WINDOW + Duration::from_secs(1)),
            WINDOW,
        ),
    ];
    for (builder, expected) in settings {
        assert_eq!(builder.open().unwrap_err().to_string(), expected);
    }
    // Each bound itself is taken.
    Handoff::builder(dir.path().join("j.db"))
        .budget(MAX_BUDGET)
        .dedup_window(MAX_WINDOW)
        .open()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recalls_that_arrive_while_a_commit_is_on_disk_share_the_next_one() {
    let dir = Dir::new();
    let handoff = dir.builder().budget(MAX_BUDGET).open().unwrap();
    hand(&handoff, recall(&[0], "jared")).await.unwrap();
    // Another connection holds the write lock: the writer's next commit waits on it, and
    // everything sent meanwhile queues behind it.
    let blocker = rusqlite::Connection::open(dir.journal()).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let before = handoff.stats().commits;
    let tasks: Vec<_> = (1..=40u32)
        .map(|seq| {
            let handoff = handoff.clone();
            tokio::spawn(async move { hand(&handoff, recall(&[seq], "jared")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    blocker.execute_batch("ROLLBACK").unwrap();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().outcomes, [Outcome::New]);
    }
    // The first recall's commit waited on the lock; the 39 others share one more.
    let commits = handoff.stats().commits - before;
    assert!(commits <= 2, "{commits} commits for 40 recalls");
    assert_eq!(dir.entries().len(), 41);
}

#[tokio::test]
async fn a_disk_that_does_not_keep_up_fills_the_queue_and_the_rest_is_refused_at_once() {
    let (logs, _guard) = Logs::capture();
    let dir = Dir::new();
    let handoff = dir.builder().budget(MAX_BUDGET).open().unwrap();
    hand(&handoff, recall(&[0], "jared")).await.unwrap();
    let blocker = rusqlite::Connection::open(dir.journal()).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // Twice what the writer's queue holds, while its commit waits on the lock.
    let tasks: Vec<_> = (1..=8192u32)
        .map(|seq| {
            let handoff = handoff.clone();
            tokio::spawn(async move { (seq, hand(&handoff, recall(&[seq], "jared")).await) })
        })
        .collect();
    // The lock holds until the queue has overflowed: a refused recall's task ends at once.
    let overflowed = eventually(Duration::from_secs(60), || {
        tasks.iter().any(tokio::task::JoinHandle::is_finished)
    })
    .await;
    assert!(
        overflowed,
        "no recall was refused while the writer was stopped"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    let (mut stored, mut refused) = (Vec::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            (seq, Ok(_)) => stored.push(key(seq)),
            (_, Err(_)) => refused += 1,
        }
    }
    // The queue held 4096 beside the batch the writer had taken when the lock stopped it; the
    // rest was refused (and, on a busy machine, some queued ones ran out of budget).
    assert!(
        refused > 0 && !stored.is_empty(),
        "{refused} refused, {} stored",
        stored.len()
    );
    assert_eq!(stored.len() + refused, 8192);
    let kept: std::collections::HashSet<String> =
        dir.entries().into_iter().map(|entry| entry.key).collect();
    assert!(
        stored.iter().all(|key| kept.contains(key)),
        "a recall answered Ok is missing"
    );
    assert!(
        logs.text().contains("cause=the journal's queue is full"),
        "{}",
        logs.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_alone_forwards_nothing_when_redis_is_added_later() {
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    hand(&handoff, recall(&[1, 2], "jared")).await.unwrap();
    drop(handoff);
    // The same journal becomes a spill: what it held as the destination stays there.
    let redis = RedisServer::start();
    let handoff = dir.builder().redis(redis.url()).open().unwrap();
    hand(&handoff, recall(&[3], "jared")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        redis.stream_keys(tower_tim_recall_handoff::DEFAULT_STREAM),
        [key(3)]
    );
    assert_eq!(handoff.stats().forwarded, 0);
    let entries = dir.entries();
    assert_eq!(entries.len(), 2);
    assert!(entries
        .iter()
        .all(|entry| !entry.spilled && entry.forwarded.is_none()));
}

#[tokio::test]
async fn through_the_layer_ok_comes_once_the_entry_is_stored() {
    let dir = Dir::new();
    let handoff = dir.builder().open().unwrap();
    let (status, body) = through_the_layer(handoff, group_callback(&[130, 131])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
    );
    let keys: Vec<String> = dir.entries().into_iter().map(|entry| entry.key).collect();
    assert_eq!(keys, [key(130), key(131)]);
}

#[tokio::test]
async fn a_full_journal_is_answered_500_recall_store_unavailable_with_the_keys_logged() {
    let (logs, _guard) = Logs::capture();
    let dir = Dir::new();
    // A journal allowed 64 KiB: as a full disk, the writes past it fail.
    let handoff = dir.builder().journal_max_bytes(64 * 1024).open().unwrap();
    let mut seq = 0;
    let (status, body) = loop {
        seq += 1;
        let (status, body) = through_the_layer(handoff.clone(), group_callback(&[seq])).await;
        if status != StatusCode::OK || seq > 10_000 {
            break (status, body);
        }
    };
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, UNAVAILABLE)
    );
    // Every recall answered OK is there; the refused one is not.
    let entries = dir.entries();
    assert_eq!(entries.len(), seq as usize - 1);
    assert!(entries.iter().all(|entry| entry.key != key(seq)));
    let stats = handoff.stats();
    assert_eq!((stats.unavailable, stats.journal_up), (1, false));

    let text = logs.text();
    let errors: Vec<&str> = text.lines().filter(|line| line.contains("ERROR")).collect();
    assert!(
        errors
            .iter()
            .any(|line| line.contains("recall store unavailable")
                && line.contains(&format!(r#"MsgSeq":{seq}"#))
                && line.contains("database or disk is full")),
        "{text}"
    );
    assert!(
        errors
            .iter()
            .any(|line| line.contains(&format!(r#"keys={}"#, key(seq)))),
        "{text}"
    );
    assert!(
        !text.contains("Unmodelled") && !text.contains("token"),
        "{text}"
    );
}

#[tokio::test]
async fn a_journal_that_hangs_is_answered_within_the_budget() {
    let dir = Dir::new();
    let budget = Duration::from_millis(300);
    let handoff = dir.builder().budget(budget).open().unwrap();
    hand(&handoff, recall(&[1], "jared")).await.unwrap();
    // Another process's writer holds the lock: the journal's commit waits on it.
    let blocker = rusqlite::Connection::open(dir.journal()).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let start = Instant::now();
    let (status, body) = through_the_layer(handoff.clone(), group_callback(&[2])).await;
    let took = start.elapsed();
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, UNAVAILABLE)
    );
    assert!(
        took >= budget && took < Duration::from_secs(2),
        "answered after {took:?}"
    );

    // Once the lock is gone, the journal takes recalls again; Tencent's retry of the
    // refused one is stored once, whether the slow commit went through in the end or not.
    blocker.execute_batch("ROLLBACK").unwrap();
    let (status, _) = through_the_layer(handoff.clone(), group_callback(&[2])).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<String> = dir.entries().into_iter().map(|entry| entry.key).collect();
    assert_eq!(keys, [key(1), key(2)]);
}
