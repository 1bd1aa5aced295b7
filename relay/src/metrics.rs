//! `GET /metrics`: the relay's counters in Prometheus's text format.
//!
//! The client is `prometheus-client`, the Prometheus organization's own crate: no global
//! registry (each relay, and each test, has its own), label sets that are types, and the
//! exposition written by the crate. The handoff's counters are read at each scrape from
//! [`Handoff::stats`] (a collector), so that nothing is counted twice; the relay counts what
//! only it sees: the answers, the refusals, the time to durable, the connections.
//!
//! | metric | type | what |
//! | --- | --- | --- |
//! | `tim_recall_accepted_total` | counter | recall callbacks answered `OK`, each recall once durable |
//! | `tim_recall_entries_total{outcome}` | counter | recalled messages by outcome: `new` (stored), `duplicate` (a retry, not stored again), `conflict` (stored beside another with the same key) |
//! | `tim_recall_refused_total{status,reason}` | counter | callbacks refused with a `FAIL`, by status and reason (`invalid body` for every parse error) |
//! | `tim_recall_store_unavailable_total` | counter | recalls answered `500 recall store unavailable` |
//! | `tim_recall_spilled_total`, `tim_recall_forwarded_total` | counter | entries written to the journal while Redis did not answer, and moved to the stream since |
//! | `tim_recall_spill_backlog` | gauge | entries spilled and not yet forwarded |
//! | `tim_recall_store_up{store}` | gauge | 1 while `journal` (or `stream`) answered its last request |
//! | `tim_recall_journal_commits_total` | counter | journal transactions (fewer than entries: group commit) |
//! | `tim_recall_durable_seconds` | histogram | from handing a recall over to its being durable |
//! | `tim_recall_connections` | gauge | connections open |
//! | `tim_recall_stdout_dropped_total` | counter | entry lines left out because standard output did not keep up |
//! | `tim_recall_other_commands_total` | counter | other callback commands that passed the guard and were acknowledged |

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tower_tim_recall_handoff::Handoff;

/// The content type of what `prometheus-client` writes: the OpenMetrics text format, which
/// Prometheus reads (a counter's family is `NAME`, its sample `NAME_total`).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A refusal's labels.
type Refusal = [(&'static str, String); 2];

/// What the relay counts itself; the handoff's counters come from its stats at each scrape.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) accepted: Counter,
    refused: Family<Refusal, Counter>,
    pub(crate) durable: Histogram,
    pub(crate) connections: Gauge,
    pub(crate) stdout_dropped: Counter,
    pub(crate) other_commands: Counter,
}

impl Metrics {
    pub(crate) fn new(handoff: Handoff) -> Arc<Self> {
        let mut registry = Registry::default();
        let accepted = Counter::default();
        registry.register(
            "tim_recall_accepted",
            "Recall callbacks answered OK, each once durable",
            accepted.clone(),
        );
        let refused = Family::<Refusal, Counter>::default();
        registry.register(
            "tim_recall_refused",
            "Callbacks refused with a FAIL acknowledgement, by status and reason",
            refused.clone(),
        );
        // 1 ms to about 2 s: a group commit takes milliseconds, the budget ends at 0.8 s.
        let durable = Histogram::new([
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0, 2.0,
        ]);
        registry.register(
            "tim_recall_durable_seconds",
            "Time from handing a recall over to its being durable",
            durable.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "tim_recall_connections",
            "Connections open",
            connections.clone(),
        );
        let stdout_dropped = Counter::default();
        registry.register(
            "tim_recall_stdout_dropped",
            "Entry lines left out because standard output did not keep up",
            stdout_dropped.clone(),
        );
        let other_commands = Counter::default();
        registry.register(
            "tim_recall_other_commands",
            "Other callback commands that passed the guard and were acknowledged",
            other_commands.clone(),
        );
        registry.register_collector(Box::new(HandoffStats(handoff)));
        Arc::new(Self {
            registry,
            accepted,
            refused,
            durable,
            connections,
            stdout_dropped,
            other_commands,
        })
    }

    /// Counts a refusal; `reason` is the `FAIL`'s `ErrorInfo`, whose parse errors are counted
    /// as one reason so that a sender's text never becomes a label.
    pub(crate) fn refused(&self, status: u16, reason: &str) {
        let reason = if reason.starts_with("invalid body") {
            "invalid body"
        } else {
            reason
        };
        self.refused
            .get_or_create(&[
                ("status", status.to_string()),
                ("reason", reason.to_owned()),
            ])
            .inc();
    }

    pub(crate) fn observe_durable(&self, took: Duration) {
        self.durable.observe(took.as_secs_f64());
    }

    /// The text exposition.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::with_capacity(4096);
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            // Writing to a String cannot fail; should the encoder, say so in the scrape.
            text.clear();
            let _ = writeln!(text, "# the metrics could not be encoded");
        }
        text
    }
}

/// The handoff's counters, read at each scrape.
#[derive(Debug)]
struct HandoffStats(Handoff);

impl Collector for HandoffStats {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let mut counter = |name: &str, help: &str, value: u64| {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)
        };
        counter(
            "tim_recall_store_unavailable",
            "Recalls answered 500 recall store unavailable",
            stats.unavailable,
        )?;
        counter(
            "tim_recall_spilled",
            "Entries written to the local journal because Redis did not answer",
            stats.spilled,
        )?;
        counter(
            "tim_recall_forwarded",
            "Spilled entries moved to the Redis stream",
            stats.forwarded,
        )?;
        counter(
            "tim_recall_journal_commits",
            "Journal transactions committed (group commit: fewer than entries)",
            stats.commits,
        )?;

        let outcomes = [
            ("new", stats.new),
            ("duplicate", stats.duplicate),
            ("conflict", stats.conflict),
        ];
        let kind = ConstCounter::new(0u64).metric_type();
        let mut family = encoder.encode_descriptor(
            "tim_recall_entries",
            "Recalled messages by outcome: new (stored), duplicate (not stored again), conflict (stored beside another)",
            None,
            kind,
        )?;
        for (outcome, value) in outcomes {
            let labels = [("outcome", outcome)];
            ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
        }

        let backlog = ConstGauge::new(i64::try_from(stats.backlog).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(
            "tim_recall_spill_backlog",
            "Entries spilled and not yet forwarded to the stream",
            None,
            backlog.metric_type(),
        )?;
        backlog.encode(metric)?;

        let mut up = encoder.encode_descriptor(
            "tim_recall_store_up",
            "1 while the store answered its last request",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        let journal = [("store", "journal")];
        ConstGauge::new(i64::from(stats.journal_up)).encode(up.encode_family(&journal)?)?;
        if let Some(stream_up) = stats.stream_up {
            let stream = [("store", "stream")];
            ConstGauge::new(i64::from(stream_up)).encode(up.encode_family(&stream)?)?;
        }
        Ok(())
    }
}
