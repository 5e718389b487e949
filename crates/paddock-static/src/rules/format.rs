//! The rule files' serde types (documented in `rules/README.md`). Unknown
//! keys are errors, so that a misspelt key never silently disables a
//! rule.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `ruleset.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetFile {
    pub version: String,
    #[serde(default)]
    pub description: String,
}

/// A file of rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

fn default_confidence() -> f32 {
    0.8
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub title: String,
    pub severity: String,
    #[serde(default = "default_confidence")]
    pub confidence: f32,
    pub technique: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// `any` (default) or `install`.
    pub scope: Option<String>,
    /// Only packages of these ecosystems (all when empty).
    #[serde(default)]
    pub ecosystems: Vec<String>,
    #[serde(rename = "match")]
    pub matcher: MatchSpec,
    #[serde(rename = "example", default)]
    pub examples: Vec<ExampleSpec>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    pub present: Option<Vec<String>>,
    pub absent: Option<Vec<String>>,
    pub flow: Option<FlowSpec>,
    pub query: Option<OneOrMany<QuerySpec>>,
    pub yara: Option<String>,
    pub signal: Option<SignalName>,
    pub manifest: Option<ManifestSpec>,
    pub all: Option<Vec<MatchSpec>>,
    pub any: Option<Vec<MatchSpec>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    pub from: Vec<String>,
    pub to: Vec<String>,
    #[serde(default)]
    pub with: Vec<String>,
    /// The sink call also carries at least one of these classes (where
    /// the data goes: a literal host, a decoded string…).
    #[serde(default)]
    pub toward: Vec<String>,
    /// What the sink call acts on (its first argument: the path written,
    /// the command run; or the object it is called on) carries none of
    /// these classes.
    #[serde(default)]
    pub not_into: Vec<String>,
    /// What the sink call acts on carries at least one of these classes
    /// (the command run is `curl`; the code evaluated was decoded).
    #[serde(default)]
    pub into: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    pub language: String,
    /// A tree-sitter query; the capture `@hit` (else the first capture)
    /// is the evidence.
    pub pattern: String,
}

/// Signals of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalName {
    /// Mangled identifiers and escaped strings (the reference's test).
    Obfuscated,
    /// Minified: long lines of dense code.
    Minified,
    /// A hidden stage of code was decoded from a literal.
    HiddenStage,
    /// Decoding stopped at a limit.
    DecodingLimit,
    /// A compiled executable or library.
    BundledBinary,
    /// The file is text (UTF-8 without NUL bytes), not a document or
    /// binary whose bytes happen to spell something.
    Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSpec {
    /// `install-hook`, `look-alike-name`, `dependency-confusion-version`,
    /// `url-dependency`, `repository-mismatch`, `bin-shadows-command`,
    /// `bundled-binary`.
    pub fact: String,
    /// install-hook: hook names (`preinstall`, `setup.py`, `build.rs`…).
    #[serde(default)]
    pub hooks: Vec<String>,
    /// install-hook: the command matches this.
    pub command: Option<String>,
    /// install-hook: …and does not match this.
    pub not_command: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleSpec {
    /// `match` or `no-match`.
    pub expect: String,
    /// One file: its path and content.
    pub file: Option<String>,
    pub code: Option<String>,
    /// Several files: path → content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    pub package: Option<ExamplePackage>,
    pub ecosystem: Option<String>,
    /// What the registry says of the package (for `new-package` and
    /// `dependency-confusion-version`).
    pub registry: Option<ExampleRegistry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleRegistry {
    pub age_days: Option<u32>,
    pub previous_releases: Option<u32>,
    pub maintainers_changed: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamplePackage {
    pub name: String,
    pub version: String,
}
