//! Indicators of compromise from the evidence: domains, IP addresses,
//! URLs and files.
//!
//! Where they come from:
//!
//! - the dynamic result: DNS names asked for, the names and addresses of
//!   connections, datagrams and TLS hellos, HTTP requests the simulated
//!   internet caught (as `scheme://host/path`, the query dropped: it
//!   carries session ids and the planted secrets), and files written
//!   outside the install area with their sha256 (`DROPPED`);
//! - the behaviour change: added hosts, DNS names and file writes (the
//!   normalised values; one with a placeholder is left out);
//! - the static result: the artifact's sha256 (`PACKAGE_ARCHIVE`), the
//!   files that high or critical threat findings point at, with their
//!   sha256, and URLs quoted in those findings' evidence.
//!
//! What is left out, so that a list is never inflated: the sandbox's own
//! traffic (its resolver, registry proxy and link addresses, the name
//! pool's addresses, which say nothing by themselves, loopback, and what
//! the harness writes: [`paddock_diff::sandbox`] is the one list of it),
//! private, link-local and multicast addresses, names that fail the
//! database's domain check ([`is_valid_domain`]) or have one label,
//! generic hosts (`data/generic-domains.txt` and
//! [`OsvConfig::ignore_domains`]), duplicates, and everything past
//! [`OsvConfig::max_iocs`] per list.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::LazyLock;

use paddock_proto::sandbox::{in_name_pool, HOST_ADDR, LINK_PREFIX_LEN};
use paddock_proto::v1::{
    BehaviorChange, ChangeAction, ChangeKind, DynamicResult, FindingCategory, Phase, Reachability,
    Severity, SocketOp, StaticResult,
};

use crate::config::OsvConfig;
use crate::model::{Digests, FileSource, IocFile, Iocs};

static BUILTIN_GENERIC: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../data/generic-domains.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
});

/// The longest URL kept, in characters.
const MAX_URL_CHARS: usize = 400;
/// The longest file path kept.
const MAX_PATH_CHARS: usize = 300;

/// Whether `name` passes the database's domain check
/// (`internal/report/indicators.go`): at most 255 characters, labels of
/// at most 63, only `[A-Za-z0-9_.-]`, and not an IP address.
pub fn is_valid_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('.').all(|label| label.len() <= 63)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.parse::<IpAddr>().is_err()
}

/// Whether `text` is an IP address or a CIDR block, as the database
/// accepts in `ips`.
pub fn is_valid_ip(text: &str) -> bool {
    match text.split_once('/') {
        Some((addr, bits)) => match (addr.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32,
            (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128,
            _ => false,
        },
        None => text.parse::<IpAddr>().is_ok(),
    }
}

/// Collects indicators, deduplicated and bounded.
#[derive(Debug)]
pub(crate) struct Collector<'a> {
    config: &'a OsvConfig,
    iocs: Iocs,
    seen: HashSet<String>,
    /// Files by digest (or by path when there is none), to merge paths.
    files: BTreeMap<String, usize>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(config: &'a OsvConfig) -> Self {
        Self {
            config,
            iocs: Iocs::default(),
            seen: HashSet::new(),
            files: BTreeMap::new(),
        }
    }

    pub(crate) fn finish(self) -> Iocs {
        self.iocs
    }

    fn is_generic(&self, domain: &str) -> bool {
        BUILTIN_GENERIC.contains(domain)
            || self
                .config
                .ignore_domains
                .iter()
                .any(|d| d.trim().trim_end_matches('.').eq_ignore_ascii_case(domain))
    }

    /// A host as written anywhere (a DNS name, an SNI, a `Host` header
    /// without its port, an address): a domain or an IP address.
    pub(crate) fn host(&mut self, host: &str) {
        let host = host.trim().trim_end_matches('.');
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.ip(ip);
        } else {
            self.domain(host);
        }
    }

    fn domain(&mut self, name: &str) {
        let name = name.to_ascii_lowercase();
        if !is_valid_domain(&name)
            || !name.contains('.')
            || name.split('.').any(str::is_empty)
            || self.is_generic(&name)
        {
            return;
        }
        let cap = self.config.max_iocs;
        push(&mut self.iocs.domains, &mut self.seen, "d", name, cap);
    }

    fn ip(&mut self, ip: IpAddr) {
        if !reportable_ip(ip) {
            return;
        }
        let cap = self.config.max_iocs;
        push(&mut self.iocs.ips, &mut self.seen, "i", ip.to_string(), cap);
    }

    /// A URL; its host is recorded too. The query and fragment are
    /// dropped; a URL on a generic host needs a path to count.
    pub(crate) fn url(&mut self, text: &str) {
        let Ok(mut url) = url::Url::parse(text.trim()) else {
            return;
        };
        if !matches!(url.scheme(), "http" | "https" | "ws" | "wss" | "ftp") {
            return;
        }
        let Some(host) = url.host_str().map(str::to_owned) else {
            return;
        };
        url.set_query(None);
        url.set_fragment(None);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let on_ip = bare.parse::<IpAddr>();
        if let Ok(ip) = on_ip {
            if !reportable_ip(ip) {
                return;
            }
        } else if !is_valid_domain(&host) || !host.contains('.') {
            return;
        }
        self.host(&host);
        let generic = on_ip.is_err() && self.is_generic(&host.to_ascii_lowercase());
        if generic && matches!(url.path(), "" | "/") {
            return;
        }
        let text = url.to_string();
        if text.chars().count() > MAX_URL_CHARS {
            return;
        }
        let cap = self.config.max_iocs;
        push(&mut self.iocs.urls, &mut self.seen, "u", text, cap);
    }

    /// A file, merged with an earlier one of the same digest and source.
    pub(crate) fn file(&mut self, path: &str, sha256: &str, source: FileSource, note: String) {
        let path: String = path.chars().take(MAX_PATH_CHARS).collect();
        if path.trim().is_empty() {
            return;
        }
        let sha256 = sha256.trim().to_ascii_lowercase();
        let digest =
            (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha256);
        let key = format!(
            "{source:?}:{}",
            digest.clone().unwrap_or_else(|| format!("path:{path}"))
        );
        if let Some(&i) = self.files.get(&key) {
            let entry = &mut self.iocs.files[i];
            if !entry.paths.contains(&path) && entry.paths.len() < self.config.max_iocs {
                entry.paths.push(path);
            }
            return;
        }
        if self.iocs.files.len() >= self.config.max_iocs {
            return;
        }
        self.files.insert(key, self.iocs.files.len());
        self.iocs.files.push(IocFile {
            paths: vec![path],
            digests: digest.map(|sha256| Digests { sha256 }),
            source,
            note,
        });
    }

    /// Everything the dynamic analysis saw the package contact or write.
    pub(crate) fn dynamic(&mut self, result: &DynamicResult) {
        for phase in &result.phases {
            let when = phase_words(phase.phase());
            for q in &phase.dns {
                self.host(&q.hostname);
            }
            for s in &phase.sockets {
                if !matches!(s.op(), SocketOp::Connect | SocketOp::Sendto)
                    || !matches!(s.family.as_str(), "AF_INET" | "AF_INET6")
                    || paddock_diff::sandbox::is_plumbing(&s.address, s.port)
                {
                    continue;
                }
                self.endpoint(&s.address, &s.hostnames);
            }
            for d in &phase.datagrams {
                if !paddock_diff::sandbox::is_plumbing(&d.address, d.port) {
                    self.endpoint(&d.address, std::slice::from_ref(&d.hostname));
                }
            }
            for c in &phase.connections {
                self.endpoint(&c.address, std::slice::from_ref(&c.hostname));
            }
            for t in &phase.tls {
                self.host(&t.sni);
                self.endpoint(&t.address, std::slice::from_ref(&t.hostname));
            }
            for h in &phase.http_requests {
                if h.via == "registry-proxy" || !h.refused.is_empty() {
                    continue;
                }
                let host = http_host(&h.host, &h.hostname);
                let Some(host) = host else { continue };
                let scheme = if h.via == "catch-all-tls" {
                    "https"
                } else {
                    "http"
                };
                let path = if h.path.starts_with('/') {
                    h.path.clone()
                } else {
                    format!("/{}", h.path)
                };
                self.url(&format!("{scheme}://{host}{path}"));
            }
            for w in &phase.file_writes {
                if paddock_diff::sandbox::expected_write(&w.path).is_none() {
                    let note = format!("written {when} ({} bytes)", w.bytes_written);
                    self.file(&w.path, &w.sha256, FileSource::Dropped, note);
                }
            }
        }
    }

    /// A destination: the names it was resolved from, and the address
    /// itself unless the simulated DNS handed it out.
    fn endpoint(&mut self, address: &str, hostnames: &[String]) {
        for name in hostnames {
            self.host(name);
        }
        if let Ok(ip) = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            self.ip(ip);
        }
    }

    /// Added network destinations and file writes of a behaviour change.
    pub(crate) fn change(&mut self, change: &BehaviorChange) {
        for c in &change.changes {
            if c.action() != ChangeAction::Added {
                continue;
            }
            match c.kind() {
                ChangeKind::DnsName => self.host(&c.value),
                ChangeKind::Host => {
                    if let Some(host) = host_of_change(&c.value) {
                        self.host(host);
                    }
                }
                ChangeKind::FileWrite if !c.value.contains(['<', '>']) => {
                    let note = match change.previous_version.as_str() {
                        "" => format!("written {}", phase_words(c.phase())),
                        prev => {
                            format!("written {}; not written by {prev}", phase_words(c.phase()))
                        }
                    };
                    self.file(&c.value, "", FileSource::Dropped, note);
                }
                _ => {}
            }
        }
    }

    /// The artifact, the files serious findings point at, and the URLs
    /// those findings quote.
    pub(crate) fn static_result(&mut self, result: &StaticResult) {
        if let Some(a) = &result.artifact {
            let name = if a.filename.is_empty() {
                "the package archive"
            } else {
                a.filename.as_str()
            };
            self.file(
                name,
                &a.sha256,
                FileSource::PackageArchive,
                "the package archive as published".into(),
            );
        }
        let sha_of: BTreeMap<&str, &str> = result
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        for f in result.findings.iter().filter(|f| is_serious(f)) {
            for e in &f.evidence {
                if let Some(sha) = sha_of.get(e.file.as_str()).filter(|s| !s.is_empty()) {
                    self.file(&e.file, sha, FileSource::PackageArchive, f.title.clone());
                }
                for text in [&e.snippet, &e.detail] {
                    for url in urls_in(text) {
                        self.url(url);
                    }
                }
            }
        }
    }
}

/// A static finding that speaks for the package: a high or critical
/// threat in code that runs.
pub(crate) fn is_serious(f: &paddock_proto::v1::Finding) -> bool {
    f.category() == FindingCategory::Threat
        && f.severity() >= Severity::High
        && f.reachability() != Reachability::Unreached
}

fn push(list: &mut Vec<String>, seen: &mut HashSet<String>, kind: &str, value: String, cap: usize) {
    if list.len() < cap && seen.insert(format!("{kind}:{value}")) {
        list.push(value);
    }
}

/// Whether an address says something about the package: not the
/// sandbox's (its link, the name pool), loopback, unspecified, private,
/// link-local, multicast or broadcast.
fn reportable_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let link_mask = u32::MAX << (32 - u32::from(LINK_PREFIX_LEN));
            let on_link = u32::from(a) & link_mask == u32::from(HOST_ADDR) & link_mask;
            !(on_link
                || in_name_pool(a)
                || a.is_loopback()
                || a.is_unspecified()
                || a.is_private()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_broadcast())
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return reportable_ip(IpAddr::V4(v4));
            }
            let first = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || first & 0xfe00 == 0xfc00 // unique local
                || first & 0xffc0 == 0xfe80) // link-local
        }
    }
}

/// The host of an HTTP request: the name the simulated DNS handed the
/// address out for when the `Host` header is an address of its pool.
fn http_host(header: &str, hostname: &str) -> Option<String> {
    let host = match header.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => header,
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) if in_name_pool(a) => (!hostname.is_empty()).then(|| hostname.to_owned()),
        _ if host.is_empty() => (!hostname.is_empty()).then(|| hostname.to_owned()),
        _ => Some(host.to_owned()),
    }
}

/// The host in a normalised host change: `host:port`, `udp host:port`,
/// `tls host:port`, `http METHOD host/path`.
fn host_of_change(value: &str) -> Option<&str> {
    let mut words = value.split_whitespace();
    let first = words.next()?;
    let target = match first {
        "udp" | "tls" => words.next()?,
        "http" => {
            words.next()?;
            words.next()?.split('/').next()?
        }
        _ => first,
    };
    if target.contains(['<', '>']) {
        return None;
    }
    if let Some(rest) = target.strip_prefix('[') {
        return rest.split(']').next();
    }
    Some(match target.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => target,
    })
}

/// `http://` and `https://` URLs quoted in a piece of evidence.
fn urls_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '(' | ')'))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches([',', ';', '.']))
}

pub(crate) fn phase_words(phase: Phase) -> &'static str {
    match phase {
        Phase::Install => "at install",
        Phase::Import => "when imported",
        Phase::Execute => "when executed",
        Phase::Unspecified => "at run time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked_as_the_database_does() {
        for ok in [
            "evil.example",
            "a_b.example",
            "x-1.evil.example",
            "localhost",
        ] {
            assert!(is_valid_domain(ok), "{ok}");
        }
        let long_label = format!("{}.example", "a".repeat(64));
        let long_name = ["abc"; 70].join(".");
        for bad in [
            "",
            "203.0.113.5",
            "::1",
            "evil example",
            "evil.example/x",
            "<hex>.evil.example",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(!is_valid_domain(bad), "{bad}");
        }
        assert!(is_valid_ip("203.0.113.5") && is_valid_ip("2001:db8::1"));
        assert!(is_valid_ip("203.0.113.0/24") && !is_valid_ip("203.0.113.0/33"));
        assert!(!is_valid_ip("evil.example"));
    }

    #[test]
    fn generic_hosts_are_exact_names_and_their_urls_need_a_path() {
        assert!(BUILTIN_GENERIC.contains("github.com"));
        assert!(BUILTIN_GENERIC.iter().all(|d| is_valid_domain(d)));
        let config = OsvConfig::default();
        let mut c = Collector::new(&config);
        c.host("github.com");
        c.host("evil-bucket.s3.amazonaws.com");
        c.url("https://discord.com/");
        c.url("https://discord.com/api/webhooks/1/abc?x=secret#f");
        let iocs = c.finish();
        assert_eq!(iocs.domains, ["evil-bucket.s3.amazonaws.com"]);
        assert_eq!(iocs.urls, ["https://discord.com/api/webhooks/1/abc"]);
    }

    #[test]
    fn sandbox_private_and_local_addresses_are_not_indicators() {
        let pool = paddock_proto::sandbox::pool_address(7).unwrap();
        for ip in [
            IpAddr::V4(HOST_ADDR),
            IpAddr::V4(paddock_proto::sandbox::SANDBOX_ADDR),
            IpAddr::V4(pool),
            "127.0.0.1".parse().unwrap(),
            "10.1.2.3".parse().unwrap(),
            "192.168.0.1".parse().unwrap(),
            "169.254.169.254".parse().unwrap(),
            "::1".parse().unwrap(),
            "fe80::1".parse().unwrap(),
            "fd00::1".parse().unwrap(),
            "::ffff:127.0.0.1".parse().unwrap(),
        ] {
            assert!(!reportable_ip(ip), "{ip}");
        }
        assert!(reportable_ip("203.0.113.9".parse().unwrap()));
        assert!(reportable_ip("2001:db8::9".parse().unwrap()));
    }

    #[test]
    fn lists_are_deduplicated_and_capped() {
        let config = OsvConfig {
            max_iocs: 3,
            ..OsvConfig::default()
        };
        let mut c = Collector::new(&config);
        for i in 0..10 {
            c.host(&format!("h{i}.evil.example"));
            c.host("h0.evil.example");
            c.host("H0.EVIL.EXAMPLE.");
        }
        c.file("/tmp/a", &"ab".repeat(32), FileSource::Dropped, "n".into());
        c.file("/tmp/b", &"AB".repeat(32), FileSource::Dropped, "n".into());
        let iocs = c.finish();
        assert_eq!(
            iocs.domains,
            ["h0.evil.example", "h1.evil.example", "h2.evil.example"]
        );
        assert_eq!(iocs.files.len(), 1);
        assert_eq!(iocs.files[0].paths, ["/tmp/a", "/tmp/b"]);
    }

    #[test]
    fn hosts_are_read_from_normalised_changes() {
        assert_eq!(host_of_change("evil.example:443"), Some("evil.example"));
        assert_eq!(host_of_change("udp evil.example:53"), Some("evil.example"));
        assert_eq!(host_of_change("tls evil.example:443"), Some("evil.example"));
        assert_eq!(
            host_of_change("http POST evil.example/x"),
            Some("evil.example")
        );
        assert_eq!(host_of_change("[2001:db8::1]:443"), Some("2001:db8::1"));
        assert_eq!(host_of_change("<resolved-address>:443"), None);
        assert_eq!(
            http_host("evil.example:8080", ""),
            Some("evil.example".into())
        );
        let pool = paddock_proto::sandbox::pool_address(3).unwrap().to_string();
        assert_eq!(http_host(&pool, "c2.example"), Some("c2.example".into()));
        assert_eq!(http_host(&pool, ""), None);
    }

    #[test]
    fn urls_are_found_in_evidence_text() {
        let found: Vec<&str> =
            urls_in("fetch('https://evil.example/p.sh'), then \"http://203.0.113.9/x\".").collect();
        assert_eq!(found, ["https://evil.example/p.sh", "http://203.0.113.9/x"]);
    }
}
