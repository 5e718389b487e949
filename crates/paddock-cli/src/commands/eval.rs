//! `paddock eval DIR`: detection measured on a labelled directory of
//! artifacts. For people who write rules: recall and false alerts at a
//! threshold, per ecosystem and per technique, every miss and false alert
//! with the evidence that decided it, and timings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use paddock_proto::ecosystem::{self, severity_token};
use paddock_proto::v1::{AnalysisStatus, Severity};
use serde::{Deserialize, Serialize};

use super::analyze;
use crate::cli::{EvalArgs, EvalFormat, PackageArgs};
use crate::config::PaddockConfig;

/// One labelled artifact.
#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    /// The artifact, relative to the directory.
    pub file: String,
    pub ecosystem: String,
    /// `malicious` or `benign`.
    pub label: String,
    #[serde(default)]
    pub technique: String,
}

/// What one sample got.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub file: String,
    pub ecosystem: String,
    pub malicious: bool,
    pub technique: String,
    pub severity: String,
    pub score: f64,
    pub alert: bool,
    /// The verdict's best reasons: `(code, weight, description)`.
    pub evidence: Vec<(String, f64, String)>,
    pub seconds: f64,
    /// The analysis did not complete: why.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub malicious: usize,
    pub detected: usize,
    pub benign: usize,
    pub false_alerts: usize,
}

impl Tally {
    fn add(&mut self, o: &Outcome) {
        if o.malicious {
            self.malicious += 1;
            self.detected += usize::from(o.alert);
        } else {
            self.benign += 1;
            self.false_alerts += usize::from(o.alert);
        }
    }

    fn recall(&self) -> f64 {
        if self.malicious == 0 {
            0.0
        } else {
            self.detected as f64 / self.malicious as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    pub total_seconds: f64,
    pub mean_seconds: f64,
    pub median_seconds: f64,
    pub p95_seconds: f64,
    pub max_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub threshold: String,
    pub mode: &'static str,
    pub rule_set: String,
    pub total: Tally,
    pub recall: f64,
    pub by_ecosystem: BTreeMap<String, Tally>,
    pub by_technique: BTreeMap<String, Tally>,
    pub misses: Vec<Outcome>,
    pub false_alerts: Vec<Outcome>,
    pub errors: Vec<Outcome>,
    pub timings: Timings,
    pub samples: Vec<Outcome>,
}

pub async fn run(
    args: EvalArgs,
    mut config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let threshold = ecosystem::parse_severity(&args.threshold)?;
    let labels_path = match &args.labels {
        Some(p) => p.clone(),
        None => ["labels.json", "labels.csv"]
            .iter()
            .map(|n| args.dir.join(n))
            .find(|p| p.is_file())
            .with_context(|| {
                format!(
                    "{} has no labels.json or labels.csv: pass --labels FILE",
                    args.dir.display()
                )
            })?,
    };
    let mut labels = read_labels(&labels_path)?;
    if let Some(only) = &args.only {
        labels.retain(|l| l.file.contains(only.as_str()));
    }
    anyhow::ensure!(
        !labels.is_empty(),
        "{} lists no samples{}",
        labels_path.display(),
        if args.only.is_some() {
            " matching --only"
        } else {
            ""
        }
    );
    config.static_analysis.analysis.rules.extend(args.rules);
    let rules = paddock_static::rules::for_dirs(&config.static_analysis.analysis.rules)
        .context("loading the rules")?;

    let dynamic = if args.static_only {
        None
    } else {
        Some(analyze::sandbox(&config, env, &|s: &str| eprintln!("… {s}")).await?)
    };
    let mut samples = Vec::with_capacity(labels.len());
    for (n, label) in labels.iter().enumerate() {
        eprintln!("[{}/{}] {}", n + 1, labels.len(), label.file);
        let outcome = evaluate(&args.dir, label, threshold, &config, env, dynamic.as_ref()).await;
        samples.push(outcome);
    }
    let report = summarise(
        samples,
        threshold,
        if args.static_only {
            "static"
        } else {
            "static+dynamic"
        },
        rules.version(),
    );
    match args.format {
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        EvalFormat::Text => print!("{}", text(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `labels.json` (an array of objects) or `labels.csv` (a header naming
/// `file`, `ecosystem`, `label` and optionally `technique`).
pub fn read_labels(path: &Path) -> anyhow::Result<Vec<Label>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the labels {}", path.display()))?;
    let labels: Vec<Label> = if path.extension().is_some_and(|e| e == "csv") {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<String> = lines
            .next()
            .context("the labels CSV is empty")?
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (file, eco, label) = match (col("file"), col("ecosystem"), col("label")) {
            (Some(f), Some(e), Some(l)) => (f, e, l),
            _ => anyhow::bail!(
                "{}: the header names file, ecosystem and label (and optionally technique)",
                path.display()
            ),
        };
        let technique = col("technique");
        lines
            .enumerate()
            .map(|(i, line)| {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                let cell = |c: usize| {
                    cells.get(c).map(|s| s.to_string()).with_context(|| {
                        format!("{} line {}: too few columns", path.display(), i + 2)
                    })
                };
                Ok(Label {
                    file: cell(file)?,
                    ecosystem: cell(eco)?,
                    label: cell(label)?,
                    technique: technique
                        .and_then(|t| cells.get(t))
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                })
            })
            .collect::<anyhow::Result<_>>()?
    } else {
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a JSON array of {{file, ecosystem, label, technique}}",
                path.display()
            )
        })?
    };
    for l in &labels {
        is_malicious(&l.label).with_context(|| format!("{}: {}", path.display(), l.file))?;
        ecosystem::parse(&l.ecosystem)
            .with_context(|| format!("{}: {}", path.display(), l.file))?;
    }
    Ok(labels)
}

fn is_malicious(label: &str) -> anyhow::Result<bool> {
    match label.trim().to_ascii_lowercase().as_str() {
        "malicious" | "malware" | "bad" | "1" => Ok(true),
        "benign" | "good" | "clean" | "0" => Ok(false),
        other => anyhow::bail!("label `{other}`: use malicious or benign"),
    }
}

async fn evaluate(
    dir: &Path,
    label: &Label,
    threshold: Severity,
    config: &PaddockConfig,
    env: &[(String, String)],
    dynamic: Option<&paddock_dynamic::DynamicAnalyzer>,
) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        file: label.file.clone(),
        ecosystem: label.ecosystem.clone(),
        malicious: is_malicious(&label.label).unwrap_or(false),
        technique: label.technique.clone(),
        severity: "info".into(),
        score: 0.0,
        alert: false,
        evidence: Vec::new(),
        seconds: 0.0,
        error: None,
    };
    let result = async {
        let work = tempfile::Builder::new().prefix("paddock-eval-").tempdir()?;
        let target = PackageArgs {
            ecosystem: Some(label.ecosystem.clone()),
            package: None,
            local: Some(PathBuf::from(dir).join(&label.file)),
        };
        let mut config = config.clone();
        let prepared = analyze::prepare(
            &target,
            Some(&label.ecosystem),
            &mut config,
            env,
            work.path(),
            &|_: &str| {},
        )
        .await?;
        let (result, dynamic_result) = analyze::run_analyses(prepared, &config, dynamic).await?;
        let verdict = analyze::verdict_of(&result, dynamic_result.as_ref(), &config)?;
        let mut problems = Vec::new();
        if result.status() != AnalysisStatus::Completed {
            problems.push(format!("static: {}", result.status_detail));
        }
        if let Some(d) = &dynamic_result {
            if d.status() != AnalysisStatus::Completed && !d.status_detail.is_empty() {
                problems.push(format!("dynamic: {}", d.status_detail));
            }
        }
        anyhow::Ok((verdict, problems))
    }
    .await;
    match result {
        Ok((verdict, problems)) => {
            let severity = verdict.severity();
            outcome.severity = severity_token(severity).into();
            outcome.score = verdict.score;
            outcome.alert = severity >= threshold;
            outcome.evidence = verdict
                .reasons
                .iter()
                .filter(|r| r.weight > 0.0)
                .take(3)
                .map(|r| (r.code.clone(), r.weight, r.description.clone()))
                .collect();
            if !problems.is_empty() {
                outcome.error = Some(problems.join("; "));
            }
        }
        Err(e) => outcome.error = Some(format!("{e:#}")),
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

pub fn summarise(
    samples: Vec<Outcome>,
    threshold: Severity,
    mode: &'static str,
    rule_set: &str,
) -> Report {
    let mut total = Tally::default();
    let mut by_ecosystem: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_technique: BTreeMap<String, Tally> = BTreeMap::new();
    for o in &samples {
        total.add(o);
        let eco = ecosystem::parse(&o.ecosystem)
            .map(|e| ecosystem::cli_name(e).to_owned())
            .unwrap_or_else(|_| o.ecosystem.clone());
        by_ecosystem.entry(eco).or_default().add(o);
        if o.malicious {
            // A sample with several techniques counts for each.
            let mut techniques: Vec<&str> = o
                .technique
                .split([',', ';', ' '])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            if techniques.is_empty() {
                techniques.push("(none)");
            }
            techniques.dedup();
            for t in techniques {
                by_technique.entry(t.to_owned()).or_default().add(o);
            }
        }
    }
    let mut times: Vec<f64> = samples.iter().map(|o| o.seconds).collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if times.is_empty() {
            0.0
        } else {
            times[((times.len() - 1) as f64 * q).round() as usize]
        }
    };
    let sum: f64 = times.iter().sum();
    let timings = Timings {
        total_seconds: sum,
        mean_seconds: if times.is_empty() {
            0.0
        } else {
            sum / times.len() as f64
        },
        median_seconds: at(0.5),
        p95_seconds: at(0.95),
        max_seconds: times.last().copied().unwrap_or(0.0),
    };
    Report {
        threshold: severity_token(threshold).into(),
        mode,
        rule_set: rule_set.into(),
        recall: total.recall(),
        total,
        by_ecosystem,
        by_technique,
        misses: samples
            .iter()
            .filter(|o| o.malicious && !o.alert)
            .cloned()
            .collect(),
        false_alerts: samples
            .iter()
            .filter(|o| !o.malicious && o.alert)
            .cloned()
            .collect(),
        errors: samples
            .iter()
            .filter(|o| o.error.is_some())
            .cloned()
            .collect(),
        timings,
        samples,
    }
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

pub fn text(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let t = &r.total;
    let _ = writeln!(
        out,
        "paddock eval ({}, rules {}, alert at {} or above)",
        r.mode, r.rule_set, r.threshold
    );
    let _ = writeln!(
        out,
        "recall: {}/{} malicious ({})   false alerts: {}/{} benign ({})",
        t.detected,
        t.malicious,
        pct(t.detected, t.malicious),
        t.false_alerts,
        t.benign,
        pct(t.false_alerts, t.benign)
    );
    let _ = writeln!(
        out,
        "\n{:<12} {:>10} {:>8} {:>8} {:>14}",
        "ecosystem", "malicious", "found", "recall", "false alerts"
    );
    for (eco, t) in &r.by_ecosystem {
        let _ = writeln!(
            out,
            "{eco:<12} {:>10} {:>8} {:>8} {:>14}",
            t.malicious,
            t.detected,
            pct(t.detected, t.malicious),
            format!("{}/{}", t.false_alerts, t.benign)
        );
    }
    let _ = writeln!(
        out,
        "\n{:<36} {:>10} {:>8} {:>8}",
        "technique", "malicious", "found", "recall"
    );
    for (tech, t) in &r.by_technique {
        let _ = writeln!(
            out,
            "{tech:<36} {:>10} {:>8} {:>8}",
            t.malicious,
            t.detected,
            pct(t.detected, t.malicious)
        );
    }
    let list = |out: &mut String, title: &str, items: &[Outcome]| {
        let _ = writeln!(out, "\n{title} ({})", items.len());
        for o in items {
            let _ = writeln!(
                out,
                "  {} [{}] {} (score {:.0}){}",
                o.file,
                if o.technique.is_empty() {
                    "-"
                } else {
                    &o.technique
                },
                o.severity.to_uppercase(),
                o.score,
                o.error
                    .as_deref()
                    .map(|e| format!("  error: {e}"))
                    .unwrap_or_default()
            );
            if o.evidence.is_empty() {
                let _ = writeln!(out, "      (no evidence scored)");
            }
            for (code, weight, description) in &o.evidence {
                let _ = writeln!(out, "      {weight:+.0} {code}: {description}");
            }
        }
    };
    list(&mut out, "misses", &r.misses);
    list(&mut out, "false alerts", &r.false_alerts);
    let errors: Vec<Outcome> = r
        .errors
        .iter()
        .filter(|o| !(r.misses.iter().any(|m| m.file == o.file)))
        .cloned()
        .collect();
    if !errors.is_empty() {
        list(&mut out, "incomplete analyses", &errors);
    }
    let tm = &r.timings;
    let _ = writeln!(
        out,
        "\ntimings: {} samples in {:.1} s; per sample mean {:.2} s, median {:.2} s, p95 {:.2} s, max {:.2} s",
        r.samples.len(),
        tm.total_seconds,
        tm.mean_seconds,
        tm.median_seconds,
        tm.p95_seconds,
        tm.max_seconds
    );
    out
}
