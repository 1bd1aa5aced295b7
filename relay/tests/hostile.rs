//! Clients that never finish, over real sockets on 127.0.0.1: each limit of the relay closes
//! them, and valid callbacks are answered throughout. Counts and times are small and bounded;
//! the limits are set short so that each test ends in seconds.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

#[test]
fn idle_and_slowloris_connections_are_closed_after_the_header_timeout() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--header-timeout", "1s"]);
    // Silent from the start.
    let mut idle = TcpStream::connect(relay.addr).unwrap();
    // Idle after an answered request on a keep-alive connection.
    let mut kept = TcpStream::connect(relay.addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .unwrap();
    assert_eq!(read_answer(&mut kept).unwrap(), (200, "ok\n".to_owned()));
    // One header byte every 200 ms: never a whole head.
    let mut slow = TcpStream::connect(relay.addr).unwrap();
    let started = Instant::now();
    let mut closed = false;
    for byte in b"POST /im/callback HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        .iter()
        .cycle()
    {
        if slow.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() > Duration::from_secs(15) {
            break;
        }
    }
    assert!(
        closed || closed_within(&mut slow, Duration::from_secs(1)),
        "the slow head was not cut"
    );
    assert!(closed_within(&mut idle, Duration::from_secs(10)));
    assert!(closed_within(&mut kept, Duration::from_secs(10)));
    // And a callback is answered all along.
    assert_eq!(relay.recall(&[1]), (200, OK.to_owned()));
}

#[test]
fn a_head_longer_than_the_limit_is_answered_431_and_memory_stays_bounded() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--header-timeout", "30s"]);
    let before = resident_kib(relay.pid());
    // 200 connections, each sending 300 KB of header lines without the blank line, and
    // holding them: below hyper's own buffer limit (about 400 KB), above the relay's head limit.
    let line = format!("X-Fill: {}\r\n", "a".repeat(1000));
    let mut connections = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(relay.addr).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = stream.write_all(b"POST /im/callback HTTP/1.1\r\nHost: relay\r\n");
        for _ in 0..300 {
            if stream.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
        connections.push(stream);
    }
    let during = resident_kib(relay.pid());
    // Without the limit hyper holds each unfinished head: 60 MB for these.
    assert!(
        during.saturating_sub(before) < 40 * 1024,
        "resident memory grew from {before} KiB to {during} KiB"
    );
    let mut first = connections.swap_remove(0);
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = first.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer:?}");
    assert_eq!(relay.recall(&[1]), (200, OK.to_owned()));
}

#[test]
fn a_body_that_never_completes_is_refused_408_after_the_request_timeout() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--request-timeout", "1s"]);
    let (mut stream, _) = partly_sent(relay.addr, &group(&[1]).signed(TOKEN), 10);
    assert_eq!(
        read_answer(&mut stream).unwrap(),
        (
            408,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"request not completed in time","ErrorCode":408}"#
                .to_owned()
        )
    );
    assert_eq!(
        relay.metric(
            r#"tim_recall_refused_total{status="408",reason="request not completed in time"}"#
        ),
        1.0
    );
    assert_eq!(dump(&relay.journal).len(), 0);
}

#[test]
fn http2_is_not_served() {
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet"]);
    // Prior knowledge (h2c): the HTTP/2 preface, then an empty SETTINGS frame.
    let mut stream = TcpStream::connect(relay.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    // No SETTINGS frame back: an HTTP/1 refusal, or the connection closed.
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // An upgrade request is answered as HTTP/1.1, not switched.
    let (status, _) = exchange(
        relay.addr,
        b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
    );
    assert_eq!(status, 200);
}

#[test]
fn the_connection_cap_holds_further_connections_until_one_closes() {
    let dir = dir();
    let relay = Relay::start(
        dir.path(),
        &[
            "--quiet",
            "--max-connections",
            "4",
            "--header-timeout",
            "4s",
        ],
    );
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(relay.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // A fifth connection is made by the kernel, but not served while the four are open.
    let callback = group(&[1]).signed(TOKEN);
    let (mut fifth, body) = partly_sent(relay.addr, &callback, 0);
    fifth.write_all(&body).unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(
        matches!(fifth.read(&mut byte), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "answered beyond the cap"
    );
    // The four idle connections are closed by the header timeout; then the fifth is served.
    fifth
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    assert_eq!(read_answer(&mut fifth).unwrap(), (200, OK.to_owned()));
    drop(held);
}

#[test]
fn sigterm_exits_within_the_deadline_while_slow_clients_hold_connections() {
    let dir = dir();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--quiet",
            "--shutdown-timeout",
            "1s",
            "--header-timeout",
            "60s",
            "--request-timeout",
            "60s",
        ],
    );
    // One unfinished head, and one request whose body stalls.
    let mut head = TcpStream::connect(relay.addr).unwrap();
    head.write_all(b"POST /im/callback HTTP/1.1\r\nHost: re")
        .unwrap();
    let (mut stalled, _) = partly_sent(relay.addr, &group(&[1]).signed(TOKEN), 5);
    std::thread::sleep(Duration::from_millis(300));
    relay.signal("-TERM");
    let status = relay
        .wait(Duration::from_secs(10))
        .expect("it exits by its deadline");
    assert_eq!(status.code(), Some(0));
    assert!(
        relay
            .stderr()
            .contains("dropped at the shutdown deadline with requests unanswered"),
        "{}",
        relay.stderr()
    );
    assert!(closed_within(&mut stalled, Duration::from_secs(5)));
    assert!(closed_within(&mut head, Duration::from_secs(5)));
}

#[test]
fn a_body_completed_after_the_time_window_is_refused() {
    let dir = dir();
    let relay = Relay::start(
        dir.path(),
        &["--quiet", "--max-age", "2s", "--request-timeout", "30s"],
    );
    // Signed now: the head is in the window (2 s); the body completes 3.5 s later.
    let (mut stream, body) = partly_sent(relay.addr, &group(&[1]).signed(TOKEN), 10);
    std::thread::sleep(Duration::from_millis(3500));
    stream.write_all(&body[10..]).unwrap();
    assert_eq!(
        read_answer(&mut stream).unwrap(),
        (
            401,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"RequestTime is too old","ErrorCode":401}"#
                .to_owned()
        )
    );
    assert_eq!(dump(&relay.journal).len(), 0);
    // The same URL's recall, sent whole at once while fresh, is accepted.
    assert_eq!(relay.recall(&[2]), (200, OK.to_owned()));
}
