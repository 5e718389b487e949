//! `--format sarif` of `paddock analyze` and `paddock diff`: Paddock's
//! rules (detection, behaviour and scoring) described for a SARIF log,
//! and the logs themselves (`paddock_sarif` writes them).

use std::collections::BTreeMap;

use paddock_diff::score::{Rule as ScoringRule, When};
use paddock_diff::Scoring;
use paddock_proto::ecosystem::{cli_name, severity_token};
use paddock_proto::v1::{
    BehaviorChange, Change, DynamicResult, FindingCategory, StaticResult, Verdict,
};
use paddock_sarif::rules::category_tag;
use paddock_sarif::{DiffContext, Help, Log, RuleExample, RuleInfo};
use paddock_static::rules::{RuleSet, Scope};

/// The detection rules of `set`, with their help (description, technique,
/// references, examples).
pub fn detection_rules(set: &RuleSet) -> Vec<RuleInfo> {
    set.rules()
        .iter()
        .map(|rule| {
            let mut info = RuleInfo::new(&rule.id, &rule.title, &rule.description, rule.severity);
            let examples: Vec<RuleExample> = rule
                .examples
                .iter()
                .map(|e| RuleExample {
                    matches: e.expect_match,
                    files: e.files.clone(),
                })
                .collect();
            info.help = Help::render(
                &info.full_description,
                &rule.technique,
                &rule.references,
                &examples,
            );
            info.confidence = Some(rule.confidence);
            info.tags
                .extend(category_tag(rule.category).map(str::to_owned));
            if !rule.technique.is_empty() {
                info.tags.push(rule.technique.clone());
            }
            if rule.scope == Scope::Install {
                info.tags.push("install-time".into());
            }
            info.tags
                .extend(rule.ecosystems.iter().map(|e| cli_name(*e).to_owned()));
            info
        })
        .collect()
}

/// The behaviour rules, judged on what a release did in the sandbox.
pub fn behaviour_rules() -> Vec<RuleInfo> {
    let behaviour = paddock_diff::behaviour::builtin();
    behaviour
        .summaries()
        .into_iter()
        .map(|(id, severity, confidence, technique, title)| {
            let description = behaviour.description(id).unwrap_or(title);
            let mut info = RuleInfo::new(id, title, description, severity);
            info.help = Help::render(description, technique, &[], &[]);
            info.confidence = Some(confidence);
            info.tags.extend(
                category_tag(FindingCategory::Threat)
                    .into_iter()
                    .map(str::to_owned),
            );
            info.tags.push("dynamic".into());
            if !technique.is_empty() {
                info.tags.push(technique.to_owned());
            }
            info
        })
        .collect()
}

/// The scoring rules that count a release's changes or findings as a
/// whole (not the weighed one, whose reasons are the findings' own
/// rules): the rules of a diff's results.
pub fn scoring_rules(scoring: &Scoring) -> Vec<RuleInfo> {
    scoring
        .rules()
        .iter()
        .filter(|r| !r.weighed)
        .map(|r| {
            let mut info = RuleInfo::new(&r.id, &r.description, &r.description, r.severity);
            let text = format!(
                "{}\n\nCounts when {}. Adds {:.0} to the verdict's score (scoring rules \
                 version {}), which is at least {}. Suppress it for one package with \
                 `code = \"{}\"` in the suppressions file.",
                r.description,
                when(r),
                r.weight,
                scoring.version(),
                severity_token(r.severity),
                r.id
            );
            info.help = Help {
                markdown: text.clone(),
                text,
            };
            info.tags = vec!["behaviour-change".into(), "scoring".into()];
            info
        })
        .collect()
}

/// What a scoring rule matches, in words.
fn when(rule: &ScoringRule) -> String {
    match &rule.when {
        When::Change {
            kinds,
            phases,
            value_matches,
        } => {
            let kinds: Vec<&str> = kinds.iter().map(|k| k.token()).collect();
            let mut out = format!(
                "the release adds behaviour of kind {} that its predecessor did not have",
                kinds.join(" or ")
            );
            if !phases.is_empty() {
                let phases: Vec<&str> = phases.iter().map(|p| p.token()).collect();
                out.push_str(&format!(", in the {} phase", phases.join(" or ")));
            }
            if !value_matches.is_empty() {
                out.push_str(&format!(
                    ", matching one of {} patterns",
                    value_matches.len()
                ));
            }
            out
        }
        When::Finding {
            rule_id_prefix,
            category,
            min_severity,
            new_only,
        } => {
            let mut out = "the release has a finding".to_owned();
            if let Some(p) = rule_id_prefix {
                out.push_str(&format!(" of a rule whose id starts with `{p}`"));
            }
            if let Some(c) = category.and_then(category_tag) {
                out.push_str(&format!(" in category {c}"));
            }
            if *min_severity > paddock_proto::v1::Severity::Unspecified {
                out.push_str(&format!(" at {} or above", severity_token(*min_severity)));
            }
            if *new_only {
                out.push_str(" that its predecessor did not have");
            }
            out
        }
    }
}

/// Each added change's evidence hash → the scoring rule that claims it.
pub fn claims(scoring: &Scoring, changes: &[Change]) -> BTreeMap<String, String> {
    changes
        .iter()
        .filter_map(|c| {
            scoring
                .claim(c)
                .map(|r| (c.evidence_hash.clone(), r.id.clone()))
        })
        .collect()
}

/// The log of `paddock analyze --format sarif`.
pub fn analyze_log(
    set: &RuleSet,
    result: &StaticResult,
    dynamic: Option<&DynamicResult>,
    verdict: &Verdict,
) -> Log {
    let mut rules = detection_rules(set);
    rules.extend(behaviour_rules());
    paddock_sarif::analyze_log(&rules, result, dynamic, verdict)
}

/// The log of `paddock diff --format sarif`.
pub fn diff_log(
    set: &RuleSet,
    scoring: &Scoring,
    change: &BehaviorChange,
    verdict: &Verdict,
    next: (Option<&StaticResult>, Option<&DynamicResult>),
) -> Log {
    let mut rules = scoring_rules(scoring);
    rules.extend(detection_rules(set));
    rules.extend(behaviour_rules());
    let claims = claims(scoring, &change.changes);
    let context = DiffContext {
        claims: Some(&claims),
        next_static: next.0,
        next_dynamic: next.1,
    };
    paddock_sarif::diff_log(&rules, change, verdict, &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_is_described_with_its_help() {
        let set = paddock_static::rules::builtin();
        let rules = detection_rules(set);
        assert_eq!(rules.len(), set.rules().len());
        for (info, rule) in rules.iter().zip(set.rules()) {
            assert_eq!(info.id, rule.id);
            assert!(!info.short_description.is_empty(), "{}", info.id);
            assert!(
                info.help.text.starts_with(info.full_description.trim()),
                "{}",
                info.id
            );
            if !rule.technique.is_empty() {
                assert!(info.tags.contains(&rule.technique), "{}", info.id);
            }
            if rule.examples.iter().any(|e| e.expect_match) {
                assert!(info.help.markdown.contains("**Example:**"), "{}", info.id);
            }
        }
        let behaviour = behaviour_rules();
        assert_eq!(
            behaviour.len(),
            paddock_diff::behaviour::builtin().rule_ids().len()
        );
        assert!(behaviour
            .iter()
            .all(|r| r.tags.contains(&"dynamic".to_owned()) && r.confidence.is_some()));
    }

    #[test]
    fn scoring_rules_say_what_they_match_and_the_weighed_one_is_left_out() {
        let scoring = Scoring::builtin();
        let rules = scoring_rules(&scoring);
        assert!(rules.iter().all(|r| r.id != "findings"));
        let network = rules
            .iter()
            .find(|r| r.id == "install-network-added")
            .unwrap();
        assert_eq!(network.severity, paddock_proto::v1::Severity::High);
        assert!(
            network.help.text.contains(
                "kind host or dns_name that its predecessor did not have, in the install phase"
            ),
            "{}",
            network.help.text
        );
        let exfil = rules.iter().find(|r| r.id == "exfiltration").unwrap();
        assert!(
            exfil
                .help
                .text
                .contains("a finding of a rule whose id starts with `exfiltration.`"),
            "{}",
            exfil.help.text
        );
    }
}
