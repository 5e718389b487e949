//! Feed settings, per ecosystem.

use std::time::Duration;

use paddock_proto::v1::Ecosystem;
use serde::{Deserialize, Serialize};

/// One ecosystem's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EcosystemFeed {
    pub enabled: bool,
    /// Time between polls.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Packages to watch instead of the whole registry (empty: firehose).
    pub watch: Vec<String>,
    /// How far back the first poll of a feed with no stored cursor looks.
    #[serde(with = "humantime_serde")]
    pub initial_lookback: Duration,
    /// Where a feed with no stored cursor starts in a sequence-based feed
    /// (npm: a change sequence, default `now`; Packagist: a `since` value,
    /// default now). A number is accepted as well as a string.
    #[serde(deserialize_with = "string_or_number", default)]
    pub initial_token: Option<String>,
}

impl Default for EcosystemFeed {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: Duration::from_secs(120),
            watch: Vec::new(),
            initial_lookback: Duration::from_secs(3600),
            initial_token: None,
        }
    }
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Token {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Token>::deserialize(d)?.map(|t| match t {
        Token::Text(s) => s,
        Token::Number(n) => n.to_string(),
    }))
}

/// The feed service's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedConfig {
    /// Whether `paddock up` runs the feed (`paddock serve feed` always does).
    pub enabled: bool,
    pub pypi: EcosystemFeed,
    pub npm: EcosystemFeed,
    pub rubygems: EcosystemFeed,
    pub packagist: EcosystemFeed,
    pub crates_io: EcosystemFeed,
    /// Releases resolved, downloaded and published at once per feed.
    pub concurrency: usize,
    /// Releases handled per poll; the rest wait for the next poll.
    pub max_items_per_poll: usize,
    /// How long a replica stays the one that polls an ecosystem after it
    /// started or finished a poll. Several feed replicas may run: one polls
    /// an ecosystem at a time, and when it stops (a crash, a lost node)
    /// another takes over once this has passed. A replica that stops
    /// cleanly gives its leases up at once.
    #[serde(with = "humantime_serde")]
    pub lease: std::time::Duration,
    /// How far before its stored position each poll reads again. Registries
    /// list some releases late: a publish time stamped before the release
    /// became visible, or (npm) a package whose newer release moved the
    /// position past an older change still being listed. Releases seen
    /// twice are published once (the stream drops the second by its message
    /// id, and a replica skips what it published in the last minutes
    /// without downloading it again).
    #[serde(with = "humantime_serde")]
    pub overlap: std::time::Duration,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            pypi: EcosystemFeed::default(),
            npm: EcosystemFeed::default(),
            rubygems: EcosystemFeed::default(),
            packagist: EcosystemFeed::default(),
            crates_io: EcosystemFeed::default(),
            concurrency: 8,
            max_items_per_poll: 2000,
            lease: std::time::Duration::from_secs(60),
            overlap: std::time::Duration::from_secs(120),
        }
    }
}

impl FeedConfig {
    pub fn ecosystem(&self, eco: Ecosystem) -> &EcosystemFeed {
        match eco {
            Ecosystem::Pypi | Ecosystem::Unspecified => &self.pypi,
            Ecosystem::Npm => &self.npm,
            Ecosystem::Rubygems => &self.rubygems,
            Ecosystem::Packagist => &self.packagist,
            Ecosystem::CratesIo => &self.crates_io,
        }
    }

    pub fn ecosystem_mut(&mut self, eco: Ecosystem) -> &mut EcosystemFeed {
        match eco {
            Ecosystem::Pypi | Ecosystem::Unspecified => &mut self.pypi,
            Ecosystem::Npm => &mut self.npm,
            Ecosystem::Rubygems => &mut self.rubygems,
            Ecosystem::Packagist => &mut self.packagist,
            Ecosystem::CratesIo => &mut self.crates_io,
        }
    }
}
