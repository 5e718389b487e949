//! Tree-sitter parsing for JavaScript/TypeScript, Python, Ruby, PHP and
//! Rust (each grammar behind a cargo feature), and the facts extracted from
//! a tree: identifiers with their kind, string literals (raw and decoded),
//! numbers, comments, calls and imports.
//!
//! The walk is iterative (a tree cursor, no recursion), so a file nested
//! 10,000 levels deep cannot overflow the stack; a parse that runs past its
//! deadline stops and the file is recorded as truncated. Files with syntax
//! errors are analysed as far as the tree goes, and the error nodes counted.

use std::time::{Duration, Instant};

use paddock_proto::v1::{
    Call, Comment, FloatLiteral, Identifier, IdentifierKind, Import, IntLiteral, Language,
    ParseFacts, StringLiteral,
};
use tree_sitter::{Node, Parser};

/// Node kinds that mean the same thing across grammars.
struct Spec {
    identifiers: &'static [&'static str],
    strings: &'static [&'static str],
    integers: &'static [&'static str],
    floats: &'static [&'static str],
    comments: &'static [&'static str],
    /// (call node kind, field naming the callee)
    calls: &'static [(&'static str, &'static str)],
    /// Statements whose text names a module.
    imports: &'static [&'static str],
    /// Calls whose first string argument names a module (`require`).
    import_calls: &'static [&'static str],
    /// (parent kind, field) → identifier kind.
    kinds: &'static [(&'static str, &'static str, IdentifierKind)],
}

const JS: Spec = Spec {
    identifiers: &[
        "identifier",
        "property_identifier",
        "shorthand_property_identifier",
        "private_property_identifier",
    ],
    strings: &["string", "template_string"],
    integers: &["number"],
    floats: &[],
    comments: &["comment"],
    calls: &[
        ("call_expression", "function"),
        ("new_expression", "constructor"),
    ],
    imports: &["import_statement", "export_statement"],
    import_calls: &["require", "import"],
    kinds: &[
        ("variable_declarator", "name", IdentifierKind::Variable),
        ("function_declaration", "name", IdentifierKind::Function),
        ("function_expression", "name", IdentifierKind::Function),
        (
            "generator_function_declaration",
            "name",
            IdentifierKind::Function,
        ),
        ("method_definition", "name", IdentifierKind::Function),
        ("class_declaration", "name", IdentifierKind::Class),
        ("class", "name", IdentifierKind::Class),
        ("formal_parameters", "", IdentifierKind::Parameter),
        ("pair", "key", IdentifierKind::Property),
        ("member_expression", "property", IdentifierKind::Member),
    ],
};

const PYTHON: Spec = Spec {
    identifiers: &["identifier"],
    strings: &["string"],
    integers: &["integer"],
    floats: &["float"],
    comments: &["comment"],
    calls: &[("call", "function")],
    imports: &["import_statement", "import_from_statement"],
    import_calls: &["__import__", "import_module"],
    kinds: &[
        ("function_definition", "name", IdentifierKind::Function),
        ("class_definition", "name", IdentifierKind::Class),
        ("parameters", "", IdentifierKind::Parameter),
        ("default_parameter", "name", IdentifierKind::Parameter),
        ("typed_parameter", "", IdentifierKind::Parameter),
        ("assignment", "left", IdentifierKind::Variable),
        ("attribute", "attribute", IdentifierKind::Member),
        ("keyword_argument", "name", IdentifierKind::Property),
    ],
};

const RUBY: Spec = Spec {
    identifiers: &["identifier", "constant"],
    strings: &["string"],
    integers: &["integer"],
    floats: &["float"],
    comments: &["comment"],
    calls: &[("call", "method")],
    imports: &[],
    import_calls: &["require", "require_relative", "load"],
    kinds: &[
        ("method", "name", IdentifierKind::Function),
        ("singleton_method", "name", IdentifierKind::Function),
        ("class", "name", IdentifierKind::Class),
        ("module", "name", IdentifierKind::Class),
        ("method_parameters", "", IdentifierKind::Parameter),
        ("assignment", "left", IdentifierKind::Variable),
        ("call", "method", IdentifierKind::Member),
    ],
};

const PHP: Spec = Spec {
    identifiers: &["name", "variable_name"],
    strings: &["string", "encapsed_string"],
    integers: &["integer"],
    floats: &["float"],
    comments: &["comment"],
    calls: &[
        ("function_call_expression", "function"),
        ("member_call_expression", "name"),
        ("scoped_call_expression", "name"),
    ],
    imports: &[
        "namespace_use_declaration",
        "include_expression",
        "include_once_expression",
        "require_expression",
        "require_once_expression",
    ],
    import_calls: &[],
    kinds: &[
        ("function_definition", "name", IdentifierKind::Function),
        ("method_declaration", "name", IdentifierKind::Function),
        ("class_declaration", "name", IdentifierKind::Class),
        ("simple_parameter", "name", IdentifierKind::Parameter),
        ("assignment_expression", "left", IdentifierKind::Variable),
        ("member_access_expression", "name", IdentifierKind::Member),
    ],
};

const RUST: Spec = Spec {
    identifiers: &["identifier", "field_identifier", "type_identifier"],
    strings: &["string_literal", "raw_string_literal"],
    integers: &["integer_literal"],
    floats: &["float_literal"],
    comments: &["line_comment", "block_comment"],
    calls: &[
        ("call_expression", "function"),
        ("macro_invocation", "macro"),
    ],
    imports: &["use_declaration", "extern_crate_declaration", "mod_item"],
    import_calls: &[],
    kinds: &[
        ("function_item", "name", IdentifierKind::Function),
        ("struct_item", "name", IdentifierKind::Class),
        ("enum_item", "name", IdentifierKind::Class),
        ("parameter", "pattern", IdentifierKind::Parameter),
        ("let_declaration", "pattern", IdentifierKind::Variable),
        ("field_expression", "field", IdentifierKind::Member),
    ],
};

/// The grammar and node tables for a language, when its feature is on.
fn grammar(lang: Language, path: &str) -> Option<(tree_sitter::Language, &'static Spec)> {
    match lang {
        #[cfg(feature = "javascript")]
        Language::Javascript => Some((tree_sitter_javascript::LANGUAGE.into(), &JS)),
        #[cfg(feature = "typescript")]
        Language::Typescript => {
            let grammar = if path.ends_with(".tsx") {
                tree_sitter_typescript::LANGUAGE_TSX
            } else {
                tree_sitter_typescript::LANGUAGE_TYPESCRIPT
            };
            Some((grammar.into(), &JS))
        }
        #[cfg(feature = "python")]
        Language::Python => Some((tree_sitter_python::LANGUAGE.into(), &PYTHON)),
        #[cfg(feature = "ruby")]
        Language::Ruby => Some((tree_sitter_ruby::LANGUAGE.into(), &RUBY)),
        #[cfg(feature = "php")]
        Language::Php => Some((tree_sitter_php::LANGUAGE_PHP.into(), &PHP)),
        #[cfg(feature = "rust")]
        Language::Rust => Some((tree_sitter_rust::LANGUAGE.into(), &RUST)),
        _ => {
            let _ = path;
            None
        }
    }
}

/// The grammar of `lang`, when its feature is on (TypeScript: not TSX).
pub fn grammar_of(lang: Language) -> Option<tree_sitter::Language> {
    grammar(lang, "").map(|(g, _)| g)
}

/// Whether this build can parse `lang`.
pub fn supported(lang: Language) -> bool {
    grammar(lang, "").is_some()
}

/// Bounds on one file's parse.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub deadline: Duration,
    /// Facts kept per kind (identifiers, strings…) per file.
    pub max_items: usize,
    /// Characters kept of one literal or comment.
    pub max_text: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(10),
            max_items: 20_000,
            max_text: 4096,
        }
    }
}

/// Parses `source` and nothing else: the baseline the benchmark compares
/// the full analysis with. Returns whether a tree was produced.
pub fn parse_only(lang: Language, path: &str, source: &[u8]) -> bool {
    let Some((language, _)) = grammar(lang, path) else {
        return false;
    };
    let mut parser = Parser::new();
    parser.set_language(&language).is_ok() && parser.parse(source, None).is_some()
}

/// Parses `source` as `lang` and extracts its facts; `None` when the
/// language is not compiled in.
pub fn parse(
    lang: Language,
    path: &str,
    source: &[u8],
    limits: &ParseLimits,
) -> Option<ParseFacts> {
    parse_with_tree(lang, path, source, limits).map(|(facts, _)| facts)
}

/// Parses `source` within `deadline`; `None` when the language is not
/// compiled in or no tree came out.
pub fn parse_tree(
    lang: Language,
    path: &str,
    source: &[u8],
    deadline: Instant,
) -> Option<tree_sitter::Tree> {
    let (language, _) = grammar(lang, path)?;
    tree_within(&language, source, deadline).0
}

fn tree_within(
    language: &tree_sitter::Language,
    source: &[u8],
    deadline: Instant,
) -> (Option<tree_sitter::Tree>, bool) {
    let mut parser = Parser::new();
    if parser.set_language(language).is_err() {
        return (None, false);
    }
    let mut timed_out = false;
    // The callback runs very often: look at the clock every 1,024 calls.
    let mut calls = 0u32;
    let mut progress = |_: &tree_sitter::ParseState| {
        calls = calls.wrapping_add(1);
        if calls.is_multiple_of(1024) {
            timed_out = Instant::now() > deadline;
        }
        timed_out
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
    let len = source.len();
    let tree = parser.parse_with_options(
        &mut |offset, _| {
            if offset < len {
                &source[offset..]
            } else {
                &[][..]
            }
        },
        None,
        Some(options),
    );
    (tree, timed_out)
}

/// Parses `source` and extracts its facts, keeping the tree for the rules.
pub fn parse_with_tree(
    lang: Language,
    path: &str,
    source: &[u8],
    limits: &ParseLimits,
) -> Option<(ParseFacts, Option<tree_sitter::Tree>)> {
    let (language, spec) = grammar(lang, path)?;
    let deadline = Instant::now() + limits.deadline;
    let (tree, timed_out) = tree_within(&language, source, deadline);
    let Some(tree) = tree else {
        return Some((
            ParseFacts {
                truncated: true,
                ..Default::default()
            },
            None,
        ));
    };
    let mut facts = extract(tree.root_node(), source, spec, limits);
    facts.truncated |= timed_out;
    Some((facts, Some(tree)))
}

fn extract(root: Node<'_>, source: &[u8], spec: &Spec, limits: &ParseLimits) -> ParseFacts {
    let mut facts = ParseFacts::default();
    let text = |node: Node<'_>| String::from_utf8_lossy(&source[node.byte_range()]).into_owned();
    let bounded = |s: String| -> String {
        if s.len() <= limits.max_text {
            s
        } else {
            let mut end = limits.max_text;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_owned()
        }
    };
    let line = |node: Node<'_>| node.start_position().row as u32 + 1;
    let mut identifier_lengths = std::collections::BTreeMap::<i64, u64>::new();
    let mut string_lengths = std::collections::BTreeMap::<i64, u64>::new();

    let mut cursor = root.walk();
    // Kinds of the current node's ancestors (parent last): asking a node
    // for its parent walks down from the root, which is slow.
    let mut ancestors: Vec<&'static str> = Vec::new();
    loop {
        let node = cursor.node();
        let kind = node.kind();
        let mut skip_children = false;
        if node.is_error() || node.is_missing() {
            facts.syntax_errors += 1;
        }
        if spec.identifiers.contains(&kind) && facts.identifiers.len() < limits.max_items {
            let name = text(node);
            *identifier_lengths
                .entry(name.chars().count() as i64)
                .or_default() += 1;
            facts.identifiers.push(Identifier {
                kind: identifier_kind(ancestors.last().copied(), cursor.field_name(), spec) as i32,
                entropy: crate::signals::entropy(&name),
                line: line(node),
                name: bounded(name),
            });
        } else if spec.strings.contains(&kind) {
            if facts.string_literals.len() < limits.max_items {
                let raw = text(node);
                let value = decode_literal(&raw);
                *string_lengths
                    .entry(value.chars().count() as i64)
                    .or_default() += 1;
                facts.string_literals.push(StringLiteral {
                    entropy: crate::signals::entropy(&value),
                    line: line(node),
                    value: bounded(value),
                    raw: bounded(raw),
                });
            }
            // A string's parts (fragments, escapes) are not separate facts;
            // template substitutions are, but rarely matter for signals.
            skip_children = kind != "template_string";
        } else if spec.integers.contains(&kind) || spec.floats.contains(&kind) {
            let raw = text(node);
            let cleaned = raw.replace('_', "");
            let int = parse_int(&cleaned);
            match int {
                Some(value) if facts.int_literals.len() < limits.max_items => {
                    facts.int_literals.push(IntLiteral {
                        value,
                        raw,
                        line: line(node),
                    })
                }
                None if facts.float_literals.len() < limits.max_items => {
                    facts.float_literals.push(FloatLiteral {
                        value: cleaned
                            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
                            .parse()
                            .unwrap_or(f64::NAN),
                        raw,
                        line: line(node),
                    })
                }
                _ => {}
            }
        } else if spec.comments.contains(&kind) && facts.comments.len() < limits.max_items {
            facts.comments.push(Comment {
                text: bounded(text(node)),
                line: line(node),
            });
        } else if spec.imports.contains(&kind) && facts.imports.len() < limits.max_items {
            let module = import_module(node, source).unwrap_or_else(|| text(node));
            if !module.is_empty() {
                facts.imports.push(Import {
                    module: bounded(module),
                    line: line(node),
                });
            }
        }
        if let Some((_, field)) = spec.calls.iter().find(|(k, _)| *k == kind) {
            if facts.calls.len() < limits.max_items {
                let callee = node
                    .child_by_field_name(field)
                    .map(text)
                    .unwrap_or_default();
                let callee = match (
                    kind,
                    node.child_by_field_name("receiver")
                        .or_else(|| node.child_by_field_name("object")),
                ) {
                    ("call" | "member_call_expression", Some(receiver)) => {
                        format!("{}.{callee}", text(receiver))
                    }
                    _ => callee,
                };
                let args = node.child_by_field_name("arguments");
                let arg_count = args.map(|a| a.named_child_count() as u32).unwrap_or(0);
                let bare = callee
                    .rsplit(['.', ':'])
                    .next()
                    .unwrap_or(&callee)
                    .to_owned();
                if spec.import_calls.contains(&bare.as_str()) {
                    if let Some(first) = args.and_then(|a| a.named_child(0)) {
                        if spec.strings.contains(&first.kind()) {
                            facts.imports.push(Import {
                                module: decode_literal(&text(first)),
                                line: line(node),
                            });
                        }
                    }
                }
                // The first argument's text, whitespace folded and bounded.
                let first_argument = args
                    .and_then(|a| a.named_child(0))
                    .map(|a| {
                        text(a)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .chars()
                            .take(120)
                            .collect()
                    })
                    .unwrap_or_default();
                facts.calls.push(Call {
                    callee: bounded(callee.split_whitespace().collect::<Vec<_>>().join(" ")),
                    line: line(node),
                    arg_count,
                    first_argument,
                });
            }
        }

        // Next node in document order, without recursion.
        if !skip_children && cursor.goto_first_child() {
            ancestors.push(kind);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            ancestors.pop();
            if !cursor.goto_parent() {
                facts.identifier_lengths = counts(identifier_lengths);
                facts.string_lengths = counts(string_lengths);
                return facts;
            }
        }
    }
}

fn counts(map: std::collections::BTreeMap<i64, u64>) -> Vec<paddock_proto::v1::ValueCount> {
    map.into_iter()
        .map(|(value, count)| paddock_proto::v1::ValueCount { value, count })
        .collect()
}

fn identifier_kind(parent: Option<&str>, field: Option<&str>, spec: &Spec) -> IdentifierKind {
    let Some(parent) = parent else {
        return IdentifierKind::Other;
    };
    spec.kinds
        .iter()
        .find(|(parent_kind, wanted, _)| {
            *parent_kind == parent && (wanted.is_empty() || Some(*wanted) == field)
        })
        .map_or(IdentifierKind::Other, |(_, _, kind)| *kind)
}

fn import_module(node: Node<'_>, source: &[u8]) -> Option<String> {
    let text = |n: Node<'_>| String::from_utf8_lossy(&source[n.byte_range()]).into_owned();
    if let Some(src) = node
        .child_by_field_name("source")
        .or_else(|| node.child_by_field_name("module_name"))
    {
        return Some(decode_literal(&text(src)));
    }
    if node.kind() == "mod_item" {
        // Rust `mod x;` (a file of the crate); `mod x { … }` is inline.
        if node.child_by_field_name("body").is_some() {
            return Some(String::new());
        }
        return node
            .child_by_field_name("name")
            .map(|n| format!("mod:{}", text(n)));
    }
    if node.kind() == "import_statement" {
        // Python `import a.b, c`: the first dotted name.
        let mut cursor = node.walk();
        let found = node
            .named_children(&mut cursor)
            .find(|c| c.kind() == "dotted_name" || c.kind() == "aliased_import")
            .map(text);
        return found.map(|t| t.split_whitespace().next().unwrap_or_default().to_owned());
    }
    None
}

fn parse_int(raw: &str) -> Option<i64> {
    let lower = raw.to_ascii_lowercase();
    let lower = lower
        .trim_end_matches(['n', 'l', 'u', 'i', 's', 'z', '8', '1', '2', '3', '4', '6'])
        .to_owned();
    let digits = if lower.is_empty() {
        raw.to_ascii_lowercase()
    } else {
        lower
    };
    if let Some(hex) = digits.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    if let Some(bin) = digits.strip_prefix("0b") {
        return i64::from_str_radix(bin, 2).ok();
    }
    raw.parse().ok()
}

/// The value of a string literal as written: quotes and prefixes removed,
/// common escapes decoded (`\n`, `\xHH`, `\uHHHH`, `\u{…}`, octal).
pub fn decode_literal(raw: &str) -> String {
    let trimmed = raw.trim();
    // Prefixes before the opening quote: Python r/b/u/f, Rust r#/b. Text
    // with no quote at all is not a literal and is returned as it is.
    let Some(quote) = trimmed.find(['"', '\'', '`']) else {
        return trimmed.to_owned();
    };
    let prefix = &trimmed[..quote];
    if prefix.len() > 4 || !prefix.chars().all(|c| c.is_ascii_alphabetic() || c == '#') {
        return trimmed.to_owned();
    }
    let raw_string = prefix.contains(['r', 'R']);
    let body = strip_quotes(trimmed[quote..].trim_end_matches('#'));
    if raw_string {
        return body.to_owned();
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') if !chars.peek().is_some_and(char::is_ascii_digit) => out.push('\0'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&format!("\\x{hex}")),
                }
            }
            Some('u') => {
                let code = if chars.peek() == Some(&'{') {
                    chars.next();
                    chars.by_ref().take_while(|c| *c != '}').collect::<String>()
                } else {
                    chars.by_ref().take(4).collect::<String>()
                };
                match u32::from_str_radix(&code, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&format!("\\u{code}")),
                }
            }
            Some(d @ '0'..='7') => {
                let mut code = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(n) => {
                            code = code * 8 + n;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn strip_quotes(s: &str) -> &str {
    for q in ["\"\"\"", "'''", "\"", "'", "`"] {
        if s.len() >= 2 * q.len() && s.starts_with(q) && s.ends_with(q) {
            return &s[q.len()..s.len() - q.len()];
        }
    }
    s.trim_matches(|c| c == '"' || c == '\'' || c == '`' || c == '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(lang: Language, path: &str, src: &str) -> ParseFacts {
        parse(lang, path, src.as_bytes(), &ParseLimits::default()).expect("language compiled in")
    }

    #[test]
    fn javascript_calls_strings_imports() {
        let f = facts(
            Language::Javascript,
            "index.js",
            "const cp = require('child_process');\n// run it\nfunction go(cmd) { cp.exec(Buffer.from('aWQ=', 'base64').toString()); }\nimport x from \"os\";\n",
        );
        let callees: Vec<&str> = f.calls.iter().map(|c| c.callee.as_str()).collect();
        assert!(
            callees.contains(&"require")
                && callees.contains(&"cp.exec")
                && callees.contains(&"Buffer.from"),
            "{callees:?}"
        );
        let modules: Vec<&str> = f.imports.iter().map(|i| i.module.as_str()).collect();
        assert!(
            modules.contains(&"child_process") && modules.contains(&"os"),
            "{modules:?}"
        );
        assert!(f
            .string_literals
            .iter()
            .any(|s| s.value == "aWQ=" && s.raw == "'aWQ='"));
        assert_eq!(f.comments[0].text, "// run it");
        let go = f.identifiers.iter().find(|i| i.name == "go").unwrap();
        assert_eq!(go.kind, IdentifierKind::Function as i32);
        let cmd = f.identifiers.iter().find(|i| i.name == "cmd").unwrap();
        assert_eq!(cmd.kind, IdentifierKind::Parameter as i32);
        assert_eq!(f.syntax_errors, 0);
    }

    #[test]
    fn python_ruby_php_rust_parse() {
        let py = facts(
            Language::Python,
            "setup.py",
            "import os, sys\nfrom urllib import request\nos.system('id')\nx = 0x1F\n",
        );
        assert!(py.calls.iter().any(|c| c.callee == "os.system"));
        assert!(
            py.imports.iter().any(|i| i.module == "os")
                && py.imports.iter().any(|i| i.module == "urllib")
        );
        assert_eq!(py.int_literals[0].value, 31);

        let rb = facts(
            Language::Ruby,
            "ext/extconf.rb",
            "require 'mkmf'\nsystem('id')\nKernel.exec(\"sh\")\n",
        );
        assert!(
            rb.imports.iter().any(|i| i.module == "mkmf"),
            "{:?}",
            rb.imports
        );
        assert!(
            rb.calls.iter().any(|c| c.callee == "system"),
            "{:?}",
            rb.calls
        );
        assert!(
            rb.calls.iter().any(|c| c.callee == "Kernel.exec"),
            "{:?}",
            rb.calls
        );

        let php = facts(
            Language::Php,
            "x.php",
            "<?php\nsystem($_GET['c']);\n$f = \"\\x65val\";\n",
        );
        assert!(
            php.calls.iter().any(|c| c.callee == "system"),
            "{:?}",
            php.calls
        );
        assert!(
            php.string_literals.iter().any(|s| s.value == "eval"),
            "{:?}",
            php.string_literals
        );

        let rs = facts(Language::Rust, "build.rs", "use std::process::Command;\nfn main() { Command::new(\"sh\").status(); println!(\"x\"); }\n");
        assert!(
            rs.calls.iter().any(|c| c.callee == "Command::new"),
            "{:?}",
            rs.calls
        );
        assert!(rs
            .imports
            .iter()
            .any(|i| i.module.contains("std::process::Command")));
    }

    #[test]
    fn syntax_errors_are_counted_and_the_rest_analysed() {
        let f = facts(
            Language::Javascript,
            "broken.js",
            "function (( {\nconst url = 'http://192.0.2.1/x';\n",
        );
        assert!(f.syntax_errors > 0);
        assert!(f
            .string_literals
            .iter()
            .any(|s| s.value.contains("192.0.2.1")));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let src = format!("x = {}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let f = facts(Language::Python, "deep.py", &src);
        assert_eq!(f.int_literals.len(), 1);
    }

    #[test]
    fn literals_decode() {
        assert_eq!(
            decode_literal(r#""\x65\x76al\u0021\u{1F600}\101""#),
            "eval!😀A"
        );
        assert_eq!(decode_literal(r#"r"\x65""#), r"\x65");
        assert_eq!(decode_literal("'''doc'''"), "doc");
        assert_eq!(decode_literal("`tmpl`"), "tmpl");
    }
}
