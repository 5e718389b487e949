//! What a dynamic analysis runs with: its phases and their drivers, the
//! limits and timeouts, the simulated internet, and the gated rerun.

use std::path::PathBuf;
use std::time::Duration;

use paddock_proto::v1::Phase;
use paddock_sandbox::{NetworkMode, SandboxConfig};
use serde::{Deserialize, Serialize};

use crate::ImageConfig;

/// The in-sandbox drivers, carried by the binary and bound read-only at
/// /opt/paddock in every sandbox.
pub const DRIVERS: [(&str, &str); 5] = [
    (
        "analyze-python.py",
        include_str!("../../../sandbox-images/drivers/analyze-python.py"),
    ),
    (
        "analyze-node.js",
        include_str!("../../../sandbox-images/drivers/analyze-node.js"),
    ),
    (
        "analyze-ruby.rb",
        include_str!("../../../sandbox-images/drivers/analyze-ruby.rb"),
    ),
    (
        "analyze-php.php",
        include_str!("../../../sandbox-images/drivers/analyze-php.php"),
    ),
    (
        "analyze-rust.py",
        include_str!("../../../sandbox-images/drivers/analyze-rust.py"),
    ),
];

pub use paddock_proto::sandbox::driver;

/// A phase, as configuration names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseName {
    Install,
    Import,
    Execute,
}

impl PhaseName {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseName::Install => "install",
            PhaseName::Import => "import",
            PhaseName::Execute => "execute",
        }
    }

    pub fn proto(self) -> Phase {
        match self {
            PhaseName::Install => Phase::Install,
            PhaseName::Import => Phase::Import,
            PhaseName::Execute => Phase::Execute,
        }
    }
}

/// `[dynamic]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicConfig {
    /// The runtime: runsc, platform, network mode, memory/pids/CPU limits.
    pub sandbox: SandboxConfig,
    pub image: ImageConfig,
    /// Per-analysis work directories live here.
    pub work_dir: PathBuf,
    /// Names this worker's containers, namespaces and work directories; a
    /// worker restarted under the same id removes what its predecessor
    /// left behind.
    pub worker_id: String,
    /// The phases run, in order.
    pub phases: Vec<PhaseName>,
    #[serde(with = "humantime_serde")]
    pub install_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub import_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub execute_timeout: Duration,
    /// Each function the execute phase calls gets this long.
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
    /// Size of the tmpfs behind the sandbox's writable /app and /root.
    pub writable_bytes: u64,
    /// Keep each analysis's raw runsc logs (strace included, every phase
    /// in one log) here, as `<analysis id>/`; unset: they are deleted with
    /// the work directory.
    pub keep_logs: Option<PathBuf>,
    /// The simulated internet (network mode `host` only).
    pub internet: InternetConfig,
    /// After a completed import phase, run it once more with CI variables
    /// set and the clock moved [`GATED_CLOCK_OFFSET`] ahead, and report
    /// what the package did only then (`dynamic.environment-gated`). Not
    /// for crates.io, whose import phase is a build.
    pub gated_rerun: bool,
}

/// The variant name of the gated rerun's phase result.
pub const GATED: &str = "gated";
/// How far ahead the gated rerun's clock runs (libfaketime's syntax).
pub const GATED_CLOCK_OFFSET: &str = "+400d";
/// What the gated rerun sets: the variables CI systems set, and the clock
/// moved forward by libfaketime (preloaded into every dynamically linked
/// program; monotonic clocks are left alone, so timeouts keep working).
pub fn gated_env() -> Vec<String> {
    let mut env: Vec<String> = [
        "CI=true",
        "CONTINUOUS_INTEGRATION=true",
        "GITHUB_ACTIONS=true",
        "GITHUB_WORKFLOW=release",
        "GITHUB_RUN_ID=7702345567",
        "GITHUB_REPOSITORY=acme/app",
        "RUNNER_OS=Linux",
        "GITLAB_CI=true",
        "JENKINS_URL=http://jenkins.internal.example/",
        "BUILDKITE=true",
        "CIRCLECI=true",
        "TRAVIS=true",
        "TF_BUILD=True",
        "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "FAKETIME_DONT_FAKE_MONOTONIC=1",
    ]
    .map(String::from)
    .to_vec();
    env.push(format!("FAKETIME={GATED_CLOCK_OFFSET}"));
    env
}

/// `[dynamic.analysis.internet]`: what the sandbox's network leads to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InternetConfig {
    /// `false`: no route anywhere; connections fail and DNS goes
    /// unanswered (both still traced).
    pub enabled: bool,
    /// A connection to the simulated internet that sends nothing for this
    /// long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Where the registry proxy keeps downloads between analyses; unset:
    /// `proxy/` beside the image cache.
    pub proxy_cache: Option<PathBuf>,
}

impl Default for InternetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            idle_timeout: Duration::from_secs(10),
            proxy_cache: None,
        }
    }
}

impl Default for DynamicConfig {
    fn default() -> Self {
        Self {
            sandbox: SandboxConfig {
                network: NetworkMode::Host,
                ..SandboxConfig::default()
            },
            image: ImageConfig {
                build: true,
                ..ImageConfig::default()
            },
            work_dir: PathBuf::from("/tmp/paddock-dynamic"),
            worker_id: "paddock".into(),
            phases: vec![PhaseName::Install, PhaseName::Import, PhaseName::Execute],
            install_timeout: Duration::from_secs(300),
            import_timeout: Duration::from_secs(120),
            execute_timeout: Duration::from_secs(120),
            call_timeout: Duration::from_secs(5),
            writable_bytes: 2 << 30,
            keep_logs: None,
            internet: InternetConfig::default(),
            gated_rerun: true,
        }
    }
}

impl DynamicConfig {
    pub fn timeout(&self, phase: PhaseName) -> Duration {
        match phase {
            PhaseName::Install => self.install_timeout,
            PhaseName::Import => self.import_timeout,
            PhaseName::Execute => self.execute_timeout,
        }
    }
}

#[cfg(test)]
mod driver_tests {
    use paddock_proto::v1::Ecosystem;

    use super::*;

    #[test]
    fn every_ecosystem_s_driver_is_installed_in_the_sandbox() {
        for eco in [
            Ecosystem::Npm,
            Ecosystem::Pypi,
            Ecosystem::Rubygems,
            Ecosystem::Packagist,
            Ecosystem::CratesIo,
        ] {
            let (_, file) = driver(eco);
            assert!(
                DRIVERS.iter().any(|(name, _)| *name == file),
                "{eco:?}: {file} is not among the drivers copied into the sandbox"
            );
        }
    }
}
