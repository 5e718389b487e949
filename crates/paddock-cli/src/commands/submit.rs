//! `paddock submit`: push a release, or a local artifact, into the running
//! pipeline exactly as the feed would.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, JetStreamBus};
use paddock_feed::ReleasePublisher;
use paddock_proto::ecosystem;
use paddock_proto::v1::{FeedSource, PackageRef};

use super::fetch::registry_target;
use crate::cli::SubmitArgs;
use crate::config::PaddockConfig;

pub async fn run(
    args: SubmitArgs,
    mut config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let url = crate::stack::nats_url(args.nats_url.clone(), &config, env, "submit")?;
    let bus = JetStreamBus::connect(&url, &config.bus, Arc::new(BusMetrics::default())).await?;
    bus.ensure_topology().await?;
    let publisher = ReleasePublisher::new(&bus).await?;

    let (release, published) = if let Some(local) = &args.package.local {
        let hint = args
            .local_ecosystem
            .as_deref()
            .or(args.package.ecosystem.as_deref())
            .map(ecosystem::parse)
            .transpose()?;
        let found = paddock_registry::local::identify(local, hint, &config.registries.extract)
            .with_context(|| format!("identifying {}", local.display()))?;
        let bytes = std::fs::read(local).with_context(|| format!("reading {}", local.display()))?;
        let filename = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "artifact".into());
        let package = PackageRef {
            ecosystem: found.eco as i32,
            name: found.name,
            version: found.version,
        };
        publisher
            .publish_local(package, &filename, bytes.into(), found.kind)
            .await?
    } else {
        let (client, name, version) = registry_target(&args.package, &mut config, env, "submit")?;
        publisher
            .fetch_and_publish(&client, name, version, FeedSource::Manual, "submit")
            .await?
    };

    let package = release.package.clone().unwrap_or_default();
    let artifact = &release.artifacts[release.selected_artifact as usize];
    println!("submitted: {package}");
    println!(
        "artifact:  {} ({} bytes, sha256 {})",
        artifact.filename, artifact.size, artifact.sha256
    );
    println!(
        "stored:    {} in {}",
        artifact.object_key,
        bus.names().artifacts_bucket()
    );
    if published.duplicate {
        println!(
            "published: already queued (stream {} sequence {}), not queued again",
            published.stream, published.sequence
        );
    } else {
        println!(
            "published: {} sequence {} on {}",
            published.stream,
            published.sequence,
            bus.names().release(package.ecosystem())
        );
    }
    Ok(ExitCode::SUCCESS)
}
