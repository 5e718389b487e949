//! Package metadata from the manifests in the tree: install hooks,
//! dependencies that point at URLs, git or paths, and declared identity.

use std::collections::HashSet;
use std::path::Path;

use paddock_proto::v1::{Dependency, InstallHook, InstallHookKind, PackageMetadata};

/// npm lifecycle scripts that run when a package is installed.
pub const NPM_INSTALL_SCRIPTS: [&str; 4] = ["preinstall", "install", "postinstall", "prepare"];

/// Composer scripts that run on install or update of the root package.
const COMPOSER_SCRIPTS: [&str; 7] = [
    "pre-install-cmd",
    "post-install-cmd",
    "pre-update-cmd",
    "post-update-cmd",
    "post-autoload-dump",
    "post-root-package-install",
    "post-create-project-cmd",
];

/// Reads the manifests among `files` (paths relative to `root`).
pub fn read(root: &Path, files: &[String], gem_metadata: Option<&str>) -> PackageMetadata {
    let mut meta = PackageMetadata::default();
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).ok();
    // The shallowest manifest is the package's own; vendored copies deeper
    // down are not.
    let shallowest = |name: &str| {
        files
            .iter()
            .filter(|f| f.rsplit('/').next() == Some(name))
            .min_by_key(|f| f.matches('/').count())
    };

    if let Some(path) = shallowest("package.json") {
        if let Some(doc) =
            read(path).and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            meta.declared_name = str_of(&doc, "name");
            meta.declared_version = str_of(&doc, "version");
            meta.license = str_of(&doc, "license");
            meta.repository = match doc.get("repository") {
                Some(serde_json::Value::String(u)) => u.clone(),
                Some(r) => str_of(r, "url"),
                None => String::new(),
            };
            let base = path
                .rsplit_once('/')
                .map_or(String::new(), |(d, _)| format!("{d}/"));
            let rel = |p: &str| format!("{base}{}", p.trim_start_matches("./"));
            match doc.get("bin") {
                Some(serde_json::Value::String(file)) => {
                    meta.commands.push(
                        meta.declared_name
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                    meta.command_files.push(rel(file));
                }
                Some(serde_json::Value::Object(bins)) => {
                    for (name, file) in bins {
                        meta.commands.push(name.clone());
                        if let Some(f) = file.as_str() {
                            meta.command_files.push(rel(f));
                        }
                    }
                }
                _ => {}
            }
            let main = doc
                .get("main")
                .and_then(|m| m.as_str())
                .unwrap_or("index.js");
            let main = rel(main);
            for candidate in [
                main.clone(),
                format!("{main}.js"),
                format!("{}/index.js", main.trim_end_matches('/')),
            ] {
                if files.contains(&candidate) {
                    meta.entry_files.push(candidate);
                    break;
                }
            }
            let mut exports = Vec::new();
            if let Some(e) = doc.get("exports") {
                json_strings(e, &mut exports, 0);
            }
            if let Some(m) = doc.get("module").and_then(|m| m.as_str()) {
                exports.push(m.to_owned());
            }
            for e in exports {
                let f = rel(&e);
                if files.contains(&f) && !meta.entry_files.contains(&f) {
                    meta.entry_files.push(f);
                }
            }
            if let Some(scripts) = doc.get("scripts").and_then(|s| s.as_object()) {
                for name in NPM_INSTALL_SCRIPTS {
                    if let Some(cmd) = scripts.get(name).and_then(|c| c.as_str()) {
                        meta.install_hooks.push(hook(
                            InstallHookKind::NpmLifecycle,
                            name,
                            cmd,
                            path,
                        ));
                    }
                }
            }
            for (scope, key) in [
                ("runtime", "dependencies"),
                ("optional", "optionalDependencies"),
                ("dev", "devDependencies"),
            ] {
                for (name, req) in doc
                    .get(key)
                    .and_then(|d| d.as_object())
                    .into_iter()
                    .flatten()
                {
                    let req = req.as_str().unwrap_or_default();
                    let url = [
                        "http:",
                        "https:",
                        "git:",
                        "git+",
                        "github:",
                        "file:",
                        "gitlab:",
                        "bitbucket:",
                    ]
                    .iter()
                    .any(|p| req.starts_with(p))
                        || (req.contains('/') && !req.starts_with('@') && !req.starts_with("npm:"));
                    meta.dependencies.push(Dependency {
                        name: name.clone(),
                        requirement: req.to_owned(),
                        scope: scope.into(),
                        source_url: if url { req.to_owned() } else { String::new() },
                    });
                }
            }
        }
    }

    // A Python distribution's own metadata: its name and version (sdists
    // carry PKG-INFO, wheels *.dist-info/METADATA).
    if meta.declared_name.is_empty() {
        if let Some(path) = shallowest("PKG-INFO").or_else(|| shallowest("METADATA")) {
            let text = read(path).unwrap_or_default();
            for line in text.lines().take(200) {
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Name:") {
                    meta.declared_name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("Version:") {
                    meta.declared_version = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("Project-URL:") {
                    let url = v.rsplit(',').next().unwrap_or_default().trim();
                    let key = v.split(',').next().unwrap_or_default().to_ascii_lowercase();
                    if meta.repository.is_empty()
                        && (key.contains("source")
                            || key.contains("repository")
                            || key.contains("code"))
                    {
                        meta.repository = url.to_owned();
                    }
                } else if let Some(v) = line.strip_prefix("Home-page:") {
                    if meta.repository.is_empty() {
                        meta.repository = v.trim().to_owned();
                    }
                }
            }
        }
    }
    if let Some(path) = shallowest("setup.py") {
        let text = read(path).unwrap_or_default();
        if let Some(url) = text.lines().find_map(|l| {
            let l = l.trim();
            l.strip_prefix("url")
                .or_else(|| l.strip_prefix("project_urls"))
                .and_then(|r| r.trim_start().strip_prefix('='))
                .map(|v| {
                    v.trim()
                        .trim_end_matches(',')
                        .trim_matches(['"', '\'', '{'])
                        .to_owned()
                })
        }) {
            meta.repository = url;
        }
        meta.install_hooks.push(hook(
            InstallHookKind::SetupPy,
            "setup.py",
            "python setup.py install",
            path,
        ));
        if text.contains("cmdclass") {
            meta.install_hooks.push(hook(
                InstallHookKind::SetupCmdclass,
                "cmdclass",
                "overridden setuptools commands",
                path,
            ));
        }
    }
    if let Some(path) = shallowest("pyproject.toml") {
        let text = read(path).unwrap_or_default();
        if let Ok(doc) = text.parse::<toml::Table>() {
            let project = doc.get("project");
            if meta.repository.is_empty() {
                if let Some(urls) = project
                    .and_then(|p| p.get("urls"))
                    .and_then(|u| u.as_table())
                {
                    if let Some(u) = [
                        "Repository",
                        "repository",
                        "Source",
                        "source",
                        "Homepage",
                        "homepage",
                    ]
                    .iter()
                    .find_map(|k| urls.get(*k).and_then(|v| v.as_str()))
                    {
                        meta.repository = u.to_owned();
                    }
                }
            }
            if let Some(scripts) = project
                .and_then(|p| p.get("scripts"))
                .and_then(|s| s.as_table())
            {
                meta.commands.extend(scripts.keys().cloned());
            }
        }
        if let Some(backend) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("build-backend"))
            .map(|v| {
                v.trim_start_matches([' ', '='])
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
        {
            let standard = [
                "setuptools.build_meta",
                "flit_core.buildapi",
                "poetry.core.masonry.api",
                "hatchling.build",
                "pdm.backend",
                "maturin",
                "scikit_build_core.build",
                "mesonpy",
            ];
            if !standard.contains(&backend.as_str()) {
                meta.install_hooks.push(hook(
                    InstallHookKind::PyprojectBuild,
                    "build-backend",
                    &backend,
                    path,
                ));
            }
        }
    }

    // RubyGems: native extensions from the gemspec, else extconf files.
    let extensions: Vec<String> = gem_metadata
        .map(|m| {
            m.lines()
                .skip_while(|l| !l.starts_with("extensions:"))
                .skip(1)
                .take_while(|l| l.starts_with("- "))
                .map(|l| l[2..].trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    if let Some(m) = gem_metadata {
        for key in ["source_code_uri: ", "homepage: "] {
            if meta.repository.is_empty() {
                if let Some(v) = m.lines().find_map(|l| l.trim().strip_prefix(key)) {
                    meta.repository = v.trim().trim_matches(['"', '\'']).to_owned();
                }
            }
        }
        meta.commands.extend(
            m.lines()
                .skip_while(|l| !l.starts_with("executables:"))
                .skip(1)
                .take_while(|l| l.starts_with("- "))
                .map(|l| l[2..].trim().to_owned()),
        );
    }
    for ext in &extensions {
        meta.install_hooks
            .push(hook(InstallHookKind::GemExtension, "extension", ext, ext));
    }
    if extensions.is_empty() {
        for f in files.iter().filter(|f| {
            f.starts_with("ext/") && (f.ends_with("extconf.rb") || f.ends_with("mkrf_conf.rb"))
        }) {
            meta.install_hooks
                .push(hook(InstallHookKind::GemExtension, "extension", f, f));
        }
    }

    if let Some(path) = shallowest("composer.json") {
        if let Some(doc) =
            read(path).and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            meta.declared_name = str_of(&doc, "name");
            meta.declared_version = str_of(&doc, "version");
            let base = path
                .rsplit_once('/')
                .map_or(String::new(), |(d, _)| format!("{d}/"));
            if let Some(src) = doc
                .get("support")
                .map(|s| str_of(s, "source"))
                .filter(|s| !s.is_empty())
            {
                meta.repository = src;
            }
            for f in doc
                .get("autoload")
                .and_then(|a| a.get("files"))
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
            {
                meta.entry_files
                    .push(format!("{base}{}", f.trim_start_matches("./")));
            }
            for b in doc
                .get("bin")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
                .filter_map(|b| b.as_str())
            {
                meta.commands
                    .push(b.rsplit('/').next().unwrap_or(b).to_owned());
                meta.command_files
                    .push(format!("{base}{}", b.trim_start_matches("./")));
            }
            meta.license = match doc.get("license") {
                Some(serde_json::Value::Array(l)) => l
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" OR "),
                Some(v) => v.as_str().unwrap_or_default().to_owned(),
                None => String::new(),
            };
            // A Composer plugin's class runs inside Composer as soon as
            // the package is installed: an install hook like any script.
            if doc.get("type").and_then(|t| t.as_str()) == Some("composer-plugin") {
                meta.install_hooks.push(hook(
                    InstallHookKind::ComposerScript,
                    "composer-plugin",
                    &plugin_classes(&doc).join(" "),
                    path,
                ));
            }
            if let Some(scripts) = doc.get("scripts").and_then(|s| s.as_object()) {
                for name in COMPOSER_SCRIPTS {
                    match scripts.get(name) {
                        Some(serde_json::Value::String(cmd)) => meta.install_hooks.push(hook(
                            InstallHookKind::ComposerScript,
                            name,
                            cmd,
                            path,
                        )),
                        Some(serde_json::Value::Array(cmds)) => {
                            for cmd in cmds.iter().filter_map(|c| c.as_str()) {
                                meta.install_hooks.push(hook(
                                    InstallHookKind::ComposerScript,
                                    name,
                                    cmd,
                                    path,
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    if let Some(path) = shallowest("Cargo.toml") {
        let text = read(path).unwrap_or_default();
        if let Ok(doc) = text.parse::<toml::Table>() {
            if let Some(pkg) = doc.get("package").and_then(|p| p.as_table()) {
                meta.declared_name = pkg
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
                meta.declared_version = pkg
                    .get("version")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
                meta.repository = pkg
                    .get("repository")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
            }
        }
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let build_rs = if dir.is_empty() {
            "build.rs".to_owned()
        } else {
            format!("{dir}/build.rs")
        };
        let declared = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("build"))
            .and_then(|v| v.trim_start().strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_owned());
        match declared.as_deref() {
            Some("false") => {}
            Some(file) if file != "true" => {
                let script = if dir.is_empty() {
                    file.to_owned()
                } else {
                    format!("{dir}/{file}")
                };
                meta.install_hooks
                    .push(hook(InstallHookKind::BuildRs, "build", file, &script))
            }
            _ if files.contains(&build_rs) => meta.install_hooks.push(hook(
                InstallHookKind::BuildRs,
                "build.rs",
                &build_rs,
                &build_rs,
            )),
            _ => {}
        }
        for line in text
            .lines()
            .filter(|l| l.contains("git =") || l.contains("git=") || l.contains("path ="))
        {
            let name = line
                .split(['=', ' '])
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            meta.dependencies.push(Dependency {
                name,
                requirement: line.trim().to_owned(),
                scope: "runtime".into(),
                source_url: line.trim().to_owned(),
            });
        }
    }
    meta
}

/// Every string in a JSON value (`exports` maps), bounded.
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
    if depth > 6 || out.len() > 64 {
        return;
    }
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Object(m) => m.values().for_each(|v| json_strings(v, out, depth + 1)),
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_strings(v, out, depth + 1)),
        _ => {}
    }
}

fn hook(kind: InstallHookKind, name: &str, command: &str, file: &str) -> InstallHook {
    InstallHook {
        kind: kind as i32,
        name: name.to_owned(),
        command: command.to_owned(),
        file: file.to_owned(),
    }
}

fn str_of(doc: &serde_json::Value, key: &str) -> String {
    doc.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Files an install hook runs: the hook files themselves; the scripts npm
/// and Composer commands name (`node install.js`) and the classes of
/// Composer callbacks (`Vendor\Hooks::run`); and a Composer plugin's
/// classes (`extra.class`), which Composer loads and activates as soon as
/// the plugin is installed, with the `autoload.files` it loads for them.
/// Classes are found through the manifest's `autoload`, read again from
/// `root`.
pub fn install_time_files(root: &Path, meta: &PackageMetadata, files: &[String]) -> Vec<String> {
    let set: HashSet<&str> = files.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut composer: Option<(String, Option<serde_json::Value>)> = None;
    for h in &meta.install_hooks {
        let kind = InstallHookKind::try_from(h.kind).unwrap_or(InstallHookKind::Unspecified);
        match kind {
            InstallHookKind::NpmLifecycle | InstallHookKind::ComposerScript => {
                let base = h
                    .file
                    .rsplit_once('/')
                    .map_or(String::new(), |(d, _)| format!("{d}/"));
                let mut classes = Vec::new();
                for word in h
                    .command
                    .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                {
                    let candidate = format!("{base}{}", word.trim_start_matches("./"));
                    if files.contains(&candidate) {
                        out.push(candidate);
                    } else if let Some((class, _)) = word.split_once("::") {
                        classes.push(class.to_owned());
                    }
                }
                if kind != InstallHookKind::ComposerScript {
                    continue;
                }
                // Every Composer hook comes from the one composer.json.
                if composer.as_ref().is_none_or(|(f, _)| *f != h.file) {
                    let doc = std::fs::read_to_string(root.join(&h.file))
                        .ok()
                        .and_then(|t| serde_json::from_str(&t).ok());
                    composer = Some((h.file.clone(), doc));
                }
                let Some((_, Some(doc))) = &composer else {
                    continue;
                };
                if h.name == "composer-plugin" {
                    classes.extend(plugin_classes(doc));
                    out.extend(autoload_files(doc, &base, &set));
                }
                for class in classes.iter().take(MAX_AUTOLOAD_ENTRIES) {
                    out.extend(composer_class_files(doc, &base, class, &set));
                }
            }
            InstallHookKind::SetupPy
            | InstallHookKind::SetupCmdclass
            | InstallHookKind::BuildRs => out.push(h.file.clone()),
            InstallHookKind::GemExtension if files.contains(&h.command) => {
                out.push(h.command.clone())
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Entries of a manifest's `autoload` maps, and classes of a plugin, read
/// at most: a hostile manifest does not make the package's file list be
/// scanned without end.
const MAX_AUTOLOAD_ENTRIES: usize = 64;

/// A Composer plugin's classes: `extra.class`, a string or a list.
fn plugin_classes(doc: &serde_json::Value) -> Vec<String> {
    match doc.get("extra").and_then(|e| e.get("class")) {
        Some(serde_json::Value::String(c)) => vec![c.clone()],
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str())
            .take(MAX_AUTOLOAD_ENTRIES)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The package's `autoload.files` among `files`.
fn autoload_files(doc: &serde_json::Value, base: &str, files: &HashSet<&str>) -> Vec<String> {
    doc.get("autoload")
        .and_then(|a| a.get("files"))
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str())
        .map(|f| join_path(base, f))
        .filter(|f| files.contains(f.as_str()))
        .collect()
}

/// The files among `files` that may define `class`, the way Composer's
/// class loader finds it from the manifest's `autoload`: PSR-4 (the prefix
/// taken off, the rest a path under the prefix's directories), PSR-0 (the
/// whole name a path, underscores of the class name too), and `classmap`
/// (a listed file, or a file under a listed directory, named after the
/// class).
fn composer_class_files(
    doc: &serde_json::Value,
    base: &str,
    class: &str,
    files: &HashSet<&str>,
) -> Vec<String> {
    let class = class.trim().trim_start_matches('\\');
    if class.is_empty() || class.len() > 512 {
        return Vec::new();
    }
    let Some(autoload) = doc.get("autoload") else {
        return Vec::new();
    };
    // A prefix maps to one directory or a list of them.
    let dirs = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(d) => vec![d.clone()],
            serde_json::Value::Array(list) => list
                .iter()
                .filter_map(|d| d.as_str())
                .take(MAX_AUTOLOAD_ENTRIES)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    let (namespace, short) = class.rsplit_once('\\').unwrap_or(("", class));
    let mut candidates = Vec::new();
    for (prefix, to) in autoload
        .get("psr-4")
        .and_then(|m| m.as_object())
        .into_iter()
        .flatten()
        .take(MAX_AUTOLOAD_ENTRIES)
    {
        if let Some(rest) = class.strip_prefix(prefix.trim_start_matches('\\')) {
            for dir in dirs(to) {
                let rel = format!("{}/{}.php", dir, rest.replace('\\', "/"));
                candidates.push(join_path(base, &rel));
            }
        }
    }
    for (prefix, to) in autoload
        .get("psr-0")
        .and_then(|m| m.as_object())
        .into_iter()
        .flatten()
        .take(MAX_AUTOLOAD_ENTRIES)
    {
        if class.starts_with(prefix.trim_start_matches('\\')) {
            let path = if namespace.is_empty() {
                short.replace('_', "/")
            } else {
                format!(
                    "{}/{}",
                    namespace.replace('\\', "/"),
                    short.replace('_', "/")
                )
            };
            for dir in dirs(to) {
                candidates.push(join_path(base, &format!("{dir}/{path}.php")));
            }
        }
    }
    let named = format!("{short}.php");
    let entries: Vec<String> = autoload
        .get("classmap")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str())
        .take(MAX_AUTOLOAD_ENTRIES)
        .map(|e| join_path(base, e))
        .collect();
    if !entries.is_empty() {
        for f in files
            .iter()
            .filter(|f| f.rsplit('/').next() == Some(&named))
        {
            let listed = entries.iter().any(|e| {
                e.is_empty()
                    || *f == e
                    || f.strip_prefix(e.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            });
            if listed {
                candidates.push((*f).to_owned());
            }
        }
    }
    let mut out: Vec<String> = candidates
        .into_iter()
        .filter(|c| files.contains(c.as_str()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `rel` under the directory `base` (empty or ending in `/`), with `.`
/// and empty segments dropped and `..` taken back.
fn join_path(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in base.split('/').chain(rel.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_classes_resolve_through_psr4_psr0_and_classmap() {
        let doc = serde_json::json!({"autoload": {
            "psr-4": {"Acme\\Build\\": ["src/", "lib"], "": "fallback/"},
            "psr-0": {"Old_": "legacy/"},
            "classmap": ["maps/", "single/Hook.php"]
        }});
        let tree: HashSet<&str> = HashSet::from([
            "pkg/src/Plugin.php",
            "pkg/lib/Sub/Installer.php",
            "pkg/fallback/Other/Thing.php",
            "pkg/legacy/Old/Hook/Runner.php",
            "pkg/maps/deep/Mapped.php",
            "pkg/single/Hook.php",
            "pkg/src/Unrelated.php",
        ]);
        let find = |class: &str| composer_class_files(&doc, "pkg/", class, &tree);
        assert_eq!(find("Acme\\Build\\Plugin"), ["pkg/src/Plugin.php"]);
        assert_eq!(
            find("\\Acme\\Build\\Sub\\Installer"),
            ["pkg/lib/Sub/Installer.php"]
        );
        assert_eq!(find("Other\\Thing"), ["pkg/fallback/Other/Thing.php"]);
        assert_eq!(find("Old_Hook_Runner"), ["pkg/legacy/Old/Hook/Runner.php"]);
        assert_eq!(find("Any\\Mapped"), ["pkg/maps/deep/Mapped.php"]);
        assert_eq!(find("Hook"), ["pkg/single/Hook.php"]);
        assert!(find("Acme\\Build\\Missing").is_empty());
    }
}
