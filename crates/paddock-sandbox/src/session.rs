//! One sandbox for several commands in turn: the phases of an analysis.
//!
//! [`Sandbox::start`] boots the container once, its first process an idle
//! `sleep`; [`Session::exec`] runs each command in it (`runsc exec`) and
//! returns the same [`RunOutcome`] as [`Sandbox::run`]: the exit (or the
//! timeout), output tails, what the command used, and the part of the
//! strace log written while it ran.
//!
//! Why one sandbox rather than one per command: under the ptrace platform
//! every system call costs tens of microseconds, and a fresh sandbox pays
//! more than its boot. Its clocks are not calibrated for about a second, so
//! until then every clock read is a trapped system call, and its file
//! caches are cold. An import phase ran in about 0.75 s in a fresh sandbox
//! and in about a third of that after the install phase had warmed it. The
//! phases share what a user's machine shares between `npm install` and
//! `node -e require(…)`: the install area, home, `/tmp` and any process the
//! install left running. The reference system ran its phases the same way,
//! as commands in one container. Nothing is shared between analyses: each
//! has its own session, namespace and work area, removed at its end.
//!
//! A command that runs past its timeout stops the whole session (its
//! processes may hold anything), and every later `exec` says so.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tokio::process::Command;

use crate::{
    boot_log, cgroup_path, name_process, read_tail, Exit, RawUsage, RunOutcome, RunSpec, Sandbox,
    SandboxError, Usage,
};

/// A running sandbox; see the module's documentation.
#[derive(Debug)]
pub struct Session {
    sandbox: Sandbox,
    /// `runsc run`, attached: it ends when the container does.
    runner: tokio::process::Child,
    spec: RunSpec,
    work: PathBuf,
    logs: PathBuf,
    execs: usize,
    /// Why the session can run nothing more, once it cannot.
    ended: Option<String>,
}

impl Sandbox {
    /// Boots `spec` (its mounts, limits, network and id; its `args` are the
    /// idle first process, its `timeout` unused) under `work`, and returns
    /// once the container is running.
    pub async fn start(&self, spec: &RunSpec, work: &Path) -> Result<Session, SandboxError> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| SandboxError::Io { what, source }
        };
        let (bundle, logs) = self.write_bundle(spec, work)?;
        // The sandbox's own processes inherit runsc's output: a file, not a
        // pipe that would stay open as long as they run.
        let errors_path = work.join("start.err");
        let errors = std::fs::File::create(&errors_path).map_err(io("creating start.err"))?;
        let mut cmd = self.boot_command(spec, &logs)?;
        // Attached, not `--detach`: runsc stays this process's child and the
        // sandbox its, so stopping them is a kill and a wait (a detached
        // sandbox is orphaned, and deleting it waits for whoever reaps it).
        cmd.arg("run")
            .arg("--bundle")
            .arg(&bundle)
            .arg(&spec.id)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(errors)
            .kill_on_drop(true);
        let mut runner = cmd.spawn().map_err(io("starting runsc"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = runner.try_wait() {
                self.destroy(&spec.id).await;
                let stderr = std::fs::read_to_string(&errors_path).unwrap_or_default();
                let last = stderr.lines().last().unwrap_or_default();
                return Err(SandboxError::Io {
                    what: "starting the sandbox".into(),
                    source: std::io::Error::other(format!("runsc exited with {status}: {last}")),
                });
            }
            if state(self, &spec.id).await.as_deref() == Some("running") {
                break;
            }
            if Instant::now() > deadline {
                let _ = runner.kill().await;
                self.destroy(&spec.id).await;
                return Err(SandboxError::Io {
                    what: "starting the sandbox".into(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "runsc did not start the container within 60 s",
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Session {
            sandbox: self.clone(),
            runner,
            spec: spec.clone(),
            work: work.to_owned(),
            logs,
            execs: 0,
            ended: None,
        })
    }
}

impl Session {
    /// The directory with the sandbox's runsc logs (strace included).
    pub fn logs(&self) -> &Path {
        &self.logs
    }

    /// Runs `args` with exactly `env` in the session's working directory,
    /// for at most `timeout`.
    pub async fn exec(
        &mut self,
        args: &[String],
        env: &[String],
        timeout: Duration,
    ) -> Result<RunOutcome, SandboxError> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| SandboxError::Io { what, source }
        };
        if let Some(why) = &self.ended {
            return Err(SandboxError::Io {
                what: "running a command in the sandbox".into(),
                source: std::io::Error::other(why.clone()),
            });
        }
        self.execs += 1;
        let process = self.work.join(format!("process-{}.json", self.execs));
        let pid_file = self.work.join(format!("pid-{}", self.execs));
        std::fs::write(
            &process,
            serde_json::to_vec(&json!({
                "user": {"uid": 0, "gid": 0},
                "args": args,
                "env": env,
                "cwd": self.spec.cwd,
                "terminal": false,
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}],
            }))
            .expect("json"),
        )
        .map_err(io("writing the command's process.json"))?;
        let boot_log = boot_log(&self.logs);
        crate::reset_memory_peak(&cgroup_path(&self.spec.id));
        let offset = boot_log
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        let cgroup = cgroup_path(&self.spec.id);
        let before = crate::read_usage_raw(&cgroup).unwrap_or_default();

        let config = self.sandbox.config();
        let mut cmd = Command::new(&config.runsc);
        cmd.arg("--root")
            .arg(&config.state_dir)
            .arg("exec")
            .arg("--process")
            .arg(&process)
            .arg("--internal-pid-file")
            .arg(&pid_file)
            .arg(&self.spec.id)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(io("starting runsc exec"))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let tail = config.output_tail_bytes;
        let out_task = tokio::spawn(async move { read_tail(&mut stdout, tail).await });
        let err_task = tokio::spawn(async move { read_tail(&mut stderr, tail).await });
        let sampled = std::sync::Arc::new(std::sync::Mutex::new(Peaks::default()));
        let sampler = tokio::spawn(sample(cgroup.clone(), sampled.clone()));
        let exit = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => match status.code() {
                Some(code) => Exit::Code(code),
                None => Exit::RuntimeError(format!("runsc exec ended by a signal: {status}")),
            },
            Ok(Err(e)) => Exit::RuntimeError(format!("waiting for runsc exec: {e}")),
            Err(_) => Exit::Timeout,
        };
        let duration = started.elapsed();
        sampler.abort();
        let after = crate::read_usage_raw(&cgroup).unwrap_or_default();
        let mut peaks = sampled.lock().expect("not poisoned").clone();
        // Where the kernel keeps an exact peak for this command (cgroup v1,
        // reset as it started; or v2 for the first command), it wins over
        // the samples, which miss short spikes.
        if after.peak_resettable || self.execs == 1 {
            peaks.memory = peaks.memory.max(after.memory_peak);
        }
        if exit == Exit::Timeout {
            // Whatever the command started may still run: the session ends.
            self.ended = Some(format!(
                "the sandbox was stopped when a command ran past its {} s timeout",
                timeout.as_secs()
            ));
            let _ = child.kill().await;
            self.end().await;
        } else if !self.alive() {
            self.ended = Some("the sandbox stopped (its first process ended)".into());
        }
        let stdout_tail = out_task.await.unwrap_or_default();
        let stderr_tail = err_task.await.unwrap_or_default();
        let mut trace = match boot_log.or_else(|| crate::boot_log(&self.logs)) {
            Some(path) => read_trace_from(&path, offset).await,
            None => paddock_trace::Trace::default(),
        };
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        let _ = std::fs::remove_file(&pid_file);
        if let Some(pid) = pid {
            name_process(&mut trace, pid, args, env, &self.spec.cwd);
        }
        Ok(RunOutcome {
            exit,
            duration,
            usage: peaks.usage(&before, &after),
            stdout_tail,
            stderr_tail,
            trace,
        })
    }

    /// Whether the container still runs.
    fn alive(&mut self) -> bool {
        matches!(self.runner.try_wait(), Ok(None))
    }

    /// Kills the container, waits for runsc to see it go, and deletes it.
    async fn end(&mut self) {
        let config = self.sandbox.config();
        let _ = Command::new(&config.runsc)
            .arg("--root")
            .arg(&config.state_dir)
            .args(["kill", &self.spec.id, "KILL"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(5), self.runner.wait())
            .await
            .is_err()
        {
            let _ = self.runner.kill().await;
        }
        self.sandbox.destroy(&self.spec.id).await;
    }

    /// Kills and deletes the container.
    pub async fn stop(mut self) {
        self.end().await;
    }
}

/// The container's state as `runsc state` reports it (`running`, …).
async fn state(sandbox: &Sandbox, id: &str) -> Option<String> {
    let config = sandbox.config();
    let out = Command::new(&config.runsc)
        .arg("--root")
        .arg(&config.state_dir)
        .args(["state", id])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .await
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    state["status"].as_str().map(str::to_owned)
}

/// Parses the log from `offset`, starting at the first whole line.
async fn read_trace_from(path: &Path, offset: u64) -> paddock_trace::Trace {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return paddock_trace::Trace::default();
    };
    if file.seek(std::io::SeekFrom::Start(offset)).await.is_err() {
        return paddock_trace::Trace::default();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).await.is_err() {
        return paddock_trace::Trace::default();
    }
    tokio::task::spawn_blocking(move || {
        paddock_trace::parse_log(bytes.as_slice(), paddock_trace::TraceLimits::default())
    })
    .await
    .unwrap_or_default()
}

/// The highest memory in use and processes seen while a command ran.
#[derive(Debug, Clone, Default)]
struct Peaks {
    memory: u64,
    pids: u64,
}

impl Peaks {
    fn usage(&self, before: &RawUsage, after: &RawUsage) -> Usage {
        Usage {
            max_memory_bytes: self.memory,
            cpu_seconds: (after.cpu_seconds - before.cpu_seconds).max(0.0),
            max_pids: self.pids,
            memory_limit_hit: after.memory_failures > before.memory_failures,
            pids_limit_hit: after.pids_refused > before.pids_refused,
        }
    }
}

/// Samples memory in use and the process count every 100 ms until
/// aborted.
async fn sample(cgroup: String, into: std::sync::Arc<std::sync::Mutex<Peaks>>) {
    loop {
        if let Some(r) = crate::read_usage_raw(&cgroup) {
            let mut peaks = into.lock().expect("not poisoned");
            peaks.memory = peaks.memory.max(r.memory_current);
            peaks.pids = peaks.pids.max(r.pids_current);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
