//! The report directory: one report per package, updated by later
//! releases, withdrawn into `osv/withdrawn`, never clobbering a file that
//! is not Paddock's. Every file written is checked against the OSV schema
//! and the database's rules, where it lies.

mod support;

use std::path::Path;

use paddock_osv::{report, OsvConfig, OsvError, Outcome, ReportDir, Tree, Withdrawn};
use paddock_proto::ecosystem::ALL;
use paddock_proto::v1::Ecosystem;
use support::*;

fn assert_tree_accepted(root: &Path) {
    let files = json_files(&root.join("osv"));
    assert!(!files.is_empty());
    for f in files {
        assert_file_accepted(root, &f);
    }
}

fn read(path: &Path) -> paddock_osv::Report {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_later_release_updates_the_package_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let first = full_report(Ecosystem::Npm, "1.0.0", "", t(10));
    let w1 = dir.write(&first).unwrap();
    assert_eq!(w1.outcome, Outcome::Created);
    assert_eq!(
        w1.path,
        tmp.path()
            .join("osv/malicious/npm/@evil/pkg")
            .join(first.file_name())
    );

    let mut e = Evidence3::new(
        Ecosystem::Npm,
        sample_name(Ecosystem::Npm),
        "1.0.1",
        "1.0.0",
    );
    e.dynamic.phases[0].dns.push(paddock_proto::v1::DnsQuery {
        hostname: "second.example".into(),
        ..Default::default()
    });
    let second = report(&e.full(), &OsvConfig::default(), t(12));
    assert_ne!(
        second.id, first.id,
        "a fresh report has its own id until merged"
    );
    let w2 = dir.write(&second).unwrap();
    assert_eq!(w2.outcome, Outcome::Updated);
    assert_eq!(w2.path, w1.path, "the same file");
    assert_eq!(json_files(&tmp.path().join("osv")).len(), 1);

    let merged = read(&w2.path);
    assert_eq!(merged.id, first.id);
    assert_eq!(merged.published, t(10));
    assert_eq!(merged.modified, t(12));
    assert_eq!(merged.database_specific.paddock.modified, t(12));
    assert_eq!(
        merged.database_specific.paddock.origin_id,
        first.database_specific.paddock.origin_id
    );
    assert_eq!(merged.versions(), ["1.0.0", "1.0.1"]);
    assert_eq!(
        merged.details, second.details,
        "details describe the latest release"
    );
    let domains = &merged.database_specific.iocs.domains;
    assert!(
        domains.contains(&"second.example".to_owned()),
        "{domains:?}"
    );
    assert_eq!(
        domains.iter().filter(|d| *d == "evil.example").count(),
        1,
        "merged without duplicates"
    );
    let versions: Vec<&str> = merged
        .database_specific
        .paddock
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.0.1"]);
    assert_tree_accepted(tmp.path());
}

#[test]
fn writing_the_same_release_again_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let w = dir
        .write(&full_report(Ecosystem::Pypi, "1.0.1", "1.0.0", t(10)))
        .unwrap();
    let before = std::fs::read(&w.path).unwrap();
    let again = dir
        .write(&full_report(Ecosystem::Pypi, "1.0.1", "1.0.0", t(15)))
        .unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(
        std::fs::read(&w.path).unwrap(),
        before,
        "modified did not move"
    );
}

#[test]
fn versions_are_ordered_as_the_ecosystem_orders_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    for (v, hour) in [("1.10.0", 10), ("1.9.0", 11), ("1.10.0-rc.1", 12)] {
        dir.write(&full_report(Ecosystem::CratesIo, v, "", t(hour)))
            .unwrap();
    }
    let (_, r) = dir
        .find(Tree::Malicious, Ecosystem::CratesIo, "EVIL_crate")
        .unwrap()
        .unwrap();
    assert_eq!(r.versions(), ["1.9.0", "1.10.0-rc.1", "1.10.0"]);
}

#[test]
fn withdrawing_the_last_version_moves_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let w = dir
        .write(&full_report(Ecosystem::Pypi, "2.0", "", t(10)))
        .unwrap();
    let name = sample_name(Ecosystem::Pypi);

    let out = dir
        .withdraw(Ecosystem::Pypi, name, "2.0", "re-analysed: benign", t(14))
        .unwrap();
    let Withdrawn::Moved { from, to } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(from, &w.path);
    assert!(!from.exists());
    assert_eq!(
        to,
        &tmp.path()
            .join("osv/withdrawn/pypi/evil-pkg-name")
            .join(w.path.file_name().unwrap())
    );
    let moved = read(to);
    assert_eq!(moved.withdrawn, Some(t(14)));
    assert_eq!(moved.modified, t(14));
    assert_eq!(moved.published, t(10));
    let record = &moved.database_specific.paddock.withdrawn_versions[0];
    assert_eq!(
        (record.version.as_str(), record.reason.as_str()),
        ("2.0", "re-analysed: benign")
    );
    assert_tree_accepted(tmp.path());

    // Idempotent, and the PEP 440 spelling of the same version is the same.
    assert_eq!(
        dir.withdraw(Ecosystem::Pypi, "evil-pkg-name", "2.0.0", "again", t(15))
            .unwrap(),
        Withdrawn::AlreadyWithdrawn { path: to.clone() }
    );
    assert_eq!(
        dir.withdraw(Ecosystem::Pypi, name, "3.0", "never reported", t(15))
            .unwrap(),
        Withdrawn::NotReported
    );
    assert_eq!(read(to), moved, "nothing changed");
}

#[test]
fn withdrawing_one_of_several_versions_splits_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let config = OsvConfig {
        report_url: Some("https://paddock.example/r/{ecosystem}/{name}/{version}".into()),
        ..OsvConfig::default()
    };
    let dir = ReportDir::new(tmp.path());
    let name = sample_name(Ecosystem::Rubygems);
    for (v, prev, hour) in [
        ("1.0.0", "", 10),
        ("1.0.1", "1.0.0", 11),
        ("1.0.2", "1.0.1", 12),
    ] {
        let e = Evidence3::new(Ecosystem::Rubygems, name, v, prev);
        dir.write(&report(&e.full(), &config, t(hour))).unwrap();
    }
    let out = dir
        .withdraw(
            Ecosystem::Rubygems,
            name,
            "1.0.1",
            "suppressed: reviewed",
            t(13),
        )
        .unwrap();
    let Withdrawn::Split {
        remaining,
        withdrawn,
    } = &out
    else {
        panic!("{out:?}")
    };
    let rest = read(remaining);
    assert_eq!(rest.versions(), ["1.0.0", "1.0.2"]);
    assert_eq!(rest.withdrawn, None);
    assert_eq!(rest.modified, t(13));
    assert_eq!(
        rest.database_specific.paddock.withdrawn_versions[0].version,
        "1.0.1"
    );
    assert!(rest.references.iter().all(|r| !r.url.ends_with("/1.0.1")));
    assert_eq!(rest.references.len(), 2);
    assert!(
        !rest.database_specific.iocs.is_empty(),
        "the indicators stay with the malicious report"
    );

    let single = read(withdrawn);
    assert!(withdrawn.starts_with(tmp.path().join("osv/withdrawn/rubygems/evil-gem")));
    assert_eq!(single.versions(), ["1.0.1"]);
    assert_eq!(single.withdrawn, Some(t(13)));
    assert_ne!(single.id, rest.id);
    assert_ne!(
        single.database_specific.paddock.origin_id,
        rest.database_specific.paddock.origin_id
    );
    assert!(single.database_specific.iocs.is_empty());
    assert_eq!(single.references.len(), 1);
    assert!(single.references[0].url.ends_with("/1.0.1"));
    assert_tree_accepted(tmp.path());

    let before = std::fs::read(remaining).unwrap();
    assert_eq!(
        dir.withdraw(Ecosystem::Rubygems, name, "1.0.1", "again", t(16))
            .unwrap(),
        Withdrawn::AlreadyWithdrawn {
            path: withdrawn.clone()
        }
    );
    assert_eq!(std::fs::read(remaining).unwrap(), before);

    // Flagged again later: back in the report, no longer listed as withdrawn.
    let e = Evidence3::new(Ecosystem::Rubygems, name, "1.0.1", "1.0.0");
    dir.write(&report(&e.full(), &config, t(20))).unwrap();
    let back = read(remaining);
    assert_eq!(back.versions(), ["1.0.0", "1.0.1", "1.0.2"]);
    assert!(back.database_specific.paddock.withdrawn_versions.is_empty());
    assert_tree_accepted(tmp.path());
}

#[test]
fn every_ecosystem_goes_through_update_and_withdrawal_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    for eco in ALL {
        let name = sample_name(eco);
        dir.write(&full_report(eco, "1.0.0", "", t(10))).unwrap();
        // A static-only report of the next release.
        let e = Evidence3::new(eco, name, "1.1.0", "1.0.0");
        assert_eq!(
            dir.write(&report(&e.static_only(), &OsvConfig::default(), t(11)))
                .unwrap()
                .outcome,
            Outcome::Updated
        );
        dir.write(&full_report(eco, "1.2.0", "1.1.0", t(12)))
            .unwrap();
        assert!(matches!(
            dir.withdraw(eco, name, "1.1.0", "benign", t(13)).unwrap(),
            Withdrawn::Split { .. }
        ));
        assert_tree_accepted(tmp.path());
        dir.withdraw(eco, name, "1.0.0", "benign", t(14)).unwrap();
        assert!(matches!(
            dir.withdraw(eco, name, "1.2.0", "benign", t(15)).unwrap(),
            Withdrawn::Moved { .. }
        ));
        assert!(dir.find(Tree::Malicious, eco, name).unwrap().is_none());
    }
    let files = json_files(&tmp.path().join("osv"));
    assert_eq!(
        files.len(),
        5 * 3,
        "per ecosystem: two split off, one moved"
    );
    assert!(files
        .iter()
        .all(|f| f.starts_with(tmp.path().join("osv/withdrawn"))));
    assert_tree_accepted(tmp.path());
}

#[test]
fn files_that_are_not_paddocks_are_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let pkg = dir
        .package_dir(Tree::Malicious, Ecosystem::Npm, sample_name(Ecosystem::Npm))
        .unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    let garbage = pkg.join("MAL-0000-broken.json");
    std::fs::write(&garbage, b"{ not json").unwrap();
    let theirs = pkg.join("MAL-2026-1.json");
    let their_text = r#"{"id": "MAL-2026-1", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "@evil/pkg"}, "versions": ["0.9.0"]}]}"#;
    std::fs::write(&theirs, their_text).unwrap();
    let huge = pkg.join("MAL-0000-huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();

    let w = dir
        .write(&full_report(Ecosystem::Npm, "1.0.0", "", t(10)))
        .unwrap();
    assert_eq!(w.outcome, Outcome::Created);
    let left: Vec<(&Path, &str)> = w
        .left_alone
        .iter()
        .map(|(p, why)| (p.as_path(), why.as_str()))
        .collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(
        left[0].0 == garbage && left[0].1.contains("not valid JSON"),
        "{left:?}"
    );
    assert!(left[1].0 == huge && left[1].1.contains("bytes"), "{left:?}");
    assert!(
        left[2].0 == theirs && left[2].1.contains("not a Paddock report"),
        "{left:?}"
    );
    assert_eq!(std::fs::read(&garbage).unwrap(), b"{ not json");
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), their_text);

    // A later release updates Paddock's report, still beside them.
    let w2 = dir
        .write(&full_report(Ecosystem::Npm, "1.0.1", "1.0.0", t(11)))
        .unwrap();
    assert_eq!((w2.outcome, &w2.path), (Outcome::Updated, &w.path));
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), their_text);
}

#[test]
fn a_foreign_file_under_paddocks_own_name_stops_the_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let r = full_report(Ecosystem::Packagist, "1.0.0", "", t(10));
    let pkg = dir
        .package_dir(
            Tree::Malicious,
            Ecosystem::Packagist,
            sample_name(Ecosystem::Packagist),
        )
        .unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    let target = pkg.join(r.file_name());
    std::fs::write(&target, b"[]").unwrap();
    let err = dir.write(&r).unwrap_err();
    assert!(
        matches!(&err, OsvError::Occupied { path, .. } if *path == target),
        "{err}"
    );
    assert!(err.to_string().contains("left as it is"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"[]");
}

#[cfg(unix)]
#[test]
fn symbolic_links_never_lead_a_write_outside_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("osv/malicious")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("osv/malicious/npm")).unwrap();
    let dir = ReportDir::new(&root);
    let err = dir
        .write(&full_report(Ecosystem::Npm, "1.0.0", "", t(10)))
        .unwrap_err();
    assert!(matches!(err, OsvError::NotADirectory { .. }), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);

    // A linked report file is not read, nor replaced.
    let secret = outside.path().join("secret.json");
    std::fs::write(&secret, b"{}").unwrap();
    let dir = ReportDir::new(tmp.path().join("other"));
    let r = full_report(Ecosystem::Pypi, "1.0.0", "", t(10));
    let pkg = dir
        .package_dir(
            Tree::Malicious,
            Ecosystem::Pypi,
            sample_name(Ecosystem::Pypi),
        )
        .unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::os::unix::fs::symlink(&secret, pkg.join(r.file_name())).unwrap();
    let err = dir.write(&r).unwrap_err();
    assert!(matches!(err, OsvError::Occupied { .. }), "{err}");
    assert_eq!(std::fs::read(&secret).unwrap(), b"{}");
}

#[test]
fn names_that_would_leave_the_tree_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let e = Evidence3::new(Ecosystem::Npm, "../../etc", "1.0.0", "");
    let err = dir
        .write(&report(&e.full(), &OsvConfig::default(), t(10)))
        .unwrap_err();
    assert!(matches!(err, OsvError::BadName { .. }), "{err}");
    assert!(dir
        .withdraw(Ecosystem::Pypi, "a/../../b", "1", "x", t(10))
        .is_err());
    assert!(json_files(tmp.path()).is_empty());
}

#[test]
fn reports_that_the_database_would_refuse_are_not_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    let good = full_report(Ecosystem::Npm, "1.0.0", "", t(10));
    let mut no_version = good.clone();
    no_version.affected[0].versions.clear();
    let mut two = good.clone();
    two.affected.push(good.affected[0].clone());
    let mut final_id = good.clone();
    final_id.id = "MAL-2026-1".into();
    let mut unknown_eco = good.clone();
    unknown_eco.affected[0].package.ecosystem = "Maven".into();
    for bad in [no_version, two, final_id, unknown_eco] {
        let err = dir.write(&bad).unwrap_err();
        assert!(matches!(err, OsvError::Invalid(_)), "{err}");
    }
    assert!(json_files(tmp.path()).is_empty());
}

#[test]
fn writes_leave_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    for (v, h) in [("1.0.0", 10), ("1.0.1", 11)] {
        dir.write(&full_report(Ecosystem::CratesIo, v, "", t(h)))
            .unwrap();
    }
    dir.withdraw(Ecosystem::CratesIo, "evil_crate", "1.0.0", "benign", t(12))
        .unwrap();
    let mut all = Vec::new();
    let mut stack = vec![tmp.path().to_owned()];
    while let Some(d) = stack.pop() {
        for item in std::fs::read_dir(d).unwrap() {
            let p = item.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                all.push(p);
            }
        }
    }
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all
        .iter()
        .all(|p| p.extension().is_some_and(|e| e == "json")));
}
