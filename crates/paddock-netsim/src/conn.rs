//! One accepted TCP connection from the sandbox: bounded reads with an idle
//! timeout, every byte counted and hashed, the first of them kept, and the
//! HTTP/1.1 framing (heads, Content-Length and chunked bodies, responses)
//! that the catch-all and the registry proxy share.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::sniff::{self, HttpHead, SniffError};

/// Bytes of a connection kept verbatim in its record.
pub const HEAD_BYTES: usize = 4096;
/// Bytes of a body kept for the exfiltration scan.
pub const SCAN_BYTES: usize = 1 << 20;
/// A connection is closed after this many bytes from the sandbox.
pub const MAX_CONNECTION_BYTES: u64 = 64 << 20;
/// Nothing more is read from a connection this long after it was accepted
/// (a peer that trickles a byte now and then does not hold it forever).
pub const MAX_CONNECTION_READ_TIME: Duration = Duration::from_secs(120);

/// A connection and what has been read from it: a TCP stream, or the
/// TLS session the catch-all terminated on one.
#[derive(Debug)]
pub struct Conn<S = TcpStream> {
    stream: S,
    /// Read but not yet consumed.
    buf: Vec<u8>,
    idle: Duration,
    deadline: tokio::time::Instant,
    hasher: Sha256,
    total: u64,
    head: Vec<u8>,
    seen: Vec<u8>,
}

/// A request body, as received.
#[derive(Debug, Default, Clone)]
pub struct Body {
    pub size: u64,
    pub sha256: String,
    /// The first [`SCAN_BYTES`] (decoded when chunked).
    pub bytes: Vec<u8>,
    /// False when the peer went away or a limit cut it short.
    pub complete: bool,
}

/// What [`Conn::read_head`] found.
#[derive(Debug)]
pub enum Head {
    Request(HttpHead),
    /// The peer closed (or went idle) before a complete head.
    Closed,
    /// Not acceptable HTTP; the reason.
    Bad(SniffError),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub fn new(stream: S, idle: Duration) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            idle,
            deadline: tokio::time::Instant::now() + MAX_CONNECTION_READ_TIME,
            hasher: Sha256::new(),
            total: 0,
            head: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Bytes read but not consumed.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Reads more; 0 on end of stream, idle timeout or the byte limit.
    pub async fn fill(&mut self) -> usize {
        if self.total >= MAX_CONNECTION_BYTES {
            return 0;
        }
        let mut chunk = vec![0u8; 16 * 1024];
        let wait = self.idle.min(
            self.deadline
                .saturating_duration_since(tokio::time::Instant::now()),
        );
        let n = match tokio::time::timeout(wait, self.stream.read(&mut chunk)).await {
            Ok(Ok(n)) => n,
            _ => 0,
        };
        let got = &chunk[..n];
        self.hasher.update(got);
        self.total += n as u64;
        let keep = HEAD_BYTES.saturating_sub(self.head.len()).min(n);
        self.head.extend_from_slice(&got[..keep]);
        let keep = SCAN_BYTES.saturating_sub(self.seen.len()).min(n);
        self.seen.extend_from_slice(&got[..keep]);
        self.buf.extend_from_slice(got);
        n
    }

    /// Reads until `sniff` decides or the peer stops sending (then
    /// `NeedMore` is returned: look at [`Conn::pending`]).
    pub async fn sniff(&mut self) -> sniff::Sniffed {
        loop {
            match sniff::sniff(&self.buf) {
                sniff::Sniffed::NeedMore => {
                    if self.fill().await == 0 {
                        return sniff::Sniffed::NeedMore;
                    }
                }
                other => return other,
            }
        }
    }

    /// Reads one request head and consumes it.
    pub async fn read_head(&mut self) -> Head {
        loop {
            match sniff::parse_http_head(&self.buf) {
                Ok(Some(head)) => {
                    self.buf.drain(..head.head_len.min(self.buf.len()));
                    return Head::Request(head);
                }
                Ok(None) if self.buf.len() >= sniff::MAX_HEAD => {
                    return Head::Bad(SniffError::Malformed(format!(
                        "request head longer than {} bytes",
                        sniff::MAX_HEAD
                    )))
                }
                Ok(None) => {
                    if self.fill().await == 0 {
                        return Head::Closed;
                    }
                }
                Err(e) => return Head::Bad(e),
            }
        }
    }

    /// Reads the body that `head` announces (none for neither
    /// Content-Length nor chunked), up to `limit` bytes.
    pub async fn read_body(&mut self, head: &HttpHead, limit: u64) -> Body {
        let mut body = BodyHasher::default();
        let complete = if head.chunked {
            self.read_chunked(&mut body, limit).await
        } else if let Some(len) = head.content_length {
            let want = len.min(limit);
            let ok = self.read_exact_into(&mut body, want).await;
            ok && want == len
        } else {
            true
        };
        body.finish(complete)
    }

    async fn read_exact_into(&mut self, body: &mut BodyHasher, mut n: u64) -> bool {
        while n > 0 {
            if self.buf.is_empty() && self.fill().await == 0 {
                return false;
            }
            let take = (self.buf.len() as u64).min(n) as usize;
            body.update(&self.buf[..take]);
            self.buf.drain(..take);
            n -= take as u64;
        }
        true
    }

    /// Reads a line ending in CRLF (without it); None when the peer stops
    /// or the line exceeds 4 KiB.
    async fn read_line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..i].to_vec();
                self.buf.drain(..i + 2);
                return Some(line);
            }
            if self.buf.len() > 4096 || self.fill().await == 0 {
                return None;
            }
        }
    }

    async fn read_chunked(&mut self, body: &mut BodyHasher, limit: u64) -> bool {
        loop {
            let Some(line) = self.read_line().await else {
                return false;
            };
            let size_text = String::from_utf8_lossy(&line);
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let Ok(size) = u64::from_str_radix(size_text, 16) else {
                return false;
            };
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    match self.read_line().await {
                        Some(l) if l.is_empty() => return true,
                        Some(_) => continue,
                        None => return false,
                    }
                }
            }
            if body.size.saturating_add(size) > limit {
                return false;
            }
            if !self.read_exact_into(body, size).await {
                return false;
            }
            if self.read_line().await.as_deref() != Some(b"") {
                return false;
            }
        }
    }

    /// Writes a complete response.
    pub async fn respond(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
        keep_alive: bool,
        head_only: bool,
    ) -> bool {
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
            reason(status),
            body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        let mut out = head.into_bytes();
        if !head_only {
            out.extend_from_slice(body);
        }
        tokio::time::timeout(self.idle, self.stream.write_all(&out))
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false)
    }

    /// Ends the connection politely (a TLS session sends its
    /// close_notify).
    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(self.idle, self.stream.shutdown()).await;
    }

    /// Reads whatever else the peer sends (up to the limits), so that the
    /// record's count and hash cover the connection.
    pub async fn drain(&mut self) {
        self.buf.clear();
        while self.fill().await > 0 {
            self.buf.clear();
        }
    }

    /// Total bytes received, their sha256, and the first of them.
    pub fn summary(&self) -> (u64, String, Vec<u8>) {
        (
            self.total,
            hex::encode(self.hasher.clone().finalize()),
            self.head.clone(),
        )
    }

    /// The first [`SCAN_BYTES`] received, for the exfiltration scan.
    pub fn seen(&self) -> &[u8] {
        &self.seen
    }

    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The stream and the bytes read from it but not consumed (a TLS
    /// ClientHello the sniffer looked at), to hand to another protocol.
    pub fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buf)
    }
}

#[derive(Debug, Default)]
struct BodyHasher {
    size: u64,
    hasher: Sha256,
    bytes: Vec<u8>,
}

impl BodyHasher {
    fn update(&mut self, b: &[u8]) {
        self.size += b.len() as u64;
        self.hasher.update(b);
        let keep = SCAN_BYTES.saturating_sub(self.bytes.len()).min(b.len());
        self.bytes.extend_from_slice(&b[..keep]);
    }

    fn finish(self, complete: bool) -> Body {
        Body {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
            complete,
        }
    }
}

/// Whether the client wants the connection kept after this request.
pub fn keep_alive(head: &HttpHead) -> bool {
    let connection = head
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .map(|(_, v)| v.to_ascii_lowercase());
    match connection.as_deref() {
        Some(v) if v.contains("close") => false,
        Some(v) if v.contains("keep-alive") => true,
        _ => head.version >= 1,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        414 => "URI Too Long",
        502 => "Bad Gateway",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    /// Time is paused: the two minutes pass in no time, and the sleeps and
    /// timeouts fire in the order their deadlines say.
    #[tokio::test(start_paused = true)]
    async fn a_trickling_peer_is_cut_off_at_the_connection_deadline() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let started = tokio::time::Instant::now();
        // A byte every 10 s: never idle for the 30 s the connection
        // allows, and never done.
        tokio::spawn(async move {
            loop {
                if theirs.write_all(b"G").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        });
        let mut conn = Conn::new(ours, Duration::from_secs(30));
        let mut reads = 0u64;
        while conn.fill().await > 0 {
            reads += 1;
        }
        let held = started.elapsed();
        assert!(
            held >= MAX_CONNECTION_READ_TIME
                && held < MAX_CONNECTION_READ_TIME + Duration::from_secs(10),
            "cut off after {held:?}"
        );
        assert_eq!(reads, MAX_CONNECTION_READ_TIME.as_secs() / 10);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_peer_is_let_go_after_the_idle_time() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let started = tokio::time::Instant::now();
        let mut conn = Conn::new(ours, Duration::from_secs(30));
        assert_eq!(conn.fill().await, 0);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }
}
