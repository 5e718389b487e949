//! A BigQuery emulator per test: `bqemulator` (PyPI, DuckDB-backed) on free
//! loopback ports, in memory, killed with its whole process group on drop.
//!
//! ```no_run
//! # async fn demo() {
//! let bq = paddock_testkit::bigquery::BqEmulator::start().await;
//! let endpoint = bq.endpoint(); // http://127.0.0.1:<port>
//! let project = bq.project(); // paddock-test
//! # }
//! ```
//!
//! The binary is `PADDOCK_BQEMULATOR` if set, else `bqemulator` on `PATH`.
//! Emulator quirks the tests must allow for: it ignores insert ids (no
//! deduplication), answers 500 to a whole `insertAll` when one value
//! overflows INT64, does not enforce REQUIRED, applies a PATCHed schema to
//! its catalog but not its storage, and cannot create through
//! `tables.insert` a table with a nested field named like a DuckDB keyword
//! (`column`): it writes nested names unquoted into its DDL. Its GoogleSQL
//! DDL (`CREATE TABLE` through a query) quotes them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the emulator is installed, for the panic messages.
const INSTALL: &str = "install it with `pip install bqemulator 'duckdb==1.5.*' \
     'duckdb-extension-spatial==1.5.5' numpy` and copy the spatial extension to \
     ~/.duckdb/extensions/v1.5.5/linux_amd64/ (the emulator loads it at startup and \
     cannot download it offline), or set PADDOCK_BQEMULATOR to its path";

/// How long the emulator may take to answer (Python imports and DuckDB
/// start take a few seconds).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running emulator owned by one test.
#[derive(Debug)]
pub struct BqEmulator {
    child: Child,
    endpoint: String,
    project: String,
    log: PathBuf,
    // Removed after the process is killed.
    _dir: tempfile::TempDir,
}

impl BqEmulator {
    /// Starts an emulator for project `paddock-test`.
    pub async fn start() -> Self {
        Self::start_with_project("paddock-test").await
    }

    /// Starts an emulator whose default project is `project`, panicking
    /// with installation advice if it cannot.
    pub async fn start_with_project(project: &str) -> Self {
        let project = project.to_owned();
        tokio::task::spawn_blocking(move || Self::start_blocking(&project))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    fn start_blocking(project: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("paddock-bq-")
            .tempdir()
            .expect("creating a temp dir");
        let log = dir.path().join("bqemulator.log");
        let out = std::fs::File::create(&log).expect("creating the emulator's log file");
        let err = out.try_clone().expect("duplicating the log file handle");
        let binary = std::env::var_os("PADDOCK_BQEMULATOR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("bqemulator"));
        let mut command = Command::new(&binary);
        command
            .args(["start", "--ephemeral", "--rest-host", "127.0.0.1"])
            .args([
                "--rest-port",
                "0",
                "--grpc-host",
                "127.0.0.1",
                "--grpc-port",
                "0",
            ])
            .args(["--project", project, "--log-format", "console"])
            .args(["--log-level", "info", "--no-admin"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        // Its own process group, so that drop kills the shim and Python
        // together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "the BigQuery tests need the BigQuery emulator, but {} could not be \
                 started: {e}; {INSTALL}",
                binary.display()
            )
        });
        let mut emulator = Self {
            child,
            endpoint: String::new(),
            project: project.to_owned(),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let address = loop {
            if let Some(address) = rest_address(&emulator.log) {
                break address;
            }
            emulator.check_alive();
            if Instant::now() >= deadline {
                emulator.give_up("did not report its REST port");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        loop {
            if healthy(address) {
                break;
            }
            emulator.check_alive();
            if Instant::now() >= deadline {
                emulator.give_up(&format!("did not answer on {address}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        emulator.endpoint = format!("http://{address}");
        emulator
    }

    /// `http://127.0.0.1:<port>`: the REST root (the API is under
    /// `/bigquery/v2`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The project the emulator serves.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The emulator's log (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last lines of the log, for assertion messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "the BigQuery emulator exited during startup ({status}); {INSTALL}\n\
                 its log:\n{}",
                tail(&self.log)
            );
        }
    }

    fn give_up(&mut self, what: &str) -> ! {
        self.kill();
        panic!(
            "the BigQuery emulator {what} within {STARTUP_TIMEOUT:?}; {INSTALL}\nits log:\n{}",
            tail(&self.log)
        );
    }

    fn kill(&mut self) {
        // The group's id is the child's pid (process_group(0)).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BqEmulator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The REST address from the log: uvicorn's `Uvicorn running on
/// http://127.0.0.1:<port>` line, or the emulator's own `rest.listen …
/// port=<port>`.
fn rest_address(log: &Path) -> Option<SocketAddr> {
    let file = std::fs::File::open(log).ok()?;
    for line in BufReader::new(file).lines().map_while(Result::ok) {
        let line = strip_ansi(&line);
        if let Some(rest) = line.split("Uvicorn running on http://").nth(1) {
            let address = rest.split_whitespace().next()?;
            if let Ok(address) = address.parse() {
                return Some(address);
            }
        }
        if line.contains("rest.listen") {
            let port: Option<u16> = line
                .split_whitespace()
                .find_map(|word| word.strip_prefix("port="))
                .and_then(|p| p.parse().ok());
            if let Some(port) = port {
                return Some(SocketAddr::from(([127, 0, 0, 1], port)));
            }
        }
    }
    None
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `GET /healthz` answers 200.
fn healthy(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.take(4096).read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..]
        .iter()
        .map(|l| strip_ansi(l))
        .collect::<Vec<_>>()
        .join("\n")
}
