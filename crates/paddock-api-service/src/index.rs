//! The results index: per release, where its latest release event, static
//! result, dynamic result and alert sit in their streams.
//!
//! One KV entry per release (`<eco>.<escaped name>.<escaped version>` in
//! the `results-index` bucket, see `paddock_bus::names`), holding a
//! [`ReleaseIndex`]: stream sequences and the verdict in short. Four
//! durable consumers (releases, static results, dynamic results, alerts)
//! keep it: each message is merged into its release's entry with
//! compare-and-swap, and acked only after the write. A part is replaced
//! only by a message with a higher stream sequence, so a redelivery, a
//! replay after a crash, or two replicas racing never leave an entry
//! pointing at an older message than it did.

use std::sync::Arc;

use async_nats::jetstream::kv;
use paddock_bus::{
    Bus, BusError, CancellationToken, Delivery, Handler, HandlerError, JetStreamBus,
};
use paddock_proto::v1::{
    Alert, AnalysisStatus, DynamicResult, Ecosystem, PackageRef, Release, ReleaseIndex,
    StaticResult,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use prost::Message as _;

/// One message's contribution to its release's entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Release {
        sequence: u64,
    },
    Static {
        sequence: u64,
        status: AnalysisStatus,
    },
    Dynamic {
        sequence: u64,
        status: AnalysisStatus,
    },
    Alert {
        sequence: u64,
        alert: Box<Alert>,
    },
}

impl Part {
    fn name(&self) -> &'static str {
        match self {
            Part::Release { .. } => "release",
            Part::Static { .. } => "static",
            Part::Dynamic { .. } => "dynamic",
            Part::Alert { .. } => "alert",
        }
    }
}

/// Merges `part` into `entry`; false when the entry already points at the
/// same or a newer message for that part (nothing to write).
pub fn merge(entry: &mut ReleaseIndex, package: &PackageRef, part: &Part) -> bool {
    let newer = |current: u64, sequence: u64| sequence > current;
    let changed = match part {
        Part::Release { sequence } => {
            newer(entry.release_sequence, *sequence) && {
                entry.release_sequence = *sequence;
                true
            }
        }
        Part::Static { sequence, status } => {
            newer(entry.static_sequence, *sequence) && {
                entry.static_sequence = *sequence;
                entry.static_status = *status as i32;
                true
            }
        }
        Part::Dynamic { sequence, status } => {
            newer(entry.dynamic_sequence, *sequence) && {
                entry.dynamic_sequence = *sequence;
                entry.dynamic_status = *status as i32;
                true
            }
        }
        Part::Alert { sequence, alert } => {
            newer(entry.alert_sequence, *sequence) && {
                entry.alert_sequence = *sequence;
                entry.severity = alert.severity;
                entry.alert_id = alert.alert_id.clone();
                entry.summary = alert.summary.clone();
                if let Some(v) = &alert.verdict {
                    entry.score = v.score;
                    entry.previous_version = v.previous_version.clone();
                }
                true
            }
        }
    };
    if changed {
        entry.package = Some(package.clone());
        entry.updated_at = Some(now());
    }
    changed
}

fn now() -> pbjson_types::Timestamp {
    let t = chrono::Utc::now();
    pbjson_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// `paddock_api_index_*`.
#[derive(Debug, Default)]
pub struct IndexMetrics {
    pub merged: Family<PartLabels, Counter>,
    pub unchanged: Family<PartLabels, Counter>,
    pub conflicts: Counter,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartLabels {
    pub part: String,
}

impl IndexMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_api_index");
        r.register(
            "merged",
            "Messages merged into the results index, by part",
            self.merged.clone(),
        );
        r.register(
            "unchanged",
            "Messages the index already reflected (redeliveries, older results)",
            self.unchanged.clone(),
        );
        r.register(
            "conflicts",
            "Index writes that lost a compare-and-swap race and were retried",
            self.conflicts.clone(),
        );
    }
}

/// The results index bucket.
#[derive(Clone)]
pub struct Index {
    bus: JetStreamBus,
    store: kv::Store,
    metrics: Arc<IndexMetrics>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").finish_non_exhaustive()
    }
}

/// What a look-up found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found(Box<ReleaseIndex>),
    /// The name or version cannot be a key (empty).
    Invalid,
    Missing,
}

impl Index {
    /// The topology's `results-index` bucket.
    pub async fn open(bus: &JetStreamBus, metrics: Arc<IndexMetrics>) -> Result<Self, BusError> {
        let store = bus.key_value(&bus.names().results_index_bucket()).await?;
        Ok(Self {
            bus: bus.clone(),
            store,
            metrics,
        })
    }

    pub fn store(&self) -> &kv::Store {
        &self.store
    }

    /// The entry of one release.
    pub async fn get(&self, eco: Ecosystem, name: &str, version: &str) -> Result<Lookup, String> {
        let Some(key) = self.bus.names().index_key(eco, name, version) else {
            return Ok(Lookup::Invalid);
        };
        self.get_key(&key).await.map(|found| match found {
            Some((entry, _)) => Lookup::Found(Box::new(entry)),
            None => Lookup::Missing,
        })
    }

    async fn get_key(&self, key: &str) -> Result<Option<(ReleaseIndex, u64)>, String> {
        let entry = self
            .store
            .entry(key)
            .await
            .map_err(|e| format!("reading the results index at {key}: {e}"))?;
        match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                let decoded = ReleaseIndex::decode(e.value.as_ref())
                    .map_err(|err| format!("the index entry {key} is unreadable: {err}"))?;
                Ok(Some((decoded, e.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Merges one message into its release's entry, with compare-and-swap.
    pub async fn merge(&self, package: &PackageRef, part: Part) -> Result<(), HandlerError> {
        let Some(key) =
            self.bus
                .names()
                .index_key(package.ecosystem(), &package.name, &package.version)
        else {
            return Err(HandlerError::permanent(format!(
                "a {} message without a package name or version",
                part.name()
            )));
        };
        let labels = PartLabels {
            part: part.name().to_owned(),
        };
        for _ in 0..32 {
            let current = self.get_key(&key).await.map_err(HandlerError::retryable)?;
            let (mut entry, revision) = match current {
                Some((entry, revision)) => (entry, Some(revision)),
                None => (ReleaseIndex::default(), None),
            };
            if !merge(&mut entry, package, &part) {
                self.metrics.unchanged.get_or_create(&labels).inc();
                return Ok(());
            }
            let bytes = bytes::Bytes::from(entry.encode_to_vec());
            let written = match revision {
                None => self
                    .store
                    .create(&key, bytes)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Some(r) => self
                    .store
                    .update(&key, bytes, r)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            };
            match written {
                Ok(()) => {
                    self.metrics.merged.get_or_create(&labels).inc();
                    return Ok(());
                }
                Err(error) => {
                    self.metrics.conflicts.inc();
                    tracing::debug!(%key, %error, "index write lost a race (or failed); reloading");
                }
            }
        }
        Err(HandlerError::retryable(format!(
            "the index entry {key} kept changing under this writer"
        )))
    }

    /// Runs the index's four consumers until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), BusError> {
        let bus = self.bus.clone();
        let [releases, statics, dynamics, alerts] = bus.names().index_consumers();
        let (a, b, c, d) = tokio::join!(
            bus.consume::<Release, _>(&releases, Indexer(self.clone()), shutdown.clone()),
            bus.consume::<StaticResult, _>(&statics, Indexer(self.clone()), shutdown.clone()),
            bus.consume::<DynamicResult, _>(&dynamics, Indexer(self.clone()), shutdown.clone()),
            bus.consume::<Alert, _>(&alerts, Indexer(self.clone()), shutdown),
        );
        a.and(b).and(c).and(d)
    }
}

/// The consumers' handler: one per message type.
#[derive(Debug, Clone)]
pub struct Indexer(pub Index);

fn package_of(p: Option<&PackageRef>, what: &str) -> Result<PackageRef, HandlerError> {
    p.cloned()
        .ok_or_else(|| HandlerError::permanent(format!("a {what} without a package")))
}

impl Handler<Release> for Indexer {
    async fn handle(&self, d: Delivery<Release>) -> Result<(), HandlerError> {
        let package = package_of(d.message.package.as_ref(), "release")?;
        let part = Part::Release {
            sequence: d.stream_sequence,
        };
        self.0.merge(&package, part).await
    }
}

impl Handler<StaticResult> for Indexer {
    async fn handle(&self, d: Delivery<StaticResult>) -> Result<(), HandlerError> {
        let package = package_of(d.message.package.as_ref(), "static result")?;
        let part = Part::Static {
            sequence: d.stream_sequence,
            status: d.message.status(),
        };
        self.0.merge(&package, part).await
    }
}

impl Handler<DynamicResult> for Indexer {
    async fn handle(&self, d: Delivery<DynamicResult>) -> Result<(), HandlerError> {
        let package = package_of(d.message.package.as_ref(), "dynamic result")?;
        let part = Part::Dynamic {
            sequence: d.stream_sequence,
            status: d.message.status(),
        };
        self.0.merge(&package, part).await
    }
}

impl Handler<Alert> for Indexer {
    async fn handle(&self, d: Delivery<Alert>) -> Result<(), HandlerError> {
        let package = package_of(d.message.package.as_ref(), "alert")?;
        let part = Part::Alert {
            sequence: d.stream_sequence,
            alert: Box::new(d.message),
        };
        self.0.merge(&package, part).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::v1::{Severity, Verdict};

    fn pkg() -> PackageRef {
        PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "@a/b".into(),
            version: "1.0.0".into(),
        }
    }

    #[test]
    fn a_part_is_replaced_only_by_a_newer_message() {
        let mut e = ReleaseIndex::default();
        let alert = |score: f64| {
            Box::new(Alert {
                alert_id: format!("id-{score}"),
                severity: Severity::High as i32,
                verdict: Some(Verdict {
                    score,
                    previous_version: "0.9.0".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        assert!(merge(
            &mut e,
            &pkg(),
            &Part::Static {
                sequence: 5,
                status: AnalysisStatus::Completed
            }
        ));
        assert!(merge(
            &mut e,
            &pkg(),
            &Part::Alert {
                sequence: 9,
                alert: alert(7.0)
            }
        ));
        // A redelivery, and an older alert replayed after a crash.
        assert!(!merge(
            &mut e,
            &pkg(),
            &Part::Static {
                sequence: 5,
                status: AnalysisStatus::ErrorOther
            }
        ));
        assert!(!merge(
            &mut e,
            &pkg(),
            &Part::Alert {
                sequence: 3,
                alert: alert(1.0)
            }
        ));
        assert_eq!(e.static_sequence, 5);
        assert_eq!(e.static_status, AnalysisStatus::Completed as i32);
        assert_eq!(
            (e.alert_sequence, e.score, e.alert_id.as_str()),
            (9, 7.0, "id-7")
        );
        assert_eq!(e.previous_version, "0.9.0");
        assert!(merge(
            &mut e,
            &pkg(),
            &Part::Alert {
                sequence: 12,
                alert: alert(2.0)
            }
        ));
        assert_eq!((e.alert_sequence, e.score), (12, 2.0));
        assert_eq!(e.package, Some(pkg()));
    }
}
