//! The internet host: a network namespace of its own per analysis, joined
//! to the sandbox's namespace by a veth pair, and the servers behind it.
//!
//! Addresses (all inside namespaces Paddock made):
//!
//! - the sandbox: [`SANDBOX_ADDR`] on its `eth0`; a route to
//!   [`NAME_POOL`]/16 through the host, and `unreachable` for everything
//!   else, so a hard-coded address fails at once (and is still traced);
//! - the internet host: [`HOST_ADDR`] on `wan0`, plus every address of
//!   [`NAME_POOL`] as local addresses, so that each name the DNS server
//!   hands out is an address of the host's own. The namespace has no other
//!   interface: nothing in it can reach anything else.
//!
//! The servers are tasks of the worker, on sockets opened inside the
//! namespace by a short-lived thread that joins it: DNS on port 53 (UDP
//! and TCP), the registry proxy on [`PROXY_PORT`], and a catch-all that an
//! nftables `redirect` rule sends every other TCP connection to (its
//! original destination read back with `SO_ORIGINAL_DST`). UDP datagrams
//! to other ports are recorded from a packet socket on the namespace.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use paddock_proto::v1::{Connection, Datagram, DnsQuery, Header, HttpRequest, TlsHello};
use paddock_sandbox::netns::Netns;
use paddock_sandbox::SandboxError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::conn::{self, Conn, Head};
use crate::proxy::Proxy;
use crate::record::{now, Recorder};
use crate::sniff::{self, Sniffed};
use crate::tls::Interceptor;
use crate::{dns, CATCHALL_PORT, HOST_ADDR, NAME_POOL, PROXY_PORT, SANDBOX_ADDR};

/// Connections served at once per analysis by the catch-all; more wait.
/// The registry proxy and DNS over TCP have limits of their own, so that
/// connections held open to the catch-all cannot starve the package
/// managers.
const MAX_CONNECTIONS: usize = 128;
const MAX_PROXY_CONNECTIONS: usize = 64;
const MAX_DNS_CONNECTIONS: usize = 16;
/// The veth pair's MTU: the largest, so that no UDP datagram is
/// fragmented and every one is captured (and scanned) whole.
const LINK_MTU: &str = "65535";
/// A request body is read (and hashed) up to this many bytes.
const MAX_BODY: u64 = 32 << 20;
/// DNS answers live this long in the sandbox's caches.
const DNS_TTL: u32 = 60;

/// A running internet host. Dropping it stops its servers; the namespace
/// goes with [`InternetHost::remove`] (or the analyzer's clean-up).
#[derive(Debug)]
pub struct InternetHost {
    netns: Option<Netns>,
    recorder: Arc<Recorder>,
    tasks: JoinSet<()>,
    /// Tells the datagram capture thread to stop.
    stop: Arc<AtomicBool>,
    /// This analysis's TLS authority (its key never leaves this process).
    tls: Arc<Interceptor>,
}

impl Drop for InternetHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl InternetHost {
    /// Creates the host's namespace (`<sandbox namespace>-net`), wires the
    /// sandbox's namespace to it, and starts the servers.
    pub async fn start(
        sandbox: &Netns,
        recorder: Arc<Recorder>,
        proxy: Arc<Proxy>,
        idle: Duration,
    ) -> Result<Self, SandboxError> {
        let id = sandbox.name();
        let id = id
            .strip_prefix(paddock_sandbox::netns::NETNS_PREFIX)
            .unwrap_or(id);
        let tls = Interceptor::new().map_err(|e| SandboxError::Network(e.to_string()))?;
        let netns = Netns::create(&format!("{id}-net")).await?;
        let mut host = Self {
            netns: Some(netns),
            recorder,
            tasks: JoinSet::new(),
            stop: Arc::new(AtomicBool::new(false)),
            tls: Arc::new(tls),
        };
        let ns = host.netns.as_ref().expect("just set");
        wire(sandbox, ns).await?;
        let sockets = open_sockets(ns.path()).await?;
        host.serve(sockets, proxy, idle)?;
        Ok(host)
    }

    /// The internet host's namespace name.
    pub fn namespace(&self) -> Option<&str> {
        self.netns.as_ref().map(Netns::name)
    }

    pub fn recorder(&self) -> &Arc<Recorder> {
        &self.recorder
    }

    /// The certificate of the authority the catch-all mints with, PEM:
    /// for the sandbox's trust stores.
    pub fn ca_pem(&self) -> &str {
        self.tls.ca_pem()
    }

    /// Stops the servers and removes the namespace.
    pub async fn remove(mut self) {
        self.tasks.abort_all();
        if let Some(ns) = self.netns.take() {
            ns.remove().await;
        }
    }

    fn serve(&mut self, s: Sockets, proxy: Arc<Proxy>, idle: Duration) -> Result<(), SandboxError> {
        let rec = self.recorder.clone();
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let proxy_limit = Arc::new(Semaphore::new(MAX_PROXY_CONNECTIONS));
        let dns_limit = Arc::new(Semaphore::new(MAX_DNS_CONNECTIONS));
        let (stop, packets, r) = (self.stop.clone(), s.packets, rec.clone());
        std::thread::Builder::new()
            .name("paddock-datagrams".into())
            .spawn(move || capture_datagrams(&packets, &r, &stop))
            .map_err(|source| SandboxError::Io {
                what: "starting the datagram capture thread".into(),
                source,
            })?;
        match (
            UdpSocket::from_std(s.dns_udp),
            TcpListener::from_std(s.dns_tcp),
            TcpListener::from_std(s.catch_all),
            TcpListener::from_std(s.proxy),
        ) {
            (Ok(dns_udp), Ok(dns_tcp), Ok(catch_all), Ok(proxy_listener)) => {
                self.tasks.spawn(serve_dns_udp(dns_udp, rec.clone()));
                let r = rec.clone();
                self.tasks
                    .spawn(accept_loop(dns_tcp, dns_limit, move |s, _| {
                        serve_dns_tcp(s, r.clone(), idle)
                    }));
                let (r, tls) = (rec.clone(), self.tls.clone());
                self.tasks.spawn(accept_loop(catch_all, limit, move |s, _| {
                    catch_all_connection(s, r.clone(), tls.clone(), idle)
                }));
                let r = rec.clone();
                self.tasks
                    .spawn(accept_loop(proxy_listener, proxy_limit, move |s, _| {
                        let (p, r) = (proxy.clone(), r.clone());
                        async move { p.serve(Conn::new(s, idle), &r).await }
                    }));
                Ok(())
            }
            _ => Err(SandboxError::Network(
                "could not hand the internet host's sockets to the runtime".into(),
            )),
        }
    }
}

/// The veth pair, addresses, routes and the catch-all's redirect rule.
async fn wire(sandbox: &Netns, host: &Netns) -> Result<(), SandboxError> {
    sandbox
        .ip(&[
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "wan0",
            "netns",
            host.name(),
        ])
        .await?;
    let pool = format!("{NAME_POOL}/{}", crate::NAME_POOL_PREFIX);
    let host_addr = HOST_ADDR.to_string();
    sandbox
        .ip(&[
            "addr",
            "add",
            &format!("{SANDBOX_ADDR}/{}", crate::LINK_PREFIX_LEN),
            "dev",
            "eth0",
        ])
        .await?;
    sandbox
        .ip(&["link", "set", "eth0", "mtu", LINK_MTU, "up"])
        .await?;
    sandbox
        .ip(&["route", "add", &pool, "via", &host_addr, "dev", "eth0"])
        .await?;
    sandbox
        .ip(&["route", "add", "unreachable", "default"])
        .await?;

    host.ip(&[
        "addr",
        "add",
        &format!("{HOST_ADDR}/{}", crate::LINK_PREFIX_LEN),
        "dev",
        "wan0",
    ])
    .await?;
    host.ip(&["link", "set", "wan0", "mtu", LINK_MTU, "up"])
        .await?;
    // Every address of the pool is the host's own.
    host.ip(&["route", "add", "local", &pool, "dev", "lo"])
        .await?;
    host.ip(&["route", "add", "unreachable", "default"]).await?;
    let rules = format!(
        "table ip paddock {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname \"wan0\" ip daddr {HOST_ADDR} tcp dport {{ 53, {PROXY_PORT} }} accept
    iifname \"wan0\" udp dport 53 redirect to :53
    iifname \"wan0\" meta l4proto tcp redirect to :{CATCHALL_PORT}
  }}
}}
"
    );
    nft(&host.path(), &rules).await
}

async fn nft(netns: &Path, rules: &str) -> Result<(), SandboxError> {
    let mut child = tokio::process::Command::new("nsenter")
        .arg(format!("--net={}", netns.display()))
        .args(["nft", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|source| SandboxError::Io {
            what: "running `nsenter nft` (Debian packages util-linux and nftables)".into(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(rules.as_bytes()).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|source| SandboxError::Io {
            what: "waiting for nft".into(),
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(SandboxError::Network(format!(
            "nft could not load the simulated internet's redirect rule: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[derive(Debug)]
struct Sockets {
    dns_udp: std::net::UdpSocket,
    dns_tcp: std::net::TcpListener,
    catch_all: std::net::TcpListener,
    proxy: std::net::TcpListener,
    packets: socket2::Socket,
}

/// Opens the servers' sockets inside `netns`: a thread joins the namespace
/// (only that thread), binds, and hands the sockets back; they stay in the
/// namespace they were made in.
async fn open_sockets(netns: PathBuf) -> Result<Sockets, SandboxError> {
    // A thread of its own, which ends after this: the runtime's blocking
    // pool reuses its threads, and one that joined the namespace must never
    // run anything else (a registry lookup, say).
    let (tx, rx) = tokio::sync::oneshot::channel();
    let open = move || -> std::io::Result<Sockets> {
        let file = std::fs::File::open(&netns)?;
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        let any = |port: u16| SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let dns_udp = std::net::UdpSocket::bind(any(53))?;
        let dns_tcp = std::net::TcpListener::bind(any(53))?;
        let catch_all = std::net::TcpListener::bind(any(CATCHALL_PORT))?;
        let proxy = std::net::TcpListener::bind(SocketAddr::from((HOST_ADDR, PROXY_PORT)))?;
        // ETH_P_IP, in network byte order as packet(7) wants it.
        let packets = socket2::Socket::new(
            socket2::Domain::PACKET,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::from(i32::from(0x0800u16.to_be()))),
        )?;
        dns_udp.set_nonblocking(true)?;
        dns_tcp.set_nonblocking(true)?;
        catch_all.set_nonblocking(true)?;
        proxy.set_nonblocking(true)?;
        // The capture thread looks at its stop flag this often.
        packets.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Sockets {
            dns_udp,
            dns_tcp,
            catch_all,
            proxy,
            packets,
        })
    };
    std::thread::Builder::new()
        .name("paddock-netns".into())
        .spawn(move || {
            let _ = tx.send(open());
        })
        .map_err(|source| SandboxError::Io {
            what: "starting a thread to open sockets in the internet host's namespace".into(),
            source,
        })?;
    match rx.await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(source)) => Err(SandboxError::Io {
            what: "opening the simulated internet's sockets inside its namespace".into(),
            source,
        }),
        Err(_) => Err(SandboxError::Network(
            "the socket-opening thread ended without an answer".into(),
        )),
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, limit: Arc<Semaphore>, handle: F)
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut running = JoinSet::new();
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let fut = handle(stream, peer);
        running.spawn(async move {
            fut.await;
            drop(permit);
        });
        while running.try_join_next().is_some() {}
    }
}

fn dns_record(rec: &Recorder, q: &dns::Query) -> Option<Ipv4Addr> {
    let address = (matches!(q.qtype, 1 | 255) && q.qclass == 1 && !q.name.is_empty())
        .then(|| rec.address_for(&q.name));
    rec.dns(DnsQuery {
        hostname: q.name.clone(),
        types: vec![dns::type_name(q.qtype)],
        class: if q.qclass == 1 {
            "IN".into()
        } else {
            format!("CLASS{}", q.qclass)
        },
        answered: address.is_some(),
        answers: address.iter().map(|a| a.to_string()).collect(),
        at: Some(now()),
    });
    address
}

fn dns_reply(rec: &Recorder, packet: &[u8]) -> Option<Vec<u8>> {
    match dns::parse_query(packet) {
        Ok(q) => {
            let a = dns_record(rec, &q);
            Some(dns::response(&q, packet, a, DNS_TTL))
        }
        Err(e) => {
            tracing::debug!(error = %e, "malformed DNS query from the sandbox");
            rec.datagram(Datagram {
                address: HOST_ADDR.to_string(),
                port: 53,
                size: packet.len() as u64,
                head: packet[..packet.len().min(conn::HEAD_BYTES)].to_vec(),
                at: Some(now()),
                hostname: String::new(),
            });
            rec.scan(packet, || "a malformed DNS packet".into());
            dns::error_response(packet, 1)
        }
    }
}

async fn serve_dns_udp(socket: UdpSocket, rec: Arc<Recorder>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(reply) = dns_reply(&rec, &buf[..n]) {
            let _ = socket.send_to(&reply, peer).await;
        }
    }
}

async fn serve_dns_tcp(mut stream: TcpStream, rec: Arc<Recorder>, idle: Duration) {
    loop {
        let mut len = [0u8; 2];
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut len)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut msg)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let Some(reply) = dns_reply(&rec, &msg) else {
            return;
        };
        if stream.write_all(&dns::tcp_frame(&reply)).await.is_err() {
            return;
        }
    }
}

/// Where a redirected connection was headed.
fn original_destination(stream: &TcpStream) -> SocketAddrV4 {
    socket2::SockRef::from(stream)
        .original_dst_v4()
        .ok()
        .and_then(|a| a.as_socket_ipv4())
        .unwrap_or_else(|| SocketAddrV4::new(HOST_ADDR, CATCHALL_PORT))
}

async fn catch_all_connection(
    stream: TcpStream,
    rec: Arc<Recorder>,
    tls: Arc<Interceptor>,
    idle: Duration,
) {
    let dest = original_destination(&stream);
    let hostname = rec.name_of(*dest.ip()).unwrap_or_default();
    let at = now();
    let where_ = if hostname.is_empty() {
        dest.to_string()
    } else {
        format!("{hostname}:{}", dest.port())
    };
    let mut conn = Conn::new(stream, idle);
    let protocol = match conn.sniff().await {
        Sniffed::Tls(hello) => {
            let mut record = TlsHello {
                sni: hello.sni.clone().unwrap_or_default(),
                alpn: hello.alpn.clone(),
                address: dest.ip().to_string(),
                port: dest.port().into(),
                at: Some(at),
                hostname: hostname.clone(),
                ..Default::default()
            };
            // What the client sent before the handshake: kept for the
            // record of a handshake that fails.
            let (bytes_received, sha256, head) = conn.summary();
            let (stream, hello_bytes) = conn.into_parts();
            let handshake = tokio::time::timeout(
                idle,
                tls.accept(stream, hello_bytes, &dest.ip().to_string()),
            )
            .await
            .unwrap_or_else(|_| Err("the client went quiet during the handshake".into()));
            match handshake {
                Ok(session) => {
                    record.intercepted = true;
                    rec.tls(record);
                    let mut inner = Conn::new(session, idle);
                    serve_tls_session(&mut inner, &rec, &dest, &hostname, &where_).await;
                    record_connection(&rec, &inner, &dest, hostname, "https", at);
                }
                Err(e) => {
                    record.handshake_error = e;
                    rec.tls(record);
                    rec.connection(Connection {
                        address: dest.ip().to_string(),
                        port: dest.port().into(),
                        hostname,
                        protocol: "tls".into(),
                        bytes_received,
                        sha256,
                        head,
                        at: Some(at),
                    });
                }
            }
            return;
        }
        Sniffed::Http(_) => {
            serve_http(&mut conn, &rec, &dest, &hostname, "catch-all").await;
            "http"
        }
        // A request line whose head is refused (shaped for smuggling, too
        // long): answered and recorded as a refused HTTP request.
        Sniffed::Unknown if sniff::looks_like_http_method(conn.pending()) => {
            serve_http(&mut conn, &rec, &dest, &hostname, "catch-all").await;
            "http"
        }
        Sniffed::Unknown => {
            conn.drain().await;
            "unknown"
        }
        Sniffed::NeedMore if conn.pending().is_empty() => "empty",
        Sniffed::NeedMore => "unknown",
    };
    if protocol != "http" {
        let seen = conn.seen().to_vec();
        rec.scan(&seen, || format!("{protocol} stream to {where_}"));
    }
    record_connection(&rec, &conn, &dest, hostname, protocol, at);
}

/// Inside a TLS session the catch-all terminated: HTTP is answered as on
/// a plain connection; anything else is read and scanned.
async fn serve_tls_session<S>(
    conn: &mut Conn<S>,
    rec: &Recorder,
    dest: &SocketAddrV4,
    hostname: &str,
    where_: &str,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match conn.sniff().await {
        Sniffed::Http(_) => serve_http(conn, rec, dest, hostname, "catch-all-tls").await,
        Sniffed::Unknown if sniff::looks_like_http_method(conn.pending()) => {
            serve_http(conn, rec, dest, hostname, "catch-all-tls").await
        }
        _ => {
            conn.drain().await;
            let seen = conn.seen().to_vec();
            rec.scan(&seen, || format!("TLS stream to {where_}"));
        }
    }
    conn.shutdown().await;
}

fn record_connection<S>(
    rec: &Recorder,
    conn: &Conn<S>,
    dest: &SocketAddrV4,
    hostname: String,
    protocol: &str,
    at: paddock_proto::well_known::Timestamp,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (bytes_received, sha256, head) = conn.summary();
    rec.connection(Connection {
        address: dest.ip().to_string(),
        port: dest.port().into(),
        hostname,
        protocol: protocol.into(),
        bytes_received,
        sha256,
        head,
        at: Some(at),
    });
}

/// Answers every request on the connection with a neutral `200`, so that
/// a script goes on to its next step, and records each.
async fn serve_http<S>(
    conn: &mut Conn<S>,
    rec: &Recorder,
    dest: &SocketAddrV4,
    hostname: &str,
    via: &str,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let head = match conn.read_head().await {
            Head::Request(h) => h,
            Head::Closed => return,
            Head::Bad(e) => {
                let refused = e.to_string();
                rec.http(HttpRequest {
                    address: dest.ip().to_string(),
                    port: dest.port().into(),
                    via: via.into(),
                    refused: refused.clone(),
                    response_status: 400,
                    hostname: hostname.to_owned(),
                    at: Some(now()),
                    ..Default::default()
                });
                conn.respond(400, "text/plain", b"", false, false).await;
                return;
            }
        };
        let body = conn.read_body(&head, MAX_BODY).await;
        let request = http_record(&head, &body, dest, hostname, via, 200);
        scan_request(rec, &head, &body, &request);
        rec.http(request);
        let keep = conn::keep_alive(&head) && body.complete;
        if !conn
            .respond(200, "text/plain", b"", keep, head.method == "HEAD")
            .await
            || !keep
        {
            return;
        }
    }
}

/// The record of one HTTP request.
pub(crate) fn http_record(
    head: &sniff::HttpHead,
    body: &conn::Body,
    dest: &SocketAddrV4,
    hostname: &str,
    via: &str,
    status: u16,
) -> HttpRequest {
    HttpRequest {
        method: head.method.clone(),
        host: head.host.clone().unwrap_or_default(),
        path: head.target.clone(),
        headers: head
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        body_size: body.size,
        body_sha256: if body.size > 0 {
            body.sha256.clone()
        } else {
            String::new()
        },
        body_head: body.bytes[..body.bytes.len().min(conn::HEAD_BYTES)].to_vec(),
        address: dest.ip().to_string(),
        port: dest.port().into(),
        at: Some(now()),
        via: via.into(),
        refused: String::new(),
        response_status: status.into(),
        hostname: hostname.into(),
    }
}

/// Looks for baits in a request's target, headers and body.
pub(crate) fn scan_request(
    rec: &Recorder,
    head: &sniff::HttpHead,
    body: &conn::Body,
    r: &HttpRequest,
) -> bool {
    let mut text = format!("{} {}\r\n", head.method, head.target).into_bytes();
    for (n, v) in &head.headers {
        text.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    let host = if r.host.is_empty() {
        &r.address
    } else {
        &r.host
    };
    let in_head = rec.scan(&text, || {
        format!("HTTP {} {host}{} request line or headers", r.method, r.path)
    });
    let in_body = rec.scan(&body.bytes, || {
        format!("HTTP {} {host}{} body", r.method, r.path)
    });
    in_head || in_body
}

/// Records UDP datagrams from the sandbox to any port but DNS's (a
/// thread of its own: the packet socket blocks with a short timeout).
fn capture_datagrams(packets: &socket2::Socket, rec: &Recorder, stop: &AtomicBool) {
    let mut buf = vec![0u8; 65536];
    let mut socket: &socket2::Socket = packets;
    while !stop.load(Ordering::Relaxed) {
        let n = match socket.read(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => {
                tracing::warn!(error = %e, "the datagram capture stopped");
                return;
            }
        };
        if let Some(d) = parse_udp(&buf[..n]) {
            if d.dst_port == 53 || d.src != SANDBOX_ADDR {
                continue;
            }
            let hostname = rec.name_of(d.dst).unwrap_or_default();
            let where_ = format!("UDP datagram to {}:{}", d.dst, d.dst_port);
            rec.scan(d.payload, || where_);
            rec.datagram(Datagram {
                address: d.dst.to_string(),
                port: d.dst_port.into(),
                size: d.payload.len() as u64,
                head: d.payload[..d.payload.len().min(conn::HEAD_BYTES)].to_vec(),
                at: Some(now()),
                hostname,
            });
        }
    }
}

struct Udp<'a> {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dst_port: u16,
    payload: &'a [u8],
}

/// An IPv4 packet carrying UDP (first fragment only).
fn parse_udp(p: &[u8]) -> Option<Udp<'_>> {
    if p.len() < 20 || p[0] >> 4 != 4 || p[9] != 17 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]])).min(p.len());
    let fragment_offset = u16::from_be_bytes([p[6], p[7]]) & 0x1fff;
    if ihl < 20 || total < ihl + 8 || fragment_offset != 0 {
        return None;
    }
    let udp = &p[ihl..total];
    Some(Udp {
        src: Ipv4Addr::new(p[12], p[13], p[14], p[15]),
        dst: Ipv4Addr::new(p[16], p[17], p[18], p[19]),
        dst_port: u16::from_be_bytes([udp[2], udp[3]]),
        payload: &udp[8..],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn udp_packets_are_parsed_and_garbage_is_not() {
        let to = paddock_proto::sandbox::pool_address(1).unwrap();
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
        p.extend_from_slice(&crate::SANDBOX_ADDR.octets());
        p.extend_from_slice(&to.octets());
        p.extend_from_slice(&[0x30, 0x39, 0x1f, 0x90, 0, 13, 0, 0]);
        p.extend_from_slice(b"hello");
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let d = super::parse_udp(&p).unwrap();
        assert_eq!(d.dst_port, 8080);
        assert_eq!(d.payload, b"hello");
        assert_eq!(d.dst, to);
        for n in 0..p.len() {
            let _ = super::parse_udp(&p[..n]);
        }
        assert!(super::parse_udp(b"\x60garbage").is_none());
    }
}
