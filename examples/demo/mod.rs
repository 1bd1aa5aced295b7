//! What the receiver examples share: their flags, the layer the flags describe, the JSON line
//! printed per accepted recall, binding, Ctrl-C, and hyper's accept loop with the limits a
//! server facing the internet needs. Each example file shows its stack; this file is the
//! plumbing around it.

// Each example uses the part it needs.
#![allow(dead_code)]

use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::{BoxError, Service, ServiceBuilder};
use tower_tim_recall::{Ack, RecallEvent, RecallLayer};

/// The SDKAppID accepted when no `--sdkappid` is given: the one in Tencent's examples.
pub const DEMO_SDKAPPID: u64 = 1_400_000_000;

/// Where a receiver reads its callback token from when no `--token` is given: unlike a
/// command-line flag, it shows neither in `ps` nor in the shell's history.
pub const TOKEN_ENV: &str = "TIM_CALLBACK_TOKEN";

/// The flags every receiver example takes.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3000", value_parser = host_port)]
    pub addr: String,
    /// SDKAppID to accept; repeat for several apps [default: 1400000000, the demo app].
    #[arg(long = "sdkappid", value_name = "N")]
    pub apps: Vec<u64>,
    /// Callback token from Tencent's console: turns on the Sign/RequestTime check. Repeat while
    /// the token is rotated: a callback signed with any of them is accepted. Without it, the
    /// token in TIM_CALLBACK_TOKEN, if set (which, unlike a flag, ps and the shell's history
    /// do not show).
    #[arg(long = "token", value_name = "T")]
    pub tokens: Vec<String>,
}

/// `HOST:PORT`, where `HOST` may be a name (resolved when binding) or `[v6]`.
fn host_port(addr: &str) -> Result<String, String> {
    let valid = addr
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(addr.to_owned())
    } else {
        Err(format!("expected HOST:PORT, not {addr:?}"))
    }
}

impl Options {
    /// The apps to accept: the ones given, or the demo app.
    pub fn apps(&self) -> Vec<u64> {
        if self.apps.is_empty() {
            vec![DEMO_SDKAPPID]
        } else {
            self.apps.clone()
        }
    }

    /// The callback tokens: the ones given, or the one in [`TOKEN_ENV`] if it is set.
    pub fn tokens(&self) -> Result<Vec<String>, Box<dyn Error>> {
        if !self.tokens.is_empty() {
            return Ok(self.tokens.clone());
        }
        match std::env::var(TOKEN_ENV) {
            Ok(token) => Ok(vec![token]),
            Err(std::env::VarError::NotPresent) => Ok(Vec::new()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{TOKEN_ENV} is not UTF-8").into())
            }
        }
    }

    /// The recall layer these flags describe, in forward mode: the three recall callbacks
    /// taken, every app signed with the tokens or, with none, unsigned, and the guard on, so
    /// that every other callback command at the URL is held to the same app and signature
    /// checks. The layer checks the apps and the tokens.
    pub fn layer(&self) -> Result<RecallLayer, Box<dyn Error>> {
        let tokens = self.tokens()?;
        let mut builder = RecallLayer::builder().guard_other_commands();
        for app in self.apps() {
            builder = if tokens.is_empty() {
                builder.unsigned_app(app)
            } else {
                builder.signed_app(app, tokens.iter().cloned())
            };
        }
        if tokens.is_empty() {
            builder = builder.allow_unsigned_apps();
        }
        Ok(builder.build()?)
    }

    /// Binds `--addr` and prints `listening on http://ADDR` (the address actually bound) on
    /// standard error: the line scripts and tests wait for.
    pub async fn listen(&self) -> Result<(TcpListener, SocketAddr), Box<dyn Error>> {
        let listener = TcpListener::bind(&self.addr)
            .await
            .map_err(|error| format!("cannot listen on {}: {error}", self.addr))?;
        let local = listener.local_addr()?;
        eprintln!("listening on http://{local}");
        Ok((listener, local))
    }
}

/// Prints `event` as one JSON line on standard output, flushed at once for a pipe: the event
/// as `serde_json` writes a [`RecallEvent`], `CallbackCommand` first, then `SdkAppid` (a
/// number) and the rest of the query context, then the kind's fields with Tencent's names
/// (`EventTime` a number, when it was sent). Quick, as a recall handler must be: Tencent
/// waits two seconds for the answer.
pub fn print_event(event: &RecallEvent) -> std::io::Result<()> {
    // Serialized into a buffer that holds a typical line without growing, and written with one
    // call: no formatting machinery, one `write` to the pipe, then a flush with nothing left.
    let mut line = Vec::with_capacity(1024);
    serde_json::to_writer(&mut line, event)?;
    line.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&line)?;
    stdout.flush()
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

// The limits of a receiver facing the internet (SECURITY.md, "Limits a receiver needs"). The
// layer checks what a request says; only the server sees connections and time. Copy these with
// the code that sets them.

/// A request's head must arrive within this, counted from when the connection opened or last
/// finished a request: hyper's `header_read_timeout`, which closes slowloris connections and
/// idle keep-alive connections alike (Tencent reopens a connection it finds closed).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A request's body must arrive and its answer be made within this after its head: tower's
/// timeout, answered 408 with the `FAIL` acknowledgement. Tencent gives up after 2 s.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once, below the common limit of 1024 file descriptors; more wait in
/// the kernel's queue.
pub const MAX_CONNECTIONS: usize = 512;

/// The largest request head: Tencent's query is six short parameters, and this leaves room for
/// a query of 64 KiB. An unfinished head holds at most this much; a longer one is answered 431.
pub const MAX_HEAD: usize = 72 * 1024;

/// After Ctrl-C or SIGTERM, requests in flight have this long; then open connections are
/// dropped, so that one slow client cannot keep the process from exiting.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves a tower service with hyper's HTTP/1.1 server (HTTP/1.1 only: an HTTP/2 preface is a
/// bad request) until Ctrl-C or SIGTERM, with the limits above: each connection gets
/// `TowerToHyperService` over a clone of `service`, with keep-alive (Tencent reuses
/// connections). On the signal it stops accepting, lets open connections finish their request
/// under way for [`SHUTDOWN_TIMEOUT`], and drops those still open.
pub async fn serve_http1<S, B>(listener: TcpListener, service: S)
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let service = ServiceBuilder::new()
        .map_result(timed_out::<B>)
        .timeout(REQUEST_TIMEOUT)
        .service(service);
    let service = TowerToHyperService::new(service);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_header_size(MAX_HEAD)
        .keep_alive(true);
    let http = Arc::new(http);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (stop, stopped) = tokio::sync::watch::channel(());
    let mut connections = JoinSet::new();
    let shutdown = shutdown_signal();
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
                    eprintln!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let (service, http, mut stopped) = (service.clone(), Arc::clone(&http), stopped.clone());
        connections.spawn(async move {
            let _permit = permit;
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopped.changed() => {
                    // Finish the request under way, then close.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    eprintln!("shutting down: finishing the requests under way");
    drop(listener);
    drop(stop);
    let drained = tokio::time::timeout(SHUTDOWN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        eprintln!(
            "dropped {} connection(s) still open at the shutdown deadline",
            connections.len()
        );
        connections.shutdown().await;
    }
}

/// The answer to a request that did not complete within [`REQUEST_TIMEOUT`]: 408 with the
/// `FAIL` acknowledgement. Other errors go on to hyper, which closes the connection.
fn timed_out<B>(
    result: Result<Response<B>, BoxError>,
) -> Result<Response<Either<B, Full<Bytes>>>, BoxError> {
    match result {
        Ok(response) => Ok(response.map(Either::Left)),
        Err(error) if error.is::<tower::timeout::error::Elapsed>() => {
            let ack = Ack::fail_with_code(408, "request not completed in time");
            let mut response = ack.into_http_response::<Full<Bytes>>();
            *response.status_mut() = http::StatusCode::REQUEST_TIMEOUT;
            Ok(response.map(Either::Right))
        }
        Err(error) => Err(error),
    }
}

/// Runs an example's `main` work and turns its outcome into the exit status: 0, or 1 with
/// `program: error` on standard error (bad flags exit 2 with the usage, from clap).
pub fn exit<E: std::fmt::Display>(program: &str, outcome: Result<(), E>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
