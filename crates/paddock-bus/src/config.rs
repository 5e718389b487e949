//! Settings of the bus: connection, topology and consumer discipline.
//!
//! Every struct rejects unknown keys and has documented defaults, so a
//! misspelt setting is an error rather than silently ignored.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How services reach the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// `nats://host:port`. Unset: `paddock up` starts a local nats-server;
    /// a standalone service refuses to start.
    pub url: Option<String>,
    /// Prefix of every subject, stream and bucket name.
    pub prefix: String,
    /// A NATS credentials file (`.creds`), for deployments with accounts.
    pub credentials_file: Option<PathBuf>,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// How long a JetStream request (a publish ack, a consumer look-up)
    /// may take before it fails.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Bodies larger than this are dead-lettered unread.
    pub max_message_bytes: usize,
    /// Whether `paddock up` and `paddock serve` create or update the
    /// topology at start. Off where a service's NATS user may not change
    /// streams (accounts): `paddock topology --apply` does it once, with an
    /// account that may.
    pub apply_topology: bool,
    /// How long a publish, or the first JetStream check of a connection,
    /// keeps retrying while a cluster has no leader for the stream (an
    /// election after a node restart takes seconds).
    #[serde(with = "humantime_serde")]
    pub election_timeout: Duration,
    pub topology: TopologyConfig,
    pub consumer: ConsumerSettings,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "paddock".into(),
            credentials_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            max_message_bytes: 8 * 1024 * 1024,
            apply_topology: true,
            election_timeout: Duration::from_secs(30),
            topology: TopologyConfig::default(),
            consumer: ConsumerSettings::default(),
        }
    }
}

/// Retention of one stream. Defaults differ per stream (see
/// [`TopologyConfig::default`]); a config file overrides single keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    /// Messages older than this are removed (limits retention).
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// The stream's size cap, in bytes; the oldest messages go first. `-1`
    /// (the default): bounded by `max_age` only. A cap is reserved on the
    /// server's disk up front, so set it where JetStream has a storage limit.
    pub max_bytes: i64,
    /// Window in which a repeated `Nats-Msg-Id` is absorbed.
    #[serde(with = "humantime_serde")]
    pub duplicate_window: Duration,
    /// Largest single message the stream accepts.
    pub max_message_bytes: i32,
}

/// The streams, consumers and buckets that `paddock up` and
/// `paddock topology --apply` create.
///
/// Retention is by limits (age and size) rather than interest or work-queue:
/// a consumer that is down, or a sink that is added later, still finds every
/// message that is younger than `max_age`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologyConfig {
    /// Replicas per stream and bucket (3 in a production cluster).
    pub replicas: usize,
    pub releases: StreamSettings,
    pub results: StreamSettings,
    pub alerts: StreamSettings,
    pub dead_letters: StreamSettings,
    /// Time a consumer may hold a message without acking or reporting
    /// progress before the server redelivers it.
    #[serde(with = "humantime_serde")]
    pub ack_wait: Duration,
    /// Deliveries before a message that keeps failing is dead-lettered.
    pub max_deliver: i64,
    /// Unacknowledged messages a consumer may hold across all replicas.
    pub max_ack_pending: i64,
    /// History kept per key in the history bucket.
    pub history_depth: i64,
    /// Age after which artifacts leave the object store.
    #[serde(with = "humantime_serde")]
    pub artifacts_max_age: Duration,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        let day = Duration::from_secs(24 * 3600);
        Self {
            replicas: 1,
            // A feed that restarts may re-announce releases from the last
            // hours: a day-long window absorbs them.
            releases: StreamSettings {
                max_age: 14 * day,
                max_bytes: -1,
                duplicate_window: day,
                max_message_bytes: 1 << 20,
            },
            results: StreamSettings {
                max_age: 14 * day,
                max_bytes: -1,
                duplicate_window: Duration::from_secs(2 * 3600),
                max_message_bytes: 8 << 20,
            },
            alerts: StreamSettings {
                max_age: 90 * day,
                max_bytes: -1,
                duplicate_window: Duration::from_secs(2 * 3600),
                max_message_bytes: 1 << 20,
            },
            dead_letters: StreamSettings {
                max_age: 30 * day,
                max_bytes: -1,
                duplicate_window: Duration::from_secs(120),
                max_message_bytes: 8 << 20,
            },
            ack_wait: Duration::from_secs(30),
            max_deliver: 8,
            max_ack_pending: 1024,
            history_depth: 5,
            artifacts_max_age: 30 * day,
        }
    }
}

/// When a batch consumer hands its gathered deliveries over
/// ([`crate::JetStreamBus::consume_batches`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Messages per batch (also bounded by the consumer's
    /// `max_ack_pending`).
    pub max_rows: usize,
    /// Encoded message bytes per batch.
    pub max_bytes: usize,
    /// Longest a message waits for its batch.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_rows: 1000,
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(10),
        }
    }
}

/// How a consume loop behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerSettings {
    /// Handlers running at once in one process.
    pub concurrency: usize,
    /// Interval of progress reports; unset: a third of the consumer's ack wait.
    #[serde(with = "humantime_serde")]
    pub progress_interval: Option<Duration>,
    /// First redelivery delay after a retryable failure; doubles each time.
    #[serde(with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// Cap of the redelivery delay.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long one pull request waits for messages.
    #[serde(with = "humantime_serde")]
    pub pull_expires: Duration,
    /// On shutdown, how long in-flight handlers may run on before they are
    /// cancelled and their messages negatively acknowledged.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Whether each ack waits for the server to confirm it before the
    /// handler's slot takes the next message. The ack is sent after the
    /// handler's effect either way; a lost ack means the message is
    /// delivered and handled again after the ack wait, whether it was
    /// confirmed or not. Confirming only makes the loss visible (a
    /// warning) at the price of one more round trip per message (the
    /// consume rate falls by about 40%). Terminations (dead letters) are
    /// always confirmed.
    pub confirm_acks: bool,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            progress_interval: None,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            pull_expires: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
            confirm_acks: false,
        }
    }
}

impl ConsumerSettings {
    /// The redelivery delay after the `attempt`-th delivery failed:
    /// `backoff_initial * 2^(attempt-1)`, capped at `backoff_max`.
    pub fn backoff(&self, attempt: u64) -> Duration {
        paddock_proto::backoff::Backoff {
            initial: self.backoff_initial,
            max: self.backoff_max,
        }
        .delay(attempt.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = ConsumerSettings {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            ..Default::default()
        };
        assert_eq!(s.backoff(1), Duration::from_millis(100));
        assert_eq!(s.backoff(2), Duration::from_millis(200));
        assert_eq!(s.backoff(3), Duration::from_millis(400));
        assert_eq!(s.backoff(10), Duration::from_secs(1));
        assert_eq!(s.backoff(u64::MAX), Duration::from_secs(1));
    }

    #[test]
    fn duplicate_windows_fit_inside_retention() {
        let t = TopologyConfig::default();
        for s in [&t.releases, &t.results, &t.alerts, &t.dead_letters] {
            assert!(s.duplicate_window <= s.max_age);
        }
    }
}
