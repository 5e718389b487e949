//! What the simulated internet costs, on fixture packages served by the
//! loopback fixture registry (no traffic leaves the machine):
//!
//! - the internet host alone: two namespaces, the veth pair, the redirect
//!   rule and the servers' sockets, started and removed;
//! - a full analysis (install, import, execute) of a package without
//!   dependencies, with the simulated internet and without it (no route);
//! - a full analysis of a package with 25 dependencies (npm and PyPI), its
//!   dependencies fetched through the registry proxy with a cold cache (a
//!   fresh proxy) and a warm one (the same proxy again);
//! - for scale, the same install run natively on the host straight from
//!   the fixture registry (no sandbox, no proxy).
//!
//! Needs root, runsc, nftables and the image.
//!
//!     cargo bench -p paddock-dynamic --bench simulated_internet [-- RUNS]
#![allow(clippy::disallowed_methods)] // a bench binary reads its own environment

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use paddock_dynamic::{DynamicAnalyzer, DynamicConfig, PhaseName, DRIVERS};
use paddock_netsim::exfil::Detector;
use paddock_netsim::{InternetHost, Proxy, Recorder};
use paddock_proto::v1::{AnalysisStatus, Ecosystem, PackageRef};
use paddock_registry::RegistriesConfig;
use paddock_sandbox::netns::Netns;
use paddock_testkit::packages::{build, dependency_tree, FixturePackage};
use paddock_testkit::registry::FixtureRegistry;

fn image_cache() -> PathBuf {
    std::env::var("PADDOCK_IMAGE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or("/root".into()))
                .join(".cache/paddock/images")
        })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn config(work: &Path, worker: &str, internet: bool) -> DynamicConfig {
    let mut c = DynamicConfig {
        work_dir: work.join("work"),
        worker_id: worker.into(),
        phases: vec![PhaseName::Install, PhaseName::Import, PhaseName::Execute],
        ..DynamicConfig::default()
    };
    c.sandbox.state_dir = work.join("state");
    c.internet.enabled = internet;
    c.internet.proxy_cache = Some(work.join(format!("proxy-{worker}")));
    c
}

async fn analyze(a: &DynamicAnalyzer, pkg: &FixturePackage, dir: &Path) -> (Duration, usize) {
    let built = build(pkg);
    let artifact = dir.join(&built.filename);
    std::fs::write(&artifact, &built.bytes).unwrap();
    let package = PackageRef {
        ecosystem: pkg.eco as i32,
        name: pkg.name.clone(),
        version: pkg.version.clone(),
    };
    let started = Instant::now();
    let result = a.analyze(&package, &artifact).await;
    let took = started.elapsed();
    assert_eq!(
        result.status,
        AnalysisStatus::Completed as i32,
        "{}: {}",
        pkg.name,
        result.status_detail
    );
    (took, result.phases[0].fetched_packages.len())
}

/// The driver's install run natively, with the client pointed straight at
/// the fixture registry.
fn native_install(pkg: &FixturePackage, registry: &FixtureRegistry, dir: &Path) -> Duration {
    let scratch = tempfile::tempdir().unwrap();
    let (app, home) = (scratch.path().join("app"), scratch.path().join("home"));
    std::fs::create_dir_all(&app).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let drivers = scratch.path().join("drivers");
    std::fs::create_dir_all(&drivers).unwrap();
    for (name, body) in DRIVERS {
        std::fs::write(drivers.join(name), body).unwrap();
    }
    let built = build(pkg);
    let artifact = dir.join(&built.filename);
    std::fs::write(&artifact, &built.bytes).unwrap();
    let (interpreter, driver) = paddock_dynamic::driver(pkg.eco);
    let started = Instant::now();
    let status = std::process::Command::new(interpreter)
        .arg(drivers.join(driver))
        .args(["install", &pkg.name, &pkg.version])
        .arg(&artifact)
        .current_dir(&app)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PADDOCK_APP", &app)
        .env("HOME", &home)
        .env("PYTHONUSERBASE", app.join("python"))
        .env("PIP_INDEX_URL", registry.url(Ecosystem::Pypi))
        .env("npm_config_registry", registry.url(Ecosystem::Npm))
        .env("npm_config_cache", home.join(".npm"))
        .env("npm_config_update_notifier", "false")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "native install of {} failed", pkg.name);
    took
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let npm_tree = dependency_tree(Ecosystem::Npm, "benchtree", 25);
    let pypi_tree = dependency_tree(Ecosystem::Pypi, "benchtree", 25);
    let mut all = npm_tree.clone();
    all.extend(pypi_tree.clone());
    let registry = FixtureRegistry::with_packages(all).await;
    let registries = registry.registries_config();
    println!("simulated internet overhead, median of {runs} runs (fixture registry on loopback)");

    // The internet host on its own.
    let proxy = Arc::new(Proxy::new(RegistriesConfig::default(), None));
    let mut host_times = Vec::new();
    for i in 0..runs.max(5) {
        let started = Instant::now();
        let ns = Netns::create(&format!("bench-inet-{i}")).await.unwrap();
        let host = InternetHost::start(
            &ns,
            Arc::new(Recorder::new(Detector::new(Vec::new()))),
            proxy.clone(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        host.remove().await;
        ns.remove().await;
        host_times.push(started.elapsed());
    }
    println!(
        "  internet host start + removal:                 {}",
        secs(median(host_times))
    );

    // A package with no dependencies, with and without the internet.
    let leaf = &npm_tree[npm_tree.len() - 1];
    for internet in [false, true] {
        let a = DynamicAnalyzer::new(
            config(dir.path(), &format!("bi{}", internet as u8), internet),
            &image_cache(),
        )
        .await
        .expect("runsc and the image")
        .with_registries(registries.clone());
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(analyze(&a, leaf, dir.path()).await.0);
        }
        println!(
            "  npm, no dependencies, full analysis, internet {}: {}",
            if internet { "on " } else { "off" },
            secs(median(times))
        );
    }

    // 25 dependencies through the proxy: cold (a fresh proxy and cache
    // each run), then warm (the same proxy again).
    for tree in [&npm_tree, &pypi_tree] {
        let eco = tree[0].eco;
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut fetched = 0;
        for run in 0..runs {
            let worker = format!("bd{}{run}", eco as i32);
            let a = DynamicAnalyzer::new(config(dir.path(), &worker, true), &image_cache())
                .await
                .expect("runsc and the image")
                .with_registries(registries.clone());
            let (t, n) = analyze(&a, &tree[0], dir.path()).await;
            cold.push(t);
            fetched = n;
            warm.push(analyze(&a, &tree[0], dir.path()).await.0);
        }
        let mut native = Vec::new();
        for _ in 0..runs {
            native.push(native_install(&tree[0], &registry, dir.path()));
        }
        let name = paddock_proto::ecosystem::subject_token(eco);
        println!(
            "  {name}, 25 dependencies ({fetched} fetched), full analysis: cold proxy cache {}, warm {}; native install alone {}",
            secs(median(cold)),
            secs(median(warm)),
            secs(median(native))
        );
    }
}
