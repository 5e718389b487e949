//! The findings a dynamic result yields on its own: a bait in the traffic,
//! the behaviour rules, and what only the gated rerun showed.

use paddock_proto::v1::Reachability;
use paddock_proto::v1::{DynamicResult, Evidence, Finding, FindingCategory, PhaseResult, Severity};

use crate::{GATED, GATED_CLOCK_OFFSET};

/// One finding of the highest severity when a bait value left the sandbox
/// in its traffic.
pub(crate) fn exfiltration_findings(phases: &[PhaseResult]) -> Option<Finding> {
    let evidence: Vec<Evidence> = phases
        .iter()
        .flat_map(|p| {
            p.bait_accesses
                .iter()
                .filter(|a| a.how == "exfiltrated")
                .map(move |a| Evidence {
                    file: a.bait.clone(),
                    snippet: a.detail.chars().take(300).collect(),
                    phase: p.phase,
                    detail: format!("{} sent over the network", a.bait),
                    ..Default::default()
                })
        })
        .collect();
    if evidence.is_empty() {
        return None;
    }
    let mut baits: Vec<&str> = evidence.iter().map(|e| e.file.as_str()).collect();
    baits.sort_unstable();
    baits.dedup();
    Some(Finding {
        rule_id: "exfiltration.bait-in-traffic".into(),
        rule_version: env!("CARGO_PKG_VERSION").into(),
        severity: Severity::Critical as i32,
        confidence: 1.0,
        category: FindingCategory::Threat as i32,
        title: "bait credentials sent over the network".into(),
        description: format!(
            "The package sent planted secrets ({}) out of the sandbox: they appear in its network traffic. Nothing else has these values, so this is proof of credential exfiltration.",
            baits.join(", ")
        ),
        evidence,
        tags: vec!["exfiltration".into(), "credentials".into()],
        // Seen happening: as reached as a finding can be.
        reachability: Reachability::Execute as i32,
        technique: "T1552.001".into(),
    })
}

/// Threats the behaviour itself proves, whatever the release before it
/// did: a file written during the analysis and then run (download and
/// execute), and reads of credential files or baits. Read off the
/// behaviour profile the diff uses, so both agree on what counts.
pub(crate) fn behaviour_findings(result: &DynamicResult) -> Vec<Finding> {
    use paddock_diff::{Kind, PhaseLite};
    let profile = paddock_diff::from_dynamic(result);
    let evidence = |phase: PhaseLite, value: &str, raw: &str| Evidence {
        snippet: raw.chars().take(300).collect(),
        phase: phase.to_proto() as i32,
        detail: value.to_owned(),
        ..Default::default()
    };
    let (mut execs, mut reads) = (Vec::new(), Vec::new());
    for (key, raw) in &profile.items {
        match key.kind {
            Kind::Command
                if key
                    .value
                    .starts_with(paddock_diff::profile::EXEC_WRITTEN_FILE) =>
            {
                execs.push(evidence(key.phase, &key.value, raw))
            }
            Kind::FileRead => reads.push(evidence(key.phase, &key.value, raw)),
            _ => {}
        }
    }
    let finding = |rule_id: &str,
                   severity: Severity,
                   title: &str,
                   description: &str,
                   technique: &str,
                   evidence: Vec<Evidence>| Finding {
        rule_id: rule_id.into(),
        rule_version: env!("CARGO_PKG_VERSION").into(),
        severity: severity as i32,
        confidence: 0.9,
        category: FindingCategory::Threat as i32,
        title: title.into(),
        description: description.into(),
        evidence,
        tags: vec!["dynamic".into()],
        reachability: Reachability::Execute as i32,
        technique: technique.into(),
    };
    let mut out = Vec::new();
    if !execs.is_empty() {
        out.push(finding(
            "dynamic.download-and-execute",
            Severity::Critical,
            "runs a file it wrote during the analysis",
            "A process ran a file that the package's code had written outside the install area during the analysis: the shape of a dropper that downloads a payload and runs it.",
            "T1105",
            execs,
        ));
    }
    if !reads.is_empty() {
        // At install or import nobody asked for them; in the execute phase
        // the harness called the package's functions, and a process or
        // credential library reads these when asked (psutil's
        // `Process.environ()`): weighed with the rest there.
        let unasked = reads
            .iter()
            .any(|e| e.phase != paddock_proto::v1::Phase::Execute as i32);
        let mut f = finding(
            "dynamic.credential-read",
            if unasked { Severity::High } else { Severity::Medium },
            "reads credential files",
            "The package read files that hold credentials (SSH keys, cloud and registry tokens, browser profiles, wallets, process environments) or the planted baits. High when it did so at install or import, when nothing asked it to; medium when only the functions the execute phase called did.",
            "T1552.001",
            reads,
        );
        if !unasked {
            f.confidence = 0.6;
        }
        out.push(f);
    }
    out.extend(gated_finding(result));
    // The behaviour rules (rules/behaviour.toml): miners, shell payloads,
    // exfiltration services, secrets read and sent, recon, persistence,
    // DNS tunnels, raw IPs, install-time network…
    out.extend(paddock_diff::behaviour::builtin().findings_with_profile(result, &profile));
    out
}

/// What the package did only in the gated rerun of its import phase (CI
/// variables set, the clock moved forward): hosts, names, commands, files
/// written and secrets read that the plain import did not show. Only code
/// that looks at where and when it runs behaves differently there.
pub(crate) fn gated_finding(result: &DynamicResult) -> Option<Finding> {
    use paddock_diff::{Kind, PhaseLite};
    let gated = result.phases.iter().find(|p| p.variant == GATED)?;
    let plain = result
        .phases
        .iter()
        .find(|p| p.variant.is_empty() && p.phase == gated.phase)?;
    let profile_of = |phase: &PhaseResult| {
        paddock_diff::from_dynamic(&DynamicResult {
            package: result.package.clone(),
            phases: vec![PhaseResult {
                variant: String::new(),
                ..phase.clone()
            }],
            ..Default::default()
        })
    };
    let (before, after) = (profile_of(plain), profile_of(gated));
    let evidence: Vec<Evidence> = after
        .items
        .iter()
        .filter(|(key, _)| {
            key.phase == PhaseLite::Import
                && matches!(
                    key.kind,
                    Kind::Host | Kind::DnsName | Kind::Command | Kind::FileWrite | Kind::FileRead
                )
                && !before.items.contains_key(*key)
        })
        // libfaketime's own semaphore, not the package's.
        .filter(|(_, raw)| !raw.starts_with("/dev/shm/sem."))
        .take(20)
        .map(|(key, raw)| Evidence {
            snippet: raw.chars().take(300).collect(),
            phase: gated.phase,
            detail: format!("{} {} only with CI variables and the clock {GATED_CLOCK_OFFSET}", key.kind.token(), key.value),
            ..Default::default()
        })
        .collect();
    if evidence.is_empty() {
        return None;
    }
    Some(Finding {
        rule_id: "dynamic.environment-gated".into(),
        rule_version: env!("CARGO_PKG_VERSION").into(),
        severity: Severity::Medium as i32,
        confidence: 0.7,
        category: FindingCategory::Threat as i32,
        title: "behaves differently in CI or later in time".into(),
        description: format!(
            "Run a second time with the variables CI systems set (CI, GITHUB_ACTIONS, GITLAB_CI, JENKINS_URL…) and the clock {GATED_CLOCK_OFFSET}, the import did things the plain import did not: code that checks where or when it runs before it acts, the way payloads hide from scanners or wait for a CI job's secrets."
        ),
        evidence,
        tags: vec!["dynamic".into(), "anti-analysis".into()],
        reachability: Reachability::Execute as i32,
        technique: "T1497".into(),
    })
}
