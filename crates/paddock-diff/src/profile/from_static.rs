//! Items from a static result.
//!
//! What goes in, and what does not:
//!
//! - install hooks: kind, name and normalised command (a hook that
//!   appears is how most malicious releases run);
//! - dependencies: names only, of every scope an ordinary install fetches
//!   (runtime, optional, build, or unstated); versions are dropped (they
//!   move with every release), dev dependencies too (users never install
//!   them);
//! - bundled binaries: normalised paths;
//! - obfuscation: per file, the `minified`, `obfuscated` and
//!   `high-entropy` signals, as `path signal`. Base64 and hex strings,
//!   URLs and suspicious identifiers are left out: honest code has plenty
//!   (`six.py` has 27 base64-looking strings) and they move with every
//!   edit;
//! - capability and threat findings: a [`Kind::Capability`] item keyed by
//!   rule id, never by line; every finding also goes to
//!   [`Profile::findings`].

use paddock_proto::v1::{AnalysisStatus, FindingCategory, StaticResult};

use super::{FindingLite, Kind, PackageRefLite, PhaseLite, Profile};
use crate::normalize::{package_name, Normalizer};

/// Dependency scopes an ordinary install fetches.
const INSTALLED_SCOPES: &[&str] = &["", "runtime", "optional", "build"];

pub(super) fn profile(r: &StaticResult) -> Profile {
    let package = r
        .package
        .as_ref()
        .map(PackageRefLite::from_proto)
        .unwrap_or_default();
    let n = Normalizer::new(&package.version);
    let eco = package.ecosystem.clone();
    let mut p = Profile::new(package);
    // Only a completed analysis is compared: a timed-out one lacks the
    // files it did not reach, which would read as removed, and the next
    // release's as added.
    p.has_static = r.status() == AnalysisStatus::Completed;
    if let Some(run) = r.run.as_ref().filter(|run| !run.run_id.is_empty()) {
        p.run_ids.insert(run.run_id.clone());
    }
    let s = PhaseLite::Static;

    if let Some(meta) = &r.metadata {
        for hook in &meta.install_hooks {
            let what = if hook.command.is_empty() {
                &hook.file
            } else {
                &hook.command
            };
            let value = format!(
                "{} {}: {}",
                paddock_proto::ecosystem::hook_kind_token(hook.kind()),
                hook.name,
                n.text(what)
            );
            let raw = format!(
                "{} {}: {}",
                paddock_proto::ecosystem::hook_kind_token(hook.kind()),
                hook.name,
                what
            );
            p.insert(Kind::InstallHook, s, value, &raw);
        }
        for dep in &meta.dependencies {
            if !INSTALLED_SCOPES.contains(&dep.scope.as_str()) {
                continue;
            }
            let raw = format!("{} {}", dep.name, dep.requirement);
            p.insert(
                Kind::Dependency,
                s,
                package_name(&eco, &dep.name),
                raw.trim(),
            );
        }
        for path in &meta.bundled_binaries {
            p.insert(Kind::BundledBinary, s, n.path(path), path);
        }
    }

    for file in &r.files {
        let Some(sig) = &file.signals else { continue };
        let path = n.path(&file.path);
        let signals = [
            (sig.minified, "minified"),
            (sig.obfuscated, "obfuscated"),
            (!sig.high_entropy_strings.is_empty(), "high-entropy"),
        ];
        for (present, name) in signals {
            if present {
                p.insert(
                    Kind::Obfuscation,
                    s,
                    format!("{path} {name}"),
                    &format!("{} {name}", file.path),
                );
            }
        }
    }

    for f in &r.findings {
        let lite = FindingLite::from_proto(f, s);
        if matches!(
            f.category(),
            FindingCategory::Capability | FindingCategory::Threat
        ) {
            p.insert(Kind::Capability, s, f.rule_id.clone(), &lite.evidence);
        }
        p.add_finding(lite);
    }
    p.enforce_limits();
    p
}

#[cfg(test)]
mod tests {
    use paddock_proto::v1::{
        Dependency, Ecosystem, Evidence, FileFacts, FileSignals, Finding, HighEntropyString,
        InstallHook, PackageMetadata, PackageRef, Severity,
    };

    use super::*;

    fn result(version: &str) -> StaticResult {
        let root = format!("pkg-{version}");
        StaticResult {
            package: Some(PackageRef {
                ecosystem: Ecosystem::Pypi.into(),
                name: "pkg".into(),
                version: version.into(),
            }),
            status: AnalysisStatus::Completed.into(),
            metadata: Some(PackageMetadata {
                install_hooks: vec![InstallHook {
                    kind: paddock_proto::v1::InstallHookKind::SetupPy.into(),
                    name: "setup.py".into(),
                    command: "python setup.py install".into(),
                    file: format!("{root}/setup.py"),
                }],
                dependencies: vec![
                    Dependency {
                        name: "Requests".into(),
                        requirement: ">=2".into(),
                        scope: "runtime".into(),
                        ..Default::default()
                    },
                    Dependency {
                        name: "pytest".into(),
                        scope: "dev".into(),
                        ..Default::default()
                    },
                ],
                bundled_binaries: vec![format!("{root}/bin/helper")],
                ..Default::default()
            }),
            files: vec![FileFacts {
                path: format!("{root}/dist/app.min.js"),
                signals: Some(FileSignals {
                    minified: true,
                    high_entropy_strings: vec![HighEntropyString {
                        value: "x".into(),
                        entropy: 5.0,
                        line: 3,
                    }],
                    base64_strings: vec!["aGVsbG8=".into()],
                    ..Default::default()
                }),
                ..Default::default()
            }],
            findings: vec![
                Finding {
                    rule_id: "capability.network".into(),
                    severity: Severity::Info.into(),
                    category: FindingCategory::Capability.into(),
                    evidence: vec![Evidence {
                        file: format!("{root}/a.py"),
                        line: 12,
                        snippet: "socket".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                Finding {
                    rule_id: "signal.bundled-binary".into(),
                    category: FindingCategory::Signal.into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn values(p: &Profile) -> Vec<String> {
        p.items
            .keys()
            .map(|k| format!("{} {}", k.kind.token(), k.value))
            .collect()
    }

    #[test]
    fn static_items_are_hooks_dependencies_binaries_obfuscation_and_capabilities() {
        let p = profile(&result("1.0.0"));
        assert!(p.has_static && !p.has_dynamic);
        assert_eq!(
            values(&p),
            [
                "capability capability.network",
                "install_hook setup.py setup.py: python setup.py install",
                "obfuscation pkg-<v>/dist/app.min.js high-entropy",
                "obfuscation pkg-<v>/dist/app.min.js minified",
                "bundled_binary pkg-<v>/bin/helper",
                "dependency requests",
            ]
        );
        assert_eq!(p.findings.len(), 2);
        assert_eq!(p.findings[0].evidence, "pkg-1.0.0/a.py: socket");
    }

    #[test]
    fn a_new_version_with_moved_lines_has_the_same_items() {
        let a = profile(&result("1.0.0"));
        let mut next = result("1.0.1");
        next.findings[0].evidence[0].line = 99;
        let b = profile(&next);
        assert_eq!(
            a.items.keys().collect::<Vec<_>>(),
            b.items.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_unfinished_analysis_is_not_compared() {
        let mut r = result("1.0.0");
        r.status = AnalysisStatus::ErrorTimeout.into();
        assert!(!profile(&r).has_static);
    }
}
