//! The deployment files: they parse, wire the services as documented, and
//! the NATS accounts grant each service its work and nothing more.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use paddock_bus::metrics::BusMetrics;
use paddock_bus::names::release_msg_id;
use paddock_bus::{Bus, BusConfig, CancellationToken, Delivery, HandlerError, JetStreamBus};
use paddock_proto::v1::{Ecosystem, PackageRef, Release, StaticResult};
use paddock_runtime::nats_server::{LocalNatsConfig, LocalNatsServer};
use serde_yaml::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn compose_runs_paddock_against_a_healthy_jetstream_server() {
    let compose = &yaml("compose.yaml")[0];
    let services = &compose["services"];
    let nats = &services["nats"];
    assert!(
        strings(&nats["command"]).contains(&"-js".to_owned()),
        "JetStream enabled"
    );
    assert!(nats["healthcheck"]["test"].as_sequence().is_some());

    let paddock = &services["paddock"];
    assert_eq!(
        strings(&paddock["command"]),
        ["up", "--nats-url", "nats://nats:4222"]
    );
    assert_eq!(
        paddock["depends_on"]["nats"]["condition"].as_str(),
        Some("service_healthy")
    );
    let dockerfile = paddock["build"]["dockerfile"].as_str().unwrap();
    assert!(repo().join(dockerfile).is_file(), "{dockerfile} exists");
    assert_eq!(
        paddock["environment"]["PADDOCK__HTTP__LISTEN"].as_str(),
        Some("0.0.0.0:9464")
    );
    // The feed runs in its own container.
    assert_eq!(
        paddock["environment"]["PADDOCK__FEED__ENABLED"].as_str(),
        Some("false")
    );
    assert_eq!(
        strings(&services["feed"]["command"]),
        ["serve", "feed", "--nats-url", "nats://nats:4222"]
    );
    assert_eq!(
        strings(&services["static"]["command"]),
        ["serve", "static", "--nats-url", "nats://nats:4222"]
    );
    // The sandbox runs in its own (privileged) container, not in `up`.
    assert_eq!(
        paddock["environment"]["PADDOCK__DYNAMIC__ENABLED"].as_str(),
        Some("false")
    );
    let dynamic = &services["dynamic"];
    assert_eq!(
        strings(&dynamic["command"]),
        ["serve", "dynamic", "--nats-url", "nats://nats:4222"]
    );
    assert_eq!(dynamic["privileged"].as_bool(), Some(true));
    // Published ports stay on loopback.
    for service in [nats, paddock] {
        for port in strings(&service["ports"]) {
            assert!(
                port.starts_with("127.0.0.1:"),
                "{port} is exposed beyond loopback"
            );
        }
    }
}

#[test]
fn the_kubernetes_deployment_probes_health_and_applies_the_topology() {
    let docs = yaml("deploy/kubernetes/paddock.yaml");
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"].as_str() == Some(k))
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let deployment = kind("Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    assert!(strings(&container["args"]).contains(&"up".to_owned()));
    let job = kind("Job");
    let args = strings(&job["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert!(
        args.ends_with(&["topology".to_owned(), "--apply".to_owned()]),
        "{args:?}"
    );

    // The embedded config is a valid Paddock config.
    let config = kind("ConfigMap")["data"]["paddock.toml"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paddock.toml");
    std::fs::write(&file, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paddock"))
        .args(["--config"])
        .arg(&file)
        .arg("config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn release() -> Release {
    Release {
        package: Some(PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "left-pad".into(),
            version: "1.3.0".into(),
        }),
        ..Default::default()
    }
}

async fn connect(server: &LocalNatsServer, user: &str) -> JetStreamBus {
    let url = server
        .url()
        .replace("nats://", &format!("nats://{user}:{user}-secret@"));
    let config = BusConfig {
        prefix: "paddock".into(),
        // Refused publishes end as timeouts: keep them short.
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    JetStreamBus::connect(&url, &config, Arc::new(BusMetrics::default()))
        .await
        .unwrap_or_else(|e| panic!("{user} cannot connect: {e}"))
}

#[tokio::test]
async fn each_nats_user_can_do_its_services_work_and_nothing_more() {
    // A server with the deploy accounts. Passwords are environment
    // references there; here each becomes `<user>-secret`.
    let dir = tempfile::tempdir().unwrap();
    let mut accounts = std::fs::read_to_string(repo().join("deploy/nats/accounts.conf")).unwrap();
    for user in [
        "ADMIN",
        "FEED",
        "STATIC",
        "DYNAMIC",
        "DIFF",
        "SINK",
        "SUBSCRIBER",
    ] {
        let reference = format!("$PADDOCK_{user}_PASSWORD");
        assert!(accounts.contains(&reference), "{reference} is used");
        accounts = accounts.replace(&reference, &format!("\"{}-secret\"", user.to_lowercase()));
    }
    assert!(
        !accounts.contains("$PADDOCK_"),
        "every password reference is known to this test"
    );
    let wrapper = dir.path().join("accounts.conf");
    std::fs::write(&wrapper, accounts).unwrap();
    let config = LocalNatsConfig {
        binary: std::env::var_os("PADDOCK_NATS_SERVER").map(PathBuf::from),
        port: 0,
        include: Some(wrapper),
        ..Default::default()
    };
    let server = LocalNatsServer::start(&config, &dir.path().join("nats"))
        .await
        .unwrap();

    let admin = connect(&server, "admin").await;
    admin.ensure_topology().await.unwrap();

    // The feed publishes releases; the static service may not.
    let feed = connect(&server, "feed").await;
    let rel = release();
    let subject = feed.names().release(Ecosystem::Npm);
    feed.publish(
        &subject,
        &release_msg_id(rel.package.as_ref().unwrap()),
        &rel,
    )
    .await
    .unwrap();
    let static_bus = connect(&server, "static").await;
    assert!(
        static_bus.publish(&subject, "forged", &rel).await.is_err(),
        "the static user must not publish releases"
    );
    let subscriber = connect(&server, "subscriber").await;
    assert!(subscriber
        .publish(&subject, "forged-2", &rel)
        .await
        .is_err());

    // The static service pulls from its consumer, acks, and publishes results.
    let handled = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, handled, shutdown) = (static_bus.clone(), handled.clone(), shutdown.clone());
        tokio::spawn(async move {
            let spec = bus.names().static_consumer();
            let publisher = bus.clone();
            bus.consume(
                &spec,
                move |d: Delivery<Release>| {
                    let (publisher, handled) = (publisher.clone(), handled.clone());
                    async move {
                        let result = StaticResult {
                            package: d.message.package.clone(),
                            ..Default::default()
                        };
                        let subject = publisher.names().static_result(Ecosystem::Npm);
                        publisher
                            .publish(&subject, "result-1", &result)
                            .await
                            .map_err(HandlerError::retryable)?;
                        handled.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                },
                shutdown,
            )
            .await
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while handled.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the static user could not pull and publish its result"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();

    // The static user cannot read another service's consumer.
    let dynamic_spec = static_bus.names().dynamic_consumer();
    let denied = static_bus
        .consume(
            &dynamic_spec,
            |_d: Delivery<Release>| async { Ok(()) },
            CancellationToken::new(),
        )
        .await;
    assert!(
        denied.is_err(),
        "the static user opened the dynamic consumer"
    );

    // The sink user reaches the consumers of every sink kind, and only
    // those.
    let sink = connect(&server, "sink").await;
    for spec in sink.names().consumers() {
        let stream = sink.jetstream().get_stream(&spec.stream_name).await;
        let info = match stream {
            Ok(stream) => stream
                .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&spec.durable)
                .await
                .map(|_| ()),
            Err(e) => panic!("the sink user cannot see {}: {e}", spec.stream_name),
        };
        assert_eq!(
            info.is_ok(),
            spec.durable.starts_with("sink-"),
            "the sink user and consumer {}: {info:?}",
            spec.durable
        );
    }
    server.stop().await;
}

/// The GitHub Action: every input it reads is declared (and documented in
/// the README), no input is spliced into a script, and every flag its
/// script passes to `paddock verify` is one the command takes.
#[test]
fn the_github_action_passes_verify_flags_it_has_and_never_splices_inputs() {
    let action = yaml("action.yml").remove(0);
    let declared: Vec<String> = action["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    for used in text.split("inputs.").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(declared.contains(&name), "inputs.{name} is not declared");
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for name in &declared {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README does not document the action's input `{name}`"
        );
    }
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_paddock"))
        .args(["verify", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut scripts = 0;
    for step in action["runs"]["steps"].as_sequence().unwrap() {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        scripts += 1;
        assert!(
            !script.contains("${{"),
            "a script splices an expression (pass it through env instead):\n{script}"
        );
        if !script.contains("paddock \"${args[@]}\"") {
            continue;
        }
        for flag in script
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
        {
            if flag == "--config" {
                continue; // global, before `verify`
            }
            assert!(help.contains(flag), "paddock verify has no {flag}:\n{help}");
        }
    }
    assert!(scripts >= 2);
}

#[allow(clippy::disallowed_methods)] // the runner's PATH, for bash
/// The action's verify step, run as the runner runs it (bash, inputs in
/// the environment): a lockfile with a release an OSV export names ends
/// with exit code 3 in the step's outputs, the SARIF written and the table
/// in the job summary, and the step itself succeeds so the upload runs.
#[test]
fn the_github_actions_verify_step_reports_exit_3_and_writes_the_sarif() {
    let action = yaml("action.yml").remove(0);
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str() == Some("verify"))
        .unwrap()
        .clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        r#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/evil": {"version": "1.0.0"}}}"#,
    )
    .unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    std::fs::write(
        export.join("MAL-2026-1.json"),
        r#"{"id": "MAL-2026-1", "modified": "2026-12-01T00:00:00Z", "summary": "Malicious code in evil (npm)",
            "affected": [{"package": {"ecosystem": "npm", "name": "evil"}, "versions": ["1.0.0"]}]}"#,
    )
    .unwrap();
    let (output, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let bin = Path::new(env!("CARGO_BIN_EXE_paddock")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(step["run"].as_str().unwrap())
        .current_dir(dir.path())
        .env("PATH", path)
        .env("XDG_DATA_HOME", dir.path())
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary);
    for key in step["env"].as_mapping().unwrap().keys() {
        let key = key.as_str().unwrap();
        let value = match key {
            "PADDOCK_PATHS" => ".".to_owned(),
            "PADDOCK_FAIL_ON" => "high".to_owned(),
            "PADDOCK_ANALYZE_MISSING" | "PADDOCK_DYNAMIC" | "PADDOCK_FAIL_ON_MISSING" => {
                "false".to_owned()
            }
            "PADDOCK_OSV" => export.display().to_string(),
            "PADDOCK_SARIF" => "paddock.sarif".to_owned(),
            _ => String::new(),
        };
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap().trim(),
        "exit-code=3"
    );
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("npm evil@1.0.0"));
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("paddock.sarif")).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "verify.known-malicious"
    );
}
