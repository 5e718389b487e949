//! The dynamic analysis service, `run(DynamicServiceConfig, ServiceContext)`:
//! consumes `release.<eco>` through the `dynamic` durable consumer, reads
//! the artifact from the object store, checks it against its sha256, runs
//! install, import and execute in the sandbox and publishes a
//! `DynamicResult` on `result.dynamic.<eco>`.
//!
//! While the sandbox runs, the consume discipline reports progress to
//! JetStream, so a long analysis is not redelivered to another worker. A
//! failure inside the sandbox (a timeout, a limit, runsc itself) is a
//! recorded status in the published result, not a retry. On start the
//! service removes what a killed predecessor with the same worker id left
//! behind (containers, namespaces, mounts, work directories); the release
//! it was working on is redelivered and analysed again.
//!
//! # Layout
//!
//! - [`run`]: prepares the sandbox and builds the service from
//!   [`DynamicServiceConfig`], registers the readiness of its consumer,
//!   prints its start lines and consumes until shutdown (see
//!   `paddock_runtime::service`).
//! - [`DynamicService`]: the consumer's handler, for tests that drive it on
//!   their own.

use async_nats::jetstream::object_store::ObjectStore;
use paddock_bus::artifact::{read_selected, StoredArtifact};
use paddock_bus::names::result_msg_id;
use paddock_bus::{Bus, CancellationToken, Delivery, Handler, HandlerError, JetStreamBus};
use paddock_dynamic::{DynamicAnalyzer, DynamicConfig, DynamicError};
use paddock_proto::v1::Release;
use paddock_registry::RegistriesConfig;
use paddock_runtime::service::ServiceContext;

/// What the dynamic service needs.
#[derive(Debug, Clone)]
pub struct DynamicServiceConfig {
    /// `[dynamic.analysis]`: the sandbox, image and phase settings.
    pub analysis: DynamicConfig,
    /// Where built sandbox images go unless `analysis.image.cache_dir` says
    /// otherwise.
    pub image_cache: std::path::PathBuf,
    /// The registries the sandbox's registry proxy reaches, with what the
    /// machine's own clients configure already discovered.
    pub registries: RegistriesConfig,
    /// Artifacts larger than this are refused.
    pub max_artifact_bytes: u64,
}

/// Why the dynamic service could not start.
#[derive(Debug, thiserror::Error)]
pub enum DynamicServiceError {
    #[error(
        "the sandbox needs gVisor's runsc and the sandbox image (scripts/install-deps installs what is missing; set dynamic.enabled = false to run without it)"
    )]
    Sandbox(#[source] DynamicError),
    #[error(transparent)]
    Bus(#[from] paddock_bus::BusError),
}

/// Runs the dynamic service until `cx.shutdown`.
pub async fn run(
    config: DynamicServiceConfig,
    mut cx: ServiceContext,
) -> Result<(), DynamicServiceError> {
    println!("dynamic: preparing the sandbox (the first start builds its image: about a minute)");
    // Preparing the sandbox can take minutes (the first start builds its
    // image); a shutdown meanwhile ends the start at once.
    let prepared = tokio::select! {
        prepared = DynamicAnalyzer::new(config.analysis, &config.image_cache) => prepared,
        () = cx.shutdown.cancelled() => {
            println!("dynamic: stopped while preparing the sandbox");
            return Ok(());
        }
    };
    let analyzer = prepared
        .map_err(DynamicServiceError::Sandbox)?
        .with_registries(config.registries);
    let service = DynamicService::new(&cx.bus, analyzer, config.max_artifact_bytes).await?;
    let spec = cx.bus.names().dynamic_consumer();
    println!(
        "dynamic: analysing releases from {} in the sandbox",
        spec.stream_name
    );
    cx.health.register_consumers([&spec]);
    cx.started();
    Ok(service.run(cx.shutdown.clone()).await?)
}

/// The `dynamic` consumer's handler.
#[derive(Clone)]
pub struct DynamicService {
    bus: JetStreamBus,
    artifacts: ObjectStore,
    analyzer: DynamicAnalyzer,
    max_artifact_bytes: u64,
}

impl std::fmt::Debug for DynamicService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicService")
            .field("analyzer", &self.analyzer)
            .finish_non_exhaustive()
    }
}

impl DynamicService {
    pub async fn new(
        bus: &JetStreamBus,
        analyzer: DynamicAnalyzer,
        max_artifact_bytes: u64,
    ) -> Result<Self, paddock_bus::BusError> {
        let artifacts = bus.artifacts().await?;
        Ok(Self {
            bus: bus.clone(),
            artifacts,
            analyzer,
            max_artifact_bytes,
        })
    }

    /// Cleans up after a predecessor, then consumes releases until
    /// `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), paddock_bus::BusError> {
        let left = self.analyzer.clean_up_leftovers().await;
        if !left.is_empty() {
            tracing::warn!(
                containers = ?left.containers,
                namespaces = ?left.namespaces,
                mounts = ?left.mounts,
                directories = ?left.directories,
                "removed what a previous worker left behind"
            );
        }
        let bus = self.bus.clone();
        let spec = bus.names().dynamic_consumer();
        bus.consume(&spec, self, shutdown).await
    }

    async fn analyse(&self, release: Release) -> Result<(), HandlerError> {
        let StoredArtifact {
            package,
            artifact,
            bytes,
            sha256: actual,
        } = read_selected(&self.artifacts, &release, self.max_artifact_bytes).await?;
        let dir = tempfile::Builder::new()
            .prefix("paddock-dynamic-artifact-")
            .tempdir()
            .map_err(|e| HandlerError::retryable(format!("work directory: {e}")))?;
        let path = dir
            .path()
            .join(paddock_registry::client::safe_filename(&artifact.filename));
        std::fs::write(&path, &bytes)
            .map_err(|e| HandlerError::retryable(format!("writing the artifact: {e}")))?;

        let mut result = self.analyzer.analyze(&package, &path).await;
        result.artifact = Some(artifact);
        // One result per artifact and Paddock version: a redelivery after a
        // lost ack publishes the same id, which JetStream drops.
        let msg_id = format!("dynamic-{}-v{}", &actual[..16], env!("CARGO_PKG_VERSION"));
        let subject = self.bus.names().dynamic_result(package.ecosystem());
        self.bus
            .publish(
                &subject,
                &result_msg_id("dynamic", &package, &msg_id),
                &result,
            )
            .await
            .map_err(|e| HandlerError::retryable(format!("publishing the result: {e}")))?;
        tracing::info!(package = %package, status = result.status, "dynamic analysis published");
        Ok(())
    }
}

impl Handler<Release> for DynamicService {
    async fn handle(&self, delivery: Delivery<Release>) -> Result<(), HandlerError> {
        self.analyse(delivery.message).await
    }
}
