//! The log on standard error, through `tracing`: one human-readable line per event, or one
//! JSON object with `--log-format json`. What is logged never holds a token, a `Sign` or a
//! body: the layer records the command, the app and its decision; the relay the method and the
//! path, capped.
//!
//! The log says what went wrong and what the relay is doing: refusals (`WARN`), failures
//! (`ERROR`), Redis's durability settings, start and stop. What was stored goes to standard
//! output and the store, not to the log: the layer's event for each callback it accepted or
//! passed (`INFO`), and the relay's line per request (`DEBUG`), are written from
//! `--log-level debug` on. A line per accepted recall would cost the relay a sixth of its
//! throughput (BENCHMARKS.md) and say again what `dump` says.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;

use crate::cli::LogFormat;

/// The layer's events, by their target.
const LAYER: &str = "tower_tim_recall";

pub(crate) fn init(format: LogFormat, level: LevelFilter) {
    let layer_level = if level >= LevelFilter::DEBUG {
        level
    } else {
        level.min(LevelFilter::WARN)
    };
    let targets = Targets::new()
        .with_default(level)
        .with_target(LAYER, layer_level);
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false);
    // A second subscriber (there is none) would be an error, never a panic.
    let _ = match format {
        LogFormat::Text => tracing::subscriber::set_global_default(builder.finish().with(targets)),
        LogFormat::Json => tracing::subscriber::set_global_default(
            builder.json().flatten_event(true).finish().with(targets),
        ),
    };
}
