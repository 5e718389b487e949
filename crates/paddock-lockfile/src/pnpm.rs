//! pnpm's `pnpm-lock.yaml`. Every installed release is a key of
//! `packages`, spelled by the lockfile's version:
//!
//! | `lockfileVersion` | key | peer suffix |
//! |---|---|---|
//! | 5.x (pnpm 7 and older) | `/name/1.0.0`, `/@scope/name/1.0.0` | `_react@18.2.0` |
//! | 6.0 (pnpm 8) | `/name@1.0.0` | `(react@18.2.0)` |
//! | 9.0 (pnpm 9 and later) | `name@1.0.0` | none (peers are in `snapshots`, which names the same releases and is not read) |
//!
//! with the tarball's digest in `resolution: {integrity: sha512-…}`. The
//! peer suffix is not part of the version; the same release installed
//! with two sets of peers is pinned once. A key that is not a registry
//! release (a tarball URL, a git repository, a `file:` directory: keys
//! without the leading `/` before 9.0, keys whose version is not one
//! after) is a warning, and so is an importer's `link:` dependency. pnpm
//! may write an environment lockfile (its config dependencies and its own
//! version) as a first YAML document; every document is read.

use std::collections::HashMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use paddock_proto::v1::Ecosystem;

use crate::npm::{not_from_registry, split};
use crate::{yaml, Digest, Entries, Limits, Parsed};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    packages: Option<Entries<Package, Spanned<String>>>,
    importers: Option<Entries<Importer>>,
    // One project's dependencies, before `importers` (5.x, and 6.0
    // outside a workspace): an importer's fields at the top.
    dependencies: Option<Entries<serde_json::Value>>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: Option<Entries<serde_json::Value>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<Entries<serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Importer {
    dependencies: Option<Entries<serde_json::Value>>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: Option<Entries<serde_json::Value>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<Entries<serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Package {
    resolution: Resolution,
    /// Given for what is not a registry release.
    name: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resolution {
    integrity: Option<String>,
    tarball: Option<String>,
    /// `git` or `directory` for what is not from a registry.
    #[serde(rename = "type")]
    kind: Option<String>,
    repo: Option<String>,
    directory: Option<String>,
}

/// How a `packages` key spells a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// 5.x: `/name/version_peers`.
    Slash,
    /// 6.0: `/name@version(peers)`.
    At,
    /// 9.0: `name@version`.
    Bare,
}

impl Layout {
    fn of(version: Option<&serde_json::Value>) -> Result<Layout, String> {
        let text = match version {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => return Err("no `lockfileVersion`: not a pnpm lockfile".into()),
        };
        let major: u32 = text
            .split('.')
            .next()
            .and_then(|m| m.trim().parse().ok())
            .ok_or_else(|| format!("lockfileVersion {text:?} is not a version"))?;
        Ok(match major {
            0..=5 => Layout::Slash,
            6 => Layout::At,
            _ => Layout::Bare,
        })
    }
}

pub(crate) fn pnpm_lock(text: &str, limits: &Limits, out: &mut Parsed) -> Result<(), String> {
    let documents: Vec<Lock> = yaml::documents(text, limits)?;
    if documents.is_empty() {
        return Err("no YAML document: not a pnpm lockfile".into());
    }
    // (name, version) → index of its pin: peers variants and documents
    // that repeat a release add to one pin.
    let mut pinned: HashMap<(String, String), usize> = HashMap::new();
    for lock in &documents {
        let layout = Layout::of(lock.lockfile_version.as_ref())?;
        for (key, package) in lock.packages.iter().flat_map(|p| &p.0) {
            let line = u32::try_from(key.referenced.line()).ok();
            entry(&key.value, package, layout, line, &mut pinned, out);
        }
        let root = [
            &lock.dependencies,
            &lock.dev_dependencies,
            &lock.optional_dependencies,
        ];
        links(".", root, out);
        for (path, importer) in lock.importers.iter().flat_map(|i| &i.0) {
            let groups = [
                &importer.dependencies,
                &importer.dev_dependencies,
                &importer.optional_dependencies,
            ];
            links(path, groups, out);
        }
    }
    Ok(())
}

fn entry(
    key: &str,
    package: &Package,
    layout: Layout,
    line: Option<u32>,
    pinned: &mut HashMap<(String, String), usize>,
    out: &mut Parsed,
) {
    let at = line.map_or_else(String::new, |l| format!("line {l}: "));
    let resolution = &package.resolution;
    let parsed = match layout {
        Layout::Slash => key.strip_prefix('/').and_then(|k| split(k, '/')),
        Layout::At => key.strip_prefix('/').and_then(|k| split(k, '@')),
        Layout::Bare => split(key, '@'),
    };
    let version = parsed.map(|(_, rest)| {
        let end = match layout {
            Layout::Slash => rest.find(['_', '(']),
            Layout::At | Layout::Bare => rest.find('('),
        };
        &rest[..end.unwrap_or(rest.len())]
    });
    let registry = match version {
        Some(v) => {
            !not_from_registry(v)
                && !v.contains("://")
                && v.starts_with(|c: char| c.is_ascii_digit())
                && !matches!(resolution.kind.as_deref(), Some("git" | "directory"))
                && resolution.directory.is_none()
                && resolution.repo.is_none()
        }
        None => false,
    };
    let (Some((name, _)), Some(version), true) = (parsed, version, registry) else {
        let name = package
            .name
            .as_deref()
            .or(parsed.map(|(n, _)| n))
            .unwrap_or(key);
        let source = [
            resolution.tarball.as_deref(),
            resolution.repo.as_deref(),
            resolution.directory.as_deref(),
        ]
        .into_iter()
        .flatten()
        .next()
        .unwrap_or(key);
        out.warnings.push(format!(
            "{at}{name} is not a registry release ({source}{}): not checked",
            package
                .version
                .as_deref()
                .map_or_else(String::new, |v| format!(", version {v}"))
        ));
        return;
    };
    let digests: Vec<Digest> = resolution
        .integrity
        .as_deref()
        .and_then(Digest::from_sri)
        .into_iter()
        .collect();
    match pinned.get(&(name.to_owned(), version.to_owned())) {
        // Another peer set of the same release: a digest it disagrees
        // with is kept too, so that both are checked.
        Some(&index) => {
            let pin = &mut out.pins[index];
            for digest in digests {
                if !pin.digests.contains(&digest) {
                    out.warnings.push(format!(
                        "{at}{name} {version} is listed again with another integrity: the lockfile contradicts itself; both are checked"
                    ));
                    pin.digests.push(digest);
                }
            }
        }
        None => {
            pinned.insert((name.to_owned(), version.to_owned()), out.pins.len());
            out.pin_at(Ecosystem::Npm, name, version, digests, line);
        }
    }
}

/// Warns about an importer's `link:` dependencies: a directory of the
/// repository (a workspace member) or of the machine, not a release.
fn links(path: &str, groups: [&Option<Entries<serde_json::Value>>; 3], out: &mut Parsed) {
    for (name, spec) in groups.into_iter().flatten().flat_map(|g| &g.0) {
        // 5.x: the version; 6.0 and later: `{specifier, version}`.
        let version = spec
            .as_str()
            .or_else(|| spec.get("version").and_then(|v| v.as_str()));
        if let Some(target) = version.and_then(|v| v.strip_prefix("link:")) {
            out.warnings.push(format!(
                "importer {path}: {name} is linked from {target}, not a registry release: not checked"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::npm::split;
    use crate::{parse, Format, Limits};

    const SRI_EMPTY: &str = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
    const SRI_OTHER: &str = "sha512-7iaw3Ur350mqGo7jwQrpkj9hiYB3Lkc/iBml1JQODbJ6wYX4oOHV+E+IvIh/1nsUNzLDBMxfqa2Ob1f1ACio/w==";

    /// A pin as (name, version, digest count, line).
    type Row = (String, String, usize, Option<u32>);

    fn pins(text: &str) -> (Vec<Row>, Vec<String>) {
        let (pins, warnings) =
            parse(text, Format::PnpmLock, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        (
            pins.into_iter()
                .map(|p| (p.name, p.version, p.digests.len(), p.line))
                .collect(),
            warnings,
        )
    }

    fn row(
        name: &str,
        version: &str,
        digests: usize,
        line: u32,
    ) -> (String, String, usize, Option<u32>) {
        (name.into(), version.into(), digests, Some(line))
    }

    /// The 1-based line of the `n`th (from 1) line of `text` that starts,
    /// after its indentation, with `start`.
    fn line_of(text: &str, start: &str, n: usize) -> u32 {
        let index = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(start))
            .nth(n - 1)
            .unwrap_or_else(|| panic!("{start} is not in the sample"))
            .0;
        u32::try_from(index + 1).unwrap()
    }

    #[test]
    fn keys_split_into_name_and_version_in_every_layout() {
        assert_eq!(split("lodash@4.17.21", '@'), Some(("lodash", "4.17.21")));
        assert_eq!(
            split("@babel/core@7.23.0(supports-color@8.1.1)", '@'),
            Some(("@babel/core", "7.23.0(supports-color@8.1.1)"))
        );
        assert_eq!(
            split("@babel/core/7.20.0_@types+react@18.0.0", '/'),
            Some(("@babel/core", "7.20.0_@types+react@18.0.0"))
        );
        assert_eq!(split("@scope", '@'), None);
        assert_eq!(split("@scope/x@", '@'), None);
        assert_eq!(split("@@", '@'), None);
        assert_eq!(split("", '/'), None);
    }

    #[test]
    fn a_v5_lock_pins_slash_keys_strips_underscore_peers_and_warns_about_the_rest() {
        let text = format!(
            r#"lockfileVersion: 5.4

specifiers:
  left-pad: ^1.3.0
  react-dom: ^18.2.0
  local-thing: file:../local-thing

dependencies:
  left-pad: 1.3.0
  local-thing: file:../local-thing
  react-dom: 18.2.0_react@18.2.0
  sibling: link:../sibling

packages:

  /@emotion/react/11.10.0_@types+react@18.0.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    dev: false

  /left-pad/1.3.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    dev: false

  /react-dom/18.2.0_react@18.2.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    peerDependencies:
      react: ^18.2.0
    dependencies:
      loose-envify: 1.4.0
    dev: false

  /react-dom/18.2.0_react@18.3.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    dev: false

  file:../local-thing:
    resolution: {{directory: ../local-thing, type: directory}}
    name: local-thing
    version: 0.0.1
    dev: false

  github.com/someone/thing/0123456789abcdef0123456789abcdef01234567:
    resolution: {{tarball: https://codeload.example.invalid/someone/thing/tar.gz/0123456789abcdef}}
    name: thing
    version: 2.0.0
    dev: false
"#
        );
        let (got, warnings) = pins(&text);
        assert_eq!(
            got,
            [
                row(
                    "@emotion/react",
                    "11.10.0",
                    1,
                    line_of(&text, "/@emotion/", 1)
                ),
                row("left-pad", "1.3.0", 1, line_of(&text, "/left-pad/", 1)),
                row("react-dom", "18.2.0", 1, line_of(&text, "/react-dom/", 1)),
            ]
        );
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with(&format!(
                "line {}: local-thing is not a registry release (../local-thing, version 0.0.1)",
                line_of(&text, "file:../local-thing:", 1)
            )),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with(&format!(
                "line {}: thing is not a registry release (https://codeload.example.invalid/",
                line_of(&text, "github.com/", 1)
            )),
            "{warnings:?}"
        );
        assert!(
            warnings[2].contains("importer .: sibling is linked from ../sibling"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_v6_lock_pins_at_keys_and_strips_parenthesised_peers() {
        let text = format!(
            r#"lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      '@scope/a':
        specifier: ^2.0.0
        version: 2.0.0(react@18.2.0)
    devDependencies:
      sibling:
        specifier: workspace:*
        version: link:packages/sibling

  packages/sibling:
    dependencies:
      left-pad:
        specifier: ^1.3.0
        version: 1.3.0

packages:

  /@scope/a@2.0.0(react@18.2.0):
    resolution: {{integrity: {SRI_EMPTY}}}
    peerDependencies:
      react: ^18
    dev: false

  /left-pad@1.3.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    dev: false

  /left-pad@1.1.0:
    resolution: {{integrity: sha512-nonsense}}
    dev: true
"#
        );
        let (got, warnings) = pins(&text);
        assert_eq!(
            got,
            [
                row("@scope/a", "2.0.0", 1, line_of(&text, "/@scope/a@", 1)),
                row("left-pad", "1.3.0", 1, line_of(&text, "/left-pad@1.3.0", 1)),
                row("left-pad", "1.1.0", 0, line_of(&text, "/left-pad@1.1.0", 1)),
            ]
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("importer .: sibling is linked from packages/sibling"));
    }

    #[test]
    fn a_v9_lock_pins_packages_once_and_every_document_is_read() {
        let text = format!(
            r#"---
lockfileVersion: '9.0'

importers:

  .:
    configDependencies: {{}}
    packageManagerDependencies:
      pnpm:
        specifier: 10.0.0
        version: 10.0.0

packages:

  pnpm@10.0.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    hasBin: true

snapshots:

  pnpm@10.0.0: {{}}

---
lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
      from-git:
        specifier: github:someone/from-git
        version: https://codeload.example.invalid/someone/from-git/tar.gz/abc

packages:

  '@scope/a@2.0.0':
    resolution: {{integrity: {SRI_EMPTY}}}

  react-dom@18.2.0:
    resolution: {{integrity: {SRI_EMPTY}}}
    peerDependencies:
      react: ^18.2.0

  from-git@https://codeload.example.invalid/someone/from-git/tar.gz/abc:
    resolution: {{tarball: https://codeload.example.invalid/someone/from-git/tar.gz/abc}}
    version: 1.0.0

  from-repo@git+https://git.example.invalid/from-repo.git#0123456789abcdef:
    resolution: {{commit: 0123456789abcdef, repo: https://git.example.invalid/from-repo.git, type: git}}
    version: 1.0.0

  pnpm@10.0.0:
    resolution: {{integrity: {SRI_OTHER}}}

snapshots:

  '@scope/a@2.0.0': {{}}

  react-dom@18.2.0(react@18.2.0):
    dependencies:
      '@scope/a': 2.0.0
"#
        );
        let (got, warnings) = pins(&text);
        assert_eq!(
            got,
            [
                row("pnpm", "10.0.0", 2, line_of(&text, "pnpm@10.0.0:", 1)),
                row(
                    "@scope/a",
                    "2.0.0",
                    1,
                    line_of(&text, "'@scope/a@2.0.0':", 1)
                ),
                row(
                    "react-dom",
                    "18.2.0",
                    1,
                    line_of(&text, "react-dom@18.2.0:", 1)
                ),
            ]
        );
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with(&format!(
                "line {}: from-git is not a registry release (https://codeload.example.invalid/someone/from-git/tar.gz/abc, version 1.0.0)",
                line_of(&text, "from-git@", 1)
            )),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with(&format!(
                "line {}: from-repo is not a registry release (https://git.example.invalid/from-repo.git",
                line_of(&text, "from-repo@", 1)
            )),
            "{warnings:?}"
        );
        assert!(
            warnings[2].contains("pnpm 10.0.0 is listed again with another integrity"),
            "{warnings:?}"
        );
    }

    #[test]
    fn what_is_not_a_pnpm_lockfile_is_an_error() {
        let limits = Limits::default();
        for text in [
            "",
            "packages: {}\n",
            "lockfileVersion: x\n",
            "- a\n",
            "lockfileVersion: '9.0'\npackages: [1]\n",
        ] {
            assert!(parse(text, Format::PnpmLock, &limits).is_err(), "{text:?}");
        }
        let (pins, warnings) =
            parse("lockfileVersion: '9.0'\n", Format::PnpmLock, &limits).unwrap();
        assert!(pins.is_empty() && warnings.is_empty());
    }
}
