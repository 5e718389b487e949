//! Names of ecosystems and severities outside protobuf: on the command line,
//! in bus subject tokens and in KV keys.
//!
//! Subject tokens never contain `.`, so crates.io is `crates-io` there.

use std::str::FromStr;

use crate::v1::{Ecosystem, Severity};

/// Every ecosystem Paddock supports, in a stable order.
pub const ALL: [Ecosystem; 5] = [
    Ecosystem::Pypi,
    Ecosystem::Npm,
    Ecosystem::Rubygems,
    Ecosystem::Packagist,
    Ecosystem::CratesIo,
];

/// The name users type and the reference system records: `pypi`, `npm`,
/// `rubygems`, `packagist`, `crates.io`.
pub fn cli_name(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Pypi => "pypi",
        Ecosystem::Npm => "npm",
        Ecosystem::Rubygems => "rubygems",
        Ecosystem::Packagist => "packagist",
        Ecosystem::CratesIo => "crates.io",
        Ecosystem::Unspecified => "unspecified",
    }
}

/// The token used in bus subjects and KV keys (no `.`).
pub fn subject_token(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::CratesIo => "crates-io",
        other => cli_name(other),
    }
}

/// An ecosystem name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ecosystem `{0}`: expected one of pypi, npm, rubygems, packagist, crates.io (or cargo, crates)")]
pub struct UnknownEcosystem(pub String);

/// Parses a command-line ecosystem name, accepting the aliases `cargo`,
/// `crates`, `crates-io` for crates.io, `gem` for RubyGems and `composer`
/// for Packagist. Case-insensitive.
pub fn parse(name: &str) -> Result<Ecosystem, UnknownEcosystem> {
    match name.trim().to_ascii_lowercase().as_str() {
        "pypi" | "pip" | "python" => Ok(Ecosystem::Pypi),
        "npm" | "node" => Ok(Ecosystem::Npm),
        "rubygems" | "gem" | "gems" => Ok(Ecosystem::Rubygems),
        "packagist" | "composer" => Ok(Ecosystem::Packagist),
        "crates.io" | "crates-io" | "crates" | "cargo" => Ok(Ecosystem::CratesIo),
        _ => Err(UnknownEcosystem(name.to_owned())),
    }
}

/// Every severity that can be published, from least to most severe.
pub const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

/// The token of an install hook's kind, in profiles and rule files.
pub fn hook_kind_token(kind: crate::v1::InstallHookKind) -> &'static str {
    use crate::v1::InstallHookKind as K;
    match kind {
        K::NpmLifecycle => "npm-lifecycle",
        K::SetupPy => "setup.py",
        K::PyprojectBuild => "pyproject-build",
        K::SetupCmdclass => "setup-cmdclass",
        K::GemExtension => "gem-extension",
        K::ComposerScript => "composer-script",
        K::BuildRs => "build.rs",
        K::Unspecified => "hook",
    }
}

/// The lowercase token used in alert subjects: `info` … `critical`.
pub fn severity_token(severity: Severity) -> &'static str {
    match severity {
        Severity::Info | Severity::Unspecified => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// A severity name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}`: expected one of info, low, medium, high, critical")]
pub struct UnknownSeverity(pub String);

/// Parses `info`, `low`, `medium`, `high` or `critical`, case-insensitive.
pub fn parse_severity(name: &str) -> Result<Severity, UnknownSeverity> {
    SEVERITIES
        .into_iter()
        .find(|s| severity_token(*s).eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| UnknownSeverity(name.to_owned()))
}

impl FromStr for Ecosystem {
    type Err = UnknownEcosystem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ecosystem_round_trips_through_its_cli_name() {
        for eco in ALL {
            assert_eq!(parse(cli_name(eco)), Ok(eco));
            assert_eq!(parse(subject_token(eco)), Ok(eco));
            assert!(!subject_token(eco).contains('.'));
        }
    }

    #[test]
    fn aliases_and_case_are_accepted() {
        assert_eq!(parse("Cargo"), Ok(Ecosystem::CratesIo));
        assert_eq!(parse("crates"), Ok(Ecosystem::CratesIo));
        assert_eq!(parse("PyPI"), Ok(Ecosystem::Pypi));
        assert!(parse("maven").unwrap_err().to_string().contains("maven"));
    }

    #[test]
    fn severities_parse_and_order() {
        assert_eq!(parse_severity("HIGH"), Ok(Severity::High));
        assert!(parse_severity("urgent").is_err());
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info > Severity::Unspecified);
    }
}
