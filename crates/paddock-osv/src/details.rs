//! The `details` text: two to four sentences written from the evidence.
//!
//! 1. What the package does: the behaviours behind the verdict's top
//!    reasons (and the serious findings), each with one or two pieces of
//!    evidence (the hosts it contacts, the commands it runs, the
//!    credential files it reads, the files it writes).
//! 2. How it is triggered: install, import, running its command or
//!    calling its code, from the dynamic phases and the static findings'
//!    reachability, naming the install hook when there is one.
//! 3. What is new since the previous release, when the verdict compared
//!    it with one.
//! 4. Whether planted credentials were seen leaving the sandbox.
//!
//! The behaviour a reason or finding stands for is read from its rule id
//! or change kind ([`BEHAVIOURS`]): the rule ids name what they detect
//! (`threat.exfiltrate-credential-files`, `dynamic.cryptominer`,
//! `install-network-added`).

use std::collections::BTreeSet;

use paddock_diff::profile::{Kind, PhaseLite};
use paddock_proto::v1::{
    ChangeAction, ChangeKind, Finding, FindingCategory, Phase, Reachability, Severity,
};

use crate::model::Iocs;
use crate::report::Input;

/// What a package does, in the order the details tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Behaviour {
    Exfiltration,
    RemoteShell,
    Miner,
    DownloadExecute,
    Credentials,
    Persistence,
    Clipboard,
    Wipe,
    Impersonation,
    Obfuscation,
    InstallHook,
    Commands,
    Network,
    FileWrites,
}

/// Which rule ids and change kinds stand for which behaviour: the first
/// entry with a keyword the code contains wins.
const BEHAVIOURS: &[(Behaviour, &[&str])] = &[
    (
        Behaviour::Exfiltration,
        &["exfiltrat", "-sent", "send-to", "secret-read-and-network"],
    ),
    (Behaviour::RemoteShell, &["reverse-shell", "web-shell"]),
    (Behaviour::Miner, &["miner"]),
    (
        Behaviour::DownloadExecute,
        &[
            "download",
            "drop",
            "pipe-to-shell",
            "shell-payload",
            "exec-written",
            "dynamic-loader",
        ],
    ),
    (
        Behaviour::Credentials,
        &[
            "credential",
            "secret",
            "sensitive-file",
            "browser",
            "wallet",
            "bait",
        ],
    ),
    (Behaviour::Persistence, &["persistence", "autostart"]),
    (Behaviour::Clipboard, &["clipboard"]),
    (Behaviour::Wipe, &["wipe", "destruction"]),
    (
        Behaviour::Impersonation,
        &["look-alike", "dependency-confusion", "bin-shadows"],
    ),
    (
        Behaviour::Obfuscation,
        &[
            "obfusc",
            "hidden-stage",
            "exec-decoded",
            "off-screen",
            "bidi",
        ],
    ),
    (Behaviour::InstallHook, &["install-hook", "preinstall"]),
    (
        Behaviour::Commands,
        &[
            "command",
            "process-spawn",
            "network-tool",
            "recon",
            "detached",
            "exec",
        ],
    ),
    (
        Behaviour::Network,
        &[
            "network",
            "host",
            "dns",
            "geo-lookup",
            "raw-ip",
            "exfiltration-service",
        ],
    ),
    (Behaviour::FileWrites, &["file-write", "filesystem-write"]),
];

fn behaviour_of(code: &str) -> Option<Behaviour> {
    let code = code.to_ascii_lowercase();
    BEHAVIOURS
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| code.contains(k)))
        .map(|(b, _)| *b)
}

fn behaviour_of_change(kind: ChangeKind) -> Option<Behaviour> {
    Some(match kind {
        ChangeKind::Host | ChangeKind::DnsName => Behaviour::Network,
        ChangeKind::Command => Behaviour::Commands,
        ChangeKind::FileWrite => Behaviour::FileWrites,
        ChangeKind::FileRead => Behaviour::Credentials,
        ChangeKind::InstallHook => Behaviour::InstallHook,
        ChangeKind::Obfuscation => Behaviour::Obfuscation,
        _ => return None,
    })
}

/// The most behaviours the first sentence names.
const MAX_BEHAVIOURS: usize = 3;
/// The reasons read, best first.
const TOP_REASONS: usize = 6;
/// The longest piece of evidence quoted, in characters.
const MAX_QUOTE: usize = 70;

/// When code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Trigger {
    Install,
    Import,
    Execute,
    Call,
}

/// The details of one release's report.
pub(crate) fn write(input: &Input<'_>, iocs: &Iocs) -> String {
    let profile = input.dynamic.map(paddock_diff::profile::from_dynamic);
    let package = input.verdict.package.clone().unwrap_or_default();

    let mut behaviours: Vec<Behaviour> = Vec::new();
    let mut add = |b: Option<Behaviour>| {
        if let Some(b) = b.filter(|b| !behaviours.contains(b)) {
            behaviours.push(b);
        }
    };
    let mut reasons: Vec<_> = input
        .verdict
        .reasons
        .iter()
        .filter(|r| r.weight > 0.0 && !r.description.starts_with("suppressed:"))
        .collect();
    reasons.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    for r in reasons.iter().take(TOP_REASONS) {
        add(behaviour_of(&r.code));
    }
    for f in serious_findings(input) {
        add(behaviour_of(&f.rule_id));
    }
    // The order of importance, not of weight: stealing comes before
    // contacting a host. Exfiltration already names the hosts and the
    // files read.
    behaviours.sort();
    if behaviours.contains(&Behaviour::Exfiltration) {
        behaviours.retain(|b| !matches!(b, Behaviour::Network | Behaviour::Credentials));
    }
    behaviours.truncate(MAX_BEHAVIOURS);

    let mut sentences = Vec::new();
    let phrases: Vec<String> = behaviours
        .iter()
        .map(|b| phrase(*b, input, profile.as_ref(), iocs))
        .collect();
    if phrases.is_empty() {
        let top = reasons
            .first()
            .map(|r| quote_plain(&r.description, 160))
            .unwrap_or_else(|| "no single behaviour stands out".into());
        sentences.push(format!(
            "Paddock rates {} {} {} on its evidence: {top}.",
            package.name,
            package.version,
            paddock_proto::ecosystem::severity_token(input.verdict.severity())
        ));
    } else {
        sentences.push(format!("The package {}.", join_phrases(&phrases)));
    }
    sentences.push(trigger_sentence(input, &behaviours, profile.as_ref()));
    if let Some(s) = new_sentence(input) {
        sentences.push(s);
    }
    if exfiltration_proven(input) {
        sentences.push("Planted credentials were seen leaving the sandbox.".into());
    }
    sentences.join(" ")
}

fn serious_findings<'a>(input: &'a Input<'_>) -> impl Iterator<Item = &'a Finding> {
    let statics = input
        .static_result
        .into_iter()
        .flat_map(|s| s.findings.iter())
        .filter(|f| crate::iocs::is_serious(f));
    let dynamics = input
        .dynamic
        .into_iter()
        .flat_map(|d| d.findings.iter())
        .filter(|f| f.severity() >= Severity::High && f.category() != FindingCategory::Capability);
    statics.chain(dynamics)
}

/// One behaviour with its evidence: "contacts evil.example and
/// 203.0.113.9".
fn phrase(
    b: Behaviour,
    input: &Input<'_>,
    profile: Option<&paddock_diff::Profile>,
    iocs: &Iocs,
) -> String {
    let raw = |kind: Kind| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (key, raw) in profile.iter().flat_map(|p| p.items.iter()) {
            let q = quote(raw);
            if key.kind == kind && !out.contains(&q) {
                out.push(q);
            }
        }
        out
    };
    let hosts = || -> Vec<String> {
        iocs.domains
            .iter()
            .chain(&iocs.ips)
            .map(|h| quote_plain(h, MAX_QUOTE))
            .collect()
    };
    let with = |text: &str, evidence: Vec<String>| match evidence.len() {
        0 => text.to_owned(),
        _ => format!(
            "{text} ({})",
            join_words(&evidence.into_iter().take(2).collect::<Vec<_>>())
        ),
    };
    match b {
        Behaviour::Exfiltration => {
            // The finding proves data left; which host took it, the
            // evidence rarely says: name the hosts as contacted.
            let h = hosts();
            let contacted = match h.as_slice() {
                [] => String::new(),
                h => format!(" (it contacts {})", join_words(&h[..h.len().min(2)])),
            };
            match raw(Kind::FileRead).as_slice() {
                [] => format!(
                    "sends credentials or details of the machine over the network{contacted}"
                ),
                files => format!(
                    "reads credentials ({}) and sends them over the network{contacted}",
                    join_words(&files[..files.len().min(2)])
                ),
            }
        }
        Behaviour::RemoteShell => with("opens a remote shell", finding_files(input, b)),
        Behaviour::Miner => with("runs a cryptocurrency miner", finding_files(input, b)),
        Behaviour::DownloadExecute => with(
            "downloads or unpacks code and runs it",
            raw(Kind::Command)
                .into_iter()
                .filter(|c| c.contains("exec-written-file") || c.contains(" run by "))
                .collect(),
        ),
        Behaviour::Credentials => {
            let mut files = raw(Kind::FileRead);
            if files.is_empty() {
                files = finding_files(input, b);
            }
            with("reads credentials", files)
        }
        Behaviour::Persistence => with("sets itself up to run again later", raw(Kind::FileWrite)),
        Behaviour::Clipboard => with("reads or replaces the clipboard", finding_files(input, b)),
        Behaviour::Wipe => with("deletes files", finding_files(input, b)),
        Behaviour::Impersonation => "imitates another package (its name or its versions)".into(),
        Behaviour::Obfuscation => with(
            "hides code behind obfuscation or encoded payloads",
            finding_files(input, b),
        ),
        Behaviour::InstallHook => {
            let hooks: Vec<String> = input
                .static_result
                .and_then(|s| s.metadata.as_ref())
                .map(|m| {
                    m.install_hooks
                        .iter()
                        .map(|h| quote(&format!("{}: {}", h.name, h.command)))
                        .collect()
                })
                .unwrap_or_default();
            with("runs code from an install hook", hooks)
        }
        Behaviour::Commands => with("runs commands", raw(Kind::Command)),
        Behaviour::Network => match hosts().as_slice() {
            [] => "connects to the network".into(),
            h if h.len() > 3 => format!(
                "contacts {} and {} other hosts",
                h[..3].join(", "),
                h.len() - 3
            ),
            h => format!("contacts {}", join_words(h)),
        },
        Behaviour::FileWrites => with(
            "writes files outside its install directory",
            raw(Kind::FileWrite),
        ),
    }
}

/// The files the serious findings of one behaviour point at.
fn finding_files(input: &Input<'_>, b: Behaviour) -> Vec<String> {
    let mut out = Vec::new();
    for f in serious_findings(input).filter(|f| behaviour_of(&f.rule_id) == Some(b)) {
        for e in &f.evidence {
            let q = quote(&e.file);
            if !e.file.is_empty() && !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

fn trigger_sentence(
    input: &Input<'_>,
    behaviours: &[Behaviour],
    profile: Option<&paddock_diff::Profile>,
) -> String {
    let mut triggers: BTreeSet<Trigger> = BTreeSet::new();
    let relevant = |code: &str| {
        behaviours.is_empty() || behaviour_of(code).is_some_and(|b| behaviours.contains(&b))
    };
    for f in input
        .static_result
        .into_iter()
        .flat_map(|s| s.findings.iter())
        .filter(|f| f.category() == FindingCategory::Threat && relevant(&f.rule_id))
    {
        triggers.extend(match f.reachability() {
            Reachability::Install => Some(Trigger::Install),
            Reachability::Import => Some(Trigger::Import),
            Reachability::Execute => Some(Trigger::Execute),
            Reachability::Library => Some(Trigger::Call),
            Reachability::Unreached | Reachability::Unspecified => None,
        });
    }
    let from_phase = |p: Phase| match p {
        Phase::Install => Some(Trigger::Install),
        Phase::Import => Some(Trigger::Import),
        Phase::Execute => Some(Trigger::Execute),
        Phase::Unspecified => None,
    };
    for f in input.dynamic.into_iter().flat_map(|d| d.findings.iter()) {
        if f.severity() >= Severity::Medium && relevant(&f.rule_id) {
            triggers.extend(f.evidence.iter().filter_map(|e| from_phase(e.phase())));
        }
    }
    if let Some(p) = profile {
        for key in p.items.keys() {
            let kind_matches = match key.kind {
                Kind::Host | Kind::DnsName => {
                    behaviours.contains(&Behaviour::Network)
                        || behaviours.contains(&Behaviour::Exfiltration)
                }
                Kind::FileRead => behaviours.contains(&Behaviour::Credentials),
                Kind::Command => {
                    behaviours.contains(&Behaviour::Commands)
                        || behaviours.contains(&Behaviour::DownloadExecute)
                }
                Kind::FileWrite => {
                    behaviours.contains(&Behaviour::FileWrites)
                        || behaviours.contains(&Behaviour::Persistence)
                }
                _ => false,
            };
            if kind_matches {
                triggers.extend(match key.phase {
                    PhaseLite::Install => Some(Trigger::Install),
                    PhaseLite::Import => Some(Trigger::Import),
                    PhaseLite::Execute => Some(Trigger::Execute),
                    PhaseLite::Static | PhaseLite::Dynamic => None,
                });
            }
        }
    }
    if behaviours.contains(&Behaviour::InstallHook) {
        triggers.insert(Trigger::Install);
    }
    if triggers.is_empty() {
        return match (input.dynamic, input.static_result) {
            (Some(_), _) => {
                "What triggers it was not seen in the sandbox's install, import and execute phases."
            }
            (None, Some(_)) => {
                "It was found by static analysis alone; what triggers it was not determined."
            }
            (None, None) => {
                "What triggers it is not known: the analyses' results were not at hand."
            }
        }
        .into();
    }
    let hook = input
        .static_result
        .and_then(|s| s.metadata.as_ref())
        .and_then(|m| m.install_hooks.first())
        .map(|h| format!(" (its {} hook)", quote_plain(&h.name, 30)));
    let words: Vec<String> = triggers
        .iter()
        .map(|t| match t {
            Trigger::Install => format!(
                "when the package is installed{}",
                hook.clone().unwrap_or_default()
            ),
            Trigger::Import => "when it is imported".into(),
            Trigger::Execute => "when its command is run".into(),
            Trigger::Call => "when its code is called".into(),
        })
        .collect();
    format!("This happens {}.", join_words(&words))
}

/// "New in 1.0.1 (compared with 1.0.0): …", or that the previous release
/// already did the same.
fn new_sentence(input: &Input<'_>) -> Option<String> {
    let previous = match input.verdict.previous_version.as_str() {
        "" => input.change.map(|c| c.previous_version.as_str())?,
        p => p,
    };
    if previous.is_empty() {
        return None;
    }
    let version = input
        .verdict
        .package
        .as_ref()
        .map(|p| p.version.as_str())
        .unwrap_or_default();
    let mut added: Vec<&paddock_proto::v1::Change> = input
        .change
        .iter()
        .flat_map(|c| c.changes.iter())
        .filter(|c| c.action() == ChangeAction::Added && behaviour_of_change(c.kind()).is_some())
        .collect();
    // What tells most first: reads and commands before hosts.
    let rank = |k: ChangeKind| match k {
        ChangeKind::FileRead => 0,
        ChangeKind::Command => 1,
        ChangeKind::FileWrite => 2,
        ChangeKind::InstallHook => 3,
        ChangeKind::Host => 4,
        ChangeKind::DnsName => 5,
        _ => 6,
    };
    added.sort_by_key(|c| rank(c.kind()));
    let host_values: Vec<&str> = added
        .iter()
        .filter(|c| c.kind() == ChangeKind::Host)
        .map(|c| c.value.as_str())
        .collect();
    let mut items: Vec<String> = Vec::new();
    for c in added {
        let value = quote(&c.value);
        let item = match c.kind() {
            ChangeKind::Host => host_item(&c.value),
            // A name also connected to is said once, as the connection.
            ChangeKind::DnsName if host_values.iter().any(|h| h.contains(c.value.as_str())) => {
                continue
            }
            ChangeKind::DnsName => format!("DNS look-ups of {value}"),
            ChangeKind::Command => format!("the command {value}"),
            ChangeKind::FileWrite if c.value.starts_with("/tmp/<") => {
                "writes to a temporary file".to_owned()
            }
            ChangeKind::FileWrite => format!("writes to {value}"),
            ChangeKind::FileRead => format!("reads of {value}"),
            ChangeKind::InstallHook => format!("the install hook {value}"),
            _ => format!("obfuscated code ({value})"),
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    let total = items.len();
    items.truncate(3);
    Some(match total {
        0 => format!("Version {previous}, the release before {version}, behaved the same way."),
        4 => format!(
            "New in {version} since {previous}: {} and one more change.",
            items.join(", ")
        ),
        n if n > 4 => format!(
            "New in {version} since {previous}: {} and {} more changes.",
            items.join(", "),
            n - 3
        ),
        _ => format!("New in {version} since {previous}: {}.", join_words(&items)),
    })
}

/// A normalised host change in words: `udp h:53` is "UDP datagrams to
/// `h:53`", `http POST h/p` is "HTTP POST requests to `h/p`".
fn host_item(value: &str) -> String {
    let mut words = value.splitn(3, ' ');
    match (words.next(), words.next(), words.next()) {
        (Some("udp"), Some(target), None) => format!("UDP datagrams to {}", quote(target)),
        (Some("tls"), Some(target), None) => format!("TLS connections to {}", quote(target)),
        (Some("http"), Some(method), Some(target)) => {
            format!(
                "HTTP {} requests to {}",
                quote_plain(method, 10),
                quote(target)
            )
        }
        _ => format!("connections to {}", quote(value)),
    }
}

fn exfiltration_proven(input: &Input<'_>) -> bool {
    let rule = paddock_diff::profile::EXFILTRATION_RULE;
    input
        .dynamic
        .is_some_and(|d| d.findings.iter().any(|f| f.rule_id == rule))
        || input.verdict.reasons.iter().any(|r| r.code == rule)
}

/// Evidence as quoted in the text: one line, backticks, bounded.
fn quote(text: &str) -> String {
    format!("`{}`", quote_plain(text, MAX_QUOTE).replace('`', "'"))
}

/// One line, printable, at most `max` characters (`…` marks a cut).
fn quote_plain(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Phrases that may hold an "and" of their own: "a, and b", "a, b, and
/// c" then, so that the reader sees where each ends.
fn join_phrases(phrases: &[String]) -> String {
    if !phrases.iter().any(|p| p.contains(" and ")) {
        return join_words(phrases);
    }
    match phrases {
        [init @ .., last] if !init.is_empty() => format!("{}, and {last}", init.join(", ")),
        _ => join_words(phrases),
    }
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_name_their_behaviour() {
        for (code, b) in [
            (
                "threat.exfiltrate-credential-files",
                Behaviour::Exfiltration,
            ),
            (
                "threat.host-identity-sent-at-install",
                Behaviour::Exfiltration,
            ),
            ("exfiltration.bait-in-traffic", Behaviour::Exfiltration),
            ("dynamic.cryptominer", Behaviour::Miner),
            ("threat.reverse-shell", Behaviour::RemoteShell),
            ("threat.download-write-run", Behaviour::DownloadExecute),
            ("credential-read-added", Behaviour::Credentials),
            ("threat.persistence", Behaviour::Persistence),
            ("threat.look-alike-name", Behaviour::Impersonation),
            ("threat.js-obfuscator", Behaviour::Obfuscation),
            ("install-hook-added", Behaviour::InstallHook),
            ("command-added", Behaviour::Commands),
            ("install-network-added", Behaviour::Network),
            ("dynamic.dns-tunnel", Behaviour::Network),
            ("file-write-added", Behaviour::FileWrites),
        ] {
            assert_eq!(behaviour_of(code), Some(b), "{code}");
        }
        assert_eq!(behaviour_of("findings"), None);
    }

    #[test]
    fn quotes_are_one_bounded_line() {
        assert_eq!(quote("a\nb`c"), "`a b'c`");
        let long = quote_plain(&"x".repeat(200), 10);
        assert_eq!(long.chars().count(), 10);
        assert!(long.ends_with('…'));
        assert_eq!(
            join_words(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }
}
