//! GetResult latency and throughput against a real nats-server.
//!
//! `cargo bench -p paddock-api-service --bench get_result` publishes
//! releases with results of realistic size (a static result with findings,
//! a dynamic result of about 12 KB, an alert), lets the API index them, then
//! calls GetResult from concurrent clients for a while and prints p50, p99
//! and requests per second, and the same for ListReleases.
//!
//! Settings (environment): `API_BENCH_RELEASES` (default 1000),
//! `API_BENCH_SECONDS` (10), `API_BENCH_CONCURRENCY` (16).
#![allow(clippy::disallowed_methods)] // a bench reads its settings

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use paddock_proto::v1::{
    AnalysisStatus, Ecosystem, Evidence, GetResultRequest, ListReleasesRequest, PackageRef,
    Severity, Socket,
};
use paddock_testkit::TestNats;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let releases = setting("API_BENCH_RELEASES", 1000) as usize;
    let seconds = setting("API_BENCH_SECONDS", 10);
    let concurrency = setting("API_BENCH_CONCURRENCY", 16) as usize;
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;

    let packages: Vec<PackageRef> = (0..releases)
        .map(|i| {
            package(
                Ecosystem::Npm,
                &format!("bench-{}", i % 100),
                &format!("1.{}.0", i / 100),
            )
        })
        .collect();
    let started = Instant::now();
    for p in &packages {
        publish_release(&bus, p).await;
        let mut s = static_result(
            p,
            &format!("s-{p}"),
            &[
                ("npm-install-hook", Severity::Medium),
                ("env-exfiltration", Severity::High),
            ],
        );
        for f in &mut s.findings {
            f.evidence = vec![Evidence {
                file: "package/index.js".into(),
                line: 12,
                snippet: "require('child_process').exec(process.env.X)".into(),
                ..Default::default()
            }];
        }
        publish_static(&bus, &s).await;
        let mut d = dynamic_result(p, &format!("d-{p}"), AnalysisStatus::Completed);
        d.phases[0].sockets = (0..100)
            .map(|i| Socket {
                seq: i,
                pid: 42,
                address: format!("10.0.{}.{}", i / 250, i % 250),
                port: 443,
                protocol: "tcp".into(),
                family: "inet".into(),
                ..Default::default()
            })
            .collect();
        d.phases[0].stdout_tail = vec![b'x'; 4096];
        publish_dynamic(&bus, &d).await;
        publish_alert(
            &bus,
            &alert(
                p,
                &format!("a-{p}"),
                Severity::Low,
                "",
                &["connect example.test:443"],
            ),
        )
        .await;
    }
    let published = started.elapsed();
    let mut client = api.client().await;
    let last = packages.last().unwrap().clone();
    eventually(Duration::from_secs(600), "the last release indexed", || {
        let mut client = client.clone();
        let last = last.clone();
        async move {
            let r = client
                .get_result(GetResultRequest {
                    package: Some(last),
                })
                .await
                .ok()?
                .into_inner();
            r.alert.is_some().then_some(())
        }
    })
    .await;
    let size = client
        .get_result(GetResultRequest {
            package: Some(packages[0].clone()),
        })
        .await
        .unwrap()
        .into_inner();
    println!(
        "{releases} releases published in {:.1} s and indexed; one GetResult answer is {} bytes",
        published.as_secs_f64(),
        prost::Message::encoded_len(&size)
    );

    for method in ["GetResult", "ListReleases"] {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            // A channel per four workers, as separate clients would have.
            if worker % 4 == 0 {
                client = api.client().await;
            }
            let mut c = client.clone();
            let packages = packages.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = worker;
                while Instant::now() < deadline {
                    let p = packages[i % packages.len()].clone();
                    i += concurrency;
                    let t = Instant::now();
                    match method {
                        "GetResult" => {
                            c.get_result(GetResultRequest { package: Some(p) })
                                .await
                                .unwrap();
                        }
                        _ => {
                            c.list_releases(ListReleasesRequest {
                                package: Some(PackageRef {
                                    version: String::new(),
                                    ..p
                                }),
                                limit: 100,
                            })
                            .await
                            .unwrap();
                        }
                    }
                    latencies.push(t.elapsed());
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort();
        println!(
            "{method}: {} calls in {seconds} s from {concurrency} concurrent clients: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            all.len(),
            all.len() as f64 / seconds as f64,
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.last().unwrap().as_secs_f64() * 1e3,
        );
    }
    api.stop().await;
}
