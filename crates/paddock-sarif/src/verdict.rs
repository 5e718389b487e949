//! The verdict and the package as properties: `run.properties.verdict`
//! (severity, score, the top reasons) and, on each result whose rule is
//! one of those reasons, `properties.verdictReason` (its index there) and
//! `verdictWeight`.

use paddock_proto::ecosystem::{cli_name, severity_token};
use paddock_proto::v1::{PackageRef, Severity, Verdict};
use serde_json::{json, Value};

use crate::builder::NewResult;

/// How many of the verdict's reasons (best first) the run lists.
pub const TOP_REASONS: usize = 10;

/// `run.properties.verdict`.
pub fn verdict_property(verdict: &Verdict) -> Value {
    let reasons: Vec<Value> = verdict
        .reasons
        .iter()
        .take(TOP_REASONS)
        .map(|r| {
            json!({
                "source": r.source,
                "code": r.code,
                "severity": severity_token(Severity::try_from(r.severity).unwrap_or_default()),
                "weight": finite(r.weight),
                "description": crate::text::bounded(&crate::text::clean(&r.description), 1024),
            })
        })
        .collect();
    let mut v = json!({
        "severity": severity_token(verdict.severity()),
        "score": finite(verdict.score),
        "scoringVersion": verdict.scoring_version,
        "reasons": reasons,
        "reasonCount": verdict.reasons.len(),
        "hasStatic": verdict.has_static,
        "hasDynamic": verdict.has_dynamic,
    });
    if !verdict.previous_version.is_empty() {
        v["previousVersion"] = Value::String(verdict.previous_version.clone());
    }
    v
}

/// `x` to three decimals (weights and confidences are computed from
/// `f32` confidences, whose noise digits say nothing), and 0 for NaN or
/// infinity, which JSON cannot hold.
pub(crate) fn finite(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

/// `run.properties.package`.
pub fn package_property(package: &PackageRef) -> Value {
    json!({
        "ecosystem": cli_name(package.ecosystem()),
        "name": package.name,
        "version": package.version,
    })
}

/// The run's category for a command: `paddock/<command>/<ecosystem>/<name>`.
pub fn category(command: &str, package: &PackageRef) -> String {
    format!(
        "paddock/{command}/{}/{}",
        cli_name(package.ecosystem()),
        package.name
    )
}

/// `r` with a reference to the listed verdict reason of its rule, if any.
pub fn with_reason(r: NewResult, verdict: &Verdict) -> NewResult {
    match verdict
        .reasons
        .iter()
        .take(TOP_REASONS)
        .position(|reason| reason.code == r.rule_id)
    {
        Some(i) => {
            let weight = finite(verdict.reasons[i].weight);
            r.property("verdictReason", i)
                .property("verdictWeight", weight)
        }
        None => r,
    }
}
