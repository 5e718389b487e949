//! Basic facts about every file: its type from its content (magic bytes,
//! then shebang, then a text/binary test; the extension only names the
//! language of text), size, sha256 and line-length histogram.

use paddock_proto::v1::{Language, ValueCount};
use sha2::{Digest as _, Sha256};

/// A file's type, from its first bytes.
pub fn detect_type(head: &[u8], path: &str) -> String {
    let magic: &[(&[u8], &str)] = &[
        (b"\x7fELF", "ELF executable or shared object"),
        (b"MZ", "PE32 executable (Windows)"),
        (b"\xcf\xfa\xed\xfe", "Mach-O 64-bit executable"),
        (b"\xce\xfa\xed\xfe", "Mach-O executable"),
        (b"\xca\xfe\xba\xbe", "Mach-O universal binary or Java class"),
        (b"\0asm", "WebAssembly module"),
        (b"PK\x03\x04", "Zip archive"),
        (b"\x1f\x8b", "gzip compressed data"),
        (b"BZh", "bzip2 compressed data"),
        (b"\xfd7zXZ\0", "XZ compressed data"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip archive"),
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF", "PDF document"),
        (b"\x00\x61\x73\x6d", "WebAssembly module"),
    ];
    for (prefix, name) in magic {
        if head.starts_with(prefix) {
            // `MZ` alone is weak evidence; require some binary content too.
            if *prefix == b"MZ" && !head.contains(&0) {
                continue;
            }
            return (*name).to_owned();
        }
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return "POSIX tar archive".into();
    }
    if head.is_empty() {
        return "empty".into();
    }
    if head.contains(&0)
        || std::str::from_utf8(trim_partial_utf8(head)).is_err() && !looks_like_text(head)
    {
        return "data".into();
    }
    if let Some(line) = head.strip_prefix(b"#!") {
        let interpreter =
            String::from_utf8_lossy(line.split(|b| *b == b'\n').next().unwrap_or_default())
                .trim()
                .to_owned();
        return format!("script text executable ({interpreter})");
    }
    match language_of(path) {
        Language::Unspecified => "text".into(),
        lang => format!("{} source text", language_name(lang)),
    }
}

/// A buffer cut at an arbitrary byte may end inside a UTF-8 character.
fn trim_partial_utf8(head: &[u8]) -> &[u8] {
    match std::str::from_utf8(head) {
        Ok(_) => head,
        Err(e) if e.error_len().is_none() => &head[..e.valid_up_to()],
        Err(_) => head,
    }
}

fn looks_like_text(head: &[u8]) -> bool {
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    printable * 10 >= head.len() * 9
}

/// The language a path's extension names.
pub fn language_of(path: &str) -> Language {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "js" | "mjs" | "cjs" | "jsx" => Language::Javascript,
        "ts" | "mts" | "cts" | "tsx" => Language::Typescript,
        "py" | "pyw" => Language::Python,
        "rb" | "rake" | "gemspec" => Language::Ruby,
        "php" | "phtml" | "inc" => Language::Php,
        "rs" => Language::Rust,
        _ => match path.rsplit('/').next().unwrap_or_default() {
            "Rakefile" | "Gemfile" => Language::Ruby,
            _ => Language::Unspecified,
        },
    }
}

pub fn language_name(lang: Language) -> &'static str {
    match lang {
        Language::Javascript => "JavaScript",
        Language::Typescript => "TypeScript",
        Language::Python => "Python",
        Language::Ruby => "Ruby",
        Language::Php => "PHP",
        Language::Rust => "Rust",
        Language::Unspecified => "text",
    }
}

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Byte length of every `\n`-separated line (CR stripped), as (value,
/// count) pairs sorted by value. An empty file is one line of length 0.
pub fn line_lengths(bytes: &[u8]) -> (Vec<ValueCount>, usize) {
    let mut counts = std::collections::BTreeMap::<i64, u64>::new();
    let mut lines = 0;
    for line in bytes.split(|b| *b == b'\n') {
        let len = line.strip_suffix(b"\r").unwrap_or(line).len() as i64;
        *counts.entry(len).or_default() += 1;
        lines += 1;
    }
    // A trailing newline does not start another line.
    if bytes.ends_with(b"\n") {
        if let Some(zero) = counts.get_mut(&0) {
            *zero -= 1;
            if *zero == 0 {
                counts.remove(&0);
            }
        }
        lines -= 1;
    }
    (
        counts
            .into_iter()
            .map(|(value, count)| ValueCount { value, count })
            .collect(),
        lines.max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_content_not_names() {
        assert_eq!(
            detect_type(b"\x7fELF\x02\x01", "innocent.txt"),
            "ELF executable or shared object"
        );
        assert_eq!(
            detect_type(b"#!/bin/sh\necho hi\n", "install"),
            "script text executable (/bin/sh)"
        );
        assert_eq!(
            detect_type(b"module.exports = 1;\n", "index.js"),
            "JavaScript source text"
        );
        assert_eq!(detect_type(b"\0\0\0\0", "data.js"), "data");
        assert_eq!(detect_type(b"", "empty.py"), "empty");
        assert_eq!(detect_type(b"PK\x03\x04", "lib.jar"), "Zip archive");
    }

    #[test]
    fn line_lengths_match_the_reference() {
        let (counts, lines) = line_lengths(b"ab\r\nabc\nab\n");
        assert_eq!(lines, 3);
        assert_eq!(
            counts,
            vec![
                ValueCount { value: 2, count: 2 },
                ValueCount { value: 3, count: 1 }
            ]
        );
        let (counts, _) = line_lengths(b"");
        assert_eq!(counts, vec![ValueCount { value: 0, count: 1 }]);
    }
}
