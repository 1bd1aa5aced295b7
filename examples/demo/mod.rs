//! What the receiver examples share: their flags, the layer the flags describe, the JSON line
//! printed per accepted recall, binding, Ctrl-C, and hyper's accept loop. Each example file
//! shows its stack; this file is the plumbing around it.

// Each example uses the part it needs.
#![allow(dead_code)]

use std::convert::Infallible;
use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::{BoxError, Service};
use tower_tim_recall::{RecallEvent, RecallLayer};

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

/// Serves a tower service with hyper's HTTP/1.1 server until Ctrl-C: each connection gets
/// `TowerToHyperService` over a clone of `service`, with keep-alive (Tencent reuses
/// connections). On Ctrl-C it stops accepting and lets open connections finish their request
/// under way.
pub async fn serve_http1<S, B>(listener: TcpListener, service: S)
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let service = TowerToHyperService::new(service);
    let (stop, stopped) = tokio::sync::watch::channel(());
    let mut connections = JoinSet::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    eprintln!("accept failed: {error}");
                    continue;
                }
            },
        };
        let service = service.clone();
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
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
    drop(stop);
    while connections.join_next().await.is_some() {}
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
