//! The diff service, `run(DiffServiceConfig, ServiceContext)`: consumes
//! `result.static.<eco>` and `result.dynamic.<eco>` (durable consumers
//! `diff-static` and `diff-dynamic`), joins the two results of each release
//! in the package's behaviour history (KV `history`, one key per package,
//! written with compare-and-swap so that replicas and redeliveries never
//! lose an update),
//! compares the release with the previous analysed one by the ecosystem's
//! version ordering, and publishes an [`Alert`] — the release's `Verdict`,
//! and the `BehaviorChange` when something changed — on
//! `alert.<severity>.<eco>`, for every release.
//!
//! Either result may come first. The first one waits (its message is
//! redelivered later, not held) until the other arrives or the deadline
//! passes; then the release is decided with what it has. A late result
//! decides the release again, with a new alert id. The alert id is derived
//! from the release, the release it was compared with and the results it
//! was decided from, and is the message id: a redelivered result, or two
//! replicas racing on one package, publish one alert.
//!
//! # Layout
//!
//! - [`run`]: builds the service from [`DiffServiceConfig`], registers its
//!   metrics and the readiness of its consumers, prints `diff: verdicts and
//!   alerts …` and consumes until shutdown (see `paddock_runtime::service`).
//! - [`DiffService`]: the consumers' handlers; [`DiffConfig`]: `[diff]`;
//!   [`DiffMetrics`]: `paddock_diff_*`.
//! - [`history`]: a package's behaviour history and the decisions on it.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use paddock_bus::{
    Bus, BusError, CancellationToken, Delivery, Handler, HandlerError, JetStreamBus,
};
use paddock_diff::profile::{self, Profile};
use paddock_diff::score::Scoring;
use paddock_diff::suppress::Suppressions;
use paddock_proto::v1::{DynamicResult, PackageRef, Severity, StaticResult};
use paddock_runtime::service::ServiceContext;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

pub mod history;

use history::{History, Rules, Source};

/// `[diff]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiffConfig {
    /// How long a release waits for its other result before it is decided
    /// with what it has.
    #[serde(with = "humantime_serde")]
    pub deadline: Duration,
    /// The allow-list of reviewed behaviours (TOML, see the README).
    pub suppressions: Option<std::path::PathBuf>,
    /// Scoring rules replacing the built-in ones (TOML, same format as
    /// `crates/paddock-diff/rules/scoring.toml`).
    pub scoring: Option<std::path::PathBuf>,
}

impl Default for DiffConfig {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(30 * 60),
            suppressions: None,
            scoring: None,
        }
    }
}

/// What the diff service needs.
#[derive(Debug, Clone)]
pub struct DiffServiceConfig {
    /// `[diff]`: deadline, suppressions, scoring rules.
    pub diff: DiffConfig,
    /// The consumers' `max_deliver`: the last delivery of a result decides
    /// its release with whatever is missing.
    pub max_deliver: i64,
}

/// Runs the diff service until `cx.shutdown`.
pub async fn run(
    config: DiffServiceConfig,
    mut cx: ServiceContext,
) -> Result<(), DiffServiceError> {
    let metrics = Arc::new(DiffMetrics::default());
    cx.metrics.register(|registry| metrics.register(registry));
    let service = DiffService::new(&cx.bus, &config.diff, config.max_deliver, metrics).await?;
    let (statics, dynamics) = (
        cx.bus.names().diff_static_consumer(),
        cx.bus.names().diff_dynamic_consumer(),
    );
    println!(
        "diff: verdicts and alerts for results from {}, on {}",
        statics.stream_name,
        cx.bus.names().alert_filter(None, None)
    );
    cx.health.register_consumers([&statics, &dynamics]);
    cx.started();
    Ok(service.run(cx.shutdown.clone()).await?)
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum DiffServiceError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("reading the scoring rules {path}: {reason}")]
    Scoring { path: String, reason: String },
    #[error("reading the suppressions {path}: {reason}")]
    Suppressions { path: String, reason: String },
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabels {
    pub severity: String,
}

/// `paddock_diff_*`.
#[derive(Debug)]
pub struct DiffMetrics {
    pub alerts: Family<SeverityLabels, Counter>,
    pub waiting: Counter,
    pub duplicates: Counter,
    pub conflicts: Counter,
    pub decide_seconds: Histogram,
}

impl Default for DiffMetrics {
    fn default() -> Self {
        Self {
            alerts: Family::default(),
            waiting: Counter::default(),
            duplicates: Counter::default(),
            conflicts: Counter::default(),
            decide_seconds: Histogram::new([0.001, 0.005, 0.02, 0.1, 0.5, 2.0, 10.0]),
        }
    }
}

impl DiffMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_diff");
        r.register(
            "alerts",
            "Alerts published, by severity",
            self.alerts.clone(),
        );
        r.register(
            "waiting",
            "Results that wait for their release's other result",
            self.waiting.clone(),
        );
        r.register(
            "duplicates",
            "Results seen again (redeliveries)",
            self.duplicates.clone(),
        );
        r.register(
            "conflicts",
            "History writes that lost a compare-and-swap race and were retried",
            self.conflicts.clone(),
        );
        r.register(
            "decide_seconds",
            "Time to merge a result, decide and publish",
            self.decide_seconds.clone(),
        );
    }
}

struct Inner {
    bus: JetStreamBus,
    history: kv::Store,
    scoring: Scoring,
    suppressions: Suppressions,
    deadline: Duration,
    max_deliver: i64,
    metrics: Arc<DiffMetrics>,
}

/// The diff service.
#[derive(Clone)]
pub struct DiffService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DiffService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffService")
            .field("deadline", &self.inner.deadline)
            .finish_non_exhaustive()
    }
}

impl DiffService {
    /// `max_deliver` is the consumers' (the last delivery decides whatever
    /// is missing).
    pub async fn new(
        bus: &JetStreamBus,
        config: &DiffConfig,
        max_deliver: i64,
        metrics: Arc<DiffMetrics>,
    ) -> Result<Self, DiffServiceError> {
        let history = bus.key_value(&bus.names().history_bucket()).await?;
        let scoring = match &config.scoring {
            None => Scoring::builtin(),
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| Scoring::from_toml(&t).map_err(|e| e.to_string()))
                .map_err(|reason| DiffServiceError::Scoring {
                    path: path.display().to_string(),
                    reason,
                })?,
        };
        let suppressions = match &config.suppressions {
            None => Suppressions::default(),
            Some(path) => Suppressions::load(path).map_err(|e| DiffServiceError::Suppressions {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                bus: bus.clone(),
                history,
                scoring,
                suppressions,
                deadline: config.deadline,
                max_deliver,
                metrics,
            }),
        })
    }

    /// Consumes static and dynamic results until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), BusError> {
        let bus = self.inner.bus.clone();
        let (s, d) = (
            bus.names().diff_static_consumer(),
            bus.names().diff_dynamic_consumer(),
        );
        let statics = bus.consume(&s, StaticPart(self.clone()), shutdown.clone());
        let dynamics = bus.consume(&d, DynamicPart(self.clone()), shutdown);
        let (a, b) = tokio::join!(statics, dynamics);
        a.and(b)
    }

    async fn on_result(
        &self,
        package: PackageRef,
        source: Source,
        run_id: String,
        part: Profile,
        attempt: u64,
    ) -> Result<(), HandlerError> {
        let inner = &*self.inner;
        let started = std::time::Instant::now();
        let key = inner
            .bus
            .names()
            .history_key(package.ecosystem(), &package.name);
        let rules = Rules {
            scoring: &inner.scoring,
            suppressions: &inner.suppressions,
            deadline: inner.deadline,
            force: inner.max_deliver > 0 && attempt + 1 >= inner.max_deliver as u64,
        };
        let mut applied = None;
        for _ in 0..32 {
            let (mut hist, revision) = self.load(&key).await?;
            let now_ms = chrono::Utc::now().timestamp_millis();
            let a = hist.apply(&package, source, &run_id, part.clone(), now_ms, &rules);
            if a.changed && !self.store(&key, &hist, revision).await? {
                inner.metrics.conflicts.inc();
                continue;
            }
            applied = Some(a);
            break;
        }
        let Some(applied) = applied else {
            return Err(HandlerError::retryable(
                "the package's history kept changing under this replica",
            ));
        };
        if applied.duplicate {
            inner.metrics.duplicates.inc();
        }
        for out in &applied.outgoing {
            let severity = Severity::try_from(out.alert.severity).unwrap_or(Severity::Info);
            let subject = inner.bus.names().alert(severity, package.ecosystem());
            inner
                .bus
                .publish(
                    &subject,
                    &format!("alert:{}", out.alert.alert_id),
                    &out.alert,
                )
                .await
                .map_err(HandlerError::retryable)?;
            inner
                .metrics
                .alerts
                .get_or_create(&SeverityLabels {
                    severity: paddock_proto::ecosystem::severity_token(severity).to_owned(),
                })
                .inc();
            tracing::info!(alert = %out.alert.summary, id = %out.alert.alert_id, "alert published");
        }
        if !applied.outgoing.is_empty() {
            self.confirm(&key, &applied.outgoing).await?;
        }
        inner
            .metrics
            .decide_seconds
            .observe(started.elapsed().as_secs_f64());
        match applied.wait {
            Some(wait) => {
                inner.metrics.waiting.inc();
                tracing::debug!(%package, wait_ms = wait.as_millis() as u64, "waiting for the release's other result");
                Err(HandlerError::Later(wait.max(Duration::from_millis(200))))
            }
            None => Ok(()),
        }
    }

    /// Marks alerts as published (a redelivery after this point publishes
    /// nothing again).
    async fn confirm(&self, key: &str, outgoing: &[history::Outgoing]) -> Result<(), HandlerError> {
        for _ in 0..32 {
            let (mut hist, revision) = self.load(key).await?;
            let mut changed = false;
            for o in outgoing {
                changed |= hist.published(&o.version, &o.alert.alert_id);
            }
            if !changed || self.store(key, &hist, revision).await? {
                return Ok(());
            }
            self.inner.metrics.conflicts.inc();
        }
        // Published but not marked: a redelivery publishes the same ids,
        // which the stream's duplicate window absorbs.
        Ok(())
    }

    async fn load(&self, key: &str) -> Result<(History, Option<u64>), HandlerError> {
        let entry = self
            .inner
            .history
            .entry(key)
            .await
            .map_err(|e| HandlerError::retryable(format!("reading history {key}: {e}")))?;
        match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                let hist = serde_json::from_slice(&e.value).map_err(|err| {
                    HandlerError::retryable(format!("the history of {key} is unreadable: {err}"))
                })?;
                Ok((hist, Some(e.revision)))
            }
            Some(e) => Ok((History::default(), Some(e.revision))),
            None => Ok((History::default(), None)),
        }
    }

    /// Writes `hist` if the key is still at `revision`; false when another
    /// writer came first.
    async fn store(
        &self,
        key: &str,
        hist: &History,
        revision: Option<u64>,
    ) -> Result<bool, HandlerError> {
        let bytes = serde_json::to_vec(hist)
            .map_err(|e| HandlerError::permanent(format!("encoding history: {e}")))?;
        let written = match revision {
            None => self
                .inner
                .history
                .create(key, bytes.into())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Some(r) => self
                .inner
                .history
                .update(key, bytes.into(), r)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        match written {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::debug!(%key, error = %e, "history write lost a race (or failed); reloading");
                Ok(false)
            }
        }
    }
}

fn run_id(run: Option<&paddock_proto::v1::AnalysisRun>, kind: &str, delivery_id: &str) -> String {
    match run.map(|r| r.run_id.as_str()).filter(|r| !r.is_empty()) {
        Some(r) => format!("{kind}:{r}"),
        None => format!("{kind}:{delivery_id}"),
    }
}

struct StaticPart(DiffService);
struct DynamicPart(DiffService);

impl Handler<StaticResult> for StaticPart {
    async fn handle(&self, d: Delivery<StaticResult>) -> Result<(), HandlerError> {
        let package = d
            .message
            .package
            .clone()
            .ok_or_else(|| HandlerError::permanent("a static result without a package"))?;
        let id = run_id(
            d.message.run.as_ref(),
            "static",
            d.msg_id
                .as_deref()
                .unwrap_or(&d.stream_sequence.to_string()),
        );
        let part = profile::from_static(&d.message);
        self.0
            .on_result(package, Source::Static, id, part, d.attempt)
            .await
    }
}

impl Handler<DynamicResult> for DynamicPart {
    async fn handle(&self, d: Delivery<DynamicResult>) -> Result<(), HandlerError> {
        let package = d
            .message
            .package
            .clone()
            .ok_or_else(|| HandlerError::permanent("a dynamic result without a package"))?;
        let id = run_id(
            d.message.run.as_ref(),
            "dynamic",
            d.msg_id
                .as_deref()
                .unwrap_or(&d.stream_sequence.to_string()),
        );
        let part = profile::from_dynamic(&d.message);
        self.0
            .on_result(package, Source::Dynamic, id, part, d.attempt)
            .await
    }
}
