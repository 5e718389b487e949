//! The load generator: publishes a seeded stream of fixture releases
//! through the fixture registry at a set rate and mix, and records when
//! each one was published and when its verdict reached the ALERTS stream.
//!
//! ```no_run
//! # async fn demo(registry: &paddock_testkit::registry::FixtureRegistry) {
//! use paddock_testkit::loadgen::{plan, publish, Mix};
//! use paddock_proto::v1::Ecosystem;
//! let releases = plan(200, &Mix::default(), &[Ecosystem::Npm, Ecosystem::Pypi], 7);
//! let published = publish(registry, releases, 5.0).await; // 5 releases a second
//! # }
//! ```
//!
//! The mix, per planned release:
//! - **honest**: a new package without hooks;
//! - **update**: a package with an honest install hook, then its next
//!   release, which differs only in noise ([`Flavour::Builder`]);
//! - **trojan**: an honest package, then a trojaned next release
//!   ([`Flavour::Trojan`]);
//! - **hostile**: an npm or crates.io release whose archive no analysis may
//!   unpack (an entry climbing out with `..`, an absolute path, or a link
//!   pointing outside); it belongs in the dead-letter stream with its
//!   reason, never in the results.
//!
//! Updates follow their first release a few releases later, as the
//! registries interleave them. Every release is published at the current
//! time, so the feeds announce it on their next poll.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use paddock_proto::v1::{Alert, Ecosystem, Release};
use prost::Message;

use crate::packages::{self, Built, FixturePackage, Flavour};
use crate::registry::FixtureRegistry;
use crate::rng::XorShift;

/// What a planned release is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Honest,
    /// The first release of a package that gets an update.
    UpdateBase,
    Update,
    /// The honest first release of a package whose next one is trojaned.
    TrojanBase,
    Trojan,
    Hostile,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Honest => "honest",
            Kind::UpdateBase => "update-base",
            Kind::Update => "update",
            Kind::TrojanBase => "trojan-base",
            Kind::Trojan => "trojan",
            Kind::Hostile => "hostile",
        }
    }
}

/// Relative weights of the kinds (an update or a trojan counts its two
/// releases).
#[derive(Debug, Clone)]
pub struct Mix {
    pub honest: u32,
    pub update: u32,
    pub trojan: u32,
    pub hostile: u32,
}

impl Default for Mix {
    /// Mostly honest new releases and honest updates; one release in twenty
    /// trojaned, one in fifty hostile.
    fn default() -> Self {
        Self {
            honest: 58,
            update: 30,
            trojan: 10,
            hostile: 2,
        }
    }
}

/// A release to publish.
#[derive(Debug, Clone)]
pub struct Planned {
    pub pkg: FixturePackage,
    pub kind: Kind,
    /// The hostile archive served instead of the built one.
    pub hostile: Option<Built>,
}

/// A published release.
#[derive(Debug, Clone)]
pub struct Published {
    pub key: ReleaseKey,
    pub kind: Kind,
    pub at: SystemTime,
}

/// (ecosystem, name, version).
pub type ReleaseKey = (Ecosystem, String, String);

pub fn key_of(pkg: &FixturePackage) -> ReleaseKey {
    release_key_of(pkg.eco, &pkg.name, &pkg.version)
}

/// A release's key as the pipeline's messages spell it, normalised:
/// Packagist's versions carry a `v` (`v1.0.0`) the fixtures do not.
pub fn release_key_of(eco: Ecosystem, name: &str, version: &str) -> ReleaseKey {
    let version = match eco {
        Ecosystem::Packagist => version.trim_start_matches('v'),
        _ => version,
    };
    (eco, name.to_owned(), version.to_owned())
}

fn package_name(eco: Ecosystem, base: &str) -> String {
    match eco {
        Ecosystem::Packagist => format!("loadgen/{base}"),
        Ecosystem::Rubygems => base.replace('-', "_"),
        _ => base.into(),
    }
}

fn release(eco: Ecosystem, base: &str, version: &str, flavour: Flavour) -> FixturePackage {
    FixturePackage {
        eco,
        name: package_name(eco, base),
        version: version.into(),
        published: String::new(),
        flavour,
        dependencies: Vec::new(),
    }
}

/// `count` releases of `ecosystems` in the proportions of `mix`, the same
/// for the same seed.
pub fn plan(count: usize, mix: &Mix, ecosystems: &[Ecosystem], seed: u64) -> Vec<Planned> {
    assert!(!ecosystems.is_empty());
    let mut rng = XorShift(seed.max(1));
    let hostile_ecosystems: Vec<Ecosystem> = ecosystems
        .iter()
        .copied()
        .filter(|e| matches!(e, Ecosystem::Npm | Ecosystem::CratesIo))
        .collect();
    let total = (mix.honest + mix.update + mix.trojan + mix.hostile).max(1) as usize;
    let mut out: Vec<Planned> = Vec::with_capacity(count);
    // Updates waiting for their turn: (position to publish at, release).
    let mut pending: Vec<(usize, Planned)> = Vec::new();
    let mut n = 0usize;
    while out.len() < count {
        if let Some(i) = pending.iter().position(|(at, _)| *at <= out.len()) {
            out.push(pending.remove(i).1);
            continue;
        }
        // Near the end, only single releases fit (unless updates wait).
        let room = count - out.len() - pending.len();
        if room == 0 {
            let (_, next) = pending.remove(0);
            out.push(next);
            continue;
        }
        n += 1;
        let eco = *rng.pick(ecosystems);
        let mut roll = rng.below(total) as u32;
        let pick = |w: u32, roll: &mut u32| {
            if *roll < w {
                true
            } else {
                *roll -= w;
                false
            }
        };
        let later = out.len() + 1 + rng.below(20);
        if pick(mix.honest, &mut roll) || room < 2 {
            let pkg = release(eco, &format!("lg-honest-{n}"), "1.0.0", Flavour::Honest);
            out.push(Planned {
                pkg,
                kind: Kind::Honest,
                hostile: None,
            });
        } else if pick(mix.update, &mut roll) {
            let base = format!("lg-builder-{n}");
            out.push(Planned {
                pkg: release(eco, &base, "2.3.0", Flavour::Builder),
                kind: Kind::UpdateBase,
                hostile: None,
            });
            pending.push((
                later,
                Planned {
                    pkg: release(eco, &base, "2.3.1", Flavour::Builder),
                    kind: Kind::Update,
                    hostile: None,
                },
            ));
        } else if pick(mix.trojan, &mut roll) {
            let base = format!("lg-trojaned-{n}");
            out.push(Planned {
                pkg: release(eco, &base, "1.4.0", Flavour::Honest),
                kind: Kind::TrojanBase,
                hostile: None,
            });
            pending.push((
                later,
                Planned {
                    pkg: release(eco, &base, "1.4.1", Flavour::Trojan),
                    kind: Kind::Trojan,
                    hostile: None,
                },
            ));
        } else if hostile_ecosystems.is_empty() {
            let pkg = release(eco, &format!("lg-honest-{n}"), "1.0.0", Flavour::Honest);
            out.push(Planned {
                pkg,
                kind: Kind::Honest,
                hostile: None,
            });
        } else {
            let eco = *rng.pick(&hostile_ecosystems);
            let pkg = release(eco, &format!("lg-hostile-{n}"), "0.0.1", Flavour::Honest);
            let archive = hostile_archive(&pkg, n % 3);
            out.push(Planned {
                pkg,
                kind: Kind::Hostile,
                hostile: Some(archive),
            });
        }
    }
    out
}

/// A `.tgz`/`.crate` that no extraction may accept: variant 0 has an entry
/// climbing out with `..`, 1 an absolute path, 2 a symlink to `/etc`.
pub fn hostile_archive(pkg: &FixturePackage, variant: usize) -> Built {
    let honest = packages::build(pkg);
    let root = match pkg.eco {
        Ecosystem::Npm => "package".to_owned(),
        _ => format!("{}-{}", pkg.name, pkg.version),
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut entry = |name: &str, kind: tar::EntryType, link: Option<&str>, body: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        // Written into the header directly: the tar crate refuses `..` and
        // absolute paths through its path setters, as it should.
        let raw = &mut header.as_old_mut().name;
        raw.fill(0);
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            let raw = &mut header.as_old_mut().linkname;
            raw.fill(0);
            raw[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        tar.append(&header, body).expect("writing to memory");
    };
    let manifest = match pkg.eco {
        Ecosystem::Npm => format!(
            "{{\"name\":\"{}\",\"version\":\"{}\"}}\n",
            pkg.name, pkg.version
        ),
        _ => format!(
            "[package]\nname = \"{}\"\nversion = \"{}\"\nedition = \"2021\"\n",
            pkg.name, pkg.version
        ),
    };
    let manifest_name = match pkg.eco {
        Ecosystem::Npm => "package.json",
        _ => "Cargo.toml",
    };
    entry(
        &format!("{root}/{manifest_name}"),
        tar::EntryType::Regular,
        None,
        manifest.as_bytes(),
    );
    match variant % 3 {
        0 => entry(
            &format!("{root}/../../paddock-escape.txt"),
            tar::EntryType::Regular,
            None,
            b"out\n",
        ),
        1 => entry(
            "/tmp/paddock-escape.txt",
            tar::EntryType::Regular,
            None,
            b"out\n",
        ),
        _ => entry(
            &format!("{root}/etc"),
            tar::EntryType::Symlink,
            Some("/etc"),
            b"",
        ),
    }
    let bytes = tar.into_inner().expect("writing to memory");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).expect("writing to memory");
    Built {
        filename: honest.filename,
        bytes: gz.finish().expect("writing to memory"),
    }
}

/// Publishes `releases` in order at `rate` per second (each stamped with
/// the time it is published), and returns when each was published.
pub async fn publish(
    registry: &FixtureRegistry,
    releases: Vec<Planned>,
    rate: f64,
) -> Vec<Published> {
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = tokio::time::Instant::now();
    let mut out = Vec::with_capacity(releases.len());
    for (i, mut planned) in releases.into_iter().enumerate() {
        tokio::time::sleep_until(start + interval * i as u32).await;
        let key = key_of(&planned.pkg);
        // Building the archives takes a few milliseconds: off the timer's
        // thread, so the rate holds.
        let pkg = planned.pkg.clone();
        let built = tokio::task::spawn_blocking(move || match planned.hostile {
            Some(b) => vec![b],
            None => crate::registry::artifacts_of(&pkg),
        })
        .await
        .expect("building an artifact");
        // Published when it becomes visible.
        let at = SystemTime::now();
        planned.pkg.published = chrono::DateTime::<chrono::Utc>::from(at)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        registry.publish_built(planned.pkg, built);
        out.push(Published {
            key,
            kind: planned.kind,
            at,
        });
    }
    out
}

/// What arrived on ALERTS: per release, its alerts' ids and when the first
/// was stored; plus every alert id with its count.
#[derive(Debug, Default, Clone)]
pub struct Verdicts {
    pub first: BTreeMap<ReleaseKey, SystemTime>,
    pub alert_ids: BTreeMap<String, usize>,
}

/// Follows `<prefix>_ALERTS` from its first message with an ordered
/// consumer (which survives a node's loss) until `stop` is cancelled, and
/// records when each release's verdict was stored.
pub async fn watch_verdicts(
    js: async_nats::jetstream::Context,
    stream: String,
    out: std::sync::Arc<std::sync::Mutex<Verdicts>>,
    stop: paddock_bus::CancellationToken,
) {
    use async_nats::jetstream::consumer::{self, DeliverPolicy};
    // After an error the consumer is made again from the next sequence.
    let mut seen_up_to = 0u64;
    loop {
        if stop.is_cancelled() {
            return;
        }
        let consumer = async {
            let s = js.get_stream(&stream).await.ok()?;
            s.create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: seen_up_to + 1,
                },
                ..Default::default()
            })
            .await
            .ok()
        }
        .await;
        let Some(consumer) = consumer else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let Ok(mut messages) = consumer.messages().await else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                _ = stop.cancelled() => return,
            };
            let Some(Ok(message)) = next else {
                break;
            };
            let Ok(info) = message.info() else { continue };
            let (sequence, stored) = (info.stream_sequence, info.published);
            if sequence <= seen_up_to {
                continue;
            }
            seen_up_to = sequence;
            let Ok(alert) = Alert::decode(message.payload.as_ref()) else {
                continue;
            };
            let Some(p) = alert.package.as_ref() else {
                continue;
            };
            let key = release_key_of(p.ecosystem(), &p.name, &p.version);
            let stored: SystemTime = stored.into();
            let mut v = out.lock().unwrap();
            v.first.entry(key).or_insert(stored);
            *v.alert_ids.entry(alert.alert_id.clone()).or_insert(0) += 1;
        }
    }
}

/// The `q`-quantile (0..=1) of `values` (nearest rank), or zero.
pub fn quantile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Publish-to-verdict latencies of the releases that have a verdict, and
/// the releases that have none.
pub fn latencies(
    published: &[Published],
    verdicts: &Verdicts,
) -> (Vec<(Kind, Duration)>, Vec<ReleaseKey>) {
    let mut got = Vec::new();
    let mut missing = Vec::new();
    for p in published {
        match verdicts.first.get(&p.key) {
            Some(t) => got.push((p.kind, t.duration_since(p.at).unwrap_or_default())),
            None => missing.push(p.key.clone()),
        }
    }
    (got, missing)
}

/// Decodes a release body (for the DLQ's copies).
pub fn release_key(payload: &[u8]) -> Option<ReleaseKey> {
    let r = Release::decode(payload).ok()?;
    let p = r.package?;
    Some(release_key_of(p.ecosystem(), &p.name, &p.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_has_the_count_the_mix_and_updates_after_their_first_release() {
        let ecosystems = [Ecosystem::Npm, Ecosystem::Pypi, Ecosystem::CratesIo];
        let releases = plan(500, &Mix::default(), &ecosystems, 42);
        assert_eq!(releases.len(), 500);
        let count = |k| releases.iter().filter(|r| r.kind == k).count();
        assert!(count(Kind::Honest) > 150, "{}", count(Kind::Honest));
        assert!(count(Kind::Trojan) > 10);
        assert!(count(Kind::Hostile) > 2);
        // Every update comes after its first release, and no release twice.
        let mut seen = std::collections::BTreeSet::new();
        for r in &releases {
            assert!(seen.insert(key_of(&r.pkg)), "{:?} twice", key_of(&r.pkg));
            if matches!(r.kind, Kind::Update | Kind::Trojan) {
                let earlier = releases
                    .iter()
                    .take_while(|o| !std::ptr::eq(*o, r))
                    .any(|o| o.pkg.name == r.pkg.name && o.pkg.eco == r.pkg.eco);
                assert!(earlier, "{} has no first release before it", r.pkg.name);
            }
        }
        // The same seed, the same plan.
        let again = plan(500, &Mix::default(), &ecosystems, 42);
        assert!(releases
            .iter()
            .zip(&again)
            .all(|(a, b)| key_of(&a.pkg) == key_of(&b.pkg) && a.kind == b.kind));
    }

    #[test]
    fn every_hostile_archive_is_refused_by_the_extractor() {
        let dir = tempfile::tempdir().unwrap();
        for eco in [Ecosystem::Npm, Ecosystem::CratesIo] {
            for variant in 0..3 {
                let pkg = release(eco, "lg-hostile-1", "0.0.1", Flavour::Honest);
                let built = hostile_archive(&pkg, variant);
                let path = dir.path().join(format!("{variant}-{}", built.filename));
                std::fs::write(&path, &built.bytes).unwrap();
                let out = dir.path().join(format!("out-{variant}-{eco:?}"));
                let result = paddock_registry::extract::extract_auto(
                    &path,
                    &out,
                    &paddock_registry::extract::ExtractLimits::default(),
                );
                assert!(result.is_err(), "{eco:?} variant {variant} was extracted");
            }
        }
        assert!(!dir.path().join("paddock-escape.txt").exists());
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
