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

use paddock_netsim::{InternetHost, Proxy, Recorder};
use paddock_proto::v1::Ecosystem;
use paddock_proto::v1::{
    AnalysisStatus, DynamicResult, PackageRef, Phase, PhaseResult, SandboxInfo,
};
use paddock_proto::well_known::Timestamp;
use paddock_registry::RegistriesConfig;
use paddock_sandbox::netns::{Blackhole, Netns, NetworkHook};
use paddock_sandbox::{NetworkMode, Sandbox};

pub mod baits;
pub mod image;
pub mod report;

pub use image::ImageConfig;

mod cleanup;
mod client_config;
mod config;
mod findings;
mod phases;
mod traffic;

pub use cleanup::Leftovers;
use cleanup::{mount_tmpfs, mounts_under, unmount, Cleanup};
use client_config::{write_client_config, write_trust};
pub use config::*;
use findings::{behaviour_findings, exfiltration_findings};

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
        let (work_dir, removed) = (self.config.work_dir.clone(), prefix.clone());
        let (mounts, directories) = tokio::task::spawn_blocking(move || {
            let mut mounts = Vec::new();
            for mount in mounts_under(&work_dir.join(&removed).to_string_lossy()) {
                unmount(Path::new(&mount));
                mounts.push(mount);
            }
            let mut directories = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&work_dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with(&removed) {
                        let _ = std::fs::remove_dir_all(e.path());
                        directories.push(name);
                    }
                }
            }
            (mounts, directories)
        })
        .await
        .unwrap_or_default();
        found.mounts = mounts;
        found.directories = directories;
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
        let mut cleanup = Cleanup::new(
            self.config.sandbox.runsc.clone(),
            self.config.sandbox.state_dir.clone(),
        );
        match self.prepare(&id, artifact, &mut cleanup).await {
            Ok(prepared) => {
                let container = format!("{id}-s");
                cleanup.containers.push(container.clone());
                let mut session = self
                    .start_session(&prepared, &container)
                    .await
                    .map_err(|e| e.to_string());
                let mut previous_completed = true;
                for phase in self.config.phases.iter().copied() {
                    if !previous_completed {
                        result.phases.push(PhaseResult {
                            phase: phase.proto() as i32,
                            status: AnalysisStatus::Skipped as i32,
                            status_detail: "an earlier phase did not complete".into(),
                            ..Default::default()
                        });
                        continue;
                    }
                    let phase_result = self
                        .run_phase(
                            package,
                            phase,
                            &prepared,
                            session.as_mut().map_err(|e| e.as_str()),
                            false,
                        )
                        .await;
                    previous_completed = phase_result.status == AnalysisStatus::Completed as i32;
                    result.phases.push(phase_result);
                    if phase == PhaseName::Import
                        && previous_completed
                        && self.config.gated_rerun
                        && package.ecosystem() != Ecosystem::CratesIo
                    {
                        let gated = self
                            .run_phase(
                                package,
                                phase,
                                &prepared,
                                session.as_mut().map_err(|e| e.as_str()),
                                true,
                            )
                            .await;
                        result.phases.push(gated);
                    }
                }
                if let Ok(session) = session {
                    if let Some(keep) = &self.config.keep_logs {
                        let _ = tokio::fs::create_dir_all(keep).await;
                        let _ = tokio::process::Command::new("cp")
                            .arg("-r")
                            .arg(session.logs())
                            .arg(keep.join(&id))
                            .status()
                            .await;
                    }
                    session.stop().await;
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
        cleanup.finish().await;
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
        // Set first: the clean-up removes whatever part was made (unmounting
        // a directory that was never mounted does nothing).
        cleanup.work = Some(work.clone());
        cleanup.mount = Some(work.join("rw"));
        let layout = {
            let (work, artifact, bytes) = (
                work.clone(),
                artifact.to_owned(),
                self.config.writable_bytes,
            );
            tokio::task::spawn_blocking(move || lay_out(&work, &artifact, bytes))
                .await
                .map_err(|e| format!("laying out the work directory: {e}"))??
        };

        let mut internet = None;
        let netns = if self.config.sandbox.network == NetworkMode::Host {
            let ns = Netns::create(id).await.map_err(|e| e.to_string())?;
            let path = ns.path();
            cleanup.netns.push(ns.name().to_owned());
            if self.config.internet.enabled {
                // The internet host's namespace is named after the
                // sandbox's, so the clean-up finds both.
                cleanup.netns.push(format!("{}-net", ns.name()));
                let recorder = Arc::new(Recorder::new(layout.baits.detector()));
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
            let (home, dir, rootfs, ca) = (
                layout.home.clone(),
                work.join("tls"),
                self.rootfs.clone(),
                host.ca_pem().to_owned(),
            );
            tls = Some(
                tokio::task::spawn_blocking(move || {
                    write_client_config(&home)
                        .map_err(|e| format!("configuring the package managers: {e}"))?;
                    write_trust(&dir, &rootfs, &ca)
                        .map_err(|e| format!("writing the TLS trust bundle: {e}"))?;
                    Ok::<_, String>(dir)
                })
                .await
                .map_err(|e| format!("configuring the sandbox's clients: {e}"))??,
            );
        }
        Ok(Prepared {
            work,
            layout,
            netns,
            internet,
            tls,
        })
    }
}

#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) work: PathBuf,
    pub(crate) layout: Layout,
    pub(crate) netns: Option<PathBuf>,
    pub(crate) internet: Option<InternetHost>,
    /// The analysis's TLS authority's certificate and the trust bundle
    /// with it (no key: that stays in the internet host).
    pub(crate) tls: Option<PathBuf>,
}

/// The work directory of one analysis, laid out on disk: where each of
/// the sandbox's directories comes from.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The install area ([`paddock_proto::sandbox::INSTALL_DIR`]).
    pub(crate) app: PathBuf,
    /// The home ([`paddock_proto::sandbox::HOME_DIR`]), baits planted.
    pub(crate) home: PathBuf,
    /// What is mounted at [`paddock_proto::sandbox::ARTIFACT_DIR`].
    pub(crate) artifact_dir: PathBuf,
    /// The artifact's file name in it.
    pub(crate) filename: String,
    /// What is mounted at [`paddock_proto::sandbox::DRIVER_DIR`].
    pub(crate) drivers: PathBuf,
    pub(crate) baits: baits::Baits,
}

/// Lays out `work`: the size-limited tmpfs with `/app` and `/root` (the
/// baits planted), the artifact and the drivers. Blocking: run it off the
/// runtime.
fn lay_out(work: &Path, artifact: &Path, writable_bytes: u64) -> Result<Layout, String> {
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: std::io::Error| format!("{what}: {e}")
    };
    std::fs::create_dir_all(work).map_err(err("creating the work directory"))?;
    let rw = work.join("rw");
    std::fs::create_dir_all(&rw).map_err(err("creating the writable area"))?;
    // Fail closed: without its size limit the sandbox could fill the
    // host's disk, so nothing runs.
    mount_tmpfs(&rw, writable_bytes).map_err(|e| {
        format!(
            "mounting the size-limited tmpfs for the sandbox's writable area at {}: {e}; \
             nothing was run (dynamic analysis needs root, or CAP_SYS_ADMIN, to bound the sandbox's disk use)",
            rw.display()
        )
    })?;
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
    Ok(Layout {
        app,
        home,
        artifact_dir,
        filename,
        drivers,
        baits,
    })
}

pub(crate) fn image_digest(config: &ImageConfig) -> String {
    match &config.rootfs {
        Some(path) => format!("rootfs:{}", path.display()),
        None => format!("mmdebstrap:{}:{}", image::SUITE, image::image_hash()),
    }
}

pub(crate) fn now() -> Timestamp {
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
