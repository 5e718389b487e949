//! `paddock alerts tail` prints the alerts the pipeline publishes: results
//! go in, the diff service decides, the tail (a separate process, as a user
//! runs it) prints the alert.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use paddock_bus::{Bus, CancellationToken};
use paddock_diff_service::{DiffConfig, DiffMetrics, DiffService};
use paddock_proto::v1::{
    AnalysisRun, AnalysisStatus, DynamicResult, Ecosystem, InstallHook, InstallHookKind,
    PackageMetadata, PackageRef, StaticResult,
};
use paddock_testkit::TestNats;

fn package(version: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: "tail-me".into(),
        version: version.into(),
    }
}

#[tokio::test]
async fn alerts_tail_prints_what_the_pipeline_publishes() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let prefix = config.prefix.clone();
    let shutdown = CancellationToken::new();
    let service = DiffService::new(
        &bus,
        &DiffConfig::default(),
        config.topology.max_deliver,
        Arc::new(DiffMetrics::default()),
    )
    .await
    .unwrap();
    tokio::spawn(service.run(shutdown.clone()));

    let mut tail = Command::new(env!("CARGO_BIN_EXE_paddock"))
        .args([
            "alerts",
            "tail",
            "--severity",
            "high",
            "--eco",
            "npm",
            "--count",
            "1",
        ])
        .args(["--nats-url", nats.url()])
        .env("PADDOCK__BUS__PREFIX", &prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = tail.stderr.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stderr).read_line(&mut line).unwrap();
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(30), ready)
        .await
        .unwrap()
        .unwrap();
    assert!(
        line.contains("following alerts (high and worse, npm)"),
        "{line}"
    );

    // 1.0.0 plain (an info alert the tail does not show), then 1.0.1 with
    // a new install hook (high).
    for (version, hook) in [("1.0.0", false), ("1.0.1", true)] {
        let run = |id: &str| {
            Some(AnalysisRun {
                run_id: format!("{id}-{version}"),
                ..Default::default()
            })
        };
        let mut s = StaticResult {
            package: Some(package(version)),
            run: run("s"),
            status: AnalysisStatus::Completed as i32,
            ..Default::default()
        };
        if hook {
            s.metadata = Some(PackageMetadata {
                install_hooks: vec![InstallHook {
                    kind: InstallHookKind::NpmLifecycle as i32,
                    name: "postinstall".into(),
                    command: "node install.js".into(),
                    file: "package.json".into(),
                }],
                ..Default::default()
            });
        }
        let d = DynamicResult {
            package: Some(package(version)),
            run: run("d"),
            status: AnalysisStatus::Completed as i32,
            ..Default::default()
        };
        let names = bus.names();
        bus.publish(
            &names.static_result(Ecosystem::Npm),
            &format!("s{version}"),
            &s,
        )
        .await
        .unwrap();
        bus.publish(
            &names.dynamic_result(Ecosystem::Npm),
            &format!("d{version}"),
            &d,
        )
        .await
        .unwrap();
    }
    let out = tokio::task::spawn_blocking(move || tail.wait_with_output().unwrap());
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("the tail printed an alert and stopped")
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(
        printed.contains("HIGH") && printed.contains("tail-me@1.0.1"),
        "{printed}"
    );
    assert!(printed.contains("since 1.0.0"), "{printed}");
    shutdown.cancel();
}
