//! Plays Tencent Cloud IM's backend: sends one recall callback (group, one-to-one or
//! official account), or another callback command, to a receiver such as the `server` example,
//! and reports its answer.
//!
//! ```text
//! cargo run --example simulate --features testing -- [--url URL] [--sdkappid N] [--token T]
//!     [--kind group|c2c|official-account] [--command C] [--client-ip IP] [--platform P]
//!     group:            [--group ID] [--topic ID] [--seq N]... [--operator USER] [--type T]
//!     c2c:              [--from USER] [--to USER] [--msg-key K] [--unread N]
//!     official-account: [--official-account ID] [--msg-key K]...
//! ```
//!
//! The request is built by the crate's [`testing`](tower_tim_recall::testing) module, as Tencent
//! builds it: `POST URL?SdkAppid=…&CallbackCommand=…&contenttype=json&ClientIP=…&OptPlatform=…`,
//! plus `RequestTime` and `Sign = hex(SHA-256(token ‖ RequestTime))` when a token is given, and
//! a JSON body with Tencent's field names for the kind, `EventTime` (now, in milliseconds)
//! among them.
//!
//! It needs the crate's `testing` feature, which builds the callback. Flags (each takes its
//! value as the next argument or after `=`):
//!
//! - `--url URL`: the callback URL (default `http://127.0.0.1:3000/im/callback`; plain HTTP only).
//! - `--sdkappid N`: the app (default 1400000000, the demo app).
//! - `--token T`: the callback token; signs the request. Never printed.
//! - `--request-time N`: `RequestTime` in Unix seconds instead of now (needs `--token`), to try a
//!   stale signature.
//! - `--kind K`: which recall: `group` (`Group.CallbackAfterRecallMsg`, the default), `c2c`
//!   (`C2C.CallbackAfterMsgWithDraw`) or `official-account`
//!   (`OfficialAccount.CallbackAfterMsgWithDraw`).
//! - `--command C`: another `CallbackCommand`, in the query and the body (`State.StateChange`,
//!   say), to see how the receiver treats the callbacks it does not take.
//! - `--client-ip IP`: `ClientIP`, the end user's address (default `127.0.0.1`).
//! - `--platform P`: `OptPlatform` (default `RESTAPI`).
//! - For a group recall: `--group ID`, the `GroupId` (default `@TGS#_@TGS#cQVLVHIM62CJ`);
//!   `--topic ID`, the `TopicId` (left out by default); `--seq N`, a recalled `MsgSeq`,
//!   repeatable (default one message, 130); `--operator USER`, the `Operator_Account` (default
//!   `admin`); `--type T`, the group `Type` (default `Community` for a topic or a community
//!   group ID starting with `@TGS#_`, else `Public`).
//! - For a one-to-one recall: `--from USER` and `--to USER`, the `From_Account` and
//!   `To_Account` (default `jared` and `Jonh`, as in Tencent's example); `--msg-key K`, the
//!   `MsgKey` (default `48374_2837546_1557481126`); `--unread N`, the `UnreadMsgNum`, any
//!   integer, `-1` included (left out by default).
//! - For an official-account recall: `--official-account ID`, the `Official_Account` (default
//!   `#TOA#_123`); `--msg-key K`, a recalled `MsgKey`, repeatable (default `71_1_1698741698`).
//! - `--help`: this summary.
//!
//! A flag of another kind than `--kind`'s is refused, so that a typo does not send something
//! else than meant.
//!
//! The HTTP status and the answer's body are printed on standard output; what was sent goes to
//! standard error (with `Sign` redacted). Exit status: 0 when the answer is HTTP 200 with
//! `"ActionStatus":"OK"`, 1 for any other answer, 2 for a bad flag or when no answer came
//! (connection refused, timeout).

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{
    Ack, CallbackContext, GroupRecall, GroupType, OfficialAccountRecall, OneToOneRecall, Platform,
    RecallEvent, RecalledMessage, UnixMillis, WithdrawnMessage,
};

/// How long to wait for the answer (Tencent itself waits two seconds).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Plays Tencent Cloud IM's backend: sends one recall callback (group, one-to-one or official
/// account) or another callback command, and prints the answer. Exit status: 0 for HTTP 200
/// with ActionStatus OK, 1 for any other answer, 2 for a bad flag or no answer.
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
    /// Which recall callback to send.
    #[arg(long, value_enum, default_value_t = Kind::Group)]
    kind: Kind,
    /// CallbackCommand to send instead of the kind's (in the query and the body).
    #[arg(long, value_name = "C")]
    command: Option<String>,
    /// ClientIP, the end user's address.
    #[arg(long, value_name = "IP", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    client_ip: IpAddr,
    /// OptPlatform.
    #[arg(long, value_name = "P", default_value = "RESTAPI")]
    platform: String,
    /// Group recall: GroupId [default: @TGS#_@TGS#cQVLVHIM62CJ].
    #[arg(long, value_name = "ID", help_heading = "Group recall")]
    group: Option<String>,
    /// Group recall: TopicId [default: none].
    #[arg(long, value_name = "ID", help_heading = "Group recall")]
    topic: Option<String>,
    /// Group recall: MsgSeq of a recalled message; repeat for several [default: 130].
    #[arg(long = "seq", value_name = "N", help_heading = "Group recall")]
    seqs: Vec<u32>,
    /// Group recall: Operator_Account [default: admin].
    #[arg(long, value_name = "USER", help_heading = "Group recall")]
    operator: Option<String>,
    /// Group recall: Type [default: Community with --topic or an @TGS#_ group, else Public].
    #[arg(long = "type", value_name = "T", help_heading = "Group recall")]
    group_type: Option<String>,
    /// One-to-one recall: From_Account [default: jared].
    #[arg(long, value_name = "USER", help_heading = "One-to-one recall")]
    from: Option<String>,
    /// One-to-one recall: To_Account [default: Jonh].
    #[arg(long, value_name = "USER", help_heading = "One-to-one recall")]
    to: Option<String>,
    /// One-to-one recall: UnreadMsgNum, any integer, -1 included [default: none].
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        help_heading = "One-to-one recall"
    )]
    unread: Option<i64>,
    /// Official-account recall: Official_Account [default: #TOA#_123].
    #[arg(long, value_name = "ID", help_heading = "Official-account recall")]
    official_account: Option<String>,
    /// MsgKey: of the one-to-one recall [default: 48374_2837546_1557481126], or of a recalled
    /// official-account message, repeatable [default: 71_1_1698741698].
    #[arg(long = "msg-key", value_name = "K")]
    msg_keys: Vec<String>,
}

/// The three recall callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// Group.CallbackAfterRecallMsg.
    Group,
    /// C2C.CallbackAfterMsgWithDraw.
    C2c,
    /// OfficialAccount.CallbackAfterMsgWithDraw.
    OfficialAccount,
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

impl Options {
    /// The event the flags describe, with this event time and the query context.
    fn event(&self, event_time: UnixMillis) -> Result<RecallEvent, String> {
        let mut context = CallbackContext::new(self.sdkappid);
        context.client_ip = Some(self.client_ip);
        context.platform = Some(Platform::from(self.platform.as_str()));
        self.refuse_flags_of_other_kinds()?;
        Ok(match self.kind {
            Kind::Group => {
                let group = self
                    .group
                    .clone()
                    .unwrap_or_else(|| "@TGS#_@TGS#cQVLVHIM62CJ".to_owned());
                let seqs = if self.seqs.is_empty() {
                    vec![130]
                } else {
                    self.seqs.clone()
                };
                let messages = seqs.iter().map(|&seq| RecalledMessage::new(seq, None));
                let mut recall = GroupRecall::new(self.sdkappid, group.clone(), messages);
                recall.operator_account =
                    Some(self.operator.clone().unwrap_or_else(|| "admin".to_owned()));
                recall.group_type = Some(GroupType::from(
                    self.group_type.as_deref().unwrap_or_else(|| {
                        // Community group IDs start with `@TGS#_`; topics exist only in communities.
                        let community = self.topic.is_some() || group.starts_with("@TGS#_");
                        if community {
                            "Community"
                        } else {
                            "Public"
                        }
                    }),
                ));
                recall.topic_id = self.topic.clone();
                recall.event_time = Some(event_time);
                recall.context = context;
                recall.into()
            }
            Kind::C2c => {
                let key = match &self.msg_keys[..] {
                    [] => "48374_2837546_1557481126".to_owned(),
                    [key] => key.clone(),
                    _ => return Err("a one-to-one recall has one --msg-key".to_owned()),
                };
                let from = self.from.clone().unwrap_or_else(|| "jared".to_owned());
                let to = self.to.clone().unwrap_or_else(|| "Jonh".to_owned());
                let mut recall = OneToOneRecall::new(self.sdkappid, from, to, key);
                recall.unread_msg_num = self.unread;
                recall.event_time = Some(event_time);
                recall.context = context;
                recall.into()
            }
            Kind::OfficialAccount => {
                let keys = if self.msg_keys.is_empty() {
                    vec!["71_1_1698741698".to_owned()]
                } else {
                    self.msg_keys.clone()
                };
                let account = self
                    .official_account
                    .clone()
                    .unwrap_or_else(|| "#TOA#_123".to_owned());
                let messages = keys.into_iter().map(WithdrawnMessage::new);
                let mut recall = OfficialAccountRecall::new(self.sdkappid, account, messages);
                recall.event_time = Some(event_time);
                recall.context = context;
                recall.into()
            }
        })
    }

    /// A flag of a kind other than `--kind`'s is a mistake.
    fn refuse_flags_of_other_kinds(&self) -> Result<(), String> {
        let given = [
            (Kind::Group, "--group", self.group.is_some()),
            (Kind::Group, "--topic", self.topic.is_some()),
            (Kind::Group, "--seq", !self.seqs.is_empty()),
            (Kind::Group, "--operator", self.operator.is_some()),
            (Kind::Group, "--type", self.group_type.is_some()),
            (Kind::C2c, "--from", self.from.is_some()),
            (Kind::C2c, "--to", self.to.is_some()),
            (Kind::C2c, "--unread", self.unread.is_some()),
            (
                Kind::OfficialAccount,
                "--official-account",
                self.official_account.is_some(),
            ),
        ];
        let misplaced = given
            .iter()
            .find(|(kind, _, set)| *set && *kind != self.kind);
        if let Some((kind, flag, _)) = misplaced {
            let kind = kind.to_possible_value().expect("a named kind");
            return Err(format!("{flag} is for --kind {}", kind.get_name()));
        }
        if self.kind == Kind::Group && !self.msg_keys.is_empty() {
            return Err("--msg-key is for --kind c2c or official-account".to_owned());
        }
        Ok(())
    }
}

/// Sends the callback; `Ok(true)` when it was acknowledged with OK.
async fn run(options: Options) -> Result<bool, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970".to_owned())?;

    // The event the callback reports, then the callback as Tencent's backend sends it.
    let event = options.event(UnixMillis::new(
        u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
    ))?;
    let mut callback = Callback::new(event);
    if let Some(command) = &options.command {
        callback = callback.command(command.clone());
    }
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
