//! Lockfiles written by an attacker: every prefix of a real-shaped lockfile
//! of each format, the sample with random punctuation spliced in, and
//! random bytes, give pins or an error, never a panic; a 50 MB lockfile is
//! refused with a clear error before it is read; YAML lockfiles made of
//! nested aliases (billion laughs) or deep nesting are refused at once.

use paddock_lockfile::{parse, read, Format, Limits, LockfileError};
use paddock_testkit::rng::XorShift;

const SAMPLES: &[(Format, &str)] = &[
    (
        Format::NpmPackageLock,
        r#"{"lockfileVersion": 3, "packages": {"": {"name": "a"}, "node_modules/x": {"version": "1.0.0", "integrity": "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="}}}"#,
    ),
    (
        Format::PnpmLock,
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1.0.0\n        version: 1.0.0\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}\nsnapshots:\n  a@1.0.0: {}\n",
    ),
    (
        Format::YarnLock,
        "__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"a@npm:^1.0.0\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n  checksum: 10c0/00ff\n  languageName: node\n  linkType: hard\n",
    ),
    (Format::YarnLock, "\"a@^1\", a@~1:\n  version \"1.0.0\"\n  integrity sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\n"),
    (Format::Requirements, "a==1.0 \\\n  --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\nb==2\n"),
    (Format::PipfileLock, r#"{"default": {"a": {"version": "==1.0", "hashes": ["sha256:00"]}}}"#),
    (Format::PoetryLock, "[[package]]\nname = \"a\"\nversion = \"1.0\"\nfiles = [{file = \"a.tar.gz\", hash = \"sha256:00\"}]\n"),
    (Format::UvLock, "[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"x\" }\n"),
    (Format::Pylock, "[[packages]]\nname = \"a\"\nversion = \"1.0\"\nsdist = { hashes = { sha256 = \"00\" } }\n"),
    (Format::GemfileLock, "GEM\n  remote: x\n  specs:\n    a (1.0)\n      b (>= 0)\n\nCHECKSUMS\n  a (1.0) sha256=00\n"),
    (Format::ComposerLock, r#"{"packages": [{"name": "a/b", "version": "1.0.0", "dist": {"shasum": "00"}}]}"#),
    (Format::CargoLock, "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\nchecksum = \"00\"\n"),
];

#[test]
fn every_prefix_and_random_bytes_give_pins_or_an_error_never_a_panic() {
    let limits = Limits::default();
    let mut rng = XorShift(0x5eed_1234);
    for (format, sample) in SAMPLES {
        let full =
            parse(sample, *format, &limits).unwrap_or_else(|e| panic!("{format:?} sample: {e}"));
        assert_eq!(
            full.0.len(),
            1 + usize::from(*format == Format::Requirements),
            "{format:?}: {full:?}"
        );
        for end in (0..sample.len()).filter(|&i| sample.is_char_boundary(i)) {
            let _ = parse(&sample[..end], *format, &limits);
        }
        for _ in 0..200 {
            let bytes = rng.bytes(256);
            let _ = parse(&String::from_utf8_lossy(&bytes), *format, &limits);
        }
        // The syntax's own characters where they do not belong.
        const PUNCTUATION: &[&str] = &[
            "&a ", "*a", "[", "]", "{", "}", ":", "- ", "|", ">", "!", "%", "@", "\"", "'", "\n",
            "\n  ", "\t", "#", ",", "=", "\\", "---\n", "? ",
        ];
        for _ in 0..300 {
            let mut text = sample.to_string();
            for _ in 0..1 + rng.below(4) {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let piece: &&str = rng.pick(PUNCTUATION);
                text.insert_str(at, piece);
            }
            let _ = parse(&text, *format, &limits);
        }
    }
}

/// Nine anchors, each a list of nine aliases of the one before: 9^9
/// strings if expanded; keys indented by `indent`.
fn billion_laughs(prefix: &str, indent: &str, suffix: &str) -> String {
    let mut text = String::from(prefix);
    text.push_str(indent);
    text.push_str("a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("{indent}a{i}: &a{i} [{refs}]\n"));
    }
    text.push_str(suffix);
    text
}

#[test]
fn yaml_bombs_and_deep_nesting_are_refused_at_once() {
    let limits = Limits::default();
    let cases = [
        (
            Format::PnpmLock,
            billion_laughs("lockfileVersion: '9.0'\n", "", "packages: *a8\n"),
        ),
        (
            Format::PnpmLock,
            billion_laughs(
                "lockfileVersion: '9.0'\npackages:\n  x@1.0.0:\n",
                "    ",
                "    resolution: *a8\n",
            ),
        ),
        (
            Format::YarnLock,
            billion_laughs(
                "__metadata:\n  version: 8\n\"a@npm:^1\":\n",
                "  ",
                "  resolution: *a8\n",
            ),
        ),
        (
            Format::PnpmLock,
            format!(
                "lockfileVersion: '9.0'\npackages:\n  x@1.0.0:\n    deep: {}{}\n",
                "[".repeat(200_000),
                "]".repeat(200_000)
            ),
        ),
        (
            Format::YarnLock,
            format!(
                "__metadata:\n  version: 8\n\"a@npm:^1\":\n  deep: {}1{}\n",
                "{a: ".repeat(50_000),
                "}".repeat(50_000)
            ),
        ),
    ];
    for (format, text) in cases {
        let started = std::time::Instant::now();
        let error = parse(&text, format, &limits).unwrap_err();
        assert!(
            error.contains("aliases are refused") || error.contains("nests deeper than 64"),
            "{format:?}: {error}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{format:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_fifty_megabyte_lockfile_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("package-lock.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 << 20).unwrap(); // sparse: no 50 MB written
    match read(&path, &Limits::default()) {
        Err(LockfileError::TooLarge { size, limit, .. }) => {
            assert_eq!(size, 50 << 20);
            assert!(limit < size);
        }
        other => panic!("{other:?}"),
    }
}
