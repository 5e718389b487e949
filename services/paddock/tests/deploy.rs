//! The deployment files: they parse, wire the services as documented, and
//! the NATS accounts grant each service its work and nothing more.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::kv;
use futures::{StreamExt, TryStreamExt};
use paddock_bus::metrics::BusMetrics;
use paddock_bus::names::release_msg_id;
use paddock_bus::{
    Bus, BusConfig, CancellationToken, ConsumerSpec, Delivery, HandlerError, JetStreamBus,
    StreamKind,
};
use paddock_proto::v1::{
    Alert, DynamicResult, Ecosystem, PackageRef, Release, Severity, StaticResult,
};
use paddock_proto::WireMessage;
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

    // The API runs in its own container, not in `up` as well.
    assert_eq!(
        paddock["environment"]["PADDOCK__API__ENABLED"].as_str(),
        Some("false")
    );
    let api = &services["api"];
    assert_eq!(
        strings(&api["command"]),
        ["serve", "api", "--nats-url", "nats://nats:4222"]
    );
    let published: Vec<String> = strings(&api["ports"]);
    assert_eq!(published, ["127.0.0.1:50051:50051", "127.0.0.1:8470:8470"]);
    let health = strings(&api["healthcheck"]["test"]);
    assert!(
        health
            .iter()
            .any(|a| a.starts_with("http://127.0.0.1:9464/")),
        "the healthcheck asks the health endpoint: {health:?}"
    );
    // Its environment makes a config the API starts with: both listeners
    // on the container's published ports, and without tokens only because
    // it says so (its ports being published on loopback, checked below).
    let env: Vec<(String, String)> = api["environment"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let config = paddock_config(None, &env);
    let section = api_section(&config);
    for line in [
        "listen = \"0.0.0.0:50051\"",
        "web_listen = \"0.0.0.0:8470\"",
        "allow_unauthenticated_remote = true",
        "tokens = []",
    ] {
        assert!(section.contains(&line.to_owned()), "{line} in {section:?}");
    }
    assert_eq!(
        env.iter()
            .find(|(k, _)| k == "PADDOCK__HTTP__LISTEN")
            .map(|(_, v)| v.as_str()),
        Some("0.0.0.0:9464")
    );

    // Every service is one this test knows, and every published port
    // stays on loopback.
    let names: Vec<&str> = services
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["nats", "paddock", "feed", "static", "dynamic", "api"],
        "a new service needs its checks here"
    );
    for (name, service) in services.as_mapping().unwrap() {
        if service["ports"].is_null() {
            continue;
        }
        for port in strings(&service["ports"]) {
            assert!(
                port.starts_with("127.0.0.1:"),
                "{name:?} exposes {port} beyond loopback"
            );
        }
    }
}

/// `paddock config` (the merged configuration, as TOML) with `file` and
/// `env` on top of an empty environment's defaults.
fn paddock_config(file: Option<&Path>, env: &[(String, String)]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_paddock"));
    if let Some(file) = file {
        cmd.arg("--config").arg(file);
    }
    let out = cmd
        .arg("config")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of the `[api]` table and its `[[api.tokens]]`.
fn api_section(config: &str) -> Vec<String> {
    let mut lines = config.lines().skip_while(|l| *l != "[api]").skip(1);
    let mut out = Vec::new();
    for line in lines.by_ref() {
        if line.starts_with('[') && !line.starts_with("[[api.") {
            break;
        }
        if !line.is_empty() {
            out.push(line.to_owned());
        }
    }
    out
}

#[test]
fn the_kubernetes_deployment_probes_health_and_applies_the_topology() {
    let docs = yaml("deploy/kubernetes/paddock.yaml");
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"].as_str() == Some(k))
            .unwrap_or_else(|| panic!("no {k}"))
    };
    // One Deployment per service, each `paddock serve <service>`, alive on
    // /healthz and ready on /readyz (the API: on its gRPC health).
    for service in ["feed", "static", "dynamic", "diff", "sink", "api"] {
        let name = format!("paddock-{service}");
        let deployment = docs
            .iter()
            .find(|d| {
                d["kind"].as_str() == Some("Deployment")
                    && d["metadata"]["name"].as_str() == Some(name.as_str())
            })
            .unwrap_or_else(|| panic!("no Deployment {name}"));
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert!(
            strings(&container["args"]).ends_with(&["serve".to_owned(), service.to_owned()]),
            "{name}: {:?}",
            container["args"]
        );
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"].as_str(),
            Some("/healthz"),
            "{name}"
        );
        if service != "api" {
            assert_eq!(
                container["readinessProbe"]["httpGet"]["path"].as_str(),
                Some("/readyz"),
                "{name}"
            );
        }
        // Only the sandbox is privileged; everything else runs as a user
        // without privileges on a read-only root.
        let privileged = container["securityContext"]["privileged"].as_bool() == Some(true);
        assert_eq!(privileged, service == "dynamic", "{name}");
        if !privileged {
            let sc = &container["securityContext"];
            assert_eq!(
                sc["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{name}"
            );
            assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{name}");
            assert_eq!(
                deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"].as_bool(),
                Some(true),
                "{name}"
            );
        }
    }
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
    let merged = paddock_config(Some(&file), &[]);

    // The API: its own deployment of two replicas (not in the `up` pods),
    // ready when the gRPC health service says its service is serving,
    // behind tokens read from a mounted Secret, reached through a Service.
    let api_config = api_section(&merged);
    for line in [
        "enabled = false",
        "listen = \"0.0.0.0:50051\"",
        "web_listen = \"0.0.0.0:8470\"",
        "allow_unauthenticated_remote = false",
    ] {
        assert!(
            api_config.contains(&line.to_owned()),
            "{line} in {api_config:?}"
        );
    }
    let named = |k: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"].as_str() == Some(k) && d["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {k} {name}"))
    };
    let api = named("Deployment", "paddock-api");
    assert_eq!(api["spec"]["replicas"].as_u64(), Some(2));
    let pod = &api["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert!(
        strings(&container["args"]).ends_with(&["serve".to_owned(), "api".to_owned()]),
        "{:?}",
        container["args"]
    );
    let grpc_probe = &container["readinessProbe"]["grpc"];
    assert_eq!(grpc_probe["port"].as_u64(), Some(50051));
    assert_eq!(
        grpc_probe["service"].as_str(),
        Some("paddock.v1.AnalysisService")
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    let port = |name: &str| {
        container["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .and_then(|p| p["containerPort"].as_u64())
    };
    assert_eq!(
        (port("grpc"), port("web"), port("http")),
        (Some(50051), Some(8470), Some(9464))
    );
    // Every token file is in the mounted token Secret.
    let mounts = container["volumeMounts"].as_sequence().unwrap();
    let tokens_mount = mounts
        .iter()
        .find(|m| m["name"].as_str() == Some("api-tokens"))
        .expect("the token Secret is mounted");
    let tokens_dir = tokens_mount["mountPath"].as_str().unwrap();
    let token_files: Vec<&String> = api_config
        .iter()
        .filter(|l| l.starts_with("token_file = "))
        .collect();
    assert_eq!(token_files.len(), 2, "{api_config:?}");
    for line in token_files {
        assert!(
            line.starts_with(&format!("token_file = \"{tokens_dir}/")),
            "{line} is not under {tokens_dir}"
        );
    }
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str() == Some("api-tokens"))
        .unwrap();
    assert_eq!(
        volume["secret"]["secretName"].as_str(),
        Some("paddock-api-tokens")
    );
    let service = named("Service", "paddock-api");
    let pod_labels = &api["spec"]["template"]["metadata"]["labels"];
    for (k, v) in service["spec"]["selector"].as_mapping().unwrap() {
        assert_eq!(
            pod_labels.get(k),
            Some(v),
            "the Service selects the API's pods"
        );
    }
    let service_ports: Vec<(u64, &str)> = service["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["port"].as_u64().unwrap(),
                p["targetPort"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(service_ports, [(50051, "grpc"), (8470, "web")]);

    // Each pod's NATS user exists in the accounts file.
    let accounts = std::fs::read_to_string(repo().join("deploy/nats/accounts.conf")).unwrap();
    let mut users = Vec::new();
    for doc in &docs {
        let Some(containers) = doc["spec"]["template"]["spec"]["containers"].as_sequence() else {
            continue;
        };
        for env in containers.iter().filter_map(|c| c["env"].as_sequence()) {
            for var in env {
                if var["name"].as_str() != Some("PADDOCK__BUS__CREDENTIALS_FILE") {
                    continue;
                }
                let path = var["value"].as_str().unwrap();
                let user = path
                    .strip_prefix("/etc/paddock/nats/")
                    .and_then(|f| f.strip_suffix(".creds"))
                    .unwrap_or_else(|| panic!("{path}"));
                assert!(
                    accounts.contains(&format!("user: {user}\n")),
                    "no NATS user {user} in accounts.conf"
                );
                users.push(user.to_owned());
            }
        }
    }
    assert!(users.contains(&"api".to_owned()), "{users:?}");
}

/// `scripts/validate-manifests` on `files`: (success, stderr).
fn validate_manifests(files: &[&Path]) -> (bool, String) {
    let out = std::process::Command::new(repo().join("scripts/validate-manifests"))
        .args(files)
        .output()
        .expect("running scripts/validate-manifests (python3 with kubernetes-validate)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_docs(path: &Path, docs: &[Value]) {
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_yaml::to_string(d).unwrap())
        .collect();
    std::fs::write(path, text.join("---\n")).unwrap();
}

fn mapping_remove(v: &mut Value, key: &str) {
    v.as_mapping_mut().unwrap().remove(key).unwrap();
}

#[test]
fn the_kubernetes_manifests_and_keda_objects_validate_and_a_missing_required_field_fails() {
    let manifests = repo().join("deploy/kubernetes/paddock.yaml");
    let keda = repo().join("deploy/kubernetes/keda.yaml");
    let (ok, stderr) = validate_manifests(&[&manifests, &keda]);
    assert!(ok, "{stderr}");

    // Each required field removed in turn is an error naming it: a
    // container's name and a Service port's number (Kubernetes' own
    // schemas), a ScaledObject's target and a NATS JetStream trigger's
    // consumer (the KEDA schema).
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    type Break = fn(&mut Vec<Value>);
    let cases: [(&str, Break, &str); 4] = [
        (
            "paddock.yaml",
            |docs| {
                let d = docs
                    .iter_mut()
                    .find(|d| d["kind"].as_str() == Some("Deployment"))
                    .unwrap();
                mapping_remove(&mut d["spec"]["template"]["spec"]["containers"][0], "name");
            },
            "'name' is a required property",
        ),
        (
            "paddock.yaml",
            |docs| {
                let d = docs
                    .iter_mut()
                    .find(|d| d["kind"].as_str() == Some("Service"))
                    .unwrap();
                mapping_remove(&mut d["spec"]["ports"][0], "port");
            },
            "'port' is a required property",
        ),
        (
            "keda.yaml",
            |docs| mapping_remove(&mut docs[0]["spec"], "scaleTargetRef"),
            "'scaleTargetRef' is a required property",
        ),
        (
            "keda.yaml",
            |docs| mapping_remove(&mut docs[1]["spec"]["triggers"][0]["metadata"], "consumer"),
            "'consumer' is a required property",
        ),
    ];
    for (file, break_it, expected) in cases {
        let mut docs = yaml(&format!("deploy/kubernetes/{file}"));
        break_it(&mut docs);
        write_docs(&broken, &docs);
        let (ok, stderr) = validate_manifests(&[&broken]);
        assert!(!ok, "{file}: a broken document passed ({expected})");
        assert!(stderr.contains(expected), "{file}: {expected}: {stderr}");
    }
    // A kind with no schema is not waved through.
    std::fs::write(
        &broken,
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: { name: x }\n",
    )
    .unwrap();
    let (ok, stderr) = validate_manifests(&[&broken]);
    assert!(!ok && stderr.contains("no schema for Gadget"), "{stderr}");
}

#[test]
fn keda_scales_each_worker_on_its_own_consumers_and_every_service_has_a_disruption_budget() {
    let docs = yaml("deploy/kubernetes/paddock.yaml");
    let keda = yaml("deploy/kubernetes/keda.yaml");
    let names = paddock_bus::names::Names::new("paddock").unwrap();
    let consumers: Vec<(String, String)> = names
        .consumers()
        .into_iter()
        .map(|c| (c.stream_name, c.durable))
        .collect();
    let deployment = |name: &str| {
        docs.iter().find(|d| {
            d["kind"].as_str() == Some("Deployment") && d["metadata"]["name"].as_str() == Some(name)
        })
    };
    let accounts = std::fs::read_to_string(repo().join("deploy/nats/accounts.conf")).unwrap();
    let helm: Value = serde_yaml::from_str(
        &std::fs::read_to_string(repo().join("deploy/nats/helm-values.yaml")).unwrap(),
    )
    .unwrap();
    let monitor_port = helm["config"]["monitor"]["port"].as_u64().unwrap();

    let mut scaled = Vec::new();
    for object in &keda {
        assert_eq!(object["kind"].as_str(), Some("ScaledObject"));
        let target = object["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
        let service = target.strip_prefix("paddock-").unwrap();
        let d = deployment(target).unwrap_or_else(|| panic!("no Deployment {target}"));
        // The autoscaler owns the replica count: applying the manifests must
        // not reset it.
        assert!(
            d["spec"].get("replicas").is_none(),
            "{target} sets replicas and is scaled by KEDA"
        );
        let (min, max) = (
            object["spec"]["minReplicaCount"].as_u64().unwrap(),
            object["spec"]["maxReplicaCount"].as_u64().unwrap(),
        );
        assert!(2 <= min && min <= max, "{target}: {min}..{max}");
        let triggers = object["spec"]["triggers"].as_sequence().unwrap();
        let mut durables = Vec::new();
        for t in triggers {
            assert_eq!(t["type"].as_str(), Some("nats-jetstream"), "{target}");
            let m = &t["metadata"];
            let stream = m["stream"].as_str().unwrap().to_owned();
            let consumer = m["consumer"].as_str().unwrap().to_owned();
            assert!(
                consumers.contains(&(stream.clone(), consumer.clone())),
                "{target}: {stream}/{consumer} is not a consumer of the topology"
            );
            let account = m["account"].as_str().unwrap();
            assert!(
                accounts.contains(&format!("  {account} {{")),
                "account {account}"
            );
            let endpoint = m["natsServerMonitoringEndpoint"].as_str().unwrap();
            assert!(
                endpoint.ends_with(&format!(":{monitor_port}")) && endpoint.contains("headless"),
                "{target}: {endpoint}"
            );
            assert!(m["lagThreshold"].as_str().unwrap().parse::<u64>().unwrap() > 0);
            durables.push(consumer);
        }
        // Each service scales on the consumers it reads, all of them.
        let own: Vec<String> = match service {
            "static" => vec![names.static_consumer().durable],
            "dynamic" => vec![names.dynamic_consumer().durable],
            "diff" => vec![
                names.diff_static_consumer().durable,
                names.diff_dynamic_consumer().durable,
            ],
            "sink" => names
                .sink_consumers("bigquery")
                .into_iter()
                .map(|c| c.durable)
                .collect(),
            other => panic!("unexpected scaled service {other}"),
        };
        assert_eq!(durables, own, "{target}");
        scaled.push(service.to_owned());
    }
    scaled.sort();
    assert_eq!(scaled, ["diff", "dynamic", "sink", "static"]);

    // Every Deployment has a disruption budget that selects its pods.
    for d in docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("Deployment"))
    {
        let name = d["metadata"]["name"].as_str().unwrap();
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        let pdb = docs
            .iter()
            .find(|p| {
                p["kind"].as_str() == Some("PodDisruptionBudget")
                    && p["spec"]["selector"]["matchLabels"]
                        .as_mapping()
                        .unwrap()
                        .iter()
                        .all(|(k, v)| labels.get(k) == Some(v))
            })
            .unwrap_or_else(|| panic!("no PodDisruptionBudget selects {name}"));
        assert!(
            pdb["spec"].get("minAvailable").is_some()
                || pdb["spec"].get("maxUnavailable").is_some(),
            "{name}"
        );
    }

    // NATS: three servers, file storage, every user's password from the
    // environment the accounts file reads, and the topology R3 to match.
    assert_eq!(helm["config"]["cluster"]["enabled"].as_bool(), Some(true));
    assert_eq!(helm["config"]["cluster"]["replicas"].as_u64(), Some(3));
    assert_eq!(
        helm["config"]["jetstream"]["fileStore"]["enabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        helm["config"]["jetstream"]["fileStore"]["pvc"]["enabled"].as_bool(),
        Some(true)
    );
    let env = helm["container"]["env"].as_mapping().unwrap();
    for var in accounts
        .split('$')
        .skip(1)
        .filter_map(|s| s.split_whitespace().next())
        .filter(|v| v.starts_with("PADDOCK_") && v.ends_with("_PASSWORD"))
    {
        assert!(
            env.contains_key(Value::String(var.to_owned())),
            "{var} is not set from the Secret"
        );
    }
    let config = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("ConfigMap"))
        .unwrap()["data"]["paddock.toml"]
        .as_str()
        .unwrap();
    let config: toml::Table = toml::from_str(config).unwrap();
    assert_eq!(
        config["bus"]["topology"]["replicas"].as_integer(),
        Some(3),
        "the topology's replicas match the cluster"
    );
    assert_eq!(config["bus"]["url"].as_str().unwrap().split(',').count(), 3);
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
        // Refused publishes end as timeouts: keep them short, and do not
        // retry them as if a cluster were electing a leader.
        request_timeout: Duration::from_millis(500),
        election_timeout: Duration::ZERO,
        ..Default::default()
    };
    JetStreamBus::connect(&url, &config, Arc::new(BusMetrics::default()))
        .await
        .unwrap_or_else(|e| panic!("{user} cannot connect: {e}"))
}

/// A nats-server with the deploy accounts. Passwords are environment
/// references there; here each becomes `<user>-secret`.
async fn deploy_nats(dir: &Path) -> LocalNatsServer {
    let mut accounts = std::fs::read_to_string(repo().join("deploy/nats/accounts.conf")).unwrap();
    for user in [
        "ADMIN",
        "FEED",
        "STATIC",
        "DYNAMIC",
        "DIFF",
        "SINK",
        "SUBSCRIBER",
        "API",
    ] {
        let reference = format!("$PADDOCK_{user}_PASSWORD");
        assert!(accounts.contains(&reference), "{reference} is used");
        accounts = accounts.replace(&reference, &format!("\"{}-secret\"", user.to_lowercase()));
    }
    assert!(
        !accounts.contains("$PADDOCK_"),
        "every password reference is known to this test"
    );
    let wrapper = dir.join("accounts.conf");
    std::fs::write(&wrapper, accounts).unwrap();
    let config = LocalNatsConfig {
        binary: std::env::var_os("PADDOCK_NATS_SERVER").map(PathBuf::from),
        port: 0,
        include: Some(wrapper),
        ..Default::default()
    };
    LocalNatsServer::start(&config, &dir.join("nats"))
        .await
        .unwrap()
}

#[tokio::test]
async fn each_nats_user_can_do_its_services_work_and_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let server = deploy_nats(dir.path()).await;

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

    // Each worker's user reaches its own consumers (the ones its service
    // reads), and only those.
    type Owns = fn(&str) -> bool;
    let owners: [(&str, Owns); 4] = [
        ("static", |d| d == "static"),
        ("dynamic", |d| d == "dynamic"),
        ("diff", |d| d == "diff-static" || d == "diff-dynamic"),
        ("sink", |d| d.starts_with("sink-")),
    ];
    for (user, owns) in owners {
        let bus = connect(&server, user).await;
        for spec in bus.names().consumers() {
            let info = bus
                .jetstream()
                .get_consumer_from_stream::<pull::Config, _, _>(&spec.durable, &spec.stream_name)
                .await
                .map(|_| ());
            assert_eq!(
                info.is_ok(),
                owns(&spec.durable),
                "the {user} user and consumer {}: {info:?}",
                spec.durable
            );
        }
    }
    server.stop().await;
}

/// Runs the durable consumer `spec` as the API's indexer does: each
/// delivery is merged into the release's `entry` in the results index with
/// compare-and-swap, then acked. Returns the delivery's stream sequence.
async fn index_as_the_api<M: WireMessage + 'static>(
    bus: &JetStreamBus,
    spec: &ConsumerSpec,
    index: &kv::Store,
    entry: &str,
) -> u64 {
    let sequence = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, spec, shutdown) = (bus.clone(), spec.clone(), shutdown.clone());
        let (index, entry, sequence) = (index.clone(), entry.to_owned(), sequence.clone());
        tokio::spawn(async move {
            let part = spec.durable.clone();
            bus.consume(
                &spec,
                move |d: Delivery<M>| {
                    let (index, entry, sequence) = (index.clone(), entry.clone(), sequence.clone());
                    let value = bytes_of(format!("{part}={}", d.stream_sequence));
                    async move {
                        let current = index.entry(&entry).await.map_err(HandlerError::retryable)?;
                        match current {
                            Some(e) => index
                                .update(&entry, value, e.revision)
                                .await
                                .map(drop)
                                .map_err(HandlerError::retryable)?,
                            None => index
                                .create(&entry, value)
                                .await
                                .map(drop)
                                .map_err(HandlerError::retryable)?,
                        }
                        sequence.store(d.stream_sequence, Ordering::SeqCst);
                        Ok(())
                    }
                },
                shutdown,
            )
            .await
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while sequence.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the api user could not index from {}",
            spec.durable
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    task.await
        .unwrap()
        .unwrap_or_else(|e| panic!("the api user's consumer {}: {e}", spec.durable));
    let sequence = sequence.load(Ordering::SeqCst);
    // The ack reached the server (a refused ack is dropped silently).
    let mut consumer = bus.open_consumer(spec).await.unwrap();
    loop {
        let info = consumer.info().await.unwrap();
        if info.ack_floor.stream_sequence >= sequence {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} acked nothing: {info:?}",
            spec.durable
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sequence
}

fn bytes_of(text: String) -> prost::bytes::Bytes {
    prost::bytes::Bytes::from(text)
}

/// The API's NATS work, call by call as `paddock-api-service` makes it:
/// Submit (object store and release), the results index (four durable
/// consumers and the KV bucket), GetResult and ListReleases (stored
/// messages by sequence, index keys by subject), WatchAlerts (ephemeral
/// ordered consumers on ALERTS, recreated under a new name after a gap);
/// and nothing another service does.
#[tokio::test]
async fn the_api_user_can_index_read_watch_and_submit_and_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let server = deploy_nats(dir.path()).await;
    let admin = connect(&server, "admin").await;
    admin.ensure_topology().await.unwrap();
    let api = connect(&server, "api").await;
    let names = api.names().clone();
    let rel = release();
    let pkg = rel.package.clone().unwrap();

    // Submit: the artifact goes into the object store under its digest
    // (a second put replaces it and purges the old chunks), the release
    // onto the bus.
    let artifacts = api.artifacts().await.unwrap();
    let key = "0f".repeat(32);
    assert!(artifacts.info(&key).await.is_err());
    for body in [&b"left-pad-1.3.0.tgz"[..], &b"left-pad-1.3.0.tgz again"[..]] {
        artifacts.put(key.as_str(), &mut &*body).await.unwrap();
    }
    assert!(artifacts.info(&key).await.is_ok());
    api.publish(&names.release(Ecosystem::Npm), &release_msg_id(&pkg), &rel)
        .await
        .unwrap();

    // What the pipeline publishes about it, each from its own user.
    let static_result = StaticResult {
        package: Some(pkg.clone()),
        ..Default::default()
    };
    connect(&server, "static")
        .await
        .publish(
            &names.static_result(Ecosystem::Npm),
            "static-1",
            &static_result,
        )
        .await
        .unwrap();
    let dynamic_result = DynamicResult {
        package: Some(pkg.clone()),
        ..Default::default()
    };
    connect(&server, "dynamic")
        .await
        .publish(
            &names.dynamic_result(Ecosystem::Npm),
            "dynamic-1",
            &dynamic_result,
        )
        .await
        .unwrap();
    let alert = Alert {
        alert_id: "a-1".into(),
        package: Some(pkg.clone()),
        severity: Severity::High as i32,
        ..Default::default()
    };
    connect(&server, "diff")
        .await
        .publish(
            &names.alert(Severity::High, Ecosystem::Npm),
            "alert:a-1",
            &alert,
        )
        .await
        .unwrap();

    // The results index, kept by the API's own durable consumers; what it
    // can never index goes to each consumer's dead letters.
    let bucket = names.results_index_bucket();
    let index = api.key_value(&bucket).await.unwrap();
    let entry = names
        .index_key(Ecosystem::Npm, &pkg.name, &pkg.version)
        .unwrap();
    let [releases, statics, dynamics, alerts] = names.index_consumers();
    let release_seq = index_as_the_api::<Release>(&api, &releases, &index, &entry).await;
    let static_seq = index_as_the_api::<StaticResult>(&api, &statics, &index, &entry).await;
    let dynamic_seq = index_as_the_api::<DynamicResult>(&api, &dynamics, &index, &entry).await;
    let alert_seq = index_as_the_api::<Alert>(&api, &alerts, &index, &entry).await;
    let indexed = index.get(&entry).await.unwrap().unwrap();
    assert_eq!(indexed, format!("api-index-alerts={alert_seq}").as_bytes());
    for spec in names.index_consumers() {
        api.publish(
            &spec.dead_letter_subject,
            &format!("dl-{}", spec.durable),
            &rel,
        )
        .await
        .unwrap_or_else(|e| panic!("dead letter of {}: {e}", spec.durable));
    }

    // GetResult: the stored messages the index points at, by sequence,
    // with direct gets (the streams allow them); the JetStream API's
    // slower message get is not granted.
    let js = api.jetstream();
    for (kind, sequence) in [
        (StreamKind::Releases, release_seq),
        (StreamKind::Results, static_seq),
        (StreamKind::Results, dynamic_seq),
        (StreamKind::Alerts, alert_seq),
    ] {
        let stream = js.get_stream(names.stream(kind)).await.unwrap();
        stream
            .direct_get(sequence)
            .await
            .unwrap_or_else(|e| panic!("{kind:?} sequence {sequence}, direct: {e}"));
        assert!(
            stream.get_raw_message(sequence).await.is_err(),
            "{kind:?}: the api user needs no STREAM.MSG.GET"
        );
    }
    // ListReleases: the index's keys of one package, from stream info.
    let index_stream = js.get_stream(format!("KV_{bucket}")).await.unwrap();
    let filter = names
        .index_package_filter(Ecosystem::Npm, &pkg.name)
        .unwrap();
    let mut subjects = index_stream
        .info_with_subjects(format!("$KV.{bucket}.{filter}"))
        .await
        .unwrap();
    let mut listed = Vec::new();
    while let Some((subject, _)) = subjects.try_next().await.unwrap() {
        listed.push(subject);
    }
    assert_eq!(listed, [format!("$KV.{bucket}.{entry}")]);

    // WatchAlerts: ordered consumers, unnamed, with one filter subject or
    // several; after a gap the client recreates one under a new name
    // (with its filter in the request subject) and deletes the old one.
    let mut alerts_stream = js
        .get_stream(names.stream(StreamKind::Alerts))
        .await
        .unwrap();
    assert_eq!(
        alerts_stream.info().await.unwrap().state.last_sequence,
        alert_seq
    );
    let all = format!("{}.alert.*.*", names.prefix());
    let high_or_worse = vec![
        names.alert(Severity::High, Ecosystem::Npm),
        names.alert(Severity::Critical, Ecosystem::Npm),
    ];
    for (filter_subject, filter_subjects) in [(all.clone(), vec![]), (String::new(), high_or_worse)]
    {
        let consumer = alerts_stream
            .create_consumer(pull::OrderedConfig {
                filter_subject,
                filter_subjects,
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: alert_seq,
                },
                ..Default::default()
            })
            .await
            .unwrap();
        let name = consumer.cached_info().name.clone();
        let mut messages = consumer.messages().await.unwrap();
        let first = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("an alert within 10 s")
            .unwrap()
            .unwrap();
        assert_eq!(first.info().unwrap().stream_sequence, alert_seq);
        drop(messages);
        alerts_stream
            .create_consumer(pull::OrderedConfig {
                name: Some(format!("{name}_1")),
                filter_subject: all.clone(),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: alert_seq,
                },
                ..Default::default()
            })
            .await
            .unwrap();
        alerts_stream.delete_consumer(&name).await.unwrap();
        alerts_stream
            .delete_consumer(&format!("{name}_1"))
            .await
            .unwrap();
    }

    // Nothing more: no results or alerts, no other service's consumer or
    // bucket, no topology changes.
    assert!(api
        .publish(
            &names.static_result(Ecosystem::Npm),
            "forged-result",
            &static_result
        )
        .await
        .is_err());
    assert!(api
        .publish(
            &names.alert(Severity::Critical, Ecosystem::Npm),
            "forged-alert",
            &alert
        )
        .await
        .is_err());
    assert!(api.open_consumer(&names.static_consumer()).await.is_err());
    assert!(api
        .open_consumer(&names.sink_consumer("parquet", StreamKind::Alerts))
        .await
        .is_err());
    assert!(api.key_value(&names.history_bucket()).await.is_err());
    assert!(api.key_value(&names.feed_cursors_bucket()).await.is_err());
    assert!(api.ensure_topology().await.is_err());
    // No other service writes the index; `paddock up` (admin) runs the API
    // in its own process, so it does.
    assert!(connect(&server, "static")
        .await
        .key_value(&bucket)
        .await
        .is_err());
    admin
        .key_value(&bucket)
        .await
        .unwrap()
        .put("npm.left-pad.0=2E1=2E0", bytes_of("admin".into()))
        .await
        .unwrap();
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

/// The API service itself, as its NATS user with the deployment's
/// settings (`bus.apply_topology = false`): it starts, indexes what the
/// pipeline publishes and answers.
#[tokio::test]
async fn paddock_serve_api_runs_as_the_api_user() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let server = deploy_nats(dir.path()).await;
    let admin = connect(&server, "admin").await;
    admin.ensure_topology().await.unwrap();
    let url = server.url().replace("nats://", "nats://api:api-secret@");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_paddock"))
        .args(["serve", "api", "--nats-url", &url])
        .env("PADDOCK__BUS__APPLY_TOPOLOGY", "false")
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__WEB_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _child = Kill(child);
    // Read every line (a closed pipe would end the process at its next
    // line), handing on the start line.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if l.starts_with("api: gRPC ") {
                let _ = tx.send(l);
            }
        }
    });
    let line = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)).ok())
        .await
        .unwrap();
    let Some(line) = line else {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut err);
        panic!("paddock serve api did not start as the api user: {err}");
    };
    let grpc = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();

    // A release published by the feed's user is indexed and answered.
    let feed = connect(&server, "feed").await;
    let rel = release();
    feed.publish(
        &feed.names().release(Ecosystem::Npm),
        &release_msg_id(rel.package.as_ref().unwrap()),
        &rel,
    )
    .await
    .unwrap();
    let mut client =
        paddock_proto::v1::analysis_service_client::AnalysisServiceClient::connect(grpc)
            .await
            .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = client
            .get_result(paddock_proto::v1::GetResultRequest {
                package: rel.package.clone(),
            })
            .await;
        match answer {
            Ok(r) => {
                assert_eq!(r.into_inner().release, Some(rel));
                break;
            }
            Err(status) => assert!(
                status.code() == tonic::Code::NotFound && std::time::Instant::now() < deadline,
                "{status:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
