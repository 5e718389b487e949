//! The OSV sink: a report in the layout of ossf/malicious-packages for
//! every verdict at or above `min_severity`, written into a directory
//! (`osv/malicious/<ecosystem>/<canonical name>/MAL-0000-<source>-<hex>.json`),
//! updated by later releases of the package, and withdrawn into
//! `osv/withdrawn/` when a verdict is lowered. The reports, their layout,
//! updates and withdrawals are `paddock-osv`'s; this module feeds it from
//! the bus.
//!
//! # Layout
//!
//! - [`OsvSinkConfig`]: the directory, the severity that is reported,
//!   the report settings ([`OsvConfig`]) and how long evidence is kept.
//! - [`OsvSink`]: the state the sink's three writers share (the report
//!   directory, the pending evidence, a lock); [`OsvWriter`]: one
//!   consumer's [`Writer`].
//! - [`pending`]: results and verdicts kept on disk per release.
//!
//! # From rows to reports
//!
//! - A static or dynamic result is kept for its release ([`Pending`]).
//! - An alert gives two rows: the alert and its verdict. The verdict
//!   decides; the alert's behaviour change, when it has one, is evidence
//!   too. Both are kept for the release.
//! - A verdict at or above `min_severity` becomes a report made from it
//!   and what is kept for the release ([`paddock_osv::report`]), written
//!   with [`ReportDir::write`]: a new report, or the package's report
//!   updated with this version.
//! - A verdict below it withdraws the version ([`ReportDir::withdraw`],
//!   reason `re-analysed: verdict <severity>`) when a Paddock report
//!   lists it, and does nothing otherwise.
//! - The two streams are consumed independently, so a result may be
//!   handled after its verdict: it then updates the report, if the kept
//!   verdict is reported.
//! - A verdict older (by stream sequence) than the one kept for its
//!   release changes nothing: a redelivery never undoes a later decision.
//!
//! # Dispositions
//!
//! - A row that cannot be decoded, or a reported verdict that can never
//!   be a report (no ecosystem, a name that cannot be a directory, a file
//!   not Paddock's where its report goes), is rejected with the reason
//!   (dead-lettered).
//! - A filesystem failure is a transient [`WriteError`]: the batch is
//!   retried in place and redone from the start, which is safe because
//!   every step is idempotent.
//! - [`Writer::already_written`] finds nothing to skip: writing a
//!   message again keeps the same files, and [`ReportDir::write`] of a
//!   report that says nothing new leaves the file untouched
//!   ([`paddock_osv::Outcome::Unchanged`], `modified` included);
//!   withdrawing again finds the version withdrawn already.
//!
//! # Invariants
//!
//! - One OSV sink per directory: [`ReportDir`] has one writer at a time,
//!   and the sink's three writers take turns on one lock.
//! - Filesystem work runs on blocking threads, never on the runtime.
//! - Kept evidence is removed once nothing was added to a release for
//!   [`OsvSinkConfig::keep_pending`] (seven days by default), checked at
//!   the first batch and then hourly.

pub mod pending;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use paddock_bus::BatchConfig;
use paddock_osv::{ConfigError, Input, OsvConfig, OsvError, Outcome, ReportDir, Withdrawn};
use paddock_proto::ecosystem::severity_token;
use paddock_proto::v1::{Alert, DynamicResult, PackageRef, Severity, StaticResult, Verdict};
use paddock_sink::row::{Disposition, Output, Row, RowBody, RowKey, WriteError, Writer};
use paddock_sink::Table;
use prost::Message as _;

use crate::metrics::{OsvLabels, SinkMetrics};
pub use pending::{Part, Pending};

/// The lowest severity reported by default. The database takes automated
/// sources for a low false-positive rate, and a false positive on a
/// popular package is public and costly: only critical verdicts go out
/// unless an operator lowers this.
pub const DEFAULT_MIN_SEVERITY: Severity = Severity::Critical;

/// How long a release's evidence is kept after the last of it arrived.
pub const DEFAULT_KEEP_PENDING: Duration = Duration::from_secs(7 * 24 * 3600);

/// How often kept evidence is checked for removal.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The OSV sink.
#[derive(Debug, Clone)]
pub struct OsvSinkConfig {
    /// The directory whose `osv/` holds the reports: a clone of
    /// ossf/malicious-packages, or a directory of the sink's own.
    pub dir: PathBuf,
    /// Verdicts at or above it are reported; below it, a reported
    /// version is withdrawn.
    pub min_severity: Severity,
    /// Source, finder, contact, report URL, hosts to ignore, list sizes.
    pub report: OsvConfig,
    /// How long a release's results and verdict are kept after the last
    /// of them arrived.
    pub keep_pending: Duration,
    /// When a batch is handled.
    pub batch: BatchConfig,
}

impl OsvSinkConfig {
    /// The defaults, writing under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            min_severity: DEFAULT_MIN_SEVERITY,
            report: OsvConfig::default(),
            keep_pending: DEFAULT_KEEP_PENDING,
            batch: BatchConfig {
                max_rows: 200,
                max_age: Duration::from_secs(2),
                ..BatchConfig::default()
            },
        }
    }
}

/// Why the OSV sink cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OsvSinkError {
    #[error("sink.osv is invalid: {0}; fix it in the configuration file or its PADDOCK__SINK__OSV__… variable")]
    Config(ConfigError),
    #[error("sink.osv.min_severity is unspecified; set info, low, medium, high or critical")]
    Severity,
    #[error("creating the OSV report directory {}: {source}; set sink.osv.dir to a writable directory", path.display())]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What the OSV sink's writers share.
#[derive(Debug)]
pub struct OsvSink {
    config: OsvSinkConfig,
    reports: ReportDir,
    pending: Pending,
    metrics: Arc<SinkMetrics>,
    /// Held while a batch is handled (one writer of the directory at a
    /// time); holds when kept evidence was last swept.
    turn: Mutex<Option<Instant>>,
}

impl OsvSink {
    /// Checks the configuration and makes the directory. Messages are at
    /// most `max_message_bytes` (the bus's limit), which bounds what is
    /// kept per release.
    pub fn new(
        config: OsvSinkConfig,
        max_message_bytes: usize,
        metrics: Arc<SinkMetrics>,
    ) -> Result<Self, OsvSinkError> {
        config.report.validate().map_err(OsvSinkError::Config)?;
        if config.min_severity == Severity::Unspecified {
            return Err(OsvSinkError::Severity);
        }
        std::fs::create_dir_all(&config.dir).map_err(|source| OsvSinkError::Dir {
            path: config.dir.clone(),
            source,
        })?;
        Ok(Self {
            reports: ReportDir::new(&config.dir).with_max_iocs(config.report.max_iocs),
            pending: Pending::new(&config.dir, max_message_bytes),
            config,
            metrics,
            turn: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &OsvSinkConfig {
        &self.config
    }

    pub fn pending(&self) -> &Pending {
        &self.pending
    }

    /// A writer for one of the sink's consumers.
    pub fn writer(self: &Arc<Self>) -> OsvWriter {
        OsvWriter { sink: self.clone() }
    }

    /// Handles one batch (see the module documentation), on the calling
    /// thread: call it where blocking is allowed.
    pub fn write_rows(&self, rows: &[Row]) -> Result<Vec<Disposition>, WriteError> {
        let mut last_sweep = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        if last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            self.sweep();
            *last_sweep = Some(Instant::now());
        }
        // The verdict row of an alert comes with the alert's own row, of
        // the same message: its behaviour change is found by sequence.
        let alerts: HashMap<u64, Alert> = rows
            .iter()
            .filter(|r| r.output == Output::Native(Table::Alerts))
            .filter_map(|r| match &r.body {
                RowBody::Proto(bytes) => Some((r.sequence, Alert::decode(bytes.as_ref()).ok()?)),
                RowBody::Json(_) => None,
            })
            .collect();
        rows.iter().map(|row| self.row(row, &alerts)).collect()
    }

    fn sweep(&self) {
        match self
            .pending
            .sweep(self.config.keep_pending, SystemTime::now())
        {
            Ok(0) => {}
            Ok(removed) => {
                self.metrics.osv_pending_removed.inc_by(removed as u64);
                tracing::info!(
                    removed,
                    "removed the kept results of releases decided long ago"
                );
            }
            Err(error) => {
                tracing::warn!(%error, dir = %self.pending.root().display(), "removing old kept results failed; retried in an hour")
            }
        }
    }

    fn row(&self, row: &Row, alerts: &HashMap<u64, Alert>) -> Result<Disposition, WriteError> {
        let (table, bytes) = match (row.output, &row.body) {
            (Output::Native(table), RowBody::Proto(bytes)) => (table, bytes.as_ref()),
            (Output::Native(table), RowBody::Json(_)) => {
                return Ok(Disposition::Rejected(format!(
                    "a {table} row that is not protobuf"
                )))
            }
            // The OSV sink keeps no reference rows.
            (Output::Reference(_), _) => return Ok(Disposition::Written),
        };
        let undecodable =
            |what: &str, e: prost::DecodeError| Disposition::Rejected(format!("not a {what}: {e}"));
        match table {
            // Releases say nothing a report needs.
            Table::Releases => Ok(Disposition::Written),
            // An alert counts through its verdict's row, which finds it
            // in `alerts` when it decoded.
            Table::Alerts => Ok(match Alert::decode(bytes) {
                Ok(_) => Disposition::Written,
                Err(e) => undecodable("Alert", e),
            }),
            Table::StaticResults => match StaticResult::decode(bytes) {
                Ok(m) => self.on_result(Part::Static, m.package.as_ref(), row.sequence, bytes),
                Err(e) => Ok(undecodable("StaticResult", e)),
            },
            Table::DynamicResults => match DynamicResult::decode(bytes) {
                Ok(m) => self.on_result(Part::Dynamic, m.package.as_ref(), row.sequence, bytes),
                Err(e) => Ok(undecodable("DynamicResult", e)),
            },
            Table::Verdicts => match Verdict::decode(bytes) {
                Ok(v) => self.on_verdict(v, alerts.get(&row.sequence), row.sequence),
                Err(e) => Ok(undecodable("Verdict", e)),
            },
        }
    }

    /// Keeps a result; updates the report when the release's kept verdict
    /// is reported (the result came after it).
    fn on_result(
        &self,
        part: Part,
        package: Option<&PackageRef>,
        sequence: u64,
        body: &[u8],
    ) -> Result<Disposition, WriteError> {
        let Some(release) = package.and_then(|p| self.pending.release_dir(p).ok()) else {
            // No report can ever be made for it: nothing to keep.
            return Ok(Disposition::Written);
        };
        if !self
            .pending
            .put(&release, part, sequence, body)
            .map_err(|e| io_failure(&release, e))?
        {
            return Ok(Disposition::Written);
        }
        if let Some(kept) = self.kept::<Alert>(&release, Part::Verdict)? {
            let reported = kept
                .verdict
                .as_ref()
                .is_some_and(|v| v.severity() >= self.config.min_severity);
            if reported {
                if let Err(reason) = self.report(&release, &kept)? {
                    tracing::warn!(%reason, release = %release.display(), "a result that came after its verdict could not update the report");
                }
            }
        }
        Ok(Disposition::Written)
    }

    /// Keeps a verdict with its change, then reports or withdraws.
    fn on_verdict(
        &self,
        mut verdict: Verdict,
        alert: Option<&Alert>,
        sequence: u64,
    ) -> Result<Disposition, WriteError> {
        if verdict.package.is_none() {
            verdict.package = alert.and_then(|a| a.package.clone());
        }
        let severity = verdict.severity();
        let reported = severity >= self.config.min_severity;
        let package = verdict.package.clone().unwrap_or_default();
        let release = match self.pending.release_dir(&package) {
            Ok(release) => release,
            Err(reason) if reported => {
                return Ok(Disposition::Rejected(format!(
                    "a {} verdict that cannot be reported: {reason}",
                    severity_token(severity)
                )))
            }
            // Nothing can have been reported for it.
            Err(_) => return Ok(Disposition::Written),
        };
        let kept = Alert {
            package: verdict.package.clone(),
            verdict: Some(verdict),
            change: alert.and_then(|a| a.change.clone()),
            ..Default::default()
        };
        if !self
            .pending
            .put(&release, Part::Verdict, sequence, &kept.encode_to_vec())
            .map_err(|e| io_failure(&release, e))?
        {
            tracing::debug!(%package, sequence, "a later verdict of the release was handled already");
            return Ok(Disposition::Written);
        }
        if reported {
            return Ok(match self.report(&release, &kept)? {
                Ok(()) => Disposition::Written,
                Err(reason) => Disposition::Rejected(reason),
            });
        }
        self.withdraw(&package, severity)
    }

    /// Writes the report of the kept verdict with the release's kept
    /// results. `Ok(Err(reason))`: it can never be written.
    fn report(&self, release: &Path, kept: &Alert) -> Result<Result<(), String>, WriteError> {
        let Some(verdict) = kept.verdict.as_ref() else {
            return Ok(Err("the kept verdict is empty".into()));
        };
        let static_result = self.kept::<StaticResult>(release, Part::Static)?;
        let dynamic = self.kept::<DynamicResult>(release, Part::Dynamic)?;
        let input = Input {
            verdict,
            static_result: static_result.as_ref(),
            dynamic: dynamic.as_ref(),
            change: kept.change.as_ref(),
        };
        let report = paddock_osv::report(&input, &self.config.report, Utc::now());
        match self.reports.write(&report) {
            Ok(written) => {
                let outcome = match written.outcome {
                    Outcome::Created => "created",
                    Outcome::Updated => "updated",
                    Outcome::Unchanged => "unchanged",
                };
                self.count(outcome);
                for (path, why) in &written.left_alone {
                    tracing::warn!(path = %path.display(), %why, "a file beside the report was left as it is");
                }
                let package = verdict.package.clone().unwrap_or_default();
                tracing::info!(%package, outcome, path = %written.path.display(), "osv report");
                Ok(Ok(()))
            }
            Err(e @ OsvError::Io { .. }) => Err(WriteError::transient(e)),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// Withdraws a version whose verdict fell below `min_severity`, when a
    /// Paddock report lists it.
    fn withdraw(
        &self,
        package: &PackageRef,
        severity: Severity,
    ) -> Result<Disposition, WriteError> {
        let reason = format!("re-analysed: verdict {}", severity_token(severity));
        let withdrawn = self.reports.withdraw(
            package.ecosystem(),
            &package.name,
            &package.version,
            &reason,
            Utc::now(),
        );
        match withdrawn {
            Ok(Withdrawn::Moved { to, .. } | Withdrawn::Split { withdrawn: to, .. }) => {
                self.count("withdrawn");
                tracing::info!(%package, %reason, path = %to.display(), "osv report withdrawn");
                Ok(Disposition::Written)
            }
            Ok(Withdrawn::AlreadyWithdrawn { .. } | Withdrawn::NotReported) => {
                Ok(Disposition::Written)
            }
            Err(e @ OsvError::Io { .. }) => Err(WriteError::transient(e)),
            Err(e) => Ok(Disposition::Rejected(format!(
                "the report of {package} cannot be withdrawn: {e}"
            ))),
        }
    }

    /// A kept message of the release; a file that no longer decodes is
    /// ignored with a warning.
    fn kept<M: prost::Message + Default>(
        &self,
        release: &Path,
        part: Part,
    ) -> Result<Option<M>, WriteError> {
        let Some((_, body)) = self
            .pending
            .get(release, part)
            .map_err(|e| io_failure(release, e))?
        else {
            return Ok(None);
        };
        match M::decode(body.as_slice()) {
            Ok(m) => Ok(Some(m)),
            Err(error) => {
                tracing::warn!(%error, release = %release.display(), file = part.file_name(), "a kept file does not decode; ignored");
                Ok(None)
            }
        }
    }

    fn count(&self, outcome: &str) {
        self.metrics
            .osv_reports
            .get_or_create(&OsvLabels {
                outcome: outcome.into(),
            })
            .inc();
    }
}

fn io_failure(path: &Path, error: std::io::Error) -> WriteError {
    WriteError::transient(format!("{}: {error}", path.display()))
}

/// One consumer's writer of the OSV sink.
#[derive(Debug, Clone)]
pub struct OsvWriter {
    sink: Arc<OsvSink>,
}

impl Writer for OsvWriter {
    fn kind(&self) -> &'static str {
        "osv"
    }

    /// Nothing: every write is idempotent (see the module documentation).
    async fn already_written(
        &mut self,
        _rows: &[Row],
        _ack_floor: u64,
    ) -> Result<std::collections::HashSet<RowKey>, WriteError> {
        Ok(Default::default())
    }

    async fn write(&mut self, rows: Vec<Row>) -> Result<Vec<Disposition>, WriteError> {
        let sink = self.sink.clone();
        tokio::task::spawn_blocking(move || sink.write_rows(&rows))
            .await
            .map_err(|e| WriteError::permanent(format!("the osv writer's task failed: {e}")))?
    }
}
