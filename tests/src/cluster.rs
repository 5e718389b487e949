//! A JetStream cluster on loopback: three (or more) nats-servers with
//! their own ports and stores, routed to each other, that a test can
//! SIGKILL and restart one at a time.
//!
//! ```no_run
//! # async fn demo() {
//! let mut cluster = paddock_testkit::cluster::TestCluster::start(3).await;
//! let seeds = cluster.urls(); // "nats://127.0.0.1:a,nats://127.0.0.1:b,…"
//! cluster.kill(0).await;
//! cluster.restart(0).await;
//! # }
//! ```
//!
//! Each node keeps its client and route ports across restarts, so the seed
//! list stays valid; its JetStream store survives a kill, as a crashed
//! server's disk does.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use paddock_runtime::nats_server::{LocalNatsConfig, LocalNatsServer};

/// One node: its ports, its directory, and the server while it runs.
#[derive(Debug)]
struct Node {
    client_port: u16,
    monitor_port: u16,
    dir: PathBuf,
    server: Option<LocalNatsServer>,
}

/// A running cluster.
#[derive(Debug)]
pub struct TestCluster {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestCluster {
    /// Starts `size` nodes and waits until JetStream has a meta leader.
    pub async fn start(size: usize) -> Self {
        assert!(size >= 1);
        let dir = tempfile::Builder::new()
            .prefix("paddock-cluster-")
            .tempdir()
            .expect("a temp dir");
        let routes: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        for (i, route_port) in routes.iter().enumerate() {
            let node_dir = dir.path().join(format!("n{i}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            let seeds: Vec<String> = routes
                .iter()
                .map(|p| format!("nats-route://127.0.0.1:{p}"))
                .collect();
            let monitor_port = free_port();
            let cluster = format!(
                "server_name: n{i}\nhttp: \"127.0.0.1:{monitor_port}\"\ncluster {{\n  name: paddock-test\n  listen: 127.0.0.1:{route_port}\n  routes: [{}]\n}}\n",
                seeds.join(", ")
            );
            std::fs::write(node_dir.join("cluster.conf"), cluster).unwrap();
            nodes.push(Node {
                client_port: free_port(),
                monitor_port,
                dir: node_dir,
                server: None,
            });
        }
        let mut cluster = Self { nodes, _dir: dir };
        // All at once: each waits for its routes and the meta leader.
        let starts = (0..size).map(|i| cluster.node_start(i));
        let servers = futures::future::join_all(starts).await;
        for (node, server) in cluster.nodes.iter_mut().zip(servers) {
            node.server = Some(server);
        }
        cluster.wait_for_jetstream(Duration::from_secs(60)).await;
        cluster
    }

    fn node_start(&self, i: usize) -> impl std::future::Future<Output = LocalNatsServer> {
        let node = &self.nodes[i];
        let config = LocalNatsConfig {
            binary: std::env::var_os("PADDOCK_NATS_SERVER").map(PathBuf::from),
            port: node.client_port,
            include: Some(node.dir.join("cluster.conf")),
            ..Default::default()
        };
        let dir = node.dir.clone();
        async move {
            LocalNatsServer::start(&config, &dir)
                .await
                .unwrap_or_else(|e| panic!("cluster node {i}: {e}"))
        }
    }

    /// Every node's client URL, comma-separated (a seed list).
    pub fn urls(&self) -> String {
        (0..self.nodes.len())
            .map(|i| self.url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// One node's client URL.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].client_port)
    }

    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// SIGKILLs node `i` (its store stays).
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut server) = self.nodes[i].server.take() {
            server.kill().await;
        }
    }

    /// Starts node `i` again on its ports and store.
    pub async fn restart(&mut self, i: usize) {
        assert!(self.nodes[i].server.is_none(), "node {i} is running");
        let server = self.node_start(i).await;
        self.nodes[i].server = Some(server);
    }

    /// The node that leads JetStream's meta group (the one that places
    /// streams and consumers), from a running node's `/jsz`.
    pub async fn meta_leader(&self) -> Option<usize> {
        for node in self.nodes.iter().filter(|n| n.server.is_some()) {
            let url = format!("http://127.0.0.1:{}/jsz", node.monitor_port);
            let Ok(response) = reqwest::get(&url).await else {
                continue;
            };
            let Some(jsz) = response
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            else {
                continue;
            };
            let leader = jsz["meta_cluster"]["leader"].as_str().unwrap_or_default();
            if let Some(n) = leader.strip_prefix('n').and_then(|n| n.parse().ok()) {
                return Some(n);
            }
        }
        None
    }

    /// Whether node `i` runs.
    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].server.is_some()
    }

    /// The node that leads `stream` (its `server_name` is `n<i>`), asked of
    /// any running node.
    pub async fn stream_leader(&self, stream: &str) -> Option<usize> {
        for i in 0..self.nodes.len() {
            if self.nodes[i].server.is_none() {
                continue;
            }
            let Ok(client) = async_nats::connect(self.url(i)).await else {
                continue;
            };
            let js = async_nats::jetstream::new(client);
            let Ok(mut s) = js.get_stream(stream).await else {
                continue;
            };
            if let Ok(info) = s.info().await {
                let leader = info.cluster.as_ref().and_then(|c| c.leader.clone());
                if let Some(n) = leader.and_then(|l| l.strip_prefix('n')?.parse().ok()) {
                    return Some(n);
                }
            }
        }
        None
    }

    /// Waits until every running node answers JetStream requests.
    pub async fn wait_for_jetstream(&self, within: Duration) {
        let deadline = Instant::now() + within;
        for i in 0..self.nodes.len() {
            if self.nodes[i].server.is_none() {
                continue;
            }
            loop {
                let ok = match async_nats::connect(self.url(i)).await {
                    Ok(client) => async_nats::jetstream::new(client)
                        .query_account()
                        .await
                        .is_ok(),
                    Err(_) => false,
                };
                if ok {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {i} of the cluster had no JetStream within {within:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
