//! `partialFingerprints`: how a consumer (GitHub code scanning) knows a
//! result of this run for the same result of an earlier one, so that an
//! alert stays one alert across runs instead of closing and reopening.
//!
//! - Findings ([`FINDING_SCHEME`]): sha256 of the rule id, the file, the
//!   decoded layers, the phase and the evidence's content (its snippet,
//!   else its detail) with whitespace squeezed, never its line or column:
//!   a finding whose line moved (code added above it, re-indented) keeps
//!   its fingerprint; different code, another file or another rule does
//!   not. Identical evidence of one rule in one file (the same call twice)
//!   is told apart by its occurrence, GitHub's own way: the hash is
//!   followed by `:1`, `:2`… in the order of the results.
//! - Behaviour changes ([`EVIDENCE_HASH_SCHEME`]): the change's
//!   `evidence_hash` as Paddock computed it (sha256 of its kind, phase and
//!   normalised value), the key the suppressions file matches on.
//! - Anything else (the verify crate's results): [`fingerprint`] of the
//!   parts that identify it, under a scheme of its own.

use std::collections::HashMap;

use paddock_proto::v1::{Evidence, Phase};
use sha2::{Digest as _, Sha256};

use crate::text::squeeze;

/// The fingerprint scheme of findings.
pub const FINDING_SCHEME: &str = "paddockFinding/v1";
/// The fingerprint scheme of behaviour changes: their evidence hash.
pub const EVIDENCE_HASH_SCHEME: &str = "paddockEvidenceHash/v1";

/// Hex sha256 of `parts`, each ended by a zero byte (so that `["ab", "c"]`
/// and `["a", "bc"]` differ).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// A finding's fingerprint before its occurrence is added (see the module
/// documentation).
pub fn finding_fingerprint(rule_id: &str, evidence: Option<&Evidence>) -> String {
    let Some(e) = evidence else {
        return fingerprint(&["finding", rule_id]);
    };
    let content = if e.snippet.trim().is_empty() {
        squeeze(&e.detail)
    } else {
        squeeze(&e.snippet)
    };
    let phase = match e.phase() {
        Phase::Unspecified => "",
        p => p.as_str_name(),
    };
    fingerprint(&[
        "finding",
        rule_id,
        &e.file,
        &e.layers.join("\u{1f}"),
        phase,
        &content,
    ])
}

/// Numbers equal fingerprints in the order they come: `hash:1`, `hash:2`…
#[derive(Debug, Default)]
pub struct Occurrences {
    seen: HashMap<String, u32>,
}

impl Occurrences {
    /// `hash` with its occurrence appended.
    pub fn next(&mut self, hash: String) -> String {
        let n = self.seen.entry(hash.clone()).or_default();
        *n += 1;
        format!("{hash}:{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(file: &str, line: u32, snippet: &str) -> Evidence {
        Evidence {
            file: file.into(),
            line,
            column: 4,
            snippet: snippet.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_moved_or_reindented_line_keeps_its_fingerprint() {
        let a = finding_fingerprint("threat.x", Some(&evidence("a.js", 3, "eval(atob(p))")));
        let b = finding_fingerprint(
            "threat.x",
            Some(&evidence("a.js", 40, "    eval(atob(p))  ")),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn other_code_files_rules_or_layers_change_it() {
        let base = evidence("a.js", 3, "eval(atob(p))");
        let a = finding_fingerprint("threat.x", Some(&base));
        let mut layered = base.clone();
        layered.layers = vec!["base64".into(), "javascript".into()];
        for other in [
            finding_fingerprint("threat.x", Some(&evidence("a.js", 3, "eval(atob(q))"))),
            finding_fingerprint("threat.x", Some(&evidence("b.js", 3, "eval(atob(p))"))),
            finding_fingerprint("threat.y", Some(&base)),
            finding_fingerprint("threat.x", Some(&layered)),
            finding_fingerprint("threat.x", None),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn parts_are_delimited() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }

    #[test]
    fn occurrences_count_per_hash() {
        let mut o = Occurrences::default();
        assert_eq!(o.next("h".into()), "h:1");
        assert_eq!(o.next("g".into()), "g:1");
        assert_eq!(o.next("h".into()), "h:2");
    }
}
