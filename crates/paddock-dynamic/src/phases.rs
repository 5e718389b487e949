//! The analysis's sandbox, and one phase: a command in it, its timeout
//! and its part of the trace turned into a [`PhaseResult`].

use std::time::Duration;

use paddock_proto::sandbox::{mount_point, ARTIFACT_DIR, DRIVER_DIR, HOME_DIR, INSTALL_DIR};
use paddock_proto::v1::{AnalysisStatus, PackageRef, PhaseResult, ResourceUsage};
use paddock_proto::well_known::Duration as ProtoDuration;
use paddock_sandbox::{Exit, RunSpec, Session};

use crate::client_config::{proxy_env, trust_env, SYSTEM_BUNDLE, TRUST_BUNDLE, TRUST_DIR};
use crate::traffic::add_traffic;
use crate::{driver, gated_env, now, DynamicAnalyzer, PhaseName, Prepared, GATED};

impl DynamicAnalyzer {
    /// Boots the analysis's sandbox: its mounts, limits and network, with
    /// an idle first process; the phases run in it in turn.
    pub(crate) async fn start_session(
        &self,
        p: &Prepared,
        container: &str,
    ) -> Result<Session, paddock_sandbox::SandboxError> {
        let mut read_only_binds = vec![
            (p.layout.drivers.clone(), mount_point(DRIVER_DIR).into()),
            (
                p.layout.artifact_dir.clone(),
                mount_point(ARTIFACT_DIR).into(),
            ),
        ];
        if let Some(dir) = &p.tls {
            read_only_binds.push((dir.clone(), TRUST_DIR.into()));
            read_only_binds.push((dir.join(TRUST_BUNDLE), SYSTEM_BUNDLE.into()));
        }
        // The idle first process outlives every phase (the gated rerun is a
        // second import) and nothing more: a sandbox left behind by a worker
        // killed mid-analysis ends on its own.
        let lifetime = self
            .config
            .phases
            .iter()
            .map(|phase| self.config.timeout(*phase))
            .sum::<Duration>()
            + self.config.import_timeout
            + Duration::from_secs(120);
        let spec = RunSpec {
            rootfs: self.rootfs.clone(),
            args: vec!["/bin/sleep".into(), lifetime.as_secs().to_string()],
            env: vec!["PATH=/usr/bin:/bin".into()],
            cwd: mount_point(INSTALL_DIR).into(),
            tmpfs: vec!["/tmp".into()],
            read_only_binds,
            read_write_binds: vec![
                (p.layout.app.clone(), mount_point(INSTALL_DIR).into()),
                (p.layout.home.clone(), mount_point(HOME_DIR).into()),
            ],
            timeout: Duration::MAX,
            id: container.to_owned(),
            netns: p.netns.clone(),
        };
        self.sandbox.start(&spec, &p.work.join(container)).await
    }

    pub(crate) async fn run_phase(
        &self,
        package: &PackageRef,
        phase: PhaseName,
        p: &Prepared,
        session: Result<&mut Session, &str>,
        gated: bool,
    ) -> PhaseResult {
        let (interpreter, driver) = driver(package.ecosystem());
        let mut env = vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            format!("HOME={}", mount_point(HOME_DIR)),
            "USER=root".into(),
            "LANG=C.UTF-8".into(),
            format!("PADDOCK_APP={}", mount_point(INSTALL_DIR)),
            format!(
                "PADDOCK_CALL_TIMEOUT={}",
                self.config.call_timeout.as_secs().max(1)
            ),
            format!("PYTHONUSERBASE={INSTALL_DIR}python"),
            "PIP_NO_WARN_SCRIPT_LOCATION=1".into(),
            format!("NODE_PATH={INSTALL_DIR}node_modules"),
            format!("npm_config_cache={HOME_DIR}.npm"),
            "npm_config_update_notifier=false".into(),
            "npm_config_fetch_retries=0".into(),
            format!("GEM_HOME={INSTALL_DIR}gems"),
            format!("COMPOSER_HOME={HOME_DIR}.composer"),
            "COMPOSER_ALLOW_SUPERUSER=1".into(),
            "COMPOSER_NO_INTERACTION=1".into(),
            format!("CARGO_HOME={HOME_DIR}.cargo"),
            "CARGO_NET_RETRY=0".into(),
            "CARGO_TERM_COLOR=never".into(),
        ];
        if p.internet.is_some() {
            env.extend(proxy_env());
        }
        if p.tls.is_some() {
            env.extend(trust_env());
        }
        env.extend(p.layout.baits.env_entries());
        if gated {
            env.extend(gated_env());
        }
        let args = vec![
            interpreter.to_owned(),
            format!("{DRIVER_DIR}{driver}"),
            phase.as_str().to_owned(),
            package.name.clone(),
            package.version.clone(),
            format!("{ARTIFACT_DIR}{}", p.layout.filename),
        ];
        let timeout = self.config.timeout(phase);
        let started_at = now();
        let span = tracing::info_span!("phase", phase = phase.as_str(), %package);
        let outcome = match session {
            Ok(session) => {
                tracing::Instrument::instrument(session.exec(&args, &env, timeout), span).await
            }
            Err(why) => Err(paddock_sandbox::SandboxError::Io {
                what: "the sandbox did not start".into(),
                source: std::io::Error::other(why.to_owned()),
            }),
        };
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
                    timeout.as_secs()
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
        result.bait_accesses = p.layout.baits.accesses(t);
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
