//! Text and byte rules: YARA, run by boreal (a YARA-compatible engine in
//! Rust: no C library, no wasmtime; see `rules/README.md` for the choice).
//!
//! A Paddock rule's `yara` source is compiled into a namespace of its own,
//! and the rule fires when any YARA rule in that namespace matches. A
//! plain `.yar` file becomes one Paddock rule per YARA rule in it, with id
//! `yara.<rule name>` (or its `meta: id`), severity, confidence, title,
//! technique and description taken from its `meta:` (defaults: medium,
//! 0.6, the rule's name).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use boreal::scanner::ScanParams;
use paddock_proto::v1::{FindingCategory, Severity};
use regex::Regex;

use super::{Match, Rule, RuleError, Scope};

/// Time one file's scan may take.
const SCAN_TIMEOUT: Duration = Duration::from_secs(2);

/// The compiled YARA rules of a rule set.
pub struct Yara {
    scanner: Option<boreal::Scanner>,
    /// (namespace, YARA rule name or "" for any) → Paddock rule index.
    rule_of: HashMap<(String, String), usize>,
}

impl std::fmt::Debug for Yara {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Yara")
            .field("rules", &self.rule_of.len())
            .finish()
    }
}

static RULE_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:(?:private|global)\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*)")
        .expect("valid regex")
});
static META: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?m)^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([0-9.]+|true|false))"#,
    )
    .expect("valid regex")
});

fn namespace(i: usize) -> String {
    format!("paddock_{i}")
}

/// `meta:` values of each rule in a YARA file, by rule name.
fn metas(text: &str) -> Vec<(String, HashMap<String, String>)> {
    let heads: Vec<(usize, String)> = RULE_HEAD
        .captures_iter(text)
        .map(|c| (c.get(0).map_or(0, |m| m.start()), c[1].to_owned()))
        .collect();
    let mut out = Vec::new();
    for (i, (start, name)) in heads.iter().enumerate() {
        let end = heads.get(i + 1).map_or(text.len(), |h| h.0);
        let body = &text[*start..end];
        let meta_block = body
            .find("meta:")
            .map(|m| {
                let rest = &body[m + 5..];
                let stop = ["strings:", "condition:"]
                    .iter()
                    .filter_map(|k| rest.find(k))
                    .min()
                    .unwrap_or(rest.len());
                &rest[..stop]
            })
            .unwrap_or("");
        let mut values = HashMap::new();
        for c in META.captures_iter(meta_block) {
            let v = c.get(2).or_else(|| c.get(3)).map_or("", |m| m.as_str());
            values.insert(c[1].to_owned(), v.to_owned());
        }
        out.push((name.clone(), values));
    }
    out
}

impl Yara {
    /// Compiles rules' `yara` sources (`(rule index, file, source)`) and
    /// plain YARA files, adding a Paddock rule per YARA rule of the files.
    pub fn compile(
        specs: &[(usize, String, String)],
        files: &[(String, String)],
        rules: &mut Vec<Rule>,
    ) -> Result<Self, RuleError> {
        let mut rule_of = HashMap::new();
        if specs.is_empty() && files.is_empty() {
            return Ok(Self {
                scanner: None,
                rule_of,
            });
        }
        let mut compiler = boreal::Compiler::new();
        for (index, file, source) in specs {
            let ns = namespace(*index);
            compiler
                .add_rules_str_in_namespace(source, &ns)
                .map_err(|e| {
                    RuleError::rule(
                        file,
                        &rules[*index].id,
                        format!("YARA does not compile: {}", one_line(&e.to_string())),
                    )
                })?;
            rule_of.insert((ns, String::new()), *index);
        }
        for (fi, (file, text)) in files.iter().enumerate() {
            let ns = format!("file_{fi}");
            compiler
                .add_rules_str_in_namespace(text, &ns)
                .map_err(|e| {
                    let rule = RULE_HEAD
                        .captures_iter(text)
                        .map(|c| c[1].to_owned())
                        .collect::<Vec<_>>()
                        .join(", ");
                    RuleError::rule(
                        file,
                        &rule,
                        format!("YARA does not compile: {}", one_line(&e.to_string())),
                    )
                })?;
            for (name, meta) in metas(text) {
                let id = meta
                    .get("id")
                    .cloned()
                    .unwrap_or_else(|| format!("threat.yara.{name}"));
                let category = match id.split('.').next() {
                    Some("capability") => FindingCategory::Capability,
                    Some("signal") => FindingCategory::Signal,
                    _ => FindingCategory::Threat,
                };
                let severity = match meta.get("severity") {
                    Some(s) => paddock_proto::ecosystem::parse_severity(s)
                        .map_err(|e| RuleError::rule(file, &name, e.to_string()))?,
                    None => Severity::Medium,
                };
                let confidence = match meta.get("confidence") {
                    Some(c) => c
                        .parse::<f32>()
                        .ok()
                        .filter(|c| (0.0..=1.0).contains(c))
                        .ok_or_else(|| {
                            RuleError::rule(file, &name, "meta confidence is a number from 0 to 1")
                        })?,
                    None => 0.6,
                };
                if rules.iter().any(|r| r.id == id) {
                    return Err(RuleError::rule(
                        file,
                        &name,
                        format!("rule id `{id}` is defined twice"),
                    ));
                }
                rule_of.insert((ns.clone(), name.clone()), rules.len());
                rules.push(Rule {
                    title: meta
                        .get("title")
                        .or(meta.get("description"))
                        .cloned()
                        .unwrap_or_else(|| format!("matches YARA rule {name}")),
                    id,
                    severity,
                    confidence,
                    category,
                    technique: meta.get("technique").cloned().unwrap_or_default(),
                    description: meta.get("description").cloned().unwrap_or_default(),
                    references: meta.get("reference").cloned().into_iter().collect(),
                    scope: Scope::Any,
                    ecosystems: Vec::new(),
                    matcher: Match::Yara,
                    examples: Vec::new(),
                    origin: file.clone(),
                });
            }
        }
        let mut scanner = compiler.finalize();
        scanner.set_scan_params(
            ScanParams::default()
                .compute_full_matches(true)
                .string_max_nb_matches(1_000)
                .match_max_length(160)
                .timeout_duration(Some(SCAN_TIMEOUT)),
        );
        Ok(Self {
            scanner: Some(scanner),
            rule_of,
        })
    }

    /// Rules that match `bytes`, each with the offset of its first match;
    /// `Err` says why the scan stopped (a timeout), with what matched before.
    pub fn scan(&self, bytes: &[u8]) -> (Vec<(usize, usize)>, Option<String>) {
        let Some(scanner) = &self.scanner else {
            return (Vec::new(), None);
        };
        let (result, error) = match scanner.scan_mem(bytes) {
            Ok(r) => (r, None),
            Err((e, r)) => (r, Some(format!("YARA scan stopped: {e:?}"))),
        };
        let mut out: Vec<(usize, usize)> = Vec::new();
        for r in &result.rules {
            let rule = self
                .rule_of
                .get(&(r.namespace.to_owned(), String::new()))
                .or_else(|| {
                    self.rule_of
                        .get(&(r.namespace.to_owned(), r.name.to_owned()))
                });
            let Some(rule) = rule else { continue };
            let offset = r
                .matches
                .iter()
                .flat_map(|s| s.matches.iter().map(|m| m.offset))
                .min()
                .unwrap_or(0);
            if !out.iter().any(|(i, _)| i == rule) {
                out.push((*rule, offset));
            }
        }
        (out, error)
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
