//! A package's behaviour history, as kept in the `history` KV bucket (one
//! key per package), and the decisions made on it.
//!
//! Every result of a release is merged into that release's profile. Once a
//! release has both results, or its deadline has passed with one, it is
//! decided: compared with the previous analysed release by the ecosystem's
//! version ordering (not arrival order), scored, and its alert stored here
//! before it is published, so that a redelivery or a second replica
//! publishes the same alert (same id) rather than a second one. A release
//! that arrives late, below an already decided successor, is compared with
//! its own predecessor, and the successor is compared again, with it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use paddock_diff::profile::Profile;
use paddock_diff::score::Scoring;
use paddock_diff::suppress::Suppressions;
use paddock_proto::v1::{Alert, BehaviorChange, Ecosystem, PackageRef, Severity};
use paddock_proto::well_known::Timestamp;
use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Decided releases kept per package (the highest versions), besides the
/// undecided ones.
pub const KEEP_DECIDED: usize = 8;

/// The KV value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub releases: BTreeMap<String, ReleaseState>,
}

/// Which result a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Static,
    Dynamic,
}

/// One release of the package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleaseState {
    pub profile: Profile,
    /// Which results have arrived (a result may carry no usable profile,
    /// a sandbox that could not run, say: it still counts as arrived).
    #[serde(default)]
    pub got_static: bool,
    #[serde(default)]
    pub got_dynamic: bool,
    /// When its first result was seen (unix milliseconds).
    pub first_seen_ms: i64,
    pub decision: Option<Decision>,
}

/// What was decided for a release, from which inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The run ids of the results it was made from.
    pub inputs: BTreeSet<String>,
    /// The release it was compared with.
    pub previous: Option<String>,
    pub alert_id: String,
    /// Severity as the proto enum's number.
    pub severity: i32,
    /// The encoded [`Alert`] while it is not yet published (base64).
    pub pending: Option<String>,
    /// When it was decided (unix milliseconds).
    #[serde(default)]
    pub decided_ms: i64,
}

/// A pending alert that the replica which decided it has not confirmed
/// after this long is published by whichever replica sees it next (the
/// decider probably died between deciding and publishing).
pub const ORPHANED_AFTER: Duration = Duration::from_secs(20);

/// An alert to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub version: String,
    pub alert: Alert,
}

/// What [`History::apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The history changed and must be written.
    pub changed: bool,
    /// Alerts to publish (decided now, or decided earlier and not yet
    /// confirmed as published).
    pub outgoing: Vec<Outgoing>,
    /// The release still waits for its other result, this long.
    pub wait: Option<Duration>,
    /// The result had been merged before (a redelivery).
    pub duplicate: bool,
}

/// Everything a decision needs besides the history.
#[derive(Debug)]
pub struct Rules<'a> {
    pub scoring: &'a Scoring,
    pub suppressions: &'a Suppressions,
    /// How long a release waits for its other result.
    pub deadline: Duration,
    /// Decide now whatever is missing (the message's last delivery).
    pub force: bool,
}

impl History {
    /// Merges one result's profile (`part`, of `package`, from run
    /// `run_id`) and decides what is due.
    pub fn apply(
        &mut self,
        package: &PackageRef,
        source: Source,
        run_id: &str,
        part: Profile,
        now_ms: i64,
        rules: &Rules<'_>,
    ) -> Applied {
        let eco = package.ecosystem();
        let version = package.version.clone();
        let mut applied = Applied::default();
        let state = self.releases.entry(version.clone()).or_insert_with(|| {
            applied.changed = true;
            ReleaseState {
                first_seen_ms: now_ms,
                ..Default::default()
            }
        });
        if state.profile.run_ids.contains(run_id) {
            applied.duplicate = true;
        } else {
            // The run id as the caller names it is the identity of the
            // input, whatever the profile recorded.
            let mut part = part;
            part.run_ids = BTreeSet::from([run_id.to_owned()]);
            state.profile.merge(part);
            match source {
                Source::Static => state.got_static = true,
                Source::Dynamic => state.got_dynamic = true,
            }
            applied.changed = true;
        }
        let complete = state.got_static && state.got_dynamic;
        let waited = Duration::from_millis((now_ms - state.first_seen_ms).max(0) as u64);
        let due = complete || waited >= rules.deadline || rules.force;
        let inputs = state.profile.run_ids.clone();
        let mut decided_now = Vec::new();
        let decided_on_these = state.decision.as_ref().is_some_and(|d| d.inputs == inputs);
        if !due {
            applied.wait = Some(rules.deadline.saturating_sub(waited));
        } else if !decided_on_these {
            let previous = self.predecessor(eco, &version);
            self.decide(package, &version, previous.as_deref(), rules, now_ms);
            decided_now.push(version.clone());
            applied.changed = true;
            // A decided successor that was compared with something older
            // than this release (or with nothing) is compared again.
            if let Some(next) = self.successor(eco, &version) {
                let stale = match self.releases[&next]
                    .decision
                    .as_ref()
                    .and_then(|d| d.previous.clone())
                {
                    None => true,
                    Some(p) => paddock_registry::version::compare(eco, &p, &version).is_lt(),
                };
                if stale {
                    let mut next_package = package.clone();
                    next_package.version = next.clone();
                    self.decide(&next_package, &next, Some(&version), rules, now_ms);
                    decided_now.push(next);
                }
            }
        }
        self.prune(eco);
        // Publish what this call decided, and what another replica decided
        // and never confirmed; a pending alert younger than that is its
        // decider's to publish, so this message comes back to check.
        let orphaned = ORPHANED_AFTER.as_millis() as i64;
        for out in self.pending() {
            let decided_ms = self.releases[&out.version]
                .decision
                .as_ref()
                .map_or(0, |d| d.decided_ms);
            if decided_now.contains(&out.version) || now_ms - decided_ms >= orphaned {
                applied.outgoing.push(out);
            } else {
                let left = Duration::from_millis((orphaned - (now_ms - decided_ms)).max(0) as u64);
                applied.wait = Some(applied.wait.map_or(left, |w| w.min(left)));
            }
        }
        applied
    }

    /// Marks an alert as published.
    pub fn published(&mut self, version: &str, alert_id: &str) -> bool {
        match self
            .releases
            .get_mut(version)
            .and_then(|r| r.decision.as_mut())
        {
            Some(d) if d.alert_id == alert_id && d.pending.is_some() => {
                d.pending = None;
                true
            }
            _ => false,
        }
    }

    /// Alerts decided but not yet confirmed as published.
    pub fn pending(&self) -> Vec<Outgoing> {
        self.releases
            .iter()
            .filter_map(|(version, r)| {
                let d = r.decision.as_ref()?;
                let bytes = base64_decode(d.pending.as_deref()?)?;
                let alert = Alert::decode(bytes.as_slice()).ok()?;
                Some(Outgoing {
                    version: version.clone(),
                    alert,
                })
            })
            .collect()
    }

    /// The highest decided release below `version`.
    fn predecessor(&self, eco: Ecosystem, version: &str) -> Option<String> {
        self.releases
            .iter()
            .filter(|(v, r)| {
                r.decision.is_some() && paddock_registry::version::compare(eco, v, version).is_lt()
            })
            .map(|(v, _)| v.clone())
            .max_by(|a, b| paddock_registry::version::compare(eco, a, b))
    }

    /// The lowest decided release above `version`.
    fn successor(&self, eco: Ecosystem, version: &str) -> Option<String> {
        self.releases
            .iter()
            .filter(|(v, r)| {
                r.decision.is_some() && paddock_registry::version::compare(eco, v, version).is_gt()
            })
            .map(|(v, _)| v.clone())
            .min_by(|a, b| paddock_registry::version::compare(eco, a, b))
    }

    fn decide(
        &mut self,
        package: &PackageRef,
        version: &str,
        previous: Option<&str>,
        rules: &Rules<'_>,
        now_ms: i64,
    ) {
        let prev_profile = previous
            .and_then(|p| self.releases.get(p))
            .map(|r| r.profile.clone());
        let Some(state) = self.releases.get_mut(version) else {
            return;
        };
        let changes = prev_profile
            .as_ref()
            .map(|p| paddock_diff::diff::diff(p, &state.profile))
            .unwrap_or_default();
        let mut verdict = rules.scoring.verdict(
            &state.profile,
            prev_profile.as_ref(),
            &changes,
            rules.suppressions,
        );
        let mut package = package.clone();
        package.version = version.to_owned();
        verdict.package = Some(package.clone());
        verdict.previous_version = previous.unwrap_or_default().to_owned();
        verdict.has_static = state.profile.has_static;
        verdict.has_dynamic = state.profile.has_dynamic;
        verdict.run_ids = state.profile.run_ids.iter().cloned().collect();
        let created = now_timestamp();
        verdict.created_at = Some(created);
        let alert_id = alert_id(&package, previous, &state.profile.run_ids);
        let severity = Severity::try_from(verdict.severity).unwrap_or(Severity::Info);
        let change = (!changes.is_empty()).then(|| BehaviorChange {
            package: Some(package.clone()),
            previous_version: previous.unwrap_or_default().to_owned(),
            created_at: Some(created),
            changes,
            severity: severity as i32,
        });
        let alert = Alert {
            alert_id: alert_id.clone(),
            package: Some(package.clone()),
            severity: severity as i32,
            created_at: Some(created),
            summary: summary(&package, &verdict, change.as_ref()),
            verdict: Some(verdict),
            change,
        };
        state.decision = Some(Decision {
            inputs: state.profile.run_ids.clone(),
            previous: previous.map(str::to_owned),
            alert_id,
            severity: severity as i32,
            pending: Some(base64_encode(&alert.encode_to_vec())),
            decided_ms: now_ms,
        });
    }

    /// Keeps the [`KEEP_DECIDED`] highest decided releases and every
    /// undecided one.
    fn prune(&mut self, eco: Ecosystem) {
        let mut decided: Vec<String> = self
            .releases
            .iter()
            .filter(|(_, r)| r.decision.as_ref().is_some_and(|d| d.pending.is_none()))
            .map(|(v, _)| v.clone())
            .collect();
        if decided.len() <= KEEP_DECIDED {
            return;
        }
        decided.sort_by(|a, b| paddock_registry::version::compare(eco, b, a));
        for v in decided.into_iter().skip(KEEP_DECIDED) {
            self.releases.remove(&v);
        }
    }
}

/// Stable across redeliveries and replicas: the release, what it was
/// compared with, and the results it was decided from.
pub fn alert_id(package: &PackageRef, previous: Option<&str>, runs: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    h.update(
        format!(
            "{}\n{}\n{}\n{}\n",
            paddock_proto::ecosystem::subject_token(package.ecosystem()),
            package.name,
            package.version,
            previous.unwrap_or("")
        )
        .as_bytes(),
    );
    for r in runs {
        h.update(r.as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..16])
}

fn summary(
    package: &PackageRef,
    verdict: &paddock_proto::v1::Verdict,
    change: Option<&BehaviorChange>,
) -> String {
    let sev = Severity::try_from(verdict.severity)
        .map(paddock_proto::ecosystem::severity_token)
        .unwrap_or("info");
    let eco = paddock_proto::ecosystem::subject_token(package.ecosystem());
    let mut s = format!(
        "{eco} {}@{}: {sev} (score {:.0})",
        package.name, package.version, verdict.score
    );
    match change {
        Some(c) => {
            let added = c
                .changes
                .iter()
                .filter(|c| c.action == paddock_proto::v1::ChangeAction::Added as i32)
                .count();
            s.push_str(&format!(
                "; {added} new behaviours since {}",
                c.previous_version
            ));
        }
        None if !verdict.previous_version.is_empty() => {
            s.push_str(&format!("; no change since {}", verdict.previous_version));
        }
        None => s.push_str("; first analysed release"),
    }
    if let Some(r) = verdict.reasons.first() {
        s.push_str(&format!(": {}", r.description));
    }
    s
}

fn now_timestamp() -> Timestamp {
    let now = chrono::Utc::now();
    Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    }
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}
