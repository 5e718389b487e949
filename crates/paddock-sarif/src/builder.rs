//! [`LogBuilder`]: one run of one tool, built rule by rule and result by
//! result, with the invariants every Paddock log keeps.
//!
//! - A result names a rule the log already has; its `ruleIndex` is that
//!   rule's index in `tool.driver.rules` ([`SarifError::UnknownRule`]
//!   otherwise). A rule added twice keeps its first definition.
//! - A location is a path relative to a declared base (`uriBaseId`,
//!   [`LogBuilder::base`]), written as a percent-encoded relative
//!   reference ([`crate::uri`]); an absolute path or one with `..` is an
//!   error, never written. The bases are declared without their absolute
//!   address: a log never holds a path of the machine that wrote it.
//! - Text from the package (messages, snippets) is bounded and its
//!   deceptive characters made visible ([`crate::text`]); a result has at
//!   most [`MAX_RELATED`] related locations and a log at most
//!   [`MAX_RESULTS`] results (GitHub's limit per run), the rest counted
//!   in a notification.
//!
//! ```
//! use paddock_proto::v1::Severity;
//! use paddock_sarif::{Location, LogBuilder, NewResult, RuleInfo};
//!
//! let mut log = LogBuilder::paddock();
//! log.base("LOCKFILEDIR", "the directory of the verified lockfile");
//! log.rule(&RuleInfo::new(
//!     "lockfile.digest-mismatch",
//!     "the registry serves other bytes than the lockfile pins",
//!     "The artifact's digest differs from the one the lockfile records.",
//!     Severity::High,
//! ));
//! log.result(
//!     NewResult::new("lockfile.digest-mismatch", "left-pad 1.3.0: sha512 differs")
//!         .at(Location::file("LOCKFILEDIR", "package-lock.json").line(42))
//!         .fingerprint("paddockLockfileEntry/v1", paddock_sarif::fingerprint(&["npm", "left-pad", "1.3.0"])),
//! )
//! .unwrap();
//! let log = log.build();
//! assert_eq!(log.runs[0].results[0].rule_index, 0);
//! ```

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::model::{
    ArtifactContent, ArtifactLocation, AutomationDetails, Invocation, Level, Log, LogicalLocation,
    Message, Notification, PhysicalLocation, PropertyBag, Region, ResultKind, Run, SarifResult,
    Tool, ToolComponent, SCHEMA_URI, VERSION,
};
use crate::rules::RuleInfo;
use crate::text::{bounded, clean};
use crate::uri::{relative_uri, UnsafePath};

/// The base of every location in a package's files: the package's root
/// as extracted.
pub const PACKAGE_ROOT: &str = "PACKAGEROOT";

/// The most results one log holds (GitHub code scanning's limit per run).
pub const MAX_RESULTS: usize = 25_000;
/// The most related locations one result holds.
pub const MAX_RELATED: usize = 10;
/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4096;
/// The longest snippet, in characters.
pub const MAX_SNIPPET_CHARS: usize = 1024;

/// Why a result could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SarifError {
    #[error(
        "a result of rule `{0}`: the log has no such rule; add it first with LogBuilder::rule"
    )]
    UnknownRule(String),
    #[error("uri base `{0}` is not declared: declare it first with LogBuilder::base")]
    UndeclaredBase(String),
    #[error(transparent)]
    UnsafePath(#[from] UnsafePath),
}

/// Where a result is: a file (or its base directory) relative to a
/// declared base, with an optional line, column, snippet and logical
/// locations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    /// The base the path is relative to (`PACKAGEROOT`, `LOCKFILEDIR`…).
    pub uri_base_id: String,
    /// `/`-separated, relative to the base, as the file is named (not
    /// percent-encoded: the builder encodes it). Empty: the base itself.
    pub path: String,
    /// 1-based.
    pub line: Option<u32>,
    /// 1-based; only written with a line.
    pub column: Option<u32>,
    /// The text at the line.
    pub snippet: Option<String>,
    /// What this location is, for a related location.
    pub message: Option<String>,
    /// Places that are not files (a sandbox phase).
    pub logical: Vec<LogicalLocation>,
}

impl Location {
    /// The file at `path` under `base`.
    pub fn file(base: &str, path: &str) -> Self {
        Self {
            uri_base_id: base.to_owned(),
            path: path.to_owned(),
            ..Self::default()
        }
    }

    /// The base directory itself (for what has no file: a behaviour of
    /// the whole package).
    pub fn base(base: &str) -> Self {
        Self::file(base, "")
    }

    /// At line `line` (0: none).
    pub fn line(mut self, line: u32) -> Self {
        self.line = (line > 0).then_some(line);
        self
    }

    /// At column `column` (0: none).
    pub fn column(mut self, column: u32) -> Self {
        self.column = (column > 0).then_some(column);
        self
    }

    /// With the text at the location (empty: none).
    pub fn snippet(mut self, snippet: &str) -> Self {
        self.snippet = (!snippet.is_empty()).then(|| snippet.to_owned());
        self
    }

    pub fn message(mut self, message: &str) -> Self {
        self.message = (!message.is_empty()).then(|| message.to_owned());
        self
    }

    pub fn logical(mut self, logical: LogicalLocation) -> Self {
        self.logical.push(logical);
        self
    }
}

/// A result to add: a rule, a message, where, and how to recognise it in
/// the next run.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResult {
    pub rule_id: String,
    /// None: the rule's default level.
    pub level: Option<Level>,
    pub kind: Option<ResultKind>,
    pub message: String,
    pub location: Option<Location>,
    pub related: Vec<Location>,
    /// `partialFingerprints`: a stable identity per scheme
    /// (`paddockFinding/v1` → hash).
    pub fingerprints: BTreeMap<String, String>,
    pub properties: PropertyBag,
}

impl NewResult {
    pub fn new(rule_id: &str, message: &str) -> Self {
        Self {
            rule_id: rule_id.to_owned(),
            level: None,
            kind: None,
            message: message.to_owned(),
            location: None,
            related: Vec::new(),
            fingerprints: BTreeMap::new(),
            properties: PropertyBag::new(),
        }
    }

    /// Its primary location.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// One more related location.
    pub fn related(mut self, location: Location) -> Self {
        self.related.push(location);
        self
    }

    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Reported for the record, not as a problem: kind `informational`,
    /// level `none` (as SARIF requires of a kind other than `fail`).
    pub fn informational(mut self) -> Self {
        self.kind = Some(ResultKind::Informational);
        self.level = Some(Level::None);
        self
    }

    pub fn fingerprint(mut self, scheme: &str, value: impl Into<String>) -> Self {
        self.fingerprints.insert(scheme.to_owned(), value.into());
        self
    }

    pub fn property(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(key.to_owned(), value.into());
        self
    }
}

/// One run of one tool, built up (see the module documentation).
#[derive(Debug, Clone)]
pub struct LogBuilder {
    driver: ToolComponent,
    rule_index: HashMap<String, usize>,
    bases: BTreeMap<String, ArtifactLocation>,
    results: Vec<SarifResult>,
    left_out: usize,
    properties: PropertyBag,
    category: Option<String>,
    invocation: Option<Invocation>,
}

impl LogBuilder {
    /// A log of the tool `name` at `version`.
    pub fn new(name: &str, version: &str) -> Self {
        let semver = {
            let core = version.split(['-', '+']).next().unwrap_or_default();
            let parts: Vec<&str> = core.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        Self {
            driver: ToolComponent {
                name: name.to_owned(),
                version: (!version.is_empty()).then(|| version.to_owned()),
                semantic_version: semver.then(|| version.to_owned()),
                rules: Vec::new(),
                properties: PropertyBag::new(),
            },
            rule_index: HashMap::new(),
            bases: BTreeMap::new(),
            results: Vec::new(),
            left_out: 0,
            properties: PropertyBag::new(),
            category: None,
            invocation: None,
        }
    }

    /// A log of Paddock at this build's version.
    pub fn paddock() -> Self {
        Self::new("paddock", env!("CARGO_PKG_VERSION"))
    }

    /// Declares a base of relative locations (`run.originalUriBaseIds`),
    /// described, without its absolute address.
    pub fn base(&mut self, id: &str, description: &str) -> &mut Self {
        self.bases.insert(
            id.to_owned(),
            ArtifactLocation {
                uri: None,
                uri_base_id: None,
                description: Some(Message {
                    text: description.to_owned(),
                }),
            },
        );
        self
    }

    /// Adds a rule (once: a second definition of an id is ignored) and
    /// returns its index.
    pub fn rule(&mut self, rule: &RuleInfo) -> usize {
        if let Some(&i) = self.rule_index.get(&rule.id) {
            return i;
        }
        let i = self.driver.rules.len();
        self.driver.rules.push(rule.descriptor());
        self.rule_index.insert(rule.id.clone(), i);
        i
    }

    /// Whether the log has the rule `id`.
    pub fn has_rule(&self, id: &str) -> bool {
        self.rule_index.contains_key(id)
    }

    /// A property of the tool (`tool.driver.properties`).
    pub fn tool_property(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.driver.properties.insert(key.to_owned(), value.into());
        self
    }

    /// A property of the run (`run.properties`).
    pub fn run_property(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.properties.insert(key.to_owned(), value.into());
        self
    }

    /// The run's category (`run.automationDetails.id`, written
    /// `category/`): GitHub keeps each category's alerts apart, so one
    /// package's upload does not close another's alerts.
    pub fn category(&mut self, category: &str) -> &mut Self {
        self.category = Some(category.trim_end_matches('/').to_owned());
        self
    }

    /// Whether the run completed, with what went wrong.
    pub fn invocation(&mut self, successful: bool, notes: &[(Level, String)]) -> &mut Self {
        self.invocation = Some(Invocation {
            execution_successful: successful,
            tool_execution_notifications: notes
                .iter()
                .map(|(level, text)| Notification {
                    message: Message {
                        text: bounded(&clean(text), MAX_MESSAGE_CHARS),
                    },
                    level: *level,
                })
                .collect(),
        });
        self
    }

    /// Adds a result; returns its index, or `None` when the log is full.
    pub fn result(&mut self, new: NewResult) -> Result<Option<usize>, SarifError> {
        let Some(&rule_index) = self.rule_index.get(&new.rule_id) else {
            return Err(SarifError::UnknownRule(new.rule_id));
        };
        let locations = match &new.location {
            Some(l) => vec![self.location(l, None)?],
            None => Vec::new(),
        };
        let mut related = Vec::new();
        for (i, l) in new.related.iter().take(MAX_RELATED).enumerate() {
            related.push(self.location(l, Some(i as u64 + 1))?);
        }
        let mut properties = new.properties;
        if new.related.len() > MAX_RELATED {
            properties.insert(
                "relatedLocationsLeftOut".into(),
                Value::from(new.related.len() - MAX_RELATED),
            );
        }
        if self.results.len() >= MAX_RESULTS {
            self.left_out += 1;
            return Ok(None);
        }
        let level = match (new.kind, new.level) {
            (Some(ResultKind::Informational), _) => Level::None,
            (_, Some(level)) => level,
            (_, None) => self.driver.rules[rule_index]
                .default_configuration
                .as_ref()
                .map_or(Level::Warning, |c| c.level),
        };
        self.results.push(SarifResult {
            rule_id: new.rule_id,
            rule_index,
            kind: new.kind,
            level,
            message: Message {
                text: bounded(&clean(&new.message), MAX_MESSAGE_CHARS),
            },
            locations,
            related_locations: related,
            partial_fingerprints: new.fingerprints,
            properties,
        });
        Ok(Some(self.results.len() - 1))
    }

    fn location(
        &self,
        l: &Location,
        id: Option<u64>,
    ) -> Result<crate::model::Location, SarifError> {
        if !self.bases.contains_key(&l.uri_base_id) {
            return Err(SarifError::UndeclaredBase(l.uri_base_id.clone()));
        }
        let uri = relative_uri(&l.path)?;
        let region = l.line.map(|line| Region {
            start_line: line,
            start_column: l.column,
            snippet: l.snippet.as_ref().map(|s| ArtifactContent {
                text: bounded(&clean(s), MAX_SNIPPET_CHARS),
            }),
        });
        Ok(crate::model::Location {
            id,
            physical_location: Some(PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: Some(uri),
                    uri_base_id: Some(l.uri_base_id.clone()),
                    description: None,
                },
                region,
            }),
            logical_locations: l.logical.clone(),
            message: l.message.as_ref().map(|m| Message {
                text: bounded(&clean(m), MAX_MESSAGE_CHARS),
            }),
        })
    }

    /// The log: one run.
    pub fn build(self) -> Log {
        let mut invocations: Vec<Invocation> = self.invocation.into_iter().collect();
        if self.left_out > 0 {
            let note = Notification {
                message: Message {
                    text: format!(
                        "results left out: {} (a log holds at most {MAX_RESULTS})",
                        self.left_out
                    ),
                },
                level: Level::Warning,
            };
            match invocations.first_mut() {
                Some(i) => i.tool_execution_notifications.push(note),
                None => invocations.push(Invocation {
                    execution_successful: true,
                    tool_execution_notifications: vec![note],
                }),
            }
        }
        Log {
            schema: SCHEMA_URI.to_owned(),
            version: VERSION.to_owned(),
            runs: vec![Run {
                tool: Tool {
                    driver: self.driver,
                },
                invocations,
                original_uri_base_ids: self.bases,
                automation_details: self.category.map(|c| AutomationDetails {
                    id: format!("{c}/"),
                }),
                results: self.results,
                properties: self.properties,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use paddock_proto::v1::Severity;

    use super::*;

    fn builder() -> LogBuilder {
        let mut b = LogBuilder::new("t", "1.2.3");
        b.base("ROOT", "the root");
        b.rule(&RuleInfo::new("r.one", "one", "", Severity::Medium));
        b
    }

    #[test]
    fn a_result_needs_its_rule_and_a_declared_base() {
        let mut b = builder();
        assert_eq!(
            b.result(NewResult::new("r.two", "m")),
            Err(SarifError::UnknownRule("r.two".into()))
        );
        assert_eq!(
            b.result(NewResult::new("r.one", "m").at(Location::file("ELSEWHERE", "a"))),
            Err(SarifError::UndeclaredBase("ELSEWHERE".into()))
        );
        assert!(matches!(
            b.result(NewResult::new("r.one", "m").at(Location::file("ROOT", "../a"))),
            Err(SarifError::UnsafePath(_))
        ));
        assert_eq!(b.result(NewResult::new("r.one", "m")), Ok(Some(0)));
    }

    #[test]
    fn a_rule_added_twice_keeps_its_first_index_and_definition() {
        let mut b = builder();
        let again = b.rule(&RuleInfo::new("r.one", "other", "", Severity::Critical));
        assert_eq!(again, 0);
        let log = b.build();
        let rules = &log.runs[0].tool.driver.rules;
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].short_description.as_ref().unwrap().text, "one");
    }

    #[test]
    fn levels_come_from_the_result_else_the_rule_and_informational_is_none() {
        let mut b = builder();
        b.result(NewResult::new("r.one", "a")).unwrap();
        b.result(NewResult::new("r.one", "b").level(Level::Error))
            .unwrap();
        b.result(
            NewResult::new("r.one", "c")
                .level(Level::Error)
                .informational(),
        )
        .unwrap();
        let levels: Vec<Level> = b.build().runs[0].results.iter().map(|r| r.level).collect();
        assert_eq!(levels, [Level::Warning, Level::Error, Level::None]);
    }

    #[test]
    fn regions_need_a_line_and_related_locations_are_capped_with_ids() {
        let mut b = builder();
        let mut r = NewResult::new("r.one", "m")
            .at(Location::file("ROOT", "a.js").snippet("x()").column(3));
        for i in 0..(MAX_RELATED + 2) {
            r = r.related(Location::file("ROOT", &format!("f{i}.js")).line(1));
        }
        b.result(r).unwrap();
        let log = b.build();
        let result = &log.runs[0].results[0];
        let primary = result.locations[0].physical_location.as_ref().unwrap();
        assert!(primary.region.is_none(), "no line, no region");
        assert_eq!(result.related_locations.len(), MAX_RELATED);
        let ids: Vec<u64> = result
            .related_locations
            .iter()
            .map(|l| l.id.unwrap())
            .collect();
        assert_eq!(ids, (1..=MAX_RELATED as u64).collect::<Vec<_>>());
        assert_eq!(result.properties["relatedLocationsLeftOut"], 2);
    }

    #[test]
    fn a_full_log_counts_what_it_left_out() {
        let mut b = builder();
        for _ in 0..MAX_RESULTS {
            b.result(NewResult::new("r.one", "m")).unwrap();
        }
        assert_eq!(b.result(NewResult::new("r.one", "m")), Ok(None));
        let log = b.build();
        assert_eq!(log.runs[0].results.len(), MAX_RESULTS);
        let note = &log.runs[0].invocations[0].tool_execution_notifications[0];
        assert!(note.message.text.starts_with("results left out: 1 "));
    }

    #[test]
    fn versions_that_are_semver_are_also_semantic_versions() {
        let d = LogBuilder::new("t", "0.1.0").build().runs[0]
            .tool
            .driver
            .clone();
        assert_eq!(d.semantic_version.as_deref(), Some("0.1.0"));
        let d = LogBuilder::new("t", "dev").build().runs[0]
            .tool
            .driver
            .clone();
        assert_eq!(
            (d.version.as_deref(), d.semantic_version),
            (Some("dev"), None)
        );
    }
}
