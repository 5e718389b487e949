//! The reference system's dynamic-analysis record (package-analysis
//! `DynamicAnalysisRecord`), so that its consumers can read Paddock's
//! results: Go field names, the last 4 KiB of stdout/stderr as base64,
//! `Files`/`Sockets`/`Commands`/`DNS` per phase.
//!
//! Differences, all in the reference's favour of compatibility: phases
//! that were skipped are left out (the reference never runs them either);
//! Paddock's `error_limit` has no reference equivalent and is written as
//! `error_analysis` (the package did it); sockets are connect and sendto
//! attempts, one per address and port.

use base64::Engine;
use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{AnalysisStatus, DynamicResult, Phase, SocketOp};
use serde_json::{json, Value};

/// The record for `result`.
pub fn record(result: &DynamicResult) -> Value {
    let package = result.package.clone().unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut analysis = serde_json::Map::new();
    for p in &result.phases {
        let status = AnalysisStatus::try_from(p.status).unwrap_or(AnalysisStatus::Unspecified);
        let status = match status {
            AnalysisStatus::Skipped | AnalysisStatus::Unspecified => continue,
            AnalysisStatus::Completed => "completed",
            AnalysisStatus::ErrorTimeout => "error_timeout",
            AnalysisStatus::ErrorOther => "error_other",
            AnalysisStatus::ErrorAnalysis | AnalysisStatus::ErrorLimit => "error_analysis",
        };
        let phase = match Phase::try_from(p.phase) {
            Ok(Phase::Install) => "install",
            Ok(Phase::Import) => "import",
            Ok(Phase::Execute) => "execute",
            _ => continue,
        };
        let files: Vec<Value> = p
            .files
            .iter()
            .map(|f| json!({"Path": f.path, "Read": f.read, "Write": f.write, "Delete": f.delete}))
            .collect();
        let mut sockets: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for s in &p.sockets {
            let op = SocketOp::try_from(s.op).unwrap_or(SocketOp::Unspecified);
            if !matches!(op, SocketOp::Connect | SocketOp::Sendto) || s.address.is_empty() {
                continue;
            }
            if seen.insert((s.address.clone(), s.port)) {
                sockets
                    .push(json!({"Address": s.address, "Port": s.port, "Hostnames": s.hostnames}));
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
            vec![json!({
                "Class": "IN",
                "Queries": p.dns.iter().map(|q| json!({"Hostname": q.hostname, "Types": q.types})).collect::<Vec<_>>(),
            })]
        };
        analysis.insert(
            phase.to_owned(),
            json!({
                "Status": status,
                "Stdout": b64.encode(tail(&p.stdout_tail)),
                "Stderr": b64.encode(tail(&p.stderr_tail)),
                "Files": files,
                "Sockets": sockets,
                "Commands": commands,
                "DNS": dns,
            }),
        );
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

/// The reference keeps the last 4 KiB.
fn tail(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.len().saturating_sub(4096)..]
}
