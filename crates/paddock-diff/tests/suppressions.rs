//! Suppressions loaded from a file, applied to a trojaned update.

mod common;

use common::{left_pad_and_trojaned_update, profile_of};
use paddock_diff::{diff, Scoring, Suppressions};
use paddock_proto::v1::Severity;

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("suppressions.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn severity_with(s: &Suppressions) -> (Severity, f64) {
    let (previous, next) = left_pad_and_trojaned_update();
    let (previous, next) = (profile_of(&previous), profile_of(&next));
    let changes = diff(&previous, &next);
    let v = Scoring::builtin().verdict(&next, Some(&previous), &changes, s);
    (v.severity(), v.score)
}

#[test]
fn suppressed_rules_drop_the_verdict_for_that_package_only() {
    let dir = tempfile::tempdir().unwrap();
    let entries = |package: &str| {
        ["download-and-execute", "install-network-added", "command-added", "file-write-added"]
            .iter()
            .map(|code| {
                format!(
                    "[[suppress]]\necosystem = \"npm\"\npackage = \"{package}\"\ncode = \"{code}\"\nreason = \"reviewed in the test\"\n\n"
                )
            })
            .collect::<String>()
    };
    let mine = Suppressions::load(&write(&dir, &entries("left-pad"))).unwrap();
    assert_eq!(mine.entries.len(), 4);
    assert_eq!(severity_with(&mine), (Severity::Info, 0.0));

    let theirs = Suppressions::load(&write(&dir, &entries("right-pad"))).unwrap();
    assert_eq!(severity_with(&theirs).0, Severity::Critical);
}

#[test]
fn suppressing_one_behaviour_by_its_hash_leaves_the_rest() {
    let (previous, next) = left_pad_and_trojaned_update();
    let changes = diff(&profile_of(&previous), &profile_of(&next));
    let exec = changes
        .iter()
        .find(|c| c.value.starts_with("exec-written-file"))
        .unwrap();
    let curl = changes.iter().find(|c| c.value.contains("curl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = [exec, curl]
        .iter()
        .map(|c| {
            format!(
                "[[suppress]]\necosystem = \"npm\"\npackage = \"left-pad\"\ncode = \"command\"\nevidence_hash = \"{}\"\nreason = \"r\"\n\n",
                c.evidence_hash
            )
        })
        .collect::<String>();
    let s = Suppressions::load(&write(&dir, &text)).unwrap();
    // The install-time connection is still there.
    assert_eq!(severity_with(&s).0, Severity::High);
}

#[test]
fn load_names_the_file_in_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let err = Suppressions::load(&missing).unwrap_err();
    assert!(err.to_string().contains("missing.toml"), "{err}");
    let bad = write(&dir, "[[suppress]]\necosystem = 1\n");
    let err = Suppressions::load(&bad).unwrap_err();
    assert!(err.to_string().contains("suppressions.toml"), "{err}");
}
