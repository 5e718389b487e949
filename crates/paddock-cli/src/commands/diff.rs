//! `paddock diff`: what changed in behaviour between two releases of a
//! package, and the newer release's verdict.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use paddock_diff::profile::{self, Profile};
use paddock_proto::v1::{Change, ChangeAction, ChangeKind, Phase, Verdict};

use super::analyze::{prepare, rules, run_analyses, sandbox, verdict_lines};
use crate::cli::{DiffArgs, DiffFormat, PackageArgs};
use crate::config::PaddockConfig;

pub async fn run(
    args: DiffArgs,
    mut config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let targets: Vec<PackageArgs> = if args.local.len() == 2 {
        args.local
            .iter()
            .map(|p| PackageArgs {
                ecosystem: args.ecosystem.clone(),
                package: None,
                local: Some(p.clone()),
            })
            .collect()
    } else {
        let (Some(eco), Some(name), Some(old), Some(new)) = (
            args.ecosystem.as_deref(),
            args.package.as_deref(),
            args.old_version.as_deref(),
            args.new_version.as_deref(),
        ) else {
            anyhow::bail!("usage: paddock diff <ecosystem> <package> <old-version> <new-version>, or paddock diff --local <old-artifact> <new-artifact>");
        };
        [old, new]
            .iter()
            .map(|v| PackageArgs {
                ecosystem: Some(eco.to_owned()),
                package: Some(format!("{name}@{v}")),
                local: None,
            })
            .collect()
    };
    let (scoring, suppressions) = rules(&config, args.suppressions.as_deref())?;
    let progress = |step: &str| {
        if std::io::stderr().is_terminal() {
            eprintln!("… {step}");
        }
    };
    let dynamic = if args.static_only {
        None
    } else {
        Some(sandbox(&config, env, &progress).await?)
    };
    let mut profiles: Vec<Profile> = Vec::new();
    let mut versions = Vec::new();
    let mut package = None;
    // The newer release's results: SARIF locates its changes in them.
    let mut next = (None, None);
    for target in &targets {
        let work = tempfile::Builder::new()
            .prefix("paddock-diff-")
            .tempdir()
            .context("creating a work directory")?;
        let prepared = prepare(target, None, &mut config, env, work.path(), &progress).await?;
        progress(&format!("analysing {}", prepared.artifact_name));
        versions.push(prepared.package.version.clone());
        package = Some(prepared.package.clone());
        let (s, d) = run_analyses(prepared, &config, dynamic.as_ref()).await?;
        let mut p = profile::from_static(&s);
        if let Some(d) = &d {
            p.merge(profile::from_dynamic(d));
        }
        profiles.push(p);
        next = (Some(s), d);
    }
    let package = package.context("nothing was analysed")?;
    let (old, new) = (&profiles[0], &profiles[1]);
    let changes = paddock_diff::diff::diff(old, new);
    let mut verdict = scoring.verdict(new, Some(old), &changes, &suppressions);
    verdict.package = Some(package.clone());
    verdict.previous_version = versions[0].clone();
    verdict.has_static = new.has_static;
    verdict.has_dynamic = new.has_dynamic;

    match args.format {
        DiffFormat::Sarif => {
            let set = paddock_static::rules::for_dirs(&config.static_analysis.analysis.rules)
                .context("loading the rules")?;
            let change = paddock_diff::diff::behavior_change(old, new, changes, verdict.severity());
            let log = super::sarif::diff_log(
                &set,
                &scoring,
                &change,
                &verdict,
                (next.0.as_ref(), next.1.as_ref()),
            );
            println!("{}", serde_json::to_string_pretty(&log)?);
        }
        DiffFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "package": package,
                "old_version": versions[0],
                "new_version": versions[1],
                "changes": changes,
                "verdict": verdict,
            }))?
        ),
        DiffFormat::Text => print!(
            "{}",
            text(
                &format!(
                    "{} {}",
                    paddock_proto::ecosystem::cli_name(package.ecosystem()),
                    package.name
                ),
                &versions[0],
                &versions[1],
                &changes,
                &verdict
            )
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn text(what: &str, old: &str, new: &str, changes: &[Change], verdict: &Verdict) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let added = changes
        .iter()
        .filter(|c| c.action == ChangeAction::Added as i32)
        .count();
    let _ = writeln!(out, "{what} {old} → {new}");
    let _ = writeln!(
        out,
        "behaviour changes: {added} added, {} removed",
        changes.len() - added
    );
    for c in changes {
        let sign = if c.action == ChangeAction::Added as i32 {
            '+'
        } else {
            '-'
        };
        let phase = Phase::try_from(c.phase)
            .map(|p| {
                p.as_str_name()
                    .trim_start_matches("PHASE_")
                    .to_lowercase()
                    .replace("unspecified", "static")
            })
            .unwrap_or_default();
        let kind = ChangeKind::try_from(c.kind)
            .map(|k| {
                k.as_str_name()
                    .trim_start_matches("CHANGE_KIND_")
                    .to_lowercase()
            })
            .unwrap_or_default();
        let _ = writeln!(out, "  {sign} {phase:<8} {kind:<15} {}", c.value);
        if let Some(e) = c.evidence.first() {
            let detail = if e.detail.is_empty() {
                &e.snippet
            } else {
                &e.detail
            };
            if !detail.is_empty() && detail != &c.value {
                let _ = writeln!(out, "      evidence: {}", truncate(detail, 200));
            }
        }
    }
    out.push_str(&verdict_lines(&format!("verdict for {new}"), verdict));
    out
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
