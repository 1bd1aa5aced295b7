//! Configuration: each flag also a variable, and each configuration the relay cannot run with
//! refused with one line on standard error and exit status 2, before it listens.

mod support;

use support::*;

/// The relay with `args` refused: its one line of standard error.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = dir();
    let Err(refused) = Relay::start_with(dir.path(), args, env) else {
        panic!("the relay started with {args:?}");
    };
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr);
    refused.stderr
}

/// `refused`, for a line that is exactly `tim-recall-relay: message`.
fn refused_with(args: &[&str], message: &str) {
    let stderr = refused(args, &[]);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.contains(" INFO "))
        .collect();
    assert_eq!(lines, [format!("tim-recall-relay: {message}")], "{stderr}");
}

#[test]
fn a_bad_flag_exits_2_with_clap_s_message() {
    let stderr = refused(&["--no-such-flag"], &[]);
    assert!(
        stderr.contains("unexpected argument '--no-such-flag'"),
        "{stderr}"
    );
    let stderr = refused(&["--dedup-window", "ten minutes"], &[]);
    assert!(
        stderr.contains("invalid value 'ten minutes' for '--dedup-window"),
        "{stderr}"
    );
    let stderr = refused(&["--sdkappid", "abc"], &[]);
    assert!(
        stderr.contains("invalid value 'abc' for '--sdkappid"),
        "{stderr}"
    );
    let stderr = refused(&["--tls-cert", "cert.pem"], &[]);
    assert!(stderr.contains("--tls-key"), "{stderr}");
}

#[test]
fn a_missing_or_empty_token_file_exits_2() {
    refused_with(
        &["--token-file", "/nonexistent/token"],
        "cannot read the token file /nonexistent/token: No such file or directory (os error 2)",
    );
    let dir = dir();
    let empty = dir.path().join("token");
    std::fs::write(&empty, "\n  \n# the console's token goes here\n").unwrap();
    let empty = empty.to_str().unwrap();
    refused_with(
        &["--token-file", empty],
        &format!("the token file {empty} holds no token"),
    );
}

#[test]
fn an_unopenable_journal_exits_2() {
    let dir = dir();
    // A directory where the journal should be.
    let journal = dir.path().to_str().unwrap();
    let stderr = refused(&["--journal", journal], &[]);
    assert!(stderr.starts_with("tim-recall-relay: "), "{stderr}");
    assert!(stderr.contains(journal), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // A file that is not a journal.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "not a database, only words").unwrap();
    let stderr = refused(&["--journal", other.to_str().unwrap()], &[]);
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_journal_in_a_missing_directory_or_an_sqlite_file_of_something_else_exits_2() {
    refused_with(
        &["--journal", "/nonexistent/dir/tim-recall.db"],
        "cannot open the journal /nonexistent/dir/tim-recall.db: its directory /nonexistent/dir does not exist",
    );
    let dir = dir();
    let other = dir.path().join("app.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE users (name TEXT)")
        .unwrap();
    let other = other.to_str().unwrap();
    refused_with(
        &["--journal", other],
        &format!(
            "cannot use the journal {other}: it is an SQLite database of something else (it has tables and no journal format version)"
        ),
    );
    // Left as it was.
    let tables: i64 = rusqlite::Connection::open(other)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn an_app_of_0_and_a_body_limit_below_a_recall_exit_2() {
    refused_with(
        &["--sdkappid", "0"],
        "--sdkappid 0 is no app: give your app's SDKAppID",
    );
    refused_with(
        &["--body-limit", "10"],
        "--body-limit must be at least 1024 bytes",
    );
}

#[test]
fn a_redis_that_refuses_the_url_exits_2_and_one_that_is_down_does_not() {
    let redis = RedisServer::start_with(&["--requirepass", "the-right-one"]);
    let stderr = refused(&["--redis", &redis.url()], &[]);
    assert!(
        stderr.starts_with("tim-recall-relay: Redis refuses the handoff's connection: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let wrong = format!("{}?pass=the-wrong-one", redis.url());
    let stderr = refused(&["--redis", &wrong], &[]);
    assert!(stderr.contains("Redis refuses"), "{stderr}");
    assert!(!stderr.contains("the-wrong-one"), "{stderr}");
    let right = format!("{}?pass=the-right-one", redis.url());
    let dir = dir();
    let relay = Relay::start(dir.path(), &["--quiet", "--redis", &right]);
    assert_eq!(relay.recall(&[1]), (200, OK.to_owned()));
}

#[test]
fn a_malformed_redis_url_exits_2_without_its_password() {
    let stderr = refused(&["--redis", "redis://:s3cret@host:notaport"], &[]);
    assert!(stderr.starts_with("tim-recall-relay: "), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let stderr = refused(&[], &[("TIM_RECALL_REDIS", "http://:s3cret@host")]);
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn bad_tls_files_bad_limits_a_bad_path_and_a_taken_address_exit_2() {
    let dir = dir();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not PEM").unwrap();
    let garbage = garbage.to_str().unwrap();
    let stderr = refused(&["--tls-cert", garbage, "--tls-key", garbage], &[]);
    assert!(
        stderr.starts_with(&format!(
            "tim-recall-relay: cannot use the TLS certificate {garbage}"
        )),
        "{stderr}"
    );
    refused_with(
        &["--max-head", "100"],
        "--max-head must be at least 8192 bytes",
    );
    refused_with(
        &["--max-connections", "0"],
        "--max-connections must be between 1 and 1000000",
    );
    refused_with(
        &["--header-timeout", "0s"],
        "--header-timeout must be at least 1ms",
    );
    refused_with(
        &["--path", "im/callback"],
        "--path must be an absolute URL path such as /im/callback, not \"im/callback\"",
    );
    refused_with(
        &["--path", "/metrics"],
        "--path cannot be /metrics: the relay answers it itself",
    );
    for path in ["/im/{x}", "/im/:id", "/im/*rest"] {
        refused_with(
            &["--path", path],
            &format!("--path must be an absolute URL path such as /im/callback, not {path:?}"),
        );
    }
    refused_with(
        &["--journal-max-bytes", "10"],
        "--journal-max-bytes must be at least 262144",
    );
    refused_with(
        &["--max-connections", "18446744073709551615"],
        "--max-connections must be between 1 and 1000000",
    );
    refused_with(
        &["--dedup-window", "0s"],
        "the dedup window must be more than zero and at most 7 days",
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let stderr = refused(&["--addr", &addr], &[]);
    assert!(
        stderr.contains(&format!("tim-recall-relay: cannot listen on {addr}: ")),
        "{stderr}"
    );
}

#[test]
fn every_flag_is_also_a_variable_and_redis_down_at_start_is_no_error() {
    let dir = dir();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    // Redis on a socket where nothing listens: recalls spill until it answers.
    let nowhere = format!("unix://{}/redis.sock", dir.path().display());
    let env = [
        ("TIM_RECALL_ADDR", "127.0.0.1:0"),
        ("TIM_RECALL_PATH", "/tim"),
        ("TIM_RECALL_SDKAPPID", "1400000000,1400000001"),
        ("TIM_RECALL_TOKEN_FILE", token_file.to_str().unwrap()),
        ("TIM_RECALL_JOURNAL", "spill.db"),
        ("TIM_RECALL_REDIS", nowhere.as_str()),
        ("TIM_RECALL_QUIET", "true"),
    ];
    let relay = Relay::start_with(dir.path(), &[], &env).expect("it starts");
    assert!(relay.stderr().contains("/tim"), "{}", relay.stderr());
    let callback = group(&[1]).signed(TOKEN);
    let query = callback.query();
    let request = format!(
        "POST /tim?{query} HTTP/1.1\r\nHost: relay\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        callback.body().len()
    );
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&callback.body());
    assert_eq!(exchange(relay.addr, &bytes), (200, OK.to_owned()));
    assert_eq!(relay.metric("tim_recall_spilled_total"), 1.0);
    let entries = dump(&dir.path().join("spill.db"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["spilled"], true);
    assert_eq!(relay.stdout(), "");
}

#[test]
fn the_token_can_come_from_tim_callback_token_as_in_the_examples() {
    let dir = dir();
    let relay = Relay::start_with(
        dir.path(),
        &["--addr", "127.0.0.1:0", "--quiet"],
        &[("TIM_CALLBACK_TOKEN", TOKEN)],
    )
    .expect("it starts");
    assert_eq!(relay.recall(&[2]), (200, OK.to_owned()));
    let unsigned = group(&[3]);
    assert_eq!(relay.post(&unsigned.query(), &unsigned.body()).0, 401);
}

#[test]
fn dump_of_a_missing_journal_exits_2() {
    let output = run(&["dump", "--journal", "/nonexistent/tim-recall.db"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "tim-recall-relay: no journal at /nonexistent/tim-recall.db\n"
    );
}
