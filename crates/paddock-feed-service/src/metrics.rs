//! The feed's metrics, declared once, labelled by ecosystem.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EcoLabels {
    pub ecosystem: String,
}

/// Counters per ecosystem; `lag_seconds` is the age of the newest release
/// the last poll saw.
#[derive(Debug, Default)]
pub struct FeedMetrics {
    pub polls: Family<EcoLabels, Counter>,
    pub poll_errors: Family<EcoLabels, Counter>,
    pub items: Family<EcoLabels, Counter>,
    pub published: Family<EcoLabels, Counter>,
    pub duplicates: Family<EcoLabels, Counter>,
    pub skipped: Family<EcoLabels, Counter>,
    pub may_have_dropped: Family<EcoLabels, Counter>,
    pub lag_seconds: Family<EcoLabels, Gauge>,
    /// 1 while this replica holds the ecosystem's lease.
    pub leader: Family<EcoLabels, Gauge>,
}

impl FeedMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_feed");
        r.register("polls", "Feed polls completed", self.polls.clone());
        r.register(
            "poll_errors",
            "Feed polls that failed and will be retried",
            self.poll_errors.clone(),
        );
        r.register("items", "Releases the feeds announced", self.items.clone());
        r.register(
            "leader",
            "1 while this replica holds the ecosystem's feed lease and polls it",
            self.leader.clone(),
        );
        r.register(
            "published",
            "Releases published to the bus",
            self.published.clone(),
        );
        r.register(
            "duplicates",
            "Releases absorbed as already published",
            self.duplicates.clone(),
        );
        r.register(
            "skipped",
            "Releases that can never be published, recorded on the dead-letter stream",
            self.skipped.clone(),
        );
        r.register(
            "may_have_dropped",
            "Polls whose window may have dropped releases",
            self.may_have_dropped.clone(),
        );
        r.register(
            "lag_seconds",
            "Age of the newest release the last poll saw",
            self.lag_seconds.clone(),
        );
    }

    pub fn labels(eco: paddock_proto::v1::Ecosystem) -> EcoLabels {
        EcoLabels {
            ecosystem: paddock_proto::ecosystem::subject_token(eco).to_owned(),
        }
    }
}
