//! The relay as a team runs it: recalls answered once durable, printed and dumped; the guard;
//! readiness and metrics by value; TLS; a graceful stop with requests in flight; the log.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use support::*;
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{GroupRecall, RecalledMessage};

#[test]
fn a_recall_is_answered_ok_printed_once_per_message_and_dumped() {
    let dir = dir();
    let mut relay = Relay::start(dir.path(), &[]);
    assert_eq!(relay.recall(&[130, 131]), (200, OK.to_owned()));
    // A retry is answered OK and stored (and printed) no second time.
    assert_eq!(relay.recall(&[130, 131]), (200, OK.to_owned()));
    assert_eq!(relay.terminate().code(), Some(0));

    let body = group(&[130, 131]).signed(TOKEN).body();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let printed = relay.stdout_lines();
    assert_eq!(printed.len(), 2, "{printed:?}");
    for (line, seq) in printed.iter().zip([130, 131]) {
        assert_eq!(line["key"], key(seq));
        assert_eq!(
            line["event"]["CallbackCommand"],
            "Group.CallbackAfterRecallMsg"
        );
        assert_eq!(line["event"]["MsgSeqList"], json!([{ "MsgSeq": seq }]));
        assert_eq!(line["body"], Value::String(body.clone()));
        assert!(line["received"].as_u64().unwrap() > 1_700_000_000_000);
        assert_eq!(line["conflict"], false);
        assert_eq!(line["store"], "journal");
    }

    let dumped = dump(&relay.journal);
    assert_eq!(dumped.len(), 2);
    for (entry, (line, position)) in dumped.iter().zip(printed.iter().zip(1..)) {
        assert_eq!(entry["position"], position);
        for field in ["key", "event", "body", "received", "conflict"] {
            assert_eq!(entry[field], line[field], "{field}");
        }
        assert_eq!(entry["spilled"], false);
        assert_eq!(entry["forwarded"], Value::Null);
        assert_eq!(entry["done"], Value::Null);
    }
}

#[test]
fn quiet_prints_no_line_and_stores_the_same() {
    let dir = dir();
    let mut relay = Relay::start(dir.path(), &["--quiet"]);
    assert_eq!(relay.recall(&[7]), (200, OK.to_owned()));
    assert_eq!(relay.terminate().code(), Some(0));
    assert_eq!(relay.stdout(), "");
    assert_eq!(dumped_seqs(&relay.journal), [7]);
}

#[test]
fn other_commands_are_guarded_and_acknowledged_and_a_request_without_command_is_refused() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &[]);
    let state = Callback::from_json(APP, "State.StateChange", r#"{"Info":{}}"#);
    assert_eq!(
        relay.post(&state.clone().signed(TOKEN).query(), &state.body()),
        (200, OK.to_owned())
    );
    assert_eq!(
        relay.post(&state.clone().signed("wrong").query(), &state.body()),
        (
            401,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"Sign does not match","ErrorCode":401}"#
                .to_owned()
        )
    );
    assert_eq!(
        relay.post("SdkAppid=1400000000", b"{}"),
        (
            400,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"not a callback: CallbackCommand is missing","ErrorCode":400}"#
                .to_owned()
        )
    );
    assert_eq!(relay.get("/elsewhere").0, 404);
    assert_eq!(relay.get("/healthz"), (200, "ok\n".to_owned()));
}

#[test]
fn a_recall_naming_more_messages_than_the_limit_is_refused_413_and_stores_nothing() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--max-messages", "3"]);
    assert_eq!(
        relay.recall(&[1, 2, 3, 4]),
        (
            413,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"body names more messages than the limit","ErrorCode":413}"#
                .to_owned()
        )
    );
    assert_eq!(relay.recall(&[1, 2, 3]), (200, OK.to_owned()));
    assert_eq!(dumped_seqs(&relay.journal), [1, 2, 3]);
    assert_eq!(
        relay.metric(
            r#"tim_recall_refused_total{status="413",reason="body names more messages than the limit"}"#
        ),
        1.0
    );
    // The default is 100.
    let other = support::dir();
    let relay = Relay::start(other.path(), &["--quiet"]);
    assert_eq!(relay.recall(&(1..=101).collect::<Vec<_>>()).0, 413);
    assert_eq!(relay.recall(&(1..=100).collect::<Vec<_>>()).0, 200);
}

#[test]
fn a_standard_output_nobody_reads_holds_neither_the_answers_nor_the_exit() {
    let dir = dir();
    let mut relay = Relay::start_unread(dir.path(), &["--shutdown-timeout", "1s"]);
    // Far more lines than a pipe holds (64 KiB): the answers do not wait for the reader.
    for seq in 0..300 {
        assert_eq!(relay.recall(&[seq]), (200, OK.to_owned()));
    }
    assert_eq!(relay.terminate().code(), Some(0));
    assert!(
        relay.stderr().contains("standard output is not read"),
        "{}",
        relay.stderr()
    );
    assert_eq!(dump(&relay.journal).len(), 300);
}

#[test]
fn with_an_admin_address_health_readiness_and_metrics_leave_the_callback_port() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--admin-addr", "127.0.0.1:0"]);
    let admin = relay
        .admin
        .expect("the relay says where the admin listener is");
    assert_ne!(admin, relay.addr);
    assert_eq!(relay.recall(&[1]), (200, OK.to_owned()));
    for path in ["/metrics", "/readyz", "/healthz"] {
        assert_eq!(relay.get(path).0, 404, "{path} on the callback port");
    }
    let get = |path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
        exchange(admin, request.as_bytes())
    };
    assert_eq!(get("/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(get("/readyz").0, 200);
    assert_eq!(metric(&get("/metrics").1, "tim_recall_accepted_total"), 1.0);
}

#[test]
fn metrics_count_each_answer_by_value() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet"]);
    assert_eq!(relay.recall(&[1, 2, 3]).0, 200);
    assert_eq!(relay.recall(&[3, 4]).0, 200);
    // The same key with other content: a conflict, stored beside the first.
    let mut forged = GroupRecall::new(APP, GROUP, [RecalledMessage::new(4, None)]);
    forged.operator_account = Some("forger".to_owned());
    let forged = Callback::new(forged).signed(TOKEN);
    assert_eq!(relay.post(&forged.query(), &forged.body()).0, 200);
    // Refusals, by reason.
    let unsigned = group(&[9]);
    assert_eq!(relay.post(&unsigned.query(), &unsigned.body()).0, 401);
    assert_eq!(relay.post(&unsigned.query(), &unsigned.body()).0, 401);
    let bad = group(&[9]).signed(TOKEN);
    assert_eq!(relay.post(&bad.query(), b"{\"CallbackCommand\":1}").0, 400);
    let state = Callback::from_json(APP, "State.StateChange", r#"{"Info":{}}"#).signed(TOKEN);
    assert_eq!(relay.post(&state.query(), &state.body()).0, 200);

    let scrape = relay.get("/metrics").1;
    let value = |sample: &str| metric(&scrape, sample);
    assert_eq!(value("tim_recall_accepted_total"), 3.0);
    assert_eq!(value(r#"tim_recall_entries_total{outcome="new"}"#), 4.0);
    assert_eq!(
        value(r#"tim_recall_entries_total{outcome="duplicate"}"#),
        1.0
    );
    assert_eq!(
        value(r#"tim_recall_entries_total{outcome="conflict"}"#),
        1.0
    );
    assert_eq!(
        value(r#"tim_recall_refused_total{status="401",reason="RequestTime is missing"}"#),
        2.0
    );
    assert_eq!(
        value(r#"tim_recall_refused_total{status="400",reason="invalid body"}"#),
        1.0
    );
    assert_eq!(value("tim_recall_store_unavailable_total"), 0.0);
    assert_eq!(value("tim_recall_other_commands_total"), 1.0);
    assert_eq!(value("tim_recall_spill_backlog"), 0.0);
    assert_eq!(value(r#"tim_recall_store_up{store="journal"}"#), 1.0);
    assert_eq!(value("tim_recall_durable_seconds_count"), 3.0);
    assert_eq!(
        value(r#"tim_recall_durable_seconds_bucket{le="+Inf"}"#),
        3.0
    );
    // The scrape's own connection.
    assert_eq!(value("tim_recall_connections"), 1.0);
    assert!(
        !scrape.contains(r#"store="stream""#),
        "no stream without Redis: {scrape}"
    );
    assert!(scrape.ends_with("# EOF\n"));
}

#[test]
fn readiness_says_which_store_is_up_and_a_full_journal_is_not_ready() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--journal-max-bytes", "400000"]);
    assert_eq!(
        relay.get("/readyz"),
        (
            200,
            "{\"journal\":\"up\",\"ready\":true,\"spill_backlog\":0,\"stream\":null}\n".to_owned()
        )
    );
    // Fill the journal until a recall cannot be stored: answered 500, never OK.
    let mut seq = 0;
    let unavailable = loop {
        seq += 1;
        let (status, body) = relay.recall(&(seq * 50..seq * 50 + 50).collect::<Vec<_>>());
        if status != 200 {
            break (status, body);
        }
        assert!(seq < 200, "the journal never filled");
    };
    assert_eq!(
        unavailable,
        (
            500,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"recall store unavailable","ErrorCode":500}"#
                .to_owned()
        )
    );
    assert_eq!(
        relay.get("/readyz"),
        (
            503,
            "{\"journal\":\"down\",\"ready\":false,\"spill_backlog\":0,\"stream\":null}\n"
                .to_owned()
        )
    );
    assert_eq!(relay.metric("tim_recall_store_unavailable_total"), 1.0);
    assert_eq!(relay.metric(r#"tim_recall_store_up{store="journal"}"#), 0.0);
    assert_eq!(
        relay.metric("tim_recall_accepted_total"),
        f64::from(seq - 1)
    );
}

#[test]
fn readiness_asks_the_journal_now_and_a_released_lock_is_ready_again_without_a_recall() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet"]);
    assert_eq!(relay.recall(&[1]).0, 200);
    // A consumer holds the journal's write lock past the relay's budget.
    let consumer = rusqlite::Connection::open(&relay.journal).unwrap();
    consumer.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(relay.recall(&[2]).0, 500);
    assert_eq!(
        relay.get("/readyz"),
        (
            503,
            "{\"journal\":\"down\",\"ready\":false,\"spill_backlog\":0,\"stream\":null}\n"
                .to_owned()
        )
    );
    consumer.execute_batch("ROLLBACK").unwrap();
    // Ready again as soon as it is asked, before any recall succeeds.
    assert_eq!(
        relay.get("/readyz"),
        (
            200,
            "{\"journal\":\"up\",\"ready\":true,\"spill_backlog\":0,\"stream\":null}\n".to_owned()
        )
    );
    assert_eq!(relay.recall(&[2]).0, 200);
    assert_eq!(dumped_seqs(&relay.journal), [1, 2]);
}

#[test]
fn readiness_sees_redis_leave_and_come_back_without_a_recall() {
    let dir = dir();
    let mut redis = RedisServer::start();
    let relay = Relay::start(dir.path(), &["--quiet", "--redis", &redis.url()]);
    let readyz = |stream: &str| {
        (
            200,
            format!(
                "{{\"journal\":\"up\",\"ready\":true,\"spill_backlog\":0,\"stream\":\"{stream}\"}}\n"
            ),
        )
    };
    assert_eq!(relay.get("/readyz"), readyz("up"));
    redis.kill();
    assert_eq!(relay.get("/readyz"), readyz("down"));
    assert_eq!(relay.metric(r#"tim_recall_store_up{store="stream"}"#), 0.0);
    redis.restart();
    assert!(eventually(Duration::from_secs(10), || relay.get("/readyz")
        == readyz("up")));
    assert_eq!(relay.metric(r#"tim_recall_store_up{store="stream"}"#), 1.0);
}

#[test]
fn readiness_with_redis_down_is_ready_on_the_spill() {
    let dir = dir();
    let mut redis = RedisServer::start();
    let url = redis.url();
    let relay = Relay::start(dir.path(), &["--quiet", "--redis", &url]);
    assert_eq!(relay.recall(&[1]).0, 200);
    assert_eq!(
        relay.get("/readyz"),
        (
            200,
            "{\"journal\":\"up\",\"ready\":true,\"spill_backlog\":0,\"stream\":\"up\"}\n"
                .to_owned()
        )
    );
    redis.kill();
    assert_eq!(relay.recall(&[2, 3]).0, 200);
    assert!(eventually(Duration::from_secs(10), || {
        relay.get("/readyz").1
            == "{\"journal\":\"up\",\"ready\":true,\"spill_backlog\":2,\"stream\":\"down\"}\n"
    }));
    assert_eq!(relay.metric("tim_recall_spilled_total"), 2.0);
    assert_eq!(relay.metric("tim_recall_spill_backlog"), 2.0);
    assert_eq!(relay.metric(r#"tim_recall_store_up{store="stream"}"#), 0.0);
    redis.restart();
    assert!(eventually(Duration::from_secs(20), || {
        relay.metric("tim_recall_spill_backlog") == 0.0
    }));
    assert_eq!(relay.metric("tim_recall_forwarded_total"), 2.0);
    assert_eq!(once_each(stream_seqs(&redis, "tim:recalls")), [1, 2, 3]);
}

#[test]
fn graceful_shutdown_answers_each_request_in_flight_and_each_ok_is_durable() {
    let dir = dir();
    let mut relay = Relay::start(dir.path(), &["--quiet"]);
    // Eight requests whose heads and half their bodies are sent before the signal.
    let mut in_flight = Vec::new();
    for seq in 0..8u32 {
        let callback = group(&[seq]).signed(TOKEN);
        let half = callback.body().len() / 2;
        in_flight.push(partly_sent(relay.addr, &callback, half));
    }
    // The requests have reached the layer (their heads are read) before the signal.
    std::thread::sleep(Duration::from_millis(300));
    relay.signal("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    let mut answered = Vec::new();
    for (seq, (mut stream, body)) in (0..).zip(in_flight) {
        stream.write_all(&body[body.len() / 2..]).unwrap();
        let answer = read_answer(&mut stream).expect("an answer after the signal");
        assert_eq!(answer, (200, OK.to_owned()));
        answered.push(seq);
    }
    assert_eq!(
        relay.wait(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );
    assert_eq!(once_each(dumped_seqs(&relay.journal)), answered);
    // It no longer listens.
    assert!(TcpStream::connect(relay.addr).is_err());
}

#[test]
fn tls_serves_a_callback_over_https() {
    let dir = dir();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key_file, certified.signing_key.serialize_pem()).unwrap();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--quiet",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(relay.stderr().contains("listening on https://"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = TcpStream::connect(relay.addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(connection, socket);
    let callback = group(&[42]).signed(TOKEN);
    let body = callback.body();
    let request = post_head(&callback.query(), body.len(), true);
    tls.write_all(request.as_bytes()).unwrap();
    tls.write_all(&body).unwrap();
    assert_eq!(read_answer(&mut tls).unwrap(), (200, OK.to_owned()));
    assert_eq!(dumped_seqs(&relay.journal), [42]);

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(relay.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    plain.write_all(request.as_bytes()).unwrap();
    assert!(read_answer(&mut plain).is_err());

    // A connection still in its handshake at SIGTERM holds no request: it is let go at once,
    // not waited for and counted as dropped.
    let _handshaking = TcpStream::connect(relay.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(relay.terminate().code(), Some(0));
    assert!(!relay.stderr().contains("dropped"), "{}", relay.stderr());
}

#[test]
fn the_log_never_holds_a_token_a_sign_or_a_body_and_caps_the_path() {
    let dir = dir();
    let relay = Relay::start(
        dir.path(),
        &["--quiet", "--log-level", "debug", "--log-format", "json"],
    );
    let callback = group(&[5]).signed(TOKEN);
    let body = String::from_utf8(callback.body().to_vec()).unwrap();
    assert_eq!(relay.recall(&[5]).0, 200);
    // A query separated by `;`, a refused signature, and a long path.
    let query = callback.query().replace('&', ";");
    relay.post(&query, body.as_bytes());
    let sign = query
        .split(';')
        .find_map(|pair| pair.strip_prefix("Sign="))
        .unwrap()
        .to_owned();
    let long = format!("/{}", "a".repeat(10_000));
    assert_eq!(relay.get(&long).0, 404);
    std::thread::sleep(Duration::from_millis(200));

    let log = relay.stderr();
    assert!(!log.contains(TOKEN), "{log}");
    assert!(!log.contains(&sign), "{log}");
    assert!(!log.contains("Operator_Account"), "{log}");
    assert!(!log.contains(&"a".repeat(97)), "the path is capped");
    assert!(
        log.contains(&format!("\"path\":\"\\\"/{}…\\\"\"", "a".repeat(95))),
        "{log}"
    );
    for line in log.lines().filter(|line| line.starts_with('{')) {
        let event: Value = serde_json::from_str(line).expect("each log line is JSON");
        assert!(line.len() < 1024, "{line}");
        assert!(event["level"].is_string());
    }
    assert!(log.contains("recall callback acknowledged"));
}
