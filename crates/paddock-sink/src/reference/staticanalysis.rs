//! The `staticanalysis` table's record: package-analysis
//! `staticanalysis.Record`, schema 1.0. Snake_case JSON, one entry per
//! regular file in lexical order, the `js` block and the signals for
//! JavaScript and TypeScript only (the reference parses nothing else),
//! identifier types limited to the five it keeps.
//!
//! A float literal whose value is not finite (`1e999`) is written as 0
//! with its raw text: what the reference stores after its parser's JSON
//! round trip (`JSON.stringify` gives `null`, Go reads it as 0), and the
//! column is REQUIRED.

use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{
    FileFacts, IdentifierKind, Language, StaticResult, SuspiciousIdentifierRule, ValueCount,
};
use serde_json::{json, Map, Value};

/// The record's `schema_version`.
pub const SCHEMA_VERSION: &str = "1.0";

/// The reference record of `result`, created at `created` (RFC 3339; the
/// sink passes the result's `created_at`, UTC with `Z`).
pub fn static_record(result: &StaticResult, created: &str) -> Value {
    let package = result.package.clone().unwrap_or_default();
    let mut files: Vec<Value> = result.files.iter().map(file).collect();
    files.sort_by(|a, b| a["filename"].as_str().cmp(&b["filename"].as_str()));
    json!({
        "schema_version": SCHEMA_VERSION,
        "ecosystem": cli_name(package.ecosystem()),
        "name": package.name,
        "version": package.version,
        "created": created,
        "results": { "files": files },
    })
}

fn counts(list: &[ValueCount]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| json!({"value": c.value, "count": c.count}))
            .collect(),
    )
}

fn identifier_type(kind: i32) -> Option<&'static str> {
    Some(match IdentifierKind::try_from(kind).ok()? {
        IdentifierKind::Function => "Function",
        IdentifierKind::Variable => "Variable",
        IdentifierKind::Parameter => "Parameter",
        IdentifierKind::Class => "Class",
        IdentifierKind::Property => "Property",
        _ => return None,
    })
}

fn rule_name(rule: i32) -> &'static str {
    match SuspiciousIdentifierRule::try_from(rule) {
        Ok(SuspiciousIdentifierRule::Hex) => "hex",
        Ok(SuspiciousIdentifierRule::Numeric) => "numeric",
        Ok(SuspiciousIdentifierRule::Single) => "single",
        _ => "",
    }
}

fn file(f: &FileFacts) -> Value {
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
    if !js {
        return Value::Object(out);
    }
    if let Some(p) = &f.parse {
        let identifiers: Vec<Value> = p
            .identifiers
            .iter()
            .filter_map(|i| {
                let kind = identifier_type(i.kind)?;
                Some(json!({"name": i.name, "type": kind, "entropy": i.entropy}))
            })
            .collect();
        let string_literals: Vec<Value> = p
            .string_literals
            .iter()
            .map(|s| json!({"value": s.value, "raw": s.raw, "entropy": s.entropy}))
            .collect();
        let int_literals: Vec<Value> = p
            .int_literals
            .iter()
            .map(|n| json!({"value": n.value, "raw": n.raw}))
            .collect();
        let float_literals: Vec<Value> = p
            .float_literals
            .iter()
            .map(|n| {
                let value = if n.value.is_finite() { n.value } else { 0.0 };
                json!({"value": value, "raw": n.raw})
            })
            .collect();
        let comments: Vec<Value> = p.comments.iter().map(|c| json!({"text": c.text})).collect();
        out.insert(
            "js".into(),
            json!({
                "identifiers": identifiers,
                "string_literals": string_literals,
                "int_literals": int_literals,
                "float_literals": float_literals,
                "comments": comments,
            }),
        );
        out.insert("identifier_lengths".into(), counts(&p.identifier_lengths));
        out.insert("string_lengths".into(), counts(&p.string_lengths));
    }
    if let Some(s) = &f.signals {
        out.insert("base64_strings".into(), json!(s.base64_strings));
        out.insert("hex_strings".into(), json!(s.hex_strings));
        out.insert("ip_addresses".into(), json!(s.ip_addresses));
        out.insert("urls".into(), json!(s.urls));
        let suspicious: Vec<Value> = s
            .suspicious_identifiers
            .iter()
            .map(|i| json!({"name": i.name, "rule": rule_name(i.rule)}))
            .collect();
        out.insert("suspicious_identifiers".into(), Value::Array(suspicious));
        let escaped: Vec<Value> = s
            .escaped_strings
            .iter()
            .map(
                |e| json!({"value": e.value, "raw": e.raw, "levenshtein_dist": e.levenshtein_dist}),
            )
            .collect();
        out.insert("escaped_strings".into(), Value::Array(escaped));
    }
    Value::Object(out)
}
