//! The two-terminal demo, end to end: the `server` example receives callbacks that the
//! `simulate` example sends, each in its own process, over loopback.
//!
//! The example binaries are the ones cargo built next to this test (`cargo test` builds the
//! examples; so does `cargo build --examples`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use http::StatusCode;
use support::fixtures::{APP, CALLBACK_PATH, OK_JSON};
use support::{closed_within, fail_json};

/// How long any one step may take before the test gives up.
const STEP: Duration = Duration::from_secs(30);
const TOKEN: &str = "secret-token";
/// A second token given to the server, as while the token is being changed in the console.
/// What the receiver examples read their token from when no `--token` is given.
const TOKEN_ENV: &str = "TIM_CALLBACK_TOKEN";
const PREVIOUS_TOKEN: &str = "previous-secret-token";

/// The path of a compiled example, next to this test's binary:
/// `target/<profile>/deps/examples-<hash>` → `target/<profile>/examples/<name>`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's folder");
    let profile = if deps.ends_with("deps") {
        deps.parent().expect("the profile folder")
    } else {
        deps
    };
    let path = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "the `{name}` example is not built: expected it at {}. Build the examples first with \
         `cargo build --examples` (plain `cargo test` builds them too).",
        path.display(),
    );
    assert_fresh(&path, name);
    path
}

/// Fails when the example is older than one of its sources, which happens when only this test
/// was rebuilt: `cargo test --test examples` does not build the examples. The sources are the
/// ones cargo lists in the example's dep-info file (`examples/<name>.d`), so files that are not
/// part of the example's build never count.
fn assert_fresh(binary: &Path, name: &str) {
    let Ok(dep_info) = std::fs::read_to_string(binary.with_file_name(format!("{name}.d"))) else {
        return;
    };
    let built = modified(binary);
    for source in dep_info_sources(&dep_info) {
        let stale = std::fs::metadata(&source)
            .and_then(|meta| meta.modified())
            .map_or(true, |changed| changed > built);
        assert!(
            !stale,
            "the `{name}` example at {} is older than {}: rebuild it with \
             `cargo build --examples` (or run plain `cargo test`).",
            binary.display(),
            source.display(),
        );
    }
}

/// The prerequisites in a Makefile-style dep-info file: `target: dep dep…`, spaces in paths
/// escaped with a backslash.
fn dep_info_sources(dep_info: &str) -> Vec<PathBuf> {
    let mut sources = Vec::new();
    for line in dep_info.lines() {
        // The target is a path too, and may contain `:` (a Windows drive): split at ": ".
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        let mut current = String::new();
        let mut chars = deps.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.extend(chars.next()),
                ' ' => {
                    if !current.is_empty() {
                        sources.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                _ => current.push(c),
            }
        }
        if !current.is_empty() {
            sources.push(PathBuf::from(current));
        }
    }
    sources
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .unwrap_or_else(|error| panic!("cannot read the time of {}: {error}", path.display()))
}

/// Sends each line a child writes on a pipe to a channel, until the pipe closes.
fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// A server example, running; killed when dropped, so also when an assertion fails.
struct Server {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    port: u16,
}

impl Server {
    /// An example that accepts `APP`, with the signature check on (`TOKEN`, and the
    /// `previous` tokens too), on a free port.
    fn start_signed(name: &str, previous: &[&str]) -> Self {
        let app = APP.to_string();
        let mut args = vec![
            "--addr",
            "127.0.0.1:0",
            "--sdkappid",
            &app,
            "--token",
            TOKEN,
        ];
        for token in previous {
            args.extend(["--token", token]);
        }
        Self::start_example(name, &args)
    }

    fn start_example(name: &str, args: &[&str]) -> Self {
        Self::start_example_with_env(name, args, &[])
    }

    fn start_example_with_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = spawn(name, args, env);
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        let mut server = Self {
            child,
            stdout,
            stderr,
            port: 0,
        };
        server.port = server.wait_for_port();
        server
    }

    /// Reads standard error up to `listening on http://127.0.0.1:PORT`.
    fn wait_for_port(&mut self) -> u16 {
        let deadline = Instant::now() + STEP;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("listening on http://") {
                        let port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
                        return port.unwrap_or_else(|| panic!("no port in {line:?}"));
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the server did not say where it listens within {STEP:?}: {seen:#?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    panic!("the server exited before listening ({status:?}): {seen:#?}")
                }
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// The next JSON line on the server's standard output.
    fn next_event(&self) -> Value {
        let line = self
            .stdout
            .recv_timeout(STEP)
            .unwrap_or_else(|error| panic!("no event line from the server: {error}"));
        serde_json::from_str(&line).unwrap_or_else(|error| panic!("not JSON: {line:?}: {error}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a run of the `simulate` example printed, and how it exited.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn simulate(args: &[&str]) -> Run {
    run("simulate", args)
}

/// Starts an example binary, with these environment variables set, its standard output and
/// error piped to the test.
fn spawn(name: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(example(name))
        .args(args)
        .env_remove(TOKEN_ENV)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start the {name} example: {error}"))
}

/// Runs an example that is expected to exit by itself, killing it after [`STEP`].
fn run(name: &str, args: &[&str]) -> Run {
    let mut child = spawn(name, args, &[]);
    let stdout = read_all(child.stdout.take().expect("stdout"));
    let stderr = read_all(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + STEP;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the example") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} {args:?} did not finish within {STEP:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let text = |pipe: Receiver<String>| pipe.recv_timeout(STEP).unwrap_or_default();
    Run {
        code: status.code(),
        stdout: text(stdout),
        stderr: text(stderr),
    }
}

/// All a pipe carries, as text, once it closes.
fn read_all(mut pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = send.send(text);
    });
    receive
}

fn seqs(event: &Value) -> Vec<u64> {
    event["MsgSeqList"]
        .as_array()
        .unwrap_or_else(|| panic!("no MsgSeqList in {event}"))
        .iter()
        .map(|item| item["MsgSeq"].as_u64().expect("MsgSeq is a number"))
        .collect()
}

impl Run {
    /// Checks what `simulate` printed of the answer: `HTTP <status>`, then the body.
    fn assert_answer(&self, status: StatusCode, body: &str) {
        let expected = format!("HTTP {status}\n{body}\n");
        assert_eq!(self.stdout, expected, "{self:#?}");
    }

    /// The answer was the `OK` acknowledgement, with 200; `simulate` exited 0.
    fn assert_acknowledged(&self) {
        assert_eq!(self.code, Some(0), "{self:#?}");
        self.assert_answer(StatusCode::OK, OK_JSON);
    }

    /// The answer was the layer's refusal with this status and reason; `simulate` exited 1.
    fn assert_refused(&self, status: StatusCode, reason: &str) {
        assert_eq!(self.code, Some(1), "{self:#?}");
        self.assert_answer(status, &fail_json(status, reason));
    }
}

#[test]
fn simulate_talks_to_server() {
    let server = Server::start_signed("server", &[PREVIOUS_TOKEN]);
    let url = server.url();

    // A signed recall from a topic: acknowledged, and printed as one JSON line.
    let run = simulate(&[
        "--url", &url, "--token", TOKEN, "--group", "G", "--topic", "T", "--seq", "1", "--seq", "2",
    ]);
    run.assert_acknowledged();
    assert!(!run.stderr.contains(TOKEN), "{run:#?}");

    let event = server.next_event();
    assert_eq!(event["SdkAppid"], APP, "{event}");
    assert_eq!(
        event["CallbackCommand"], "Group.CallbackAfterRecallMsg",
        "{event}"
    );
    assert_eq!(event["GroupId"], "G", "{event}");
    assert_eq!(event["TopicId"], "T", "{event}");
    assert_eq!(event["Type"], "Community", "{event}");
    assert_eq!(event["Operator_Account"], "admin", "{event}");
    assert_eq!(event["OptPlatform"], "RESTAPI", "{event}");
    assert_eq!(event["ClientIP"], "127.0.0.1", "{event}");
    assert!(event["EventTime"].is_u64(), "{event}");
    assert!(event["RequestTime"].is_u64(), "{event}");
    assert_eq!(seqs(&event), [1, 2]);

    // The previous token, still listed while the token is rotated: accepted too.
    let run = simulate(&[
        "--url",
        &url,
        "--token",
        PREVIOUS_TOKEN,
        "--group",
        "G1",
        "--seq",
        "5",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(server.next_event()["GroupId"], "G1");

    // A wrong token: 401, and the simulator reports the failure.
    let run = simulate(&["--url", &url, "--token", "wrong-token", "--group", "G"]);
    run.assert_refused(StatusCode::UNAUTHORIZED, "Sign does not match");

    // A stale signature: 401 too.
    let run = simulate(&[
        "--url",
        &url,
        "--token",
        TOKEN,
        "--request-time",
        "1669872112",
    ]);
    run.assert_refused(StatusCode::UNAUTHORIZED, "RequestTime is too old");

    // An app the server does not serve: 403.
    let run = simulate(&["--url", &url, "--token", TOKEN, "--sdkappid", "1"]);
    run.assert_refused(StatusCode::FORBIDDEN, "SdkAppid is not allowed");

    // Another callback command at the same URL: checked by the guard, then passed through and
    // answered OK; from another app, or unsigned, refused as a recall would be.
    let other = ["--command", "State.StateChange"];
    simulate(&[&["--url", &url, "--token", TOKEN][..], &other].concat()).assert_acknowledged();
    let run = simulate(
        &[
            &["--url", &url, "--token", TOKEN, "--sdkappid", "1"][..],
            &other,
        ]
        .concat(),
    );
    run.assert_refused(StatusCode::FORBIDDEN, "SdkAppid is not allowed");
    let run = simulate(&[&["--url", &url][..], &other].concat());
    run.assert_refused(StatusCode::UNAUTHORIZED, "RequestTime is missing");

    // None of the last ones printed an event: the next line is the next recall's.
    let run = simulate(&[
        "--url", &url, "--token", TOKEN, "--group", "G2", "--seq", "7",
    ]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let event = server.next_event();
    assert_eq!(
        event["GroupId"], "G2",
        "an event line was printed in between: {event}"
    );
    assert_eq!(event["Type"], "Public", "{event}");
    assert!(event.get("TopicId").is_none(), "{event}");
    assert_eq!(seqs(&event), [7]);
    assert!(
        server.stdout.try_recv().is_err(),
        "one callback printed more than one line"
    );
}

#[test]
fn simulate_gets_ok_from_server_for_every_kind() {
    let server = Server::start_signed("server", &[]);
    let url = server.url();
    let signed = ["--url", &url, "--token", TOKEN];

    // A one-to-one recall, with an unread count of -1 and one without.
    let run = simulate(
        &[
            &signed[..],
            &[
                "--kind",
                "c2c",
                "--from",
                "a",
                "--to",
                "b",
                "--msg-key",
                "1_2_3",
                "--unread",
                "-1",
            ],
        ]
        .concat(),
    );
    run.assert_acknowledged();
    let event = server.next_event();
    assert_eq!(
        event["CallbackCommand"], "C2C.CallbackAfterMsgWithDraw",
        "{event}"
    );
    assert_eq!(event["SdkAppid"], APP, "{event}");
    assert_eq!(
        (
            &event["From_Account"],
            &event["To_Account"],
            &event["MsgKey"]
        ),
        (&Value::from("a"), &Value::from("b"), &Value::from("1_2_3")),
        "{event}"
    );
    assert_eq!(event["UnreadMsgNum"], -1, "{event}");
    assert!(event["EventTime"].is_u64(), "{event}");
    assert!(event["RequestTime"].is_u64(), "{event}");
    simulate(&[&signed[..], &["--kind", "c2c"]].concat()).assert_acknowledged();
    let event = server.next_event();
    assert_eq!(event["MsgKey"], "48374_2837546_1557481126", "{event}");
    assert!(event.get("UnreadMsgNum").is_none(), "{event}");

    // An official-account recall of two messages.
    let run = simulate(
        &[
            &signed[..],
            &[
                "--kind",
                "official-account",
                "--msg-key",
                "k1",
                "--msg-key",
                "k2",
            ],
        ]
        .concat(),
    );
    run.assert_acknowledged();
    let event = server.next_event();
    assert_eq!(
        event["CallbackCommand"], "OfficialAccount.CallbackAfterMsgWithDraw",
        "{event}"
    );
    assert_eq!(event["Official_Account"], "#TOA#_123", "{event}");
    assert_eq!(
        event["WithdrawMsgList"],
        serde_json::json!([{"MsgKey": "k1"}, {"MsgKey": "k2"}]),
        "{event}"
    );
    assert!(event["EventTime"].is_u64(), "{event}");

    // A group recall's fields under the one-to-one command (in the query and the body): not a
    // one-to-one recall.
    let run = simulate(&[&signed[..], &["--command", "C2C.CallbackAfterMsgWithDraw"]].concat());
    run.assert_refused(
        StatusCode::BAD_REQUEST,
        "invalid body: missing field `From_Account` at line 1 column 188",
    );
    assert!(
        server.stdout.try_recv().is_err(),
        "a refused callback printed a line"
    );

    // A flag of another kind is a mistake, not silently dropped.
    let run = simulate(&[&signed[..], &["--kind", "c2c", "--seq", "1"]].concat());
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(
        run.stderr.trim_end(),
        "simulate: --seq is for --kind group",
        "{run:#?}"
    );
}

/// The hyper, tonic and tower-http stack examples receive every kind `simulate` sends, refuse
/// a wrong signature, and guard and acknowledge other callback commands.
#[test]
fn every_stack_example_receives_callbacks() {
    for name in ["hyper_server", "tonic_server", "tower_stack"] {
        let server = Server::start_signed(name, &[]);
        let url = server.url();

        let run = simulate(&[
            "--url", &url, "--token", TOKEN, "--group", "G", "--seq", "5",
        ]);
        assert_eq!(run.code, Some(0), "{name}: {run:#?}");
        let event = server.next_event();
        assert_eq!(event["SdkAppid"], APP, "{name}: {event}");
        assert_eq!(event["GroupId"], "G", "{name}: {event}");
        assert_eq!(seqs(&event), [5], "{name}");

        for (kind, field, value) in [
            ("c2c", "MsgKey", "48374_2837546_1557481126"),
            ("official-account", "Official_Account", "#TOA#_123"),
        ] {
            simulate(&["--url", &url, "--token", TOKEN, "--kind", kind]).assert_acknowledged();
            let event = server.next_event();
            assert_eq!(event[field], value, "{name}: {event}");
        }

        let run = simulate(&["--url", &url, "--token", "wrong-token"]);
        run.assert_refused(StatusCode::UNAUTHORIZED, "Sign does not match");

        // Another command: acknowledged once the guard checked it; refused otherwise.
        let other = "Group.CallbackAfterSendMsg";
        let run = simulate(&["--url", &url, "--token", TOKEN, "--command", other]);
        run.assert_acknowledged();
        let run = simulate(&["--url", &url, "--command", other]);
        run.assert_refused(StatusCode::UNAUTHORIZED, "RequestTime is missing");
        assert!(
            server.stdout.try_recv().is_err(),
            "{name}: printed an event for a refused or other callback"
        );
    }
}

#[test]
fn receivers_read_the_token_from_the_environment() {
    // The token stays off the command line, where `ps` would show it.
    let app = APP.to_string();
    for name in ["server", "hyper_server"] {
        let server = Server::start_example_with_env(
            name,
            &["--addr", "127.0.0.1:0", "--sdkappid", &app],
            &[(TOKEN_ENV, TOKEN)],
        );
        let url = server.url();
        simulate(&["--url", &url, "--token", TOKEN]).assert_acknowledged();
        let run = simulate(&["--url", &url, "--token", "wrong-token"]);
        run.assert_refused(StatusCode::UNAUTHORIZED, "Sign does not match");
        // Unsigned is refused: the server took the token from the environment.
        let run = simulate(&["--url", &url]);
        run.assert_refused(StatusCode::UNAUTHORIZED, "RequestTime is missing");
    }
}

#[test]
fn simulate_without_a_server_exits_2() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    };
    let url = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
    let run = simulate(&["--url", &url]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(!run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn bad_flags_exit_2_and_say_what_is_wrong() {
    for (name, args) in [
        ("server", &["--addr"][..]),
        ("server", &["--addr", "3000"][..]),
        ("server", &["--sdkappid", "x"][..]),
        ("server", &["--bogus"][..]),
        ("simulate", &["--seq", "-1"][..]),
        ("simulate", &["--request-time", "1"][..]),
        ("simulate", &["--bogus"][..]),
        ("hyper_server", &["--sdkappid", "x"][..]),
        ("tonic_server", &["--bogus"][..]),
        ("tower_stack", &["--token"][..]),
    ] {
        let run = run(name, args);
        assert_eq!(run.code, Some(2), "{name} {args:?}: {run:#?}");
        assert!(
            run.stderr.starts_with("error: "),
            "{name} {args:?}: {run:#?}"
        );
        assert!(run.stderr.contains("--help"), "{name} {args:?}: {run:#?}");
        assert!(run.stdout.is_empty(), "{name} {args:?}: {run:#?}");
    }
}

#[test]
fn a_configuration_the_layer_refuses_exits_1_and_says_why() {
    // The examples do no check of their own: the layer's `ConfigError` is what they print.
    for (name, args, error) in [
        (
            "server",
            &["--token", "pasted with its line break\n"][..],
            "server: SdkAppid 1400000000 has a token that starts or ends with whitespace",
        ),
        (
            "tonic_server",
            &["--token", " padded"][..],
            "tonic_server: SdkAppid 1400000000 has a token that starts or ends with whitespace",
        ),
        (
            "hyper_server",
            &["--sdkappid", "7", "--sdkappid", "7"][..],
            "hyper_server: SdkAppid 7 is configured twice",
        ),
    ] {
        let run = run(name, args);
        assert_eq!(run.code, Some(1), "{name} {args:?}: {run:#?}");
        assert_eq!(run.stderr.trim_end(), error, "{name} {args:?}: {run:#?}");
        assert!(run.stdout.is_empty(), "{name} {args:?}: {run:#?}");
    }
    // An empty token in the environment is a mistake too, not a server without signatures.
    let mut child = spawn("server", &["--addr", "127.0.0.1:0"], &[(TOKEN_ENV, "")]);
    let status = child.wait().expect("the server exits");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "server: SdkAppid 1400000000 has an empty token"
    );
}

// ---------------------------------------------------------------------------------------------
// The limits of a server facing the internet (SECURITY.md, "Limits a receiver needs"), over
// real sockets against the built examples: each HTTP/1 example closes idle and slow
// connections, answers an endless head 431, serves no HTTP/2, and answers valid callbacks
// throughout; the `server` example's access log is bounded and truthful; SIGTERM with a slow
// client connected exits by the shutdown deadline.

/// A signed group recall, as Tencent sends it: the request's bytes.
fn signed_recall_request(seq: u32) -> Vec<u8> {
    use tower_tim_recall::testing::Callback;
    use tower_tim_recall::{GroupRecall, RecalledMessage};
    let recall = GroupRecall::new(APP, "G", [RecalledMessage::new(seq, None)]);
    let callback = Callback::new(recall).signed(TOKEN);
    raw_post(&callback.query(), &callback.body())
}

/// `POST /im/callback?query` with `body`, closing after the answer.
fn raw_post(query: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {CALLBACK_PATH}?{query} HTTP/1.1\r\nHost: example\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Sends `request` on a new connection: the answer's status line and body, read to the end.
fn exchange(port: u16, request: &[u8]) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.write_all(request).expect("sends");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn every_http1_example_closes_idle_and_slow_connections_and_bounds_heads() {
    let threads: Vec<_> = ["server", "hyper_server", "tower_stack"]
        .into_iter()
        .map(|name| thread::spawn(move || http1_limits_hold(name)))
        .collect();
    for thread in threads {
        thread.join().expect("the limits hold");
    }
}

fn http1_limits_hold(name: &str) {
    use std::io::Write;
    use std::net::TcpStream;
    let server = Server::start_signed(name, &[]);
    let port = server.port;
    // Silent from the start; and one header byte every 500 ms, never a whole head.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let slow = thread::spawn(move || {
        let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let started = Instant::now();
        for byte in b"POST /im/callback HTTP/1.1\r\nX-Slow: "
            .iter()
            .chain([b'a'; 100].iter())
        {
            if slow.write_all(&[*byte]).is_err() {
                return started.elapsed();
            }
            thread::sleep(Duration::from_millis(500));
        }
        started.elapsed()
    });
    // A head that never ends: answered 431 once past the limit, not buffered.
    let mut endless = b"POST /im/callback HTTP/1.1\r\nHost: example\r\n".to_vec();
    for _ in 0..100 {
        endless.extend_from_slice(format!("X-Fill: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    let answer = exchange(port, &endless);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{name}: {answer:?}");
    // HTTP/2 with prior knowledge: no SETTINGS frame back.
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    let answer = exchange(port, preface);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 "),
        "{name}: {answer:?}"
    );
    // Valid callbacks are answered throughout.
    let answer = exchange(port, &signed_recall_request(1));
    assert!(answer.starts_with("HTTP/1.1 200 "), "{name}: {answer:?}");
    assert!(answer.ends_with(OK_JSON), "{name}: {answer:?}");
    // The header timeout (10 s) closes both.
    assert!(
        closed_within(&mut idle, Duration::from_secs(20)),
        "{name}: idle kept open"
    );
    let slow_for = slow.join().unwrap();
    assert!(
        slow_for < Duration::from_secs(20),
        "{name}: slow head kept open {slow_for:?}"
    );
    let answer = exchange(port, &signed_recall_request(2));
    assert!(answer.ends_with(OK_JSON), "{name}: {answer:?}");
}

#[test]
fn the_server_access_log_is_bounded_and_names_what_the_layer_decided() {
    use tower_tim_recall::testing::Callback;
    use tower_tim_recall::{GroupRecall, RecalledMessage};
    let mut server = Server::start_signed("server", &[]);
    // Drain the start-up hints.
    while server
        .stderr
        .recv_timeout(Duration::from_millis(300))
        .is_ok()
    {}
    let callback =
        Callback::new(GroupRecall::new(APP, "G", [RecalledMessage::new(7, None)])).signed(TOKEN);
    // The command's name percent-encoded, as the layer decodes it: a recall.
    let encoded = callback
        .query()
        .replace("CallbackCommand", "Callback%43ommand");
    let answer = exchange(server.port, &raw_post(&encoded, &callback.body()));
    assert!(answer.ends_with(OK_JSON), "{answer:?}");
    // `;` between the pairs: the layer reads one parameter, its value holding `Sign`.
    let semicolons = callback.query().replace('&', ";");
    let sign = semicolons
        .split(';')
        .find_map(|pair| pair.strip_prefix("Sign="))
        .unwrap()
        .to_owned();
    exchange(server.port, &raw_post(&semicolons, &callback.body()));
    // A command of 60 000 bytes, and a path of 10 000.
    let long = format!("SdkAppid={APP}&CallbackCommand={}", "A".repeat(60_000));
    exchange(server.port, &raw_post(&long, b"{}"));
    let path = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "p".repeat(10_000)
    );
    exchange(server.port, path.as_bytes());

    let mut log = Vec::new();
    while let Ok(line) = server.stderr.recv_timeout(Duration::from_secs(2)) {
        log.push(line);
    }
    assert_eq!(log.len(), 4, "{log:#?}");
    assert!(
        log[0].starts_with(&format!(
            "POST \"{CALLBACK_PATH}\" CallbackCommand=\"Group.CallbackAfterRecallMsg\" SdkAppid={APP} -> 200 OK"
        )) && !log[0].contains("not a recall"),
        "{log:#?}"
    );
    // One pair, `SdkAppid`, whose value runs to the end: no command, so not a callback.
    assert!(
        log[1].contains("SdkAppid=(")
            && log[1].ends_with("(not a recall: acknowledged, not processed)"),
        "{log:#?}"
    );
    assert!(log.iter().all(|line| !line.contains(&sign)), "{log:#?}");
    assert!(log.iter().all(|line| line.len() < 400), "{log:#?}");
    assert!(
        log[2].contains("CallbackCommand=(60000 bytes, not shown)"),
        "{log:#?}"
    );
    assert!(
        log[3].contains(&format!("\"/{}…\"", "p".repeat(95))),
        "{log:#?}"
    );
    let _ = server.child.kill();
}

#[test]
fn sigterm_ends_the_server_by_its_deadline_while_a_slow_client_holds_a_connection() {
    use std::io::Write;
    for name in ["server", "hyper_server"] {
        let mut server = Server::start_signed(name, &[]);
        // A recall whose body stalls (the layer is reading it), and a head that never ends.
        let mut stalled = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let request = signed_recall_request(1);
        stalled.write_all(&request[..request.len() - 10]).unwrap();
        let mut head = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        head.write_all(b"POST /im/callback HTTP/1.1\r\nHost: ex")
            .unwrap();
        thread::sleep(Duration::from_millis(300));
        let killed = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit after SIGTERM"
            );
            thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(0), "{name}");
    }
}
