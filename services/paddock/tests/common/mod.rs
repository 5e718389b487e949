//! What the `paddock` binary's tests share: the binary with a clean
//! environment, and its output as text.
#![allow(dead_code)] // each test file uses some of it

use std::process::{Command, Output};

pub const PADDOCK: &str = env!("CARGO_BIN_EXE_paddock");

/// A command with a clean environment: no PADDOCK__ variables leak in from
/// the developer's shell.
pub fn paddock() -> Command {
    let mut cmd = Command::new(PADDOCK);
    for (key, _) in std::env::vars() {
        if key.starts_with("PADDOCK") && key != "PADDOCK_NATS_SERVER" {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// [`paddock`] configured for `registry` (its URLs, and short retries).
pub fn paddock_for(registry: &paddock_testkit::registry::FixtureRegistry) -> Command {
    let mut cmd = paddock();
    cmd.envs(registry.env_vars());
    cmd.env("PADDOCK__REGISTRIES__HTTP__BACKOFF_INITIAL", "10ms");
    cmd
}

/// Runs `cmd` to completion off the async runtime's threads.
pub async fn run_async(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("running paddock"))
        .await
        .expect("the command's thread")
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("running paddock")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The SARIF 2.1.0 schema, read as draft 7 as well as draft 4 as it
/// declares itself: draft 4 has no `uri-reference` format, draft 7 checks
/// it (the schema uses no keyword whose meaning differs between the two).
static SARIF_SCHEMAS: std::sync::LazyLock<[jsonschema::Validator; 2]> =
    std::sync::LazyLock::new(|| {
        let text =
            include_str!("../../../../crates/paddock-sarif/tests/data/sarif-schema-2.1.0.json");
        let schema: serde_json::Value = serde_json::from_str(text).unwrap();
        let build = |draft: Option<jsonschema::Draft>| {
            let mut options = jsonschema::options().should_validate_formats(true);
            if let Some(d) = draft {
                options = options.with_draft(d);
            }
            options.build(&schema).unwrap()
        };
        [build(None), build(Some(jsonschema::Draft::Draft7))]
    });

/// Where `log` breaks the SARIF 2.1.0 schema (empty when it validates).
pub fn sarif_schema_errors(log: &serde_json::Value) -> Vec<String> {
    SARIF_SCHEMAS
        .iter()
        .flat_map(|schema| {
            schema
                .iter_errors(log)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect::<Vec<_>>()
        })
        .collect()
}
