//! `paddock alerts tail`: follows the alert stream.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use futures::StreamExt;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, JetStreamBus};
use paddock_proto::ecosystem::{self, severity_token, subject_token};
use paddock_proto::v1::{Alert, Severity};
use prost::Message;

use crate::cli::{AlertsTailArgs, TailFormat};
use crate::config::PaddockConfig;

/// Every severity, mildest first.
const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

pub async fn tail(
    args: AlertsTailArgs,
    config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let url = crate::stack::nats_url(args.nats_url.clone(), &config, env, "alerts tail")?;
    let minimum = args
        .severity
        .as_deref()
        .map(ecosystem::parse_severity)
        .transpose()?
        .unwrap_or(Severity::Info);
    let eco = args
        .ecosystem
        .as_deref()
        .map(ecosystem::parse)
        .transpose()?;
    let bus = JetStreamBus::connect(&url, &config.bus, Arc::new(BusMetrics::default())).await?;
    let names = bus.names().clone();
    let mut subscriptions = Vec::new();
    for severity in SEVERITIES.into_iter().filter(|s| *s >= minimum) {
        let subject = names.alert_filter(Some(severity), eco);
        subscriptions.push(
            bus.client()
                .subscribe(subject.clone())
                .await
                .with_context(|| format!("subscribing to {subject}"))?,
        );
    }
    // The server has the subscriptions once a flush comes back (a SUB is
    // only queued until then), so a caller that waits for the line below
    // misses nothing published afterwards.
    bus.client()
        .flush()
        .await
        .context("confirming the subscriptions with the NATS server")?;
    eprintln!(
        "following alerts ({} and worse{}) on {url}",
        severity_token(minimum),
        eco.map(|e| format!(", {}", subject_token(e)))
            .unwrap_or_default()
    );
    let mut all = futures::stream::select_all(subscriptions);
    let mut seen = 0usize;
    while let Some(msg) = all.next().await {
        let alert = match Alert::decode(msg.payload.as_ref()) {
            Ok(a) => a,
            Err(e) => {
                eprintln!(
                    "paddock: skipping an undecodable message on {}: {e}",
                    msg.subject
                );
                continue;
            }
        };
        match args.format {
            TailFormat::Text => println!("{}", line(&alert)),
            TailFormat::Json => println!("{}", serde_json::to_string(&alert)?),
        }
        seen += 1;
        if args.count.is_some_and(|n| seen >= n) {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-11-22T06:01:02Z HIGH npm foo@1.0.1  <summary>`
fn line(a: &Alert) -> String {
    let at = a
        .created_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let severity = Severity::try_from(a.severity).unwrap_or(Severity::Info);
    format!(
        "{at} {:<8} {}",
        severity_token(severity).to_uppercase(),
        a.summary
    )
}
