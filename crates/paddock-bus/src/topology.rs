//! The streams, durable consumers, KV buckets and object store of a
//! deployment (DESIGN.md §2), as a plan that can be printed and applied.
//!
//! Applying is idempotent: each item is created when missing and updated to
//! the planned settings when present, so running it twice, or from several
//! processes at once, leaves exactly one of each.
//!
//! # Replicas
//!
//! `bus.topology.replicas` (1 on one server, 3 on a three-node cluster)
//! applies to every stream, KV bucket and the object store alike. With
//! three replicas:
//!
//! - placement: each stream and bucket lives on three servers, one of them
//!   its leader (chosen by election, moved when its server dies); the
//!   cluster needs at least three servers with JetStream, and a majority
//!   (two) alive to accept writes;
//! - limits: `max_bytes` and `max_age` hold per replica, so every server
//!   needs the stream's full `max_bytes` of its own storage (three times
//!   the data in the cluster), and file storage is kept on each;
//! - durable consumers are replicated with their stream, so their state
//!   survives a node's loss;
//! - while a leader is elected (seconds after its node dies) writes fail:
//!   the bus retries them for `bus.election_timeout`.

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{kv, object_store, Context};

use crate::config::{StreamSettings, TopologyConfig};
use crate::names::{ConsumerSpec, Names, StreamKind};
use crate::BusError;

/// A stream to create.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamPlan {
    pub kind: StreamKind,
    pub name: String,
    pub subjects: Vec<String>,
    pub settings: StreamSettings,
    pub replicas: usize,
}

/// A durable pull consumer to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerPlan {
    pub spec: ConsumerSpec,
    pub ack_wait: Duration,
    pub max_deliver: i64,
    pub max_ack_pending: i64,
}

/// A KV bucket or object store to create.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketPlan {
    pub name: String,
    pub purpose: &'static str,
    /// KV: values kept per key. Object store: 1.
    pub history: i64,
    /// Zero: kept until deleted.
    pub max_age: Duration,
    pub replicas: usize,
}

/// Everything a deployment needs on the server.
#[derive(Debug, Clone, PartialEq)]
pub struct TopologyPlan {
    pub streams: Vec<StreamPlan>,
    pub consumers: Vec<ConsumerPlan>,
    pub key_values: Vec<BucketPlan>,
    pub object_stores: Vec<BucketPlan>,
}

/// The plan for `names` with `config`.
pub fn plan(names: &Names, config: &TopologyConfig) -> TopologyPlan {
    let settings = |kind| match kind {
        StreamKind::Releases => config.releases.clone(),
        StreamKind::Results => config.results.clone(),
        StreamKind::Alerts => config.alerts.clone(),
        StreamKind::DeadLetters => config.dead_letters.clone(),
    };
    let streams = StreamKind::ALL
        .into_iter()
        .map(|kind| StreamPlan {
            kind,
            name: names.stream(kind),
            subjects: vec![names.stream_subjects(kind)],
            settings: settings(kind),
            replicas: config.replicas,
        })
        .collect();
    let consumers = names
        .consumers()
        .into_iter()
        .map(|spec| ConsumerPlan {
            spec,
            ack_wait: config.ack_wait,
            max_deliver: config.max_deliver,
            max_ack_pending: config.max_ack_pending,
        })
        .collect();
    TopologyPlan {
        streams,
        consumers,
        key_values: vec![
            BucketPlan {
                name: names.feed_cursors_bucket(),
                purpose: "registry feed cursor per ecosystem, written after publish acks",
                history: 1,
                max_age: Duration::ZERO,
                replicas: config.replicas,
            },
            BucketPlan {
                name: names.history_bucket(),
                purpose: "behaviour profiles of the last analysed releases per package",
                history: config.history_depth,
                max_age: Duration::ZERO,
                replicas: config.replicas,
            },
            BucketPlan {
                name: names.results_index_bucket(),
                purpose:
                    "per release: stream sequences of its latest release event, results and alert",
                history: 1,
                max_age: index_max_age(config),
                replicas: config.replicas,
            },
        ],
        object_stores: vec![BucketPlan {
            name: names.artifacts_bucket(),
            purpose: "downloaded, verified artifacts keyed by sha256",
            history: 1,
            max_age: config.artifacts_max_age,
            replicas: config.replicas,
        }],
    }
}

/// The results index keeps an entry as long as the longest-lived of the
/// streams it points into (forever when one of them keeps messages
/// forever): an entry outlives none of its messages by more than that, and
/// the API says which of them have aged out.
fn index_max_age(config: &TopologyConfig) -> Duration {
    let ages = [
        config.releases.max_age,
        config.results.max_age,
        config.alerts.max_age,
    ];
    if ages.iter().any(Duration::is_zero) {
        Duration::ZERO
    } else {
        ages.into_iter().max().unwrap_or(Duration::ZERO)
    }
}

impl StreamPlan {
    fn to_config(&self) -> stream::Config {
        stream::Config {
            name: self.name.clone(),
            subjects: self.subjects.clone(),
            retention: RetentionPolicy::Limits,
            storage: StorageType::File,
            discard: DiscardPolicy::Old,
            max_age: self.settings.max_age,
            max_bytes: self.settings.max_bytes,
            duplicate_window: self.settings.duplicate_window,
            max_message_size: self.settings.max_message_bytes,
            num_replicas: self.replicas,
            // Reads by sequence (the API's GetResult) go to any replica
            // without a trip through the JetStream API's queue.
            allow_direct: true,
            description: Some(format!("paddock {:?}", self.kind)),
            ..Default::default()
        }
    }
}

impl ConsumerPlan {
    fn to_config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.spec.durable.clone()),
            filter_subject: self.spec.filter_subject.clone(),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending: self.max_ack_pending,
            description: Some(format!("paddock {} consumer", self.spec.durable)),
            ..Default::default()
        }
    }
}

/// Creates or updates everything in `plan` on the server behind `js`.
pub async fn apply(js: &Context, plan: &TopologyPlan) -> Result<(), BusError> {
    for s in &plan.streams {
        js.create_or_update_stream(s.to_config())
            .await
            .map_err(|e| topo_err("stream", &s.name, e))?;
    }
    for c in &plan.consumers {
        let stream = js
            .get_stream(&c.spec.stream_name)
            .await
            .map_err(|e| topo_err("consumer", &c.spec.durable, e))?;
        stream
            .create_consumer(c.to_config())
            .await
            .map_err(|e| topo_err("consumer", &c.spec.durable, e))?;
    }
    for b in &plan.key_values {
        js.create_or_update_key_value(kv::Config {
            bucket: b.name.clone(),
            description: b.purpose.to_owned(),
            history: b.history,
            max_age: b.max_age,
            storage: StorageType::File,
            num_replicas: b.replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| topo_err("key-value bucket", &b.name, e))?;
    }
    for b in &plan.object_stores {
        if js.get_object_store(&b.name).await.is_ok() {
            continue;
        }
        let created = js
            .create_object_store(object_store::Config {
                bucket: b.name.clone(),
                description: Some(b.purpose.to_owned()),
                max_age: b.max_age,
                storage: StorageType::File,
                num_replicas: b.replicas,
                ..Default::default()
            })
            .await;
        // Another process may have created it between the look-up and here.
        if let Err(e) = created {
            if js.get_object_store(&b.name).await.is_err() {
                return Err(topo_err("object store", &b.name, e));
            }
        }
    }
    Ok(())
}

fn topo_err(
    what: &'static str,
    name: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> BusError {
    let text = e.to_string();
    let source: crate::BoxError = if text.contains("insufficient storage") {
        format!("{text}; lower bus.topology.<stream>.max_bytes or give JetStream more storage (max_file_store)").into()
    } else {
        Box::new(e)
    };
    BusError::Topology {
        what,
        name: name.to_owned(),
        source,
    }
}

fn human(d: Duration) -> String {
    if d.is_zero() {
        return "forever".into();
    }
    let secs = d.as_secs();
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn mib(bytes: i64) -> String {
    if bytes < 0 {
        "none".into()
    } else if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{}GiB", bytes >> 30)
    } else {
        format!("{}MiB", bytes >> 20)
    }
}

impl fmt::Display for TopologyPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "streams (file storage, limits retention, discard old):")?;
        for s in &self.streams {
            writeln!(
                f,
                "  {:<24} subjects {:<28} max-age {:<6} max-bytes {:<7} dedupe-window {:<5} max-msg {:<6} replicas {}",
                s.name,
                s.subjects.join(","),
                human(s.settings.max_age),
                mib(s.settings.max_bytes),
                human(s.settings.duplicate_window),
                mib(i64::from(s.settings.max_message_bytes)),
                s.replicas,
            )?;
        }
        writeln!(f, "durable pull consumers (explicit ack):")?;
        for c in &self.consumers {
            writeln!(
                f,
                "  {:<24} on {:<20} filter {:<28} ack-wait {:<5} max-deliver {} max-ack-pending {} dead-letters {}",
                c.spec.durable,
                c.spec.stream_name,
                c.spec.filter_subject,
                human(c.ack_wait),
                c.max_deliver,
                c.max_ack_pending,
                c.spec.dead_letter_subject,
            )?;
        }
        writeln!(f, "key-value buckets:")?;
        for b in &self.key_values {
            writeln!(f, "  {:<24} history {:<3} {}", b.name, b.history, b.purpose)?;
        }
        writeln!(f, "object stores:")?;
        for b in &self.object_stores {
            writeln!(
                f,
                "  {:<24} max-age {:<6} {}",
                b.name,
                human(b.max_age),
                b.purpose
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_every_item_of_the_design() {
        let names = Names::new("pdk").unwrap();
        let p = plan(&names, &TopologyConfig::default());
        let streams: Vec<_> = p.streams.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            streams,
            ["pdk_RELEASES", "pdk_RESULTS", "pdk_ALERTS", "pdk_DLQ"]
        );
        let consumers: Vec<_> = p
            .consumers
            .iter()
            .map(|c| (c.spec.stream_name.as_str(), c.spec.durable.as_str()))
            .collect();
        assert!(consumers.contains(&("pdk_RELEASES", "static")));
        assert!(consumers.contains(&("pdk_RELEASES", "dynamic")));
        assert!(consumers.contains(&("pdk_RESULTS", "diff-static")));
        assert!(consumers.contains(&("pdk_RESULTS", "diff-dynamic")));
        for kind in crate::names::SINK_KINDS {
            for (stream, part) in [
                ("pdk_RELEASES", "releases"),
                ("pdk_RESULTS", "results"),
                ("pdk_ALERTS", "alerts"),
            ] {
                let durable = format!("sink-{kind}-{part}");
                assert!(consumers.contains(&(stream, durable.as_str())), "{durable}");
            }
        }
        assert!(consumers.contains(&("pdk_ALERTS", "sink-osv-alerts")));
        for (stream, durable) in [
            ("pdk_RELEASES", "api-index-releases"),
            ("pdk_RESULTS", "api-index-static"),
            ("pdk_RESULTS", "api-index-dynamic"),
            ("pdk_ALERTS", "api-index-alerts"),
        ] {
            assert!(consumers.contains(&(stream, durable)), "{durable}");
        }
        assert_eq!(consumers.len(), 4 + 3 * 3 + 4, "{consumers:?}");
        assert_eq!(p.key_values.len(), 3);
        assert_eq!(p.key_values[2].name, "pdk-results-index");
        assert_eq!(
            p.key_values[2].max_age,
            TopologyConfig::default()
                .releases
                .max_age
                .max(TopologyConfig::default().results.max_age)
                .max(TopologyConfig::default().alerts.max_age)
        );
        assert_eq!(p.object_stores[0].name, "pdk-artifacts");
        let text = p.to_string();
        assert!(
            text.contains("pdk.release.*") && text.contains("dedupe-window 1d"),
            "{text}"
        );
    }
}
