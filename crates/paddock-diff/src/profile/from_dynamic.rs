//! Items from a dynamic result, phase by phase.
//!
//! What goes in, and what does not (the sandbox's own facts are in
//! [`crate::sandbox`]):
//!
//! - network ([`Kind::Host`]): IPv4/IPv6 `connect` and `sendto` as
//!   `host:port` (or `udp host:port`), named by the host name the address
//!   was resolved from when known; HTTP requests the simulated internet
//!   caught as `http METHOD host/path` (query dropped); TLS hellos as `tls
//!   sni:port`; datagrams as `udp host:port`. Left out: the resolver and
//!   the registry proxy (their traffic is recorded as DNS names and
//!   fetched packages), loopback, Unix and netlink sockets, and requests
//!   the package manager sent through the registry proxy;
//! - DNS names ([`Kind::DnsName`]), lowercased;
//! - commands ([`Kind::Command`]): every successful exec outside the
//!   harness (the driver and the package manager it launches), argv
//!   normalised. Failed execs are left out: a shell tries every directory
//!   of `PATH` before the one that works. A command that runs a file
//!   written earlier in the same analysis outside the install area also
//!   gives `exec-written-file <path>` (download and execute);
//! - file writes and deletes ([`Kind::FileWrite`], [`Kind::FileDelete`]):
//!   creates, writes, renames, links, chmods, mkdirs, deletes that
//!   succeeded, outside the install area and caches
//!   ([`crate::sandbox::expected_write`]). Relative paths stay relative:
//!   the process's directory is not known, and they are as stable as
//!   absolute ones;
//! - reads ([`Kind::FileRead`]): only successful reads of credentials,
//!   browser profiles, wallets and process environments
//!   ([`crate::sandbox::is_sensitive_read`]), and bait accesses as `bait
//!   <name>` (`bait <name> <how>` when a bait was written or passed on);
//! - fetched packages ([`Kind::Dependency`]): names, except the release
//!   itself;
//! - findings ([`Kind::Finding`], keyed by rule id, and
//!   [`Profile::findings`]); a bait seen leaving the sandbox always gives
//!   an `exfiltration.bait-in-traffic` finding.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use paddock_proto::v1::{
    AnalysisStatus, Command, DynamicResult, FileOp, FindingCategory, PhaseResult, Severity,
    SocketOp,
};

use super::{FindingLite, Kind, PackageRefLite, PhaseLite, Profile};
use crate::normalize::{clean_path, package_name, Normalizer};
use crate::sandbox::{
    basename, display_address, expected_write, is_driver, is_interpreter, is_package_manager,
    is_plumbing, is_sensitive_read, is_shell,
};

/// The rule of the dynamic analysis's exfiltration finding.
pub const EXFILTRATION_RULE: &str = "exfiltration.bait-in-traffic";

/// The prefix of the item for a command that runs a file written earlier.
pub const EXEC_WRITTEN_FILE: &str = "exec-written-file";

pub(super) fn profile(r: &DynamicResult) -> Profile {
    let package = r
        .package
        .as_ref()
        .map(PackageRefLite::from_proto)
        .unwrap_or_default();
    let n = Normalizer::new(&package.version);
    let mut p = Profile::new(package.clone());
    // A sandbox that could not run at all saw nothing: comparing it would
    // report every behaviour of the other release as a change.
    p.has_dynamic = !r.phases.is_empty() && r.status() != AnalysisStatus::ErrorOther;
    if let Some(run) = r.run.as_ref().filter(|run| !run.run_id.is_empty()) {
        p.run_ids.insert(run.run_id.clone());
    }

    let mut written_before: BTreeSet<String> = BTreeSet::new();
    let mut exfiltrated: Vec<(PhaseLite, String)> = Vec::new();
    for phase in &r.phases {
        let ph = PhaseLite::from_dynamic(phase.phase());
        let written = written_paths(phase);
        commands(&mut p, &n, ph, phase, &written_before, &written);
        files(&mut p, &n, ph, phase);
        network(&mut p, &n, ph, phase);
        for b in &phase.bait_accesses {
            let bait = n.text(&b.bait);
            match b.how.as_str() {
                "exfiltrated" => {
                    p.insert(Kind::Finding, ph, EXFILTRATION_RULE, &b.detail);
                    exfiltrated.push((ph, format!("{}: {}", b.bait, b.detail)));
                }
                "read" => p.insert(Kind::FileRead, ph, format!("bait {bait}"), &b.bait),
                how => p.insert(Kind::FileRead, ph, format!("bait {bait} {how}"), &b.detail),
            }
        }
        for f in &phase.fetched_packages {
            let Some(pkg) = &f.package else { continue };
            let eco = paddock_proto::ecosystem::cli_name(pkg.ecosystem());
            let name = package_name(eco, &pkg.name);
            if eco == package.ecosystem && name == package_name(eco, &package.name) {
                continue;
            }
            p.insert(
                Kind::Dependency,
                ph,
                name,
                &format!("{}@{}", pkg.name, pkg.version),
            );
        }
        written_before.extend(written.into_keys());
    }

    for f in &r.findings {
        let mut phases: BTreeSet<PhaseLite> = f
            .evidence
            .iter()
            .map(|e| PhaseLite::from_dynamic(e.phase()))
            .collect();
        if phases.is_empty() {
            phases.insert(PhaseLite::Dynamic);
        }
        for ph in phases {
            let lite = FindingLite::from_proto(f, ph);
            p.insert(Kind::Finding, ph, f.rule_id.clone(), &lite.evidence);
            p.add_finding(lite);
        }
    }
    // The dynamic analysis makes this finding from the same bait
    // accesses; should a producer not, the profile has it anyway.
    for (ph, evidence) in exfiltrated {
        if !p.has_finding_rule(EXFILTRATION_RULE) {
            p.add_finding(FindingLite {
                rule_id: EXFILTRATION_RULE.into(),
                severity: paddock_proto::ecosystem::severity_token(Severity::Critical).into(),
                category: super::category_token(FindingCategory::Threat).into(),
                title: "bait credentials sent over the network".into(),
                evidence: crate::normalize::truncate(&evidence),
                phase: ph,
                confidence: 1.0,
                reachability: "execute".into(),
            });
        }
    }
    p.enforce_limits();
    p
}

/// The harness's processes in one phase: the driver, and the package
/// managers it launches (directly or through `sh -c`). Their children are
/// the package's: install scripts, build scripts, setup.py.
pub(crate) fn harness_pids(phase: &PhaseResult) -> BTreeSet<u32> {
    let mut parents: BTreeMap<u32, u32> = BTreeMap::new();
    let mut argvs: BTreeMap<u32, Vec<&[String]>> = BTreeMap::new();
    for proc in &phase.processes {
        parents.insert(proc.pid, proc.parent_pid);
        argvs.entry(proc.pid).or_default().push(&proc.argv);
    }
    for c in &phase.commands {
        if c.parent_pid != 0 {
            parents.entry(c.pid).or_insert(c.parent_pid);
        }
        // Failed execs count here: `npm` tried along PATH is still npm.
        argvs.entry(c.pid).or_default().push(&c.argv);
    }
    let drivers: BTreeSet<u32> = argvs
        .iter()
        .filter(|(_, a)| a.iter().any(|a| is_driver(a)))
        .map(|(pid, _)| *pid)
        .collect();
    let mut harness = drivers.clone();
    let mut launchers = drivers;
    loop {
        let mut grew = false;
        for (pid, a) in &argvs {
            let launched_by_harness = parents.get(pid).is_some_and(|pp| launchers.contains(pp));
            if harness.contains(pid)
                || !launched_by_harness
                || !a.iter().any(|a| is_package_manager(a))
            {
                continue;
            }
            harness.insert(*pid);
            if a.iter()
                .any(|a| a.first().is_some_and(|p| is_shell(basename(p))))
            {
                launchers.insert(*pid);
            }
            grew = true;
        }
        if !grew {
            return harness;
        }
    }
}

/// Paths written in a phase outside the install area and caches, with
/// the position of their first write (0 when unknown).
fn written_paths(phase: &PhaseResult) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for e in phase.file_events.iter().filter(|e| e.result >= 0) {
        let path = match e.op() {
            FileOp::Rename => &e.target,
            // A directory made holds nothing yet: what is written into it is.
            FileOp::Mkdir => continue,
            op if op.writes() => &e.path,
            _ => continue,
        };
        if expected_write(path).is_none() {
            out.entry(clean_path(path)).or_insert(e.seq);
        }
    }
    let summarised = phase.file_writes.iter().map(|w| &w.path).chain(
        phase
            .files
            .iter()
            .filter(|f| f.write && !f.failed_only)
            .map(|f| &f.path),
    );
    for path in summarised {
        if expected_write(path).is_none() {
            out.entry(clean_path(path)).or_insert(0);
        }
    }
    out
}

/// The files a command runs: its program, and the script an interpreter
/// or shell is given (not inline code after `-c`/`-e`, nor a module after
/// `-m`).
fn executed_paths(c: &Command) -> Vec<String> {
    let resolve = |a: &str, bare_ok: bool| -> Option<String> {
        if a.starts_with('/') {
            Some(clean_path(a))
        } else if (bare_ok || a.contains('/')) && !c.cwd.is_empty() && !a.is_empty() {
            Some(clean_path(&format!("{}/{a}", c.cwd)))
        } else {
            None
        }
    };
    let Some(prog) = c.argv.first() else {
        return Vec::new();
    };
    let mut out: Vec<String> = resolve(prog, false).into_iter().collect();
    let name = basename(prog);
    if is_shell(name) || is_interpreter(name) {
        for a in &c.argv[1..] {
            if matches!(a.as_str(), "-c" | "-e" | "-m" | "-r" | "--eval") {
                break;
            }
            if a.starts_with('-') {
                continue;
            }
            out.extend(resolve(a, true));
            break;
        }
    }
    out
}

fn commands(
    p: &mut Profile,
    n: &Normalizer,
    ph: PhaseLite,
    phase: &PhaseResult,
    written_before: &BTreeSet<String>,
    written: &BTreeMap<String, u64>,
) {
    let harness = harness_pids(phase);
    for c in &phase.commands {
        if c.result < 0 || c.argv.is_empty() || harness.contains(&c.pid) {
            continue;
        }
        if !crate::sandbox::is_toolchain(&c.argv) {
            p.insert(Kind::Command, ph, n.argv(&c.argv), &c.argv.join(" "));
        }
        for target in executed_paths(c) {
            let earlier = written_before.contains(&target)
                || written
                    .get(&target)
                    .is_some_and(|&seq| seq == 0 || c.seq == 0 || seq < c.seq);
            if earlier {
                p.insert(
                    Kind::Command,
                    ph,
                    format!("{EXEC_WRITTEN_FILE} {}", n.path(&target)),
                    &format!("{target} run by {}", c.argv.join(" ")),
                );
            }
        }
    }
}

fn files(p: &mut Profile, n: &Normalizer, ph: PhaseLite, phase: &PhaseResult) {
    let write = |p: &mut Profile, kind: Kind, path: &str| {
        if !path.is_empty() && expected_write(path).is_none() {
            p.insert(kind, ph, n.written(path), path);
        }
    };
    for e in phase.file_events.iter().filter(|e| e.result >= 0) {
        match e.op() {
            FileOp::OpenRead if is_sensitive_read(&e.path) => {
                p.insert(Kind::FileRead, ph, n.path(&e.path), &e.path);
            }
            FileOp::OpenRead => {}
            // As the trace's per-path summary has it: a rename deletes its
            // source and writes its target.
            FileOp::Rename => {
                write(p, Kind::FileDelete, &e.path);
                write(p, Kind::FileWrite, &e.target);
            }
            op if op.writes() => write(p, Kind::FileWrite, &e.path),
            op if op.removes() => write(p, Kind::FileDelete, &e.path),
            _ => {}
        }
    }
    // The summaries repeat the events; they matter when a producer kept
    // them and dropped events.
    for w in &phase.file_writes {
        write(p, Kind::FileWrite, &w.path);
    }
    for f in phase.files.iter().filter(|f| !f.failed_only) {
        if f.write {
            write(p, Kind::FileWrite, &f.path);
        }
        if f.delete {
            write(p, Kind::FileDelete, &f.path);
        }
        if f.read && is_sensitive_read(&f.path) {
            p.insert(Kind::FileRead, ph, n.path(&f.path), &f.path);
        }
    }
}

/// How a destination reads: the name it was resolved from, else the
/// address (IPv6 in brackets).
fn endpoint(n: &Normalizer, hostname: Option<&str>, address: &str) -> String {
    match hostname.filter(|h| !h.is_empty()) {
        Some(h) => n.host(h),
        None if address.contains(':') => format!("[{}]", display_address(address)),
        None => display_address(address),
    }
}

/// An HTTP Host header: the name normalised, the port kept.
fn host_header(n: &Normalizer, host: &str) -> String {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && !name.contains(':') =>
        {
            (name, Some(port))
        }
        _ => (host, None),
    };
    let name = if name.parse::<IpAddr>().is_ok() || name.starts_with('[') {
        display_address(name)
    } else {
        n.host(name)
    };
    match port {
        Some(port) => format!("{name}:{port}"),
        None => name,
    }
}

fn network(p: &mut Profile, n: &Normalizer, ph: PhaseLite, phase: &PhaseResult) {
    for s in &phase.sockets {
        let op = s.op();
        if !matches!(op, SocketOp::Connect | SocketOp::Sendto)
            || !matches!(s.family.as_str(), "AF_INET" | "AF_INET6")
            || s.address.is_empty()
            || is_plumbing(&s.address, s.port)
        {
            continue;
        }
        let mut names: Vec<&str> = s.hostnames.iter().map(String::as_str).collect();
        names.sort_unstable();
        let host = endpoint(n, names.first().copied(), &s.address);
        let value = if op == SocketOp::Sendto || s.protocol == "udp" {
            format!("udp {host}:{}", s.port)
        } else {
            format!("{host}:{}", s.port)
        };
        let raw = format!(
            "{} {}:{} {}",
            op.as_str_name(),
            s.address,
            s.port,
            s.hostnames.join(",")
        );
        p.insert(Kind::Host, ph, value, raw.trim_end());
    }
    for q in &phase.dns {
        if !q.hostname.is_empty() {
            let raw = format!("{} {}", q.hostname, q.types.join(","));
            p.insert(Kind::DnsName, ph, n.host(&q.hostname), raw.trim_end());
        }
    }
    for h in &phase.http_requests {
        if h.via == "registry-proxy" {
            continue;
        }
        let host = if !h.host.is_empty() {
            host_header(n, &h.host)
        } else {
            let host = endpoint(n, Some(&h.hostname), &h.address);
            if h.port == 80 || h.port == 0 {
                host
            } else {
                format!("{host}:{}", h.port)
            }
        };
        let value = format!(
            "http {} {host}{}",
            h.method.to_ascii_uppercase(),
            n.url_path(&h.path)
        );
        let raw = format!("{} {}{} via {}", h.method, h.host, h.path, h.via);
        p.insert(Kind::Host, ph, value, &raw);
    }
    for t in &phase.tls {
        let name = if t.sni.is_empty() {
            &t.hostname
        } else {
            &t.sni
        };
        let host = endpoint(n, Some(name), &t.address);
        let raw = format!("sni {} {}:{}", t.sni, t.address, t.port);
        p.insert(Kind::Host, ph, format!("tls {host}:{}", t.port), &raw);
    }
    for d in &phase.datagrams {
        if is_plumbing(&d.address, d.port) {
            continue;
        }
        let host = endpoint(n, Some(&d.hostname), &d.address);
        let raw = format!("{}:{} {} bytes", d.address, d.port, d.size);
        p.insert(Kind::Host, ph, format!("udp {host}:{}", d.port), &raw);
    }
}

#[cfg(test)]
mod tests {
    use paddock_proto::v1::{
        BaitAccess, Datagram, DnsQuery, Ecosystem, FetchedPackage, FileAccess, FileEvent,
        HttpRequest, PackageRef, Phase, Process, Socket, TlsHello,
    };

    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn cmd(seq: u64, pid: u32, parent: u32, a: &[&str]) -> Command {
        Command {
            seq,
            pid,
            parent_pid: parent,
            argv: argv(a),
            ..Default::default()
        }
    }

    fn event(seq: u64, pid: u32, op: FileOp, path: &str) -> FileEvent {
        FileEvent {
            seq,
            pid,
            op: op.into(),
            path: path.into(),
            ..Default::default()
        }
    }

    fn phase(p: Phase) -> PhaseResult {
        PhaseResult {
            phase: p.into(),
            commands: vec![cmd(
                1,
                1,
                0,
                &[
                    "node",
                    "/opt/paddock/analyze-node.js",
                    "install",
                    "x",
                    "1.0.0",
                ],
            )],
            processes: vec![Process {
                pid: 1,
                argv: argv(&[
                    "node",
                    "/opt/paddock/analyze-node.js",
                    "install",
                    "x",
                    "1.0.0",
                ]),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn result(phases: Vec<PhaseResult>) -> DynamicResult {
        DynamicResult {
            package: Some(PackageRef {
                ecosystem: Ecosystem::Npm.into(),
                name: "x".into(),
                version: "1.0.0".into(),
            }),
            status: AnalysisStatus::Completed.into(),
            phases,
            ..Default::default()
        }
    }

    fn items(p: &Profile, kind: Kind) -> Vec<String> {
        p.items
            .keys()
            .filter(|k| k.kind == kind)
            .map(|k| format!("{} {}", k.phase.token(), k.value))
            .collect()
    }

    #[test]
    fn the_driver_and_its_package_manager_are_the_harness() {
        let mut install = phase(Phase::Install);
        install.commands.extend([
            Command {
                result: -2,
                ..cmd(10, 8, 1, &["npm", "install", "/artifact/x-1.0.0.tgz"])
            },
            cmd(
                11,
                8,
                1,
                &["node", "/usr/bin/npm", "install", "/artifact/x-1.0.0.tgz"],
            ),
            cmd(20, 20, 8, &["sh", "-c", "node install.js"]),
            cmd(21, 21, 20, &["node", "install.js"]),
            Command {
                result: -2,
                ..cmd(22, 22, 21, &["lsb_release", "-a"])
            },
        ]);
        let mut import = phase(Phase::Import);
        // Package code runs inside the driver at import: what it spawns is
        // the package's, even a direct child of the driver.
        import.commands.push(cmd(5, 9, 1, &["sh", "-c", "id"]));
        let p = profile(&result(vec![install, import]));
        assert_eq!(
            items(&p, Kind::Command),
            [
                "install node install.js",
                "install sh -c 'node install.js'",
                "import sh -c id",
            ]
        );
    }

    #[test]
    fn a_package_manager_behind_sh_c_is_harness_too() {
        let mut install = phase(Phase::Install);
        install.commands = vec![
            cmd(
                1,
                1,
                0,
                &[
                    "php",
                    "/opt/paddock/analyze-php.php",
                    "install",
                    "v/x",
                    "1.0.0",
                ],
            ),
            cmd(
                2,
                2,
                1,
                &["sh", "-c", "composer require --no-interaction 'v/x:1.0.0'"],
            ),
            cmd(
                3,
                3,
                2,
                &["php", "/usr/local/bin/composer", "require", "v/x:1.0.0"],
            ),
            cmd(4, 4, 3, &["sh", "-c", "php post-install.php"]),
        ];
        let p = profile(&result(vec![install]));
        assert_eq!(
            items(&p, Kind::Command),
            ["install sh -c 'php post-install.php'"]
        );
    }

    #[test]
    fn network_items_name_destinations_and_skip_plumbing() {
        let mut install = phase(Phase::Install);
        let socket =
            |op: SocketOp, family: &str, address: &str, port: u32, names: &[&str]| Socket {
                op: op.into(),
                family: family.into(),
                address: address.into(),
                port,
                hostnames: argv(names),
                ..Default::default()
            };
        use paddock_proto::sandbox::{pool_address, HOST_ADDR, PROXY_PORT, RESOLVER_PORT};
        let host = HOST_ADDR.to_string();
        let pool = |n| pool_address(n).unwrap().to_string();
        install.sockets = vec![
            socket(SocketOp::Connect, "AF_INET", &host, PROXY_PORT.into(), &[]),
            socket(
                SocketOp::Sendto,
                "AF_INET",
                &host,
                RESOLVER_PORT.into(),
                &[],
            ),
            socket(SocketOp::Connect, "AF_INET", "127.0.0.1", 9229, &[]),
            socket(SocketOp::Connect, "AF_UNIX", "/run/x.sock", 0, &[]),
            socket(SocketOp::Bind, "AF_INET", "0.0.0.0", 8080, &[]),
            socket(
                SocketOp::Connect,
                "AF_INET",
                &pool(7),
                443,
                &["Evil.Example"],
            ),
            socket(SocketOp::Connect, "AF_INET", &pool(9), 80, &[]),
            socket(SocketOp::Connect, "AF_INET6", "2001:db8::1", 443, &[]),
            socket(SocketOp::Sendto, "AF_INET", "198.51.100.7", 4444, &[]),
        ];
        install.dns = vec![DnsQuery {
            hostname: "Evil.Example.".into(),
            types: argv(&["A"]),
            ..Default::default()
        }];
        install.http_requests = vec![
            HttpRequest {
                method: "get".into(),
                host: "evil.example".into(),
                path: "/p.sh?cb=123".into(),
                via: "catch-all".into(),
                ..Default::default()
            },
            HttpRequest {
                method: "GET".into(),
                host: format!("{host}:{PROXY_PORT}"),
                path: "/npm/left-pad".into(),
                via: "registry-proxy".into(),
                ..Default::default()
            },
            HttpRequest {
                method: "POST".into(),
                address: pool(9),
                port: 8080,
                path: "/".into(),
                via: "catch-all".into(),
                ..Default::default()
            },
        ];
        install.tls = vec![TlsHello {
            sni: "api.evil.example".into(),
            port: 443,
            ..Default::default()
        }];
        install.datagrams = vec![
            Datagram {
                address: host.clone(),
                port: 53,
                ..Default::default()
            },
            Datagram {
                address: pool(4),
                port: 123,
                hostname: "pool.ntp.example".into(),
                ..Default::default()
            },
        ];
        let p = profile(&result(vec![install]));
        assert_eq!(
            items(&p, Kind::Host),
            [
                "install <resolved-address>:80",
                "install [2001:db8::1]:443",
                "install evil.example:443",
                "install http GET evil.example/p.sh",
                "install http POST <resolved-address>:8080/",
                "install tls api.evil.example:443",
                "install udp 198.51.100.7:4444",
                "install udp pool.ntp.example:123",
            ]
        );
        assert_eq!(items(&p, Kind::DnsName), ["install evil.example"]);
    }

    #[test]
    fn files_written_outside_the_install_area_and_credential_reads_count() {
        let mut install = phase(Phase::Install);
        install.file_events = vec![
            event(1, 8, FileOp::Create, "/app/node_modules/x/index.js"),
            event(2, 8, FileOp::Create, "/root/.npm/_cacache/tmp/abc"),
            event(3, 20, FileOp::Create, "/tmp/tmpab12cd/out.txt"),
            event(4, 20, FileOp::OpenWrite, "/root/.bashrc"),
            event(5, 20, FileOp::Rename, "/tmp/a").pipe_target("/etc/cron.d/x"),
            event(6, 20, FileOp::Delete, "/root/.bash_history"),
            event(7, 20, FileOp::OpenRead, "/root/.ssh/id_rsa"),
            FileEvent {
                result: -2,
                ..event(8, 20, FileOp::OpenRead, "/root/.aws/credentials")
            },
            event(9, 20, FileOp::OpenRead, "/etc/passwd"),
            FileEvent {
                result: -13,
                ..event(10, 20, FileOp::Create, "/etc/shadow")
            },
            event(11, 20, FileOp::OpenWrite, "/dev/null"),
            event(12, 20, FileOp::Stat, "/root/.kube/config"),
        ];
        install.files = vec![FileAccess {
            path: "/root/.docker/config.json".into(),
            read: true,
            failed_only: true,
            ..Default::default()
        }];
        let p = profile(&result(vec![install]));
        assert_eq!(
            items(&p, Kind::FileWrite),
            [
                "install /etc/cron.d/x",
                "install /tmp/<tmp>",
                "install ~/.bashrc"
            ]
        );
        assert_eq!(
            items(&p, Kind::FileDelete),
            ["install /tmp/<tmp>", "install ~/.bash_history"]
        );
        assert_eq!(items(&p, Kind::FileRead), ["install ~/.ssh/id_rsa"]);
    }

    trait PipeTarget {
        fn pipe_target(self, target: &str) -> Self;
    }

    impl PipeTarget for FileEvent {
        fn pipe_target(mut self, target: &str) -> Self {
            self.target = target.into();
            self
        }
    }

    #[test]
    fn running_a_file_written_earlier_is_download_and_execute() {
        let mut install = phase(Phase::Install);
        install.file_events = vec![
            event(10, 30, FileOp::Create, "/tmp/p.sh"),
            event(11, 30, FileOp::Chmod, "/tmp/p.sh"),
            event(50, 30, FileOp::Create, "/root/later.sh"),
            event(12, 30, FileOp::Create, "/app/node_modules/x/bin/tool"),
        ];
        install.commands.extend([
            cmd(20, 31, 30, &["sh", "/tmp/p.sh"]),
            cmd(21, 32, 30, &["/tmp/p.sh", "--flag"]),
            // Run before it was written: not this.
            cmd(22, 33, 30, &["bash", "/root/later.sh"]),
            // Written in the install area: the install's own.
            cmd(23, 34, 30, &["/app/node_modules/x/bin/tool"]),
            // Inline code is not a file.
            cmd(24, 35, 30, &["sh", "-c", "/tmp/none"]),
        ]);
        let mut import = phase(Phase::Import);
        import.commands.push(Command {
            cwd: "/root".into(),
            ..cmd(5, 9, 1, &["bash", "-x", "later.sh"])
        });
        let p = profile(&result(vec![install, import]));
        let execs: Vec<String> = items(&p, Kind::Command)
            .into_iter()
            .filter(|c| c.contains(EXEC_WRITTEN_FILE))
            .collect();
        assert_eq!(
            execs,
            [
                "install exec-written-file /tmp/p.sh",
                "import exec-written-file ~/later.sh"
            ]
        );
    }

    #[test]
    fn baits_fetched_packages_and_findings() {
        let mut install = phase(Phase::Install);
        install.bait_accesses = vec![
            BaitAccess {
                bait: "file:/root/.ssh/id_rsa".into(),
                how: "read".into(),
                ..Default::default()
            },
            BaitAccess {
                bait: "env:NPM_TOKEN".into(),
                how: "passed".into(),
                detail: "curl -d npm_x".into(),
                ..Default::default()
            },
            BaitAccess {
                bait: "env:NPM_TOKEN".into(),
                how: "exfiltrated".into(),
                detail: "plain in http body".into(),
                ..Default::default()
            },
        ];
        let fetched = |name: &str| FetchedPackage {
            package: Some(PackageRef {
                ecosystem: Ecosystem::Npm.into(),
                name: name.into(),
                version: "9.9.9".into(),
            }),
            ..Default::default()
        };
        install.fetched_packages = vec![fetched("dep-a"), fetched("x")];
        let p = profile(&result(vec![install]));
        assert_eq!(
            items(&p, Kind::FileRead),
            [
                "install bait env:NPM_TOKEN passed",
                "install bait file:~/.ssh/id_rsa"
            ]
        );
        assert_eq!(items(&p, Kind::Dependency), ["install dep-a"]);
        assert_eq!(
            items(&p, Kind::Finding),
            ["install exfiltration.bait-in-traffic"]
        );
        let f = &p.findings[0];
        assert_eq!(
            (f.rule_id.as_str(), f.severity(), f.category()),
            (
                EXFILTRATION_RULE,
                Severity::Critical,
                FindingCategory::Threat
            )
        );
    }

    #[test]
    fn a_sandbox_that_did_not_run_is_not_compared() {
        let mut r = result(vec![phase(Phase::Install)]);
        assert!(profile(&r).has_dynamic);
        r.status = AnalysisStatus::ErrorOther.into();
        assert!(!profile(&r).has_dynamic);
        assert!(!profile(&result(vec![])).has_dynamic);
    }
}
