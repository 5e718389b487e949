//! The feed service, `run(FeedServiceConfig, ServiceContext)`: every
//! registry's new-release feed, polled with a durable cursor, each new
//! release published once with its verified artifact stored in the object
//! store.
//!
//! The feed formats and the publisher are `paddock-feed`'s; this crate is
//! the service around them: the polling loops, the cursors in the
//! `feed-cursors` bucket, the failure records and the metrics.
//!
//! # Layout
//!
//! - [`run`]: builds the service from [`FeedServiceConfig`], registers its
//!   metrics and its readiness component `feed`, prints `feed: polling …`
//!   and polls until shutdown (see `paddock_runtime::service`).
//! - [`service`]: [`FeedService`], the polling loops, cursor discipline and
//!   failure records.
//! - [`config`]: `[feed]`, per ecosystem; [`metrics`]: `paddock_feed_*`.

pub mod config;
pub mod metrics;
pub mod service;

use std::sync::Arc;

use paddock_registry::RegistriesConfig;
use paddock_runtime::service::ServiceContext;

pub use config::{EcosystemFeed, FeedConfig};
pub use metrics::FeedMetrics;
pub use service::{FeedError, FeedService, PollReport};

/// What the feed service needs.
#[derive(Debug, Clone)]
pub struct FeedServiceConfig {
    /// `[feed]`: which ecosystems, how often, what to watch.
    pub feed: FeedConfig,
    /// The registries, with what the machine's own clients configure
    /// already discovered.
    pub registries: RegistriesConfig,
}

/// Runs the feed service until `cx.shutdown`; an error is a failed start
/// (a poll that fails is logged and retried, and never stops the service).
pub async fn run(config: FeedServiceConfig, mut cx: ServiceContext) -> Result<(), FeedError> {
    let metrics = Arc::new(FeedMetrics::default());
    cx.metrics.register(|registry| metrics.register(registry));
    let feed = FeedService::new(&cx.bus, &config.registries, &config.feed, metrics).await?;
    let polled: Vec<&str> = feed
        .ecosystems()
        .into_iter()
        .map(paddock_proto::ecosystem::cli_name)
        .collect();
    println!(
        "feed: polling {}",
        if polled.is_empty() {
            "nothing (no registry configured)".to_owned()
        } else {
            polled.join(", ")
        }
    );
    cx.health.register("feed");
    cx.health.set_ready("feed");
    cx.started();
    feed.run(cx.shutdown.clone()).await;
    Ok(())
}
