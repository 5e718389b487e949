//! Version ordering as each ecosystem defines it: PEP 440 for PyPI, semver
//! for npm and crates.io, RubyGems' segment ordering, and Composer's
//! normalised versions with stability flags.

use std::cmp::Ordering;

use paddock_proto::v1::Ecosystem;

/// Compares two version strings of `eco`. Unparseable versions sort before
/// every parseable one, and among themselves by text.
pub fn compare(eco: Ecosystem, a: &str, b: &str) -> Ordering {
    match eco {
        Ecosystem::Pypi => parsed(a.parse::<pep440_rs::Version>().ok(), b.parse().ok(), a, b),
        Ecosystem::Npm | Ecosystem::CratesIo => parsed(
            semver::Version::parse(a.trim_start_matches(['v', '='])).ok(),
            semver::Version::parse(b.trim_start_matches(['v', '='])).ok(),
            a,
            b,
        ),
        Ecosystem::Rubygems => gem_compare(a, b),
        Ecosystem::Packagist => composer_key(a).cmp(&composer_key(b)),
        Ecosystem::Unspecified => a.cmp(b),
    }
}

fn parsed<T: Ord>(a: Option<T>, b: Option<T>, ra: &str, rb: &str) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => ra.cmp(rb),
    }
}

/// Whether the ecosystem calls `version` a pre-release.
pub fn is_prerelease(eco: Ecosystem, version: &str) -> bool {
    match eco {
        Ecosystem::Pypi => version
            .parse::<pep440_rs::Version>()
            .map(|v| v.any_prerelease())
            .unwrap_or(true),
        Ecosystem::Npm | Ecosystem::CratesIo => {
            semver::Version::parse(version.trim_start_matches(['v', '=']))
                .map(|v| !v.pre.is_empty())
                .unwrap_or(true)
        }
        Ecosystem::Rubygems => version.chars().any(|c| c.is_ascii_alphabetic()),
        Ecosystem::Packagist => composer_key(version).1 < Stability::Stable,
        Ecosystem::Unspecified => false,
    }
}

/// The version with the greatest ordering among `versions`, preferring
/// releases to pre-releases.
pub fn latest<'a>(eco: Ecosystem, versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let all: Vec<&str> = versions.into_iter().collect();
    let best = |candidates: &mut dyn Iterator<Item = &'a str>| {
        candidates.max_by(|a, b| compare(eco, a, b))
    };
    best(&mut all.iter().copied().filter(|v| !is_prerelease(eco, v)))
        .or_else(|| best(&mut all.iter().copied()))
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GemSegment {
    // Strings sort before numbers: "1.0.a" < "1.0".
    Text(String),
    Number(u64),
}

/// RubyGems' segments: split at dots and at digit/letter boundaries; a
/// letter segment marks a pre-release.
fn gem_segments(version: &str) -> Vec<GemSegment> {
    let mut out = Vec::new();
    for part in version.trim().split(['.', '-']) {
        let mut current = String::new();
        let mut digits = None;
        for c in part.chars() {
            let is_digit = c.is_ascii_digit();
            if digits.is_some_and(|d| d != is_digit) {
                out.push(gem_segment(&current));
                current.clear();
            }
            digits = Some(is_digit);
            current.push(c);
        }
        if !current.is_empty() {
            out.push(gem_segment(&current));
        }
    }
    out
}

/// Segment-wise comparison; a missing segment counts as 0, so "1.0" equals
/// "1.0.0" and "1.0.a" (a letter segment) sorts before "1.0".
fn gem_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (gem_segments(a), gem_segments(b));
    let zero = GemSegment::Number(0);
    for i in 0..a.len().max(b.len()) {
        let ordering = a.get(i).unwrap_or(&zero).cmp(b.get(i).unwrap_or(&zero));
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

fn gem_segment(text: &str) -> GemSegment {
    text.parse()
        .map(GemSegment::Number)
        .unwrap_or_else(|_| GemSegment::Text(text.to_ascii_lowercase()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stability {
    Dev,
    Alpha,
    Beta,
    Rc,
    Stable,
    Patch,
}

/// Composer's normalised version: four numbers and a stability.
fn composer_key(version: &str) -> ([u64; 4], Stability, u64) {
    let v = version
        .trim()
        .trim_start_matches(['v', 'V'])
        .to_ascii_lowercase();
    if v.starts_with("dev-") || v.ends_with("-dev") || v.ends_with(".x-dev") {
        return ([0; 4], Stability::Dev, 0);
    }
    let (numbers, suffix) = match v.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&v[..i], v[i..].trim_start_matches(['-', '.', '_'])),
        None => (v.as_str(), ""),
    };
    let mut parts = [0u64; 4];
    for (slot, n) in parts
        .iter_mut()
        .zip(numbers.split('.').filter(|s| !s.is_empty()))
    {
        *slot = n.parse().unwrap_or(0);
    }
    let digits: String = suffix.chars().filter(|c| c.is_ascii_digit()).collect();
    let n = digits.parse().unwrap_or(0);
    let stability = match suffix.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.') {
        "" => Stability::Stable,
        "alpha" | "a" => Stability::Alpha,
        "beta" | "b" => Stability::Beta,
        "rc" => Stability::Rc,
        "patch" | "pl" | "p" => Stability::Patch,
        _ => Stability::Dev,
    };
    (parts, stability, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_orders_prereleases_before_releases() {
        assert_eq!(compare(Ecosystem::Pypi, "2.0rc1", "2.0"), Ordering::Less);
        assert_eq!(compare(Ecosystem::Pypi, "1.10", "1.9"), Ordering::Greater);
        assert_eq!(
            latest(Ecosystem::Pypi, ["1.0", "2.0b1", "1.5"]),
            Some("1.5")
        );
        assert_eq!(latest(Ecosystem::Pypi, ["2.0b1"]), Some("2.0b1"));
    }

    #[test]
    fn semver_orders_npm_and_crates() {
        assert_eq!(
            latest(Ecosystem::Npm, ["1.2.0", "1.10.0", "2.0.0-beta.1"]),
            Some("1.10.0")
        );
        assert!(is_prerelease(Ecosystem::CratesIo, "0.1.0-alpha"));
    }

    #[test]
    fn rubygems_segments() {
        assert_eq!(
            compare(Ecosystem::Rubygems, "1.0.0.pre1", "1.0.0"),
            Ordering::Less
        );
        assert_eq!(
            compare(Ecosystem::Rubygems, "1.0", "1.0.0"),
            Ordering::Equal
        );
        assert_eq!(
            compare(Ecosystem::Rubygems, "1.10", "1.9"),
            Ordering::Greater
        );
        assert_eq!(latest(Ecosystem::Rubygems, ["0.9", "1.0.rc1"]), Some("0.9"));
    }

    #[test]
    fn composer_stability() {
        assert_eq!(
            compare(Ecosystem::Packagist, "v1.2.0", "1.10.0"),
            Ordering::Less
        );
        assert_eq!(
            compare(Ecosystem::Packagist, "2.0.0-RC1", "2.0.0"),
            Ordering::Less
        );
        assert_eq!(
            latest(Ecosystem::Packagist, ["dev-main", "v1.0.0", "2.0.0-beta1"]),
            Some("v1.0.0")
        );
        assert!(is_prerelease(Ecosystem::Packagist, "dev-master"));
    }
}
