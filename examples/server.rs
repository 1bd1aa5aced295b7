//! A receiver for Tencent Cloud IM's `Group.CallbackAfterRecallMsg` callback: an axum server
//! with [`RecallLayer`] in forward mode on `POST /im/callback`.
//!
//! ```text
//! cargo run --example server -- [--addr HOST:PORT] [--sdkappid N]... [--token T]... [--quiet]
//! ```
//!
//! Each accepted recall is printed as one JSON line on standard output (the event as
//! `serde_json` serializes a [`RecallEvent`]: Tencent's field names, plus `SdkAppid` and the
//! other query parameters), so the output can be piped into another program. Everything else
//! goes to standard error.
//!
//! Tencent sends every callback command of an app to the same URL. The layer only takes
//! `Group.CallbackAfterRecallMsg`; any other command reaches the handler without an event and is
//! answered with the OK acknowledgement, so Tencent never records it as failed. A recall that the
//! layer refuses (an app not in the allowlist, a wrong or stale signature, a bad body…) is
//! answered by the layer with a `FAIL` acknowledgement and the matching HTTP status.
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
//! prints the usage to standard error and exits with status 2; a failure to bind exits with 1.
//!
//! Ctrl-C (or SIGTERM) stops the server gracefully: it stops accepting, lets the requests under
//! way finish, then exits 0.
//!
//! Send it a callback from another terminal with the `simulate` example, which plays Tencent's
//! backend (the server prints the exact command when it starts):
//!
//! ```text
//! cargo run --example simulate -- --url http://127.0.0.1:3000/im/callback
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RECALL_COMMAND};

use flags::Flags;

mod demo;
mod flags;

/// Where the server listens unless `--addr` says otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// The SDKAppID accepted when no `--sdkappid` is given: the one in Tencent's examples.
const DEMO_SDKAPPID: u64 = 1_400_000_000;
/// The callback URL's path, as configured in Tencent's console.
const CALLBACK_PATH: &str = "/im/callback";

const USAGE: &str = "\
Receives Tencent Cloud IM's Group.CallbackAfterRecallMsg callback on POST /im/callback and
prints each accepted recall as one JSON line on standard output. Logs go to standard error.

Usage: server [--addr HOST:PORT] [--sdkappid N]... [--token T]... [--quiet]

Options:
  --addr HOST:PORT  address to listen on (default 127.0.0.1:3000; port 0 picks a free one)
  --sdkappid N      SDKAppID to accept; repeat for several apps (default: the demo app
                    1400000000)
  --token T         callback token from Tencent's console: turns on the Sign/RequestTime check;
                    repeat while rotating the token (a callback signed with any is accepted).
                    Without --token, the token in TIM_CALLBACK_TOKEN, if set (which, unlike
                    a flag, ps and the shell's history do not show)
  --quiet           no per-request logs or hints on standard error (the access log is
                    not installed); the line 'listening on http://ADDR' and errors are
                    still printed; the JSON event lines are unchanged
  --help            print this help

Other callback commands sent to the same URL are answered with the OK acknowledgement.
Stop with Ctrl-C.";

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

#[derive(Debug)]
struct Config {
    addr: String,
    apps: Vec<u64>,
    tokens: Vec<String>,
    quiet: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match flags::parse_or_exit("server", USAGE, parse_args) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    QUIET.store(config.quiet, Ordering::Relaxed);

    let mut recall = RecallLayer::new(config.apps.iter().copied());
    if !config.tokens.is_empty() {
        recall = recall.tokens(&config.tokens);
    }

    let mut app = Router::new()
        .route(CALLBACK_PATH, post(callback))
        // Only on the callback route: the layer sees what reaches `POST /im/callback`.
        .route_layer(recall);
    if !config.quiet {
        // Installed only when it logs: with --quiet a request pays nothing for it.
        app = app.layer(middleware::from_fn(access_log));
    }

    // Prints `listening on http://ADDR`, a stable line for scripts and tests, even with --quiet.
    let (listener, addr) = match flags::listen("server", &config.addr).await {
        Ok(bound) => bound,
        Err(exit) => return exit,
    };
    print_hints(addr, &config);

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    match served {
        Ok(()) => {
            log!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `POST /im/callback`. The layer in front has already checked an accepted recall (app, signature,
/// body) and put its event in the request extensions, where the `Option<RecallEvent>` argument
/// takes it from; any other callback command arrives here as `None`. (Had the layer been left
/// out, a recall would be refused with 500 "the recall layer is not installed in front of this
/// handler" instead of being taken as checked.)
async fn callback(recall: Option<RecallEvent>) -> Response {
    if let Some(event) = recall {
        // Tencent waits two seconds for the answer: printing a line is quick; slow work belongs
        // in a queue or a task.
        if let Err(error) = print_event(&event) {
            eprintln!("server: cannot write the event to standard output: {error}");
            let mut answer = Ack::fail("the event could not be recorded").into_http_response();
            *answer.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return answer;
        }
    }
    Ack::ok().into_http_response::<Body>()
}

/// One JSON line per event on standard output, flushed so that a pipe sees it at once.
///
/// The line leaves in a single `write` (standard output is line-buffered and the lock keeps
/// lines whole): serializing and writing cost about a microsecond per event (BENCHMARKS.md).
/// Written before the answer, so that an event is acknowledged only once it is recorded;
/// holding lines back to batch them would delay what a pipe reads and acknowledge events not
/// yet written.
fn print_event(event: &RecallEvent) -> std::io::Result<()> {
    let line = serde_json::to_string(event)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

/// One line on standard error per request: method, path, command, app and the answer, with the
/// reason of a refusal. Never the whole query: it may carry `Sign`. Not installed with
/// `--quiet`.
async fn access_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let command = query_param(&query, "CallbackCommand");
    let app = query_param(&query, "SdkAppid");

    let response = next.run(request).await;

    let status = response.status();
    let mut line = format!("{method} {path}");
    if let Some(command) = &command {
        line.push_str(&format!(" CallbackCommand={command}"));
    }
    if let Some(app) = &app {
        line.push_str(&format!(" SdkAppid={app}"));
    }
    line.push_str(&format!(" -> {status}"));
    if status.is_success() {
        if path == CALLBACK_PATH && command.as_deref() != Some(RECALL_COMMAND) {
            line.push_str(" (not a recall: acknowledged, not processed)");
        }
        eprintln!("{line}");
        return response;
    }
    // A refusal: show the layer's reason from the FAIL acknowledgement.
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    if let Ok(ack) = serde_json::from_slice::<Ack>(&bytes) {
        line.push_str(&format!(": {}", ack.error_info()));
    }
    eprintln!("{line}");
    Response::from_parts(parts, Body::from(bytes))
}

/// The first value of a query parameter, percent-decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// How to send the server a callback: the `simulate` example and curl.
fn print_hints(addr: std::net::SocketAddr, config: &Config) {
    if config.quiet {
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
    let app = config.apps[0];
    let apps: Vec<String> = config.apps.iter().map(u64::to_string).collect();
    let signed = !config.tokens.is_empty();
    eprintln!(
        "accepting {RECALL_COMMAND} at POST {url} for SdkAppid {}; signature check {}",
        apps.join(", "),
        if signed { "on" } else { "off" },
    );
    eprintln!("each accepted recall is printed as one JSON line on standard output");
    eprintln!();
    let token_flag = if signed { " --token \"$TOKEN\"" } else { "" };
    eprintln!("send a recall callback from another terminal:");
    if signed {
        eprintln!("  # with TOKEN holding a token given to --token");
    }
    eprintln!("  cargo run --example simulate -- --url {url} --sdkappid {app}{token_flag}");
    eprintln!("or with curl:");
    let mut query = format!(
        "SdkAppid={app}&CallbackCommand={RECALL_COMMAND}&contenttype=json\
         &ClientIP=127.0.0.1&OptPlatform=RESTAPI"
    );
    if signed {
        eprintln!("  T=$(date +%s); S=$(printf '%s%s' \"$TOKEN\" \"$T\" | sha256sum | cut -c1-64)");
        query.push_str("&RequestTime=$T&Sign=$S");
    }
    let body = serde_json::json!({
        "CallbackCommand": RECALL_COMMAND,
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

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() {
    demo::shutdown_signal().await;
    log!("shutting down: finishing the requests under way");
}

/// Parses the flags; `Ok(None)` asks for the help.
fn parse_args(flags: &mut Flags) -> Result<Option<Config>, String> {
    let mut config = Config {
        addr: DEFAULT_ADDR.to_owned(),
        apps: Vec::new(),
        tokens: Vec::new(),
        quiet: false,
    };
    while let Some(name) = flags.next_flag()? {
        match name.as_str() {
            "--help" | "-h" => return Ok(None),
            "--quiet" => config.quiet = true,
            "--addr" => {
                let addr = flags.value()?;
                // HOST:PORT, where HOST may be a name (resolved when binding) or `[v6]`.
                let valid = addr
                    .rsplit_once(':')
                    .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
                if !valid {
                    return Err(format!("--addr takes HOST:PORT, not {addr:?}"));
                }
                config.addr = addr;
            }
            "--sdkappid" => config.apps.push(flags.number()?),
            "--token" => config.tokens.push(flags.token()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if config.tokens.is_empty() {
        config.tokens.extend(flags::env_token()?);
    }
    if config.apps.is_empty() {
        config.apps.push(DEMO_SDKAPPID);
    }
    Ok(Some(config))
}
