//! One test per ossf/malicious-packages rule (reference sections 1.1 to
//! 1.3): each breaks the rule in an otherwise accepted report and expects
//! `rules::check` to name it, and checks that Paddock's own reports keep
//! it.

mod support;

use paddock_osv::rules::{check, check_path};
use paddock_proto::ecosystem::ALL;
use paddock_proto::v1::Ecosystem;
use serde_json::{json, Value};
use support::*;

/// An accepted report of `eco`, as JSON.
fn base(eco: Ecosystem) -> Value {
    let v: Value =
        serde_json::from_str(&full_report(eco, "1.0.1", "1.0.0", t(10)).to_json()).unwrap();
    assert_accepted(&v);
    v
}

/// The messages of the rules `v` breaks.
fn broken(v: &Value) -> Vec<String> {
    check(v).err().unwrap_or_default()
}

fn assert_breaks(v: &Value, rule: &str) {
    let errors = broken(v);
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{rule}:"))),
        "expected rule `{rule}` to be broken, got {errors:#?}"
    );
}

fn with_ranges(eco: Ecosystem, ranges: Value) -> Value {
    let mut v = base(eco);
    v["affected"][0]["ranges"] = ranges;
    v
}

#[test]
fn exactly_one_affected_entry() {
    let mut v = base(Ecosystem::Npm);
    let one = v["affected"][0].clone();
    v["affected"] = json!([]);
    assert_breaks(&v, "affected");
    v["affected"] = json!([one.clone(), one]);
    assert_breaks(&v, "affected");
    v.as_object_mut().unwrap().remove("affected");
    assert_breaks(&v, "affected");
    for eco in ALL {
        assert_eq!(base(eco)["affected"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn the_ecosystem_is_set_and_known_and_the_name_is_set() {
    let mut v = base(Ecosystem::Pypi);
    v["affected"][0]["package"]["ecosystem"] = json!("");
    assert_breaks(&v, "ecosystem");
    v["affected"][0]["package"]["ecosystem"] = json!("pypi");
    assert_breaks(&v, "ecosystem");
    v["affected"][0]["package"]["ecosystem"] = json!("PyPI:custom-suffix");
    assert!(broken(&v).is_empty(), "a suffix after `:` is allowed");
    v["affected"][0]["package"]["name"] = json!("");
    assert_breaks(&v, "name");
    for eco in ALL {
        let osv = paddock_osv::names::osv_ecosystem(eco).unwrap();
        assert!(paddock_osv::rules::KNOWN_ECOSYSTEMS.contains(&osv), "{osv}");
    }
}

#[test]
fn range_types_are_ecosystem_semver_or_git() {
    let v = with_ranges(
        Ecosystem::Npm,
        json!([{"type": "RANGE", "events": [{"introduced": "0"}]}]),
    );
    assert_breaks(&v, "range-type");
    let v = with_ranges(Ecosystem::Npm, json!([{"events": [{"introduced": "0"}]}]));
    assert_breaks(&v, "range-type");
    let v = with_ranges(
        Ecosystem::Npm,
        json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]),
    );
    assert!(broken(&v).is_empty());
}

#[test]
fn semver_ranges_only_where_the_ecosystem_allows_them() {
    let semver = json!([{"type": "SEMVER", "events": [{"introduced": "0"}]}]);
    for eco in [Ecosystem::Pypi, Ecosystem::Rubygems, Ecosystem::Packagist] {
        assert_breaks(&with_ranges(eco, semver.clone()), "semver");
        let ecosystem = json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]);
        assert!(broken(&with_ranges(eco, ecosystem)).is_empty(), "{eco:?}");
    }
    for eco in [Ecosystem::Npm, Ecosystem::CratesIo] {
        assert!(
            broken(&with_ranges(eco, semver.clone())).is_empty(),
            "{eco:?}"
        );
    }
    // Paddock writes explicit versions, never ranges.
    for eco in ALL {
        assert!(base(eco)["affected"][0].get("ranges").is_none());
    }
}

#[test]
fn each_event_has_exactly_one_kind() {
    let two = json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "2.0"}]}]);
    assert_breaks(&with_ranges(Ecosystem::Pypi, two), "event");
    let none = json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {}]}]);
    assert_breaks(&with_ranges(Ecosystem::Pypi, none), "event");
}

#[test]
fn fixed_and_last_affected_never_mix() {
    let mixed = json!([{"type": "ECOSYSTEM", "events": [
        {"introduced": "0"}, {"fixed": "2.0"}, {"last_affected": "1.9"}
    ]}]);
    let v = with_ranges(Ecosystem::Pypi, mixed);
    assert_breaks(&v, "fixed-last-affected");
    assert!(!schema_errors(&v).is_empty(), "the OSV schema agrees");
}

#[test]
fn every_range_has_an_introduced_event() {
    let v = with_ranges(
        Ecosystem::Npm,
        json!([{"type": "SEMVER", "events": [{"fixed": "2.0.0"}]}]),
    );
    assert_breaks(&v, "introduced");
}

#[test]
fn all_versions_is_introduced_zero() {
    let v = with_ranges(
        Ecosystem::CratesIo,
        json!([{"type": "SEMVER", "events": [{"introduced": "0.0.0"}]}]),
    );
    assert_breaks(&v, "all-versions");
    let v = with_ranges(
        Ecosystem::CratesIo,
        json!([{"type": "SEMVER", "events": [{"introduced": "0"}]}]),
    );
    assert!(broken(&v).is_empty());
}

#[test]
fn database_specific_holds_only_objects_and_arrays() {
    let mut v = base(Ecosystem::Npm);
    v["database_specific"]["score"] = json!(160.0);
    assert_breaks(&v, "database-specific");
    let mut v = base(Ecosystem::Npm);
    v["affected"][0]["database_specific"]["severity"] = json!("critical");
    assert_breaks(&v, "database-specific");
    // Paddock nests its scalars in an object, where they survive.
    for eco in ALL {
        let v = base(eco);
        for ds in [
            &v["database_specific"],
            &v["affected"][0]["database_specific"],
        ] {
            assert!(ds
                .as_object()
                .unwrap()
                .values()
                .all(|x| x.is_object() || x.is_array()));
        }
    }
}

#[test]
fn contributors_leave_out_the_origins() {
    let mut v = base(Ecosystem::Pypi);
    v["database_specific"]["malicious-packages-origins"] =
        json!([{"source": "paddock", "sha256": "x"}]);
    assert_breaks(&v, "origins");
}

#[test]
fn a_finder_is_credited() {
    let mut v = base(Ecosystem::Rubygems);
    v["credits"][0]["type"] = json!("REPORTER");
    assert_breaks(&v, "credits");
    v["credits"][0]["type"] = json!("DISCOVERER");
    assert_breaks(&v, "credits");
    v["credits"] = json!([{"name": "", "type": "FINDER"}]);
    assert_breaks(&v, "credits");
    v.as_object_mut().unwrap().remove("credits");
    assert_breaks(&v, "credits");
}

#[test]
fn cwe_506_is_present() {
    let mut v = base(Ecosystem::Packagist);
    v["affected"][0]["database_specific"]["cwes"] = json!([{"cweId": "CWE-79"}]);
    assert_breaks(&v, "cwe");
    v["affected"][0]
        .as_object_mut()
        .unwrap()
        .remove("database_specific");
    assert_breaks(&v, "cwe");
}

#[test]
fn indicators_use_the_keys_and_domains_the_database_reads() {
    let set = |key: &str, value: Value| {
        let mut v = base(Ecosystem::Npm);
        v["database_specific"]["iocs"][key] = value;
        v
    };
    assert_breaks(&set("ip_addresses", json!(["203.0.113.9"])), "iocs");
    assert_breaks(&set("hosts", json!(["evil.example"])), "iocs");
    let long_label = format!("{}.example", "a".repeat(64));
    let long_name = ["abcd"; 60].join(".");
    for bad in [
        "evil example",
        "203.0.113.9",
        "evil.example/path",
        long_label.as_str(),
        long_name.as_str(),
    ] {
        assert_breaks(&set("domains", json!([bad])), "iocs");
    }
    assert!(broken(&set("domains", json!(["under_score.example"]))).is_empty());
    assert_breaks(&set("ips", json!(["evil.example"])), "iocs");
    assert!(broken(&set("ips", json!(["203.0.113.0/24", "2001:db8::1"]))).is_empty());
    assert_breaks(&set("urls", json!(["/relative/path"])), "iocs");
    assert_breaks(
        &set("files", json!([{"paths": ["x"], "source": "DOWNLOADED"}])),
        "iocs",
    );
    assert_breaks(
        &set("files", json!([{"paths": [], "source": "DROPPED"}])),
        "iocs",
    );
    assert_breaks(
        &set(
            "files",
            json!([{"paths": ["x"], "source": "DROPPED", "digests": {"sha256": "xyz"}}]),
        ),
        "iocs",
    );
    let v = base(Ecosystem::Npm);
    let keys: Vec<&String> = v["database_specific"]["iocs"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["domains", "files", "ips", "urls"]);
}

#[test]
fn final_ids_are_left_to_the_database() {
    let mut v = base(Ecosystem::Npm);
    v["id"] = json!("MAL-2026-2958");
    assert_breaks(&v, "id");
}

#[test]
fn an_empty_id_fails_the_osv_schema_so_paddock_writes_the_contributor_form() {
    let mut v = base(Ecosystem::Npm);
    v["id"] = json!("");
    assert!(
        !schema_errors(&v).is_empty(),
        "the id pattern refuses an empty id"
    );
    v.as_object_mut().unwrap().remove("id");
    assert!(!schema_errors(&v).is_empty(), "id is required");
    v["id"] = json!("MAL-0000-paddock-0123456789abcdef");
    assert!(schema_errors(&v).is_empty());
}

#[test]
fn file_names_and_directories_are_canonical() {
    let report = |eco: &str, name: &str| -> Value {
        let mut v = base(Ecosystem::Npm);
        v["affected"][0]["package"] = json!({"ecosystem": eco, "name": name});
        v
    };
    // The database's own example: the crate mysten-metrics.
    let crate_report = report("crates.io", "mysten-metrics");
    check_path(
        "osv/malicious/crates.io/mysten_metrics/MAL-0000-x.json",
        &crate_report,
    )
    .unwrap();
    let errors = check_path(
        "osv/malicious/crates.io/mysten-metrics/MAL-0000-x.json",
        &crate_report,
    )
    .unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("mysten_metrics")),
        "{errors:?}"
    );
    assert!(check_path(
        "osv/malicious/crates-io/mysten_metrics/MAL-0000-x.json",
        &crate_report
    )
    .is_err());

    // PEP 503.
    for (name, dir) in [
        ("Foo.Bar_baz", "foo-bar-baz"),
        ("zope.interface", "zope-interface"),
        ("Django", "django"),
        ("a__b--c..d", "a-b-c-d"),
    ] {
        let v = report("PyPI", name);
        check_path(&format!("osv/malicious/pypi/{dir}/MAL-0000-x.json"), &v).unwrap();
        assert!(check_path(&format!("osv/malicious/PyPI/{dir}/MAL-0000-x.json"), &v).is_err());
    }
    assert!(check_path(
        "osv/malicious/pypi/foo_bar/MAL-0000-x.json",
        &report("PyPI", "foo_bar")
    )
    .is_err());

    // Scopes and vendors nest; other names are lowercased.
    check_path(
        "osv/malicious/npm/@scope/name/MAL-0000-x.json",
        &report("npm", "@Scope/Name"),
    )
    .unwrap();
    check_path(
        "osv/malicious/packagist/vendor/pkg/MAL-0000-x.json",
        &report("Packagist", "Vendor/Pkg"),
    )
    .unwrap();
    check_path(
        "osv/malicious/rubygems/redcloth/MAL-0000-x.json",
        &report("RubyGems", "RedCloth"),
    )
    .unwrap();

    // File names: contributors use MAL-0000-*.json.
    let v = report("npm", "x");
    assert!(check_path("osv/malicious/npm/x/MAL-2026-1.json", &v).is_err());
    assert!(check_path("osv/malicious/npm/x/report.json", &v).is_err());

    // Withdrawn reports live under osv/withdrawn, and only they do.
    let mut w = report("npm", "x");
    w["withdrawn"] = json!("2026-11-22T10:00:00Z");
    check_path("osv/withdrawn/npm/x/MAL-0000-x.json", &w).unwrap();
    assert!(check_path("osv/malicious/npm/x/MAL-0000-x.json", &w).is_err());
    assert!(check_path("osv/withdrawn/npm/x/MAL-0000-x.json", &v).is_err());

    // Paddock's names agree with the checks, for every ecosystem.
    for eco in ALL {
        let name = sample_name(eco);
        let dir = paddock_osv::ReportDir::new("/r")
            .package_dir(paddock_osv::Tree::Malicious, eco, name)
            .unwrap();
        let v = base(eco);
        let file = format!(
            "{}/{}",
            dir.strip_prefix("/r").unwrap().display(),
            "MAL-0000-x.json"
        );
        check_path(&file, &v).unwrap_or_else(|e| panic!("{file}: {e:?}"));
    }
}
