//! The soak: production's shape on one machine, under load and chaos.
//!
//! A three-node JetStream cluster with the R3 topology; `replicas` copies of
//! every service, each its own `paddock serve <service>` process; the
//! fixture registry, into which the load generator
//! (`paddock_testkit::loadgen`) publishes a seeded stream of releases at a
//! set rate; and, while it runs, a seeded chaos schedule: SIGKILL of the
//! JetStream meta leader and of the RELEASES stream's leader (each
//! restarted), SIGKILL of random service replicas (restarted), one replica
//! frozen with SIGSTOP and resumed, and the Parquet sink's directory
//! unavailable for a while.
//!
//! Afterwards [`Outcome::problems`] lists every broken invariant: a release
//! lost or published twice, a static result missing or doubled, a dynamic
//! result doubled within one analysis run, a verdict missing, an alert id
//! twice on ALERTS, a Parquet row twice or missing, a feed cursor short of
//! the last release, a dead letter that is not a hostile artifact (or a
//! hostile artifact that is not dead-lettered with a reason).
//!
//! Used by `tests/soak.rs` (a short run in CI) and `benches/soak.rs` (the
//! whole soak, with its figures).
#![allow(dead_code)] // each user uses some of it
#![allow(clippy::disallowed_methods)] // a test harness reads its environment

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use paddock_proto::v1::{DynamicResult, Ecosystem, Release, StaticResult};
use paddock_testkit::cluster::TestCluster;
use paddock_testkit::loadgen::{self, Kind, Mix, Published, ReleaseKey, Verdicts};
use paddock_testkit::registry::FixtureRegistry;
use paddock_testkit::rng::XorShift;
use prost::Message;

/// What to run.
#[derive(Debug, Clone)]
pub struct Soak {
    /// The `paddock` binary.
    pub paddock: PathBuf,
    pub releases: usize,
    /// Releases published per second.
    pub rate: f64,
    pub ecosystems: Vec<Ecosystem>,
    pub mix: Mix,
    /// Copies of each service.
    pub replicas: usize,
    /// Whether the dynamic service runs (each release is then installed,
    /// imported and run in the sandbox).
    pub dynamic: bool,
    pub chaos: Option<Chaos>,
    pub seed: u64,
    /// How long to wait after the last release for the last verdict.
    pub drain: Duration,
    /// How often the feed polls.
    pub feed_interval: Duration,
}

/// The chaos schedule's size.
#[derive(Debug, Clone)]
pub struct Chaos {
    /// Node kills, alternately the meta leader and the RELEASES leader.
    pub node_kills: usize,
    /// How long a killed node stays down.
    pub node_down: Duration,
    pub service_kills: usize,
    /// How long one replica stays frozen (SIGSTOP), if at all.
    pub hang: Option<Duration>,
    /// How long the Parquet directory stays unavailable, if at all.
    pub sink_outage: Option<Duration>,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    pub published: Vec<Published>,
    pub verdicts: Verdicts,
    /// Publish-to-verdict, per release with a verdict.
    pub latencies: Vec<(Kind, Duration)>,
    /// Broken invariants, each a sentence.
    pub problems: Vec<String>,
    /// The chaos that was done, in order, with times from the start.
    pub chaos_log: Vec<String>,
    /// Messages per kind on the streams.
    pub counts: BTreeMap<String, usize>,
    /// From the first publish to the last verdict.
    pub elapsed: Duration,
}

const SERVICES: [&str; 6] = ["static", "dynamic", "diff", "sink", "api", "feed"];

/// A service process; killed when dropped.
struct Replica {
    service: &'static str,
    index: usize,
    child: Option<Child>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            stop(child);
        }
    }
}

/// Stops a service as its orchestrator would: SIGTERM (after SIGCONT, in
/// case it is frozen), so that it ends its work in flight and cleans up
/// (the dynamic service removes its sandboxes, mounts and network
/// namespaces), then SIGKILL after 20 s.
pub fn stop(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

struct Fleet {
    paddock: PathBuf,
    registry_env: Vec<(String, String)>,
    urls: String,
    prefix: String,
    dir: PathBuf,
    parquet: PathBuf,
    ecosystems: Vec<Ecosystem>,
    feed_interval: Duration,
    /// Whether dynamic analysis runs; without it the diff decides each
    /// release on its static result alone, at once.
    dynamic: bool,
    replicas: Vec<Replica>,
}

/// `paddock serve <service>` as replica `index` of a deployment on
/// `urls` (a seed list) under `prefix`, fed by the fixture registry whose
/// environment is `registry_env`: its own data directory under `dir`, the
/// shared Parquet dataset `parquet`, feeds of `ecosystems` polled every
/// `feed_interval` from the beginning, a 5 s feed lease; stdout piped,
/// stderr appended to `<dir>/<service>-<index>/stderr.log`.
#[allow(clippy::too_many_arguments)]
pub fn serve_command(
    paddock: &Path,
    registry_env: &[(String, String)],
    service: &str,
    index: usize,
    urls: &str,
    prefix: &str,
    dir: &Path,
    parquet: &Path,
    ecosystems: &[Ecosystem],
    feed_interval: Duration,
) -> Command {
    let name = format!("{service}-{index}");
    let data = dir.join(&name);
    std::fs::create_dir_all(&data).unwrap();
    let mut cmd = Command::new(paddock);
    for (key, _) in std::env::vars() {
        if key.starts_with("PADDOCK") && key != "PADDOCK_NATS_SERVER" {
            cmd.env_remove(key);
        }
    }
    cmd.envs(registry_env.iter().cloned())
        .env("PADDOCK__REGISTRIES__HTTP__BACKOFF_INITIAL", "10ms")
        .args(["serve", service, "--nats-url", urls])
        .env("PADDOCK__BUS__PREFIX", prefix)
        .env("PADDOCK__BUS__APPLY_TOPOLOGY", "false")
        .env("PADDOCK__DATA_DIR", &data)
        // Every sink replica writes one dataset, as pods on one volume: a
        // message redelivered to another replica after a crash is
        // recognised there as already written.
        .env("PADDOCK__SINK__PARQUET__DIR", parquet)
        .env("PADDOCK__SINK__PARQUET__MAX_AGE", "1s")
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__LISTEN", "127.0.0.1:0")
        .env("PADDOCK__API__WEB_LISTEN", "off")
        .env("PADDOCK__FEED__LEASE", "5s")
        .env("PADDOCK__BUS__CONSUMER__SHUTDOWN_GRACE", "2s")
        .env(
            "PADDOCK__DYNAMIC__ANALYSIS__WORKER_ID",
            format!("rep{index}x{}", std::process::id()),
        )
        .env("PADDOCK__DYNAMIC__ANALYSIS__WORK_DIR", data.join("work"))
        .env(
            "PADDOCK__DYNAMIC__ANALYSIS__SANDBOX__STATE_DIR",
            data.join("runsc"),
        );
    let interval = format!("{}ms", feed_interval.as_millis());
    for eco in ["PYPI", "NPM", "RUBYGEMS", "PACKAGIST", "CRATES_IO"] {
        let wanted = ecosystems.iter().any(|e| eco_key(*e) == eco);
        cmd.env(format!("PADDOCK__FEED__{eco}__ENABLED"), wanted.to_string())
            .env(format!("PADDOCK__FEED__{eco}__INTERVAL"), &interval)
            .env(
                format!("PADDOCK__FEED__{eco}__INITIAL_LOOKBACK"),
                "3650days",
            );
    }
    cmd.env("PADDOCK__FEED__NPM__INITIAL_TOKEN", "0")
        .env("PADDOCK__FEED__PACKAGIST__INITIAL_TOKEN", "0");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("stderr.log"))
        .unwrap();
    cmd.stdout(Stdio::piped()).stderr(Stdio::from(log));
    cmd
}

impl Fleet {
    fn command(&self, service: &str, index: usize) -> Command {
        let mut cmd = serve_command(
            &self.paddock,
            &self.registry_env,
            service,
            index,
            &self.urls,
            &self.prefix,
            &self.dir,
            &self.parquet,
            &self.ecosystems,
            self.feed_interval,
        );
        if !self.dynamic {
            // A static-only deployment: no release waits for a dynamic
            // result that never comes (`diff.deadline`).
            cmd.env("PADDOCK__DIFF__DEADLINE", "0s");
        }
        cmd
    }

    /// Starts one replica; with `wait`, until it says it is ready.
    fn spawn(&self, service: &'static str, index: usize, wait: bool) -> Replica {
        let mut child = self.command(service, index).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        if wait {
            let deadline = Instant::now() + Duration::from_secs(900);
            loop {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(line) if line.contains("paddock is ready") => break,
                    Ok(_) => {}
                    Err(e) => {
                        let log = std::fs::read_to_string(
                            self.dir.join(format!("{service}-{index}/stderr.log")),
                        )
                        .unwrap_or_default();
                        let tail: Vec<&str> = log.lines().rev().take(15).collect();
                        panic!("{service}-{index} did not start ({e}): {tail:#?}")
                    }
                }
            }
        }
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Replica {
            service,
            index,
            child: Some(child),
        }
    }

    fn signal(&self, at: usize, signal: &str) {
        if let Some(child) = self.replicas[at].child.as_ref() {
            let _ = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status();
        }
    }

    fn kill_and_restart(&mut self, at: usize) {
        let (service, index) = (self.replicas[at].service, self.replicas[at].index);
        if let Some(mut child) = self.replicas[at].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        std::thread::sleep(Duration::from_millis(500));
        let replica = self.spawn(service, index, false);
        self.replicas[at] = replica;
    }
}

fn eco_key(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::Pypi => "PYPI",
        Ecosystem::Npm => "NPM",
        Ecosystem::Rubygems => "RUBYGEMS",
        Ecosystem::Packagist => "PACKAGIST",
        _ => "CRATES_IO",
    }
}

/// One chaos action at a time from the start of publishing.
#[derive(Debug, Clone)]
enum Action {
    KillNode { meta: bool },
    KillService,
    Hang(Duration),
    SinkOutage(Duration),
}

fn schedule(chaos: &Chaos, window: Duration, seed: u64) -> Vec<(Duration, Action)> {
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).max(1));
    let at =
        |rng: &mut XorShift| window.mul_f64(0.05 + 0.85 * (rng.below(10_000) as f64 / 10_000.0));
    let mut out = Vec::new();
    for k in 0..chaos.node_kills {
        // Spread evenly, so the cluster is whole again before the next.
        let t = window.mul_f64((k + 1) as f64 / (chaos.node_kills + 1) as f64);
        out.push((t, Action::KillNode { meta: k % 2 == 0 }));
    }
    for _ in 0..chaos.service_kills {
        out.push((at(&mut rng), Action::KillService));
    }
    if let Some(d) = chaos.hang {
        out.push((at(&mut rng), Action::Hang(d)));
    }
    if let Some(d) = chaos.sink_outage {
        out.push((at(&mut rng), Action::SinkOutage(d)));
    }
    out.sort_by_key(|(t, _)| *t);
    out
}

/// Runs the soak and checks its invariants.
pub async fn run(soak: Soak) -> Outcome {
    let registry = FixtureRegistry::with_packages(Vec::new()).await;
    let cluster = Arc::new(tokio::sync::Mutex::new(TestCluster::start(3).await));
    let urls = cluster.lock().await.urls();
    let prefix = paddock_testkit::unique_prefix();
    let dir = tempfile::Builder::new()
        .prefix("paddock-soak-")
        .tempdir()
        .unwrap();
    let keep = std::env::var_os("PADDOCK_SOAK_KEEP").is_some();

    let applied = Command::new(&soak.paddock)
        .args(["topology", "--apply", "--nats-url", &urls])
        .env("PADDOCK__BUS__PREFIX", &prefix)
        .env("PADDOCK__BUS__TOPOLOGY__REPLICAS", "3")
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let mut fleet = Fleet {
        paddock: soak.paddock.clone(),
        registry_env: registry.env_vars(),
        urls: urls.clone(),
        prefix: prefix.clone(),
        dir: dir.path().to_owned(),
        parquet: dir.path().join("parquet"),
        ecosystems: soak.ecosystems.clone(),
        feed_interval: soak.feed_interval,
        dynamic: soak.dynamic,
        replicas: Vec::new(),
    };
    for service in SERVICES {
        if service == "dynamic" && !soak.dynamic {
            continue;
        }
        for index in 0..soak.replicas {
            let replica = fleet.spawn(service, index, true);
            fleet.replicas.push(replica);
        }
    }

    // Verdicts as they are stored on ALERTS.
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(
            urls.split(',')
                .map(|u| u.parse::<async_nats::ServerAddr>().unwrap())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let verdicts = Arc::new(Mutex::new(Verdicts::default()));
    let stop = paddock_bus::CancellationToken::new();
    let watcher = tokio::spawn(loadgen::watch_verdicts(
        js.clone(),
        format!("{prefix}_ALERTS"),
        verdicts.clone(),
        stop.clone(),
    ));

    // Chaos beside the load.
    let window = Duration::from_secs_f64(soak.releases as f64 / soak.rate);
    let plan = soak
        .chaos
        .as_ref()
        .map(|c| schedule(c, window, soak.seed))
        .unwrap_or_default();
    let fleet = Arc::new(Mutex::new(fleet));
    let chaos_log = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let chaos = {
        let (fleet, cluster, log, prefix) = (
            fleet.clone(),
            cluster.clone(),
            chaos_log.clone(),
            prefix.clone(),
        );
        let node_down = soak.chaos.as_ref().map(|c| c.node_down).unwrap_or_default();
        let mut rng = XorShift(soak.seed.max(1) ^ 0x5eed);
        tokio::spawn(async move {
            for (at, action) in plan {
                tokio::time::sleep_until((started + at).into()).await;
                let t = started.elapsed().as_secs_f64();
                match action {
                    Action::KillNode { meta } => {
                        let mut c = cluster.lock().await;
                        let leader = if meta {
                            c.meta_leader().await
                        } else {
                            c.stream_leader(&format!("{prefix}_RELEASES")).await
                        };
                        let node = leader.unwrap_or(rng.below(c.size()));
                        c.kill(node).await;
                        log.lock().unwrap().push(format!(
                            "{t:.1}s SIGKILL node n{node} ({})",
                            if meta {
                                "meta leader"
                            } else {
                                "RELEASES leader"
                            }
                        ));
                        drop(c);
                        tokio::time::sleep(node_down).await;
                        let mut c = cluster.lock().await;
                        c.restart(node).await;
                        let t = started.elapsed().as_secs_f64();
                        log.lock()
                            .unwrap()
                            .push(format!("{t:.1}s restarted n{node}"));
                    }
                    Action::KillService => {
                        let fleet = fleet.clone();
                        let pick = rng.next_u64();
                        let name = tokio::task::spawn_blocking(move || {
                            let mut f = fleet.lock().unwrap();
                            let at = (pick % f.replicas.len() as u64) as usize;
                            let name =
                                format!("{}-{}", f.replicas[at].service, f.replicas[at].index);
                            f.kill_and_restart(at);
                            name
                        })
                        .await
                        .unwrap();
                        log.lock()
                            .unwrap()
                            .push(format!("{t:.1}s SIGKILL {name}, restarted"));
                    }
                    Action::Hang(d) => {
                        let (name, at) = {
                            let f = fleet.lock().unwrap();
                            let at = rng.below(f.replicas.len());
                            f.signal(at, "-STOP");
                            (
                                format!("{}-{}", f.replicas[at].service, f.replicas[at].index),
                                at,
                            )
                        };
                        log.lock()
                            .unwrap()
                            .push(format!("{t:.1}s SIGSTOP {name} for {d:?}"));
                        tokio::time::sleep(d).await;
                        fleet.lock().unwrap().signal(at, "-CONT");
                    }
                    Action::SinkOutage(d) => {
                        let parquet = fleet.lock().unwrap().parquet.clone();
                        let away = parquet.with_extension("away");
                        let _ = std::fs::create_dir_all(&parquet);
                        std::fs::rename(&parquet, &away).unwrap();
                        // A file where the directory was: every write fails.
                        std::fs::write(&parquet, b"").unwrap();
                        log.lock()
                            .unwrap()
                            .push(format!("{t:.1}s Parquet directory unavailable for {d:?}"));
                        tokio::time::sleep(d).await;
                        std::fs::remove_file(&parquet).unwrap();
                        std::fs::rename(&away, &parquet).unwrap();
                    }
                }
            }
        })
    };

    // The load.
    let releases = loadgen::plan(soak.releases, &soak.mix, &soak.ecosystems, soak.seed);
    let published = loadgen::publish(&registry, releases, soak.rate).await;
    chaos.await.unwrap();

    // Until every release that should have a verdict has one.
    let wanted: Vec<&Published> = published
        .iter()
        .filter(|p| p.kind != Kind::Hostile)
        .collect();
    // (Or the drain time is up, or five minutes pass without a new one.)
    let deadline = Instant::now() + soak.drain;
    let (mut last_missing, mut progress) = (usize::MAX, Instant::now());
    loop {
        let missing = {
            let v = verdicts.lock().unwrap();
            wanted
                .iter()
                .filter(|p| !v.first.contains_key(&p.key))
                .count()
        };
        if missing != last_missing {
            (last_missing, progress) = (missing, Instant::now());
        }
        if missing == 0
            || Instant::now() > deadline
            || progress.elapsed() > Duration::from_secs(300)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let elapsed = started.elapsed();
    // The sinks and the DLQ settle: every worker consumer has nothing left.
    settle(
        &js,
        &prefix,
        soak.dynamic,
        Instant::now() + Duration::from_secs(120),
    )
    .await;
    stop.cancel();
    let _ = watcher.await;

    let verdicts = verdicts.lock().unwrap().clone();
    let (latencies, _) = loadgen::latencies(
        &wanted.iter().map(|p| (*p).clone()).collect::<Vec<_>>(),
        &verdicts,
    );
    let mut outcome = Outcome {
        latencies,
        elapsed,
        chaos_log: chaos_log.lock().unwrap().clone(),
        ..Default::default()
    };
    check(
        &soak,
        &js,
        &prefix,
        &published,
        &verdicts,
        &dir.path().join("parquet"),
        &mut outcome,
    )
    .await;
    // No replica may have given up on its own (an election or a node's
    // restart is no reason to exit).
    {
        let mut f = fleet.lock().unwrap();
        let dir = f.dir.clone();
        for r in f.replicas.iter_mut() {
            if let Some(Ok(Some(status))) = r.child.as_mut().map(|c| c.try_wait()) {
                let log = std::fs::read_to_string(
                    dir.join(format!("{}-{}/stderr.log", r.service, r.index)),
                )
                .unwrap_or_default();
                let last = log.lines().last().unwrap_or_default().to_owned();
                outcome.problems.push(format!(
                    "{}-{} exited on its own ({status}): {last}",
                    r.service, r.index
                ));
            }
        }
    }
    outcome.published = published;
    outcome.verdicts = verdicts;
    drop(fleet);
    if keep {
        let kept = dir.keep();
        eprintln!("soak: kept {}", kept.display());
    }
    outcome
}

/// Waits until every durable consumer that has a service running here has
/// nothing pending.
async fn settle(
    js: &async_nats::jetstream::Context,
    prefix: &str,
    dynamic: bool,
    deadline: Instant,
) {
    let names = paddock_bus::names::Names::new(prefix).unwrap();
    // Idle twice in a row: one reading can fall between a redelivery's
    // backoff and the message's return.
    let mut idle_readings = 0;
    loop {
        let mut busy = 0;
        for spec in names.consumers() {
            if spec.durable.starts_with("sink-bigquery")
                || spec.durable.starts_with("sink-osv")
                || (!dynamic && spec.durable == "dynamic")
            {
                continue;
            }
            let info = match js
                .get_consumer_from_stream::<async_nats::jetstream::consumer::pull::Config, _, _>(
                    &spec.durable,
                    &spec.stream_name,
                )
                .await
            {
                Ok(mut c) => c.info().await.ok().cloned(),
                Err(_) => None,
            };
            // A consumer that cannot be read right now (an overloaded or
            // recovering cluster) is not known to be idle.
            busy += info.map_or(1, |info| info.num_pending + info.num_ack_pending as u64);
        }
        idle_readings = if busy == 0 { idle_readings + 1 } else { 0 };
        if idle_readings >= 2 || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every message of `stream`: (sequence, subject, type, headers, payload).
pub async fn stored(
    js: &async_nats::jetstream::Context,
    stream: &str,
) -> Vec<(u64, String, String, async_nats::HeaderMap, Vec<u8>)> {
    let mut s = js.get_stream(stream).await.unwrap();
    let last = s.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    for sequence in 1..=last {
        // A replica still catching up after a node kill may answer a
        // direct get with "not found": ask again before taking it as a gap.
        let mut got = None;
        for _ in 0..5 {
            match s.direct_get(sequence).await {
                Ok(m) => {
                    got = Some(m);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let Some(m) = got else {
            continue;
        };
        let kind = m
            .headers
            .get(paddock_bus::names::headers::MESSAGE_TYPE)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        out.push((
            sequence,
            m.subject.to_string(),
            kind,
            m.headers.clone(),
            m.payload.to_vec(),
        ));
    }
    out
}

fn key(p: Option<&paddock_proto::v1::PackageRef>) -> Option<ReleaseKey> {
    p.map(|p| loadgen::release_key_of(p.ecosystem(), &p.name, &p.version))
}

#[allow(clippy::too_many_arguments)]
async fn check(
    soak: &Soak,
    js: &async_nats::jetstream::Context,
    prefix: &str,
    published: &[Published],
    verdicts: &Verdicts,
    parquet: &Path,
    outcome: &mut Outcome,
) {
    let problems = &mut outcome.problems;
    let kinds: BTreeMap<&ReleaseKey, Kind> = published.iter().map(|p| (&p.key, p.kind)).collect();
    let hostile = |k: &ReleaseKey| kinds.get(k) == Some(&Kind::Hostile);

    // RELEASES: each published release once.
    let releases = stored(js, &format!("{prefix}_RELEASES")).await;
    let mut per_release: BTreeMap<ReleaseKey, usize> = BTreeMap::new();
    for (_, _, _, _, payload) in &releases {
        if let Some(k) = Release::decode(payload.as_slice())
            .ok()
            .and_then(|r| key(r.package.as_ref()))
        {
            *per_release.entry(k).or_default() += 1;
        }
    }
    for p in published {
        match per_release.get(&p.key).copied().unwrap_or(0) {
            1 => {}
            0 => problems.push(format!("{:?} was never announced (lost)", p.key)),
            n => problems.push(format!("{:?} is on RELEASES {n} times", p.key)),
        }
    }
    if per_release.len() != published.len() {
        problems.push(format!(
            "RELEASES holds {} releases, {} were published",
            per_release.len(),
            published.len()
        ));
    }

    // RESULTS: one static result per release (none for hostile archives),
    // one dynamic result per analysis run and at least one run each.
    let results = stored(js, &format!("{prefix}_RESULTS")).await;
    let mut statics: BTreeMap<ReleaseKey, usize> = BTreeMap::new();
    let mut runs: BTreeMap<(ReleaseKey, String), usize> = BTreeMap::new();
    let (mut n_static, mut n_dynamic) = (0, 0);
    for (_, _, kind, _, payload) in &results {
        match kind.as_str() {
            "paddock.v1.StaticResult" => {
                n_static += 1;
                if let Some(k) = StaticResult::decode(payload.as_slice())
                    .ok()
                    .and_then(|r| key(r.package.as_ref()))
                {
                    *statics.entry(k).or_default() += 1;
                }
            }
            "paddock.v1.DynamicResult" => {
                n_dynamic += 1;
                if let Ok(r) = DynamicResult::decode(payload.as_slice()) {
                    if let Some(k) = key(r.package.as_ref()) {
                        let run = r.run.map(|r| r.run_id).unwrap_or_default();
                        *runs.entry((k, run)).or_default() += 1;
                    }
                }
            }
            _ => {}
        }
    }
    for p in published {
        let n = statics.get(&p.key).copied().unwrap_or(0);
        let want = usize::from(!hostile(&p.key));
        if n != want {
            problems.push(format!(
                "{:?} ({}) has {n} static results, not {want}",
                p.key,
                p.kind.name()
            ));
        }
        if soak.dynamic {
            let mine: Vec<usize> = runs
                .iter()
                .filter(|((k, _), _)| *k == p.key)
                .map(|(_, n)| *n)
                .collect();
            if mine.is_empty() {
                problems.push(format!("{:?} has no dynamic result", p.key));
            }
            if mine.iter().any(|n| *n > 1) {
                problems.push(format!("{:?} has a dynamic result twice in one run", p.key));
            }
        }
    }

    // ALERTS: a verdict for every release but the hostile ones; no alert id
    // twice.
    for p in published.iter().filter(|p| p.kind != Kind::Hostile) {
        if !verdicts.first.contains_key(&p.key) {
            problems.push(format!("{:?} ({}) has no verdict", p.key, p.kind.name()));
        }
    }
    for (id, n) in &verdicts.alert_ids {
        if *n > 1 {
            problems.push(format!("alert {id} is on ALERTS {n} times"));
        }
    }
    let alerts = stored(js, &format!("{prefix}_ALERTS")).await;

    // DLQ: only the hostile archives, each with its reason.
    let dlq = stored(js, &format!("{prefix}_DLQ")).await;
    let mut dead: BTreeSet<ReleaseKey> = BTreeSet::new();
    for (_, subject, kind, headers, payload) in &dlq {
        let reason = headers
            .get(paddock_bus::names::headers::DLQ_REASON)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let k = (kind == "paddock.v1.Release")
            .then(|| loadgen::release_key(payload))
            .flatten();
        match k {
            Some(k) if hostile(&k) && !reason.is_empty() => {
                dead.insert(k);
            }
            _ => problems.push(format!(
                "the DLQ holds {kind} on {subject} that is not a hostile artifact (reason: {reason})"
            )),
        }
    }
    for p in published.iter().filter(|p| p.kind == Kind::Hostile) {
        if !dead.contains(&p.key) {
            problems.push(format!("hostile {:?} is not in the DLQ", p.key));
        }
    }

    // Parquet: every table holds each message once; releases, results and
    // alerts all arrived.
    let mut rows: BTreeMap<&str, usize> = BTreeMap::new();
    for table in paddock_sink::arrow::table::tables() {
        let name = table.table_name();
        let batches = match paddock_sink::parquet::read_table(parquet, name) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("the Parquet table {name} cannot be read: {e:?}"));
                continue;
            }
        };
        let mut ids = BTreeMap::<String, usize>::new();
        for batch in &batches {
            let column = batch.column_by_name("_msg_id").and_then(|c| {
                c.as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .cloned()
            });
            let Some(column) = column else {
                problems.push(format!("{name} has no _msg_id column"));
                break;
            };
            for id in column.iter().flatten() {
                *ids.entry(id.to_owned()).or_default() += 1;
            }
        }
        let doubled = ids.values().filter(|n| **n > 1).count();
        if doubled > 0 {
            problems.push(format!(
                "the Parquet table {name} holds {doubled} messages more than once"
            ));
        }
        rows.insert(name, ids.len());
    }
    let n_alerts = alerts.len();
    for (table, want) in [
        ("releases", releases.len()),
        ("static_results", n_static),
        ("dynamic_results", n_dynamic),
        ("alerts", n_alerts),
    ] {
        let got = rows.get(table).copied().unwrap_or(0);
        if got != want {
            problems.push(format!(
                "the Parquet table {table} holds {got} messages of {want}"
            ));
        }
    }

    // Feed cursors: at the last release of each ecosystem.
    let kv = js
        .get_key_value(format!("{prefix}-feed-cursors"))
        .await
        .unwrap();
    for eco in &soak.ecosystems {
        let mine: Vec<&Published> = published.iter().filter(|p| p.key.0 == *eco).collect();
        let Some(last) = mine.iter().map(|p| p.at).max() else {
            continue;
        };
        let names = paddock_bus::names::Names::new(prefix).unwrap();
        let entry = kv.get(names.cursor_key(*eco)).await.ok().flatten();
        let cursor: serde_json::Value = entry
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let time = match eco {
            // Packagist's position is the changes feed's own timestamp
            // (seconds × 10,000).
            Ecosystem::Packagist => cursor["token"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs(t / 10_000)),
            _ => cursor["time"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| SystemTime::from(t.with_timezone(&chrono::Utc))),
        };
        // RSS dates have whole seconds.
        let at_last = time.is_some_and(|t| t + Duration::from_secs(1) >= last);
        let token_ok = *eco != Ecosystem::Npm
            || cursor["token"]
                .as_str()
                .and_then(|t| t.parse::<usize>().ok())
                == Some(mine.len());
        if !(at_last && token_ok) {
            problems.push(format!(
                "the {eco:?} feed cursor {cursor} is short of its last release"
            ));
        }
    }

    outcome.counts = [
        ("releases", releases.len()),
        ("static results", n_static),
        ("dynamic results", n_dynamic),
        ("alerts", n_alerts),
        ("dead letters", dlq.len()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
}

impl Outcome {
    /// p50 and p99 of publish-to-verdict over the releases with a verdict.
    pub fn latency(&self) -> (Duration, Duration) {
        let all: Vec<Duration> = self.latencies.iter().map(|(_, d)| *d).collect();
        (loadgen::quantile(&all, 0.5), loadgen::quantile(&all, 0.99))
    }

    /// A summary for a test's failure message or a bench's output.
    pub fn report(&self) -> String {
        let (p50, p99) = self.latency();
        let mut out = format!(
            "{} releases in {:.1}s; publish-to-verdict p50 {:.2}s p99 {:.2}s; {:?}\n",
            self.published.len(),
            self.elapsed.as_secs_f64(),
            p50.as_secs_f64(),
            p99.as_secs_f64(),
            self.counts
        );
        for line in &self.chaos_log {
            out.push_str(&format!("  chaos: {line}\n"));
        }
        for p in self.problems.iter().take(40) {
            out.push_str(&format!("  PROBLEM: {p}\n"));
        }
        if self.problems.len() > 40 {
            out.push_str(&format!("  … and {} more\n", self.problems.len() - 40));
        }
        out
    }
}

/// Static throughput with `replicas` static processes: `releases` fixture
/// releases are announced first (no static replica runs), then the static
/// replicas start and the time to the last static result is measured.
/// Returns (releases per second, seconds).
pub async fn static_throughput(paddock: &Path, releases: usize, replicas: usize) -> (f64, f64) {
    let registry = FixtureRegistry::with_packages(Vec::new()).await;
    let cluster = TestCluster::start(3).await;
    let urls = cluster.urls();
    let prefix = paddock_testkit::unique_prefix();
    let dir = tempfile::tempdir().unwrap();
    let applied = Command::new(paddock)
        .args(["topology", "--apply", "--nats-url", &urls])
        .env("PADDOCK__BUS__PREFIX", &prefix)
        .env("PADDOCK__BUS__TOPOLOGY__REPLICAS", "3")
        .output()
        .unwrap();
    assert!(applied.status.success());
    let ecosystems = vec![Ecosystem::Npm, Ecosystem::Pypi, Ecosystem::CratesIo];
    let mut fleet = Fleet {
        paddock: paddock.to_owned(),
        registry_env: registry.env_vars(),
        urls: urls.clone(),
        prefix: prefix.clone(),
        dir: dir.path().to_owned(),
        parquet: dir.path().join("parquet"),
        ecosystems: ecosystems.clone(),
        feed_interval: Duration::from_millis(200),
        dynamic: false,
        replicas: Vec::new(),
    };
    let feed = fleet.spawn("feed", 0, true);
    fleet.replicas.push(feed);
    let mix = Mix {
        honest: 70,
        update: 30,
        trojan: 0,
        hostile: 0,
    };
    let plan = loadgen::plan(releases, &mix, &ecosystems, 11);
    loadgen::publish(&registry, plan, 1000.0).await;
    let client = async_nats::connect(cluster.url(0)).await.unwrap();
    let js = async_nats::jetstream::new(client);
    // Nobody reads the diff's consumers here: their pending counts are the
    // static results stored so far.
    let releases_stored = || {
        let js = js.clone();
        let stream = format!("{prefix}_RELEASES");
        async move {
            js.get_stream(&stream)
                .await
                .unwrap()
                .info()
                .await
                .unwrap()
                .state
                .messages as usize
        }
    };
    let statics_stored = || {
        let js = js.clone();
        let stream = format!("{prefix}_RESULTS");
        async move {
            let mut c = js
                .get_consumer_from_stream::<async_nats::jetstream::consumer::pull::Config, _, _>(
                    "diff-static",
                    &stream,
                )
                .await
                .unwrap();
            c.info().await.unwrap().num_pending as usize
        }
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while releases_stored().await < releases {
        assert!(
            Instant::now() < deadline,
            "the feed did not announce every release"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let start = Instant::now();
    for index in 0..replicas {
        let r = fleet.spawn("static", index, false);
        fleet.replicas.push(r);
    }
    while statics_stored().await < releases {
        assert!(Instant::now() < deadline, "static analysis did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(fleet);
    (releases as f64 / seconds, seconds)
}
