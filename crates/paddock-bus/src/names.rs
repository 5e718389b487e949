//! Every name that goes on the wire, built from one prefix.
//!
//! | kind | name |
//! |---|---|
//! | stream | `<p>_RELEASES` storing `<p>.release.<eco>` |
//! | stream | `<p>_RESULTS` storing `<p>.result.{static,dynamic}.<eco>` |
//! | stream | `<p>_ALERTS` storing `<p>.alert.<severity>.<eco>` |
//! | stream | `<p>_DLQ` storing `<p>.dlq.<service>` |
//! | KV | `<p>-feed-cursors`, `<p>-history` |
//! | object store | `<p>-artifacts` |
//!
//! Package names never go into subject tokens: they contain `.`, `/` and
//! `@`. They travel in the message body and, escaped by [`escape_key`], in KV
//! keys. Two deployments (or two tests) with different prefixes share a
//! server without seeing each other's messages.

use paddock_proto::ecosystem::{severity_token, subject_token};
use paddock_proto::v1::{Ecosystem, PackageRef, Severity};

use crate::BusError;

/// Header names Paddock sets on every message.
pub mod headers {
    /// The fully qualified protobuf type of the body.
    pub const MESSAGE_TYPE: &str = "Paddock-Type";
    /// The major schema version of the body.
    pub const SCHEMA_VERSION: &str = "Paddock-Schema";
    /// W3C trace context.
    pub const TRACEPARENT: &str = "traceparent";
    /// JetStream's deduplication header.
    pub const MSG_ID: &str = "Nats-Msg-Id";
    /// Dead-letter headers: why, from where, after how many deliveries.
    pub const DLQ_REASON: &str = "Paddock-Dlq-Reason";
    pub const DLQ_SUBJECT: &str = "Paddock-Dlq-Subject";
    pub const DLQ_STREAM: &str = "Paddock-Dlq-Stream";
    pub const DLQ_SEQUENCE: &str = "Paddock-Dlq-Sequence";
    pub const DLQ_CONSUMER: &str = "Paddock-Dlq-Consumer";
    pub const DLQ_DELIVERIES: &str = "Paddock-Dlq-Deliveries";
}

/// The four streams of the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Releases,
    Results,
    Alerts,
    DeadLetters,
}

impl StreamKind {
    /// Every stream, in creation order.
    pub const ALL: [StreamKind; 4] = [
        StreamKind::Releases,
        StreamKind::Results,
        StreamKind::Alerts,
        StreamKind::DeadLetters,
    ];

    fn suffix(self) -> &'static str {
        match self {
            StreamKind::Releases => "RELEASES",
            StreamKind::Results => "RESULTS",
            StreamKind::Alerts => "ALERTS",
            StreamKind::DeadLetters => "DLQ",
        }
    }
}

/// A durable consumer: which stream, which name, which subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    pub stream: StreamKind,
    pub stream_name: String,
    /// Durable name; also the service token of its dead-letter subject.
    pub durable: String,
    pub filter_subject: String,
    /// Where messages this consumer gives up on are copied.
    pub dead_letter_subject: String,
}

/// Wire names for one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
}

impl Names {
    /// Names under `prefix`: 1 to 32 characters of `A-Z a-z 0-9 _ -`.
    pub fn new(prefix: impl Into<String>) -> Result<Self, BusError> {
        let prefix = prefix.into();
        validate_token(&prefix, 32)?;
        Ok(Self { prefix })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The stream's name, such as `paddock_RELEASES`.
    pub fn stream(&self, kind: StreamKind) -> String {
        format!("{}_{}", self.prefix, kind.suffix())
    }

    /// The subjects the stream stores.
    pub fn stream_subjects(&self, kind: StreamKind) -> String {
        let p = &self.prefix;
        match kind {
            StreamKind::Releases => format!("{p}.release.*"),
            StreamKind::Results => format!("{p}.result.*.*"),
            StreamKind::Alerts => format!("{p}.alert.*.*"),
            StreamKind::DeadLetters => format!("{p}.dlq.*"),
        }
    }

    /// `<p>.release.<eco>`
    pub fn release(&self, eco: Ecosystem) -> String {
        format!("{}.release.{}", self.prefix, subject_token(eco))
    }

    /// `<p>.result.static.<eco>`
    pub fn static_result(&self, eco: Ecosystem) -> String {
        format!("{}.result.static.{}", self.prefix, subject_token(eco))
    }

    /// `<p>.result.dynamic.<eco>`
    pub fn dynamic_result(&self, eco: Ecosystem) -> String {
        format!("{}.result.dynamic.{}", self.prefix, subject_token(eco))
    }

    /// `<p>.alert.<severity>.<eco>`
    pub fn alert(&self, severity: Severity, eco: Ecosystem) -> String {
        format!(
            "{}.alert.{}.{}",
            self.prefix,
            severity_token(severity),
            subject_token(eco)
        )
    }

    /// Filter for alerts of one severity (or all) and one ecosystem (or all).
    pub fn alert_filter(&self, severity: Option<Severity>, eco: Option<Ecosystem>) -> String {
        let sev = severity.map_or("*", severity_token);
        let eco = eco.map_or("*", subject_token);
        format!("{}.alert.{sev}.{eco}", self.prefix)
    }

    /// `<p>.dlq.<service>`
    pub fn dead_letter(&self, service: &str) -> String {
        format!("{}.dlq.{service}", self.prefix)
    }

    /// KV bucket of feed cursors, keyed by [`Names::cursor_key`].
    pub fn feed_cursors_bucket(&self) -> String {
        format!("{}-feed-cursors", self.prefix)
    }

    /// KV bucket of behaviour history, keyed by [`Names::history_key`].
    pub fn history_bucket(&self) -> String {
        format!("{}-history", self.prefix)
    }

    /// Object store of artifacts, keyed by sha256.
    pub fn artifacts_bucket(&self) -> String {
        format!("{}-artifacts", self.prefix)
    }

    /// The feed cursor's key for an ecosystem.
    pub fn cursor_key(&self, eco: Ecosystem) -> String {
        subject_token(eco).to_owned()
    }

    /// `<eco>.<escaped name>`
    pub fn history_key(&self, eco: Ecosystem, name: &str) -> String {
        format!("{}.{}", subject_token(eco), escape_key(name))
    }

    /// KV bucket of the results index, keyed by [`Names::index_key`].
    pub fn results_index_bucket(&self) -> String {
        format!("{}-results-index", self.prefix)
    }

    /// `<eco>.<escaped name>.<escaped version>`: one release in the
    /// results index. Empty names or versions have no key.
    pub fn index_key(&self, eco: Ecosystem, name: &str, version: &str) -> Option<String> {
        (!name.is_empty() && !version.is_empty()).then(|| {
            format!(
                "{}.{}.{}",
                subject_token(eco),
                escape_key(name),
                escape_key(version)
            )
        })
    }

    /// The index keys of every release of one package:
    /// `<eco>.<escaped name>.*`.
    pub fn index_package_filter(&self, eco: Ecosystem, name: &str) -> Option<String> {
        (!name.is_empty()).then(|| format!("{}.{}.*", subject_token(eco), escape_key(name)))
    }

    /// The results index's consumers: releases, static results, dynamic
    /// results and alerts (one message type each).
    pub fn index_consumers(&self) -> [ConsumerSpec; 4] {
        [
            self.consumer(
                StreamKind::Releases,
                "api-index-releases",
                self.stream_subjects(StreamKind::Releases),
            ),
            self.consumer(
                StreamKind::Results,
                "api-index-static",
                format!("{}.result.static.*", self.prefix),
            ),
            self.consumer(
                StreamKind::Results,
                "api-index-dynamic",
                format!("{}.result.dynamic.*", self.prefix),
            ),
            self.consumer(
                StreamKind::Alerts,
                "api-index-alerts",
                self.stream_subjects(StreamKind::Alerts),
            ),
        ]
    }

    /// The durable consumer `durable` on `stream`, filtered to `filter`.
    pub fn consumer(&self, stream: StreamKind, durable: &str, filter: String) -> ConsumerSpec {
        ConsumerSpec {
            stream,
            stream_name: self.stream(stream),
            durable: durable.to_owned(),
            filter_subject: filter,
            dead_letter_subject: self.dead_letter(durable),
        }
    }

    /// The static analysis service's consumer of releases.
    pub fn static_consumer(&self) -> ConsumerSpec {
        self.consumer(
            StreamKind::Releases,
            "static",
            self.stream_subjects(StreamKind::Releases),
        )
    }

    /// The dynamic analysis service's consumer of releases.
    pub fn dynamic_consumer(&self) -> ConsumerSpec {
        self.consumer(
            StreamKind::Releases,
            "dynamic",
            self.stream_subjects(StreamKind::Releases),
        )
    }

    /// The diff service's consumer of static results.
    pub fn diff_static_consumer(&self) -> ConsumerSpec {
        self.consumer(
            StreamKind::Results,
            "diff-static",
            format!("{}.result.static.*", self.prefix),
        )
    }

    /// The diff service's consumer of dynamic results.
    pub fn diff_dynamic_consumer(&self) -> ConsumerSpec {
        self.consumer(
            StreamKind::Results,
            "diff-dynamic",
            format!("{}.result.dynamic.*", self.prefix),
        )
    }

    /// A sink's consumer of `stream` (releases, results or alerts):
    /// `sink-<kind>-<stream>`, one set per sink kind ([`SINK_KINDS`]), so
    /// that every sink sees every message.
    pub fn sink_consumer(&self, kind: &str, stream: StreamKind) -> ConsumerSpec {
        let part = match stream {
            StreamKind::Releases => "releases",
            StreamKind::Results => "results",
            StreamKind::Alerts => "alerts",
            StreamKind::DeadLetters => "dead-letters",
        };
        self.consumer(
            stream,
            &format!("sink-{kind}-{part}"),
            self.stream_subjects(stream),
        )
    }

    /// A sink's consumers, one per stream it stores.
    pub fn sink_consumers(&self, kind: &str) -> [ConsumerSpec; 3] {
        [
            self.sink_consumer(kind, StreamKind::Releases),
            self.sink_consumer(kind, StreamKind::Results),
            self.sink_consumer(kind, StreamKind::Alerts),
        ]
    }

    /// Every durable consumer the topology creates.
    pub fn consumers(&self) -> Vec<ConsumerSpec> {
        vec![
            self.static_consumer(),
            self.dynamic_consumer(),
            self.diff_static_consumer(),
            self.diff_dynamic_consumer(),
        ]
        .into_iter()
        .chain(SINK_KINDS.iter().flat_map(|kind| self.sink_consumers(kind)))
        .chain(self.index_consumers())
        .collect()
    }
}

/// The sink kinds; each has its own consumers ([`Names::sink_consumers`]),
/// created whether or not the sink is enabled.
pub const SINK_KINDS: [&str; 3] = ["parquet", "bigquery", "osv"];

/// The deduplication id of a release: `release:<eco>:<name>@<version>`.
pub fn release_msg_id(package: &PackageRef) -> String {
    format!(
        "release:{}:{}@{}",
        subject_token(package.ecosystem()),
        package.name,
        package.version
    )
}

/// The deduplication id of a result: one per (kind, release, analysis run).
pub fn result_msg_id(kind: &str, package: &PackageRef, run_id: &str) -> String {
    format!(
        "result:{kind}:{}:{}@{}:{run_id}",
        subject_token(package.ecosystem()),
        package.name,
        package.version
    )
}

/// Escapes a package name into a KV key token: `A-Z a-z 0-9 _ -` are kept,
/// every other byte becomes `=XX` (uppercase hex). Reversible by
/// [`unescape_key`], and never contains `.`, so the key's first token stays
/// the ecosystem.
pub fn escape_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
    }
    out
}

/// Reverses [`escape_key`]; `None` if `key` was not produced by it.
pub fn unescape_key(key: &str) -> Option<String> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn validate_token(token: &str, max: usize) -> Result<(), BusError> {
    let invalid = |reason| {
        Err(BusError::InvalidName {
            name: token.to_owned(),
            reason,
        })
    };
    if token.is_empty() || token.len() > max {
        return invalid("must be 1 to 32 characters long");
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return invalid("may contain only A-Z, a-z, 0-9, `_` and `-`");
    }
    Ok(())
}

/// Whether a NATS subject matches a filter with `*` and `>` wildcards.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut filter_tokens = filter.split('.');
    let mut subject_tokens = subject.split('.');
    loop {
        match (filter_tokens.next(), subject_tokens.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(f), Some(s)) if f == s => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new("pdk").unwrap()
    }

    #[test]
    fn subjects_follow_the_documented_shapes() {
        let n = names();
        assert_eq!(n.release(Ecosystem::CratesIo), "pdk.release.crates-io");
        assert_eq!(n.static_result(Ecosystem::Npm), "pdk.result.static.npm");
        assert_eq!(
            n.alert(Severity::High, Ecosystem::Pypi),
            "pdk.alert.high.pypi"
        );
        assert_eq!(n.dead_letter("static"), "pdk.dlq.static");
        assert_eq!(n.stream(StreamKind::Releases), "pdk_RELEASES");
    }

    #[test]
    fn every_subject_is_stored_by_its_stream() {
        let n = names();
        for eco in paddock_proto::ecosystem::ALL {
            assert!(subject_matches(
                &n.stream_subjects(StreamKind::Releases),
                &n.release(eco)
            ));
            assert!(subject_matches(
                &n.stream_subjects(StreamKind::Results),
                &n.static_result(eco)
            ));
            assert!(subject_matches(
                &n.stream_subjects(StreamKind::Results),
                &n.dynamic_result(eco)
            ));
            for sev in paddock_proto::ecosystem::SEVERITIES {
                assert!(subject_matches(
                    &n.stream_subjects(StreamKind::Alerts),
                    &n.alert(sev, eco)
                ));
            }
        }
        assert!(!subject_matches(
            &n.stream_subjects(StreamKind::Releases),
            "other.release.npm"
        ));
    }

    #[test]
    fn invalid_prefixes_are_refused_with_the_reason() {
        for bad in ["", "a.b", "a b", "a*", &"x".repeat(33)] {
            let err = Names::new(bad).unwrap_err().to_string();
            assert!(err.contains("invalid bus name"), "{err}");
        }
    }

    #[test]
    fn package_names_escape_reversibly_without_dots() {
        for name in [
            "@scope/pkg",
            "vendor/name",
            "zope.interface",
            "a=b",
            "ünïcode",
            "plain-name_1",
        ] {
            let key = escape_key(name);
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-=".contains(&b)),
                "{key}"
            );
            assert_eq!(unescape_key(&key).as_deref(), Some(name));
        }
        assert_eq!(names().history_key(Ecosystem::Npm, "@a/b"), "npm.=40a=2Fb");
        assert_eq!(
            names()
                .index_key(Ecosystem::Npm, "@a/b", "1.0.0-rc.1")
                .as_deref(),
            Some("npm.=40a=2Fb.1=2E0=2E0-rc=2E1")
        );
        assert_eq!(
            names().index_key(Ecosystem::Pypi, "../x", "..").as_deref(),
            Some("pypi.=2E=2E=2Fx.=2E=2E")
        );
        assert_eq!(names().index_key(Ecosystem::Npm, "", "1"), None);
        assert_eq!(names().index_key(Ecosystem::Npm, "a", ""), None);
    }

    #[test]
    fn wildcards_match_like_nats() {
        assert!(subject_matches("a.>", "a.b.c"));
        assert!(!subject_matches("a.>", "a"));
        assert!(subject_matches("a.*.c", "a.b.c"));
        assert!(!subject_matches("a.*", "a.b.c"));
    }
}
