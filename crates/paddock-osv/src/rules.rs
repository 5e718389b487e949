//! Would ossf/malicious-packages accept this file as a contribution?
//!
//! [`check`] applies the rules its tooling enforces
//! (`internal/report/validate.go`, `indicators.go`) and the conventions
//! its contribution guide and consumers rely on, to any JSON value, and
//! returns every broken rule in words. [`check_path`] adds the rules of
//! where the file lives. Neither is the OSV schema: validate against that
//! too.
//!
//! The rules, each with the name used in its message:
//!
//! - `affected`: exactly one entry;
//! - `ecosystem`: set, and a known OSV ecosystem (a `:suffix` allowed);
//!   `name`: set;
//! - `range-type`: `ECOSYSTEM`, `SEMVER` or `GIT`; `semver`: `SEMVER`
//!   only for Bitnami, crates.io, Go, Hex, npm and SwiftURL;
//! - `event`: exactly one of introduced, fixed, last_affected, limit;
//!   `fixed-last-affected`: never both in one range; `introduced`: at
//!   least one per range; `all-versions`: `"0"`, never `"0.0.0"`;
//! - `database-specific`: only objects and arrays at the top of
//!   `database_specific` and `affected[0].database_specific` (the
//!   database strips scalars there);
//! - `origins`: no `malicious-packages-origins` (the database's own);
//! - `credits`: a `FINDER` credit with a name, and every credit type from
//!   the OSV list;
//! - `cwe`: `CWE-506` in `affected[0].database_specific.cwes`;
//! - `iocs`: only `domains`, `ips`, `urls` and `files`; valid domains
//!   (the database's check), IPs or CIDRs, absolute URLs, and files with
//!   paths, a `PACKAGE_ARCHIVE` or `DROPPED` source and a hex sha256;
//! - `id`: empty or `MAL-0000-…`: final ids are the database's to assign.

use serde_json::{Map, Value};

use crate::iocs::{is_valid_domain, is_valid_ip};
use crate::names::{self, canonical_name, ecosystem_dir, from_osv_ecosystem};

/// OSV's ecosystems (ossf/osv-schema `validation/schema.json`).
pub const KNOWN_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpaquita",
    "Alpine",
    "Android",
    "Azure Linux",
    "BellSoft Hardened Containers",
    "Bioconductor",
    "Bitnami",
    "Chainguard",
    "CleanStart",
    "ConanCenter",
    "CRAN",
    "crates.io",
    "Debian",
    "Docker Hardened Images",
    "Echo",
    "FreeBSD",
    "GHC",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Julia",
    "Kubernetes",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "npm",
    "NuGet",
    "opam",
    "openEuler",
    "openSUSE",
    "OSS-Fuzz",
    "Packagist",
    "Photon OS",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "Root",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "TuxCare",
    "Ubuntu",
    "VSCode",
    "Wolfi",
];

/// The ecosystems whose ranges may be `SEMVER`.
pub const SEMVER_ECOSYSTEMS: &[&str] = &["Bitnami", "crates.io", "Go", "Hex", "npm", "SwiftURL"];

const CREDIT_TYPES: &[&str] = &[
    "FINDER",
    "REPORTER",
    "ANALYST",
    "COORDINATOR",
    "REMEDIATION_DEVELOPER",
    "REMEDIATION_REVIEWER",
    "REMEDIATION_VERIFIER",
    "TOOL",
    "SPONSOR",
    "OTHER",
];

/// Every rule `report` breaks, in words; `Ok` when it breaks none.
pub fn check(report: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let Some(top) = report.as_object() else {
        return Err(vec!["report: not a JSON object".into()]);
    };
    check_id(top, &mut errors);
    check_affected(top, &mut errors);
    check_database_specific(top, &mut errors);
    check_credits(top, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// [`check`], plus where the file is: `osv/malicious/…` or
/// `osv/withdrawn/…` (the latter exactly when `withdrawn` is set), the
/// ecosystem's directory, the canonical package name, and a
/// `MAL-0000-*.json` file name. `relative` is the path from the
/// repository's root, `/`-separated.
pub fn check_path(relative: &str, report: &Value) -> Result<(), Vec<String>> {
    let mut errors = check(report).err().unwrap_or_default();
    let parts: Vec<&str> = relative.split('/').collect();
    let withdrawn = report.get("withdrawn").is_some_and(|w| !w.is_null());
    let (tree, rest) = match parts.as_slice() {
        ["osv", tree, rest @ ..] if rest.len() >= 3 => (*tree, rest),
        _ => {
            errors.push(format!(
                "path: `{relative}` is not osv/<malicious|withdrawn>/<ecosystem>/<name>/<file>.json"
            ));
            return Err(errors);
        }
    };
    match (tree, withdrawn) {
        ("malicious", false) | ("withdrawn", true) => {}
        ("malicious", true) => {
            errors.push("path: a withdrawn report belongs under osv/withdrawn".into())
        }
        ("withdrawn", false) => {
            errors.push("path: a report under osv/withdrawn must have `withdrawn` set".into())
        }
        _ => errors.push(format!("path: `{tree}` is neither malicious nor withdrawn")),
    }
    let (eco_dir, name_parts, file) = (rest[0], &rest[1..rest.len() - 1], rest[rest.len() - 1]);
    if !names::is_contributor_file_name(file) {
        errors.push(format!(
            "path: file name `{file}` is not MAL-0000-<name>.json"
        ));
    }
    let package = report.pointer("/affected/0/package");
    let osv_eco = package
        .and_then(|p| p.get("ecosystem"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = package
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(eco) = from_osv_ecosystem(osv_eco) {
        let want_dir = ecosystem_dir(eco).unwrap_or_default();
        if eco_dir != want_dir {
            errors.push(format!(
                "path: ecosystem directory `{eco_dir}`, expected `{want_dir}`"
            ));
        }
        let want_name = canonical_name(eco, name);
        if name_parts.join("/") != want_name {
            errors.push(format!(
                "path: package directory `{}`, expected the canonical `{want_name}`",
                name_parts.join("/")
            ));
        }
    } else {
        // Other ecosystems: lowercased, as the database does.
        if eco_dir != osv_eco.to_lowercase() || name_parts.join("/") != name.to_lowercase() {
            errors.push(format!(
                "path: expected {}/{}",
                osv_eco.to_lowercase(),
                name.to_lowercase()
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check_id(top: &Map<String, Value>, errors: &mut Vec<String>) {
    match top.get("id") {
        None => {}
        Some(Value::String(id)) if id.is_empty() || id.starts_with("MAL-0000-") => {}
        Some(other) => errors.push(format!(
            "id: `{other}` is not empty or MAL-0000-…; the database assigns final ids"
        )),
    }
}

fn check_affected(top: &Map<String, Value>, errors: &mut Vec<String>) {
    let affected = match top.get("affected").and_then(Value::as_array) {
        Some(a) if a.len() == 1 => &a[0],
        Some(a) if a.is_empty() => {
            return errors.push("affected: no entry; exactly one is required".into());
        }
        Some(a) => {
            return errors.push(format!(
                "affected: {} entries; exactly one is allowed",
                a.len()
            ));
        }
        None => {
            return errors.push("affected: missing; exactly one entry is required".into());
        }
    };
    let package = affected.get("package");
    let ecosystem = package
        .and_then(|p| p.get("ecosystem"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let base = ecosystem.split(':').next().unwrap_or_default();
    if ecosystem.is_empty() {
        errors.push("ecosystem: affected[0].package.ecosystem is missing".into());
    } else if !KNOWN_ECOSYSTEMS.contains(&base) {
        errors.push(format!("ecosystem: `{base}` is not a known OSV ecosystem"));
    }
    let name = package
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        errors.push("name: affected[0].package.name is missing".into());
    }

    for (i, range) in affected
        .get("ranges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_range(i, range, base, errors);
    }

    match affected.get("database_specific") {
        None => {}
        Some(Value::Object(ds)) => check_objects_only("affected[0].database_specific", ds, errors),
        Some(_) => {
            errors.push("database-specific: affected[0].database_specific is not an object".into())
        }
    }
    let has_cwe = affected
        .pointer("/database_specific/cwes")
        .and_then(Value::as_array)
        .is_some_and(|cwes| {
            cwes.iter()
                .any(|c| c.get("cweId").and_then(Value::as_str) == Some("CWE-506"))
        });
    if !has_cwe {
        errors.push(
            "cwe: affected[0].database_specific.cwes has no CWE-506 (Embedded Malicious Code)"
                .into(),
        );
    }
}

fn check_range(i: usize, range: &Value, ecosystem: &str, errors: &mut Vec<String>) {
    let kind = range
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "ECOSYSTEM" | "GIT" => {}
        "SEMVER" if SEMVER_ECOSYSTEMS.contains(&ecosystem) => {}
        "SEMVER" => errors.push(format!(
            "semver: range {i} is SEMVER, which {ecosystem} does not allow; use ECOSYSTEM or versions"
        )),
        "" => errors.push(format!("range-type: range {i} has no type")),
        other => errors.push(format!("range-type: range {i} has type `{other}`; ECOSYSTEM, SEMVER or GIT")),
    }
    let events = range.get("events").and_then(Value::as_array);
    let (mut fixed, mut last_affected, mut introduced) = (false, false, false);
    for (j, event) in events.into_iter().flatten().enumerate() {
        let set: Vec<&str> = ["introduced", "fixed", "last_affected", "limit"]
            .into_iter()
            .filter(|k| {
                event
                    .get(*k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            })
            .collect();
        match set.as_slice() {
            [_] => {}
            [] => errors.push(format!("event: range {i} event {j} has no event type")),
            _ => errors.push(format!(
                "event: range {i} event {j} has {} event types; exactly one is allowed",
                set.len()
            )),
        }
        fixed |= set.contains(&"fixed");
        last_affected |= set.contains(&"last_affected");
        introduced |= set.contains(&"introduced");
        if event.get("introduced").and_then(Value::as_str) == Some("0.0.0") {
            errors.push(format!(
                "all-versions: range {i} event {j} says introduced \"0.0.0\"; every version is \"0\""
            ));
        }
    }
    if fixed && last_affected {
        errors.push(format!(
            "fixed-last-affected: range {i} mixes fixed and last_affected"
        ));
    }
    if !introduced {
        errors.push(format!("introduced: range {i} has no introduced event"));
    }
}

fn check_objects_only(what: &str, map: &Map<String, Value>, errors: &mut Vec<String>) {
    for (key, value) in map {
        if !(value.is_object() || value.is_array()) {
            errors.push(format!(
                "database-specific: {what}.{key} is a scalar; the database strips scalars there (nest it in an object)"
            ));
        }
    }
}

fn check_database_specific(top: &Map<String, Value>, errors: &mut Vec<String>) {
    let ds = match top.get("database_specific") {
        None => return,
        Some(Value::Object(ds)) => ds,
        Some(_) => {
            return errors.push("database-specific: database_specific is not an object".into())
        }
    };
    check_objects_only("database_specific", ds, errors);
    if ds.contains_key("malicious-packages-origins") {
        errors.push(
            "origins: malicious-packages-origins is the database's own bookkeeping; contributors leave it out".into(),
        );
    }
    let Some(iocs) = ds.get("iocs") else { return };
    let Some(iocs) = iocs.as_object() else {
        return errors.push("iocs: not an object".into());
    };
    for (key, value) in iocs {
        let items = value.as_array();
        match key.as_str() {
            "domains" | "ips" | "urls" | "files" if items.is_none() => {
                errors.push(format!("iocs: {key} is not an array"));
            }
            "domains" => {
                for d in items.into_iter().flatten() {
                    if !d.as_str().is_some_and(is_valid_domain) {
                        errors.push(format!(
                            "iocs: domain {d} fails the database's domain check"
                        ));
                    }
                }
            }
            "ips" => {
                for ip in items.into_iter().flatten() {
                    if !ip.as_str().is_some_and(is_valid_ip) {
                        errors.push(format!("iocs: {ip} is not an IP address or CIDR"));
                    }
                }
            }
            "urls" => {
                for u in items.into_iter().flatten() {
                    let ok = u
                        .as_str()
                        .and_then(|u| url::Url::parse(u).ok())
                        .is_some_and(|u| u.host().is_some());
                    if !ok {
                        errors.push(format!("iocs: {u} is not an absolute URL"));
                    }
                }
            }
            "files" => {
                for (i, f) in items.into_iter().flatten().enumerate() {
                    check_ioc_file(i, f, errors);
                }
            }
            "ip_addresses" => errors.push(
                "iocs: ip_addresses is what the documentation says, but the database reads `ips`"
                    .into(),
            ),
            other => errors.push(format!(
                "iocs: unknown key `{other}`; domains, ips, urls or files"
            )),
        }
    }
}

fn check_ioc_file(i: usize, f: &Value, errors: &mut Vec<String>) {
    let paths_ok = f.get("paths").and_then(Value::as_array).is_some_and(|p| {
        !p.is_empty() && p.iter().all(|p| p.as_str().is_some_and(|s| !s.is_empty()))
    });
    if !paths_ok {
        errors.push(format!("iocs: files[{i}] has no paths"));
    }
    match f.get("source").and_then(Value::as_str) {
        Some("PACKAGE_ARCHIVE" | "DROPPED") => {}
        other => errors.push(format!(
            "iocs: files[{i}] source {other:?} is not PACKAGE_ARCHIVE or DROPPED"
        )),
    }
    if let Some(sha) = f.pointer("/digests/sha256") {
        let ok = sha
            .as_str()
            .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ok {
            errors.push(format!(
                "iocs: files[{i}] sha256 {sha} is not 64 hex digits"
            ));
        }
    }
}

fn check_credits(top: &Map<String, Value>, errors: &mut Vec<String>) {
    let credits = top.get("credits").and_then(Value::as_array);
    let mut finder = false;
    for (i, c) in credits.into_iter().flatten().enumerate() {
        let kind = c.get("type").and_then(Value::as_str);
        if let Some(kind) = kind {
            if !CREDIT_TYPES.contains(&kind) {
                errors.push(format!(
                    "credits: credit {i} has type `{kind}`, not an OSV credit type"
                ));
            }
        }
        let named = c
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.trim().is_empty());
        finder |= kind == Some("FINDER") && named;
    }
    if !finder {
        errors.push("credits: no FINDER credit with a name says who found it".into());
    }
}
