//! Soak test over real loopback sockets: many concurrent keep-alive connections send a
//! deterministic mix of valid recall callbacks of all three kinds, refused ones, other
//! callback commands (verified by the guard, or refused by it) and other requests to two hyper
//! servers, one with the layer in forward mode and one in acknowledge mode, both guarded. It
//! checks that every valid callback is answered `OK` and its event delivered exactly once,
//! intact, with the body it came in; that every refused one gets its status and is never
//! delivered; that other commands and requests come back untouched, and nothing else is
//! delivered; and that no connection fails. It prints the request rate and the process's memory (resident set
//! now and at its peak, from `/proc/self/status`) before and after.
//!
//! `short_soak` runs by default (a few thousand requests). The long run is ignored by default,
//! for its time in a debug build; CI runs it in release (a few seconds):
//!
//! ```text
//! cargo test --release --all-features --test soak -- --ignored --nocapture
//! ```
//!
//! Oversized bodies (413) are each sent on a connection of their own, and are only a little
//! over the limit. The layer refuses them without reading the rest of the body; hyper then
//! keeps the connection alive only when that unread rest is already in its read buffer, and
//! otherwise closes it, and a client still writing a large body then sees a write error rather
//! than the 413. Which of the two happens depends on timing and sizes, so the test relies on
//! neither: it checks the 413 and that the exchange itself did not fail, then drops that
//! connection. (Tencent's recall callbacks are far below the default 64 KiB limit.)

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tower::{service_fn, BoxError, Service, ServiceBuilder};
use tower_tim_recall::testing::Callback;
use tower_tim_recall::{
    AcceptedRecall, Ack, CallbackContext, GroupRecall, GroupType, OfficialAccountRecall,
    OneToOneRecall, Platform, RecallEvent, RecallKind, RecallLayer, RecalledMessage, RequestBody,
    SdkAppId, UnixMillis, VerifiedCallback, WithdrawnMessage,
};

use support::bodies::Script;
use support::fixtures::OK_JSON;
use support::net::client::Client;
use support::net::server::Server;
use support::net::within;
use support::{fail_json, Answer};

/// The apps both servers accept; a callback's app alternates between them.
const APPS: [u64; 2] = [1_400_000_000, 1_400_000_001];
/// An app neither accepts.
const STRANGER: u64 = 1_400_000_999;
const TOKEN: &str = "soak-test-token";
/// The other command the clients send.
const OTHER: &str = "State.StateChange";
/// Smaller than the default, so that oversized bodies stay cheap to send.
const BODY_LIMIT: usize = 4 * 1024;

/// How much traffic: `connections` concurrent keep-alive connections, each sending
/// `per_connection` requests one after the other.
#[derive(Debug, Clone, Copy)]
struct Plan {
    connections: usize,
    per_connection: usize,
}

impl Plan {
    fn requests(self) -> usize {
        self.connections * self.per_connection
    }

    /// Where the delivery count of request `seq` of connection `conn` is kept.
    fn slot(self, conn: usize, seq: usize) -> usize {
        conn * self.per_connection + seq
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn short_soak() {
    soak(Plan {
        connections: 32,
        per_connection: 100,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: cargo test --release --all-features --test soak -- --ignored --nocapture"]
async fn long_soak() {
    soak(Plan {
        connections: 64,
        per_connection: 5_000,
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// The traffic

/// What one request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A signed recall callback (of the kind [`event_of`] picks); its body sent with
    /// `Content-Length`, or chunked.
    Valid { chunked: bool },
    /// For an app not on the allowlist: 403.
    WrongApp,
    /// Signed with another token: 401.
    BadSignature,
    /// A body that is not a recall event, or one of another kind: 400.
    Malformed { truncated: bool },
    /// A body of another kind than the query's command: 400.
    Mismatched,
    /// The recall command with `GET`: 405.
    WrongMethod,
    /// A body over the limit, by `Content-Length` or found while reading: 413, on a
    /// connection of its own.
    Oversized { declared: bool },
    /// Another callback command to the same URL, signed: verified by the guard, passed
    /// through, body echoed.
    OtherCommand,
    /// Another callback command, unsigned: refused by the guard, 401.
    UnsignedCommand,
    /// A plain `POST` without a query, its body streamed in chunks: passed through, echoed.
    Plain,
    /// A `GET` without a body: passed through.
    Health,
}

impl Kind {
    /// The mix, a cycle of 40 shifted per connection so that the connections are not in step:
    /// 55 % valid, 25 % refused, 20 % other commands and requests.
    fn of(conn: usize, seq: usize) -> Self {
        let turn = seq / 40;
        match (seq + conn * 7) % 40 {
            0..=21 => Kind::Valid {
                chunked: seq % 4 == 0,
            },
            22 | 23 => Kind::WrongApp,
            24 | 25 => Kind::BadSignature,
            26 | 27 => Kind::Malformed {
                truncated: seq % 2 == 0,
            },
            28 => Kind::Mismatched,
            29 => Kind::WrongMethod,
            30 => Kind::Oversized {
                declared: turn % 2 == 0,
            },
            31 => Kind::UnsignedCommand,
            32..=34 => Kind::OtherCommand,
            35..=37 => Kind::Plain,
            _ => Kind::Health,
        }
    }
}

/// The kind of recall that request `seq` of connection `conn` reports: all three in turn.
fn kind_of(conn: usize, seq: usize) -> RecallKind {
    RecallKind::ALL[(seq + conn) % 3]
}

/// The recall that request `seq` of connection `conn` reports, of [`kind_of`] them: unique to
/// the request (see [`identify`]), and every field Tencent sends, varied.
fn event_of(conn: usize, seq: usize) -> RecallEvent {
    let mut context = CallbackContext::new(APPS[seq % 2]);
    context.client_ip = Some(IpAddr::V4(Ipv4Addr::new(10, 0, conn as u8, seq as u8)));
    context.platform = Some(
        [
            Platform::RestApi,
            Platform::Android,
            Platform::Ios,
            Platform::Web,
        ][seq % 4]
            .clone(),
    );
    let event_time = Some(UnixMillis::new(1_700_000_000_000 + seq as u64));
    let count = 1 + seq % 3;
    match kind_of(conn, seq) {
        RecallKind::Group => {
            let group = format!("@TGS#soak{conn}");
            let first = u32::try_from(seq * 4).unwrap();
            let messages = (0..count).map(|k| {
                let id = (k == 0).then(|| format!("{conn}-{seq}-{}", 1_739_361_321 + seq));
                RecalledMessage::new(first + k as u32, id)
            });
            let mut recall = GroupRecall::new(APPS[0], group.clone(), messages);
            recall.context = context;
            recall.operator_account = Some(format!("user{}", seq % 17));
            if seq % 5 == 0 {
                recall.group_type = Some(GroupType::Community);
                recall.topic_id = Some(format!("{group}@TOPIC#_topic{}", seq % 7));
            } else {
                recall.group_type = Some(GroupType::Public);
            }
            recall.event_time = event_time;
            recall.into()
        }
        RecallKind::OneToOne => {
            let key = format!("soak_{conn}_{seq}");
            let mut recall = OneToOneRecall::new(APPS[0], format!("user{}", seq % 17), "peer", key);
            recall.context = context;
            // Either doc edition, both, or neither; `-1` among the counts.
            match seq % 4 {
                0 => recall.unread_msg_num = Some(seq as i64 % 9 - 1),
                1 => recall.event_time = event_time,
                2 => {
                    recall.unread_msg_num = Some(-1);
                    recall.event_time = event_time;
                }
                _ => {}
            }
            recall.into()
        }
        _ => {
            let messages =
                (0..count).map(|k| WithdrawnMessage::new(format!("soak_{conn}_{seq}_{k}")));
            let mut recall =
                OfficialAccountRecall::new(APPS[0], format!("#TOA#_soak{conn}"), messages);
            recall.context = context;
            recall.event_time = event_time;
            recall.into()
        }
    }
}

/// The connection and request that `event` was made for, if it names one.
fn identify(event: &RecallEvent) -> Option<(usize, usize)> {
    let (conn, seq) = match event {
        RecallEvent::Group(recall) => {
            let conn = recall.group_id.strip_prefix("@TGS#soak")?;
            let seq = recall.messages.first()?.msg_seq as usize / 4;
            (conn.parse().ok()?, seq)
        }
        RecallEvent::OneToOne(recall) => {
            let (conn, seq) = recall.msg_key.strip_prefix("soak_")?.split_once('_')?;
            (conn.parse().ok()?, seq.parse().ok()?)
        }
        RecallEvent::OfficialAccount(recall) => {
            let key = &recall.messages.first()?.msg_key;
            let mut parts = key.strip_prefix("soak_")?.split('_');
            (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?)
        }
        _ => return None,
    };
    Some((conn, seq))
}

/// The context of `event`, to change it.
fn context_mut(event: &mut RecallEvent) -> &mut CallbackContext {
    match event {
        RecallEvent::Group(recall) => &mut recall.context,
        RecallEvent::OneToOne(recall) => &mut recall.context,
        RecallEvent::OfficialAccount(recall) => &mut recall.context,
        _ => unreachable!("a kind this test does not send"),
    }
}

/// What the client must get back.
#[derive(Debug)]
enum Expect {
    /// 200 and the `OK` acknowledgement, byte for byte.
    Ok,
    /// The layer's refusal with this status and reason.
    Fail(StatusCode, &'static str),
    /// 200 and this body: the application's echo of a request it received untouched.
    Echo(Bytes),
}

/// The request `seq` of connection `conn`, and what it must get back.
fn request(conn: usize, seq: usize, kind: Kind) -> (Request<Script>, Expect) {
    let app = APPS[seq % 2];
    let signed = Callback::new(event_of(conn, seq)).signed(TOKEN);
    let command = kind_of(conn, seq).command();
    let (mut request, expect) = match kind {
        Kind::Valid { chunked } => {
            let mut request: Request<Script> = signed.request();
            if chunked {
                *request.body_mut() = Script::pieces(signed.body(), 5);
            }
            (request, Expect::Ok)
        }
        Kind::WrongApp => {
            let mut stranger = event_of(conn, seq);
            context_mut(&mut stranger).sdk_app_id = SdkAppId::new(STRANGER);
            let callback = Callback::new(stranger).signed(TOKEN);
            (
                callback.request(),
                Expect::Fail(StatusCode::FORBIDDEN, "SdkAppid is not allowed"),
            )
        }
        Kind::BadSignature => {
            let callback = Callback::new(event_of(conn, seq)).signed("not-the-token");
            (
                callback.request(),
                Expect::Fail(StatusCode::UNAUTHORIZED, "Sign does not match"),
            )
        }
        Kind::Malformed { truncated } => {
            let (body, reason) = if truncated {
                (
                    r#"{"GroupId":"@TGS#soak","MsgSeqList":[{"MsgSeq":"#,
                    "invalid body: EOF while parsing a value at line 1 column 47",
                )
            } else {
                (
                    r#"[{"GroupId":7,"MsgSeqList":[]}]"#,
                    "body is not a JSON object",
                )
            };
            let callback = Callback::from_json(app, command, body).signed(TOKEN);
            (
                callback.request(),
                Expect::Fail(StatusCode::BAD_REQUEST, reason),
            )
        }
        Kind::Mismatched => {
            // The body of the next kind, under this kind's command.
            let next = kind_of(conn, seq + 1);
            let body = Callback::new(event_of(conn, seq))
                .command(next.command())
                .body();
            let callback = Callback::from_json(app, command, body).signed(TOKEN);
            (
                callback.request(),
                Expect::Fail(
                    StatusCode::BAD_REQUEST,
                    "the body's CallbackCommand is not the query's",
                ),
            )
        }
        Kind::WrongMethod => {
            let mut request: Request<Script> = signed.request();
            *request.method_mut() = Method::GET;
            *request.body_mut() = Script::from(Bytes::new());
            (
                request,
                Expect::Fail(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "callbacks must be sent with POST",
                ),
            )
        }
        Kind::Oversized { declared } => {
            let padding = "x".repeat(BODY_LIMIT);
            let body = format!(
                r#"{{"GroupId":"@TGS#soak{conn}","MsgSeqList":[{{"MsgSeq":1}}],"Padding":"{padding}"}}"#
            );
            let callback =
                Callback::from_json(app, RecallKind::Group.command(), body).signed(TOKEN);
            let mut request: Request<Script> = callback.request();
            if !declared {
                *request.body_mut() = Script::pieces(callback.body(), 6);
            }
            (
                request,
                Expect::Fail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body is larger than the limit",
                ),
            )
        }
        Kind::OtherCommand => {
            let body = format!(r#"{{"CallbackCommand":"{OTHER}","Info":{{"Seq":{seq}}}}}"#);
            let other = Callback::from_json(app, OTHER, body.clone()).signed(TOKEN);
            (other.request(), Expect::Echo(body.into()))
        }
        Kind::UnsignedCommand => {
            let other = Callback::from_json(app, OTHER, "{}");
            (
                other.request(),
                Expect::Fail(StatusCode::UNAUTHORIZED, "RequestTime is missing"),
            )
        }
        Kind::Plain => {
            let body = Bytes::from(format!("plain request {conn}/{seq} ").repeat(1 + seq % 20));
            let request = Request::post(format!("/echo/{conn}/{seq}"))
                .body(Script::pieces(body.clone(), 3))
                .unwrap();
            (request, Expect::Echo(body))
        }
        Kind::Health => {
            let request = Request::get("/health")
                .body(Script::from(Bytes::new()))
                .unwrap();
            (request, Expect::Echo(Bytes::new()))
        }
    };
    request
        .headers_mut()
        .insert(header::HOST, HeaderValue::from_static("127.0.0.1"));
    (request, expect)
}

// ---------------------------------------------------------------------------------------------
// The servers

/// What the servers received, kept in memory allocated before the traffic starts.
struct Tally {
    plan: Plan,
    /// How many times each request's event was delivered.
    delivered: Vec<AtomicU32>,
    /// Events that name no request of the plan, or differ from what was sent.
    wrong: AtomicUsize,
    /// Recall callbacks that reached the application behind an acknowledge-mode layer, and
    /// other commands that reached it unverified.
    misrouted: AtomicUsize,
}

impl Tally {
    fn new(plan: Plan) -> Self {
        Self {
            plan,
            delivered: (0..plan.requests()).map(|_| AtomicU32::new(0)).collect(),
            wrong: AtomicUsize::new(0),
            misrouted: AtomicUsize::new(0),
        }
    }

    /// Records a delivered event, and checks it (and the body bytes the inner service could
    /// still read, in forward mode) against the request it came from.
    fn record(&self, event: &RecallEvent, body: &Bytes) {
        let Some((conn, seq)) = identify(event) else {
            self.wrong.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if conn >= self.plan.connections || seq >= self.plan.per_connection {
            self.wrong.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut expected = event_of(conn, seq);
        let request_time = event.context().request_time;
        context_mut(&mut expected).request_time = request_time;
        let body_intact = *body == Callback::new(expected.clone()).body();
        if *event != expected || request_time.is_none() || !body_intact {
            self.wrong.fetch_add(1, Ordering::Relaxed);
        }
        self.delivered[self.plan.slot(conn, seq)].fetch_add(1, Ordering::Relaxed);
    }
}

/// The application behind the layer: records a forwarded callback's event and acknowledges
/// it; echoes any other request's body.
#[derive(Clone)]
struct Application {
    tally: Arc<Tally>,
    acknowledge_mode: bool,
}

impl Service<Request<RequestBody<Incoming>>> for Application {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RequestBody<Incoming>>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let event = request.extensions().get::<RecallEvent>().cloned();
            let verified = request.extensions().get::<VerifiedCallback>().cloned();
            let command = request
                .uri()
                .query()
                .is_some_and(|query| query.contains("CallbackCommand"));
            let Ok(body) = request.into_body().collect().await else {
                let mut response = Response::new(Full::default());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return Ok(response);
            };
            let body = body.to_bytes();
            match event {
                Some(_) if this.acknowledge_mode => {
                    this.tally.misrouted.fetch_add(1, Ordering::Relaxed);
                    Ok(Ack::fail("misrouted").into_http_response())
                }
                Some(event) => {
                    this.tally.record(&event, &body);
                    Ok(Ack::ok().into_http_response())
                }
                // Another command: the guard verified it, or it is not here.
                None if command
                    && verified.map(|verified| verified.command) != Some(OTHER.to_owned()) =>
                {
                    this.tally.misrouted.fetch_add(1, Ordering::Relaxed);
                    Ok(Ack::fail("unverified").into_http_response())
                }
                None => Ok(Response::new(Full::new(body))),
            }
        })
    }
}

fn layer() -> RecallLayer {
    RecallLayer::builder()
        .signed_app(APPS[0], [TOKEN])
        .signed_app(APPS[1], [TOKEN])
        .body_limit(BODY_LIMIT)
        .guard_other_commands()
        .build()
        .unwrap()
}

/// The layer in forward mode: the application records the events.
async fn forward_server(tally: &Arc<Tally>) -> Server {
    let application = Application {
        tally: Arc::clone(tally),
        acknowledge_mode: false,
    };
    Server::http1(ServiceBuilder::new().layer(layer()).service(application)).await
}

/// The layer in acknowledge mode: its handler records the events.
async fn acknowledge_server(tally: &Arc<Tally>) -> Server {
    let recorder = Arc::clone(tally);
    let layer = layer().acknowledge(service_fn(move |accepted: AcceptedRecall| {
        recorder.record(&accepted.event, &accepted.body);
        std::future::ready(Ok::<_, Infallible>(()))
    }));
    let application = Application {
        tally: Arc::clone(tally),
        acknowledge_mode: true,
    };
    Server::http1(ServiceBuilder::new().layer(layer).service(application)).await
}

// ---------------------------------------------------------------------------------------------
// The clients

/// What the clients saw.
#[derive(Default)]
struct Outcome {
    completed: AtomicUsize,
    connection_errors: AtomicUsize,
    wrong_answers: AtomicUsize,
    /// The first few failures, described.
    failures: Mutex<Vec<String>>,
    /// The resident set size once a tenth of the requests are done.
    warm_rss: Mutex<Option<Memory>>,
}

impl Outcome {
    fn fail(&self, counter: &AtomicUsize, what: String) {
        counter.fetch_add(1, Ordering::Relaxed);
        let mut failures = self.failures.lock().unwrap();
        if failures.len() < 20 {
            failures.push(what);
        }
    }

    fn done_one(&self, plan: Plan) {
        let done = self.completed.fetch_add(1, Ordering::Relaxed) + 1;
        if done == plan.requests() / 10 {
            *self.warm_rss.lock().unwrap() = Memory::now();
        }
    }
}

/// Checks an answer against what was expected.
fn check(answer: &Answer, expect: &Expect) -> Result<(), String> {
    let status = answer.status;
    let body = &answer.body;
    let fine = match expect {
        Expect::Ok => status == StatusCode::OK && body == OK_JSON,
        Expect::Echo(sent) => status == StatusCode::OK && body == sent,
        Expect::Fail(want, reason) => {
            status == *want
                && answer.content_type() == "application/json"
                && *body == fail_json(*want, reason)
        }
    };
    if fine {
        Ok(())
    } else {
        Err(format!(
            "expected {expect:?}, got {status} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
}

/// One keep-alive connection's traffic: `plan.per_connection` requests in sequence, each
/// oversized one on a connection of its own.
async fn drive(addr: SocketAddr, conn: usize, plan: Plan, outcome: Arc<Outcome>) {
    let mut client = match Client::<Script>::try_connect(addr).await {
        Ok(client) => client,
        Err(error) => {
            let what = format!("connection {conn}: connect: {error}");
            return outcome.fail(&outcome.connection_errors, what);
        }
    };
    for seq in 0..plan.per_connection {
        let kind = Kind::of(conn, seq);
        let (request, expect) = request(conn, seq, kind);
        let answer = if let Kind::Oversized { .. } = kind {
            alone(addr, request).await
        } else {
            within("request", client.try_request(request)).await
        };
        match answer {
            Err(error) => {
                let what = format!("connection {conn}, request {seq} ({kind:?}): {error}");
                outcome.fail(&outcome.connection_errors, what);
            }
            Ok(answer) => {
                if let Err(wrong) = check(&answer, &expect) {
                    let what = format!("connection {conn}, request {seq} ({kind:?}): {wrong}");
                    outcome.fail(&outcome.wrong_answers, what);
                }
            }
        }
        outcome.done_one(plan);
    }
    if let Err(error) = client.try_close().await {
        let what = format!("connection {conn}: closed with {error}");
        outcome.fail(&outcome.connection_errors, what);
    }
}

/// Sends `request` on a connection of its own, reads the answer, and drops the connection,
/// which the server may already have closed.
async fn alone(addr: SocketAddr, request: Request<Script>) -> Result<Answer, BoxError> {
    let mut client = Client::try_connect(addr).await?;
    let answer = within("request", client.try_request(request)).await;
    drop(client);
    answer
}

// ---------------------------------------------------------------------------------------------
// Memory

/// The process's resident set size now and at its peak, in KiB, from `/proc/self/status`.
#[derive(Debug, Clone, Copy)]
struct Memory {
    rss_kib: u64,
    peak_kib: u64,
}

impl Memory {
    /// `None` where `/proc/self/status` does not exist (not Linux).
    fn now() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        };
        Some(Self {
            rss_kib: field("VmRSS:")?,
            peak_kib: field("VmHWM:")?,
        })
    }
}

fn show(memory: Option<Memory>) -> String {
    memory.map_or_else(
        || "unavailable".to_owned(),
        |memory| {
            format!(
                "VmRSS {} KiB, VmHWM {} KiB",
                memory.rss_kib, memory.peak_kib
            )
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The run

async fn soak(plan: Plan) {
    let tally = Arc::new(Tally::new(plan));
    let servers = [
        forward_server(&tally).await,
        acknowledge_server(&tally).await,
    ];
    let addrs = [servers[0].addr, servers[1].addr];
    let outcome = Arc::new(Outcome::default());

    let start_memory = Memory::now();
    let started = Instant::now();
    let clients: Vec<_> = (0..plan.connections)
        .map(|conn| {
            // Half the connections to each server.
            let addr = addrs[conn % 2];
            tokio::spawn(drive(addr, conn, plan, Arc::clone(&outcome)))
        })
        .collect();
    for client in clients {
        client.await.expect("a client task panicked");
    }
    let elapsed = started.elapsed();
    let end_memory = Memory::now();

    let mut server_connections = 0;
    let mut server_errors = 0;
    for server in servers {
        let connections = server.stop().await;
        server_connections += connections.accepted();
        server_errors += connections.failed();
    }

    // What each request should have caused.
    let mut counts = [0_usize; 3];
    let mut misdelivered = Vec::new();
    for conn in 0..plan.connections {
        for seq in 0..plan.per_connection {
            let kind = Kind::of(conn, seq);
            let valid = matches!(kind, Kind::Valid { .. });
            let class = match kind {
                Kind::Valid { .. } => 0,
                Kind::OtherCommand | Kind::Plain | Kind::Health => 2,
                _ => 1,
            };
            counts[class] += 1;
            let delivered = tally.delivered[plan.slot(conn, seq)].load(Ordering::SeqCst);
            if delivered != u32::from(valid) && misdelivered.len() < 20 {
                misdelivered.push(format!(
                    "connection {conn}, request {seq} ({kind:?}) delivered {delivered} times"
                ));
            }
        }
    }
    let total_delivered: u64 = tally
        .delivered
        .iter()
        .map(|count| u64::from(count.load(Ordering::SeqCst)))
        .sum();

    let seconds = elapsed.as_secs_f64();
    println!(
        "soak: {} requests ({} valid, {} refused, {} passed through) on {} keep-alive \
         connections in {seconds:.2} s: {:.0} requests/s",
        plan.requests(),
        counts[0],
        counts[1],
        counts[2],
        plan.connections,
        plan.requests() as f64 / seconds,
    );
    println!(
        "soak: {total_delivered} events delivered; {server_connections} connections accepted \
         (oversized bodies each on their own), {server_errors} ended with a server-side error"
    );
    println!("soak: memory at start:          {}", show(start_memory));
    let warm = *outcome.warm_rss.lock().unwrap();
    println!("soak: memory after 10 % of run: {}", show(warm));
    println!("soak: memory at end:            {}", show(end_memory));

    let failures = outcome.failures.lock().unwrap().clone();
    assert_eq!(
        outcome.connection_errors.load(Ordering::SeqCst),
        0,
        "connection errors: {failures:#?}"
    );
    assert_eq!(
        outcome.wrong_answers.load(Ordering::SeqCst),
        0,
        "wrong answers: {failures:#?}"
    );
    assert_eq!(outcome.completed.load(Ordering::SeqCst), plan.requests());
    assert!(
        misdelivered.is_empty(),
        "not delivered exactly once: {misdelivered:#?}"
    );
    assert_eq!(total_delivered, counts[0] as u64);
    assert_eq!(tally.wrong.load(Ordering::SeqCst), 0, "events differ");
    assert_eq!(tally.misrouted.load(Ordering::SeqCst), 0);
    assert_eq!(server_errors, 0, "server-side connection errors");

    // Memory stays flat once warm: buffers, connections and allocator arenas are set up in the
    // first tenth of the run. The bound is loose on purpose (allocators differ), yet a leak of
    // a body or an event per request in the long run would pass it several times over.
    if let (Some(warm), Some(end)) = (warm, end_memory) {
        let growth = end.rss_kib.saturating_sub(warm.rss_kib);
        assert!(
            growth <= MAX_GROWTH_KIB,
            "resident memory grew by {growth} KiB after warm-up"
        );
    }
}

/// How much the resident set may grow between a tenth of the run and its end.
const MAX_GROWTH_KIB: u64 = 32 * 1024;
