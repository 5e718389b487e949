//! What the sandbox and the trace cost, on a small npm and a small PyPI
//! package (default `left-pad` and `six`, fetched through the registries
//! configured on this machine):
//!
//! - the full dynamic analysis (install and import, traced, in gVisor);
//! - the same drivers run natively, no sandbox (the host's node/npm and
//!   python3/pip, in a scratch directory);
//! - the sandbox with tracing off;
//! - the full analysis with the gated rerun of the import (CI variables,
//!   the clock moved forward), which the other columns leave out;
//!
//! side by side with their ratios, plus the sandbox's start time on its
//! own (`/bin/true` in the rootfs). Needs root, runsc and the image.
//!
//!     cargo bench -p paddock-dynamic --bench dynamic_overhead [-- npm NAME pypi NAME]
#![allow(clippy::disallowed_methods)] // a bench binary reads its own environment

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use paddock_dynamic::{DynamicAnalyzer, DynamicConfig, PhaseName, DRIVERS};
use paddock_proto::v1::{AnalysisStatus, Ecosystem, PackageRef};
use paddock_registry::discover::{discover, SystemProbe};
use paddock_registry::{RegistriesConfig, RegistryClient};
use paddock_sandbox::{RunSpec, Sandbox};

const RUNS: usize = 3;

fn image_cache() -> PathBuf {
    std::env::var("PADDOCK_IMAGE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or("/root".into()))
                .join(".cache/paddock/images")
        })
}

async fn fetch(eco: Ecosystem, name: &str, dir: &Path) -> (PackageRef, PathBuf) {
    let mut config = RegistriesConfig::default();
    discover(&mut config, &SystemProbe::new(std::env::vars().collect()));
    let client =
        RegistryClient::new(eco, &config).expect("a registry configured for the ecosystem");
    let release = client.resolve(name, None).await.expect("resolving");
    let artifact = &release.artifacts[release.selected_artifact as usize];
    let downloaded = client.download(artifact).await.expect("downloading");
    let (archive, _) = client.extract_into(&downloaded, dir).expect("extracting");
    (release.package.unwrap(), archive)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The drivers run natively: install then import, in a scratch /app and
/// home, with the host's interpreters.
fn native(package: &PackageRef, artifact: &Path, drivers: &Path) -> Duration {
    let scratch = tempfile::tempdir().unwrap();
    let (app, home) = (scratch.path().join("app"), scratch.path().join("home"));
    std::fs::create_dir_all(&app).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let (interpreter, driver) = paddock_dynamic::driver(package.ecosystem());
    let started = Instant::now();
    for phase in ["install", "import"] {
        let status = std::process::Command::new(interpreter)
            .arg(drivers.join(driver))
            .args([phase, &package.name, &package.version])
            .arg(artifact)
            .current_dir(&app)
            .env("PADDOCK_APP", &app)
            .env("HOME", &home)
            .env("PYTHONUSERBASE", app.join("python"))
            .env("NODE_PATH", app.join("node_modules"))
            .env("npm_config_cache", home.join(".npm"))
            .env("npm_config_update_notifier", "false")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "native {phase} of {} failed",
            package.name
        );
    }
    started.elapsed()
}

async fn sandboxed(config: &DynamicConfig, package: &PackageRef, artifact: &Path) -> Duration {
    let analyzer = DynamicAnalyzer::new(config.clone(), &image_cache())
        .await
        .unwrap();
    let started = Instant::now();
    let r = analyzer.analyze(package, artifact).await;
    let elapsed = started.elapsed();
    assert_eq!(
        r.status,
        AnalysisStatus::Completed as i32,
        "{}",
        r.status_detail
    );
    elapsed
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let pick = |eco: &str, default: &str| {
        args.windows(2)
            .find(|w| w[0] == eco)
            .map(|w| w[1].clone())
            .unwrap_or(default.into())
    };
    let dir = tempfile::tempdir().unwrap();
    let drivers = dir.path().join("drivers");
    std::fs::create_dir_all(&drivers).unwrap();
    for (name, body) in DRIVERS {
        std::fs::write(drivers.join(name), body).unwrap();
    }
    let mut traced = DynamicConfig {
        work_dir: dir.path().join("work"),
        worker_id: "bench".into(),
        phases: vec![PhaseName::Install, PhaseName::Import],
        // Measured on its own, in the last column.
        gated_rerun: false,
        ..DynamicConfig::default()
    };
    traced.sandbox.state_dir = dir.path().join("state");
    let mut untraced = traced.clone();
    untraced.sandbox.strace = false;
    let mut gated = traced.clone();
    gated.gated_rerun = true;

    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>9} {:>9} {:>14}",
        "package", "native", "no trace", "traced", "sandbox×", "trace×", "traced+gated"
    );
    for (eco, name) in [
        (Ecosystem::Npm, pick("npm", "left-pad")),
        (Ecosystem::Pypi, pick("pypi", "six")),
    ] {
        let fetched = dir.path().join(format!("fetch-{name}"));
        let (package, artifact) = fetch(eco, &name, &fetched).await;
        let mut n = Vec::new();
        let mut u = Vec::new();
        let mut t = Vec::new();
        let mut g = Vec::new();
        for _ in 0..RUNS {
            n.push(native(&package, &artifact, &drivers));
            u.push(sandboxed(&untraced, &package, &artifact).await);
            t.push(sandboxed(&traced, &package, &artifact).await);
            g.push(sandboxed(&gated, &package, &artifact).await);
        }
        let (n, u, t, g) = (median(n), median(u), median(t), median(g));
        println!(
            "{:<22} {:>9.2}s {:>9.2}s {:>9.2}s {:>8.1}× {:>8.2}× {:>13.2}s",
            format!(
                "{} {}",
                paddock_proto::ecosystem::cli_name(eco),
                package.name
            ),
            n.as_secs_f64(),
            u.as_secs_f64(),
            t.as_secs_f64(),
            u.as_secs_f64() / n.as_secs_f64(),
            t.as_secs_f64() / u.as_secs_f64(),
            g.as_secs_f64()
        );
    }

    // The sandbox starting and stopping, nothing else.
    let analyzer = DynamicAnalyzer::new(untraced.clone(), &image_cache())
        .await
        .unwrap();
    let sandbox = Sandbox::new(untraced.sandbox.clone()).await.unwrap();
    let mut starts = Vec::new();
    for i in 0..5 {
        let spec = RunSpec {
            rootfs: analyzer.rootfs().to_owned(),
            args: vec!["/bin/true".into()],
            env: vec!["PATH=/usr/bin:/bin".into()],
            cwd: "/".into(),
            tmpfs: vec!["/tmp".into()],
            read_only_binds: Vec::new(),
            read_write_binds: Vec::new(),
            timeout: Duration::from_secs(60),
            id: format!("pdk-bench-start-{i}"),
            netns: None,
        };
        let mut config = untraced.sandbox.clone();
        config.network = paddock_sandbox::NetworkMode::None;
        let sb = Sandbox::new(config).await.unwrap();
        let started = Instant::now();
        let out = sb
            .run(&spec, &dir.path().join(format!("start-{i}")))
            .await
            .unwrap();
        starts.push(started.elapsed());
        assert_eq!(out.exit, paddock_sandbox::Exit::Code(0));
    }
    let _ = sandbox;
    println!(
        "sandbox start and stop (/bin/true, no trace, no network): median {:.0} ms, min {:.0} ms",
        median(starts.clone()).as_secs_f64() * 1000.0,
        starts.iter().min().unwrap().as_secs_f64() * 1000.0
    );
}
