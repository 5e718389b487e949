//! A release that does a great deal still has a profile that fits in a
//! NATS KV value with room for others.

use paddock_diff::profile::MAX_ITEMS_PER_GROUP;
use paddock_diff::{diff, from_dynamic, from_static, Kind, Profile};
use paddock_proto::v1::{
    AnalysisStatus, Command, Dependency, DnsQuery, DynamicResult, Ecosystem, FileEvent, FileFacts,
    FileOp, FileSignals, PackageMetadata, PackageRef, Phase, PhaseResult, Socket, SocketOp,
    StaticResult,
};

const N: usize = 5_000;

/// A name made of letters only (numbers would be normalised away).
fn word(mut i: usize) -> String {
    let mut out = String::new();
    for _ in 0..4 {
        out.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
    }
    out
}

fn package() -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm.into(),
        name: "busy".into(),
        version: "1.0.0".into(),
    }
}

fn busy_release() -> Profile {
    let long = "x".repeat(120);
    let phase = |p: Phase| PhaseResult {
        phase: p.into(),
        file_events: (0..N)
            .flat_map(|i| {
                let path = format!("/srv/{}/{long}/{}.bin", word(i), word(i + 1));
                [FileOp::Create, FileOp::Delete, FileOp::OpenRead].map(|op| FileEvent {
                    seq: i as u64,
                    pid: 50,
                    op: op.into(),
                    path: if op == FileOp::OpenRead {
                        format!("/root/.ssh/{}", word(i))
                    } else {
                        path.clone()
                    },
                    ..Default::default()
                })
            })
            .collect(),
        commands: (0..N)
            .map(|i| Command {
                seq: i as u64,
                pid: 50,
                parent_pid: 40,
                argv: vec!["sh".into(), "-c".into(), format!("echo {} {long}", word(i))],
                ..Default::default()
            })
            .collect(),
        sockets: (0..N)
            .map(|i| Socket {
                op: SocketOp::Connect.into(),
                family: "AF_INET".into(),
                address: "10.232.0.9".into(),
                port: 443,
                hostnames: vec![format!("{}.example", word(i))],
                ..Default::default()
            })
            .collect(),
        dns: (0..N)
            .map(|i| DnsQuery {
                hostname: format!("{}.{long}.example", word(i)),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let dynamic = DynamicResult {
        package: Some(package()),
        status: AnalysisStatus::Completed.into(),
        phases: vec![
            phase(Phase::Install),
            phase(Phase::Import),
            phase(Phase::Execute),
        ],
        ..Default::default()
    };
    let statik = StaticResult {
        package: Some(package()),
        status: AnalysisStatus::Completed.into(),
        files: (0..N)
            .map(|i| FileFacts {
                path: format!("package/{long}/{}.js", word(i)),
                signals: Some(FileSignals {
                    minified: true,
                    obfuscated: true,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect(),
        metadata: Some(PackageMetadata {
            dependencies: (0..N)
                .map(|i| Dependency {
                    name: format!("dep-{}", word(i)),
                    scope: "runtime".into(),
                    ..Default::default()
                })
                .collect(),
            bundled_binaries: (0..N)
                .map(|i| format!("package/bin/{long}/{}", word(i)))
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut p = from_static(&statik);
    p.merge(from_dynamic(&dynamic));
    p
}

#[test]
fn a_busy_release_stays_under_half_a_mebibyte() {
    let p = busy_release();
    let bytes = p.encode();
    println!(
        "busy profile: {} bytes, dropped {:?}",
        bytes.len(),
        p.dropped
    );
    assert!(bytes.len() < 512 * 1024, "{} bytes", bytes.len());
    assert!(!p.dropped.is_empty());
    for kind in Kind::ALL {
        let per_phase = p.items.keys().filter(|k| k.kind == kind).count();
        assert!(per_phase <= 3 * MAX_ITEMS_PER_GROUP, "{kind:?}");
    }
    // Round trip and stability: the same release has no changes.
    let back = Profile::decode(&bytes).unwrap();
    assert_eq!(back, p);
    assert!(diff(&p, &busy_release()).is_empty());
}
