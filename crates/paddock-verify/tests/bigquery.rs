//! `verify`'s BigQuery store against the BigQuery emulator, with rows the
//! sink's own BigQuery writer inserted.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use paddock_proto::v1::{Ecosystem, Severity};
use paddock_sink::bigquery::{BigQueryClient, BigQueryConfig, BigQueryWriter, Credentials};
use paddock_sink::row::{Output, Row, RowBody, Writer as _};
use paddock_sink::Table;
use paddock_testkit::bigquery::BqEmulator;
use paddock_verify::{BigQueryStore, ReleaseKey};
use prost::Message as _;

mod common;
use common::Release;

#[tokio::test]
async fn releases_are_found_in_the_bigquery_sinks_dataset() {
    let bq = BqEmulator::start().await;
    let config = BigQueryConfig {
        dataset: "paddock_verify".into(),
        endpoint: bq.endpoint().to_owned(),
        credentials: Credentials::None,
        retries: 2,
        retry_backoff: Duration::from_millis(10),
        ..BigQueryConfig::for_project(bq.project())
    };
    let mut writer = BigQueryWriter::new(config.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bq.log_tail()));
    let mut flagged = Release::new(Ecosystem::Pypi, "Evil_Pkg", "2.0.1", Severity::Critical);
    flagged.reason = Some((
        "threat.exfiltrate-environment",
        "sends the environment away".into(),
    ));
    flagged.sha256 = "ab".repeat(32);
    let clean = Release::new(Ecosystem::Pypi, "six", "1.16.0", Severity::Info);
    let at = Utc::now();
    let mut rows = Vec::new();
    for (i, r) in [flagged, clean].iter().enumerate() {
        for (j, (table, body)) in [
            (Table::Verdicts, r.verdict(at).encode_to_vec()),
            (Table::StaticResults, r.static_result(at).encode_to_vec()),
        ]
        .into_iter()
        .enumerate()
        {
            let sequence = (i * 2 + j + 1) as u64;
            rows.push(Row {
                output: Output::Native(table),
                ecosystem: "pypi".into(),
                published: at,
                stream: "RESULTS".into(),
                sequence,
                msg_id: format!("m{sequence}"),
                body: RowBody::Proto(Bytes::from(body)),
            });
        }
    }
    writer.write(rows).await.unwrap();

    let store = BigQueryStore::new(BigQueryClient::new(config).await.unwrap());
    let evil = ReleaseKey::new(Ecosystem::Pypi, "evil-pkg", "2.0.1");
    let six = ReleaseKey::new(Ecosystem::Pypi, "six", "1.16.0");
    let absent = ReleaseKey::new(Ecosystem::Pypi, "six", "1.15.0");
    // A hostile version never reaches the SQL, and is simply not found.
    let hostile = ReleaseKey::new(Ecosystem::Pypi, "six", "1' OR '1'='1");
    let wanted: HashSet<ReleaseKey> = [evil.clone(), six.clone(), absent.clone(), hostile].into();
    let found = store.lookup(&wanted).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    let e = &found[&evil];
    assert_eq!(e.name, "Evil_Pkg");
    assert_eq!(e.severity, Severity::Critical);
    assert_eq!(e.reasons[0].code, "threat.exfiltrate-environment");
    assert_eq!(
        e.artifact.as_ref().unwrap().digests[0],
        ("sha256".to_owned(), "ab".repeat(32))
    );
    assert_eq!(found[&six].severity, Severity::Info);
}
