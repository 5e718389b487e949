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
use crate::{facts, metadata, rules, signals};

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
}

impl Default for StaticConfig {
    fn default() -> Self {
        Self {
            max_parse_bytes: 16 << 20,
            max_read_bytes: 256 << 20,
            package_budget: Duration::from_secs(120),
            file_budget: Duration::from_secs(10),
            threads: 0,
        }
    }
}

/// Analyses the tree at `root` as `package`. `gem_metadata` is a `.gem`'s
/// decompressed `metadata.gz`, when there is one.
pub fn analyze_tree(
    root: &Path,
    package: PackageRef,
    gem_metadata: Option<&str>,
    config: &StaticConfig,
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
    let results: Mutex<Vec<Option<FileFacts>>> = Mutex::new(vec![None; paths.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(paths.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((rel, abs)) = paths.get(i) else {
                    break;
                };
                let facts = file_facts(rel, abs, config, deadline);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(facts);
            });
        }
    });
    let files: Vec<FileFacts> = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();

    let meta = metadata::read(root, &rel, gem_metadata);
    let install_files = metadata::install_time_files(&meta, &rel);
    let mut meta = meta;
    meta.bundled_binaries = files
        .iter()
        .filter(|f| is_binary_executable(&f.detected_type))
        .map(|f| f.path.clone())
        .collect();
    let findings = rules::evaluate(&files, &meta, &install_files);

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

fn file_facts(rel: &str, abs: &Path, config: &StaticConfig, deadline: Instant) -> FileFacts {
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
            return out;
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
        return out;
    }
    if out.size > config.max_parse_bytes {
        out.status = FileStatus::SkippedTooLarge as i32;
        out.status_detail = format!(
            "{} bytes is over the parse limit of {}",
            out.size, config.max_parse_bytes
        );
        out.signals = Some(text_signals(&bytes, lines));
        return out;
    }
    let now = Instant::now();
    if now >= deadline {
        out.status = FileStatus::SkippedBudget as i32;
        out.status_detail = "the package's time budget ran out".into();
        return out;
    }
    let limits = ParseLimits {
        deadline: config.file_budget.min(deadline - now),
        ..Default::default()
    };
    match parse::parse(lang, rel, &bytes, &limits) {
        Some(parsed) => {
            out.status = FileStatus::Analysed as i32;
            if parsed.truncated {
                out.status_detail = "parse stopped at its time limit".into();
            }
            out.signals = Some(parsed_signals(&parsed, &bytes, lines));
            out.parse = Some(parsed);
        }
        None => out.status = FileStatus::NotSource as i32,
    }
    out
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
