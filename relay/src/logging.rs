//! The log on standard error, through `tracing`: one human-readable line per event, or one
//! JSON object with `--log-format json`. What is logged never holds a token, a `Sign` or a
//! body: the layer records the command, the app and its decision; the relay the method and the
//! path, capped.

use tracing_subscriber::filter::LevelFilter;

use crate::cli::LogFormat;

pub(crate) fn init(format: LogFormat, level: LevelFilter) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false);
    // `try_init`: a second subscriber (none here) would be an error, never a panic.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
