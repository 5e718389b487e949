//! `paddock analyze`: one release, on this machine, with no broker.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use paddock_proto::ecosystem::{self, severity_token};
use paddock_proto::v1::{
    AnalysisStatus, DynamicResult, FindingCategory, PackageRef, Phase, Severity, StaticResult,
};
use paddock_registry::discover::{discover, SystemProbe};
use paddock_static::{analyze_tree, StaticConfig};

use super::fetch::registry_target;
use crate::cli::{AnalyzeArgs, OutputFormat};
use crate::config::{default_image_cache, PaddockConfig};

pub async fn run(
    args: AnalyzeArgs,
    mut config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let fail_on = args
        .fail_on
        .as_deref()
        .map(ecosystem::parse_severity)
        .transpose()?;
    // The user's rules load (or fail, naming the file and the rule)
    // before anything is downloaded.
    config
        .static_analysis
        .analysis
        .rules
        .extend(args.rules.iter().cloned());
    let rule_set = paddock_static::rules::for_dirs(&config.static_analysis.analysis.rules)
        .context("loading the rules")?;
    let work = tempfile::Builder::new()
        .prefix("paddock-analyze-")
        .tempdir()
        .context("creating a work directory")?;
    let progress = |step: &str| {
        if std::io::stderr().is_terminal() {
            eprintln!("… {step}");
        }
    };

    let prepared = prepare(
        &args.package,
        args.local_ecosystem.as_deref(),
        &mut config,
        env,
        work.path(),
        &progress,
    )
    .await?;
    let artifact_name = prepared.artifact_name.clone();

    // The sandbox first: a missing runsc or image is an error before any
    // analysis starts (or --static).
    let dynamic = if args.static_only {
        None
    } else {
        Some(sandbox(&config, env, &progress).await?)
    };

    progress(if dynamic.is_some() {
        "analysing: static, and dynamic in the sandbox (install, import, execute)"
    } else {
        "analysing"
    });
    let (result, dynamic_result) = run_analyses(prepared, &config, dynamic.as_ref()).await?;

    let verdict = verdict_of(&result, dynamic_result.as_ref(), &config)?;
    match args.format {
        OutputFormat::Text => {
            print!(
                "{}",
                report(&result, &artifact_name, dynamic_result.as_ref())
            );
            print!("{}", verdict_text(&verdict));
        }
        OutputFormat::Json => match &dynamic_result {
            None => println!("{}", serde_json::to_string_pretty(&result)?),
            Some(d) => println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"static": result, "dynamic": d, "verdict": verdict})
                )?
            ),
        },
        OutputFormat::PackageAnalysis => {
            let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let record = paddock_sink::reference::static_record(&result, &created);
            match &dynamic_result {
                None => println!("{}", serde_json::to_string_pretty(&record)?),
                // The reference keeps them in two buckets; here they are
                // one document with one key per record.
                Some(d) => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "static": record,
                        "dynamic": paddock_sink::reference::dynamic_record(d),
                    }))?
                ),
            }
        }
        OutputFormat::Sarif => {
            let log =
                super::sarif::analyze_log(&rule_set, &result, dynamic_result.as_ref(), &verdict);
            println!("{}", serde_json::to_string_pretty(&log)?);
        }
        OutputFormat::Osv => {
            let input = paddock_osv::Input {
                verdict: &verdict,
                static_result: Some(&result),
                dynamic: dynamic_result.as_ref(),
                change: None,
            };
            let report = paddock_osv::report(&input, &osv_config(&config)?, chrono::Utc::now());
            if verdict.severity < Severity::High as i32 {
                eprintln!(
                    "paddock: the verdict is {}: this report describes a release Paddock does not judge malicious; do not publish it as one",
                    severity_token(Severity::try_from(verdict.severity).unwrap_or_default())
                );
            }
            println!("{}", report.to_json());
        }
    }
    let worst = result
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(0);
    match fail_on {
        Some(threshold) if worst >= threshold as i32 => {
            eprintln!(
                "paddock: a finding at {} or above (worst: {}); exiting with {}",
                severity_token(threshold),
                severity_token(Severity::try_from(worst).unwrap_or_default()),
                crate::EXIT_FINDINGS
            );
            Ok(ExitCode::from(crate::EXIT_FINDINGS))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The OSV report settings (`[sink.osv]`: credits, contact, report URL),
/// validated.
fn osv_config(config: &PaddockConfig) -> anyhow::Result<paddock_osv::OsvConfig> {
    let osv = config.sink.osv.report.clone();
    osv.validate().context("sink.osv")?;
    Ok(osv)
}

/// The release's verdict on its own (no previous release to compare with):
/// from its findings, by the scoring rules.
pub fn verdict_of(
    result: &StaticResult,
    dynamic: Option<&DynamicResult>,
    config: &PaddockConfig,
) -> anyhow::Result<paddock_proto::v1::Verdict> {
    let (scoring, suppressions) = rules(config, None)?;
    let mut profile = paddock_diff::profile::from_static(result);
    if let Some(d) = dynamic {
        profile.merge(paddock_diff::profile::from_dynamic(d));
    }
    let mut verdict = scoring.verdict(&profile, None, &[], &suppressions);
    verdict.package = result.package.clone();
    verdict.has_static = true;
    verdict.has_dynamic = dynamic.is_some();
    Ok(verdict)
}

/// The scoring rules (built in, or `diff.scoring`) and the suppressions
/// (`suppressions`, else `diff.suppressions`, else none).
pub fn rules(
    config: &PaddockConfig,
    suppressions: Option<&std::path::Path>,
) -> anyhow::Result<(paddock_diff::Scoring, paddock_diff::Suppressions)> {
    let scoring = match &config.diff.service.scoring {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the scoring rules {}", path.display()))?;
            paddock_diff::Scoring::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("the scoring rules {}: {e}", path.display()))?
        }
        None => paddock_diff::Scoring::builtin(),
    };
    let suppressions = match suppressions.or(config.diff.service.suppressions.as_deref()) {
        Some(path) => paddock_diff::Suppressions::load(path)
            .map_err(|e| anyhow::anyhow!("reading the suppressions {}: {e}", path.display()))?,
        None => paddock_diff::Suppressions::default(),
    };
    Ok((scoring, suppressions))
}

/// `verdict: HIGH (score 55)` and the reasons.
pub fn verdict_text(verdict: &paddock_proto::v1::Verdict) -> String {
    format!("\n{}", verdict_lines("verdict", verdict))
}

/// `<label>: HIGH (score 55)`, then one line per reason.
pub fn verdict_lines(label: &str, verdict: &paddock_proto::v1::Verdict) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let severity = Severity::try_from(verdict.severity).unwrap_or(Severity::Info);
    let _ = writeln!(
        out,
        "{label}: {} (score {:.0})",
        severity_token(severity).to_uppercase(),
        verdict.score
    );
    for r in &verdict.reasons {
        let sev = Severity::try_from(r.severity)
            .map(severity_token)
            .unwrap_or("info");
        let _ = writeln!(
            out,
            "  {:+.0} {sev:<8} {}: {}",
            r.weight, r.code, r.description
        );
    }
    out
}

/// A release ready for analysis: its artifact on disk and extracted.
#[derive(Debug)]
pub struct Prepared {
    pub package: PackageRef,
    pub artifact_name: String,
    /// The artifact analysed, with its digests (the registry's, and the
    /// sha256 of the bytes).
    pub artifact: paddock_proto::v1::Artifact,
    gem_metadata: Option<String>,
    artifact_path: std::path::PathBuf,
    root: std::path::PathBuf,
}

/// Resolves, downloads, verifies and extracts a registry release (or
/// identifies and extracts a local artifact) into `work`.
pub async fn prepare(
    target: &crate::cli::PackageArgs,
    local_ecosystem: Option<&str>,
    config: &mut PaddockConfig,
    env: &[(String, String)],
    work: &std::path::Path,
    progress: &impl Fn(&str),
) -> anyhow::Result<Prepared> {
    let root = work.join("package");
    if let Some(local) = &target.local {
        let hint = local_ecosystem
            .or(target.ecosystem.as_deref())
            .map(ecosystem::parse)
            .transpose()?;
        progress("identifying the artifact");
        let found = paddock_registry::local::identify(local, hint, &config.registries.extract)
            .with_context(|| format!("identifying {}", local.display()))?;
        progress("extracting");
        let report =
            paddock_registry::extract::extract_auto(local, &root, &config.registries.extract)
                .with_context(|| format!("extracting {}", local.display()))?;
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(local).with_context(|| format!("reading {}", local.display()))?;
        let artifact = paddock_proto::v1::Artifact {
            filename: name.clone(),
            size: bytes.len() as u64,
            sha256: paddock_registry::digest::sha256_hex(&bytes),
            ..Default::default()
        };
        return Ok(Prepared {
            package: PackageRef {
                ecosystem: found.eco as i32,
                name: found.name,
                version: found.version,
            },
            artifact_name: name,
            artifact,
            gem_metadata: report.gem_metadata,
            artifact_path: local.clone(),
            root,
        });
    }
    let (client, name, version) = registry_target(target, config, env, "analyze")?;
    progress("resolving");
    let release = client.resolve(name, version).await?;
    let artifact = release
        .artifacts
        .get(release.selected_artifact as usize)
        .context("the registry listed no artifact")?;
    progress("downloading and verifying");
    let downloaded = client.download(artifact).await?;
    progress("extracting");
    let (archive, report) = client.extract_into(&downloaded, work)?;
    Ok(Prepared {
        package: release.package.unwrap_or_default(),
        artifact_name: downloaded.artifact.filename.clone(),
        artifact: downloaded.artifact,
        gem_metadata: report.gem_metadata,
        artifact_path: archive,
        root,
    })
}

/// The dynamic analyzer, with the registry proxy forwarding to the
/// configured registries.
pub async fn sandbox(
    config: &PaddockConfig,
    env: &[(String, String)],
    progress: &impl Fn(&str),
) -> anyhow::Result<paddock_dynamic::DynamicAnalyzer> {
    progress("preparing the sandbox (the first run builds its image: about a minute)");
    let analyzer = paddock_dynamic::DynamicAnalyzer::new(
        config.dynamic.analysis.clone(),
        &default_image_cache(env),
    )
    .await
    .context("dynamic analysis needs gVisor's runsc and the sandbox image (scripts/install-deps installs what is missing); pass --static for static analysis alone")?;
    // The sandbox's package managers reach the registries only through
    // the registry proxy, which forwards to the configured ones.
    let mut registries = config.registries.clone();
    discover(&mut registries, &SystemProbe::new(env.to_vec()));
    Ok(analyzer.with_registries(registries))
}

/// Static analysis and, with a sandbox, dynamic analysis, in parallel.
pub async fn run_analyses(
    prepared: Prepared,
    config: &PaddockConfig,
    dynamic: Option<&paddock_dynamic::DynamicAnalyzer>,
) -> anyhow::Result<(StaticResult, Option<DynamicResult>)> {
    let static_config: StaticConfig = config.static_analysis.analysis.clone();
    let (root, static_package, gem_metadata) = (
        prepared.root.clone(),
        prepared.package.clone(),
        prepared.gem_metadata.clone(),
    );
    let static_task = tokio::task::spawn_blocking(move || {
        analyze_tree(
            &root,
            static_package,
            gem_metadata.as_deref(),
            &static_config,
        )
    });
    let dynamic_task = async {
        match dynamic {
            Some(analyzer) => Some(
                analyzer
                    .analyze(&prepared.package, &prepared.artifact_path)
                    .await,
            ),
            None => None,
        }
    };
    let (result, dynamic_result) = tokio::join!(static_task, dynamic_task);
    let mut result = result.context("the analysis task failed")?;
    result.artifact.get_or_insert(prepared.artifact);
    Ok((result, dynamic_result))
}

/// The readable report: findings first, most severe first, with evidence.
pub fn report(result: &StaticResult, artifact: &str, dynamic: Option<&DynamicResult>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let package = result.package.clone().unwrap_or_default();
    let _ = writeln!(out, "{package}  ({artifact})");
    let stats = result.stats.unwrap_or_default();
    let _ = writeln!(
        out,
        "static analysis: {} files, {} bytes; {} parsed; {} skipped; {} ms",
        stats.files, stats.bytes, stats.parsed_files, stats.skipped_files, stats.duration_ms
    );
    if !result.status_detail.is_empty() {
        let _ = writeln!(out, "status: {}", result.status_detail);
    }
    match dynamic {
        None => {
            let _ = writeln!(out, "dynamic analysis: not run (--static)");
        }
        Some(d) => {
            // The plain phases in order; the gated rerun of the import
            // after them.
            let phases: Vec<String> = d
                .phases
                .iter()
                .filter(|p| p.variant.is_empty())
                .map(|p| {
                    format!(
                        "{} {}",
                        Phase::try_from(p.phase)
                            .map(|p| p.as_str_name().trim_start_matches("PHASE_").to_lowercase())
                            .unwrap_or_default(),
                        status_word(p.status)
                    )
                })
                .collect();
            let gated: String = d
                .phases
                .iter()
                .filter(|p| p.variant == paddock_dynamic::GATED)
                .map(|p| format!(", gated import rerun {}", status_word(p.status)))
                .collect();
            let _ = writeln!(
                out,
                "dynamic analysis: {} ({}){gated}{}",
                status_word(d.status),
                phases.join(", "),
                if d.status_detail.is_empty() || d.status == AnalysisStatus::Completed as i32 {
                    String::new()
                } else {
                    format!("; {}", d.status_detail)
                }
            );
        }
    }
    let _ = writeln!(out);
    if result.findings.is_empty() {
        let _ = writeln!(out, "no findings");
    }
    for severity in paddock_proto::ecosystem::SEVERITIES.iter().rev() {
        // One line per rule, with the files it fired in.
        let mut by_rule: Vec<(&str, Vec<&paddock_proto::v1::Finding>)> = Vec::new();
        for f in result
            .findings
            .iter()
            .filter(|f| f.severity == *severity as i32)
        {
            match by_rule.iter_mut().find(|(id, _)| *id == f.rule_id) {
                Some((_, list)) => list.push(f),
                None => by_rule.push((&f.rule_id, vec![f])),
            }
        }
        if by_rule.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{} ({})",
            severity_token(*severity).to_uppercase(),
            by_rule.len()
        );
        for (id, list) in by_rule {
            let first = list[0];
            let kind = match FindingCategory::try_from(first.category) {
                Ok(FindingCategory::Threat) => "threat",
                Ok(FindingCategory::Capability) => "capability",
                _ => "signal",
            };
            let places = if list.len() > 1 {
                format!(" ({} places)", list.len())
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {id:<38} {kind}: {}{places}", first.title);
            for f in list.iter().take(3) {
                for e in f.evidence.iter().take(2) {
                    let location = if e.line > 0 {
                        format!("{}:{}", e.file, e.line)
                    } else {
                        e.file.clone()
                    };
                    let _ = writeln!(out, "      {location}  {}", e.snippet);
                }
            }
        }
    }
    if let Some(meta) = &result.metadata {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "install hooks: {}",
            if meta.install_hooks.is_empty() {
                "none".to_owned()
            } else {
                meta.install_hooks
                    .iter()
                    .map(|h| format!("{} ({})", h.name, h.file))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        let url_deps: Vec<_> = meta
            .dependencies
            .iter()
            .filter(|d| !d.source_url.is_empty())
            .map(|d| d.name.as_str())
            .collect();
        if !url_deps.is_empty() {
            let _ = writeln!(
                out,
                "dependencies from URLs, git or paths: {}",
                url_deps.join(", ")
            );
        }
        if !meta.bundled_binaries.is_empty() {
            let _ = writeln!(
                out,
                "bundled binaries: {}",
                meta.bundled_binaries.join(", ")
            );
        }
    }
    if let Some(d) = dynamic {
        paddock_dynamic::report::write_phases(&mut out, &d.phases);
    }
    out
}

fn status_word(status: i32) -> String {
    AnalysisStatus::try_from(status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("ANALYSIS_STATUS_")
                .to_lowercase()
        })
        .unwrap_or_default()
}
