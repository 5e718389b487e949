//! Code-structure rules: tree-sitter queries, compiled once per language
//! into one query (each rule's patterns keep their indices), run in one
//! pass over a file's tree with a match limit and the file's deadline.

use std::collections::HashMap;
use std::time::Instant;

use paddock_proto::v1::Language;
use tree_sitter::{Node, Query, QueryCursor, QueryCursorOptions, StreamingIterator};

use super::{Rule, RuleError};
use crate::flow::Site;

/// In-progress matches a query cursor keeps, at most: bounds the memory
/// of a pathological pattern.
const MATCH_LIMIT: u32 = 256;

/// The compiled queries of one language.
#[derive(Debug)]
struct LanguageQueries {
    query: Query,
    /// Pattern index → rule index.
    rule_of: Vec<usize>,
    /// Per pattern: the capture index of the evidence.
    hit_capture: Vec<Option<u32>>,
}

/// Every rule's queries.
#[derive(Debug, Default)]
pub struct Queries {
    by_language: HashMap<i32, LanguageQueries>,
}

impl Queries {
    /// Compiles `(rule index, file, language, pattern)`; a pattern that
    /// does not compile is an error naming its file, rule, line and column.
    pub fn compile(
        specs: &[(usize, String, Language, String)],
        rules: &[Rule],
    ) -> Result<Self, RuleError> {
        let mut grouped: HashMap<i32, Vec<&(usize, String, Language, String)>> = HashMap::new();
        for s in specs {
            grouped.entry(s.2 as i32).or_default().push(s);
            if s.2 == Language::Javascript {
                // JavaScript patterns also run on TypeScript.
                grouped
                    .entry(Language::Typescript as i32)
                    .or_default()
                    .push(s);
            }
        }
        let mut by_language = HashMap::new();
        for (lang, list) in grouped {
            let lang = Language::try_from(lang).unwrap_or(Language::Unspecified);
            let Some(grammar) = crate::parse::grammar_of(lang) else {
                // The grammar is not compiled in: its rules cannot fire.
                continue;
            };
            let mut source = String::new();
            let mut rule_of = Vec::new();
            for (rule, file, _, pattern) in &list {
                let one = Query::new(&grammar, pattern).map_err(|e| {
                    RuleError::rule(
                        file,
                        &rules.get(*rule).map_or(String::new(), |r| r.id.clone()),
                        format!(
                            "tree-sitter query does not compile at line {}, column {}: {:?} error: {}",
                            e.row + 1,
                            e.column + 1,
                            e.kind,
                            e.message
                        ),
                    )
                })?;
                for _ in 0..one.pattern_count() {
                    rule_of.push(*rule);
                }
                source.push_str(pattern);
                source.push('\n');
            }
            let query = Query::new(&grammar, &source).map_err(|e| RuleError::File {
                file: "rules".into(),
                reason: format!("the combined queries do not compile: {}", e.message),
            })?;
            let names = query.capture_names();
            let hit = names.iter().position(|n| *n == "hit").map(|i| i as u32);
            let hit_capture = (0..query.pattern_count()).map(|_| hit).collect();
            by_language.insert(
                lang as i32,
                LanguageQueries {
                    query,
                    rule_of,
                    hit_capture,
                },
            );
        }
        Ok(Self { by_language })
    }

    pub fn is_empty_for(&self, lang: Language) -> bool {
        !self.by_language.contains_key(&(lang as i32))
    }

    /// Rules whose queries match under `root`, each with its first site.
    pub fn run(
        &self,
        lang: Language,
        root: Node<'_>,
        source: &[u8],
        deadline: Instant,
    ) -> (HashMap<usize, Site>, bool) {
        let mut hits = HashMap::new();
        let Some(q) = self.by_language.get(&(lang as i32)) else {
            return (hits, false);
        };
        let mut cursor = QueryCursor::new();
        cursor.set_match_limit(MATCH_LIMIT);
        let mut timed_out = false;
        let mut progress = |_: &tree_sitter::QueryCursorState| {
            timed_out = Instant::now() > deadline;
            timed_out
        };
        let options = QueryCursorOptions::new().progress_callback(&mut progress);
        let mut matches = cursor.matches_with_options(&q.query, root, source, options);
        while let Some(m) = matches.next() {
            let Some(rule) = q.rule_of.get(m.pattern_index).copied() else {
                continue;
            };
            if hits.contains_key(&rule) {
                continue;
            }
            let wanted = q.hit_capture.get(m.pattern_index).copied().flatten();
            let node = m
                .captures
                .iter()
                .find(|c| Some(c.index) == wanted)
                .or(m.captures.first())
                .map(|c| c.node);
            if let Some(node) = node {
                let text = String::from_utf8_lossy(&source[node.byte_range()]);
                hits.insert(
                    rule,
                    Site {
                        line: node.start_position().row as u32 + 1,
                        snippet: text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .chars()
                            .take(160)
                            .collect(),
                    },
                );
            }
        }
        drop(matches);
        (hits, timed_out || cursor.did_exceed_match_limit())
    }
}
