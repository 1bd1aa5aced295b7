//! What the relay's tests share: the built `tim-recall-relay` started in a directory of its
//! own and stopped with a signal, signed callbacks sent over real sockets, the journal read
//! with `dump`, and the metrics read by name. Everything on 127.0.0.1.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{GroupRecall, RecalledMessage};

pub use support::closed_within;
pub use support::redis_server::RedisServer;

/// The relay under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_tim-recall-relay");
pub const APP: u64 = 1400000000;
pub const TOKEN: &str = "relay-test-token";
pub const GROUP: &str = "@TGS#2J4SZEAEL";
pub const OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

/// A directory for a relay's journal and files, removed at the end.
pub fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// A running relay: its address, and what it wrote on standard output and error.
pub struct Relay {
    child: Option<Child>,
    /// Standard output nobody reads, with [`Relay::start_unread`].
    unread: Option<std::process::ChildStdout>,
    pub addr: SocketAddr,
    /// The `--admin-addr` listener, when it was given.
    pub admin: Option<SocketAddr>,
    pub journal: PathBuf,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// A relay that did not start: its exit status and standard error.
#[derive(Debug)]
pub struct Refused {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Relay {
    /// A relay in `dir` (its working directory, where the journal is) with `args` after
    /// `--addr 127.0.0.1:0 --token TOKEN`; panics if it does not start.
    pub fn start(dir: &Path, args: &[&str]) -> Relay {
        let mut all = vec!["--addr", "127.0.0.1:0", "--token", TOKEN];
        all.extend_from_slice(args);
        Self::start_with(dir, &all, &[])
            .unwrap_or_else(|refused| panic!("the relay did not start: {refused:?}"))
    }

    /// The relay with exactly `args` and the variables `env`, in `dir`: the relay once it
    /// says where it listens, or how it exited.
    pub fn start_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Relay, Refused> {
        Self::spawn(dir, args, env, true)
    }

    /// [`start`](Self::start), its standard output a pipe that nobody reads.
    pub fn start_unread(dir: &Path, args: &[&str]) -> Relay {
        let mut all = vec!["--addr", "127.0.0.1:0", "--token", TOKEN];
        all.extend_from_slice(args);
        Self::spawn(dir, &all, &[], false)
            .unwrap_or_else(|refused| panic!("the relay did not start: {refused:?}"))
    }

    fn spawn(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        read_stdout: bool,
    ) -> Result<Relay, Refused> {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars() {
            if name.starts_with("TIM_") {
                command.env_remove(name);
            }
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("the relay binary runs");
        let piped = child.stdout.take().expect("piped");
        let (stdout, unread) = if read_stdout {
            (collect(piped), None)
        } else {
            (Arc::new(Mutex::new(Vec::new())), Some(piped))
        };
        let stderr = collect(child.stderr.take().expect("piped"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
            // The address lines come before the last line of the announcement.
            if let (Some(addr), true) = (
                listening(&text),
                text.contains("metrics: ") || text.contains("admin on "),
            ) {
                let admin = text
                    .lines()
                    .find_map(|line| line.strip_prefix("admin on http://"))
                    .and_then(|rest| {
                        rest.split(':')
                            .take(2)
                            .collect::<Vec<_>>()
                            .join(":")
                            .parse()
                            .ok()
                    });
                return Ok(Relay {
                    admin,
                    child: Some(child),
                    unread,
                    addr,
                    journal: dir.join("tim-recall.db"),
                    stdout,
                    stderr,
                });
            }
            if let Some(status) = child.try_wait().expect("waits") {
                // Let the reader take the last bytes.
                std::thread::sleep(Duration::from_millis(50));
                let stderr = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
                return Err(Refused { status, stderr });
            }
            assert!(
                Instant::now() < deadline,
                "the relay neither listened nor exited: {text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends `signal` (`-KILL`, `-TERM`, `-INT`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// SIGKILL, and waits for the end.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits at most `limit` for the process to exit: its status, or `None`.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let child = self.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().expect("waits") {
                self.child = None;
                // Let the readers take the last bytes.
                std::thread::sleep(Duration::from_millis(50));
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// SIGTERM: the exit status, within 20 s.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM");
        self.wait(Duration::from_secs(20))
            .expect("the relay exits after SIGTERM")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Each line of standard output, parsed.
    pub fn stdout_lines(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect()
    }

    /// Sends a signed group recall of `seqs`: the status and the body of the answer.
    pub fn recall(&self, seqs: &[u32]) -> (u16, String) {
        let callback = group(seqs).signed(TOKEN);
        self.post(&callback.query(), &callback.body())
    }

    /// `POST /im/callback?query` with `body`, on a connection of its own.
    pub fn post(&self, query: &str, body: &[u8]) -> (u16, String) {
        post(self.addr, query, body)
    }

    /// `GET path`: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n");
        exchange(self.addr, request.as_bytes())
    }

    /// The value of the sample `name` (with its labels, as written) in `/metrics`.
    pub fn metric(&self, sample: &str) -> f64 {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200);
        metric(&text, sample)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The value of `sample` in a scrape; panics if it is not there.
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {sample} in:\n{text}"))
        .parse()
        .expect("a number")
}

/// The address in the line `listening on http(s)://ADDR/...`.
fn listening(stderr: &str) -> Option<SocketAddr> {
    let line = stderr
        .lines()
        .find(|line| line.starts_with("listening on "))?;
    let rest = line.split("://").nth(1)?;
    rest.split('/').next()?.parse().ok()
}

/// Reads `from` to its end in a thread, into the buffer returned.
fn collect(mut from: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&buffer);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    buffer
}

/// A group recall of `seqs` in [`GROUP`], for [`APP`].
pub fn group(seqs: &[u32]) -> Callback {
    let messages = seqs.iter().map(|&seq| RecalledMessage::new(seq, None));
    Callback::new(GroupRecall::new(APP, GROUP, messages))
}

/// The dedup key of group message `seq`, as entries carry it.
pub fn key(seq: u32) -> Value {
    serde_json::json!({"Group": {"SdkAppid": APP, "GroupId": GROUP, "TopicId": null, "MsgSeq": seq}})
}

/// The key's JSON text, as the stream's `key` field holds it.
pub fn key_text(seq: u32) -> String {
    key(seq).to_string()
}

/// The head of `POST /im/callback?query` for a JSON body of `length` bytes; with `close`, the
/// connection closes after the answer.
pub fn post_head(query: &str, length: usize, close: bool) -> String {
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!(
        "POST /im/callback?{query} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n{connection}\r\n"
    )
}

/// A connection to `addr` that has sent a signed recall's head and the first `sent` bytes of its
/// body: the connection and the whole body.
pub fn partly_sent(addr: SocketAddr, callback: &Callback, sent: usize) -> (TcpStream, Vec<u8>) {
    let body = callback.body().to_vec();
    let mut stream = TcpStream::connect(addr).expect("the relay accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(post_head(&callback.query(), body.len(), false).as_bytes())
        .unwrap();
    stream.write_all(&body[..sent]).unwrap();
    (stream, body)
}

/// `POST /im/callback?query` with `body` to `addr`.
pub fn post(addr: SocketAddr, query: &str, body: &[u8]) -> (u16, String) {
    let mut request = post_head(query, body.len(), true).into_bytes();
    request.extend_from_slice(body);
    exchange(addr, &request)
}

/// Sends `request` on a new connection and reads one answer: its status and body.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("the relay accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).expect("the request is sent");
    read_answer(&mut stream).expect("an answer")
}

/// One HTTP/1.1 answer from `stream`: the status and the body (by `Content-Length`).
pub fn read_answer(stream: &mut impl Read) -> std::io::Result<(u16, String)> {
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    if reader.read_line(&mut status_line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {status_line:?}")))?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// `tim-recall-relay dump --journal JOURNAL`: each line, parsed.
pub fn dump(journal: &Path) -> Vec<Value> {
    let output = run(&["dump", "--journal", journal.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

/// The `MsgSeq` of each entry's key, in the journal's order.
pub fn dumped_seqs(journal: &Path) -> Vec<u32> {
    dump(journal).iter().map(seq_of).collect()
}

/// The `MsgSeq` in an entry's `key`.
pub fn seq_of(entry: &Value) -> u32 {
    entry["key"]["Group"]["MsgSeq"]
        .as_u64()
        .and_then(|seq| u32::try_from(seq).ok())
        .unwrap_or_else(|| panic!("a group key: {entry}"))
}

/// The `MsgSeq` of each key text the stream holds.
pub fn stream_seqs(redis: &RedisServer, stream: &str) -> Vec<u32> {
    redis
        .stream_keys(stream)
        .iter()
        .map(|key| seq_of(&serde_json::json!({"key": serde_json::from_str::<Value>(key).unwrap()})))
        .collect()
}

/// The relay with `args` and nothing else, to its end.
pub fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("the relay binary runs")
}

/// Sorted, and checked to hold each value once.
pub fn once_each(mut seqs: Vec<u32>) -> Vec<u32> {
    seqs.sort_unstable();
    let before = seqs.len();
    let mut unique = seqs.clone();
    unique.dedup();
    assert_eq!(unique.len(), before, "a key appears twice: {seqs:?}");
    seqs
}

/// Waits until `done` holds, for at most `limit`.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    done()
}

/// The resident memory of process `pid`, in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}
