//! The bus's metrics, declared once. Names carry units; labels are bounded
//! (stream and consumer names, outcomes), never package names.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubjectLabels {
    /// The stream that stored the message.
    pub stream: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    pub consumer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub consumer: String,
    /// `ack`, `retry`, `dead_letter`, `interrupted`.
    pub outcome: &'static str,
}

type HistogramFamily = Family<ConsumerLabels, Histogram, fn() -> Histogram>;

/// Counters and histograms of publishing and consuming.
#[derive(Debug)]
pub struct BusMetrics {
    pub published: Family<SubjectLabels, Counter>,
    pub publish_duplicates: Family<SubjectLabels, Counter>,
    pub publish_retries: Counter,
    pub settled: Family<OutcomeLabels, Counter>,
    pub handler_seconds: HistogramFamily,
    pub in_flight: Family<ConsumerLabels, Gauge>,
}

impl Default for BusMetrics {
    fn default() -> Self {
        fn handler_histogram() -> Histogram {
            Histogram::new(exponential_buckets(0.001, 2.0, 22))
        }
        Self {
            published: Family::default(),
            publish_duplicates: Family::default(),
            publish_retries: Counter::default(),
            settled: Family::default(),
            handler_seconds: Family::new_with_constructor(handler_histogram),
            in_flight: Family::default(),
        }
    }
}

impl BusMetrics {
    /// Registers every metric under `paddock_bus_`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_bus");
        r.register(
            "published",
            "Messages published and stored by a stream",
            self.published.clone(),
        );
        r.register(
            "publish_duplicates",
            "Publishes absorbed by the duplicate window",
            self.publish_duplicates.clone(),
        );
        r.register(
            "publish_retries",
            "Publishes sent again while a stream had no leader (elections)",
            self.publish_retries.clone(),
        );
        r.register(
            "settled",
            "Consumed messages by final disposition",
            self.settled.clone(),
        );
        r.register_with_unit(
            "handler_duration",
            "Time a handler took per delivery",
            prometheus_client::registry::Unit::Seconds,
            self.handler_seconds.clone(),
        );
        r.register("in_flight", "Handlers running now", self.in_flight.clone());
    }
}
