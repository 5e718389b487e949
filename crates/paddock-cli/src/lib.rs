//! The `paddock` command.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap). `paddock --help` lists every command
//!   the product has.
//! - [`config`]: [`PaddockConfig`], the whole configuration file, composed
//!   of each component's own typed section.
//! - [`stack`]: where a running `paddock up` listens, recorded in its data
//!   directory for the commands that talk to it.
//! - `commands/`: one module per command. Each exposes a `run` that takes
//!   parsed arguments, the loaded configuration and a shutdown token, so
//!   tests drive the same code the binary runs.
//!
//! The binary (`services/paddock`) only calls [`main`].

pub mod cli;
mod commands;
pub mod config;
pub mod stack;

use std::process::ExitCode;

use clap::Parser;
pub use config::PaddockConfig;

/// Exit code of a command that failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a command line that could not be understood (clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of `paddock analyze --fail-on` when a finding reaches the
/// threshold.
pub const EXIT_FINDINGS: u8 = 3;

/// Parses the command line and the environment, runs the command, and
/// turns its outcome into an exit code.
pub fn main() -> ExitCode {
    run_cli(cli::Cli::parse())
}

/// Runs `prefix` followed by this process's own arguments: a service binary
/// such as `paddock-feed` is `main_with(["paddock", "serve", "feed"])`.
pub fn main_with<const N: usize>(prefix: [&str; N]) -> ExitCode {
    let args = prefix
        .iter()
        .map(|s| std::ffi::OsString::from(*s))
        .chain(std::env::args_os().skip(1));
    run_cli(cli::Cli::parse_from(args))
}

fn run_cli(args: cli::Cli) -> ExitCode {
    let env = process_environment();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paddock: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(commands::run(args, env)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("paddock: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The process environment: the one place the program reads it. Everything
/// below receives it as a value.
#[allow(clippy::disallowed_methods)]
fn process_environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}
