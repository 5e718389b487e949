//! A verification as a SARIF 2.1.0 log: one result per pinned release that
//! is not clean, located at its entry in the lockfile.
//!
//! Lockfile paths are relative to `SRCROOT`, the directory `paddock
//! verify` ran in (GitHub code scanning resolves them against the
//! checkout); a lockfile outside it is named by its file name alone. The
//! fingerprint of a result is the release and the lockfile, so an alert
//! stays the same alert while the lockfile changes around it.

use std::path::Path;

use paddock_proto::ecosystem::{cli_name, severity_token};
use paddock_proto::v1::Severity;
use paddock_sarif::{fingerprint, Level, Location, Log, LogBuilder, NewResult, RuleInfo};

use crate::output::{evidence, status_words};
use crate::{DigestCheck, Status, Verification};

/// The base of every lockfile location.
pub const SOURCE_ROOT: &str = "SRCROOT";
/// The fingerprint scheme of a lockfile entry.
pub const ENTRY_SCHEME: &str = "paddockLockfileEntry/v1";

const KNOWN: &str = "verify.known-malicious";
const FLAGGED: &str = "verify.flagged";
const MISMATCH: &str = "verify.digest-mismatch";
const MISSING: &str = "verify.not-analysed";

fn rules() -> [RuleInfo; 4] {
    let mut known = RuleInfo::new(
        KNOWN,
        "a pinned release is known to be malicious",
        "An OSV malicious-packages record covers this release: remove it, pin a release the record does not cover, and treat machines that installed it as compromised.",
        Severity::Critical,
    );
    known.tags.push("supply-chain".into());
    let mut flagged = RuleInfo::new(
        FLAGGED,
        "Paddock's verdict on a pinned release",
        "Paddock analysed this release (static analysis, and install, import and execution in a sandbox) and its verdict is low or worse; the message gives the verdict's heaviest reasons. Review them before installing it.",
        Severity::High,
    );
    flagged.tags.push("supply-chain".into());
    let mut mismatch = RuleInfo::new(
        MISMATCH,
        "the lockfile pins an artifact that is not the one analysed",
        "The digest the lockfile records for this release differs from the digest of the artifact Paddock analysed: what the lockfile installs was never judged. A registry that served other bytes, a mirror, or a tampered lockfile can cause it.",
        Severity::High,
    );
    mismatch.tags.push("integrity".into());
    let mut missing = RuleInfo::new(
        MISSING,
        "a pinned release was never analysed",
        "No results store knows this release; run `paddock verify --analyze-missing`, or submit it to the pipeline.",
        Severity::Info,
    );
    missing.tags.push("coverage".into());
    [known, flagged, mismatch, missing]
}

/// The SARIF log of a verification. `root` is the directory lockfile
/// paths are made relative to (the working directory).
pub fn log(v: &Verification, root: &Path) -> Log {
    let mut log = LogBuilder::paddock();
    log.base(SOURCE_ROOT, "the directory paddock verify ran in");
    log.category("paddock/verify");
    for rule in rules() {
        log.rule(&rule);
    }
    let notes: Vec<(Level, String)> = v
        .errors
        .iter()
        .map(|e| (Level::Error, e.clone()))
        .chain(v.lockfiles.iter().flat_map(|l| {
            l.warnings
                .iter()
                .map(move |w| (Level::Warning, format!("{}: {w}", l.path.display())))
        }))
        .collect();
    log.invocation(v.errors.is_empty(), &notes);
    log.run_property("sources", serde_json::json!(v.sources));
    for check in v.checks.iter().filter(|c| c.status() != Status::Clean) {
        let (rule, level) = match check.status() {
            Status::KnownMalicious => (KNOWN, Level::Error),
            Status::Flagged => (FLAGGED, level_of(check.level())),
            Status::DigestMismatch => (MISMATCH, Level::Error),
            Status::NotAnalysed => (MISSING, Level::Note),
            Status::Clean => continue,
        };
        let release = format!(
            "{} {}@{}",
            cli_name(check.pin.ecosystem),
            check.pin.name,
            check.pin.version
        );
        let message = format!(
            "{release}: {}: {}",
            status_words(check.status()),
            evidence(check)
        );
        let path = relative(&check.lockfile, root);
        let mut location = Location::file(SOURCE_ROOT, &path);
        if let Some(line) = check.pin.line {
            location = location.line(line);
        }
        let mut result = NewResult::new(rule, &message)
            .at(location)
            .level(level)
            .fingerprint(
                ENTRY_SCHEME,
                fingerprint(&[
                    cli_name(check.pin.ecosystem),
                    &check.pin.name,
                    &check.pin.version,
                    &path,
                ]),
            )
            .property("ecosystem", cli_name(check.pin.ecosystem))
            .property("package", check.pin.name.as_str())
            .property("version", check.pin.version.as_str());
        if let Some(l) = check.level() {
            result = result.property("level", severity_token(l));
        }
        if let Some(a) = &check.analysed {
            result = result.property(
                "verdict",
                serde_json::json!({
                    "severity": severity_token(a.severity),
                    "score": a.score,
                    "reasons": a.reasons.iter().take(5).map(|r| serde_json::json!({
                        "code": r.code, "description": r.description, "weight": r.weight,
                    })).collect::<Vec<_>>(),
                    "store": a.store,
                }),
            );
        }
        if !check.known.is_empty() {
            result = result.property("known", serde_json::json!(check.known));
        }
        if let DigestCheck::Mismatch { .. } = &check.digest {
            result = result.property("digest", serde_json::json!(check.digest));
        }
        // The builder refuses only unknown rules and unsafe paths; the
        // rules are all added above and the path made relative.
        if let Err(error) = log.result(result) {
            tracing::warn!(%error, %release, "a verify result left out of the SARIF log");
        }
    }
    log.build()
}

fn level_of(level: Option<Severity>) -> Level {
    match level {
        Some(Severity::Critical | Severity::High) => Level::Error,
        Some(Severity::Medium) => Level::Warning,
        _ => Level::Note,
    }
}

/// `path` relative to `root` when it is inside it, else its file name.
fn relative(path: &Path, root: &Path) -> String {
    let absolute = |p: &Path| {
        std::path::absolute(p)
            .map(|a| a.components().collect::<std::path::PathBuf>())
            .unwrap_or_else(|_| p.to_owned())
    };
    let (path_abs, root_abs) = (absolute(path), absolute(root));
    let inside = path_abs.strip_prefix(&root_abs).ok().filter(|r| {
        r.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
    });
    match inside {
        Some(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_paths_are_relative_to_where_verify_ran() {
        let root = Path::new("/work/repo");
        assert_eq!(
            relative(Path::new("/work/repo/app/package-lock.json"), root),
            "app/package-lock.json"
        );
        assert_eq!(
            relative(Path::new("/elsewhere/Cargo.lock"), root),
            "Cargo.lock"
        );
        assert_eq!(
            relative(Path::new("/work/repo/../x/Cargo.lock"), root),
            "Cargo.lock"
        );
    }
}
