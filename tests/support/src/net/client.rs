//! A real HTTP/1.1 client over one socket, and what comes back.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tower::BoxError;

use super::within;
use crate::Answer;

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
    pub async fn request(&mut self, request: Request<B>) -> Answer {
        within("request", self.try_request(request))
            .await
            .expect("the exchange failed")
    }

    /// As [`request`](Self::request), unbounded, returning a failed exchange.
    pub async fn try_request(&mut self, mut request: Request<B>) -> Result<Answer, BoxError> {
        let host = HeaderValue::try_from(self.addr.to_string()).unwrap();
        request.headers_mut().entry(header::HOST).or_insert(host);
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
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
    pub async fn send(&mut self, method: Method, path: &str, body: &'static str) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        self.request(request).await
    }

    pub async fn post(&mut self, path: &str, body: &'static str) -> Answer {
        self.send(Method::POST, path, body).await
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
