//! Containment: packages that try to escape or exhaust the sandbox end as
//! a recorded status or a recorded attempt; the worker carries on, the
//! host is unchanged and nothing is left behind.

mod common;

use std::time::Duration;

use paddock_dynamic::{DynamicAnalyzer, PhaseName};
use paddock_proto::v1::{AnalysisStatus, DynamicResult, FileOp, SocketOp};

async fn run(a: &DynamicAnalyzer, dir: &std::path::Path, name: &str, setup: &str) -> DynamicResult {
    common::analyse_sdist(a, dir, name, setup, &[]).await
}

async fn install_only(dir: &std::path::Path, worker: &str, timeout: Duration) -> DynamicAnalyzer {
    let mut config = common::config(dir, &common::worker(worker));
    config.phases = vec![PhaseName::Install];
    config.install_timeout = timeout;
    config.sandbox.memory_bytes = 1 << 30;
    common::analyzer(config).await
}

#[tokio::test]
async fn host_files_read_only_rootfs_and_outside_addresses_stay_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    // A file on the host, outside anything the sandbox mounts.
    let secret = dir.path().join("host-secret");
    std::fs::write(&secret, "host only").unwrap();
    let a = install_only(dir.path(), "escape", Duration::from_secs(120)).await;
    let rootfs = a.rootfs().to_owned();
    let setup = format!(
        r#"import socket
for path in ["{secret}", "/etc/shadow-of-the-host"]:
    try:
        open(path).read()
    except OSError as e:
        print("read", path, e)
for path in ["/usr/lib/paddock-pwned", "/etc/paddock-pwned", "/opt/paddock/analyze-python.py"]:
    try:
        open(path, "w").write("pwned")
    except OSError as e:
        print("write", path, e)
s = socket.socket()
s.settimeout(5)
try:
    s.connect(("192.0.2.1", 80))
except OSError as e:
    print("connect", e)
from setuptools import setup
setup(name="escape", version="1.0.0")
"#,
        secret = secret.display()
    );
    let r = run(&a, dir.path(), "escape", &setup).await;
    let p = &r.phases[0];
    assert_eq!(
        p.status,
        AnalysisStatus::Completed as i32,
        "{}",
        String::from_utf8_lossy(&p.stderr_tail)
    );
    let secret_path = secret.display().to_string();
    let attempt = |path: &str, op: FileOp| {
        p.file_events
            .iter()
            .filter(|e| e.path == path && e.op == op as i32)
            .collect::<Vec<_>>()
    };
    let reads = attempt(&secret_path, FileOp::OpenRead);
    assert!(
        !reads.is_empty(),
        "the attempt on the host path is recorded"
    );
    assert!(reads.iter().all(|e| e.result < 0), "and failed: {reads:?}");
    for path in ["/usr/lib/paddock-pwned", "/etc/paddock-pwned"] {
        let writes = attempt(path, FileOp::Create);
        assert!(
            !writes.is_empty() && writes.iter().all(|e| e.result < 0),
            "{path}: {writes:?}"
        );
        assert!(
            !rootfs.join(path.trim_start_matches('/')).exists(),
            "{path} reached the rootfs"
        );
    }
    assert!(
        p.files
            .iter()
            .any(|f| f.path == "/usr/lib/paddock-pwned" && f.failed_only),
        "the summary marks failed-only attempts"
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host only");
    let connect = p
        .sockets
        .iter()
        .find(|s| s.op == SocketOp::Connect as i32 && s.address == "192.0.2.1" && s.port == 80)
        .expect("the connection attempt is recorded");
    // No route in the analysis's own namespace: refused before a packet
    // is sent.
    assert!(
        matches!(connect.error.as_str(), "EHOSTUNREACH" | "ENETUNREACH"),
        "{connect:?}"
    );
    assert!(a.clean_up_leftovers().await.is_empty());
}

#[tokio::test]
async fn a_sleep_forever_ends_as_a_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let a = install_only(dir.path(), "sleep", Duration::from_secs(8)).await;
    let started = std::time::Instant::now();
    let r = run(
        &a,
        dir.path(),
        "sleeper",
        "import time\ntime.sleep(10**6)\n",
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        r.phases[0].status,
        AnalysisStatus::ErrorTimeout as i32,
        "{}",
        r.phases[0].status_detail
    );
    assert_eq!(r.status, AnalysisStatus::ErrorTimeout as i32);
    assert!(
        a.clean_up_leftovers().await.is_empty(),
        "nothing left behind"
    );
}

#[tokio::test]
async fn a_fork_bomb_and_a_memory_bomb_end_as_statuses_and_the_worker_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let a = install_only(dir.path(), "bombs", Duration::from_secs(20)).await;

    let fork = run(
        &a,
        dir.path(),
        "forkbomb",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    )
    .await;
    let status = fork.phases[0].status;
    assert!(
        [
            AnalysisStatus::ErrorTimeout,
            AnalysisStatus::ErrorLimit,
            AnalysisStatus::ErrorAnalysis
        ]
        .iter()
        .any(|s| *s as i32 == status),
        "fork bomb: {status} {}",
        fork.phases[0].status_detail
    );
    println!("fork bomb: {}", fork.phases[0].status_detail);

    let memory = run(
        &a,
        dir.path(),
        "membomb",
        "b = bytearray(10 * 1024 ** 3)\nprint(len(b))\n",
    )
    .await;
    let p = &memory.phases[0];
    assert_ne!(
        p.status,
        AnalysisStatus::Completed as i32,
        "10 GB in a 1 GiB sandbox"
    );
    assert_ne!(
        p.status,
        AnalysisStatus::ErrorOther as i32,
        "{}",
        p.status_detail
    );
    println!(
        "memory bomb: {} / {}",
        p.status_detail,
        String::from_utf8_lossy(&p.stderr_tail)
            .lines()
            .last()
            .unwrap_or_default()
    );

    // The worker is fine: the next package installs normally.
    let ok = run(
        &a,
        dir.path(),
        "after-the-bombs",
        "from setuptools import setup\nsetup(name='after-the-bombs', version='1.0.0')\n",
    )
    .await;
    assert_eq!(
        ok.phases[0].status,
        AnalysisStatus::Completed as i32,
        "{}",
        String::from_utf8_lossy(&ok.phases[0].stderr_tail)
    );
    assert!(
        a.clean_up_leftovers().await.is_empty(),
        "nothing left behind"
    );
}
