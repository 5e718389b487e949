//! Every rule has a fixture that fires and a benign one that must not
//! (tests/fixtures/rules/<rule id>/{fires,benign}/).

use std::path::Path;

use paddock_proto::v1::{FindingCategory, PackageRef};
use paddock_static::rules::RULES;
use paddock_static::{analyze_tree, StaticConfig};

fn findings(dir: &Path) -> Vec<paddock_proto::v1::Finding> {
    analyze_tree(dir, PackageRef::default(), None, &StaticConfig::default()).findings
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_its_benign_twin() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.extend([
        "capability.install-hook",
        "threat.npm-preinstall-script",
        "signal.bundled-binary",
    ]);
    for id in ids {
        let fires = fixtures().join(id).join("fires");
        let benign = fixtures().join(id).join("benign");
        assert!(
            fires.is_dir() && benign.is_dir(),
            "rule {id} has no fixtures"
        );
        let hit = findings(&fires);
        let f = hit.iter().find(|f| f.rule_id == id).unwrap_or_else(|| {
            panic!(
                "{id} did not fire; got {:?}",
                hit.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
            )
        });
        assert!(
            !f.evidence.is_empty() && !f.evidence[0].file.is_empty(),
            "{id} has evidence"
        );
        let quiet = findings(&benign);
        assert!(
            !quiet.iter().any(|f| f.rule_id == id),
            "{id} fired on its benign fixture: {:?}",
            quiet.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn no_benign_fixture_raises_a_high_threat() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let benign = entry.unwrap().path().join("benign");
        for f in findings(&benign) {
            let severe = f.category == FindingCategory::Threat as i32
                && f.severity >= paddock_proto::v1::Severity::High as i32;
            assert!(!severe, "{} on {}", f.rule_id, benign.display());
        }
    }
}

#[test]
fn evidence_points_at_the_line() {
    let hit = findings(&fixtures().join("threat.exec-decoded-base64/fires"));
    let f = hit
        .iter()
        .find(|f| f.rule_id == "threat.exec-decoded-base64")
        .unwrap();
    assert_eq!(f.evidence[0].file, "package/lib/a.js");
    assert_eq!(f.evidence[0].line, 1, "the decode");
    assert!(
        f.evidence[0].snippet.contains("eval (line 2)"),
        "{}",
        f.evidence[0].snippet
    );
}
