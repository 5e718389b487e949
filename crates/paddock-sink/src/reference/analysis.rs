//! The `analysis` table's record: package-analysis `DynamicAnalysisRecord`,
//! so that the reference system's consumers can read Paddock's results: Go
//! field names, the last 4 KiB of stdout/stderr as base64,
//! `Files`/`Sockets`/`Commands`/`DNS` per phase.
//!
//! Differences, all in favour of compatibility: phases that were skipped
//! are left out (the reference never runs them either); Paddock's
//! `error_limit` has no reference equivalent and is written as
//! `error_analysis` (the package did it); sockets are connect and sendto
//! attempts, one per address and port.

use std::collections::BTreeSet;

use base64::Engine;
use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{AnalysisStatus, DynamicResult, Phase, PhaseResult, SocketOp};
use serde_json::{json, Map, Value};

/// How much of stdout and stderr the reference keeps: the last 4 KiB.
const OUTPUT_TAIL: usize = 4096;

/// The reference record of `result`. `CreatedTimestamp` is the result's
/// `created_at` in whole unix seconds (0 when unset).
pub fn dynamic_record(result: &DynamicResult) -> Value {
    let package = result.package.clone().unwrap_or_default();
    let mut analysis = Map::new();
    // The gated rerun of the import has no place in the reference's
    // record: its `import` is the plain one.
    for p in result.phases.iter().filter(|p| p.variant.is_empty()) {
        if let Some((phase, summary)) = phase_summary(p) {
            analysis.insert(phase.to_owned(), summary);
        }
    }
    json!({
        "Package": {
            "Ecosystem": cli_name(package.ecosystem()),
            "Name": package.name,
            "Version": package.version,
        },
        "CreatedTimestamp": result.created_at.as_ref().map(|t| t.seconds).unwrap_or(0),
        "Analysis": analysis,
    })
}

/// The phase's key under `Analysis` and its `StraceSummary`, or `None` for
/// a phase that did not run or that the reference does not know.
fn phase_summary(p: &PhaseResult) -> Option<(&'static str, Value)> {
    let status = match AnalysisStatus::try_from(p.status).unwrap_or(AnalysisStatus::Unspecified) {
        AnalysisStatus::Skipped | AnalysisStatus::Unspecified => return None,
        AnalysisStatus::Completed => "completed",
        AnalysisStatus::ErrorTimeout => "error_timeout",
        AnalysisStatus::ErrorOther => "error_other",
        AnalysisStatus::ErrorAnalysis | AnalysisStatus::ErrorLimit => "error_analysis",
    };
    let phase = match Phase::try_from(p.phase) {
        Ok(Phase::Install) => "install",
        Ok(Phase::Import) => "import",
        Ok(Phase::Execute) => "execute",
        _ => return None,
    };
    let files: Vec<Value> = p
        .files
        .iter()
        .map(|f| json!({"Path": f.path, "Read": f.read, "Write": f.write, "Delete": f.delete}))
        .collect();
    let mut sockets: Vec<Value> = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &p.sockets {
        let op = SocketOp::try_from(s.op).unwrap_or(SocketOp::Unspecified);
        if !matches!(op, SocketOp::Connect | SocketOp::Sendto) || s.address.is_empty() {
            continue;
        }
        if seen.insert((s.address.as_str(), s.port)) {
            sockets.push(json!({"Address": s.address, "Port": s.port, "Hostnames": s.hostnames}));
        }
    }
    let commands: Vec<Value> = p
        .commands
        .iter()
        .map(|c| json!({"Command": c.argv, "Environment": c.env}))
        .collect();
    let dns: Vec<Value> = if p.dns.is_empty() {
        Vec::new()
    } else {
        let queries: Vec<Value> = p
            .dns
            .iter()
            .map(|q| json!({"Hostname": q.hostname, "Types": q.types}))
            .collect();
        vec![json!({"Class": "IN", "Queries": queries})]
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    Some((
        phase,
        json!({
            "Status": status,
            "Stdout": b64.encode(tail(&p.stdout_tail)),
            "Stderr": b64.encode(tail(&p.stderr_tail)),
            "Files": files,
            "Sockets": sockets,
            "Commands": commands,
            "DNS": dns,
        }),
    ))
}

fn tail(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.len().saturating_sub(OUTPUT_TAIL)..]
}
