//! The BigQuery sink's start: one writer per stream, each ensuring the
//! dataset and tables. A destination that refuses the configuration stops
//! the start; one that is unreachable is retried in the background, with
//! the sink's readiness component `sink-bigquery` not ready meanwhile and
//! saying why.

use std::collections::HashMap;
use std::time::Duration;

use paddock_bus::{CancellationToken, ConsumerSettings, StreamKind};
use paddock_runtime::http::Health;
use paddock_sink::bigquery::{BigQueryConfig, BigQueryError, BigQueryWriter};

/// The readiness component of the BigQuery sink's start.
pub const COMPONENT: &str = "sink-bigquery";

/// What the retried start says (`/readyz`) and the failed start names.
const HINT: &str = "starting the BigQuery sink: preparing its dataset and tables (check sink.bigquery: project, dataset, endpoint, credentials)";

/// A writer per stream the sink consumes (each keeps its own state).
pub(crate) type Writers = HashMap<StreamKind, BigQueryWriter>;

/// One attempt at every stream's writer.
pub(crate) async fn writers(config: &BigQueryConfig) -> Result<Writers, BigQueryError> {
    let mut writers = HashMap::new();
    for stream in [
        StreamKind::Releases,
        StreamKind::Results,
        StreamKind::Alerts,
    ] {
        let writer = BigQueryWriter::new(config.clone()).await?;
        writers.insert(stream, writer);
    }
    Ok(writers)
}

/// The writers, from `first` or from later attempts with the consumers'
/// backoff (at most a minute apart), with `sink-bigquery` not ready and
/// saying why until they are made; `None` at shutdown.
pub(crate) async fn writers_when_reachable(
    first: Result<Writers, BigQueryError>,
    config: &BigQueryConfig,
    backoff: &ConsumerSettings,
    health: &Health,
    shutdown: &CancellationToken,
) -> Option<Writers> {
    let mut attempt = 0;
    let mut made = first;
    loop {
        match made {
            Ok(writers) => {
                health.set_ready(COMPONENT);
                return Some(writers);
            }
            Err(error) => {
                attempt += 1;
                let delay = backoff.backoff(attempt).min(Duration::from_secs(60));
                let reason = format!("{HINT}: {error}; retrying in {delay:?}");
                tracing::warn!(%reason, "the BigQuery sink is not ready");
                health.set_unready(COMPONENT, reason);
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(delay) => {}
                }
                made = writers(config).await;
            }
        }
    }
}
