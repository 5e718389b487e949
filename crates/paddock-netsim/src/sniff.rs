//! Recognising what a sample speaks from the first bytes of a TCP stream.
//!
//! The catch-all listeners accept every connection and must decide, from
//! what the client sends first, whether it is a TLS handshake, an HTTP/1
//! request, or something else, and what it asks for: the server name and
//! ALPN protocols of a TLS ClientHello, or the method, target and headers
//! of an HTTP request head.
//!
//! # Layout
//!
//! - [`sniff`] classifies a buffer as [`Sniffed::Tls`], [`Sniffed::Http`],
//!   [`Sniffed::Unknown`], or [`Sniffed::NeedMore`] while it could still
//!   become one of the first two.
//! - [`parse_client_hello`] reassembles a ClientHello from one or more
//!   TLS records and reads its server name and ALPN extensions. Kept
//!   hand-written (not tls-parser): it reads only the two extensions, from
//!   bytes buffered before rustls takes the stream over, bounded and fuzzed
//!   in `tests/fuzz.rs`, where tls-parser would bring nom for the same.
//! - [`parse_http_head`] reads an HTTP/1.x request head with `httparse`
//!   and rejects heads shaped for request smuggling.
//!
//! # Invariants
//!
//! Every byte is attacker-controlled. Nothing here panics or indexes out
//! of bounds; every length field is checked against the bytes actually
//! present before anything is read or allocated; a TLS handshake message
//! is capped at [`MAX_HANDSHAKE`] bytes and an HTTP head at [`MAX_HEAD`]
//! bytes, so the work per call is bounded by the buffer and those caps.

use std::collections::HashSet;

/// Largest HTTP request head, request line and blank line included.
/// A head not complete within this many bytes is rejected.
pub const MAX_HEAD: usize = 64 * 1024;

/// Largest TLS handshake message reassembled, its 4-byte header
/// included.
pub const MAX_HANDSHAKE: usize = 64 * 1024;

/// Most header fields accepted in an HTTP request head.
pub const MAX_HEADERS: usize = 128;

/// Longest token accepted as an HTTP method by [`sniff`].
pub const MAX_METHOD_LEN: usize = 16;

const RECORD_HEADER_LEN: usize = 5;
/// Largest plaintext record body (RFC 8446 section 5.1).
const MAX_RECORD_LEN: usize = 1 << 14;
const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const NAME_TYPE_HOST_NAME: u8 = 0;

/// What the first bytes of a stream turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// The bytes so far could still become a TLS ClientHello or an HTTP
    /// request head; read more and sniff again.
    NeedMore,
    /// A complete TLS ClientHello.
    Tls(ClientHello),
    /// A complete, well-framed HTTP/1.x request head.
    Http(HttpHead),
    /// Neither: some other protocol, or a TLS or HTTP start that failed
    /// to parse. Call [`parse_client_hello`] or [`parse_http_head`] to
    /// learn why.
    Unknown,
}

/// Why a ClientHello or HTTP head was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    /// The TLS records or the ClientHello inside them are malformed.
    #[error("malformed tls client hello: {0}")]
    Tls(String),
    /// The handshake message claims more than [`MAX_HANDSHAKE`] bytes.
    #[error("tls handshake message of {0} bytes exceeds the 65536-byte cap")]
    TooLarge(usize),
    /// `httparse` rejected the HTTP head (this covers obs-fold line
    /// continuations and whitespace before a header's colon).
    #[error("malformed http head: {0}")]
    Malformed(String),
    /// The HTTP head has more than [`MAX_HEADERS`] header fields.
    #[error("http head has more than 128 header fields")]
    TooManyHeaders,
    /// No blank line ends the HTTP head within [`MAX_HEAD`] bytes.
    #[error("http head is not complete within 65536 bytes")]
    HeadTooLarge,
    /// The head frames its body ambiguously, the way request-smuggling
    /// attacks do; the message says which rule it breaks.
    #[error("http head is shaped for request smuggling: {0}")]
    Smuggling(String),
}

/// What a TLS ClientHello asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The `host_name` of the server_name extension, decoded lossily as
    /// UTF-8 and ASCII-lowercased (like [`crate::dns::Query::name`]).
    pub sni: Option<String>,
    /// The protocols offered in the ALPN extension, in order, decoded
    /// lossily as UTF-8.
    pub alpn: Vec<String>,
    /// The hello's `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub version: u16,
}

/// An HTTP/1.x request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHead {
    /// The request method, as sent.
    pub method: String,
    /// The request target, as sent.
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Header fields in order; names as sent, values decoded lossily
    /// as UTF-8.
    pub headers: Vec<(String, String)>,
    /// Length of the head, blank line included; the body starts here.
    pub head_len: usize,
    /// The body length from `Content-Length`, if present.
    pub content_length: Option<u64>,
    /// Whether the body is chunked (`Transfer-Encoding` ends in
    /// `chunked`).
    pub chunked: bool,
    /// The `Host` header, trimmed, as sent.
    pub host: Option<String>,
}

/// Classifies the first bytes of a TCP stream.
///
/// A buffer starting with `0x16 0x03` (a TLS handshake record) is TLS; a
/// buffer starting with an uppercase token of at most
/// [`MAX_METHOD_LEN`] characters and a space is HTTP. While a buffer is
/// a proper prefix of either (a TLS record still incomplete, or an HTTP
/// head without its blank line and shorter than [`MAX_HEAD`]) the answer
/// is [`Sniffed::NeedMore`]. Anything else, including a TLS or HTTP
/// start that fails to parse, is [`Sniffed::Unknown`].
pub fn sniff(buf: &[u8]) -> Sniffed {
    match buf {
        [] | [0x16] => Sniffed::NeedMore,
        [0x16, 0x03, ..] => match parse_client_hello(buf) {
            Ok(Some(hello)) => Sniffed::Tls(hello),
            Ok(None) => Sniffed::NeedMore,
            Err(_) => Sniffed::Unknown,
        },
        _ => match method_token(buf) {
            Token::Partial => Sniffed::NeedMore,
            Token::No => Sniffed::Unknown,
            Token::Complete => match parse_http_head(buf) {
                Ok(Some(head)) => Sniffed::Http(head),
                Ok(None) => Sniffed::NeedMore,
                Err(_) => Sniffed::Unknown,
            },
        },
    }
}

/// Whether `buf` starts with what looks like an HTTP method: an
/// uppercase token (`A`-`Z`, then also `-` and `_`) of 1 to
/// [`MAX_METHOD_LEN`] characters followed by a space.
pub fn looks_like_http_method(buf: &[u8]) -> bool {
    method_token(buf) == Token::Complete
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A method token and its space are present.
    Complete,
    /// Every byte so far fits a method token; the space is missing.
    Partial,
    /// Not a method token.
    No,
}

fn method_token(buf: &[u8]) -> Token {
    for (i, &byte) in buf.iter().take(MAX_METHOD_LEN + 1).enumerate() {
        match byte {
            b'A'..=b'Z' => {}
            b'-' | b'_' if i > 0 => {}
            b' ' if i > 0 => return Token::Complete,
            _ => return Token::No,
        }
    }
    if buf.len() > MAX_METHOD_LEN {
        Token::No
    } else {
        Token::Partial
    }
}

/// Reads a TLS ClientHello from the start of a stream.
///
/// Returns `Ok(None)` while more bytes are needed. The handshake message
/// may span several records: the payloads of consecutive handshake
/// records (content type 22) are concatenated until the message's
/// declared length is covered, up to [`MAX_HANDSHAKE`] bytes. Any other
/// record type before that point, an empty or oversized record, or a
/// length field that disagrees with its contents is an error. Bytes
/// after the ClientHello are ignored.
pub fn parse_client_hello(buf: &[u8]) -> Result<Option<ClientHello>, SniffError> {
    match reassemble_handshake(buf)? {
        Some(message) => parse_hello_message(&message).map(Some),
        None => Ok(None),
    }
}

/// Concatenates handshake record payloads until the first handshake
/// message is complete; returns exactly that message, header included.
fn reassemble_handshake(buf: &[u8]) -> Result<Option<Vec<u8>>, SniffError> {
    let mut message: Vec<u8> = Vec::new();
    // 4 + the handshake length, once the 4-byte header is in.
    let mut needed: Option<usize> = None;
    let mut pos = 0;
    // Every record adds at least one byte to `message` (empty records
    // are rejected) and `message` stops growing at MAX_HANDSHAKE bytes,
    // so this bound is never reached by a well-formed or malformed
    // stream; it only makes the termination obvious.
    for _ in 0..=MAX_HANDSHAKE {
        if let Some(needed) = needed {
            if message.len() >= needed {
                message.truncate(needed);
                return Ok(Some(message));
            }
        }
        let Some(&[content_type, major, _minor, len_hi, len_lo]) =
            buf.get(pos..pos + RECORD_HEADER_LEN)
        else {
            return Ok(None);
        };
        if content_type != CONTENT_HANDSHAKE {
            return Err(tls_error(format!(
                "record of content type {content_type} at offset {pos} before the client hello is complete"
            )));
        }
        if major != 3 {
            return Err(tls_error(format!(
                "record at offset {pos} has major version {major}, not 3"
            )));
        }
        let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
        if len == 0 {
            return Err(tls_error(format!("empty handshake record at offset {pos}")));
        }
        if len > MAX_RECORD_LEN {
            return Err(tls_error(format!(
                "record at offset {pos} is {len} bytes, more than 16384"
            )));
        }
        let start = pos + RECORD_HEADER_LEN;
        let Some(payload) = buf.get(start..start + len) else {
            return Ok(None);
        };
        let take = match needed {
            Some(needed) => payload.len().min(needed.saturating_sub(message.len())),
            None => payload.len(),
        };
        message.extend_from_slice(payload.get(..take).unwrap_or_default());
        pos = start + len;
        if needed.is_none() {
            if let Some(&[msg_type, a, b, c]) = message.get(..4) {
                if msg_type != HANDSHAKE_CLIENT_HELLO {
                    return Err(tls_error(format!(
                        "handshake message type {msg_type}, not client_hello (1)"
                    )));
                }
                let body_len = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
                let total = 4 + body_len;
                if total > MAX_HANDSHAKE {
                    return Err(SniffError::TooLarge(total));
                }
                needed = Some(total);
            }
        }
    }
    Err(tls_error("too many records".to_owned()))
}

/// Parses a complete ClientHello handshake message, header included.
fn parse_hello_message(message: &[u8]) -> Result<ClientHello, SniffError> {
    let mut outer = Reader::new(message);
    let msg_type = outer.u8("handshake type")?;
    if msg_type != HANDSHAKE_CLIENT_HELLO {
        return Err(tls_error(format!(
            "handshake message type {msg_type}, not client_hello (1)"
        )));
    }
    let len = outer.u24("handshake length")?;
    let mut r = Reader::new(outer.take(len, "client_hello body")?);
    outer.finish("handshake message")?;

    let version = r.u16("legacy_version")?;
    r.take(32, "random")?;
    let session_id = r.vec8("legacy_session_id")?;
    if session_id.len() > 32 {
        return Err(tls_error(format!(
            "legacy_session_id is {} bytes, more than 32",
            session_id.len()
        )));
    }
    let suites = r.vec16("cipher_suites")?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err(tls_error(format!(
            "cipher_suites is {} bytes, not a non-zero even number",
            suites.len()
        )));
    }
    if r.vec8("legacy_compression_methods")?.is_empty() {
        return Err(tls_error("legacy_compression_methods is empty".to_owned()));
    }
    let mut hello = ClientHello {
        sni: None,
        alpn: Vec::new(),
        version,
    };
    // A hello without extensions (SSL 3.0 style) ends here.
    if r.is_empty() {
        return Ok(hello);
    }
    let mut extensions = Reader::new(r.vec16("extensions")?);
    r.finish("client_hello")?;

    let mut seen = HashSet::new();
    // Each pass consumes at least four bytes or returns an error.
    while !extensions.is_empty() {
        let ext_type = extensions.u16("extension type")?;
        let data = extensions.vec16("extension data")?;
        if !seen.insert(ext_type) {
            return Err(tls_error(format!("extension {ext_type} appears twice")));
        }
        match ext_type {
            EXT_SERVER_NAME => hello.sni = parse_server_name(data)?,
            EXT_ALPN => hello.alpn = parse_alpn(data)?,
            _ => {}
        }
    }
    Ok(hello)
}

/// Parses server_name extension data (RFC 6066 section 3).
fn parse_server_name(data: &[u8]) -> Result<Option<String>, SniffError> {
    let mut outer = Reader::new(data);
    let mut list = Reader::new(outer.vec16("server_name_list")?);
    outer.finish("server_name extension")?;
    if list.is_empty() {
        return Err(tls_error("server_name_list is empty".to_owned()));
    }
    let mut host = None;
    // Each pass consumes at least three bytes or returns an error.
    while !list.is_empty() {
        let name_type = list.u8("server name type")?;
        let name = list.vec16("server name")?;
        if name_type != NAME_TYPE_HOST_NAME {
            continue;
        }
        if name.is_empty() {
            return Err(tls_error("host_name is empty".to_owned()));
        }
        if host.is_some() {
            return Err(tls_error(
                "server_name_list has two host_name entries".to_owned(),
            ));
        }
        host = Some(String::from_utf8_lossy(name).to_ascii_lowercase());
    }
    Ok(host)
}

/// Parses ALPN extension data (RFC 7301 section 3.1).
fn parse_alpn(data: &[u8]) -> Result<Vec<String>, SniffError> {
    let mut outer = Reader::new(data);
    let mut list = Reader::new(outer.vec16("protocol_name_list")?);
    outer.finish("alpn extension")?;
    if list.is_empty() {
        return Err(tls_error("protocol_name_list is empty".to_owned()));
    }
    let mut protocols = Vec::new();
    // Each pass consumes at least two bytes or returns an error.
    while !list.is_empty() {
        let name = list.vec8("protocol name")?;
        if name.is_empty() {
            return Err(tls_error("alpn protocol name is empty".to_owned()));
        }
        protocols.push(String::from_utf8_lossy(name).into_owned());
    }
    Ok(protocols)
}

fn tls_error(detail: String) -> SniffError {
    SniffError::Tls(detail)
}

/// A cursor over big-endian TLS structures; every read is checked.
#[derive(Debug)]
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { rest: buf }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], SniffError> {
        match self.rest.split_at_checked(n) {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(tls_error(format!(
                "{what} needs {n} bytes but only {} remain",
                self.rest.len()
            ))),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, SniffError> {
        let bytes = self.take(1, what)?;
        Ok(bytes.first().copied().unwrap_or_default())
    }

    fn u16(&mut self, what: &str) -> Result<u16, SniffError> {
        match *self.take(2, what)? {
            [a, b] => Ok(u16::from_be_bytes([a, b])),
            _ => Err(tls_error(format!("{what} is not two bytes"))),
        }
    }

    fn u24(&mut self, what: &str) -> Result<usize, SniffError> {
        match *self.take(3, what)? {
            [a, b, c] => Ok((usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c)),
            _ => Err(tls_error(format!("{what} is not three bytes"))),
        }
    }

    /// A vector with a one-byte length prefix.
    fn vec8(&mut self, what: &str) -> Result<&'a [u8], SniffError> {
        let len = self.u8(what)?;
        self.take(usize::from(len), what)
    }

    /// A vector with a two-byte length prefix.
    fn vec16(&mut self, what: &str) -> Result<&'a [u8], SniffError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    /// Fails if bytes remain after the structure `what`.
    fn finish(&self, what: &str) -> Result<(), SniffError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(tls_error(format!(
                "{} bytes left over after {what}",
                self.rest.len()
            )))
        }
    }
}

/// Reads an HTTP/1.x request head from the start of a stream.
///
/// Returns `Ok(None)` while the blank line ending the head is missing
/// and fewer than [`MAX_HEAD`] bytes have arrived. At most
/// [`MAX_HEADERS`] header fields are accepted.
///
/// Heads that frame their body ambiguously are rejected with
/// [`SniffError::Smuggling`]: both `Content-Length` and
/// `Transfer-Encoding`; several differing `Content-Length` values; a
/// `Content-Length` that is not all digits; a `Transfer-Encoding` whose
/// last coding is not `chunked`, that applies `chunked` twice, or that
/// has an empty or non-token coding; `Transfer-Encoding` in an HTTP/1.0
/// request (RFC 9112 section 6.1); and several `Host` headers.
/// Line-folded headers and whitespace before a colon are rejected by
/// `httparse` and reported as [`SniffError::Malformed`].
pub fn parse_http_head(buf: &[u8]) -> Result<Option<HttpHead>, SniffError> {
    let window = buf.get(..MAX_HEAD).unwrap_or(buf);
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    let head_len = match request.parse(window) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if window.len() < MAX_HEAD => return Ok(None),
        Ok(httparse::Status::Partial) => return Err(SniffError::HeadTooLarge),
        Err(httparse::Error::TooManyHeaders) => return Err(SniffError::TooManyHeaders),
        Err(e) => return Err(SniffError::Malformed(e.to_string())),
    };
    let version = request.version.unwrap_or_default();
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value)
                    .trim_matches(is_ows)
                    .to_owned(),
            )
        })
        .collect();
    let framing = check_framing(&headers, version)?;
    Ok(Some(HttpHead {
        method: request.method.unwrap_or_default().to_owned(),
        target: request.path.unwrap_or_default().to_owned(),
        version,
        headers,
        head_len,
        content_length: framing.content_length,
        chunked: framing.chunked,
        host: framing.host,
    }))
}

#[derive(Debug)]
struct Framing {
    content_length: Option<u64>,
    chunked: bool,
    host: Option<String>,
}

/// Applies the smuggling rules of [`parse_http_head`] to trimmed header
/// values.
fn check_framing(headers: &[(String, String)], version: u8) -> Result<Framing, SniffError> {
    let mut content_length: Option<u64> = None;
    let mut codings: Vec<&str> = Vec::new();
    let mut has_te = false;
    let mut host: Option<String> = None;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SniffError::Smuggling(format!(
                    "content-length {value:?} is not a decimal number"
                )));
            }
            let parsed: u64 = value.parse().map_err(|_| {
                SniffError::Smuggling(format!("content-length {value:?} overflows"))
            })?;
            match content_length {
                Some(previous) if previous != parsed => {
                    return Err(SniffError::Smuggling(format!(
                        "content-length given as both {previous} and {parsed}"
                    )));
                }
                _ => content_length = Some(parsed),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_te = true;
            codings.extend(value.split(',').map(|c| c.trim_matches(is_ows)));
        } else if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return Err(SniffError::Smuggling("several host headers".to_owned()));
            }
            host = Some(value.clone());
        }
    }
    if has_te && content_length.is_some() {
        return Err(SniffError::Smuggling(
            "both content-length and transfer-encoding".to_owned(),
        ));
    }
    if has_te {
        if version == 0 {
            return Err(SniffError::Smuggling(
                "transfer-encoding in an http/1.0 request".to_owned(),
            ));
        }
        let Some((last, earlier)) = codings.split_last() else {
            return Err(SniffError::Smuggling("empty transfer-encoding".to_owned()));
        };
        if !last.eq_ignore_ascii_case("chunked") {
            return Err(SniffError::Smuggling(format!(
                "transfer-encoding ends in {last:?}, not chunked"
            )));
        }
        for coding in earlier {
            if coding.eq_ignore_ascii_case("chunked") {
                return Err(SniffError::Smuggling(
                    "transfer-encoding applies chunked twice".to_owned(),
                ));
            }
            if coding.is_empty() || !coding.bytes().all(is_token_byte) {
                return Err(SniffError::Smuggling(format!(
                    "transfer-encoding coding {coding:?} is not a token"
                )));
            }
        }
    }
    Ok(Framing {
        content_length,
        chunked: has_te,
        host,
    })
}

/// Optional whitespace (RFC 9110 section 5.6.3).
fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A `tchar` (RFC 9110 section 5.6.2).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.3 ClientHello in one record, written out byte by byte:
    /// SNI "evil.example", ALPN "h2" and "http/1.1".
    #[rustfmt::skip]
    const HELLO_RECORD: &[u8] = &[
        // record: handshake (22), version 3.1, length 137
        0x16, 0x03, 0x01, 0x00, 0x89,
        // handshake: client_hello (1), length 133
        0x01, 0x00, 0x00, 0x85,
        // legacy_version: 3.3
        0x03, 0x03,
        // random
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
        // legacy_session_id: 32 bytes
        0x20,
        0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
        0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
        // cipher_suites: 6 bytes, TLS_AES_128_GCM_SHA256 and two more
        0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
        // legacy_compression_methods: null
        0x01, 0x00,
        // extensions: 54 bytes
        0x00, 0x36,
        // server_name (0), 17 bytes: list of 15, host_name (0) of 12
        0x00, 0x00, 0x00, 0x11, 0x00, 0x0f, 0x00, 0x00, 0x0c,
        b'e', b'v', b'i', b'l', b'.', b'e', b'x', b'a', b'm', b'p', b'l', b'e',
        // application_layer_protocol_negotiation (16), 14 bytes: list of 12
        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c,
        0x02, b'h', b'2',
        0x08, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        // supported_versions (43), 3 bytes: TLS 1.3
        0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,
        // supported_groups (10), 4 bytes: x25519
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d,
    ];

    /// The handshake message inside [`HELLO_RECORD`].
    fn hello_handshake() -> &'static [u8] {
        &HELLO_RECORD[RECORD_HEADER_LEN..]
    }

    /// The hello body up to and including the compression methods.
    fn hello_fixed_part() -> &'static [u8] {
        &HELLO_RECORD[9..86]
    }

    /// Splits `handshake` into handshake records at the given offsets.
    fn records(handshake: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut start = 0;
        for &end in cuts.iter().chain([handshake.len()].iter()) {
            let part = &handshake[start..end];
            out.extend_from_slice(&[0x16, 0x03, 0x03]);
            out.extend_from_slice(&(part.len() as u16).to_be_bytes());
            out.extend_from_slice(part);
            start = end;
        }
        out
    }

    /// A one-record hello with the fixed part of [`HELLO_RECORD`] and
    /// the given extensions block (without its length prefix).
    fn hello_with_extensions(extensions: &[u8]) -> Vec<u8> {
        let mut body = hello_fixed_part().to_vec();
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
        let mut handshake = vec![1, 0];
        handshake.extend_from_slice(&(body.len() as u16).to_be_bytes());
        handshake.extend_from_slice(&body);
        records(&handshake, &[])
    }

    fn expected_hello() -> ClientHello {
        ClientHello {
            sni: Some("evil.example".to_owned()),
            alpn: vec!["h2".to_owned(), "http/1.1".to_owned()],
            version: 0x0303,
        }
    }

    use paddock_testkit::rng::XorShift;

    #[test]
    fn client_hello_dump_parses() {
        assert_eq!(HELLO_RECORD.len(), 5 + 137);
        assert_eq!(parse_client_hello(HELLO_RECORD), Ok(Some(expected_hello())));
        assert_eq!(sniff(HELLO_RECORD), Sniffed::Tls(expected_hello()));
    }

    #[test]
    fn client_hello_split_across_records_parses() {
        let two = records(hello_handshake(), &[60]);
        assert_eq!(parse_client_hello(&two), Ok(Some(expected_hello())));
        // Every split point, and a record boundary inside the header.
        for cut in 1..hello_handshake().len() {
            let split = records(hello_handshake(), &[cut]);
            assert_eq!(
                parse_client_hello(&split),
                Ok(Some(expected_hello())),
                "cut {cut}"
            );
        }
        let many = records(hello_handshake(), &[1, 2, 3, 50, 51, 100]);
        assert_eq!(parse_client_hello(&many), Ok(Some(expected_hello())));
    }

    #[test]
    fn bytes_after_the_hello_are_ignored() {
        let mut stream = HELLO_RECORD.to_vec();
        stream.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
        assert_eq!(parse_client_hello(&stream), Ok(Some(expected_hello())));
    }

    #[test]
    fn every_truncated_hello_needs_more() {
        let split = records(hello_handshake(), &[70]);
        for stream in [HELLO_RECORD, &split[..]] {
            for len in 0..stream.len() {
                let prefix = &stream[..len];
                assert_eq!(
                    parse_client_hello(prefix),
                    Ok(None),
                    "prefix of {len} bytes"
                );
                assert_eq!(sniff(prefix), Sniffed::NeedMore, "prefix of {len} bytes");
            }
        }
    }

    #[test]
    fn hello_without_extensions_parses() {
        let mut handshake = vec![1, 0, 0, hello_fixed_part().len() as u8];
        handshake.extend_from_slice(hello_fixed_part());
        let hello = parse_client_hello(&records(&handshake, &[]))
            .unwrap()
            .unwrap();
        assert_eq!(
            hello,
            ClientHello {
                sni: None,
                alpn: Vec::new(),
                version: 0x0303
            }
        );
    }

    #[test]
    fn malformed_hellos_are_rejected() {
        let sni = |list_len: u8, name_len: u8, name: &[u8]| {
            let mut ext = vec![0, 0, 0, 5 + name.len() as u8, 0, list_len, 0, 0, name_len];
            ext.extend_from_slice(name);
            ext
        };
        let good = hello_with_extensions(&sni(15, 12, b"evil.example"));
        assert_eq!(
            parse_client_hello(&good).unwrap().unwrap().sni.as_deref(),
            Some("evil.example")
        );

        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "name length overruns",
                hello_with_extensions(&sni(15, 13, b"evil.example")),
            ),
            (
                "list length short",
                hello_with_extensions(&sni(14, 12, b"evil.example")),
            ),
            ("empty host name", hello_with_extensions(&sni(3, 0, b""))),
            ("duplicate extension", {
                let mut ext = sni(15, 12, b"evil.example");
                ext.extend(sni(15, 12, b"evil.example"));
                hello_with_extensions(&ext)
            }),
            (
                "two host names",
                hello_with_extensions(&[0, 0, 0, 10, 0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b']),
            ),
            (
                "empty alpn list",
                hello_with_extensions(&[0, 16, 0, 2, 0, 0]),
            ),
            (
                "empty alpn name",
                hello_with_extensions(&[0, 16, 0, 4, 0, 2, 0, 0]),
            ),
            (
                "alpn name overruns",
                hello_with_extensions(&[0, 16, 0, 5, 0, 3, 3, b'h', b'2']),
            ),
            (
                "extension data overruns",
                hello_with_extensions(&[0, 42, 0, 9, 1]),
            ),
            ("extension header cut", hello_with_extensions(&[0, 42, 0])),
            ("bytes after extensions", {
                let mut hs = hello_handshake().to_vec();
                hs.push(0);
                hs[3] += 1;
                records(&hs, &[])
            }),
            ("odd cipher suites", {
                let mut hs = hello_handshake().to_vec();
                hs[4 + 2 + 32 + 33 + 1] = 5;
                records(&hs, &[])
            }),
            ("session id too long", {
                let mut hs = hello_handshake().to_vec();
                hs[4 + 2 + 32] = 33;
                records(&hs, &[])
            }),
            ("server hello", {
                let mut hs = hello_handshake().to_vec();
                hs[0] = 2;
                records(&hs, &[])
            }),
            ("alert record first", {
                let mut r = HELLO_RECORD.to_vec();
                r[0] = 21;
                r
            }),
            ("application data between fragments", {
                let mut r = records(&hello_handshake()[..40], &[]);
                r.extend_from_slice(&[0x17, 0x03, 0x03, 0x00, 0x01, 0x00]);
                r.extend(records(&hello_handshake()[40..], &[]));
                r
            }),
            ("empty record", {
                let mut r = vec![0x16, 0x03, 0x01, 0x00, 0x00];
                r.extend_from_slice(HELLO_RECORD);
                r
            }),
            ("record too long", vec![0x16, 0x03, 0x01, 0x40, 0x01]),
            ("major version 2", {
                let mut r = HELLO_RECORD.to_vec();
                r[1] = 2;
                r
            }),
        ];
        for (what, stream) in cases {
            assert!(
                matches!(parse_client_hello(&stream), Err(SniffError::Tls(_))),
                "{what}: {:?}",
                parse_client_hello(&stream)
            );
            if stream.starts_with(&[0x16, 0x03]) {
                assert_eq!(sniff(&stream), Sniffed::Unknown, "{what}");
            }
        }
    }

    #[test]
    fn oversized_handshake_is_rejected_early() {
        let stream = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00];
        assert_eq!(
            parse_client_hello(&stream),
            Err(SniffError::TooLarge(4 + 0x010000))
        );
        let at_cap = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0xff, 0xfc];
        assert_eq!(parse_client_hello(&at_cap), Ok(None));
    }

    #[test]
    fn random_and_mutated_tls_never_panics() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for round in 0..12_000 {
            let stream = match round % 3 {
                0 => rng.bytes(200),
                1 => {
                    let mut s = vec![0x16, 0x03, 0x01];
                    s.extend(rng.bytes(200));
                    s
                }
                _ => {
                    let mut s = records(hello_handshake(), &[(rng.next_u64() % 136 + 1) as usize]);
                    for _ in 0..(rng.next_u64() % 3 + 1) {
                        let at = (rng.next_u64() as usize) % s.len();
                        s[at] = rng.next_u64() as u8;
                    }
                    s
                }
            };
            let _ = parse_client_hello(&stream);
            let _ = parse_http_head(&stream);
            let _ = sniff(&stream);
            let _ = looks_like_http_method(&stream);
        }
    }

    fn http(buf: &[u8]) -> HttpHead {
        match sniff(buf) {
            Sniffed::Http(head) => head,
            other => panic!("expected http, got {other:?}"),
        }
    }

    #[test]
    fn get_with_host() {
        let buf = b"GET /payload.bin?id=7 HTTP/1.1\r\nHost: evil.example:8080 \r\nUser-Agent: curl/8\r\n\r\n";
        let head = http(buf);
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/payload.bin?id=7");
        assert_eq!(head.version, 1);
        assert_eq!(head.host.as_deref(), Some("evil.example:8080"));
        assert_eq!(
            head.headers,
            vec![
                ("Host".to_owned(), "evil.example:8080".to_owned()),
                ("User-Agent".to_owned(), "curl/8".to_owned()),
            ]
        );
        assert_eq!(head.head_len, buf.len());
        assert_eq!(head.content_length, None);
        assert!(!head.chunked);
    }

    #[test]
    fn post_with_content_length() {
        let buf = b"POST /upload HTTP/1.0\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello";
        let head = http(buf);
        assert_eq!(head.method, "POST");
        assert_eq!(head.version, 0);
        assert_eq!(head.content_length, Some(5));
        assert_eq!(head.head_len, buf.len() - 5);
        assert_eq!(head.host, None);
    }

    #[test]
    fn chunked_post() {
        for te in ["chunked", "CHUNKED", " chunked\t", "gzip, chunked"] {
            let buf = format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {te}\r\n\r\n5\r\n");
            let head = http(buf.as_bytes());
            assert!(head.chunked, "{te}");
            assert_eq!(head.content_length, None);
        }
        let split =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(http(split).chunked);
    }

    #[test]
    fn smuggling_shapes_are_rejected() {
        let cases: &[&[u8]] = &[
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: , chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ];
        for buf in cases {
            let result = parse_http_head(buf);
            assert!(
                matches!(result, Err(SniffError::Smuggling(_))),
                "{}: {result:?}",
                String::from_utf8_lossy(buf)
            );
            assert_eq!(sniff(buf), Sniffed::Unknown);
        }
    }

    #[test]
    fn folded_and_spaced_headers_are_malformed() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nX-A: 1\r\n continued\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n",
            b"GET / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n",
            b"GET / HTTP/7.1\r\n\r\n",
        ];
        for buf in cases {
            let result = parse_http_head(buf);
            assert!(
                matches!(result, Err(SniffError::Malformed(_))),
                "{}: {result:?}",
                String::from_utf8_lossy(buf)
            );
        }
    }

    #[test]
    fn head_split_across_reads_needs_more() {
        let full = b"GET /a HTTP/1.1\r\nHost: evil.example\r\nAccept: */*\r\n\r\n";
        for len in 0..full.len() {
            assert_eq!(
                sniff(&full[..len]),
                Sniffed::NeedMore,
                "prefix of {len} bytes"
            );
        }
        assert_eq!(http(full).host.as_deref(), Some("evil.example"));
    }

    #[test]
    fn head_limits() {
        let mut huge = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
        huge.resize(MAX_HEAD, b'a');
        assert_eq!(parse_http_head(&huge), Err(SniffError::HeadTooLarge));
        assert_eq!(sniff(&huge), Sniffed::Unknown);
        assert_eq!(parse_http_head(&huge[..MAX_HEAD - 1]), Ok(None));

        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse_http_head(&many), Err(SniffError::TooManyHeaders));

        let mut enough = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            enough.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        enough.extend_from_slice(b"\r\n");
        assert_eq!(http(&enough).headers.len(), MAX_HEADERS);
    }

    #[test]
    fn non_utf8_values_are_kept_lossily() {
        let head = http(b"GET / HTTP/1.1\r\nX-Bin: a\xffb\r\n\r\n");
        assert_eq!(head.headers[0].1, "a\u{fffd}b");
    }

    #[test]
    fn other_protocols_are_unknown() {
        let cases: &[&[u8]] = &[
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"\x00\x00\x00\x2c\x00\x00\x00\x00",
            b"get / HTTP/1.1\r\n\r\n",
            b"ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n",
            b" GET / HTTP/1.1\r\n",
            b"\x16\x02\x00",
            b"\x17\x03\x03\x00\x10",
            b"EHLO evil.example\r\n",
        ];
        for buf in cases {
            assert_eq!(
                sniff(buf),
                Sniffed::Unknown,
                "{}",
                String::from_utf8_lossy(buf)
            );
        }
    }

    #[test]
    fn method_detection() {
        assert!(looks_like_http_method(b"GET /"));
        assert!(looks_like_http_method(b"M-SEARCH * HTTP/1.1"));
        assert!(looks_like_http_method(b"ABCDEFGHIJKLMNOP /"));
        assert!(!looks_like_http_method(b"ABCDEFGHIJKLMNOPQ /"));
        assert!(!looks_like_http_method(b"GET"));
        assert!(!looks_like_http_method(b" GET /"));
        assert!(!looks_like_http_method(b"-GET /"));
        assert!(!looks_like_http_method(b"Get /"));
        assert!(!looks_like_http_method(b""));
        for prefix in [&b""[..], b"G", b"GE", b"GET", b"ABCDEFGHIJKLMNOP"] {
            assert_eq!(sniff(prefix), Sniffed::NeedMore);
        }
        assert_eq!(sniff(b"\x16"), Sniffed::NeedMore);
    }
}
