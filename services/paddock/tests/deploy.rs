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
