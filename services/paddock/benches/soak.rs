//! The whole soak and the latency and throughput figures of issue 18, on
//! this machine (release build):
//!
//! ```text
//! cargo bench -p paddock --bench soak               # everything below
//! SOAK=chaos cargo bench -p paddock --bench soak    # one part
//! ```
//!
//! - `chaos`: 2,000 releases (`SOAK_RELEASES`) of all five ecosystems at
//!   `SOAK_RATE` (10/s) through the three-node cluster with two replicas of
//!   every service, under two NATS node kills, five service kills, a frozen
//!   replica and a minute without the Parquet directory; static analysis
//!   for every release, dynamic analysis off unless `SOAK_DYNAMIC=1` (on
//!   these two cores the sandbox runs about one release per 2-5 s; the CI
//!   test `tests/soak.rs` runs dynamic analysis under the same chaos).
//!   Prints the invariants that broke (none, or the bench fails).
//! - `latency-static` and `latency-full`: publish-to-verdict p50/p99 at a
//!   steady rate without chaos, static only and with dynamic analysis.
//! - `throughput`: static releases per second with one and two replicas.

#[path = "../tests/support/soak.rs"]
mod soak;

use std::time::Duration;

use paddock_proto::v1::Ecosystem;
use paddock_testkit::loadgen::Mix;

fn env<T: std::str::FromStr>(key: &str, default: T) -> T {
    #[allow(clippy::disallowed_methods)] // a bench reads its knobs
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const ALL: [Ecosystem; 5] = [
    Ecosystem::Npm,
    Ecosystem::Pypi,
    Ecosystem::Rubygems,
    Ecosystem::Packagist,
    Ecosystem::CratesIo,
];

fn base(releases: usize, rate: f64, dynamic: bool) -> soak::Soak {
    soak::Soak {
        paddock: env!("CARGO_BIN_EXE_paddock").into(),
        releases,
        rate,
        ecosystems: ALL.to_vec(),
        mix: Mix::default(),
        replicas: 2,
        dynamic,
        chaos: None,
        seed: env("SOAK_SEED", 18u64),
        drain: Duration::from_secs(env("SOAK_DRAIN_SECS", 3600u64)),
        feed_interval: Duration::from_millis(env("SOAK_FEED_INTERVAL_MS", 1000u64)),
    }
}

fn print_latency(what: &str, rate: f64, outcome: &soak::Outcome) {
    let (p50, p99) = outcome.latency();
    println!(
        "{what}: {} releases at {rate}/s: publish-to-verdict p50 {:.2} s, p99 {:.2} s ({} with a verdict)",
        outcome.published.len(),
        p50.as_secs_f64(),
        p99.as_secs_f64(),
        outcome.latencies.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let which: String = env("SOAK", "all".to_owned());
    let run = |part: &str| which == "all" || which == part;
    let mut failed = false;

    if run("throughput") {
        let n = env("SOAK_THROUGHPUT_RELEASES", 1000usize);
        for replicas in [1, 2] {
            let (rate, seconds) =
                soak::static_throughput(env!("CARGO_BIN_EXE_paddock").as_ref(), n, replicas).await;
            println!("throughput: static, {replicas} replica(s): {n} releases in {seconds:.1} s = {rate:.1} releases/s");
        }
    }
    if run("latency-static") {
        let rate = env("SOAK_STATIC_RATE", 10.0f64);
        let outcome = soak::run(base(env("SOAK_LATENCY_RELEASES", 600usize), rate, false)).await;
        print_latency("latency-static", rate, &outcome);
        failed |= !outcome.problems.is_empty();
        if !outcome.problems.is_empty() {
            println!("{}", outcome.report());
        }
    }
    if run("latency-full") {
        let rate = env("SOAK_FULL_RATE", 0.2f64);
        let mut s = base(env("SOAK_FULL_RELEASES", 60usize), rate, true);
        s.ecosystems = vec![Ecosystem::Npm, Ecosystem::Pypi];
        let outcome = soak::run(s).await;
        print_latency("latency-full", rate, &outcome);
        failed |= !outcome.problems.is_empty();
        if !outcome.problems.is_empty() {
            println!("{}", outcome.report());
        }
    }
    if run("chaos") {
        let releases = env("SOAK_RELEASES", 2000usize);
        let rate = env("SOAK_RATE", 10.0f64);
        let mut s = base(releases, rate, env("SOAK_DYNAMIC", 0u8) == 1);
        s.chaos = Some(soak::Chaos {
            node_kills: env("SOAK_NODE_KILLS", 2usize),
            node_down: Duration::from_secs(10),
            service_kills: env("SOAK_SERVICE_KILLS", 5usize),
            hang: Some(Duration::from_secs(30)),
            sink_outage: Some(Duration::from_secs(60)),
        });
        let outcome = soak::run(s).await;
        println!("chaos: {}", outcome.report());
        print_latency("chaos", rate, &outcome);
        failed |= !outcome.problems.is_empty();
    }
    if failed {
        std::process::exit(1);
    }
}
