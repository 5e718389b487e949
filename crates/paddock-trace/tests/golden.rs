//! Golden test on real runsc output: Debian's runsc (20221219) running a
//! busybox script under `--strace` (tests/fixtures/busybox-script.boot.log;
//! how it was made is in tests/fixtures/README.md).

use paddock_proto::v1::{FileOp, SocketOp};
use paddock_trace::{parse_log, TraceLimits};

fn trace() -> paddock_trace::Trace {
    let log = include_bytes!("fixtures/busybox-script.boot.log");
    parse_log(&log[..], TraceLimits::default())
}

#[test]
fn every_line_of_the_real_log_is_read() {
    let t = trace();
    assert_eq!(t.stats.unparsed_lines, 0, "every strace line parses");
    assert_eq!(t.stats.events, 416);
    assert!(!t.stats.truncated);
}

#[test]
fn the_script_behaviour_is_all_there_with_pids() {
    let t = trace();
    let find = |op: FileOp, path: &str| {
        t.file_events
            .iter()
            .find(|e| e.op == op as i32 && e.path == path)
            .unwrap_or_else(|| panic!("{op:?} {path}"))
    };

    let key = find(FileOp::OpenRead, "/root/.ssh/id_rsa");
    assert_eq!(key.pid, 2, "read by cat, pid 2");
    assert_eq!(key.result, 3);
    let create = find(FileOp::Create, "/tmp/x");
    assert_eq!(create.pid, 1);
    let rename = find(FileOp::Rename, "/tmp/x");
    assert_eq!(rename.target, "/tmp/y");
    assert_eq!(find(FileOp::Mkdir, "/tmp/d").mode, 0o777);
    assert_eq!(find(FileOp::Chmod, "/tmp/d").mode, 0o700);
    assert_eq!(find(FileOp::Symlink, "/tmp/l").target, "/tmp/y");
    assert!(find(FileOp::Delete, "/tmp/y").result >= 0);
    let probe = find(FileOp::OpenRead, "/nonexistent");
    assert_eq!(
        (probe.result, probe.error.as_str()),
        (-2, "ENOENT"),
        "a failed open is a probe"
    );

    let files = t.files();
    let probe = files.iter().find(|f| f.path == "/nonexistent").unwrap();
    assert!(probe.read && probe.failed_only);
    let key = files
        .iter()
        .find(|f| f.path == "/root/.ssh/id_rsa")
        .unwrap();
    assert!(key.read && !key.failed_only);

    let write = t.file_writes.iter().find(|w| w.path == "/tmp/x").unwrap();
    assert_eq!(
        (write.head.as_slice(), write.bytes_written),
        (&b"hello\n"[..], 6)
    );

    let connect = t
        .sockets
        .iter()
        .find(|s| s.op == SocketOp::Connect as i32)
        .unwrap();
    assert_eq!(
        (
            connect.family.as_str(),
            connect.address.as_str(),
            connect.port
        ),
        ("AF_INET", "192.0.2.1", 4444)
    );
    assert_eq!(connect.protocol, "tcp");
    assert_eq!(connect.error, "EHOSTUNREACH");

    let argvs: Vec<Vec<String>> = t.commands.iter().map(|c| c.argv.clone()).collect();
    assert!(
        argvs.contains(&vec!["cat".to_owned(), "/root/.ssh/id_rsa".to_owned()]),
        "{argvs:?}"
    );
    let cat = t
        .commands
        .iter()
        .find(|c| {
            c.argv.first().map(String::as_str) == Some("cat")
                && c.argv.len() == 2
                && c.argv[1].contains("id_rsa")
        })
        .unwrap();
    assert_eq!(cat.parent_pid, 1, "the shell started it");
    assert!(cat.env.iter().any(|e| e == "HOME=/root"));

    // The process tree: every child of the shell, with its program.
    let children: Vec<&str> = t
        .processes
        .iter()
        .filter(|p| p.parent_pid == 1)
        .map(|p| p.argv.first().map(String::as_str).unwrap_or(""))
        .collect();
    for cmd in ["cat", "mv", "mkdir", "chmod", "ln", "rm", "nc"] {
        assert!(children.contains(&cmd), "{cmd} missing from {children:?}");
    }
    // Events keep their order.
    assert!(t.file_events.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[test]
fn mangled_logs_never_panic() {
    let log = include_str!("fixtures/busybox-script.boot.log");
    // Every line cut at every 7th byte, and bytes flipped: counted, never fatal.
    let mut mangled = String::new();
    for (i, line) in log.lines().enumerate() {
        let cut = line
            .char_indices()
            .map(|(j, _)| j)
            .rfind(|j| j % 7 == i % 7)
            .unwrap_or(0);
        mangled.push_str(&line[..cut]);
        mangled.push('\n');
        mangled.push_str(&line.replace(['(', '"'], ")"));
        mangled.push('\n');
    }
    let t = parse_log(mangled.as_bytes(), TraceLimits::default());
    assert!(t.stats.lines > 0);
    let t = parse_log(&[0xff, 0xfe, b'\n', b's'][..], TraceLimits::default());
    assert_eq!(t.stats.events, 0);
}

/// Real runsc lines: busybox nslookup connects its UDP socket to the
/// resolver and then `write`s the queries, so the port is only on the
/// connect line.
#[test]
fn dns_queries_written_to_a_connected_socket_are_recorded() {
    let log = include_str!("fixtures/nslookup-connected-udp.log");
    let t = paddock_trace::parse_log(log.as_bytes(), Default::default());
    assert_eq!(t.dns.len(), 1, "{:?}", t.dns);
    assert_eq!(t.dns[0].hostname, "probe.example");
    assert_eq!(t.dns[0].types, vec!["A", "AAAA"]);
    assert!(t
        .sockets
        .iter()
        .any(|s| s.address == "10.231.0.1" && s.port == 53 && s.protocol == "udp"));
    // Queries are network traffic, not file writes.
    assert!(t.file_writes.is_empty(), "{:?}", t.file_writes);
}
