//! `paddock topology`: print the plan, and with `--apply` create it.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{topology, JetStreamBus, Names};

use crate::cli::TopologyArgs;
use crate::config::PaddockConfig;

pub async fn run(args: TopologyArgs, config: PaddockConfig) -> anyhow::Result<ExitCode> {
    let names = Names::new(&config.bus.prefix)?;
    let plan = topology::plan(&names, &config.bus.topology);
    print!("{plan}");
    if !args.apply {
        return Ok(ExitCode::SUCCESS);
    }
    let url = args
        .nats_url
        .or(config.bus.url.clone())
        .context("--apply needs a server: pass --nats-url or set bus.url (PADDOCK__BUS__URL)")?;
    let bus = JetStreamBus::connect(&url, &config.bus, Arc::new(BusMetrics::default())).await?;
    bus.ensure_topology().await?;
    println!("applied to {url}");
    Ok(ExitCode::SUCCESS)
}
