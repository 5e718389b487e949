//! The gRPC API against a real nats-server: what the pipeline publishes is
//! indexed and answered; alert streams resume without loss or repeats;
//! tokens, roles, TLS and the loopback rule hold; hostile requests get a
//! clear status.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use paddock_proto::v1::watch_alerts_request::Start;
use paddock_proto::v1::{
    AnalysisStatus, Ecosystem, GetDiffRequest, GetResultRequest, ListReleasesRequest, Severity,
    WatchAlertsRequest,
};
use paddock_testkit::TestNats;
use tonic::Code;

#[tokio::test]
async fn results_are_indexed_and_answered() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let mut client = api.client().await;

    let v1 = package(Ecosystem::Npm, "@scope/left/../pad", "1.0.0");
    let v2 = package(Ecosystem::Npm, "@scope/left/../pad", "1.1.0");
    for (p, sev, prev, added) in [
        (&v1, Severity::Info, "", vec![]),
        (
            &v2,
            Severity::High,
            "1.0.0",
            vec!["connect evil.example:443"],
        ),
    ] {
        publish_release(&bus, p).await;
        publish_static(
            &bus,
            &static_result(
                p,
                &format!("s-{}", p.version),
                &[("npm-install-hook", Severity::Medium)],
            ),
        )
        .await;
        publish_dynamic(
            &bus,
            &dynamic_result(p, &format!("d-{}", p.version), AnalysisStatus::Completed),
        )
        .await;
        publish_alert(
            &bus,
            &alert(p, &format!("a-{}", p.version), sev, prev, &added),
        )
        .await;
    }

    let got = eventually(Duration::from_secs(20), "v2 fully indexed", || {
        let mut client = client.clone();
        let v2 = v2.clone();
        async move {
            let r = client
                .get_result(GetResultRequest { package: Some(v2) })
                .await
                .ok()?
                .into_inner();
            (r.static_result.is_some() && r.dynamic_result.is_some() && r.verdict.is_some())
                .then_some(r)
        }
    })
    .await;
    assert!(got.release.is_some());
    assert_eq!(got.verdict.unwrap().severity, Severity::High as i32);
    assert_eq!(
        got.static_result.unwrap().findings[0].rule_id,
        "npm-install-hook"
    );
    assert!(got.expired.is_empty());
    let index = got.index.unwrap();
    assert_eq!(index.previous_version, "1.0.0");

    // No version: the newest analysed one.
    let latest = client
        .get_result(GetResultRequest {
            package: Some(package(Ecosystem::Npm, "@scope/left/../pad", "")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.release.unwrap().package.unwrap().version, "1.1.0");

    let list = eventually(Duration::from_secs(20), "both releases listed", || {
        let mut client = client.clone();
        async move {
            let l = client
                .list_releases(ListReleasesRequest {
                    package: Some(package(Ecosystem::Npm, "@scope/left/../pad", "")),
                    limit: 0,
                })
                .await
                .ok()?
                .into_inner();
            (l.releases.len() == 2 && l.releases.iter().all(|r| r.alert_sequence > 0)).then_some(l)
        }
    })
    .await;
    let versions: Vec<_> = list
        .releases
        .iter()
        .map(|r| r.package.as_ref().unwrap().version.as_str())
        .collect();
    assert_eq!(versions, ["1.1.0", "1.0.0"], "newest first");
    assert_eq!(list.releases[0].severity, Severity::High as i32);
    assert!(!list.truncated);

    // The stored change, and one computed from the stored results.
    let diff = client
        .get_diff(GetDiffRequest {
            package: Some(package(Ecosystem::Npm, "@scope/left/../pad", "")),
            from_version: "1.0.0".into(),
            to_version: "1.1.0".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!diff.computed);
    assert_eq!(
        diff.change.unwrap().changes[0].value,
        "connect evil.example:443"
    );
    let reverse = client
        .get_diff(GetDiffRequest {
            package: Some(package(Ecosystem::Npm, "@scope/left/../pad", "")),
            from_version: "1.1.0".into(),
            to_version: "1.0.0".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reverse.computed);
    assert_eq!(reverse.change.unwrap().previous_version, "1.1.0");

    // Unknown releases and bad arguments say what to do.
    let missing = client
        .get_result(GetResultRequest {
            package: Some(package(Ecosystem::Npm, "@scope/left/../pad", "9.9.9")),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert!(missing.message().contains("paddock submit"), "{missing:?}");
    let invalid = client
        .get_result(GetResultRequest { package: None })
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    api.stop().await;
}

/// Reads `n` alerts from a watch, or fewer if `quiet` passes without one.
async fn take(
    stream: &mut tonic::Streaming<paddock_proto::v1::WatchAlertsResponse>,
    n: usize,
    quiet: Duration,
) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(quiet, stream.next()).await {
            Ok(Some(Ok(r))) => out.push((r.sequence, r.alert.unwrap().alert_id)),
            Ok(Some(Err(e))) => panic!("stream failed: {e}"),
            _ => break,
        }
    }
    out
}

#[tokio::test]
async fn a_watch_resumed_from_its_last_sequence_misses_and_repeats_nothing() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let mut client = api.client().await;
    let p = |v: &str| package(Ecosystem::Pypi, "resume-me", v);
    let request = |start| WatchAlertsRequest {
        min_severity: Severity::Medium as i32,
        ecosystems: vec![Ecosystem::Pypi as i32],
        start,
    };

    let mut first = client
        .watch_alerts(request(None))
        .await
        .unwrap()
        .into_inner();
    // The watch is open once the server has answered; publish after that.
    for i in 0..5 {
        publish_alert(
            &bus,
            &alert(
                &p(&format!("1.0.{i}")),
                &format!("before-{i}"),
                Severity::High,
                "",
                &[],
            ),
        )
        .await;
    }
    // Filtered out: below the minimum, and another ecosystem.
    publish_alert(&bus, &alert(&p("0.0.1"), "low", Severity::Low, "", &[])).await;
    publish_alert(
        &bus,
        &alert(
            &package(Ecosystem::Npm, "x", "1"),
            "npm",
            Severity::Critical,
            "",
            &[],
        ),
    )
    .await;
    let seen = take(&mut first, 5, Duration::from_secs(10)).await;
    assert_eq!(
        seen.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["before-0", "before-1", "before-2", "before-3", "before-4"]
    );
    let last = seen.last().unwrap().0;
    drop(first);

    // Away: more alerts are published.
    for i in 0..7 {
        publish_alert(
            &bus,
            &alert(
                &p(&format!("2.0.{i}")),
                &format!("away-{i}"),
                Severity::Critical,
                "",
                &[],
            ),
        )
        .await;
    }
    let mut resumed = client
        .watch_alerts(request(Some(Start::StartSequence(last + 1))))
        .await
        .unwrap()
        .into_inner();
    publish_alert(
        &bus,
        &alert(&p("3.0.0"), "after", Severity::Medium, "", &[]),
    )
    .await;
    let again = take(&mut resumed, 100, Duration::from_secs(3)).await;
    let ids: Vec<_> = again.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(
        ids,
        ["away-0", "away-1", "away-2", "away-3", "away-4", "away-5", "away-6", "after"],
        "every alert exactly once across the gap"
    );
    assert!(again.windows(2).all(|w| w[0].0 < w[1].0), "in stream order");

    // From the beginning: everything kept that passes the filter.
    let mut all = client
        .watch_alerts(request(Some(Start::FromBeginning(true))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(take(&mut all, 100, Duration::from_secs(3)).await.len(), 13);
    api.stop().await;
}

#[tokio::test]
async fn a_release_whose_results_aged_out_says_so() {
    let nats = TestNats::start().await;
    let (bus, config) = nats
        .bus_with(|c| {
            c.topology.results.max_age = Duration::from_secs(2);
            c.topology.results.duplicate_window = Duration::from_secs(1);
        })
        .await;
    let api = start_api(&nats, &config, open_api()).await;
    let client = api.client().await;
    let p = package(Ecosystem::Rubygems, "fades", "0.1.0");
    publish_release(&bus, &p).await;
    publish_static(&bus, &static_result(&p, "s", &[])).await;
    publish_alert(&bus, &alert(&p, "a", Severity::Info, "", &[])).await;
    eventually(Duration::from_secs(10), "indexed", || {
        let mut client = client.clone();
        let p = p.clone();
        async move {
            let r = client
                .get_result(GetResultRequest { package: Some(p) })
                .await
                .ok()?
                .into_inner();
            (r.static_result.is_some() && r.alert.is_some()).then_some(())
        }
    })
    .await;
    // RESULTS keeps messages 2 s; the release and the alert stay.
    let aged = eventually(
        Duration::from_secs(20),
        "the static result aged out",
        || {
            let mut client = client.clone();
            let p = p.clone();
            async move {
                let r = client
                    .get_result(GetResultRequest { package: Some(p) })
                    .await
                    .ok()?
                    .into_inner();
                r.static_result.is_none().then_some(r)
            }
        },
    )
    .await;
    assert!(aged.release.is_some() && aged.verdict.is_some());
    assert_eq!(aged.expired.len(), 1, "{:?}", aged.expired);
    assert!(
        aged.expired[0].contains("static result") && aged.expired[0].contains("aged out"),
        "{:?}",
        aged.expired
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_too_slow_for_the_hub_replays_its_gap_and_misses_nothing() {
    // Far more than the hub holds (and than HTTP/2's windows buffer: 2 KB
    // each) while the client reads nothing.
    const ALERTS: usize = 1_500;
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(
        &nats,
        &config,
        paddock_api_service::ApiConfig {
            watch_buffer: 16,
            ..open_api()
        },
    )
    .await;
    let mut client = api.client().await;
    let mut slow = client
        .watch_alerts(WatchAlertsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let p = package(Ecosystem::CratesIo, "flood", "1.0.0");
    let mut a = alert(&p, "x", Severity::Info, "", &[]);
    a.summary = "s".repeat(2048);
    let mut publishes = futures::stream::iter((0..ALERTS).map(|i| {
        let bus = bus.clone();
        let mut a = a.clone();
        a.alert_id = format!("flood-{i}");
        async move { publish_alert(&bus, &a).await }
    }))
    .buffered(32);
    while publishes.next().await.is_some() {}
    let got = take(&mut slow, ALERTS + 10, Duration::from_secs(10)).await;
    assert_eq!(got.len(), ALERTS, "every alert once");
    assert!(
        got.windows(2).all(|w| w[0].0 < w[1].0),
        "in order, no repeats"
    );
    api.stop().await;
}
