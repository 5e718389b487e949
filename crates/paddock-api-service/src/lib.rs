//! The API service, `run(ApiServiceConfig, ServiceContext)`: the results
//! index, `paddock.v1.AnalysisService` over gRPC, and a read-only web page.
//!
//! - The **results index** ([`index`]) is a KV bucket with one entry per
//!   release holding the stream sequences of its latest release event,
//!   static result, dynamic result and alert. Four durable consumers keep
//!   it (`api-index-*`), so every replica answers the same and a restart
//!   resumes where the consumers stopped.
//! - **gRPC** ([`grpc`]): Submit (the same path as `paddock submit`),
//!   GetResult, ListReleases, GetDiff and WatchAlerts (resumable from a
//!   stream sequence or a time), with `grpc.health.v1` and server
//!   reflection beside it.
//! - **The web page** ([`web`]) is served over HTTP on its own port
//!   (`api.web_listen`): server-rendered HTML, no script, nothing fetched
//!   from elsewhere. A separate port keeps browsers (HTTP/1.1, basic
//!   authentication) away from the gRPC listener's HTTP/2-only settings.
//! - **Auth** ([`auth`]): bearer tokens with the roles read and submit, TLS
//!   when `api.tls` is set. With no tokens the service binds to loopback
//!   only, unless `api.allow_unauthenticated_remote` is set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use paddock_bus::{Bus, BusError};
use paddock_proto::v1::analysis_service_server::AnalysisServiceServer;
use paddock_registry::RegistriesConfig;
use paddock_runtime::service::ServiceContext;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub mod auth;
pub mod grpc;
pub mod index;
pub mod query;
pub mod watch;
pub mod web;

pub use auth::{Role, TokenConfig};

/// `[api]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Whether `paddock up` runs the API.
    pub enabled: bool,
    /// The gRPC listener.
    pub listen: SocketAddr,
    /// The web page's HTTP listener; `"off"` (or `""`): no page.
    #[serde(with = "optional_addr")]
    pub web_listen: Option<SocketAddr>,
    /// Bearer tokens (`[[api.tokens]]` with `name`, `role` = read|submit,
    /// and `token` or `token_file`). None: an open API, loopback only.
    pub tokens: Vec<TokenConfig>,
    /// Lets an API without tokens bind to a non-loopback address.
    pub allow_unauthenticated_remote: bool,
    /// Serve gRPC (and the page) over TLS with this certificate and key.
    pub tls: Option<TlsConfig>,
    /// The largest request message accepted.
    pub max_request_bytes: usize,
    /// Open WatchAlerts streams per client (token, or address when open).
    pub max_streams_per_client: usize,
    /// Open WatchAlerts streams in total.
    pub max_streams: usize,
    /// New alerts a replica holds for watchers that read slowly; one that
    /// falls further behind catches up from the stream instead.
    pub watch_buffer: usize,
    /// Deadline of a unary call (a client's shorter `grpc-timeout` wins).
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Whether this replica also runs the index's consumers.
    pub index: bool,
}

/// An address, or `"off"`/`""` for none (TOML has no null).
mod optional_addr {
    use std::net::SocketAddr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(addr: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        match addr {
            Some(a) => s.collect_str(a),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim() {
            "" | "off" => Ok(None),
            addr => addr.parse().map(Some).map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{addr}` is not an address like 127.0.0.1:8470 (or \"off\"): {e}"
                ))
            }),
        }
    }
}

/// `[api.tls]`: PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            web_listen: Some(SocketAddr::from(([127, 0, 0, 1], 8470))),
            tokens: Vec::new(),
            allow_unauthenticated_remote: false,
            tls: None,
            max_request_bytes: 64 * 1024,
            max_streams_per_client: 1024,
            max_streams: 8192,
            watch_buffer: 4096,
            request_timeout: Duration::from_secs(30),
            index: true,
        }
    }
}

/// Where a started API listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    /// `http://…` or `https://…`.
    pub grpc_url: String,
    pub web_url: Option<String>,
}

/// What the API service needs.
#[derive(Debug)]
pub struct ApiServiceConfig {
    pub api: ApiConfig,
    /// Where Submit resolves and downloads releases.
    pub registries: RegistriesConfig,
    /// The bus's largest message: stored results up to it are served.
    pub max_message_bytes: usize,
    /// Told where the service listens once it does.
    pub announce: Option<tokio::sync::oneshot::Sender<Bound>>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Publish(#[from] paddock_feed::PublishError),
    #[error(transparent)]
    Token(#[from] auth::TokenError),
    #[error("{what} is {addr} but no api.tokens are configured, so anyone who can reach it could use it: configure [[api.tokens]], bind to 127.0.0.1, or set api.allow_unauthenticated_remote = true")]
    OpenRemote {
        what: &'static str,
        addr: SocketAddr,
    },
    #[error("binding {what} to {addr}: {source} (set {setting} to another address)")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        setting: &'static str,
        source: std::io::Error,
    },
    #[error("api.tls: {0}")]
    Tls(String),
    #[error("serving gRPC: {0}")]
    Serve(#[from] tonic::transport::Error),
    #[error("{0}")]
    Alerts(String),
    #[error("server reflection: {0}")]
    Reflection(String),
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub code: String,
}

/// `paddock_api_*`.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    pub requests: Family<RequestLabels, Counter>,
    pub watch_streams: Gauge,
    pub watch_replays: Counter,
    pub index: index::IndexMetrics,
}

impl ApiMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_api");
        r.register(
            "requests",
            "gRPC calls answered, by method and status code",
            self.requests.clone(),
        );
        r.register(
            "watch_streams",
            "Open WatchAlerts streams",
            self.watch_streams.clone(),
        );
        r.register(
            "watch_replays",
            "Times a watcher fell behind the replica's buffer and caught up from the stream",
            self.watch_replays.clone(),
        );
        self.index.register(registry);
    }
}

/// Runs the API until `cx.shutdown`.
pub async fn run(config: ApiServiceConfig, mut cx: ServiceContext) -> Result<(), ApiError> {
    let api_config = &config.api;
    let auth = Arc::new(auth::Auth::load(&api_config.tokens)?);
    if auth.is_open() && !api_config.allow_unauthenticated_remote {
        let listeners = [
            ("api.listen", Some(api_config.listen)),
            ("api.web_listen", api_config.web_listen),
        ];
        for (what, addr) in listeners {
            if let Some(addr) = addr.filter(|a| !a.ip().is_loopback()) {
                return Err(ApiError::OpenRemote { what, addr });
            }
        }
    }
    let tls = api_config.tls.as_ref().map(load_tls).transpose()?;
    if tls.is_some() {
        // Both aws-lc-rs and ring are in the tree, so rustls needs telling;
        // an error means another part of the process chose first, which is
        // as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }

    let metrics = Arc::new(ApiMetrics::default());
    cx.metrics.register(|registry| metrics.register(registry));
    let index_metrics = Arc::new(index::IndexMetrics {
        merged: metrics.index.merged.clone(),
        unchanged: metrics.index.unchanged.clone(),
        conflicts: metrics.index.conflicts.clone(),
    });
    let index = index::Index::open(&cx.bus, index_metrics).await?;
    let results = query::Results::open(&cx.bus, index.clone(), config.max_message_bytes).await?;
    let hub = watch::Hub::open(
        results.alerts().clone(),
        cx.bus.names().prefix(),
        config.max_message_bytes,
        api_config.watch_buffer.max(1),
        metrics.watch_replays.clone(),
    )
    .await
    .map_err(|e| ApiError::Alerts(e.to_string()))?;
    let api = Box::pin(grpc::Api::new(
        &cx.bus,
        results.clone(),
        hub.clone(),
        auth.clone(),
        config.registries.clone(),
        grpc::StreamLimits {
            per_client: api_config.max_streams_per_client,
            total: api_config.max_streams,
        },
        metrics.clone(),
        cx.shutdown.clone(),
    ))
    .await?;

    let bind = |what, addr, setting| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| ApiError::Bind {
                what,
                addr,
                setting,
                source,
            })
    };
    let grpc_listener = bind("the gRPC API", api_config.listen, "api.listen").await?;
    let grpc_addr = grpc_listener
        .local_addr()
        .map_err(|source| ApiError::Bind {
            what: "the gRPC API",
            addr: api_config.listen,
            setting: "api.listen",
            source,
        })?;
    let web_listener = match api_config.web_listen {
        Some(addr) => Some(bind("the web page", addr, "api.web_listen").await?),
        None => None,
    };
    let web_addr = web_listener.as_ref().and_then(|l| l.local_addr().ok());
    let scheme = if tls.is_some() { "https" } else { "http" };
    let bound = Bound {
        grpc_url: format!("{scheme}://{grpc_addr}"),
        web_url: web_addr.map(|a| format!("{scheme}://{a}/")),
    };

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AnalysisServiceServer<grpc::Api>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(paddock_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ApiError::Reflection(e.to_string()))?;

    let consumers = cx.bus.names().index_consumers();
    if api_config.index {
        cx.health.register_consumers(consumers.iter());
    }
    cx.health.register("api");
    println!(
        "api: gRPC {} ({}), web page {}, results index {}{}",
        bound.grpc_url,
        if auth.is_open() {
            "no tokens: open to this machine only".to_owned()
        } else {
            format!("{} tokens", api_config.tokens.len())
        },
        bound.web_url.as_deref().unwrap_or("off"),
        cx.bus.names().results_index_bucket(),
        if api_config.index {
            ""
        } else {
            " (indexed by other replicas)"
        },
    );
    if let Some(announce) = config.announce {
        let _ = announce.send(bound.clone());
    }
    cx.health.set_ready("api");
    cx.started();

    let shutdown = cx.shutdown.clone();
    let hub_task = tokio::spawn(hub.run(shutdown.clone()));
    let indexer = api_config
        .index
        .then(|| tokio::spawn(index.run(shutdown.clone())));
    let web = web_listener.map(|listener| {
        let state = web::WebState::new(results.clone(), auth.clone());
        let tls = tls.clone();
        let token = shutdown.clone();
        tokio::spawn(async move { web::serve(listener, state, tls, token).await })
    });

    let mut server = tonic::transport::Server::builder()
        .timeout(api_config.request_timeout)
        .concurrency_limit_per_connection(256)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)));
    if let Some(tls) = &tls {
        server = server
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(
                tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem),
            ))
            .map_err(|e| ApiError::Tls(e.to_string()))?;
    }
    let service = AnalysisServiceServer::new(api)
        .max_decoding_message_size(api_config.max_request_bytes)
        .max_encoding_message_size(config.max_message_bytes.saturating_mul(4).max(4 << 20));
    let served = server
        .add_service(service)
        .add_service(health_service)
        .add_service(reflection)
        .serve_with_incoming_shutdown(
            // Small answers go out at once: without TCP_NODELAY each one
            // waits for the peer's delayed acknowledgement (about 40 ms).
            tokio_stream::StreamExt::map(
                tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
                |accepted| {
                    if let Ok(stream) = &accepted {
                        let _ = stream.set_nodelay(true);
                    }
                    accepted
                },
            ),
            shutdown.clone().cancelled_owned(),
        )
        .await;
    cx.health.set_unready("api", "stopped");
    let _ = hub_task.await;
    if let Some(indexer) = indexer {
        match indexer.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "the results index's consumers stopped"),
            Err(error) => tracing::error!(%error, "the results index task failed"),
        }
    }
    if let Some(web) = web {
        if let Ok(Err(error)) = web.await {
            tracing::warn!(%error, "the web page ended with an error");
        }
    }
    Ok(served?)
}

/// The certificate and key, read once.
#[derive(Clone)]
pub struct TlsFiles {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles").finish_non_exhaustive()
    }
}

fn load_tls(tls: &TlsConfig) -> Result<TlsFiles, ApiError> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path)
            .map_err(|e| ApiError::Tls(format!("reading the {what} {}: {e}", path.display())))
    };
    Ok(TlsFiles {
        cert_pem: read(&tls.cert, "certificate")?,
        key_pem: read(&tls.key, "private key")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_can_be_turned_off_and_bad_addresses_say_why() {
        let parse = |text: &str| toml::from_str::<ApiConfig>(text);
        assert_eq!(parse("web_listen = \"off\"").unwrap().web_listen, None);
        assert_eq!(parse("web_listen = \"\"").unwrap().web_listen, None);
        assert_eq!(
            parse("web_listen = \"127.0.0.1:9\"").unwrap().web_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9)))
        );
        assert_eq!(parse("").unwrap(), ApiConfig::default());
        let error = parse("web_listen = \"localhost\"").unwrap_err().to_string();
        assert!(error.contains("not an address"), "{error}");
        // What is written reads back.
        let off = ApiConfig {
            web_listen: None,
            ..ApiConfig::default()
        };
        assert_eq!(parse(&toml::to_string(&off).unwrap()).unwrap(), off);
    }
}
