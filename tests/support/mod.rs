//! What the socket tests of `faults.rs` and `soak.rs` share: a hyper HTTP/1.1 server on
//! 127.0.0.1 port 0 that counts its connections and their errors, a client connection, and a
//! bound on every wait.

use std::error::Error as StdError;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tower::Service;

/// Bounds a network wait: a test fails instead of hanging.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// What a server saw over its life.
#[derive(Debug, Default)]
pub struct Connections {
    /// Connections accepted.
    pub accepted: AtomicUsize,
    /// Connections that hyper ended with an error (a reset, a malformed request, a panic).
    pub failed: AtomicUsize,
}

/// A hyper HTTP/1.1 server with keep-alive, one task per connection.
pub struct Server {
    pub addr: SocketAddr,
    pub connections: Arc<Connections>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `service` on 127.0.0.1, port 0.
    pub async fn http1<S, B>(service: S) -> Self
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(Connections::default());
        let counts = Arc::clone(&connections);
        let (shutdown, mut signal) = oneshot::channel::<()>();
        let service = TowerToHyperService::new(service);
        let task = tokio::spawn(async move {
            let mut tasks = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut signal => break,
                    // Finished connections are reaped as they end, so that a long run does not
                    // keep every closed connection's task.
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    accepted = listener.accept() => {
                        let (stream, _) = accepted.unwrap();
                        counts.accepted.fetch_add(1, Ordering::SeqCst);
                        let service = service.clone();
                        let counts = Arc::clone(&counts);
                        tasks.spawn(async move {
                            let served = hyper::server::conn::http1::Builder::new()
                                .keep_alive(true)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                            if served.is_err() {
                                counts.failed.fetch_add(1, Ordering::SeqCst);
                            }
                        });
                    }
                }
            }
            // The clients have closed their connections: each task ends on its own.
            while tasks.join_next().await.is_some() {}
        });
        Self {
            addr,
            connections,
            shutdown,
            task,
        }
    }

    /// Stops accepting, waits for the open connections to end, and returns the counts.
    pub async fn stop(self) -> Arc<Connections> {
        let _ = self.shutdown.send(());
        within("server shutdown", self.task).await.unwrap();
        self.connections
    }
}

/// One HTTP/1.1 client connection.
pub struct Client<B> {
    pub sender: SendRequest<B>,
    connection: JoinHandle<Result<(), hyper::Error>>,
}

impl<B> Client<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Opens a connection to `addr`.
    pub async fn connect(addr: SocketAddr) -> Result<Self, Box<dyn StdError + Send + Sync>> {
        let stream = TcpStream::connect(addr).await?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let connection = tokio::spawn(connection);
        Ok(Self { sender, connection })
    }

    /// Sends `request` once the connection is ready, and reads the whole answer.
    pub async fn send(
        &mut self,
        request: Request<B>,
    ) -> Result<Response<Bytes>, Box<dyn StdError + Send + Sync>> {
        use http_body_util::BodyExt;

        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, body))
    }

    /// Closes the connection and returns how it ended.
    pub async fn close(self) -> Result<(), hyper::Error> {
        drop(self.sender);
        within("client close", self.connection).await.unwrap()
    }
}
