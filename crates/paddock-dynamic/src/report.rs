//! The human-readable part of `paddock analyze` for dynamic results: per
//! phase its status, the commands, the files written outside the install
//! area, the secret stores touched and the other files read, network
//! attempts, DNS, HTTP (inside intercepted TLS too), TLS handshakes,
//! baits touched and the process tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use paddock_proto::v1::{AnalysisStatus, FileOp, Phase, PhaseResult, SocketOp};

/// Writes the report of the phases of one analysis.
pub fn write_phases(out: &mut String, phases: &[PhaseResult]) {
    for p in phases {
        let phase = Phase::try_from(p.phase)
            .map(|p| p.as_str_name().trim_start_matches("PHASE_").to_lowercase())
            .unwrap_or_else(|_| "phase".into());
        let status = AnalysisStatus::try_from(p.status)
            .map(|s| {
                s.as_str_name()
                    .trim_start_matches("ANALYSIS_STATUS_")
                    .to_lowercase()
            })
            .unwrap_or_default();
        let secs = p
            .duration
            .as_ref()
            .map(|d| d.seconds as f64 + d.nanos as f64 / 1e9)
            .unwrap_or(0.0);
        let variant = if p.variant == crate::GATED {
            format!(
                " again, with CI variables set and the clock {} ahead",
                crate::GATED_CLOCK_OFFSET
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n{phase}{variant}: {status} ({secs:.1} s){}",
            detail(&p.status_detail)
        );
        if p.status == AnalysisStatus::Skipped as i32 {
            continue;
        }
        let names: BTreeMap<u32, String> = p
            .processes
            .iter()
            .map(|pr| (pr.pid, short_argv(&pr.argv, &pr.executable)))
            .collect();
        let who = |pid: u32| {
            names
                .get(&pid)
                .cloned()
                .unwrap_or_else(|| format!("pid {pid}"))
        };

        // A shell or execvp tries each PATH entry: only the exec that
        // worked is the command.
        let commands: Vec<_> = p.commands.iter().filter(|c| c.result >= 0).collect();
        let _ = writeln!(out, "  commands ({}):", commands.len());
        for c in commands.iter().take(40) {
            let _ = writeln!(out, "    [{}] {}", c.pid, short_argv(&c.argv, ""));
        }
        let mut install_writes = 0usize;
        let mut written = BTreeSet::new();
        for e in &p.file_events {
            let op = FileOp::try_from(e.op).unwrap_or(FileOp::Unspecified);
            // Directories made or removed are not listed: their files are.
            let changes =
                (op.writes() || op.removes()) && !matches!(op, FileOp::Mkdir | FileOp::Rmdir);
            if e.result < 0
                || !changes
                || e.path.starts_with("/dev/")
                || e.path.starts_with("/proc/")
            {
                continue;
            }
            if paddock_diff::sandbox::expected_write(&e.path).is_some() {
                install_writes += 1;
                continue;
            }
            written.insert((
                e.path.clone(),
                op.as_str_name()
                    .trim_start_matches("FILE_OP_")
                    .to_lowercase(),
                e.pid,
            ));
        }
        let _ = writeln!(
            out,
            "  files written outside the install area ({}; {install_writes} more in /app and the clients' caches):",
            written.len()
        );
        for (path, op, pid) in written.iter().take(60) {
            let _ = writeln!(out, "    {op:<10} {path}  by {}", who(*pid));
        }
        write_reads(out, p, &who);
        let proxy_addr = paddock_netsim::HOST_ADDR.to_string();
        let to_proxy = |s: &&paddock_proto::v1::Socket| {
            s.address == proxy_addr && s.port == u32::from(paddock_netsim::PROXY_PORT)
        };
        let (proxy, net): (Vec<_>, Vec<_>) = p
            .sockets
            .iter()
            .filter(|s| s.op == SocketOp::Connect as i32 || s.op == SocketOp::Sendto as i32)
            .filter(|s| !s.address.is_empty() && s.family != "AF_UNIX")
            .partition(to_proxy);
        let _ = writeln!(
            out,
            "  network attempts ({}, and {} connections to the registry proxy):",
            net.len(),
            proxy.len()
        );
        for s in net.iter().take(40) {
            let outcome = if s.result < 0 { s.error.as_str() } else { "ok" };
            let name = if s.hostnames.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.hostnames.join(", "))
            };
            let _ = writeln!(
                out,
                "    {} {}:{}{name} ({outcome})  by {}",
                if s.protocol.is_empty() {
                    "?"
                } else {
                    &s.protocol
                },
                s.address,
                s.port,
                who(s.pid)
            );
        }
        let _ = writeln!(out, "  DNS ({}):", p.dns.len());
        for q in &p.dns {
            let answer = if q.answered {
                format!("-> {}", q.answers.join(", "))
            } else {
                "(no answer)".into()
            };
            let _ = writeln!(out, "    {} {} {answer}", q.hostname, q.types.join(","));
        }
        let (proxied, other): (Vec<_>, Vec<_>) = p
            .http_requests
            .iter()
            .partition(|r| r.via == "registry-proxy" && r.refused.is_empty());
        if !other.is_empty() {
            let _ = writeln!(out, "  HTTP requests ({}):", other.len());
            for r in other.iter().take(40) {
                let host = if r.host.is_empty() {
                    &r.address
                } else {
                    &r.host
                };
                let body = if r.body_size > 0 {
                    format!(", body {} bytes sha256 {}", r.body_size, &r.body_sha256)
                } else {
                    String::new()
                };
                let refused = if r.refused.is_empty() {
                    String::new()
                } else {
                    format!(" REFUSED: {}", r.refused)
                };
                let scheme = if r.via == "catch-all-tls" {
                    "https"
                } else {
                    "http"
                };
                let _ = writeln!(
                    out,
                    "    {} {scheme}://{host}{} -> {}{body}{refused}",
                    r.method,
                    r.path.chars().take(200).collect::<String>(),
                    r.response_status
                );
            }
        }
        if !p.tls.is_empty() {
            let _ = writeln!(out, "  TLS connections ({}):", p.tls.len());
            for t in &p.tls {
                let outcome = if t.intercepted {
                    "intercepted: its requests are listed above".to_owned()
                } else if t.handshake_error.is_empty() {
                    "not intercepted".to_owned()
                } else {
                    format!(
                        "handshake failed (the client pins or brings its own roots?): {}",
                        t.handshake_error
                    )
                };
                let _ = writeln!(
                    out,
                    "    SNI {} to {}:{} ALPN {} — {outcome}",
                    if t.sni.is_empty() { "(none)" } else { &t.sni },
                    t.address,
                    t.port,
                    t.alpn.join(",")
                );
            }
        }
        if !p.datagrams.is_empty() {
            let _ = writeln!(out, "  UDP datagrams ({}):", p.datagrams.len());
            for d in p.datagrams.iter().take(20) {
                let _ = writeln!(out, "    {}:{} {} bytes", d.address, d.port, d.size);
            }
        }
        if !proxied.is_empty() || !p.fetched_packages.is_empty() {
            let _ = writeln!(
                out,
                "  registry proxy: {} requests served; packages fetched ({}):",
                proxied.len(),
                p.fetched_packages.len()
            );
            for f in p.fetched_packages.iter().take(200) {
                if let Some(pkg) = &f.package {
                    let _ = writeln!(out, "    {}@{}", pkg.name, pkg.version);
                }
            }
        }
        if !p.bait_accesses.is_empty() {
            let _ = writeln!(out, "  baits touched ({}):", p.bait_accesses.len());
            for b in &p.bait_accesses {
                if b.how == "exfiltrated" {
                    let _ = writeln!(out, "    EXFILTRATED {}: {}", b.bait, b.detail);
                } else {
                    let _ = writeln!(out, "    {} {}  by {}", b.how, b.bait, who(b.pid));
                }
            }
        }
        let _ = writeln!(out, "  process tree:");
        write_tree(out, p);
        if p.status != AnalysisStatus::Completed as i32 {
            let stderr = String::from_utf8_lossy(&p.stderr_tail);
            let last: Vec<&str> = stderr.lines().rev().take(6).collect();
            if !last.is_empty() {
                let _ = writeln!(out, "  stderr (last lines):");
                for l in last.into_iter().rev() {
                    let _ = writeln!(
                        out,
                        "    {}",
                        l.chars().filter(|c| !c.is_control()).collect::<String>()
                    );
                }
            }
        }
    }
}

/// The system's own files and the sandbox's plumbing: every program reads
/// these, so they are counted, not listed.
const SYSTEM_AREAS: [&str; 12] = [
    "/usr/",
    "/lib/",
    "/lib64/",
    "/bin/",
    "/sbin/",
    paddock_proto::sandbox::DRIVER_DIR,
    paddock_proto::sandbox::TRUST_DIR,
    paddock_proto::sandbox::ARTIFACT_DIR,
    "/etc/ld.so.",
    "/etc/ssl/",
    "/sys/",
    "/dev/",
];

/// Files read: the secret stores touched (read, or probed and absent),
/// then every other path outside the system's files, the install area
/// and the clients' caches, each once; failed opens are marked as
/// probes.
fn write_reads(out: &mut String, p: &PhaseResult, who: &dyn Fn(u32) -> String) {
    // path -> (opened, errno of a failed open, the first pid)
    let mut reads: BTreeMap<&str, (bool, &str, u32)> = BTreeMap::new();
    let (mut install, mut system) = (BTreeSet::new(), BTreeSet::new());
    for e in &p.file_events {
        if e.op != FileOp::OpenRead as i32 || e.path.is_empty() {
            continue;
        }
        let path = e.path.as_str();
        let secret = paddock_diff::sandbox::is_sensitive_read(path);
        if !secret {
            if SYSTEM_AREAS.iter().any(|a| path.starts_with(a)) || path.starts_with("/proc/") {
                system.insert(path);
                continue;
            }
            if paddock_diff::sandbox::expected_write(path).is_some() {
                install.insert(path);
                continue;
            }
        }
        let entry = reads.entry(path).or_insert((false, "", e.pid));
        if e.result >= 0 {
            entry.0 = true;
        } else if entry.1.is_empty() {
            entry.1 = if e.error.is_empty() {
                "failed"
            } else {
                &e.error
            };
        }
    }
    let line = |out: &mut String, path: &str, (opened, error, pid): (bool, &str, u32)| {
        let what = if opened {
            "read".to_owned()
        } else {
            format!("probe ({error})")
        };
        let _ = writeln!(out, "    {what:<16} {path}  by {}", who(pid));
    };
    let (secrets, other): (Vec<_>, Vec<_>) = reads
        .iter()
        .partition(|(path, _)| paddock_diff::sandbox::is_sensitive_read(path));
    if !secrets.is_empty() {
        let _ = writeln!(
            out,
            "  secret stores touched ({}; a probe is an open of one that is not there):",
            secrets.len()
        );
        for (path, r) in &secrets {
            line(out, path, **r);
        }
    }
    let _ = writeln!(
        out,
        "  files read outside the system and install areas ({}; {} more in /app and the clients' caches, {} of the system's own):",
        other.len(),
        install.len(),
        system.len()
    );
    for (path, r) in other.iter().take(60) {
        line(out, path, **r);
    }
    if other.len() > 60 {
        let _ = writeln!(out, "    … {} more", other.len() - 60);
    }
}

fn detail(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(": {d}")
    }
}

fn short_argv(argv: &[String], exe: &str) -> String {
    let s = if argv.is_empty() {
        exe.to_owned()
    } else {
        argv.join(" ")
    };
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() > 100 {
        format!("{}…", s.chars().take(100).collect::<String>())
    } else {
        s
    }
}

fn write_tree(out: &mut String, p: &PhaseResult) {
    let pids: BTreeSet<u32> = p.processes.iter().map(|x| x.pid).collect();
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut roots = Vec::new();
    for pr in &p.processes {
        if pr.parent_pid != 0 && pids.contains(&pr.parent_pid) && pr.parent_pid != pr.pid {
            children.entry(pr.parent_pid).or_default().push(pr.pid);
        } else {
            roots.push(pr.pid);
        }
    }
    let by_pid: BTreeMap<u32, &paddock_proto::v1::Process> =
        p.processes.iter().map(|x| (x.pid, x)).collect();
    let mut shown = 0usize;
    let mut stack: Vec<(u32, usize)> = roots.into_iter().rev().map(|r| (r, 0)).collect();
    while let Some((pid, depth)) = stack.pop() {
        shown += 1;
        if shown > 80 {
            let _ = writeln!(
                out,
                "    … {} more processes",
                p.processes.len() + 1 - shown
            );
            break;
        }
        if let Some(pr) = by_pid.get(&pid) {
            let _ = writeln!(
                out,
                "    {}[{}] {}{}",
                "  ".repeat(depth),
                pid,
                short_argv(&pr.argv, &pr.executable),
                if pr.exit_code >= 0 {
                    format!(" → {}", pr.exit_code)
                } else {
                    String::new()
                }
            );
        }
        if depth < 30 {
            for c in children.get(&pid).into_iter().flatten().rev() {
                stack.push((*c, depth + 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::v1::{FileEvent, HttpRequest, TlsHello};

    fn open(pid: u32, path: &str, error: &str) -> FileEvent {
        FileEvent {
            pid,
            op: FileOp::OpenRead as i32,
            path: path.into(),
            result: if error.is_empty() { 3 } else { -2 },
            error: error.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_file_dropped_among_the_caches_is_listed_as_the_diff_sees_it() {
        let write = |path: &str| FileEvent {
            pid: 7,
            op: FileOp::Create as i32,
            path: path.into(),
            result: 3,
            ..Default::default()
        };
        let p = PhaseResult {
            phase: Phase::Install as i32,
            status: AnalysisStatus::Completed as i32,
            file_events: vec![
                write("/app/node_modules/x/index.js"),
                write("/root/.npm/_cacache/index"),
                write("/root/.cache/.sysupdate"),
            ],
            ..Default::default()
        };
        let mut out = String::new();
        write_phases(&mut out, &[p]);
        // What the diff counts as an expected write is counted here; the
        // rest, a dropper hiding in ~/.cache included, is listed.
        assert!(
            out.contains("files written outside the install area (1; 2 more in /app"),
            "{out}"
        );
        assert!(out.contains("/root/.cache/.sysupdate"), "{out}");
    }

    #[test]
    fn reads_probes_secrets_and_intercepted_tls_are_shown() {
        let p = PhaseResult {
            phase: Phase::Import as i32,
            status: AnalysisStatus::Completed as i32,
            processes: vec![paddock_proto::v1::Process {
                pid: 7,
                argv: vec!["node".into(), "steal.js".into()],
                ..Default::default()
            }],
            file_events: vec![
                open(7, "/root/.ssh/id_rsa", ""),
                open(7, "/root/.aws/credentials", "ENOENT"),
                open(7, "/root/.aws/credentials", "ENOENT"),
                open(7, "/etc/passwd", ""),
                open(7, "/home/user/notes.txt", "EACCES"),
                open(7, "/usr/lib/node_modules/npm/index.js", ""),
                open(7, "/app/node_modules/steal/index.js", ""),
                open(7, "/proc/self/status", ""),
                open(7, "/proc/1/environ", ""),
            ],
            tls: vec![
                TlsHello {
                    sni: "hook.example".into(),
                    port: 443,
                    intercepted: true,
                    ..Default::default()
                },
                TlsHello {
                    sni: "pinned.example".into(),
                    port: 443,
                    handshake_error: "the client refused the certificate (alert UnknownCA)".into(),
                    ..Default::default()
                },
            ],
            http_requests: vec![HttpRequest {
                method: "POST".into(),
                host: "hook.example".into(),
                path: "/x".into(),
                via: "catch-all-tls".into(),
                response_status: 200,
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut out = String::new();
        write_phases(&mut out, &[p]);
        let section = |title: &str| -> Vec<String> {
            out.lines()
                .skip_while(|l| !l.contains(title))
                .skip(1)
                .take_while(|l| l.starts_with("    "))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect()
        };
        assert_eq!(
            section("secret stores touched (3;"),
            [
                "read /proc/1/environ by node steal.js",
                "probe (ENOENT) /root/.aws/credentials by node steal.js",
                "read /root/.ssh/id_rsa by node steal.js",
            ],
            "{out}"
        );
        assert!(
            out.contains("files read outside the system and install areas (2; 1 more in /app and the clients' caches, 2 of the system's own)"),
            "{out}"
        );
        assert_eq!(
            section("files read outside"),
            [
                "read /etc/passwd by node steal.js",
                "probe (EACCES) /home/user/notes.txt by node steal.js",
            ]
        );
        assert!(out.contains("POST https://hook.example/x -> 200"), "{out}");
        assert!(
            out.contains("SNI hook.example to :443 ALPN  — intercepted"),
            "{out}"
        );
        assert!(
            out.contains("SNI pinned.example to :443 ALPN  — handshake failed (the client pins or brings its own roots?): the client refused the certificate (alert UnknownCA)"),
            "{out}"
        );
    }
}
