//! Facts of a package as a whole: its manifests, its name, its version and
//! what the registry says of it.
//!
//! | fact | holds when |
//! |---|---|
//! | `install-hook` | an install hook (optionally of the named kinds) whose command matches `command` and not `not_command` |
//! | `look-alike-name` | the name imitates a popular package of its ecosystem (edit distance, separators, scope, combosquat, homoglyph) without being one |
//! | `dependency-confusion-version` | a version of 90 or more as major, or four digits, on a package with no earlier release the registry knows of (or when the registry was not asked) |
//! | `url-dependency` | a dependency fetched from a URL, git or a path instead of the registry |
//! | `repository-mismatch` | the declared repository names a different project than the package |
//! | `bin-shadows-command` | an installed command named like a system command (`ls`, `node`, `python`…) |
//! | `bundled-binary` | a compiled executable or library ships in the package |
//! | `new-package` | the registry says the package is less than 30 days old, or has no earlier release |

use paddock_proto::v1::{Ecosystem, Evidence, PackageMetadata};
use regex::Regex;

use super::format::ManifestSpec;

/// A compiled manifest fact.
#[derive(Debug, Clone)]
pub enum Fact {
    InstallHook {
        hooks: Vec<String>,
        command: Option<Regex>,
        not_command: Option<Regex>,
    },
    LookAlikeName,
    DependencyConfusionVersion,
    UrlDependency,
    RepositoryMismatch,
    BinShadowsCommand,
    BundledBinary,
    NewPackage,
}

impl Fact {
    pub fn compile(spec: &ManifestSpec) -> Result<Self, String> {
        let re = |r: &Option<String>, key: &str| {
            r.as_ref()
                .map(|r| Regex::new(r).map_err(|e| format!("manifest {key} `{r}`: {e}")))
                .transpose()
        };
        let only_hook = |f: Fact| {
            if spec.hooks.is_empty() && spec.command.is_none() && spec.not_command.is_none() {
                Ok(f)
            } else {
                Err(format!("`hooks`, `command` and `not_command` belong to fact = \"install-hook\", not `{}`", spec.fact))
            }
        };
        match spec.fact.as_str() {
            "install-hook" => Ok(Fact::InstallHook {
                hooks: spec.hooks.clone(),
                command: re(&spec.command, "command")?,
                not_command: re(&spec.not_command, "not_command")?,
            }),
            "look-alike-name" => only_hook(Fact::LookAlikeName),
            "dependency-confusion-version" => only_hook(Fact::DependencyConfusionVersion),
            "url-dependency" => only_hook(Fact::UrlDependency),
            "repository-mismatch" => only_hook(Fact::RepositoryMismatch),
            "bin-shadows-command" => only_hook(Fact::BinShadowsCommand),
            "bundled-binary" => only_hook(Fact::BundledBinary),
            "new-package" => only_hook(Fact::NewPackage),
            other => Err(format!(
                "unknown manifest fact `{other}`: use install-hook, look-alike-name, dependency-confusion-version, url-dependency, repository-mismatch, bin-shadows-command, bundled-binary or new-package"
            )),
        }
    }
}

/// What the facts are read from.
#[derive(Debug, Clone, Copy)]
pub struct Package<'a> {
    pub ecosystem: Ecosystem,
    pub name: &'a str,
    pub version: &'a str,
    pub meta: &'a PackageMetadata,
    pub popular: &'a [String],
}

/// System commands a package's own command should not be named after.
const SYSTEM_COMMANDS: &[&str] = &[
    "ls", "cat", "cp", "mv", "rm", "sh", "bash", "zsh", "sudo", "su", "curl", "wget", "git", "ssh",
    "scp", "node", "npm", "npx", "yarn", "pnpm", "python", "python3", "pip", "pip3", "ruby", "gem",
    "php", "composer", "cargo", "rustc", "make", "gcc", "cc", "ld", "env", "which", "id", "ps",
    "kill", "chmod", "chown", "tar", "unzip", "docker", "kubectl", "aws", "gcloud", "az",
];

impl Fact {
    /// The evidence when the fact holds.
    pub fn holds(&self, p: &Package<'_>) -> Option<Evidence> {
        let ev = |file: &str, snippet: String| Evidence {
            file: file.to_owned(),
            snippet: snippet.chars().take(200).collect(),
            ..Default::default()
        };
        match self {
            Fact::InstallHook {
                hooks,
                command,
                not_command,
            } => p.meta.install_hooks.iter().find_map(|h| {
                let kind = paddock_proto::ecosystem::hook_kind_token(h.kind());
                let named = hooks.is_empty() || hooks.iter().any(|w| *w == h.name || w == kind);
                let cmd_ok = command.as_ref().is_none_or(|re| re.is_match(&h.command));
                let not_ok = not_command
                    .as_ref()
                    .is_none_or(|re| !re.is_match(&h.command));
                (named && cmd_ok && not_ok)
                    .then(|| ev(&h.file, format!("{}: {}", h.name, h.command)))
            }),
            Fact::LookAlikeName => {
                look_alike(p.ecosystem, p.name, p.popular).map(|(target, how)| {
                    ev(
                        manifest_file(p.ecosystem),
                        format!("{} looks like {target} ({how})", p.name),
                    )
                })
            }
            Fact::DependencyConfusionVersion => {
                let major: u64 = p
                    .version
                    .trim_start_matches('v')
                    .split(['.', '-', '+'])
                    .next()
                    .and_then(|m| m.parse().ok())?;
                let high = major >= 90;
                let history = p
                    .meta
                    .registry
                    .as_ref()
                    .and_then(|r| r.previous_releases)
                    .unwrap_or(0);
                (high && history <= 1).then(|| {
                    ev(
                        manifest_file(p.ecosystem),
                        format!("version {} with no release history", p.version),
                    )
                })
            }
            Fact::UrlDependency => p
                .meta
                .dependencies
                .iter()
                .find(|d| {
                    !d.source_url.is_empty()
                        && (d.scope.is_empty() || d.scope == "runtime" || d.scope == "optional")
                })
                .map(|d| {
                    ev(
                        manifest_file(p.ecosystem),
                        format!("{} from {}", d.name, d.source_url),
                    )
                }),
            Fact::RepositoryMismatch => {
                repository_mismatch(p).map(|r| ev(manifest_file(p.ecosystem), r))
            }
            Fact::BinShadowsCommand => p
                .meta
                .commands
                .iter()
                .find(|c| SYSTEM_COMMANDS.contains(&c.as_str()))
                .map(|c| {
                    ev(
                        manifest_file(p.ecosystem),
                        format!("installs a command named `{c}`"),
                    )
                }),
            Fact::BundledBinary => p
                .meta
                .bundled_binaries
                .first()
                .map(|b| ev(b, "compiled executable or library".into())),
            Fact::NewPackage => {
                let r = p.meta.registry.as_ref().filter(|r| r.looked_up)?;
                let young = r.age_days.is_some_and(|d| d < 30);
                let first = r.previous_releases == Some(0);
                (young || first).then(|| {
                    ev(
                        manifest_file(p.ecosystem),
                        format!(
                            "first published {} days ago, {} earlier releases",
                            r.age_days.map_or("?".into(), |d| d.to_string()),
                            r.previous_releases.map_or("?".into(), |n| n.to_string())
                        ),
                    )
                })
            }
        }
    }
}

fn manifest_file(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Npm => "package.json",
        Ecosystem::Pypi => "PKG-INFO",
        Ecosystem::Rubygems => "metadata.gz",
        Ecosystem::Packagist => "composer.json",
        Ecosystem::CratesIo => "Cargo.toml",
        Ecosystem::Unspecified => "",
    }
}

/// A declared repository whose project name has nothing in common with
/// the package's (`github.com/lodash/lodash` on a package `lodahs-utils`).
fn repository_mismatch(p: &Package<'_>) -> Option<String> {
    let url = p.meta.repository.trim();
    if url.is_empty() || p.name.is_empty() {
        return None;
    }
    let url = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_ascii_lowercase();
    // Only hosting sites whose paths are owner/project.
    let hosted = [
        "github.com/",
        "gitlab.com/",
        "bitbucket.org/",
        "codeberg.org/",
    ];
    let path = hosted
        .iter()
        .find_map(|h| url.split_once(h).map(|(_, p)| p.to_owned()))?;
    let project = path.split('/').nth(1)?.to_owned();
    let owner = path.split('/').next().unwrap_or_default().to_owned();
    let name = normalise(p.name.rsplit('/').next().unwrap_or(p.name));
    let scope = p
        .name
        .strip_prefix('@')
        .and_then(|s| s.split('/').next())
        .map(normalise);
    let proj = normalise(&project);
    let related = proj.contains(&name)
        || name.contains(&proj)
        || scope.as_ref().is_some_and(|s| proj.contains(s.as_str()) || normalise(&owner).contains(s.as_str()))
        || normalise(&owner).contains(&name)
        // monorepos: `babel/babel` for `@babel/core`
        || p.name.starts_with('@');
    let popular_other = p.popular.iter().any(|n| normalise(n) == proj)
        && !p.popular.iter().any(|n| normalise(n) == name);
    (!related && popular_other).then(|| {
        format!(
            "declares the repository of `{project}`: {}",
            p.meta.repository
        )
    })
}

fn normalise(s: &str) -> String {
    s.to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The popular package `name` imitates, and how; `None` when it is one of
/// them or like none.
pub fn look_alike(
    eco: Ecosystem,
    name: &str,
    popular: &[String],
) -> Option<(String, &'static str)> {
    if popular.is_empty() || name.is_empty() {
        return None;
    }
    let canon = |s: &str| -> String {
        let s = s.to_ascii_lowercase();
        match eco {
            // PEP 503: runs of -_. are one separator.
            Ecosystem::Pypi | Ecosystem::CratesIo => s.replace(['_', '.'], "-"),
            _ => s,
        }
    };
    let me = canon(name);
    if popular.iter().any(|p| canon(p) == me) {
        return None;
    }
    // Only the most popular names are worth imitating for the looser
    // tests: edit distance 2 and combosquats.
    let top = &popular[..popular.len().min(500)];
    let bare = |s: &str| -> String { s.chars().filter(|c| c.is_ascii_alphanumeric()).collect() };
    let me_bare = bare(&me);
    let me_glyph = homoglyph_fold(name).to_lowercase();
    for p in popular {
        let pc = canon(p);
        if pc.len() < 4 {
            continue;
        }
        if homoglyph_fold(p).to_lowercase() == me_glyph {
            return Some((p.clone(), "homoglyph"));
        }
        let pb = bare(&pc);
        if pb.len() >= 4 && pb == me_bare {
            let scoped = me.starts_with('@') || pc.starts_with('@');
            return Some((
                p.clone(),
                if scoped {
                    "scope confusion"
                } else {
                    "separator confusion"
                },
            ));
        }
        let d = levenshtein_bounded(&me_bare, &pb, 2);
        if d == Some(1) && pb.len() >= 5 {
            return Some((p.clone(), "one edit away"));
        }
        if d.is_some() && swapped(&me_bare, &pb) {
            return Some((p.clone(), "letters swapped"));
        }
    }
    for p in top {
        let pc = canon(p);
        let pb = bare(&pc);
        if pb.len() < 5 {
            continue;
        }
        if levenshtein_bounded(&me_bare, &pb, 2) == Some(2) && pb.len() >= 8 {
            return Some((p.clone(), "two edits away"));
        }
        // Combosquats: the popular name plus a word (`lodash-utils`,
        // `requests-py`), whole words only.
        let words: Vec<&str> = me
            .trim_start_matches('@')
            .split(['-', '_', '.', '/'])
            .collect();
        let pwords: Vec<&str> = pc
            .trim_start_matches('@')
            .split(['-', '_', '.', '/'])
            .collect();
        if words.len() > pwords.len()
            && words.windows(pwords.len()).any(|w| w == pwords.as_slice())
            && words
                .iter()
                .filter(|w| !pwords.contains(w))
                .all(|w| COMBO_WORDS.contains(w))
        {
            return Some((p.clone(), "combosquat"));
        }
    }
    None
}

/// Words attackers add to a popular name.
const COMBO_WORDS: &[&str] = &[
    "js", "py", "python", "python3", "node", "nodejs", "npm", "lib", "libs", "util", "utils",
    "tools", "tool", "helper", "helpers", "core", "dev", "sdk", "api", "client", "cli", "pro",
    "plus", "next", "new", "latest", "official", "fix", "fixed", "patch", "patched", "update",
    "updated", "v2", "2", "3", "async", "fast", "secure", "safe", "lite", "full", "extra", "ext",
    "extended", "php", "rb", "ruby", "rs", "rust", "crate", "pkg", "package", "module", "mod",
    "plugin", "wrapper", "bin", "binary", "min", "dist",
];

/// Names with look-alike characters folded (`l`/`1`/`I`, `o`/`0`,
/// Cyrillic and Greek look-alikes), so that `reqıests` meets `requests`.
fn homoglyph_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '1' | 'I' | 'ı' | 'ł' | 'і' | 'ӏ' | '|' => 'l',
            '0' | 'о' | 'ο' | 'ө' => 'o',
            'а' | 'α' => 'a',
            'е' | 'ε' => 'e',
            'с' => 'c',
            'р' | 'ρ' => 'p',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'ѕ' => 's',
            'ј' => 'j',
            'ԁ' => 'd',
            'ɡ' => 'g',
            'ո' => 'n',
            'ν' => 'v',
            'ԝ' | 'ω' => 'w',
            c => c,
        })
        .collect::<String>()
        .replace("rn", "m")
        .replace("vv", "w")
}

fn swapped(a: &str, b: &str) -> bool {
    if a.len() != b.len() || a == b {
        return false;
    }
    let diffs: Vec<usize> = a
        .bytes()
        .zip(b.bytes())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i)
        .collect();
    diffs.len() == 2
        && diffs[1] == diffs[0] + 1
        && a.as_bytes()[diffs[0]] == b.as_bytes()[diffs[1]]
        && a.as_bytes()[diffs[1]] == b.as_bytes()[diffs[0]]
}

/// Levenshtein distance when it is at most `max`.
fn levenshtein_bounded(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        let mut best = cur[0];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            best = best.min(cur[j + 1]);
        }
        if best > max {
            return None;
        }
        prev = cur;
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn popular() -> Vec<String> {
        [
            "requests",
            "lodash",
            "express",
            "python-dateutil",
            "@babel/core",
            "colorama",
            "urllib3",
            "beautifulsoup4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn look_alikes_are_named_with_how() {
        let p = popular();
        let la = |eco, n| look_alike(eco, n, &p);
        assert_eq!(
            la(Ecosystem::Pypi, "reqeusts"),
            Some(("requests".into(), "letters swapped"))
        );
        assert_eq!(
            la(Ecosystem::Pypi, "requestss"),
            Some(("requests".into(), "one edit away"))
        );
        assert_eq!(
            la(Ecosystem::Npm, "lodash-utils"),
            Some(("lodash".into(), "combosquat"))
        );
        assert_eq!(
            la(Ecosystem::Pypi, "python3-dateutil"),
            Some(("python-dateutil".into(), "one edit away"))
        );
        assert_eq!(
            la(Ecosystem::Npm, "@babeI/core"),
            Some(("@babel/core".into(), "homoglyph"))
        );
        assert_eq!(
            la(Ecosystem::Npm, "babel-core").map(|x| x.1),
            Some("scope confusion")
        );
        assert_eq!(
            la(Ecosystem::Pypi, "colourama").map(|x| x.1),
            Some("one edit away")
        );
        // Themselves, and names like none of them.
        assert_eq!(la(Ecosystem::Pypi, "Requests"), None);
        assert_eq!(la(Ecosystem::Pypi, "python_dateutil"), None);
        assert_eq!(la(Ecosystem::Npm, "left-pad"), None);
        assert_eq!(la(Ecosystem::Npm, "lodash-es-helpers-for-my-app"), None);
    }
}
