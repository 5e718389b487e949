//! The gVisor sandbox: OCI bundles that Paddock writes, `runsc` runs with
//! strace on, a wall-clock timeout that actually fires, resource limits,
//! and clean-up that leaves no container behind.
//!
//! # Layout
//!
//! - [`SandboxConfig`]: the runtime, platform, network mode and limits.
//! - [`RunSpec`]: one command in one rootfs (with extra mounts and a clean
//!   environment: nothing from the host leaks in).
//! - [`Sandbox::run`]: writes the bundle, runs it, returns a [`RunOutcome`]
//!   with the exit status (or the timeout), output tails and the parsed
//!   trace.
//!
//! The network: [`NetworkMode::None`] gives the sandbox no interface but
//! loopback; [`NetworkMode::Host`] runs `--network=host` inside a network
//! namespace that Paddock creates per analysis ([`netns`]), wired by a
//! [`netns::NetworkHook`] (gVisor's own `sandbox` mode refuses to start on
//! recent kernels with the 2022 release). Either way every connection
//! attempt is recorded by the trace.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

pub mod netns;
mod session;

pub use session::Session;

/// How the sandbox reaches the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkMode {
    /// No network at all (`--network=none`): attempts fail and are traced.
    #[default]
    None,
    /// gVisor's user-space network stack (`--network=sandbox`), for current
    /// gVisor releases.
    Sandbox,
    /// `--network=host` inside a network namespace that Paddock made for
    /// the analysis ([`RunSpec::netns`]); never the host's own.
    Host,
}

impl NetworkMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            NetworkMode::None => "none",
            NetworkMode::Sandbox => "sandbox",
            NetworkMode::Host => "host",
        }
    }
}

/// The runtime and its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// The `runsc` binary.
    pub runsc: PathBuf,
    /// `ptrace` works everywhere; `systrap`/`kvm` where supported.
    pub platform: String,
    pub network: NetworkMode,
    /// Where runsc keeps container state (cleaned of Paddock's containers
    /// on start).
    pub state_dir: PathBuf,
    pub memory_bytes: u64,
    pub pids: u64,
    /// CPU quota in cores.
    pub cpus: f64,
    /// Bytes of each stream kept (the reference keeps 4 KiB).
    pub output_tail_bytes: usize,
    /// Syscalls traced: by default those the trace parser reads
    /// ([`paddock_trace::SYSCALLS`]); empty traces every call, which
    /// costs about a tenth more time and makes logs several times larger
    /// for nothing the analysis uses.
    pub strace_syscalls: Vec<String>,
    /// Trace system calls (off only to measure what tracing costs).
    pub strace: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            runsc: PathBuf::from("runsc"),
            platform: "ptrace".into(),
            network: NetworkMode::None,
            state_dir: PathBuf::from("/tmp/paddock-runsc"),
            memory_bytes: 2 << 30,
            pids: 512,
            cpus: 1.0,
            output_tail_bytes: 4096,
            strace_syscalls: paddock_trace::SYSCALLS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            strace: true,
        }
    }
}

/// One command to run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The root filesystem (mounted read-only).
    pub rootfs: PathBuf,
    pub args: Vec<String>,
    /// The whole environment of the sandboxed process.
    pub env: Vec<String>,
    pub cwd: String,
    /// Writable tmpfs mounts (such as `/tmp`, `/root`, `/app`).
    pub tmpfs: Vec<String>,
    /// Host directories bound read-only: (host path, sandbox path).
    pub read_only_binds: Vec<(PathBuf, String)>,
    /// Host directories bound read-write (the analysis's own work area).
    pub read_write_binds: Vec<(PathBuf, String)>,
    pub timeout: Duration,
    /// A unique id for the container (`paddock-…`).
    pub id: String,
    /// The network namespace to start runsc in; required by
    /// [`NetworkMode::Host`].
    pub netns: Option<PathBuf>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// The timeout fired and the container was killed.
    Timeout,
    /// runsc itself failed; the text says why.
    RuntimeError(String),
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub exit: Exit,
    pub duration: Duration,
    pub usage: Usage,
    pub stdout_tail: Vec<u8>,
    pub stderr_tail: Vec<u8>,
    pub trace: paddock_trace::Trace,
}

/// What the container used, sampled from its cgroups while it ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub max_memory_bytes: u64,
    pub cpu_seconds: f64,
    pub max_pids: u64,
    /// The memory limit failed an allocation at least once (an OOM; not
    /// mere reclaim at the limit).
    pub memory_limit_hit: bool,
    /// A fork was refused because of the pids limit.
    pub pids_limit_hit: bool,
}

/// Why the sandbox could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("runsc was not found at `{0}`; install gVisor (Debian package `runsc`) or set sandbox.runsc")]
    RunscMissing(String),
    #[error("network namespace: {0}")]
    Network(String),
    #[error("network mode `host` needs a network namespace made by Paddock; refusing to give the sandbox the host's network")]
    HostNetworkWithoutNamespace,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// The sandbox runtime.
#[derive(Debug, Clone)]
pub struct Sandbox {
    config: SandboxConfig,
}

impl Sandbox {
    /// Checks that runsc runs.
    pub async fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let version = Command::new(&config.runsc).arg("--version").output().await;
        match version {
            Ok(out) if out.status.success() => {}
            _ => {
                return Err(SandboxError::RunscMissing(
                    config.runsc.display().to_string(),
                ))
            }
        }
        std::fs::create_dir_all(&config.state_dir).map_err(|source| SandboxError::Io {
            what: format!("creating {}", config.state_dir.display()),
            source,
        })?;
        Ok(Self { config })
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Writes `spec`'s OCI bundle (`work/bundle/config.json`) and makes its
    /// log directory (`work/logs`); returns both paths.
    pub(crate) fn write_bundle(
        &self,
        spec: &RunSpec,
        work: &Path,
    ) -> Result<(PathBuf, PathBuf), SandboxError> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| SandboxError::Io { what, source }
        };
        let bundle = work.join("bundle");
        let logs = work.join("logs");
        std::fs::create_dir_all(&bundle).map_err(io("creating the bundle directory"))?;
        std::fs::create_dir_all(&logs).map_err(io("creating the log directory"))?;
        let config = oci_config(spec, &self.config);
        std::fs::write(
            bundle.join("config.json"),
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .map_err(io("writing config.json"))?;
        Ok((bundle, logs))
    }

    /// Runs `spec` in a fresh container under `work` (bundle, logs).
    pub async fn run(&self, spec: &RunSpec, work: &Path) -> Result<RunOutcome, SandboxError> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| SandboxError::Io { what, source }
        };
        let (bundle, logs) = self.write_bundle(spec, work)?;

        let mut cmd = self.boot_command(spec, &logs)?;
        cmd.arg("run").arg("--bundle").arg(&bundle).arg(&spec.id);
        cmd.env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);

        let started = Instant::now();
        let mut child = cmd.spawn().map_err(io("starting runsc"))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let tail = self.config.output_tail_bytes;
        let out_task = tokio::spawn(async move { read_tail(&mut stdout, tail).await });
        let err_task = tokio::spawn(async move { read_tail(&mut stderr, tail).await });

        let sampled = std::sync::Arc::new(std::sync::Mutex::new(Usage::default()));
        let sampler = tokio::spawn(sample_cgroups(cgroup_path(&spec.id), sampled.clone()));
        let exit = match tokio::time::timeout(spec.timeout, child.wait()).await {
            Ok(Ok(status)) => match status.code() {
                Some(code) => Exit::Code(code),
                None => Exit::RuntimeError(format!("runsc ended by a signal: {status}")),
            },
            Ok(Err(e)) => Exit::RuntimeError(format!("waiting for runsc: {e}")),
            Err(_) => {
                self.destroy(&spec.id).await;
                let _ = child.kill().await;
                Exit::Timeout
            }
        };
        let duration = started.elapsed();
        sampler.abort();
        let usage = sampled
            .lock()
            .expect("not poisoned")
            .clone()
            .or_last(&cgroup_path(&spec.id));
        // Whatever happened, the container goes.
        self.destroy(&spec.id).await;
        let stdout_tail = out_task.await.unwrap_or_default();
        let stderr_tail = err_task.await.unwrap_or_default();
        let mut trace = read_trace(&logs);
        name_the_first_process(&mut trace, spec);
        Ok(RunOutcome {
            exit,
            duration,
            usage,
            stdout_tail,
            stderr_tail,
            trace,
        })
    }

    /// `runsc` with the global flags that boot a sandbox for `spec`: in its
    /// network namespace, on the platform, with strace into `logs`.
    fn boot_command(&self, spec: &RunSpec, logs: &Path) -> Result<Command, SandboxError> {
        // In host mode the sandbox joins the namespace Paddock made, named
        // in the OCI spec ([`oci_config`]); runsc itself starts in the
        // host's, where it needs nothing. (Starting runsc inside the
        // namespace with nsenter instead stops a detached sandbox as soon as
        // runsc exits.)
        if self.config.network == NetworkMode::Host && spec.netns.is_none() {
            return Err(SandboxError::HostNetworkWithoutNamespace);
        }
        let mut cmd = Command::new(&self.config.runsc);
        cmd.arg("--root")
            .arg(&self.config.state_dir)
            .arg(format!("--platform={}", self.config.platform))
            .arg(format!("--network={}", self.config.network.as_str()));
        if self.config.strace {
            cmd.arg("--strace")
                .arg("--debug")
                .arg(format!("--debug-log={}/", logs.display()));
        }
        if self.config.strace && !self.config.strace_syscalls.is_empty() {
            cmd.arg(format!(
                "--strace-syscalls={}",
                self.config.strace_syscalls.join(",")
            ));
        }
        Ok(cmd)
    }

    /// Kills and deletes a container, ignoring "not found".
    pub async fn destroy(&self, id: &str) {
        let runsc = |args: &[&str]| {
            let mut c = Command::new(&self.config.runsc);
            c.arg("--root")
                .arg(&self.config.state_dir)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        };
        let _ = runsc(&["kill", id, "KILL"]).status().await;
        let _ = runsc(&["delete", "--force", id]).status().await;
    }

    /// Containers left by a previous worker that died: deleted. Returns
    /// their ids.
    pub async fn clean_up_leftovers(&self, prefix: &str) -> Vec<String> {
        let out = Command::new(&self.config.runsc)
            .arg("--root")
            .arg(&self.config.state_dir)
            .args(["list", "--quiet"])
            .output()
            .await;
        let Ok(out) = out else { return Vec::new() };
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|id| id.starts_with(prefix))
            .map(str::to_owned)
            .collect();
        for id in &ids {
            self.destroy(id).await;
        }
        ids
    }
}

async fn read_tail(reader: &mut (impl AsyncReadExt + Unpin), keep: usize) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > keep * 2 {
                    let cut = tail.len() - keep;
                    tail.drain(..cut);
                }
            }
        }
    }
    if tail.len() > keep {
        let cut = tail.len() - keep;
        tail.drain(..cut);
    }
    tail
}

/// The sandbox's (boot) log in `logs`, with the strace lines.
pub(crate) fn boot_log(logs: &Path) -> Option<PathBuf> {
    std::fs::read_dir(logs)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".boot"))
        })
}

/// Parses the boot log(s) in `logs`.
fn read_trace(logs: &Path) -> paddock_trace::Trace {
    let mut combined = paddock_trace::Trace::default();
    let Ok(entries) = std::fs::read_dir(logs) else {
        return combined;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.contains(".boot") {
            continue;
        }
        if let Ok(file) = std::fs::File::open(entry.path()) {
            combined = paddock_trace::parse_log(
                std::io::BufReader::new(file),
                paddock_trace::TraceLimits::default(),
            );
        }
    }
    combined
}

/// The OCI runtime configuration for `spec`.
pub fn oci_config(spec: &RunSpec, config: &SandboxConfig) -> serde_json::Value {
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}),
    ];
    for dest in &spec.tmpfs {
        mounts.push(json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}));
    }
    for (host, dest) in &spec.read_only_binds {
        mounts.push(json!({"destination": dest, "type": "bind", "source": host, "options": ["rbind", "ro"]}));
    }
    for (host, dest) in &spec.read_write_binds {
        mounts.push(json!({"destination": dest, "type": "bind", "source": host, "options": ["rbind", "rw"]}));
    }
    let quota = (config.cpus * 100_000.0).round() as i64;
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    // In host mode the sandbox joins the namespace Paddock made for it;
    // otherwise it gets a fresh, empty one.
    match (&config.network, &spec.netns) {
        (NetworkMode::Host, Some(ns)) => {
            namespaces.push(json!({"type": "network", "path": ns}));
        }
        _ => namespaces.push(json!({"type": "network"})),
    }
    json!({
        "ociVersion": "1.0.0",
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": spec.args,
            "env": spec.env,
            "cwd": spec.cwd,
            "terminal": false,
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}],
        },
        "root": {"path": spec.rootfs, "readonly": true},
        // A random-looking host name: malware that checks for a sandbox's
        // name learns nothing.
        "hostname": format!("host-{}", &spec.id.chars().rev().take(8).collect::<String>()),
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces,
            "cgroupsPath": cgroup_path(&spec.id),
            "resources": {
                "memory": {"limit": config.memory_bytes},
                "pids": {"limit": config.pids},
                "cpu": {"quota": quota, "period": 100_000},
            },
        },
    })
}

/// The container's cgroup, relative to each controller's root.
fn cgroup_path(id: &str) -> String {
    format!("/paddock/{id}")
}

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The cgroup's readings as they stand.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawUsage {
    pub(crate) memory_peak: u64,
    /// Whether `memory_peak` can be reset (cgroup v1), so that it covers
    /// one command of a [`Session`].
    pub(crate) peak_resettable: bool,
    pub(crate) memory_current: u64,
    pub(crate) cpu_seconds: f64,
    pub(crate) pids_current: u64,
    /// Allocations the memory limit failed.
    pub(crate) memory_failures: u64,
    /// Forks the pids limit refused.
    pub(crate) pids_refused: u64,
}

pub(crate) fn read_usage_raw(cgroup: &str) -> Option<RawUsage> {
    let rel = cgroup.trim_start_matches('/');
    let count = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let v1 = Path::new(CGROUP_ROOT).join("memory").join(rel);
    if v1.is_dir() {
        let cpu = Path::new(CGROUP_ROOT).join("cpuacct").join(rel);
        let pids = Path::new(CGROUP_ROOT).join("pids").join(rel);
        let pid_events = std::fs::read_to_string(pids.join("pids.events")).unwrap_or_default();
        return Some(RawUsage {
            memory_peak: read_u64(&v1.join("memory.max_usage_in_bytes")).unwrap_or(0),
            peak_resettable: true,
            memory_current: read_u64(&v1.join("memory.usage_in_bytes")).unwrap_or(0),
            cpu_seconds: read_u64(&cpu.join("cpuacct.usage")).unwrap_or(0) as f64 / 1e9,
            pids_current: read_u64(&pids.join("pids.current")).unwrap_or(0),
            memory_failures: read_u64(&v1.join("memory.failcnt")).unwrap_or(0),
            pids_refused: count(&pid_events, "max "),
        });
    }
    // cgroup v2: one directory for every controller.
    let v2 = Path::new(CGROUP_ROOT).join(rel);
    if !v2.is_dir() {
        return None;
    }
    let events = std::fs::read_to_string(v2.join("memory.events")).unwrap_or_default();
    let cpu = std::fs::read_to_string(v2.join("cpu.stat")).unwrap_or_default();
    let pid_events = std::fs::read_to_string(v2.join("pids.events")).unwrap_or_default();
    Some(RawUsage {
        memory_peak: read_u64(&v2.join("memory.peak")).unwrap_or(0),
        peak_resettable: false,
        memory_current: read_u64(&v2.join("memory.current")).unwrap_or(0),
        cpu_seconds: count(&cpu, "usage_usec ") as f64 / 1e6,
        pids_current: read_u64(&v2.join("pids.current")).unwrap_or(0),
        // `max` counts reclaim at the limit (a compiler under pressure
        // reaches it and carries on); `oom` is the limit failing an
        // allocation: exhaustion.
        memory_failures: count(&events, "oom ") + count(&events, "oom_kill "),
        pids_refused: count(&pid_events, "max "),
    })
}

/// Resets the memory peak where the kernel allows it (cgroup v1), so that
/// the next reading covers what ran since.
pub(crate) fn reset_memory_peak(cgroup: &str) {
    let v1 = Path::new(CGROUP_ROOT)
        .join("memory")
        .join(cgroup.trim_start_matches('/'));
    let _ = std::fs::write(v1.join("memory.max_usage_in_bytes"), "0");
}

fn read_usage(cgroup: &str) -> Option<Usage> {
    read_usage_raw(cgroup).map(|r| Usage {
        max_memory_bytes: r.memory_peak,
        cpu_seconds: r.cpu_seconds,
        max_pids: r.pids_current,
        memory_limit_hit: r.memory_failures > 0,
        pids_limit_hit: r.pids_refused > 0,
    })
}

impl Usage {
    fn merge(&mut self, other: Usage) {
        self.max_memory_bytes = self.max_memory_bytes.max(other.max_memory_bytes);
        self.cpu_seconds = self.cpu_seconds.max(other.cpu_seconds);
        self.max_pids = self.max_pids.max(other.max_pids);
        self.memory_limit_hit |= other.memory_limit_hit;
        self.pids_limit_hit |= other.pids_limit_hit;
    }

    /// One last reading, if the cgroup is still there.
    fn or_last(mut self, cgroup: &str) -> Usage {
        if let Some(u) = read_usage(cgroup) {
            self.merge(u);
        }
        self
    }
}

/// Reads the container's cgroups every 200 ms until aborted, keeping the
/// peaks in `into`: runsc removes the cgroup as the container ends, so a
/// reading after the fact would find nothing.
async fn sample_cgroups(cgroup: String, into: std::sync::Arc<std::sync::Mutex<Usage>>) {
    loop {
        if let Some(u) = read_usage(&cgroup) {
            into.lock().expect("not poisoned").merge(u);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// runsc starts the container's first process itself, so the trace never
/// sees its execve: it gets the spec's command line.
fn name_the_first_process(trace: &mut paddock_trace::Trace, spec: &RunSpec) {
    name_process(trace, 1, &spec.args, &spec.env, &spec.cwd);
}

/// Gives `pid`, a process runsc started (no execve in the trace), its
/// command line, and its command as the first of the trace's.
pub(crate) fn name_process(
    trace: &mut paddock_trace::Trace,
    pid: u32,
    args: &[String],
    env: &[String],
    cwd: &str,
) {
    if let Some(p) = trace.processes.iter_mut().find(|p| p.pid == pid) {
        if p.argv.len() <= 1 {
            p.argv = args.to_vec();
            p.executable = args.first().cloned().unwrap_or_default();
        }
    }
    if !trace.commands.iter().any(|c| c.pid == pid) {
        trace.commands.insert(
            0,
            paddock_proto::v1::Command {
                seq: 0,
                pid,
                parent_pid: 0,
                argv: args.to_vec(),
                env: env.to_vec(),
                cwd: cwd.to_owned(),
                result: 0,
            },
        );
    }
}
