//! `paddock verify`: every release the lockfiles pin, against Paddock's
//! results and known-malicious records.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use futures::StreamExt as _;
use paddock_proto::ecosystem::{self, cli_name, severity_token};
use paddock_proto::v1::Severity;
use paddock_verify::{
    output, Analysed, AnalysedArtifact, Options, ParquetStore, ReleaseKey, Store,
};

use crate::cli::{PackageArgs, VerifyArgs, VerifyFormat};
use crate::config::PaddockConfig;

pub async fn run(
    args: VerifyArgs,
    config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let fail_on = Some(ecosystem::parse_severity(&args.fail_on)?);
    let options = Options {
        ignore_digests: args.ignore_digests,
        ..Options::default()
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };

    let mut v = paddock_verify::read(&paths, &options)?;
    let parquet = parquet_store(&args, &config, env)?;
    let mut stores = 0;
    if let Some(store) = &parquet {
        stores += 1;
        v.sources.push(store.describe());
        let found = store.lookup(&v.wanted())?;
        v.answer(&found, &options);
    }
    let api = args.api.clone().or_else(|| {
        crate::stack::find(&crate::stack::data_dir(&config, env))
            .and_then(|stack| stack.api)
            .map(|api| api.grpc_url)
    });
    if let Some(url) = api {
        stores += 1;
        let store = paddock_verify::ApiStore::connect(&url, args.api_token.clone()).await?;
        v.sources.push(store.describe());
        let found = store.lookup(&v.wanted()).await?;
        v.answer(&found, &options);
    }
    if args.bigquery {
        stores += 1;
        let client =
            paddock_sink::bigquery::BigQueryClient::new(config.sink.bigquery.client.clone())
                .await
                .context(
                    "the BigQuery store (sink.bigquery: project, dataset, endpoint, credentials)",
                )?;
        let store = paddock_verify::BigQueryStore::new(client);
        v.sources.push(store.describe());
        let found = store.lookup(&v.wanted()).await?;
        v.answer(&found, &options);
    }
    let mut exports = Vec::new();
    for path in &args.osv {
        let export = paddock_verify::OsvExport::load(path)?;
        let stats = export.stats();
        if stats.bad > 0 || stats.files == 0 {
            eprintln!(
                "paddock: {}: {} reports read, {} unusable{}",
                path.display(),
                stats.files,
                stats.bad,
                stats
                    .warnings
                    .first()
                    .map(|w| format!(" (first: {w})"))
                    .unwrap_or_default()
            );
        }
        exports.push(export);
    }
    let known: Vec<&dyn paddock_verify::KnownSource> = exports
        .iter()
        .map(|e| e as &dyn paddock_verify::KnownSource)
        .collect();
    v.check_known(&known);
    for lockfile in &v.lockfiles {
        for warning in &lockfile.warnings {
            eprintln!("paddock: {}: {warning}", lockfile.path.display());
        }
    }
    for error in &v.errors {
        eprintln!("paddock: {error}");
    }

    let missing = v.missing();
    if args.analyze_missing && !missing.is_empty() {
        let analysed = analyze_missing(&args, &config, env, &v, &missing).await?;
        for (key, found) in &analysed {
            v.fill(key, found, &options);
        }
        v.sources.push("analysed now".to_owned());
    } else if !missing.is_empty() && stores == 0 && exports.is_empty() {
        eprintln!(
            "paddock: no results store to look releases up in: run `paddock up` (its sink writes the Parquet store), pass --store DIR, or pass --analyze-missing to analyse here"
        );
    }

    let failed = v.fails(fail_on, args.fail_on_missing);
    let sarif = || -> anyhow::Result<String> {
        let cwd = std::env::current_dir().context("finding the working directory")?;
        Ok(serde_json::to_string_pretty(&paddock_verify::sarif::log(
            &v, &cwd,
        ))?)
    };
    if let Some(path) = &args.sarif {
        std::fs::write(path, sarif()? + "\n")
            .with_context(|| format!("writing the SARIF log to {}", path.display()))?;
    }
    match args.format {
        VerifyFormat::Text => print!("{}", output::table(&v, args.all)),
        VerifyFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&output::document(&v, failed))?
        ),
        VerifyFormat::Sarif => println!("{}", sarif()?),
    }
    if failed {
        eprintln!(
            "paddock: a pinned release at {} or above{}; exiting with {}",
            args.fail_on,
            if args.fail_on_missing {
                " (or not analysed)"
            } else {
                ""
            },
            crate::EXIT_FINDINGS
        );
        return Ok(ExitCode::from(crate::EXIT_FINDINGS));
    }
    if !v.errors.is_empty() {
        return Ok(ExitCode::from(crate::EXIT_FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--store`, else the sink's Parquet directory (`sink.parquet.dir`, else
/// `paddock up`'s `<data dir>/parquet`) when it exists.
fn parquet_store(
    args: &VerifyArgs,
    config: &PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<Option<ParquetStore>> {
    if let Some(dir) = &args.store {
        return Ok(Some(ParquetStore::open(dir)?));
    }
    let dir = config
        .sink
        .parquet
        .dir
        .clone()
        .unwrap_or_else(|| crate::stack::data_dir(config, env).join("parquet"));
    Ok(ParquetStore::open(&dir).ok())
}

/// Analyses the releases no store knows, `--jobs` at a time, with progress
/// on stderr: one updating line on a terminal, plain lines otherwise.
async fn analyze_missing(
    args: &VerifyArgs,
    config: &PaddockConfig,
    env: &[(String, String)],
    v: &paddock_verify::Verification,
    missing: &[ReleaseKey],
) -> anyhow::Result<Vec<(ReleaseKey, Analysed)>> {
    let terminal = std::io::stderr().is_terminal();
    let quiet = |_: &str| {};
    let sandbox = if args.static_only {
        None
    } else {
        Some(super::analyze::sandbox(config, env, &quiet).await?)
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let total = missing.len();
    eprintln!(
        "paddock: analysing {total} release{} no store knows ({}, {jobs} at a time)",
        if total == 1 { "" } else { "s" },
        if sandbox.is_some() {
            "static and dynamic"
        } else {
            "static only"
        }
    );
    let sandbox = sandbox.as_ref();
    let mut done = 0usize;
    let mut out = Vec::new();
    let mut tasks = futures::stream::iter(missing.iter().cloned())
        .map(|key| {
            // The name as the lockfile spells it.
            let name = v
                .checks
                .iter()
                .find(|c| c.key() == key)
                .map_or_else(|| key.name.clone(), |c| c.pin.name.clone());
            let config = config.clone();
            async move {
                let outcome = analyse_one(&key, &name, config, env, sandbox).await;
                (key, name, outcome)
            }
        })
        .buffer_unordered(jobs.max(1));
    while let Some((key, name, outcome)) = tasks.next().await {
        done += 1;
        let release = format!("{} {name}@{}", cli_name(key.ecosystem), key.version);
        let what = match &outcome {
            Ok(a) => format!("{} (score {:.0})", severity_token(a.severity), a.score),
            Err(e) => format!("not analysed: {e:#}"),
        };
        if terminal {
            eprint!(
                "\r\x1b[K{} {done}/{total} {release}: {what}",
                bar(done, total)
            );
            if outcome.is_err() || done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("paddock: analysed {done}/{total} {release}: {what}");
        }
        if let Ok(a) = outcome {
            out.push((key, a));
        }
    }
    Ok(out)
}

/// `[#######.............]`: `done` of `total`, twenty cells wide.
fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 20;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(WIDTH - filled))
}

/// Downloads, analyses and judges one release, as `paddock analyze` does.
async fn analyse_one(
    key: &ReleaseKey,
    name: &str,
    mut config: PaddockConfig,
    env: &[(String, String)],
    sandbox: Option<&paddock_dynamic::DynamicAnalyzer>,
) -> anyhow::Result<Analysed> {
    let work = tempfile::Builder::new()
        .prefix("paddock-verify-")
        .tempdir()
        .context("creating a work directory")?;
    let target = PackageArgs {
        ecosystem: Some(cli_name(key.ecosystem).to_owned()),
        package: Some(format!("{name}@{}", key.version)),
        local: None,
    };
    let prepared =
        super::analyze::prepare(&target, None, &mut config, env, work.path(), &|_| {}).await?;
    let (result, dynamic) = super::analyze::run_analyses(prepared, &config, sandbox).await?;
    let verdict = super::analyze::verdict_of(&result, dynamic.as_ref(), &config)?;
    let reasons = paddock_verify::Reason::heaviest_first(&verdict.reasons);
    let artifact = result.artifact.as_ref().map(|a| {
        AnalysedArtifact::new(
            &a.filename,
            &a.sha256,
            a.registry_digests
                .iter()
                .map(|d| (d.algorithm.clone(), d.value.clone())),
        )
    });
    Ok(Analysed {
        name: result
            .package
            .as_ref()
            .map_or_else(|| name.to_owned(), |p| p.name.clone()),
        severity: Severity::try_from(verdict.severity).unwrap_or_default(),
        score: verdict.score,
        reasons,
        judged_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        artifact,
        store: "analysed now".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_progress_bar_fills_with_the_work() {
        assert_eq!(bar(0, 4), format!("[{}]", ".".repeat(20)));
        assert_eq!(bar(1, 4), format!("[{}{}]", "#".repeat(5), ".".repeat(15)));
        assert_eq!(bar(4, 4), format!("[{}]", "#".repeat(20)));
        assert_eq!(bar(0, 0), format!("[{}]", "#".repeat(20)));
    }
}
