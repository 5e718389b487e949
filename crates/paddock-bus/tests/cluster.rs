//! The bus on a three-node JetStream cluster: the topology is replicated
//! three times, and publishes ride out the SIGKILL of their stream's leader
//! (an election) and its restart, each message stored exactly once.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{quick_config, release};
use paddock_bus::metrics::BusMetrics;
use paddock_bus::names::{headers, release_msg_id, StreamKind};
use paddock_bus::{Bus, JetStreamBus};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::cluster::TestCluster;
use paddock_testkit::unique_prefix;

async fn publish_range(bus: &JetStreamBus, range: std::ops::Range<usize>) {
    for i in range {
        let rel = release("ride-out", &format!("1.0.{i}"));
        bus.publish(
            &bus.names().release(Ecosystem::Npm),
            &release_msg_id(rel.package.as_ref().unwrap()),
            &rel,
        )
        .await
        .unwrap_or_else(|e| panic!("release {i}: {e}"));
    }
}

/// The stream's state, asked again while the restarted node catches up.
async fn info_after_restart(
    stream: &mut async_nats::jetstream::stream::Stream,
) -> async_nats::jetstream::stream::State {
    for _ in 0..50 {
        if let Ok(info) = stream.info().await {
            return info.state.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the stream's info did not answer within 5 s of the restart")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_ride_out_the_stream_leaders_death_and_land_once() {
    let mut cluster = TestCluster::start(3).await;
    let mut config = quick_config(&unique_prefix());
    config.topology.replicas = 3;
    let metrics = Arc::new(BusMetrics::default());
    let bus = JetStreamBus::connect(&cluster.urls(), &config, metrics.clone())
        .await
        .unwrap();
    bus.ensure_topology().await.unwrap();
    let name = bus.names().stream(StreamKind::Releases);
    let mut stream = bus.jetstream().get_stream(&name).await.unwrap();
    assert_eq!(stream.info().await.unwrap().config.num_replicas, 3);

    publish_range(&bus, 0..40).await;
    let leader = cluster.stream_leader(&name).await.expect("a leader");
    cluster.kill(leader).await;
    // Published while the survivors elect a new leader.
    publish_range(&bus, 40..80).await;
    cluster.restart(leader).await;
    publish_range(&bus, 80..120).await;
    // A retried publish may have been stored the first time: the ids make
    // a second copy a duplicate, as these resends are.
    publish_range(&bus, 100..120).await;

    let state = info_after_restart(&mut stream).await;
    assert_eq!(state.messages, 120, "each release exactly once");
    // Read back by sequence (any replica answers a direct get; a read
    // that lands on the restarted node while it catches up is repeated).
    let last = state.last_sequence;
    let mut ids: HashMap<String, usize> = HashMap::new();
    for sequence in 1..=last {
        let mut tries = 0;
        let m = loop {
            match stream.direct_get(sequence).await {
                Ok(m) => break m,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("reading sequence {sequence}: {e}"),
            }
        };
        let id = m
            .headers
            .get(headers::MSG_ID)
            .map(|v| v.as_str().to_owned())
            .unwrap();
        *ids.entry(id).or_default() += 1;
    }
    assert_eq!(ids.len(), 120);
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");
    println!(
        "publishes retried during the election: {}",
        metrics.publish_retries.get()
    );
}

#[tokio::test]
async fn a_cluster_without_a_quorum_says_so_after_the_election_timeout() {
    let mut cluster = TestCluster::start(3).await;
    let mut config = quick_config(&unique_prefix());
    config.topology.replicas = 3;
    config.election_timeout = Duration::from_secs(3);
    config.request_timeout = Duration::from_millis(500);
    let bus = JetStreamBus::connect(&cluster.urls(), &config, Arc::new(BusMetrics::default()))
        .await
        .unwrap();
    bus.ensure_topology().await.unwrap();
    // Two of three gone: no leader can be elected.
    cluster.kill(1).await;
    cluster.kill(2).await;
    let rel = release("no-quorum", "1.0.0");
    let started = std::time::Instant::now();
    let error = bus
        .publish(
            &bus.names().release(Ecosystem::Npm),
            &release_msg_id(rel.package.as_ref().unwrap()),
            &rel,
        )
        .await
        .unwrap_err()
        .to_string();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(15),
        "gave up after {took:?}"
    );
    assert!(error.contains("electing a leader"), "{error}");
}
