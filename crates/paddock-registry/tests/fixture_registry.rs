//! Every client against the fixture registry: resolve latest and pinned,
//! download, verify, extract; tampering and registry faults.

use std::time::{Duration, Instant};

use paddock_proto::v1::Ecosystem;
use paddock_registry::{RegistryClient, RegistryError};
use paddock_testkit::registry::{Fault, FixtureRegistry};

fn client(registry: &FixtureRegistry, eco: Ecosystem) -> RegistryClient {
    RegistryClient::new(eco, &registry.registries_config()).unwrap()
}

/// (ecosystem, honest name, hook name, a file the extracted honest package has)
const CASES: [(Ecosystem, &str, &str, &str); 5] = [
    (
        Ecosystem::Pypi,
        "paddock-honest",
        "paddock-hook",
        "paddock_honest-1.0.0/setup.py",
    ),
    (
        Ecosystem::Npm,
        "paddock-honest",
        "@paddock/hook",
        "package/package.json",
    ),
    (
        Ecosystem::Rubygems,
        "paddock_honest",
        "paddock_hook",
        "lib/paddock_honest.rb",
    ),
    (
        Ecosystem::Packagist,
        "paddock/honest",
        "paddock/hook",
        "composer.json",
    ),
    (
        Ecosystem::CratesIo,
        "paddock-honest",
        "paddock-hook",
        "paddock-honest-1.0.0/Cargo.toml",
    ),
];

#[tokio::test]
async fn every_ecosystem_resolves_downloads_verifies_and_extracts() {
    let registry = FixtureRegistry::start().await;
    for (eco, honest, hook, file) in CASES {
        let client = client(&registry, eco);
        let latest = client
            .resolve(honest, None)
            .await
            .unwrap_or_else(|e| panic!("{eco:?}: {e}"));
        let version = &latest.package.as_ref().unwrap().version;
        assert!(
            version.trim_start_matches('v') == "1.1.0",
            "{eco:?} latest is {version}"
        );

        let pinned = client
            .resolve(honest, Some("1.0.0"))
            .await
            .unwrap_or_else(|e| panic!("{eco:?}: {e}"));
        assert_eq!(
            pinned
                .package
                .as_ref()
                .unwrap()
                .version
                .trim_start_matches('v'),
            "1.0.0"
        );
        let artifact = &pinned.artifacts[pinned.selected_artifact as usize];
        assert!(
            !artifact.registry_digests.is_empty(),
            "{eco:?} lists digests"
        );

        let downloaded = client
            .download(artifact)
            .await
            .unwrap_or_else(|e| panic!("{eco:?}: {e}"));
        assert!(downloaded.digests_checked >= 1, "{eco:?} checked a digest");
        assert_eq!(downloaded.artifact.sha256.len(), 64);

        let dir = tempfile::tempdir().unwrap();
        let (archive, report) = client
            .extract_into(&downloaded, dir.path())
            .unwrap_or_else(|e| panic!("{eco:?}: {e}"));
        assert!(archive.is_file());
        let found = paddock_testkit::files_under(&dir.path().join("package"))
            .into_iter()
            .any(|p| p.ends_with(file));
        assert!(found, "{eco:?}: {file} not extracted ({report:?})");

        // The install-hook package resolves too (scoped on npm).
        let hooked = client
            .resolve(hook, None)
            .await
            .unwrap_or_else(|e| panic!("{eco:?} {hook}: {e}"));
        let artifact = &hooked.artifacts[hooked.selected_artifact as usize];
        client
            .download(artifact)
            .await
            .unwrap_or_else(|e| panic!("{eco:?} {hook}: {e}"));
    }
}

#[tokio::test]
async fn pypi_prefers_the_sdist_and_lists_the_wheel() {
    let registry = FixtureRegistry::start().await;
    let release = client(&registry, Ecosystem::Pypi)
        .resolve("Paddock_Honest", None)
        .await
        .unwrap();
    assert_eq!(release.artifacts.len(), 2);
    let selected = &release.artifacts[release.selected_artifact as usize];
    assert!(
        selected.filename.ends_with(".tar.gz"),
        "{}",
        selected.filename
    );
    assert!(release
        .artifacts
        .iter()
        .any(|a| a.filename.ends_with("-py3-none-any.whl")));
    assert!(release.published_at.is_some());
}

#[tokio::test]
async fn a_tampered_artifact_fails_verification_in_every_ecosystem() {
    let registry = FixtureRegistry::start().await;
    for (prefix, eco, name) in [
        ("/files/pypi/", Ecosystem::Pypi, "paddock-honest"),
        ("/npm/paddock-honest/-/", Ecosystem::Npm, "paddock-honest"),
        ("/rubygems/gems/", Ecosystem::Rubygems, "paddock_honest"),
        ("/files/packagist/", Ecosystem::Packagist, "paddock/honest"),
        ("/crates/api/", Ecosystem::CratesIo, "paddock-honest"),
    ] {
        registry.fault(prefix, Fault::Tampered);
        let client = client(&registry, eco);
        let release = client.resolve(name, None).await.unwrap();
        let artifact = &release.artifacts[release.selected_artifact as usize];
        let err = client.download(artifact).await.unwrap_err();
        let RegistryError::DigestMismatch {
            expected, actual, ..
        } = &err
        else {
            panic!("{eco:?}: {err}")
        };
        assert_ne!(expected, actual);
        let text = err.to_string();
        assert!(
            text.contains(expected.as_str()) && text.contains(actual.as_str()),
            "{text}"
        );
        registry.clear_faults();
    }
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried() {
    let registry = FixtureRegistry::start().await;
    let npm = client(&registry, Ecosystem::Npm);

    registry.fault(
        "/npm/paddock-honest",
        Fault::Status {
            status: 503,
            times: 2,
        },
    );
    npm.resolve("paddock-honest", None)
        .await
        .expect("succeeds on the third attempt");

    registry.clear_faults();
    registry.fault(
        "/npm/paddock-honest",
        Fault::RateLimited {
            retry_after_secs: 1,
            times: 1,
        },
    );
    let started = Instant::now();
    npm.resolve("paddock-honest", None)
        .await
        .expect("succeeds after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );

    registry.clear_faults();
    registry.fault(
        "/npm/paddock-honest",
        Fault::Status {
            status: 500,
            times: 100,
        },
    );
    let err = npm.resolve("paddock-honest", None).await.unwrap_err();
    assert!(
        err.to_string().contains("HTTP 500") && err.to_string().contains("after 4 attempts"),
        "{err}"
    );
    assert!(err.is_transient());

    registry.clear_faults();
    registry.fault(
        "/npm/paddock-honest",
        Fault::Status {
            status: 403,
            times: 100,
        },
    );
    let before = registry.requests().len();
    let err = npm.resolve("paddock-honest", None).await.unwrap_err();
    assert_eq!(
        registry.requests().len() - before,
        1,
        "a 403 is not retried: {err}"
    );
}

#[tokio::test]
async fn garbage_and_truncated_responses_are_errors_not_panics() {
    let registry = FixtureRegistry::start().await;
    let crates = client(&registry, Ecosystem::CratesIo);
    registry.fault("/crates/index/pa/dd", Fault::Garbage);
    let err = crates.resolve("paddock-honest", None).await.unwrap_err();
    assert!(matches!(err, RegistryError::Malformed { .. }), "{err}");

    registry.clear_faults();
    registry.fault("/crates/api/", Fault::Truncated);
    let release = crates.resolve("paddock-honest", None).await.unwrap();
    let err = crates.download(&release.artifacts[0]).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::Unreachable { .. }),
        "a body cut short: {err}"
    );
}

#[tokio::test]
async fn unknown_packages_and_versions_are_named() {
    let registry = FixtureRegistry::start().await;
    for (eco, name) in [
        (Ecosystem::Pypi, "paddock-honest"),
        (Ecosystem::CratesIo, "paddock-honest"),
        (Ecosystem::Rubygems, "paddock_honest"),
    ] {
        let client = client(&registry, eco);
        let err = client.resolve(name, Some("9.9.9")).await.unwrap_err();
        assert!(
            matches!(err, RegistryError::NoSuchVersion { .. }),
            "{eco:?}: {err}"
        );
        let err = client.resolve("no-such-package", None).await.unwrap_err();
        assert!(
            matches!(err, RegistryError::NotFound { .. }),
            "{eco:?}: {err}"
        );
    }
}

#[test]
fn an_unconfigured_registry_names_the_setting() {
    let err = RegistryClient::new(Ecosystem::Rubygems, &Default::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("registries.rubygems.url")
            && text.contains("PADDOCK__REGISTRIES__RUBYGEMS__URL"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_registry_says_so() {
    // A loopback port with nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut config = paddock_registry::RegistriesConfig::default();
    config.npm.url = Some(format!("http://127.0.0.1:{port}/"));
    config.http.attempts = 1;
    let err = RegistryClient::new(Ecosystem::Npm, &config)
        .unwrap()
        .resolve("left-pad", None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot reach the npm registry"),
        "{err}"
    );
}

#[test]
fn local_artifacts_are_identified_from_their_content() {
    let dir = tempfile::tempdir().unwrap();
    for pkg in paddock_testkit::packages::catalogue() {
        for built in paddock_testkit::registry::artifacts_of(&pkg) {
            let path = dir.path().join(&built.filename);
            std::fs::write(&path, &built.bytes).unwrap();
            let found = paddock_registry::local::identify(&path, None, &Default::default())
                .unwrap_or_else(|e| panic!("{}: {e}", built.filename));
            assert_eq!(found.eco, pkg.eco, "{}", built.filename);
            assert_eq!(
                found.version.trim_start_matches('v'),
                pkg.version,
                "{}",
                built.filename
            );
            if pkg.eco != Ecosystem::Packagist {
                assert_eq!(found.name, pkg.name, "{}", built.filename);
            }
        }
    }
}
