//! gVisor strace logs, parsed into what a package did: every file operation
//! in order with its result, sockets with family, address, port and
//! protocol, DNS queries sent over UDP, commands with argv and environment,
//! the process tree, and file writes captured by hash.
//!
//! It keeps what the reference parser throws away: pids and parents,
//! ordering, return values (a failed open is a probe, not a read), renames,
//! mkdir, chmod, links, and the difference between bind, connect and
//! sendto. Lines that cannot be parsed are counted, never fatal.
//!
//! # Layout
//!
//! - [`line`]: one strace line.
//! - [`Trace`]: the events of a log, built by [`parse_log`].

pub mod dns;
pub mod line;

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use paddock_proto::v1::{
    Command, DnsQuery, FileAccess, FileEvent, FileOp, FileWrite, Process, Socket, SocketOp,
    TraceStats,
};
use sha2::{Digest as _, Sha256};

use crate::line::{decode_string, path_of, split_args, Line};

/// The system calls [`parse_log`] reads; everything else in a log is
/// skipped. Tracing only these (`runsc --strace-syscalls`) leaves out the
/// clock, memory, signal, futex and read calls that make up most of a
/// package manager's log, and what printing them costs inside the sandbox.
/// `faccessat2` is left out: the gVisor release these machines run does
/// not know it, refuses to start when it is named, and answers it with
/// ENOSYS, so callers fall back to `faccessat`.
pub const SYSCALLS: &[&str] = &[
    // Files.
    "open",
    "openat",
    "creat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "lchown",
    "fchown",
    "fchownat",
    "stat",
    "lstat",
    "newfstatat",
    "statx",
    "access",
    "faccessat",
    "readlink",
    "readlinkat",
    "write",
    "pwrite64",
    // Processes.
    "execve",
    "execveat",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "exit",
    "exit_group",
    // Network.
    "socket",
    "connect",
    "bind",
    "sendto",
    "sendmsg",
];

/// Bounds on what a trace keeps.
#[derive(Debug, Clone, Copy)]
pub struct TraceLimits {
    /// Bytes kept of each write's content (the hash covers what gVisor
    /// printed, which its `--strace-log-size` bounds).
    pub write_head_bytes: usize,
    /// Events kept per kind; the rest are counted and the trace marked
    /// truncated.
    pub max_events: usize,
    /// Longest line read; longer lines are skipped and counted.
    pub max_line_bytes: usize,
}

impl Default for TraceLimits {
    fn default() -> Self {
        Self {
            write_head_bytes: 4096,
            max_events: 100_000,
            max_line_bytes: 1 << 20,
        }
    }
}

/// What a strace log shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub file_events: Vec<FileEvent>,
    pub sockets: Vec<Socket>,
    pub dns: Vec<DnsQuery>,
    pub commands: Vec<Command>,
    pub processes: Vec<Process>,
    pub file_writes: Vec<FileWrite>,
    pub stats: TraceStats,
}

impl Trace {
    /// Per-path summary, as the reference system's `Files`: read, write and
    /// delete, and whether only failed attempts were seen.
    pub fn files(&self) -> Vec<FileAccess> {
        let mut by_path: BTreeMap<&str, (FileAccess, bool)> = BTreeMap::new();
        for e in &self.file_events {
            let op = FileOp::try_from(e.op).unwrap_or(FileOp::Unspecified);
            if op == FileOp::Stat {
                continue;
            }
            let (access, any_ok) = by_path.entry(e.path.as_str()).or_insert_with(|| {
                (
                    FileAccess {
                        path: e.path.clone(),
                        ..Default::default()
                    },
                    false,
                )
            });
            let ok = e.result >= 0;
            *any_ok |= ok;
            // Which operations write or remove: the sandbox facts'.
            access.read |= op == FileOp::OpenRead;
            access.write |= op.writes();
            access.delete |= op.removes();
        }
        // A rename writes its target.
        for e in self
            .file_events
            .iter()
            .filter(|e| e.op == FileOp::Rename as i32 && e.result >= 0)
        {
            by_path
                .entry(e.target.as_str())
                .or_insert_with(|| {
                    (
                        FileAccess {
                            path: e.target.clone(),
                            ..Default::default()
                        },
                        true,
                    )
                })
                .0
                .write = true;
        }
        by_path
            .into_values()
            .map(|(mut a, any_ok)| {
                a.failed_only = !any_ok;
                a
            })
            .collect()
    }
}

#[derive(Default)]
struct Builder {
    trace: Trace,
    limits: TraceLimits,
    seq: u64,
    /// Write buffers from entry lines, by thread, awaiting their exit.
    pending: HashMap<u32, (String, Vec<u8>)>,
    /// Socket kinds by (pid, fd): (family, protocol).
    sockets: HashMap<(u32, i64), (String, String)>,
    processes: BTreeMap<u32, Process>,
    parents: HashMap<u32, u32>,
    /// The last command name (`comm`) each process ran under.
    names: HashMap<u32, String>,
    /// Processes that exec'd a program.
    execed: std::collections::HashSet<u32>,
    /// Remote ports of connected sockets, by gVisor's `socket:[N]` name:
    /// a resolver that connects its UDP socket and then `send`s or
    /// `write`s the query shows the port only at connect time.
    connected: HashMap<String, (String, String, u32)>,
}

/// Parses a gVisor boot log (or any text with strace lines).
pub fn parse_log(reader: impl BufRead, limits: TraceLimits) -> Trace {
    let mut b = Builder {
        limits,
        ..Default::default()
    };
    let mut reader = reader;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        b.trace.stats.lines += 1;
        if buf.len() > b.limits.max_line_bytes {
            b.trace.stats.unparsed_lines += 1;
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        if !text.contains("strace.go:") {
            continue;
        }
        match line::parse(text.trim_end()) {
            Some(l) => b.event(&l),
            None => b.trace.stats.unparsed_lines += 1,
        }
    }
    b.finish()
}

impl Builder {
    fn event(&mut self, l: &Line<'_>) {
        self.trace.stats.events += 1;
        self.seq += 1;
        self.processes.entry(l.pid).or_insert_with(|| Process {
            pid: l.pid,
            first_seq: self.seq,
            exit_code: -1,
            ..Default::default()
        });
        if self.names.get(&l.pid).map(String::as_str) != Some(l.command) {
            self.names.insert(l.pid, l.command.to_owned());
        }
        if !l.exit {
            if matches!(l.syscall, "write" | "pwrite64" | "sendto") {
                let target = l
                    .args
                    .first()
                    .and_then(|a| path_of(a))
                    .unwrap_or_default()
                    .to_owned();
                if let Some((bytes, _)) = l.args.get(1).and_then(|a| decode_string(a)) {
                    self.pending.insert(l.tid, (target, bytes));
                }
            }
            return;
        }
        let result = match l.errno {
            Some((errno, _)) => -errno,
            None => l.result.unwrap_or(0),
        };
        let error = l
            .errno
            .map(|(n, text)| errno_name(n, text))
            .unwrap_or_default();
        let arg = |i: usize| l.args.get(i).copied().unwrap_or_default();
        let path = |i: usize| path_of(arg(i)).unwrap_or_default().to_owned();
        let at = |dir: usize, p: usize| join(path_of(arg(dir)).unwrap_or("/"), &path(p));
        match l.syscall {
            "open" => self.file(
                l,
                open_op(arg(1)),
                path(0),
                String::new(),
                result,
                &error,
                0,
            ),
            "openat" => self.file(
                l,
                open_op(arg(2)),
                at(0, 1),
                String::new(),
                result,
                &error,
                0,
            ),
            "creat" => self.file(l, FileOp::Create, path(0), String::new(), result, &error, 0),
            "stat" | "lstat" | "access" | "readlink" => {
                self.file(l, FileOp::Stat, path(0), String::new(), result, &error, 0)
            }
            "newfstatat" | "faccessat" | "faccessat2" | "statx" | "readlinkat" => {
                self.file(l, FileOp::Stat, at(0, 1), String::new(), result, &error, 0)
            }
            "unlink" => self.file(l, FileOp::Delete, path(0), String::new(), result, &error, 0),
            "unlinkat" => {
                let op = if arg(2).contains("AT_REMOVEDIR") {
                    FileOp::Rmdir
                } else {
                    FileOp::Delete
                };
                self.file(l, op, at(0, 1), String::new(), result, &error, 0)
            }
            "rmdir" => self.file(l, FileOp::Rmdir, path(0), String::new(), result, &error, 0),
            "rename" => self.file(l, FileOp::Rename, path(0), path(1), result, &error, 0),
            "renameat" | "renameat2" => {
                self.file(l, FileOp::Rename, at(0, 1), at(2, 3), result, &error, 0)
            }
            "mkdir" => self.file(
                l,
                FileOp::Mkdir,
                path(0),
                String::new(),
                result,
                &error,
                mode(arg(1)),
            ),
            "mkdirat" => self.file(
                l,
                FileOp::Mkdir,
                at(0, 1),
                String::new(),
                result,
                &error,
                mode(arg(2)),
            ),
            "chmod" => self.file(
                l,
                FileOp::Chmod,
                path(0),
                String::new(),
                result,
                &error,
                mode(arg(1)),
            ),
            "fchmodat" => self.file(
                l,
                FileOp::Chmod,
                at(0, 1),
                String::new(),
                result,
                &error,
                mode(arg(2)),
            ),
            "fchmod" => self.file(
                l,
                FileOp::Chmod,
                path(0),
                String::new(),
                result,
                &error,
                mode(arg(1)),
            ),
            "chown" | "lchown" | "fchown" => {
                self.file(l, FileOp::Chown, path(0), String::new(), result, &error, 0)
            }
            "fchownat" => self.file(l, FileOp::Chown, at(0, 1), String::new(), result, &error, 0),
            "link" => self.file(l, FileOp::Link, path(1), path(0), result, &error, 0),
            "linkat" => self.file(l, FileOp::Link, at(2, 3), at(0, 1), result, &error, 0),
            "symlink" => self.file(l, FileOp::Symlink, path(1), path(0), result, &error, 0),
            "symlinkat" => self.file(l, FileOp::Symlink, at(1, 2), path(0), result, &error, 0),
            "execve" | "execveat" => self.exec(l, result),
            // A new thread is not a new process.
            "clone" if arg(0).contains("CLONE_THREAD") => {}
            "clone" | "clone3" | "fork" | "vfork" if result > 0 => {
                let child = result as u32;
                self.parents.insert(child, l.pid);
                let seq = self.seq;
                let p = self.processes.entry(child).or_insert_with(|| Process {
                    pid: child,
                    first_seq: seq,
                    exit_code: -1,
                    ..Default::default()
                });
                p.parent_pid = l.pid;
            }
            "exit_group" | "exit" => {
                if let Some(code) = parse_int(arg(0)) {
                    if let Some(p) = self.processes.get_mut(&l.pid) {
                        p.exit_code = code as i32;
                    }
                }
            }
            "socket" if result >= 0 => {
                let family = arg(0).to_owned();
                let protocol = if arg(1).contains("SOCK_DGRAM") {
                    "udp"
                } else if arg(1).contains("SOCK_STREAM") {
                    "tcp"
                } else {
                    ""
                };
                self.sockets
                    .insert((l.pid, result), (family, protocol.to_owned()));
            }
            "connect" | "bind" => {
                let op = if l.syscall == "connect" {
                    SocketOp::Connect
                } else {
                    SocketOp::Bind
                };
                self.socket(l, op, arg(0), arg(1), result, &error);
                if op == SocketOp::Connect && result == 0 {
                    if let Some(name) = path_of(arg(0)).filter(|p| p.starts_with("socket:")) {
                        self.connected.insert(name.to_owned(), sockaddr(arg(1)));
                    }
                }
            }
            "sendto" | "sendmsg" => {
                let pending = self.pending.remove(&l.tid);
                match l.args.get(4).filter(|a| a.contains("Family")) {
                    Some(addr) => {
                        self.socket(l, SocketOp::Sendto, arg(0), addr, result, &error);
                        if addr.contains("Port: 53}") || addr.contains("Port: 53,") {
                            if let Some((_, bytes)) = &pending {
                                self.dns(bytes, l.time);
                            }
                        }
                    }
                    // `send` on a connected socket: recorded as a send to
                    // the address it was connected to (the payload, when
                    // runsc prints it, may be a DNS query).
                    None => {
                        let peer = path_of(arg(0)).and_then(|n| self.connected.get(n)).cloned();
                        if let Some((family, address, port)) = peer {
                            if let Some(family) = (!family.is_empty()).then_some(family) {
                                let addr =
                                    format!("{{Family: {family}, Addr: {address}, Port: {port}}}");
                                self.socket(l, SocketOp::Sendto, arg(0), &addr, result, &error);
                            }
                            if port == 53 {
                                if let Some((_, bytes)) = &pending {
                                    self.dns(bytes, l.time);
                                }
                            }
                        }
                    }
                }
            }
            "write" | "pwrite64" => {
                if let Some((target, bytes)) = self.pending.remove(&l.tid) {
                    if self.connected.get(&target).map(|c| c.2) == Some(53) {
                        self.dns(&bytes, l.time);
                    }
                    if self.trace.file_writes.len() >= self.limits.max_events {
                        self.trace.stats.truncated = true;
                    } else if !target.starts_with("socket:") {
                        let head: Vec<u8> = bytes
                            .iter()
                            .copied()
                            .take(self.limits.write_head_bytes)
                            .collect();
                        self.trace.file_writes.push(FileWrite {
                            path: target,
                            pid: l.pid,
                            bytes_written: result.max(0) as u64,
                            sha256: hex::encode(Sha256::digest(&bytes)),
                            head,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        l: &Line<'_>,
        op: FileOp,
        path: String,
        target: String,
        result: i64,
        error: &str,
        mode: u32,
    ) {
        if path.is_empty() || self.trace.file_events.len() >= self.limits.max_events {
            if !path.is_empty() {
                self.trace.stats.truncated = true;
            }
            return;
        }
        self.trace.file_events.push(FileEvent {
            seq: self.seq,
            pid: l.pid,
            op: op as i32,
            path,
            target,
            result,
            error: error.to_owned(),
            mode,
        });
    }

    fn exec(&mut self, l: &Line<'_>, result: i64) {
        let arg = |i: usize| l.args.get(i).copied().unwrap_or_default();
        let argv = string_array(arg(1));
        let env = string_array(arg(2));
        let executable = path_of(arg(0)).unwrap_or_default().to_owned();
        let parent = self.parents.get(&l.pid).copied().unwrap_or(0);
        if self.trace.commands.len() < self.limits.max_events {
            self.trace.commands.push(Command {
                seq: self.seq,
                pid: l.pid,
                parent_pid: parent,
                argv: argv.clone(),
                env,
                cwd: String::new(),
                result,
            });
        } else {
            self.trace.stats.truncated = true;
        }
        if result >= 0 {
            self.execed.insert(l.pid);
            let p = self.processes.entry(l.pid).or_default();
            p.pid = l.pid;
            p.parent_pid = parent;
            p.executable = executable;
            p.argv = argv;
        }
    }

    fn socket(
        &mut self,
        l: &Line<'_>,
        op: SocketOp,
        fd_arg: &str,
        addr: &str,
        result: i64,
        error: &str,
    ) {
        if self.trace.sockets.len() >= self.limits.max_events {
            self.trace.stats.truncated = true;
            return;
        }
        let fd = parse_int(fd_arg.split_whitespace().next().unwrap_or_default()).unwrap_or(-1);
        let (family, address, port) = sockaddr(addr);
        let protocol = self
            .sockets
            .get(&(l.pid, fd))
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        self.trace.sockets.push(Socket {
            seq: self.seq,
            pid: l.pid,
            op: op as i32,
            family,
            protocol,
            address,
            port,
            hostnames: Vec::new(),
            result,
            error: error.to_owned(),
        });
    }

    fn dns(&mut self, packet: &[u8], time: &str) {
        let _ = time;
        if let Some((name, qtype)) = dns_question(packet) {
            match self.trace.dns.iter_mut().find(|q| q.hostname == name) {
                Some(q) if !q.types.contains(&qtype) => q.types.push(qtype),
                Some(_) => {}
                None => self.trace.dns.push(DnsQuery {
                    hostname: name,
                    types: vec![qtype],
                    class: "IN".into(),
                    ..Default::default()
                }),
            }
        }
    }

    fn finish(mut self) -> Trace {
        // Programs that never exec'd (busybox applets, forked workers) are
        // named by the command name they ran under.
        for (pid, p) in self.processes.iter_mut() {
            if !self.execed.contains(pid) {
                if let Some(name) = self.names.get(pid) {
                    p.executable = name.clone();
                    p.argv = vec![name.clone()];
                }
            }
        }
        // clone3 hides its flags behind a pointer: a "child" that never
        // made a system call as a process of its own was a thread.
        let names = &self.names;
        self.processes.retain(|pid, _| names.contains_key(pid));
        self.trace.processes = self.processes.into_values().collect();
        self.trace
    }
}

fn open_op(flags: &str) -> FileOp {
    if flags.contains("O_CREAT") {
        FileOp::Create
    } else if flags.contains("O_WRONLY")
        || flags.contains("O_RDWR")
        || flags.contains("O_TRUNC")
        || flags.contains("O_APPEND")
    {
        FileOp::OpenWrite
    } else {
        FileOp::OpenRead
    }
}

fn join(dir: &str, path: &str) -> String {
    if path.is_empty() || path.starts_with('/') || dir.is_empty() {
        return path.to_owned();
    }
    format!("{}/{}", dir.trim_end_matches('/'), path)
}

fn mode(arg: &str) -> u32 {
    let a = arg.trim();
    a.strip_prefix("0o")
        .and_then(|o| u32::from_str_radix(o, 8).ok())
        .or_else(|| parse_int(a).map(|n| n as u32))
        .unwrap_or(0)
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|v| v as i64),
        None => s.parse().ok(),
    }
}

/// `0x5ef040 ["cat", "/root/.ssh/id_rsa"]` → the strings.
fn string_array(arg: &str) -> Vec<String> {
    let Some(open) = arg.find('[') else {
        return Vec::new();
    };
    let Some(close) = arg.rfind(']') else {
        return Vec::new();
    };
    if close <= open {
        return Vec::new();
    }
    split_args(&arg[open + 1..close])
        .into_iter()
        .filter_map(|s| decode_string(s).map(|(b, _)| String::from_utf8_lossy(&b).into_owned()))
        .collect()
}

/// `{Family: AF_INET, Addr: 192.0.2.1, Port: 4444}` → (family, address, port).
fn sockaddr(arg: &str) -> (String, String, u32) {
    let Some(open) = arg.find('{') else {
        return (String::new(), String::new(), 0);
    };
    let body = arg[open + 1..].trim_end_matches('}');
    let mut family = String::new();
    let mut address = String::new();
    let mut port = 0;
    for field in split_args(body) {
        let Some((k, v)) = field.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim() {
            "Family" => family = v.to_owned(),
            "Addr" => address = v.trim_matches('"').to_owned(),
            "Port" => port = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    (family, address, port)
}

/// The first question of a DNS query: (name in [`dns`]'s presentation
/// form, type mnemonic).
pub fn dns_question(packet: &[u8]) -> Option<(String, String)> {
    dns::first_question(packet).map(|(name, qtype)| (name, dns_type_name(qtype)))
}

/// The mnemonic of a record type: `"A"`, `"AAAA"`, ..., or `"TYPE<n>"`
/// (RFC 3597) for a type without one here.
pub fn dns_type_name(qtype: u16) -> String {
    let name = match qtype {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        257 => "CAA",
        other => return format!("TYPE{other}"),
    };
    name.to_owned()
}

/// `ENOENT` for errno 2, and so on (nix's table); the description for a
/// number it does not know.
fn errno_name(n: i64, text: &str) -> String {
    // The kernel-internal restart codes are not in libc's table; gVisor
    // reports them for interrupted calls.
    if n == 512 {
        return "ERESTARTSYS".into();
    }
    match i32::try_from(n).map(nix::errno::Errno::from_raw) {
        Ok(nix::errno::Errno::UnknownErrno) | Err(_) => text.to_owned(),
        Ok(errno) => format!("{errno:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every call the builder matches on is traced: a call added to
    /// `Builder::event` without adding it to [`SYSCALLS`] would never
    /// reach the parser from a real sandbox.
    #[test]
    fn every_call_the_builder_reads_is_traced() {
        let source = include_str!("lib.rs");
        let start = source.find("    fn event(").expect("Builder::event");
        let end = start
            + source[start..]
                .find("\n    fn file(")
                .expect("the next method");
        let body = &source[start..end];
        let mut named = Vec::new();
        for piece in body.split('"').skip(1).step_by(2) {
            let after = &body[body.find(&format!("\"{piece}\"")).unwrap() + piece.len() + 2..];
            let arm = after.trim_start();
            let is_arm = arm.starts_with("=>") || arm.starts_with('|') || arm.starts_with("if ");
            if !piece.is_empty()
                && piece
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && is_arm
            {
                named.push(piece.to_owned());
            }
        }
        assert!(named.len() > 30, "the scan found the match arms: {named:?}");
        let missing: Vec<_> = named
            .iter()
            .filter(|n| *n != "faccessat2" && !SYSCALLS.contains(&n.as_str()))
            .collect();
        assert!(missing.is_empty(), "read but not traced: {missing:?}");
    }

    #[test]
    fn errnos_are_named_and_unknown_ones_described() {
        assert_eq!(errno_name(2, "no such file"), "ENOENT");
        assert_eq!(errno_name(111, "refused"), "ECONNREFUSED");
        assert_eq!(errno_name(113, "no route"), "EHOSTUNREACH");
        assert_eq!(errno_name(512, "restart"), "ERESTARTSYS");
        assert_eq!(errno_name(9999, "odd"), "odd");
    }

    #[test]
    fn dns_questions_decode() {
        // Query for evil.example, type A.
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["evil", "example"] {
            q.push(label.len() as u8);
            q.extend(label.as_bytes());
        }
        q.extend([0, 0, 1, 0, 1]);
        assert_eq!(dns_question(&q), Some(("evil.example".into(), "A".into())));
        assert_eq!(dns_question(&q[..10]), None);
        let mut response = q.clone();
        response[2] |= 0x80;
        assert_eq!(dns_question(&response), None, "responses are not queries");
    }

    #[test]
    fn sockaddrs_and_modes() {
        assert_eq!(
            sockaddr("0x1 {Family: AF_INET, Addr: 192.0.2.1, Port: 4444}"),
            ("AF_INET".into(), "192.0.2.1".into(), 4444)
        );
        assert_eq!(
            sockaddr(r#"0x1 {Family: AF_UNIX, Addr: "/run/x.sock"}"#),
            ("AF_UNIX".into(), "/run/x.sock".into(), 0)
        );
        assert_eq!(mode("0o755"), 0o755);
        assert_eq!(join("/app", "node_modules/x"), "/app/node_modules/x");
        assert_eq!(join("/app", "/etc/passwd"), "/etc/passwd");
    }
}
