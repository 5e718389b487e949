//! Rules as SARIF sees them: [`RuleInfo`] (filled by the caller from
//! Paddock's detection, behaviour and scoring rules, or by the verify
//! crate from its own checks), and the mappings from Paddock's severity
//! and confidence to SARIF's and GitHub's words.
//!
//! # Severity
//!
//! | Paddock | `level` | `security-severity` |
//! |---|---|---|
//! | critical | error | 9.5 |
//! | high | error | 8.0 |
//! | medium | warning | 5.5 |
//! | low | note | 3.0 |
//! | info | note | 1.0 |
//!
//! GitHub code scanning files a rule tagged `security` under a severity
//! band by its `security-severity`: critical from 9.0, high from 7.0,
//! medium from 4.0, low from 0.1. Each value sits inside its band with a
//! margin on both sides, so a consumer that rounds or shifts the bands a
//! little still files it where Paddock meant; GitHub has no band for
//! information, so info goes low, below low's own value, which keeps the
//! order when alerts are sorted by it.
//!
//! # Precision
//!
//! `precision` (GitHub: how often the rule is right) from the rule's
//! confidence: `very-high` from 0.9, `high` from 0.75, `medium` from 0.5,
//! `low` below. A rule without a confidence (a scoring rule) has none.

use paddock_proto::ecosystem::severity_token;
use paddock_proto::v1::{ChangeKind, Finding, FindingCategory, Severity};
use serde_json::{json, Value};

use crate::model::{Level, MultiformatMessage, ReportingConfiguration, ReportingDescriptor};
use crate::text::{bounded, clean};

/// A rule, as a SARIF log describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    /// Paddock's id (`threat.exec-decoded-base64`, `install-hook-added`).
    pub id: String,
    /// A readable identifier without spaces (`ThreatExecDecodedBase64`):
    /// see [`name_of`].
    pub name: String,
    /// One line: the rule's title.
    pub short_description: String,
    /// What the rule detects, in full.
    pub full_description: String,
    pub help: Help,
    /// The severity of what it finds; a result may carry its own.
    pub severity: Severity,
    /// How often it is right, 0 to 1, when the rule says.
    pub confidence: Option<f32>,
    /// Beside `security`, which every rule gets: the category, the
    /// technique, the source (`dynamic`, `behaviour-change`…).
    pub tags: Vec<String>,
}

impl RuleInfo {
    /// A rule with its name derived from its id, its help from its
    /// description, and no tags.
    pub fn new(id: &str, title: &str, description: &str, severity: Severity) -> Self {
        let description = if description.trim().is_empty() {
            title
        } else {
            description
        };
        Self {
            id: id.to_owned(),
            name: name_of(id),
            short_description: title.to_owned(),
            full_description: description.to_owned(),
            help: Help::render(description, "", &[], &[]),
            severity,
            confidence: None,
            tags: Vec::new(),
        }
    }

    /// A rule described by one of its findings, for a finding whose rule
    /// the caller did not list (a rule built into the analysis, such as
    /// `exfiltration.bait-in-traffic`): nothing is left out of a log for
    /// want of a rule.
    pub fn from_finding(f: &Finding) -> Self {
        let title = if f.title.is_empty() {
            &f.rule_id
        } else {
            &f.title
        };
        let mut rule = Self::new(&f.rule_id, title, &f.description, f.severity());
        rule.help = Help::render(&rule.full_description, &f.technique, &[], &[]);
        if f.confidence > 0.0 {
            rule.confidence = Some(f.confidence);
        }
        if let Some(category) = category_tag(f.category()) {
            rule.tags.push(category.to_owned());
        }
        if !f.technique.is_empty() {
            rule.tags.push(f.technique.clone());
        }
        rule
    }

    /// The rule in `tool.driver.rules`.
    pub fn descriptor(&self) -> ReportingDescriptor {
        let mut tags = vec!["security".to_owned()];
        for t in &self.tags {
            if !t.is_empty() && !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        let mut properties = serde_json::Map::new();
        properties.insert("tags".into(), json!(tags));
        properties.insert(
            "security-severity".into(),
            Value::String(security_severity(self.severity).to_owned()),
        );
        properties.insert(
            "problem.severity".into(),
            Value::String(problem_severity(self.severity).to_owned()),
        );
        if let Some(c) = self.confidence {
            properties.insert("precision".into(), Value::String(precision(c).to_owned()));
        }
        properties.insert(
            "paddockSeverity".into(),
            Value::String(severity_token(self.severity).to_owned()),
        );
        let one_line = |s: &str| MultiformatMessage {
            text: bounded(&clean(s), 1024),
            markdown: None,
        };
        ReportingDescriptor {
            id: self.id.clone(),
            name: Some(self.name.clone()).filter(|n| !n.is_empty()),
            short_description: Some(one_line(&self.short_description)),
            full_description: Some(MultiformatMessage {
                text: bounded(&clean(&self.full_description), 8192),
                markdown: None,
            }),
            help: Some(MultiformatMessage {
                text: bounded(&clean(&self.help.text), 16384),
                markdown: Some(bounded(&clean(&self.help.markdown), 16384))
                    .filter(|m| !m.is_empty()),
            }),
            default_configuration: Some(ReportingConfiguration {
                level: level(self.severity),
            }),
            properties,
        }
    }
}

/// A rule's help, as text and as Markdown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Help {
    pub text: String,
    pub markdown: String,
}

/// One example of a rule: files that make it fire, or that must not.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleExample {
    pub matches: bool,
    /// (path in the package, content)
    pub files: Vec<(String, String)>,
}

/// At most this many lines of an example's file go into help.
const EXAMPLE_LINES: usize = 15;

impl Help {
    /// Help from a rule's description, its technique (an ATT&CK id or
    /// Paddock's tag), its references and its examples (the first that
    /// fires and the first that must not, each file cut to 15 lines).
    pub fn render(
        description: &str,
        technique: &str,
        references: &[String],
        examples: &[RuleExample],
    ) -> Help {
        use std::fmt::Write as _;
        let mut text = description.trim().to_owned();
        let mut markdown = description.trim().to_owned();
        if !technique.is_empty() {
            let _ = write!(text, "\n\nTechnique: {technique}");
            let _ = write!(markdown, "\n\n**Technique:** `{technique}`");
        }
        if !references.is_empty() {
            text.push_str("\n\nReferences:");
            markdown.push_str("\n\n**References**\n");
            for r in references {
                let _ = write!(text, "\n- {r}");
                let _ = write!(markdown, "\n- {r}");
            }
        }
        let firing = examples.iter().find(|e| e.matches);
        let quiet = examples.iter().find(|e| !e.matches);
        for (example, label) in [(firing, "fires on"), (quiet, "does not fire on")] {
            let Some(example) = example else { continue };
            for (path, content) in example.files.iter().take(2) {
                let lines: Vec<&str> = content.lines().take(EXAMPLE_LINES).collect();
                let more = if content.lines().count() > EXAMPLE_LINES {
                    "\n…"
                } else {
                    ""
                };
                let body = format!("{}{more}", lines.join("\n"));
                let _ = write!(text, "\n\nExample: the rule {label} {path}:\n{body}");
                // A fence longer than any backtick run inside the example.
                let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
                let _ = write!(
                    markdown,
                    "\n\n**Example:** the rule {label} `{path}`:\n\n{fence}\n{body}\n{fence}"
                );
            }
        }
        Help { text, markdown }
    }
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// `threat.exec-decoded-base64` → `ThreatExecDecodedBase64`: SARIF's
/// `name`, a readable identifier without spaces.
pub fn name_of(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// SARIF's level of a severity (see the module documentation).
pub fn level(severity: Severity) -> Level {
    match severity {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium => Level::Warning,
        Severity::Low | Severity::Info | Severity::Unspecified => Level::Note,
    }
}

/// GitHub's `security-severity` of a severity (see the module
/// documentation).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info | Severity::Unspecified => "1.0",
    }
}

/// `problem.severity` (GitHub's words for rules it does not file as
/// security): error, warning or recommendation.
fn problem_severity(severity: Severity) -> &'static str {
    match level(severity) {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note | Level::None => "recommendation",
    }
}

/// `precision` of a confidence (see the module documentation).
pub fn precision(confidence: f32) -> &'static str {
    if confidence >= 0.9 {
        "very-high"
    } else if confidence >= 0.75 {
        "high"
    } else if confidence >= 0.5 {
        "medium"
    } else {
        "low"
    }
}

/// The tag of a finding's category.
pub fn category_tag(category: FindingCategory) -> Option<&'static str> {
    match category {
        FindingCategory::Capability => Some("capability"),
        FindingCategory::Threat => Some("threat"),
        FindingCategory::Signal => Some("signal"),
        FindingCategory::Unspecified => None,
    }
}

/// The token of a change kind, as in scoring rules and suppressions
/// (`host`, `dns_name`…).
pub fn change_kind_token(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Host => "host",
        ChangeKind::DnsName => "dns_name",
        ChangeKind::Command => "command",
        ChangeKind::FileWrite => "file_write",
        ChangeKind::FileRead => "file_read",
        ChangeKind::FileDelete => "file_delete",
        ChangeKind::Capability => "capability",
        ChangeKind::InstallHook => "install_hook",
        ChangeKind::Obfuscation => "obfuscation",
        ChangeKind::BundledBinary => "bundled_binary",
        ChangeKind::Dependency => "dependency",
        ChangeKind::Finding => "finding",
        ChangeKind::Unspecified => "unknown",
    }
}

/// The rule of a behaviour change no scoring or detection rule accounts
/// for (removed behaviour, or added behaviour that does not escalate):
/// `change.<kind>`, at info.
pub fn change_rule(kind: ChangeKind) -> RuleInfo {
    let what = match kind {
        ChangeKind::Host => "a network destination",
        ChangeKind::DnsName => "a DNS name looked up",
        ChangeKind::Command => "a command run",
        ChangeKind::FileWrite => "a file written outside the install area",
        ChangeKind::FileRead => "a credential or secret store read",
        ChangeKind::FileDelete => "a file deleted outside the install area",
        ChangeKind::Capability => "a capability or threat rule that fires",
        ChangeKind::InstallHook => "an install hook",
        ChangeKind::Obfuscation => "minified, obfuscated or high-entropy code",
        ChangeKind::BundledBinary => "a bundled executable or shared library",
        ChangeKind::Dependency => "a dependency",
        ChangeKind::Finding => "a finding of the dynamic analysis",
        ChangeKind::Unspecified => "a behaviour of an unknown kind",
    };
    let token = change_kind_token(kind);
    let mut rule = RuleInfo::new(
        &format!("change.{token}"),
        &format!("behaviour changed: {what}"),
        &format!(
            "The release gained or lost {what} compared with the release before it. \
             Paddock reports every change; only added behaviour that a scoring rule \
             names escalates the verdict, so this one is for the record."
        ),
        Severity::Info,
    );
    rule.tags = vec!["behaviour-change".into(), token.to_owned()];
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_to_levels_and_github_bands() {
        let cases = [
            (Severity::Critical, Level::Error, 9.0, 10.0),
            (Severity::High, Level::Error, 7.0, 8.9),
            (Severity::Medium, Level::Warning, 4.0, 6.9),
            (Severity::Low, Level::Note, 0.1, 3.9),
            (Severity::Info, Level::Note, 0.1, 3.9),
        ];
        for (severity, want, low, high) in cases {
            assert_eq!(level(severity), want, "{severity:?}");
            let s: f64 = security_severity(severity).parse().unwrap();
            assert!((low..=high).contains(&s), "{severity:?}: {s}");
        }
        let info: f64 = security_severity(Severity::Info).parse().unwrap();
        let low: f64 = security_severity(Severity::Low).parse().unwrap();
        assert!(info < low);
    }

    #[test]
    fn confidence_maps_to_precision() {
        assert_eq!(precision(0.95), "very-high");
        assert_eq!(precision(0.8), "high");
        assert_eq!(precision(0.6), "medium");
        assert_eq!(precision(0.2), "low");
    }

    #[test]
    fn names_are_readable_identifiers() {
        assert_eq!(
            name_of("threat.exec-decoded-base64"),
            "ThreatExecDecodedBase64"
        );
        assert_eq!(name_of("install-hook-added"), "InstallHookAdded");
        assert_eq!(name_of("threat.yara.marker_text"), "ThreatYaraMarkerText");
    }

    #[test]
    fn help_carries_technique_references_and_bounded_examples() {
        let long: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let help = Help::render(
            "Runs decoded code.",
            "T1059",
            &["a report".to_owned()],
            &[
                RuleExample {
                    matches: false,
                    files: vec![("ok.js".into(), "run();".into())],
                },
                RuleExample {
                    matches: true,
                    files: vec![("bad.js".into(), format!("```\n{long}"))],
                },
            ],
        );
        assert!(help.text.starts_with("Runs decoded code."));
        assert!(help.text.contains("Technique: T1059"));
        assert!(help.markdown.contains("**Technique:** `T1059`"));
        assert!(help.text.contains("- a report"));
        assert!(help.text.contains("fires on bad.js"));
        assert!(help.text.contains("does not fire on ok.js"));
        assert!(help.text.contains("line 13") && !help.text.contains("line 14"));
        // The fence outlasts the example's own backticks.
        assert!(help.markdown.contains("````\n```"), "{}", help.markdown);
    }

    #[test]
    fn descriptors_tag_security_once_and_carry_precision() {
        let mut rule = RuleInfo::new("threat.x", "does x", "", Severity::High);
        rule.confidence = Some(0.9);
        rule.tags = vec!["threat".into(), "security".into(), "T1059".into()];
        let d = rule.descriptor();
        assert_eq!(d.properties["tags"], json!(["security", "threat", "T1059"]));
        assert_eq!(d.properties["security-severity"], "8.0");
        assert_eq!(d.properties["precision"], "very-high");
        assert_eq!(d.default_configuration.unwrap().level, Level::Error);
        // An empty description falls back to the title.
        assert_eq!(d.full_description.unwrap().text, "does x");
    }
}
