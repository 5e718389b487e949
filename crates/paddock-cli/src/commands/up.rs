//! `paddock up`: the pipeline in one process.
//!
//! Start-up order: the local nats-server (unless a URL is given), the bus
//! connection and topology, the services one by one (feed, static,
//! dynamic, diff, sink, api: each its crate's `run(config, ServiceContext)`, see
//! `paddock_runtime::service`), then the health and metrics endpoints.
//! This module only builds each service's configuration from
//! [`PaddockConfig`] and composes the `run`s. Shutdown runs the other way
//! round: services finish or return their in-flight work, the endpoints
//! close, and the nats-server this process started is stopped last.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, CancellationToken, JetStreamBus};
use paddock_registry::discover::{discover, SystemProbe};
use paddock_registry::RegistriesConfig;
use paddock_runtime::http::{Health, SharedRegistry};
use paddock_runtime::nats_server::LocalNatsServer;
use paddock_runtime::service::ServiceContext;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::cli::{ServiceName, UpArgs};
use crate::config::PaddockConfig;

/// Runs every service (`only` unset: `paddock up`) or one
/// (`paddock serve <service>`, which never starts a local nats-server).
pub async fn run(
    args: UpArgs,
    only: Option<ServiceName>,
    config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let _telemetry = paddock_runtime::telemetry::init(&config.telemetry, "paddock")?;
    let shutdown = paddock_runtime::shutdown::on_signals();

    let data_dir = args
        .data_dir
        .or(config.data_dir.clone())
        .unwrap_or_else(|| default_data_dir(env));

    let mut registry = Registry::with_prefix("paddock");
    let service_name = match only {
        Some(ServiceName::Feed) => "feed",
        Some(ServiceName::Static) => "static",
        Some(ServiceName::Dynamic) => "dynamic",
        Some(ServiceName::Diff) => "diff",
        Some(ServiceName::Sink) => "sink",
        Some(ServiceName::Api) => "api",
        None => "paddock",
    };
    paddock_runtime::http::register_build_info(
        &mut registry,
        service_name,
        env!("CARGO_PKG_VERSION"),
    );
    let bus_metrics = Arc::new(BusMetrics::default());
    bus_metrics.register(&mut registry);
    let registry = SharedRegistry::new(registry);
    let health = Health::default();
    health.register("bus");

    let (url, local_server) = match args.nats_url.or(config.bus.url.clone()) {
        Some(url) => (url, None),
        None => {
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
            println!("data directory: {}", data_dir.display());
            let dir = data_dir.join("nats");
            let server = LocalNatsServer::start(&config.nats_server, &dir)
                .await
                .context("starting a local nats-server (pass --nats-url to use an existing one)")?;
            println!(
                "started nats-server at {} (store {}, log {})",
                server.url(),
                server.store_dir().display(),
                server.log_path().display()
            );
            (server.url().to_owned(), Some(server))
        }
    };

    let bus = JetStreamBus::connect(&url, &config.bus, bus_metrics)
        .await?
        .with_readiness(health.bus_readiness());
    if config.bus.apply_topology {
        bus.ensure_topology().await?;
    } else {
        tracing::info!(
            "bus.apply_topology is off: using the topology as `paddock topology --apply` made it"
        );
    }
    health.set_ready("bus");
    tracing::info!(%url, prefix = %bus.names().prefix(), "topology ready");
    // `paddock submit`, `alerts tail` and the rest find this stack here
    // when they are given no URL.
    let mut recorded = match only {
        None => {
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
            Some(crate::stack::record(&data_dir, &url)?)
        }
        Some(_) => None,
    };

    let mut services = Services {
        running: JoinSet::new(),
        bus: bus.clone(),
        health: health.clone(),
        metrics: registry.clone(),
        shutdown: shutdown.clone(),
    };
    let wanted = |service: ServiceName, enabled: bool| only.map_or(enabled, |o| o == service);
    // The registries with what this machine's own clients configure.
    let discovered = || {
        let mut registries: RegistriesConfig = config.registries.clone();
        discover(&mut registries, &SystemProbe::new(env.to_vec()));
        registries
    };
    let max_artifact_bytes = config.registries.http.max_artifact_bytes;

    if wanted(ServiceName::Feed, config.feed.enabled) {
        let feed = paddock_feed_service::FeedServiceConfig {
            feed: config.feed.clone(),
            registries: discovered(),
        };
        services
            .start("feed", |cx| paddock_feed_service::run(feed, cx))
            .await?;
    }
    if wanted(ServiceName::Static, config.static_analysis.enabled) {
        let analysis = paddock_static_service::StaticServiceConfig {
            analysis: config.static_analysis.analysis.clone(),
            extract: config.registries.extract.clone(),
            max_artifact_bytes,
        };
        services
            .start("static", |cx| paddock_static_service::run(analysis, cx))
            .await?;
    }
    if wanted(ServiceName::Dynamic, config.dynamic.enabled) {
        let analysis = paddock_dynamic_service::DynamicServiceConfig {
            analysis: config.dynamic.analysis.clone(),
            image_cache: crate::config::default_image_cache(env),
            registries: discovered(),
            max_artifact_bytes,
        };
        services
            .start("dynamic", |cx| paddock_dynamic_service::run(analysis, cx))
            .await?;
    }
    if wanted(ServiceName::Diff, config.diff.enabled) {
        let mut diff_config = config.diff.service.clone();
        if decide_at_once(only, &config, local_server.is_some()) {
            diff_config.deadline = Duration::ZERO;
            println!(
                "dynamic analysis is off: each release is decided as soon as its static \
                 result arrives (set diff.deadline to wait for dynamic workers elsewhere)"
            );
        }
        let diff = paddock_diff_service::DiffServiceConfig {
            diff: diff_config,
            max_deliver: config.bus.topology.max_deliver,
        };
        services
            .start("diff", |cx| paddock_diff_service::run(diff, cx))
            .await?;
    }
    // `paddock up` runs the sinks enabled; `paddock serve sink` runs those
    // enabled too (Parquet unless turned off), and says when none is.
    let (parquet, bigquery, osv) = (
        &config.sink.parquet,
        &config.sink.bigquery,
        &config.sink.osv,
    );
    if wanted(
        ServiceName::Sink,
        parquet.enabled || bigquery.enabled || osv.enabled,
    ) {
        let sink = paddock_sink_service::SinkServiceConfig {
            parquet: parquet
                .enabled
                .then(|| paddock_sink_service::ParquetSinkConfig {
                    root: parquet
                        .dir
                        .clone()
                        .unwrap_or_else(|| data_dir.join("parquet")),
                    writer: parquet.clone(),
                }),
            bigquery: bigquery
                .enabled
                .then(|| paddock_sink_service::BigQuerySinkConfig {
                    client: bigquery.client.clone(),
                    batch: bigquery.batch(),
                }),
            osv: osv.enabled.then(|| osv.sink(&data_dir)),
            consumer: config.bus.consumer.clone(),
            max_message_bytes: config.bus.max_message_bytes,
        };
        services
            .start("sink", |cx| paddock_sink_service::run(sink, cx))
            .await?;
    }

    if wanted(ServiceName::Api, config.api.enabled) {
        let (announce, announced) = tokio::sync::oneshot::channel();
        let api = paddock_api_service::ApiServiceConfig {
            api: config.api.clone(),
            registries: discovered(),
            max_message_bytes: config.bus.max_message_bytes,
            announce: Some(announce),
        };
        services
            .start("api", |cx| paddock_api_service::run(api, cx))
            .await?;
        if let (Some(recorded), Ok(bound)) = (recorded.as_mut(), announced.await) {
            recorded.set_api(bound)?;
        }
    }

    let http = match config.http.listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await.with_context(|| {
                format!("binding the health and metrics endpoint to {addr} (set http.listen, or PADDOCK__HTTP__LISTEN, to another address)")
            })?;
            let bound = listener.local_addr()?;
            println!("health and metrics: http://{bound}/healthz http://{bound}/readyz http://{bound}/metrics");
            let (health, registry, token) = (health.clone(), registry.clone(), shutdown.clone());
            Some(tokio::spawn(async move {
                paddock_runtime::http::serve(listener, health, registry, token).await
            }))
        }
        None => None,
    };

    println!(
        "paddock is ready: bus {url}, prefix `{}`; Ctrl-C stops",
        bus.names().prefix()
    );

    shutdown.cancelled().await;
    while services.running.join_next().await.is_some() {}
    drop(services);
    if let Some(http) = http {
        match http.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "health endpoint ended with an error"),
            Err(error) => tracing::warn!(%error, "health endpoint task failed"),
        }
    }
    if let Err(error) = bus.client().flush().await {
        tracing::warn!(%error, "flushing the bus connection failed");
    }
    drop(bus);
    if let Some(server) = local_server {
        server.stop().await;
        println!("nats-server stopped");
    }
    println!("paddock stopped");
    Ok(ExitCode::SUCCESS)
}

/// The running services, and what each is given to start.
struct Services {
    running: JoinSet<()>,
    bus: JetStreamBus,
    health: Health,
    metrics: SharedRegistry,
    shutdown: CancellationToken,
}

impl Services {
    /// Starts one service's `run`: drives it until it has started (an
    /// error before that stops `paddock up`), then runs the rest beside the
    /// others (an error then is logged).
    async fn start<R, F, E>(&mut self, name: &'static str, run: R) -> anyhow::Result<()>
    where
        R: FnOnce(ServiceContext) -> F,
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let (context, starting) = ServiceContext::new(
            self.bus.clone(),
            self.health.clone(),
            self.metrics.clone(),
            self.shutdown.clone(),
        );
        match starting.drive(run(context)).await {
            Ok(running) => {
                self.running.spawn(async move {
                    if let Err(error) = running.await {
                        tracing::error!(%error, "the {name} service stopped");
                    }
                });
                Ok(())
            }
            // Shutdown came before the start finished.
            Err(Ok(())) => Ok(()),
            Err(Err(error)) => {
                Err(anyhow::Error::new(error).context(format!("starting the {name} service")))
            }
        }
    }
}

/// Whether `paddock up` decides each release on its static result alone:
/// the stack it started runs no dynamic workers, so waiting `diff.deadline`
/// for a dynamic result would only hold every verdict back. A deadline the
/// user chose, a bus given by URL (dynamic workers may run elsewhere) or a
/// single `paddock serve diff` keep the deadline as configured.
fn decide_at_once(only: Option<ServiceName>, config: &PaddockConfig, local_bus: bool) -> bool {
    only.is_none()
        && local_bus
        && !config.dynamic.enabled
        && config.diff.service.deadline == paddock_diff_service::DiffConfig::default().deadline
}

/// `$XDG_DATA_HOME/paddock`, else `~/.local/share/paddock`, else
/// `./paddock-data`.
pub(crate) fn default_data_dir(env: &[(String, String)]) -> PathBuf {
    use crate::config::env_path;
    if let Some(xdg) = env_path(env, "XDG_DATA_HOME") {
        return xdg.join("paddock");
    }
    if let Some(home) = env_path(env, "HOME") {
        return home.join(".local/share/paddock");
    }
    PathBuf::from("paddock-data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dir_follows_xdg_then_home() {
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            default_data_dir(&env(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")])),
            PathBuf::from("/x/paddock")
        );
        assert_eq!(
            default_data_dir(&env(&[("HOME", "/h")])),
            PathBuf::from("/h/.local/share/paddock")
        );
        assert_eq!(default_data_dir(&env(&[])), PathBuf::from("paddock-data"));
    }

    #[test]
    fn a_stack_without_dynamic_workers_decides_at_once() {
        let mut config = PaddockConfig::default();
        config.dynamic.enabled = false;
        assert!(decide_at_once(None, &config, true));
        // Dynamic workers may run elsewhere on a bus given by URL.
        assert!(!decide_at_once(None, &config, false));
        // `paddock serve diff` keeps its deadline.
        assert!(!decide_at_once(Some(ServiceName::Diff), &config, true));
        // A deadline the user set is kept.
        config.diff.service.deadline = Duration::from_secs(60);
        assert!(!decide_at_once(None, &config, true));
        config.diff.service.deadline = paddock_diff_service::DiffConfig::default().deadline;
        config.dynamic.enabled = true;
        assert!(!decide_at_once(None, &config, true));
    }
}
