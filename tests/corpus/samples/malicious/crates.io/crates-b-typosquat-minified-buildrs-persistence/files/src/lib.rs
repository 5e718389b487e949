//! JSON string helpers.

/// Quote and escape a string as a JSON string literal.
pub fn to_string_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The JSON literal `null`.
pub fn null() -> &'static str {
    "null"
}

/// Render a list of strings as a JSON array.
pub fn to_array(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| to_string_escaped(s)).collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::to_string_escaped("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
