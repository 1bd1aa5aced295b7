//! Sends a fixed number of callbacks to a receiver and checks every answer: the client of the
//! server-level instruction count (`load/instructions.sh`), where wrk's timed runs would not
//! give a fixed request count.
//!
//! ```text
//! cargo run --release -p tower-tim-recall-bench --bin drive -- --addr 127.0.0.1:3000 \
//!     [--requests N] [--connections C] [--kind group|c2c|official-account|other] [--token T]
//! ```
//!
//! Each of `C` keep-alive connections (one thread each) sends its share of the `N` requests one
//! after the other, as plain HTTP/1.1 written by hand, so that the client costs the server
//! nothing but the bytes it reads. Every answer must be 200 with the `OK` acknowledgement; the
//! first other answer ends the run with exit status 1. With `--token`, each request is signed
//! at the current time. With `--unique`, each group recall names a `MsgSeq` of its own, so that
//! a durable receiver stores every request instead of taking all but the first as retries.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use tower_tim_recall::RecallKind;

use support::fixtures::{
    query_of, CALLBACK_PATH, EVENT, OFFICIAL_ACCOUNT, OK_JSON, ONE_TO_ONE, STATE_CHANGE,
};

/// Sends N callbacks over C keep-alive connections and checks that each is acknowledged.
#[derive(Parser)]
struct Cli {
    /// The receiver's address.
    #[arg(long)]
    addr: String,
    /// How many requests in all.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// How many connections share them.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Which callback: a recall of a kind, or another command.
    #[arg(long, value_enum, default_value_t = Kind::Group)]
    kind: Kind,
    /// Sign each request with this token, at the current time.
    #[arg(long)]
    token: Option<String>,
    /// Give each group recall a `MsgSeq` of its own, from `--first-seq` on.
    #[arg(long)]
    unique: bool,
    /// The first `MsgSeq` with `--unique` (a later run on the same store starts past the last).
    #[arg(long, default_value_t = 1_000_000)]
    first_seq: u64,
}

/// What is sent: Tencent's documented callback of a kind, or another command.
#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Group,
    C2c,
    OfficialAccount,
    Other,
}

impl Kind {
    /// The query and the body.
    fn callback(self) -> (String, &'static str) {
        match self {
            Kind::Group => (query_of(RecallKind::Group), EVENT),
            Kind::C2c => (query_of(RecallKind::OneToOne), ONE_TO_ONE),
            Kind::OfficialAccount => (query_of(RecallKind::OfficialAccount), OFFICIAL_ACCOUNT),
            Kind::Other => (
                query_of(RecallKind::Group).replace(RecallKind::Group.command(), STATE_CHANGE),
                r#"{"CallbackCommand":"State.StateChange","Info":{"To_Account":"jared","Action":"Login","Reason":"Register"}}"#,
            ),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (mut query, body) = cli.kind.callback();
    if let Some(token) = &cli.token {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let sign = support::sign_text(token, &now.to_string());
        query.push_str(&format!("&RequestTime={now}&Sign={sign}"));
    }
    let addr = cli.addr.clone();
    let request = move |seq: Option<u64>| {
        let body = match seq {
            Some(seq) => body.replacen("\"MsgSeq\":130", &format!("\"MsgSeq\":{seq}"), 1),
            None => body.to_owned(),
        };
        format!(
            "POST {CALLBACK_PATH}?{query} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let connections = cli.connections.max(1);
    let mut first = cli.first_seq;
    let threads: Vec<_> = (0..connections)
        .map(|index| {
            let share =
                cli.requests / connections + usize::from(index < cli.requests % connections);
            let addr = cli.addr.clone();
            // Each connection's requests: the same bytes, or each its own MsgSeq.
            let requests: Vec<Vec<u8>> = if cli.unique {
                let seqs = first..first + share as u64;
                first += share as u64;
                seqs.map(|seq| request(Some(seq))).collect()
            } else {
                vec![request(None)]
            };
            std::thread::spawn(move || exchange(&addr, &requests, share))
        })
        .collect();
    let mut failed = false;
    for thread in threads {
        if let Err(error) = thread.join().expect("a client thread panicked") {
            eprintln!("drive: {error}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Sends `count` requests over one connection, going round `requests`, reading each answer
/// whole.
fn exchange(addr: &str, requests: &[Vec<u8>], count: usize) -> Result<(), String> {
    let stream = TcpStream::connect(addr).map_err(|error| format!("connect {addr}: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    let mut writer = stream.try_clone().map_err(|error| error.to_string())?;
    let mut reader = BufReader::new(stream);
    for sent in 0..count {
        writer
            .write_all(&requests[sent % requests.len()])
            .map_err(|error| format!("request {sent}: {error}"))?;
        let (status, body) =
            read_answer(&mut reader).map_err(|error| format!("answer {sent}: {error}"))?;
        if status != 200 || body != OK_JSON.as_bytes() {
            return Err(format!(
                "answer {sent}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
    }
    Ok(())
}

/// One HTTP/1.1 answer with a `Content-Length`: its status and body.
fn read_answer(reader: &mut impl BufRead) -> std::io::Result<(u16, Vec<u8>)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, body))
}
