//! npm's `package-lock.json` and `npm-shrinkwrap.json`: v2 and v3 list
//! every installed package under `packages` by its `node_modules` path;
//! v1 nests `dependencies` inside each other. The same name at several
//! versions is normal here (nested `node_modules`).

use std::collections::HashMap;

use serde::Deserialize;

use paddock_proto::v1::Ecosystem;

use crate::{Digest, Entries, Limits, Parsed};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    packages: Option<Entries<Entry>>,
    dependencies: Option<Entries<Nested>>,
}

/// A `packages` entry (v2/v3); its `dependencies` are ranges, not read.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    link: Option<bool>,
}

/// A `dependencies` entry (v1), with the packages nested under it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Nested {
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    dependencies: Option<Entries<Nested>>,
}

pub(crate) fn parse(text: &str, limits: &Limits, out: &mut Parsed) -> Result<(), String> {
    let lock: Lock = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(packages) = lock.packages {
        let mut versions: HashMap<&str, &str> = HashMap::new();
        for (path, entry) in &packages.0 {
            if let Some(version) = entry.version.as_deref() {
                if let Some(before) = versions.insert(path, version) {
                    if before != version {
                        out.warnings.push(format!(
                            "{path} is listed twice, at {before} and at {version}: the lockfile contradicts itself; both are checked"
                        ));
                    }
                }
            }
            entry_v2(path, entry, out);
        }
        return Ok(());
    }
    match lock.dependencies {
        Some(dependencies) => tree_v1(&dependencies, 0, limits, out),
        None if lock.lockfile_version.is_some() => Ok(()),
        None => Err("neither `packages` nor `dependencies`: not an npm lockfile".into()),
    }
}

/// The name an installed path stands for: what follows its last
/// `node_modules/` (`@scope/name` included).
fn installed_name(path: &str) -> Option<&str> {
    let (_, name) = path.rsplit_once("node_modules/")?;
    (!name.is_empty()).then_some(name)
}

fn entry_v2(path: &str, entry: &Entry, out: &mut Parsed) {
    // The root project, and workspace members linked into node_modules,
    // are the repository's own code, not releases.
    let Some(installed) = installed_name(path) else {
        return;
    };
    if entry.link == Some(true) {
        return;
    }
    // An alias (`"x": "npm:real@1"`) installs `name` under another path.
    let name = entry.name.as_deref().unwrap_or(installed);
    let version = entry.version.as_deref().unwrap_or_default();
    pin_or_warn(
        name,
        version,
        entry.resolved.as_deref(),
        entry.integrity.as_deref(),
        path,
        out,
    );
}

fn tree_v1(
    dependencies: &Entries<Nested>,
    depth: usize,
    limits: &Limits,
    out: &mut Parsed,
) -> Result<(), String> {
    if depth >= limits.max_depth {
        return Err(format!(
            "dependencies nest deeper than {} levels: not a real lockfile",
            limits.max_depth
        ));
    }
    for (name, entry) in &dependencies.0 {
        let version = entry.version.as_deref().unwrap_or_default();
        // v1 writes an alias's version as `npm:real@1.0.0`.
        let (name, version) = match version
            .strip_prefix("npm:")
            .and_then(|v| v.rsplit_once('@'))
        {
            Some((real, v)) if !real.is_empty() => (real, v),
            _ => (name.as_str(), version),
        };
        pin_or_warn(
            name,
            version,
            entry.resolved.as_deref(),
            entry.integrity.as_deref(),
            name,
            out,
        );
        if let Some(nested) = &entry.dependencies {
            tree_v1(nested, depth + 1, limits, out)?;
        }
    }
    Ok(())
}

/// How the npm family's lockfiles (package-lock, yarn classic and berry,
/// pnpm) spell a source that is not the registry: a local path, a link, a
/// workspace member, a git repository. One list for every reader.
pub(crate) const NOT_FROM_REGISTRY: [&str; 11] = [
    "file:",
    "link:",
    "portal:",
    "workspace:",
    "exec:",
    "git+",
    "git:",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
];

/// Whether a version, `resolved` URL or resolution protocol names a
/// source other than the registry ([`NOT_FROM_REGISTRY`]).
pub(crate) fn not_from_registry(spec: &str) -> bool {
    NOT_FROM_REGISTRY.iter().any(|p| spec.starts_with(p))
}

/// The name in one of the npm family's keys or resolutions, and what
/// follows its separator: `@scope/name@rest` or `name@rest` (`sep` `@`),
/// `@scope/name/rest` or `name/rest` (`/`).
pub(crate) fn split(key: &str, sep: char) -> Option<(&str, &str)> {
    let from = if key.starts_with('@') {
        key.find('/')? + 1
    } else {
        0
    };
    let at = from + key[from..].find(sep)?;
    let (name, rest) = (&key[..at], &key[at + 1..]);
    (at > from && !rest.is_empty()).then_some((name, rest))
}

fn pin_or_warn(
    name: &str,
    version: &str,
    resolved: Option<&str>,
    integrity: Option<&str>,
    at: &str,
    out: &mut Parsed,
) {
    let resolved = resolved.unwrap_or_default();
    if not_from_registry(resolved)
        || not_from_registry(version)
        || version.is_empty()
        || version.contains("://")
    {
        out.warnings.push(format!(
            "{at}: {name} is not a registry release ({}): not checked",
            if resolved.is_empty() {
                version
            } else {
                resolved
            }
        ));
        return;
    }
    let digests = integrity.and_then(Digest::from_sri).into_iter().collect();
    out.pin(Ecosystem::Npm, name, version, digests);
}

#[cfg(test)]
mod tests {
    use crate::{parse, Format, Limits};

    const V3: &str = r#"{
  "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}},
    "node_modules/left-pad": {"version": "1.3.0", "resolved": "http://127.0.0.1:1/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="},
    "node_modules/@scope/a": {"version": "2.0.0"},
    "node_modules/@scope/a/node_modules/left-pad": {"version": "1.1.0"},
    "node_modules/alias": {"name": "real-pkg", "version": "3.0.0"},
    "node_modules/mine": {"resolved": "packages/mine", "link": true},
    "packages/mine": {"version": "0.0.1"},
    "node_modules/from-git": {"version": "1.0.0", "resolved": "git+ssh://git@example.invalid/x.git#abc"}
  }
}"#;

    #[test]
    fn a_v3_lock_pins_every_installed_package_once_and_names_what_it_skips() {
        let (pins, warnings) = parse(V3, Format::NpmPackageLock, &Limits::default()).unwrap();
        let got: Vec<(&str, &str, usize)> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.digests.len()))
            .collect();
        assert_eq!(
            got,
            [
                ("left-pad", "1.3.0", 1),
                ("@scope/a", "2.0.0", 0),
                ("left-pad", "1.1.0", 0),
                ("real-pkg", "3.0.0", 0),
            ]
        );
        assert_eq!(pins[0].digests[0].algorithm, "sha512");
        assert!(pins[0].line.is_some());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("from-git is not a registry release"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_path_said_twice_with_two_versions_is_a_warning_and_both_are_checked() {
        let text = r#"{"lockfileVersion": 3, "packages": {
            "node_modules/x": {"version": "1.0.0"},
            "node_modules/x": {"version": "6.6.6"}
        }}"#;
        let (pins, warnings) = parse(text, Format::NpmPackageLock, &Limits::default()).unwrap();
        assert_eq!(pins.len(), 2);
        assert!(
            warnings[0].contains("node_modules/x is listed twice, at 1.0.0 and at 6.6.6"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_v1_lock_is_walked_through_its_nesting_and_a_deep_one_is_refused() {
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {
            "a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0"}}},
            "c": {"version": "npm:real-c@4.0.0"}
        }}"#;
        let (pins, _) = parse(v1, Format::NpmPackageLock, &Limits::default()).unwrap();
        let got: Vec<(&str, &str)> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, [("a", "1.0.0"), ("b", "2.0.0"), ("real-c", "4.0.0")]);

        let mut deep = String::from(r#"{"lockfileVersion": 1, "dependencies": "#);
        for _ in 0..60 {
            deep.push_str(r#"{"x": {"version": "1.0.0", "dependencies": "#);
        }
        deep.push_str("{}");
        for _ in 0..60 {
            deep.push_str("}}");
        }
        deep.push('}');
        let limits = Limits {
            max_depth: 20,
            ..Default::default()
        };
        let error = parse(&deep, Format::NpmPackageLock, &limits).unwrap_err();
        assert!(error.contains("deeper than 20"), "{error}");
        // Deeper than serde_json's own recursion limit: an error, not a
        // stack overflow.
        let bomb = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&bomb, Format::NpmPackageLock, &Limits::default()).is_err());
        // Truncated.
        assert!(parse(
            &V3[..V3.len() / 2],
            Format::NpmPackageLock,
            &Limits::default()
        )
        .is_err());
    }
}
