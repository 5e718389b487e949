//! The reference system's static record (package-analysis
//! `staticanalysis.Record`, schema 1.0): snake_case JSON, one entry per
//! regular file in lexical order, the `js` block for JavaScript and
//! TypeScript only (the reference parses nothing else), identifier types
//! limited to the five it keeps.

use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{IdentifierKind, Language, StaticResult, SuspiciousIdentifierRule};
use serde_json::{json, Map, Value};

/// The record for `result`, created at `created` (RFC 3339).
pub fn record(result: &StaticResult, created: &str) -> Value {
    let package = result.package.clone().unwrap_or_default();
    let mut files: Vec<Value> = result.files.iter().map(file).collect();
    files.sort_by(|a, b| a["filename"].as_str().cmp(&b["filename"].as_str()));
    json!({
        "schema_version": "1.0",
        "ecosystem": cli_name(package.ecosystem()),
        "name": package.name,
        "version": package.version,
        "created": created,
        "results": { "files": files },
    })
}

fn counts(list: &[paddock_proto::v1::ValueCount]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| json!({"value": c.value, "count": c.count}))
            .collect(),
    )
}

fn file(f: &paddock_proto::v1::FileFacts) -> Value {
    let mut out = Map::new();
    out.insert("filename".into(), json!(f.path));
    out.insert("detected_type".into(), json!(f.detected_type));
    out.insert("size".into(), json!(f.size));
    out.insert("sha256".into(), json!(f.sha256));
    out.insert("line_lengths".into(), counts(&f.line_lengths));
    let js = matches!(
        Language::try_from(f.language),
        Ok(Language::Javascript | Language::Typescript)
    );
    if let (true, Some(p)) = (js, &f.parse) {
        let identifiers: Vec<Value> = p
            .identifiers
            .iter()
            .filter_map(|i| {
                let kind = match IdentifierKind::try_from(i.kind).ok()? {
                    IdentifierKind::Function => "Function",
                    IdentifierKind::Variable => "Variable",
                    IdentifierKind::Parameter => "Parameter",
                    IdentifierKind::Class => "Class",
                    IdentifierKind::Property => "Property",
                    _ => return None,
                };
                Some(json!({"name": i.name, "type": kind, "entropy": i.entropy}))
            })
            .collect();
        out.insert(
            "js".into(),
            json!({
                "identifiers": identifiers,
                "string_literals": p.string_literals.iter().map(|s| json!({"value": s.value, "raw": s.raw, "entropy": s.entropy})).collect::<Vec<_>>(),
                "int_literals": p.int_literals.iter().map(|n| json!({"value": n.value, "raw": n.raw})).collect::<Vec<_>>(),
                "float_literals": p.float_literals.iter().map(|n| json!({"value": n.value, "raw": n.raw})).collect::<Vec<_>>(),
                "comments": p.comments.iter().map(|c| json!({"text": c.text})).collect::<Vec<_>>(),
            }),
        );
        out.insert("identifier_lengths".into(), counts(&p.identifier_lengths));
        out.insert("string_lengths".into(), counts(&p.string_lengths));
    }
    if let (true, Some(s)) = (js, &f.signals) {
        out.insert("base64_strings".into(), json!(s.base64_strings));
        out.insert("hex_strings".into(), json!(s.hex_strings));
        out.insert("ip_addresses".into(), json!(s.ip_addresses));
        out.insert("urls".into(), json!(s.urls));
        out.insert(
            "suspicious_identifiers".into(),
            Value::Array(
                s.suspicious_identifiers
                    .iter()
                    .map(|i| {
                        let rule = match SuspiciousIdentifierRule::try_from(i.rule) {
                            Ok(SuspiciousIdentifierRule::Hex) => "hex",
                            Ok(SuspiciousIdentifierRule::Numeric) => "numeric",
                            Ok(SuspiciousIdentifierRule::Single) => "single",
                            _ => "",
                        };
                        json!({"name": i.name, "rule": rule})
                    })
                    .collect(),
            ),
        );
        out.insert(
            "escaped_strings".into(),
            Value::Array(s.escaped_strings.iter().map(|e| json!({"value": e.value, "raw": e.raw, "levenshtein_dist": e.levenshtein_dist})).collect()),
        );
    }
    Value::Object(out)
}
