//! yarn's `yarn.lock`, classic (v1) and berry (v2 and later), told apart
//! by berry's `__metadata:` key.
//!
//! Classic's is read by hand: it is neither JSON nor YAML, and no
//! maintained crate reads it; the part needed is small. Each entry starts
//! unindented with the requests it satisfies (`"left-pad@^1.3.0",
//! left-pad@~1.3:`), then indented `version "1.3.0"`, `resolved "…"` and
//! `integrity sha512-…` lines.
//!
//! Berry's is YAML ([`crate::yaml`]): each entry is keyed by its requests
//! (`"lodash@npm:^4.17.20, lodash@npm:^4.17.21":`) and names the release in
//! `resolution: "lodash@npm:4.17.21"` (the real name, an alias's key
//! notwithstanding). Its `checksum` is a hash of yarn's own zip of the
//! package, not of the registry's tarball, so it is not an artifact
//! digest and berry pins carry none. A resolution through another
//! protocol (`workspace:`, `link:`, `portal:`, `file:`, `exec:`, git, a
//! tarball URL) is a warning; `patch:` pins the npm release it patches,
//! with a warning that the patch itself is not checked.

use std::collections::HashSet;

use serde::Deserialize;
use serde_saphyr::Spanned;

use paddock_proto::v1::Ecosystem;

use crate::npm::{not_from_registry, split};
use crate::{yaml, Digest, Entries, Limits, Parsed};

pub(crate) fn yarn_lock(text: &str, limits: &Limits, out: &mut Parsed) -> Result<(), String> {
    if text.lines().any(|l| l.starts_with("__metadata:")) {
        return berry(text, limits, out);
    }
    let mut entry: Option<Entry> = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(done) = entry.take() {
                done.finish(out);
            }
            let header = line.trim_end().strip_suffix(':').ok_or_else(|| {
                format!("line {}: an entry's first line ends with `:`", index + 1)
            })?;
            let first = header
                .split(", ")
                .next()
                .unwrap_or_default()
                .trim_matches('"');
            // `name@range`, the name possibly scoped (`@s/n@range`).
            let at = first
                .get(1..)
                .and_then(|rest| rest.find('@'))
                .map(|i| i + 1);
            let name = at.map_or(first, |i| &first[..i]);
            entry = Some(Entry {
                name: name.to_owned(),
                line: index + 1,
                ..Entry::default()
            });
            continue;
        }
        let Some(current) = entry.as_mut() else {
            return Err(format!("line {}: indented before any entry", index + 1));
        };
        // Only the entry's own fields (two spaces); its dependencies are
        // indented further.
        let Some(field) = line.strip_prefix("  ").filter(|f| !f.starts_with(' ')) else {
            continue;
        };
        let (key, value) = field.split_once(' ').unwrap_or((field, ""));
        let value = value.trim().trim_matches('"').to_owned();
        match key {
            "version" => current.version = value,
            "resolved" => current.resolved = value,
            "integrity" => current.integrity = value,
            _ => {}
        }
    }
    if let Some(done) = entry {
        done.finish(out);
    }
    Ok(())
}

#[derive(Default)]
struct Entry {
    name: String,
    version: String,
    resolved: String,
    integrity: String,
    line: usize,
}

impl Entry {
    fn finish(self, out: &mut Parsed) {
        if crate::npm::not_from_registry(&self.resolved) || self.version.is_empty() {
            out.warnings.push(format!(
                "line {}: {} is not a registry release ({}): not checked",
                self.line,
                self.name,
                if self.resolved.is_empty() {
                    "no version"
                } else {
                    &self.resolved
                }
            ));
            return;
        }
        // Several ranges resolved to one version share one entry; the
        // same version under two entries is pinned once.
        if out
            .pins
            .iter()
            .any(|p| p.name == self.name && p.version == self.version)
        {
            return;
        }
        let digests = Digest::from_sri(&self.integrity).into_iter().collect();
        let line = u32::try_from(self.line).ok();
        out.pin_at(Ecosystem::Npm, &self.name, &self.version, digests, line);
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BerryEntry {
    resolution: Option<String>,
}

fn berry(text: &str, limits: &Limits, out: &mut Parsed) -> Result<(), String> {
    let documents: Vec<Entries<BerryEntry, Spanned<String>>> = yaml::documents(text, limits)?;
    let [lock] = documents.as_slice() else {
        return Err(format!(
            "{} YAML documents where yarn writes one",
            documents.len()
        ));
    };
    let mut pinned: HashSet<(String, String)> = HashSet::new();
    for (key, entry) in &lock.0 {
        if key.value == "__metadata" {
            continue;
        }
        let line = u32::try_from(key.referenced.line()).ok();
        let at = line.map_or_else(String::new, |l| format!("line {l}: "));
        let Some(resolution) = entry.resolution.as_deref() else {
            out.warnings
                .push(format!("{at}{} has no resolution: not checked", key.value));
            continue;
        };
        let Some((name, source)) = split(resolution, '@') else {
            out.warnings.push(format!(
                "{at}resolution {resolution:?} names no package: not checked"
            ));
            continue;
        };
        let release = match source.strip_prefix("patch:") {
            Some(patched) => {
                // `patch:<name>@<url-encoded base resolution>#<patch file>`.
                let base = percent_decode(patched.split('#').next().unwrap_or_default());
                match split(&base, '@').and_then(|(n, s)| Some((n.to_owned(), npm_version(s)?))) {
                    Some((name, version)) => {
                        out.warnings.push(format!(
                            "{at}{name} {version} is patched locally ({resolution}): the release is checked, the patch is not"
                        ));
                        Some((name, version.to_owned()))
                    }
                    None => None,
                }
            }
            None => npm_version(source).map(|v| (name.to_owned(), v.to_owned())),
        };
        let Some((name, version)) = release else {
            out.warnings.push(format!(
                "{at}{name} is not a registry release ({source}): not checked"
            ));
            continue;
        };
        if pinned.insert((name.clone(), version.clone())) {
            out.pin_at(Ecosystem::Npm, &name, &version, Vec::new(), line);
        }
    }
    Ok(())
}

/// The version of an `npm:<version>` resolution, if it is one.
fn npm_version(source: &str) -> Option<&str> {
    let version = source.strip_prefix("npm:")?;
    (!not_from_registry(version)
        && !version.contains("://")
        && version.starts_with(|c: char| c.is_ascii_digit()))
    .then_some(version)
}

/// `%XX` escapes decoded (yarn escapes the base resolution in a `patch:`);
/// anything malformed is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use crate::{parse, Format, Limits};

    #[test]
    fn classic_entries_are_pinned_once_per_version_with_their_integrity() {
        let text = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@scope/a@^2.0.0", "@scope/a@~2.0":
  version "2.0.0"
  resolved "http://127.0.0.1:1/@scope/a/-/a-2.0.0.tgz#abc"
  integrity sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==
  dependencies:
    left-pad "^1.3.0"

left-pad@^1.3.0:
  version "1.3.0"
  resolved "http://127.0.0.1:1/left-pad/-/left-pad-1.3.0.tgz"

mine@file:./mine:
  version "0.0.1"
  resolved "file:./mine"
"#;
        let (pins, warnings) = parse(text, Format::YarnLock, &Limits::default()).unwrap();
        let got: Vec<(&str, &str, usize, Option<u32>)> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.digests.len(), p.line))
            .collect();
        assert_eq!(
            got,
            [
                ("@scope/a", "2.0.0", 1, Some(5)),
                ("left-pad", "1.3.0", 0, Some(12))
            ]
        );
        assert!(
            warnings[0].contains("mine is not a registry release"),
            "{warnings:?}"
        );

        assert!(parse("  version \"1\"\n", Format::YarnLock, &Limits::default()).is_err());
    }

    #[test]
    fn berry_entries_are_pinned_by_their_resolution_without_its_zip_checksum() {
        let text = r#"# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"@scope/a@npm:^2.0.0, @scope/a@npm:~2.0":
  version: 2.0.0
  resolution: "@scope/a@npm:2.0.0"
  dependencies:
    left-pad: "npm:^1.3.0"
  checksum: 10c0/0a3f3e9a6a7d3e2c1b0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0e8f6d4c2a0
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    "@scope/a": "npm:^2.0.0"
  languageName: unknown
  linkType: soft

"left-pad@npm:^1.3.0":
  version: 1.3.0
  resolution: "left-pad@npm:1.3.0"
  checksum: 10c0/5d4a8b7c
  languageName: node
  linkType: hard

"pad-alias@npm:left-pad@1.1.0":
  version: 1.1.0
  resolution: "left-pad@npm:1.1.0"
  languageName: node
  linkType: hard

"resolve@npm:^1.22.0":
  version: 1.22.8
  resolution: "resolve@npm:1.22.8"
  languageName: node
  linkType: hard

"resolve@patch:resolve@npm%3A^1.22.0#optional!builtin<compat/resolve>":
  version: 1.22.8
  resolution: "resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=c3c19d"
  languageName: node
  linkType: hard

"from-git@https://git.example.invalid/from-git.git#commit=0123456789abcdef":
  version: 1.0.0
  resolution: "from-git@https://git.example.invalid/from-git.git#commit=0123456789abcdef"
  languageName: node
  linkType: hard

"linked@link:../linked::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "linked@link:../linked::locator=app%40workspace%3A."
  languageName: node
  linkType: soft

"local@file:../local::locator=app%40workspace%3A.":
  version: 0.0.1
  resolution: "local@file:../local#../local::hash=aa00bb&locator=app%40workspace%3A."
  languageName: node
  linkType: hard
"#;
        let line_of = |start: &str| {
            let index = text.lines().position(|l| l.starts_with(start)).unwrap();
            u32::try_from(index + 1).unwrap()
        };
        let (pins, warnings) = parse(text, Format::YarnLock, &Limits::default()).unwrap();
        let got: Vec<(&str, &str, usize, Option<u32>)> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.digests.len(), p.line))
            .collect();
        assert_eq!(
            got,
            [
                ("@scope/a", "2.0.0", 0, Some(line_of("\"@scope/a@"))),
                ("left-pad", "1.3.0", 0, Some(line_of("\"left-pad@"))),
                ("left-pad", "1.1.0", 0, Some(line_of("\"pad-alias@"))),
                ("resolve", "1.22.8", 0, Some(line_of("\"resolve@npm"))),
            ]
        );
        let expected = [
            format!(
                "line {}: app is not a registry release (workspace:.)",
                line_of("\"app@")
            ),
            format!(
                "line {}: resolve 1.22.8 is patched locally (resolve@patch:resolve@npm%3A1.22.8#",
                line_of("\"resolve@patch")
            ),
            format!(
                "line {}: from-git is not a registry release (https://git.example.invalid/from-git.git#commit=0123456789abcdef)",
                line_of("\"from-git@")
            ),
            format!(
                "line {}: linked is not a registry release (link:../linked::locator=app%40workspace%3A.)",
                line_of("\"linked@")
            ),
            format!(
                "line {}: local is not a registry release (file:../local#",
                line_of("\"local@")
            ),
        ];
        assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
        for (warning, start) in warnings.iter().zip(expected) {
            assert!(warning.starts_with(&start), "{warning}");
        }
    }

    #[test]
    fn a_broken_berry_lock_is_an_error_and_odd_entries_are_warnings() {
        let limits = Limits::default();
        for text in [
            "__metadata:\n  version: 8\n\"a@npm:^1\":\n  resolution: [\n",
            "__metadata:\n  version: 8\n---\n__metadata: {}\n",
            "__metadata:\n- 1\n",
        ] {
            assert!(parse(text, Format::YarnLock, &limits).is_err(), "{text:?}");
        }
        let text = "__metadata:\n  version: 8\n\"a@npm:^1\":\n  version: 1.0.0\n\"b@npm:^1\":\n  resolution: \"@scope\"\n\"c@npm:^1\":\n  resolution: \"c@npm:latest\"\n\"d@npm:^1\":\n  resolution: \"d@patch:d@https%3A//x.invalid/d.tgz#p\"\n";
        let (pins, warnings) = parse(text, Format::YarnLock, &limits).unwrap();
        assert!(pins.is_empty());
        assert_eq!(warnings.len(), 4, "{warnings:#?}");
        assert!(warnings[0].contains("a@npm:^1 has no resolution"));
        assert!(warnings[1].contains("names no package"));
        assert!(warnings[2].contains("c is not a registry release (npm:latest)"));
        assert!(warnings[3].contains("d is not a registry release (patch:"));
    }

    #[test]
    fn percent_escapes_are_decoded_and_malformed_ones_kept() {
        assert_eq!(super::percent_decode("a@npm%3A1.0.0"), "a@npm:1.0.0");
        assert_eq!(super::percent_decode("%+f%4%zz%"), "%+f%4%zz%");
        assert_eq!(super::percent_decode("%40s%2Fn"), "@s/n");
    }
}
