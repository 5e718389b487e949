//! The published JSON schemas Paddock's outputs are checked against, built
//! once per test process.

use std::sync::LazyLock;

use serde_json::Value;

static OSV: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/paddock-osv/tests/data/osv-schema.json"
    );
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let schema: Value = serde_json::from_slice(&text).expect("the OSV schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OSV schema compiles")
});

/// The OSV schema's complaints about `value` (formats checked), each with
/// where it is; empty when `value` is a valid OSV record.
pub fn osv_errors(value: &Value) -> Vec<String> {
    OSV.iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
