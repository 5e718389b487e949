//! Behaviour rules: a release judged by what it did in the sandbox, on
//! its own, with no earlier release to compare with.
//!
//! The rules are data (`rules/behaviour.toml`): classes of events (a
//! command, a file written or read, a destination, a DNS name) matched by
//! regular expressions, and rules that fire when a class was seen, in
//! given phases, together with another class in the same phase. The
//! events come from the behaviour profile ([`crate::from_dynamic`]), so the
//! harness (driver, package manager, toolchain, resolver, registry proxy)
//! is already left out; three classes are computed here instead of
//! matched: `network` (any destination or DNS name), `raw-ip` (a
//! connection to an address no DNS answer gave) and `dns-tunnel` (several
//! long or random labels under one zone).
//!
//! [`Behaviour::findings`] gives `dynamic.*` findings with the events that
//! proved them; every shipped rule carries examples that must and must not
//! match, run by [`Behaviour::test_examples`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use paddock_proto::v1::{
    DynamicResult, Evidence, Finding, FindingCategory, Phase, Reachability, Severity,
};
use regex::RegexSet;
use serde::Deserialize;

use crate::profile::{Kind, PhaseLite, Profile};

const BUILTIN: &str = include_str!("../../../rules/behaviour.toml");

/// Why a behaviour rule file does not load.
#[derive(Debug, thiserror::Error)]
pub enum BehaviourError {
    #[error("rules/behaviour.toml: not valid toml: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("rules/behaviour.toml: {what}: {reason}")]
    Invalid { what: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    #[serde(default, rename = "class")]
    classes: Vec<ClassSpec>,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassSpec {
    id: String,
    on: Vec<String>,
    #[allow(dead_code)]
    description: String,
    patterns: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    title: String,
    severity: String,
    confidence: f32,
    technique: String,
    description: String,
    when: Vec<String>,
    #[serde(default)]
    with: Vec<String>,
    #[serde(default)]
    phases: Vec<String>,
    #[serde(default, rename = "example")]
    examples: Vec<ExampleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleSpec {
    expect: String,
    events: Vec<Event>,
}

/// One event of a phase, as the rules see it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub phase: String,
    /// `command`, `file-write`, `file-read`, `host`, `dns`, or one of the
    /// computed kinds `raw-ip` and `dns-tunnel`.
    pub on: String,
    pub value: String,
}

/// Computed classes, in every rule set.
const NETWORK: &str = "network";
const RAW_IP: &str = "raw-ip";
const DNS_TUNNEL: &str = "dns-tunnel";
const EXHAUSTION: &str = "exhaustion";

#[derive(Debug)]
struct Class {
    id: String,
    on: Vec<String>,
    patterns: RegexSet,
}

#[derive(Debug)]
struct Rule {
    id: String,
    title: String,
    severity: Severity,
    confidence: f32,
    technique: String,
    description: String,
    when: Vec<String>,
    with: Vec<String>,
    phases: Vec<PhaseLite>,
    examples: Vec<ExampleSpec>,
}

/// The behaviour rules, compiled.
#[derive(Debug)]
pub struct Behaviour {
    version: String,
    classes: Vec<Class>,
    rules: Vec<Rule>,
}

/// The shipped behaviour rules.
pub fn builtin() -> &'static Behaviour {
    static RULES: LazyLock<Behaviour> = LazyLock::new(|| {
        Behaviour::load(BUILTIN).expect("the shipped behaviour rules load (tested)")
    });
    &RULES
}

fn severity(s: &str) -> Option<Severity> {
    Some(match s {
        "info" => Severity::Info,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        _ => return None,
    })
}

impl Behaviour {
    /// Compiles rules from the text of a `behaviour.toml`.
    pub fn load(text: &str) -> Result<Self, BehaviourError> {
        let file: File = toml::from_str(text)?;
        let invalid = |what: &str, reason: String| BehaviourError::Invalid {
            what: what.to_owned(),
            reason,
        };
        let mut classes = Vec::new();
        for c in file.classes {
            for on in &c.on {
                if !matches!(
                    on.as_str(),
                    "command" | "file-write" | "file-read" | "host" | "dns"
                ) {
                    return Err(invalid(
                        &format!("class {}", c.id),
                        format!(
                            "unknown event kind `{on}`: use command, file-write, file-read, host or dns"
                        ),
                    ));
                }
            }
            let patterns = RegexSet::new(&c.patterns)
                .map_err(|e| invalid(&format!("class {}", c.id), e.to_string()))?;
            classes.push(Class {
                id: c.id,
                on: c.on,
                patterns,
            });
        }
        let known = |id: &str| {
            [NETWORK, RAW_IP, DNS_TUNNEL, EXHAUSTION].contains(&id)
                || classes.iter().any(|c| c.id == id)
        };
        let mut rules: Vec<Rule> = Vec::new();
        for r in file.rules {
            let what = format!("rule {}", r.id);
            if rules.iter().any(|x| x.id == r.id) {
                return Err(invalid(&what, "defined twice".into()));
            }
            if !r.id.starts_with("dynamic.") {
                return Err(invalid(&what, "ids start with `dynamic.`".into()));
            }
            if r.when.is_empty() {
                return Err(invalid(&what, "`when` names at least one class".into()));
            }
            for c in r.when.iter().chain(&r.with) {
                if !known(c) {
                    return Err(invalid(&what, format!("unknown class `{c}`")));
                }
            }
            let phases = r
                .phases
                .iter()
                .map(|p| {
                    PhaseLite::parse(p)
                        .ok_or_else(|| invalid(&what, format!("unknown phase `{p}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if !(0.0..=1.0).contains(&r.confidence) {
                return Err(invalid(&what, "confidence is between 0 and 1".into()));
            }
            rules.push(Rule {
                severity: severity(&r.severity)
                    .ok_or_else(|| invalid(&what, format!("unknown severity `{}`", r.severity)))?,
                id: r.id,
                title: r.title,
                confidence: r.confidence,
                technique: r.technique,
                description: r.description,
                when: r.when,
                with: r.with,
                phases,
                examples: r.examples,
            });
        }
        Ok(Self {
            version: file.version,
            classes,
            rules,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Each rule's id, severity, confidence, technique and title.
    pub fn summaries(&self) -> Vec<(&str, Severity, f32, &str, &str)> {
        self.rules
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.severity,
                    r.confidence,
                    r.technique.as_str(),
                    r.title.as_str(),
                )
            })
            .collect()
    }

    /// What the rule `id` detects, in full (its `description`).
    pub fn description(&self, id: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.description.as_str())
    }

    /// Rule ids, in file order.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.id.as_str()).collect()
    }

    /// The classes each event belongs to: `(class, phase) → first events`.
    fn classify(&self, events: &[Event]) -> BTreeMap<(String, PhaseLite), Vec<Event>> {
        let mut seen: BTreeMap<(String, PhaseLite), Vec<Event>> = BTreeMap::new();
        let mut add = |class: &str, e: &Event, phase: PhaseLite| {
            let list = seen.entry((class.to_owned(), phase)).or_default();
            if list.len() < 5 {
                list.push(e.clone());
            }
        };
        for e in events {
            let Some(phase) = PhaseLite::parse(&e.phase) else {
                continue;
            };
            match e.on.as_str() {
                "host" | "dns" | RAW_IP => add(NETWORK, e, phase),
                DNS_TUNNEL => add(NETWORK, e, phase),
                _ => {}
            }
            if matches!(e.on.as_str(), RAW_IP | DNS_TUNNEL | EXHAUSTION) {
                add(&e.on, e, phase);
                // A raw-ip event is a destination too.
                if e.on == RAW_IP {
                    for c in &self.classes {
                        if c.on.iter().any(|o| o == "host") && c.patterns.is_match(&e.value) {
                            add(&c.id, e, phase);
                        }
                    }
                }
                continue;
            }
            for c in &self.classes {
                if c.on.contains(&e.on) && c.patterns.is_match(&e.value) {
                    add(&c.id, e, phase);
                }
            }
        }
        seen
    }

    /// The findings a list of events gives.
    pub fn judge(&self, events: &[Event]) -> Vec<Finding> {
        let seen = self.classify(events);
        let mut out = Vec::new();
        for rule in &self.rules {
            let mut evidence: Vec<(PhaseLite, Event)> = Vec::new();
            for ((class, phase), list) in &seen {
                if !rule.when.contains(class)
                    || (!rule.phases.is_empty() && !rule.phases.contains(phase))
                {
                    continue;
                }
                let with = if rule.with.is_empty() {
                    Some(Vec::new())
                } else {
                    rule.with
                        .iter()
                        .find_map(|w| seen.get(&(w.clone(), *phase)).cloned())
                };
                let Some(with) = with else { continue };
                for e in list.iter().chain(with.iter().take(2)) {
                    if evidence.len() < 8 {
                        evidence.push((*phase, e.clone()));
                    }
                }
            }
            if evidence.is_empty() {
                continue;
            }
            let reach = match evidence[0].0 {
                PhaseLite::Install => Reachability::Install,
                PhaseLite::Import => Reachability::Import,
                _ => Reachability::Execute,
            };
            out.push(Finding {
                rule_id: rule.id.clone(),
                rule_version: format!("behaviour {}", self.version),
                severity: rule.severity as i32,
                confidence: rule.confidence,
                category: FindingCategory::Threat as i32,
                title: rule.title.clone(),
                description: rule.description.clone(),
                evidence: evidence
                    .into_iter()
                    .map(|(phase, e)| Evidence {
                        snippet: e.value.chars().take(300).collect(),
                        phase: phase.to_proto() as i32,
                        detail: format!("{} {}", phase.token(), e.on),
                        ..Default::default()
                    })
                    .collect(),
                tags: vec!["dynamic".into(), "behaviour".into()],
                reachability: reach as i32,
                technique: rule.technique.clone(),
            });
        }
        out
    }

    /// The findings of a dynamic result.
    pub fn findings(&self, result: &DynamicResult) -> Vec<Finding> {
        self.judge(&events(result, &crate::from_dynamic(result)))
    }

    /// [`Self::findings`] with the result's behaviour profile already
    /// built.
    pub fn findings_with_profile(&self, result: &DynamicResult, profile: &Profile) -> Vec<Finding> {
        self.judge(&events(result, profile))
    }

    /// Runs every rule's examples: `(rule, failures)`; a shipped rule
    /// needs one example of each kind.
    pub fn test_examples(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for rule in &self.rules {
            let kinds: BTreeSet<&str> = rule.examples.iter().map(|e| e.expect.as_str()).collect();
            if !kinds.contains("match") || !kinds.contains("no-match") {
                failures.push(format!(
                    "{}: needs a `match` and a `no-match` example",
                    rule.id
                ));
            }
            for (i, ex) in rule.examples.iter().enumerate() {
                let fired = self.judge(&ex.events).iter().any(|f| f.rule_id == rule.id);
                let want = match ex.expect.as_str() {
                    "match" => true,
                    "no-match" => false,
                    other => {
                        failures.push(format!("{} example {}: expect `{other}`", rule.id, i + 1));
                        continue;
                    }
                };
                if fired != want {
                    failures.push(format!(
                        "{} example {}: expected {}, got {}",
                        rule.id,
                        i + 1,
                        ex.expect,
                        if fired { "a match" } else { "no match" }
                    ));
                }
            }
        }
        failures
    }
}

/// The events of a dynamic result: the behaviour profile's commands,
/// writes, reads, destinations and DNS names (harness left out), and the
/// computed raw-IP destinations and DNS tunnels.
pub fn events(result: &DynamicResult, profile: &Profile) -> Vec<Event> {
    let mut out = Vec::new();
    for (key, raw) in &profile.items {
        let on = match key.kind {
            Kind::Command => "command",
            Kind::FileWrite => "file-write",
            Kind::FileRead => "file-read",
            Kind::Host => "host",
            Kind::DnsName => "dns",
            _ => continue,
        };
        let value = match key.kind {
            // The raw command line: normalisation would hide pool
            // addresses and options behind placeholders.
            Kind::Command if !key.value.starts_with(crate::profile::EXEC_WRITTEN_FILE) => {
                raw.clone()
            }
            Kind::DnsName | Kind::Host => raw.clone(),
            _ => key.value.clone(),
        };
        out.push(Event {
            phase: key.phase.token().to_owned(),
            on: on.to_owned(),
            value,
        });
    }
    for phase in &result.phases {
        let ph = match phase.phase() {
            Phase::Install => PhaseLite::Install,
            Phase::Import => PhaseLite::Import,
            Phase::Execute => PhaseLite::Execute,
            _ => PhaseLite::Dynamic,
        };
        // Commands the package tried that failed (the program is not in
        // the image, or refused): the attempt is the behaviour. A shell
        // tries every directory of PATH, so each command line counts once.
        let harness = crate::profile::from_dynamic::harness_pids(phase);
        let mut tried = BTreeSet::new();
        for c in &phase.commands {
            if c.result >= 0 || c.argv.is_empty() || harness.contains(&c.pid) {
                continue;
            }
            let line = c.argv.join(" ");
            if tried.len() < 64 && tried.insert(line.clone()) {
                out.push(Event {
                    phase: ph.token().to_owned(),
                    on: "command".to_owned(),
                    value: line,
                });
            }
        }
        // Connections to addresses no DNS answer gave.
        let answered: BTreeSet<&str> = phase
            .dns
            .iter()
            .flat_map(|q| q.answers.iter().map(String::as_str))
            .collect();
        for s in &phase.sockets {
            if !matches!(s.family.as_str(), "AF_INET" | "AF_INET6")
                || s.address.is_empty()
                || !s.hostnames.is_empty()
                || answered.contains(s.address.as_str())
                || crate::sandbox::is_plumbing(&s.address, s.port)
                || !is_public(&s.address)
            {
                continue;
            }
            out.push(Event {
                phase: ph.token().to_owned(),
                on: RAW_IP.to_owned(),
                value: format!("{}:{}", s.address, s.port),
            });
        }
        // A phase that ended by exhausting memory or processes, or by an
        // abort after burning CPU: an endless loop or a fork bomb.
        if phase.status != paddock_proto::v1::AnalysisStatus::Completed as i32
            && phase.status != paddock_proto::v1::AnalysisStatus::Skipped as i32
        {
            let r = phase.resources.unwrap_or_default();
            // A build that ran out of time with the compilers still at
            // work: the memory it hit the limit with was the toolchain's
            // (a crate's dependency tree compiling in parallel), not the
            // package's doing.
            let toolchain_busy = phase.status
                == paddock_proto::v1::AnalysisStatus::ErrorTimeout as i32
                && phase
                    .processes
                    .iter()
                    .any(|p| p.exit_code < 0 && crate::sandbox::is_toolchain(&p.argv));
            let exhausted = (r.oom_killed && !toolchain_busy)
                || r.pids_limit_hit
                || phase.status == paddock_proto::v1::AnalysisStatus::ErrorLimit as i32
                || (matches!(phase.exit_code, 134 | 137) && r.cpu_seconds >= 10.0);
            if exhausted {
                out.push(Event {
                    phase: ph.token().to_owned(),
                    on: EXHAUSTION.to_owned(),
                    value: format!(
                        "{} phase ended ({}) after {:.1} s of CPU, {} MiB, {} processes",
                        ph.token(),
                        if phase.status_detail.is_empty() {
                            format!("exit {}", phase.exit_code)
                        } else {
                            phase.status_detail.clone()
                        },
                        r.cpu_seconds,
                        r.max_rss_bytes >> 20,
                        r.max_pids
                    ),
                });
            }
        }
        let names: Vec<&str> = phase.dns.iter().map(|q| q.hostname.as_str()).collect();
        if let Some(t) = dns_tunnel(&names) {
            out.push(Event {
                phase: ph.token().to_owned(),
                on: DNS_TUNNEL.to_owned(),
                value: t,
            });
        }
    }
    out
}

/// An address on the internet (not private, loopback, link-local or the
/// sandbox's own pools).
fn is_public(address: &str) -> bool {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast())
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast())
                && v6
                    .to_ipv4_mapped()
                    .is_none_or(|v4| !v4.is_private() && !v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// Several names under one zone whose first labels are long or random:
/// data carried in the names.
fn dns_tunnel(names: &[&str]) -> Option<String> {
    let mut zones: HashMap<String, (usize, String)> = HashMap::new();
    for name in names {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 3 {
            continue;
        }
        let zone = labels[labels.len() - 2..].join(".");
        let data = &labels[..labels.len() - 2];
        // Hex or base32 runs, or long random-looking labels.
        let carrying = data.iter().any(|l| {
            l.len() >= 30
                || (l.len() >= 16 && l.bytes().all(|b| b.is_ascii_hexdigit()))
                || (l.len() >= 20
                    && l.bytes().all(|b| b.is_ascii_alphanumeric())
                    && l.bytes().any(|b| b.is_ascii_digit()))
                || (l.len() >= 16 && entropy(l) >= 3.8 && l.bytes().any(|b| b.is_ascii_digit()))
        });
        if carrying {
            let e = zones.entry(zone).or_insert((0, String::new()));
            e.0 += 1;
            if e.1.is_empty() {
                e.1 = name.clone();
            }
        }
    }
    zones
        .into_iter()
        .filter(|(_, (n, _))| *n >= 2)
        .max_by_key(|(_, (n, _))| *n)
        .map(|(zone, (n, example))| format!("{zone}: {n} names like {example}"))
}

fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_behaviour_rule_passes_its_examples() {
        let failures = builtin().test_examples();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(builtin().rule_ids().len() >= 10);
    }

    #[test]
    fn every_shipped_behaviour_rule_has_a_description() {
        for id in builtin().rule_ids() {
            let d = builtin().description(id).unwrap_or_default();
            assert!(!d.trim().is_empty(), "{id}");
        }
        assert_eq!(builtin().description("dynamic.no-such-rule"), None);
    }

    #[test]
    fn a_broken_rule_file_says_what_is_wrong() {
        let e = Behaviour::load("version = \"1\"\n[[rule]]\nid = \"dynamic.x\"\ntitle = \"t\"\nseverity = \"high\"\nconfidence = 0.5\ntechnique = \"\"\ndescription = \"d\"\nwhen = [\"nope\"]\n").unwrap_err();
        assert!(e.to_string().contains("unknown class `nope`"), "{e}");
        let e = Behaviour::load("version = \"1\"\n[[class]]\nid = \"c\"\non = [\"command\"]\ndescription = \"d\"\npatterns = [\"(\"]\n").unwrap_err();
        assert!(e.to_string().contains("class c"), "{e}");
        assert!(Behaviour::load("version = ").is_err());
    }

    #[test]
    fn dns_tunnels_need_several_data_labels_under_one_zone() {
        assert!(dns_tunnel(&[
            "0.686f73746e616d653a726f6f74.ab12.t.example",
            "1.2f686f6d652f75736572.ab12.t.example",
        ])
        .is_some());
        assert!(dns_tunnel(&["www.example.com", "cdn.example.com", "api.example.com"]).is_none());
        assert!(dns_tunnel(&["0.686f73746e616d653a726f6f74.ab12.t.example"]).is_none());
    }

    #[test]
    fn raw_addresses_are_public_ones() {
        assert!(is_public("198.51.100.7"));
        assert!(!is_public("10.232.0.9"));
        assert!(!is_public("127.0.0.1"));
        assert!(!is_public("::1"));
    }
}

#[cfg(test)]
mod exhaustion_tests {
    use super::*;
    use paddock_proto::v1::{AnalysisStatus, Phase, PhaseResult, Process, ResourceUsage};

    fn timed_out_with(argv: &[&str]) -> DynamicResult {
        DynamicResult {
            phases: vec![PhaseResult {
                phase: Phase::Install as i32,
                status: AnalysisStatus::ErrorTimeout as i32,
                status_detail: "the install phase ran out of its 300 s".into(),
                resources: Some(ResourceUsage {
                    oom_killed: true,
                    cpu_seconds: 298.0,
                    ..Default::default()
                }),
                processes: vec![Process {
                    pid: 40,
                    argv: argv.iter().map(|a| a.to_string()).collect(),
                    exit_code: -1,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn exhausted(r: &DynamicResult) -> bool {
        let profile = crate::from_dynamic(r);
        events(r, &profile).iter().any(|e| e.on == EXHAUSTION)
    }

    #[test]
    fn a_slow_build_at_the_memory_limit_is_not_exhaustion_a_bomb_is() {
        // cargo building a big dependency tree: rustc still at work.
        assert!(!exhausted(&timed_out_with(&[
            "/usr/bin/rustc",
            "--crate-name",
            "aws_lc_sys"
        ])));
        // The package's own process held the memory until the end.
        assert!(exhausted(&timed_out_with(&[
            "python3",
            "-c",
            "x = []\nwhile True: x.append(' ' * 10**6)"
        ])));
        // A fork bomb against the pids limit stays exhaustion, builds or not.
        let mut r = timed_out_with(&["/usr/bin/rustc"]);
        r.phases[0].resources.as_mut().unwrap().pids_limit_hit = true;
        assert!(exhausted(&r));
    }
}
