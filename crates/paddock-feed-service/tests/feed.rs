//! The feed service against the fixture registry and a real nats-server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use paddock_bus::names::{headers, StreamKind};
use paddock_bus::{Bus, JetStreamBus};
use paddock_feed_service::{FeedConfig, FeedError, FeedMetrics, FeedService};
use paddock_proto::ecosystem::ALL;
use paddock_proto::v1::{Ecosystem, Release};
use paddock_registry::digest::sha256_hex;
use paddock_testkit::registry::{Fault, FixtureRegistry};
use paddock_testkit::TestNats;
use prost::Message;
use tokio::io::AsyncReadExt;

/// Feeds that start at the beginning of the fixture data.
fn feed_config() -> FeedConfig {
    let mut config = FeedConfig::default();
    for eco in ALL {
        let feed = config.ecosystem_mut(eco);
        feed.initial_lookback = Duration::from_secs(365 * 24 * 3600);
        feed.interval = Duration::from_millis(200);
    }
    config.npm.initial_token = Some("0".into());
    config.packagist.initial_token = Some("0".into());
    config.lease = LEASE;
    config
}

/// The feeds' lease in these tests.
const LEASE: Duration = Duration::from_millis(1500);

async fn service(bus: &JetStreamBus, registry: &FixtureRegistry) -> FeedService {
    FeedService::new(
        bus,
        &registry.registries_config(),
        &feed_config(),
        Arc::new(FeedMetrics::default()),
    )
    .await
    .unwrap()
}

/// Every Release on the stream, as (eco, name, version) → count.
async fn published(bus: &JetStreamBus) -> (BTreeMap<(i32, String, String), usize>, Vec<Release>) {
    let mut stream = bus
        .jetstream()
        .get_stream(bus.names().stream(StreamKind::Releases))
        .await
        .unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut counts = BTreeMap::new();
    let mut releases = Vec::new();
    for seq in 1..=last {
        let Ok(msg) = stream.get_raw_message(seq).await else {
            continue;
        };
        let release = Release::decode(msg.payload.as_ref()).unwrap();
        let p = release.package.clone().unwrap();
        *counts.entry((p.ecosystem, p.name, p.version)).or_insert(0) += 1;
        releases.push(release);
    }
    (counts, releases)
}

fn expected(registry: &FixtureRegistry) -> BTreeMap<(i32, String, String), usize> {
    registry
        .packages()
        .into_iter()
        .map(|p| ((p.eco as i32, p.name, p.version), 1))
        .collect()
}

/// Releases as the registries spell their versions (Packagist adds `v`).
fn normalise(
    counts: BTreeMap<(i32, String, String), usize>,
) -> BTreeMap<(i32, String, String), usize> {
    counts
        .into_iter()
        .map(|((e, n, v), c)| ((e, n, v.trim_start_matches('v').to_owned()), c))
        .collect()
}

#[tokio::test]
async fn every_fixture_release_is_published_once_with_its_artifact_stored() {
    let nats = TestNats::start().await;
    let (bus, _) = nats.bus().await;
    let registry = FixtureRegistry::start().await;
    let feed = service(&bus, &registry).await;
    assert_eq!(feed.ecosystems().len(), 5);

    for eco in ALL {
        let report = feed
            .poll_once(eco)
            .await
            .unwrap_or_else(|e| panic!("{eco:?}: {e}"));
        assert_eq!(report.skipped, 0, "{eco:?}");
    }
    // A second round finds nothing new and publishes no duplicate.
    for eco in ALL {
        feed.poll_once(eco).await.unwrap();
    }
    let (counts, releases) = published(&bus).await;
    assert_eq!(
        normalise(counts),
        expected(&registry),
        "each fixture release exactly once"
    );

    let store = bus
        .jetstream()
        .get_object_store(bus.names().artifacts_bucket())
        .await
        .unwrap();
    for release in releases {
        let artifact = &release.artifacts[release.selected_artifact as usize];
        assert_eq!(artifact.object_key, artifact.sha256);
        let mut object = store.get(&artifact.object_key).await.unwrap();
        let mut bytes = Vec::new();
        object.read_to_end(&mut bytes).await.unwrap();
        assert_eq!(
            sha256_hex(&bytes),
            artifact.sha256,
            "the stored artifact is the verified one"
        );
        assert!(release.discovered_at.is_some() && !release.feed_name.is_empty());
    }
}

#[tokio::test]
async fn a_feed_killed_mid_poll_and_restarted_loses_and_duplicates_nothing() {
    let nats = TestNats::start().await;
    let (bus, _) = nats.bus().await;
    let registry = FixtureRegistry::start().await;
    // Slow downloads, so that the kill lands in the middle of the polls.
    for prefix in [
        "/files/",
        "/npm/paddock-honest/-/",
        "/npm/@paddock/hook/-/",
        "/rubygems/gems/",
        "/crates/api/",
    ] {
        registry.fault(prefix, Fault::Delay { millis: 250 });
    }
    let mut config = feed_config();
    config.concurrency = 1;
    let first = FeedService::new(
        &bus,
        &registry.registries_config(),
        &config,
        Arc::new(FeedMetrics::default()),
    )
    .await
    .unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(first.run(shutdown.clone()));
    let total = expected(&registry).len();
    loop {
        let (counts, _) = published(&bus).await;
        if !counts.is_empty() {
            assert!(counts.len() < total, "killed too late to be mid-poll");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.abort();
    let _ = running.await;

    registry.clear_faults();
    let restarted = service(&bus, &registry).await;
    // The killed replica's leases run out first (a crash gives none up).
    let mut held = 0;
    for eco in ALL {
        held += usize::from(matches!(
            restarted.poll_once(eco).await,
            Err(FeedError::NotLeader { .. })
        ));
    }
    assert!(held > 0, "the killed replica held no lease");
    tokio::time::sleep(LEASE).await;
    for eco in ALL {
        restarted.poll_once(eco).await.unwrap();
    }
    let (counts, _) = published(&bus).await;
    assert_eq!(
        normalise(counts),
        expected(&registry),
        "nothing lost, nothing duplicated"
    );
}

#[tokio::test]
async fn broken_registries_are_retried_or_skipped_and_the_others_keep_going() {
    let nats = TestNats::start().await;
    let (bus, _) = nats.bus().await;
    let registry = FixtureRegistry::start().await;
    registry.fault(
        "/npm-replicate/",
        Fault::Status {
            status: 500,
            times: 1000,
        },
    );
    registry.fault("/pypi/rss/", Fault::Garbage);
    registry.fault("/crates/api/", Fault::Truncated);
    registry.fault(
        "/rubygems/api/v1/timeframe",
        Fault::RateLimited {
            retry_after_secs: 1,
            times: 1,
        },
    );
    registry.fault("/files/packagist/paddock-hook", Fault::Tampered);
    let metrics = Arc::new(FeedMetrics::default());
    let feed = FeedService::new(
        &bus,
        &registry.registries_config(),
        &feed_config(),
        metrics.clone(),
    )
    .await
    .unwrap();

    let npm = feed.poll_once(Ecosystem::Npm).await.unwrap_err();
    assert!(npm.to_string().contains("HTTP 500"), "{npm}");
    let pypi = feed.poll_once(Ecosystem::Pypi).await.unwrap_err();
    assert!(
        pypi.to_string().contains("malformed") || pypi.to_string().contains("invalid RSS"),
        "{pypi}"
    );
    let crates = feed.poll_once(Ecosystem::CratesIo).await.unwrap_err();
    assert!(crates.to_string().contains("crates"), "{crates}");
    let gems = feed
        .poll_once(Ecosystem::Rubygems)
        .await
        .expect("a 429 is waited out");
    assert_eq!(gems.published, 3);
    let composer = feed.poll_once(Ecosystem::Packagist).await.unwrap();
    assert_eq!(
        (composer.published, composer.skipped),
        (2, 1),
        "the tampered release is skipped, the others published"
    );

    // The failures are recorded: metrics, and the skipped release on the
    // dead-letter stream with its reason.
    let errors = metrics
        .poll_errors
        .get_or_create(&FeedMetrics::labels(Ecosystem::Npm))
        .get();
    assert_eq!(errors, 1);
    let mut dlq = bus
        .jetstream()
        .get_stream(bus.names().stream(StreamKind::DeadLetters))
        .await
        .unwrap();
    assert_eq!(dlq.info().await.unwrap().state.messages, 1);
    let dead = dlq.get_raw_message(1).await.unwrap();
    let reason = dead
        .headers
        .get(headers::DLQ_REASON)
        .unwrap()
        .as_str()
        .to_owned();
    assert!(
        reason.contains("failed verification") && reason.contains("sha1"),
        "{reason}"
    );

    // Once the registries recover, the next polls catch up: every release
    // except the tampered one, once.
    registry.clear_faults();
    for eco in ALL {
        feed.poll_once(eco).await.unwrap();
    }
    let (counts, _) = published(&bus).await;
    let mut want = expected(&registry);
    want.remove(&(
        Ecosystem::Packagist as i32,
        "paddock/hook".to_owned(),
        "2.0.0".to_owned(),
    ));
    assert_eq!(normalise(counts), want);
}

#[tokio::test]
async fn watch_lists_publish_only_the_watched_packages() {
    let nats = TestNats::start().await;
    let (bus, _) = nats.bus().await;
    let registry = FixtureRegistry::start().await;
    let mut config = feed_config();
    config.npm.watch = vec!["@paddock/hook".into()];
    config.pypi.watch = vec!["paddock-honest".into()];
    let feed = FeedService::new(
        &bus,
        &registry.registries_config(),
        &config,
        Arc::new(FeedMetrics::default()),
    )
    .await
    .unwrap();
    feed.poll_once(Ecosystem::Npm).await.unwrap();
    feed.poll_once(Ecosystem::Pypi).await.unwrap();
    let (counts, releases) = published(&bus).await;
    let names: std::collections::BTreeSet<String> =
        counts.keys().map(|(_, n, v)| format!("{n}@{v}")).collect();
    let want: std::collections::BTreeSet<String> = [
        "paddock-honest@1.0.0",
        "paddock-honest@1.1.0",
        "@paddock/hook@2.0.0",
    ]
    .map(String::from)
    .into();
    assert_eq!(names, want);
    assert!(releases
        .iter()
        .all(|r| r.source == paddock_proto::v1::FeedSource::Watchlist as i32));
}

/// Two feed replicas of one registry, each on its own connection to the
/// same server, as separate processes would be; the first one's bus.
async fn two_replicas() -> (
    TestNats,
    JetStreamBus,
    FixtureRegistry,
    FeedService,
    FeedService,
) {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let registry = FixtureRegistry::start().await;
    let other_bus = JetStreamBus::connect(
        nats.url(),
        &config,
        Arc::new(paddock_bus::metrics::BusMetrics::default()),
    )
    .await
    .unwrap();
    let (a, b) = (
        service(&bus, &registry).await,
        service(&other_bus, &registry).await,
    );
    (nats, bus, registry, a, b)
}

#[tokio::test]
async fn one_replica_polls_at_a_time_and_another_takes_over_from_the_cursor() {
    let (_nats, bus, _registry, a, b) = two_replicas().await;

    let first = a.poll_once(Ecosystem::Npm).await.unwrap();
    assert!(first.published > 0);
    let standby = b.poll_once(Ecosystem::Npm).await.unwrap_err();
    assert!(matches!(standby, FeedError::NotLeader { .. }), "{standby}");
    // Another ecosystem is free: B leads it.
    b.poll_once(Ecosystem::Pypi).await.unwrap();
    assert!(matches!(
        a.poll_once(Ecosystem::Pypi).await,
        Err(FeedError::NotLeader { .. })
    ));

    // A stops without a word (its lease runs out): B takes over, from
    // the cursor A stored, so nothing is announced again.
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    let takeover = b.poll_once(Ecosystem::Npm).await.unwrap();
    assert_eq!(
        (takeover.published, takeover.duplicates),
        (0, 0),
        "{takeover:?}"
    );
    assert!(matches!(
        a.poll_once(Ecosystem::Npm).await,
        Err(FeedError::NotLeader { .. })
    ));

    // A replica that stops cleanly gives its leases up at once.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(b.clone().run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    running.await.unwrap();
    a.poll_once(Ecosystem::Npm).await.unwrap();
    let (counts, _) = published(&bus).await;
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn a_leader_whose_lease_ran_out_mid_poll_cannot_move_the_cursor() {
    let (_nats, bus, registry, a, b) = two_replicas().await;
    // A's poll outlasts its lease: the registry is slow for it.
    registry.fault(
        "/npm/",
        Fault::Delay {
            millis: 2 * LEASE.as_millis() as u64,
        },
    );
    let slow = tokio::spawn({
        let a = a.clone();
        async move { a.poll_once(Ecosystem::Npm).await }
    });
    tokio::time::sleep(LEASE + Duration::from_millis(300)).await;
    registry.clear_faults();
    // B takes the expired lease, polls and stores its cursor.
    let b_report = b.poll_once(Ecosystem::Npm).await.unwrap();
    assert!(b_report.published > 0);
    // A finishes: what it publishes is absorbed, and its cursor write fails.
    let stale = slow.await.unwrap().unwrap_err();
    assert!(matches!(stale, FeedError::LeaseLost { .. }), "{stale}");
    let (counts, _) = published(&bus).await;
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    // B still leads.
    b.poll_once(Ecosystem::Npm).await.unwrap();
}

/// A release of `eco` published now.
fn fresh(eco: Ecosystem, name: &str, version: &str) -> paddock_testkit::packages::FixturePackage {
    paddock_testkit::packages::FixturePackage {
        eco,
        name: name.into(),
        version: version.into(),
        published: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        flavour: paddock_testkit::packages::Flavour::Honest,
        dependencies: Vec::new(),
    }
}

/// npm's changes feed lists package A; while the feed reads A's packument,
/// B is published and then A's next release. The packument shows A's newer
/// release, so the newest publish time seen is after B's; B's change comes
/// in the next poll, and must not be judged older than the position. (The
/// load generator lost such releases before the feed read back by
/// `feed.overlap`.)
#[tokio::test]
async fn a_release_listed_after_a_newer_one_of_another_package_is_not_lost() {
    let nats = TestNats::start().await;
    let (bus, _) = nats.bus().await;
    let registry = FixtureRegistry::with_packages(Vec::new()).await;
    let feed = service(&bus, &registry).await;
    feed.poll_once(Ecosystem::Npm).await.unwrap();

    registry.publish(fresh(Ecosystem::Npm, "race-a", "1.0.0"));
    registry.fault("/npm/race-a", Fault::Delay { millis: 1500 });
    let polling = {
        let feed = feed.clone();
        tokio::spawn(async move { feed.poll_once(Ecosystem::Npm).await })
    };
    // The poll has read the changes and waits for race-a's packument.
    tokio::time::sleep(Duration::from_millis(500)).await;
    registry.publish(fresh(Ecosystem::Npm, "race-b", "1.0.0"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    registry.publish(fresh(Ecosystem::Npm, "race-a", "1.0.1"));
    polling.await.unwrap().unwrap();
    registry.clear_faults();
    feed.poll_once(Ecosystem::Npm).await.unwrap();
    feed.poll_once(Ecosystem::Npm).await.unwrap();

    let (counts, _) = published(&bus).await;
    let npm = Ecosystem::Npm as i32;
    let want: BTreeMap<(i32, String, String), usize> = [
        ((npm, "race-a".to_owned(), "1.0.0".to_owned()), 1),
        ((npm, "race-a".to_owned(), "1.0.1".to_owned()), 1),
        ((npm, "race-b".to_owned(), "1.0.0".to_owned()), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, want);
}

/// A release whose publish time was stamped before the registry listed it
/// (RubyGems' time windows, Packagist's changes) is announced by the next
/// poll, which reads back by the overlap.
#[tokio::test]
async fn a_release_that_became_visible_after_its_publish_time_is_announced() {
    let nats = TestNats::start().await;
    let (bus, _) = nats.bus().await;
    let registry = FixtureRegistry::with_packages(Vec::new()).await;
    let feed = service(&bus, &registry).await;
    let late = |eco| {
        let mut pkg = fresh(eco, "late", "1.0.0");
        if eco == Ecosystem::Packagist {
            pkg.name = "late/late".into();
        }
        // Stamped three seconds before it is listed.
        pkg.published = (chrono::Utc::now() - chrono::Duration::seconds(3))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        pkg
    };
    for eco in [Ecosystem::Rubygems, Ecosystem::Packagist] {
        feed.poll_once(eco).await.unwrap();
        registry.publish(late(eco));
        feed.poll_once(eco).await.unwrap();
    }
    let (counts, _) = published(&bus).await;
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}
