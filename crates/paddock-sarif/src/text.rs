//! Text from a package, made safe to show: bounded in length, and with
//! the characters that reorder or hide text made visible.
//!
//! Snippets and messages quote the package's own code, and malicious code
//! hides in bidirectional overrides (Trojan Source) and zero-width
//! characters: a viewer that renders them shows the reader something else
//! than what is there. They are written as `<U+202E>` instead.

/// Characters shown as `<U+XXXX>`: bidirectional embeddings, overrides
/// and isolates, zero-width characters, and the byte-order mark.
fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

/// `s` with deceptive characters made visible.
pub fn clean(s: &str) -> String {
    if !s.chars().any(is_deceptive) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_deceptive(c) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` cut to at most `max` characters, marked with `…` when cut.
pub fn bounded(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `s` with every run of whitespace made one space, trimmed: what a
/// fingerprint hashes, so re-indenting a line keeps it.
pub fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deceptive_characters_become_visible() {
        assert_eq!(
            clean("if (a\u{202E} } \u{2066}"),
            "if (a<U+202E> } <U+2066>"
        );
        assert_eq!(clean("plain ü"), "plain ü");
    }

    #[test]
    fn bounded_cuts_on_characters() {
        assert_eq!(bounded("üüü", 2), "üü…");
        assert_eq!(bounded("ab", 2), "ab");
    }

    #[test]
    fn squeeze_ignores_indentation() {
        assert_eq!(squeeze("  eval( x )\t\n"), "eval( x )");
    }
}
