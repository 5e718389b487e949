//! Who may call what, over which transport, and what hostile requests get:
//! tokens and roles, TLS that refuses plain connections, the loopback rule
//! for an API without tokens, request size and stream limits.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use paddock_api_service::{ApiConfig, Role, TlsConfig, TokenConfig};
use paddock_proto::v1::analysis_service_client::AnalysisServiceClient;
use paddock_proto::v1::{
    Ecosystem, GetResultRequest, ListReleasesRequest, PackageRef, Severity, SubmitRequest,
    WatchAlertsRequest,
};
use paddock_testkit::registry::FixtureRegistry;
use paddock_testkit::TestNats;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request};

const READ: &str = "read-token-for-tests-0001";
const SUBMIT: &str = "submit-token-for-tests-0002";

fn with_tokens() -> ApiConfig {
    ApiConfig {
        tokens: vec![
            TokenConfig {
                name: "reader".into(),
                role: Role::Read,
                token: Some(READ.into()),
                token_file: None,
            },
            TokenConfig {
                name: "ci".into(),
                role: Role::Submit,
                token: Some(SUBMIT.into()),
                token_file: None,
            },
        ],
        ..open_api()
    }
}

fn authed<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut r = Request::new(message);
    if let Some(t) = token {
        r.metadata_mut().insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {t}")).unwrap(),
        );
    }
    r
}

fn honest(version: &str) -> SubmitRequest {
    SubmitRequest {
        package: Some(PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "paddock-honest".into(),
            version: version.into(),
        }),
    }
}

#[tokio::test]
async fn tokens_and_roles_decide_who_may_call_what() {
    let registry = FixtureRegistry::start().await;
    let nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let api = start_with(&nats, &config, with_tokens(), registry.registries_config())
        .await
        .unwrap();
    let mut client = api.client().await;
    let get = || GetResultRequest {
        package: Some(package(Ecosystem::Npm, "paddock-honest", "1.0.0")),
    };

    let none = client.get_result(authed(get(), None)).await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");
    assert!(none.message().contains("Bearer"), "{none:?}");
    let wrong = client
        .get_result(authed(get(), Some("not-a-token-at-all-000")))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);

    // The read token reads (nothing analysed yet: NOT_FOUND, past auth)…
    let read = client
        .get_result(authed(get(), Some(READ)))
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::NotFound, "{read:?}");
    // …and may not submit.
    let denied = client
        .submit(authed(honest("1.0.0"), Some(READ)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("submit role"), "{denied:?}");
    let unauth_submit = client
        .submit(authed(honest("1.0.0"), None))
        .await
        .unwrap_err();
    assert_eq!(unauth_submit.code(), Code::Unauthenticated);

    // The submit token submits: the release is queued once, then absorbed.
    let queued = client
        .submit(authed(honest("1.0.0"), Some(SUBMIT)))
        .await
        .unwrap()
        .into_inner();
    assert!(queued.queued);
    let release = queued.release.unwrap();
    assert_eq!(release.package.as_ref().unwrap().version, "1.0.0");
    assert!(!release.artifacts.is_empty());
    let again = client
        .submit(authed(honest("1.0.0"), Some(SUBMIT)))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.queued, "a duplicate is not queued twice");
    // No version: the registry's latest.
    let latest = client
        .submit(authed(honest(""), Some(SUBMIT)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.release.unwrap().package.unwrap().version, "1.1.0");
    // A package the registry does not have.
    let unknown = client
        .submit(authed(
            SubmitRequest {
                package: Some(package(Ecosystem::Npm, "no-such-package-here", "")),
            },
            Some(SUBMIT),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    // The submitted release is indexed and readable with the read token.
    let found = eventually(
        Duration::from_secs(20),
        "the submitted release indexed",
        || {
            let mut client = client.clone();
            async move {
                client
                    .get_result(authed(get(), Some(READ)))
                    .await
                    .ok()
                    .map(|r| r.into_inner())
            }
        },
    )
    .await;
    assert_eq!(
        found.release.unwrap().package.unwrap().name,
        "paddock-honest"
    );
    api.stop().await;
}

#[tokio::test]
async fn without_tokens_it_binds_to_loopback_only_unless_told_otherwise() {
    let nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let remote = ApiConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..open_api()
    };
    let error = try_start_api(&nats, &config, remote.clone())
        .await
        .err()
        .unwrap();
    assert!(
        error.contains("api.listen") && error.contains("allow_unauthenticated_remote"),
        "{error}"
    );
    let web_remote = ApiConfig {
        web_listen: Some("0.0.0.0:0".parse().unwrap()),
        ..open_api()
    };
    let error = try_start_api(&nats, &config, web_remote)
        .await
        .err()
        .unwrap();
    assert!(error.contains("api.web_listen"), "{error}");
    // With tokens, or when explicitly allowed, it binds.
    let with_tokens = ApiConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..with_tokens()
    };
    try_start_api(&nats, &config, with_tokens)
        .await
        .unwrap()
        .stop()
        .await;
    let allowed = ApiConfig {
        allow_unauthenticated_remote: true,
        ..remote
    };
    try_start_api(&nats, &config, allowed)
        .await
        .unwrap()
        .stop()
        .await;
}

#[tokio::test]
async fn with_tls_configured_plain_connections_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();

    let nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let api = start_api(
        &nats,
        &config,
        ApiConfig {
            tls: Some(TlsConfig {
                cert: dir.path().join("cert.pem"),
                key: dir.path().join("key.pem"),
            }),
            ..with_tokens()
        },
    )
    .await;
    assert!(
        api.bound.grpc_url.starts_with("https://"),
        "{:?}",
        api.bound
    );
    let port = api.bound.grpc_url.rsplit(':').next().unwrap().to_owned();

    // Plain HTTP/2 to the TLS port: no answer that a client could use.
    let plain = async {
        let channel = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(5))
            .connect()
            .await?;
        AnalysisServiceClient::new(channel)
            .get_result(authed(GetResultRequest::default(), Some(READ)))
            .await
            .map_err(Into::<Box<dyn std::error::Error + Send + Sync>>::into)
    };
    let refused: Result<_, Box<dyn std::error::Error + Send + Sync>> = plain.await;
    assert!(refused.is_err(), "a plain connection was answered");
    if let Err(e) = &refused {
        if let Some(status) = e.downcast_ref::<tonic::Status>() {
            assert_ne!(
                status.code(),
                Code::InvalidArgument,
                "the call got through: {status:?}"
            );
        }
    }

    // TLS with the authority's certificate: answered.
    let channel: Channel = Endpoint::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca.pem()))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = AnalysisServiceClient::new(channel)
        .get_result(authed(GetResultRequest::default(), Some(READ)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    api.stop().await;
}

#[tokio::test]
async fn hostile_requests_get_a_clear_status() {
    let nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let api = start_api(
        &nats,
        &config,
        ApiConfig {
            max_streams_per_client: 3,
            ..open_api()
        },
    )
    .await;
    let mut client = api.client().await;

    // Larger than api.max_request_bytes (64 KiB).
    let huge = client
        .get_result(GetResultRequest {
            package: Some(package(Ecosystem::Npm, &"a".repeat(100_000), "1")),
        })
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::OutOfRange, "{huge:?}");
    // Long but under the message limit: refused by the name limit.
    let long = client
        .get_result(GetResultRequest {
            package: Some(package(Ecosystem::Npm, &"a".repeat(5_000), "1")),
        })
        .await
        .unwrap_err();
    assert_eq!(long.code(), Code::InvalidArgument, "{long:?}");
    // Unknown ecosystem numbers, empty names.
    let eco = client
        .get_result(GetResultRequest {
            package: Some(PackageRef {
                ecosystem: 99,
                name: "x".into(),
                version: "1".into(),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(eco.code(), Code::InvalidArgument, "{eco:?}");
    assert!(eco.message().contains("ECOSYSTEM_NPM"), "{eco:?}");
    // Names that would be paths or wildcards anywhere else are just names.
    for name in [
        "../../etc/passwd",
        "@scope/..",
        "a.b.*",
        ">",
        "a b",
        "\u{0}",
        "名前",
    ] {
        for (eco, version) in [(Ecosystem::Npm, "1.0.0"), (Ecosystem::Pypi, "..")] {
            let status = client
                .get_result(GetResultRequest {
                    package: Some(package(eco, name, version)),
                })
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::NotFound, "{name}: {status:?}");
            let listed = client
                .list_releases(ListReleasesRequest {
                    package: Some(package(eco, name, "")),
                    limit: 5,
                })
                .await
                .unwrap_err();
            assert_eq!(listed.code(), Code::NotFound, "{name}: {listed:?}");
        }
    }
    let bad_severity = client
        .watch_alerts(WatchAlertsRequest {
            min_severity: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_severity.code(), Code::InvalidArgument);

    // Streams per client: the fourth is refused, and a closed one frees
    // its slot.
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(
            client
                .watch_alerts(WatchAlertsRequest::default())
                .await
                .unwrap()
                .into_inner(),
        );
    }
    let fourth = client
        .watch_alerts(WatchAlertsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(fourth.code(), Code::ResourceExhausted, "{fourth:?}");
    assert!(
        fourth.message().contains("max_streams_per_client"),
        "{fourth:?}"
    );
    drop(open.pop());
    let again = eventually(
        Duration::from_secs(10),
        "a closed stream frees its slot",
        || {
            let mut client = client.clone();
            async move {
                client
                    .watch_alerts(WatchAlertsRequest {
                        min_severity: Severity::High as i32,
                        ..Default::default()
                    })
                    .await
                    .ok()
            }
        },
    )
    .await;
    drop(again);
    drop(open);
    api.stop().await;
}

/// Kilobytes of resident memory of this process.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_alert_streams_each_get_the_alert_in_bounded_memory() {
    const STREAMS: usize = 1000;
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let before = rss_kib();
    // Several connections, as many clients would have.
    let mut clients = Vec::new();
    for _ in 0..10 {
        clients.push(api.client().await);
    }
    let mut streams = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let mut client = clients[i % clients.len()].clone();
        streams.push(
            client
                .watch_alerts(WatchAlertsRequest::default())
                .await
                .unwrap_or_else(|e| panic!("stream {i}: {e:?}"))
                .into_inner(),
        );
    }
    let opened = rss_kib();
    let p = package(Ecosystem::Npm, "fan-out", "1.0.0");
    publish_alert(&bus, &alert(&p, "to-everyone", Severity::Critical, "", &[])).await;
    let received = futures::future::join_all(streams.iter_mut().map(|s| async move {
        match tokio::time::timeout(Duration::from_secs(60), s.next()).await {
            Ok(Some(Ok(r))) => r.alert.map(|a| a.alert_id),
            _ => None,
        }
    }))
    .await;
    let delivered = received
        .iter()
        .filter(|r| r.as_deref() == Some("to-everyone"))
        .count();
    let after = rss_kib();
    println!(
        "{STREAMS} streams: RSS {before} KiB before, {opened} KiB open, {after} KiB after one alert to each ({} KiB per stream, server and clients in this process)",
        (after.saturating_sub(before)) / STREAMS as u64
    );
    assert_eq!(delivered, STREAMS, "every stream got the alert");
    // Server and client sides together: well under 100 KiB a stream.
    assert!(
        after.saturating_sub(before) < 100 * STREAMS as u64,
        "memory grew by {} KiB for {STREAMS} streams",
        after - before
    );
    drop(streams);
    api.stop().await;
}
