//! [`analyze_log`]: one release's findings, static and dynamic, with its
//! verdict.
//!
//! - A static finding is located at its first evidence whose file is a
//!   path in the package (relative to [`PACKAGE_ROOT`]), with its line,
//!   column and snippet; further evidence are related locations. Evidence
//!   inside a decoded stage (`layers`) names the outer file but a line of
//!   the decoded text, so it gets no region: the layers go in the message.
//! - A dynamic finding has no file in the package (its evidence names
//!   paths inside the sandbox): it is located at the package root with a
//!   logical location per sandbox phase, and its evidence (phase, detail,
//!   sandbox path) is in the message, related locations and properties.
//! - A finding whose rule the caller did not list gets a rule made from
//!   the finding ([`RuleInfo::from_finding`]): nothing is left out.

use paddock_proto::ecosystem::severity_token;
use paddock_proto::v1::{
    AnalysisStatus, DynamicResult, Evidence, Finding, Phase, Reachability, Severity, StaticResult,
    Verdict,
};
use serde_json::{json, Value};

use crate::builder::{Location, LogBuilder, NewResult, PACKAGE_ROOT};
use crate::fingerprint::{finding_fingerprint, Occurrences, FINDING_SCHEME};
use crate::model::{Level, Log, LogicalLocation};
use crate::rules::{category_tag, level, RuleInfo};
use crate::text::bounded;
use crate::uri::relative_uri;
use crate::verdict::{category, package_property, verdict_property, with_reason};

/// What [`PACKAGE_ROOT`] stands for.
pub const PACKAGE_ROOT_DESCRIPTION: &str =
    "the root of the analysed package as extracted (an archive's own top directory, such as \
     npm's `package/`, is kept in every path)";

/// The SARIF log of `paddock analyze`: the rules, every finding of the
/// static result and of the dynamic one, and the verdict.
pub fn analyze_log(
    rules: &[RuleInfo],
    result: &StaticResult,
    dynamic: Option<&DynamicResult>,
    verdict: &Verdict,
) -> Log {
    let version = result
        .run
        .as_ref()
        .map(|r| r.analyzer_version.as_str())
        .filter(|v| !v.is_empty())
        .unwrap_or(env!("CARGO_PKG_VERSION"));
    let mut log = LogBuilder::new("paddock", version);
    log.base(PACKAGE_ROOT, PACKAGE_ROOT_DESCRIPTION);
    for rule in rules {
        log.rule(rule);
    }
    let package = result.package.clone().unwrap_or_default();
    log.category(&category("analyze", &package))
        .run_property("package", package_property(&package))
        .run_property("verdict", verdict_property(verdict));
    if let Some(a) = &result.artifact {
        log.run_property(
            "artifact",
            json!({"filename": a.filename, "size": a.size, "sha256": a.sha256}),
        );
    }
    if let Some(version) = result.findings.first().map(|f| &f.rule_version) {
        log.tool_property("ruleSetVersion", version.as_str());
    }
    invocation(&mut log, result, dynamic);

    let mut occurrences = Occurrences::default();
    for f in &result.findings {
        let r = static_result(f, &mut occurrences);
        add(&mut log, f, with_reason(r, verdict));
    }
    for f in dynamic.map(|d| d.findings.as_slice()).unwrap_or_default() {
        let r = dynamic_result(f, &mut occurrences);
        add(&mut log, f, with_reason(r, verdict));
    }
    log.build()
}

/// Adds `r`, and first the rule of `f` when the log lacks it.
fn add(log: &mut LogBuilder, f: &Finding, r: NewResult) {
    if !log.has_rule(&f.rule_id) {
        log.rule(&RuleInfo::from_finding(f));
    }
    // Every location was checked with `relative_uri` and every base is
    // declared: the builder has nothing to refuse.
    log.result(r)
        .expect("the rule is added and the locations are checked");
}

/// Whether the run completed, with a notification for each analysis that
/// did not: executionSuccessful unless an analysis stopped short (a
/// package that fails its own install is a completed analysis).
fn invocation(log: &mut LogBuilder, result: &StaticResult, dynamic: Option<&DynamicResult>) {
    let mut notes = Vec::new();
    let mut successful = true;
    let mut check = |what: String, status: AnalysisStatus, detail: &str| {
        let name = status
            .as_str_name()
            .trim_start_matches("ANALYSIS_STATUS_")
            .to_lowercase();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        match status {
            AnalysisStatus::Completed => {}
            AnalysisStatus::ErrorAnalysis | AnalysisStatus::Skipped => {
                notes.push((Level::Note, format!("{what}: {name}{detail}")));
            }
            _ => {
                successful = false;
                notes.push((Level::Error, format!("{what}: {name}{detail}")));
            }
        }
    };
    check(
        "static analysis".into(),
        result.status(),
        &result.status_detail,
    );
    if let Some(d) = dynamic {
        check("dynamic analysis".into(), d.status(), &d.status_detail);
        for p in &d.phases {
            if p.status() != AnalysisStatus::Completed {
                let variant = if p.variant.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", p.variant)
                };
                check(
                    format!("{} phase{variant}", phase_token(p.phase())),
                    p.status(),
                    &p.status_detail,
                );
            }
        }
    }
    log.invocation(successful, &notes);
}

fn phase_token(phase: Phase) -> &'static str {
    match phase {
        Phase::Install => "install",
        Phase::Import => "import",
        Phase::Execute => "execute",
        Phase::Unspecified => "dynamic",
    }
}

fn reachability_token(r: Reachability) -> &'static str {
    match r {
        Reachability::Install => "install",
        Reachability::Import => "import",
        Reachability::Execute => "execute",
        Reachability::Library => "library",
        Reachability::Unreached => "unreached",
        Reachability::Unspecified => "",
    }
}

/// The location of static evidence in the package's files, if its file is
/// a path there.
pub(crate) fn evidence_location(e: &Evidence) -> Option<Location> {
    if e.file.is_empty() || relative_uri(&e.file).is_err() {
        return None;
    }
    let location = Location::file(PACKAGE_ROOT, &e.file);
    Some(if e.layers.is_empty() {
        location.line(e.line).column(e.column).snippet(&e.snippet)
    } else {
        // The line is one of the decoded text: no region in the file.
        location.message(&format!(
            "decoded ({}){}",
            e.layers.join(" → "),
            if e.line > 0 {
                format!(", line {} of the decoded text", e.line)
            } else {
                String::new()
            }
        ))
    })
}

/// `title: detail` and, inside decoded code, the layers.
fn message(f: &Finding, e: Option<&Evidence>) -> String {
    let title = if f.title.is_empty() {
        &f.rule_id
    } else {
        &f.title
    };
    let mut out = title.clone();
    if let Some(e) = e {
        if !e.detail.is_empty() {
            out.push_str(": ");
            out.push_str(&e.detail);
        }
        if !e.layers.is_empty() {
            out.push_str(&format!(" (in code decoded as {})", e.layers.join(" → ")));
        }
    }
    out
}

/// The properties every finding's result has.
fn finding_properties(mut r: NewResult, f: &Finding) -> NewResult {
    r = r.property("paddockSeverity", severity_token(f.severity()));
    if f.confidence > 0.0 {
        r = r.property(
            "confidence",
            crate::verdict::finite(f64::from(f.confidence)),
        );
    }
    if let Some(c) = category_tag(f.category()) {
        r = r.property("category", c);
    }
    if !f.technique.is_empty() {
        r = r.property("technique", f.technique.as_str());
    }
    if !f.rule_version.is_empty() {
        r = r.property("ruleVersion", f.rule_version.as_str());
    }
    let mut tags: Vec<&str> = Vec::new();
    for t in &f.tags {
        if !t.is_empty() && !tags.contains(&t.as_str()) {
            tags.push(t);
        }
    }
    if !tags.is_empty() {
        r = r.property("tags", json!(tags));
    }
    if f.severity() != Severity::Unspecified {
        r = r.level(level(f.severity()));
    }
    r
}

fn static_result(f: &Finding, occurrences: &mut Occurrences) -> NewResult {
    let located: Vec<(&Evidence, Location)> = f
        .evidence
        .iter()
        .filter_map(|e| evidence_location(e).map(|l| (e, l)))
        .collect();
    let primary = located.first().map(|(e, _)| *e).or(f.evidence.first());
    let mut r = NewResult::new(&f.rule_id, &message(f, primary)).fingerprint(
        FINDING_SCHEME,
        occurrences.next(finding_fingerprint(&f.rule_id, primary)),
    );
    r = finding_properties(r, f);
    let reach = reachability_token(f.reachability());
    if !reach.is_empty() {
        r = r.property("reachability", reach);
    }
    let mut located = located.into_iter();
    r = match located.next() {
        Some((_, l)) => r.at(l),
        None => r.at(Location::base(PACKAGE_ROOT).message("the package as a whole")),
    };
    for (e, l) in located {
        let what = if e.detail.is_empty() {
            &e.snippet
        } else {
            &e.detail
        };
        r = r.related(l.message(what));
    }
    if let Some(e) = primary {
        if !e.layers.is_empty() {
            r = r.property("layers", json!(e.layers));
        }
        // What a region could not hold is kept in the properties.
        if !e.snippet.is_empty() && (e.line == 0 || !e.layers.is_empty()) {
            r = r.property("snippet", bounded(&e.snippet, 1024));
        }
        if !e.file.is_empty() && relative_uri(&e.file).is_err() {
            r = r.property("evidenceFile", bounded(&e.file, 1024));
        }
    }
    r
}

/// A logical location for a sandbox phase.
pub(crate) fn phase_location(phase: &str) -> LogicalLocation {
    LogicalLocation {
        name: phase.to_owned(),
        fully_qualified_name: Some(if phase == "static" {
            "static".to_owned()
        } else {
            format!("dynamic/{phase}")
        }),
        kind: Some("phase".into()),
    }
}

fn dynamic_result(f: &Finding, occurrences: &mut Occurrences) -> NewResult {
    let first = f.evidence.first();
    let mut phases: Vec<&str> = Vec::new();
    for e in &f.evidence {
        let p = phase_token(e.phase());
        if !phases.contains(&p) {
            phases.push(p);
        }
    }
    if phases.is_empty() {
        phases.push(phase_token(Phase::Unspecified));
    }
    let mut text = message(f, first);
    if let Some(e) = first {
        text.push_str(&format!(" (in the {} phase", phase_token(e.phase())));
        if !e.file.is_empty() {
            text.push_str(&format!(", {}", e.file));
        }
        text.push(')');
    }
    let mut r = NewResult::new(&f.rule_id, &text).fingerprint(
        FINDING_SCHEME,
        occurrences.next(finding_fingerprint(&f.rule_id, first)),
    );
    r = finding_properties(r, f);
    let mut at = Location::base(PACKAGE_ROOT).message("the package, run in the sandbox");
    for p in &phases {
        at = at.logical(phase_location(p));
    }
    r = r.at(at).property("phases", json!(phases));
    let evidence: Vec<Value> = f
        .evidence
        .iter()
        .take(crate::builder::MAX_RELATED)
        .map(|e| {
            let mut v = json!({"phase": phase_token(e.phase())});
            for (key, value) in [
                ("detail", &e.detail),
                ("sandboxPath", &e.file),
                ("snippet", &e.snippet),
            ] {
                if !value.is_empty() {
                    v[key] = Value::String(bounded(value, 1024));
                }
            }
            if e.pid > 0 {
                v["pid"] = json!(e.pid);
            }
            v
        })
        .collect();
    if !evidence.is_empty() {
        r = r.property("evidence", Value::Array(evidence));
    }
    for e in f.evidence.iter().skip(1) {
        let phase = phase_token(e.phase());
        let what = [e.detail.as_str(), e.file.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        r = r.related(
            Location::base(PACKAGE_ROOT)
                .logical(phase_location(phase))
                .message(&format!("{phase} phase: {what}")),
        );
    }
    r
}
