//! `paddock rules test`: every rule's examples, run through the whole
//! static analysis (so that a rule is tested as it runs, with parsing,
//! reachability and scope), and every shipped rule has at least one
//! example that must match and one that must not.

use std::path::{Component, Path};

use paddock_proto::v1::{Ecosystem, PackageRef};

use super::{Example, Rule, RuleSet};
use crate::StaticConfig;

/// What running the examples found.
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    pub rules: usize,
    pub examples: usize,
    /// One line per failed example or missing example kind.
    pub failures: Vec<String>,
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The ecosystem an example belongs to: its own, its rule's, or what its
/// files say.
fn ecosystem_of(rule: &Rule, example: &Example) -> Ecosystem {
    if let Some(e) = example.ecosystem {
        return e;
    }
    if let Some(e) = rule.ecosystems.first() {
        return *e;
    }
    for (path, _) in &example.files {
        let name = path.rsplit('/').next().unwrap_or(path);
        let eco = match name {
            "package.json" => Ecosystem::Npm,
            "setup.py" | "pyproject.toml" | "PKG-INFO" => Ecosystem::Pypi,
            "composer.json" => Ecosystem::Packagist,
            "Cargo.toml" | "build.rs" => Ecosystem::CratesIo,
            n if n.ends_with(".gemspec") || n == "extconf.rb" => Ecosystem::Rubygems,
            _ => continue,
        };
        return eco;
    }
    let ext = example.files[0].0.rsplit('.').next().unwrap_or_default();
    match ext {
        "py" => Ecosystem::Pypi,
        "rb" => Ecosystem::Rubygems,
        "php" => Ecosystem::Packagist,
        "rs" => Ecosystem::CratesIo,
        _ => Ecosystem::Npm,
    }
}

/// Runs one example; `Err` says what went wrong.
pub fn run_example(set: &RuleSet, rule: &Rule, example: &Example) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    for (path, content) in &example.files {
        let rel = Path::new(path);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(format!(
                "example file `{path}` must be a plain relative path"
            ));
        }
        let full = dir.path().join(rel);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{path}: {e}"))?;
        }
        std::fs::write(&full, content).map_err(|e| format!("{path}: {e}"))?;
    }
    let (name, version) = example
        .package
        .clone()
        // Without `package`, the name and version its manifest declares.
        .unwrap_or_default();
    let package = PackageRef {
        ecosystem: ecosystem_of(rule, example) as i32,
        name,
        version,
    };
    let result = crate::analyze::analyze_tree_with(
        dir.path(),
        package,
        None,
        &StaticConfig::default(),
        set,
        example.registry.clone(),
    );
    let fired = result.findings.iter().any(|f| f.rule_id == rule.id);
    match (example.expect_match, fired) {
        (true, true) | (false, false) => Ok(()),
        (true, false) => Err(format!(
            "did not fire on an example it must match (files: {}); fired: {}",
            names(example),
            ids(&result.findings)
        )),
        (false, true) => Err(format!(
            "fired on an example it must not match (files: {})",
            names(example)
        )),
    }
}

fn names(example: &Example) -> String {
    example
        .files
        .iter()
        .map(|(p, _)| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn ids(findings: &[paddock_proto::v1::Finding]) -> String {
    let v: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

/// Runs the examples of every rule `select` accepts. With
/// `require_examples`, a rule without a must-match and a must-not-match
/// example is a failure too (the shipped set's standard; users' plain
/// YARA files carry none).
pub fn test(set: &RuleSet, select: &dyn Fn(&Rule) -> bool, require_examples: bool) -> TestReport {
    let mut report = TestReport::default();
    for rule in set.rules().iter().filter(|r| select(r)) {
        report.rules += 1;
        if require_examples {
            let has = |m: bool| rule.examples.iter().any(|e| e.expect_match == m);
            if !has(true) {
                report.failures.push(format!(
                    "{} ({}): has no example that must match",
                    rule.id, rule.origin
                ));
            }
            if !has(false) {
                report.failures.push(format!(
                    "{} ({}): has no example that must not match",
                    rule.id, rule.origin
                ));
            }
        }
        for (n, example) in rule.examples.iter().enumerate() {
            report.examples += 1;
            if let Err(why) = run_example(set, rule, example) {
                report.failures.push(format!(
                    "{} ({}), example {}: {why}",
                    rule.id,
                    rule.origin,
                    n + 1
                ));
            }
        }
    }
    report
}
