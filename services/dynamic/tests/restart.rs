//! Acceptance: killing the dynamic service mid-analysis and restarting it
//! leaves no runsc processes, containers, mounts or namespaces (the
//! sandbox's and the simulated internet's, with their veth pair) behind, and
//! the release is analysed once more, to completion, with one result.
#![allow(clippy::disallowed_methods)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use paddock_bus::names::StreamKind;
use paddock_bus::Bus;
use paddock_feed::ReleasePublisher;
use paddock_proto::v1::{AnalysisStatus, ArtifactKind, DynamicResult, Ecosystem, PackageRef};
use paddock_testkit::leftovers::{self, mounts_with, namespaces_with};
use paddock_testkit::packages::pypi_sdist;
use paddock_testkit::TestNats;
use prost::Message;

fn service(nats: &str, prefix: &str, dir: &std::path::Path, worker: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_paddock-dynamic"))
        .args(["--nats-url", nats])
        .env("PADDOCK__BUS__PREFIX", prefix)
        .env("PADDOCK__BUS__TOPOLOGY__ACK_WAIT", "6s")
        .env("PADDOCK__DYNAMIC__ANALYSIS__WORKER_ID", worker)
        .env("PADDOCK__DYNAMIC__ANALYSIS__WORK_DIR", dir.join("work"))
        .env(
            "PADDOCK__DYNAMIC__ANALYSIS__SANDBOX__STATE_DIR",
            dir.join("state"),
        )
        .env(
            "PADDOCK__DYNAMIC__ANALYSIS__PHASES",
            "[\"install\", \"import\"]",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("paddock-dynamic starts")
}

/// Processes whose command line mentions `needle` (runsc's sandbox, gofer
/// and `run` processes carry the state directory).
fn processes_with(needle: &str) -> Vec<String> {
    leftovers::processes_with(needle, "restart-")
}

#[tokio::test]
async fn a_killed_worker_leaves_nothing_behind_and_the_release_is_analysed_again() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let prefix = config.prefix.clone();
    let dir = tempfile::tempdir().unwrap();
    let worker = format!("restart{}", std::process::id());

    // A package whose install takes a while: the worker is killed during it.
    let built = pypi_sdist(
        "slow-install",
        "1.0.0",
        "import time\ntime.sleep(8)\nfrom setuptools import setup\nsetup(name='slow-install', version='1.0.0')\n",
        &[],
    );
    let publisher = ReleasePublisher::new(&bus).await.unwrap();
    publisher
        .publish_local(
            PackageRef {
                ecosystem: Ecosystem::Pypi as i32,
                name: "slow-install".into(),
                version: "1.0.0".into(),
            },
            &built.filename,
            bytes::Bytes::from(built.bytes.clone()),
            ArtifactKind::Sdist,
        )
        .await
        .unwrap();

    let state = dir.path().join("state").display().to_string();
    let mut first = service(nats.url(), &prefix, dir.path(), &worker);
    // Wait until the sandbox is running, then kill the worker outright.
    let deadline = Instant::now() + Duration::from_secs(180);
    while processes_with(&state).iter().all(|p| !p.contains("boot")) {
        assert!(Instant::now() < deadline, "the sandbox never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.kill().await.unwrap();
    first.wait().await.unwrap();
    // What a SIGKILL leaves: the sandbox and its namespace, mount and
    // work directory.
    let work = dir.path().join("work").display().to_string();
    let left = namespaces_with(&worker);
    assert!(
        left.iter().any(|n| n.contains("-net")),
        "the simulated internet's namespace was there when the worker died: {left:?}"
    );
    assert!(
        !processes_with(&state).is_empty()
            || !namespaces_with(&worker).is_empty()
            || !mounts_with(&work).is_empty(),
        "the kill left something to clean up (else this test proves nothing)"
    );

    let mut second = service(nats.url(), &prefix, dir.path(), &worker);
    // One result, completed.
    let subject = bus.names().dynamic_result(Ecosystem::Pypi);
    let mut results = bus.client().subscribe(subject.clone()).await.unwrap();
    let mut stream = bus
        .jetstream()
        .get_stream(bus.names().stream(StreamKind::Results))
        .await
        .unwrap();
    let result = loop {
        if stream.info().await.unwrap().state.messages > 0 {
            let msg = stream
                .get_last_raw_message_by_subject(&subject)
                .await
                .unwrap();
            break DynamicResult::decode(msg.payload.as_ref()).unwrap();
        }
        tokio::select! {
            _ = results.next() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        assert!(Instant::now() < deadline, "no result after the restart");
    };
    assert_eq!(
        result.status,
        AnalysisStatus::Completed as i32,
        "{}",
        result.status_detail
    );
    // The two phases configured (and the gated rerun of the import).
    assert_eq!(
        result
            .phases
            .iter()
            .filter(|p| p.variant.is_empty())
            .count(),
        2
    );
    // Nothing of the first attempt remains once the second is done.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stream.info().await.unwrap().state.messages, 1, "one result");
    let list = std::process::Command::new("runsc")
        .args(["--root", &state, "list", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).trim(),
        "",
        "no containers"
    );
    assert!(
        processes_with(&state).is_empty(),
        "no runsc processes: {:?}",
        processes_with(&state)
    );
    assert!(namespaces_with(&worker).is_empty(), "no namespaces");
    assert!(
        mounts_with(&work).is_empty(),
        "no mounts: {:?}",
        mounts_with(&work)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("work"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "no work directories: {left:?}");

    second.start_kill().unwrap();
    second.wait().await.unwrap();
}
