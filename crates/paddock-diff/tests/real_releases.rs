//! Profiles and diffs of real analyses, recorded with `paddock analyze …
//! --format json` (see `fixtures/`).

mod common;

use common::{fixture, fixture_text, lines, parse, profile_of, EXPRESS, LEFT_PAD, SIX};
use paddock_diff::{diff, Kind, Scoring, Suppressions};
use paddock_proto::v1::Severity;
use regex::Regex;

#[test]
fn left_pad_does_nothing_of_its_own() {
    // The driver and npm are the harness; npm writes only to the install
    // area and its cache; nothing else runs, connects or writes.
    let p = profile_of(&fixture(LEFT_PAD));
    assert!(p.is_complete());
    assert_eq!(p.run_ids.len(), 1);
    assert_eq!(lines(&p), Vec::<String>::new());
    assert!(p.findings.is_empty());
}

#[test]
fn six_has_its_setup_py_and_what_pip_runs_for_it() {
    let p = profile_of(&fixture(SIX));
    let l = lines(&p);
    for want in [
        "install_hook static setup.py setup.py: python setup.py install",
        "capability static capability.dynamic-eval",
        "capability static capability.install-hook",
        "command install uname -rs",
        "file_write install build/bdist.linux-x86_64/wheel/six-<v>.dist-info",
    ] {
        assert!(l.iter().any(|x| x == want), "missing {want} in {l:#?}");
    }
    // Not the driver, not pip itself, not its temp dirs, not the streams,
    // not the toolchain (pip asks `rustc --version` for its user agent).
    for unwanted in [
        "rustc",
        "/opt/paddock",
        "-m pip",
        "pip-req-build",
        "host:[",
        "pipe:[",
    ] {
        assert!(
            !l.iter().any(|x| x.contains(unwanted)),
            "{unwanted} in {l:#?}"
        );
    }
    assert!(p
        .items
        .keys()
        .all(|k| !matches!(k.kind, Kind::Host | Kind::DnsName)));
}

#[test]
fn express_has_its_dependencies_and_no_traffic_of_its_own() {
    let p = profile_of(&fixture(EXPRESS));
    let l = lines(&p);
    assert!(l.contains(&"dependency static body-parser".to_owned()));
    // Fetched through the registry proxy: dependencies, not hosts.
    assert!(l.contains(&"dependency install ms".to_owned()));
    assert!(!l
        .iter()
        .any(|x| x.starts_with("dependency install express")));
    assert!(p
        .items
        .keys()
        .all(|k| !matches!(k.kind, Kind::Host | Kind::DnsName | Kind::Command)));
    assert!(p.encode().len() < 64 * 1024);
}

/// The fixture as the next release would record it: another version,
/// other temp names, other pids, another run.
fn as_next_release(text: &str, version: &str, next_version: &str) -> String {
    let text = text.replace(version, next_version);
    // pip's temp dirs end in 8 random characters.
    let text = Regex::new(r"(/tmp/pip-[a-z-]+-)[a-z0-9_]{8}")
        .unwrap()
        .replace_all(&text, "${1}q7w3e9r1")
        .into_owned();
    let text = Regex::new(r#""(pid|parentPid)": (\d+)"#)
        .unwrap()
        .replace_all(&text, |c: &regex::Captures<'_>| {
            format!("\"{}\": {}", &c[1], c[2].parse::<u32>().unwrap() + 100)
        })
        .into_owned();
    Regex::new(r#""runId": "[^"]+""#)
        .unwrap()
        .replace_all(&text, "\"runId\": \"pdk-next\"")
        .into_owned()
}

#[test]
fn a_real_release_against_its_next_honest_version_has_no_changes() {
    for (name, version, next_version) in [
        (LEFT_PAD, "1.3.0", "1.3.1"),
        (SIX, "1.17.0", "1.17.1"),
        (EXPRESS, "5.3.0", "5.3.1"),
    ] {
        let text = fixture_text(name);
        let next_text = as_next_release(&text, version, next_version);
        assert_ne!(text, next_text);
        let prev = profile_of(&parse(&text));
        let next = profile_of(&parse(&next_text));
        assert_eq!(next.package.version, next_version);
        assert_ne!(prev.run_ids, next.run_ids);
        let changes = diff(&prev, &next);
        assert!(changes.is_empty(), "{name}: {changes:#?}");
        assert!(diff(&next, &prev).is_empty(), "{name}");
        let v = Scoring::builtin().verdict(&next, Some(&prev), &changes, &Suppressions::default());
        assert_eq!(
            (v.severity(), v.score),
            (Severity::Info, 0.0),
            "{name}: {:?}",
            v.reasons
        );
    }
}

#[test]
fn first_releases_of_honest_packages_stay_below_medium() {
    for name in [LEFT_PAD, SIX, EXPRESS] {
        let p = profile_of(&fixture(name));
        let v = Scoring::builtin().verdict(&p, None, &[], &Suppressions::default());
        // Their capabilities (an install hook, dynamic imports) add a few
        // points each: low at most, never an alert.
        assert!(v.severity() <= Severity::Low, "{name}: {:?}", v.reasons);
    }
}
