//! The polling loops: one per enabled ecosystem, which polls its feed,
//! publishes every new release, and only then advances its cursor.
//!
//! Durability: the cursor in the `feed-cursors` bucket moves only after
//! every release of the poll is published (acked by the stream) or recorded
//! as failed on the dead-letter stream. A crash mid-poll repeats the poll;
//! releases published twice are absorbed by their message id.

use std::sync::Arc;
use std::time::Duration;

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
    feeds: Vec<Feed>,
    config: FeedConfig,
    metrics: Arc<FeedMetrics>,
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
                feeds,
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
        let cursor = match self.load_cursor(&key).await? {
            Some(cursor) => cursor,
            None => Cursor {
                time: Some(
                    now - chrono::Duration::from_std(settings.initial_lookback).unwrap_or_default(),
                ),
                token: settings.initial_token.clone(),
            },
        };
        let mut poll =
            sources::poll(eco, &feed.http, &feed.urls, &cursor, &settings.watch, now).await?;

        // Oldest first; beyond the per-poll cap, the cursor stops at the
        // last release handled.
        poll.items.sort_by_key(|i| i.published);
        poll.items
            .dedup_by(|a, b| a.name == b.name && a.version == b.version);
        let max = self.inner.config.max_items_per_poll.max(1);
        if poll.items.len() > max {
            poll.items.truncate(max);
            poll.next.time = poll.items.last().and_then(|i| i.published).or(cursor.time);
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
            items: poll.items.len(),
            may_have_dropped: poll.may_have_dropped,
            ..Default::default()
        };
        for (item, outcome) in outcomes {
            match outcome {
                Ok((_, published)) if published.duplicate => report.duplicates += 1,
                Ok(_) => report.published += 1,
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
        self.store_cursor(&key, &poll.next).await?;
        Ok(report)
    }

    async fn load_cursor(&self, key: &str) -> Result<Option<Cursor>, FeedError> {
        let bucket = self.inner.publisher.bus().names().feed_cursors_bucket();
        let value = self
            .inner
            .cursors
            .get(key)
            .await
            .map_err(|e| FeedError::Cursor {
                bucket: bucket.clone(),
                reason: e.to_string(),
            })?;
        Ok(match value {
            Some(bytes) => match serde_json::from_slice(&bytes) {
                Ok(cursor) => Some(cursor),
                Err(error) => {
                    tracing::warn!(%key, %error, "unreadable feed cursor; starting afresh");
                    None
                }
            },
            None => None,
        })
    }

    async fn store_cursor(&self, key: &str, cursor: &Cursor) -> Result<(), FeedError> {
        let bucket = self.inner.publisher.bus().names().feed_cursors_bucket();
        let body = serde_json::to_vec(cursor).expect("a cursor serialises");
        self.inner
            .cursors
            .put(key, body.into())
            .await
            .map(drop)
            .map_err(|e| FeedError::Cursor {
                bucket,
                reason: e.to_string(),
            })
    }
}
