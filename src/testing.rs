//! Callbacks built exactly as Tencent's backend sends them, to test a service without a Tencent
//! account. Enabled by the `testing` feature; meant for `[dev-dependencies]`.
//!
//! A [`Callback`] holds what one callback carries: the app, the command, the query context, the
//! signature inputs and the body, either from a typed recall event of any of the three kinds or
//! raw JSON under any command. [`Callback::request`] turns it into an `http::Request` for
//! [`oneshot`](tower::ServiceExt::oneshot); [`read_ack`] reads the acknowledgement back;
//! [`sign`] computes a `Sign` as Tencent does.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_tim_recall::testing::{read_ack, Callback};
//! use tower_tim_recall::{Ack, GroupRecall, RecallEvent, RecallLayer, RecalledMessage};
//!
//! // The service under test: the layer in front of the app's own handler.
//! let service = ServiceBuilder::new()
//!     .layer(RecallLayer::new([1400000000], ["the console's token"]).unwrap())
//!     .service(service_fn(|request: http::Request<_>| async move {
//!         let event = request.extensions().get::<RecallEvent>().expect("a recall");
//!         assert_eq!(event.as_group().unwrap().messages[0].msg_seq, 130);
//!         Ok::<_, std::convert::Infallible>(Ack::ok().into_http_response::<Full<Bytes>>())
//!     }));
//!
//! // The test: build the callback as Tencent would, send it, read the answer.
//! let event = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
//! let callback = Callback::new(event).signed("the console's token");
//! let response = service.oneshot(callback.request::<Full<Bytes>>()).await.unwrap();
//! let (status, ack) = read_ack(response).await;
//! assert!(status.is_success() && ack.is_ok());
//! # }
//! ```

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body::Body;
use http_body_util::BodyExt;

use crate::protocol::ack::Ack;
use crate::protocol::app::SdkAppId;
use crate::protocol::event::{body_json, RecallEvent};
use crate::protocol::platform::Platform;
use crate::protocol::signature::digest;

/// One callback as Tencent's backend sends it: `POST` to the callback URL with
/// `?SdkAppid=…&CallbackCommand=…&contenttype=json&ClientIP=…&OptPlatform=…`, plus
/// `RequestTime` and `Sign` when signed, and a JSON body with Tencent's field names.
///
/// `Debug` never shows the token.
#[derive(Clone)]
#[must_use]
pub struct Callback {
    sdk_app_id: SdkAppId,
    command: String,
    client_ip: Option<String>,
    platform: Option<String>,
    token: Option<String>,
    request_time: Option<u64>,
    body: CallbackBody,
}

#[derive(Debug, Clone)]
enum CallbackBody {
    Event(Box<RecallEvent>),
    Raw(Bytes),
}

impl Callback {
    /// The recall callback that reports `event`, of any of the three kinds: its command is the
    /// kind's, its app and query context (`ClientIP`, `OptPlatform`, and `RequestTime` when
    /// signed) come from the event's [`context`](RecallEvent::context), the body from its other
    /// fields, with Tencent's names in the order of Tencent's documented examples.
    ///
    /// The layer parses such a callback back into an event equal to `event` when the event's
    /// `request_time` is what the callback is signed with (or `None` for an unsigned callback).
    ///
    /// ```
    /// use tower_tim_recall::testing::Callback;
    /// use tower_tim_recall::{OfficialAccountRecall, WithdrawnMessage};
    ///
    /// let event = OfficialAccountRecall::new(1400000000, "#TOA#_123", [WithdrawnMessage::new("71_1_1698741698")]);
    /// let callback = Callback::new(event);
    /// assert_eq!(
    ///     callback.query(),
    ///     "SdkAppid=1400000000&CallbackCommand=OfficialAccount.CallbackAfterMsgWithDraw&contenttype=json"
    /// );
    /// assert_eq!(
    ///     callback.body(),
    ///     r##"{"CallbackCommand":"OfficialAccount.CallbackAfterMsgWithDraw","Official_Account":"#TOA#_123","WithdrawMsgList":[{"MsgKey":"71_1_1698741698"}]}"##
    /// );
    /// ```
    pub fn new(event: impl Into<RecallEvent>) -> Self {
        let event = event.into();
        let context = event.context();
        Self {
            sdk_app_id: context.sdk_app_id,
            command: event.kind().command().to_owned(),
            client_ip: context.client_ip.map(|ip| ip.to_string()),
            platform: context.platform.as_ref().map(|p| p.as_str().to_owned()),
            token: None,
            request_time: context.request_time,
            body: CallbackBody::Event(Box::new(event)),
        }
    }

    /// A callback for `sdk_app_id` under `command` with this body, sent as it is: another
    /// command than the recalls (`State.StateChange`, say), or a recall body no event can
    /// express, such as Tencent's older field forms, unknown fields or malformed JSON.
    ///
    /// The query carries `ClientIP=127.0.0.1` and `OptPlatform=RESTAPI`, as for a callback
    /// made through Tencent's REST API.
    ///
    /// ```
    /// use tower_tim_recall::testing::Callback;
    ///
    /// let callback = Callback::from_json(1400000000, "State.StateChange", r#"{"Info":{}}"#);
    /// assert!(callback.query().contains("&CallbackCommand=State.StateChange&"));
    /// ```
    pub fn from_json(
        sdk_app_id: impl Into<SdkAppId>,
        command: impl Into<String>,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            sdk_app_id: sdk_app_id.into(),
            command: command.into(),
            client_ip: Some("127.0.0.1".to_owned()),
            platform: Some(Platform::RestApi.as_str().to_owned()),
            token: None,
            request_time: None,
            body: CallbackBody::Raw(body.into()),
        }
    }

    /// Signs the callback with the console's token: adds `RequestTime` (the event's
    /// `request_time`, the time set with [`request_time`](Self::request_time), or now) and
    /// `Sign = hex(SHA-256(token ‖ RequestTime))`.
    pub fn signed(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The `RequestTime` of a signed callback, in Unix seconds, instead of the current time: to
    /// test against a layer with a fixed [`clock`](crate::RecallLayerBuilder::clock), or a stale
    /// signature.
    pub fn request_time(mut self, unix_seconds: u64) -> Self {
        self.request_time = Some(unix_seconds);
        self
    }

    /// Sends another `CallbackCommand`, in the query and, for a typed event, in the body: to
    /// test a layer that does not take this kind, or a body of one kind under another's command.
    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = command.into();
        self
    }

    /// The `ClientIP` query parameter (`None` leaves it out, as some callbacks do).
    pub fn client_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.client_ip = ip.map(|ip| ip.to_string());
        self
    }

    /// The `OptPlatform` query parameter (`None` leaves it out, as some callbacks do).
    pub fn platform(mut self, platform: Option<Platform>) -> Self {
        self.platform = platform.map(|p| p.as_str().to_owned());
        self
    }

    /// The query string, percent-encoded, in the order Tencent writes it. A signed callback
    /// without a set `RequestTime` is signed at the current time.
    #[must_use]
    pub fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("SdkAppid", &self.sdk_app_id.to_string())
            .append_pair("CallbackCommand", &self.command)
            .append_pair("contenttype", "json");
        if let Some(ip) = &self.client_ip {
            query.append_pair("ClientIP", ip);
        }
        if let Some(platform) = &self.platform {
            query.append_pair("OptPlatform", platform);
        }
        if let Some(token) = &self.token {
            let request_time = self.request_time.unwrap_or_else(now);
            query
                .append_pair("RequestTime", &request_time.to_string())
                .append_pair("Sign", &sign(token, request_time));
        }
        query.finish()
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> Bytes {
        match &self.body {
            CallbackBody::Raw(bytes) => bytes.clone(),
            CallbackBody::Event(event) => Bytes::from(body_json(event, &self.command)),
        }
    }

    /// The callback as a request to the path `/im/callback`, with
    /// `Content-Type: application/json`. The path does not matter to the layer.
    ///
    /// `B` is the body type of the service under test: `Full<Bytes>` for a tower service,
    /// `axum::body::Body` for an axum `Router`, any body that can be made from [`Bytes`].
    #[must_use]
    pub fn request<B: From<Bytes>>(&self) -> Request<B> {
        let uri = Uri::try_from(format!("/im/callback?{}", self.query()))
            .expect("a percent-encoded query is a valid URI");
        self.request_with_uri(uri)
    }

    /// The callback as a request to `url` (a path, or an absolute `http://` URL for a client),
    /// with the query appended after any the URL already has.
    ///
    /// # Errors
    ///
    /// When `url` with the query appended is not a valid URI.
    pub fn request_to<B: From<Bytes>>(&self, url: &str) -> Result<Request<B>, http::Error> {
        let separator = if url.contains('?') { '&' } else { '?' };
        let uri = Uri::try_from(format!("{url}{separator}{}", self.query()))?;
        Ok(self.request_with_uri(uri))
    }

    fn request_with_uri<B: From<Bytes>>(&self, uri: Uri) -> Request<B> {
        let mut request = Request::new(B::from(self.body()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("sdk_app_id", &self.sdk_app_id)
            .field("command", &self.command)
            .field("client_ip", &self.client_ip)
            .field("platform", &self.platform)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("request_time", &self.request_time)
            .field("body", &self.body)
            .finish()
    }
}

/// The `Sign` Tencent sends with a callback made at `request_time` (Unix seconds) for an app
/// whose callback token is `token`: lower-case hex of `SHA-256(token ‖ request_time)`.
///
/// ```
/// // The vector from Tencent's documentation.
/// assert_eq!(
///     tower_tim_recall::testing::sign("xxxxyyyy", 1669872112),
///     "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061",
/// );
/// ```
#[must_use]
pub fn sign(token: &str, request_time: u64) -> String {
    let mut hex = String::with_capacity(64);
    for byte in digest(token, &request_time.to_string()) {
        // Writing to a `String` cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The current Unix time in seconds (0 for a clock set before 1970).
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Reads an answer to a callback: its status and the acknowledgement in its body, checked
/// against the protocol (`OK` with `ErrorCode` 0, `FAIL` with any other code).
///
/// # Panics
///
/// When the body fails, or is not an acknowledgement, or is one that breaks the protocol's
/// rule: in a test, that is the failure to report.
pub async fn read_ack<B>(response: Response<B>) -> (StatusCode, Ack)
where
    B: Body,
    B::Error: fmt::Debug,
{
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the answer's body failed")
        .to_bytes();
    let ack = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
        panic!(
            "the answer ({status}) is not an acknowledgement: {error}: {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, ack)
}
