//! Snapshot tests that pin the binary and JSON encodings of a representative
//! message of every type. A failing snapshot means the wire contract changed:
//! that is only acceptable for an added field (review the new snapshot with
//! `cargo insta review`), never for a renumbered or retyped one.

use paddock_proto::v1::*;
use paddock_proto::well_known::{Duration, Timestamp};
use paddock_proto::WireMessage;

fn ts(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn pkg() -> Option<PackageRef> {
    Some(PackageRef {
        ecosystem: Ecosystem::Npm as i32,
        name: "@acme/left-pad".into(),
        version: "1.3.0".into(),
    })
}

fn artifact() -> Artifact {
    Artifact {
        filename: "left-pad-1.3.0.tgz".into(),
        size: 2048,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        registry_digests: vec![RegistryDigest {
            algorithm: "sha512".into(),
            value: "sha512-AAAA".into(),
        }],
        object_key: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        url: "http://127.0.0.1:1/left-pad/-/left-pad-1.3.0.tgz".into(),
        kind: ArtifactKind::NpmTarball as i32,
    }
}

fn finding() -> Finding {
    Finding {
        rule_id: "threat.exec-decoded-base64".into(),
        rule_version: "1".into(),
        severity: Severity::High as i32,
        confidence: 0.75,
        category: FindingCategory::Threat as i32,
        title: "executes code decoded from base64".into(),
        description: String::new(),
        evidence: vec![Evidence {
            file: "index.js".into(),
            line: 3,
            column: 1,
            snippet: "eval(atob(x))".into(),
            layers: vec!["base64".into(), "javascript".into()],
            ..Default::default()
        }],
        tags: vec!["obfuscation".into()],
        reachability: paddock_proto::v1::Reachability::Import as i32,
        technique: "T1140".into(),
    }
}

fn release() -> Release {
    Release {
        package: pkg(),
        published_at: ts(1_700_000_000),
        discovered_at: ts(1_700_000_060),
        source: FeedSource::Feed as i32,
        feed_name: "npm-changes".into(),
        artifacts: vec![artifact()],
        selected_artifact: 0,
        yanked: false,
        prerelease: false,
    }
}

fn static_result() -> StaticResult {
    StaticResult {
        package: pkg(),
        run: Some(AnalysisRun {
            run_id: "run-1".into(),
            started_at: ts(1_700_000_100),
            finished_at: ts(1_700_000_101),
            analyzer_version: "0.1.0".into(),
            worker: "w1".into(),
        }),
        created_at: ts(1_700_000_101),
        status: AnalysisStatus::Completed as i32,
        status_detail: String::new(),
        artifact: Some(artifact()),
        files: vec![FileFacts {
            path: "index.js".into(),
            detected_type: "JavaScript source, ASCII text".into(),
            size: 120,
            sha256: "ab".repeat(32),
            line_lengths: vec![ValueCount {
                value: 40,
                count: 3,
            }],
            language: Language::Javascript as i32,
            status: FileStatus::Analysed as i32,
            status_detail: String::new(),
            parse: Some(ParseFacts {
                syntax_errors: 0,
                identifiers: vec![Identifier {
                    name: "x".into(),
                    kind: IdentifierKind::Variable as i32,
                    entropy: 1.5,
                    line: 1,
                }],
                string_literals: vec![StringLiteral {
                    value: "aGVsbG8gd29ybGQgaGVsbG8=".into(),
                    raw: "'aGVsbG8gd29ybGQgaGVsbG8='".into(),
                    entropy: 3.2,
                    line: 1,
                }],
                calls: vec![Call {
                    callee: "eval".into(),
                    line: 3,
                    arg_count: 1,
                    ..Default::default()
                }],
                imports: vec![Import {
                    module: "child_process".into(),
                    line: 2,
                }],
                ..Default::default()
            }),
            signals: Some(FileSignals {
                base64_strings: vec!["aGVsbG8gd29ybGQgaGVsbG8=".into()],
                suspicious_identifiers: vec![SuspiciousIdentifier {
                    name: "x".into(),
                    rule: SuspiciousIdentifierRule::Single as i32,
                }],
                ..Default::default()
            }),
        }],
        findings: vec![finding()],
        metadata: Some(PackageMetadata {
            install_hooks: vec![InstallHook {
                kind: InstallHookKind::NpmLifecycle as i32,
                name: "postinstall".into(),
                command: "node install.js".into(),
                file: "package.json".into(),
            }],
            ..Default::default()
        }),
        stats: Some(StaticStats {
            files: 1,
            bytes: 120,
            parsed_files: 1,
            parsed_bytes: 120,
            skipped_files: 0,
            duration_ms: 4,
        }),
    }
}

fn dynamic_result() -> DynamicResult {
    DynamicResult {
        package: pkg(),
        run: None,
        created_at: ts(1_700_000_200),
        artifact: Some(artifact()),
        sandbox: Some(SandboxInfo {
            runtime: "runsc".into(),
            network_mode: "host-in-netns".into(),
            image_digest: "cd".repeat(32),
            memory_limit_bytes: 1 << 30,
            pids_limit: 256,
            cpu_limit: 1.0,
        }),
        phases: vec![PhaseResult {
            phase: Phase::Install as i32,
            status: AnalysisStatus::ErrorTimeout as i32,
            status_detail: "phase timeout 300s fired".into(),
            started_at: ts(1_700_000_150),
            duration: Some(Duration {
                seconds: 300,
                nanos: 0,
            }),
            resources: Some(ResourceUsage {
                max_rss_bytes: 1 << 20,
                cpu_seconds: 0.5,
                max_pids: 3,
                oom_killed: false,
                pids_limit_hit: false,
            }),
            exit_code: -1,
            stdout_tail: b"added 1 package".to_vec(),
            stderr_tail: Vec::new(),
            files: vec![FileAccess {
                path: "/root/.ssh/id_rsa".into(),
                read: true,
                ..Default::default()
            }],
            file_events: vec![FileEvent {
                seq: 7,
                pid: 12,
                op: FileOp::OpenRead as i32,
                path: "/root/.ssh/id_rsa".into(),
                result: 3,
                ..Default::default()
            }],
            sockets: vec![Socket {
                seq: 9,
                pid: 12,
                op: SocketOp::Connect as i32,
                family: "AF_INET".into(),
                protocol: "tcp".into(),
                address: "192.0.2.1".into(),
                port: 443,
                hostnames: vec!["evil.example".into()],
                result: -101,
                error: "ENETUNREACH".into(),
            }],
            dns: vec![DnsQuery {
                hostname: "evil.example".into(),
                types: vec!["A".into()],
                class: "IN".into(),
                answered: false,
                answers: vec![],
                at: ts(1_700_000_160),
            }],
            commands: vec![Command {
                seq: 3,
                pid: 12,
                parent_pid: 1,
                argv: vec!["sh".into(), "-c".into(), "id".into()],
                env: vec!["HOME=/root".into()],
                cwd: "/app".into(),
                result: 0,
            }],
            processes: vec![Process {
                pid: 12,
                parent_pid: 1,
                executable: "/bin/sh".into(),
                argv: vec!["sh".into()],
                first_seq: 3,
                exit_code: 0,
            }],
            file_writes: vec![FileWrite {
                path: "/tmp/x".into(),
                pid: 12,
                bytes_written: 5,
                sha256: "ef".repeat(32),
                head: b"hello".to_vec(),
            }],
            trace: Some(TraceStats {
                lines: 100,
                events: 40,
                unparsed_lines: 1,
                truncated: false,
            }),
            ..Default::default()
        }],
        findings: vec![finding()],
        status: AnalysisStatus::ErrorTimeout as i32,
        status_detail: String::new(),
    }
}

fn verdict() -> Verdict {
    Verdict {
        package: pkg(),
        created_at: ts(1_700_000_300),
        severity: Severity::Critical as i32,
        score: 97.5,
        reasons: vec![Reason {
            source: "change".into(),
            code: "install_hook.added".into(),
            description: "first release with an install hook".into(),
            weight: 40.0,
            severity: Severity::High as i32,
        }],
        previous_version: "1.2.9".into(),
        has_static: true,
        has_dynamic: true,
        run_ids: vec!["run-1".into(), "run-2".into()],
        scoring_version: "1".into(),
    }
}

fn behavior_change() -> BehaviorChange {
    BehaviorChange {
        package: pkg(),
        previous_version: "1.2.9".into(),
        created_at: ts(1_700_000_300),
        changes: vec![Change {
            kind: ChangeKind::InstallHook as i32,
            action: ChangeAction::Added as i32,
            value: "npm:postinstall node install.js".into(),
            phase: Phase::Install as i32,
            evidence_hash: "01".repeat(32),
            evidence: vec![],
        }],
        severity: Severity::High as i32,
    }
}

fn alert() -> Alert {
    Alert {
        alert_id: "alert:npm:@acme/left-pad@1.3.0:run-1:run-2".into(),
        package: pkg(),
        severity: Severity::Critical as i32,
        created_at: ts(1_700_000_300),
        summary: "npm/@acme/left-pad@1.3.0 adds an install hook".into(),
        verdict: Some(verdict()),
        change: Some(behavior_change()),
    }
}

fn check<M: WireMessage + PartialEq + std::fmt::Debug>(name: &str, msg: M) {
    let bytes = msg.encode_to_vec();
    insta::assert_snapshot!(format!("{name}_binary"), hex::encode(&bytes));
    let json = serde_json::to_value(&msg).unwrap();
    insta::assert_json_snapshot!(format!("{name}_json"), json);

    // Both encodings round-trip.
    assert_eq!(M::decode(bytes.as_slice()).unwrap(), msg);
    let back: M = serde_json::from_value(json).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn release_encoding_is_pinned() {
    check("release", release());
}

#[test]
fn static_result_encoding_is_pinned() {
    check("static_result", static_result());
}

#[test]
fn dynamic_result_encoding_is_pinned() {
    check("dynamic_result", dynamic_result());
}

#[test]
fn verdict_encoding_is_pinned() {
    check("verdict", verdict());
}

#[test]
fn behavior_change_encoding_is_pinned() {
    check("behavior_change", behavior_change());
}

#[test]
fn alert_encoding_is_pinned() {
    check("alert", alert());
}

#[test]
fn type_names_are_fully_qualified() {
    assert_eq!(Release::type_name(), "paddock.v1.Release");
    assert_eq!(Alert::type_name(), "paddock.v1.Alert");
}

#[test]
fn json_uses_the_canonical_protobuf_mapping() {
    let json = serde_json::to_value(release()).unwrap();
    // lowerCamelCase names, enum names, 64-bit integers as strings.
    assert_eq!(json["package"]["ecosystem"], "ECOSYSTEM_NPM");
    assert_eq!(json["publishedAt"], "2023-11-14T22:13:20+00:00");
    assert_eq!(json["artifacts"][0]["size"], "2048");
}

#[test]
fn the_descriptor_set_names_every_file() {
    use prost::Message as _;
    let fds =
        paddock_proto::well_known::FileDescriptorSet::decode(paddock_proto::FILE_DESCRIPTOR_SET)
            .unwrap();
    let names: Vec<_> = fds.file.iter().map(|f| f.name().to_owned()).collect();
    for file in [
        "paddock/v1/common.proto",
        "paddock/v1/verdict.proto",
        "paddock/v1/analysis_service.proto",
    ] {
        assert!(
            names.iter().any(|n| n == file),
            "{file} missing from {names:?}"
        );
    }
}
