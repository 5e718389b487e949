//! Acceptance: the BigQuery sink, the real `paddock-sink` binary against
//! the BigQuery emulator.
//!
//! - 10,000 mixed messages with the sink SIGKILLed three times: exactly
//!   10,000 rows (per table, one per message), queried back with SQL.
//! - A row the emulator refuses goes to the dead-letter stream with the
//!   reason; the rest of its batch lands.
//! - A query of the reference system's published shape over the `analysis`
//!   table returns the expected packages.
//! - A 503 is retried in place and the rows land; a 403 and a deleted
//!   dataset dead-letter the messages after their last delivery, with the
//!   reason.
//! - A sink whose BigQuery endpoint cannot be reached is alive but not
//!   ready, and says why.
#![allow(clippy::disallowed_methods)]

#[path = "../../../crates/paddock-sink/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use paddock_bus::names::headers;
use paddock_bus::{Bus, StreamKind};
use paddock_proto::v1;
use paddock_sink::bigquery::{BigQueryClient, BigQueryConfig, Credentials};
use paddock_sink::Table;
use paddock_testkit::bigquery::BqEmulator;
use paddock_testkit::fault_proxy::{Fault, FaultProxy};
use paddock_testkit::rng::XorShift;
use paddock_testkit::TestNats;
use prost::Message as _;
use prost_reflect::{DynamicMessage, ReflectMessage, Value};

fn sink(nats: &str, prefix: &str, bq: &BqEmulator) -> tokio::process::Child {
    sink_at(nats, prefix, bq.project(), bq.endpoint())
}

/// The sink with its BigQuery endpoint at `endpoint` (the emulator, or a
/// fault proxy in front of it).
fn sink_at(nats: &str, prefix: &str, project: &str, endpoint: &str) -> tokio::process::Child {
    bigquery_command(nats, prefix, project, endpoint)
        .spawn()
        .expect("paddock-sink starts")
}

fn bigquery_command(
    nats: &str,
    prefix: &str,
    project: &str,
    endpoint: &str,
) -> tokio::process::Command {
    let mut command = support::sink_command(nats, prefix);
    command
        .env("PADDOCK__SINK__PARQUET__ENABLED", "false")
        .env("PADDOCK__SINK__BIGQUERY__ENABLED", "true")
        .env("PADDOCK__SINK__BIGQUERY__PROJECT", project)
        .env("PADDOCK__SINK__BIGQUERY__DATASET", "paddock")
        .env("PADDOCK__SINK__BIGQUERY__ENDPOINT", endpoint)
        .env("PADDOCK__SINK__BIGQUERY__CREDENTIALS", "none")
        .env("PADDOCK__SINK__BIGQUERY__REFERENCE_TABLES", "true")
        .env("PADDOCK__SINK__BIGQUERY__MAX_ROWS", "500")
        .env("PADDOCK__SINK__BIGQUERY__MAX_AGE", "300ms")
        .env("PADDOCK__SINK__BIGQUERY__RETRY_BACKOFF", "100ms")
        .env("PADDOCK__BUS__TOPOLOGY__ACK_WAIT", "10s");
    command
}

async fn client(bq: &BqEmulator) -> BigQueryClient {
    let config = BigQueryConfig {
        project: Some(bq.project().to_owned()),
        dataset: "paddock".into(),
        endpoint: bq.endpoint().to_owned(),
        credentials: Credentials::None,
        ..Default::default()
    };
    BigQueryClient::new(config).await.unwrap()
}

/// Clamps every unsigned 64-bit value to BigQuery's INT64 range (the
/// protos' uint64 is wider than any BigQuery integer; such rows are the
/// dead-letter test's subject, not this one's).
fn fits_int64(message: &mut DynamicMessage) {
    let fields: Vec<_> = message.descriptor().fields().collect();
    for field in fields {
        if !message.has_field(&field) {
            continue;
        }
        match message.get_field_mut(&field) {
            Value::U64(v) => *v = (*v).min(i64::MAX as u64),
            Value::Message(m) => fits_int64(m),
            Value::List(items) => {
                for item in items {
                    match item {
                        Value::U64(v) => *v = (*v).min(i64::MAX as u64),
                        Value::Message(m) => fits_int64(m),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn text(row: &serde_json::Value, key: &str) -> String {
    row[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_land_once_in_bigquery_through_three_kills() {
    let bq = BqEmulator::start().await;
    let nats = TestNats::start().await;
    let (bus, prefix) = support::bus(&nats).await;

    let mut rng = XorShift(0x5eed_b10c);
    let messages = support::mixed(&mut rng, 10_000, fits_int64);
    let (mut child, sequences) = support::publish_through_kills(
        &bus,
        &messages,
        &mut rng,
        (Duration::from_millis(2000), Duration::from_millis(3000)),
        || sink(nats.url(), &prefix, &bq),
        String::new,
    )
    .await;
    support::drained(&bus, "bigquery", Duration::from_secs(600)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // What each table should hold: sequence → (name, version).
    let mut expected: BTreeMap<Table, BTreeMap<u64, (String, String)>> = BTreeMap::new();
    for ((table, bytes), sequence) in messages.iter().zip(&sequences) {
        let message = DynamicMessage::decode(table.descriptor(), bytes.as_slice()).unwrap();
        let package = |m: &DynamicMessage| -> (String, String) {
            match m.get_field_by_name("package").as_deref() {
                Some(Value::Message(p)) => (
                    p.get_field_by_name("name")
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    p.get_field_by_name("version")
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                ),
                _ => Default::default(),
            }
        };
        expected
            .entry(*table)
            .or_default()
            .insert(*sequence, package(&message));
        if *table == Table::Alerts && message.has_field_by_name("verdict") {
            if let Some(Value::Message(verdict)) = message.get_field_by_name("verdict").as_deref() {
                expected
                    .entry(Table::Verdicts)
                    .or_default()
                    .insert(*sequence, package(verdict));
            }
        }
    }

    let client = client(&bq).await;
    let mut total = 0;
    for table in paddock_sink::tables() {
        let want = expected.remove(&table).unwrap_or_default();
        let sql = format!(
            "SELECT _stream_sequence AS seq, package.name AS name, package.version AS version \
             FROM `{}.paddock.{}` ORDER BY _stream_sequence",
            bq.project(),
            table.table_name()
        );
        let rows = client.query(&sql).await.unwrap();
        let mut got = BTreeMap::new();
        for row in &rows {
            let seq: u64 = text(row, "seq").parse().unwrap();
            assert!(
                got.insert(seq, (text(row, "name"), text(row, "version")))
                    .is_none(),
                "{table}: sequence {seq} stored twice"
            );
        }
        assert_eq!(
            got.len(),
            want.len(),
            "{table}: {} rows in BigQuery, {} published",
            got.len(),
            want.len()
        );
        assert_eq!(got, want, "{table}: rows differ from what was published");
        if table != Table::Verdicts {
            total += got.len();
        }
        eprintln!("{table}: {} rows", got.len());
    }
    assert_eq!(total, 10_000);
    let count = client
        .query(&format!(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT _msg_id) AS ids FROM `{}.paddock.dynamic_results`",
            bq.project()
        ))
        .await
        .unwrap();
    assert_eq!(text(&count[0], "n"), text(&count[0], "ids"));
}

/// A dynamic result of `name` whose install phase resolved `host`.
fn resolved(name: &str, host: &str, i: usize) -> v1::DynamicResult {
    let mut result = common::realistic_dynamic_result(i);
    let package = result.package.as_mut().unwrap();
    package.name = name.to_owned();
    package.version = "1.0.0".to_owned();
    for phase in &mut result.phases {
        for dns in &mut phase.dns {
            dns.hostname = if phase.phase == v1::Phase::Install as i32 {
                host.to_owned()
            } else {
                "registry.internal.example".to_owned()
            };
        }
    }
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_rows_are_dead_lettered_and_reference_queries_run() {
    let bq = BqEmulator::start().await;
    let nats = TestNats::start().await;
    let (bus, prefix) = support::bus(&nats).await;

    // The dead-letter stream, read from the start.
    let dlq_subject = bus.names().dead_letter("sink-bigquery-results");
    let mut dead_letters = nats
        .client()
        .await
        .subscribe(dlq_subject.clone())
        .await
        .unwrap();

    // Twenty ordinary results, two packages that phone home at install, and
    // one result with a value BigQuery's INT64 cannot hold.
    let mut published = Vec::new();
    for i in 0..20 {
        let result = resolved(&format!("quiet-{i}"), "registry.internal.example", i);
        published.push(result);
    }
    published.push(resolved("beacon-a", "c2.attacker.example", 100));
    published.push(resolved("beacon-b", "exfil.attacker.example", 101));
    let mut huge = resolved("too-big", "registry.internal.example", 102);
    huge.phases[0].resources.as_mut().unwrap().max_rss_bytes = u64::MAX;
    published.push(huge);
    let mut huge_sequence = 0;
    for (i, result) in published.iter().enumerate() {
        let sequence = support::publish(
            &bus,
            &format!("r:{i}"),
            Table::DynamicResults,
            &result.encode_to_vec(),
        )
        .await;
        if result.package.as_ref().unwrap().name == "too-big" {
            huge_sequence = sequence;
        }
    }

    let mut child = sink(nats.url(), &prefix, &bq);
    support::drained(&bus, "bigquery", Duration::from_secs(120)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // The refused row is a dead letter, with the reason and where it was.
    let letter = tokio::time::timeout(Duration::from_secs(10), dead_letters.next())
        .await
        .expect("a dead letter arrives")
        .unwrap();
    let h = letter.headers.as_ref().unwrap();
    let reason = h.get(headers::DLQ_REASON).unwrap().as_str().to_owned();
    assert!(
        reason.contains("dynamic_results") && reason.contains("bigquery"),
        "{reason}"
    );
    assert_eq!(
        h.get(headers::DLQ_SEQUENCE).unwrap().as_str(),
        huge_sequence.to_string()
    );
    assert_eq!(
        h.get(headers::DLQ_CONSUMER).unwrap().as_str(),
        bus.names()
            .sink_consumer("bigquery", StreamKind::Results)
            .durable
    );
    let letter_result = v1::DynamicResult::decode(letter.payload.as_ref()).unwrap();
    assert_eq!(letter_result.package.unwrap().name, "too-big");

    // The others landed.
    let names = row_names(&bq).await;
    assert_eq!(names.len(), 22, "{names:?}");
    let (client, project) = (client(&bq).await, bq.project());
    assert!(!names.contains("too-big"));

    // A query of the reference system's published shape (package-analysis
    // docs/queries.md: DNS lookups at install outside an allow-list, over
    // the day-partitioned `analysis` table) runs unchanged on Paddock's
    // rows.
    let sql = format!(
        "SELECT DISTINCT Package.Ecosystem, Package.Name, Package.Version, q.Hostname \
         FROM `{project}.paddock.analysis`, \
           UNNEST(Analysis.install.DNS) AS d, \
           UNNEST(d.Queries) AS q \
         WHERE TIMESTAMP_TRUNC(CreatedTimestamp, DAY) >= TIMESTAMP('2020-01-01') \
           AND q.Hostname NOT IN ('registry.internal.example') \
         ORDER BY Package.Name"
    );
    let rows = client.query(&sql).await.unwrap();
    let found: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                text(r, "Ecosystem"),
                text(r, "Name"),
                text(r, "Version"),
                text(r, "Hostname"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "npm".to_owned(),
                "beacon-a".to_owned(),
                "1.0.0".to_owned(),
                "c2.attacker.example".to_owned()
            ),
            (
                "npm".to_owned(),
                "beacon-b".to_owned(),
                "1.0.0".to_owned(),
                "exfil.attacker.example".to_owned()
            ),
        ],
        "{sql}"
    );
}

/// Messages published on the results stream and the dead letters of the
/// BigQuery sink's results consumer, as (package, reason, deliveries).
async fn publish_results(bus: &paddock_bus::JetStreamBus, names: &[&str]) {
    for (i, name) in names.iter().enumerate() {
        let result = resolved(name, "registry.internal.example", i);
        support::publish(
            bus,
            &format!("r:{name}"),
            Table::DynamicResults,
            &result.encode_to_vec(),
        )
        .await;
    }
}

async fn collect_dead_letters(
    letters: &mut async_nats::Subscriber,
    n: usize,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        let letter = tokio::time::timeout(Duration::from_secs(60), letters.next())
            .await
            .expect("the dead letters arrive")
            .unwrap();
        let h = letter.headers.as_ref().unwrap();
        let name = v1::DynamicResult::decode(letter.payload.as_ref())
            .unwrap()
            .package
            .unwrap()
            .name;
        out.push((
            name,
            h.get(headers::DLQ_REASON).unwrap().as_str().to_owned(),
            h.get(headers::DLQ_DELIVERIES).unwrap().as_str().to_owned(),
        ));
    }
    out.sort();
    out
}

async fn row_names(bq: &BqEmulator) -> BTreeSet<String> {
    let project = bq.project();
    client(bq)
        .await
        .query(&format!(
            "SELECT package.name AS name FROM `{project}.paddock.dynamic_results`"
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| text(r, "name"))
        .collect()
}

/// A bus whose consumers allow three deliveries, a subscription to the
/// BigQuery results consumer's dead letters, and the sink with its
/// endpoint at `endpoint`.
async fn three_deliveries(
    nats: &TestNats,
    project: &str,
    endpoint: &str,
) -> (
    paddock_bus::JetStreamBus,
    async_nats::Subscriber,
    tokio::process::Child,
) {
    let (bus, prefix) = support::bus_with(nats, |c| c.topology.max_deliver = 3).await;
    let letters = nats
        .client()
        .await
        .subscribe(bus.names().dead_letter("sink-bigquery-results"))
        .await
        .unwrap();
    let child = bigquery_command(nats.url(), &prefix, project, endpoint)
        .env("PADDOCK__BUS__TOPOLOGY__MAX_DELIVER", "3")
        .spawn()
        .unwrap();
    (bus, letters, child)
}

/// Each of `names` was dead-lettered after its third delivery, with a
/// reason that says the sink cannot store it and passes `says`.
fn gave_up_on(letters: &[(String, String, String)], names: &[&str], says: impl Fn(&str) -> bool) {
    let packages: Vec<&str> = letters.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(packages, names);
    for (_, reason, deliveries) in letters {
        assert_eq!(deliveries, "3");
        assert!(
            reason.starts_with("gave up after 3 deliveries: the bigquery sink cannot store it:")
                && says(reason),
            "{reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_in_place_and_the_rows_land() {
    let bq = BqEmulator::start().await;
    let proxy = FaultProxy::start(bq.endpoint()).await;
    proxy.fail(
        Fault::google(
            "/insertAll",
            503,
            "backendError",
            "the service is unavailable",
        )
        .times(3),
    );
    let nats = TestNats::start().await;
    let (bus, prefix) = support::bus(&nats).await;
    let names = ["first", "second", "third"];
    publish_results(&bus, &names).await;

    let mut child = sink_at(nats.url(), &prefix, bq.project(), proxy.origin());
    support::drained(&bus, "bigquery", Duration::from_secs(120)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    assert_eq!(proxy.served().len(), 3, "{:?}", proxy.served());
    assert_eq!(row_names(&bq).await, names.map(String::from).into());
    let mut dlq = bus
        .jetstream()
        .get_stream(bus.names().stream(StreamKind::DeadLetters))
        .await
        .unwrap();
    assert_eq!(dlq.info().await.unwrap().state.messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_dead_letters_the_messages_after_their_deliveries_with_the_reason() {
    let bq = BqEmulator::start().await;
    let proxy = FaultProxy::start(bq.endpoint()).await;
    proxy.fail(Fault::google(
        "/insertAll",
        403,
        "accessDenied",
        "Access Denied: Permission bigquery.tables.updateData denied",
    ));
    let nats = TestNats::start().await;
    let (bus, mut letters, mut child) = three_deliveries(&nats, bq.project(), proxy.origin()).await;
    publish_results(&bus, &["denied-a", "denied-b"]).await;
    let letters = collect_dead_letters(&mut letters, 2).await;
    support::drained(&bus, "bigquery", Duration::from_secs(60)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    gave_up_on(&letters, &["denied-a", "denied-b"], |reason| {
        reason.contains("403 accessDenied") && reason.contains("grant it roles/bigquery.dataEditor")
    });
    assert!(row_names(&bq).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_dataset_dead_letters_the_messages_with_the_reason() {
    let bq = BqEmulator::start().await;
    let nats = TestNats::start().await;
    let (bus, mut letters, mut child) = three_deliveries(&nats, bq.project(), bq.endpoint()).await;
    publish_results(&bus, &["before"]).await;
    support::drained(&bus, "bigquery", Duration::from_secs(60)).await;
    assert_eq!(row_names(&bq).await, BTreeSet::from(["before".to_owned()]));

    // The dataset is deleted under the running sink.
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{}/bigquery/v2/projects/{}/datasets/paddock?deleteContents=true",
            bq.endpoint(),
            bq.project()
        ))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{deleted:?}");
    publish_results(&bus, &["after-a", "after-b"]).await;
    let letters = collect_dead_letters(&mut letters, 2).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // BigQuery answers 404; the emulator a 500 that says the dataset's
    // schema does not exist.
    gave_up_on(&letters, &["after-a", "after-b"], |reason| {
        reason.contains("dynamic_results")
            && (reason.contains("404") || reason.contains("does not exist"))
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_cannot_reach_bigquery_is_alive_but_not_ready() {
    let nats = TestNats::start().await;
    let (_bus, prefix) = support::bus(&nats).await;
    // Two loopback ports nobody listens on: BigQuery's and the health
    // endpoint's (bound here, then freed for the sink).
    let free = || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (nowhere, health) = (free(), free());
    let mut child = bigquery_command(
        nats.url(),
        &prefix,
        "paddock-test",
        &format!("http://{nowhere}"),
    )
    .env("PADDOCK__HTTP__LISTEN", health.to_string())
    .spawn()
    .expect("paddock-sink starts");

    let http = reqwest::Client::new();
    let mut report = serde_json::Value::Null;
    for _ in 0..300 {
        if let Ok(answer) = http.get(format!("http://{health}/readyz")).send().await {
            assert_eq!(answer.status(), 503, "not ready");
            report = answer.json().await.unwrap();
            if report["components"]["sink-bigquery"]["reason"].is_string() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alive = http
        .get(format!("http://{health}/healthz"))
        .send()
        .await
        .unwrap();
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    assert_eq!(alive.status(), 200, "the process is alive");
    assert_eq!(report["ready"], false, "{report}");
    let reason = report["components"]["sink-bigquery"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("preparing its dataset and tables") && reason.contains("retrying in"),
        "{report}"
    );
    // Its consumers never started, and say so.
    let consumer = &report["components"]["consumer sink-bigquery-results"];
    assert_eq!(consumer["ready"], false, "{report}");
}
