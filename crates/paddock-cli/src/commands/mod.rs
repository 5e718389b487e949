//! One module per command; [`run`] dispatches.

mod alerts;
mod analyze;
mod config_cmd;
mod diff;
mod eval;
mod fetch;
mod image;
mod rules;
mod sarif;
mod submit;
mod topology;
mod up;
mod verify;

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{Cli, Command, LogFormatArg};
use crate::config::PaddockConfig;

pub(crate) use up::default_data_dir;

/// Loads the configuration and runs the command.
pub async fn run(args: Cli, env: Vec<(String, String)>) -> anyhow::Result<ExitCode> {
    let mut config: PaddockConfig =
        paddock_runtime::config::load(args.config.as_deref(), env.clone())
            .context("loading the configuration")?;
    if let Some(format) = args.log_format {
        config.telemetry.log_format = match format {
            LogFormatArg::Human => paddock_runtime::telemetry::LogFormat::Human,
            LogFormatArg::Json => paddock_runtime::telemetry::LogFormat::Json,
        };
    }
    if let Some(level) = args.log_level {
        config.telemetry.log_level = level;
    }

    match args.command {
        Command::Up(up) => Box::pin(up::run(up, None, config, &env)).await,
        Command::Serve(serve) => {
            let url = serve.nats_url.or(config.bus.url.clone()).ok_or_else(|| {
                anyhow::anyhow!("`paddock serve` runs against an existing NATS server: pass --nats-url or set bus.url (PADDOCK__BUS__URL)")
            })?;
            let up = crate::cli::UpArgs {
                nats_url: Some(url),
                data_dir: None,
            };
            Box::pin(up::run(up, Some(serve.service), config, &env)).await
        }
        Command::Topology(topology) => Box::pin(topology::run(topology, config)).await,
        Command::Config => config_cmd::run(&config),
        Command::Analyze(analyze) => analyze::run(analyze, config, &env).await,
        Command::Fetch(fetch) => fetch::run(fetch, config, &env).await,
        Command::Submit(submit) => Box::pin(submit::run(submit, config, &env)).await,
        Command::Diff(d) => diff::run(d, config, &env).await,
        Command::Verify(v) => verify::run(v, config, &env).await,
        Command::Alerts(crate::cli::AlertsCommand::Tail(tail)) => {
            Box::pin(alerts::tail(tail, config, &env)).await
        }
        Command::Rules(r) => rules::run(r, &config),
        Command::Eval(e) => Box::pin(eval::run(e, config, &env)).await,
        Command::Image(cmd) => image::run(cmd, config, &env).await,
    }
}
