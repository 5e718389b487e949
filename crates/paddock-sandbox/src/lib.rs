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
//! The network hook: [`NetworkMode::None`] gives the sandbox no interface
//! but loopback, so every connection attempt fails fast and is still
//! recorded by the trace; a later mode runs `--network=host` inside a
//! network namespace that Paddock creates (gVisor's own `sandbox` mode
//! refuses to start on recent kernels with the 2022 release).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

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
    /// Syscalls traced (empty: all).
    pub strace_syscalls: Vec<String>,
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
            strace_syscalls: Vec::new(),
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
    pub stdout_tail: Vec<u8>,
    pub stderr_tail: Vec<u8>,
    pub trace: paddock_trace::Trace,
}

/// Why the sandbox could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("runsc was not found at `{0}`; install gVisor (Debian package `runsc`) or set sandbox.runsc")]
    RunscMissing(String),
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

    /// Runs `spec` in a fresh container under `work` (bundle, logs).
    pub async fn run(&self, spec: &RunSpec, work: &Path) -> Result<RunOutcome, SandboxError> {
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

        let mut cmd = Command::new(&self.config.runsc);
        cmd.arg("--root")
            .arg(&self.config.state_dir)
            .arg(format!("--platform={}", self.config.platform))
            .arg(format!(
                "--network={}",
                match self.config.network {
                    NetworkMode::None => "none",
                    NetworkMode::Sandbox => "sandbox",
                }
            ))
            .arg("--strace")
            .arg("--debug")
            .arg(format!("--debug-log={}/", logs.display()));
        if !self.config.strace_syscalls.is_empty() {
            cmd.arg(format!(
                "--strace-syscalls={}",
                self.config.strace_syscalls.join(",")
            ));
        }
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
        // Whatever happened, the container goes.
        self.destroy(&spec.id).await;
        let stdout_tail = out_task.await.unwrap_or_default();
        let stderr_tail = err_task.await.unwrap_or_default();
        let trace = read_trace(&logs);
        Ok(RunOutcome {
            exit,
            duration,
            stdout_tail,
            stderr_tail,
            trace,
        })
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
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "resources": {
                "memory": {"limit": config.memory_bytes},
                "pids": {"limit": config.pids},
                "cpu": {"quota": quota, "period": 100_000},
            },
        },
    })
}
