//! Callbacks built exactly as Tencent's backend sends them, to test a service without a Tencent
//! account. Enabled by the `testing` feature; meant for `[dev-dependencies]`.
//!
//! A [`Callback`] holds what one `Group.CallbackAfterRecallMsg` callback carries: the app, the
//! query context, the signature inputs and the body, either from a typed [`RecallEvent`] or raw
//! JSON. [`Callback::request`] turns it into an `http::Request` for
//! [`oneshot`](tower::ServiceExt::oneshot); [`read_ack`] reads the acknowledgement back.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_tim_recall::testing::{read_ack, Callback};
//! use tower_tim_recall::{Ack, RecallEvent, RecallLayer, RecalledMessage};
//!
//! // The service under test: the layer in front of the app's own handler.
//! let service = ServiceBuilder::new()
//!     .layer(RecallLayer::new([1400000000]).token("the console's token"))
//!     .service(service_fn(|request: http::Request<_>| async move {
//!         let event = request.extensions().get::<RecallEvent>().expect("a recall");
//!         assert_eq!(event.messages[0].msg_seq, 130);
//!         Ok::<_, std::convert::Infallible>(Ack::ok().into_http_response::<Full<Bytes>>())
//!     }));
//!
//! // The test: build the callback as Tencent would, send it, read the answer.
//! let event = RecallEvent::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
//! let callback = Callback::new(&event).signed("the console's token");
//! let response = service.oneshot(callback.request::<Full<Bytes>>()).await.unwrap();
//! let (status, ack) = read_ack(response).await;
//! assert!(status.is_success() && ack.is_ok());
//! # }
//! ```

use std::fmt;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body::Body;
use http_body_util::BodyExt;

use crate::protocol::ack::Ack;
use crate::protocol::event::{body_json, Platform, RecallEvent, SdkAppId};
use crate::protocol::query::RECALL_COMMAND;
use crate::protocol::signature::sign;

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
    /// The callback that reports `event`: its app and query context (`ClientIP`, `OptPlatform`,
    /// and `RequestTime` when signed) come from the event, the body from its other fields.
    ///
    /// The layer parses such a callback back into an event equal to `event` when the event's
    /// `request_time` is what the callback is signed with (or `None` for an unsigned callback).
    pub fn new(event: &RecallEvent) -> Self {
        Self {
            sdk_app_id: event.sdk_app_id,
            command: RECALL_COMMAND.to_owned(),
            client_ip: event.client_ip.map(|ip| ip.to_string()),
            platform: event.platform.as_ref().map(|p| p.as_str().to_owned()),
            token: None,
            request_time: event.request_time,
            body: CallbackBody::Event(Box::new(event.clone())),
        }
    }

    /// A callback for `sdk_app_id` with this body, sent as it is: for bodies no [`RecallEvent`]
    /// can express, such as Tencent's older field forms, unknown fields or malformed JSON.
    ///
    /// The query carries `ClientIP=127.0.0.1` and `OptPlatform=RESTAPI`, as for a recall made
    /// through Tencent's REST API.
    pub fn from_json(sdk_app_id: impl Into<SdkAppId>, body: impl Into<Bytes>) -> Self {
        Self {
            sdk_app_id: sdk_app_id.into(),
            command: RECALL_COMMAND.to_owned(),
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
    /// test against a layer with a fixed [`clock`](crate::RecallLayer::clock), or a stale
    /// signature.
    pub fn request_time(mut self, unix_seconds: u64) -> Self {
        self.request_time = Some(unix_seconds);
        self
    }

    /// Sends another `CallbackCommand`, in the query and, for a typed event, in the body: to test
    /// that other callbacks reach the service untouched.
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::net::Ipv4Addr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use http_body_util::Full;
    use tower::{service_fn, ServiceExt};

    use super::*;
    use crate::protocol::event::tests::{documented_event, DOCUMENTED};
    use crate::{GroupType, RecallLayer, RecalledMessage, RequestBody};

    const TOKEN: &str = "xxxxyyyy";
    /// Tencent's documentation vector.
    const VECTOR_TIME: u64 = 1_669_872_112;
    const VECTOR_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

    /// Runs `callback` through a layer that accepts it, and returns the event the inner
    /// service received.
    async fn received(layer: RecallLayer, callback: &Callback) -> RecallEvent {
        let seen = Arc::new(Mutex::new(None));
        let record = Arc::clone(&seen);
        let inner = service_fn(move |request: Request<RequestBody<Full<Bytes>>>| {
            *record.lock().unwrap() = request.extensions().get::<RecallEvent>().cloned();
            async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
        });
        let service = tower_layer::Layer::layer(&layer, inner);
        let response = service.oneshot(callback.request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let event = seen.lock().unwrap().take();
        event.expect("the inner service got no event")
    }

    #[test]
    fn the_query_is_written_as_tencent_writes_it() {
        let callback = Callback::new(&documented_event());
        assert_eq!(
            callback.query(),
            "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg\
             &contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI"
        );
        let signed = callback.signed(TOKEN).request_time(VECTOR_TIME);
        assert!(signed
            .query()
            .ends_with(&format!("&RequestTime={VECTOR_TIME}&Sign={VECTOR_SIGN}")));
    }

    #[test]
    fn the_body_of_an_event_is_the_documented_body() {
        let body = Callback::new(&documented_event()).body();
        assert_eq!(body, DOCUMENTED.trim());
    }

    #[test]
    fn a_raw_body_is_sent_as_it_is() {
        let callback = Callback::from_json(1_400_000_000, "not json");
        assert_eq!(callback.body(), "not json");
        let request: Request<Full<Bytes>> = callback.request();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(request.uri().path(), "/im/callback");
    }

    #[test]
    fn another_command_is_in_the_query_and_the_body() {
        let callback =
            Callback::new(&documented_event()).command("Group.CallbackAfterNewMemberJoin");
        assert!(callback
            .query()
            .contains("CallbackCommand=Group.CallbackAfterNewMemberJoin&"));
        let body: serde_json::Value = serde_json::from_slice(&callback.body()).unwrap();
        assert_eq!(body["CallbackCommand"], "Group.CallbackAfterNewMemberJoin");
    }

    #[test]
    fn request_to_appends_to_a_url_and_reports_a_bad_one() {
        let callback = Callback::from_json(1_400_000_000, "{}")
            .client_ip(None)
            .platform(None);
        let request: Request<Full<Bytes>> =
            callback.request_to("http://127.0.0.1:3000/cb?x=1").unwrap();
        assert_eq!(
            request.uri().to_string(),
            "http://127.0.0.1:3000/cb?x=1&SdkAppid=1400000000\
             &CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json"
        );
        assert!(callback
            .request_to::<Full<Bytes>>("http://bad host/")
            .is_err());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let callback = Callback::from_json(1, "{}").signed("a-secret-token");
        let debug = format!("{callback:?}");
        assert!(debug.contains("[redacted]"), "{debug}");
        assert!(!debug.contains("a-secret-token"), "{debug}");
    }

    #[tokio::test]
    async fn the_layer_reads_back_the_event_a_callback_was_built_from() {
        let mut event = documented_event();
        event.client_ip = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)));
        event.platform = Some(Platform::Other("HarmonyOS".to_owned()));
        event.request_time = Some(VECTOR_TIME);
        let layer = RecallLayer::new([1_400_000_000])
            .token(TOKEN)
            .clock(|| UNIX_EPOCH + Duration::from_secs(VECTOR_TIME + 5));
        let callback = Callback::new(&event).signed(TOKEN);
        assert_eq!(received(layer, &callback).await, event);

        // Unsigned, with neither ClientIP nor OptPlatform.
        let mut event = RecallEvent::new(7, "custom-id", [RecalledMessage::new(u32::MAX, None)]);
        event.group_type = Some(GroupType::Public);
        let callback = Callback::new(&event);
        assert!(!callback.query().contains("ClientIP"));
        assert_eq!(received(RecallLayer::new([7]), &callback).await, event);
    }

    #[tokio::test]
    async fn read_ack_reads_status_and_acknowledgement() {
        let layer = RecallLayer::new([1_400_000_000]).token(TOKEN);
        let inner = service_fn(|_: Request<RequestBody<Full<Bytes>>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
        let service = tower_layer::Layer::layer(&layer, inner);
        let stale = Callback::new(&documented_event())
            .signed(TOKEN)
            .request_time(1);
        let (status, ack) = read_ack(service.oneshot(stale.request()).await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(ack.error_code(), 401);
    }

    #[tokio::test]
    #[should_panic(expected = "a FAIL acknowledgement needs a non-zero ErrorCode")]
    async fn read_ack_refuses_an_acknowledgement_that_breaks_the_protocol() {
        let body = r#"{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":0}"#;
        let _ = read_ack(Response::new(Full::new(Bytes::from_static(
            body.as_bytes(),
        ))))
        .await;
    }
}
