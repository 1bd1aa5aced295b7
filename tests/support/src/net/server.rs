//! A server on 127.0.0.1 port 0, started by each test and stopped by it.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::Router;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tower::{BoxError, Service};

use super::within;

/// What a server started with [`Server::http1`] saw over its life. The other servers leave it
/// at zero.
#[derive(Debug, Default)]
pub struct Connections {
    /// Connections accepted.
    pub accepted: AtomicUsize,
    /// Connections that hyper ended with an error (a reset, a malformed request, a client gone
    /// mid-body).
    pub failed: AtomicUsize,
    /// Connection tasks that panicked; [`Server::stop`] fails the test when there is one.
    pub panicked: AtomicUsize,
}

impl Connections {
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }

    pub fn panicked(&self) -> usize {
        self.panicked.load(Ordering::SeqCst)
    }
}

/// A running server: its address, what it counts, the signal that stops it, and its task.
pub struct Server {
    pub addr: SocketAddr,
    pub connections: Arc<Connections>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// Starts `serve` on a listener bound to 127.0.0.1 port 0; `serve` must return once the
    /// given signal completes.
    pub async fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start_counting(|listener, signal, _| serve(listener, signal)).await
    }

    async fn start_counting<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>, Arc<Connections>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(Connections::default());
        let (shutdown, signal) = oneshot::channel();
        let task = tokio::spawn(serve(listener, signal, Arc::clone(&connections)));
        Self {
            addr,
            connections,
            shutdown,
            task,
        }
    }

    /// An axum app served with `axum::serve` and graceful shutdown.
    pub async fn axum(app: Router) -> Self {
        Self::start(|listener, signal| async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.await;
                })
                .await
                .unwrap();
        })
        .await
    }

    /// A tower service served by hyper's HTTP/1.1 server through `TowerToHyperService`, with
    /// keep-alive, one task per connection; [`connections`](Self::connections) counts them.
    pub async fn http1<S, B>(service: S) -> Self
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let service = TowerToHyperService::new(service);
        Self::start_counting(|listener, mut signal, counts| async move {
            let mut tasks = JoinSet::new();
            let reaped = |joined: Result<(), tokio::task::JoinError>| {
                if joined.is_err() {
                    counts.panicked.fetch_add(1, Ordering::SeqCst);
                }
            };
            loop {
                tokio::select! {
                    _ = &mut signal => break,
                    // Finished connections are reaped as they end, so that a long run does not
                    // keep every closed connection's task.
                    Some(joined) = tasks.join_next(), if !tasks.is_empty() => reaped(joined),
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
            while let Some(joined) = tasks.join_next().await {
                reaped(joined);
            }
        })
        .await
    }

    /// Stops accepting, waits (within the bound) for the open connections to end, fails the
    /// test if a connection task panicked, and returns the counts.
    pub async fn stop(self) -> Arc<Connections> {
        let _ = self.shutdown.send(());
        within("server shutdown", self.task).await.unwrap();
        assert_eq!(self.connections.panicked(), 0, "a connection task panicked");
        self.connections
    }
}
