//! `paddock up`: the pipeline in one process.
//!
//! Start-up order: the local nats-server (unless a URL is given), the bus
//! connection and topology, the services (the feed in this build), then the
//! health and metrics endpoints. Shutdown runs the other way round: services
//! finish or return their in-flight work, the endpoints close, and the
//! nats-server this process started is stopped last.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, JetStreamBus};
use paddock_feed::{FeedMetrics, FeedService};
use paddock_registry::discover::{discover, SystemProbe};
use paddock_runtime::http::Health;
use paddock_runtime::nats_server::LocalNatsServer;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

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
        None => "paddock",
    };
    paddock_runtime::http::register_build_info(
        &mut registry,
        service_name,
        env!("CARGO_PKG_VERSION"),
    );
    let bus_metrics = Arc::new(BusMetrics::default());
    bus_metrics.register(&mut registry);
    let feed_metrics = Arc::new(FeedMetrics::default());
    feed_metrics.register(&mut registry);
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
    bus.ensure_topology().await?;
    health.set_ready("bus");
    tracing::info!(%url, prefix = %bus.names().prefix(), "topology ready");

    // The services that exist in this build.
    let mut services = tokio::task::JoinSet::new();
    let wanted = |service: ServiceName, enabled: bool| only.map_or(enabled, |o| o == service);
    if wanted(ServiceName::Feed, config.feed.enabled) {
        let mut registries = config.registries.clone();
        discover(&mut registries, &SystemProbe::new(env.to_vec()));
        let feed = FeedService::new(&bus, &registries, &config.feed, feed_metrics).await?;
        let polled: Vec<&str> = feed
            .ecosystems()
            .into_iter()
            .map(paddock_proto::ecosystem::cli_name)
            .collect();
        println!(
            "feed: polling {}",
            if polled.is_empty() {
                "nothing (no registry configured)".to_owned()
            } else {
                polled.join(", ")
            }
        );
        health.register("feed");
        health.set_ready("feed");
        services.spawn(feed.run(shutdown.clone()));
    }
    if wanted(ServiceName::Static, config.static_analysis.enabled) {
        let service = paddock_static_service::StaticService::new(
            &bus,
            config.static_analysis.analysis.clone(),
            config.registries.extract.clone(),
            config.registries.http.max_artifact_bytes,
        )
        .await?;
        println!(
            "static: analysing releases from {}",
            bus.names().static_consumer().stream_name
        );
        health.register_consumers([&bus.names().static_consumer()]);
        let token = shutdown.clone();
        services.spawn(async move {
            if let Err(error) = service.run(token).await {
                tracing::error!(%error, "the static service stopped");
            }
        });
    }

    if wanted(ServiceName::Dynamic, config.dynamic.enabled) {
        println!(
            "dynamic: preparing the sandbox (the first start builds its image: about a minute)"
        );
        let analyzer = paddock_dynamic::DynamicAnalyzer::new(
            config.dynamic.analysis.clone(),
            &crate::config::default_image_cache(env),
        )
        .await
        .context("starting the dynamic service: it needs gVisor's runsc and the sandbox image (scripts/install-deps installs what is missing; set dynamic.enabled = false to run without it)")?;
        let mut registries = config.registries.clone();
        discover(&mut registries, &SystemProbe::new(env.to_vec()));
        let analyzer = analyzer.with_registries(registries);
        let service = paddock_dynamic_service::DynamicService::new(
            &bus,
            analyzer,
            config.registries.http.max_artifact_bytes,
        )
        .await?;
        println!(
            "dynamic: analysing releases from {} in the sandbox",
            bus.names().dynamic_consumer().stream_name
        );
        health.register_consumers([&bus.names().dynamic_consumer()]);
        let token = shutdown.clone();
        services.spawn(async move {
            if let Err(error) = service.run(token).await {
                tracing::error!(%error, "the dynamic service stopped");
            }
        });
    }

    if wanted(ServiceName::Diff, config.diff.enabled) {
        let diff_metrics = Arc::new(paddock_diff_service::DiffMetrics::default());
        diff_metrics.register(&mut registry);
        let service = paddock_diff_service::DiffService::new(
            &bus,
            &config.diff.service,
            config.bus.topology.max_deliver,
            diff_metrics,
        )
        .await
        .context("starting the diff service")?;
        println!(
            "diff: verdicts and alerts for results from {}, on {}",
            bus.names().diff_static_consumer().stream_name,
            bus.names().alert_filter(None, None)
        );
        health.register_consumers([
            &bus.names().diff_static_consumer(),
            &bus.names().diff_dynamic_consumer(),
        ]);
        let token = shutdown.clone();
        services.spawn(async move {
            if let Err(error) = service.run(token).await {
                tracing::error!(%error, "the diff service stopped");
            }
        });
    }

    // The sinks: `paddock up` runs those enabled; `paddock serve sink`
    // runs those enabled too (Parquet unless turned off).
    let run_sinks = only.is_none_or(|o| o == ServiceName::Sink);
    if run_sinks {
        let sink_metrics = Arc::new(paddock_sink::service::SinkMetrics::default());
        sink_metrics.register(&mut registry);
        let settings = |batch: &paddock_sink::service::BatchConfig, reference_tables: bool| {
            paddock_sink::service::SinkSettings {
                batch: batch.clone(),
                reference_tables,
                consumer: config.bus.consumer.clone(),
                max_message_bytes: config.bus.max_message_bytes,
                metrics: sink_metrics.clone(),
            }
        };
        let parquet = &config.sink.parquet;
        if parquet.enabled {
            let root = parquet
                .dir
                .clone()
                .unwrap_or_else(|| data_dir.join("parquet"));
            println!(
                "sink: Parquet files under {} (query them with DuckDB or pyarrow, see the README)",
                root.display()
            );
            let settings = settings(&parquet.batch, parquet.reference_tables);
            let (bus, token, parquet) = (bus.clone(), shutdown.clone(), parquet.clone());
            health.register_consumers(&bus.names().sink_consumers("parquet"));
            services.spawn(async move {
                let made = paddock_sink::service::run(
                    &bus,
                    "parquet",
                    |_| paddock_sink::parquet::ParquetWriter::new(&root, &parquet),
                    settings,
                    token,
                )
                .await;
                if let Err(error) = made {
                    tracing::error!(%error, "the Parquet sink stopped");
                }
            });
        }
        let bigquery = &config.sink.bigquery;
        if only.is_some() && !parquet.enabled && !bigquery.enabled {
            println!("sink: none enabled (set sink.parquet.enabled or sink.bigquery.enabled)");
        }
        if bigquery.enabled {
            // A destination that is unreachable at start is retried in the
            // background (the sink is not ready meanwhile, and says why);
            // one that refuses the configuration stops the start.
            const HINT: &str = "starting the BigQuery sink: preparing its dataset and tables (check sink.bigquery: project, dataset, endpoint, credentials)";
            let first = bigquery_writers(&bigquery.client).await;
            if let Err(error) = &first {
                if !error.is_transient() {
                    return Err(anyhow::anyhow!("{error}")).context(HINT);
                }
            }
            println!(
                "sink: BigQuery dataset {}.{} at {}",
                bigquery.client.project.as_deref().unwrap_or("-"),
                bigquery.client.dataset,
                bigquery.client.endpoint
            );
            let settings = settings(&bigquery.batch(), bigquery.client.reference_tables);
            let (bus, token, health, client) = (
                bus.clone(),
                shutdown.clone(),
                health.clone(),
                bigquery.client.clone(),
            );
            health.register("sink-bigquery");
            health.register_consumers(&bus.names().sink_consumers("bigquery"));
            let backoff = config.bus.consumer.clone();
            services.spawn(async move {
                let mut attempt = 0;
                let mut made = first;
                let mut writers = loop {
                    match made {
                        Ok(writers) => break writers,
                        Err(error) => {
                            attempt += 1;
                            let delay = backoff
                                .backoff(attempt)
                                .min(std::time::Duration::from_secs(60));
                            let reason = format!("{HINT}: {error}; retrying in {delay:?}");
                            tracing::warn!(%reason, "the BigQuery sink is not ready");
                            health.set_unready("sink-bigquery", reason);
                            tokio::select! {
                                _ = token.cancelled() => return,
                                _ = tokio::time::sleep(delay) => {}
                            }
                            made = bigquery_writers(&client).await;
                        }
                    }
                };
                health.set_ready("sink-bigquery");
                let made = paddock_sink::service::run(
                    &bus,
                    "bigquery",
                    |stream| {
                        writers.remove(&stream).ok_or_else(|| {
                            paddock_sink::row::WriteError::permanent(
                                "no BigQuery writer for this stream",
                            )
                        })
                    },
                    settings,
                    token,
                )
                .await;
                if let Err(error) = made {
                    tracing::error!(%error, "the BigQuery sink stopped");
                }
            });
        }
    }

    let http = match config.http.listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await.with_context(|| {
                format!("binding the health and metrics endpoint to {addr} (set http.listen, or PADDOCK__HTTP__LISTEN, to another address)")
            })?;
            let bound = listener.local_addr()?;
            println!("health and metrics: http://{bound}/healthz http://{bound}/readyz http://{bound}/metrics");
            let (health, registry, token) = (health.clone(), Arc::new(registry), shutdown.clone());
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
    while services.join_next().await.is_some() {}
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

/// One BigQuery writer per stream the sink consumes (each keeps its own
/// state); each ensures the dataset and tables.
async fn bigquery_writers(
    config: &paddock_sink::bigquery::BigQueryConfig,
) -> Result<
    std::collections::HashMap<paddock_bus::StreamKind, paddock_sink::bigquery::BigQueryWriter>,
    paddock_sink::bigquery::BigQueryError,
> {
    let mut writers = std::collections::HashMap::new();
    for stream in [
        paddock_bus::StreamKind::Releases,
        paddock_bus::StreamKind::Results,
        paddock_bus::StreamKind::Alerts,
    ] {
        let writer = paddock_sink::bigquery::BigQueryWriter::new(config.clone()).await?;
        writers.insert(stream, writer);
    }
    Ok(writers)
}

/// `$XDG_DATA_HOME/paddock`, else `~/.local/share/paddock`, else
/// `./paddock-data`.
fn default_data_dir(env: &[(String, String)]) -> PathBuf {
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
}
