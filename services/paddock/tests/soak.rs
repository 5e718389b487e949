//! The soak, short enough for CI: a three-node JetStream cluster, two
//! replicas of every service (dynamic analysis included) as `paddock serve`
//! processes, a seeded stream of releases of two ecosystems from the load
//! generator (honest releases, honest updates, trojaned updates and hostile
//! archives), and chaos while it runs: two node kills (the meta leader,
//! then the RELEASES leader), five service kills, one replica frozen with
//! SIGSTOP, and the Parquet sink's directory gone for a while. Nothing may be
//! lost or doubled (see `support/soak.rs` for every invariant checked).
//!
//! The whole soak (2,000 releases) is `cargo bench -p paddock --bench
//! soak`; its figures are in deploy/README.md ("Measured on one machine").

#[path = "support/soak.rs"]
mod soak;

use std::time::Duration;

use paddock_proto::v1::Ecosystem;
use paddock_testkit::loadgen::Mix;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_under_node_and_service_kills_loses_and_doubles_nothing() {
    let outcome = soak::run(soak::Soak {
        paddock: env!("CARGO_BIN_EXE_paddock").into(),
        releases: 48,
        rate: 1.5,
        ecosystems: vec![Ecosystem::Npm, Ecosystem::Pypi],
        mix: Mix {
            honest: 40,
            update: 30,
            trojan: 20,
            hostile: 10,
        },
        replicas: 2,
        dynamic: true,
        chaos: Some(soak::Chaos {
            node_kills: 2,
            node_down: Duration::from_secs(5),
            service_kills: 5,
            hang: Some(Duration::from_secs(8)),
            sink_outage: Some(Duration::from_secs(10)),
        }),
        seed: 20261207,
        drain: Duration::from_secs(600),
        feed_interval: Duration::from_millis(500),
    })
    .await;
    eprintln!("{}", outcome.report());
    assert!(outcome.problems.is_empty(), "{}", outcome.report());
    assert_eq!(
        outcome
            .chaos_log
            .iter()
            .filter(|l| l.contains("node n"))
            .count(),
        2
    );
    assert_eq!(
        outcome
            .chaos_log
            .iter()
            .filter(|l| l.contains("SIGKILL") && !l.contains("node"))
            .count(),
        5
    );
    // Stopped as an orchestrator stops them, the dynamic replicas left no
    // sandbox behind: no network namespace, no mount.
    let mine = format!("x{}-", std::process::id());
    assert_eq!(
        paddock_testkit::leftovers::namespaces_with(&mine),
        Vec::<String>::new()
    );
    assert_eq!(
        paddock_testkit::leftovers::mounts_with(&mine),
        Vec::<String>::new()
    );
    // Every kind of the mix was published and judged (hostile ones
    // dead-lettered instead).
    for kind in ["honest", "update", "trojan", "hostile"] {
        assert!(
            outcome.published.iter().any(|p| p.kind.name() == kind),
            "no {kind} release in the plan"
        );
    }
}
