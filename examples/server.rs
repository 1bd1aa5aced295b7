//! A receiver for Tencent Cloud IM's three recall callbacks (`Group.CallbackAfterRecallMsg`,
//! `C2C.CallbackAfterMsgWithDraw`, `OfficialAccount.CallbackAfterMsgWithDraw`): an axum server
//! with [`RecallLayer`](tower_tim_recall::RecallLayer) on `POST /im/callback`, its guard on.
//!
//! The layer runs in acknowledge mode: it hands each accepted recall to a handler (here one
//! that prints it) and answers `OK` itself; the route behind it acknowledges the other
//! commands. A receiver that needs nothing of a recall but its event has no use for forward
//! mode, where the event travels in the request to a route that takes it out again: this is
//! the cheapest way to receive recalls (`BENCHMARKS.md` has the figures). Forward mode, with a
//! handler that takes the event, is the crate guide's first example and the `tower_stack`
//! example's.
//!
//! ```text
//! cargo run --example server -- [--addr HOST:PORT] [--sdkappid N]... [--token T]... [--quiet]
//! ```
//!
//! Each accepted recall is printed as one JSON line on standard output, before it is answered
//! (the event as `serde_json` serializes a
//! [`RecallEvent`](tower_tim_recall::RecallEvent): `CallbackCommand`, `SdkAppid` as a number
//! and the other query parameters, then the kind's fields with Tencent's names, `EventTime` as
//! a number when it was sent), so the output can be piped into another program. A line that
//! cannot be written is answered 500, so that Tencent's log shows the lost callback. Everything
//! else goes to standard error. The line is written with a blocking `write` from the runtime's
//! worker thread, as `std::io::stdout` does: once a reader stops reading and the pipe is full,
//! each recall blocks the worker that handles it, and when every worker is blocked (after as
//! many recalls as the runtime has workers, one per CPU) the server answers nothing more,
//! refusals included, until the reader reads again. Pipe the output into something that keeps
//! up, or hand the events to a task through a bounded queue, as the README shows;
//! `tim-recall-relay` writes its lines from a thread of its own and never waits for the reader.
//!
//! Tencent sends every callback command of an app to the same URL. The layer takes the three
//! recalls, and its guard holds every other command to the same checks: from an app that is
//! not allowed it is refused with 403, unsigned or badly signed when a token is set with 401,
//! and otherwise it reaches the route and is answered with the OK acknowledgement, so Tencent
//! never records it as failed. A recall that the layer refuses (an
//! app not in the allowlist, a wrong or stale signature, a bad body…) is answered by the layer
//! with a `FAIL` acknowledgement and the matching HTTP status.
//!
//! Flags:
//!
//! - `--addr HOST:PORT`: where to listen (default `127.0.0.1:3000`; port 0 picks a free port).
//! - `--sdkappid N`: an SDKAppID to accept, repeatable. Without any, the demo app 1400000000.
//! - `--token T`: the callback token from Tencent's console; turns on the signature check
//!   (`Sign` and `RequestTime` are then required, within 60 seconds of this machine's clock).
//!   Repeatable: while the token is being changed in the console, give the new and the old one,
//!   and a callback signed with either is accepted. Without `--token`, the token in the
//!   `TIM_CALLBACK_TOKEN` environment variable, if set: unlike a flag, `ps` and the shell's
//!   history do not show it.
//! - `--quiet`: no per-request log lines and no how-to hints on standard error: the access-log
//!   middleware is not installed at all, so a load test measures the receiver alone. The line
//!   `listening on http://ADDR` (the address actually bound) is still printed, as are errors;
//!   the JSON lines on standard output are unchanged (they are what the server is for: send
//!   standard output to `/dev/null` to drop them).
//! - `--help`: this summary.
//!
//! Flags take their value as the next argument or after `=` (`--addr=127.0.0.1:0`). A bad flag
//! is reported on standard error and exits with status 2; a configuration the layer
//! refuses (a token padded with a line break, an app given twice) or a failure to bind exits
//! with 1 and says why.
//!
//! It sets the limits a server facing the internet needs (`demo::serve_http1`: a header read
//! timeout that also closes idle connections, a request deadline, a connection cap, a head
//! size, HTTP/1.1 only; SECURITY.md's "Limits a receiver needs" says what each stops).
//!
//! Ctrl-C (or SIGTERM) stops the server gracefully: it stops accepting, lets the requests under
//! way finish for up to 5 seconds, drops the connections still open, then exits 0.
//!
//! Send it a callback from another terminal with the `simulate` example, which plays Tencent's
//! backend (the server prints the exact commands when it starts):
//!
//! ```text
//! cargo run --example simulate --features testing -- --url http://127.0.0.1:3000/im/callback
//! cargo run --example simulate --features testing -- --kind c2c --unread -1
//! cargo run --example simulate --features testing -- --kind official-account
//! cargo run --example simulate --features testing -- --command State.StateChange
//! ```

use std::borrow::Cow;
use std::error::Error;
use std::fmt::Write as _;
use std::future::{ready, Ready};
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use clap::Parser;
use tower::service_fn;
use tower_tim_recall::{AcceptedRecall, Ack, RecallKind};

mod demo;

/// The callback URL's path, as configured in Tencent's console.
const CALLBACK_PATH: &str = "/im/callback";

/// Receives Tencent Cloud IM's recall callbacks (group, one-to-one, official account) on POST
/// /im/callback and prints each accepted recall as one JSON line on standard output. Logs go to
/// standard error.
///
/// Other callback commands sent to the same URL are checked like recalls (app, signature) and
/// answered with the OK acknowledgement. Stop with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "server")]
struct Cli {
    #[command(flatten)]
    options: demo::Options,
    /// No per-request logs or hints on standard error (the access log is not installed); the
    /// line 'listening on http://ADDR' and errors are still printed; the JSON event lines are
    /// unchanged.
    #[arg(long)]
    quiet: bool,
}

/// `--quiet`: read by the logging helpers.
static QUIET: AtomicBool = AtomicBool::new(false);

/// A log line on standard error, unless `--quiet`.
macro_rules! log {
    ($($arg:tt)*) => {
        if !QUIET.load(Ordering::Relaxed) {
            eprintln!($($arg)*);
        }
    };
}

#[tokio::main]
async fn main() -> ExitCode {
    demo::exit("server", serve(Cli::parse()).await)
}

async fn serve(cli: Cli) -> Result<(), Box<dyn Error>> {
    QUIET.store(cli.quiet, Ordering::Relaxed);
    // Acknowledge mode: the layer answers each accepted recall once `record` has it.
    let recall = cli.options.layer()?.acknowledge(service_fn(record));

    let mut app = Router::new()
        .route(CALLBACK_PATH, post(acknowledge))
        // Only on the callback route: the layer sees what reaches `POST /im/callback`.
        .route_layer(recall);
    if !cli.quiet {
        // Installed only when it logs: with --quiet a request pays nothing for it.
        app = app.layer(middleware::from_fn(access_log));
    }

    // Prints `listening on http://ADDR`, a stable line for scripts and tests, even with --quiet.
    let (listener, addr) = cli.options.listen().await?;
    print_hints(addr, &cli);

    demo::serve_http1(listener, app).await;
    log!("stopped");
    Ok(())
}

/// The recall handler: the layer has checked the callback (app, signature, body) and hands
/// over its event, and answers `OK` once this returns; an error is answered 500, which
/// Tencent's log shows as a failed callback. Tencent waits two seconds for the answer: printing
/// a line is quick, slow work belongs in a queue or a task. The line is written before the
/// answer, so that an event is acknowledged only once it is recorded.
fn record(accepted: AcceptedRecall) -> Ready<std::io::Result<()>> {
    let written = demo::print_event(&accepted.event);
    if let Err(error) = &written {
        eprintln!("server: cannot write the event to standard output: {error}");
    }
    ready(written)
}

/// `POST /im/callback` behind the layer: every other callback command, its app and signature
/// checked by the guard, is acknowledged (recalls never get here: the layer answers them).
async fn acknowledge() -> Response {
    Ack::ok().into_http_response::<Body>()
}

/// One line on standard error per request: method, path, command, app and the answer, with the
/// reason of a refusal. Not installed with `--quiet`.
///
/// The line is bounded whatever the request: the path is cut at [`LOGGED_PATH`] bytes, and a
/// parameter's value is written only when it has the form of what it names (a command is
/// letters, digits, `.` and `_`, at most [`LOGGED_COMMAND`] bytes; an app is decimal digits),
/// quoted and escaped; otherwise only its length. The parameters are read as the layer reads
/// them (names and values percent-decoded, pairs split on `&`), so that the line names the
/// command the layer acted on; the query itself, which carries `Sign`, is never written.
async fn access_log(request: Request, next: Next) -> Response {
    let mut line = String::with_capacity(160);
    let _ = write!(
        line,
        "{} {:?}",
        request.method(),
        capped(request.uri().path())
    );
    let mut command = None;
    let mut app = None;
    for (name, value) in
        form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
    {
        match &*name {
            "CallbackCommand" if command.is_none() => command = Some(value),
            "SdkAppid" if app.is_none() => app = Some(value),
            _ => {}
        }
    }
    if let Some(command) = &command {
        let shown = command.len() <= LOGGED_COMMAND
            && command
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
        if shown {
            let _ = write!(line, " CallbackCommand={command:?}");
        } else {
            let _ = write!(
                line,
                " CallbackCommand=({} bytes, not shown)",
                command.len()
            );
        }
    }
    if let Some(app) = &app {
        if app.len() <= 20 && app.bytes().all(|b| b.is_ascii_digit()) {
            let _ = write!(line, " SdkAppid={app}");
        } else {
            let _ = write!(line, " SdkAppid=({} bytes, not a number)", app.len());
        }
    }
    let recall = command
        .as_deref()
        .and_then(RecallKind::from_command)
        .is_some();
    let callback_path = request.uri().path() == CALLBACK_PATH;

    let response = next.run(request).await;

    let status = response.status();
    let _ = write!(line, " -> {status}");
    if status.is_success() {
        if callback_path && !recall {
            line.push_str(" (not a recall: acknowledged, not processed)");
        }
        log_line(line);
        return response;
    }
    // A refusal: show the layer's reason from the FAIL acknowledgement (at most 160 bytes).
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    if let Ok(ack) = serde_json::from_slice::<Ack>(&bytes) {
        let _ = write!(line, ": {:?}", ack.error_info());
    }
    log_line(line);
    Response::from_parts(parts, Body::from(bytes))
}

/// The longest path written in a log line, in bytes.
const LOGGED_PATH: usize = 96;
/// The longest `CallbackCommand` written in a log line, in bytes (Tencent's are under 50).
const LOGGED_COMMAND: usize = 64;

/// At most [`LOGGED_PATH`] bytes of `path`, cut on a character boundary, marked when cut.
fn capped(path: &str) -> Cow<'_, str> {
    if path.len() <= LOGGED_PATH {
        return Cow::Borrowed(path);
    }
    let mut end = LOGGED_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &path[..end]))
}

/// Writes a line of the access log on standard error, in one call.
fn log_line(mut line: String) {
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// How to send the server a callback: the `simulate` example and curl.
fn print_hints(addr: std::net::SocketAddr, cli: &Cli) {
    if cli.quiet {
        return;
    }
    // Hints must name an address a client can connect to.
    let mut target = addr;
    if target.ip().is_unspecified() {
        target.set_ip(match target {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let url = format!("http://{target}{CALLBACK_PATH}");
    let apps = cli.options.apps();
    let app = apps[0];
    let apps: Vec<String> = apps.iter().map(u64::to_string).collect();
    let signed = cli.options.tokens().is_ok_and(|tokens| !tokens.is_empty());
    let commands: Vec<&str> = RecallKind::ALL.iter().map(|kind| kind.command()).collect();
    eprintln!(
        "accepting {} at POST {url} for SdkAppid {}; signature check {}; other commands \
         guarded (same app and signature checks) and acknowledged",
        commands.join(", "),
        apps.join(", "),
        if signed { "on" } else { "off" },
    );
    eprintln!("each accepted recall is printed as one JSON line on standard output");
    eprintln!();
    let token_flag = if signed { " --token \"$TOKEN\"" } else { "" };
    eprintln!("send callbacks from another terminal:");
    if signed {
        eprintln!("  # with TOKEN holding a token given to --token");
    }
    let simulate = format!(
        "cargo run --example simulate --features testing -- --url {url} --sdkappid {app}{token_flag}"
    );
    eprintln!("  {simulate}");
    eprintln!("  {simulate} --kind c2c --unread -1");
    eprintln!("  {simulate} --kind official-account");
    eprintln!("  {simulate} --command State.StateChange");
    eprintln!("or with curl:");
    let command = RecallKind::Group.command();
    let mut query = format!(
        "SdkAppid={app}&CallbackCommand={command}&contenttype=json\
         &ClientIP=127.0.0.1&OptPlatform=RESTAPI"
    );
    if signed {
        eprintln!("  T=$(date +%s); S=$(printf '%s%s' \"$TOKEN\" \"$T\" | sha256sum | cut -c1-64)");
        query.push_str("&RequestTime=$T&Sign=$S");
    }
    let body = serde_json::json!({
        "CallbackCommand": command,
        "Operator_Account": "admin",
        "Type": "Public",
        "GroupId": "@TGS#1NVTZEAE4",
        "MsgSeqList": [{ "MsgSeq": 130 }],
        "EventTime": 1_670_574_414_123_u64,
    });
    eprintln!(
        "  curl -sS -X POST \"{url}?{query}\" -H 'Content-Type: application/json' -d '{body}'"
    );
    eprintln!();
    eprintln!("stop with Ctrl-C");
}
