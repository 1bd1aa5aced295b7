//! What the `hyper_server`, `tonic_server` and `tower_stack` examples share: their flags, the
//! JSON line printed per accepted recall, binding, Ctrl-C, and hyper's accept loop. Each example
//! file shows its stack; this file is the plumbing around it.

// Each example uses the part it needs.
#![allow(dead_code)]

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::{BoxError, Service};
use tower_tim_recall::{RecallEvent, RecallLayer};

use crate::flags::{self, Flags};

/// The SDKAppID accepted when no `--sdkappid` is given: the one in Tencent's examples.
pub const DEMO_SDKAPPID: u64 = 1_400_000_000;

/// The flags every stack example takes.
#[derive(Debug)]
pub struct Options {
    pub addr: String,
    pub apps: Vec<u64>,
    pub token: Option<String>,
}

/// The flags' part of a usage text.
pub const FLAGS: &str = "\
Options:
  --addr HOST:PORT  address to listen on (default 127.0.0.1:3000; port 0 picks a free one)
  --sdkappid N      SDKAppID to accept; repeat for several apps (default 1400000000)
  --token T         callback token from Tencent's console: turns on the Sign/RequestTime check
                    (without it, the token in TIM_CALLBACK_TOKEN, if set)
  --help            print this help

Each accepted recall is printed as one JSON line on standard output. Stop with Ctrl-C.";

/// Reads the flags (`usage` is the example's own text, followed by [`FLAGS`]) and binds the
/// address: what every stack example does first.
pub async fn start(program: &str, usage: &str) -> Result<(Options, TcpListener), ExitCode> {
    let options = options(program, &format!("{usage}\n{FLAGS}"))?;
    let (listener, _addr) = options.listen(program).await?;
    Ok((options, listener))
}

/// Reads `--addr`, `--sdkappid` and `--token`; prints `usage` for `--help` or a bad flag.
pub fn options(program: &str, usage: &str) -> Result<Options, ExitCode> {
    flags::parse_or_exit(program, usage, |flags: &mut Flags| {
        let mut options = Options {
            addr: "127.0.0.1:3000".to_owned(),
            apps: Vec::new(),
            token: None,
        };
        while let Some(name) = flags.next_flag()? {
            match name.as_str() {
                "--help" | "-h" => return Ok(None),
                "--addr" => options.addr = flags.non_empty()?,
                "--sdkappid" => options.apps.push(flags.number()?),
                "--token" => options.token = Some(flags.token()?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if options.token.is_none() {
            options.token = flags::env_token()?;
        }
        if options.apps.is_empty() {
            options.apps.push(DEMO_SDKAPPID);
        }
        Ok(Some(options))
    })
}

impl Options {
    /// The recall layer these flags describe, in forward mode.
    pub fn layer(&self) -> RecallLayer {
        let layer = RecallLayer::new(self.apps.iter().copied());
        match &self.token {
            Some(token) => layer.token(token),
            None => layer,
        }
    }

    /// Binds `--addr` and prints `listening on http://ADDR` on standard error.
    pub async fn listen(&self, program: &str) -> Result<(TcpListener, SocketAddr), ExitCode> {
        flags::listen(program, &self.addr).await
    }
}

/// Prints `event` as one JSON line on standard output, flushed at once for a pipe. Quick, as
/// a recall handler must be: Tencent waits two seconds for the answer.
pub fn print_event(event: &RecallEvent) {
    let printed = serde_json::to_string(event).map(|line| {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").and_then(|()| stdout.flush())
    });
    if !matches!(printed, Ok(Ok(()))) {
        eprintln!("cannot write an event to standard output");
    }
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
