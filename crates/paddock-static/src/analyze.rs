//! Analysing a whole extracted tree: every file's facts, parsing on all
//! cores within a per-file byte limit and a per-package time budget,
//! signals, metadata, then rules.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use paddock_proto::v1::{
    AnalysisStatus, EscapedString, FileFacts, FileSignals, FileStatus, HighEntropyString, Language,
    PackageRef, StaticResult, StaticStats, SuspiciousIdentifier, SuspiciousIdentifierRule,
};
use serde::{Deserialize, Serialize};

use crate::parse::{self, ParseLimits};
use crate::rules::{engine, RuleSet};
use crate::{facts, metadata, signals};

/// Limits of one package's analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticConfig {
    /// Files larger than this get basic facts only.
    pub max_parse_bytes: u64,
    /// Files read at all (type, hash, lines); larger ones are hashed from
    /// what was read and marked skipped.
    pub max_read_bytes: u64,
    /// Wall-clock budget for the whole package.
    #[serde(with = "humantime_serde")]
    pub package_budget: Duration,
    /// Budget of one file's parse.
    #[serde(with = "humantime_serde")]
    pub file_budget: Duration,
    /// Parsing threads; 0: every core.
    pub threads: usize,
    /// Bytes of files being read and analysed at once, over all threads.
    /// A syntax tree and its analysis take about 40 times the source's
    /// size, so this bounds a package's peak memory whatever the number
    /// of cores: with the default, about 0.7 GiB for the largest files.
    /// A file larger than this is analysed alone.
    pub max_bytes_in_flight: u64,
    /// Directories of the user's own rules, loaded beside the shipped set
    /// (`--rules DIR`; format in `rules/README.md`).
    pub rules: Vec<PathBuf>,
}

impl Default for StaticConfig {
    fn default() -> Self {
        Self {
            max_parse_bytes: 16 << 20,
            max_read_bytes: 256 << 20,
            package_budget: Duration::from_secs(120),
            file_budget: Duration::from_secs(10),
            threads: 0,
            max_bytes_in_flight: 16 << 20,
            rules: Vec::new(),
        }
    }
}

/// Analyses the tree at `root` as `package` with the shipped rules and
/// the configured rule directories. `gem_metadata` is a `.gem`'s
/// decompressed `metadata.gz`, when there is one. When the user's rules do
/// not load, the result says so (status `ERROR_OTHER`) and nothing is
/// analysed: a verdict without the rules asked for would mislead.
pub fn analyze_tree(
    root: &Path,
    package: PackageRef,
    gem_metadata: Option<&str>,
    config: &StaticConfig,
) -> StaticResult {
    match crate::rules::for_dirs(&config.rules) {
        Ok(rules) => analyze_tree_with(root, package, gem_metadata, config, &rules, None),
        Err(e) => StaticResult {
            package: Some(package),
            status: AnalysisStatus::ErrorOther as i32,
            status_detail: format!("the rules did not load: {e}"),
            ..Default::default()
        },
    }
}

/// Analyses the tree at `root` as `package` with `rules`; `registry`
/// holds what the registry says of the package, when it was asked.
pub fn analyze_tree_with(
    root: &Path,
    package: PackageRef,
    gem_metadata: Option<&str>,
    config: &StaticConfig,
    rules: &RuleSet,
    registry: Option<paddock_proto::v1::RegistryFacts>,
) -> StaticResult {
    let started = Instant::now();
    let deadline = started + config.package_budget;
    let mut paths = Vec::new();
    list_files(root, root, &mut paths);
    paths.sort();
    let rel: Vec<String> = paths.iter().map(|(r, _)| r.clone()).collect();

    let threads = if config.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        config.threads
    };
    let next = AtomicUsize::new(0);
    let in_flight = InFlight::new(config.max_bytes_in_flight);
    type Matches = Vec<(usize, Vec<paddock_proto::v1::Evidence>)>;
    type Scanned = (FileFacts, Matches, crate::flow::Summary);
    let results: Mutex<Vec<Option<Scanned>>> = Mutex::new(vec![None; paths.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(paths.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((rel, abs)) = paths.get(i) else {
                    break;
                };
                let size = std::fs::metadata(abs).map_or(0, |m| m.len());
                let taken = in_flight.take(size.min(config.max_read_bytes), deadline);
                let facts = file_facts(rel, abs, config, deadline, rules);
                drop(taken);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(facts);
            });
        }
    });
    let mut files = Vec::with_capacity(paths.len());
    let mut matches: Vec<Matches> = Vec::with_capacity(paths.len());
    let mut summaries = Vec::with_capacity(paths.len());
    for (f, m, s) in results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
    {
        files.push(f);
        matches.push(m);
        summaries.push(s);
    }
    cross_file_flows(
        &files,
        &paths,
        &summaries,
        &mut matches,
        config,
        deadline,
        rules,
    );

    let meta = metadata::read(root, &rel, gem_metadata);
    let install_files = metadata::install_time_files(root, &meta, &rel);
    let mut meta = meta;
    meta.bundled_binaries = files
        .iter()
        .filter(|f| is_binary_executable(&f.detected_type))
        .map(|f| f.path.clone())
        .collect();
    meta.registry = registry;
    let eco = package.ecosystem();
    let reach = engine::reachability(eco, &files, &meta, &install_files);
    let matches: Vec<(String, Matches)> = files
        .iter()
        .map(|f| f.path.clone())
        .zip(matches)
        .filter(|(_, m)| !m.is_empty())
        .collect();
    let name = if package.name.is_empty() {
        meta.declared_name.clone()
    } else {
        package.name.clone()
    };
    let version = if package.version.is_empty() {
        meta.declared_version.clone()
    } else {
        package.version.clone()
    };
    let findings = engine::findings(
        rules,
        eco,
        &name,
        &version,
        &meta,
        &matches,
        &reach,
        &install_files,
    );

    let parsed: Vec<&FileFacts> = files.iter().filter(|f| f.parse.is_some()).collect();
    let stats = StaticStats {
        files: files.len() as u64,
        bytes: files.iter().map(|f| f.size).sum(),
        parsed_files: parsed.len() as u64,
        parsed_bytes: parsed.iter().map(|f| f.size).sum(),
        skipped_files: files
            .iter()
            .filter(|f| {
                matches!(
                    FileStatus::try_from(f.status),
                    Ok(FileStatus::SkippedTooLarge | FileStatus::SkippedBudget)
                )
            })
            .count() as u64,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let over_budget = Instant::now() > deadline;
    StaticResult {
        package: Some(package),
        status: if over_budget {
            AnalysisStatus::ErrorTimeout
        } else {
            AnalysisStatus::Completed
        } as i32,
        status_detail: if over_budget {
            format!(
                "package budget of {:?} ran out; later files got basic facts only",
                config.package_budget
            )
        } else {
            String::new()
        },
        files,
        findings,
        metadata: Some(meta),
        stats: Some(stats),
        ..Default::default()
    }
}

fn is_binary_executable(detected: &str) -> bool {
    ["ELF", "PE32", "Mach-O", "WebAssembly"]
        .iter()
        .any(|k| detected.starts_with(k))
}

/// Regular files under `dir`, never following links.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            list_files(root, &path, out);
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}

/// Extensions of documentation and data files, which text rules skip:
/// prose about `/etc/passwd` is not code reading it.
const PROSE: &[&str] = &[
    "md", "markdown", "rst", "txt", "adoc", "html", "htm", "css", "scss", "less", "svg", "map",
    "json", "yaml", "yml", "toml", "lock", "xml", "csv", "tsv", "ini", "cfg", "license", "d.ts",
];

/// Manifests searched for hidden stages although they are data.
const MANIFESTS: &[&str] = &[
    "package.json",
    "composer.json",
    "pyproject.toml",
    "Cargo.toml",
    "setup.cfg",
];

fn is_prose(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or_default();
    PROSE.iter().any(|e| name.ends_with(&format!(".{e}")))
        || matches!(
            name,
            "license" | "readme" | "changelog" | "authors" | "notice" | "copying"
        )
}

/// Files larger than this (bundles) are not walked again for another
/// file's values: their own flows are followed within them.
const MAX_CROSS_FILE_BYTES: u64 = 128 << 10;

/// Cross-file calls followed at most, per package.
const MAX_CROSS_FILE_SCANS: usize = 16;

/// Values followed across the package's files, where it is cheap: a
/// file that imports another takes what that file's functions return
/// (`const found = collect()` with `collect` in `./profile`), and a call
/// that hands labelled values to another file's function follows them
/// into it (`upload(found)`). Each step re-walks one file's tree with the
/// labels the other gives it; new matches are recorded on the calling
/// file, with the sink's file and line in the evidence.
#[allow(clippy::too_many_arguments)]
fn cross_file_flows(
    files: &[FileFacts],
    paths: &[(String, PathBuf)],
    summaries: &[crate::flow::Summary],
    matches: &mut [Vec<(usize, Vec<paddock_proto::v1::Evidence>)>],
    config: &StaticConfig,
    deadline: Instant,
    rules: &RuleSet,
) {
    use std::collections::{HashMap, HashSet};
    let names: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let index: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_str(), i))
        .collect();
    let imported = |i: usize| -> Vec<usize> {
        let Some(p) = &files[i].parse else {
            return Vec::new();
        };
        let mut out: Vec<usize> = p
            .imports
            .iter()
            .flat_map(|m| engine::resolve(&files[i].path, &m.module, &names))
            .filter_map(|path| index.get(path.as_str()).copied())
            .filter(|j| *j != i)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    // What is worth following across files: what stealers collect in one
    // module and send from another. Decoded data and response bodies are
    // followed within files.
    let flow = rules.flow();
    let carried_across: crate::flow::Labels = [
        "credential-path",
        "browser-profile",
        "wallet",
        "messenger-store",
        "host-identity",
        "clipboard",
    ]
    .iter()
    .filter_map(|c| flow.index(c))
    .fold((1 << flow.env_secret) | (1 << flow.env_dump), |a, i| {
        a | (1 << i)
    });
    let mut scans = 0usize;
    // A file walked again for several callers is read and parsed once.
    let mut parsed: HashMap<usize, (Vec<u8>, tree_sitter::Tree)> = HashMap::new();
    let mut rescan = |j: usize, seeds: &crate::flow::Seeds| -> Option<engine::FileScan> {
        if scans >= MAX_CROSS_FILE_SCANS
            || Instant::now() >= deadline
            || files[j].size > MAX_CROSS_FILE_BYTES
        {
            return None;
        }
        scans += 1;
        let lang = files[j].language();
        let file_deadline = (Instant::now() + config.file_budget).min(deadline);
        let (bytes, tree) = match parsed.entry(j) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let (_, abs) = paths.iter().find(|(r, _)| *r == files[j].path)?;
                let (bytes, _) = read_bounded(abs, config.max_parse_bytes).ok()?;
                let tree = parse::parse_tree(lang, &files[j].path, &bytes, file_deadline)?;
                e.insert((bytes, tree))
            }
        };
        Some(engine::rescan_flow(
            rules,
            lang,
            tree,
            bytes,
            file_deadline,
            seeds,
        ))
    };
    for i in 0..files.len() {
        if summaries[i].called.is_empty() {
            continue;
        }
        let deps = imported(i);
        // Only sinks make a flow: in this file, or in a file it calls.
        let deps_sink = deps.iter().any(|j| summaries[*j].has_sinks);
        if deps.is_empty() || !(summaries[i].has_sinks || deps_sink) {
            continue;
        }
        // What the imported functions this file calls return.
        let mut returns = HashMap::new();
        for j in &deps {
            for (name, labels) in &summaries[*j].functions {
                if *labels & carried_across != 0 && summaries[i].called.contains(name) {
                    *returns.entry(name.clone()).or_insert(0) |= *labels;
                }
            }
        }
        let calls = if returns.is_empty() {
            summaries[i].calls.clone()
        } else {
            let seeds = crate::flow::Seeds {
                returns,
                ..Default::default()
            };
            let Some(scan) = rescan(i, &seeds) else {
                continue;
            };
            add_new_matches(rules, &files[i].path, &scan, &mut matches[i], None);
            scan.flow.summary.calls
        };
        // Labelled values handed to another file's functions.
        let mut followed = HashSet::new();
        let into_deps = calls
            .iter()
            .filter(|c| c.1 & carried_across != 0)
            .filter_map(|(name, labels, site, args)| {
                let j = deps.iter().copied().find(|j| {
                    summaries[*j].has_sinks && summaries[*j].functions.contains_key(name)
                })?;
                Some((j, name, labels, site, args))
            });
        for (j, name, labels, site, args) in into_deps {
            if !followed.insert((j, name.clone())) || followed.len() > 16 {
                continue;
            }
            let seeds = crate::flow::Seeds {
                params: HashMap::from([(name.clone(), (*labels, args.clone()))]),
                ..Default::default()
            };
            let Some(scan) = rescan(j, &seeds) else {
                continue;
            };
            let via = format!(
                "through {}() in {}, called at {}:{}",
                name, files[j].path, files[i].path, site.line
            );
            let known: Vec<usize> = matches[j].iter().map(|(r, _)| *r).collect();
            let mut found = Vec::new();
            add_new_matches(rules, &files[j].path, &scan, &mut found, Some(&via));
            found.retain(|(r, _)| !known.contains(r));
            for (rule, ev) in found {
                if !matches[i].iter().any(|(r, _)| *r == rule) {
                    matches[i].push((rule, ev));
                }
            }
        }
    }
}

/// The rules a re-walk matches that `existing` does not have yet.
fn add_new_matches(
    rules: &RuleSet,
    path: &str,
    scan: &engine::FileScan,
    existing: &mut Vec<(usize, Vec<paddock_proto::v1::Evidence>)>,
    via: Option<&str>,
) {
    for (rule, mut ev) in engine::file_matches(rules, path, scan) {
        if existing.iter().any(|(r, _)| *r == rule) {
            continue;
        }
        if let Some(via) = via {
            for e in &mut ev {
                e.detail = format!("{} ({via})", e.detail);
            }
        }
        existing.push((rule, ev));
    }
}

fn file_facts(
    rel: &str,
    abs: &Path,
    config: &StaticConfig,
    deadline: Instant,
    rules: &RuleSet,
) -> (
    FileFacts,
    Vec<(usize, Vec<paddock_proto::v1::Evidence>)>,
    crate::flow::Summary,
) {
    let (facts, bytes, tree) = file_facts_and_tree(rel, abs, config, deadline);
    let Some(bytes) = bytes else {
        return (facts, Vec::new(), Default::default());
    };
    if Instant::now() >= deadline {
        return (facts, Vec::new(), Default::default());
    }
    if is_prose(rel) {
        // Manifests are read for their facts, not judged as text; but an
        // encoded command hidden in one is a stage like any other.
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if MANIFESTS.contains(&name) {
            let file_deadline = (Instant::now() + config.file_budget).min(deadline);
            let scan = engine::scan_hidden_stages(rules, &bytes, file_deadline);
            let matches = engine::file_matches(rules, rel, &scan);
            return (facts, matches, Default::default());
        }
        return (facts, Vec::new(), Default::default());
    }
    let lang = if tree.is_some() {
        facts.language()
    } else {
        Language::Unspecified
    };
    let file_deadline = (Instant::now() + config.file_budget).min(deadline);
    let mut scan = engine::scan_file(rules, lang, tree.as_ref(), &bytes, file_deadline, 0);
    if let Some(s) = &facts.signals {
        scan.obfuscated |= s.obfuscated;
        scan.minified = s.minified;
    }
    scan.binary = is_binary_executable(&facts.detected_type);
    scan.text = !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok();
    let matches = engine::file_matches(rules, rel, &scan);
    let summary = std::mem::take(&mut scan.flow.summary);
    (facts, matches, summary)
}

fn file_facts_and_tree(
    rel: &str,
    abs: &Path,
    config: &StaticConfig,
    deadline: Instant,
) -> (FileFacts, Option<Vec<u8>>, Option<tree_sitter::Tree>) {
    let mut out = FileFacts {
        path: rel.to_owned(),
        ..Default::default()
    };
    let bytes = match read_bounded(abs, config.max_read_bytes) {
        Ok((bytes, size)) => {
            out.size = size;
            bytes
        }
        Err(e) => {
            out.status = FileStatus::ParseFailed as i32;
            out.status_detail = format!("unreadable: {e}");
            return (out, None, None);
        }
    };
    out.detected_type = facts::detect_type(&bytes[..bytes.len().min(4096)], rel);
    out.sha256 = facts::sha256_hex(&bytes);
    let (lengths, lines) = facts::line_lengths(&bytes);
    out.line_lengths = lengths;
    let lang = facts::language_of(rel);
    out.language = lang as i32;
    let is_text =
        !out.detected_type.starts_with("data") && !is_binary_executable(&out.detected_type);

    if lang == Language::Unspecified || !parse::supported(lang) || !is_text {
        out.status = FileStatus::NotSource as i32;
        out.signals = Some(text_signals(&bytes, lines));
        return (out, Some(bytes), None);
    }
    if out.size > config.max_parse_bytes {
        out.status = FileStatus::SkippedTooLarge as i32;
        out.status_detail = format!(
            "{} bytes is over the parse limit of {}",
            out.size, config.max_parse_bytes
        );
        out.signals = Some(text_signals(&bytes, lines));
        return (out, Some(bytes), None);
    }
    let now = Instant::now();
    if now >= deadline {
        out.status = FileStatus::SkippedBudget as i32;
        out.status_detail = "the package's time budget ran out".into();
        return (out, None, None);
    }
    let limits = ParseLimits {
        deadline: config.file_budget.min(deadline - now),
        ..Default::default()
    };
    let mut tree = None;
    match parse::parse_with_tree(lang, rel, &bytes, &limits) {
        Some((parsed, t)) => {
            out.status = FileStatus::Analysed as i32;
            if parsed.truncated {
                out.status_detail = "parse stopped at its time limit".into();
            }
            out.signals = Some(parsed_signals(&parsed, &bytes, lines));
            out.parse = Some(parsed);
            tree = t;
        }
        None => out.status = FileStatus::NotSource as i32,
    }
    (out, Some(bytes), tree)
}

/// A budget of bytes being analysed at once ([`StaticConfig::max_bytes_in_flight`]).
struct InFlight {
    limit: u64,
    used: Mutex<u64>,
    freed: std::sync::Condvar,
}

/// Bytes taken from an [`InFlight`] budget, given back on drop.
struct Taken<'a>(&'a InFlight, u64);

impl InFlight {
    fn new(limit: u64) -> Self {
        Self {
            limit: limit.max(1),
            used: Mutex::new(0),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits until `bytes` fit beside what is in flight (a file larger
    /// than the whole budget waits until nothing else is), or until
    /// `deadline`, after which the package's analysis is ending anyway.
    fn take(&self, bytes: u64, deadline: Instant) -> Taken<'_> {
        let bytes = bytes.min(self.limit);
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + bytes > self.limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            used = self
                .freed
                .wait_timeout(used, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *used += bytes;
        Taken(self, bytes)
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        let mut used = self.0.used.lock().unwrap_or_else(|e| e.into_inner());
        *used -= self.1;
        self.0.freed.notify_all();
    }
}

fn read_bounded(path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, u64)> {
    use std::io::Read;
    let size = std::fs::metadata(path)?.len();
    let mut bytes = Vec::with_capacity(size.min(limit) as usize);
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok((bytes, size))
}

/// Signals of a file that was not parsed: URLs and IPs in its text.
fn text_signals(bytes: &[u8], lines: usize) -> FileSignals {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]);
    let mut s = FileSignals {
        urls: signals::urls(&text),
        ip_addresses: signals::ip_addresses(&text),
        ..Default::default()
    };
    s.urls.truncate(1000);
    s.ip_addresses.truncate(1000);
    s.minified = signals::is_minified(bytes, lines);
    s
}

fn parsed_signals(
    parsed: &paddock_proto::v1::ParseFacts,
    bytes: &[u8],
    lines: usize,
) -> FileSignals {
    let mut s = FileSignals::default();
    let mut escaped = 0;
    for lit in &parsed.string_literals {
        s.base64_strings.extend(signals::base64_strings(&lit.value));
        s.hex_strings.extend(signals::hex_strings(&lit.value));
        s.urls.extend(signals::urls(&lit.value));
        s.ip_addresses.extend(signals::ip_addresses(&lit.value));
        if signals::is_highly_escaped(&lit.raw, &lit.value) {
            escaped += 1;
            s.escaped_strings.push(EscapedString {
                value: lit.value.clone(),
                raw: lit.raw.clone(),
                levenshtein_dist: signals::levenshtein(&lit.raw, &lit.value),
            });
        }
        if signals::is_high_entropy(&lit.value) {
            s.high_entropy_strings.push(HighEntropyString {
                value: lit.value.clone(),
                entropy: signals::entropy(&lit.value),
                line: lit.line,
            });
        }
    }
    let mut mangled = 0;
    for id in &parsed.identifiers {
        if let Some(rule) = signals::suspicious_identifier(&id.name) {
            if rule == SuspiciousIdentifierRule::Hex {
                mangled += 1;
            }
            s.suspicious_identifiers.push(SuspiciousIdentifier {
                name: id.name.clone(),
                rule: rule as i32,
            });
        }
    }
    for list in [
        &mut s.base64_strings,
        &mut s.hex_strings,
        &mut s.urls,
        &mut s.ip_addresses,
    ] {
        list.truncate(1000);
    }
    s.suspicious_identifiers.truncate(1000);
    s.escaped_strings.truncate(1000);
    s.high_entropy_strings.truncate(1000);
    s.minified = signals::is_minified(bytes, lines);
    s.obfuscated = signals::is_obfuscated(
        parsed.identifiers.len(),
        mangled,
        parsed.string_literals.len(),
        escaped,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn files_in_flight_stay_within_the_byte_budget_and_a_larger_one_runs_alone() {
        let budget = InFlight::new(10);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (now, peak, alone_broken) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        std::thread::scope(|scope| {
            for i in 0..8u64 {
                let (budget, now, peak, alone_broken) = (&budget, &now, &peak, &alone_broken);
                scope.spawn(move || {
                    // Every fourth file is larger than the whole budget.
                    let size = if i % 4 == 0 { 25 } else { 4 };
                    let _taken = budget.take(size, deadline);
                    let n = now.fetch_add(size.min(10), Ordering::SeqCst) + size.min(10);
                    peak.fetch_max(n, Ordering::SeqCst);
                    if size > 10 && n != 10 {
                        alone_broken.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_millis(30));
                    now.fetch_sub(size.min(10), Ordering::SeqCst);
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 10, "{peak:?}");
        assert_eq!(alone_broken.load(Ordering::SeqCst), 0);
        assert_eq!(*budget.used.lock().unwrap(), 0);
    }

    #[test]
    fn a_wait_for_the_budget_ends_at_the_deadline() {
        let budget = InFlight::new(10);
        let _held = budget.take(10, Instant::now() + Duration::from_secs(5));
        let started = Instant::now();
        let _late = budget.take(5, Instant::now() + Duration::from_millis(100));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
