//! Python's pins: `requirements.txt` (`name==version`, `--hash=`),
//! `Pipfile.lock`, `poetry.lock` and `uv.lock`. A lock lists the digest of
//! every file of a release (the sdist and each wheel); any of them may be
//! the analysed artifact.

use serde::Deserialize;
use serde_json::Value;

use paddock_proto::v1::Ecosystem;

use crate::{pypi_name, Digest, Parsed};

/// `requirements.txt`: one requirement per logical line (a trailing `\`
/// continues it), comments after `#`, options (`-r`, `-e`, `--index-url`)
/// not followed.
pub(crate) fn requirements(text: &str, out: &mut Parsed) {
    let mut logical = String::new();
    let mut first_line = 0;
    for (index, line) in text.lines().enumerate() {
        if logical.is_empty() {
            first_line = index + 1;
        }
        let line = line.split(" #").next().unwrap_or_default();
        if let Some(continued) = line.trim_end().strip_suffix('\\') {
            logical.push_str(continued);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        requirement(&std::mem::take(&mut logical), first_line, out);
    }
    if !logical.is_empty() {
        requirement(&logical, first_line, out);
    }
    out.check_flat();
}

fn requirement(text: &str, line: usize, out: &mut Parsed) {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return;
    }
    let mut words = text.split_whitespace();
    let spec = words.next().unwrap_or_default();
    if spec.starts_with('-') {
        if matches!(spec, "-e" | "--editable") {
            out.warnings.push(format!(
                "line {line}: an editable install ({}) is not a registry release: not checked",
                words.next().unwrap_or_default()
            ));
        }
        return;
    }
    let digests: Vec<Digest> = words
        .filter_map(|w| w.strip_prefix("--hash="))
        .filter_map(Digest::parse_prefixed)
        .collect();
    // `name[extras]==version ; marker`
    let spec = spec.split(';').next().unwrap_or_default();
    match spec.split_once("==") {
        Some((name, version)) if !version.is_empty() && !version.contains(['*', ',']) => {
            let name = name.split('[').next().unwrap_or_default();
            out.pin(
                Ecosystem::Pypi,
                &pypi_name(name),
                version.trim_start_matches('='),
                digests,
            );
            if let Some(pin) = out.pins.last_mut() {
                pin.line = u32::try_from(line).ok();
            }
        }
        _ => out.warnings.push(format!(
            "line {line}: {spec:?} is not pinned to one version (`name==version`): not checked"
        )),
    }
}

/// `Pipfile.lock`: `default` and `develop`, each `{name: {version:
/// "==1.0", hashes: ["sha256:…"]}}`.
pub(crate) fn pipfile_lock(text: &str, out: &mut Parsed) -> Result<(), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    for section in ["default", "develop"] {
        let Some(entries) = root.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (name, entry) in entries {
            let version = entry
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some(version) = version.strip_prefix("==") else {
                out.warnings.push(format!(
                    "{section}: {name} has no pinned version (a path, git or editable install): not checked"
                ));
                continue;
            };
            let digests = entry
                .get("hashes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(Digest::parse_prefixed)
                .collect();
            out.pin(Ecosystem::Pypi, &pypi_name(name), version, digests);
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: String,
    #[serde(default)]
    version: String,
    /// poetry: `[[package.files]]`, each `{file, hash}`.
    #[serde(default)]
    files: Vec<TomlFile>,
    /// poetry: `{type = "git" | "directory" | "url" | "legacy", …}`;
    /// uv: `{registry = …}`, `{git = …}`, `{editable = …}`…
    #[serde(default)]
    source: Option<toml::Table>,
    /// uv.
    #[serde(default)]
    sdist: Option<TomlFile>,
    #[serde(default)]
    wheels: Vec<TomlFile>,
}

#[derive(Deserialize)]
struct TomlFile {
    #[serde(default)]
    hash: Option<String>,
}

/// `poetry.lock`.
pub(crate) fn poetry_lock(text: &str, out: &mut Parsed) -> Result<(), String> {
    let lock: TomlLock = toml::from_str(text).map_err(|e| e.to_string())?;
    for package in lock.package {
        let kind = package
            .source
            .as_ref()
            .and_then(|s| s.get("type"))
            .and_then(toml::Value::as_str)
            .unwrap_or("pypi");
        if !matches!(kind, "pypi" | "legacy") {
            out.warnings.push(format!(
                "{}: from a {kind} source, not a registry release: not checked",
                package.name
            ));
            continue;
        }
        let digests = hashes(package.files.iter());
        out.pin(
            Ecosystem::Pypi,
            &pypi_name(&package.name),
            &package.version,
            digests,
        );
    }
    out.check_flat();
    Ok(())
}

/// `uv.lock`.
pub(crate) fn uv_lock(text: &str, out: &mut Parsed) -> Result<(), String> {
    let lock: TomlLock = toml::from_str(text).map_err(|e| e.to_string())?;
    for package in lock.package {
        let from_registry = package
            .source
            .as_ref()
            .is_some_and(|s| s.contains_key("registry"));
        if !from_registry {
            // The project itself (`editable`/`virtual`), and git, path and
            // URL sources.
            let kind = package
                .source
                .as_ref()
                .and_then(|s| s.keys().next().cloned())
                .unwrap_or_else(|| "unknown".into());
            if !matches!(kind.as_str(), "editable" | "virtual") {
                out.warnings.push(format!(
                    "{}: from a {kind} source, not a registry release: not checked",
                    package.name
                ));
            }
            continue;
        }
        let digests = hashes(package.sdist.iter().chain(&package.wheels));
        out.pin(
            Ecosystem::Pypi,
            &pypi_name(&package.name),
            &package.version,
            digests,
        );
    }
    out.check_flat();
    Ok(())
}

fn hashes<'a>(files: impl Iterator<Item = &'a TomlFile>) -> Vec<Digest> {
    let mut digests: Vec<Digest> = files
        .filter_map(|f| f.hash.as_deref())
        .filter_map(Digest::parse_prefixed)
        .collect();
    digests.sort();
    digests.dedup();
    digests
}

#[cfg(test)]
mod tests {
    use crate::{parse, Format, Limits};

    fn pins(text: &str, format: Format) -> (Vec<(String, String, usize)>, Vec<String>) {
        let (pins, warnings) = parse(text, format, &Limits::default()).unwrap();
        (
            pins.into_iter()
                .map(|p| (p.name, p.version, p.digests.len()))
                .collect(),
            warnings,
        )
    }

    #[test]
    fn requirements_pins_hashes_continuations_and_what_is_not_pinned() {
        let h = "b".repeat(64);
        let text = format!(
            "# top\nRequests[security]==2.31.0 ; python_version >= '3.8' \\\n    --hash=sha256:{h} \\\n    --hash=sha256:{h}\nsix>=1.0\n-e ./local\n--index-url http://127.0.0.1:1/simple\nZope.Interface==6.0  # pinned\nsix==1.16.0\nsix==1.15.0\n"
        );
        let (got, warnings) = pins(&text, Format::Requirements);
        assert_eq!(
            got,
            [
                ("requests".into(), "2.31.0".into(), 2),
                ("zope-interface".into(), "6.0".into(), 0),
                ("six".into(), "1.16.0".into(), 0),
                ("six".into(), "1.15.0".into(), 0),
            ]
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("\"six>=1.0\" is not pinned")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("editable install (./local)")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("six is pinned twice, at 1.16.0 and at 1.15.0")),
            "{warnings:?}"
        );
        let (lines, _) = parse(&text, Format::Requirements, &Limits::default()).unwrap();
        assert_eq!(lines[0].line, Some(2));
        assert_eq!(lines[1].line, Some(8));
    }

    #[test]
    fn pipfile_poetry_and_uv_locks() {
        let h = "c".repeat(64);
        let pipfile = format!(
            r#"{{"_meta": {{}}, "default": {{"Flask": {{"version": "==3.0.0", "hashes": ["sha256:{h}"]}},
               "mine": {{"path": ".", "editable": true}}}}, "develop": {{"pytest": {{"version": "==8.0.0"}}}}}}"#
        );
        let (got, warnings) = pins(&pipfile, Format::PipfileLock);
        assert_eq!(
            got,
            [
                ("flask".into(), "3.0.0".into(), 1),
                ("pytest".into(), "8.0.0".into(), 0)
            ]
        );
        assert_eq!(warnings.len(), 1);

        let poetry = format!(
            r#"
[[package]]
name = "Six"
version = "1.16.0"
files = [{{file = "six-1.16.0.tar.gz", hash = "sha256:{h}"}}, {{file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:{d}"}}]

[[package]]
name = "mine"
version = "0.1.0"
[package.source]
type = "git"
url = "https://example.invalid/mine.git"
"#,
            d = "d".repeat(64)
        );
        let (got, warnings) = pins(&poetry, Format::PoetryLock);
        assert_eq!(got, [("six".into(), "1.16.0".into(), 2)]);
        assert!(warnings[0].contains("from a git source"), "{warnings:?}");

        let uv = format!(
            r#"
version = 1
[[package]]
name = "app"
version = "0.1.0"
source = {{ editable = "." }}

[[package]]
name = "idna"
version = "3.7"
source = {{ registry = "http://127.0.0.1:1/simple" }}
sdist = {{ url = "http://127.0.0.1:1/idna-3.7.tar.gz", hash = "sha256:{h}", size = 1 }}
wheels = [{{ url = "http://127.0.0.1:1/idna-3.7-py3-none-any.whl", hash = "sha256:{h}", size = 1 }}]
"#
        );
        let (got, warnings) = pins(&uv, Format::UvLock);
        assert_eq!(got, [("idna".into(), "3.7".into(), 1)]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(parse("[[package]]\nname = ", Format::UvLock, &Limits::default()).is_err());
    }
}

/// PEP 751's `pylock.toml`: `[[packages]]` with `version`, and `sdist` /
/// `wheels` each carrying `hashes = {sha256 = …}`; `vcs`, `directory`
/// and `archive` packages are not registry releases.
pub(crate) fn pylock(text: &str, out: &mut Parsed) -> Result<(), String> {
    #[derive(Deserialize)]
    struct Pylock {
        #[serde(default)]
        packages: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        sdist: Option<File>,
        #[serde(default)]
        wheels: Vec<File>,
        #[serde(default)]
        vcs: Option<toml::Table>,
        #[serde(default)]
        directory: Option<toml::Table>,
        #[serde(default)]
        archive: Option<toml::Table>,
    }
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        hashes: toml::Table,
    }
    let lock: Pylock = toml::from_str(text).map_err(|e| e.to_string())?;
    for package in lock.packages {
        let elsewhere =
            package.vcs.is_some() || package.directory.is_some() || package.archive.is_some();
        let Some(version) = package.version.filter(|_| !elsewhere) else {
            out.warnings.push(format!(
                "{}: not a registry release (a vcs, directory or archive package, or no version): not checked",
                package.name
            ));
            continue;
        };
        let mut digests: Vec<Digest> = package
            .sdist
            .iter()
            .chain(&package.wheels)
            .flat_map(|f| f.hashes.iter())
            .filter_map(|(algorithm, hex)| Digest::new(algorithm, hex.as_str()?))
            .collect();
        digests.sort();
        digests.dedup();
        out.pin(
            Ecosystem::Pypi,
            &pypi_name(&package.name),
            &version,
            digests,
        );
    }
    out.check_flat();
    Ok(())
}

#[cfg(test)]
mod pylock_tests {
    use crate::{parse, Format, Limits};

    #[test]
    fn pylock_pins_registry_packages_with_every_file_hash() {
        let h = "f".repeat(64);
        let text = format!(
            r#"
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "Attrs"
version = "25.1.0"
sdist = {{ url = "http://127.0.0.1:1/attrs-25.1.0.tar.gz", hashes = {{ sha256 = "{h}" }} }}
wheels = [{{ url = "http://127.0.0.1:1/attrs-25.1.0-py3-none-any.whl", hashes = {{ sha256 = "{a}" }} }}]

[[packages]]
name = "mine"
directory = {{ path = "." }}
"#,
            a = "a".repeat(64)
        );
        let (pins, warnings) = parse(&text, Format::Pylock, &Limits::default()).unwrap();
        assert_eq!(pins.len(), 1);
        assert_eq!(
            (pins[0].name.as_str(), pins[0].version.as_str()),
            ("attrs", "25.1.0")
        );
        assert_eq!(pins[0].digests.len(), 2);
        assert!(
            warnings[0].starts_with("mine: not a registry release"),
            "{warnings:?}"
        );
    }
}
