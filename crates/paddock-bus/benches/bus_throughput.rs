//! Bus throughput through a real nats-server with full ack discipline.
//!
//! `cargo bench -p paddock-bus --bench bus_throughput [-- N]` (default N =
//! 20000) starts a local nats-server (PADDOCK_NATS_SERVER or `nats-server` on
//! PATH), then measures:
//!
//! - publish, one at a time: each publish waits for its stream ack;
//! - publish, 256 in flight: the same acks, pipelined;
//! - consume with ack: the consume loop decodes each `Release`, runs a no-op
//!   handler and acks with server confirmation (double ack).
//!
//! and prints messages per second for each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, BusConfig, CancellationToken, Delivery, JetStreamBus};
use paddock_proto::v1::{Artifact, Ecosystem, PackageRef, Release};

fn release(i: usize) -> Release {
    Release {
        package: Some(PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: format!("@bench/package-{i}"),
            version: "1.0.0".into(),
        }),
        feed_name: "bench".into(),
        artifacts: vec![Artifact {
            filename: format!("package-{i}-1.0.0.tgz"),
            size: 12_345,
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            url: format!("http://127.0.0.1:1/@bench/package-{i}/-/package-{i}-1.0.0.tgz"),
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn connect(url: &str, prefix: &str, concurrency: usize) -> JetStreamBus {
    connect_with(url, prefix, concurrency, false).await
}

async fn connect_with(
    url: &str,
    prefix: &str,
    concurrency: usize,
    confirm_acks: bool,
) -> JetStreamBus {
    let mut config = BusConfig {
        prefix: prefix.into(),
        ..Default::default()
    };
    config.consumer.concurrency = concurrency;
    config.consumer.confirm_acks = confirm_acks;
    config.topology.max_ack_pending = 4096;
    let bus = JetStreamBus::connect(url, &config, Arc::new(BusMetrics::default()))
        .await
        .unwrap();
    bus.ensure_topology().await.unwrap();
    bus
}

fn rate(n: usize, elapsed: Duration) -> String {
    format!(
        "{:>9.0} msg/s  ({n} messages in {:.2} s)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    )
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let nats = paddock_testkit::TestNats::start().await;
    println!(
        "bus throughput, {n} Release messages, nats-server at {}",
        nats.url()
    );

    // Sequential publishes.
    let bus = connect(nats.url(), "benchseq", 64).await;
    let subject = bus.names().release(Ecosystem::Npm);
    let sequential = n.min(5_000);
    let started = Instant::now();
    for i in 0..sequential {
        bus.publish(&subject, &format!("seq-{i}"), &release(i))
            .await
            .unwrap();
    }
    println!(
        "publish, 1 in flight:     {}",
        rate(sequential, started.elapsed())
    );

    // Pipelined publishes.
    let bus = connect(nats.url(), "bench", 64).await;
    let subject = bus.names().release(Ecosystem::Npm);
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let (bus, subject) = (bus.clone(), subject.clone());
            async move {
                bus.publish(&subject, &format!("m-{i}"), &release(i))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(256)
        .for_each(|_| async {})
        .await;
    println!("publish, 256 in flight:   {}", rate(n, started.elapsed()));

    // Consume with ack: each round consumes the same n messages through a
    // consumer of its own, and the clock stops when the server holds
    // every ack (nothing pending, nothing waiting for an ack).
    let rounds = [
        (1usize, false, "ack"),
        (64, false, "ack"),
        (64, true, "confirmed ack"),
    ];
    for (round, (concurrency, confirm, label)) in rounds.into_iter().enumerate() {
        let bus = connect_with(nats.url(), "bench", concurrency, confirm).await;
        let mut spec = bus.names().static_consumer();
        spec.durable = format!("bench-{round}");
        let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
        js.get_stream(&spec.stream_name)
            .await
            .unwrap()
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                durable_name: Some(spec.durable.clone()),
                filter_subject: spec.filter_subject.clone(),
                ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                max_ack_pending: 4096,
                ..Default::default()
            })
            .await
            .unwrap();
        let done = Arc::new(AtomicU64::new(0));
        let shutdown = CancellationToken::new();
        let started = Instant::now();
        let task = {
            let (bus, done, shutdown, spec) =
                (bus.clone(), done.clone(), shutdown.clone(), spec.clone());
            tokio::spawn(async move {
                bus.consume(
                    &spec,
                    move |_d: Delivery<Release>| {
                        done.fetch_add(1, Ordering::Relaxed);
                        async { Ok(()) }
                    },
                    shutdown,
                )
                .await
            })
        };
        while done.load(Ordering::Relaxed) < n as u64 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        loop {
            let info = bus.consumer_info(&spec).await.unwrap();
            if info.num_ack_pending == 0
                && info.num_pending == 0
                && info.ack_floor.stream_sequence > 0
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let elapsed = started.elapsed();
        shutdown.cancel();
        task.await.unwrap().unwrap();
        println!(
            "consume+{label}, {concurrency:>2} handlers: {}",
            rate(n, elapsed)
        );
    }
}
