//! `tim-recall-relay`: Tencent Cloud IM's recall callbacks received, verified, and made
//! durable once per recalled message, in an SQLite journal or a Redis stream, before `OK`.
//!
//! The README's deployment section is the manual: flags and their variables, the Redis
//! settings the promise needs, a systemd unit, and how to read what the relay stored.
//!
//! Exit status: 0 after a graceful stop; 2 for a configuration it cannot run with (a bad flag,
//! an unreadable token file or TLS file, an unopenable journal, a malformed Redis URL, an
//! address it cannot listen on), with one line on standard error, before listening; 1 when
//! it fails later.

#![deny(unsafe_code)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

mod cli;
mod dump;
mod limits;
mod logging;
mod metrics;
mod printer;
mod recorder;
mod routes;
mod server;
mod settings;
mod shutdown;
mod tls;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use crate::cli::{Cli, Command, Serve};
use crate::metrics::Metrics;
use crate::printer::Printer;
use crate::recorder::Recorder;
use crate::routes::Shared;
use crate::settings::Settings;

const NAME: &str = "tim-recall-relay";

fn main() -> ExitCode {
    // clap exits 2 with its message for a bad flag.
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Dump(dump)) => match dump::dump(&dump.journal, &mut std::io::stdout().lock())
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(dump::DumpError::Open(message)) => fail(2, &message),
            Err(dump::DumpError::Read(message)) => fail(1, &message),
        },
        Some(Command::Serve(serve)) => run(*serve),
        None => run(cli.serve),
    }
}

/// `NAME: message` on standard error, and the exit status.
fn fail(status: u8, message: &str) -> ExitCode {
    eprintln!("{NAME}: {message}");
    ExitCode::from(status)
}

fn run(serve: Serve) -> ExitCode {
    logging::init(serve.log_format, serve.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(1, &format!("cannot start the runtime: {error}")),
    };
    runtime.block_on(relay(serve))
}

async fn relay(serve: Serve) -> ExitCode {
    let settings = match Settings::new(serve) {
        Ok(settings) => settings,
        Err(error) => return fail(2, &error.to_string()),
    };
    // A Redis that refuses the URL (its password, its database) will not mend by waiting.
    if let Err(error) = settings.handoff.check_redis().await {
        return fail(2, &error.to_string());
    }
    let (listener, addr) = match bind(&settings.addr).await {
        Ok(bound) => bound,
        Err(message) => return fail(2, &message),
    };
    let admin = match settings.admin_addr.as_deref().map(bind) {
        None => None,
        Some(bound) => match bound.await {
            Ok(bound) => Some(bound),
            Err(message) => return fail(2, &message),
        },
    };

    let metrics = Metrics::new(settings.handoff.clone());
    let (printer, printer_thread) = if settings.quiet {
        (None, None)
    } else {
        match Printer::start(Arc::clone(&metrics)) {
            Ok((printer, thread)) => (Some(printer), Some(thread)),
            Err(error) => return fail(1, &format!("cannot start the output thread: {error}")),
        }
    };
    let shared = Arc::new(Shared {
        handoff: settings.handoff.clone(),
        metrics: Arc::clone(&metrics),
    });
    let recorder = Recorder {
        handoff: settings.handoff.clone(),
        metrics: Arc::clone(&metrics),
        printer,
    };
    let mut app = routes::callback(
        Arc::clone(&shared),
        &settings.path,
        settings.layer.clone(),
        recorder,
        settings.limits.request_timeout,
    );
    if admin.is_none() {
        app = app.merge(routes::admin(Arc::clone(&shared)));
    }
    let tls = settings.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    announce(&settings, addr, admin.as_ref().map(|(_, local)| *local));

    // One signal stops both listeners.
    let (stop, stopping) = tokio::sync::watch::channel(());
    tokio::spawn(async move {
        shutdown::signal().await;
        tracing::info!("stopping: answering the requests in flight");
        drop(stop);
    });
    let stopped = |mut stopping: tokio::sync::watch::Receiver<()>| async move {
        while stopping.changed().await.is_ok() {}
    };
    let callbacks = server::serve(
        listener,
        app,
        tls,
        &settings.limits,
        Arc::clone(&metrics),
        stopped(stopping.clone()),
    );
    let dropped = match admin {
        None => callbacks.await,
        Some((listener, _)) => {
            let admin = server::serve(
                listener,
                routes::admin(Arc::clone(&shared)),
                None,
                &settings.limits,
                metrics,
                stopped(stopping),
            );
            let (callbacks, admin) = tokio::join!(callbacks, admin);
            callbacks + admin
        }
    };
    if dropped > 0 {
        tracing::warn!(
            connections = dropped,
            "dropped at the shutdown deadline with requests unanswered"
        );
    }
    drop(shared);
    // The lines of the entries answered OK reach standard output before the exit, unless its
    // reader has stopped reading: then the exit waits no longer than for the connections.
    if let Some(thread) = printer_thread {
        if !thread.finish(settings.limits.shutdown_timeout) {
            tracing::warn!(
                "standard output is not read: the entry lines still queued are left out \
                 (the entries are stored)"
            );
        }
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// A listener on `addr` and the address it got; or why not, in one line.
async fn bind(addr: &str) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| {
        let hint = if error.kind() == std::io::ErrorKind::InvalidInput {
            " (expected HOST:PORT)"
        } else {
            ""
        };
        format!("cannot listen on {addr}{hint}: {error}")
    })?;
    let local = listener
        .local_addr()
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    Ok((listener, local))
}

/// The start-up lines: where it listens (`listening on http://ADDR/PATH`, a stable line for
/// scripts), what it accepts, where recalls go, and what to run next.
fn announce(settings: &Settings, addr: std::net::SocketAddr, admin: Option<std::net::SocketAddr>) {
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{addr}{}", settings.path);
    let apps: Vec<String> = settings.apps.iter().map(u64::to_string).collect();
    let journal = settings.handoff.journal_path().display().to_string();
    tracing::info!(
        url = %url,
        SdkAppid = %apps.join(","),
        signed = settings.signed,
        tokens = settings.tokens.1,
        tokens_from = settings.tokens.0,
        journal = %journal,
        "listening"
    );
    eprintln!("listening on {url}");
    // A relay reachable from other machines, without what protects its callbacks there.
    if !addr.ip().is_loopback() {
        if settings.tls.is_none() {
            tracing::warn!(
                "listening beyond this machine without TLS: each callback's Sign crosses the \
                 network in clear, and a captured one can be replayed with any body within the \
                 time window; give --tls-cert and --tls-key, or put a TLS proxy in front"
            );
        }
        if !settings.signed {
            tracing::warn!(
                "listening beyond this machine without a callback token: anyone who reaches it \
                 can post recalls, and they are stored; set the console's token"
            );
        }
    }
    if settings.apps == [settings::DEMO_SDKAPPID] {
        eprintln!(
            "no --sdkappid: accepting the demo app {} only; give your app's SDKAppID",
            settings::DEMO_SDKAPPID
        );
    }
    if !settings.signed {
        eprintln!(
            "no token: callbacks are not signed; set {} (or --token-file) to the console's \
             callback token",
            settings::TOKEN_ENV
        );
        if settings.tls.is_none() {
            // What to run next: a group recall, as Tencent's backend sends it unsigned.
            let app = settings.apps[0];
            let mut target = addr;
            if target.ip().is_unspecified() {
                target.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            eprintln!(
                "send a recall: curl -sS -X POST 'http://{target}{}?SdkAppid={app}\
                 &CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json' -d \
                 '{{\"CallbackCommand\":\"Group.CallbackAfterRecallMsg\",\"GroupId\":\"@TGS#2J4SZEAEL\",\
                 \"MsgSeqList\":[{{\"MsgSeq\":130}}],\"EventTime\":1670574414123}}'",
                settings.path
            );
        }
    }
    // As it was started (`target/release/tim-recall-relay` under cargo, say), so that the line
    // runs as printed.
    let program = std::env::args().next().unwrap_or_else(|| NAME.to_owned());
    eprintln!("read what it stored: {program} dump --journal {journal}");
    match admin {
        None => {
            eprintln!("metrics: {scheme}://{addr}/metrics  readiness: {scheme}://{addr}/readyz")
        }
        Some(admin) => eprintln!("admin on http://{admin}: /metrics /readyz /healthz"),
    }
}
