//! Test harness: a real `nats-server` with JetStream per test, the fixture
//! registry ([`registry`]) and the fixture packages it serves
//! ([`packages`]), the real package managers run against it ([`clients`])
//! and the lockfiles they write ([`lockfiles`]).
//!
//! ```no_run
//! # async fn demo() {
//! let nats = paddock_testkit::TestNats::start().await;
//! let url = nats.url(); // nats://127.0.0.1:<free port>
//! # }
//! ```
//!
//! The binary is `PADDOCK_NATS_SERVER` if set, else `nats-server` on `PATH`.
//! Each server listens on a free loopback port with its own store directory,
//! which is removed (and the process killed) when the [`TestNats`] is
//! dropped. Tests that share a server isolate themselves with
//! [`unique_prefix`].

pub mod bigquery;
pub mod clients;
pub mod cluster;
pub mod fault_proxy;
pub mod leftovers;
pub mod loadgen;
pub mod lockfiles;
pub mod marshal;
pub mod packages;
pub mod probe;
pub mod registry;
pub mod rng;
pub mod schemas;
pub mod updates;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use paddock_runtime::nats_server::{LocalNatsConfig, LocalNatsServer};

/// A nats-server owned by one test.
#[derive(Debug)]
pub struct TestNats {
    server: LocalNatsServer,
    // Dropped after the server: the store outlives the process using it.
    _dir: tempfile::TempDir,
}

impl TestNats {
    /// A bus on this server under a fresh [`unique_prefix`], with the
    /// topology in place, and the configuration it was made with.
    pub async fn bus(&self) -> (paddock_bus::JetStreamBus, paddock_bus::BusConfig) {
        self.bus_with(|_| {}).await
    }

    /// [`TestNats::bus`] with the configuration adjusted first.
    pub async fn bus_with(
        &self,
        adjust: impl FnOnce(&mut paddock_bus::BusConfig),
    ) -> (paddock_bus::JetStreamBus, paddock_bus::BusConfig) {
        let mut config = paddock_bus::BusConfig {
            prefix: unique_prefix(),
            ..Default::default()
        };
        adjust(&mut config);
        let metrics = std::sync::Arc::new(paddock_bus::metrics::BusMetrics::default());
        let bus = paddock_bus::JetStreamBus::connect(self.url(), &config, metrics)
            .await
            .expect("connecting to the test nats-server");
        bus.ensure_topology().await.expect("creating the topology");
        (bus, config)
    }

    /// Starts a server, panicking with installation advice if there is none.
    pub async fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("paddock-nats-")
            .tempdir()
            .expect("creating a temp dir");
        let config = LocalNatsConfig {
            binary: std::env::var_os("PADDOCK_NATS_SERVER").map(PathBuf::from),
            port: 0,
            ..Default::default()
        };
        let server = LocalNatsServer::start(&config, dir.path())
            .await
            .unwrap_or_else(|e| panic!("the integration tests need a NATS server: {e}"));
        Self { server, _dir: dir }
    }

    /// `nats://127.0.0.1:<port>`
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// A plain client, for assertions that must not go through Paddock code.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(self.url())
            .await
            .expect("connecting to the test nats-server")
    }

    /// The server process, for tests that kill or inspect it.
    pub fn server(&mut self) -> &mut LocalNatsServer {
        &mut self.server
    }
}

/// A prefix no other test in this process uses: `t<pid>x<n>`.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "t{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Lowercase hex sha1, for fixture commit references.
pub fn hex_sha1(bytes: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(bytes))
}

/// Every file under `dir`, recursively, as display strings.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(files_under(&entry.path()));
        } else {
            out.push(entry.path().display().to_string());
        }
    }
    out
}
