//! Detection rules, as data.
//!
//! A rule set is a directory of files (`rules/` in the repository, compiled
//! in as the default; users add their own with `--rules DIR`):
//!
//! - `ruleset.toml`: the set's version;
//! - `flow.toml` (and any `flow*.toml`): the source and sink classes of
//!   data flow ([`crate::flow`]);
//! - every other `*.toml`: `[[rule]]` tables (format in `rules/README.md`);
//! - `*.yar` / `*.yara`: plain YARA files, each rule in them a Paddock
//!   rule, its severity and title from its `meta:`;
//! - `popular/<ecosystem>.txt`: popular package names, for look-alike
//!   names.
//!
//! A rule matches code structure (tree-sitter queries), text and bytes
//! (YARA, run by boreal), data flows, file signals, or package manifest
//! facts; `all`/`any` combine matches within one file. Every rule carries
//! examples that must and must not match, run by [`RuleSet::test`].
//!
//! Layout: [`format`] (the files' serde types), [`query`] (tree-sitter
//! queries), [`yara`] (YARA), [`manifest`] (package facts), [`engine`]
//! (evaluating a package), [`selftest`] (the examples).

pub mod engine;
pub mod format;
pub mod manifest;
pub mod query;
pub mod selftest;
pub mod yara;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use paddock_proto::v1::{Ecosystem, FindingCategory, Language, Severity};

use crate::flow::{FlowClasses, FlowError, Labels};
use format::{ExampleSpec, MatchSpec, RuleFile, RuleSpec};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The shipped rule set's version (from `rules/ruleset.toml`).
pub fn builtin_version() -> &'static str {
    builtin().version()
}

/// The shipped rule set, compiled once.
pub fn builtin() -> &'static Arc<RuleSet> {
    static SET: LazyLock<Arc<RuleSet>> = LazyLock::new(|| {
        Arc::new(
            RuleSet::load(&RuleSources::builtin())
                .unwrap_or_else(|e| panic!("the shipped rule set does not load (tested): {e}")),
        )
    });
    &SET
}

/// The shipped set plus the rule directories `dirs`, compiled once per
/// distinct list in this process.
pub fn for_dirs(dirs: &[std::path::PathBuf]) -> Result<Arc<RuleSet>, RuleError> {
    if dirs.is_empty() {
        return Ok(builtin().clone());
    }
    type Cache = std::sync::Mutex<HashMap<Vec<std::path::PathBuf>, Arc<RuleSet>>>;
    static CACHE: LazyLock<Cache> = LazyLock::new(Default::default);
    if let Some(set) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(dirs) {
        return Ok(set.clone());
    }
    let set = RuleSet::with_user_dirs(dirs)?;
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(dirs.to_vec(), set.clone());
    Ok(set)
}

/// Why a rule set could not be loaded. Every variant names the file and,
/// where there is one, the rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("{file}: rule `{rule}`: {reason}")]
    Rule {
        file: String,
        rule: String,
        reason: String,
    },
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl RuleError {
    fn rule(file: &str, rule: &str, reason: impl Into<String>) -> Self {
        RuleError::Rule {
            file: file.to_owned(),
            rule: rule.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The text of a rule set's files: `(path, text)`, the shipped set first,
/// then each user directory's.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    files: Vec<(String, String)>,
}

impl RuleSources {
    /// The shipped files.
    pub fn builtin() -> Self {
        Self {
            files: BUILTIN_RULE_FILES
                .iter()
                .map(|(p, t)| (format!("rules/{p}"), (*t).to_owned()))
                .collect(),
        }
    }

    /// No files at all (for testing one directory on its own).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds every rule file under `dir` (recursively, sorted).
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let meta = std::fs::metadata(dir).map_err(|source| RuleError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        if meta.is_file() {
            return self.add_file(dir);
        }
        let mut found = Vec::new();
        collect(dir, &mut found).map_err(|source| RuleError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        found.sort();
        if found.is_empty() {
            return Err(RuleError::File {
                file: dir.display().to_string(),
                reason: "holds no rule files (*.toml, *.yar, *.yara)".into(),
            });
        }
        for path in found {
            self.add_file(&path)?;
        }
        Ok(())
    }

    fn add_file(&mut self, path: &Path) -> Result<(), RuleError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.files.push((path.display().to_string(), text));
        Ok(())
    }

    /// Adds one file's text under a name.
    pub fn add_text(&mut self, name: &str, text: &str) {
        self.files.push((name.to_owned(), text.to_owned()));
    }

    pub fn files(&self) -> &[(String, String)] {
        &self.files
    }
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(&path, out)?;
        } else if kind.is_file()
            && matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("toml" | "yar" | "yara" | "txt")
            )
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Where in a package a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Any file.
    Any,
    /// Files that run at install time.
    Install,
}

/// What a rule matches, compiled.
#[derive(Debug, Clone)]
pub enum Match {
    /// Classes occur in the file (any of them).
    Present(Labels),
    /// None of these classes occurs in the file.
    Absent(Labels),
    /// A value of a `from` class reaches a call of a `to` class, carrying
    /// every `with` class too, at least one `toward` class (when there
    /// are any), and acting on no `not_into` class.
    Flow(crate::flow::FlowMatch),
    /// The rule's tree-sitter query matched (compiled in [`query`]).
    Query,
    /// The rule's YARA rules matched (compiled in [`yara`]).
    Yara,
    /// File signals.
    Signal(format::SignalName),
    /// A fact of the package's manifests or metadata.
    Manifest(manifest::Fact),
    /// Every part holds in the same file.
    All(Vec<Match>),
    /// Some part holds.
    Any(Vec<Match>),
}

impl Match {
    fn is_manifest(&self) -> bool {
        match self {
            Match::Manifest(_) => true,
            Match::All(v) | Match::Any(v) => v.iter().any(Match::is_manifest),
            _ => false,
        }
    }
}

/// One example of a rule: files that must (or must not) make it fire.
#[derive(Debug, Clone)]
pub struct Example {
    pub expect_match: bool,
    /// (path in the package, content)
    pub files: Vec<(String, String)>,
    /// The package the example pretends to be (`name`, `version`).
    pub package: Option<(String, String)>,
    pub ecosystem: Option<Ecosystem>,
    pub registry: Option<paddock_proto::v1::RegistryFacts>,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: f32,
    pub category: FindingCategory,
    pub technique: String,
    pub description: String,
    pub references: Vec<String>,
    pub scope: Scope,
    pub ecosystems: Vec<Ecosystem>,
    pub matcher: Match,
    pub examples: Vec<Example>,
    /// The file it came from.
    pub origin: String,
}

/// A compiled rule set.
#[derive(Debug)]
pub struct RuleSet {
    version: String,
    rules: Vec<Rule>,
    flow: FlowClasses,
    queries: query::Queries,
    yara: yara::Yara,
    popular: HashMap<Ecosystem, Vec<String>>,
}

impl RuleSet {
    /// Compiles a rule set. Errors name the file and the rule.
    pub fn load(sources: &RuleSources) -> Result<Self, RuleError> {
        let mut version = None;
        let mut flow_files = Vec::new();
        let mut specs: Vec<(String, RuleSpec)> = Vec::new();
        let mut yara_files: Vec<(String, String)> = Vec::new();
        let mut popular: HashMap<Ecosystem, Vec<String>> = HashMap::new();
        for (path, text) in sources.files() {
            let name = path.rsplit('/').next().unwrap_or(path);
            if name.ends_with(".yar") || name.ends_with(".yara") {
                yara_files.push((path.clone(), text.clone()));
            } else if name.ends_with(".txt") {
                if let Some(eco) = path
                    .rsplit('/')
                    .nth(1)
                    .filter(|d| *d == "popular")
                    .and_then(|_| {
                        paddock_proto::ecosystem::parse(name.trim_end_matches(".txt")).ok()
                    })
                {
                    let list = popular.entry(eco).or_default();
                    list.extend(
                        text.lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .map(str::to_owned),
                    );
                }
            } else if name == "ruleset.toml" {
                let v: format::RuleSetFile = toml::from_str(text).map_err(|e| RuleError::File {
                    file: path.clone(),
                    reason: format!("not a valid ruleset.toml: {e}"),
                })?;
                version = Some(v.version);
            } else if name.starts_with("flow") {
                flow_files.push((path.clone(), text.clone()));
            } else if name == "scoring.toml" || name == "behaviour.toml" {
                // Read by the verdict and the dynamic analysis
                // (paddock-diff), not static rule files.
            } else {
                let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::File {
                    file: path.clone(),
                    reason: format!("not a valid rule file: {e}"),
                })?;
                specs.extend(file.rules.into_iter().map(|r| (path.clone(), r)));
            }
        }
        let flow = FlowClasses::load(&flow_files)?;
        let mut rules: Vec<Rule> = Vec::new();
        let mut query_specs = Vec::new();
        let mut yara_specs = Vec::new();
        for (file, spec) in specs {
            if rules.iter().any(|r| r.id == spec.id) {
                return Err(RuleError::rule(&file, &spec.id, "defined twice"));
            }
            let index = rules.len();
            let rule = compile_rule(&file, spec, &flow, index, &mut query_specs, &mut yara_specs)?;
            rules.push(rule);
        }
        let queries = query::Queries::compile(&query_specs, &rules)?;
        let yara = yara::Yara::compile(&yara_specs, &yara_files, &mut rules)?;
        Ok(Self {
            version: version.unwrap_or_else(|| "unversioned".into()),
            rules,
            flow,
            queries,
            yara,
            popular,
        })
    }

    /// The shipped set plus every directory in `dirs`.
    pub fn with_user_dirs(dirs: &[std::path::PathBuf]) -> Result<Arc<Self>, RuleError> {
        if dirs.is_empty() {
            return Ok(builtin().clone());
        }
        let mut sources = RuleSources::builtin();
        let shipped = sources.files.len();
        for d in dirs {
            sources.add_dir(d)?;
        }
        let mut set = Self::load(&sources)?;
        // Findings say which rules made them: the shipped version plus a
        // digest of the user's files.
        use sha2::Digest as _;
        let mut digest = sha2::Sha256::new();
        for (path, text) in &sources.files[shipped..] {
            digest.update(path.as_bytes());
            digest.update([0]);
            digest.update(text.as_bytes());
            digest.update([0]);
        }
        let digest = hex::encode(digest.finalize());
        set.version = format!("{}+local.{}", builtin().version(), &digest[..12]);
        Ok(Arc::new(set))
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn flow(&self) -> &FlowClasses {
        &self.flow
    }

    pub fn popular(&self, eco: Ecosystem) -> &[String] {
        self.popular.get(&eco).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn queries(&self) -> &query::Queries {
        &self.queries
    }

    pub(crate) fn yara(&self) -> &yara::Yara {
        &self.yara
    }
}

fn parse_category(id: &str, file: &str) -> Result<FindingCategory, RuleError> {
    match id.split('.').next() {
        Some("capability") => Ok(FindingCategory::Capability),
        Some("threat") => Ok(FindingCategory::Threat),
        Some("signal") => Ok(FindingCategory::Signal),
        _ => Err(RuleError::rule(
            file,
            id,
            "an id starts with `capability.`, `threat.` or `signal.`",
        )),
    }
}

fn compile_rule(
    file: &str,
    spec: RuleSpec,
    flow: &FlowClasses,
    index: usize,
    queries: &mut Vec<(usize, String, Language, String)>,
    yaras: &mut Vec<(usize, String, String)>,
) -> Result<Rule, RuleError> {
    let id = spec.id.trim().to_owned();
    if id.is_empty() {
        return Err(RuleError::File {
            file: file.to_owned(),
            reason: "a rule has an empty id".into(),
        });
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(RuleError::rule(
            file,
            &id,
            "an id is letters, digits, `.`, `-` and `_`",
        ));
    }
    let category = parse_category(&id, file)?;
    let severity = paddock_proto::ecosystem::parse_severity(&spec.severity)
        .map_err(|e| RuleError::rule(file, &id, e.to_string()))?;
    if !(0.0..=1.0).contains(&spec.confidence) {
        return Err(RuleError::rule(file, &id, "confidence is between 0 and 1"));
    }
    let scope = match spec.scope.as_deref() {
        None | Some("any") => Scope::Any,
        Some("install") => Scope::Install,
        Some(other) => {
            return Err(RuleError::rule(
                file,
                &id,
                format!("unknown scope `{other}`: use \"any\" or \"install\""),
            ))
        }
    };
    let ecosystems = spec
        .ecosystems
        .iter()
        .map(|e| {
            paddock_proto::ecosystem::parse(e)
                .map_err(|err| RuleError::rule(file, &id, err.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let matcher = compile_match(file, &id, &spec.matcher, flow, index, queries, yaras, 0)?;
    if matcher.is_manifest() && scope == Scope::Install {
        return Err(RuleError::rule(
            file,
            &id,
            "a manifest rule has no file scope",
        ));
    }
    let examples = spec
        .examples
        .into_iter()
        .map(|e| compile_example(file, &id, e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rule {
        id,
        title: spec.title,
        severity,
        confidence: spec.confidence,
        category,
        technique: spec.technique.unwrap_or_default(),
        description: spec.description,
        references: spec.references,
        scope,
        ecosystems,
        matcher,
        examples,
        origin: file.to_owned(),
    })
}

fn compile_example(file: &str, id: &str, e: ExampleSpec) -> Result<Example, RuleError> {
    let expect_match = match e.expect.as_str() {
        "match" => true,
        "no-match" => false,
        other => {
            return Err(RuleError::rule(
                file,
                id,
                format!("example expect `{other}`: use \"match\" or \"no-match\""),
            ))
        }
    };
    let mut files: Vec<(String, String)> = e.files.into_iter().collect();
    if let Some(code) = e.code {
        let path = e
            .file
            .ok_or_else(|| RuleError::rule(file, id, "an example with `code` names its `file`"))?;
        files.push((path, code));
    }
    if files.is_empty() {
        return Err(RuleError::rule(
            file,
            id,
            "an example needs `code` and `file`, or `files`",
        ));
    }
    let ecosystem = e
        .ecosystem
        .map(|s| {
            paddock_proto::ecosystem::parse(&s)
                .map_err(|err| RuleError::rule(file, id, err.to_string()))
        })
        .transpose()?;
    Ok(Example {
        expect_match,
        files,
        package: e.package.map(|p| (p.name, p.version)),
        ecosystem,
        registry: e.registry.map(|r| paddock_proto::v1::RegistryFacts {
            looked_up: true,
            age_days: r.age_days,
            previous_releases: r.previous_releases,
            maintainers_changed: r.maintainers_changed,
            note: String::new(),
        }),
    })
}

#[allow(clippy::too_many_arguments)]
fn compile_match(
    file: &str,
    id: &str,
    m: &MatchSpec,
    flow: &FlowClasses,
    index: usize,
    queries: &mut Vec<(usize, String, Language, String)>,
    yaras: &mut Vec<(usize, String, String)>,
    depth: usize,
) -> Result<Match, RuleError> {
    if depth > 4 {
        return Err(RuleError::rule(file, id, "matches nest at most four deep"));
    }
    let labels = |ids: &[String]| {
        flow.labels(ids).map_err(|unknown| {
            RuleError::rule(
                file,
                id,
                format!(
                    "unknown flow class `{unknown}`; classes: {}",
                    flow.classes()
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    };
    let mut parts = Vec::new();
    if let Some(p) = &m.present {
        parts.push(Match::Present(labels(p)?));
    }
    if let Some(a) = &m.absent {
        parts.push(Match::Absent(labels(a)?));
    }
    if let Some(f) = &m.flow {
        if f.from.is_empty() || f.to.is_empty() {
            return Err(RuleError::rule(
                file,
                id,
                "a flow names `from` and `to` classes",
            ));
        }
        parts.push(Match::Flow(crate::flow::FlowMatch {
            from: labels(&f.from)?,
            to: labels(&f.to)?,
            with: labels(&f.with)?,
            toward: labels(&f.toward)?,
            into: labels(&f.into)?,
            not_into: labels(&f.not_into)?,
        }));
    }
    if let Some(q) = &m.query {
        for one in q.clone().into_vec() {
            let lang = match one.language.as_str() {
                "javascript" | "js" => Language::Javascript,
                "typescript" | "ts" => Language::Typescript,
                "python" | "py" => Language::Python,
                "ruby" | "rb" => Language::Ruby,
                "php" => Language::Php,
                "rust" | "rs" => Language::Rust,
                other => {
                    return Err(RuleError::rule(
                        file,
                        id,
                        format!("unknown query language `{other}`: use javascript, typescript, python, ruby, php or rust"),
                    ))
                }
            };
            queries.push((index, file.to_owned(), lang, one.pattern));
        }
        parts.push(Match::Query);
    }
    if let Some(y) = &m.yara {
        yaras.push((index, file.to_owned(), y.clone()));
        parts.push(Match::Yara);
    }
    if let Some(s) = &m.signal {
        parts.push(Match::Signal(*s));
    }
    if let Some(f) = &m.manifest {
        parts.push(Match::Manifest(
            manifest::Fact::compile(f).map_err(|reason| RuleError::rule(file, id, reason))?,
        ));
    }
    for (list, all) in [(&m.all, true), (&m.any, false)] {
        if let Some(list) = list {
            if list.is_empty() {
                return Err(RuleError::rule(
                    file,
                    id,
                    "`all` and `any` need at least one match",
                ));
            }
            let compiled = list
                .iter()
                .map(|sub| compile_match(file, id, sub, flow, index, queries, yaras, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            parts.push(if all {
                Match::All(compiled)
            } else {
                Match::Any(compiled)
            });
        }
    }
    match parts.len() {
        0 => Err(RuleError::rule(
            file,
            id,
            "`match` needs one of present, absent, flow, query, yara, signal, manifest, all, any",
        )),
        1 => Ok(parts.pop().expect("one part")),
        // Several kinds in one table: all of them.
        _ => Ok(Match::All(parts)),
    }
}
