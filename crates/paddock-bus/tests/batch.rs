//! The batch consumer against a real nats-server with JetStream: batches
//! bounded by size, every disposition settled as the single-message
//! discipline settles it, panics retried, and readiness reported.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bus, dead_letters, quick_config, release, wait_until};

use paddock_bus::names::{headers, StreamKind};
use paddock_bus::{
    BatchConfig, BatchContext, BatchDelivery, BatchHandler, Bus, CancellationToken, Disposition,
    Readiness,
};
use paddock_proto::v1::{Ecosystem, Release};
use paddock_testkit::{unique_prefix, TestNats};
use prost::Message;

/// Answers by package name: `ok-*` acked, `dead-*` dead-lettered, `retry-*`
/// retried until its deliveries run out, `panic-*` panics once then is
/// acked. Records every batch it was given.
/// Each batch handed over: (package name, delivery attempt) per message.
type Batches = Arc<Mutex<Vec<Vec<(String, u64)>>>>;

#[derive(Clone, Default)]
struct ByName {
    batches: Batches,
    panicked: Arc<Mutex<bool>>,
}

impl BatchHandler for ByName {
    async fn handle(&mut self, batch: &[BatchDelivery], _: &BatchContext) -> Vec<Disposition> {
        let names: Vec<(String, u64)> = batch
            .iter()
            .map(|d| {
                let release = Release::decode(d.payload.as_ref()).unwrap();
                (release.package.unwrap().name, d.attempt)
            })
            .collect();
        self.batches.lock().unwrap().push(names.clone());
        let panic_now = names.iter().any(|(n, _)| n.starts_with("panic-"))
            && !std::mem::replace(&mut *self.panicked.lock().unwrap(), true);
        if panic_now {
            panic!("a handler bug");
        }
        names
            .iter()
            .map(|(name, _)| match name.split('-').next().unwrap() {
                "ok" | "panic" => Disposition::Ack,
                "dead" => Disposition::DeadLetter(format!("{name} can never be stored")),
                _ => Disposition::Retry(format!("{name} is still failing")),
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_disposition_is_settled_and_batches_stay_bounded() {
    let nats = TestNats::start().await;
    let mut config = quick_config(&unique_prefix());
    config.topology.max_deliver = 3;
    config.consumer.backoff_initial = Duration::from_millis(50);
    let bus = bus(nats.url(), &config).await;
    let subject = bus.names().release(Ecosystem::Npm);
    let mut names = Vec::new();
    for i in 0..40 {
        names.push(format!("ok-{i}"));
    }
    names.extend(["dead-a", "retry-a", "panic-a"].map(String::from));
    for name in &names {
        bus.publish(&subject, name, &release(name, "1"))
            .await
            .unwrap();
    }

    let handler = ByName::default();
    let shutdown = CancellationToken::new();
    // The topology's Parquet sink consumer of the releases stream.
    let spec = bus
        .names()
        .sink_consumers("parquet")
        .into_iter()
        .find(|s| s.stream == StreamKind::Releases)
        .unwrap();
    let batch = BatchConfig {
        max_rows: 16,
        max_bytes: 1 << 20,
        max_age: Duration::from_millis(100),
    };
    let task = {
        let (bus, handler, shutdown, spec) =
            (bus.clone(), handler.clone(), shutdown.clone(), spec.clone());
        tokio::spawn(async move { bus.consume_batches(&spec, &batch, handler, shutdown).await })
    };

    // Everything settles: two dead letters, nothing pending, nothing
    // unacknowledged.
    let mut consumer = bus.open_consumer(&spec).await.unwrap();
    for _ in 0..600 {
        let info = consumer.info().await.unwrap();
        if info.num_pending == 0 && info.num_ack_pending == 0 && dead_letters(&bus).await.len() >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let info = consumer.info().await.unwrap();
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let batches = handler.batches.lock().unwrap().clone();
    assert!(
        batches.iter().all(|b| !b.is_empty() && b.len() <= 16),
        "{batches:?}"
    );
    // Each name's deliveries: `ok-*` once, the panicking one twice (the
    // panic retried it), the retried one three times.
    // The batch that panicked is retried whole: its members are delivered
    // once more.
    let panicked: Vec<String> = batches
        .iter()
        .find(|b| b.iter().any(|(n, _)| n == "panic-a"))
        .unwrap()
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (name, attempt) in batches.into_iter().flatten() {
        seen.entry(name).or_default().push(attempt);
    }
    let once_more = |name: &str| {
        if panicked.iter().any(|n| n == name) {
            vec![1, 2]
        } else {
            vec![1]
        }
    };
    for i in 0..40 {
        let name = format!("ok-{i}");
        assert_eq!(seen[&name], once_more(&name), "{name}: {seen:?}");
    }
    assert_eq!(seen["dead-a"], once_more("dead-a"));
    assert_eq!(seen["retry-a"], [1, 2, 3]);
    assert_eq!(seen["panic-a"], [1, 2]);

    let letters: BTreeMap<String, String> = dead_letters(&bus)
        .await
        .iter()
        .map(|m| {
            let name = Release::decode(m.payload.as_ref())
                .unwrap()
                .package
                .unwrap()
                .name;
            let reason = m
                .headers
                .get(headers::DLQ_REASON)
                .unwrap()
                .as_str()
                .to_owned();
            (name, reason)
        })
        .collect();
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert_eq!(letters["dead-a"], "dead-a can never be stored");
    assert_eq!(
        letters["retry-a"],
        "gave up after 3 deliveries: retry-a is still failing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_consume_loop() {
    let nats = TestNats::start().await;
    let config = quick_config(&unique_prefix());
    let states: Arc<Mutex<BTreeMap<String, Result<(), String>>>> = Default::default();
    let bus = {
        let states = states.clone();
        bus(nats.url(), &config)
            .await
            .with_readiness(Readiness::new(move |spec, state| {
                states.lock().unwrap().insert(spec.durable.clone(), state);
            }))
    };
    let state = |durable: &str| states.lock().unwrap().get(durable).cloned();
    let batch = BatchConfig::default();

    // A consumer that exists: ready once it pulls, not ready once stopped.
    let spec = bus.names().sink_consumers("parquet")[0].clone();
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, shutdown, spec, batch) =
            (bus.clone(), shutdown.clone(), spec.clone(), batch.clone());
        tokio::spawn(async move {
            bus.consume_batches(&spec, &batch, ByName::default(), shutdown)
                .await
        })
    };
    wait_until(Duration::from_secs(10), "the consumer is ready", || {
        state(&spec.durable) == Some(Ok(()))
    })
    .await;
    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(state(&spec.durable), Some(Err("stopped".into())));

    // A consumer that cannot start (it was deleted): not ready, and why.
    let mut missing = spec.clone();
    missing.durable = "sink-nowhere-releases".into();
    let failed = bus
        .consume_batches(
            &missing,
            &batch,
            ByName::default(),
            CancellationToken::new(),
        )
        .await;
    assert!(failed.is_err());
    let reason = state(&missing.durable).unwrap().unwrap_err();
    assert!(
        reason.starts_with("cannot start: consumer `sink-nowhere-releases`"),
        "{reason}"
    );
}
