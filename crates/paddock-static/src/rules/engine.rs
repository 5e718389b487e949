//! Evaluating a rule set over a package: what each file (and each hidden
//! stage decoded from it) shows ([`FileScan`]), which rules that makes
//! fire, and the package's findings with their reachability.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use paddock_proto::v1::{
    Ecosystem, Evidence, FileFacts, Finding, Language, PackageMetadata, Reachability,
};

use super::manifest::Package;
use super::{Match, RuleSet, Scope};
use crate::deobf::{self, StageLanguage};
use crate::flow::{self, FlowFacts, Site};
use crate::rules::format::SignalName;

/// Hidden stages inside hidden stages, at most.
const MAX_STAGE_DEPTH: usize = 3;
/// Evidence kept per finding.
const MAX_EVIDENCE: usize = 5;
/// Bytes of a file YARA scans.
const MAX_YARA_BYTES: usize = 16 << 20;

/// What one file, or one hidden stage, shows the rules.
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    pub flow: FlowFacts,
    pub queries: HashMap<usize, Site>,
    pub yara: HashMap<usize, Site>,
    pub obfuscated: bool,
    pub minified: bool,
    pub binary: bool,
    /// The file is text: UTF-8 without NUL bytes.
    pub text: bool,
    pub stages: Vec<StageScan>,
    /// Limits that fired (decoding, query matches, YARA time).
    pub limits: Vec<String>,
}

/// A hidden stage and what it shows.
#[derive(Debug, Clone)]
pub struct StageScan {
    /// Decoding steps and the language, outermost first.
    pub layers: Vec<String>,
    /// Its line in the file that holds it.
    pub line: u32,
    pub scan: FileScan,
}

fn line_at(bytes: &[u8], offset: usize) -> u32 {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u32
        + 1
}

fn line_text(bytes: &[u8], line: u32) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(160)
        .collect()
}

/// Scans a file's bytes: YARA over the text, and, for a parsed source
/// file, queries and data flow over its tree, then its hidden stages.
pub fn scan_file(
    set: &RuleSet,
    lang: Language,
    tree: Option<&tree_sitter::Tree>,
    bytes: &[u8],
    deadline: Instant,
    depth: usize,
) -> FileScan {
    let mut scan = FileScan::default();
    let (hits, error) = set.yara().scan(&bytes[..bytes.len().min(MAX_YARA_BYTES)]);
    for (rule, offset) in hits {
        let line = line_at(bytes, offset);
        scan.yara.insert(
            rule,
            Site {
                line,
                snippet: line_text(bytes, line),
            },
        );
    }
    scan.limits.extend(error);
    if let Some(tree) = tree {
        let root = tree.root_node();
        if !set.queries().is_empty_for(lang) {
            let (hits, limited) = set.queries().run(lang, root, bytes, deadline);
            scan.queries = hits;
            if limited {
                scan.limits
                    .push("code-pattern matching stopped at its match or time limit".into());
            }
        }
        scan.flow = flow::analyze(set.flow(), lang, root, bytes, deadline);
        if scan.flow.truncated {
            scan.limits
                .push("data-flow analysis stopped at its node or time budget".into());
        }
    }
    // Manifests and data files hide stages too (base64 commands in a
    // composer.json's `extra`, a package.json field): text files of any
    // kind are decoded, binaries are not.
    let text_file = lang != Language::Unspecified
        || (bytes.len() <= MAX_DATA_DECODE_BYTES
            && std::str::from_utf8(&bytes[..bytes.len().min(4096)]).is_ok()
            && !bytes[..bytes.len().min(4096)].contains(&0));
    if depth < MAX_STAGE_DEPTH && text_file {
        add_hidden_stages(set, &mut scan, lang, bytes, deadline, depth);
    }
    scan
}

/// Non-source text files (manifests, data) larger than this are not
/// searched for hidden stages.
const MAX_DATA_DECODE_BYTES: usize = 1 << 20;

/// A file's data flow again, starting from what the package's other
/// files give it ([`flow::Seeds`]): the cross-file pass of
/// [`crate::analyze`]. Only the flow facts are filled in.
pub fn rescan_flow(
    set: &RuleSet,
    lang: Language,
    tree: &tree_sitter::Tree,
    bytes: &[u8],
    deadline: Instant,
    seeds: &flow::Seeds,
) -> FileScan {
    FileScan {
        flow: flow::analyze_seeded(set.flow(), lang, tree.root_node(), bytes, deadline, seeds),
        ..FileScan::default()
    }
}

/// Only the hidden stages of a file (and the classes of decoded text):
/// for manifests, whose other text the rules do not judge.
pub fn scan_hidden_stages(set: &RuleSet, bytes: &[u8], deadline: Instant) -> FileScan {
    let mut scan = FileScan::default();
    if bytes.len() <= MAX_DATA_DECODE_BYTES {
        add_hidden_stages(set, &mut scan, Language::Unspecified, bytes, deadline, 0);
    }
    scan
}

fn add_hidden_stages(
    set: &RuleSet,
    scan: &mut FileScan,
    lang: Language,
    bytes: &[u8],
    deadline: Instant,
    depth: usize,
) {
    let outcome = deobf::decode_file(bytes, lang, &deobf::Limits::new(deadline));
    scan.limits.extend(outcome.limits);
    // Decoded text that is not code still names things: a pool, a URL, a
    // credential path.
    for decoded in &outcome.strings {
        let labels = set.flow().string_labels(&decoded.text);
        for i in 0..set.flow().classes().len() {
            if labels & (1 << i) != 0 {
                scan.flow.present.entry(i).or_insert_with(|| Site {
                    line: decoded.line,
                    snippet: format!(
                        "decoded ({}): {}",
                        decoded.layers.join(" → "),
                        decoded.text.chars().take(120).collect::<String>()
                    ),
                });
            }
        }
    }
    for stage in outcome.stages {
        let inner = scan_stage(set, &stage, deadline, depth + 1);
        scan.stages.push(StageScan {
            layers: stage.layers.iter().map(|s| s.to_string()).collect(),
            line: stage.line,
            scan: inner,
        });
    }
}

fn scan_stage(set: &RuleSet, stage: &deobf::Stage, deadline: Instant, depth: usize) -> FileScan {
    let bytes = stage.text.as_bytes();
    match stage.language {
        StageLanguage::Code(lang) => {
            let tree = crate::parse::parse_tree(lang, "stage", bytes, deadline);
            let mut scan = scan_file(set, lang, tree.as_ref(), bytes, deadline, depth);
            // Decoded code exists to be run: mark it obfuscated.
            scan.obfuscated = true;
            scan
        }
        // Shell and PowerShell have no grammar here: their text is run,
        // so its string classes count as present in an exec call.
        StageLanguage::Shell | StageLanguage::PowerShell => {
            let mut scan = scan_file(set, Language::Unspecified, None, bytes, deadline, depth);
            let labels = set.flow().string_labels(&stage.text);
            let site = Site {
                line: 1,
                snippet: line_text(bytes, 1),
            };
            for i in 0..set.flow().classes().len() {
                if labels & (1 << i) != 0 {
                    scan.flow.present.insert(i, site.clone());
                }
            }
            if let Some(exec) = set.flow().index("exec") {
                scan.flow.present.insert(exec, site.clone());
                scan.flow.sinks.push(flow::SinkHit {
                    class: exec,
                    labels,
                    target: labels,
                    site,
                });
            }
            scan.obfuscated = true;
            scan
        }
    }
}

/// Evidence of one rule's match in a scan (and its stages).
fn eval_file(set: &RuleSet, rule: usize, m: &Match, scan: &FileScan) -> Option<Vec<Evidence>> {
    let ev = |site: &Site, detail: String| Evidence {
        line: site.line,
        snippet: site.snippet.clone(),
        detail,
        ..Default::default()
    };
    match m {
        Match::Present(labels) => (0..64)
            .filter(|i| labels & (1u64 << i) != 0)
            .find_map(|i| scan.flow.present.get(&i).map(|s| (i, s)))
            .map(|(i, s)| vec![ev(s, set.flow().classes()[i].id.clone())]),
        Match::Absent(labels) => (0..64)
            .filter(|i| labels & (1u64 << i) != 0)
            .all(|i| !scan.flow.present.contains_key(&i))
            .then(Vec::new),
        Match::Flow(m) => scan.flow.find(m).map(|hit| {
            let (from, toward) = (&m.from, &m.toward);
            let from_names = set.flow().names(hit.labels & from).join(", ");
            let sources: Vec<String> = (0..64)
                .filter(|i| hit.labels & from & (1u64 << i) != 0)
                .filter_map(|i| {
                    scan.flow
                        .present
                        .get(&i)
                        .map(|s| format!("line {}", s.line))
                })
                .take(2)
                .collect();
            vec![ev(
                &hit.site,
                format!(
                    "{from_names}{} reaches {}",
                    if sources.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", sources.join(", "))
                    },
                    set.flow().classes()[hit.class].id
                ) + &if *toward == 0 {
                    String::new()
                } else {
                    format!(
                        " toward {}",
                        set.flow().names(hit.labels & toward).join(", ")
                    )
                },
            )]
        }),
        Match::Query => scan
            .queries
            .get(&rule)
            .map(|s| vec![ev(s, "code pattern".into())]),
        Match::Yara => scan.yara.get(&rule).map(|s| vec![ev(s, "YARA".into())]),
        Match::Signal(sig) => {
            let site = Site::default();
            match sig {
                SignalName::Obfuscated if scan.obfuscated => {
                    Some(vec![ev(&site, "obfuscated identifiers or strings".into())])
                }
                SignalName::Minified if scan.minified => Some(vec![ev(&site, "minified".into())]),
                SignalName::Text if scan.text => Some(Vec::new()),
                SignalName::BundledBinary if scan.binary => {
                    Some(vec![ev(&site, "compiled executable or library".into())])
                }
                SignalName::HiddenStage => scan.stages.first().map(|s| {
                    vec![Evidence {
                        line: s.line,
                        detail: format!("hidden stage: {}", s.layers.join(" → ")),
                        layers: s.layers.clone(),
                        ..Default::default()
                    }]
                }),
                SignalName::DecodingLimit => {
                    scan.limits.first().map(|l| vec![ev(&site, l.clone())])
                }
                _ => None,
            }
        }
        Match::Manifest(_) => None,
        Match::All(parts) => {
            let mut out = Vec::new();
            for p in parts {
                out.extend(eval_file(set, rule, p, scan)?);
            }
            Some(out)
        }
        Match::Any(parts) => parts.iter().find_map(|p| eval_file(set, rule, p, scan)),
    }
}

/// Rules that fire on one file's scan, with evidence; a rule that fires
/// only inside a hidden stage has the stage's layers on its evidence.
pub fn file_matches(set: &RuleSet, path: &str, scan: &FileScan) -> Vec<(usize, Vec<Evidence>)> {
    let mut out: Vec<(usize, Vec<Evidence>)> = Vec::new();
    for (i, rule) in set.rules().iter().enumerate() {
        // A package rule's file parts are recorded as the rule's match in
        // this file; the package evaluation combines them with its facts.
        let file_part;
        let m = if rule.matcher.is_manifest() {
            match file_parts(&rule.matcher) {
                Some(p) => {
                    file_part = p;
                    &file_part
                }
                None => continue,
            }
        } else {
            &rule.matcher
        };
        if let Some(mut ev) = eval_file(set, i, m, scan) {
            for e in &mut ev {
                e.file = path.to_owned();
            }
            out.push((i, ev));
        }
    }
    for stage in &scan.stages {
        for (i, ev) in file_matches(set, path, &stage.scan) {
            if out.iter().any(|(j, _)| *j == i) {
                continue;
            }
            let ev = ev
                .into_iter()
                .map(|mut e| {
                    if e.layers.is_empty() || !e.layers.starts_with(&stage.layers) {
                        let mut layers = stage.layers.clone();
                        layers.extend(e.layers);
                        e.layers = layers;
                    }
                    e.detail = format!(
                        "{}{}hidden stage at line {} ({})",
                        e.detail,
                        if e.detail.is_empty() { "" } else { "; " },
                        stage.line,
                        e.layers.join(" → ")
                    );
                    e
                })
                .collect();
            out.push((i, ev));
        }
    }
    out
}

/// The file-level parts of a package rule (`all` of manifest facts and
/// file matches), when it has any.
fn file_parts(m: &Match) -> Option<Match> {
    match m {
        Match::All(parts) => {
            let files: Vec<Match> = parts.iter().filter(|p| !p.is_manifest()).cloned().collect();
            (!files.is_empty()).then_some(Match::All(files))
        }
        _ => None,
    }
}

/// What runs each file.
#[derive(Debug, Clone, Default)]
pub struct ReachMap {
    by_file: HashMap<String, Reachability>,
}

impl ReachMap {
    pub fn of(&self, path: &str) -> Reachability {
        self.by_file
            .get(path)
            .copied()
            .unwrap_or(Reachability::Library)
    }
}

fn rank(r: Reachability) -> u8 {
    match r {
        Reachability::Install => 0,
        Reachability::Import => 1,
        Reachability::Execute => 2,
        Reachability::Library => 3,
        Reachability::Unreached => 4,
        Reachability::Unspecified => 5,
    }
}

/// Tests, docs, examples and benchmarks: what an ordinary install never
/// runs.
pub fn unreached_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    const DIRS: &[&str] = &[
        "test",
        "tests",
        "__tests__",
        "spec",
        "specs",
        "testing",
        "doc",
        "docs",
        "example",
        "examples",
        "demo",
        "demos",
        "benchmark",
        "benchmarks",
        "bench",
        "benches",
        "fixtures",
        "__fixtures__",
        "__mocks__",
        "e2e",
        "testdata",
        "test_data",
        "test-data",
        "test cases",
        "manual tests",
    ];
    if dirs.iter().any(|d| DIRS.contains(d)) {
        return true;
    }
    let name = parts.last().copied().unwrap_or_default();
    name.starts_with("test_")
        || name == "conftest.py"
        || [".test.", ".spec.", "_test.", "_spec.", ".bench."]
            .iter()
            .any(|m| name.contains(m))
}

/// Resolves a module a file imports to files of the package.
pub fn resolve(from: &str, module: &str, files: &HashSet<&str>) -> Vec<String> {
    let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
    let join = |base: &str, rel: &str| -> String {
        let mut parts: Vec<&str> = if base.is_empty() {
            Vec::new()
        } else {
            base.split('/').collect()
        };
        for p in rel.split('/') {
            match p {
                "." | "" => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        parts.join("/")
    };
    let mut out = Vec::new();
    // Rust `use crate::x::…`, `use super::x`, `use self::x`: the module
    // file of `x`.
    let rust_use = module
        .strip_prefix("use ")
        .map(|u| u.trim_end_matches(';').trim())
        .and_then(|u| {
            let mut parts = u.split("::");
            let anchor = parts.next()?;
            let name = parts
                .next()?
                .trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace());
            let base = match anchor {
                // The crate root: the directory of lib.rs/main.rs, the
                // shallowest `src/` above this file.
                "crate" => from
                    .find("src/")
                    .map(|i| from[..i + 3].to_owned())
                    .unwrap_or_else(|| dir.to_owned()),
                "self" => {
                    let file = from.rsplit_once('/').map_or(from, |(_, f)| f);
                    match file {
                        "lib.rs" | "main.rs" | "mod.rs" => dir.to_owned(),
                        other => join(dir, other.trim_end_matches(".rs")),
                    }
                }
                "super" => dir.to_owned(),
                _ => return None,
            };
            (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .then(|| format!("mod:{name}@{base}"))
        });
    let php = php_include(module);
    let module = rust_use.as_deref().or(php.as_deref()).unwrap_or(module);
    let candidates: Vec<String> =
        if let Some((name, base)) = module.strip_prefix("mod:").and_then(|m| m.split_once('@')) {
            vec![
                join(base, &format!("{name}.rs")),
                join(base, &format!("{name}/mod.rs")),
            ]
        } else if let Some(name) = module.strip_prefix("mod:") {
            // Rust: `mod x;` in lib.rs, main.rs, build.rs or mod.rs is a sibling
            // `x.rs` or `x/mod.rs`; elsewhere it lives under the file's stem.
            let file = from.rsplit_once('/').map_or(from, |(_, f)| f);
            let base = match file {
                "lib.rs" | "main.rs" | "build.rs" | "mod.rs" => dir.to_owned(),
                other => join(dir, other.trim_end_matches(".rs")),
            };
            vec![
                join(&base, &format!("{name}.rs")),
                join(&base, &format!("{name}/mod.rs")),
            ]
        } else if module.starts_with("./") || module.starts_with("../") {
            let base = join(dir, module);
            [
                "",
                ".js",
                ".cjs",
                ".mjs",
                ".ts",
                "/index.js",
                ".rb",
                ".php",
                ".py",
            ]
            .iter()
            .map(|ext| format!("{base}{ext}"))
            .collect()
        } else if let Some(rel) = module.strip_prefix('.') {
            // Python relative: `.x`, `..x`.
            let ups = rel.chars().take_while(|c| *c == '.').count();
            let rest = &rel[ups..];
            let mut base: Vec<&str> = dir.split('/').collect();
            for _ in 0..ups {
                base.pop();
            }
            let base = base.join("/");
            let path = rest.replace('.', "/");
            vec![
                format!("{base}/{path}.py"),
                format!("{base}/{path}/__init__.py"),
            ]
        } else {
            // A sibling module by name (Ruby `require_relative 'x'`, Python
            // `import pkg.mod` from inside pkg).
            let path = module.replace("::", "/").replace('.', "/");
            vec![
                join(dir, &format!("{path}.rb")),
                join(dir, &format!("{module}.rb")),
                join(dir, &format!("{path}.py")),
                join(dir, &format!("{path}/__init__.py")),
                join(dir, &format!("../{path}.py")),
                join(dir, &format!("../{path}/__init__.py")),
                format!("lib/{path}.rb"),
            ]
        };
    for c in candidates {
        if files.contains(c.as_str()) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The file a PHP include names, relative to the including file, when
/// its path is built from that file's directory and literals:
/// `require_once __DIR__ . '/build.php'` is `./build.php`,
/// `include dirname(__FILE__, 2) . "/lib/x.php"` is `./../lib/x.php`, and a
/// bare relative `require 'x.php'` (PHP looks beside the including file
/// once the include path has no such file) is `./x.php`. `None` for
/// anything else: a path held in a variable, an absolute path, a path
/// under a constant other than `DIRECTORY_SEPARATOR`.
fn php_include(module: &str) -> Option<String> {
    let rest = ["require_once", "include_once", "require", "include"]
        .iter()
        .find_map(|k| module.strip_prefix(k))?;
    if !rest.starts_with(|c: char| c.is_whitespace() || matches!(c, '(' | '\'' | '"')) {
        return None;
    }
    let mut expr = rest.trim().trim_end_matches(';').trim();
    while let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        if !balanced(inner) {
            break;
        }
        expr = inner.trim();
    }
    let mut ups = None;
    let mut path = String::new();
    for (i, part) in split_concatenation(expr)?.into_iter().enumerate() {
        if i == 0 {
            if let Some(n) = php_dir_of_file(part) {
                ups = Some(n);
                continue;
            }
        }
        if part == "DIRECTORY_SEPARATOR" {
            path.push('/');
        } else if (part.starts_with('\'') && part.ends_with('\''))
            || (part.starts_with('"') && part.ends_with('"') && !part.contains('$'))
        {
            path.push_str(&crate::parse::decode_literal(part));
        } else {
            return None;
        }
    }
    let path = path.replace('\\', "/");
    match ups {
        Some(n) => Some(format!(
            "./{}{}",
            "../".repeat(n),
            path.trim_start_matches('/')
        )),
        None if path.is_empty() || path.starts_with('/') || path.contains(':') => None,
        None => Some(format!("./{path}")),
    }
}

/// How many directories above the file's own a PHP expression names:
/// `__DIR__` and `dirname(__FILE__)` 0, `dirname(__DIR__)` 1,
/// `dirname(__FILE__, 3)` 2, `dirname(dirname(__FILE__))` 1.
fn php_dir_of_file(expr: &str) -> Option<usize> {
    let expr: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    match expr.as_str() {
        "__DIR__" => return Some(0),
        "__FILE__" => return None,
        _ => {}
    }
    let inner = expr.strip_prefix("dirname(")?.strip_suffix(')')?;
    let (arg, levels) = match inner.rsplit_once(',') {
        Some((arg, n)) if balanced(arg) => (arg, n.parse::<usize>().ok()?),
        _ => (inner, 1),
    };
    if !(1..=16).contains(&levels) {
        return None;
    }
    // `dirname(__FILE__)` is the file's directory; each further level,
    // and every level above `__DIR__`, is one up.
    match arg {
        "__FILE__" => Some(levels - 1),
        _ => Some(php_dir_of_file(arg)? + levels),
    }
}

/// Whether the parentheses of `s` (outside quotes) are balanced.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// The operands of a PHP concatenation (`a . 'b' . c`), split at the dots
/// outside quotes and parentheses; `None` when it does not scan.
fn split_concatenation(expr: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let mut escaped = false;
    for (i, c) in expr.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                '.' if depth == 0 => {
                    parts.push(expr[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    if quote.is_some() || depth != 0 || parts.len() >= 16 {
        return None;
    }
    parts.push(expr[start..].trim());
    parts.iter().all(|p| !p.is_empty()).then_some(parts)
}

/// Whether a Python file can be imported once installed: a top-level
/// module (at the artifact's root, or under its `src/`), or a module of a
/// package (its directory has an `__init__.py`; the parents of a namespace
/// package need none).
fn importable(path: &str, shallowest_dir: usize, paths: &HashSet<&str>) -> bool {
    let depth = path.matches('/').count();
    let Some((dir, _)) = path.rsplit_once('/') else {
        return true;
    };
    depth == shallowest_dir
        || (depth == shallowest_dir + 1 && dir.rsplit('/').next() == Some("src"))
        || paths.contains(format!("{dir}/__init__.py").as_str())
}

/// Works out what runs each file: install hooks, entry points and
/// commands, followed through imports; tests, docs and examples nothing
/// reaches are unreached; the rest is library code.
pub fn reachability(
    eco: Ecosystem,
    files: &[FileFacts],
    meta: &PackageMetadata,
    install_files: &[String],
) -> ReachMap {
    let paths: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let imports: HashMap<&str, Vec<String>> = files
        .iter()
        .map(|f| {
            let mods = f
                .parse
                .as_ref()
                .map(|p| {
                    p.imports
                        .iter()
                        .flat_map(|i| resolve(&f.path, &i.module, &paths))
                        .collect()
                })
                .unwrap_or_default();
            (f.path.as_str(), mods)
        })
        .collect();
    let mut by_file: HashMap<String, Reachability> = HashMap::new();
    let seed =
        |level: Reachability, roots: Vec<String>, by_file: &mut HashMap<String, Reachability>| {
            let mut todo = roots;
            let mut steps = 0;
            while let Some(f) = todo.pop() {
                steps += 1;
                if steps > 100_000 {
                    break;
                }
                let current = by_file.get(&f).copied();
                if current.is_some_and(|c| rank(c) <= rank(level)) {
                    continue;
                }
                by_file.insert(f.clone(), level);
                if let Some(next) = imports.get(f.as_str()) {
                    todo.extend(next.iter().cloned());
                }
            }
        };
    seed(Reachability::Install, install_files.to_vec(), &mut by_file);
    // Files an npm install hook names through `node x`, and setup.py's
    // imports are covered by the import graph.
    let mut entries: Vec<String> = meta.entry_files.clone();
    let shallowest_dir = files
        .iter()
        .map(|f| f.path.matches('/').count())
        .min()
        .unwrap_or(0);
    for f in files {
        let p = f.path.as_str();
        if unreached_path(p) {
            continue;
        }
        let lang = f.language();
        match eco {
            // The package's modules run on import (the sandbox imports
            // them all): top-level modules and the modules of packages.
            Ecosystem::Pypi
                if lang == Language::Python
                    && !p.ends_with("setup.py")
                    && importable(p, shallowest_dir, &paths) =>
            {
                entries.push(p.to_owned())
            }
            // `lib/<name>.rb` is what `require` loads.
            Ecosystem::Rubygems if lang == Language::Ruby => {
                let in_lib = p.split('/').any(|d| d == "lib");
                if in_lib && p.matches('/').count() <= shallowest_dir + 2 {
                    entries.push(p.to_owned());
                }
            }
            Ecosystem::CratesIo if p.ends_with("src/lib.rs") => entries.push(p.to_owned()),
            _ => {}
        }
    }
    seed(Reachability::Import, entries, &mut by_file);
    seed(
        Reachability::Execute,
        meta.command_files.clone(),
        &mut by_file,
    );
    for f in files {
        if !by_file.contains_key(&f.path) {
            // A Python file of a source distribution outside every package
            // (a maintainer's `scripts/`, `tasks/`, `winbuild/`) is not
            // installed, and nothing above imported it.
            let stray_python = eco == Ecosystem::Pypi
                && f.language() == Language::Python
                && !f.path.ends_with("setup.py")
                && !importable(&f.path, shallowest_dir, &paths);
            let level = if stray_python || unreached_path(&f.path) {
                Reachability::Unreached
            } else {
                Reachability::Library
            };
            by_file.insert(f.path.clone(), level);
        }
    }
    ReachMap { by_file }
}

/// Rules that fired on one file, with their evidence.
pub type Matches = Vec<(usize, Vec<Evidence>)>;

/// The package's findings: file matches and manifest facts, one finding
/// per rule, its evidence best-reached first.
#[allow(clippy::too_many_arguments)]
pub fn findings(
    set: &RuleSet,
    eco: Ecosystem,
    name: &str,
    version: &str,
    meta: &PackageMetadata,
    matches: &[(String, Matches)],
    reach: &ReachMap,
    install_files: &[String],
) -> Vec<Finding> {
    let mut per_rule: BTreeMap<usize, Vec<(Reachability, Evidence)>> = BTreeMap::new();
    for (path, hits) in matches {
        let r = reach.of(path);
        let install = install_files.contains(path) || r == Reachability::Install;
        for (i, ev) in hits {
            let rule = &set.rules()[*i];
            if rule.matcher.is_manifest() || (rule.scope == Scope::Install && !install) {
                continue;
            }
            let list = per_rule.entry(*i).or_default();
            // One evidence list per file: the first item leads.
            if let Some(first) = ev.first() {
                let mut e = first.clone();
                if ev.len() > 1 {
                    let more: Vec<String> = ev[1..]
                        .iter()
                        .map(|x| {
                            let what = if x.detail.is_empty() {
                                &x.snippet
                            } else {
                                &x.detail
                            };
                            if x.line > 0 {
                                format!("{what} (line {})", x.line)
                            } else {
                                what.clone()
                            }
                        })
                        .collect();
                    e.detail = [e.detail.clone(), more.join("; ")]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join("; ");
                }
                list.push((r, e));
            }
        }
    }
    let pkg = Package {
        ecosystem: eco,
        name,
        version,
        meta,
        popular: set.popular(eco),
    };
    for (i, rule) in set.rules().iter().enumerate() {
        if !rule.matcher.is_manifest() {
            continue;
        }
        if let Some(ev) = eval_package(i, &rule.matcher, &pkg, matches) {
            let r = ev
                .iter()
                .map(|e| {
                    if e.file.is_empty() {
                        Reachability::Install
                    } else {
                        manifest_reach(e, meta, reach)
                    }
                })
                .min_by_key(|r| rank(*r))
                .unwrap_or(Reachability::Unspecified);
            per_rule
                .entry(i)
                .or_default()
                .extend(ev.into_iter().map(|e| (r, e)));
        }
    }
    let mut out = Vec::new();
    for (i, mut evs) in per_rule {
        let rule = &set.rules()[i];
        if !rule.ecosystems.is_empty() && !rule.ecosystems.contains(&eco) {
            continue;
        }
        evs.sort_by_key(|(r, e)| (rank(*r), e.layers.is_empty(), e.file.clone(), e.line));
        let best = evs.first().map_or(Reachability::Unspecified, |(r, _)| *r);
        out.push(Finding {
            rule_id: rule.id.clone(),
            rule_version: set.version().to_owned(),
            severity: rule.severity as i32,
            confidence: rule.confidence,
            category: rule.category as i32,
            title: rule.title.clone(),
            description: rule.description.clone(),
            evidence: evs.into_iter().take(MAX_EVIDENCE).map(|(_, e)| e).collect(),
            tags: Vec::new(),
            reachability: best as i32,
            technique: rule.technique.clone(),
        });
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.category.cmp(&a.category))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    out
}

/// A manifest finding's reachability: an install hook's is install, a
/// shipped binary's what reaches its file, the rest describe the package
/// as a whole (import).
fn manifest_reach(e: &Evidence, meta: &PackageMetadata, reach: &ReachMap) -> Reachability {
    if meta
        .install_hooks
        .iter()
        .any(|h| h.file == e.file && e.snippet.starts_with(&h.name))
    {
        return Reachability::Install;
    }
    if meta.bundled_binaries.contains(&e.file) {
        return reach.of(&e.file);
    }
    Reachability::Import
}

fn eval_package(
    rule: usize,
    m: &Match,
    pkg: &Package<'_>,
    matches: &[(String, Matches)],
) -> Option<Vec<Evidence>> {
    match m {
        Match::Manifest(f) => f.holds(pkg).map(|e| vec![e]),
        Match::All(parts) => {
            let mut out = Vec::new();
            for p in parts {
                out.extend(eval_package(rule, p, pkg, matches)?);
            }
            Some(out)
        }
        Match::Any(parts) => parts
            .iter()
            .find_map(|p| eval_package(rule, p, pkg, matches)),
        // The rule's file parts, as `file_matches` recorded them.
        _ => matches.iter().find_map(|(path, hits)| {
            hits.iter().find(|(i, _)| *i == rule).map(|(_, ev)| {
                ev.iter()
                    .cloned()
                    .map(|mut e| {
                        e.file = path.clone();
                        e
                    })
                    .collect()
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_includes_built_from_the_files_directory_resolve() {
        let files: HashSet<&str> = [
            "pkg/src/Plugin.php",
            "pkg/src/build.php",
            "pkg/lib/helpers.php",
            "pkg/bootstrap.php",
        ]
        .into_iter()
        .collect();
        let from = "pkg/src/Plugin.php";
        for (module, file) in [
            ("require_once __DIR__ . '/build.php'", "pkg/src/build.php"),
            ("require_once(__DIR__.\"/build.php\")", "pkg/src/build.php"),
            (
                "include dirname(__FILE__) . '/build.php'",
                "pkg/src/build.php",
            ),
            (
                "include_once dirname(__DIR__) . '/lib/helpers.php'",
                "pkg/lib/helpers.php",
            ),
            (
                "require dirname(__FILE__, 2) . '/lib/helpers.php'",
                "pkg/lib/helpers.php",
            ),
            (
                "require dirname(dirname(__FILE__)) . '/bootstrap.php'",
                "pkg/bootstrap.php",
            ),
            (
                "require __DIR__ . DIRECTORY_SEPARATOR . 'build.php'",
                "pkg/src/build.php",
            ),
            ("require 'build.php'", "pkg/src/build.php"),
            ("require '../bootstrap.php'", "pkg/bootstrap.php"),
        ] {
            assert_eq!(resolve(from, module, &files), [file], "{module}");
        }
        for module in [
            "require $path",
            "require __DIR__ . '/' . $name . '.php'",
            "require \"$dir/build.php\"",
            "require '/etc/build.php'",
            "require SOME_DIR . '/build.php'",
            "use Composer\\Composer;",
        ] {
            assert!(resolve(from, module, &files).is_empty(), "{module}");
        }
    }
}
