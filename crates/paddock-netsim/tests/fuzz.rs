//! A bounded fuzz run in every test run: random mutations (byte flips to
//! special bytes, cuts, splices, duplications, corrupted length fields) of
//! valid DNS queries, TLS ClientHellos, HTTP request heads and haystacks
//! carrying a bait secret must be parsed, rejected or scanned, never
//! panic, and what does parse must be consistent. Deterministic (seeded),
//! so a failure reproduces.

use std::net::Ipv4Addr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use paddock_netsim::exfil::{Detector, Encoding, Match, Secret};
use paddock_netsim::sniff::{self, ClientHello, HttpHead, Sniffed};
use paddock_netsim::{dns, NAME_POOL};
use paddock_testkit::rng::XorShift;

const CASES: usize = 20_000;

/// A length field of a valid input, for the length-corrupting mutation.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// A big-endian binary field of `width` bytes at `at`.
    Bin { at: usize, width: usize },
    /// A decimal or hexadecimal number written out as text.
    Text { at: usize, len: usize },
}

/// Replacements for a textual length (Content-Length, chunk sizes).
const TEXT_LENGTHS: &[&str] = &[
    "0",
    "1",
    "-1",
    "+5",
    "",
    " ",
    "5, 6",
    "0x5",
    "ffffffffffffffff",
    "10000000000000000",
    "99999999999999999999",
    "18446744073709551615",
    "18446744073709551616",
    "1;ext=1",
    "g",
    "\r\n",
    "4096",
];

/// Applies one to six random mutations to `base`. `corpus` feeds splices,
/// `specials` the byte flips, `fields` the length corruption.
fn mutate(
    rng: &mut XorShift,
    base: &[u8],
    corpus: &[Vec<u8>],
    specials: &[u8],
    fields: &[Field],
) -> Vec<u8> {
    const MAX_LEN: usize = 80 * 1024;
    let mut bytes = base.to_vec();
    for _ in 0..=rng.below(6) {
        match rng.below(8) {
            // A byte flipped to a special byte.
            0 | 1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = *rng.pick(specials);
            }
            // A byte flipped to anything.
            2 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next_u64() as u8;
            }
            // Cut: the tail, or a range in the middle.
            3 if !bytes.is_empty() => {
                let from = rng.below(bytes.len());
                if rng.below(2) == 0 {
                    bytes.truncate(from);
                } else {
                    let to = (from + 1 + rng.below(32)).min(bytes.len());
                    bytes.drain(from..to);
                }
            }
            // Splice: a piece of another input inserted or written over.
            4 => {
                let other = rng.pick(corpus);
                if other.is_empty() {
                    continue;
                }
                let from = rng.below(other.len());
                let to = (from + 1 + rng.below(64)).min(other.len());
                let at = rng.below(bytes.len() + 1);
                if rng.below(2) == 0 {
                    bytes.splice(at..at, other[from..to].iter().copied());
                } else {
                    let end = (at + (to - from)).min(bytes.len());
                    bytes.splice(at..end, other[from..to].iter().copied());
                }
            }
            // Duplication of a range, a few times (rarely very many).
            5 if !bytes.is_empty() => {
                let from = rng.below(bytes.len());
                let to = (from + 1 + rng.below(48)).min(bytes.len());
                let times = if rng.below(400) == 0 {
                    1 + rng.below(3000)
                } else {
                    1 + rng.below(4)
                };
                let piece = bytes[from..to].to_vec();
                let at = rng.below(bytes.len() + 1);
                let extra: Vec<u8> = piece
                    .iter()
                    .copied()
                    .cycle()
                    .take(piece.len() * times)
                    .collect();
                bytes.splice(at..at, extra);
            }
            // Length-field corruption.
            _ if !fields.is_empty() => match *rng.pick(fields) {
                Field::Bin { at, width } => {
                    let max = (1u64 << (8 * width)) - 1;
                    let old = bytes
                        .get(at..at + width)
                        .map(|b| b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x)))
                        .unwrap_or(0);
                    let new = match rng.below(8) {
                        0 => 0,
                        1 => max,
                        2 => old.wrapping_add(1) & max,
                        3 => old.wrapping_sub(1) & max,
                        4 => old.wrapping_mul(2) & max,
                        5 => 1 << (8 * width - 1),
                        6 => old.wrapping_add(1 + rng.below(300) as u64) & max,
                        _ => rng.next_u64() & max,
                    };
                    for k in 0..width {
                        if let Some(b) = bytes.get_mut(at + k) {
                            *b = (new >> (8 * (width - 1 - k))) as u8;
                        }
                    }
                }
                Field::Text { at, len } => {
                    let at = at.min(bytes.len());
                    let end = (at + len).min(bytes.len());
                    let replacement = rng.pick(TEXT_LENGTHS).as_bytes();
                    bytes.splice(at..end, replacement.iter().copied());
                }
            },
            _ => {}
        }
        bytes.truncate(MAX_LEN);
    }
    bytes
}

/// Builds binary structures with length prefixes, remembering where each
/// length field sits.
#[derive(Default)]
struct Builder {
    out: Vec<u8>,
    fields: Vec<Field>,
}

impl Builder {
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.out.extend_from_slice(b);
        self
    }

    fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// A length field of `width` bytes covering what `f` writes.
    fn prefixed(&mut self, width: usize, f: impl FnOnce(&mut Self)) -> &mut Self {
        let at = self.out.len();
        self.out.extend(std::iter::repeat_n(0, width));
        self.fields.push(Field::Bin { at, width });
        f(self);
        let len = self.out.len() - at - width;
        for k in 0..width {
            self.out[at + k] = (len >> (8 * (width - 1 - k))) as u8;
        }
        self
    }
}

// ---------------------------------------------------------------- DNS

/// A standard query with RD set, one question and (with `edns`) an OPT
/// record in the additional section.
fn dns_query(id: u16, name: &str, qtype: u16, edns: bool) -> (Vec<u8>, Vec<Field>) {
    let mut b = Builder::default();
    b.u16(id)
        .u16(0x0100)
        .u16(1)
        .u16(0)
        .u16(0)
        .u16(u16::from(edns));
    for w in [4, 6, 8, 10] {
        b.fields.push(Field::Bin { at: w, width: 2 });
    }
    for label in name.split('.').filter(|l| !l.is_empty()) {
        b.prefixed(1, |b| {
            b.bytes(label.as_bytes());
        });
    }
    b.bytes(&[0]).u16(qtype).u16(dns::CLASS_IN);
    if edns {
        // Root owner, type OPT, 4096-byte payload, no flags, no data.
        b.bytes(&[0])
            .u16(41)
            .u16(4096)
            .bytes(&[0, 0, 0, 0])
            .prefixed(2, |_| {});
    }
    (b.out, b.fields)
}

/// A DNS message as a resolver would read it.
#[derive(Debug)]
struct Message {
    id: u16,
    flags: u16,
    questions: Vec<(String, u16, u16)>,
    answers: Vec<(String, u16, u16, u32, Vec<u8>)>,
}

fn u16_at(buf: &[u8], at: usize) -> Result<u16, String> {
    buf.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| format!("no u16 at {at}"))
}

/// Decodes a possibly compressed name into the presentation form of
/// `dns::Query::name`; returns it and the offset after it.
fn read_name(buf: &[u8], start: usize) -> Result<(String, usize), String> {
    let mut name = String::new();
    let mut pos = start;
    let mut end = None;
    let mut jumps = 0;
    let mut wire = 1;
    loop {
        let len = *buf.get(pos).ok_or("name runs past the end")?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok((name, end.unwrap_or(pos + 1))),
            0x00 => {
                let label = buf
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or("label runs past the end")?;
                wire += 1 + label.len();
                if wire > 255 {
                    return Err("name too long".into());
                }
                if !name.is_empty() {
                    name.push('.');
                }
                for &c in label {
                    match c {
                        b'.' | b'\\' => name.push_str(&format!("\\{c:03}")),
                        0x21..=0x7e => name.push(char::from(c.to_ascii_lowercase())),
                        _ => name.push_str(&format!("\\{c:03}")),
                    }
                }
                pos += 1 + label.len();
            }
            0xc0 => {
                let low = *buf.get(pos + 1).ok_or("pointer cut")?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if target >= pos {
                    return Err(format!("forward pointer at {pos}"));
                }
                jumps += 1;
                if jumps > 64 {
                    return Err("pointer loop".into());
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(format!("bad label type {len:#x}")),
        }
    }
}

/// Parses a complete DNS message; every byte must belong to it.
fn parse_message(buf: &[u8]) -> Result<Message, String> {
    let id = u16_at(buf, 0)?;
    let flags = u16_at(buf, 2)?;
    let counts: Vec<u16> = (0..4)
        .map(|i| u16_at(buf, 4 + 2 * i))
        .collect::<Result<_, _>>()?;
    let mut pos = 12;
    let mut questions = Vec::new();
    for _ in 0..counts[0] {
        let (name, end) = read_name(buf, pos)?;
        questions.push((name, u16_at(buf, end)?, u16_at(buf, end + 2)?));
        pos = end + 4;
    }
    let mut answers = Vec::new();
    for _ in 0..u32::from(counts[1]) + u32::from(counts[2]) + u32::from(counts[3]) {
        let (name, end) = read_name(buf, pos)?;
        let rtype = u16_at(buf, end)?;
        let class = u16_at(buf, end + 2)?;
        let ttl = u32::from(u16_at(buf, end + 4)?) << 16 | u32::from(u16_at(buf, end + 6)?);
        let len = usize::from(u16_at(buf, end + 8)?);
        let data = buf
            .get(end + 10..end + 10 + len)
            .ok_or("rdata runs past the end")?
            .to_vec();
        answers.push((name, rtype, class, ttl, data));
        pos = end + 10 + len;
    }
    if pos != buf.len() {
        return Err(format!("{} bytes after the message", buf.len() - pos));
    }
    Ok(Message {
        id,
        flags,
        questions,
        answers,
    })
}

#[test]
fn mutated_dns_queries_never_panic_and_answers_are_well_formed() {
    let (a, a_fields) = dns_query(0xbeef, "Collect.Evil.example", dns::TYPE_A, true);
    let (aaaa, aaaa_fields) = dns_query(0x1234, "cdn.evil.example", 28, false);
    let (any, any_fields) = dns_query(7, "x.y", dns::TYPE_ANY, false);
    // A question that is a pointer into the header (the root), then junk.
    let mut pointer = aaaa[..12].to_vec();
    pointer.extend_from_slice(&[0xc0, 11, 0, 1, 0, 1]);
    let corpus = vec![a.clone(), aaaa.clone(), any.clone(), pointer.clone()];
    let bases: Vec<(&[u8], &[Field])> = vec![
        (&a, &a_fields),
        (&aaaa, &aaaa_fields),
        (&any, &any_fields),
        (&pointer, &[]),
    ];

    // The unmutated queries parse to what was built.
    let q = dns::parse_query(&a).unwrap();
    assert_eq!(
        (q.id, q.name.as_str(), q.qtype, q.qclass),
        (0xbeef, "collect.evil.example", dns::TYPE_A, dns::CLASS_IN)
    );
    let addr = Ipv4Addr::new(10, 232, 0, 9);
    let reply = parse_message(&dns::response(&q, &a, Some(addr), 60)).unwrap();
    assert_eq!(reply.id, 0xbeef);
    assert_eq!(reply.flags & 0x8000, 0x8000);
    assert_eq!(
        reply.questions,
        vec![(String::from("collect.evil.example"), 1, 1)]
    );
    assert_eq!(
        reply.answers,
        vec![(
            String::from("collect.evil.example"),
            1,
            1,
            60,
            addr.octets().to_vec()
        )]
    );
    let q = dns::parse_query(&aaaa).unwrap();
    assert_eq!((q.name.as_str(), q.qtype), ("cdn.evil.example", 28));
    let reply = parse_message(&dns::response(&q, &aaaa, Some(addr), 60)).unwrap();
    assert!(reply.answers.is_empty());
    assert_eq!(dns::parse_query(&pointer).unwrap().name, "");

    let specials = [
        0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0, 0xc0, 0x0c, 0xff, b'.', b'\\', 0x20,
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut answered) = (0, 0);
    for case in 0..CASES {
        let (base, fields) = bases[case % bases.len()];
        let packet = mutate(&mut rng, base, &corpus, &specials, fields);
        let error = dns::error_response(&packet, dns::RCODE_FORMERR);
        if let Some(e) = &error {
            assert_eq!(e.len(), dns::HEADER_LEN);
            assert_eq!(dns::id(e), dns::id(&packet));
            assert_eq!(e[2] & 0x80, 0x80, "QR set in an error reply");
            assert_eq!(e[3] & 0x0f, dns::RCODE_FORMERR);
            assert_eq!(&e[4..], &[0; 8]);
        }
        let _ = dns::split_tcp_frame(&packet);
        let Ok(q) = dns::parse_query(&packet) else {
            continue;
        };
        parsed += 1;
        assert_eq!(Some(q.id), dns::id(&packet));
        assert!(error.is_some(), "a query has an id and is not a response");
        for a in [
            Some(Ipv4Addr::from(u32::from(NAME_POOL) + case as u32)),
            None,
        ] {
            let bytes = dns::response(&q, &packet, a, 30);
            let reply = parse_message(&bytes).unwrap_or_else(|e| {
                panic!("reply to {packet:02x?} does not parse ({e}): {bytes:02x?}")
            });
            assert_eq!(reply.id, q.id);
            assert_eq!(reply.flags & 0x8000, 0x8000);
            assert_eq!(reply.flags & 0x000f, 0, "NOERROR");
            assert_eq!(
                reply.questions,
                vec![(q.name.clone(), q.qtype, q.qclass)],
                "question of the reply to {packet:02x?}"
            );
            let expect_answer = a.is_some()
                && matches!(q.qtype, dns::TYPE_A | dns::TYPE_ANY)
                && q.qclass == dns::CLASS_IN;
            if expect_answer {
                answered += 1;
                let a = a.unwrap();
                assert_eq!(
                    reply.answers,
                    vec![(q.name.clone(), 1, 1, 30, a.octets().to_vec())]
                );
            } else {
                assert!(reply.answers.is_empty());
            }
            // A reply is never taken for a query, nor answered.
            assert_eq!(dns::parse_query(&bytes), Err(dns::DnsError::NotQuery));
            assert_eq!(dns::error_response(&bytes, dns::RCODE_FORMERR), None);
            // Framed for TCP and back.
            let framed = dns::tcp_frame(&bytes);
            assert_eq!(dns::split_tcp_frame(&framed), Some((&bytes[..], &[][..])));
        }
    }
    assert!(parsed > CASES / 20, "only {parsed} mutated queries parsed");
    assert!(answered > 100, "only {answered} mutated queries answered");
}

// ---------------------------------------------------------------- TLS

/// A ClientHello handshake message (type, length, body) with SNI, ALPN,
/// supported_versions and supported_groups.
fn hello_handshake(sni: &str, alpn: &[&str]) -> (Vec<u8>, Vec<Field>) {
    let mut b = Builder::default();
    b.bytes(&[1]).prefixed(3, |b| {
        b.u16(0x0303);
        b.bytes(&(0..32).collect::<Vec<u8>>());
        b.prefixed(1, |b| {
            b.bytes(&[0xe5; 32]);
        });
        b.prefixed(2, |b| {
            b.u16(0x1301).u16(0x1302).u16(0x1303);
        });
        b.prefixed(1, |b| {
            b.bytes(&[0]);
        });
        b.prefixed(2, |b| {
            b.u16(0).prefixed(2, |b| {
                b.prefixed(2, |b| {
                    b.bytes(&[0]).prefixed(2, |b| {
                        b.bytes(sni.as_bytes());
                    });
                });
            });
            b.u16(16).prefixed(2, |b| {
                b.prefixed(2, |b| {
                    for p in alpn {
                        b.prefixed(1, |b| {
                            b.bytes(p.as_bytes());
                        });
                    }
                });
            });
            b.u16(43).prefixed(2, |b| {
                b.prefixed(1, |b| {
                    b.u16(0x0304);
                });
            });
            b.u16(10).prefixed(2, |b| {
                b.prefixed(2, |b| {
                    b.u16(0x001d);
                });
            });
        });
    });
    (b.out, b.fields)
}

/// `handshake` in handshake records, split at `cuts`; the fields move
/// with the bytes, and each record's length is one more.
fn tls_records(handshake: &[u8], fields: &[Field], cuts: &[usize]) -> (Vec<u8>, Vec<Field>) {
    let mut out = Vec::new();
    let mut out_fields = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain([handshake.len()].iter()) {
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out_fields.push(Field::Bin {
            at: out.len(),
            width: 2,
        });
        out.extend_from_slice(&((end - start) as u16).to_be_bytes());
        let shift = out.len() - start;
        for f in fields {
            if let Field::Bin { at, width } = *f {
                if at >= start && at < end {
                    out_fields.push(Field::Bin {
                        at: at + shift,
                        width,
                    });
                }
            }
        }
        out.extend_from_slice(&handshake[start..end]);
        start = end;
    }
    (out, out_fields)
}

fn check_tls_consistency(buf: &[u8]) {
    let parsed = sniff::parse_client_hello(buf);
    let sniffed = sniff::sniff(buf);
    let _ = sniff::parse_http_head(buf);
    let _ = sniff::looks_like_http_method(buf);
    if let Ok(Some(hello)) = &parsed {
        assert!(buf.starts_with(&[0x16, 0x03]), "{buf:02x?}");
        if let Some(sni) = &hello.sni {
            assert!(!sni.is_empty());
            assert_eq!(*sni, sni.to_ascii_lowercase());
        }
        assert!(hello.alpn.iter().all(|p| !p.is_empty()));
    }
    if let Sniffed::Tls(hello) = &sniffed {
        assert_eq!(parsed, Ok(Some(hello.clone())));
    }
    if buf.starts_with(&[0x16, 0x03]) {
        let expected = match parsed {
            Ok(Some(hello)) => Sniffed::Tls(hello),
            Ok(None) => Sniffed::NeedMore,
            Err(_) => Sniffed::Unknown,
        };
        assert_eq!(sniffed, expected, "{buf:02x?}");
    }
}

#[test]
fn mutated_client_hellos_never_panic() {
    let (handshake, fields) = hello_handshake("TLS.Evil.Example", &["h2", "http/1.1"]);
    let (one, one_fields) = tls_records(&handshake, &fields, &[]);
    let (two, two_fields) = tls_records(&handshake, &fields, &[3, 60]);
    let (short, short_fields) = hello_handshake("a", &["x"]);
    let (short, short_fields) = tls_records(&short, &short_fields, &[]);
    let mut trailing = one.clone();
    trailing.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    let expected = ClientHello {
        sni: Some("tls.evil.example".into()),
        alpn: vec!["h2".into(), "http/1.1".into()],
        version: 0x0303,
    };
    for valid in [&one, &two, &trailing] {
        assert_eq!(sniff::parse_client_hello(valid), Ok(Some(expected.clone())));
        assert_eq!(sniff::sniff(valid), Sniffed::Tls(expected.clone()));
    }
    for len in 0..one.len() {
        assert_eq!(sniff::sniff(&one[..len]), Sniffed::NeedMore, "prefix {len}");
    }
    let corpus = vec![
        one.clone(),
        two.clone(),
        short.clone(),
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
    ];
    let bases: Vec<(&[u8], &[Field])> = vec![
        (&one, &one_fields),
        (&two, &two_fields),
        (&short, &short_fields),
        (&trailing, &one_fields),
    ];
    let specials = [
        0x00, 0x01, 0x02, 0x03, 0x10, 0x16, 0x17, 0x40, 0x80, 0xff, b'.', 0xc3,
    ];
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut hellos = 0;
    for case in 0..CASES {
        let (base, fields) = bases[case % bases.len()];
        let buf = mutate(&mut rng, base, &corpus, &specials, fields);
        check_tls_consistency(&buf);
        if matches!(sniff::parse_client_hello(&buf), Ok(Some(_))) {
            hellos += 1;
        }
    }
    assert!(hellos > CASES / 50, "only {hellos} mutated hellos parsed");
}

// --------------------------------------------------------------- HTTP

/// An HTTP input and the textual length fields inside it.
fn http_input(text: &str, numbers: &[&str]) -> (Vec<u8>, Vec<Field>) {
    let mut fields = Vec::new();
    let mut from = 0;
    for n in numbers {
        let at = from + text[from..].find(n).expect("number in the text");
        fields.push(Field::Text { at, len: n.len() });
        from = at + n.len();
    }
    (text.as_bytes().to_vec(), fields)
}

fn check_http_consistency(buf: &[u8]) {
    let parsed = sniff::parse_http_head(buf);
    let sniffed = sniff::sniff(buf);
    let _ = sniff::parse_client_hello(buf);
    if let Ok(Some(head)) = &parsed {
        assert!(head.head_len <= buf.len() && head.head_len <= sniff::MAX_HEAD);
        assert!(buf[..head.head_len].ends_with(b"\n"));
        assert!(head.headers.len() <= sniff::MAX_HEADERS);
        assert!(
            !(head.chunked && head.content_length.is_some()),
            "ambiguous framing accepted: {:?}",
            String::from_utf8_lossy(buf)
        );
        if head.chunked {
            assert_eq!(head.version, 1, "chunked in HTTP/1.0 accepted");
        }
        let hosts = head
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
            .count();
        assert!(hosts <= 1);
        assert_eq!(head.host.is_some(), hosts == 1);
    }
    if let Sniffed::Http(head) = &sniffed {
        assert_eq!(parsed, Ok(Some(head.clone())));
    }
    if sniff::looks_like_http_method(buf) {
        let expected = match parsed {
            Ok(Some(head)) => Sniffed::Http(head),
            Ok(None) => Sniffed::NeedMore,
            Err(_) => Sniffed::Unknown,
        };
        assert_eq!(sniffed, expected, "{:?}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn mutated_http_heads_never_panic() {
    let post = "POST /collect?id=7 HTTP/1.1\r\nHost: collect.evil.example\r\nUser-Agent: curl/8.5\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"k\":\"v1\"}\n";
    let chunked = "POST /upload HTTP/1.1\r\nHost: 10.232.0.1:31337\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
    let get = "GET /payload.bin HTTP/1.0\r\nHost: cdn.evil.example\r\nAccept: */*\r\n\r\n";
    let (post, post_fields) = http_input(post, &["11"]);
    let (chunked, chunked_fields) = http_input(chunked, &["5", "1a", "0"]);
    let (get, get_fields) = http_input(get, &["1.0"]);

    let head = |b: &[u8]| -> HttpHead {
        match sniff::sniff(b) {
            Sniffed::Http(h) => h,
            other => panic!("expected HTTP, got {other:?}"),
        }
    };
    let h = head(&post);
    assert_eq!(
        (h.method.as_str(), h.target.as_str()),
        ("POST", "/collect?id=7")
    );
    assert_eq!(h.host.as_deref(), Some("collect.evil.example"));
    assert_eq!(h.content_length, Some(11));
    assert_eq!(h.head_len, post.len() - 11);
    assert!(!h.chunked);
    let h = head(&chunked);
    assert!(h.chunked);
    assert_eq!(h.content_length, None);
    assert_eq!(h.host.as_deref(), Some("10.232.0.1:31337"));
    assert_eq!(&chunked[h.head_len..h.head_len + 3], b"5\r\n");
    let h = head(&get);
    assert_eq!((h.version, h.headers.len()), (0, 2));

    let corpus = vec![
        post.clone(),
        chunked.clone(),
        get.clone(),
        b"Content-Length: 5\r\n".to_vec(),
        b"Transfer-Encoding: chunked\r\n".to_vec(),
        b"Host: other\r\n".to_vec(),
        b" folded\r\n".to_vec(),
    ];
    let bases: Vec<(&[u8], &[Field])> = vec![
        (&post, &post_fields),
        (&chunked, &chunked_fields),
        (&get, &get_fields),
    ];
    let specials = [
        b'\r', b'\n', b' ', b'\t', b':', b',', b';', b'0', b'9', b'-', b'+', b'/', 0x00, 0x7f, 0xff,
    ];
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    let mut heads = 0;
    for case in 0..CASES {
        let (base, fields) = bases[case % bases.len()];
        let buf = mutate(&mut rng, base, &corpus, &specials, fields);
        check_http_consistency(&buf);
        if matches!(sniff::parse_http_head(&buf), Ok(Some(_))) {
            heads += 1;
        }
    }
    assert!(heads > CASES / 10, "only {heads} mutated heads parsed");

    // A head that never ends: refused once it reaches the cap.
    let mut huge = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.resize(sniff::MAX_HEAD + 1000, b'a');
    assert_eq!(
        sniff::parse_http_head(&huge),
        Err(sniff::SniffError::HeadTooLarge)
    );
    assert_eq!(sniff::sniff(&huge), Sniffed::Unknown);
}

// -------------------------------------------------------------- exfil

const TOKEN: &str = "pdk_bait_Zx9Yw8Vu7Ts6Rq5Po4Nm";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const PASSPHRASE: &str = "correct horse battery/staple";
/// Bytes that make `/` in standard base64 and `_` in URL-safe base64 at
/// every alignment.
const BLOB: &[u8] = b"\xff\xff\xff\xfeexfil-me-please\xff\xff\xff\xfb";

fn secrets() -> Vec<Secret> {
    let s = |label: &str, value: &[u8]| Secret {
        label: label.into(),
        value: value.to_vec(),
    };
    vec![
        s("env:TOKEN", TOKEN.as_bytes()),
        s("env:AWS_SECRET_ACCESS_KEY", AWS_SECRET.as_bytes()),
        s("env:PASSPHRASE", PASSPHRASE.as_bytes()),
        s("file:/root/blob", BLOB),
    ]
}

fn base32_lower(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in data {
        acc = acc << 8 | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[(acc >> bits & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[(acc << (5 - bits) & 31) as usize]));
    }
    out
}

fn percent_upper(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn dns_labels(s: &str, width: usize) -> String {
    let labels: Vec<&str> = s
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!("{}.x.exfil.test", labels.join("."))
}

/// Haystacks carrying a secret: (the haystack, where the encoded secret
/// sits, the label and encoding it must be found as).
fn haystacks() -> Vec<(Vec<u8>, std::ops::Range<usize>, &'static str, Encoding)> {
    let mut out = Vec::new();
    let mut push = |prefix: &str, encoded: &[u8], suffix: &str, label, encoding| {
        let mut h = prefix.as_bytes().to_vec();
        let at = h.len();
        h.extend_from_slice(encoded);
        let range = at..h.len();
        h.extend_from_slice(suffix.as_bytes());
        out.push((h, range, label, encoding));
    };
    push(
        "POST /c HTTP/1.1\r\n\r\n{\"t\":\"",
        TOKEN.as_bytes(),
        "\"}",
        "env:TOKEN",
        Encoding::Plain,
    );
    for shift in 0..3 {
        let blob = [&b"env"[..shift], TOKEN.as_bytes(), b"\nUSER=root"].concat();
        push(
            "data=",
            STANDARD.encode(&blob).as_bytes(),
            "&x=1",
            "env:TOKEN",
            Encoding::Base64,
        );
        let blob = [&b"abc"[..shift], BLOB, b"tail"].concat();
        push(
            "GET /?q=",
            URL_SAFE_NO_PAD.encode(&blob).as_bytes(),
            " HTTP/1.1",
            "file:/root/blob",
            Encoding::Base64Url,
        );
    }
    push(
        "k=",
        hex::encode(AWS_SECRET).as_bytes(),
        ";",
        "env:AWS_SECRET_ACCESS_KEY",
        Encoding::Hex,
    );
    push(
        "K=",
        hex::encode_upper(TOKEN).as_bytes(),
        "",
        "env:TOKEN",
        Encoding::Hex,
    );
    push(
        "GET /collect?k=",
        percent_upper(AWS_SECRET).as_bytes(),
        " HTTP/1.1\r\n",
        "env:AWS_SECRET_ACCESS_KEY",
        Encoding::UrlEncoded,
    );
    push(
        "user=root&pass=",
        b"correct+horse+battery%2fstaple",
        "&go=1",
        "env:PASSPHRASE",
        Encoding::UrlEncoded,
    );
    push(
        "",
        dns_labels(&hex::encode(AWS_SECRET), 30).as_bytes(),
        "",
        "env:AWS_SECRET_ACCESS_KEY",
        Encoding::DnsLabels,
    );
    push(
        "",
        dns_labels(&base32_lower(TOKEN.as_bytes()).to_uppercase(), 20).as_bytes(),
        "",
        "env:TOKEN",
        Encoding::DnsLabels,
    );
    let wrapped: Vec<String> = STANDARD
        .encode(format!("{{\"TOKEN\":\"{TOKEN}\",\"USER\":\"root\"}}"))
        .as_bytes()
        .chunks(16)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    push(
        "Content-Transfer-Encoding: base64\r\n\r\n",
        wrapped.join("\r\n").as_bytes(),
        "\r\n",
        "env:TOKEN",
        Encoding::Base64,
    );
    out
}

fn has(matches: &[Match], label: &str, encoding: Encoding) -> bool {
    matches
        .iter()
        .any(|m| m.label == label && m.encoding == encoding)
}

fn check_matches(haystack: &[u8], matches: &[Match], labels: &[String]) {
    let mut pairs = std::collections::HashSet::new();
    for m in matches {
        assert!(m.offset <= haystack.len());
        assert!(m.excerpt.chars().count() <= 120, "{m:?}");
        assert!(m.excerpt.chars().all(|c| (' '..='~').contains(&c)), "{m:?}");
        assert!(labels.contains(&m.label), "{m:?}");
        assert!(
            pairs.insert((m.label.clone(), m.encoding)),
            "duplicate {m:?}"
        );
    }
    assert!(matches.windows(2).all(|w| w[0].offset <= w[1].offset));
}

#[test]
fn mutated_haystacks_with_secrets_never_panic() {
    let detector = Detector::new(secrets());
    let labels: Vec<String> = secrets().into_iter().map(|s| s.label).collect();
    let cases = haystacks();
    for (haystack, range, label, encoding) in &cases {
        let matches = detector.scan(haystack);
        assert!(
            has(&matches, label, *encoding),
            "{label} as {encoding} in {:?}: {matches:?}",
            String::from_utf8_lossy(haystack)
        );
        let found = matches
            .iter()
            .find(|m| m.label == *label && m.encoding == *encoding)
            .unwrap();
        assert!(
            range.contains(&found.offset),
            "{label} as {encoding} found at {} outside {range:?}",
            found.offset
        );
        check_matches(haystack, &matches, &labels);
    }
    let corpus: Vec<Vec<u8>> = cases.iter().map(|c| c.0.clone()).collect();
    let specials = [
        b'%', b'.', b'+', b'\r', b'\n', b'=', b'/', b'_', b'-', b'A', b'f', b'0', 0x00, 0xff,
    ];
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    let mut still_found = 0;
    for case in 0..CASES {
        let (haystack, range, label, encoding) = &cases[case % cases.len()];
        if case % 2 == 0 {
            // Anything goes.
            let mutated = mutate(&mut rng, haystack, &corpus, &specials, &[]);
            let matches = detector.scan(&mutated);
            check_matches(&mutated, &matches, &labels);
        } else {
            // Only the bytes around the encoded secret change: an encoding
            // found in the haystack as captured must still be found.
            let before = mutate(&mut rng, &haystack[..range.start], &corpus, &specials, &[]);
            let after = mutate(&mut rng, &haystack[range.end..], &corpus, &specials, &[]);
            let mutated = [&before[..], &haystack[range.clone()], &after[..]].concat();
            let matches = detector.scan(&mutated);
            check_matches(&mutated, &matches, &labels);
            let raw_pass = matches!(
                encoding,
                Encoding::Plain | Encoding::Hex | Encoding::Base64Url
            ) || (*encoding == Encoding::Base64 && !haystack.contains(&b'\n'))
                || (*encoding == Encoding::UrlEncoded && !haystack.contains(&b'+'));
            if raw_pass {
                assert!(
                    has(&matches, label, *encoding),
                    "{label} as {encoding} lost in {:?}: {matches:?}",
                    String::from_utf8_lossy(&mutated)
                );
                still_found += 1;
            }
        }
    }
    assert!(still_found > CASES / 4);
}
