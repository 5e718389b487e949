//! DNS wire format (RFC 1035): the one parser of DNS names, used both for
//! the queries seen in the syscall trace and by the simulated internet's
//! resolver (`paddock_netsim::dns`), so a name is recorded in one form
//! wherever it was seen.
//!
//! The resolver answers every name the sample looks up, so that the
//! sample's next move (the connection it opens) becomes visible. This
//! module holds only the pure wire logic; the sockets live elsewhere.
//!
//! Hand-written rather than hickory-proto: the resolver echoes each
//! question byte for byte and both records keep raw label bytes in one
//! escaped form, which is 400 lines of bounded parsing here against a
//! large dependency in two crates.
//!
//! # Layout
//!
//! - [`parse_query`] reads the header and the single question of a
//!   query into a [`Query`].
//! - [`response`] builds the answer to a parsed query: the question
//!   echoed back and, for `A` and `ANY` questions, one `A` record.
//! - [`error_response`] builds a header-only reply (`FORMERR`,
//!   `NOTIMP`, ...) for a packet that could not be parsed.
//! - [`tcp_frame`] and [`split_tcp_frame`] add and remove the two-byte
//!   length prefix of DNS over TCP (RFC 1035 section 4.2.2).
//!
//! # Invariants
//!
//! Every packet is attacker-controlled. Nothing here panics or indexes
//! out of bounds: every read goes through `get`. Name decoding is
//! bounded three ways: a compression pointer must point strictly before
//! the start of the run of labels it ends (so each jump moves backwards
//! and a loop is impossible), at most [`MAX_POINTERS`] pointers are
//! followed, and the decoded name may not exceed [`MAX_NAME_LEN`] bytes
//! in wire form.

use std::net::Ipv4Addr;

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;

/// Longest name in wire form, length bytes and the final root byte
/// included (RFC 1035 section 2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// Most compression pointers followed while decoding one name.
pub const MAX_POINTERS: usize = 32;

/// Record type `A`.
pub const TYPE_A: u16 = 1;
/// Query type `ANY` (`*`).
pub const TYPE_ANY: u16 = 255;
/// Class `IN`.
pub const CLASS_IN: u16 = 1;

/// Response code: the server could not interpret the query.
pub const RCODE_FORMERR: u8 = 1;
/// Response code: the server failed internally.
pub const RCODE_SERVFAIL: u8 = 2;
/// Response code: the server does not implement this kind of query.
pub const RCODE_NOTIMP: u8 = 4;
/// Response code: the server refuses to answer.
pub const RCODE_REFUSED: u8 = 5;

const FLAG_QR: u16 = 0x8000;
const FLAG_AA: u16 = 0x0400;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
const OPCODE_MASK: u16 = 0x7800;

/// Why a packet is not a query this server answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The packet cannot hold the 12-byte header.
    #[error("packet is {0} bytes, shorter than the 12-byte dns header")]
    ShortHeader(usize),
    /// The QR bit is set: the packet is a response.
    #[error("packet is a response (qr=1), not a query")]
    NotQuery,
    /// The opcode is not 0 (standard query).
    #[error("opcode {0} is not implemented; only standard queries (opcode 0) are served")]
    Opcode(u8),
    /// The question count is not exactly one.
    #[error("question count is {0}; exactly one question is supported")]
    QuestionCount(u16),
    /// The question runs past the end of the packet.
    #[error("question is truncated: needed a byte at offset {0}")]
    Truncated(usize),
    /// A length byte is neither a label of at most 63 bytes nor a
    /// compression pointer (its two top bits are `01` or `10`).
    #[error("byte 0x{byte:02x} at offset {at} is neither a label length of at most 63 nor a compression pointer")]
    LabelType {
        /// The offending length byte.
        byte: u8,
        /// Where it sits in the packet.
        at: usize,
    },
    /// The name is longer than 255 bytes in wire form.
    #[error("name is longer than 255 bytes in wire form")]
    NameTooLong,
    /// A compression pointer does not point strictly before the labels
    /// that precede it, so following it could loop.
    #[error("compression pointer at offset {at} targets offset {target}, which is not before offset {floor}")]
    BadPointer {
        /// Where the pointer sits.
        at: usize,
        /// Where it points.
        target: usize,
        /// The start of the run of labels the pointer ends; the target
        /// must lie strictly before it.
        floor: usize,
    },
    /// More than [`MAX_POINTERS`] compression pointers in one name.
    #[error("name follows more than 32 compression pointers")]
    TooManyPointers,
}

impl DnsError {
    /// The response code to reply with, or `None` when the packet must
    /// not be answered at all (it is itself a response, and answering
    /// responses lets two servers bounce packets at each other).
    pub fn rcode(&self) -> Option<u8> {
        match self {
            DnsError::NotQuery => None,
            DnsError::Opcode(_) => Some(RCODE_NOTIMP),
            _ => Some(RCODE_FORMERR),
        }
    }
}

/// The single question of a DNS query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Transaction id, echoed in the reply.
    pub id: u16,
    /// The header's flag word as received.
    pub flags: u16,
    /// The queried name: ASCII-lowercased, labels joined by `.`, no
    /// trailing dot, `""` for the root. A byte outside `!`..=`~`, and
    /// `.` or `\` inside a label, is written as `\DDD` (three decimal
    /// digits), so the dotted form is unambiguous.
    pub name: String,
    /// Query type (1 = `A`, 28 = `AAAA`, ...); see [`type_name`].
    pub qtype: u16,
    /// Query class (1 = `IN`).
    pub qclass: u16,
    /// Offset just past QCLASS: the question occupies
    /// `packet[HEADER_LEN..question_end]`.
    question_end: usize,
}

/// The transaction id of a packet, if its first two bytes are present.
///
/// Use it to address a `FORMERR` reply to a packet [`parse_query`]
/// rejected.
pub fn id(packet: &[u8]) -> Option<u16> {
    read_u16(packet, 0)
}

/// Parses a standard query with exactly one question.
///
/// Records after the question (an EDNS `OPT` record in the additional
/// section, for instance) are ignored.
pub fn parse_query(packet: &[u8]) -> Result<Query, DnsError> {
    if packet.len() < HEADER_LEN {
        return Err(DnsError::ShortHeader(packet.len()));
    }
    let id = read_u16(packet, 0).ok_or(DnsError::ShortHeader(packet.len()))?;
    let flags = read_u16(packet, 2).ok_or(DnsError::ShortHeader(packet.len()))?;
    let qdcount = read_u16(packet, 4).ok_or(DnsError::ShortHeader(packet.len()))?;
    if flags & FLAG_QR != 0 {
        return Err(DnsError::NotQuery);
    }
    let opcode = ((flags & OPCODE_MASK) >> 11) as u8;
    if opcode != 0 {
        return Err(DnsError::Opcode(opcode));
    }
    if qdcount != 1 {
        return Err(DnsError::QuestionCount(qdcount));
    }
    let decoded = read_name(packet, HEADER_LEN)?;
    let qtype = read_u16(packet, decoded.end).ok_or(DnsError::Truncated(decoded.end))?;
    let qclass = read_u16(packet, decoded.end + 2).ok_or(DnsError::Truncated(decoded.end + 2))?;
    Ok(Query {
        id,
        flags,
        name: decoded.name,
        qtype,
        qclass,
        question_end: decoded.end + 4,
    })
}

/// The mnemonic of a record type (shared with the trace parser, which
/// reads the same queries from the other side).
pub use crate::dns_type_name as type_name;

/// Builds the authoritative answer to `query`, which was parsed from
/// `packet`.
///
/// The reply echoes the question, copies RD, and sets QR, AA and RA
/// with RCODE 0. When the question is `A` or `ANY` in class `IN` and
/// `a` is given, it carries one `A` record for `a` whose owner name is
/// a compression pointer to the question (`0xC00C`); otherwise it has
/// no answers (NOERROR with no data).
///
/// The question is echoed byte for byte, preserving the sender's
/// letter case (resolvers using 0x20 randomisation check it). If
/// `packet` does not hold an uncompressed question matching `query`,
/// the question is re-encoded from `query.name` instead.
pub fn response(query: &Query, packet: &[u8], a: Option<Ipv4Addr>, ttl: u32) -> Vec<u8> {
    let answer = match a {
        Some(addr)
            if (query.qtype == TYPE_A || query.qtype == TYPE_ANY) && query.qclass == CLASS_IN =>
        {
            Some(addr)
        }
        _ => None,
    };
    let flags = FLAG_QR | FLAG_AA | (query.flags & FLAG_RD) | FLAG_RA;
    let mut out = Vec::with_capacity(HEADER_LEN + MAX_NAME_LEN + 4 + 16);
    out.extend_from_slice(&query.id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&u16::from(answer.is_some()).to_be_bytes()); // ANCOUNT
    out.extend_from_slice(&0u16.to_be_bytes()); // NSCOUNT
    out.extend_from_slice(&0u16.to_be_bytes()); // ARCOUNT
    match raw_question(query, packet) {
        Some(raw) => out.extend_from_slice(raw),
        None => {
            out.extend_from_slice(&encode_name(&query.name));
            out.extend_from_slice(&query.qtype.to_be_bytes());
            out.extend_from_slice(&query.qclass.to_be_bytes());
        }
    }
    if let Some(addr) = answer {
        out.extend_from_slice(&[0xC0, 0x0C]); // pointer to the question name
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&addr.octets());
    }
    out
}

/// Builds a header-only reply with response code `rcode` (only its low
/// four bits are used) to a packet that could not be answered normally.
///
/// Returns `None` when the packet is too short to carry an id, or when
/// its QR bit says it is itself a response, which must never be
/// answered. The opcode and RD bit are copied when the flag word is
/// present.
pub fn error_response(packet: &[u8], rcode: u8) -> Option<Vec<u8>> {
    let id = id(packet)?;
    let received = read_u16(packet, 2).unwrap_or(0);
    if received & FLAG_QR != 0 {
        return None;
    }
    let flags = FLAG_QR | (received & (OPCODE_MASK | FLAG_RD)) | FLAG_RA | u16::from(rcode & 0x0F);
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0; 8]); // all four counts are zero
    Some(out)
}

/// Prefixes `msg` with its length as two big-endian bytes, the framing
/// of DNS over TCP.
///
/// A message longer than 65,535 bytes cannot be framed; it is cut to
/// that length. Replies built by this module are far shorter.
pub fn tcp_frame(msg: &[u8]) -> Vec<u8> {
    let len = msg.len().min(usize::from(u16::MAX));
    let body = msg.get(..len).unwrap_or_default();
    let mut out = Vec::with_capacity(2 + len);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits the first length-prefixed message off a DNS-over-TCP stream.
///
/// Returns the message and the bytes after it, or `None` while the
/// length prefix or the message is still incomplete.
pub fn split_tcp_frame(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = usize::from(read_u16(buf, 0)?);
    let msg = buf.get(2..2 + len)?;
    let rest = buf.get(2 + len..).unwrap_or_default();
    Some((msg, rest))
}

/// The first question of a query, read leniently, for a query seen in
/// the trace (which the resolver may never have received): (name in
/// presentation form, type). `None` for a response or anything that does
/// not hold a whole first question.
pub fn first_question(packet: &[u8]) -> Option<(String, u16)> {
    let flags = read_u16(packet, 2)?;
    let qdcount = read_u16(packet, 4)?;
    if flags & FLAG_QR != 0 || qdcount == 0 {
        return None;
    }
    let decoded = read_name(packet, HEADER_LEN).ok()?;
    let qtype = read_u16(packet, decoded.end)?;
    Some((decoded.name, qtype))
}

/// A name decoded from the wire.
#[derive(Debug, PartialEq, Eq)]
struct DecodedName {
    /// Presentation form; see [`Query::name`].
    name: String,
    /// Offset just past the name where it started (after its first
    /// pointer, if it has one).
    end: usize,
    /// Whether any compression pointer was followed.
    compressed: bool,
}

/// Decodes the possibly compressed name starting at `start`.
fn read_name(packet: &[u8], start: usize) -> Result<DecodedName, DnsError> {
    let mut name = String::new();
    let mut pos = start;
    // Pointers must target strictly below the start of the current run
    // of labels, so every jump moves backwards.
    let mut floor = start;
    let mut end = None;
    let mut wire_len = 1; // the final root byte
    let mut pointers = 0;
    let mut labels = 0;
    // Each pass either consumes a label, adding at least 2 to
    // `wire_len` (capped at 255), follows a pointer (capped at
    // MAX_POINTERS), or ends the name; the bound below is a backstop.
    for _ in 0..=(MAX_NAME_LEN + MAX_POINTERS) {
        let len = *packet.get(pos).ok_or(DnsError::Truncated(pos))?;
        match len & 0xC0 {
            0x00 if len == 0 => {
                return Ok(DecodedName {
                    name,
                    end: end.unwrap_or(pos + 1),
                    compressed: pointers > 0,
                });
            }
            0x00 => {
                let len = usize::from(len);
                wire_len += 1 + len;
                if wire_len > MAX_NAME_LEN {
                    return Err(DnsError::NameTooLong);
                }
                let label = packet
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(DnsError::Truncated(packet.len()))?;
                if labels > 0 {
                    name.push('.');
                }
                labels += 1;
                push_label(&mut name, label);
                pos += 1 + len;
            }
            0xC0 => {
                let low = *packet.get(pos + 1).ok_or(DnsError::Truncated(pos + 1))?;
                let target = (usize::from(len & 0x3F) << 8) | usize::from(low);
                if target >= floor {
                    return Err(DnsError::BadPointer {
                        at: pos,
                        target,
                        floor,
                    });
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(DnsError::TooManyPointers);
                }
                end.get_or_insert(pos + 2);
                floor = target;
                pos = target;
            }
            _ => return Err(DnsError::LabelType { byte: len, at: pos }),
        }
    }
    Err(DnsError::NameTooLong)
}

/// Appends one label in presentation form: ASCII-lowercased, with
/// bytes outside `!`..=`~` and the characters `.` and `\` escaped as
/// `\DDD`.
fn push_label(name: &mut String, label: &[u8]) {
    for &byte in label {
        match byte {
            b'.' | b'\\' => push_escaped(name, byte),
            0x21..=0x7E => name.push(char::from(byte.to_ascii_lowercase())),
            _ => push_escaped(name, byte),
        }
    }
}

fn push_escaped(name: &mut String, byte: u8) {
    name.push('\\');
    name.push(char::from(b'0' + byte / 100));
    name.push(char::from(b'0' + byte / 10 % 10));
    name.push(char::from(b'0' + byte % 10));
}

/// The question bytes of `packet` if they are an uncompressed name that
/// decodes to `query.name`, followed by QTYPE and QCLASS, ending at
/// `query.question_end`.
fn raw_question<'p>(query: &Query, packet: &'p [u8]) -> Option<&'p [u8]> {
    let decoded = read_name(packet, HEADER_LEN).ok()?;
    let matches = !decoded.compressed
        && decoded.name == query.name
        && decoded.end + 4 == query.question_end
        && read_u16(packet, decoded.end) == Some(query.qtype)
        && read_u16(packet, decoded.end + 2) == Some(query.qclass);
    if matches {
        packet.get(HEADER_LEN..query.question_end)
    } else {
        None
    }
}

/// Encodes a name in presentation form (see [`Query::name`]) as
/// uncompressed wire labels. A name that cannot be encoded (an empty or
/// over-long label, or over 255 bytes in all) becomes the root name.
fn encode_name(name: &str) -> Vec<u8> {
    const ROOT: [u8; 1] = [0];
    if name.is_empty() {
        return ROOT.to_vec();
    }
    let mut out = Vec::with_capacity(MAX_NAME_LEN);
    for label in name.split('.') {
        let Some(bytes) = unescape_label(label) else {
            return ROOT.to_vec();
        };
        if bytes.is_empty() || bytes.len() > 63 || out.len() + 1 + bytes.len() + 1 > MAX_NAME_LEN {
            return ROOT.to_vec();
        }
        out.push(bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.push(0);
    out
}

/// Reverses [`push_label`]'s escaping; `None` on a malformed escape or
/// a label that is certainly too long.
fn unescape_label(label: &str) -> Option<Vec<u8>> {
    let raw = label.as_bytes();
    if raw.len() > 63 * 4 {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len().min(63));
    let mut i = 0;
    while let Some(&byte) = raw.get(i) {
        if byte == b'\\' {
            let digits = raw.get(i + 1..i + 4)?;
            let mut value: u16 = 0;
            for &d in digits {
                if !d.is_ascii_digit() {
                    return None;
                }
                value = value * 10 + u16::from(d - b'0');
            }
            out.push(u8::try_from(value).ok()?);
            i += 4;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    Some(out)
}

fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query header with RD set and one question, then the question.
    fn query_packet(id: u16, labels: &[&[u8]], qtype: u16, qclass: u16) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&[0x01, 0x00]); // RD
        p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        for label in labels {
            p.push(label.len() as u8);
            p.extend_from_slice(label);
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&qclass.to_be_bytes());
        p
    }

    fn example_query(qtype: u16) -> Vec<u8> {
        query_packet(0xBEEF, &[b"Example", b"COM"], qtype, CLASS_IN)
    }

    use paddock_testkit::rng::XorShift;

    #[test]
    fn a_query_round_trips_into_one_answer() {
        let packet = example_query(TYPE_A);
        let query = parse_query(&packet).unwrap();
        assert_eq!(query.id, 0xBEEF);
        assert_eq!(query.name, "example.com");
        assert_eq!(query.qtype, TYPE_A);
        assert_eq!(query.qclass, CLASS_IN);
        assert_eq!(query.question_end, packet.len());

        let reply = response(&query, &packet, Some(Ipv4Addr::new(192, 0, 2, 7)), 60);
        // id, flags QR|AA|RD|RA, one question, one answer
        assert_eq!(
            &reply[..12],
            &[0xBE, 0xEF, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        );
        // the question is echoed byte for byte, letter case included
        assert_eq!(&reply[12..packet.len()], &packet[12..]);
        let answer = &reply[packet.len()..];
        assert_eq!(
            answer,
            &[
                0xC0, 0x0C, // name: pointer to the question
                0, 1, // type A
                0, 1, // class IN
                0, 0, 0, 60, // ttl
                0, 4, // rdlength
                192, 0, 2, 7,
            ]
        );
        let owner = read_name(&reply, packet.len()).unwrap();
        assert_eq!(owner.name, "example.com");
        assert!(owner.compressed);
        assert_eq!(owner.end, packet.len() + 2);
        assert_eq!(parse_query(&reply), Err(DnsError::NotQuery));
    }

    #[test]
    fn any_query_gets_an_answer() {
        let packet = example_query(TYPE_ANY);
        let query = parse_query(&packet).unwrap();
        let reply = response(&query, &packet, Some(Ipv4Addr::LOCALHOST), 1);
        assert_eq!(&reply[6..8], &[0, 1]);
        assert_eq!(reply.len(), packet.len() + 16);
    }

    #[test]
    fn aaaa_query_gets_no_answer() {
        let packet = example_query(28);
        let query = parse_query(&packet).unwrap();
        let reply = response(&query, &packet, Some(Ipv4Addr::new(192, 0, 2, 7)), 60);
        assert_eq!(&reply[2..12], &[0x85, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(reply.len(), packet.len());
        assert_eq!(&reply[12..], &packet[12..]);
    }

    #[test]
    fn no_answer_without_address_or_outside_class_in() {
        let packet = example_query(TYPE_A);
        let query = parse_query(&packet).unwrap();
        let reply = response(&query, &packet, None, 60);
        assert_eq!(&reply[6..8], &[0, 0]);
        assert_eq!(reply.len(), packet.len());

        let chaos = query_packet(7, &[b"version", b"bind"], 16, 3);
        let query = parse_query(&chaos).unwrap();
        let reply = response(&query, &chaos, Some(Ipv4Addr::LOCALHOST), 60);
        assert_eq!(&reply[6..8], &[0, 0]);
    }

    #[test]
    fn rd_is_copied_only_when_set() {
        let mut packet = example_query(TYPE_A);
        packet[2] = 0;
        let query = parse_query(&packet).unwrap();
        let reply = response(&query, &packet, None, 0);
        assert_eq!(&reply[2..4], &[0x84, 0x80]);
    }

    #[test]
    fn root_query_parses_and_answers() {
        let packet = query_packet(1, &[], 2, CLASS_IN);
        let query = parse_query(&packet).unwrap();
        assert_eq!(query.name, "");
        assert_eq!(type_name(query.qtype), "NS");
        let reply = response(&query, &packet, None, 0);
        assert_eq!(&reply[12..], &packet[12..]);
    }

    #[test]
    fn question_is_reencoded_when_packet_does_not_match() {
        let packet = query_packet(1, &[b"a\x00b", b"C"], TYPE_A, CLASS_IN);
        let query = parse_query(&packet).unwrap();
        assert_eq!(query.name, "a\\000b.c");
        let reply = response(&query, b"unrelated", Some(Ipv4Addr::LOCALHOST), 5);
        let reparsed = read_name(&reply, HEADER_LEN).unwrap();
        assert_eq!(reparsed.name, query.name);
        assert_eq!(read_u16(&reply, reparsed.end), Some(TYPE_A));
        assert_eq!(read_u16(&reply, reparsed.end + 2), Some(CLASS_IN));
        assert_eq!(&reply[reparsed.end + 4..reparsed.end + 6], &[0xC0, 0x0C]);
    }

    #[test]
    fn unusual_label_bytes_are_escaped() {
        let packet = query_packet(1, &[b"a.b", b"\\", b" \x7f\xff~!"], TYPE_A, CLASS_IN);
        let query = parse_query(&packet).unwrap();
        assert_eq!(query.name, "a\\046b.\\092.\\032\\127\\255~!");
        assert_eq!(
            encode_name(&query.name),
            packet[12..packet.len() - 4].to_vec()
        );
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_rejected() {
        let mut self_loop = query_packet(1, &[], TYPE_A, CLASS_IN);
        self_loop.splice(12..13, [0xC0, 0x0C]);
        assert!(matches!(
            parse_query(&self_loop),
            Err(DnsError::BadPointer { target: 12, .. })
        ));

        let mut forward = query_packet(1, &[], TYPE_A, CLASS_IN);
        forward.splice(12..13, [0xC0, 0x20]);
        assert!(matches!(
            parse_query(&forward),
            Err(DnsError::BadPointer { .. })
        ));

        // Offset 20 holds label "x" and then a pointer to 21: backwards
        // from where the pointer sits, but not before the run of labels
        // it ends, so following it would loop.
        let mut ping_pong = vec![0u8; 40];
        ping_pong[20] = 1;
        ping_pong[21] = b'x';
        ping_pong[22] = 0xC0;
        ping_pong[23] = 21;
        ping_pong[30] = 0xC0;
        ping_pong[31] = 20;
        assert!(matches!(
            read_name(&ping_pong, 30),
            Err(DnsError::BadPointer {
                at: 22,
                target: 21,
                floor: 20
            })
        ));
    }

    #[test]
    fn backward_pointers_are_followed() {
        let mut packet = query_packet(1, &[b"a", b"b"], TYPE_A, CLASS_IN);
        let second = packet.len();
        packet.extend_from_slice(&[1, b'C', 0xC0, 12]);
        let third = packet.len();
        packet.extend_from_slice(&[1, b'd', 0xC0, second as u8]);
        let decoded = read_name(&packet, third).unwrap();
        assert_eq!(decoded.name, "d.c.a.b");
        assert_eq!(decoded.end, third + 4);
        assert!(decoded.compressed);
    }

    #[test]
    fn pointer_into_the_header_is_bounded() {
        // A pointer to offset 11, the low byte of ARCOUNT (zero): the
        // root name. Odd but well-formed.
        let mut packet = query_packet(1, &[], TYPE_A, CLASS_IN);
        packet.splice(12..13, [0xC0, 11]);
        let query = parse_query(&packet).unwrap();
        assert_eq!(query.name, "");
        // The echoed question must not carry a pointer into our header.
        let reply = response(&query, &packet, None, 0);
        assert_eq!(&reply[12..], &[0, 0, 1, 0, 1]);
    }

    #[test]
    fn too_many_pointers_are_rejected() {
        // A chain of 40 pointers, each pointing to the one before it.
        let mut packet = vec![0u8; 200];
        for i in 0..40 {
            let at = 100 + 2 * i;
            packet[at] = 0xC0;
            packet[at + 1] = (at - 2) as u8;
        }
        packet[98] = 0;
        assert_eq!(
            read_name(&packet, 100 + 2 * 39),
            Err(DnsError::TooManyPointers)
        );
        assert!(read_name(&packet, 100 + 2 * 20).is_ok());
    }

    #[test]
    fn long_names_are_rejected_and_the_limit_is_exact() {
        let long = [b'a'; 63];
        let longest = query_packet(1, &[&long, &long, &long, &long[..61]], TYPE_A, CLASS_IN);
        let query = parse_query(&longest).unwrap();
        assert_eq!(query.name.len(), 63 * 3 + 61 + 3);

        let too_long = query_packet(1, &[&long, &long, &long, &long[..62]], TYPE_A, CLASS_IN);
        assert_eq!(parse_query(&too_long), Err(DnsError::NameTooLong));

        let five = query_packet(1, &[&long, &long, &long, &long, &long], TYPE_A, CLASS_IN);
        assert_eq!(parse_query(&five), Err(DnsError::NameTooLong));
    }

    #[test]
    fn reserved_label_types_are_rejected() {
        for byte in [0x40, 0x7F, 0x80, 0xBF] {
            let mut packet = query_packet(1, &[], TYPE_A, CLASS_IN);
            packet[12] = byte;
            assert_eq!(
                parse_query(&packet),
                Err(DnsError::LabelType { byte, at: 12 })
            );
        }
    }

    #[test]
    fn header_checks() {
        let mut response_bit = example_query(TYPE_A);
        response_bit[2] |= 0x80;
        let err = parse_query(&response_bit).unwrap_err();
        assert_eq!(err, DnsError::NotQuery);
        assert_eq!(err.rcode(), None);
        assert_eq!(error_response(&response_bit, RCODE_FORMERR), None);

        let mut status = example_query(TYPE_A);
        status[2] |= 2 << 3;
        let err = parse_query(&status).unwrap_err();
        assert_eq!(err, DnsError::Opcode(2));
        assert_eq!(err.rcode(), Some(RCODE_NOTIMP));
        let reply = error_response(&status, RCODE_NOTIMP).unwrap();
        assert_eq!(reply, [0xBE, 0xEF, 0x91, 0x84, 0, 0, 0, 0, 0, 0, 0, 0]);

        for count in [0u16, 2] {
            let mut packet = example_query(TYPE_A);
            packet[4..6].copy_from_slice(&count.to_be_bytes());
            assert_eq!(parse_query(&packet), Err(DnsError::QuestionCount(count)));
        }
    }

    #[test]
    fn error_response_needs_only_the_id() {
        assert_eq!(error_response(&[], RCODE_FORMERR), None);
        assert_eq!(error_response(&[0x12], RCODE_FORMERR), None);
        assert_eq!(id(&[0x12, 0x34]), Some(0x1234));
        assert_eq!(
            error_response(&[0x12, 0x34], RCODE_FORMERR).unwrap(),
            [0x12, 0x34, 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let garbage = [0x12, 0x34, 0x01, 0x00, 0xFF];
        assert_eq!(
            error_response(&garbage, RCODE_FORMERR).unwrap(),
            [0x12, 0x34, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let err = parse_query(&garbage).unwrap_err();
        assert_eq!(err, DnsError::ShortHeader(5));
        assert_eq!(err.rcode(), Some(RCODE_FORMERR));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let packet = example_query(TYPE_A);
        for len in 0..packet.len() {
            let prefix = &packet[..len];
            assert!(parse_query(prefix).is_err(), "prefix of {len} bytes parsed");
            assert_eq!(error_response(prefix, RCODE_FORMERR).is_some(), len >= 2);
        }
        assert!(parse_query(&packet).is_ok());
    }

    #[test]
    fn random_and_mutated_packets_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let valid = example_query(TYPE_A);
        let mut parsed = 0;
        for round in 0..12_000 {
            let packet = match round % 3 {
                0 => rng.bytes(80),
                1 => {
                    // A plausible query header over random question bytes.
                    let mut p = vec![0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
                    p.extend(rng.bytes(80));
                    p
                }
                _ => {
                    let mut p = valid.clone();
                    for _ in 0..(rng.next_u64() % 4 + 1) {
                        let at = (rng.next_u64() as usize) % p.len();
                        p[at] = rng.next_u64() as u8;
                    }
                    p
                }
            };
            let _ = id(&packet);
            let _ = error_response(&packet, RCODE_FORMERR);
            let _ = split_tcp_frame(&packet);
            if let Ok(query) = parse_query(&packet) {
                parsed += 1;
                let reply = response(&query, &packet, Some(Ipv4Addr::LOCALHOST), 30);
                let echoed = read_name(&reply, HEADER_LEN).unwrap();
                assert_eq!(echoed.name, query.name);
                assert!(!echoed.compressed);
            }
        }
        assert!(parsed > 100, "only {parsed} inputs parsed");
    }

    #[test]
    fn tcp_framing_round_trips() {
        let framed = tcp_frame(b"hello");
        assert_eq!(framed, b"\x00\x05hello");
        let mut stream = framed.clone();
        stream.extend_from_slice(b"\x00\x01");
        let (msg, rest) = split_tcp_frame(&stream).unwrap();
        assert_eq!(msg, b"hello");
        assert_eq!(rest, b"\x00\x01");
        assert_eq!(split_tcp_frame(rest), None);
        assert_eq!(split_tcp_frame(&[0]), None);
        assert_eq!(split_tcp_frame(&[]), None);
        assert_eq!(split_tcp_frame(&[0, 0]), Some((&[][..], &[][..])));

        let huge = vec![7u8; 70_000];
        let framed = tcp_frame(&huge);
        assert_eq!(framed.len(), 2 + 65_535);
        assert_eq!(&framed[..2], &[0xFF, 0xFF]);
    }

    #[test]
    fn type_names() {
        let known = [
            (1, "A"),
            (28, "AAAA"),
            (5, "CNAME"),
            (15, "MX"),
            (16, "TXT"),
            (2, "NS"),
            (12, "PTR"),
            (6, "SOA"),
            (33, "SRV"),
            (255, "ANY"),
            (65, "HTTPS"),
            (64, "SVCB"),
            (257, "CAA"),
        ];
        for (code, name) in known {
            assert_eq!(type_name(code), name);
        }
        assert_eq!(type_name(99), "TYPE99");
        assert_eq!(type_name(65_535), "TYPE65535");
    }
}
