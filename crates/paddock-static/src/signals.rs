//! Signals in strings and identifiers, with the reference system's exact
//! definitions and thresholds (package-analysis `signals/detections`), plus
//! Shannon entropy and minified/obfuscated-file detection, which the
//! reference computes partly and never flags.
//!
//! | signal | definition |
//! |---|---|
//! | base64 | `[[:alnum:]+/]{16,}={0,2}` or the URL-safe alphabet; must hold an upper-case letter, a lower-case letter and a letter in `G-Z`/`g-z`; with `=` padding the length is a multiple of 4 |
//! | hex | 8 or more hex digits |
//! | URL | scheme among http(s), blob, chrome, content, file, ftp, gs, s3, ws; a dotted host ending in letters, or an IPv4 / `[IPv6]` host |
//! | IP | IPv4 with octets 0–255; IPv6 as the standard library parses it |
//! | suspicious identifier | `_0x` + 3 hex digits (`hex`), a letter or `_` + 3 digits (`numeric`), a single letter (`single`), checked in that order |
//! | escaped string | 8 or more escape sequences in the raw literal, or escapes per decoded character ≥ 0.25; with the Levenshtein distance between raw and decoded (substitution costs 2) |
//! | high entropy | 20 or more characters at ≥ 4.5 bits per character, not a URL |

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use paddock_proto::v1::SuspiciousIdentifierRule;
use regex::Regex;

static BASE64: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[[:alnum:]+/]{16,}(?:={0,2})?|[[:alnum:]\-_]{16,}(?:={0,2})?")
        .expect("valid regex")
});
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[[:xdigit:]]{8,}").expect("valid regex"));
static URL: LazyLock<Regex> = LazyLock::new(|| {
    let scheme = r"(?i:https?|blob|chrome|content|file|ftp|gs|s3|ws)://";
    let label = r"[\p{L}\p{N}\p{S}_-]+";
    let host = format!(
        r"(?:{label}(?:\.{label})*\.\p{{L}}+|(?:\d{{1,3}}\.){{3}}\d{{1,3}}|\[[[:xdigit:]:.]+\])"
    );
    Regex::new(&format!(
        r"{scheme}{host}(?::\d+)?(?:/(?:[^.\s]\S*)?)?(?:\?\S*)?"
    ))
    .expect("valid regex")
});
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b").expect("valid regex"));
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[[:xdigit:]:]*:[[:xdigit:]:]*:[[:xdigit:]:]*").expect("valid regex")
});
static ESCAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\[0-7]{1,3}|\\x[[:xdigit:]]{2}|\\u[[:xdigit:]]{4}|\\u\{[[:xdigit:]]+\}|\\U[[:xdigit:]]{8}").expect("valid regex")
});

/// Base64-looking substrings of `s`.
pub fn base64_strings(s: &str) -> Vec<String> {
    if s.len() < 16 {
        return Vec::new();
    }
    BASE64
        .find_iter(s)
        .map(|m| m.as_str())
        .filter(|m| {
            let upper = m.bytes().any(|b| b.is_ascii_uppercase());
            let lower = m.bytes().any(|b| b.is_ascii_lowercase());
            let beyond_hex = m.bytes().any(|b| matches!(b, b'G'..=b'Z' | b'g'..=b'z'));
            let padded_ok = !m.contains('=') || m.len() % 4 == 0;
            upper && lower && beyond_hex && padded_ok
        })
        .map(str::to_owned)
        .collect()
}

/// Runs of 8 or more hex digits.
pub fn hex_strings(s: &str) -> Vec<String> {
    if s.len() < 8 {
        return Vec::new();
    }
    HEX.find_iter(s).map(|m| m.as_str().to_owned()).collect()
}

/// URLs in `s`.
pub fn urls(s: &str) -> Vec<String> {
    if !s.contains("://") {
        return Vec::new();
    }
    URL.find_iter(s).map(|m| m.as_str().to_owned()).collect()
}

/// IPv4 and IPv6 addresses in `s`.
pub fn ip_addresses(s: &str) -> Vec<String> {
    if !s.bytes().any(|b| b == b'.' || b == b':') || !s.bytes().any(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let mut out: Vec<String> = IPV4
        .find_iter(s)
        .filter(|m| m.as_str().parse::<Ipv4Addr>().is_ok())
        .map(|m| m.as_str().to_owned())
        .collect();
    // Candidates with at least two groups and a digit, validated by the
    // standard parser (so `std::` or `a::b` paths are not addresses).
    out.extend(
        IPV6.find_iter(s)
            .map(|m| m.as_str())
            .filter(|m| {
                m.split(':').filter(|g| !g.is_empty()).count() >= 2
                    && m.bytes().any(|b| b.is_ascii_digit())
            })
            .filter(|m| m.parse::<Ipv6Addr>().is_ok())
            .map(str::to_owned),
    );
    out
}

/// The first suspicious-identifier rule `name` matches (the reference's
/// regexes, checked by hand: this runs for every identifier).
pub fn suspicious_identifier(name: &str) -> Option<SuspiciousIdentifierRule> {
    let bytes = name.as_bytes();
    // `_0x[[:xdigit:]]{3,}` anywhere.
    let hex = bytes.windows(6).any(|w| {
        w[0] == b'_' && w[1] == b'0' && w[2] == b'x' && w[3..].iter().all(u8::is_ascii_hexdigit)
    });
    if hex {
        return Some(SuspiciousIdentifierRule::Hex);
    }
    let first_ok = bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    // `^[A-Za-z_]\d{3,}`
    if first_ok && bytes.len() >= 4 && bytes[1..4].iter().all(u8::is_ascii_digit) {
        return Some(SuspiciousIdentifierRule::Numeric);
    }
    // `^[A-Za-z_]$`
    if first_ok && bytes.len() == 1 {
        return Some(SuspiciousIdentifierRule::Single);
    }
    None
}

/// Whether a literal is highly escaped: `raw` as written, `value` decoded.
pub fn is_highly_escaped(raw: &str, value: &str) -> bool {
    if !raw.contains('\\') {
        return false;
    }
    let escapes = ESCAPES.find_iter(raw).count();
    let chars = value.chars().count();
    escapes >= 8 || (chars > 0 && escapes as f64 / chars as f64 >= 0.25)
}

/// Levenshtein distance with insertions and deletions costing 1 and
/// substitutions 2, as the reference computes it.
pub fn levenshtein(a: &str, b: &str) -> i64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Bound the work on hostile input: long literals are compared by length.
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        return a.len().abs_diff(b.len()) as i64;
    }
    let mut prev: Vec<i64> = (0..=b.len() as i64).collect();
    let mut cur = vec![0i64; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i as i64 + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + if ca == cb { 0 } else { 2 };
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Shannon entropy of `s` in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut ascii = [0u32; 128];
    // Ordered, so that the sum (and the reported value, to its last digit)
    // is the same on every run.
    let mut other = std::collections::BTreeMap::new();
    let mut total = 0u32;
    for c in s.chars() {
        if c.is_ascii() {
            ascii[c as usize] += 1;
        } else {
            *other.entry(c).or_insert(0u32) += 1;
        }
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let bits: f64 = ascii
        .iter()
        .copied()
        .chain(other.into_values())
        .filter(|&n| n > 0)
        .map(|n| {
            let p = f64::from(n) / f64::from(total);
            -p * p.log2()
        })
        .sum();
    // One repeated character gives -0.0; report it as 0.
    if bits <= 0.0 {
        0.0
    } else {
        bits
    }
}

/// Minimum length and entropy of a high-entropy string.
pub const HIGH_ENTROPY_MIN_LEN: usize = 20;
pub const HIGH_ENTROPY_BITS: f64 = 4.5;

/// Whether `s` looks random enough to be an encoded payload or a key.
pub fn is_high_entropy(s: &str) -> bool {
    s.len() >= HIGH_ENTROPY_MIN_LEN
        && s.chars().count() >= HIGH_ENTROPY_MIN_LEN
        && !s.contains(char::is_whitespace)
        && entropy(s) >= HIGH_ENTROPY_BITS
        && !URL.is_match(s)
}

/// Whether a source file is minified: long lines and little whitespace.
/// `bytes` is the file, `lines` its line count.
pub fn is_minified(bytes: &[u8], lines: usize) -> bool {
    if bytes.len() < 2048 {
        return false;
    }
    let average = bytes.len() / lines.max(1);
    let whitespace =
        bytes.iter().filter(|b| b.is_ascii_whitespace()).count() as f64 / bytes.len() as f64;
    average > 300 && whitespace < 0.12
}

/// Whether a parsed file looks obfuscated: many mangled identifiers, or many
/// highly escaped strings.
pub fn is_obfuscated(identifiers: usize, mangled: usize, strings: usize, escaped: usize) -> bool {
    (mangled >= 10 && mangled * 4 >= identifiers) || (escaped >= 5 && escaped * 4 >= strings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_follows_the_reference_filters() {
        assert_eq!(
            base64_strings("x = 'aGVsbG8gd29ybGQgaGVsbG8='"),
            ["aGVsbG8gd29ybGQgaGVsbG8="]
        );
        // No upper-case letter, or only hex letters: not base64.
        assert!(base64_strings("abcdefghijklmnopqrstuvwxyz").is_empty());
        assert!(base64_strings("ABCDEF0123456789abcdef").is_empty());
        // Padding with a length that is not a multiple of 4.
        assert!(base64_strings("aGVsbG8gd29ybGQgaGVsbG8gd=").is_empty());
    }

    #[test]
    fn hex_urls_and_ips() {
        assert_eq!(hex_strings("id deadbeef00 end"), ["deadbeef00"]);
        assert!(hex_strings("cafe").is_empty());
        assert_eq!(
            urls("see https://evil.example/x?y=1 now"),
            ["https://evil.example/x?y=1"]
        );
        assert_eq!(urls("ftp://192.0.2.7:21/file"), ["ftp://192.0.2.7:21/file"]);
        assert!(urls("not a url: example.com").is_empty());
        assert_eq!(
            ip_addresses("connect 192.0.2.1 and 999.1.1.1"),
            ["192.0.2.1"]
        );
        assert_eq!(ip_addresses("v6 2001:db8::1 here"), ["2001:db8::1"]);
    }

    #[test]
    fn suspicious_identifiers_in_rule_order() {
        assert_eq!(
            suspicious_identifier("_0x4f2a"),
            Some(SuspiciousIdentifierRule::Hex)
        );
        assert_eq!(
            suspicious_identifier("a1234"),
            Some(SuspiciousIdentifierRule::Numeric)
        );
        assert_eq!(
            suspicious_identifier("x"),
            Some(SuspiciousIdentifierRule::Single)
        );
        assert_eq!(suspicious_identifier("counter"), None);
    }

    #[test]
    fn hand_written_identifier_checks_agree_with_the_reference_regexes() {
        let hex = Regex::new(r"_0x[[:xdigit:]]{3,}").unwrap();
        let numeric = Regex::new(r"^[A-Za-z_]\d{3,}").unwrap();
        let single = Regex::new(r"^[A-Za-z_]$").unwrap();
        for name in [
            "_0x1a2b", "a_0xfffz", "_0xab", "x", "_", "1", "a123", "_9999x", "ab123", "é",
            "x_0x123", "counter", "",
        ] {
            let want = if hex.is_match(name) {
                Some(SuspiciousIdentifierRule::Hex)
            } else if numeric.is_match(name) {
                Some(SuspiciousIdentifierRule::Numeric)
            } else if single.is_match(name) {
                Some(SuspiciousIdentifierRule::Single)
            } else {
                None
            };
            assert_eq!(suspicious_identifier(name), want, "{name}");
        }
    }

    #[test]
    fn escaped_strings_and_levenshtein() {
        let raw = r#""\x65\x76\x61\x6c""#;
        assert!(is_highly_escaped(raw, "eval"));
        assert!(!is_highly_escaped("\"hello\\n\"", "hello\n"));
        assert_eq!(levenshtein("kitten", "sitting"), 5);
        assert_eq!(levenshtein("", "abc"), 3);
    }

    #[test]
    fn entropy_and_minification() {
        assert!(entropy("aaaa") < 0.01);
        assert!((entropy("ab") - 1.0).abs() < 1e-9);
        assert!(is_high_entropy("Zq8VtP3xL0mB7nKc2Wd9Ry5Fh1Gj4Ts6Ua"));
        assert!(!is_high_entropy("the quick brown fox jumps over it"));
        let minified = "function(a){return a+1};".repeat(200);
        assert!(is_minified(minified.as_bytes(), 1));
        let pretty = "var a = 1;\n".repeat(1000);
        assert!(!is_minified(pretty.as_bytes(), 1000));
    }
}
