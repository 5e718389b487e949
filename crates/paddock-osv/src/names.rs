//! How ossf/malicious-packages names things: OSV ecosystem names, the
//! directory of each ecosystem, canonical package names, and report file
//! names.
//!
//! The database keeps `affected[0].package.name` in the registry's
//! spelling but files the report under a canonical name (its
//! `canonicalizeName`): crates.io names lowercased with `-` made `_`, PyPI
//! names by PEP 503, every other name lowercased. Ecosystem directories
//! are lowercase (`crates.io`, `npm`, `pypi`, `rubygems`, `packagist`).
//! npm scopes (`@scope/name`) and Packagist vendors (`vendor/name`) give
//! two directory levels, as in the database.

use paddock_proto::v1::Ecosystem;

use crate::OsvError;

/// The OSV ecosystem name (`affected[].package.ecosystem`).
pub fn osv_ecosystem(eco: Ecosystem) -> Option<&'static str> {
    Some(match eco {
        Ecosystem::Pypi => "PyPI",
        Ecosystem::Npm => "npm",
        Ecosystem::Rubygems => "RubyGems",
        Ecosystem::Packagist => "Packagist",
        Ecosystem::CratesIo => "crates.io",
        Ecosystem::Unspecified => return None,
    })
}

/// The Paddock ecosystem of an OSV ecosystem name. A suffix after `:` is
/// allowed by the schema and ignored here; other ecosystems are `None`.
pub fn from_osv_ecosystem(name: &str) -> Option<Ecosystem> {
    let base = name.split(':').next().unwrap_or_default();
    paddock_proto::ecosystem::ALL
        .into_iter()
        .find(|eco| osv_ecosystem(*eco) == Some(base))
}

/// The ecosystem's directory under `osv/malicious/` and `osv/withdrawn/`.
pub fn ecosystem_dir(eco: Ecosystem) -> Option<&'static str> {
    Some(match eco {
        Ecosystem::Pypi => "pypi",
        Ecosystem::Npm => "npm",
        Ecosystem::Rubygems => "rubygems",
        Ecosystem::Packagist => "packagist",
        Ecosystem::CratesIo => "crates.io",
        Ecosystem::Unspecified => return None,
    })
}

/// A package name as the database files and compares it (see the module
/// documentation). Also the key [`crate::KnownMalicious`] matches on.
pub fn canonical_name(eco: Ecosystem, name: &str) -> String {
    let name = name.trim();
    match eco {
        Ecosystem::CratesIo => name.to_lowercase().replace('-', "_"),
        Ecosystem::Pypi => paddock_registry::ecosystems::pypi::normalize(name),
        _ => name.to_lowercase(),
    }
}

/// The longest directory name written (most file systems allow 255 bytes).
const MAX_COMPONENT_BYTES: usize = 200;

/// The directory components of a package's canonical name, each checked
/// to be an ordinary directory name: never empty, `.` or `..`, no `\`,
/// no control characters. Only npm (`@scope/name`) and Packagist
/// (`vendor/name`) names have two.
pub fn name_components(eco: Ecosystem, name: &str) -> Result<Vec<String>, OsvError> {
    let canonical = canonical_name(eco, name);
    let parts: Vec<&str> = canonical.split('/').collect();
    let max_parts = match eco {
        Ecosystem::Npm if canonical.starts_with('@') => 2,
        Ecosystem::Packagist => 2,
        _ => 1,
    };
    let bad = |reason: &str| OsvError::BadName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if parts.len() > max_parts {
        return Err(bad("too many `/` for the ecosystem"));
    }
    for part in &parts {
        if part.is_empty() || *part == "." || *part == ".." {
            return Err(bad("an empty, `.` or `..` path component"));
        }
        if part.len() > MAX_COMPONENT_BYTES {
            return Err(bad("longer than a directory name may be"));
        }
        if part.chars().any(|c| c == '\\' || c.is_control()) {
            return Err(bad("a backslash or a control character"));
        }
    }
    Ok(parts.into_iter().map(str::to_owned).collect())
}

/// Whether a file name is one a contributor may use: `MAL-0000-*.json`
/// (final `MAL-YYYY-N` ids are the database's to assign).
pub fn is_contributor_file_name(file_name: &str) -> bool {
    file_name
        .strip_prefix("MAL-0000-")
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|middle| !middle.is_empty() && !middle.contains(['/', '\\']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_names_round_trip() {
        for eco in paddock_proto::ecosystem::ALL {
            let osv = osv_ecosystem(eco).unwrap();
            assert_eq!(from_osv_ecosystem(osv), Some(eco));
            assert_eq!(from_osv_ecosystem(&format!("{osv}:suffix")), Some(eco));
            assert_eq!(ecosystem_dir(eco).unwrap(), osv.to_lowercase());
        }
        assert_eq!(from_osv_ecosystem("Maven"), None);
        assert_eq!(
            from_osv_ecosystem("pypi"),
            None,
            "OSV names are case-sensitive"
        );
    }

    #[test]
    fn canonical_names_follow_the_database() {
        assert_eq!(
            canonical_name(Ecosystem::CratesIo, "mysten-metrics"),
            "mysten_metrics"
        );
        assert_eq!(
            canonical_name(Ecosystem::CratesIo, "Proc-Macro1"),
            "proc_macro1"
        );
        assert_eq!(
            canonical_name(Ecosystem::Pypi, "Foo.Bar__baz"),
            "foo-bar-baz"
        );
        assert_eq!(
            canonical_name(Ecosystem::Pypi, "zope.interface"),
            "zope-interface"
        );
        assert_eq!(canonical_name(Ecosystem::Npm, "@Scope/Name"), "@scope/name");
        assert_eq!(canonical_name(Ecosystem::Rubygems, "RedCloth"), "redcloth");
        assert_eq!(canonical_name(Ecosystem::Packagist, "Acme/Pkg"), "acme/pkg");
    }

    #[test]
    fn names_that_would_leave_the_directory_are_refused() {
        assert_eq!(
            name_components(Ecosystem::Npm, "@scope/name").unwrap(),
            ["@scope", "name"]
        );
        assert_eq!(
            name_components(Ecosystem::Packagist, "vendor/name").unwrap(),
            ["vendor", "name"]
        );
        for (eco, name) in [
            (Ecosystem::Npm, "../etc"),
            (Ecosystem::Npm, "a/b"),
            (Ecosystem::Npm, "@scope/.."),
            (Ecosystem::Npm, ""),
            (Ecosystem::Packagist, "a/b/c"),
            (Ecosystem::Rubygems, "a\\b"),
            (Ecosystem::CratesIo, ".."),
            (Ecosystem::Pypi, "x/y"),
        ] {
            assert!(name_components(eco, name).is_err(), "{eco:?} {name}");
        }
        let long = "a".repeat(300);
        assert!(name_components(Ecosystem::Npm, &long).is_err());
    }

    #[test]
    fn contributor_file_names() {
        assert!(is_contributor_file_name(
            "MAL-0000-ossf-package-analysis-bc5392285769c138.json"
        ));
        assert!(is_contributor_file_name("MAL-0000-aovine.json"));
        assert!(!is_contributor_file_name("MAL-2026-2958.json"));
        assert!(!is_contributor_file_name("MAL-0000-.json"));
        assert!(!is_contributor_file_name("report.json"));
    }
}
