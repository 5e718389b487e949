//! Every kind of log this crate writes, validated against the SARIF 2.1.0
//! schema (`tests/data/sarif-schema-2.1.0.json`, formats checked) and
//! against the invariants the schema cannot state: `ruleIndex` agrees with
//! `tool.driver.rules`, every location is a relative reference under a
//! declared base that decodes back to the file's name, and the
//! fingerprints are stable where they should be and only there.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use paddock_proto::v1::{
    AnalysisRun, AnalysisStatus, Artifact, BehaviorChange, Change, ChangeAction, ChangeKind,
    DynamicResult, Ecosystem, Evidence, Finding, FindingCategory, InstallHook, InstallHookKind,
    PackageMetadata, PackageRef, Phase, PhaseResult, Reachability, Reason, Severity, StaticResult,
    Verdict,
};
use paddock_sarif::{
    analyze_log, diff_log, DiffContext, Help, Location, LogBuilder, NewResult, RuleExample,
    RuleInfo, EVIDENCE_HASH_SCHEME, FINDING_SCHEME,
};
use serde_json::Value;

fn schema(draft: Option<jsonschema::Draft>) -> jsonschema::Validator {
    let text = include_str!("data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(text).expect("the schema is json");
    let mut options = jsonschema::options().should_validate_formats(true);
    if let Some(draft) = draft {
        options = options.with_draft(draft);
    }
    options.build(&schema).expect("the schema compiles")
}

/// The schema as it declares itself (draft 4).
static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| schema(None));

/// The same schema read as draft 7: draft 4 defines no `uri-reference`
/// format, so a draft-4 validator skips the check of every
/// `artifactLocation.uri`; the schema uses no keyword whose meaning
/// differs between the two drafts (`id` is only ignored), so this adds
/// exactly the format checks.
static SCHEMA_FORMATS: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| schema(Some(jsonschema::Draft::Draft7)));

/// The log as JSON, after checking it against the schema and the
/// invariants.
fn checked(log: &paddock_sarif::Log) -> Value {
    let json = serde_json::to_value(log).unwrap();
    let errors: Vec<String> = SCHEMA
        .iter_errors(&json)
        .chain(SCHEMA_FORMATS.iter_errors(&json))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{json:#}");
    invariants(&json);
    // What is written reads back as the same model.
    let back: paddock_sarif::Log = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, log);
    json
}

fn invariants(log: &Value) {
    assert_eq!(log["version"], "2.1.0");
    for run in log["runs"].as_array().unwrap() {
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let bases = run["originalUriBaseIds"].as_object().unwrap();
        for base in bases.values() {
            assert!(
                base.get("uri").is_none(),
                "a base never holds a machine path"
            );
        }
        let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rules.len(), "rule ids are unique");
        for r in &rules {
            let tags = r["properties"]["tags"].as_array().unwrap();
            assert_eq!(tags[0], "security");
            let sev: f64 = r["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.1..=10.0).contains(&sev));
        }
        for result in run["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"], "{result:#}");
            let locations = result["locations"].as_array().unwrap();
            assert!(!locations.is_empty(), "every result is located: {result:#}");
            let related = result
                .get("relatedLocations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for l in locations.iter().chain(related.iter()) {
                let a = &l["physicalLocation"]["artifactLocation"];
                let base = a["uriBaseId"].as_str().unwrap();
                assert!(bases.contains_key(base), "undeclared base {base}");
                resolve(a["uri"].as_str().unwrap());
            }
        }
    }
}

/// `uri` resolved against a base directory: it must stay under it.
fn resolve(uri: &str) -> String {
    assert!(
        uri.is_ascii() && !uri.contains(char::is_whitespace),
        "not a URI: {uri:?}"
    );
    assert!(!uri.starts_with('/') && !uri.contains(".."), "{uri}");
    let base = url::Url::parse("file:///base/dir/").unwrap();
    let joined = base.join(uri).unwrap();
    assert_eq!(joined.scheme(), "file", "{uri} is relative");
    let path = joined.path();
    assert!(
        path.starts_with("/base/dir/"),
        "{uri} leaves its base: {path}"
    );
    percent_encoding::percent_decode_str(&path["/base/dir/".len()..])
        .decode_utf8()
        .unwrap()
        .into_owned()
}

fn package() -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm.into(),
        name: "@acme/left-padder".into(),
        version: "1.0.1".into(),
    }
}

fn evidence(file: &str, line: u32, snippet: &str, detail: &str) -> Evidence {
    Evidence {
        file: file.into(),
        line,
        column: if line > 0 { 5 } else { 0 },
        snippet: snippet.into(),
        detail: detail.into(),
        ..Default::default()
    }
}

fn finding(rule: &str, severity: Severity, evidence: Vec<Evidence>) -> Finding {
    Finding {
        rule_id: rule.into(),
        rule_version: "7".into(),
        severity: severity.into(),
        confidence: 0.85,
        category: if rule.starts_with("capability.") {
            FindingCategory::Capability
        } else {
            FindingCategory::Threat
        }
        .into(),
        title: format!("{rule} title"),
        description: format!("{rule} description"),
        evidence,
        tags: vec!["network".into(), "network".into()],
        reachability: Reachability::Install.into(),
        technique: "T1059".into(),
    }
}

const HOSTILE: &str = "package/lib/a b%20ü#?:x.js";

/// A static result as the engine writes one: threats in the install
/// script, a layered stage, a capability in several files, a hostile file
/// name, evidence with a path outside the package, and a finding of a rule
/// the caller does not list.
fn static_result() -> StaticResult {
    let mut layered = evidence("package/install.js", 2, "exec(code)", "");
    layered.layers = vec!["base64".into(), "zlib".into(), "javascript".into()];
    StaticResult {
        package: Some(package()),
        run: Some(AnalysisRun {
            run_id: "run-1".into(),
            analyzer_version: "0.1.0".into(),
            ..Default::default()
        }),
        status: AnalysisStatus::Completed.into(),
        artifact: Some(Artifact {
            filename: "acme-left-padder-1.0.1.tgz".into(),
            size: 2048,
            sha256: "ab".repeat(32),
            ..Default::default()
        }),
        metadata: Some(PackageMetadata {
            install_hooks: vec![InstallHook {
                kind: InstallHookKind::NpmLifecycle.into(),
                name: "postinstall".into(),
                command: "node install.js".into(),
                file: "package/package.json".into(),
            }],
            ..Default::default()
        }),
        findings: vec![
            finding(
                "threat.exec-decoded",
                Severity::Critical,
                vec![evidence(
                    "package/install.js",
                    12,
                    "eval(Buffer.from(p, 'base64').toString())",
                    "decoded base64 reaches eval",
                )],
            ),
            finding("threat.layered", Severity::High, vec![layered]),
            finding(
                "capability.network",
                Severity::Medium,
                vec![
                    evidence("package/index.js", 3, "https.get(u)", ""),
                    evidence("package/lib/net.js", 9, "fetch(x)", "fetch"),
                ],
            ),
            finding(
                "capability.network",
                Severity::Medium,
                vec![evidence(HOSTILE, 1, "fetch(y)", "")],
            ),
            finding(
                "threat.outside",
                Severity::Low,
                vec![evidence("/etc/passwd", 0, "", "reads it")],
            ),
            finding("signal.no-evidence", Severity::Info, vec![]),
        ],
        ..Default::default()
    }
}

fn rules() -> Vec<RuleInfo> {
    let mut rules = Vec::new();
    for (id, severity) in [
        ("threat.exec-decoded", Severity::Critical),
        ("threat.layered", Severity::High),
        ("capability.network", Severity::Medium),
        ("threat.outside", Severity::Low),
        ("signal.unused", Severity::Info),
    ] {
        let mut r = RuleInfo::new(id, &format!("{id} title"), "What it finds.", severity);
        r.confidence = Some(0.8);
        r.tags = vec!["threat".into(), "T1059".into()];
        r.help = Help::render(
            "What it finds.",
            "T1059",
            &[],
            &[RuleExample {
                matches: true,
                files: vec![("index.js".into(), "eval(atob(x))".into())],
            }],
        );
        rules.push(r);
    }
    rules
}

fn verdict() -> Verdict {
    Verdict {
        package: Some(package()),
        severity: Severity::Critical.into(),
        score: 142.5,
        reasons: vec![
            Reason {
                source: "finding".into(),
                code: "threat.exec-decoded".into(),
                description: "decoded base64 reaches eval (install, confidence 0.85)".into(),
                weight: 85.0,
                severity: Severity::Critical.into(),
            },
            Reason {
                source: "change".into(),
                code: "install-network-added".into(),
                description: "new network activity at install time".into(),
                weight: 50.0,
                severity: Severity::High.into(),
            },
        ],
        has_static: true,
        scoring_version: "3".into(),
        ..Default::default()
    }
}

fn results_of<'a>(log: &'a Value, rule: &str) -> Vec<&'a Value> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .collect()
}

fn uri_of(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
}

#[test]
fn an_analyze_log_locates_every_finding_in_the_package() {
    let log = checked(&analyze_log(&rules(), &static_result(), None, &verdict()));
    let run = &log["runs"][0];
    assert_eq!(
        run["results"].as_array().unwrap().len(),
        6,
        "nothing dropped"
    );
    assert_eq!(run["tool"]["driver"]["name"], "paddock");
    assert_eq!(run["tool"]["driver"]["version"], "0.1.0");
    assert_eq!(run["tool"]["driver"]["properties"]["ruleSetVersion"], "7");
    assert!(
        run["originalUriBaseIds"]["PACKAGEROOT"]["description"]["text"]
            .as_str()
            .unwrap()
            .contains("root")
    );
    assert_eq!(
        run["automationDetails"]["id"],
        "paddock/analyze/npm/@acme/left-padder/"
    );
    assert_eq!(run["properties"]["package"]["name"], "@acme/left-padder");
    assert_eq!(run["properties"]["artifact"]["sha256"], "ab".repeat(32));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    // The threat: its file, line, column and snippet; title and detail.
    let threat = results_of(&log, "threat.exec-decoded")[0];
    assert_eq!(threat["level"], "error");
    assert_eq!(uri_of(threat), "package/install.js");
    let region = &threat["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 12);
    assert_eq!(region["startColumn"], 5);
    assert_eq!(
        region["snippet"]["text"],
        "eval(Buffer.from(p, 'base64').toString())"
    );
    assert_eq!(
        threat["message"]["text"],
        "threat.exec-decoded title: decoded base64 reaches eval"
    );
    assert_eq!(threat["properties"]["reachability"], "install");
    // An f32 confidence is written as the number it was meant to be.
    assert_eq!(threat["properties"]["confidence"], 0.85);
    assert_eq!(threat["properties"]["technique"], "T1059");
    assert_eq!(threat["properties"]["tags"], serde_json::json!(["network"]));
    // It is the verdict's first reason.
    assert_eq!(threat["properties"]["verdictReason"], 0);
    assert_eq!(threat["properties"]["verdictWeight"], 85.0);

    // Decoded code: the outer file, no region (the line is the decoded
    // text's), the layers said.
    let layered = results_of(&log, "threat.layered")[0];
    assert_eq!(uri_of(layered), "package/install.js");
    assert!(layered["locations"][0]["physicalLocation"]
        .get("region")
        .is_none());
    assert!(layered["message"]["text"]
        .as_str()
        .unwrap()
        .contains("base64 → zlib → javascript"));
    assert_eq!(layered["properties"]["snippet"], "exec(code)");
    assert!(layered["properties"].get("verdictReason").is_none());

    // Further evidence are related locations.
    let network = results_of(&log, "capability.network");
    assert_eq!(network.len(), 2);
    assert_eq!(network[0]["level"], "warning");
    let related = network[0]["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "package/lib/net.js"
    );
    assert_eq!(related[0]["message"]["text"], "fetch");

    // A path outside the package is never a location: the package root
    // holds the result and the path is kept as a property.
    let outside = results_of(&log, "threat.outside")[0];
    assert_eq!(outside["level"], "note");
    assert_eq!(uri_of(outside), ".");
    assert_eq!(outside["properties"]["evidenceFile"], "/etc/passwd");
    let no_evidence = results_of(&log, "signal.no-evidence")[0];
    assert_eq!(uri_of(no_evidence), ".");
}

#[test]
fn severities_map_to_levels_and_security_severity_on_rules_and_results() {
    let log = checked(&analyze_log(&rules(), &static_result(), None, &verdict()));
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    for (id, level, security) in [
        ("threat.exec-decoded", "error", "9.5"),
        ("threat.layered", "error", "8.0"),
        ("capability.network", "warning", "5.5"),
        ("threat.outside", "note", "3.0"),
        ("signal.unused", "note", "1.0"),
    ] {
        let r = rule(id);
        assert_eq!(r["defaultConfiguration"]["level"], level, "{id}");
        assert_eq!(r["properties"]["security-severity"], security, "{id}");
        assert_eq!(r["properties"]["precision"], "high", "{id}");
        assert_eq!(r["shortDescription"]["text"], format!("{id} title"));
        assert_eq!(r["fullDescription"]["text"], "What it finds.");
        assert!(r["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Technique: T1059"));
        assert!(r["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("eval(atob(x))"));
    }
    // The rule nobody listed is made from its finding.
    let made = rule("signal.no-evidence");
    assert_eq!(made["defaultConfiguration"]["level"], "note");
    assert_eq!(made["shortDescription"]["text"], "signal.no-evidence title");
    assert_eq!(
        made["properties"]["tags"],
        serde_json::json!(["security", "threat", "T1059"])
    );
    // Every level a result has is the one of its finding's severity.
    for (id, level) in [
        ("threat.exec-decoded", "error"),
        ("threat.layered", "error"),
        ("capability.network", "warning"),
        ("threat.outside", "note"),
        ("signal.no-evidence", "note"),
    ] {
        for r in results_of(&log, id) {
            assert_eq!(r["level"], level, "{id}");
        }
    }
}

#[test]
fn hostile_file_names_are_percent_encoded_relative_references() {
    let log = checked(&analyze_log(&rules(), &static_result(), None, &verdict()));
    let hostile = results_of(&log, "capability.network")[1];
    let uri = uri_of(hostile);
    assert_eq!(uri, "package/lib/a%20b%2520%C3%BC%23%3F%3Ax.js");
    assert_eq!(resolve(uri), HOSTILE, "it decodes back to the file's name");
}

fn fingerprints(log: &Value, rule: &str) -> Vec<String> {
    results_of(log, rule)
        .iter()
        .map(|r| {
            r["partialFingerprints"][FINDING_SCHEME]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn fingerprints_survive_a_line_shift_and_differ_with_the_evidence() {
    let before = static_result();
    let log = checked(&analyze_log(&rules(), &before, None, &verdict()));
    let original = fingerprints(&log, "threat.exec-decoded");

    // Ten lines added above it, and re-indented.
    let mut shifted = before.clone();
    let e = &mut shifted.findings[0].evidence[0];
    e.line += 10;
    e.column += 4;
    e.snippet = format!("    {}  ", e.snippet);
    let log = checked(&analyze_log(&rules(), &shifted, None, &verdict()));
    assert_eq!(fingerprints(&log, "threat.exec-decoded"), original);
    let region =
        &results_of(&log, "threat.exec-decoded")[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 22, "the location moves with it");

    // Other code at the same place is another result.
    let mut changed = before.clone();
    changed.findings[0].evidence[0].snippet = "eval(other)".into();
    let log = checked(&analyze_log(&rules(), &changed, None, &verdict()));
    assert_ne!(fingerprints(&log, "threat.exec-decoded"), original);

    // Two results with the same evidence are told apart by occurrence,
    // and every fingerprint in the log is distinct.
    let mut twice = before;
    let again = twice.findings[0].clone();
    twice.findings.push(again);
    let log = checked(&analyze_log(&rules(), &twice, None, &verdict()));
    let both = fingerprints(&log, "threat.exec-decoded");
    assert_eq!(both[0], original[0]);
    assert_eq!(both[0].rsplit_once(':').unwrap().1, "1");
    assert_eq!(both[1].rsplit_once(':').unwrap().1, "2");
    assert_eq!(
        both[0].rsplit_once(':').unwrap().0,
        both[1].rsplit_once(':').unwrap().0
    );
    let all: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"][FINDING_SCHEME].as_str().unwrap())
        .collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
}

fn dynamic_result() -> DynamicResult {
    let mut exfil = Finding {
        rule_id: "exfiltration.bait-in-traffic".into(),
        severity: Severity::Critical.into(),
        confidence: 1.0,
        category: FindingCategory::Threat.into(),
        title: "planted credentials left the sandbox".into(),
        description: "A bait value was seen in traffic.".into(),
        technique: "T1041".into(),
        ..Default::default()
    };
    for (phase, detail, file) in [
        (
            Phase::Install,
            "POST telemetry.update-cdn.example/c carries AWS_SECRET_ACCESS_KEY",
            "",
        ),
        (
            Phase::Import,
            "read the planted SSH key",
            "/root/.ssh/id_ed25519",
        ),
    ] {
        exfil.evidence.push(Evidence {
            phase: phase.into(),
            pid: 42,
            detail: detail.into(),
            file: file.into(),
            ..Default::default()
        });
    }
    let gated = Finding {
        rule_id: "dynamic.environment-gated".into(),
        severity: Severity::Medium.into(),
        confidence: 0.7,
        category: FindingCategory::Threat.into(),
        title: "behaviour only under CI variables or a later clock".into(),
        evidence: vec![Evidence {
            phase: Phase::Import.into(),
            detail: "connect 10.232.0.7:443 (ci.example)".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    DynamicResult {
        package: Some(package()),
        status: AnalysisStatus::ErrorTimeout.into(),
        status_detail: "the execute phase ran out of time".into(),
        phases: vec![
            PhaseResult {
                phase: Phase::Install.into(),
                status: AnalysisStatus::Completed.into(),
                ..Default::default()
            },
            PhaseResult {
                phase: Phase::Execute.into(),
                status: AnalysisStatus::ErrorTimeout.into(),
                status_detail: "60 s".into(),
                ..Default::default()
            },
        ],
        findings: vec![exfil, gated],
        ..Default::default()
    }
}

#[test]
fn dynamic_behaviour_is_located_at_the_package_root_with_its_phase() {
    let log = checked(&analyze_log(
        &rules(),
        &static_result(),
        Some(&dynamic_result()),
        &verdict(),
    ));
    let run = &log["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 8);
    let exfil = results_of(&log, "exfiltration.bait-in-traffic")[0];
    assert_eq!(exfil["level"], "error");
    assert_eq!(uri_of(exfil), ".");
    let logical: Vec<&str> = exfil["locations"][0]["logicalLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["fullyQualifiedName"].as_str().unwrap())
        .collect();
    assert_eq!(logical, ["dynamic/install", "dynamic/import"]);
    assert_eq!(
        exfil["locations"][0]["logicalLocations"][0]["kind"],
        "phase"
    );
    let text = exfil["message"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("planted credentials left the sandbox: POST telemetry.update-cdn.example")
            && text.contains("in the install phase"),
        "{text}"
    );
    // The sandbox path is evidence, never a location.
    assert_eq!(
        exfil["properties"]["evidence"][1]["sandboxPath"],
        "/root/.ssh/id_ed25519"
    );
    assert_eq!(exfil["properties"]["evidence"][1]["pid"], 42);
    let related = exfil["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert!(related[0]["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("import phase: read the planted SSH key"));
    let gated = results_of(&log, "dynamic.environment-gated")[0];
    assert_eq!(gated["level"], "warning");
    assert_eq!(gated["properties"]["phases"], serde_json::json!(["import"]));
    // Their rules are made from the findings.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules
        .iter()
        .any(|r| r["id"] == "exfiltration.bait-in-traffic"
            && r["properties"]["security-severity"] == "9.5"));
    // The timed-out analysis is said.
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes: Vec<&str> = invocation["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "dynamic analysis: error_timeout: the execute phase ran out of time",
            "execute phase: error_timeout: 60 s"
        ]
    );
}

fn change(kind: ChangeKind, action: ChangeAction, phase: Phase, value: &str, raw: &str) -> Change {
    let file_kind = matches!(kind, ChangeKind::BundledBinary | ChangeKind::FileRead);
    Change {
        kind: kind.into(),
        action: action.into(),
        value: value.into(),
        phase: phase.into(),
        evidence_hash: paddock_sarif::fingerprint(&[value, "hash"]),
        evidence: vec![Evidence {
            file: if file_kind { raw.into() } else { String::new() },
            phase: phase.into(),
            detail: raw.into(),
            ..Default::default()
        }],
    }
}

fn behaviour_change() -> BehaviorChange {
    use ChangeAction::{Added, Removed};
    BehaviorChange {
        package: Some(package()),
        previous_version: "1.0.0".into(),
        created_at: None,
        severity: Severity::Critical.into(),
        changes: vec![
            change(
                ChangeKind::Host,
                Added,
                Phase::Install,
                "telemetry.update-cdn.example:443",
                "connect 10.232.0.7:443",
            ),
            change(
                ChangeKind::Capability,
                Added,
                Phase::Unspecified,
                "threat.exec-decoded",
                "package/install.js: eval(...)",
            ),
            change(
                ChangeKind::BundledBinary,
                Added,
                Phase::Unspecified,
                "package/bin/x",
                "package/bin/up date",
            ),
            change(
                ChangeKind::Obfuscation,
                Added,
                Phase::Unspecified,
                "package/lib/x.js minified",
                "package/lib/x.js minified",
            ),
            change(
                ChangeKind::FileRead,
                Added,
                Phase::Import,
                "~/.ssh/id_ed25519",
                "/root/.ssh/id_ed25519",
            ),
            change(
                ChangeKind::Finding,
                Added,
                Phase::Install,
                "exfiltration.bait-in-traffic",
                "POST telemetry.update-cdn.example/c",
            ),
            change(
                ChangeKind::Dependency,
                Removed,
                Phase::Unspecified,
                "chalk",
                "chalk ^4",
            ),
            change(
                ChangeKind::InstallHook,
                Added,
                Phase::Unspecified,
                "npm-lifecycle postinstall: node install.js",
                "npm-lifecycle postinstall: node install.js",
            ),
        ],
    }
}

fn scoring_rules() -> Vec<RuleInfo> {
    let mut rules = rules();
    for (id, severity) in [
        ("install-network-added", Severity::High),
        ("credential-read-added", Severity::High),
        ("bundled-binary-added", Severity::Medium),
        ("install-hook-added", Severity::High),
    ] {
        let mut r = RuleInfo::new(id, id, "", severity);
        r.tags = vec!["behaviour-change".into()];
        rules.push(r);
    }
    rules
}

#[test]
fn a_diff_log_has_a_result_per_change_under_its_scoring_rule() {
    let changes = behaviour_change();
    let claims: BTreeMap<String, String> = [
        (&changes.changes[0], "install-network-added"),
        (&changes.changes[2], "bundled-binary-added"),
        (&changes.changes[4], "credential-read-added"),
        (&changes.changes[7], "install-hook-added"),
    ]
    .into_iter()
    .map(|(c, rule)| (c.evidence_hash.clone(), rule.to_owned()))
    .collect();
    let next = static_result();
    let next_dynamic = dynamic_result();
    let context = DiffContext {
        claims: Some(&claims),
        next_static: Some(&next),
        next_dynamic: Some(&next_dynamic),
    };
    let log = checked(&diff_log(&scoring_rules(), &changes, &verdict(), &context));
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), changes.changes.len(), "one per change");
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "install-network-added",
            "threat.exec-decoded",
            "bundled-binary-added",
            "change.obfuscation",
            "credential-read-added",
            "exfiltration.bait-in-traffic",
            "change.dependency",
            "install-hook-added"
        ]
    );
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["error", "error", "warning", "note", "error", "error", "none", "error"]
    );
    assert_eq!(results[6]["kind"], "informational");
    // The fingerprint is the change's evidence hash.
    for (r, c) in results.iter().zip(&changes.changes) {
        assert_eq!(
            r["partialFingerprints"][EVIDENCE_HASH_SCHEME],
            c.evidence_hash
        );
    }
    // Located in the newer release's files where it can be.
    assert_eq!(uri_of(&results[0]), ".");
    assert_eq!(
        results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "dynamic/install"
    );
    assert_eq!(uri_of(&results[1]), "package/install.js");
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        12
    );
    assert_eq!(uri_of(&results[2]), "package/bin/up%20date");
    assert_eq!(uri_of(&results[3]), "package/lib/x.js");
    assert_eq!(uri_of(&results[4]), ".");
    // A new hook at the manifest that declares it.
    assert_eq!(uri_of(&results[7]), "package/package.json");
    assert_eq!(
        results[4]["properties"]["sandboxPath"],
        "/root/.ssh/id_ed25519"
    );
    assert_eq!(
        results[0]["message"]["text"],
        "added host (install): telemetry.update-cdn.example:443; evidence: connect 10.232.0.7:443"
    );
    // The verdict, and the reason each result is.
    assert_eq!(run["properties"]["verdict"]["severity"], "critical");
    assert_eq!(run["properties"]["verdict"]["score"], 142.5);
    assert_eq!(run["properties"]["previousVersion"], "1.0.0");
    assert_eq!(run["properties"]["changes"]["added"], 7);
    assert_eq!(results[0]["properties"]["verdictReason"], 1);
    assert_eq!(results[1]["properties"]["verdictReason"], 0);
    assert_eq!(
        run["automationDetails"]["id"],
        "paddock/diff/npm/@acme/left-padder/"
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let made = rules
        .iter()
        .find(|r| r["id"] == "change.dependency")
        .unwrap();
    assert_eq!(made["defaultConfiguration"]["level"], "note");
    // A new dynamic finding no rule was listed for: its rule is made from
    // the newer release's finding, critical as the finding is.
    let made = rules
        .iter()
        .find(|r| r["id"] == "exfiltration.bait-in-traffic")
        .unwrap();
    assert_eq!(made["properties"]["security-severity"], "9.5");
    assert_eq!(uri_of(&results[5]), ".");
    assert_eq!(
        results[5]["locations"][0]["logicalLocations"][0]["name"],
        "install"
    );
    // Without the newer release's results, it is a change of its kind.
    let bare = checked(&diff_log(
        &scoring_rules(),
        &changes,
        &verdict(),
        &DiffContext::default(),
    ));
    let ids: Vec<&str> = bare["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "change.host",
            "threat.exec-decoded",
            "change.bundled_binary",
            "change.obfuscation",
            "change.file_read",
            "change.finding",
            "change.dependency",
            "change.install_hook"
        ]
    );
}

#[test]
fn a_generic_log_locates_results_in_a_lockfile() {
    let mut log = LogBuilder::paddock();
    log.base("LOCKFILEDIR", "the directory of the verified lockfile");
    log.category("paddock/verify");
    log.rule(&RuleInfo::new(
        "lockfile.digest-mismatch",
        "the registry serves other bytes than the lockfile pins",
        "The artifact's digest differs from the one the lockfile records.",
        Severity::High,
    ));
    log.rule(&RuleInfo::new(
        "lockfile.malicious-release",
        "a pinned release is malicious",
        "",
        Severity::Critical,
    ));
    let fp = paddock_sarif::fingerprint(&["npm", "left-pad", "1.3.0"]);
    log.result(
        NewResult::new("lockfile.malicious-release", "left-pad 1.3.0 is critical")
            .at(Location::file("LOCKFILEDIR", "web app/package-lock.json")
                .line(42)
                .column(7)
                .snippet("\"node_modules/left-pad\": {"))
            .fingerprint("paddockLockfileEntry/v1", fp.clone())
            .property("verdictSeverity", "critical"),
    )
    .unwrap();
    assert!(log
        .result(
            NewResult::new("lockfile.digest-mismatch", "x")
                .at(Location::file("LOCKFILEDIR", "/home/me/package-lock.json"))
        )
        .is_err());
    let json = checked(&log.build());
    let r = &json["runs"][0]["results"][0];
    assert_eq!(r["ruleIndex"], 1);
    assert_eq!(r["level"], "error");
    assert_eq!(uri_of(r), "web%20app/package-lock.json");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "LOCKFILEDIR"
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        42
    );
    assert_eq!(r["partialFingerprints"]["paddockLockfileEntry/v1"], fp);
    assert_eq!(
        json["runs"][0]["automationDetails"]["id"],
        "paddock/verify/"
    );
    assert_eq!(
        json["runs"][0]["tool"]["driver"]["version"],
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn an_empty_run_still_says_it_found_nothing() {
    let mut clean = static_result();
    clean.findings.clear();
    let log = checked(&analyze_log(&[], &clean, None, &Verdict::default()));
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn the_schema_check_rejects_what_is_not_sarif() {
    let mut log =
        serde_json::to_value(analyze_log(&rules(), &static_result(), None, &verdict())).unwrap();
    assert!(SCHEMA.is_valid(&log) && SCHEMA_FORMATS.is_valid(&log));
    let good = log.clone();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!SCHEMA.is_valid(&log));
    let mut log = good.clone();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!SCHEMA.is_valid(&log));
    let mut log = good.clone();
    log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] =
        serde_json::json!(["security", "security"]);
    assert!(!SCHEMA.is_valid(&log));
    // Formats are checked: a URI reference with a space is not one.
    let mut log = good;
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        "a b.js".into();
    assert!(!SCHEMA_FORMATS.is_valid(&log));
}
