//! The API as users run it: `paddock up` with the whole pipeline in one
//! process (static and dynamic analysis, diff, sinks, API) against the
//! fixture registry, called by a tonic client and by an independent
//! Python grpcio client whose stubs are generated here from the .proto
//! files; and `paddock serve api` replicas as separate processes, one of
//! them SIGKILLed mid-stream, whose index ends exact and whose answers
//! agree.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{paddock, paddock_for};
use paddock_bus::{Bus, JetStreamBus, Published};
use paddock_proto::v1::analysis_service_client::AnalysisServiceClient;
use paddock_proto::v1::{
    Alert, AnalysisRun, AnalysisStatus, DynamicResult, Ecosystem, FeedSource, GetDiffRequest,
    GetResultRequest, GetResultResponse, ListReleasesRequest, PackageRef, Release, Severity,
    StaticResult, SubmitRequest, Verdict,
};
use paddock_testkit::registry::FixtureRegistry;
use paddock_testkit::TestNats;
use tonic::transport::Channel;

/// SIGKILLs the process when the test ends, however it ends.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
    }
}

fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Output lines until one contains `needle`; panics after `within`.
fn until(lines: &mpsc::Receiver<String>, needle: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(needle);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no `{needle}` line within {within:?}; output so far: {seen:#?}"),
        }
    }
}

fn npm(name: &str, version: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: name.into(),
        version: version.into(),
    }
}

async fn complete(
    client: &mut AnalysisServiceClient<Channel>,
    package: PackageRef,
    within: Duration,
) -> GetResultResponse {
    let deadline = Instant::now() + within;
    let mut last = None;
    while Instant::now() < deadline {
        match client
            .get_result(GetResultRequest {
                package: Some(package.clone()),
            })
            .await
        {
            Ok(r) => {
                let r = r.into_inner();
                if r.static_result.is_some() && r.dynamic_result.is_some() && r.verdict.is_some() {
                    return r;
                }
                last = Some(format!("{:?}", r.index));
            }
            Err(status) => last = Some(status.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{package} had no static result, dynamic result and verdict within {within:?}; last answer: {last:?}");
}

const PYTHON_CLIENT: &str = r#"
import json, sys, time
import grpc
from paddock.v1 import analysis_service_pb2 as api, common_pb2 as common

target = sys.argv[1]
stub = __import__("paddock.v1.analysis_service_pb2_grpc", fromlist=["x"]).AnalysisServiceStub(grpc.insecure_channel(target))
NPM = common.ECOSYSTEM_NPM
def pkg(v):
    return common.PackageRef(ecosystem=NPM, name="paddock-honest", version=v)

out = {}
for v in ("1.0.0", "1.1.0"):
    r = stub.Submit(api.SubmitRequest(package=pkg(v)))
    out["submitted_" + v] = r.release.package.version
deadline = time.time() + 300
while True:
    try:
        r = stub.GetResult(api.GetResultRequest(package=pkg("1.1.0")))
        if r.HasField("static_result") and r.HasField("dynamic_result") and r.HasField("verdict"):
            break
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise
    if time.time() > deadline:
        sys.exit("no complete result for 1.1.0")
    time.sleep(0.5)
out["static_status"] = common.AnalysisStatus.Name(r.static_result.status)
out["dynamic_phases"] = [common.Phase.Name(p.phase) for p in r.dynamic_result.phases]
out["verdict_version"] = r.verdict.package.version
out["static_run"] = r.static_result.run.run_id
listed = stub.ListReleases(api.ListReleasesRequest(package=common.PackageRef(ecosystem=NPM, name="paddock-honest")))
out["versions"] = [x.package.version for x in listed.releases]
d = stub.GetDiff(api.GetDiffRequest(package=common.PackageRef(ecosystem=NPM, name="paddock-honest"), from_version="1.0.0", to_version="1.1.0"))
out["diff_previous"] = d.change.previous_version
out["diff_package"] = d.change.package.version
try:
    stub.GetResult(api.GetResultRequest(package=pkg("9.9.9")))
    out["missing"] = "answered"
except grpc.RpcError as e:
    out["missing"] = e.code().name
print(json.dumps(out))
"#;

/// Generates the Python stubs from the repository's .proto files into
/// `dir` (grpc_tools bundles the well-known types).
fn python_stubs(dir: &Path) {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files: Vec<String> = std::fs::read_dir(proto.join("paddock/v1"))
        .unwrap()
        .map(|e| format!("paddock/v1/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".proto"))
        .collect();
    let out = Command::new("python3")
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(&proto)
        .arg(format!("--python_out={}", dir.display()))
        .arg(format!("--grpc_python_out={}", dir.display()))
        .args(&files)
        .output()
        .expect("python3 with grpcio-tools (scripts/install-deps --test installs it)");
    assert!(
        out.status.success(),
        "generating the Python stubs failed (scripts/install-deps --test installs grpcio-tools): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_submit_and_read_back_through_the_running_pipeline() {
    let registry = FixtureRegistry::start().await;
    let data = tempfile::tempdir().unwrap();
    let mut child = paddock_for(&registry)
        .args(["up", "--data-dir"])
        .arg(data.path())
        .env("PADDOCK__NATS_SERVER__PORT", "0")
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__WEB_LISTEN", "127.0.0.1:0")
        .env("PADDOCK__BUS__PREFIX", "apitest")
        .env("PADDOCK__FEED__ENABLED", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let lines = lines_of(&mut child);
    // The dynamic service may build its sandbox image first.
    let start = until(&lines, "paddock is ready", Duration::from_secs(900));
    let stack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.path().join("stack.json")).unwrap()).unwrap();
    let url = stack["api"]["grpc_url"]
        .as_str()
        .unwrap_or_else(|| panic!("stack.json records the API: {stack}\n{start:#?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut client = AnalysisServiceClient::connect(url.clone()).await.unwrap();

    // Health and reflection.
    let channel = Channel::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "paddock.v1.AnalysisService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        serving.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let mut reflection =
        tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(channel);
    use tonic_reflection::pb::v1::{
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let listed = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(services)) = listed.message_response else {
        panic!("{listed:?}")
    };
    let names: Vec<_> = services.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"paddock.v1.AnalysisService"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");

    // 1.0.0 first, so that 1.1.0's verdict compares with it.
    let queued = client
        .submit(SubmitRequest {
            package: Some(npm("paddock-honest", "1.0.0")),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(queued.queued);
    let first = complete(
        &mut client,
        npm("paddock-honest", "1.0.0"),
        Duration::from_secs(300),
    )
    .await;
    assert_eq!(
        first.static_result.unwrap().status,
        AnalysisStatus::Completed as i32
    );
    client
        .submit(SubmitRequest {
            package: Some(npm("paddock-honest", "1.1.0")),
        })
        .await
        .unwrap();
    let second = complete(
        &mut client,
        npm("paddock-honest", "1.1.0"),
        Duration::from_secs(300),
    )
    .await;
    let dynamic = second.dynamic_result.unwrap();
    assert!(
        dynamic
            .phases
            .iter()
            .any(|p| p.phase == paddock_proto::v1::Phase::Install as i32),
        "{dynamic:?}"
    );
    assert_eq!(
        second
            .verdict
            .as_ref()
            .unwrap()
            .package
            .as_ref()
            .unwrap()
            .version,
        "1.1.0"
    );
    assert_eq!(second.verdict.unwrap().previous_version, "1.0.0");

    let list = client
        .list_releases(ListReleasesRequest {
            package: Some(npm("paddock-honest", "")),
            limit: 10,
        })
        .await
        .unwrap()
        .into_inner();
    let versions: Vec<_> = list
        .releases
        .iter()
        .map(|r| r.package.as_ref().unwrap().version.as_str())
        .collect();
    assert_eq!(versions, ["1.1.0", "1.0.0"]);
    let diff = client
        .get_diff(GetDiffRequest {
            package: Some(npm("paddock-honest", "")),
            from_version: "1.0.0".into(),
            to_version: "1.1.0".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let change = diff.change.unwrap();
    assert_eq!(change.previous_version, "1.0.0");
    assert!(!diff.computed, "1.1.0's alert compared it with 1.0.0");

    // The independent client: Python, stubs generated from the .proto.
    let py = tempfile::tempdir().unwrap();
    python_stubs(py.path());
    std::fs::write(py.path().join("client.py"), PYTHON_CLIENT).unwrap();
    let target = url.trim_start_matches("http://").to_owned();
    let dir = py.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg("client.py")
            .arg(target)
            .current_dir(dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["submitted_1.1.0"], "1.1.0", "{answer}");
    assert_eq!(
        answer["static_status"], "ANALYSIS_STATUS_COMPLETED",
        "{answer}"
    );
    assert!(
        answer["dynamic_phases"]
            .as_array()
            .unwrap()
            .contains(&"PHASE_INSTALL".into()),
        "{answer}"
    );
    assert_eq!(answer["verdict_version"], "1.1.0", "{answer}");
    assert_eq!(
        answer["static_run"],
        second
            .static_result
            .as_ref()
            .map(|s| s.run.clone().unwrap().run_id)
            .unwrap_or_default(),
        "both clients read the same result: {answer}"
    );
    assert_eq!(
        answer["versions"],
        serde_json::json!(["1.1.0", "1.0.0"]),
        "{answer}"
    );
    assert_eq!(answer["diff_previous"], "1.0.0", "{answer}");
    assert_eq!(answer["diff_package"], "1.1.0", "{answer}");
    assert_eq!(answer["missing"], "NOT_FOUND", "{answer}");

    // `paddock verify` reads the API as a store.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("package-lock.json"),
        r#"{"name":"app","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","dependencies":{"paddock-honest":"1.1.0"}},"node_modules/paddock-honest":{"version":"1.1.0"}}}"#,
    )
    .unwrap();
    let mut verify = paddock();
    verify
        .args(["verify", "--format", "json", "--api", &url])
        .arg(project.path())
        .env("PADDOCK__DATA_DIR", project.path());
    let out = common::run_async(verify).await;
    assert!(
        out.status.success(),
        "verify with the API as its store: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &doc["results"][0];
    assert_eq!(result["name"], "paddock-honest", "{doc}");
    assert_eq!(result["verdict"]["store"], format!("api:{url}"), "{doc}");
    assert_eq!(doc["summary"]["not_analysed"], 0, "{doc}");

    // SIGTERM stops everything, API included.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    until(&lines, "paddock stopped", Duration::from_secs(60));
}

/// A `paddock serve api` process on `nats`; its gRPC URL.
fn serve_api(nats: &str, prefix: &str) -> (Child, KillOnDrop, String) {
    let mut child = paddock()
        .args(["serve", "api", "--nats-url", nats])
        .env("PADDOCK__BUS__PREFIX", prefix)
        .env("PADDOCK__BUS__TOPOLOGY__ACK_WAIT", "2s")
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__WEB_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(child.id());
    let lines = lines_of(&mut child);
    let seen = until(&lines, "api: gRPC ", Duration::from_secs(30));
    let url = seen
        .last()
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    // Keep reading, so the process never blocks on a full pipe.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    (child, guard, url)
}

/// The stream sequences the index must end with, per release.
#[derive(Debug, Clone, Default, PartialEq)]
struct Expected {
    release: u64,
    statics: u64,
    dynamic: u64,
    alert: u64,
    severity: i32,
}

const NAMES: [&str; 3] = ["@evil/../pkg", "zope.interface", "plain"];

async fn publish_everything(bus: JetStreamBus, releases: usize) -> Vec<(PackageRef, Expected)> {
    let seq = |p: Published| p.sequence;
    let mut out = Vec::new();
    for i in 0..releases {
        let p = npm(NAMES[i % NAMES.len()], &format!("1.0.{i}"));
        let eco = Ecosystem::Npm;
        let run = |id: String| {
            Some(AnalysisRun {
                run_id: id,
                ..Default::default()
            })
        };
        let mut e = Expected::default();
        let release = Release {
            package: Some(p.clone()),
            source: FeedSource::Manual as i32,
            ..Default::default()
        };
        e.release = seq(bus
            .publish(
                &bus.names().release(eco),
                &paddock_bus::names::release_msg_id(&p),
                &release,
            )
            .await
            .unwrap());
        // A third of the releases are analysed twice: the later result and
        // alert must win, whatever order redeliveries come in.
        let runs = if i % 3 == 0 { 2 } else { 1 };
        for r in 0..runs {
            let s = StaticResult {
                package: Some(p.clone()),
                run: run(format!("s{i}-{r}")),
                status: AnalysisStatus::Completed as i32,
                ..Default::default()
            };
            e.statics = seq(bus
                .publish(
                    &bus.names().static_result(eco),
                    &paddock_bus::names::result_msg_id("static", &p, &format!("s{i}-{r}")),
                    &s,
                )
                .await
                .unwrap());
            let d = DynamicResult {
                package: Some(p.clone()),
                run: run(format!("d{i}-{r}")),
                status: AnalysisStatus::Completed as i32,
                ..Default::default()
            };
            e.dynamic = seq(bus
                .publish(
                    &bus.names().dynamic_result(eco),
                    &paddock_bus::names::result_msg_id("dynamic", &p, &format!("d{i}-{r}")),
                    &d,
                )
                .await
                .unwrap());
            let severity = if r == 0 {
                Severity::Low
            } else {
                Severity::High
            };
            let a = Alert {
                alert_id: format!("a{i}-{r}"),
                package: Some(p.clone()),
                severity: severity as i32,
                verdict: Some(Verdict {
                    package: Some(p.clone()),
                    severity: severity as i32,
                    ..Default::default()
                }),
                ..Default::default()
            };
            e.alert = seq(bus
                .publish(
                    &bus.names().alert(severity, eco),
                    &format!("alert:a{i}-{r}"),
                    &a,
                )
                .await
                .unwrap());
            e.severity = severity as i32;
        }
        out.push((p, e));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    out
}

async fn indexed(client: &mut AnalysisServiceClient<Channel>, p: &PackageRef) -> Option<Expected> {
    let r = client
        .get_result(GetResultRequest {
            package: Some(p.clone()),
        })
        .await
        .ok()?
        .into_inner();
    let i = r.index?;
    Some(Expected {
        release: i.release_sequence,
        statics: i.static_sequence,
        dynamic: i.dynamic_sequence,
        alert: i.alert_sequence,
        severity: i.severity,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_exact_after_its_consumer_is_killed_mid_stream_and_replicas_agree() {
    const RELEASES: usize = 240;
    let nats = TestNats::start().await;
    let (bus, config) = nats
        .bus_with(|c| c.topology.ack_wait = Duration::from_secs(2))
        .await;
    let prefix = config.prefix.clone();
    let (_first, first_guard, _) = serve_api(nats.url(), &prefix);

    let publisher = tokio::spawn(publish_everything(bus.clone(), RELEASES));
    // SIGKILL the indexing replica while messages arrive, twice.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let js = bus.jetstream();
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream(bus.names().stream(paddock_bus::StreamKind::Results))
        .await
        .unwrap()
        .get_consumer("api-index-static")
        .await
        .unwrap();
    let at_kill = consumer.info().await.unwrap().clone();
    println!(
        "first kill: api-index-static has {} delivered, {} waiting, {} unacknowledged",
        at_kill.delivered.stream_sequence, at_kill.num_pending, at_kill.num_ack_pending
    );
    drop(first_guard);
    let (_second, second_guard, _) = serve_api(nats.url(), &prefix);
    tokio::time::sleep(Duration::from_millis(400)).await;
    drop(second_guard);
    // Two replicas from here on.
    let (_a, _a_guard, url_a) = serve_api(nats.url(), &prefix);
    let (_b, _b_guard, url_b) = serve_api(nats.url(), &prefix);
    let truth = publisher.await.unwrap();
    assert!(
        at_kill.delivered.stream_sequence > 0,
        "the first replica was killed before it indexed anything: the test proves nothing"
    );

    let mut a = AnalysisServiceClient::connect(url_a).await.unwrap();
    let mut b = AnalysisServiceClient::connect(url_b).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut wrong = Vec::new();
    loop {
        wrong.clear();
        for (p, expected) in &truth {
            let got = indexed(&mut a, p).await;
            if got.as_ref() != Some(expected) {
                wrong.push(format!("{p}: expected {expected:?}, index has {got:?}"));
            }
        }
        if wrong.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        wrong.is_empty(),
        "{} of {RELEASES} entries missing or stale, for example {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );

    // The two replicas answer the same.
    for (p, _) in &truth {
        let (x, y) = (
            a.get_result(GetResultRequest {
                package: Some(p.clone()),
            })
            .await
            .unwrap()
            .into_inner(),
            b.get_result(GetResultRequest {
                package: Some(p.clone()),
            })
            .await
            .unwrap()
            .into_inner(),
        );
        assert_eq!(x, y, "{p}");
    }
    for name in NAMES {
        let list = |c: &mut AnalysisServiceClient<Channel>| {
            let mut c = c.clone();
            async move {
                c.list_releases(ListReleasesRequest {
                    package: Some(npm(name, "")),
                    limit: 1000,
                })
                .await
                .unwrap()
                .into_inner()
            }
        };
        let (x, y) = (list(&mut a).await, list(&mut b).await);
        assert_eq!(x.releases.len(), RELEASES / NAMES.len(), "{name}");
        assert_eq!(x, y, "{name}");
    }
}
