//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Paddock finds malicious releases on the public package registries.
///
/// Start with `paddock analyze <ecosystem> <package>[@version]`: it runs the
/// whole analysis on this machine with no broker. `paddock up` runs the
/// continuous pipeline against NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = "paddock", version, propagate_version = true)]
pub struct Cli {
    /// A TOML configuration file (layered over defaults, under `PADDOCK__…`
    /// environment variables).
    #[arg(long, global = true, env = "PADDOCK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,

    /// Log filter, such as `debug` or `info,paddock_bus=debug`.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse one release: static and dynamic analysis, findings and verdict.
    Analyze(AnalyzeArgs),
    /// Resolve, download, verify and extract a release into a directory.
    Fetch(FetchArgs),
    /// Push a release (or a local artifact) into the running pipeline.
    Submit(SubmitArgs),
    /// Show what changed in behaviour between two releases of a package.
    Diff(DiffArgs),
    /// Check every release your lockfiles pin against Paddock's results
    /// (and known-malicious records): exit 3 when one reaches --fail-on.
    Verify(VerifyArgs),
    /// Follow the alert stream.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// The detection rules: list them, or run their examples.
    Rules(RulesArgs),
    /// Measure detection: analyse a directory of labelled artifacts and
    /// print recall, false alerts, misses and timings.
    Eval(EvalArgs),
    /// Run every service in one process against NATS (starting a local
    /// nats-server when no URL is given).
    Up(UpArgs),
    /// Run one service on its own against an existing NATS server (one
    /// container per service).
    Serve(ServeArgs),
    /// Print the JetStream streams, subjects, consumers and buckets, and
    /// optionally create them on a server.
    Topology(TopologyArgs),
    /// Print the effective configuration (defaults, file and environment
    /// merged) as TOML.
    Config,
    /// The dynamic-analysis sandbox image: build it, or show where it is.
    #[command(subcommand)]
    Image(ImageCommand),
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the sandbox rootfs with mmdebstrap (once per image hash;
    /// `paddock analyze` does this itself when it is missing).
    Build,
    /// Print the image's hash and rootfs path, and whether it is built.
    Show,
}

/// A package on a registry, or a local artifact.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// pypi, npm, rubygems, packagist or crates.io (aliases: cargo, crates).
    pub ecosystem: Option<String>,
    /// The package, optionally with `@version`.
    pub package: Option<String>,
    /// A local artifact instead of a registry package.
    #[arg(long, value_name = "FILE")]
    pub local: Option<PathBuf>,
}

/// Output of `paddock analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable report: findings by severity with evidence.
    Text,
    /// The full result as JSON (the protobuf JSON mapping).
    Json,
    /// The reference system's (package-analysis) record shape.
    PackageAnalysis,
    /// A SARIF 2.1.0 log, for CI code scanning.
    Sarif,
    /// An OSV malicious-package report (the ossf/malicious-packages
    /// contributor form).
    Osv,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub package: PackageArgs,
    /// Static analysis only: no sandbox (and no need for gVisor).
    #[arg(long = "static")]
    pub static_only: bool,
    /// The ecosystem of a `--local` artifact (default: inferred from it).
    #[arg(long = "ecosystem", id = "local_ecosystem", value_name = "ECOSYSTEM")]
    pub local_ecosystem: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Exit with code 3 when a finding at or above this severity exists
    /// (info, low, medium, high, critical), for CI gates.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// A directory (or file) of your own rules, loaded beside the shipped
    /// set; repeatable (also `static.analysis.rules` in the configuration).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
    /// Your own rule directories to list beside the shipped set.
    #[arg(long = "rules", value_name = "DIR", global = true)]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule: id, severity, confidence, technique, title.
    List,
    /// Run rules' examples: the shipped set's with no DIR, else the rules
    /// in DIR (loaded beside the shipped set, whose flow classes they may
    /// use). Exits 1 when an example fails.
    Test {
        /// Rule directories or files to test.
        dirs: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A directory of artifacts with a labels file (`labels.json` or
    /// `labels.csv`: file, ecosystem, label, and optionally technique).
    pub dir: PathBuf,
    /// The labels file, when it is not DIR/labels.json or DIR/labels.csv.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Static analysis only (no sandbox).
    #[arg(long = "static")]
    pub static_only: bool,
    /// The verdict severity that counts as an alert.
    #[arg(long, default_value = "high", value_name = "SEVERITY")]
    pub threshold: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: EvalFormat,
    /// Your own rule directories, beside the shipped set.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Only the samples whose file path contains this.
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub package: PackageArgs,
    /// Where to put the artifact and the extracted `package/` directory
    /// (default: `./<name>-<version>`).
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub package: PackageArgs,
    /// The ecosystem of a `--local` artifact (default: inferred from it).
    #[arg(long = "ecosystem", id = "local_ecosystem", value_name = "ECOSYSTEM")]
    pub local_ecosystem: Option<String>,
    /// The running pipeline's NATS server (default: bus.url).
    #[arg(long, value_name = "URL")]
    pub nats_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// pypi, npm, rubygems, packagist or crates.io.
    pub ecosystem: Option<String>,
    /// The package (without a version).
    pub package: Option<String>,
    /// The release compared against.
    pub old_version: Option<String>,
    /// The release whose behaviour is judged.
    pub new_version: Option<String>,
    /// Two local artifacts instead: the old one, then the new one.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
    pub local: Vec<PathBuf>,
    /// Static analysis only: no sandbox.
    #[arg(long = "static")]
    pub static_only: bool,
    /// `text`: the changes with evidence and the verdict; `json`: the full
    /// diff; `sarif`: a SARIF 2.1.0 log, for CI code scanning.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// An allow-list of reviewed behaviours (default: diff.suppressions).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Lockfiles, or directories to find them in the way each ecosystem's
    /// tool does (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// The sink's Parquet directory (default: sink.parquet.dir, else
    /// `paddock up`'s <data dir>/parquet when it exists).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Also look releases up in the BigQuery dataset the sink writes
    /// (sink.bigquery: project, dataset, endpoint, credentials).
    #[arg(long)]
    pub bigquery: bool,
    /// Also look releases up in a running Paddock's API (gRPC URL, such as
    /// http://127.0.0.1:50051). Unset: the local stack's API when
    /// `paddock up` runs.
    #[arg(long, value_name = "URL")]
    pub api: Option<String>,
    /// The API's read token.
    #[arg(
        long,
        env = "PADDOCK_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,
    /// An OSV malicious-packages export to check against as well: a
    /// directory of reports (a clone of the database, an `osv` sink's
    /// directory) or a .zip of one; repeatable.
    #[arg(long, value_name = "PATH")]
    pub osv: Vec<PathBuf>,
    /// Analyse here the releases no store knows (downloads them from the
    /// configured registries).
    #[arg(long)]
    pub analyze_missing: bool,
    /// With --analyze-missing: static analysis only, no sandbox.
    #[arg(long = "static")]
    pub static_only: bool,
    /// With --analyze-missing: how many releases at once (default: the
    /// number of CPUs).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Exit with 3 when a pinned release's level is at or above this
    /// (info, low, medium, high, critical). A known-malicious record is
    /// critical; a lockfile digest that is not the analysed artifact's is
    /// at least high.
    #[arg(long, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: String,
    /// Also exit with 3 when a pinned release was never analysed.
    #[arg(long)]
    pub fail_on_missing: bool,
    /// Do not compare the lockfiles' digests with the analysed artifacts'.
    #[arg(long)]
    pub ignore_digests: bool,
    /// `text`: a table of what is not clean, worst first; `json`: every
    /// pinned release; `sarif`: SARIF 2.1.0, located in the lockfiles.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
    /// Also write the SARIF log to FILE (beside the --format output, for
    /// CI: the table in the log, the SARIF uploaded).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// In the table, list the clean releases too.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Print alerts as they are published.
    Tail(AlertsTailArgs),
}

#[derive(Debug, Args)]
pub struct AlertsTailArgs {
    /// Only alerts of this severity or worse (info, low, medium, high,
    /// critical).
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Only alerts of this ecosystem.
    #[arg(long = "eco", value_name = "ECOSYSTEM")]
    pub ecosystem: Option<String>,
    /// The running pipeline's NATS server (default: bus.url).
    #[arg(long, value_name = "URL")]
    pub nats_url: Option<String>,
    /// `text`: one line per alert; `json`: the alert as JSON, one per line.
    #[arg(long, value_enum, default_value_t = TailFormat::Text)]
    pub format: TailFormat,
    /// Stop after this many alerts.
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TailFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// An existing NATS server with JetStream; unset: start a local one.
    #[arg(long, value_name = "URL")]
    pub nats_url: Option<String>,
    /// Where the local nats-server keeps its store, and services their data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The services `paddock serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    /// Polls the registries and publishes new releases.
    Feed,
    /// Analyses each release's artifact statically and publishes the result.
    Static,
    /// Runs each release in the sandbox and publishes the result.
    Dynamic,
    /// Joins each release's results, compares it with the previous
    /// release and publishes its verdict and alerts.
    Diff,
    /// Stores releases, results, verdicts and alerts: Parquet files, and
    /// BigQuery when configured.
    Sink,
    /// The results index, the gRPC API and the web page.
    Api,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    pub service: ServiceName,
    /// The NATS server with JetStream (default: bus.url).
    #[arg(long, value_name = "URL")]
    pub nats_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// Create or update the topology on the server (idempotent).
    #[arg(long)]
    pub apply: bool,
    /// The server to apply it to (default: bus.url from the configuration).
    #[arg(long, value_name = "URL")]
    pub nats_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
