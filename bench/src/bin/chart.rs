//! Draws BENCHMARKS.md's chart: requests per second (the median over the rounds of the load
//! test) and instructions per request (callgrind, server-level) for each server, as two panels
//! of horizontal bars in one SVG file.
//!
//! ```text
//! RESULTS=load.txt bash bench/load/run.sh 5 10 64
//! RESULTS=instructions.txt bash bench/load/instructions.sh 4000 group
//! cargo run --release -p tower-tim-recall-bench --bin chart -- \
//!     --load load.txt --instructions instructions.txt --out bench/chart.svg \
//!     --caption "what was measured" --caption "where and when"
//! ```
//!
//! Each input holds `server value` lines; a server given several values (one per round) is
//! drawn at their median (the lower of the middle two for an even count). Both panels list the
//! servers in the order of their first line in the load file.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Parser;

/// Draws the load test's requests per second and the instructions per request as an SVG chart.
#[derive(Parser)]
struct Cli {
    /// `server req/s` lines, one per round (bench/load/run.sh with RESULTS=FILE).
    #[arg(long)]
    load: String,
    /// `server instructions` lines (bench/load/instructions.sh with RESULTS=FILE).
    #[arg(long)]
    instructions: String,
    /// Where to write the SVG.
    #[arg(long)]
    out: String,
    /// A line under the title (the machine, the date, the request); repeat for more lines.
    #[arg(long = "caption")]
    captions: Vec<String>,
}

/// What each server is, for the labels.
const LABELS: &[(&str, &str)] = &[
    ("bare", "bare hyper, fixed answer"),
    ("bare_layer", "bare hyper + the layer"),
    ("server", "examples/server --quiet"),
    ("server_log", "examples/server, access log on"),
    ("handwritten", "hand-written axum receiver"),
    ("handwritten_lean", "the same, lean query parse"),
    ("relay_journal", "tim-recall-relay, journal"),
    ("relay_redis", "tim-recall-relay, Redis stream"),
    ("handwritten_durable", "hand-written, SQLite per recall"),
];

fn main() -> ExitCode {
    let cli = Cli::parse();
    let read = |path: &str| {
        std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))
    };
    let result = read(&cli.load).and_then(|load| {
        let instructions = read(&cli.instructions)?;
        let load = medians(&load)?;
        let mut instructions = medians(&instructions)?;
        // Both panels in the load file's order.
        instructions.sort_by_key(|(name, _)| {
            load.iter()
                .position(|(known, _)| known == name)
                .unwrap_or(usize::MAX)
        });
        let svg = draw(&load, &instructions, &cli.captions);
        std::fs::write(&cli.out, svg).map_err(|error| format!("cannot write {}: {error}", cli.out))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chart: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The median value of each server, in the order of their first line.
fn medians(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut values: Vec<(String, Vec<f64>)> = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let (Some(name), Some(value), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("not `server value`: {line:?}"));
        };
        let value: f64 = value
            .parse()
            .map_err(|_| format!("not a number: {line:?}"))?;
        match values.iter_mut().find(|(known, _)| known == name) {
            Some((_, list)) => list.push(value),
            None => values.push((name.to_owned(), vec![value])),
        }
    }
    Ok(values
        .into_iter()
        .map(|(name, mut list)| {
            list.sort_by(f64::total_cmp);
            let median = list[(list.len() - 1) / 2];
            (name, median)
        })
        .collect())
}

const WIDTH: f64 = 860.0;
const LABEL: f64 = 250.0;
const BAR: f64 = 22.0;
const GAP: f64 = 10.0;

/// The SVG: a title, then one panel per measure.
fn draw(load: &[(String, f64)], instructions: &[(String, f64)], captions: &[String]) -> String {
    let panels = [
        (
            "Requests per second over loopback (median of the rounds; more is better)",
            load,
            "#2b6cb0",
        ),
        (
            "User-space instructions per request (callgrind; fewer is better)",
            instructions,
            "#c05621",
        ),
    ];
    let rows: usize = panels.iter().map(|(_, values, _)| values.len()).sum();
    let top = 64.0 + 18.0 * captions.len() as f64;
    let height = top + panels.len() as f64 * 50.0 + rows as f64 * (BAR + GAP);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="24" font-size="16" font-weight="bold">tower-tim-recall: a typical group recall callback, server by server</text>"#
    );
    for (index, caption) in captions.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="10" y="{}" fill="#555">{}</text>"##,
            44.0 + 18.0 * index as f64,
            escape(caption)
        );
    }
    let mut y = top;
    for (title, values, colour) in panels {
        let _ = writeln!(
            svg,
            r#"<text x="10" y="{y}" font-weight="bold">{}</text>"#,
            escape(title)
        );
        y += 14.0;
        let max = values.iter().map(|(_, value)| *value).fold(1.0, f64::max);
        for (name, value) in values {
            let label = LABELS
                .iter()
                .find(|(known, _)| known == name)
                .map_or(name.as_str(), |(_, label)| label);
            let width = (WIDTH - LABEL - 110.0) * value / max;
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                LABEL - 8.0,
                y + BAR * 0.7,
                escape(label)
            );
            let _ = writeln!(
                svg,
                r#"<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{BAR}" fill="{colour}"/>"#
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{}">{}</text>"#,
                LABEL + width + 6.0,
                y + BAR * 0.7,
                thousands(*value)
            );
            y += BAR + GAP;
        }
        y += 36.0;
    }
    svg.push_str("</svg>\n");
    svg
}

/// `value` rounded, with thin spaces between the thousands.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(digit);
    }
    out
}

/// Text made safe for an SVG element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
