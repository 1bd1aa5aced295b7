//! A real HTTP/1.1 client over one socket, and what comes back.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tower::BoxError;
use tower_tim_recall::testing::Callback;

use super::fixtures::{CALLBACK_PATH, OK_JSON};
use super::within;

/// One HTTP/1.1 client connection (hyper's client, over one `TcpStream`), sending bodies of
/// type `B`.
pub struct Client<B = Full<Bytes>> {
    addr: SocketAddr,
    sender: SendRequest<B>,
    connection: JoinHandle<Result<(), hyper::Error>>,
}

impl<B> Client<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Opens a connection to `addr`, within the bound; fails the test if it cannot.
    pub async fn connect(addr: SocketAddr) -> Self {
        within("connect", Self::try_connect(addr))
            .await
            .expect("could not connect")
    }

    /// Opens a connection to `addr`, for a test that counts failures instead of failing.
    pub async fn try_connect(addr: SocketAddr) -> Result<Self, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let connection = tokio::spawn(connection);
        Ok(Self {
            addr,
            sender,
            connection,
        })
    }

    /// Sends `request` once the connection is ready (with a `Host` header, unless it has one)
    /// and reads the whole answer, within the bound; fails the test if the exchange fails.
    pub async fn request(&mut self, request: Request<B>) -> Reply {
        within("request", self.try_request(request))
            .await
            .expect("the exchange failed")
    }

    /// As [`request`](Self::request), unbounded, returning a failed exchange.
    pub async fn try_request(&mut self, mut request: Request<B>) -> Result<Reply, BoxError> {
        let host = HeaderValue::try_from(self.addr.to_string()).unwrap();
        request.headers_mut().entry(header::HOST).or_insert(host);
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Closes the connection and waits until it is gone; fails the test if it ended with an
    /// error.
    pub async fn close(self) {
        self.try_close()
            .await
            .expect("the connection ended with an error");
    }

    /// Closes the connection and returns how it ended.
    pub async fn try_close(self) -> Result<(), hyper::Error> {
        drop(self.sender);
        within("client close", self.connection).await.unwrap()
    }
}

impl Client {
    pub async fn send(&mut self, method: Method, path: &str, body: &'static str) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        self.request(request).await
    }

    pub async fn post(&mut self, path: &str, body: &'static str) -> Reply {
        self.send(Method::POST, path, body).await
    }

    /// Posts `callback` to [`CALLBACK_PATH`].
    pub async fn callback(&mut self, callback: &Callback) -> Reply {
        self.callback_to(CALLBACK_PATH, callback).await
    }

    /// Posts `callback` to another path.
    pub async fn callback_to(&mut self, path: &str, callback: &Callback) -> Reply {
        self.request(callback.request_to(path).unwrap()).await
    }
}

/// Posts `callback` to `path` on a fresh connection, then closes it.
pub async fn callback_once(addr: SocketAddr, path: &str, callback: &Callback) -> Reply {
    let mut client = Client::connect(addr).await;
    let reply = client.callback_to(path, callback).await;
    client.close().await;
    reply
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE.as_str()).unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The reply as a response again, for checks written against responses (`read_ack`).
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }

    /// 200, JSON, the documented OK acknowledgement byte for byte.
    pub fn assert_ok_ack(&self) {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        assert_eq!(self.body, OK_JSON);
    }

    /// The layer's refusal: the status, JSON, `FAIL` with the status as code and this reason.
    pub fn assert_fail(&self, status: StatusCode, reason: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "ActionStatus": "FAIL",
                "ErrorCode": status.as_u16(),
                "ErrorInfo": reason,
            })
        );
    }

    /// A refusal with this status, whatever its reason: JSON, `FAIL`, the status as code.
    pub fn assert_refused(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), "application/json");
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(json["ActionStatus"], "FAIL", "{json}");
        assert_eq!(json["ErrorCode"], status.as_u16(), "{json}");
        assert!(json["ErrorInfo"].is_string(), "{json}");
    }

    /// 200 with this body.
    pub fn assert_text(&self, body: &str) {
        assert_eq!(
            (self.status, &self.body[..]),
            (StatusCode::OK, body.as_bytes()),
            "{self:?}"
        );
    }
}

/// The body of a response, whole.
pub async fn body_of<B>(response: Response<B>) -> Bytes
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}
