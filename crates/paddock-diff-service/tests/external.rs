//! The alert contract from the outside: a plain Python subscriber
//! (`tests/external/subscribe_alerts.py`, nats-py and protobuf only) compiles
//! the documented `.proto` files, subscribes to `<prefix>.alert.>` and decodes
//! an alert published through the bus, with no Paddock code on its side.
//!
//! Needs `python3` with `nats-py`, `protobuf` and `grpcio-tools`
//! (`scripts/install-deps --test` installs them); without them the test fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use paddock_bus::Bus;
use paddock_proto::v1::{
    Alert, BehaviorChange, Change, ChangeAction, ChangeKind, Ecosystem, PackageRef, Phase, Reason,
    Severity, Verdict,
};
use paddock_proto::well_known::Timestamp;
use paddock_testkit::TestNats;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

const PYTHON_MODULES: &str = "import nats, google.protobuf, grpc_tools";
/// Compiling the .proto files and importing grpc_tools takes a few seconds
/// on a cold machine.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(60);
const ALERT_WAIT: Duration = Duration::from_secs(30);

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails (never skips) when the subscriber's Python packages are missing.
fn require_python_packages() {
    let probe = std::process::Command::new("python3")
        .args(["-c", PYTHON_MODULES])
        .output();
    let problem = match probe {
        Ok(out) if out.status.success() => return,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        Err(e) => format!("cannot run python3: {e}"),
    };
    panic!(
        "the external-subscriber test needs python3 with nats-py, protobuf and grpcio-tools \
         (`python3 -c \"{PYTHON_MODULES}\"` failed: {problem}); \
         run `scripts/install-deps --test` to install them"
    );
}

fn sample_alert() -> Alert {
    let package = PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: "evil-pkg".into(),
        version: "1.0.1".into(),
    };
    // 2026-01-01T00:00:00Z
    let created = Timestamp {
        seconds: 1_767_225_600,
        nanos: 0,
    };
    Alert {
        alert_id: "alert-3f2a9c".into(),
        package: Some(package.clone()),
        severity: Severity::High as i32,
        created_at: Some(created),
        summary: "npm evil-pkg@1.0.1 newly connects to evil.example:443 during install".into(),
        verdict: Some(Verdict {
            package: Some(package.clone()),
            created_at: Some(created),
            severity: Severity::High as i32,
            score: 7.5,
            reasons: vec![Reason {
                source: "change".into(),
                code: "CHANGE_KIND_HOST".into(),
                description: "new outbound connection during install".into(),
                weight: 0.5,
                severity: Severity::High as i32,
            }],
            previous_version: "1.0.0".into(),
            has_static: true,
            has_dynamic: true,
            run_ids: vec!["run-static-1".into(), "run-dynamic-1".into()],
            scoring_version: "1".into(),
        }),
        change: Some(BehaviorChange {
            package: Some(package),
            previous_version: "1.0.0".into(),
            created_at: Some(created),
            changes: vec![Change {
                kind: ChangeKind::Host as i32,
                action: ChangeAction::Added as i32,
                value: "install connect evil.example:443".into(),
                phase: Phase::Install as i32,
                evidence_hash: "0".repeat(64),
                evidence: vec![],
            }],
            severity: Severity::High as i32,
        }),
    }
}

#[tokio::test]
async fn a_plain_python_subscriber_decodes_an_alert_from_the_proto() {
    require_python_packages();

    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;

    let subject = format!("{}.alert.>", config.prefix);
    let mut child = Command::new("python3")
        .arg("tests/external/subscribe_alerts.py")
        .args(["--server", nats.url(), "--subject", &subject])
        .args(["--count", "1", "--timeout", "60"])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawning python3 tests/external/subscribe_alerts.py");

    // Every stderr line goes to the channel (and is kept for failure messages).
    let (err_tx, mut err_rx) = mpsc::unbounded_channel::<String>();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            if err_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();

    let mut seen = Vec::new();
    let subscribed = tokio::time::timeout(SUBSCRIBE_WAIT, async {
        while let Some(line) = err_rx.recv().await {
            let done = line.trim() == "subscribed";
            seen.push(line);
            if done {
                return true;
            }
        }
        false // stderr closed: the script exited
    })
    .await;
    match subscribed {
        Ok(true) => {}
        Ok(false) => {
            let status = child.wait().await;
            panic!(
                "the subscriber exited before subscribing ({status:?}); stderr:\n{}",
                seen.join("\n")
            );
        }
        Err(_) => panic!(
            "the subscriber did not print `subscribed` within {SUBSCRIBE_WAIT:?}; stderr:\n{}",
            seen.join("\n")
        ),
    }

    let alert = sample_alert();
    let published = bus
        .publish(
            &bus.names().alert(Severity::High, Ecosystem::Npm),
            "alert:test",
            &alert,
        )
        .await
        .unwrap();
    assert!(!published.duplicate);

    let line = match tokio::time::timeout(ALERT_WAIT, stdout.next_line()).await {
        Ok(Ok(Some(line))) => line,
        other => {
            while let Ok(line) = err_rx.try_recv() {
                seen.push(line);
            }
            panic!(
                "no alert line from the subscriber ({other:?}); stderr:\n{}",
                seen.join("\n")
            );
        }
    };
    let status = tokio::time::timeout(ALERT_WAIT, child.wait())
        .await
        .expect("the subscriber did not exit after its one alert")
        .unwrap();
    assert!(status.success(), "subscriber exit status {status}");

    let json: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("the subscriber printed non-JSON `{line}`: {e}"));
    assert_eq!(json["alertId"], "alert-3f2a9c", "{line}");
    assert_eq!(json["package"]["ecosystem"], "ECOSYSTEM_NPM", "{line}");
    assert_eq!(json["package"]["name"], "evil-pkg", "{line}");
    assert_eq!(json["package"]["version"], "1.0.1", "{line}");
    assert_eq!(json["severity"], "SEVERITY_HIGH", "{line}");
    assert_eq!(json["createdAt"], "2026-01-01T00:00:00Z", "{line}");
    assert_eq!(json["summary"], alert.summary.as_str(), "{line}");
    let verdict = &json["verdict"];
    assert_eq!(verdict["previousVersion"], "1.0.0", "{line}");
    assert_eq!(verdict["reasons"][0]["code"], "CHANGE_KIND_HOST", "{line}");
    assert_eq!(verdict["reasons"][0]["source"], "change", "{line}");
    let change = &json["change"]["changes"][0];
    assert_eq!(change["kind"], "CHANGE_KIND_HOST", "{line}");
    assert_eq!(change["action"], "CHANGE_ACTION_ADDED", "{line}");
    assert_eq!(
        change["value"], "install connect evil.example:443",
        "{line}"
    );
}
