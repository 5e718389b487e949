//! The static analysis service, `run(StaticServiceConfig, ServiceContext)`:
//! consumes `release.<eco>` through the `static` durable consumer, reads
//! each release's artifact from the object store, checks it against its
//! sha256, extracts it safely, analyses it and publishes a `StaticResult`
//! on `result.static.<eco>`.
//!
//! Dispositions: a missing object or a bus failure is retried with backoff;
//! an artifact that does not match its digest or cannot be extracted is
//! permanent and goes to the dead-letter stream with the reason. The
//! result's message id is derived from the artifact's sha256 and the rule
//! set's version, so a redelivered release is not published twice.
//!
//! # Layout
//!
//! - [`run`]: builds the service from [`StaticServiceConfig`], registers the
//!   readiness of its consumer, prints `static: analysing releases from …`
//!   and consumes until shutdown (see `paddock_runtime::service`).
//! - [`StaticService`]: the consumer's handler, for tests and benches that
//!   drive it on their own.

use async_nats::jetstream::object_store::ObjectStore;
use paddock_bus::artifact::{read_selected, StoredArtifact};
use paddock_bus::names::result_msg_id;
use paddock_bus::{Bus, CancellationToken, Delivery, Handler, HandlerError, JetStreamBus};
use paddock_proto::v1::{AnalysisRun, Release, StaticResult};
use paddock_proto::well_known::Timestamp;
use paddock_registry::extract::{extract_auto, ExtractLimits};
use paddock_runtime::service::ServiceContext;
use paddock_static::{analyze_tree, StaticConfig};

/// What the static service needs.
#[derive(Debug, Clone)]
pub struct StaticServiceConfig {
    /// `[static.analysis]`: the analysis limits.
    pub analysis: StaticConfig,
    /// What one archive may expand to.
    pub extract: ExtractLimits,
    /// Artifacts larger than this are refused.
    pub max_artifact_bytes: u64,
}

/// Runs the static service until `cx.shutdown`.
pub async fn run(
    config: StaticServiceConfig,
    mut cx: ServiceContext,
) -> Result<(), paddock_bus::BusError> {
    let service = StaticService::new(
        &cx.bus,
        config.analysis,
        config.extract,
        config.max_artifact_bytes,
    )
    .await?;
    let spec = cx.bus.names().static_consumer();
    println!("static: analysing releases from {}", spec.stream_name);
    cx.health.register_consumers([&spec]);
    cx.started();
    service.run(cx.shutdown.clone()).await
}

/// The `static` consumer's handler.
#[derive(Clone)]
pub struct StaticService {
    bus: JetStreamBus,
    artifacts: ObjectStore,
    config: StaticConfig,
    limits: ExtractLimits,
    max_artifact_bytes: u64,
}

impl std::fmt::Debug for StaticService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl StaticService {
    pub async fn new(
        bus: &JetStreamBus,
        config: StaticConfig,
        limits: ExtractLimits,
        max_artifact_bytes: u64,
    ) -> Result<Self, paddock_bus::BusError> {
        let artifacts = bus.artifacts().await?;
        Ok(Self {
            bus: bus.clone(),
            artifacts,
            config,
            limits,
            max_artifact_bytes,
        })
    }

    /// Consumes releases until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), paddock_bus::BusError> {
        let bus = self.bus.clone();
        let spec = bus.names().static_consumer();
        bus.consume(&spec, self, shutdown).await
    }

    async fn analyse(&self, release: Release) -> Result<(), HandlerError> {
        let StoredArtifact {
            package,
            artifact,
            bytes,
            sha256: actual,
        } = read_selected(&self.artifacts, &release, self.max_artifact_bytes).await?;

        let started = now();
        let (config, limits, filename) = (
            self.config.clone(),
            self.limits.clone(),
            artifact.filename.clone(),
        );
        let pkg = package.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<StaticResult, String> {
            let work = tempfile::Builder::new()
                .prefix("paddock-static-")
                .tempdir()
                .map_err(|e| format!("work directory: {e}"))?;
            let name = paddock_registry::client::safe_filename(&filename);
            let path = work.path().join(&name);
            std::fs::write(&path, &bytes).map_err(|e| format!("writing {name}: {e}"))?;
            let report = extract_auto(&path, &work.path().join("package"), &limits)
                .map_err(|e| format!("cannot extract {name}: {e}"))?;
            Ok(analyze_tree(
                &work.path().join("package"),
                pkg,
                report.gem_metadata.as_deref(),
                &config,
            ))
        })
        .await
        .map_err(|e| HandlerError::retryable(format!("analysis task failed: {e}")))?
        .map_err(HandlerError::permanent)?;

        let run_id = format!(
            "static-{}-rules{}",
            &actual[..16],
            paddock_static::rules::builtin_version()
        );
        let result = StaticResult {
            run: Some(AnalysisRun {
                run_id: run_id.clone(),
                started_at: Some(started),
                finished_at: Some(now()),
                analyzer_version: env!("CARGO_PKG_VERSION").into(),
                worker: String::new(),
            }),
            created_at: Some(now()),
            artifact: Some(artifact),
            ..result
        };
        let subject = self.bus.names().static_result(package.ecosystem());
        self.bus
            .publish(
                &subject,
                &result_msg_id("static", &package, &run_id),
                &result,
            )
            .await
            .map_err(|e| HandlerError::retryable(format!("publishing the result: {e}")))?;
        tracing::info!(package = %package, findings = result.findings.len(), "static analysis published");
        Ok(())
    }
}

impl Handler<Release> for StaticService {
    async fn handle(&self, delivery: Delivery<Release>) -> Result<(), HandlerError> {
        self.analyse(delivery.message).await
    }
}

fn now() -> Timestamp {
    let now = chrono::Utc::now();
    Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    }
}
