//! One handler per page. Each parses and caps its parameters, reads
//! through [`Results`](crate::query::Results) and renders with [`html`]
//! (and [`results`](super::results) for a release's stored results).

use std::fmt::Write as _;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use paddock_proto::ecosystem::{cli_name, parse, parse_severity, severity_token, ALL, SEVERITIES};
use paddock_proto::v1::{
    Change, ChangeAction, ChangeKind, Ecosystem, PackageRef, ReleaseIndex, Severity,
};
use serde::Deserialize;

use super::html::{self, escape, link, text, MAX_ITEMS};
use super::results::{
    dynamic_section, evidence_cell, static_section, verdict_body, verdict_section,
};
use super::{
    capped, params, PageError, WebState, MAX_NAME_BYTES, MAX_SEARCH_BYTES, MAX_VERSION_BYTES,
};
use crate::query::AlertFilter;

/// The feed shows this many alerts, reading back at most [`ALERT_SCAN`]
/// messages.
pub const FEED_ALERTS: usize = 100;
pub const ALERT_SCAN: u64 = 5000;
/// The feed reloads itself this often (seconds).
pub const FEED_REFRESH: u32 = 10;

type Page = Result<Html<String>, PageError>;

#[derive(Debug, Default, Deserialize)]
pub struct FeedParams {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    eco: String,
}

/// `/`: the newest alerts, filtered by minimum severity and ecosystem.
#[tracing::instrument(skip_all)]
pub async fn alerts(
    State(state): State<WebState>,
    query: Result<Query<FeedParams>, QueryRejection>,
) -> Page {
    let p = params(query)?;
    let mut filter = AlertFilter::default();
    if !p.severity.is_empty() {
        filter.min_severity =
            parse_severity(&p.severity).map_err(|e| PageError::BadRequest(e.to_string()))?;
    }
    if !p.eco.is_empty() {
        filter.ecosystems = vec![ecosystem(&p.eco)?];
    }
    let alerts = state
        .results
        .recent_alerts(&filter, FEED_ALERTS, ALERT_SCAN)
        .await?;

    let mut body = String::from("<h1>Alerts</h1>");
    let _ = write!(
        body,
        "<p class=\"meta\">The newest {FEED_ALERTS} alerts, newest first; this page reloads every {FEED_REFRESH} seconds.</p>"
    );
    body.push_str("<form class=\"filters\" method=\"get\" action=\"/\">Minimum severity <select name=\"severity\"><option value=\"\">any</option>");
    for s in SEVERITIES {
        let t = severity_token(s);
        let selected = if filter.min_severity == s {
            " selected"
        } else {
            ""
        };
        let _ = write!(body, "<option value=\"{t}\"{selected}>{t}</option>");
    }
    body.push_str("</select> Ecosystem <select name=\"eco\"><option value=\"\">all</option>");
    for e in ALL {
        let n = cli_name(e);
        let selected = if filter.ecosystems.contains(&e) {
            " selected"
        } else {
            ""
        };
        let _ = write!(body, "<option value=\"{n}\"{selected}>{n}</option>");
    }
    body.push_str("</select> <button type=\"submit\">filter</button></form>");
    html::table(
        &mut body,
        "Alerts",
        &[
            "time",
            "severity",
            "ecosystem",
            "package",
            "version",
            "summary",
        ],
        &alerts,
        |a| {
            let p = a.alert.package.clone().unwrap_or_default();
            let eco = cli_name(p.ecosystem());
            vec![
                format!(
                    "<span class=\"time\">{}</span>",
                    html::system_time(a.stored_at)
                ),
                html::severity_badge(a.alert.severity),
                eco.into(),
                link("/package", &[("eco", eco), ("name", &p.name)], &p.name),
                release_link(&p, &p.version),
                text(&a.alert.summary),
            ]
        },
    );
    Ok(Html(html::page("alerts", &body, Some(FEED_REFRESH))))
}

#[derive(Debug, Default, Deserialize)]
pub struct PackageParams {
    #[serde(default)]
    eco: String,
    #[serde(default)]
    name: String,
}

/// `/package`: a package's analysed versions, newest first.
#[tracing::instrument(skip_all)]
pub async fn package(
    State(state): State<WebState>,
    query: Result<Query<PackageParams>, QueryRejection>,
) -> Page {
    let p = params(query)?;
    let eco = ecosystem(&p.eco)?;
    let name = name(&p.name)?;
    let (versions, truncated) = state.results.list(eco, name, MAX_ITEMS).await?;
    let package = PackageRef {
        ecosystem: eco as i32,
        name: name.to_owned(),
        version: String::new(),
    };
    if versions.is_empty() {
        return Err(not_analysed(&package));
    }
    let mut body = format!(
        "<h1>{} <span class=\"count\">{}</span></h1><p class=\"meta\">{} analysed version{}{}, newest first.</p>",
        text(name),
        cli_name(eco),
        versions.len(),
        if versions.len() == 1 { "" } else { "s" },
        if truncated { " shown (there are more)" } else { "" },
    );
    html::table(
        &mut body,
        "Versions",
        &[
            "version", "verdict", "score", "summary", "static", "dynamic", "updated", "",
        ],
        &versions,
        |r: &ReleaseIndex| {
            let version = r
                .package
                .as_ref()
                .map(|p| p.version.as_str())
                .unwrap_or_default();
            let diff = if r.previous_version.is_empty() {
                String::new()
            } else {
                diff_link(&package, &r.previous_version, version, "diff with previous")
            };
            vec![
                release_link(&package, version),
                html::severity_badge(r.severity),
                score(r.severity, r.score),
                text(&r.summary),
                status_or_dash(r.static_sequence, r.static_status),
                status_or_dash(r.dynamic_sequence, r.dynamic_status),
                format!(
                    "<span class=\"time\">{}</span>",
                    html::timestamp(r.updated_at.as_ref())
                ),
                diff,
            ]
        },
    );
    Ok(Html(html::page(
        &format!("{} {name}", cli_name(eco)),
        &body,
        None,
    )))
}

#[derive(Debug, Default, Deserialize)]
pub struct ReleaseParams {
    #[serde(default)]
    eco: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
}

/// `/release`: a release's verdict, static findings and dynamic behaviour.
#[tracing::instrument(skip_all)]
pub async fn release(
    State(state): State<WebState>,
    query: Result<Query<ReleaseParams>, QueryRejection>,
) -> Page {
    let p = params(query)?;
    let package = PackageRef {
        ecosystem: ecosystem(&p.eco)? as i32,
        name: name(&p.name)?.to_owned(),
        version: capped("version", &p.version, MAX_VERSION_BYTES)?.to_owned(),
    };
    let found = match state.results.get(&package).await {
        Err(crate::query::QueryError::NotFound(_)) => return Err(not_analysed(&package)),
        other => other?,
    };
    let package = found
        .index
        .package
        .clone()
        .filter(|p| !p.version.is_empty())
        .unwrap_or(package);
    let eco = cli_name(package.ecosystem());
    let mut body = format!(
        "<h1>{} <span class=\"count\">{}</span> {}</h1><p class=\"meta\">{}",
        text(&package.name),
        eco,
        text(&package.version),
        link(
            "/package",
            &[("eco", eco), ("name", &package.name)],
            "all versions"
        ),
    );
    if !found.index.previous_version.is_empty() {
        let _ = write!(
            body,
            " · {}",
            diff_link(
                &package,
                &found.index.previous_version,
                &package.version,
                &format!("diff with {}", found.index.previous_version)
            )
        );
    }
    if let Some(r) = &found.release {
        if let Some(t) = r.published_at.as_ref().or(r.discovered_at.as_ref()) {
            let _ = write!(body, " · published {}", html::timestamp(Some(t)));
        }
        if r.yanked {
            body.push_str(" · <strong>yanked</strong>");
        }
    }
    body.push_str("</p>");
    for note in &found.expired {
        let _ = write!(body, "<div class=\"notice\">{}</div>", text(note));
    }
    verdict_section(&mut body, found.alert.as_ref());
    static_section(&mut body, found.static_result.as_ref());
    dynamic_section(&mut body, found.dynamic_result.as_ref());
    let title = format!("{eco} {}@{}", package.name, package.version);
    Ok(Html(html::page(&title, &body, None)))
}

#[derive(Debug, Default, Deserialize)]
pub struct DiffParams {
    #[serde(default)]
    eco: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `/diff`: behaviour added and removed between two releases.
#[tracing::instrument(skip_all)]
pub async fn diff(
    State(state): State<WebState>,
    query: Result<Query<DiffParams>, QueryRejection>,
) -> Page {
    let p = params(query)?;
    let eco = ecosystem(&p.eco)?;
    let name = name(&p.name)?;
    let from = capped("from version", &p.from, MAX_VERSION_BYTES)?;
    let to = capped("to version", &p.to, MAX_VERSION_BYTES)?;
    let answer = match state.results.diff(eco, name, from, to).await {
        Err(crate::query::QueryError::NotFound(m)) => {
            return Err(PageError::NotFound {
                message: m,
                hint: submit_hint(&format!("{} {name}@{to}", cli_name(eco))),
            })
        }
        other => other?,
    };
    let package = PackageRef {
        ecosystem: eco as i32,
        name: name.to_owned(),
        version: String::new(),
    };
    let mut changes: Vec<&Change> = answer.change.changes.iter().collect();
    changes.sort_by_key(|c| (c.action != ChangeAction::Added as i32, kind_rank(c.kind)));
    let added = changes
        .iter()
        .filter(|c| c.action == ChangeAction::Added as i32)
        .count();
    let mut body = format!(
        "<h1>{} <span class=\"count\">{}</span> {} → {}</h1><p class=\"meta\">{} · {} · {} · {} added, {} removed · {}</p>",
        text(name),
        cli_name(eco),
        text(from),
        text(to),
        link("/package", &[("eco", cli_name(eco)), ("name", name)], "all versions"),
        release_link(&package, from),
        release_link(&package, to),
        added,
        changes.len() - added,
        if answer.computed {
            "computed from the stored results"
        } else {
            "stored: the change the alert compared"
        },
    );
    if let Some(v) = &answer.verdict {
        verdict_body(&mut body, v);
    }
    html::table(
        &mut body,
        "Behaviour changes",
        &["", "phase", "kind", "behaviour", "evidence"],
        &changes,
        |c| {
            let (class, sign) = if c.action == ChangeAction::Added as i32 {
                ("added", "+")
            } else {
                ("removed", "−")
            };
            vec![
                format!("<span class=\"{class}\">{sign}</span>"),
                html::phase_name(c.phase).into(),
                kind_name(c.kind),
                format!("<code>{}</code>", text(&c.value)),
                c.evidence.first().map(evidence_cell).unwrap_or_default(),
            ]
        },
    );
    let title = format!("diff {} {name} {from} → {to}", cli_name(eco));
    Ok(Html(html::page(&title, &body, None)))
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

/// `/search`: packages whose name contains the query.
#[tracing::instrument(skip_all)]
pub async fn search(
    State(state): State<WebState>,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Page {
    let p = params(query)?;
    let q = capped("search query", p.q.trim(), MAX_SEARCH_BYTES)?;
    let mut body = format!(
        "<h1>Search</h1><form class=\"filters\" method=\"get\" action=\"/search\"><input type=\"search\" name=\"q\" value=\"{}\"> <button type=\"submit\">search</button></form>",
        escape(q)
    );
    if !q.is_empty() {
        let found = state.results.search(q, MAX_ITEMS + 1).await?;
        html::table(
            &mut body,
            "Packages",
            &["ecosystem", "package"],
            &found,
            |(eco, name)| {
                vec![
                    cli_name(*eco).into(),
                    link("/package", &[("eco", cli_name(*eco)), ("name", name)], name),
                ]
            },
        );
    }
    Ok(Html(html::page("search", &body, None)))
}

fn ecosystem(value: &str) -> Result<Ecosystem, PageError> {
    if value.is_empty() {
        return Err(PageError::BadRequest(
            "the eco parameter is missing: one of pypi, npm, rubygems, packagist, crates.io".into(),
        ));
    }
    parse(capped("ecosystem", value, 32)?).map_err(|e| PageError::BadRequest(e.to_string()))
}

fn name(value: &str) -> Result<&str, PageError> {
    if value.is_empty() {
        return Err(PageError::BadRequest(
            "the name parameter is missing".into(),
        ));
    }
    capped("package name", value, MAX_NAME_BYTES)
}

fn submit_hint(what: &str) -> String {
    format!(
        "<p>To analyse it, submit it to the pipeline: <code>paddock submit {}</code></p>",
        escape(what)
    )
}

fn not_analysed(p: &PackageRef) -> PageError {
    let what = if p.version.is_empty() {
        format!("{} {}", cli_name(p.ecosystem()), p.name)
    } else {
        format!("{} {}@{}", cli_name(p.ecosystem()), p.name, p.version)
    };
    PageError::NotFound {
        message: format!("{what} has not been analysed here (or its results have aged out)"),
        hint: submit_hint(&what),
    }
}

fn release_link(p: &PackageRef, version: &str) -> String {
    link(
        "/release",
        &[
            ("eco", cli_name(p.ecosystem())),
            ("name", &p.name),
            ("version", version),
        ],
        version,
    )
}

fn diff_link(p: &PackageRef, from: &str, to: &str, label: &str) -> String {
    link(
        "/diff",
        &[
            ("eco", cli_name(p.ecosystem())),
            ("name", &p.name),
            ("from", from),
            ("to", to),
        ],
        label,
    )
}

fn score(severity: i32, score: f64) -> String {
    if severity == Severity::Unspecified as i32 && score == 0.0 {
        String::new()
    } else {
        format!("{score:.1}")
    }
}

fn status_or_dash(sequence: u64, status: i32) -> String {
    if sequence == 0 {
        "<span class=\"status status-none\">–</span>".into()
    } else {
        html::status_badge(status)
    }
}

/// Commands, hosts, DNS names and file writes first: what a reader checks
/// first when a release changes.
fn kind_rank(kind: i32) -> u8 {
    match ChangeKind::try_from(kind).unwrap_or(ChangeKind::Unspecified) {
        ChangeKind::Command => 0,
        ChangeKind::Host => 1,
        ChangeKind::DnsName => 2,
        ChangeKind::FileWrite => 3,
        ChangeKind::InstallHook => 4,
        ChangeKind::BundledBinary => 5,
        ChangeKind::Obfuscation => 6,
        ChangeKind::Finding => 7,
        ChangeKind::Capability => 8,
        ChangeKind::FileDelete => 9,
        ChangeKind::FileRead => 10,
        ChangeKind::Dependency => 11,
        ChangeKind::Unspecified => 12,
    }
}

fn kind_name(kind: i32) -> String {
    ChangeKind::try_from(kind)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("CHANGE_KIND_")
                .to_lowercase()
                .replace('_', " ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_rank_commands_and_hosts_first() {
        assert!(kind_rank(ChangeKind::Command as i32) < kind_rank(ChangeKind::Capability as i32));
        assert!(kind_rank(ChangeKind::Host as i32) < kind_rank(ChangeKind::FileRead as i32));
        assert!(kind_rank(ChangeKind::FileWrite as i32) < kind_rank(ChangeKind::Dependency as i32));
    }
}
