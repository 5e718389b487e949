//! Removing what an analysis made (containers, namespaces, the tmpfs, the
//! work directory), and what a killed worker left behind.

use std::path::{Path, PathBuf};

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

/// What an analysis made and must remove: its containers, namespaces,
/// mount and work directory. [`Cleanup::finish`] removes them at the end of
/// an analysis; when the analysis's future is dropped half-way (shutdown,
/// a cancelled task), dropping the guard removes them on a blocking thread,
/// never on the async runtime's own.
#[derive(Debug)]
pub(crate) struct Cleanup {
    pub(crate) runsc: PathBuf,
    pub(crate) state_dir: PathBuf,
    pub(crate) containers: Vec<String>,
    pub(crate) netns: Vec<String>,
    pub(crate) mount: Option<PathBuf>,
    pub(crate) work: Option<PathBuf>,
}

impl Cleanup {
    pub(crate) fn new(runsc: PathBuf, state_dir: PathBuf) -> Self {
        Self {
            runsc,
            state_dir,
            containers: Vec::new(),
            netns: Vec::new(),
            mount: None,
            work: None,
        }
    }

    /// Removes everything, off the runtime, and waits for it.
    pub(crate) async fn finish(mut self) {
        let todo = self.take();
        if let Err(error) = tokio::task::spawn_blocking(move || todo.remove_now()).await {
            tracing::warn!(%error, "the clean-up task failed; the next start removes what is left");
        }
    }

    /// Moves what is to be removed out of `self`, leaving nothing to do.
    fn take(&mut self) -> Cleanup {
        Cleanup {
            runsc: self.runsc.clone(),
            state_dir: self.state_dir.clone(),
            containers: std::mem::take(&mut self.containers),
            netns: std::mem::take(&mut self.netns),
            mount: self.mount.take(),
            work: self.work.take(),
        }
    }

    fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.netns.is_empty()
            && self.mount.is_none()
            && self.work.is_none()
    }

    /// Removes everything now: blocking (runsc, ip, umount, the file
    /// system).
    fn remove_now(mut self) {
        use std::process::{Command, Stdio};
        for id in std::mem::take(&mut self.containers) {
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
        for ns in std::mem::take(&mut self.netns) {
            let _ = Command::new("ip")
                .args(["netns", "del", &ns])
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mount) = self.mount.take() {
            unmount(&mount);
        }
        if let Some(work) = self.work.take() {
            let _ = std::fs::remove_dir_all(work);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.is_empty() {
            return;
        }
        let todo = self.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || todo.remove_now());
            }
            Err(_) => todo.remove_now(),
        }
    }
}

/// Mounts a tmpfs of `bytes` on `dir`; the error is `mount`'s own message.
pub(crate) fn mount_tmpfs(dir: &Path, bytes: u64) -> Result<(), String> {
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

pub(crate) fn unmount(dir: &Path) {
    let _ = std::process::Command::new("umount")
        .arg("--lazy")
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status();
}

/// Mount points (from /proc/self/mountinfo) that start with `prefix`.
pub(crate) fn mounts_under(prefix: &str) -> Vec<String> {
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
