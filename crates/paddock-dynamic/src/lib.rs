//! Dynamic analysis: a package installed, imported and executed by its
//! ecosystem's own tools inside the gVisor sandbox, every phase traced.
//!
//! One analysis ([`DynamicAnalyzer::analyze`]):
//!
//! 1. a work directory with a size-limited tmpfs for the sandbox's
//!    writable `/app` and `/root` (which carry state from one phase to the
//!    next), fresh [`baits`] in the home and the environment, the artifact
//!    and the in-sandbox drivers bound read-only;
//! 2. in [`NetworkMode::Host`], a network namespace of its own whose only
//!    route leads to the simulated internet ([`paddock_netsim`]): a second
//!    namespace that answers DNS, accepts every connection, records what
//!    it carries and proxies the package managers' registry requests (or,
//!    with the internet disabled, no route anywhere);
//! 3. per phase one container on the shared read-only [`image`] rootfs,
//!    with its own timeout; a phase that does not complete skips the rest;
//! 4. the trace of each phase turned into a [`PhaseResult`];
//! 5. everything removed again, also when the analysis is cancelled
//!    (the [`Cleanup`] guard), and by [`DynamicAnalyzer::clean_up_leftovers`]
//!    after a worker was killed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use paddock_netsim::{InternetHost, Proxy, Recorder};
use paddock_proto::v1::{
    AnalysisStatus, DnsQuery, DynamicResult, Evidence, Finding, FindingCategory, PackageRef, Phase,
    PhaseResult, ResourceUsage, SandboxInfo, Severity,
};
use paddock_proto::v1::{Ecosystem, Reachability};
use paddock_proto::well_known::{Duration as ProtoDuration, Timestamp};
use paddock_registry::RegistriesConfig;
use paddock_sandbox::netns::{Blackhole, Netns, NetworkHook};
use paddock_sandbox::{Exit, NetworkMode, RunSpec, Sandbox, SandboxConfig};
use serde::{Deserialize, Serialize};

pub mod baits;
pub mod image;
pub mod report;

pub use image::ImageConfig;

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

/// The interpreter and driver of an ecosystem.
pub fn driver(eco: Ecosystem) -> (&'static str, &'static str) {
    match eco {
        Ecosystem::Npm => ("node", "analyze-node.js"),
        Ecosystem::Rubygems => ("ruby", "analyze-ruby.rb"),
        Ecosystem::Packagist => ("php", "analyze-php.php"),
        Ecosystem::CratesIo => ("python3", "analyze-rust.py"),
        Ecosystem::Pypi | Ecosystem::Unspecified => ("python3", "analyze-python.py"),
    }
}

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
    /// Keep each phase's raw runsc logs (strace included) here, as
    /// `<container>/`; unset: they are deleted with the work directory.
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

/// Why the analyzer could not start.
#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error(transparent)]
    Sandbox(#[from] paddock_sandbox::SandboxError),
    #[error("the image build task failed: {0}")]
    Join(String),
}

/// What a restarted worker found and removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Leftovers {
    pub containers: Vec<String>,
    pub namespaces: Vec<String>,
    pub mounts: Vec<String>,
    pub directories: Vec<String>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.namespaces.is_empty()
            && self.mounts.is_empty()
            && self.directories.is_empty()
    }
}

/// Runs dynamic analyses.
#[derive(Debug, Clone)]
pub struct DynamicAnalyzer {
    config: DynamicConfig,
    sandbox: Sandbox,
    rootfs: PathBuf,
    hook: Arc<dyn NetworkHook>,
    proxy: Arc<Proxy>,
    proxy_cache: PathBuf,
}

impl DynamicAnalyzer {
    /// Checks runsc and makes sure the rootfs exists (building it, if
    /// allowed and missing; `default_image_cache` is where builds go
    /// unless configured).
    pub async fn new(
        config: DynamicConfig,
        default_image_cache: &Path,
    ) -> Result<Self, DynamicError> {
        let sandbox = Sandbox::new(config.sandbox.clone()).await?;
        let (image_config, cache) = (config.image.clone(), default_image_cache.to_owned());
        let rootfs = tokio::task::spawn_blocking(move || image::ensure(&image_config, &cache))
            .await
            .map_err(|e| DynamicError::Join(e.to_string()))??;
        std::fs::create_dir_all(&config.work_dir).map_err(|source| {
            paddock_sandbox::SandboxError::Io {
                what: format!("creating {}", config.work_dir.display()),
                source,
            }
        })?;
        let proxy_cache = config
            .internet
            .proxy_cache
            .clone()
            .unwrap_or_else(|| default_image_cache.with_file_name("proxy"));
        Ok(Self {
            proxy: Arc::new(Proxy::new(
                RegistriesConfig::default(),
                Some(proxy_cache.clone()),
            )),
            proxy_cache,
            config,
            sandbox,
            rootfs,
            hook: Arc::new(Blackhole),
        })
    }

    /// The registries the simulated internet's registry proxy forwards to
    /// (without them every registry request from the sandbox is refused).
    pub fn with_registries(mut self, registries: RegistriesConfig) -> Self {
        self.proxy = Arc::new(Proxy::new(registries, Some(self.proxy_cache.clone())));
        self
    }

    /// Replaces the network hook used when the simulated internet is
    /// disabled.
    pub fn with_network_hook(mut self, hook: Arc<dyn NetworkHook>) -> Self {
        self.hook = hook;
        self
    }

    pub fn config(&self) -> &DynamicConfig {
        &self.config
    }

    pub fn rootfs(&self) -> &Path {
        &self.rootfs
    }

    fn prefix(&self) -> String {
        format!("pdk-{}-", self.config.worker_id)
    }

    /// Removes the containers, namespaces, mounts and work directories a
    /// killed worker with this worker id left behind.
    pub async fn clean_up_leftovers(&self) -> Leftovers {
        let prefix = self.prefix();
        let mut found = Leftovers {
            containers: self.sandbox.clean_up_leftovers(&prefix).await,
            ..Default::default()
        };
        let ns_prefix = format!("{}{prefix}", paddock_sandbox::netns::NETNS_PREFIX);
        for ns in paddock_sandbox::netns::list().await {
            if ns.starts_with(&ns_prefix) {
                paddock_sandbox::netns::delete(&ns).await;
                found.namespaces.push(ns);
            }
        }
        let work = self.config.work_dir.join(&prefix);
        for mount in mounts_under(&work.to_string_lossy()) {
            unmount(Path::new(&mount));
            found.mounts.push(mount);
        }
        if let Ok(entries) = std::fs::read_dir(&self.config.work_dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(e.path());
                    found.directories.push(name);
                }
            }
        }
        found
    }

    /// Analyses `artifact` (a file on this machine) as `package`.
    pub async fn analyze(&self, package: &PackageRef, artifact: &Path) -> DynamicResult {
        let started = now();
        let id = format!("{}{}", self.prefix(), hex::encode(baits::random(6)));
        let mut result = DynamicResult {
            package: Some(package.clone()),
            created_at: Some(now()),
            sandbox: Some(SandboxInfo {
                runtime: "gvisor".into(),
                network_mode: self.config.sandbox.network.as_str().into(),
                image_digest: image_digest(&self.config.image),
                memory_limit_bytes: self.config.sandbox.memory_bytes,
                pids_limit: self.config.sandbox.pids as u32,
                cpu_limit: self.config.sandbox.cpus,
            }),
            ..Default::default()
        };
        let mut cleanup = Cleanup {
            runsc: self.config.sandbox.runsc.clone(),
            state_dir: self.config.sandbox.state_dir.clone(),
            containers: Vec::new(),
            netns: Vec::new(),
            mount: None,
            work: None,
        };
        match self.prepare(&id, artifact, &mut cleanup).await {
            Ok(prepared) => {
                let mut previous_completed = true;
                for (i, phase) in self.config.phases.iter().copied().enumerate() {
                    if !previous_completed {
                        result.phases.push(PhaseResult {
                            phase: phase.proto() as i32,
                            status: AnalysisStatus::Skipped as i32,
                            status_detail: "an earlier phase did not complete".into(),
                            ..Default::default()
                        });
                        continue;
                    }
                    let container = format!("{id}-{i}");
                    cleanup.containers.push(container.clone());
                    let phase_result = self
                        .run_phase(package, phase, &prepared, &container, false)
                        .await;
                    previous_completed = phase_result.status == AnalysisStatus::Completed as i32;
                    result.phases.push(phase_result);
                    if phase == PhaseName::Import
                        && previous_completed
                        && self.config.gated_rerun
                        && package.ecosystem() != Ecosystem::CratesIo
                    {
                        let container = format!("{id}-{i}g");
                        cleanup.containers.push(container.clone());
                        let gated = self
                            .run_phase(package, phase, &prepared, &container, true)
                            .await;
                        result.phases.push(gated);
                    }
                }
                if let Some(host) = prepared.internet {
                    host.remove().await;
                }
            }
            Err(detail) => {
                tracing::error!(%package, error = %detail, "could not prepare the sandbox");
                result.status = AnalysisStatus::ErrorOther as i32;
                result.status_detail = detail;
            }
        }
        drop(cleanup);
        result
            .findings
            .extend(exfiltration_findings(&result.phases));
        let behaviour = behaviour_findings(&result);
        result.findings.extend(behaviour);
        if result.status == AnalysisStatus::Unspecified as i32 {
            // The gated rerun is extra evidence: its failing (a package
            // that waits for ever under CI) does not fail the analysis.
            match result
                .phases
                .iter()
                .filter(|p| p.variant.is_empty())
                .find(|p| p.status != AnalysisStatus::Completed as i32)
            {
                Some(p) => {
                    result.status = p.status;
                    result.status_detail = format!(
                        "{}: {}",
                        Phase::try_from(p.phase)
                            .map(|p| p.as_str_name())
                            .unwrap_or("phase"),
                        p.status_detail
                    );
                }
                None => result.status = AnalysisStatus::Completed as i32,
            }
        }
        result.run = Some(paddock_proto::v1::AnalysisRun {
            run_id: id,
            started_at: Some(started),
            finished_at: Some(now()),
            analyzer_version: env!("CARGO_PKG_VERSION").into(),
            worker: self.config.worker_id.clone(),
        });
        result
    }

    async fn prepare(
        &self,
        id: &str,
        artifact: &Path,
        cleanup: &mut Cleanup,
    ) -> Result<Prepared, String> {
        let work = self.config.work_dir.join(id);
        let err = |what: &str| {
            let what = what.to_owned();
            move |e: std::io::Error| format!("{what}: {e}")
        };
        std::fs::create_dir_all(&work).map_err(err("creating the work directory"))?;
        cleanup.work = Some(work.clone());
        let rw = work.join("rw");
        std::fs::create_dir_all(&rw).map_err(err("creating the writable area"))?;
        // Fail closed: without its size limit the sandbox could fill the
        // host's disk, so nothing runs.
        mount_tmpfs(&rw, self.config.writable_bytes).map_err(|e| {
            format!(
                "mounting the size-limited tmpfs for the sandbox's writable area at {}: {e}; \
                 nothing was run (dynamic analysis needs root, or CAP_SYS_ADMIN, to bound the sandbox's disk use)",
                rw.display()
            )
        })?;
        cleanup.mount = Some(rw.clone());
        let (app, home) = (rw.join("app"), rw.join("home"));
        std::fs::create_dir_all(&app).map_err(err("creating /app"))?;
        std::fs::create_dir_all(&home).map_err(err("creating /root"))?;
        let baits = baits::Baits::generate();
        baits
            .write_home(&home)
            .map_err(err("planting the SSH baits"))?;

        let artifact_dir = work.join("artifact");
        std::fs::create_dir_all(&artifact_dir).map_err(err("creating the artifact directory"))?;
        let filename = artifact
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && !n.contains('/'))
            .ok_or_else(|| format!("{} has no usable file name", artifact.display()))?;
        std::fs::copy(artifact, artifact_dir.join(&filename))
            .map_err(err("copying the artifact into the work directory"))?;
        let drivers = work.join("drivers");
        std::fs::create_dir_all(&drivers).map_err(err("creating the drivers directory"))?;
        for (name, body) in DRIVERS {
            std::fs::write(drivers.join(name), body).map_err(err("writing the drivers"))?;
        }

        let mut internet = None;
        let netns = if self.config.sandbox.network == NetworkMode::Host {
            let ns = Netns::create(id).await.map_err(|e| e.to_string())?;
            let path = ns.path();
            cleanup.netns.push(ns.name().to_owned());
            if self.config.internet.enabled {
                // The internet host's namespace is named after the
                // sandbox's, so the clean-up finds both.
                cleanup.netns.push(format!("{}-net", ns.name()));
                let recorder = Arc::new(Recorder::new(baits.detector()));
                let host = InternetHost::start(
                    &ns,
                    recorder,
                    self.proxy.clone(),
                    self.config.internet.idle_timeout,
                )
                .await
                .map_err(|e| format!("starting the simulated internet: {e}"))?;
                internet = Some(host);
            } else {
                self.hook.attach(&ns).await.map_err(|e| e.to_string())?;
            }
            Some(path)
        } else {
            None
        };
        let mut tls = None;
        if let Some(host) = &internet {
            write_client_config(&home).map_err(err("configuring the package managers"))?;
            let dir = work.join("tls");
            write_trust(&dir, &self.rootfs, host.ca_pem())
                .map_err(err("writing the TLS trust bundle"))?;
            tls = Some(dir);
        }
        Ok(Prepared {
            work,
            app,
            home,
            artifact_dir,
            artifact_name: filename,
            drivers,
            netns,
            baits,
            internet,
            tls,
        })
    }

    async fn run_phase(
        &self,
        package: &PackageRef,
        phase: PhaseName,
        p: &Prepared,
        container: &str,
        gated: bool,
    ) -> PhaseResult {
        let (interpreter, driver) = driver(package.ecosystem());
        let mut env = vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            "HOME=/root".into(),
            "USER=root".into(),
            "LANG=C.UTF-8".into(),
            "PADDOCK_APP=/app".into(),
            format!(
                "PADDOCK_CALL_TIMEOUT={}",
                self.config.call_timeout.as_secs().max(1)
            ),
            "PYTHONUSERBASE=/app/python".into(),
            "PIP_NO_WARN_SCRIPT_LOCATION=1".into(),
            "NODE_PATH=/app/node_modules".into(),
            "npm_config_cache=/root/.npm".into(),
            "npm_config_update_notifier=false".into(),
            "npm_config_fetch_retries=0".into(),
            "GEM_HOME=/app/gems".into(),
            "COMPOSER_HOME=/root/.composer".into(),
            "COMPOSER_ALLOW_SUPERUSER=1".into(),
            "COMPOSER_NO_INTERACTION=1".into(),
            "CARGO_HOME=/root/.cargo".into(),
            "CARGO_NET_RETRY=0".into(),
            "CARGO_TERM_COLOR=never".into(),
        ];
        if p.internet.is_some() {
            env.extend(proxy_env());
        }
        let mut read_only_binds = vec![
            (p.drivers.clone(), "/opt/paddock".into()),
            (p.artifact_dir.clone(), "/artifact".into()),
        ];
        if let Some(dir) = &p.tls {
            env.extend(trust_env());
            read_only_binds.push((dir.clone(), TRUST_DIR.into()));
            read_only_binds.push((dir.join(TRUST_BUNDLE), SYSTEM_BUNDLE.into()));
        }
        env.extend(p.baits.env_entries());
        if gated {
            env.extend(gated_env());
        }
        let spec = RunSpec {
            rootfs: self.rootfs.clone(),
            args: vec![
                interpreter.into(),
                format!("/opt/paddock/{driver}"),
                phase.as_str().into(),
                package.name.clone(),
                package.version.clone(),
                format!("/artifact/{}", p.artifact_name),
            ],
            env,
            cwd: "/app".into(),
            tmpfs: vec!["/tmp".into()],
            read_only_binds,
            read_write_binds: vec![
                (p.app.clone(), "/app".into()),
                (p.home.clone(), "/root".into()),
            ],
            timeout: self.config.timeout(phase),
            id: container.to_owned(),
            netns: p.netns.clone(),
        };
        let started_at = now();
        let span = tracing::info_span!("phase", phase = phase.as_str(), %package, container);
        let outcome =
            tracing::Instrument::instrument(self.sandbox.run(&spec, &p.work.join(container)), span)
                .await;
        if let Some(keep) = &self.config.keep_logs {
            let _ = std::fs::create_dir_all(keep);
            let _ = std::process::Command::new("cp")
                .arg("-r")
                .arg(p.work.join(container).join("logs"))
                .arg(keep.join(container))
                .status();
        }
        // The bundle and the (possibly large) boot log are not needed again.
        let _ = std::fs::remove_dir_all(p.work.join(container));
        let mut result = PhaseResult {
            phase: phase.proto() as i32,
            started_at: Some(started_at),
            variant: if gated { GATED.into() } else { String::new() },
            ..Default::default()
        };
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                result.status = AnalysisStatus::ErrorOther as i32;
                result.status_detail = format!("the sandbox could not run: {e}");
                return result;
            }
        };
        let limit_hit = outcome.usage.memory_limit_hit || outcome.usage.pids_limit_hit;
        let (status, detail, code) = match &outcome.exit {
            Exit::Code(0) => (AnalysisStatus::Completed, String::new(), 0),
            Exit::Timeout => (
                AnalysisStatus::ErrorTimeout,
                format!(
                    "the {} phase ran out of its {} s",
                    phase.as_str(),
                    spec.timeout.as_secs()
                ),
                -1,
            ),
            Exit::Code(code) if limit_hit => (
                AnalysisStatus::ErrorLimit,
                format!(
                    "exit code {code} after reaching the {} limit",
                    if outcome.usage.memory_limit_hit {
                        "memory"
                    } else {
                        "process"
                    }
                ),
                *code,
            ),
            Exit::Code(code) => (
                AnalysisStatus::ErrorAnalysis,
                format!("the {} phase exited with code {code}", phase.as_str()),
                *code,
            ),
            Exit::RuntimeError(e) if limit_hit => (AnalysisStatus::ErrorLimit, e.clone(), -1),
            Exit::RuntimeError(e) => (AnalysisStatus::ErrorOther, e.clone(), -1),
        };
        let t = &outcome.trace;
        result.status = status as i32;
        result.status_detail = detail;
        result.exit_code = code;
        result.duration = Some(ProtoDuration {
            seconds: outcome.duration.as_secs() as i64,
            nanos: outcome.duration.subsec_nanos() as i32,
        });
        result.resources = Some(ResourceUsage {
            max_rss_bytes: outcome.usage.max_memory_bytes,
            cpu_seconds: outcome.usage.cpu_seconds,
            max_pids: outcome.usage.max_pids as u32,
            oom_killed: outcome.usage.memory_limit_hit,
            pids_limit_hit: outcome.usage.pids_limit_hit,
        });
        result.bait_accesses = p.baits.accesses(t);
        result.files = t.files();
        result.file_events = t.file_events.clone();
        result.sockets = t.sockets.clone();
        result.dns = t.dns.clone();
        result.commands = t.commands.clone();
        result.processes = t.processes.clone();
        result.file_writes = t.file_writes.clone();
        result.trace = Some(t.stats);
        result.stdout_tail = outcome.stdout_tail;
        result.stderr_tail = outcome.stderr_tail;
        if let Some(host) = &p.internet {
            add_traffic(&mut result, host.recorder());
        }
        tracing::info!(phase = phase.as_str(), %package, status = status.as_str_name(), seconds = outcome.duration.as_secs_f64(), "phase finished");
        result
    }
}

/// The environment that points the package managers at the registry
/// proxy.
fn proxy_env() -> Vec<String> {
    let base = paddock_netsim::proxy::base_url();
    vec![
        format!("PIP_INDEX_URL={base}/pypi/simple/"),
        format!("PIP_TRUSTED_HOST={}", paddock_netsim::HOST_ADDR),
        format!("npm_config_registry={base}/npm/"),
    ]
}

/// Where the sandbox finds the analysis's CA certificate (`ca.pem`) and
/// the system roots with it ([`TRUST_BUNDLE`]).
const TRUST_DIR: &str = "/opt/paddock-tls";
const TRUST_BUNDLE: &str = "ca-bundle.pem";
/// Debian's system bundle (OpenSSL's default file: Python's `ssl`, Ruby,
/// PHP, curl), replaced by the bundle with the analysis's CA in it.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Writes the analysis's CA certificate and a bundle of the image's
/// system roots plus it. A program that trusts the system store, or that
/// follows the variables of [`trust_env`], accepts the catch-all's minted
/// certificates; one that pins or brings its own roots does not.
fn write_trust(dir: &Path, rootfs: &Path, ca_pem: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ca.pem"), ca_pem)?;
    let system = rootfs.join(SYSTEM_BUNDLE.trim_start_matches('/'));
    let mut bundle = std::fs::read(&system).unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with(b"\n") {
        bundle.push(b'\n');
    }
    bundle.extend_from_slice(ca_pem.as_bytes());
    std::fs::write(dir.join(TRUST_BUNDLE), bundle)
}

/// Each runtime's own way to be told about extra roots.
fn trust_env() -> Vec<String> {
    let bundle = format!("{TRUST_DIR}/{TRUST_BUNDLE}");
    let mut env = vec![format!("NODE_EXTRA_CA_CERTS={TRUST_DIR}/ca.pem")];
    for var in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PIP_CERT",
        "GIT_SSL_CAINFO",
        "CARGO_HTTP_CAINFO",
    ] {
        env.push(format!("{var}={bundle}"));
    }
    env
}

/// gem's source, Composer's repository and cargo's source replacement, in
/// the sandbox's home (which the sandbox can also read and change: it is
/// the package's own configuration to tamper with).
fn write_client_config(home: &Path) -> std::io::Result<()> {
    let base = paddock_netsim::proxy::base_url();
    std::fs::write(
        home.join(".gemrc"),
        format!("---\n:sources:\n- {base}/rubygems/\n:update_sources: false\n"),
    )?;
    let composer = home.join(".composer");
    std::fs::create_dir_all(&composer)?;
    std::fs::write(
        composer.join("config.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "config": {"secure-http": false, "cafile": format!("{TRUST_DIR}/{TRUST_BUNDLE}")},
            "repositories": {
                // Turns off Composer's built-in default repository.
                "packagist": false,
                "paddock": {"type": "composer", "url": format!("{base}/packagist")},
            },
        }))
        .unwrap_or_default(),
    )?;
    let cargo = home.join(".cargo");
    std::fs::create_dir_all(&cargo)?;
    std::fs::write(
        cargo.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"paddock\"\n\n[source.paddock]\nregistry = \"sparse+{base}/crates/\"\n\n[net]\nretry = 0\n"
        ),
    )?;
    Ok(())
}

/// What the simulated internet recorded during the phase: DNS (merged with
/// the names seen in the trace, which may never have reached the server),
/// sockets labelled with the names their addresses were handed out for,
/// HTTP, TLS, datagrams, connections, the packages the install fetched,
/// and baits seen in traffic.
fn add_traffic(result: &mut PhaseResult, recorder: &Recorder) {
    let captured = recorder.take();
    let traced = std::mem::take(&mut result.dns);
    let mut dns = captured.dns;
    for t in traced {
        if !dns.iter().any(|d| d.hostname == t.hostname) {
            dns.push(DnsQuery {
                answered: false,
                ..t
            });
        }
    }
    result.dns = dns;
    for socket in &mut result.sockets {
        if let Ok(addr) = socket.address.parse() {
            if let Some(name) = recorder.name_of(addr) {
                if !socket.hostnames.contains(&name) {
                    socket.hostnames.push(name);
                }
            }
        }
    }
    result.http_requests = captured.http_requests;
    result.tls = captured.tls;
    result.datagrams = captured.datagrams;
    result.connections = captured.connections;
    result.fetched_packages = captured.fetched_packages;
    for e in captured.exfiltrations {
        result.bait_accesses.push(paddock_proto::v1::BaitAccess {
            bait: e.bait,
            how: "exfiltrated".into(),
            pid: 0,
            detail: format!("{} in {}: {}", e.encoding, e.channel, e.excerpt),
        });
    }
    if captured.dropped > 0 {
        tracing::warn!(
            dropped = captured.dropped,
            "the simulated internet recorded more than it keeps"
        );
    }
}

/// One finding of the highest severity when a bait value left the sandbox
/// in its traffic.
fn exfiltration_findings(phases: &[PhaseResult]) -> Option<Finding> {
    let evidence: Vec<Evidence> = phases
        .iter()
        .flat_map(|p| {
            p.bait_accesses
                .iter()
                .filter(|a| a.how == "exfiltrated")
                .map(move |a| Evidence {
                    file: a.bait.clone(),
                    snippet: a.detail.chars().take(300).collect(),
                    phase: p.phase,
                    detail: format!("{} sent over the network", a.bait),
                    ..Default::default()
                })
        })
        .collect();
    if evidence.is_empty() {
        return None;
    }
    let mut baits: Vec<&str> = evidence.iter().map(|e| e.file.as_str()).collect();
    baits.sort_unstable();
    baits.dedup();
    Some(Finding {
        rule_id: "exfiltration.bait-in-traffic".into(),
        rule_version: env!("CARGO_PKG_VERSION").into(),
        severity: Severity::Critical as i32,
        confidence: 1.0,
        category: FindingCategory::Threat as i32,
        title: "bait credentials sent over the network".into(),
        description: format!(
            "The package sent planted secrets ({}) out of the sandbox: they appear in its network traffic. Nothing else has these values, so this is proof of credential exfiltration.",
            baits.join(", ")
        ),
        evidence,
        tags: vec!["exfiltration".into(), "credentials".into()],
        // Seen happening: as reached as a finding can be.
        reachability: Reachability::Execute as i32,
        technique: "T1552.001".into(),
    })
}

/// Threats the behaviour itself proves, whatever the release before it
/// did: a file written during the analysis and then run (download and
/// execute), and reads of credential files or baits. Read off the
/// behaviour profile the diff uses, so both agree on what counts.
fn behaviour_findings(result: &DynamicResult) -> Vec<Finding> {
    use paddock_diff::{Kind, PhaseLite};
    let profile = paddock_diff::from_dynamic(result);
    let evidence = |phase: PhaseLite, value: &str, raw: &str| Evidence {
        snippet: raw.chars().take(300).collect(),
        phase: phase.to_proto() as i32,
        detail: value.to_owned(),
        ..Default::default()
    };
    let (mut execs, mut reads) = (Vec::new(), Vec::new());
    for (key, raw) in &profile.items {
        match key.kind {
            Kind::Command
                if key
                    .value
                    .starts_with(paddock_diff::profile::EXEC_WRITTEN_FILE) =>
            {
                execs.push(evidence(key.phase, &key.value, raw))
            }
            Kind::FileRead => reads.push(evidence(key.phase, &key.value, raw)),
            _ => {}
        }
    }
    let finding = |rule_id: &str,
                   severity: Severity,
                   title: &str,
                   description: &str,
                   technique: &str,
                   evidence: Vec<Evidence>| Finding {
        rule_id: rule_id.into(),
        rule_version: env!("CARGO_PKG_VERSION").into(),
        severity: severity as i32,
        confidence: 0.9,
        category: FindingCategory::Threat as i32,
        title: title.into(),
        description: description.into(),
        evidence,
        tags: vec!["dynamic".into()],
        reachability: Reachability::Execute as i32,
        technique: technique.into(),
    };
    let mut out = Vec::new();
    if !execs.is_empty() {
        out.push(finding(
            "dynamic.download-and-execute",
            Severity::Critical,
            "runs a file it wrote during the analysis",
            "A process ran a file that the package's code had written outside the install area during the analysis: the shape of a dropper that downloads a payload and runs it.",
            "T1105",
            execs,
        ));
    }
    if !reads.is_empty() {
        // At install or import nobody asked for them; in the execute phase
        // the harness called the package's functions, and a process or
        // credential library reads these when asked (psutil's
        // `Process.environ()`): weighed with the rest there.
        let unasked = reads
            .iter()
            .any(|e| e.phase != paddock_proto::v1::Phase::Execute as i32);
        let mut f = finding(
            "dynamic.credential-read",
            if unasked { Severity::High } else { Severity::Medium },
            "reads credential files",
            "The package read files that hold credentials (SSH keys, cloud and registry tokens, browser profiles, wallets, process environments) or the planted baits. High when it did so at install or import, when nothing asked it to; medium when only the functions the execute phase called did.",
            "T1552.001",
            reads,
        );
        if !unasked {
            f.confidence = 0.6;
        }
        out.push(f);
    }
    out.extend(gated_finding(result));
    // The behaviour rules (rules/behaviour.toml): miners, shell payloads,
    // exfiltration services, secrets read and sent, recon, persistence,
    // DNS tunnels, raw IPs, install-time network…
    out.extend(paddock_diff::behaviour::builtin().findings_with_profile(result, &profile));
    out
}

#[derive(Debug)]
struct Prepared {
    work: PathBuf,
    app: PathBuf,
    home: PathBuf,
    artifact_dir: PathBuf,
    artifact_name: String,
    drivers: PathBuf,
    netns: Option<PathBuf>,
    baits: baits::Baits,
    internet: Option<InternetHost>,
    /// The analysis's TLS authority's certificate and the trust bundle
    /// with it (no key: that stays in the internet host).
    tls: Option<PathBuf>,
}

/// What the package did only in the gated rerun of its import phase (CI
/// variables set, the clock moved forward): hosts, names, commands, files
/// written and secrets read that the plain import did not show. Only code
/// that looks at where and when it runs behaves differently there.
fn gated_finding(result: &DynamicResult) -> Option<Finding> {
    use paddock_diff::{Kind, PhaseLite};
    let gated = result.phases.iter().find(|p| p.variant == GATED)?;
    let plain = result
        .phases
        .iter()
        .find(|p| p.variant.is_empty() && p.phase == gated.phase)?;
    let profile_of = |phase: &PhaseResult| {
        paddock_diff::from_dynamic(&DynamicResult {
            package: result.package.clone(),
            phases: vec![PhaseResult {
                variant: String::new(),
                ..phase.clone()
            }],
            ..Default::default()
        })
    };
    let (before, after) = (profile_of(plain), profile_of(gated));
    let evidence: Vec<Evidence> = after
        .items
        .iter()
        .filter(|(key, _)| {
            key.phase == PhaseLite::Import
                && matches!(
                    key.kind,
                    Kind::Host | Kind::DnsName | Kind::Command | Kind::FileWrite | Kind::FileRead
                )
                && !before.items.contains_key(*key)
        })
        // libfaketime's own semaphore, not the package's.
        .filter(|(_, raw)| !raw.starts_with("/dev/shm/sem."))
        .take(20)
        .map(|(key, raw)| Evidence {
            snippet: raw.chars().take(300).collect(),
            phase: gated.phase,
            detail: format!("{} {} only with CI variables and the clock {GATED_CLOCK_OFFSET}", key.kind.token(), key.value),
            ..Default::default()
        })
        .collect();
    if evidence.is_empty() {
        return None;
    }
    Some(Finding {
        rule_id: "dynamic.environment-gated".into(),
        rule_version: env!("CARGO_PKG_VERSION").into(),
        severity: Severity::Medium as i32,
        confidence: 0.7,
        category: FindingCategory::Threat as i32,
        title: "behaves differently in CI or later in time".into(),
        description: format!(
            "Run a second time with the variables CI systems set (CI, GITHUB_ACTIONS, GITLAB_CI, JENKINS_URL…) and the clock {GATED_CLOCK_OFFSET}, the import did things the plain import did not: code that checks where or when it runs before it acts, the way payloads hide from scanners or wait for a CI job's secrets."
        ),
        evidence,
        tags: vec!["dynamic".into(), "anti-analysis".into()],
        reachability: Reachability::Execute as i32,
        technique: "T1497".into(),
    })
}

/// Removes an analysis's containers, namespace, mount and work directory
/// when dropped: at the end of an analysis, and also when the analysis's
/// future is dropped half-way (shutdown, a cancelled task).
#[derive(Debug)]
struct Cleanup {
    runsc: PathBuf,
    state_dir: PathBuf,
    containers: Vec<String>,
    netns: Vec<String>,
    mount: Option<PathBuf>,
    work: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        use std::process::{Command, Stdio};
        for id in &self.containers {
            for args in [
                vec!["kill", id.as_str(), "KILL"],
                vec!["delete", "--force", id.as_str()],
            ] {
                let _ = Command::new(&self.runsc)
                    .arg("--root")
                    .arg(&self.state_dir)
                    .args(args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        for ns in &self.netns {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mount) = &self.mount {
            unmount(mount);
        }
        if let Some(work) = &self.work {
            let _ = std::fs::remove_dir_all(work);
        }
    }
}

/// Mounts a tmpfs of `bytes` on `dir`; the error is `mount`'s own message.
fn mount_tmpfs(dir: &Path, bytes: u64) -> Result<(), String> {
    // tmpfs reads `size=0` as "no limit".
    if bytes == 0 {
        return Err("dynamic.writable_bytes is 0, which tmpfs reads as no limit".into());
    }
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o"])
        .arg(format!("size={bytes},mode=0755,nosuid,nodev"))
        .arg("paddock-dynamic")
        .arg(dir)
        .output()
        .map_err(|e| format!("running mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "mount exited with {}: {}",
            out.status,
            stderr.split_whitespace().collect::<Vec<_>>().join(" ")
        ))
    }
}

fn unmount(dir: &Path) {
    let _ = std::process::Command::new("umount")
        .arg("--lazy")
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status();
}

/// Mount points (from /proc/self/mountinfo) that start with `prefix`.
fn mounts_under(prefix: &str) -> Vec<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out: Vec<String> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    // Deepest first.
    out.sort_by_key(|m| std::cmp::Reverse(m.len()));
    out.dedup();
    out
}

fn image_digest(config: &ImageConfig) -> String {
    match &config.rootfs {
        Some(path) => format!("rootfs:{}", path.display()),
        None => format!("mmdebstrap:{}:{}", image::SUITE, image::image_hash()),
    }
}

fn now() -> Timestamp {
    let now = chrono::Utc::now();
    Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
    use paddock_proto::v1::{Command, DynamicResult, FileEvent, FileOp, Phase, PhaseResult};

    fn event(seq: u64, op: FileOp, path: &str) -> FileEvent {
        FileEvent {
            seq,
            pid: 30,
            op: op as i32,
            path: path.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_dropper_and_a_key_reader_are_threats_whatever_came_before() {
        let install = PhaseResult {
            phase: Phase::Install as i32,
            file_events: vec![
                event(1, FileOp::Create, "/root/.cache/.sysupdate"),
                event(2, FileOp::OpenRead, "/root/.ssh/id_rsa"),
            ],
            commands: vec![Command {
                seq: 3,
                pid: 31,
                parent_pid: 30,
                argv: vec!["/root/.cache/.sysupdate".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let result = DynamicResult {
            phases: vec![install],
            ..Default::default()
        };
        let found: Vec<String> = super::behaviour_findings(&result)
            .into_iter()
            .map(|f| f.rule_id)
            .collect();
        assert_eq!(
            found,
            ["dynamic.download-and-execute", "dynamic.credential-read"]
        );
        // An install that runs what npm put in node_modules is not one.
        let honest = DynamicResult {
            phases: vec![PhaseResult {
                phase: Phase::Install as i32,
                file_events: vec![event(1, FileOp::Create, "/app/node_modules/.bin/esbuild")],
                commands: vec![Command {
                    seq: 2,
                    pid: 31,
                    argv: vec!["/app/node_modules/.bin/esbuild".into(), "--version".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(super::behaviour_findings(&honest).is_empty());
    }

    #[test]
    fn a_credential_read_only_when_the_harness_called_a_function_weighs_less() {
        use paddock_proto::v1::Severity;
        let read = |phase: Phase| DynamicResult {
            phases: vec![PhaseResult {
                phase: phase as i32,
                file_events: vec![event(1, FileOp::OpenRead, "/proc/1/environ")],
                ..Default::default()
            }],
            ..Default::default()
        };
        let severity = |r: &DynamicResult| {
            super::behaviour_findings(r)
                .into_iter()
                .find(|f| f.rule_id == "dynamic.credential-read")
                .map(|f| (f.severity(), f.confidence))
        };
        assert_eq!(severity(&read(Phase::Import)), Some((Severity::High, 0.9)));
        assert_eq!(
            severity(&read(Phase::Execute)),
            Some((Severity::Medium, 0.6))
        );
    }
}
