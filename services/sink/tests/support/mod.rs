//! What the sink's acceptance tests share: a bus with its topology, the
//! mixed messages, publishing them, killing and restarting the real binary,
//! and waiting until a sink's consumers are drained.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use paddock_bus::{Bus, BusConfig, JetStreamBus};
use paddock_proto::v1::{self, Severity};
use paddock_sink::Table;
use paddock_testkit::rng::XorShift;
use paddock_testkit::TestNats;
use prost::Message as _;
use prost_reflect::DynamicMessage;

use crate::common;

/// A bus on a fresh prefix, with the topology in place.
pub async fn bus(nats: &TestNats) -> (JetStreamBus, String) {
    bus_with(nats, |_| {}).await
}

/// A bus on a fresh prefix, its configuration adjusted, with the topology
/// in place.
pub async fn bus_with(
    nats: &TestNats,
    adjust: impl FnOnce(&mut BusConfig),
) -> (JetStreamBus, String) {
    let (bus, config) = nats.bus_with(adjust).await;
    (bus, config.prefix)
}

/// `paddock-sink` with the settings every acceptance run shares; each test
/// adds its sink's own.
pub fn sink_command(nats: &str, prefix: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_paddock-sink"));
    command
        .args(["--nats-url", nats])
        .env("PADDOCK__BUS__PREFIX", prefix)
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__BUS__CONSUMER__BACKOFF_INITIAL", "100ms")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true);
    command
}

/// `n` messages of mixed types and ecosystems, generated from the
/// descriptors (so a new proto field is covered too): every field set, or
/// every other field cleared at each level (null structs, empty lists,
/// defaults). `adjust` may change each before it is encoded.
pub fn mixed(
    rng: &mut XorShift,
    n: u64,
    adjust: impl Fn(&mut DynamicMessage),
) -> Vec<(Table, Vec<u8>)> {
    let kinds = [
        Table::Releases,
        Table::StaticResults,
        Table::DynamicResults,
        Table::DynamicResults,
        Table::Alerts,
    ];
    (0..n)
        .map(|i| {
            let table = *rng.pick(&kinds);
            let mut message = if i % 2 == 0 {
                common::populated(&table.descriptor(), i + 1)
            } else {
                common::sparse(&table.descriptor(), i + 1)
            };
            adjust(&mut message);
            (table, message.encode_to_vec())
        })
        .collect()
}

/// Publishes one message of `table` on its subject; its stream sequence.
pub async fn publish(bus: &JetStreamBus, id: &str, table: Table, bytes: &[u8]) -> u64 {
    let published = match table {
        Table::Releases => {
            let m = v1::Release::decode(bytes).unwrap();
            let subject = bus
                .names()
                .release(m.package.clone().unwrap_or_default().ecosystem());
            bus.publish(&subject, id, &m).await
        }
        Table::StaticResults => {
            let m = v1::StaticResult::decode(bytes).unwrap();
            let subject = bus
                .names()
                .static_result(m.package.clone().unwrap_or_default().ecosystem());
            bus.publish(&subject, id, &m).await
        }
        Table::DynamicResults => {
            let m = v1::DynamicResult::decode(bytes).unwrap();
            let subject = bus
                .names()
                .dynamic_result(m.package.clone().unwrap_or_default().ecosystem());
            bus.publish(&subject, id, &m).await
        }
        Table::Alerts => {
            let m = v1::Alert::decode(bytes).unwrap();
            let severity = Severity::try_from(m.severity).unwrap_or(Severity::Info);
            let subject = bus
                .names()
                .alert(severity, m.package.clone().unwrap_or_default().ecosystem());
            bus.publish(&subject, id, &m).await
        }
        Table::Verdicts => unreachable!("verdicts travel inside alerts"),
    }
    .expect("publish");
    published.sequence
}

/// Publishes `messages` in the background (ids `test:<i>`) while `start`ed
/// sinks are SIGKILLed three times, each after `base` plus up to `spread`
/// (seeded); returns the running sink and the messages' stream sequences.
/// `after_kill` reports what the kill left, for the test's log.
pub async fn publish_through_kills(
    bus: &JetStreamBus,
    messages: &[(Table, Vec<u8>)],
    rng: &mut XorShift,
    (base, spread): (Duration, Duration),
    start: impl Fn() -> tokio::process::Child,
    after_kill: impl Fn() -> String,
) -> (tokio::process::Child, Vec<u64>) {
    let publisher = {
        let (bus, messages) = (bus.clone(), messages.to_vec());
        tokio::spawn(async move {
            let mut sequences = Vec::new();
            for (i, (table, bytes)) in messages.iter().enumerate() {
                sequences.push(publish(&bus, &format!("test:{i}"), *table, bytes).await);
            }
            sequences
        })
    };
    let mut child = start();
    for kill in 0..3 {
        let wait = base + Duration::from_millis(rng.below(spread.as_millis() as usize) as u64);
        tokio::time::sleep(wait).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        eprintln!("kill {}: after {wait:?}, {}", kill + 1, after_kill());
        child = start();
    }
    (child, publisher.await.unwrap())
}

/// Waits until the `kind` sink's consumers have nothing pending or
/// unacknowledged.
pub async fn drained(bus: &JetStreamBus, kind: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let mut busy = Vec::new();
        for spec in bus.names().sink_consumers(kind) {
            let info = bus.consumer_info(&spec).await.unwrap();
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                busy.push(format!(
                    "{}: {} pending, {} unacked",
                    spec.durable, info.num_pending, info.num_ack_pending
                ));
            }
        }
        if busy.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sink did not drain: {busy:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
