//! Production's shape on one machine: a three-node JetStream cluster with
//! R3 streams, and two replicas of every service (feed, static, dynamic,
//! diff, sink, api), each its own `paddock serve <service>` process (the
//! same as the `paddock-<service>` binaries), fed by the fixture registry.
//! Every release the feed announces ends with exactly one static result,
//! one dynamic result and a verdict; both feed replicas never publish a
//! release twice; both API replicas answer the same.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

mod common;
#[path = "support/soak.rs"]
mod soak;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Child;
use std::time::{Duration, Instant};

use paddock_proto::v1::analysis_service_client::AnalysisServiceClient;
use paddock_proto::v1::{Ecosystem, GetResultRequest, PackageRef};
use paddock_testkit::cluster::TestCluster;
use paddock_testkit::registry::FixtureRegistry;
use paddock_testkit::unique_prefix;

/// A service process, killed when the test ends.
struct Replica {
    child: Child,
    name: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        soak::stop(&mut self.child);
    }
}

const ECOSYSTEMS: [Ecosystem; 2] = [Ecosystem::Npm, Ecosystem::Pypi];

fn replica(
    registry: &FixtureRegistry,
    service: &str,
    index: usize,
    urls: &str,
    prefix: &str,
    dir: &std::path::Path,
) -> (Replica, std::sync::mpsc::Receiver<String>) {
    let mut child = soak::serve_command(
        std::path::Path::new(common::PADDOCK),
        &registry.env_vars(),
        service,
        index,
        urls,
        prefix,
        dir,
        &dir.join("parquet"),
        &ECOSYSTEMS,
        Duration::from_millis(500),
    )
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let name = format!("{service}-{index}");
    (Replica { child, name }, rx)
}

/// Lines until one contains `needle` (that one included).
fn wait_for(lines: &std::sync::mpsc::Receiver<String>, needle: &str, who: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let done = line.contains(needle);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("{who} printed no `{needle}`: {seen:#?}"),
        }
    }
}

/// Each message on `stream` with its subject and the release it is about
/// (read through the soak's reader, which keeps every message).
async fn stored(js: &async_nats::jetstream::Context, stream: &str) -> Vec<(String, PackageRef)> {
    use prost::Message;
    let decode = |kind: &str, payload: &[u8]| match kind {
        "paddock.v1.Release" => paddock_proto::v1::Release::decode(payload)
            .ok()
            .and_then(|r| r.package),
        "paddock.v1.StaticResult" => paddock_proto::v1::StaticResult::decode(payload)
            .ok()
            .and_then(|r| r.package),
        "paddock.v1.DynamicResult" => paddock_proto::v1::DynamicResult::decode(payload)
            .ok()
            .and_then(|r| r.package),
        "paddock.v1.Alert" => paddock_proto::v1::Alert::decode(payload)
            .ok()
            .and_then(|r| r.package),
        _ => None,
    };
    soak::stored(js, stream)
        .await
        .into_iter()
        .filter_map(|(_, subject, kind, _, payload)| Some((subject, decode(&kind, &payload)?)))
        .collect()
}

fn counts(
    messages: &[(String, PackageRef)],
    subject_part: &str,
) -> BTreeMap<(i32, String, String), usize> {
    let mut out = BTreeMap::new();
    for (subject, p) in messages {
        if subject.contains(subject_part) {
            *out.entry((p.ecosystem, p.name.clone(), p.version.clone()))
                .or_insert(0) += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_every_service_on_a_three_node_cluster_judge_each_release_once() {
    let registry = FixtureRegistry::start().await;
    let cluster = TestCluster::start(3).await;
    let urls = cluster.urls();
    let prefix = unique_prefix();
    let dir = tempfile::tempdir().unwrap();

    // The topology once, replicated three times, as the deployment's Job.
    let applied = common::paddock()
        .args(["topology", "--apply", "--nats-url", &urls])
        .env("PADDOCK__BUS__PREFIX", &prefix)
        .env("PADDOCK__BUS__TOPOLOGY__REPLICAS", "3")
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let mut replicas = Vec::new();
    let mut api_urls = Vec::new();
    for service in ["static", "dynamic", "diff", "sink", "api", "feed"] {
        for index in 0..2 {
            let (r, lines) = replica(&registry, service, index, &urls, &prefix, dir.path());
            let seen = wait_for(&lines, "paddock is ready", &r.name);
            if let Some(url) = seen
                .iter()
                .filter(|l| l.starts_with("api: gRPC "))
                .flat_map(|l| l.split_whitespace())
                .find(|w| w.starts_with("http://"))
            {
                api_urls.push(url.to_owned());
            }
            std::thread::spawn(move || while lines.recv().is_ok() {});
            replicas.push(r);
        }
    }
    assert_eq!(api_urls.len(), 2, "{api_urls:?}");

    let expected: Vec<PackageRef> = registry
        .packages()
        .into_iter()
        .filter(|p| ECOSYSTEMS.contains(&p.eco))
        .map(|p| PackageRef {
            ecosystem: p.eco as i32,
            name: p.name,
            version: p.version,
        })
        .collect();
    let mut a = AnalysisServiceClient::connect(api_urls[0].clone())
        .await
        .unwrap();
    let mut b = AnalysisServiceClient::connect(api_urls[1].clone())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(900);
    for p in &expected {
        loop {
            let done = match a
                .get_result(GetResultRequest {
                    package: Some(p.clone()),
                })
                .await
            {
                Ok(r) => {
                    let r = r.into_inner();
                    r.static_result.is_some() && r.dynamic_result.is_some() && r.verdict.is_some()
                }
                Err(_) => false,
            };
            if done {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{p} was not judged within 15 minutes"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // Both API replicas answer the same.
    for p in &expected {
        let request = || GetResultRequest {
            package: Some(p.clone()),
        };
        let x = a.get_result(request()).await.unwrap().into_inner();
        let y = b.get_result(request()).await.unwrap().into_inner();
        assert_eq!(x, y, "{p}");
    }

    // On the streams: each release once, one static and one dynamic result
    // each (no replica analysed a release twice), and a verdict.
    let client = async_nats::connect(cluster.url(0)).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let releases = stored(&js, &format!("{prefix}_RELEASES")).await;
    let results = stored(&js, &format!("{prefix}_RESULTS")).await;
    let alerts = stored(&js, &format!("{prefix}_ALERTS")).await;
    let want: BTreeMap<(i32, String, String), usize> = expected
        .iter()
        .map(|p| ((p.ecosystem, p.name.clone(), p.version.clone()), 1))
        .collect();
    assert_eq!(counts(&releases, ".release."), want, "releases");
    assert_eq!(counts(&results, ".result.static."), want, "static results");
    assert_eq!(
        counts(&results, ".result.dynamic."),
        want,
        "dynamic results"
    );
    let judged = counts(&alerts, ".alert.");
    for key in want.keys() {
        assert!(
            judged.get(key).copied().unwrap_or(0) >= 1,
            "no alert for {key:?}"
        );
    }
    drop(replicas);
}
