//! The `paddock` binary as a user runs it.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures::TryStreamExt;
use paddock_testkit::{unique_prefix, TestNats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{paddock, run, text};

#[test]
fn help_lists_every_command_of_the_product() {
    let out = run(paddock().arg("--help"));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in [
        "analyze", "fetch", "submit", "diff", "verify", "alerts", "rules", "up", "topology",
        "config",
    ] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "`{command}` missing from:\n{help}"
        );
    }
}

#[test]
fn an_unknown_config_key_is_an_error_that_names_it() {
    let out = run(paddock().env("PADDOCK__BUS__PREFX", "x").arg("config"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("prefx") && err.contains("PADDOCK__BUS__PREFX"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paddock.toml");
    std::fs::write(&file, "[bus.consumer]\nconcurency = 4\n").unwrap();
    let out = run(paddock().arg("--config").arg(&file).arg("config"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("concurency") && err.contains("paddock.toml"),
        "{err}"
    );
}

#[test]
fn environment_overrides_the_file_in_the_effective_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paddock.toml");
    std::fs::write(
        &file,
        "[bus]\nprefix = \"from-file\"\n[bus.consumer]\nconcurrency = 3\n",
    )
    .unwrap();
    let out = run(paddock()
        .arg("--config")
        .arg(&file)
        .env("PADDOCK__BUS__CONSUMER__CONCURRENCY", "5")
        .arg("config"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = text(&out.stdout);
    assert!(config.contains("prefix = \"from-file\""), "{config}");
    assert!(config.contains("concurrency = 5"), "{config}");
}

#[test]
fn topology_prints_streams_consumers_and_buckets() {
    let out = run(paddock()
        .args(["topology"])
        .env("PADDOCK__BUS__PREFIX", "demo"));
    assert!(out.status.success());
    let plan = text(&out.stdout);
    for item in [
        "demo_RELEASES",
        "demo.release.*",
        "demo_DLQ",
        "static",
        "dynamic",
        "demo-history",
        "demo-artifacts",
        "sink-osv-alerts",
        "dedupe-window 1d",
    ] {
        assert!(plan.contains(item), "`{item}` missing from:\n{plan}");
    }
}

#[tokio::test]
async fn topology_apply_from_two_processes_at_once_leaves_one_of_each() {
    let nats = TestNats::start().await;
    let prefix = unique_prefix();
    let spawn = || {
        paddock()
            .args(["topology", "--apply", "--nats-url", nats.url()])
            .env("PADDOCK__BUS__PREFIX", &prefix)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("applied to"));
    }
    let js = async_nats::jetstream::new(nats.client().await);
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    let ours = |suffix: &str| {
        names
            .iter()
            .filter(|n| **n == format!("{prefix}_{suffix}"))
            .count()
    };
    for suffix in ["RELEASES", "RESULTS", "ALERTS", "DLQ"] {
        assert_eq!(ours(suffix), 1, "{suffix} in {names:?}");
    }
}

/// Reads the child's stdout lines on a thread.
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

async fn http_get(addr: &str, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn up_starts_nats_creates_the_topology_reports_ready_and_stops_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut child = paddock()
        .args(["up", "--data-dir"])
        .arg(data.path())
        .env("PADDOCK__NATS_SERVER__PORT", "0")
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__WEB_LISTEN", "127.0.0.1:0")
        .env("PADDOCK__BUS__PREFIX", "uptest")
        // Tests reach no registry beyond loopback.
        .env("PADDOCK__FEED__ENABLED", "false")
        // The dynamic service has tests of its own (and needs root).
        .env("PADDOCK__DYNAMIC__ENABLED", "false")
        .env("PADDOCK__SINK__OSV__ENABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let lines = lines_of(&mut child);

    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !seen.iter().any(|l: &String| l.contains("ready")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("no `ready` line within 30 s; output so far: {seen:#?}");
            }
        }
    }
    let all = seen.join("\n");
    assert!(
        all.contains(&data.path().display().to_string()),
        "prints the data dir:\n{all}"
    );
    let url = all
        .split_whitespace()
        .find(|w| w.starts_with("nats://"))
        .unwrap()
        .trim_end_matches(',')
        .to_owned();
    let http = all
        .split_whitespace()
        .find_map(|w| {
            w.strip_prefix("http://")
                .and_then(|r| r.strip_suffix("/healthz"))
        })
        .unwrap()
        .to_owned();

    // The topology is there, seen with a plain client.
    let client = async_nats::connect(&url).await.unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    for stream in [
        "uptest_RELEASES",
        "uptest_RESULTS",
        "uptest_ALERTS",
        "uptest_DLQ",
    ] {
        assert!(
            names.contains(&stream.to_owned()),
            "{stream} missing from {names:?}"
        );
    }
    assert!(
        data.path().join("nats/jetstream").is_dir(),
        "the store lives under the data dir"
    );

    // Health and metrics answer.
    assert!(http_get(&http, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    // Ready once every consumer pulls (each is its own component).
    let mut ready = String::new();
    for _ in 0..100 {
        ready = http_get(&http, "/readyz").await;
        if ready.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        ready.starts_with("HTTP/1.1 200")
            && ready.contains("\"ready\":true")
            && ready.contains("consumer static")
            && ready.contains("consumer sink-parquet-results")
            && ready.contains("consumer sink-osv-alerts"),
        "{ready}"
    );
    let metrics = http_get(&http, "/metrics").await;
    assert!(metrics.contains("paddock_build_info"), "{metrics}");

    // The Parquet sink runs with no set-up: a result on the bus becomes a
    // row in a file under the data directory, readable at once.
    let parquet = data.path().join("parquet");
    assert!(
        all.contains(&format!("Parquet files under {}", parquet.display())),
        "{all}"
    );
    let bus = paddock_bus::JetStreamBus::connect(
        &url,
        &paddock_bus::BusConfig {
            prefix: "uptest".into(),
            ..Default::default()
        },
        std::sync::Arc::new(paddock_bus::metrics::BusMetrics::default()),
    )
    .await
    .unwrap();
    let result = paddock_proto::v1::StaticResult {
        package: Some(paddock_proto::v1::PackageRef {
            ecosystem: paddock_proto::v1::Ecosystem::Npm as i32,
            name: "left-pad".into(),
            version: "1.3.0".into(),
        }),
        ..Default::default()
    };
    use paddock_bus::Bus as _;
    bus.publish(
        &bus.names().static_result(paddock_proto::v1::Ecosystem::Npm),
        "uptest:left-pad",
        &result,
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let batches = paddock_sink::parquet::read_table(&parquet, "static_results").unwrap();
        if !batches.is_empty() {
            break batches;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no Parquet file under {} within 30 s",
            parquet.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let files = paddock_sink::parquet::committed_files(&parquet.join("static_results")).unwrap();
    assert!(
        files[0]
            .display()
            .to_string()
            .contains("static_results/ecosystem=npm/date="),
        "{files:?}"
    );
    let table = paddock_sink::Table::StaticResults;
    let own = rows[0]
        .project(&(0..table.schema().fields().len()).collect::<Vec<_>>())
        .unwrap();
    let back = paddock_sink::from_record_batch(table, &own).unwrap();
    assert_eq!(back.len(), 1);
    let package = back[0].get_field_by_name("package").unwrap();
    assert!(format!("{package:?}").contains("left-pad"), "{package:?}");

    // The OSV sink, enabled, writes a critical verdict's report under
    // `<data_dir>/osv`.
    let osv = data.path().join("osv");
    assert!(
        all.contains(&format!(
            "sink: OSV reports of critical verdicts and above under {}",
            osv.join("osv").display()
        )),
        "{all}"
    );
    let verdict = paddock_proto::v1::Verdict {
        package: result.package.clone(),
        severity: paddock_proto::v1::Severity::Critical.into(),
        ..Default::default()
    };
    let alert = paddock_proto::v1::Alert {
        alert_id: "uptest:left-pad".into(),
        summary: "npm left-pad@1.3.0: critical".into(),
        package: result.package.clone(),
        severity: verdict.severity,
        verdict: Some(verdict),
        ..Default::default()
    };
    // `paddock alerts tail` with no URL follows this stack's alerts.
    let mut tail = paddock()
        .args(["alerts", "tail", "--count", "1"])
        .env("PADDOCK__DATA_DIR", data.path())
        .env("PADDOCK__BUS__PREFIX", "uptest")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let following = {
        let stderr = tail.stderr.take().unwrap();
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stderr).read_line(&mut line).unwrap();
            line
        })
    };
    let tail_pid = tail.id().to_string();
    let kill_tail = || {
        let _ = Command::new("kill").args(["-KILL", &tail_pid]).status();
    };
    let Ok(following) = tokio::time::timeout(Duration::from_secs(30), following).await else {
        kill_tail();
        panic!("alerts tail did not subscribe within 30 s");
    };
    let following = following.unwrap();
    assert!(following.contains("following alerts"), "{following}");
    bus.publish(
        &bus.names().alert(
            paddock_proto::v1::Severity::Critical,
            paddock_proto::v1::Ecosystem::Npm,
        ),
        "uptest:alert",
        &alert,
    )
    .await
    .unwrap();
    let Ok(tailed) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || tail.wait_with_output().unwrap()),
    )
    .await
    else {
        kill_tail();
        panic!("alerts tail --count 1 did not end with the alert within 30 s");
    };
    let tailed = tailed.unwrap();
    assert!(tailed.status.success());
    assert!(
        text(&tailed.stdout).contains("left-pad"),
        "{}",
        text(&tailed.stdout)
    );
    let reports = osv.join("osv/malicious/npm/left-pad");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(&reports).map_or(true, |mut d| d.next().is_none()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no report under {} within 30 s",
            reports.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The local stack by default: `paddock submit` with no URL finds the
    // running `paddock up` through its data directory.
    assert!(data.path().join("stack.json").is_file());
    let artifact = data.path().join("paddock-honest-1.0.0.tgz");
    let honest = paddock_testkit::packages::catalogue()
        .into_iter()
        .find(|p| p.eco == paddock_proto::v1::Ecosystem::Npm)
        .unwrap();
    std::fs::write(&artifact, paddock_testkit::packages::build(&honest).bytes).unwrap();
    let stream = js.get_stream("uptest_RELEASES").await.unwrap();
    let before = stream.cached_info().state.messages;
    let submitted = tokio::task::spawn_blocking({
        let (data, artifact) = (data.path().to_owned(), artifact.clone());
        move || {
            paddock()
                .args(["submit", "--local"])
                .arg(&artifact)
                .env("PADDOCK__DATA_DIR", &data)
                .env("PADDOCK__BUS__PREFIX", "uptest")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(submitted.status.success(), "{}", text(&submitted.stderr));
    let mut stream = js.get_stream("uptest_RELEASES").await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, before + 1);
    drop(bus);
    drop(client);

    // SIGTERM: a clean exit, and the nats-server it started is gone.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || {
        let exit = child.wait().unwrap();
        let rest: Vec<String> = lines.iter().collect();
        (exit, rest)
    });
    let (exit, rest) = tokio::time::timeout(Duration::from_secs(30), exit)
        .await
        .expect("exits within 30 s")
        .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    let rest = rest.join("\n");
    assert!(rest.contains("nats-server stopped"), "{rest}");
    let port = url.rsplit(':').next().unwrap();
    assert!(
        tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .is_err(),
        "nats-server still listening after shutdown"
    );
    // Stopped, it is no longer recorded; submit says how to start one.
    assert!(!data.path().join("stack.json").exists());
    let out = run(paddock()
        .args(["submit", "--local"])
        .arg(&artifact)
        .env("PADDOCK__DATA_DIR", data.path()));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("start one with `paddock up`"),
        "{}",
        text(&out.stderr)
    );
    let out = run(paddock()
        .args(["alerts", "tail", "--count", "1"])
        .env("PADDOCK__DATA_DIR", data.path()));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("start one with `paddock up`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn diff_without_two_releases_explains_its_usage() {
    let out = run(paddock().args(["diff", "npm", "left-pad", "1.0.0"]));
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr)
            .contains("paddock diff <ecosystem> <package> <old-version> <new-version>"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_readme_configuration_example_is_valid() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|s| s.split("```").next())
        .collect();
    assert!(blocks.len() >= 2, "the README shows its configuration");
    let dir = tempfile::tempdir().unwrap();
    for (i, toml) in blocks.iter().enumerate() {
        let file = dir.path().join(format!("example-{i}.toml"));
        std::fs::write(&file, toml).unwrap();
        let out = run(paddock().arg("--config").arg(&file).arg("config"));
        assert!(
            out.status.success(),
            "README example {i} rejected: {}\n{toml}",
            text(&out.stderr)
        );
    }
    // A misspelt feed key is still refused.
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[feed]\nenabeld = true\n").unwrap();
    let out = run(paddock().arg("--config").arg(&file).arg("config"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("enabeld"));
}

/// SIGKILLs a `paddock up` a failed test left running (a test that ends
/// normally has stopped it already).
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("--data-dir") {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

/// Starts `paddock up` on `data` and returns it once its nats-server
/// listens, with the server's URL.
fn up_until_nats(data: &std::path::Path) -> (Child, mpsc::Receiver<String>, String) {
    let mut child = paddock()
        .args(["up", "--data-dir"])
        .arg(data)
        .env("PADDOCK__NATS_SERVER__PORT", "0")
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__WEB_LISTEN", "127.0.0.1:0")
        .env("PADDOCK__FEED__ENABLED", "false")
        .env("PADDOCK__DYNAMIC__ENABLED", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(child.id());
    let lines = lines_of(&mut child);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            let _ = child.kill();
            panic!("no nats-server start line within 30 s");
        };
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("nats://")) {
            std::mem::forget(guard);
            return (child, lines, url.trim_end_matches(',').to_owned());
        }
    }
}

/// Whether anything still listens at `url`'s port, or runs with `data` in
/// its command line, after up to `within`.
async fn left_behind(url: &str, data: &std::path::Path, within: Duration) -> Vec<String> {
    let port = url.rsplit(':').next().unwrap().to_owned();
    let needle = data.display().to_string();
    let deadline = std::time::Instant::now() + within;
    loop {
        let listening = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .is_ok();
        let processes = paddock_testkit::leftovers::processes_with(&needle, "cargo");
        if !listening && processes.is_empty() {
            return Vec::new();
        }
        if std::time::Instant::now() >= deadline {
            let mut left = processes;
            if listening {
                left.push(format!("a listener on port {port}"));
            }
            return left;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn up_sigkilled_leaves_no_nats_server_behind() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, _lines, url) = up_until_nats(data.path());
    child.kill().unwrap();
    child.wait().unwrap();
    let left = left_behind(&url, data.path(), Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[tokio::test]
async fn up_given_sigterm_during_start_up_stops_within_5_s() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, _lines, url) = up_until_nats(data.path());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap());
    let exit = tokio::time::timeout(Duration::from_secs(5), exit)
        .await
        .expect("paddock up stops within 5 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?} after {:?}", started.elapsed());
    let left = left_behind(&url, data.path(), Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left behind: {left:#?}");
}
