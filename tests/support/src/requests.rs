//! Requests as Tencent's backend sends them, and the URLs the benchmarks use.

use bytes::Bytes;
use http::{header, Method, Request};
use http_body_util::Full;

use tower_tim_recall::RecallKind;

use crate::fixtures::{query_of, CALLBACK_PATH, EVENT, OLD_EVENT, QUERY, STRANGER};

/// A request to [`CALLBACK_PATH`] with `query` and `body`.
pub fn request<B>(method: Method, query: &str, body: B) -> Request<B> {
    Request::builder()
        .method(method)
        .uri(format!("{CALLBACK_PATH}?{query}"))
        .body(body)
        .expect("a valid URI")
}

/// A `POST` to [`CALLBACK_PATH`] with `query` and `body`, as Tencent sends a callback.
pub fn post<B>(query: &str, body: B) -> Request<B> {
    request(Method::POST, query, body)
}

/// A callback as Tencent sends it: a `POST` to `path` with `query` and a JSON `body`, with
/// `Content-Type: application/json`.
pub fn callback_to(path: &str, query: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post(format!("{path}?{query}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.into()))
        .expect("a valid URI")
}

/// Tencent's documented callback: [`QUERY`] and [`EVENT`].
pub fn documented() -> Request<Full<Bytes>> {
    callback_to(CALLBACK_PATH, QUERY, EVENT)
}

/// Tencent's documented callback of `kind`, with `body`: [`query_of`] the kind.
pub fn documented_of(kind: RecallKind, body: &'static str) -> Request<Full<Bytes>> {
    callback_to(CALLBACK_PATH, &query_of(kind), body)
}

/// The documented callback with the older body, [`OLD_EVENT`].
pub fn old_form() -> Request<Full<Bytes>> {
    callback_to(CALLBACK_PATH, QUERY, OLD_EVENT)
}

/// The documented callback for an app no layer under test accepts, [`STRANGER`].
pub fn other_app() -> Request<Full<Bytes>> {
    let query = QUERY.replace("1400000000", &STRANGER.to_string());
    callback_to(CALLBACK_PATH, &query, EVENT)
}

/// The documented callback under another command.
pub fn other_command() -> Request<Full<Bytes>> {
    let query = QUERY.replace(
        "Group.CallbackAfterRecallMsg",
        crate::fixtures::OTHER_COMMAND,
    );
    callback_to(CALLBACK_PATH, &query, EVENT)
}

/// A body that is all there at once.
pub fn full(body: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(body.into())
}

/// A recall callback's URL as Tencent documents it.
pub const RECALL_URI: &str = concat!(
    "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// The same callback for an app that is not on the allowlist.
pub const OTHER_APP_URI: &str = concat!(
    "/im/callback?SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterRecallMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// Another callback command sent to the same URL: the layer lets it through.
pub const OTHER_COMMAND_URI: &str = concat!(
    "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg",
    "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
);
/// A request with no query at all: the application's ordinary traffic.
pub const NO_QUERY_URI: &str = "/api/messages";

/// The signed URL of a callback sent at `request_time` with `Sign` as given.
pub fn signed_uri(request_time: u64, sign: &str) -> String {
    format!("{RECALL_URI}&RequestTime={request_time}&Sign={sign}")
}

/// A typical recall in a group without topics: one message, no `TopicId`.
pub const TYPICAL_NO_TOPIC: &str = concat!(
    r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin","#,
    r#""Type":"Public","GroupId":"@TGS#2J4SZEAEL","#,
    r#""MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],"#,
    r#""EventTime":1670574414123}"#,
);

/// The body of a large recall: `count` messages, each with its `MsgId`.
pub fn large(count: u32) -> String {
    let messages: Vec<String> = (0..count)
        .map(|seq| format!(r#"{{"MsgSeq":{seq},"MsgId":"144115213033478435-1739361321-{seq}"}}"#))
        .collect();
    format!(
        r#"{{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin","Type":"Public","GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{}],"EventTime":1670574414123}}"#,
        messages.join(",")
    )
}

/// A `POST` to `uri` with a JSON body and its `Content-Length`, as Tencent sends it.
pub fn post_json(uri: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let body = body.into();
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(body))
        .expect("a valid URI")
}
