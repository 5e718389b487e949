//! Helpers shared by the bus's integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, BusConfig, JetStreamBus};
use paddock_proto::v1::{Ecosystem, PackageRef, Release};

/// A bus config with short timings for tests.
pub fn quick_config(prefix: &str) -> BusConfig {
    let mut config = BusConfig {
        prefix: prefix.to_owned(),
        ..Default::default()
    };
    config.topology.ack_wait = Duration::from_secs(2);
    config.topology.max_deliver = 5;
    config.consumer.backoff_initial = Duration::from_millis(200);
    config.consumer.backoff_max = Duration::from_secs(5);
    config.consumer.pull_expires = Duration::from_millis(500);
    config.consumer.shutdown_grace = Duration::from_secs(2);
    config
}

/// Connects and creates the topology.
pub async fn bus(url: &str, config: &BusConfig) -> JetStreamBus {
    let bus = JetStreamBus::connect(url, config, Arc::new(BusMetrics::default()))
        .await
        .unwrap();
    bus.ensure_topology().await.unwrap();
    bus
}

pub fn release(name: &str, version: &str) -> Release {
    Release {
        package: Some(PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: name.into(),
            version: version.into(),
        }),
        feed_name: "test".into(),
        ..Default::default()
    }
}

/// Polls `check` every 20 ms until it holds, failing after `timeout`.
pub async fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads every message of the dead-letter stream.
pub async fn dead_letters(
    bus: &JetStreamBus,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let mut stream = bus
        .jetstream()
        .get_stream(
            bus.names()
                .stream(paddock_bus::names::StreamKind::DeadLetters),
        )
        .await
        .unwrap();
    let count = stream.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=count {
        out.push(stream.get_raw_message(seq).await.unwrap());
    }
    out
}
