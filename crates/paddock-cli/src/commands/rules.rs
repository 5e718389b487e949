//! `paddock rules`: list the detection rules, or run their examples.

use std::process::ExitCode;

use anyhow::Context as _;
use paddock_proto::ecosystem::severity_token;
use paddock_static::rules::{self, selftest, RuleSet, RuleSources, Scope};

use crate::cli::{RulesArgs, RulesCommand};
use crate::config::PaddockConfig;

pub fn run(args: RulesArgs, config: &PaddockConfig) -> anyhow::Result<ExitCode> {
    match args.command {
        None | Some(RulesCommand::List) => {
            let mut dirs = config.static_analysis.analysis.rules.clone();
            dirs.extend(args.rules);
            list(&dirs)
        }
        Some(RulesCommand::Test { dirs }) => test(&dirs),
    }
}

fn list(dirs: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let set = rules::for_dirs(dirs).context("loading the rules")?;
    println!(
        "rule set version {} ({} rules)",
        set.version(),
        set.rules().len()
    );
    println!(
        "{:<44} {:<9} {:>4} {:<10} {:<8} title",
        "id", "severity", "conf", "technique", "scope"
    );
    for rule in set.rules() {
        let scope = match rule.scope {
            Scope::Any => "any",
            Scope::Install => "install",
        };
        println!(
            "{:<44} {:<9} {:>4.2} {:<10} {:<8} {}",
            rule.id,
            severity_token(rule.severity),
            rule.confidence,
            if rule.technique.is_empty() {
                "-"
            } else {
                &rule.technique
            },
            scope,
            rule.title
        );
    }
    let behaviour = paddock_diff::behaviour::builtin();
    println!();
    println!(
        "behaviour rules version {} ({} rules; rules/behaviour.toml, judged on the sandbox's events)",
        behaviour.version(),
        behaviour.rule_ids().len()
    );
    for (id, severity, confidence, technique, title) in behaviour.summaries() {
        println!(
            "{:<44} {:<9} {:>4.2} {:<10} {:<8} {}",
            id,
            severity_token(severity),
            confidence,
            if technique.is_empty() { "-" } else { technique },
            "dynamic",
            title
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn test(dirs: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let (set, label, shipped): (std::sync::Arc<RuleSet>, String, bool) = if dirs.is_empty() {
        (rules::builtin().clone(), "the shipped rules".into(), true)
    } else {
        let mut sources = RuleSources::builtin();
        for d in dirs {
            sources
                .add_dir(d)
                .with_context(|| format!("reading the rules in {}", d.display()))?;
        }
        let set = RuleSet::load(&sources).context("loading the rules")?;
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        (std::sync::Arc::new(set), names.join(", "), false)
    };
    let prefixes: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let select =
        |r: &rules::Rule| shipped || prefixes.iter().any(|p| r.origin.starts_with(p.as_str()));
    let report = selftest::test(&set, &select, shipped);
    for failure in &report.failures {
        println!("FAIL {failure}");
    }
    let mut behaviour_failed = false;
    if shipped {
        let behaviour = paddock_diff::behaviour::builtin();
        let failures = behaviour.test_examples();
        for failure in &failures {
            println!("FAIL {failure}");
        }
        println!(
            "the shipped behaviour rules: {} rules, {} failed",
            behaviour.rule_ids().len(),
            failures.len()
        );
        behaviour_failed = !failures.is_empty();
    }
    println!(
        "{}: {} rules, {} examples, {} failed",
        label,
        report.rules,
        report.examples,
        report.failures.len()
    );
    Ok(if report.passed() && !behaviour_failed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
