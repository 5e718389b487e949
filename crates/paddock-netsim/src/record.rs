//! What the simulated internet saw, kept until the analyzer takes it at the
//! end of each phase, and the address book that maps every name the
//! sandbox resolved to an address of its own.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use paddock_proto::v1::{Connection, Datagram, DnsQuery, FetchedPackage, HttpRequest, TlsHello};
use paddock_proto::well_known::Timestamp;

use crate::exfil::{Detector, Match};

/// Records of one kind beyond this many are counted, not kept.
pub const MAX_RECORDS: usize = 10_000;

/// A bait value seen in traffic.
#[derive(Debug, Clone, PartialEq)]
pub struct Exfiltration {
    /// Which bait ("env:AWS_SECRET_ACCESS_KEY").
    pub bait: String,
    /// How it was encoded ("plain", "base64"...).
    pub encoding: String,
    /// Where it was seen ("HTTP POST evil.example/collect body").
    pub channel: String,
    /// The traffic around it.
    pub excerpt: String,
}

/// Everything captured since the last [`Recorder::take`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Captured {
    pub dns: Vec<DnsQuery>,
    pub http_requests: Vec<HttpRequest>,
    pub tls: Vec<TlsHello>,
    pub datagrams: Vec<Datagram>,
    pub connections: Vec<Connection>,
    pub fetched_packages: Vec<FetchedPackage>,
    pub exfiltrations: Vec<Exfiltration>,
    /// Records not kept because a kind reached [`MAX_RECORDS`].
    pub dropped: u64,
}

/// Collects records from every server task of one internet host.
#[derive(Debug)]
pub struct Recorder {
    log: Mutex<Captured>,
    detector: Detector,
    book: Mutex<AddressBook>,
}

impl Recorder {
    pub fn new(detector: Detector) -> Self {
        Self {
            log: Mutex::new(Captured::default()),
            detector,
            book: Mutex::new(AddressBook::default()),
        }
    }

    /// Hands out everything recorded so far and starts afresh.
    pub fn take(&self) -> Captured {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        // A panicking server task must not take the records with it.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push<T>(&self, pick: impl FnOnce(&mut Captured) -> &mut Vec<T>, item: T) {
        let mut log = self.lock();
        let list = pick(&mut log);
        if list.len() < MAX_RECORDS {
            list.push(item);
        } else {
            log.dropped += 1;
        }
    }

    pub fn dns(&self, q: DnsQuery) {
        self.scan(q.hostname.as_bytes(), || {
            format!("DNS query {}", q.hostname)
        });
        self.push(|l| &mut l.dns, q);
    }

    pub fn http(&self, r: HttpRequest) {
        self.push(|l| &mut l.http_requests, r);
    }

    pub fn tls(&self, t: TlsHello) {
        self.push(|l| &mut l.tls, t);
    }

    pub fn datagram(&self, d: Datagram) {
        self.push(|l| &mut l.datagrams, d);
    }

    pub fn connection(&self, c: Connection) {
        self.push(|l| &mut l.connections, c);
    }

    pub fn fetched(&self, f: FetchedPackage) {
        self.push(|l| &mut l.fetched_packages, f);
    }

    /// Looks for bait values in `bytes`; `channel` names where they were
    /// seen. Returns whether anything matched.
    pub fn scan(&self, bytes: &[u8], channel: impl FnOnce() -> String) -> bool {
        let matches: Vec<Match> = self.detector.scan(bytes);
        if matches.is_empty() {
            return false;
        }
        let channel = channel();
        for m in matches {
            let e = Exfiltration {
                bait: m.label,
                encoding: m.encoding.as_str().to_owned(),
                channel: channel.clone(),
                excerpt: m.excerpt,
            };
            tracing::warn!(bait = %e.bait, encoding = %e.encoding, channel = %e.channel, "bait value in the sandbox's traffic");
            self.push(|l| &mut l.exfiltrations, e);
        }
        true
    }

    /// The address handed out for `name` (a new one the first time).
    pub fn address_for(&self, name: &str) -> Ipv4Addr {
        self.book
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .assign(name)
    }

    /// The name `addr` was handed out for.
    pub fn name_of(&self, addr: Ipv4Addr) -> Option<String> {
        self.book
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .name_of(addr)
    }
}

/// Names to addresses in [`crate::NAME_POOL`]: one address per name, so
/// that a connection's destination says which name it was resolved from.
#[derive(Debug, Default)]
pub struct AddressBook {
    by_name: HashMap<String, Ipv4Addr>,
    by_addr: HashMap<Ipv4Addr, String>,
}

impl AddressBook {
    pub fn assign(&mut self, name: &str) -> Ipv4Addr {
        if let Some(a) = self.by_name.get(name) {
            return *a;
        }
        let n = u32::try_from(self.by_name.len() + 1).unwrap_or(u32::MAX);
        let Some(addr) = paddock_proto::sandbox::pool_address(n) else {
            // The pool is used up: every further name shares the host's
            // own address.
            return crate::HOST_ADDR;
        };
        self.by_name.insert(name.to_owned(), addr);
        self.by_addr.insert(addr, name.to_owned());
        addr
    }

    pub fn name_of(&self, addr: Ipv4Addr) -> Option<String> {
        self.by_addr.get(&addr).cloned()
    }
}

/// Now, as a proto timestamp.
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_gets_its_own_address_and_keeps_it() {
        let mut book = AddressBook::default();
        let a = book.assign("evil.example");
        let b = book.assign("other.example");
        assert_ne!(a, b);
        assert_eq!(book.assign("evil.example"), a);
        assert_eq!(book.name_of(b).as_deref(), Some("other.example"));
        assert_eq!(a, Ipv4Addr::new(10, 232, 0, 1));
    }
}
