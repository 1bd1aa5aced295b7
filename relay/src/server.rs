//! The accept loop: HTTP/1.1 only, over TCP or TLS, with the limits a server facing the
//! internet needs, and a graceful shutdown with a deadline.
//!
//! Each limit is hyper's or tokio's own knob, set here where a reader sees it:
//! - `--max-connections`: a semaphore permit per connection, taken before `accept`, so that
//!   further connections wait in the kernel's queue instead of taking file descriptors;
//! - `--header-timeout`: hyper's `header_read_timeout`, which runs from when a connection is
//!   open or idle until a head has arrived, closing slowloris and idle keep-alive connections
//!   alike (it also bounds the TLS handshake);
//! - `--max-head`: hyper's `max_header_size`: a longer head is answered 431 and the connection
//!   closed, so that an unfinished head holds at most this much memory;
//! - `--request-timeout`: in the routes, tower's timeout around the layer (body and answer);
//! - HTTP/2 is not served: an HTTP/2 preface is a bad HTTP/1 request, and the connection ends;
//! - `--shutdown-timeout`: after the signal, connections finish the request under way and
//!   close; those still open at the deadline are dropped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::cli::Limits;
use crate::metrics::Metrics;

/// Serves `app` on `listener` until `shutdown` resolves, then drains the connections within
/// `--shutdown-timeout`. Returns how many connections were dropped at the deadline.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: &Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> usize {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_head)
        .keep_alive(true);
    let http = Arc::new(http);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors, most often: wait a little rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // Reap finished connections as we go, so that the set holds the open ones only.
        while connections.try_join_next().is_some() {}
        let app = app.clone();
        let http = Arc::clone(&http);
        let stopped = stopped.clone();
        let metrics = Arc::clone(&metrics);
        let tls = tls.clone();
        let handshake = limits.header_timeout;
        connections.spawn(async move {
            let _permit = permit;
            metrics.connections.inc();
            match tls {
                None => connection(&http, stream, app, stopped).await,
                Some(tls) => {
                    // A handshake under way when the relay stops is abandoned: it carries no
                    // request yet.
                    let mut stopping = stopped.clone();
                    let accepted = tokio::select! {
                        accepted = tokio::time::timeout(handshake, tls.accept(stream)) => Some(accepted),
                        _ = stopping.changed() => None,
                    };
                    if let Some(Ok(Ok(stream))) = accepted {
                        connection(&http, stream, app, stopped).await;
                    }
                }
            }
            metrics.connections.dec();
        });
    }

    drop(listener);
    // Each connection finishes the request under way, then closes.
    drop(stop);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_ok() {
        return 0;
    }
    let dropped = connections.len();
    connections.shutdown().await;
    dropped
}

/// One connection, served until the client closes it, a limit ends it, or the shutdown asks
/// it to finish its request under way.
async fn connection<I>(
    http: &hyper::server::conn::http1::Builder,
    io: I,
    app: Router,
    mut stopped: watch::Receiver<()>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(|request: Request<Incoming>| request.map(axum::body::Body::new));
    let service = TowerToHyperService::new(service);
    let serving = http.serve_connection(TokioIo::new(io), service);
    tokio::pin!(serving);
    tokio::select! {
        _ = serving.as_mut() => {}
        _ = stopped.changed() => {
            serving.as_mut().graceful_shutdown();
            let _ = serving.await;
        }
    }
}
