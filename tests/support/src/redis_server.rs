//! A `redis-server` of the test's own, for the tests that kill, pause and restart the store
//! (the handoff's and the relay's): started on a unix socket in a temporary directory, ended
//! when dropped. A missing `redis-server` fails the test with the Debian package to install.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of the test's own, on a unix socket in a temporary directory, with its
/// append-only file fsynced at every write (what the promise needs), so that a restart keeps
/// what it acknowledged. Killed when dropped.
pub struct RedisServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    settings: Vec<String>,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server with `settings` after the defaults (`--appendonly no`, say).
    pub fn start_with(settings: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let settings = settings.iter().map(|&setting| setting.to_owned()).collect();
        let mut server = Self {
            dir,
            child: None,
            settings,
        };
        server.spawn();
        server
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    pub fn url(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn spawn(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args(["--dir"])
            .arg(self.dir.path())
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .args(["--maxmemory-policy", "noeviction"])
            .args(&self.settings)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start redis-server ({error}): these tests need it on the PATH; \
                     install Debian's package redis-server"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server did not answer on {} within 10 s", self.url());
    }

    /// Whether the server answers (a refused password is an answer).
    fn ping(&self) -> bool {
        use std::io::Read;
        let Ok(mut socket) = std::os::unix::net::UnixStream::connect(self.socket()) else {
            return false;
        };
        let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
        let mut answer = [0u8; 1];
        socket.write_all(b"PING\r\n").is_ok() && socket.read(&mut answer).is_ok_and(|n| n == 1)
    }

    /// A blocking connection, for the test's own look at the stream.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("the URL parses")
            .get_connection()
            .expect("redis-server answers")
    }

    fn pid(&self) -> String {
        self.child
            .as_ref()
            .expect("the server runs")
            .id()
            .to_string()
    }

    /// SIGKILL, and waits for the process to end.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same socket and directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGSTOP: the server keeps its connections and answers nothing.
    pub fn pause(&self) {
        signal("-STOP", &self.pid());
    }

    /// SIGCONT.
    pub fn resume(&self) {
        signal("-CONT", &self.pid());
    }

    /// Each entry's `key` field in the stream, in order.
    pub fn stream_keys(&self, stream: &str) -> Vec<String> {
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream)
            .arg("-")
            .arg("+")
            .query(&mut self.connection())
            .expect("XRANGE answers");
        entries
            .ids
            .iter()
            .map(|entry| entry.get::<String>("key").expect("an entry has a key"))
            .collect()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.resume();
        }
        self.kill();
    }
}

fn signal(which: &str, pid: &str) {
    let status = Command::new("kill")
        .args([which, pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {which} {pid} failed");
}
