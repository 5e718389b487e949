//! The polling loops: one per enabled ecosystem, which polls its feed,
//! publishes every new release, and only then advances its cursor.
//!
//! Durability: the cursor in the `feed-cursors` bucket moves only after
//! every release of the poll is published (acked by the stream) or recorded
//! as failed on the dead-letter stream. A crash mid-poll repeats the poll;
//! releases published twice are absorbed by their message id.
//!
//! Leadership: several replicas may run; one polls each ecosystem. The
//! cursor's KV entry also holds a lease (holder, expiry). A poll starts by
//! taking or renewing the lease with compare-and-swap, and ends by writing
//! the new cursor with compare-and-swap on the revision it took the lease
//! at: a replica whose lease ran out and was taken over cannot move the
//! cursor (its write fails), so two leaders never both advance it. A
//! replica that finds the lease held by another live one skips the poll;
//! when the leader stops, another takes over once the lease expires, from
//! the stored cursor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::Store;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use paddock_bus::{Bus, JetStreamBus};
use paddock_proto::ecosystem::{cli_name, ALL};
use paddock_proto::v1::{Ecosystem, FeedSource};
use paddock_registry::http::Http;
use paddock_registry::{RegistriesConfig, RegistryClient};
use tokio_util::sync::CancellationToken;

use paddock_feed::publisher::{PublishError, ReleasePublisher};
use paddock_feed::sources::{self, Cursor, SourceUrls};

use crate::config::FeedConfig;
use crate::metrics::FeedMetrics;

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub items: usize,
    pub published: usize,
    pub duplicates: usize,
    pub skipped: usize,
    pub may_have_dropped: bool,
    /// Age of the newest release seen.
    pub lag: Option<Duration>,
}

/// Why a poll stopped before advancing its cursor (it is retried at the
/// next interval).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Registry(#[from] paddock_registry::RegistryError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("feed cursor store {bucket}: {reason}")]
    Cursor { bucket: String, reason: String },
    /// Another replica polls this ecosystem (not a failure).
    #[error("{holder} holds the {eco} feed's lease for {seconds} s more")]
    NotLeader {
        eco: &'static str,
        holder: String,
        seconds: i64,
    },
    /// The lease ran out during the poll and another replica took it: the
    /// cursor was left to the new leader.
    #[error("lost the {eco} feed's lease during the poll (another replica took over); the cursor was not moved")]
    LeaseLost { eco: &'static str },
}

/// What the cursor's KV entry holds: the position, and who polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Stored {
    #[serde(flatten)]
    cursor: Cursor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease: Option<Lease>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Lease {
    holder: String,
    /// Unix milliseconds.
    expires_ms: i64,
}

/// The feed service for every configured ecosystem.
#[derive(Debug, Clone)]
pub struct FeedService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    publisher: ReleasePublisher,
    cursors: Store,
    /// This replica's name in leases.
    holder: String,
    feeds: Vec<Feed>,
    config: FeedConfig,
    metrics: Arc<FeedMetrics>,
    /// Releases this replica published or found published lately, so that a
    /// poll's overlap with the previous one costs no second download.
    recent: std::sync::Mutex<HashMap<(Ecosystem, String, String), Instant>>,
}

#[derive(Debug)]
struct Feed {
    eco: Ecosystem,
    client: RegistryClient,
    http: Http,
    urls: SourceUrls,
}

impl FeedService {
    /// Prepares a feed for every enabled ecosystem whose registry is
    /// configured; the others are logged and left out.
    pub async fn new(
        bus: &JetStreamBus,
        registries: &RegistriesConfig,
        config: &FeedConfig,
        metrics: Arc<FeedMetrics>,
    ) -> Result<Self, FeedError> {
        let publisher = ReleasePublisher::new(bus).await?;
        let cursors = bus
            .key_value(&bus.names().feed_cursors_bucket())
            .await
            .map_err(PublishError::Bus)?;
        let mut feeds = Vec::new();
        for eco in ALL {
            if !config.ecosystem(eco).enabled {
                continue;
            }
            let client = match RegistryClient::new(eco, registries) {
                Ok(client) => client,
                Err(error) => {
                    tracing::warn!(eco = cli_name(eco), %error, "feed disabled");
                    continue;
                }
            };
            let endpoint = registries.endpoint(eco);
            let api = endpoint
                .api_url
                .clone()
                .unwrap_or_else(|| client.url().to_owned());
            let api_url = if api.ends_with('/') {
                api
            } else {
                format!("{api}/")
            };
            let urls = SourceUrls {
                url: client.url().to_owned(),
                api_url,
            };
            let http = Http::new(&registries.http, cli_name(eco))?;
            feeds.push(Feed {
                eco,
                client,
                http,
                urls,
            });
        }
        Ok(Self {
            inner: Arc::new(Inner {
                publisher,
                cursors,
                holder: format!(
                    "{}/{}/{:08x}",
                    std::fs::read_to_string("/proc/sys/kernel/hostname")
                        .map(|h| h.trim().to_owned())
                        .unwrap_or_else(|_| "feed".into()),
                    std::process::id(),
                    rand_u32()
                ),
                feeds,
                recent: std::sync::Mutex::default(),
                config: config.clone(),
                metrics,
            }),
        })
    }

    /// The ecosystems this service polls.
    pub fn ecosystems(&self) -> Vec<Ecosystem> {
        self.inner.feeds.iter().map(|f| f.eco).collect()
    }

    /// Polls every feed on its interval until `shutdown`. A failing feed
    /// never stops the others.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for eco in self.ecosystems() {
            let (service, shutdown) = (self.clone(), shutdown.clone());
            tasks.spawn(async move { service.run_feed(eco, shutdown).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn run_feed(&self, eco: Ecosystem, shutdown: CancellationToken) {
        self.poll_until(eco, &shutdown).await;
        self.release_lease(eco).await;
    }

    /// Gives up `eco`'s lease if this replica holds it, so that another
    /// takes over at once rather than after the lease runs out.
    async fn release_lease(&self, eco: Ecosystem) {
        let key = self.inner.publisher.bus().names().cursor_key(eco);
        let Ok((Some(mut stored), Some(revision))) = self.load_cursor(&key).await else {
            return;
        };
        if stored.lease.as_ref().map(|l| &l.holder) != Some(&self.inner.holder) {
            return;
        }
        stored.lease = None;
        let body = serde_json::to_vec(&stored).expect("a cursor serialises");
        if self
            .inner
            .cursors
            .update(&key, body.into(), revision)
            .await
            .is_ok()
        {
            tracing::info!(eco = cli_name(eco), "feed lease given up");
        }
    }

    async fn poll_until(&self, eco: Ecosystem, shutdown: &CancellationToken) {
        let interval = self.inner.config.ecosystem(eco).interval;
        loop {
            let poll = self.poll_once(eco);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                result = poll => match result {
                    Ok(report) => tracing::info!(
                        eco = cli_name(eco),
                        items = report.items,
                        published = report.published,
                        duplicates = report.duplicates,
                        skipped = report.skipped,
                        may_have_dropped = report.may_have_dropped,
                        lag_s = report.lag.map(|l| l.as_secs()),
                        "feed polled"
                    ),
                    Err(error @ FeedError::NotLeader { .. }) => tracing::debug!(eco = cli_name(eco), %error, "another replica polls this feed"),
                    Err(error) => tracing::warn!(eco = cli_name(eco), %error, "feed poll failed; retrying at the next interval"),
                },
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One poll of `eco`'s feed: read the cursor, fetch the feed, publish
    /// every new release, then store the new cursor.
    #[tracing::instrument(skip(self), fields(eco = cli_name(eco)))]
    pub async fn poll_once(&self, eco: Ecosystem) -> Result<PollReport, FeedError> {
        let labels = FeedMetrics::labels(eco);
        let metrics = &self.inner.metrics;
        let result = self.poll_inner(eco).await;
        match &result {
            Ok(report) => {
                metrics.polls.get_or_create(&labels).inc();
                metrics
                    .items
                    .get_or_create(&labels)
                    .inc_by(report.items as u64);
                metrics
                    .published
                    .get_or_create(&labels)
                    .inc_by(report.published as u64);
                metrics
                    .duplicates
                    .get_or_create(&labels)
                    .inc_by(report.duplicates as u64);
                metrics
                    .skipped
                    .get_or_create(&labels)
                    .inc_by(report.skipped as u64);
                if report.may_have_dropped {
                    metrics.may_have_dropped.get_or_create(&labels).inc();
                    tracing::warn!(
                        eco = cli_name(eco),
                        "the feed's window may have dropped releases since the last poll"
                    );
                }
                if let Some(lag) = report.lag {
                    metrics
                        .lag_seconds
                        .get_or_create(&labels)
                        .set(lag.as_secs() as i64);
                }
            }
            Err(FeedError::NotLeader { .. }) => {
                metrics.leader.get_or_create(&labels).set(0);
            }
            Err(_) => {
                metrics.poll_errors.get_or_create(&labels).inc();
            }
        }
        result
    }

    async fn poll_inner(&self, eco: Ecosystem) -> Result<PollReport, FeedError> {
        let feed = self
            .inner
            .feeds
            .iter()
            .find(|f| f.eco == eco)
            .expect("polled ecosystems have a feed");
        let settings = self.inner.config.ecosystem(eco);
        let now = Utc::now();
        let key = self.inner.publisher.bus().names().cursor_key(eco);
        let (stored, revision) = self.load_cursor(&key).await?;
        let lease = stored.as_ref().and_then(|s| s.lease.clone());
        let cursor = match stored.map(|s| s.cursor) {
            Some(cursor) => cursor,
            None => Cursor {
                time: Some(
                    now - chrono::Duration::from_std(settings.initial_lookback).unwrap_or_default(),
                ),
                token: settings.initial_token.clone(),
            },
        };
        let lease_revision = self.take_lease(eco, &key, &cursor, lease, revision).await?;
        let overlap = self.inner.config.overlap;
        let mut poll = sources::poll(
            eco,
            &feed.http,
            &feed.urls,
            &cursor,
            &settings.watch,
            now,
            overlap,
        )
        .await?;

        // Oldest first; beyond the per-poll cap, the cursor stops at the
        // last release handled.
        poll.items.sort_by_key(|i| i.published);
        poll.items
            .dedup_by(|a, b| a.name == b.name && a.version == b.version);
        let mut recently = 0;
        {
            let mut recent = self.inner.recent.lock().expect("not poisoned");
            let keep = overlap.saturating_mul(4).max(Duration::from_secs(900));
            recent.retain(|_, at| at.elapsed() < keep);
            poll.items.retain(|i| {
                let seen = recent.contains_key(&(eco, i.name.clone(), i.version.clone()));
                recently += usize::from(seen);
                !seen
            });
        }
        let max = self.inner.config.max_items_per_poll.max(1);
        if poll.items.len() > max {
            poll.items.truncate(max);
            poll.next.time = poll.items.last().and_then(|i| i.published).or(cursor.time);
            // A sequence-based feed (npm, Packagist) reads the same changes
            // again: the releases past the cap come back through the time.
            poll.next.token = cursor.token.clone();
        }
        let newest: Option<DateTime<Utc>> = poll.items.iter().filter_map(|i| i.published).max();
        let source = if settings.watch.is_empty() {
            FeedSource::Feed
        } else {
            FeedSource::Watchlist
        };
        let feed_name = format!(
            "{}-{}",
            cli_name(eco),
            if settings.watch.is_empty() {
                "feed"
            } else {
                "watch"
            }
        );

        let publisher = &self.inner.publisher;
        let outcomes: Vec<_> = futures::stream::iter(poll.items.iter().cloned())
            .map(|item| {
                let (publisher, client, feed_name) =
                    (publisher.clone(), feed.client.clone(), feed_name.clone());
                async move {
                    let result = publisher
                        .fetch_and_publish(
                            &client,
                            &item.name,
                            Some(&item.version),
                            source,
                            &feed_name,
                        )
                        .await;
                    (item, result)
                }
            })
            .buffer_unordered(self.inner.config.concurrency.max(1))
            .collect()
            .await;

        let mut report = PollReport {
            items: poll.items.len() + recently,
            duplicates: recently,
            may_have_dropped: poll.may_have_dropped,
            ..Default::default()
        };
        let remember = |item: &sources::FeedItem| {
            self.inner.recent.lock().expect("not poisoned").insert(
                (eco, item.name.clone(), item.version.clone()),
                Instant::now(),
            );
        };
        for (item, outcome) in outcomes {
            match outcome {
                Ok((_, published)) if published.duplicate => {
                    remember(&item);
                    report.duplicates += 1
                }
                Ok(_) => {
                    remember(&item);
                    report.published += 1
                }
                Err(error) if error.is_transient() => return Err(error.into()),
                Err(error) => {
                    tracing::warn!(eco = cli_name(eco), name = %item.name, version = %item.version, %error, "release skipped");
                    publisher
                        .record_failure(eco, &item.name, &item.version, &error.to_string())
                        .await?;
                    report.skipped += 1;
                }
            }
        }
        report.lag = newest.and_then(|n| (now - n).to_std().ok());
        self.store_cursor(eco, &key, &poll.next, lease_revision)
            .await?;
        Ok(report)
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.inner.config.lease.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// Takes or renews `eco`'s lease; the entry's revision after the write.
    /// The entry keeps `cursor` (the stored one, or the initial one).
    async fn take_lease(
        &self,
        eco: Ecosystem,
        key: &str,
        cursor: &Cursor,
        lease: Option<Lease>,
        revision: Option<u64>,
    ) -> Result<u64, FeedError> {
        let now = Utc::now().timestamp_millis();
        let mut stored = Stored {
            cursor: cursor.clone(),
            lease,
        };
        if let Some(lease) = &stored.lease {
            if lease.holder != self.inner.holder && lease.expires_ms > now {
                return Err(FeedError::NotLeader {
                    eco: cli_name(eco),
                    holder: lease.holder.clone(),
                    seconds: (lease.expires_ms - now) / 1000,
                });
            }
        }
        stored.lease = Some(Lease {
            holder: self.inner.holder.clone(),
            expires_ms: now + self.lease_ms(),
        });
        let body = serde_json::to_vec(&stored).expect("a cursor serialises");
        let written = match revision {
            None => self
                .inner
                .cursors
                .create(key, body.into())
                .await
                .map_err(|e| e.to_string()),
            Some(r) => self
                .inner
                .cursors
                .update(key, body.into(), r)
                .await
                .map_err(|e| e.to_string()),
        };
        match written {
            Ok(revision) => {
                self.inner
                    .metrics
                    .leader
                    .get_or_create(&FeedMetrics::labels(eco))
                    .set(1);
                Ok(revision)
            }
            // Another replica wrote first: it leads this round.
            Err(reason) => {
                tracing::debug!(eco = cli_name(eco), %reason, "the lease went to another replica");
                Err(FeedError::NotLeader {
                    eco: cli_name(eco),
                    holder: "another replica".into(),
                    seconds: self.lease_ms() / 1000,
                })
            }
        }
    }

    /// The cursor entry and its revision (`None`, `None` when there is none).
    async fn load_cursor(&self, key: &str) -> Result<(Option<Stored>, Option<u64>), FeedError> {
        let bucket = self.inner.publisher.bus().names().feed_cursors_bucket();
        let entry = self
            .inner
            .cursors
            .entry(key)
            .await
            .map_err(|e| FeedError::Cursor {
                bucket: bucket.clone(),
                reason: e.to_string(),
            })?;
        Ok(match entry {
            Some(e) if e.operation == async_nats::jetstream::kv::Operation::Put => {
                match serde_json::from_slice::<Stored>(&e.value) {
                    Ok(stored) => (Some(stored), Some(e.revision)),
                    Err(error) => {
                        tracing::warn!(%key, %error, "unreadable feed cursor; starting afresh");
                        (None, Some(e.revision))
                    }
                }
            }
            Some(e) => (None, Some(e.revision)),
            None => (None, None),
        })
    }

    /// Writes the new cursor (and renews the lease) if the entry is still
    /// at the revision this replica took the lease at.
    async fn store_cursor(
        &self,
        eco: Ecosystem,
        key: &str,
        cursor: &Cursor,
        lease_revision: u64,
    ) -> Result<(), FeedError> {
        let stored = Stored {
            cursor: cursor.clone(),
            lease: Some(Lease {
                holder: self.inner.holder.clone(),
                expires_ms: Utc::now().timestamp_millis() + self.lease_ms(),
            }),
        };
        let body = serde_json::to_vec(&stored).expect("a cursor serialises");
        match self
            .inner
            .cursors
            .update(key, body.into(), lease_revision)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                use async_nats::jetstream::kv::UpdateErrorKind;
                self.inner
                    .metrics
                    .leader
                    .get_or_create(&FeedMetrics::labels(eco))
                    .set(0);
                if matches!(error.kind(), UpdateErrorKind::WrongLastRevision) {
                    Err(FeedError::LeaseLost { eco: cli_name(eco) })
                } else {
                    Err(FeedError::Cursor {
                        bucket: self.inner.publisher.bus().names().feed_cursors_bucket(),
                        reason: error.to_string(),
                    })
                }
            }
        }
    }
}

/// A little randomness for the replica's name (no RNG dependency).
fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() as u32
}
