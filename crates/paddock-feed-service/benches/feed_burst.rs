//! The feed's publish rate for a burst of fixture releases.
//!
//! `cargo bench -p paddock-feed-service --bench feed_burst [-- N]` (default N =
//! 10000) serves N crates from the fixture registry on loopback, starts a
//! nats-server, and times one poll of the crates.io feed that resolves,
//! downloads, verifies, stores (object store) and publishes every release,
//! then a second poll that finds them all already published.

use std::sync::Arc;
use std::time::Instant;

use paddock_bus::metrics::BusMetrics;
use paddock_bus::{BusConfig, JetStreamBus};
use paddock_feed_service::{FeedConfig, FeedMetrics, FeedService};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::packages::{FixturePackage, Flavour};
use paddock_testkit::registry::FixtureRegistry;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let packages: Vec<FixturePackage> = (0..n)
        .map(|i| FixturePackage {
            eco: Ecosystem::CratesIo,
            name: format!("burst-{i:05}"),
            version: "1.0.0".into(),
            published: format!(
                "2026-11-{:02}T{:02}:{:02}:{:02}Z",
                1 + i / 86_400 % 28,
                i / 3600 % 24,
                i / 60 % 60,
                i % 60
            ),
            flavour: Flavour::Honest,
            dependencies: Vec::new(),
        })
        .collect();
    let started = Instant::now();
    let registry = FixtureRegistry::with_packages(packages).await;
    println!(
        "fixture registry with {n} crates ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let nats = paddock_testkit::TestNats::start().await;
    let bus_config = BusConfig {
        prefix: "burst".into(),
        ..Default::default()
    };
    let bus = JetStreamBus::connect(nats.url(), &bus_config, Arc::new(BusMetrics::default()))
        .await
        .unwrap();
    bus.ensure_topology().await.unwrap();

    let mut config = FeedConfig::default();
    config.crates_io.initial_lookback = std::time::Duration::from_secs(365 * 24 * 3600);
    config.max_items_per_poll = n + 1;
    for concurrency in [32usize] {
        config.concurrency = concurrency;
        let feed = FeedService::new(
            &bus,
            &registry.registries_config(),
            &config,
            Arc::new(FeedMetrics::default()),
        )
        .await
        .unwrap();
        let started = Instant::now();
        let report = feed.poll_once(Ecosystem::CratesIo).await.unwrap();
        let elapsed = started.elapsed();
        println!(
            "first poll, concurrency {concurrency}: {} releases published in {:.2} s = {:.0} releases/s (resolve + download + verify + store + publish each)",
            report.published,
            elapsed.as_secs_f64(),
            report.published as f64 / elapsed.as_secs_f64()
        );
        let started = Instant::now();
        let again = feed.poll_once(Ecosystem::CratesIo).await.unwrap();
        println!(
            "second poll: {} items, {} published, {} absorbed as duplicates in {:.2} s",
            again.items,
            again.published,
            again.duplicates,
            started.elapsed().as_secs_f64()
        );
    }
}
