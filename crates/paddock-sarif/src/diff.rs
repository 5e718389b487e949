//! [`diff_log`]: what changed in behaviour between two releases, one
//! result per change, with the newer release's verdict.
//!
//! The rule of a change is, in order:
//!
//! 1. the scoring rule that claims it (`install-network-added`…), from
//!    `claims` (evidence hash → scoring rule id, computed by the caller
//!    with the scoring rules): the rule a suppression names, and a reason
//!    of the verdict;
//! 2. for a change that stands for a detection rule firing (kinds
//!    `capability` and `finding`, whose value is the rule id), that
//!    detection rule: from the caller's rules, else made from the newer
//!    release's finding of it ([`RuleInfo::from_finding`]);
//! 3. else `change.<kind>` ([`crate::rules::change_rule`]), at info.
//!
//! Added behaviour is a problem at its rule's level; removed behaviour is
//! reported for the record (kind `informational`, level `none`).
//!
//! A change is located in the package's files where it can be: a new
//! finding at the newer release's finding of that rule, a new install hook
//! at the file that declares it, a bundled binary or an obfuscated file at
//! its path. The rest (network, commands, files in the sandbox,
//! dependencies) is located at the package root with the phase as a
//! logical location.

use std::collections::BTreeMap;

use paddock_proto::ecosystem::hook_kind_token;
use paddock_proto::v1::{
    BehaviorChange, Change, ChangeAction, ChangeKind, DynamicResult, Finding, Phase, StaticResult,
    Verdict,
};
use serde_json::json;

use crate::analyze::{evidence_location, phase_location, PACKAGE_ROOT_DESCRIPTION};
use crate::builder::{Location, LogBuilder, NewResult, PACKAGE_ROOT};
use crate::fingerprint::{fingerprint, EVIDENCE_HASH_SCHEME};
use crate::model::Log;
use crate::rules::{change_kind_token, change_rule, RuleInfo};
use crate::uri::relative_uri;
use crate::verdict::{category, package_property, verdict_property, with_reason};

/// What [`diff_log`] needs beside the changes and the verdict.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffContext<'a> {
    /// A change's evidence hash → the scoring rule that claims it (the
    /// caller has the scoring rules).
    pub claims: Option<&'a BTreeMap<String, String>>,
    /// The newer release's results: where its findings are, and what
    /// they say.
    pub next_static: Option<&'a StaticResult>,
    pub next_dynamic: Option<&'a DynamicResult>,
}

impl DiffContext<'_> {
    /// The newer release's finding of `rule_id`, static first.
    fn finding(&self, rule_id: &str) -> Option<&Finding> {
        let statics = self.next_static.map(|s| s.findings.as_slice());
        let dynamics = self.next_dynamic.map(|d| d.findings.as_slice());
        statics
            .unwrap_or_default()
            .iter()
            .chain(dynamics.unwrap_or_default())
            .find(|f| f.rule_id == rule_id)
    }
}

/// The SARIF log of `paddock diff`: the rules, one result per change, and
/// the newer release's verdict.
pub fn diff_log(
    rules: &[RuleInfo],
    change: &BehaviorChange,
    verdict: &Verdict,
    context: &DiffContext<'_>,
) -> Log {
    let mut log = LogBuilder::paddock();
    log.base(PACKAGE_ROOT, PACKAGE_ROOT_DESCRIPTION);
    for rule in rules {
        log.rule(rule);
    }
    let package = change.package.clone().unwrap_or_default();
    let added = change
        .changes
        .iter()
        .filter(|c| c.action() == ChangeAction::Added)
        .count();
    log.category(&category("diff", &package))
        .run_property("package", package_property(&package))
        .run_property("previousVersion", change.previous_version.as_str())
        .run_property("verdict", verdict_property(verdict))
        .run_property(
            "changes",
            json!({"added": added, "removed": change.changes.len() - added}),
        );
    for c in &change.changes {
        let rule_id = rule_of(&mut log, c, context);
        let r = change_result(&rule_id, c, context.next_static);
        log.result(with_reason(r, verdict))
            .expect("the rule is added and the locations are checked");
    }
    log.build()
}

/// The rule a change counts under (see the module documentation), added
/// to the log when the caller did not list it.
fn rule_of(log: &mut LogBuilder, c: &Change, context: &DiffContext<'_>) -> String {
    if c.action() == ChangeAction::Added {
        let claimed = context
            .claims
            .and_then(|claims| claims.get(&c.evidence_hash))
            .filter(|id| log.has_rule(id));
        if let Some(id) = claimed {
            return id.clone();
        }
    }
    if matches!(c.kind(), ChangeKind::Capability | ChangeKind::Finding) {
        if log.has_rule(&c.value) {
            return c.value.clone();
        }
        if let Some(f) = context.finding(&c.value) {
            log.rule(&RuleInfo::from_finding(f));
            return c.value.clone();
        }
    }
    let rule = change_rule(c.kind());
    log.rule(&rule);
    rule.id
}

/// The phase a change was seen in: its dynamic phase, else `static`, or
/// `dynamic` for a dynamic kind of unknown phase (as the profile keys it).
fn phase_name(c: &Change) -> &'static str {
    match c.phase() {
        Phase::Install => "install",
        Phase::Import => "import",
        Phase::Execute => "execute",
        Phase::Unspecified => match c.kind() {
            ChangeKind::Host
            | ChangeKind::DnsName
            | ChangeKind::Command
            | ChangeKind::FileWrite
            | ChangeKind::FileRead
            | ChangeKind::FileDelete
            | ChangeKind::Finding => "dynamic",
            _ => "static",
        },
    }
}

/// Where in the newer release's files a change is, if it is in one.
fn file_location(c: &Change, next: Option<&StaticResult>) -> Option<Location> {
    let first = c.evidence.first();
    match c.kind() {
        ChangeKind::Capability if c.action() == ChangeAction::Added => next?
            .findings
            .iter()
            .filter(|f| f.rule_id == c.value)
            .flat_map(|f| f.evidence.iter())
            .find_map(evidence_location),
        ChangeKind::BundledBinary => first
            .map(|e| e.file.as_str())
            .filter(|f| !f.is_empty() && relative_uri(f).is_ok())
            .map(|f| Location::file(PACKAGE_ROOT, f)),
        // `<kind> <name>: <command>`, as the profile records it: at the
        // file that declares the hook (the manifest, setup.py…).
        ChangeKind::InstallHook => {
            let detail = first?.detail.as_str();
            next?
                .metadata
                .as_ref()?
                .install_hooks
                .iter()
                .find(|h| detail.starts_with(&format!("{} {}:", hook_kind_token(h.kind()), h.name)))
                .map(|h| h.file.as_str())
                .filter(|f| !f.is_empty() && relative_uri(f).is_ok())
                .map(|f| Location::file(PACKAGE_ROOT, f))
        }
        // `path signal`, as the profile records it.
        ChangeKind::Obfuscation => first
            .and_then(|e| e.detail.rsplit_once(' '))
            .map(|(path, _)| path)
            .filter(|p| !p.is_empty() && relative_uri(p).is_ok())
            .map(|p| Location::file(PACKAGE_ROOT, p)),
        _ => None,
    }
}

fn change_result(rule_id: &str, c: &Change, next: Option<&StaticResult>) -> NewResult {
    let kind = change_kind_token(c.kind());
    let phase = phase_name(c);
    let added = c.action() == ChangeAction::Added;
    let action = if added { "added" } else { "removed" };
    let mut text = format!("{action} {} ({phase}): {}", kind.replace('_', " "), c.value);
    let detail = c
        .evidence
        .first()
        .map(|e| {
            if e.detail.is_empty() {
                e.snippet.as_str()
            } else {
                e.detail.as_str()
            }
        })
        .unwrap_or_default();
    if !detail.is_empty() && detail != c.value {
        text.push_str(&format!("; evidence: {detail}"));
    }
    let hash = if c.evidence_hash.is_empty() {
        fingerprint(&[kind, phase, &c.value])
    } else {
        c.evidence_hash.clone()
    };
    let mut r = NewResult::new(rule_id, &text)
        .fingerprint(EVIDENCE_HASH_SCHEME, hash.clone())
        .property("action", action)
        .property("changeKind", kind)
        .property("value", crate::text::bounded(&c.value, 1024))
        .property("phase", phase)
        .property("evidenceHash", hash);
    if !added {
        r = r.informational();
    }
    let sandbox_path = c
        .evidence
        .first()
        .map(|e| e.file.as_str())
        .filter(|f| !f.is_empty() && phase != "static");
    if let Some(path) = sandbox_path {
        r = r.property("sandboxPath", crate::text::bounded(path, 1024));
    }
    let at = file_location(c, next)
        .unwrap_or_else(|| Location::base(PACKAGE_ROOT).message("the package as a whole"))
        .logical(phase_location(phase));
    r.at(at)
}
