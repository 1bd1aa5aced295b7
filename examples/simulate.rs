//! Plays Tencent Cloud IM's backend: sends one `Group.CallbackAfterRecallMsg` callback to a
//! receiver, such as the `server` example, and reports its answer.
//!
//! ```text
//! cargo run --example simulate --features testing -- [--url URL] [--sdkappid N] [--token T] [--group ID]
//!     [--topic ID] [--seq N]... [--operator USER] [--type T] [--command C]
//!     [--client-ip IP] [--platform P]
//! ```
//!
//! The request is built by the crate's [`testing`](tower_tim_recall::testing) module, as Tencent
//! builds it: `POST URL?SdkAppid=…&CallbackCommand=…&
//! contenttype=json&ClientIP=…&OptPlatform=RESTAPI`, plus `RequestTime` and
//! `Sign = hex(SHA-256(token ‖ RequestTime))` when a token is given, and a JSON body with
//! Tencent's field names (`CallbackCommand`, `Operator_Account`, `Type`, `GroupId`,
//! `MsgSeqList`, `TopicId`, `EventTime` in milliseconds).
//!
//! It needs the crate's `testing` feature, which builds the callback. Flags (each takes its
//! value as the next argument or after `=`):
//!
//! - `--url URL`: the callback URL (default `http://127.0.0.1:3000/im/callback`; plain HTTP only).
//! - `--sdkappid N`: the app (default 1400000000, the demo app).
//! - `--token T`: the callback token; signs the request. Never printed.
//! - `--request-time N`: `RequestTime` in Unix seconds instead of now (needs `--token`), to try a
//!   stale signature.
//! - `--group ID`: `GroupId` (default `@TGS#_@TGS#cQVLVHIM62CJ`).
//! - `--topic ID`: `TopicId`, left out by default.
//! - `--seq N`: a recalled `MsgSeq`, repeatable (default one message, 130).
//! - `--operator USER`: `Operator_Account` (default `admin`).
//! - `--type T`: `Type`, the group type (default `Community` for a topic or a community group
//!   ID starting with `@TGS#_`, else `Public`).
//! - `--command C`: another `CallbackCommand`, in the query and the body, to see how the receiver
//!   treats the callbacks it does not handle.
//! - `--client-ip IP`: `ClientIP`, the end user's address (default `127.0.0.1`).
//! - `--platform P`: `OptPlatform` (default `RESTAPI`).
//! - `--help`: this summary.
//!
//! The HTTP status and the answer's body are printed on standard output; what was sent goes to
//! standard error (with `Sign` redacted). Exit status: 0 when the answer is HTTP 200 with
//! `"ActionStatus":"OK"`, 1 for any other answer, 2 for a bad flag or when no answer came
//! (connection refused, timeout).

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{
    Ack, GroupType, Platform, RecallEvent, RecalledMessage, UnixMillis, RECALL_COMMAND,
};

/// How long to wait for the answer (Tencent itself waits two seconds).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Plays Tencent Cloud IM's backend: sends one Group.CallbackAfterRecallMsg callback and prints
/// the answer. Exit status: 0 for HTTP 200 with ActionStatus OK, 1 for any other answer, 2 for a
/// bad flag or no answer.
#[derive(Debug, Parser)]
#[command(name = "simulate")]
struct Options {
    /// Callback URL (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:3000/im/callback")]
    url: String,
    /// SdkAppid.
    #[arg(long, value_name = "N", default_value_t = 1_400_000_000)]
    sdkappid: u64,
    /// Callback token: adds RequestTime and Sign (the token is never printed).
    #[arg(long, value_name = "T")]
    token: Option<String>,
    /// RequestTime in Unix seconds instead of now.
    #[arg(long, value_name = "N", requires = "token")]
    request_time: Option<u64>,
    /// GroupId.
    #[arg(long, value_name = "ID", default_value = "@TGS#_@TGS#cQVLVHIM62CJ")]
    group: String,
    /// TopicId [default: none].
    #[arg(long, value_name = "ID")]
    topic: Option<String>,
    /// MsgSeq of a recalled message; repeat for several [default: 130].
    #[arg(long = "seq", value_name = "N")]
    seqs: Vec<u32>,
    /// Operator_Account.
    #[arg(long, value_name = "USER", default_value = "admin")]
    operator: String,
    /// Type [default: Community with --topic or an @TGS#_ group, else Public].
    #[arg(long = "type", value_name = "T")]
    group_type: Option<String>,
    /// CallbackCommand to send instead of Group.CallbackAfterRecallMsg.
    #[arg(long, value_name = "C", default_value = RECALL_COMMAND)]
    command: String,
    /// ClientIP, the end user's address.
    #[arg(long, value_name = "IP", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    client_ip: IpAddr,
    /// OptPlatform.
    #[arg(long, value_name = "P", default_value = "RESTAPI")]
    platform: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Options::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("simulate: {message}");
            ExitCode::from(2)
        }
    }
}

/// Sends the callback; `Ok(true)` when it was acknowledged with OK.
async fn run(options: Options) -> Result<bool, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970".to_owned())?;

    // The event the callback reports, then the callback as Tencent's backend sends it.
    let seqs = if options.seqs.is_empty() {
        vec![130]
    } else {
        options.seqs.clone()
    };
    let mut event = RecallEvent::new(
        options.sdkappid,
        options.group.clone(),
        seqs.iter().map(|&seq| RecalledMessage::new(seq, None)),
    );
    event.operator_account = Some(options.operator.clone());
    event.group_type = Some(GroupType::from(
        options.group_type.as_deref().unwrap_or_else(|| {
            // Community group IDs start with `@TGS#_`; topics exist only in communities.
            let community = options.topic.is_some() || options.group.starts_with("@TGS#_");
            if community {
                "Community"
            } else {
                "Public"
            }
        }),
    ));
    event.topic_id = options.topic.clone();
    event.event_time = Some(UnixMillis::new(
        u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
    ));
    event.client_ip = Some(options.client_ip);
    event.platform = Some(Platform::from(options.platform.as_str()));
    let mut callback = Callback::new(&event).command(options.command.clone());
    if let Some(token) = &options.token {
        callback = callback
            .signed(token.clone())
            .request_time(options.request_time.unwrap_or(now.as_secs()));
    }

    let request: Request<Full<Bytes>> = callback
        .request_to(&options.url)
        .map_err(|error| format!("--url is not a valid URL: {error}"))?;
    if request.uri().scheme_str() != Some("http") {
        return Err("--url must be an http:// URL (this simulator speaks plain HTTP)".to_owned());
    }
    eprintln!("POST {}", redacted(&request.uri().to_string()));
    eprintln!("{}", String::from_utf8_lossy(&callback.body()));

    let client = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let response = client.request(request).await.map_err(|error| {
            let mut message = format!("request to {} failed: {error}", options.url);
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            message
        })?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| format!("cannot read the answer: {error}"))?
            .to_bytes();
        Ok::<_, String>((status, body))
    };
    let (status, answer) = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer from {} within {TIMEOUT:?}", options.url))??;

    println!("HTTP {status}");
    println!("{}", String::from_utf8_lossy(&answer));

    let acknowledged = match serde_json::from_slice::<Ack>(&answer) {
        Ok(ack) => ack.is_ok(),
        Err(_) => {
            eprintln!("simulate: the answer is not a callback acknowledgement");
            false
        }
    };
    Ok(status == hyper::StatusCode::OK && acknowledged)
}

/// The URL as shown on standard error: `Sign`'s value left out.
fn redacted(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let pairs: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("Sign=") {
                "Sign=[redacted]"
            } else {
                pair
            }
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}
