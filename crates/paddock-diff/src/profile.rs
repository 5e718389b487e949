//! A release's behaviour profile: what it does, as a set of normalised
//! items, plus the findings its analyses reported.
//!
//! # Layout
//!
//! - this file: the types ([`Profile`], [`ItemKey`], [`Kind`],
//!   [`PhaseLite`], [`FindingLite`]), merging and the size limits;
//! - `from_static`: items from a static result (install hooks,
//!   dependencies, bundled binaries, obfuscation signals, capabilities);
//! - `from_dynamic`: items from a dynamic result (network, commands, file
//!   writes and deletes, credential reads, baits, fetched packages).
//!
//! # Invariants
//!
//! - An item's value is normalised ([`crate::normalize`]) and at most
//!   [`MAX_VALUE_CHARS`] characters; the raw example next to it is for
//!   humans and is never compared.
//! - Items of phase [`PhaseLite::Static`] come from static analysis, all
//!   others from dynamic analysis: [`crate::diff`](mod@crate::diff) compares each part only
//!   when both profiles have it.
//! - A profile stays small enough to share a NATS KV value (1 MiB) with
//!   other releases: at most [`MAX_ITEMS_PER_GROUP`] items per kind and
//!   phase, at most [`MAX_FINDINGS`] findings, and items within
//!   [`ITEM_BUDGET_BYTES`]. What is cut is counted in
//!   [`Profile::dropped`]; the items kept are always the first ones in
//!   sort order, so that the same behaviour keeps the same items.

pub(crate) mod from_dynamic;
mod from_static;

use std::collections::{BTreeMap, BTreeSet};

use paddock_proto::v1::{ChangeKind, FindingCategory, PackageRef, Phase, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::normalize::MAX_VALUE_CHARS;
use crate::normalize::{bounded, truncate};
pub use from_dynamic::{EXEC_WRITTEN_FILE, EXFILTRATION_RULE};

/// Items kept per kind and phase.
pub const MAX_ITEMS_PER_GROUP: usize = 300;
/// Findings kept per profile (one per rule and phase).
pub const MAX_FINDINGS: usize = 200;
/// The serialized size the items may take together, roughly; past it the
/// per-group limit is halved until they fit.
pub const ITEM_BUDGET_BYTES: usize = 384 * 1024;

/// The kind of a behaviour item; mirrors [`ChangeKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A network destination: a connection, an HTTP request, a TLS hello,
    /// a datagram.
    Host,
    DnsName,
    Command,
    FileWrite,
    /// Reads of credentials and baits only (other reads are too common).
    FileRead,
    FileDelete,
    /// A static capability or threat rule that fired (keyed by rule id).
    Capability,
    InstallHook,
    Obfuscation,
    BundledBinary,
    Dependency,
    /// A dynamic finding (keyed by rule id).
    Finding,
}

impl Kind {
    /// Every kind, in order.
    pub const ALL: [Kind; 12] = [
        Kind::Host,
        Kind::DnsName,
        Kind::Command,
        Kind::FileWrite,
        Kind::FileRead,
        Kind::FileDelete,
        Kind::Capability,
        Kind::InstallHook,
        Kind::Obfuscation,
        Kind::BundledBinary,
        Kind::Dependency,
        Kind::Finding,
    ];

    /// The name used in profiles, scoring rules and suppressions
    /// (`host`, `dns_name`, …).
    pub fn token(self) -> &'static str {
        match self {
            Kind::Host => "host",
            Kind::DnsName => "dns_name",
            Kind::Command => "command",
            Kind::FileWrite => "file_write",
            Kind::FileRead => "file_read",
            Kind::FileDelete => "file_delete",
            Kind::Capability => "capability",
            Kind::InstallHook => "install_hook",
            Kind::Obfuscation => "obfuscation",
            Kind::BundledBinary => "bundled_binary",
            Kind::Dependency => "dependency",
            Kind::Finding => "finding",
        }
    }

    /// The kind named `token`.
    pub fn parse(token: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.token() == token)
    }

    pub fn to_proto(self) -> ChangeKind {
        match self {
            Kind::Host => ChangeKind::Host,
            Kind::DnsName => ChangeKind::DnsName,
            Kind::Command => ChangeKind::Command,
            Kind::FileWrite => ChangeKind::FileWrite,
            Kind::FileRead => ChangeKind::FileRead,
            Kind::FileDelete => ChangeKind::FileDelete,
            Kind::Capability => ChangeKind::Capability,
            Kind::InstallHook => ChangeKind::InstallHook,
            Kind::Obfuscation => ChangeKind::Obfuscation,
            Kind::BundledBinary => ChangeKind::BundledBinary,
            Kind::Dependency => ChangeKind::Dependency,
            Kind::Finding => ChangeKind::Finding,
        }
    }

    /// The kind of a change, if it has one.
    pub fn from_proto(kind: ChangeKind) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.to_proto() == kind)
    }
}

/// Where an item was seen: static analysis, or a dynamic phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseLite {
    Static,
    Install,
    Import,
    Execute,
    /// Dynamic analysis, phase unknown.
    Dynamic,
}

impl PhaseLite {
    pub const ALL: [PhaseLite; 5] = [
        PhaseLite::Static,
        PhaseLite::Install,
        PhaseLite::Import,
        PhaseLite::Execute,
        PhaseLite::Dynamic,
    ];

    pub fn token(self) -> &'static str {
        match self {
            PhaseLite::Static => "static",
            PhaseLite::Install => "install",
            PhaseLite::Import => "import",
            PhaseLite::Execute => "execute",
            PhaseLite::Dynamic => "dynamic",
        }
    }

    pub fn parse(token: &str) -> Option<PhaseLite> {
        PhaseLite::ALL.into_iter().find(|p| p.token() == token)
    }

    /// The phase of a dynamic observation.
    pub fn from_dynamic(phase: Phase) -> PhaseLite {
        match phase {
            Phase::Install => PhaseLite::Install,
            Phase::Import => PhaseLite::Import,
            Phase::Execute => PhaseLite::Execute,
            Phase::Unspecified => PhaseLite::Dynamic,
        }
    }

    /// The wire phase; static and unknown are unspecified.
    pub fn to_proto(self) -> Phase {
        match self {
            PhaseLite::Install => Phase::Install,
            PhaseLite::Import => Phase::Import,
            PhaseLite::Execute => Phase::Execute,
            PhaseLite::Static | PhaseLite::Dynamic => Phase::Unspecified,
        }
    }

    pub fn is_static(self) -> bool {
        self == PhaseLite::Static
    }
}

/// One behaviour: what kind, when, and the normalised value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemKey {
    pub kind: Kind,
    pub phase: PhaseLite,
    pub value: String,
}

impl ItemKey {
    pub fn new(kind: Kind, phase: PhaseLite, value: impl Into<String>) -> Self {
        Self {
            kind,
            phase,
            value: value.into(),
        }
    }

    /// Hex sha256 of kind, phase and value: stable across releases and
    /// Paddock versions, and the key suppressions match on.
    pub fn evidence_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.kind.token().as_bytes());
        h.update([0]);
        h.update(self.phase.token().as_bytes());
        h.update([0]);
        h.update(self.value.as_bytes());
        hex::encode(h.finalize())
    }

    fn group(&self) -> (Kind, PhaseLite) {
        (self.kind, self.phase)
    }
}

/// The release a profile describes, as plain strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRefLite {
    /// The ecosystem's command-line name (`npm`, `pypi`, `crates.io`…).
    pub ecosystem: String,
    pub name: String,
    pub version: String,
}

impl PackageRefLite {
    pub fn from_proto(p: &PackageRef) -> Self {
        Self {
            ecosystem: paddock_proto::ecosystem::cli_name(p.ecosystem()).to_owned(),
            name: p.name.clone(),
            version: p.version.clone(),
        }
    }

    pub fn to_proto(&self) -> PackageRef {
        PackageRef {
            ecosystem: paddock_proto::ecosystem::parse(&self.ecosystem)
                .unwrap_or_default()
                .into(),
            name: self.name.clone(),
            version: self.version.clone(),
        }
    }
}

/// A finding, reduced to what scoring needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingLite {
    pub rule_id: String,
    /// `info` … `critical`.
    pub severity: String,
    /// `capability`, `threat`, `signal` or `unspecified`.
    pub category: String,
    pub title: String,
    /// The first evidence: file and snippet, or detail (no line numbers).
    pub evidence: String,
    pub phase: PhaseLite,
    /// How sure its rule is, 0 to 1 (profiles stored before it existed
    /// read as 1).
    #[serde(default = "full_confidence")]
    pub confidence: f32,
    /// What runs the code it was found in: `install`, `import`,
    /// `execute`, `library`, `unreached`, or empty when unknown.
    #[serde(default)]
    pub reachability: String,
}

fn full_confidence() -> f32 {
    1.0
}

/// The token of a finding's reachability in profiles and scoring rules.
pub fn reachability_token(r: paddock_proto::v1::Reachability) -> &'static str {
    use paddock_proto::v1::Reachability as R;
    match r {
        R::Install => "install",
        R::Import => "import",
        R::Execute => "execute",
        R::Library => "library",
        R::Unreached => "unreached",
        R::Unspecified => "",
    }
}

impl FindingLite {
    pub fn from_proto(f: &paddock_proto::v1::Finding, phase: PhaseLite) -> Self {
        let evidence = f
            .evidence
            .iter()
            .find(|e| e.phase() == phase.to_proto() || phase == PhaseLite::Static)
            .or(f.evidence.first())
            .map(|e| {
                let layers = if e.layers.is_empty() {
                    String::new()
                } else {
                    format!("[{}]", e.layers.join(" → "))
                };
                let parts: Vec<&str> = [
                    e.file.as_str(),
                    layers.as_str(),
                    e.snippet.as_str(),
                    e.detail.as_str(),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
                truncate(&parts.join(": "))
            })
            .unwrap_or_default();
        Self {
            rule_id: f.rule_id.clone(),
            severity: paddock_proto::ecosystem::severity_token(f.severity()).to_owned(),
            category: category_token(f.category()).to_owned(),
            title: truncate(&f.title),
            evidence,
            phase,
            confidence: if f.confidence > 0.0 {
                f.confidence.min(1.0)
            } else {
                1.0
            },
            reachability: reachability_token(f.reachability()).to_owned(),
        }
    }

    pub fn severity(&self) -> Severity {
        paddock_proto::ecosystem::parse_severity(&self.severity).unwrap_or(Severity::Unspecified)
    }

    pub fn category(&self) -> FindingCategory {
        match self.category.as_str() {
            "capability" => FindingCategory::Capability,
            "threat" => FindingCategory::Threat,
            "signal" => FindingCategory::Signal,
            _ => FindingCategory::Unspecified,
        }
    }

    /// The item a finding stands for in suppressions:
    /// ([`Kind::Finding`], phase, rule id).
    pub fn key(&self) -> ItemKey {
        ItemKey::new(Kind::Finding, self.phase, self.rule_id.clone())
    }
}

/// The category's name in profiles and scoring rules.
pub fn category_token(c: FindingCategory) -> &'static str {
    match c {
        FindingCategory::Capability => "capability",
        FindingCategory::Threat => "threat",
        FindingCategory::Signal => "signal",
        FindingCategory::Unspecified => "unspecified",
    }
}

/// What one release does.
///
/// Stored as JSON ([`Profile::encode`]); every field has a default so
/// that a profile stored by an older Paddock still reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub package: PackageRefLite,
    /// Static analysis completed and its items are in the profile.
    pub has_static: bool,
    /// Dynamic analysis ran and its items are in the profile.
    pub has_dynamic: bool,
    pub run_ids: BTreeSet<String>,
    /// Each behaviour with one raw example (un-normalised, truncated).
    #[serde(with = "items_serde")]
    pub items: BTreeMap<ItemKey, String>,
    pub findings: Vec<FindingLite>,
    /// Items cut by the size limits, per `kind/phase`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped: BTreeMap<String, u64>,
}

/// The profile of a static result.
pub fn from_static(r: &paddock_proto::v1::StaticResult) -> Profile {
    from_static::profile(r)
}

/// The profile of a dynamic result.
pub fn from_dynamic(r: &paddock_proto::v1::DynamicResult) -> Profile {
    from_dynamic::profile(r)
}

fn group_token(kind: Kind, phase: PhaseLite) -> String {
    format!("{}/{}", kind.token(), phase.token())
}

impl Profile {
    /// An empty profile of a release.
    pub fn new(package: PackageRefLite) -> Self {
        Self {
            package,
            ..Self::default()
        }
    }

    /// Adds an item (the value is bounded; the first raw example is kept).
    pub fn insert(&mut self, kind: Kind, phase: PhaseLite, value: impl Into<String>, raw: &str) {
        let value = bounded(value.into());
        if value.is_empty() {
            return;
        }
        self.items
            .entry(ItemKey::new(kind, phase, value))
            .or_insert_with(|| truncate(raw));
    }

    /// Whether the profile has this item.
    pub fn contains(&self, kind: Kind, phase: PhaseLite, value: &str) -> bool {
        self.items.contains_key(&ItemKey::new(kind, phase, value))
    }

    /// Adds a finding unless one of the same rule and phase is there.
    pub fn add_finding(&mut self, f: FindingLite) {
        if self.findings.len() >= MAX_FINDINGS {
            return;
        }
        if !self
            .findings
            .iter()
            .any(|g| g.rule_id == f.rule_id && g.phase == f.phase)
        {
            self.findings.push(f);
        }
    }

    /// Whether any finding of this rule is in the profile.
    pub fn has_finding_rule(&self, rule_id: &str) -> bool {
        self.findings.iter().any(|f| f.rule_id == rule_id)
    }

    /// Adds another profile of the same release (the static and the
    /// dynamic one, or a re-run).
    pub fn merge(&mut self, other: Profile) {
        if self.package.name.is_empty() {
            self.package = other.package;
        }
        self.has_static |= other.has_static;
        self.has_dynamic |= other.has_dynamic;
        self.run_ids.extend(other.run_ids);
        for (key, raw) in other.items {
            self.items.entry(key).or_insert(raw);
        }
        for f in other.findings {
            self.add_finding(f);
        }
        for (group, n) in other.dropped {
            let d = self.dropped.entry(group).or_default();
            *d = d.saturating_add(n);
        }
        self.enforce_limits();
    }

    /// The profile as stored (JSON, compact).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a profile always serializes")
    }

    /// A stored profile.
    pub fn decode(bytes: &[u8]) -> Result<Profile, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Both analyses are in.
    pub fn is_complete(&self) -> bool {
        self.has_static && self.has_dynamic
    }

    /// When items of this kind and phase were cut, the last one kept:
    /// anything after it in sort order is unknown for this profile.
    pub fn horizon(&self, kind: Kind, phase: PhaseLite) -> Option<&ItemKey> {
        if self
            .dropped
            .get(&group_token(kind, phase))
            .copied()
            .unwrap_or(0)
            == 0
        {
            return None;
        }
        self.items
            .keys()
            .rfind(|k| k.kind == kind && k.phase == phase)
    }

    /// Applies the size limits (see the module documentation).
    pub(crate) fn enforce_limits(&mut self) {
        self.findings.truncate(MAX_FINDINGS);
        let mut cap = MAX_ITEMS_PER_GROUP;
        loop {
            let mut counts: BTreeMap<(Kind, PhaseLite), usize> = BTreeMap::new();
            let mut cut: Vec<ItemKey> = Vec::new();
            for key in self.items.keys() {
                let n = counts.entry(key.group()).or_default();
                *n += 1;
                if *n > cap {
                    cut.push(key.clone());
                }
            }
            for key in cut {
                self.items.remove(&key);
                *self
                    .dropped
                    .entry(group_token(key.kind, key.phase))
                    .or_default() += 1;
            }
            if cap <= 1 || self.item_bytes() <= ITEM_BUDGET_BYTES {
                break;
            }
            cap /= 2;
        }
    }

    /// About what the items take serialized.
    fn item_bytes(&self) -> usize {
        self.items
            .iter()
            .map(|(k, raw)| {
                let raw = if *raw == k.value { 0 } else { raw.len() };
                // field names, kind and phase, quotes and escapes
                64 + k.value.len() + raw
            })
            .sum()
    }
}

/// Items are serialized as a list (JSON object keys must be strings), and
/// a raw example equal to its value is left out.
mod items_serde {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{ItemKey, Kind, PhaseLite};

    #[derive(Serialize)]
    struct ItemRef<'a> {
        kind: Kind,
        phase: PhaseLite,
        value: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        raw: Option<&'a str>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        kind: Kind,
        phase: PhaseLite,
        value: String,
        raw: Option<String>,
    }

    pub fn serialize<S: Serializer>(
        items: &BTreeMap<ItemKey, String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(items.iter().map(|(k, raw)| ItemRef {
            kind: k.kind,
            phase: k.phase,
            value: &k.value,
            raw: (*raw != k.value).then_some(raw.as_str()),
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<ItemKey, String>, D::Error> {
        let items = Vec::<Item>::deserialize(d)?;
        Ok(items
            .into_iter()
            .map(|i| {
                let raw = i.raw.unwrap_or_else(|| i.value.clone());
                (ItemKey::new(i.kind, i.phase, i.value), raw)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lite(rule: &str, phase: PhaseLite) -> FindingLite {
        FindingLite {
            rule_id: rule.into(),
            severity: "high".into(),
            category: "threat".into(),
            title: String::new(),
            evidence: String::new(),
            phase,
            confidence: 1.0,
            reachability: String::new(),
        }
    }

    #[test]
    fn kinds_and_phases_round_trip_through_their_tokens() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.token()), Some(k));
            assert_eq!(Kind::from_proto(k.to_proto()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.token()));
        }
        for p in PhaseLite::ALL {
            assert_eq!(PhaseLite::parse(p.token()), Some(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.token())
            );
        }
        assert_eq!(Kind::from_proto(ChangeKind::Unspecified), None);
        assert_eq!(
            PhaseLite::from_dynamic(Phase::Unspecified),
            PhaseLite::Dynamic
        );
    }

    #[test]
    fn evidence_hashes_are_stable_and_distinguish_every_part() {
        let k = ItemKey::new(Kind::Host, PhaseLite::Install, "x.example:80");
        // Pinned: suppressions written by users depend on it.
        assert_eq!(
            k.evidence_hash(),
            "6147d55bee952cffe232e41f6ee8ced7adb3e8449557997cfac5aae69c586210"
        );
        let other_phase = ItemKey::new(Kind::Host, PhaseLite::Import, "x.example:80");
        let other_kind = ItemKey::new(Kind::DnsName, PhaseLite::Install, "x.example:80");
        assert_ne!(k.evidence_hash(), other_phase.evidence_hash());
        assert_ne!(k.evidence_hash(), other_kind.evidence_hash());
    }

    #[test]
    fn profiles_round_trip_through_json() {
        let mut p = Profile::new(PackageRefLite {
            ecosystem: "npm".into(),
            name: "x".into(),
            version: "1.0.0".into(),
        });
        p.has_dynamic = true;
        p.run_ids.insert("r1".into());
        p.insert(
            Kind::Host,
            PhaseLite::Install,
            "x.example:80",
            "x.example:80",
        );
        p.insert(
            Kind::FileWrite,
            PhaseLite::Install,
            "/tmp/<tmp>/a",
            "/tmp/tmpab12cd/a",
        );
        p.add_finding(lite("threat.x", PhaseLite::Static));
        let json = String::from_utf8(p.encode()).unwrap();
        assert!(json.contains("\"raw\":\"/tmp/tmpab12cd/a\""), "{json}");
        assert_eq!(json.matches("\"raw\"").count(), 1, "{json}");
        assert_eq!(Profile::decode(json.as_bytes()).unwrap(), p);
    }

    #[test]
    fn the_first_raw_example_is_kept_and_values_are_bounded() {
        let mut p = Profile::default();
        p.insert(Kind::Command, PhaseLite::Install, "a", "first");
        p.insert(Kind::Command, PhaseLite::Install, "a", "second");
        p.insert(Kind::Command, PhaseLite::Install, "", "empty");
        p.insert(
            Kind::Command,
            PhaseLite::Install,
            "y".repeat(1000),
            &"z".repeat(1000),
        );
        assert_eq!(p.items.len(), 2);
        assert_eq!(
            p.items[&ItemKey::new(Kind::Command, PhaseLite::Install, "a")],
            "first"
        );
        for (k, raw) in &p.items {
            assert!(k.value.chars().count() <= MAX_VALUE_CHARS);
            assert!(raw.chars().count() <= MAX_VALUE_CHARS);
        }
    }

    #[test]
    fn groups_are_capped_keeping_the_first_items_and_counting_the_rest() {
        let mut p = Profile::default();
        for i in 0..(MAX_ITEMS_PER_GROUP + 50) {
            p.insert(
                Kind::FileWrite,
                PhaseLite::Install,
                format!("/x/{i:04}"),
                "",
            );
        }
        p.insert(Kind::Host, PhaseLite::Install, "a:1", "");
        p.enforce_limits();
        assert_eq!(p.items.len(), MAX_ITEMS_PER_GROUP + 1);
        assert_eq!(p.dropped["file_write/install"], 50);
        let horizon = p.horizon(Kind::FileWrite, PhaseLite::Install).unwrap();
        assert_eq!(horizon.value, format!("/x/{:04}", MAX_ITEMS_PER_GROUP - 1));
        assert!(p.horizon(Kind::Host, PhaseLite::Install).is_none());
    }

    #[test]
    fn the_byte_budget_halves_the_group_limit_until_items_fit() {
        let mut p = Profile::default();
        for kind in Kind::ALL {
            for phase in [PhaseLite::Install, PhaseLite::Import, PhaseLite::Execute] {
                for i in 0..MAX_ITEMS_PER_GROUP {
                    let v = format!("{i:04}{}", "v".repeat(290));
                    p.insert(kind, phase, v, &"r".repeat(300));
                }
            }
        }
        p.enforce_limits();
        assert!(p.item_bytes() <= ITEM_BUDGET_BYTES, "{}", p.item_bytes());
        assert!(!p.items.is_empty());
        assert!(serde_json::to_vec(&p).unwrap().len() < 512 * 1024);
    }

    #[test]
    fn merging_unions_items_run_ids_and_findings() {
        let mut a = Profile::new(PackageRefLite {
            ecosystem: "npm".into(),
            name: "x".into(),
            version: "1.0.0".into(),
        });
        a.has_static = true;
        a.run_ids.insert("s".into());
        a.insert(Kind::InstallHook, PhaseLite::Static, "hook", "");
        a.add_finding(lite("threat.a", PhaseLite::Static));
        let mut b = Profile {
            has_dynamic: true,
            ..Profile::default()
        };
        b.run_ids.insert("d".into());
        b.insert(Kind::Host, PhaseLite::Install, "h:1", "");
        b.add_finding(lite("threat.a", PhaseLite::Static));
        b.add_finding(lite("exfiltration.bait-in-traffic", PhaseLite::Install));
        assert!(!a.is_complete());
        a.merge(b);
        assert!(a.is_complete());
        assert_eq!(a.package.name, "x");
        assert_eq!(a.run_ids.len(), 2);
        assert_eq!(a.items.len(), 2);
        assert_eq!(a.findings.len(), 2);
        assert!(a.has_finding_rule("exfiltration.bait-in-traffic"));
    }

    #[test]
    fn package_refs_convert_both_ways() {
        let p = PackageRef {
            ecosystem: paddock_proto::v1::Ecosystem::CratesIo.into(),
            name: "serde".into(),
            version: "1.0.0".into(),
        };
        let lite = PackageRefLite::from_proto(&p);
        assert_eq!(lite.ecosystem, "crates.io");
        assert_eq!(lite.to_proto(), p);
    }
}
