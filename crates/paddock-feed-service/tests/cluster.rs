//! Submitting on a three-node cluster while the artifact store's leader is
//! SIGKILLed: connecting, the topology, the artifact and the release all
//! ride out the election, as `paddock submit` and the feed need.

use std::sync::Arc;

use bytes::Bytes;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, BusConfig, JetStreamBus};
use paddock_feed::ReleasePublisher;
use paddock_proto::v1::{ArtifactKind, Ecosystem, PackageRef};
use paddock_testkit::cluster::TestCluster;
use paddock_testkit::unique_prefix;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_rides_out_the_artifact_stores_election() {
    let mut cluster = TestCluster::start(3).await;
    let mut config = BusConfig {
        prefix: unique_prefix(),
        ..Default::default()
    };
    config.topology.replicas = 3;
    let bus = JetStreamBus::connect(&cluster.urls(), &config, Arc::new(BusMetrics::default()))
        .await
        .unwrap();
    bus.ensure_topology().await.unwrap();
    let objects = format!("OBJ_{}", bus.names().artifacts_bucket());
    let mut info = bus.jetstream().get_stream(&objects).await.unwrap();
    assert_eq!(info.info().await.unwrap().config.num_replicas, 3);
    for kv in [
        bus.names().feed_cursors_bucket(),
        bus.names().history_bucket(),
        bus.names().results_index_bucket(),
    ] {
        let mut s = bus
            .jetstream()
            .get_stream(format!("KV_{kv}"))
            .await
            .unwrap();
        assert_eq!(s.info().await.unwrap().config.num_replicas, 3, "{kv}");
    }

    for round in 0..2 {
        let leader = cluster.stream_leader(&objects).await.expect("a leader");
        cluster.kill(leader).await;
        // What `paddock submit` does, at once: connect, topology, store,
        // publish.
        let submit =
            JetStreamBus::connect(&cluster.urls(), &config, Arc::new(BusMetrics::default()))
                .await
                .unwrap_or_else(|e| panic!("round {round}: connecting: {e}"));
        submit
            .ensure_topology()
            .await
            .unwrap_or_else(|e| panic!("round {round}: topology: {e}"));
        let publisher = ReleasePublisher::new(&submit).await.unwrap();
        let package = PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "election".into(),
            version: format!("1.0.{round}"),
        };
        let bytes = Bytes::from(format!("artifact {round}").repeat(1000));
        let (release, published) = publisher
            .publish_local(
                package,
                "election.tgz",
                bytes.clone(),
                ArtifactKind::NpmTarball,
            )
            .await
            .unwrap_or_else(|e| panic!("round {round}: submitting: {e}"));
        assert!(!published.duplicate);
        let key = &release.artifacts[0].object_key;
        let store = submit.artifacts().await.unwrap();
        let mut read = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut store.get(key).await.unwrap(), &mut read)
            .await
            .unwrap();
        assert_eq!(read, bytes, "round {round}: the stored artifact");
        cluster.restart(leader).await;
    }
}
