//! Hostile source files: each finishes within the budget with a recorded
//! status, and never crashes or hangs the analysis.

use std::path::Path;
use std::time::{Duration, Instant};

use paddock_proto::v1::{AnalysisStatus, FileStatus, PackageRef, StaticResult};
use paddock_static::{analyze_tree, StaticConfig};

fn analyse(files: &[(&str, Vec<u8>)]) -> (StaticResult, Duration) {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let started = Instant::now();
    let result = analyze_tree(
        dir.path(),
        PackageRef::default(),
        None,
        &StaticConfig::default(),
    );
    (result, started.elapsed())
}

fn status(result: &StaticResult, path: &str) -> FileStatus {
    let f = result
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} missing"));
    FileStatus::try_from(f.status).unwrap()
}

fn within_budget(elapsed: Duration) {
    assert!(
        elapsed < StaticConfig::default().package_budget,
        "took {elapsed:?}"
    );
}

#[test]
fn a_50_mb_single_line_minified_file_gets_basic_facts() {
    let line = "function(a){return a+1};".repeat(50 * 1024 * 1024 / 24);
    let (result, elapsed) = analyse(&[
        ("dist/bundle.min.js", line.into_bytes()),
        ("index.js", b"module.exports = 1;\n".to_vec()),
    ]);
    within_budget(elapsed);
    assert_eq!(
        status(&result, "dist/bundle.min.js"),
        FileStatus::SkippedTooLarge
    );
    let big = result
        .files
        .iter()
        .find(|f| f.path == "dist/bundle.min.js")
        .unwrap();
    assert_eq!(big.sha256.len(), 64);
    assert!(big.signals.as_ref().unwrap().minified);
    assert_eq!(
        status(&result, "index.js"),
        FileStatus::Analysed,
        "the other files are still analysed"
    );
    assert_eq!(result.status, AnalysisStatus::Completed as i32);
}

#[test]
fn a_file_nested_ten_thousand_levels_deep_is_analysed() {
    let deep = format!("var x = {}0{};\n", "[".repeat(10_000), "]".repeat(10_000));
    let py = format!("x = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000));
    let (result, elapsed) =
        analyse(&[("deep.js", deep.into_bytes()), ("deep.py", py.into_bytes())]);
    within_budget(elapsed);
    for path in ["deep.js", "deep.py"] {
        assert_eq!(status(&result, path), FileStatus::Analysed, "{path}");
    }
}

#[test]
fn invalid_utf8_and_nul_filled_files_are_recorded() {
    let mut invalid = b"import os\nx = '".to_vec();
    invalid.extend([0xff, 0xfe, 0xc3, 0x28]);
    invalid.extend(b"'\nos.system('id')\n");
    let (result, elapsed) = analyse(&[("bad.py", invalid), ("zeros.js", vec![0u8; 1 << 20])]);
    within_budget(elapsed);
    let bad = result.files.iter().find(|f| f.path == "bad.py").unwrap();
    assert!(
        bad.status == FileStatus::Analysed as i32 || bad.status == FileStatus::NotSource as i32
    );
    assert_eq!(status(&result, "zeros.js"), FileStatus::NotSource);
    assert_eq!(
        result
            .files
            .iter()
            .find(|f| f.path == "zeros.js")
            .unwrap()
            .detected_type,
        "data"
    );
}

#[test]
fn a_10_mb_string_literal_is_parsed_and_bounded() {
    let src = format!(
        "var payload = \"{}\";\neval(payload);\n",
        "QUJD".repeat(10 * 1024 * 1024 / 4)
    );
    let (result, elapsed) = analyse(&[("big.js", src.into_bytes())]);
    within_budget(elapsed);
    assert_eq!(status(&result, "big.js"), FileStatus::Analysed);
    let f = result.files.iter().find(|f| f.path == "big.js").unwrap();
    let lit = &f.parse.as_ref().unwrap().string_literals[0];
    assert!(lit.value.len() <= 4096, "stored literals are bounded");
    assert!(result
        .findings
        .iter()
        .any(|f| f.rule_id == "capability.dynamic-eval"));
}

#[test]
fn the_time_budget_stops_parsing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(
            dir.path().join(format!("f{i}.js")),
            "var a = 1;\n".repeat(20_000),
        )
        .unwrap();
    }
    let config = StaticConfig {
        package_budget: Duration::ZERO,
        ..Default::default()
    };
    let result = analyze_tree(Path::new(dir.path()), PackageRef::default(), None, &config);
    assert_eq!(result.status, AnalysisStatus::ErrorTimeout as i32);
    assert!(result.status_detail.contains("budget"));
    assert!(result
        .files
        .iter()
        .all(|f| f.status == FileStatus::SkippedBudget as i32));
    assert_eq!(
        result.files.len(),
        50,
        "every file still has its basic facts"
    );
}
