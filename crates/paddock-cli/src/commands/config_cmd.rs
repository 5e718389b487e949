//! `paddock config`: the effective configuration.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::PaddockConfig;

pub fn run(config: &PaddockConfig) -> anyhow::Result<ExitCode> {
    let text = toml::to_string_pretty(config).context("rendering the configuration as TOML")?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
