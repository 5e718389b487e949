//! The static service with a real nats-server and the fixture registry.

use std::time::Duration;

use paddock_bus::names::{headers, StreamKind};
use paddock_bus::{Bus, CancellationToken, JetStreamBus};
use paddock_feed::ReleasePublisher;
use paddock_proto::v1::{ArtifactKind, Ecosystem, FeedSource, PackageRef, StaticResult};
use paddock_registry::RegistryClient;
use paddock_static::StaticConfig;
use paddock_static_service::StaticService;
use paddock_testkit::registry::FixtureRegistry;
use paddock_testkit::TestNats;
use prost::Message;

async fn stream_messages(
    bus: &JetStreamBus,
    kind: StreamKind,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let mut stream = bus
        .jetstream()
        .get_stream(bus.names().stream(kind))
        .await
        .unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        if let Ok(m) = stream.get_raw_message(seq).await {
            out.push(m);
        }
    }
    out
}

#[tokio::test]
async fn every_release_gets_one_result_and_a_poison_artifact_is_dead_lettered() {
    let nats = TestNats::start().await;
    let (bus, _config) = nats
        .bus_with(|config| {
            config.topology.max_deliver = 3;
            config.consumer.backoff_initial = Duration::from_millis(50);
        })
        .await;
    let registry = FixtureRegistry::start().await;
    let publisher = ReleasePublisher::new(&bus).await.unwrap();

    // Every fixture package's latest release, as the feed would publish it.
    let mut expected = 0;
    for (eco, name) in [
        (Ecosystem::Npm, "@paddock/hook"),
        (Ecosystem::Pypi, "paddock-hook"),
        (Ecosystem::Rubygems, "paddock_hook"),
        (Ecosystem::Packagist, "paddock/honest"),
        (Ecosystem::CratesIo, "paddock-hook"),
    ] {
        let client = RegistryClient::new(eco, &registry.registries_config()).unwrap();
        publisher
            .fetch_and_publish(&client, name, None, FeedSource::Manual, "test")
            .await
            .unwrap();
        expected += 1;
    }
    // A poison release: its stored artifact is not an archive.
    let poison = PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: "poison".into(),
        version: "6.6.6".into(),
    };
    publisher
        .publish_local(
            poison,
            "poison-6.6.6.tgz",
            b"<html>not a tarball</html>".to_vec().into(),
            ArtifactKind::NpmTarball,
        )
        .await
        .unwrap();

    let service = StaticService::new(&bus, StaticConfig::default(), Default::default(), 64 << 20)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(service.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let results = stream_messages(&bus, StreamKind::Results).await.len();
        let dead = stream_messages(&bus, StreamKind::DeadLetters).await.len();
        if results >= expected && dead >= 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "results {results}/{expected}, dead letters {dead}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let results: Vec<StaticResult> = stream_messages(&bus, StreamKind::Results)
        .await
        .iter()
        .map(|m| StaticResult::decode(m.payload.as_ref()).unwrap())
        .collect();
    assert_eq!(results.len(), expected, "exactly one result per release");
    for r in &results {
        let name = &r.package.as_ref().unwrap().name;
        assert!(r.files.len() >= 2, "{name} analysed");
        assert_eq!(r.artifact.as_ref().unwrap().sha256.len(), 64);
        if name != "paddock/honest" {
            assert!(
                r.findings
                    .iter()
                    .any(|f| f.rule_id == "capability.install-hook"),
                "{name}: {:?}",
                r.findings.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
            );
        }
    }
    let dead = stream_messages(&bus, StreamKind::DeadLetters).await;
    assert_eq!(dead.len(), 1);
    let reason = dead[0]
        .headers
        .get(headers::DLQ_REASON)
        .unwrap()
        .as_str()
        .to_owned();
    assert!(
        reason.contains("cannot extract poison-6.6.6.tgz"),
        "{reason}"
    );
    assert!(bus.names().prefix().starts_with('t'));
}
