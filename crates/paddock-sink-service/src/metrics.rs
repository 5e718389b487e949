//! The sinks' metrics, declared once: `paddock_sink_*`, labelled by sink
//! (`parquet`, `bigquery`, `osv`) and table; the OSV sink's reports by
//! outcome.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub sink: String,
    pub table: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    pub sink: String,
}

/// What the OSV sink did with a report.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OsvLabels {
    /// `created`, `updated`, `unchanged` (written again, nothing new) or
    /// `withdrawn` (a version moved to `osv/withdrawn`).
    pub outcome: String,
}

/// `paddock_sink_*`.
#[derive(Debug)]
pub struct SinkMetrics {
    pub rows: Family<TableLabels, Counter>,
    pub duplicates: Family<TableLabels, Counter>,
    pub dead_letters: Family<SinkLabels, Counter>,
    pub refused: Family<TableLabels, Counter>,
    pub write_failures: Family<SinkLabels, Counter>,
    pub flush_seconds: Family<SinkLabels, Histogram>,
    pub osv_reports: Family<OsvLabels, Counter>,
    pub osv_pending_removed: Counter,
}

impl Default for SinkMetrics {
    fn default() -> Self {
        Self {
            rows: Family::default(),
            duplicates: Family::default(),
            dead_letters: Family::default(),
            refused: Family::default(),
            write_failures: Family::default(),
            flush_seconds: Family::new_with_constructor(|| {
                Histogram::new([0.005, 0.02, 0.1, 0.5, 2.0, 10.0, 60.0])
            }),
            osv_reports: Family::default(),
            osv_pending_removed: Counter::default(),
        }
    }
}

impl SinkMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_sink");
        r.register("rows", "Rows stored, by sink and table", self.rows.clone());
        r.register(
            "duplicates",
            "Redelivered rows found already stored and skipped",
            self.duplicates.clone(),
        );
        r.register(
            "dead_letters",
            "Messages that can never be stored, sent to the dead-letter stream",
            self.dead_letters.clone(),
        );
        r.register(
            "refused",
            "Reference-table rows refused (their message's own row was stored)",
            self.refused.clone(),
        );
        r.register(
            "write_failures",
            "Flushes that failed and were retried",
            self.write_failures.clone(),
        );
        r.register(
            "flush_seconds",
            "Time to store one batch",
            self.flush_seconds.clone(),
        );
        r.register(
            "osv_reports",
            "OSV reports written by the osv sink, by outcome (created, updated, unchanged, withdrawn)",
            self.osv_reports.clone(),
        );
        r.register(
            "osv_pending_removed",
            "Releases whose results the osv sink kept and removed after the retention",
            self.osv_pending_removed.clone(),
        );
    }
}
