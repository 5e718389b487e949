//! The OSV sink through `run`, against a real nats-server: results and
//! verdicts published on the bus become reports in the
//! ossf/malicious-packages layout, read back from disk and checked against
//! the OSV schema and the database's rules; later releases update the
//! report, a lowered verdict withdraws its version, and the evidence kept
//! between results and verdict survives a restart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt as _;
use paddock_bus::{
    BatchConfig, Bus, CancellationToken, ConsumerSettings, JetStreamBus, StreamKind,
};
use paddock_proto::sandbox::{pool_address, HOST_ADDR};
use paddock_proto::v1::{
    Alert, Artifact, BehaviorChange, Change, ChangeAction, ChangeKind, DnsQuery, DynamicResult,
    Ecosystem, PackageRef, Phase, PhaseResult, Reason, Severity, Socket, SocketOp, StaticResult,
    Verdict,
};
use paddock_runtime::http::{Health, SharedRegistry};
use paddock_runtime::service::ServiceContext;
use paddock_sink_service::osv::{Part, Pending};
use paddock_sink_service::{OsvSinkConfig, SinkServiceConfig, SinkServiceError};
use paddock_testkit::TestNats;
use prometheus_client::registry::Registry;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

// ---- the evidence of a release -------------------------------------------

fn package(name: &str, version: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm.into(),
        name: name.into(),
        version: version.into(),
    }
}

/// The artifact digest of a release (distinct per version).
fn artifact_sha(version: &str) -> String {
    let byte = version
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    format!("{byte:02x}").repeat(32)
}

fn static_result(name: &str, version: &str) -> StaticResult {
    StaticResult {
        package: Some(package(name, version)),
        artifact: Some(Artifact {
            filename: format!("{name}-{version}.tgz"),
            size: 2048,
            sha256: artifact_sha(version),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A dynamic result that resolves `host` and connects to it through the
/// simulated DNS, to an outside address, and to the sandbox's own
/// resolver.
fn dynamic_result(name: &str, version: &str, host: &str) -> DynamicResult {
    let install = PhaseResult {
        phase: Phase::Install.into(),
        dns: vec![DnsQuery {
            hostname: host.into(),
            types: vec!["A".into()],
            answered: true,
            ..Default::default()
        }],
        sockets: vec![
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: pool_address(7).unwrap().to_string(),
                port: 443,
                hostnames: vec![host.into()],
                ..Default::default()
            },
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: "203.0.113.9".into(),
                port: 4444,
                ..Default::default()
            },
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: HOST_ADDR.to_string(),
                port: 53,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    DynamicResult {
        package: Some(package(name, version)),
        phases: vec![install],
        ..Default::default()
    }
}

fn alert(name: &str, version: &str, severity: Severity, change: Option<&str>) -> Alert {
    let verdict = Verdict {
        package: Some(package(name, version)),
        severity: severity.into(),
        score: if severity >= Severity::High {
            120.0
        } else {
            0.0
        },
        reasons: vec![Reason {
            source: "change".into(),
            code: "install-network-added".into(),
            description: "new network activity at install".into(),
            weight: 40.0,
            severity: severity.into(),
        }],
        previous_version: "0.9.0".into(),
        has_static: true,
        has_dynamic: true,
        scoring_version: "3".into(),
        ..Default::default()
    };
    Alert {
        alert_id: format!("{name}@{version}:{severity:?}"),
        package: Some(package(name, version)),
        severity: severity.into(),
        summary: format!("{name} {version}"),
        verdict: Some(verdict),
        change: change.map(|dns| BehaviorChange {
            package: Some(package(name, version)),
            previous_version: "0.9.0".into(),
            changes: vec![Change {
                kind: ChangeKind::DnsName.into(),
                action: ChangeAction::Added.into(),
                value: dns.into(),
                phase: Phase::Install.into(),
                ..Default::default()
            }],
            severity: severity.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

// ---- the sink ------------------------------------------------------------

/// A bus on a fresh prefix whose pulls end quickly when idle, so that a
/// message is handled within a fraction of a second.
async fn bus(nats: &TestNats) -> JetStreamBus {
    nats.bus_with(|c| c.consumer.pull_expires = Duration::from_millis(200))
        .await
        .0
}

struct Sink {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), SinkServiceError>>,
    registry: SharedRegistry,
}

fn config(dir: &Path) -> SinkServiceConfig {
    let mut osv = OsvSinkConfig::new(dir);
    osv.batch = BatchConfig {
        max_rows: 50,
        max_age: Duration::from_millis(100),
        ..BatchConfig::default()
    };
    SinkServiceConfig {
        parquet: None,
        bigquery: None,
        osv: Some(osv),
        consumer: ConsumerSettings {
            backoff_initial: Duration::from_millis(100),
            ..ConsumerSettings::default()
        },
        max_message_bytes: 8 << 20,
    }
}

/// Runs the sink service as `paddock up` does, until [`Sink::stop`].
async fn start(bus: &JetStreamBus, config: SinkServiceConfig) -> Result<Sink, SinkServiceError> {
    let shutdown = CancellationToken::new();
    let registry = SharedRegistry::new(Registry::default());
    let (cx, starting) = ServiceContext::new(
        bus.clone(),
        Health::default(),
        registry.clone(),
        shutdown.clone(),
    );
    match starting.drive(paddock_sink_service::run(config, cx)).await {
        Ok(running) => Ok(Sink {
            shutdown,
            task: tokio::spawn(running),
            registry,
        }),
        Err(ended) => Err(ended.expect_err("the sink ended before it started")),
    }
}

impl Sink {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }

    /// `paddock_sink_osv_reports_total{outcome}`.
    fn reports(&self, outcome: &str) -> u64 {
        let mut text = String::new();
        self.registry.register(|r| {
            prometheus_client::encoding::text::encode(&mut text, r).unwrap();
        });
        let prefix = format!("paddock_sink_osv_reports_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.trim().parse().unwrap())
    }
}

async fn publish_results(bus: &JetStreamBus, name: &str, version: &str, host: &str) -> u64 {
    let names = bus.names();
    bus.publish(
        &names.static_result(Ecosystem::Npm),
        &format!("s:{name}@{version}"),
        &static_result(name, version),
    )
    .await
    .unwrap();
    bus.publish(
        &names.dynamic_result(Ecosystem::Npm),
        &format!("d:{name}@{version}"),
        &dynamic_result(name, version, host),
    )
    .await
    .unwrap()
    .sequence
}

async fn publish_alert(bus: &JetStreamBus, alert: &Alert) -> u64 {
    let subject = bus.names().alert(alert.severity(), Ecosystem::Npm);
    bus.publish(&subject, &alert.alert_id, alert)
        .await
        .unwrap()
        .sequence
}

/// Waits until the sink's consumer of `stream` has acked `sequence`.
async fn handled(bus: &JetStreamBus, stream: StreamKind, sequence: u64) {
    let spec = bus.names().sink_consumer("osv", stream);
    let deadline = Instant::now() + WAIT;
    loop {
        let info = bus.consumer_info(&spec).await.unwrap();
        if info.ack_floor.stream_sequence >= sequence {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never acked {sequence}",
            spec.durable
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `probe` until it gives a value.
async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- reading reports back ------------------------------------------------

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|l| {
            l.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The one report in `dir`, when its versions are `versions`.
fn report_with(dir: &Path, versions: &[&str]) -> Option<(PathBuf, Value)> {
    let files = json_files(dir);
    let [file] = files.as_slice() else {
        return None;
    };
    let value: Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    (value["affected"][0]["versions"] == serde_json::json!(versions)).then(|| (file.clone(), value))
}

/// Fails unless the file passes the OSV schema and the database's rules,
/// where it is.
fn assert_accepted(root: &Path, file: &Path, value: &Value) {
    let errors = paddock_testkit::schemas::osv_errors(value);
    assert!(errors.is_empty(), "OSV schema: {errors:#?}\n{value:#}");
    let relative = file
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    if let Err(errors) = paddock_osv::rules::check_path(&relative, value) {
        panic!("malicious-packages rules, {relative}: {errors:#?}\n{value:#}");
    }
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("MAL-0000-paddock-"), "{name}");
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn archive_digests(report: &Value) -> Vec<&str> {
    report["database_specific"]["iocs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "PACKAGE_ARCHIVE")
        .filter_map(|f| f["digests"]["sha256"].as_str())
        .collect()
}

// ---- the tests -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_written_updated_and_withdrawn_as_verdicts_arrive() {
    let nats = TestNats::start().await;
    let bus = bus(&nats).await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sink = start(&bus, config(root)).await.unwrap();
    let malicious = root.join("osv/malicious/npm/evil-pkg");
    let withdrawn = root.join("osv/withdrawn/npm/evil-pkg");

    // Results, then a critical verdict whose alert carries a change.
    let results = publish_results(&bus, "Evil-Pkg", "1.0.0", "c2.evil-pkg.example").await;
    handled(&bus, StreamKind::Results, results).await;
    publish_alert(
        &bus,
        &alert(
            "Evil-Pkg",
            "1.0.0",
            Severity::Critical,
            Some("beacon.evil-pkg.example"),
        ),
    )
    .await;
    let (file, report) =
        eventually("the first report", || report_with(&malicious, &["1.0.0"])).await;
    assert_accepted(root, &file, &report);
    assert_eq!(report["affected"][0]["package"]["name"], "Evil-Pkg");
    assert_eq!(report["affected"][0]["package"]["ecosystem"], "npm");
    assert!(report.get("withdrawn").is_none());
    let iocs = &report["database_specific"]["iocs"];
    let domains = strings(&iocs["domains"]);
    assert!(domains.contains(&"c2.evil-pkg.example"), "{iocs:#}");
    assert!(
        domains.contains(&"beacon.evil-pkg.example"),
        "the alert's change is evidence: {iocs:#}"
    );
    assert_eq!(
        strings(&iocs["ips"]),
        ["203.0.113.9"],
        "the sandbox's own addresses are not indicators"
    );
    assert_eq!(archive_digests(&report), [artifact_sha("1.0.0")]);

    // A later release of the package updates the same file.
    let results = publish_results(&bus, "evil-pkg", "1.1.0", "c2-b.evil-pkg.example").await;
    handled(&bus, StreamKind::Results, results).await;
    publish_alert(&bus, &alert("evil-pkg", "1.1.0", Severity::Critical, None)).await;
    let (updated, report) = eventually("the report of two versions", || {
        report_with(&malicious, &["1.0.0", "1.1.0"])
    })
    .await;
    assert_eq!(updated, file, "one report per package");
    assert_accepted(root, &updated, &report);
    let domains = strings(&report["database_specific"]["iocs"]["domains"]);
    assert!(
        domains.contains(&"c2.evil-pkg.example") && domains.contains(&"c2-b.evil-pkg.example"),
        "{domains:?}"
    );
    let mut digests = archive_digests(&report);
    digests.sort();
    let mut want = [artifact_sha("1.0.0"), artifact_sha("1.1.0")];
    want.sort();
    assert_eq!(digests, want);

    // Re-analysed as benign: 1.0.0 is withdrawn, 1.1.0 stays reported.
    publish_alert(&bus, &alert("Evil-Pkg", "1.0.0", Severity::Info, None)).await;
    let (_, report) = eventually("1.0.0 leaving the report", || {
        report_with(&malicious, &["1.1.0"])
    })
    .await;
    assert_accepted(root, &file, &report);
    let (record, value) = eventually("the withdrawn record", || {
        report_with(&withdrawn, &["1.0.0"])
    })
    .await;
    assert_accepted(root, &record, &value);
    assert!(value["withdrawn"].is_string(), "{value:#}");
    assert_eq!(
        value["database_specific"]["paddock"]["withdrawn_versions"][0]["reason"],
        "re-analysed: verdict info"
    );

    // Below the minimum for a package never reported: nothing at all.
    publish_results(&bus, "quiet-pkg", "2.0.0", "cdn.quiet-pkg.example").await;
    let sequence = publish_alert(&bus, &alert("quiet-pkg", "2.0.0", Severity::High, None)).await;
    handled(&bus, StreamKind::Alerts, sequence).await;
    for tree in ["malicious", "withdrawn"] {
        let dir = root.join("osv").join(tree).join("npm/quiet-pkg");
        assert!(!dir.exists(), "{} was written", dir.display());
    }

    assert_eq!(sink.reports("created"), 1);
    assert_eq!(sink.reports("updated"), 1);
    assert_eq!(sink.reports("withdrawn"), 1);
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_kept_before_a_restart_reaches_the_report() {
    let nats = TestNats::start().await;
    let bus = bus(&nats).await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();

    let first = start(&bus, config(root)).await.unwrap();
    let sequence = publish_results(&bus, "left-padz", "3.0.0", "exfil.left-padz.example").await;
    handled(&bus, StreamKind::Results, sequence).await;
    first.stop().await;
    let pending = Pending::new(root, 8 << 20);
    let release = pending.release_dir(&package("left-padz", "3.0.0")).unwrap();
    for part in [Part::Static, Part::Dynamic] {
        assert!(
            pending.get(&release, part).unwrap().is_some(),
            "{part:?} kept"
        );
    }

    let second = start(&bus, config(root)).await.unwrap();
    publish_alert(&bus, &alert("left-padz", "3.0.0", Severity::Critical, None)).await;
    let dir = root.join("osv/malicious/npm/left-padz");
    let (file, report) = eventually("the report", || report_with(&dir, &["3.0.0"])).await;
    assert_accepted(root, &file, &report);
    let iocs = &report["database_specific"]["iocs"];
    assert!(
        strings(&iocs["domains"]).contains(&"exfil.left-padz.example"),
        "{iocs:#}"
    );
    assert_eq!(strings(&iocs["ips"]), ["203.0.113.9"]);
    assert_eq!(archive_digests(&report), [artifact_sha("3.0.0")]);
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_handled_after_its_verdict_updates_the_report() {
    let nats = TestNats::start().await;
    let bus = bus(&nats).await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sink = start(&bus, config(root)).await.unwrap();
    let dir = root.join("osv/malicious/npm/late-pkg");

    publish_alert(&bus, &alert("late-pkg", "1.0.0", Severity::Critical, None)).await;
    let (file, report) = eventually("the report", || report_with(&dir, &["1.0.0"])).await;
    assert!(
        report["database_specific"].get("iocs").is_none(),
        "no evidence yet: {report:#}"
    );

    let names = bus.names();
    bus.publish(
        &names.dynamic_result(Ecosystem::Npm),
        "late",
        &dynamic_result("late-pkg", "1.0.0", "late.example"),
    )
    .await
    .unwrap();
    let report = eventually("the report with the result's indicators", || {
        let (_, r) = report_with(&dir, &["1.0.0"])?;
        (strings(&r["database_specific"]["iocs"]["ips"]) == ["203.0.113.9"]).then_some(r)
    })
    .await;
    assert_accepted(root, &file, &report);
    assert!(strings(&report["database_specific"]["iocs"]["domains"]).contains(&"late.example"));
    assert_eq!(sink.reports("created"), 1);
    assert_eq!(sink.reports("updated"), 1);
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_can_never_be_reported_is_dead_lettered_with_the_reason() {
    let nats = TestNats::start().await;
    let bus = bus(&nats).await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let client = nats.client().await;
    let mut results_letters = client
        .subscribe(bus.names().dead_letter("sink-osv-results"))
        .await
        .unwrap();
    let mut alert_letters = client
        .subscribe(bus.names().dead_letter("sink-osv-alerts"))
        .await
        .unwrap();
    let sink = start(&bus, config(root)).await.unwrap();

    // A body that is not a StaticResult, under the StaticResult type.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        paddock_bus::names::headers::MESSAGE_TYPE,
        "paddock.v1.StaticResult",
    );
    bus.jetstream()
        .publish_with_headers(
            bus.names().static_result(Ecosystem::Npm),
            headers,
            bytes::Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // A critical verdict on a name that cannot be a report directory.
    publish_alert(&bus, &alert("../../etc", "1.0.0", Severity::Critical, None)).await;

    let reason = |m: &async_nats::Message| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(paddock_bus::names::headers::DLQ_REASON))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default()
    };
    let letter = tokio::time::timeout(WAIT, results_letters.next())
        .await
        .expect("the undecodable result is dead-lettered")
        .unwrap();
    assert!(
        reason(&letter).contains("undecodable"),
        "{}",
        reason(&letter)
    );
    let letter = tokio::time::timeout(WAIT, alert_letters.next())
        .await
        .expect("the unreportable verdict is dead-lettered")
        .unwrap();
    assert!(
        reason(&letter).contains("a critical verdict that cannot be reported"),
        "{}",
        reason(&letter)
    );
    assert!(
        !root.join("etc").exists() && !root.join("osv/etc").exists(),
        "nothing written outside the tree"
    );

    // The sink goes on.
    publish_alert(&bus, &alert("after-pkg", "1.0.0", Severity::Critical, None)).await;
    let dir = root.join("osv/malicious/npm/after-pkg");
    eventually("a report after the dead letters", || {
        report_with(&dir, &["1.0.0"])
    })
    .await;
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_osv_configuration_stops_the_start_and_says_what_to_fix() {
    let nats = TestNats::start().await;
    let bus = bus(&nats).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config(tmp.path());
    config.osv.as_mut().unwrap().report.source = "Not Valid".into();
    let error = start(&bus, config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("sink.osv")
            && error.contains("`Not Valid`")
            && error.contains("PADDOCK__SINK__OSV__"),
        "{error}"
    );
}

#[test]
fn kept_evidence_is_removed_after_the_retention_and_never_replaced_by_older() {
    let tmp = tempfile::tempdir().unwrap();
    let pending = Pending::new(tmp.path(), 1024);
    let release = pending
        .release_dir(&package("@Scope/Pkg", "1.0.0"))
        .unwrap();
    assert!(release.starts_with(pending.root()));
    assert!(pending.put(&release, Part::Static, 5, b"five").unwrap());
    assert!(
        !pending.put(&release, Part::Static, 3, b"three").unwrap(),
        "an older message does not replace a later one"
    );
    assert!(pending.put(&release, Part::Static, 5, b"again").unwrap());
    assert_eq!(
        pending.get(&release, Part::Static).unwrap(),
        Some((5, b"again".to_vec()))
    );
    assert_eq!(pending.get(&release, Part::Dynamic).unwrap(), None);

    // A file past the limit counts as absent.
    assert!(pending.put(&release, Part::Dynamic, 6, &[0; 2000]).unwrap());
    assert_eq!(pending.get(&release, Part::Dynamic).unwrap(), None);

    let week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(pending.sweep(week, SystemTime::now()).unwrap(), 0);
    assert!(release.is_dir());
    let later = SystemTime::now() + week + Duration::from_secs(60);
    assert_eq!(pending.sweep(week, later).unwrap(), 1);
    assert!(!release.exists());
    assert_eq!(
        std::fs::read_dir(pending.root()).unwrap().count(),
        0,
        "empty name and ecosystem directories go too"
    );
}
