//! Reading what the pipeline stored: a release's results through the
//! index, a package's releases, a behaviour diff, recent alerts, and a
//! live, resumable alert feed. The gRPC service and the web page both read
//! through [`Results`].

use std::time::SystemTime;

use async_nats::jetstream::stream::{DirectGetErrorKind, Stream};
use futures::TryStreamExt;
use paddock_bus::codec;
use paddock_bus::{Bus, JetStreamBus, StreamKind};
use paddock_diff::profile;
use paddock_proto::ecosystem::subject_token;
use paddock_proto::v1::{
    Alert, BehaviorChange, DynamicResult, Ecosystem, PackageRef, Release, ReleaseIndex, Severity,
    StaticResult, Verdict,
};
use paddock_proto::WireMessage;

use crate::index::{Index, Lookup};

/// Why a read failed; each maps to one gRPC status and one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
}

/// A release's latest results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub index: ReleaseIndex,
    pub release: Option<Release>,
    pub static_result: Option<StaticResult>,
    pub dynamic_result: Option<DynamicResult>,
    pub alert: Option<Alert>,
    /// Parts the index points at whose messages have aged out.
    pub expired: Vec<String>,
}

/// An alert with its place in the ALERTS stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    pub sequence: u64,
    pub stored_at: SystemTime,
    pub alert: Alert,
}

/// Which alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Unspecified: all.
    pub min_severity: Severity,
    /// Empty: all.
    pub ecosystems: Vec<Ecosystem>,
}

impl AlertFilter {
    /// Whether `alert` passes (for alerts read by sequence, not by subject).
    pub fn admits(&self, alert: &Alert) -> bool {
        let eco_ok = self.ecosystems.is_empty()
            || alert
                .package
                .as_ref()
                .is_some_and(|p| self.ecosystems.contains(&p.ecosystem()));
        eco_ok && alert.severity >= self.min_severity as i32
    }
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Only alerts stored from now on.
    New,
    /// Every alert the stream holds.
    Beginning,
    /// From this stream sequence on (the last one received plus one).
    Sequence(u64),
    /// From this storage time on.
    Time(SystemTime),
}

/// The answer to a diff request.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffAnswer {
    pub change: BehaviorChange,
    /// Computed from the stored results (no alert compared these two).
    pub computed: bool,
    /// `to`'s verdict when the change is the stored one.
    pub verdict: Option<Verdict>,
}

/// At most this many versions are listed (or considered for "latest").
pub const MAX_LIST: usize = 1000;
/// At most this many index keys are read by one search.
const MAX_SEARCH_KEYS: usize = 200_000;

/// Reads through the index and the streams.
#[derive(Clone)]
pub struct Results {
    bus: JetStreamBus,
    index: Index,
    releases: Stream,
    results: Stream,
    alerts: Stream,
    index_stream: Stream,
    max_message_bytes: usize,
}

impl std::fmt::Debug for Results {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Results").finish_non_exhaustive()
    }
}

impl Results {
    /// `max_message_bytes`: the largest stored message that is decoded.
    pub async fn open(
        bus: &JetStreamBus,
        index: Index,
        max_message_bytes: usize,
    ) -> Result<Self, paddock_bus::BusError> {
        let js = bus.jetstream();
        // Ridden out like the bus's own lookups: a replica that starts while
        // the cluster elects a leader waits for it instead of exiting.
        let get = |name: String| {
            let js = js.clone();
            async move {
                bus.ride_out("opening a stream", || js.get_stream(name.clone()))
                    .await
                    .map_err(|e| paddock_bus::BusError::Missing {
                        what: "stream",
                        name,
                        source: Box::new(e),
                    })
            }
        };
        let names = bus.names();
        Ok(Self {
            releases: get(names.stream(StreamKind::Releases)).await?,
            results: get(names.stream(StreamKind::Results)).await?,
            alerts: get(names.stream(StreamKind::Alerts)).await?,
            index_stream: get(format!("KV_{}", names.results_index_bucket())).await?,
            bus: bus.clone(),
            index,
            max_message_bytes,
        })
    }

    /// A release's latest results. An empty version means the newest
    /// analysed one.
    #[tracing::instrument(skip_all, fields(package = %package))]
    pub async fn get(&self, package: &PackageRef) -> Result<Found, QueryError> {
        let eco = checked_ecosystem(package)?;
        let version = if package.version.is_empty() {
            let (list, _) = self.list(eco, &package.name, 1).await?;
            match list.into_iter().next().and_then(|e| e.package) {
                Some(p) => p.version,
                None => return Err(not_indexed(package)),
            }
        } else {
            package.version.clone()
        };
        let index = match self
            .index
            .get(eco, &package.name, &version)
            .await
            .map_err(QueryError::Unavailable)?
        {
            Lookup::Found(entry) => *entry,
            Lookup::Invalid => {
                return Err(QueryError::Invalid(
                    "the package name and version must not be empty".into(),
                ))
            }
            Lookup::Missing => {
                return Err(not_indexed(&PackageRef {
                    version,
                    ..package.clone()
                }))
            }
        };
        let mut found = Found {
            index: index.clone(),
            ..Found::default()
        };
        let mut expired = Vec::new();
        found.release = self
            .fetch(
                &self.releases,
                "release event",
                index.release_sequence,
                &mut expired,
            )
            .await?;
        found.static_result = self
            .fetch(
                &self.results,
                "static result",
                index.static_sequence,
                &mut expired,
            )
            .await?;
        found.dynamic_result = self
            .fetch(
                &self.results,
                "dynamic result",
                index.dynamic_sequence,
                &mut expired,
            )
            .await?;
        found.alert = self
            .fetch(&self.alerts, "alert", index.alert_sequence, &mut expired)
            .await?;
        found.expired = expired;
        Ok(found)
    }

    async fn fetch<M: WireMessage>(
        &self,
        stream: &Stream,
        what: &str,
        sequence: u64,
        expired: &mut Vec<String>,
    ) -> Result<Option<M>, QueryError> {
        if sequence == 0 {
            return Ok(None);
        }
        let stream_name = &stream.cached_info().config.name;
        match stream.direct_get(sequence).await {
            Ok(m) => codec::decode::<M>(Some(&m.headers), &m.payload, self.max_message_bytes)
                .map(Some)
                .map_err(|e| {
                    QueryError::Unavailable(format!(
                        "the {what} at {stream_name} sequence {sequence} cannot be read: {e}"
                    ))
                }),
            Err(e) if matches!(e.kind(), DirectGetErrorKind::NotFound) => {
                expired.push(format!(
                    "the {what} ({stream_name} sequence {sequence}) has aged out of the stream"
                ));
                Ok(None)
            }
            Err(e) => Err(QueryError::Unavailable(format!(
                "reading the {what} at {stream_name} sequence {sequence}: {e}"
            ))),
        }
    }

    /// A package's indexed releases, newest first by the ecosystem's
    /// version ordering, at most `limit`; true when there are more.
    #[tracing::instrument(skip(self))]
    pub async fn list(
        &self,
        eco: Ecosystem,
        name: &str,
        limit: usize,
    ) -> Result<(Vec<ReleaseIndex>, bool), QueryError> {
        if eco == Ecosystem::Unspecified {
            return Err(QueryError::Invalid("the ecosystem is missing".into()));
        }
        let Some(filter) = self.bus.names().index_package_filter(eco, name) else {
            return Err(QueryError::Invalid(
                "the package name must not be empty".into(),
            ));
        };
        let bucket_prefix = format!("$KV.{}.", self.bus.names().results_index_bucket());
        let subjects = self
            .subjects(&format!("{bucket_prefix}{filter}"), MAX_LIST * 10)
            .await?;
        let mut versions: Vec<String> = subjects
            .iter()
            .filter_map(|s| s.rsplit('.').next())
            .filter_map(paddock_bus::names::unescape_key)
            .collect();
        versions.sort_by(|a, b| paddock_registry::version::compare(eco, b, a).then(b.cmp(a)));
        let limit = limit.clamp(1, MAX_LIST);
        let truncated = versions.len() > limit;
        versions.truncate(limit);
        let mut out = Vec::with_capacity(versions.len());
        for version in versions {
            // A key deleted between the listing and here is skipped.
            if let Lookup::Found(entry) = self
                .index
                .get(eco, name, &version)
                .await
                .map_err(QueryError::Unavailable)?
            {
                out.push(*entry);
            }
        }
        Ok((out, truncated))
    }

    /// The subjects of the index's stream under `filter`, at most `max`.
    async fn subjects(&self, filter: &str, max: usize) -> Result<Vec<String>, QueryError> {
        let mut info = self
            .index_stream
            .info_with_subjects(filter)
            .await
            .map_err(|e| QueryError::Unavailable(format!("listing the results index: {e}")))?;
        let mut out = Vec::new();
        while let Some((subject, _count)) = info
            .try_next()
            .await
            .map_err(|e| QueryError::Unavailable(format!("listing the results index: {e}")))?
        {
            out.push(subject);
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Packages whose name contains `query` (case-insensitive), at most
    /// `limit`, sorted by ecosystem and name.
    pub async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<(Ecosystem, String)>, QueryError> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let bucket_prefix = format!("$KV.{}.", self.bus.names().results_index_bucket());
        let subjects = self
            .subjects(&format!("{bucket_prefix}>"), MAX_SEARCH_KEYS)
            .await?;
        let mut found = std::collections::BTreeSet::new();
        for subject in subjects {
            let mut tokens = subject[bucket_prefix.len()..].split('.');
            let (Some(eco), Some(name)) = (tokens.next(), tokens.next()) else {
                continue;
            };
            let (Ok(eco), Some(name)) = (
                paddock_proto::ecosystem::parse(eco),
                paddock_bus::names::unescape_key(name),
            ) else {
                continue;
            };
            if name.to_lowercase().contains(&query) {
                found.insert((subject_token(eco).to_owned(), name, eco));
            }
        }
        // Exact names first, then the rest by name.
        let mut out: Vec<(Ecosystem, String)> = found
            .into_iter()
            .map(|(_, name, eco)| (eco, name))
            .collect();
        out.sort_by_key(|(_, name)| name.to_lowercase() != query);
        out.truncate(limit);
        Ok(out)
    }

    /// What changed between two indexed releases: the stored change when
    /// `to`'s alert compared it with `from`, else computed from their
    /// stored results.
    #[tracing::instrument(skip(self))]
    pub async fn diff(
        &self,
        eco: Ecosystem,
        name: &str,
        from: &str,
        to: &str,
    ) -> Result<DiffAnswer, QueryError> {
        if from.is_empty() || to.is_empty() {
            return Err(QueryError::Invalid(
                "both from_version and to_version are needed".into(),
            ));
        }
        let package = |version: &str| PackageRef {
            ecosystem: eco as i32,
            name: name.to_owned(),
            version: version.to_owned(),
        };
        let newer = self.get(&package(to)).await?;
        if let Some(alert) = &newer.alert {
            let compared = alert
                .verdict
                .as_ref()
                .map(|v| v.previous_version.as_str())
                .unwrap_or_default();
            if compared == from {
                let change = alert.change.clone().unwrap_or_else(|| BehaviorChange {
                    package: Some(package(to)),
                    previous_version: from.to_owned(),
                    created_at: alert.created_at,
                    changes: Vec::new(),
                    severity: alert.severity,
                });
                return Ok(DiffAnswer {
                    change,
                    computed: false,
                    verdict: alert.verdict.clone(),
                });
            }
        }
        let older = self.get(&package(from)).await?;
        let profile_of = |f: &Found, version: &str| {
            let mut merged: Option<profile::Profile> =
                f.static_result.as_ref().map(profile::from_static);
            if let Some(d) = &f.dynamic_result {
                let part = profile::from_dynamic(d);
                match &mut merged {
                    Some(p) => p.merge(part),
                    None => merged = Some(part),
                }
            }
            merged.ok_or_else(|| {
                QueryError::NotFound(format!(
                    "{} has no stored results to compare{}",
                    package(version),
                    if f.expired.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", f.expired.join("; "))
                    }
                ))
            })
        };
        let (old, new) = (profile_of(&older, from)?, profile_of(&newer, to)?);
        let changes = paddock_diff::diff::diff(&old, &new);
        // Unscored: a severity belongs to a verdict, which only the diff
        // service makes.
        let mut change =
            paddock_diff::diff::behavior_change(&old, &new, changes, Severity::Unspecified);
        change.package = Some(package(to));
        change.previous_version = from.to_owned();
        Ok(DiffAnswer {
            change,
            computed: true,
            verdict: None,
        })
    }

    /// The newest alerts that pass `filter`, newest first, reading back at
    /// most `scan` messages from the end of the stream.
    pub async fn recent_alerts(
        &self,
        filter: &AlertFilter,
        limit: usize,
        scan: u64,
    ) -> Result<Vec<StoredAlert>, QueryError> {
        let mut stream = self.alerts.clone();
        let info = stream
            .info()
            .await
            .map_err(|e| QueryError::Unavailable(format!("reading the alerts stream: {e}")))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut out = Vec::new();
        let mut sequence = last;
        let floor = last.saturating_sub(scan).max(first);
        while sequence >= floor && sequence > 0 && out.len() < limit {
            match stream.direct_get(sequence).await {
                Ok(m) => {
                    if let Ok(alert) =
                        codec::decode::<Alert>(Some(&m.headers), &m.payload, self.max_message_bytes)
                    {
                        if filter.admits(&alert) {
                            out.push(StoredAlert {
                                sequence,
                                stored_at: SystemTime::from(m.time),
                                alert,
                            });
                        }
                    }
                }
                Err(e) if matches!(e.kind(), DirectGetErrorKind::NotFound) => {}
                Err(e) => {
                    return Err(QueryError::Unavailable(format!(
                        "reading alert {sequence}: {e}"
                    )))
                }
            }
            sequence -= 1;
        }
        Ok(out)
    }

    /// The ALERTS stream.
    pub(crate) fn alerts(&self) -> &Stream {
        &self.alerts
    }
}

fn checked_ecosystem(package: &PackageRef) -> Result<Ecosystem, QueryError> {
    match Ecosystem::try_from(package.ecosystem) {
        Ok(Ecosystem::Unspecified) | Err(_) => Err(QueryError::Invalid(
            "the ecosystem is missing or unknown (one of pypi, npm, rubygems, packagist, crates-io)"
                .into(),
        )),
        Ok(eco) if package.name.is_empty() => {
            let _ = eco;
            Err(QueryError::Invalid("the package name must not be empty".into()))
        }
        Ok(eco) => Ok(eco),
    }
}

fn not_indexed(package: &PackageRef) -> QueryError {
    QueryError::NotFound(format!(
        "{package} has not been analysed here (or its results have aged out): submit it with Submit or `paddock submit`"
    ))
}
