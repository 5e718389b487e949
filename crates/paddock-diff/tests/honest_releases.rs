//! Two honest consecutive releases, built to differ in everything that is
//! not behaviour: version strings, temp paths, random build names, pids,
//! line numbers, hashes, run ids, resolved addresses.

use paddock_diff::{
    diff, from_dynamic, from_static, Kind, PhaseLite, Profile, Scoring, Suppressions,
};
use paddock_proto::v1::{
    AnalysisRun, AnalysisStatus, Command, DnsQuery, DynamicResult, Ecosystem, Evidence,
    FetchedPackage, FileEvent, FileFacts, FileOp, FileSignals, FileWrite, Finding, FindingCategory,
    HighEntropyString, HttpRequest, InstallHook, InstallHookKind, PackageMetadata, PackageRef,
    Phase, PhaseResult, Process, Severity, Socket, SocketOp, StaticResult, TlsHello,
};

/// What differs between the two releases.
struct Noise {
    version: &'static str,
    tmp: &'static str,
    rand: &'static str,
    hex: &'static str,
    uuid: &'static str,
    pid: u32,
    line: u32,
    addr: &'static str,
}

const FIRST: Noise = Noise {
    version: "2.4.0",
    tmp: "tmpab12cd",
    rand: "hs5a9tfb",
    hex: "3f9a8b7c1d2e",
    uuid: "123e4567-e89b-12d3-a456-426614174000",
    pid: 8,
    line: 10,
    addr: "10.232.0.3",
};

const SECOND: Noise = Noise {
    version: "2.5.0-beta.1",
    tmp: "tmpq9z8y7",
    rand: "k2m9x7qa",
    hex: "9c8d7e6f5a4b",
    uuid: "9b2f0c1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
    pid: 23,
    line: 57,
    addr: "10.232.0.17",
};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn package(n: &Noise) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm.into(),
        name: "acme-widget".into(),
        version: n.version.into(),
    }
}

fn static_result(n: &Noise) -> StaticResult {
    let finding = |rule: &str, category: FindingCategory, severity: Severity, line: u32| Finding {
        rule_id: rule.into(),
        severity: severity.into(),
        category: category.into(),
        title: "t".into(),
        evidence: vec![Evidence {
            file: "package/lib/index.js".into(),
            line,
            snippet: "x".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    StaticResult {
        package: Some(package(n)),
        run: Some(AnalysisRun {
            run_id: format!("static-{}", n.rand),
            ..Default::default()
        }),
        status: AnalysisStatus::Completed.into(),
        files: vec![
            FileFacts {
                path: format!("package/dist/chunk-{}.min.js", n.hex),
                sha256: format!("{}{}", n.hex, n.hex),
                signals: Some(FileSignals {
                    minified: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
            FileFacts {
                path: "package/lib/index.js".into(),
                signals: Some(FileSignals {
                    high_entropy_strings: vec![HighEntropyString {
                        value: n.rand.into(),
                        entropy: 4.5,
                        line: n.line,
                    }],
                    base64_strings: vec![n.rand.into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ],
        findings: vec![
            finding(
                "capability.network",
                FindingCategory::Capability,
                Severity::Info,
                n.line,
            ),
            finding(
                "threat.install-process-spawn",
                FindingCategory::Threat,
                Severity::Low,
                n.line + 3,
            ),
        ],
        metadata: Some(PackageMetadata {
            install_hooks: vec![InstallHook {
                kind: InstallHookKind::NpmLifecycle.into(),
                name: "postinstall".into(),
                command: format!("node scripts/install.js --release {}", n.version),
                file: "package/package.json".into(),
            }],
            dependencies: vec![paddock_proto::v1::Dependency {
                name: "lodash".into(),
                requirement: format!("^4.17.{}", n.line),
                scope: "runtime".into(),
                ..Default::default()
            }],
            bundled_binaries: vec![format!(
                "package/prebuilds/linux-x64/acme-widget-{}.node",
                n.version
            )],
            declared_version: n.version.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn dynamic_result(n: &Noise) -> DynamicResult {
    let driver = |phase: &str| {
        s(&[
            "node",
            "/opt/paddock/analyze-node.js",
            phase,
            "acme-widget",
            n.version,
        ])
    };
    let npm = n.pid;
    let (sh, node, build) = (n.pid + 30, n.pid + 31, n.pid + 32);
    let cmd = |seq: u64, pid: u32, parent: u32, argv: Vec<String>| Command {
        seq: seq + u64::from(n.line),
        pid,
        parent_pid: parent,
        argv,
        ..Default::default()
    };
    let ev = |seq: u64, pid: u32, op: FileOp, path: String| FileEvent {
        seq: seq + u64::from(n.line),
        pid,
        op: op.into(),
        path,
        ..Default::default()
    };
    let tmp_script = format!("/tmp/{}/build-{}.js", n.tmp, n.rand);
    let install = PhaseResult {
        phase: Phase::Install.into(),
        processes: vec![
            Process {
                pid: 1,
                argv: driver("install"),
                ..Default::default()
            },
            Process {
                pid: npm,
                parent_pid: 1,
                argv: s(&["node", "/usr/bin/npm", "install"]),
                ..Default::default()
            },
        ],
        commands: vec![
            cmd(1, 1, 0, driver("install")),
            Command {
                result: -2,
                ..cmd(
                    5,
                    npm,
                    1,
                    s(&[
                        "npm",
                        "install",
                        &format!("/artifact/acme-widget-{}.tgz", n.version),
                    ]),
                )
            },
            cmd(
                6,
                npm,
                1,
                s(&[
                    "node",
                    "/usr/bin/npm",
                    "install",
                    &format!("/artifact/acme-widget-{}.tgz", n.version),
                ]),
            ),
            cmd(
                100,
                sh,
                npm,
                vec![
                    "sh".into(),
                    "-c".into(),
                    format!("node scripts/install.js --release {}", n.version),
                ],
            ),
            cmd(
                101,
                node,
                sh,
                s(&["node", "scripts/install.js", "--release", n.version]),
            ),
            cmd(
                300,
                build,
                node,
                vec![
                    "node".into(),
                    tmp_script.clone(),
                    "--cache".into(),
                    format!("/root/.cache/acme/{}", n.hex),
                    "--id".into(),
                    n.uuid.into(),
                ],
            ),
        ],
        file_events: vec![
            ev(
                10,
                npm,
                FileOp::Create,
                format!("/root/.npm/_cacache/tmp/{}", n.rand),
            ),
            ev(
                11,
                npm,
                FileOp::Create,
                "/app/node_modules/acme-widget/package.json".into(),
            ),
            ev(200, node, FileOp::Create, tmp_script.clone()),
            ev(
                201,
                node,
                FileOp::OpenWrite,
                format!("/root/.config/acme/acme-widget-{}.json", n.version),
            ),
            ev(
                202,
                node,
                FileOp::Create,
                format!("/var/tmp/{}/obj-{}.o", n.rand, n.hex),
            ),
            ev(203, node, FileOp::Mkdir, format!("/root/.acme/{}", n.uuid)),
            ev(
                204,
                node,
                FileOp::OpenRead,
                format!("/proc/{}/environ", node),
            ),
            ev(205, node, FileOp::OpenRead, format!("/proc/{}/stat", node)),
            ev(400, node, FileOp::Delete, tmp_script.clone()),
            ev(401, node, FileOp::Create, format!("/tmp/{}", n.rand)),
            ev(402, node, FileOp::Delete, format!("/tmp/{}", n.rand)),
        ],
        file_writes: vec![FileWrite {
            path: "host:[1]".into(),
            pid: 1,
            sha256: n.hex.into(),
            ..Default::default()
        }],
        sockets: vec![
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: paddock_proto::sandbox::HOST_ADDR.to_string(),
                port: paddock_proto::sandbox::PROXY_PORT.into(),
                pid: npm,
                ..Default::default()
            },
            Socket {
                op: SocketOp::Sendto.into(),
                family: "AF_INET".into(),
                address: paddock_proto::sandbox::HOST_ADDR.to_string(),
                port: paddock_proto::sandbox::RESOLVER_PORT.into(),
                pid: node,
                ..Default::default()
            },
            Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: n.addr.into(),
                port: 443,
                hostnames: s(&["telemetry.acme.example"]),
                pid: node,
                ..Default::default()
            },
        ],
        dns: vec![DnsQuery {
            hostname: "telemetry.acme.example".into(),
            types: s(&["A", "AAAA"]),
            answered: true,
            ..Default::default()
        }],
        http_requests: vec![HttpRequest {
            method: "GET".into(),
            host: "telemetry.acme.example".into(),
            path: format!("/v1/ping/{}?id={}&t=1699999{}", n.version, n.uuid, n.line),
            address: n.addr.into(),
            port: 80,
            via: "catch-all".into(),
            ..Default::default()
        }],
        tls: vec![TlsHello {
            sni: "telemetry.acme.example".into(),
            address: n.addr.into(),
            port: 443,
            ..Default::default()
        }],
        fetched_packages: vec![FetchedPackage {
            package: Some(PackageRef {
                ecosystem: Ecosystem::Npm.into(),
                name: "lodash".into(),
                version: format!("4.17.{}", n.line),
            }),
            sha256: n.hex.into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let import = PhaseResult {
        phase: Phase::Import.into(),
        processes: vec![Process {
            pid: 1,
            argv: driver("import"),
            ..Default::default()
        }],
        commands: vec![cmd(1, 1, 0, driver("import"))],
        file_events: vec![ev(
            3,
            1,
            FileOp::OpenRead,
            format!("/root/.acme/{}/state", n.uuid),
        )],
        ..Default::default()
    };
    DynamicResult {
        package: Some(package(n)),
        run: Some(AnalysisRun {
            run_id: format!("dynamic-{}", n.rand),
            ..Default::default()
        }),
        status: AnalysisStatus::Completed.into(),
        phases: vec![install, import],
        ..Default::default()
    }
}

fn profile(n: &Noise) -> Profile {
    let mut p = from_static(&static_result(n));
    p.merge(from_dynamic(&dynamic_result(n)));
    p
}

#[test]
fn the_profile_holds_the_behaviour_normalised() {
    let p = profile(&FIRST);
    let lines: Vec<String> = p
        .items
        .keys()
        .map(|k| format!("{} {} {}", k.kind.token(), k.phase.token(), k.value))
        .collect();
    assert_eq!(
        lines,
        [
            "host install http GET telemetry.acme.example/v1/ping/<v>",
            "host install telemetry.acme.example:443",
            "host install tls telemetry.acme.example:443",
            "dns_name install telemetry.acme.example",
            // The install script writes a script to /tmp and runs it: in
            // both releases, so no change.
            "command install exec-written-file /tmp/<tmp>/build-<rand>.js",
            "command install node /tmp/<tmp>/build-<rand>.js --cache ~/.cache/acme/<hex> --id <uuid>",
            "command install node scripts/install.js --release <v>",
            "command install sh -c 'node scripts/install.js --release <v>'",
            "file_write install /tmp/<tmp>",
            "file_write install ~/.acme/<uuid>",
            "file_write install ~/.config/acme/acme-widget-<v>.json",
            "file_read install /proc/<pid>/environ",
            "file_delete install /tmp/<tmp>",
            "capability static capability.network",
            "capability static threat.install-process-spawn",
            "install_hook static npm-lifecycle postinstall: node scripts/install.js --release <v>",
            "obfuscation static package/dist/chunk-<hex>.min.js minified",
            "obfuscation static package/lib/index.js high-entropy",
            "bundled_binary static package/prebuilds/linux-x64/acme-widget-<v>.node",
            "dependency static lodash",
            "dependency install lodash",
        ]
    );
    assert_eq!(p.run_ids.len(), 2);
    assert!(p.contains(Kind::Dependency, PhaseLite::Install, "lodash"));
}

#[test]
fn honest_consecutive_releases_have_no_changes_and_an_info_verdict() {
    let (a, b) = (profile(&FIRST), profile(&SECOND));
    assert_ne!(a.run_ids, b.run_ids);
    assert!(diff(&a, &b).is_empty(), "{:#?}", diff(&a, &b));
    assert!(diff(&b, &a).is_empty());
    let v = Scoring::builtin().verdict(&b, Some(&a), &[], &Suppressions::default());
    assert_eq!(
        (v.severity(), v.score),
        (Severity::Info, 0.0),
        "{:?}",
        v.reasons
    );
    assert_eq!(v.previous_version, FIRST.version);
}
