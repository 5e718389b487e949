//! One handler per page. Each parses and caps its parameters, reads
//! through [`Results`](crate::query::Results) and renders with [`html`].

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use paddock_proto::ecosystem::{cli_name, parse, parse_severity, severity_token, ALL, SEVERITIES};
use paddock_proto::v1::{
    Alert, Change, ChangeAction, ChangeKind, DynamicResult, Ecosystem, Finding, PackageRef,
    PhaseResult, Process, ReleaseIndex, Severity, StaticResult, Verdict,
};
use serde::Deserialize;

use super::html::{self, escape, link, text, MAX_ITEMS};
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

fn evidence_cell(e: &paddock_proto::v1::Evidence) -> String {
    let mut out = String::new();
    if !e.file.is_empty() {
        let _ = write!(out, "<code>{}", text(&e.file));
        if e.line > 0 {
            let _ = write!(out, ":{}", e.line);
        }
        out.push_str("</code> ");
    }
    if !e.layers.is_empty() {
        let _ = write!(
            out,
            "<span class=\"note\">(decoded: {})</span> ",
            text(&e.layers.join(" → "))
        );
    }
    if !e.detail.is_empty() {
        let _ = write!(out, "{} ", text(&e.detail));
    }
    if !e.snippet.is_empty() {
        let _ = write!(out, "<pre>{}</pre>", text(&e.snippet));
    }
    out
}

fn verdict_section(out: &mut String, alert: Option<&Alert>) {
    out.push_str("<h2>Verdict</h2>");
    match alert.and_then(|a| a.verdict.as_ref().map(|v| (a, v))) {
        Some((a, v)) => {
            let _ = write!(out, "<p>{}</p>", text(&a.summary));
            verdict_body(out, v);
        }
        None => out.push_str(
            "<p class=\"none\">no verdict yet: the diff service has not scored this release</p>",
        ),
    }
}

fn verdict_body(out: &mut String, v: &Verdict) {
    let _ = write!(
        out,
        "<p>{} score {:.1}{}{}</p>",
        html::severity_badge(v.severity),
        v.score,
        if v.previous_version.is_empty() {
            String::new()
        } else {
            format!(" · compared with {}", text(&v.previous_version))
        },
        match (v.has_static, v.has_dynamic) {
            (true, true) => " · static and dynamic results",
            (true, false) => " · static results only",
            (false, true) => " · dynamic results only",
            (false, false) => " · no results",
        },
    );
    html::table(
        out,
        "Reasons",
        &["weight", "severity", "source", "code", "description"],
        &v.reasons,
        |r| {
            vec![
                format!("{:+.1}", r.weight),
                html::severity_badge(r.severity),
                text(&r.source),
                format!("<code>{}</code>", text(&r.code)),
                text(&r.description),
            ]
        },
    );
}

fn findings(out: &mut String, heading: &str, findings: &[Finding]) {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let _ = write!(
        out,
        "<h3>{heading} <span class=\"count\">{}</span></h3>",
        sorted.len()
    );
    if sorted.is_empty() {
        out.push_str("<p class=\"none\">none</p>");
    }
    for f in sorted.iter().take(MAX_ITEMS) {
        let _ = write!(
            out,
            "<div class=\"finding\">{} <code>{}</code> {} <span class=\"note\">confidence {:.2}{}</span>",
            html::severity_badge(f.severity),
            text(&f.rule_id),
            text(&f.title),
            f.confidence,
            if f.technique.is_empty() {
                String::new()
            } else {
                format!(" · {}", text(&f.technique))
            },
        );
        if !f.description.is_empty() {
            let _ = write!(out, "<p>{}</p>", text(&f.description));
        }
        if !f.evidence.is_empty() {
            out.push_str("<ul>");
            for e in f.evidence.iter().take(20) {
                let _ = write!(out, "<li>{}</li>", evidence_cell(e));
            }
            if f.evidence.len() > 20 {
                let _ = write!(
                    out,
                    "<li class=\"more\">… and {} more</li>",
                    f.evidence.len() - 20
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</div>");
    }
    html::more(out, sorted.len());
}

fn static_section(out: &mut String, result: Option<&StaticResult>) {
    out.push_str("<h2>Static analysis</h2>");
    let Some(r) = result else {
        out.push_str("<p class=\"none\">no static result</p>");
        return;
    };
    let _ = write!(
        out,
        "<p>{} {} · {} files</p>",
        html::status_badge(r.status),
        text(&r.status_detail),
        r.files.len(),
    );
    findings(out, "Findings", &r.findings);
}

fn dynamic_section(out: &mut String, result: Option<&DynamicResult>) {
    out.push_str("<h2>Dynamic analysis</h2>");
    let Some(r) = result else {
        out.push_str("<p class=\"none\">no dynamic result</p>");
        return;
    };
    let _ = write!(
        out,
        "<p>{} {}{}</p>",
        html::status_badge(r.status),
        text(&r.status_detail),
        r.sandbox
            .as_ref()
            .map(|s| format!(" · {} ({})", text(&s.runtime), text(&s.network_mode)))
            .unwrap_or_default(),
    );
    if !r.findings.is_empty() {
        findings(out, "Findings", &r.findings);
    }
    for phase in &r.phases {
        phase_section(out, phase);
    }
}

fn phase_section(out: &mut String, p: &PhaseResult) {
    let _ = write!(
        out,
        "<h2>Phase: {} {}</h2><p>{} exit code {}{}</p>",
        html::phase_name(p.phase),
        html::status_badge(p.status),
        text(&p.status_detail),
        p.exit_code,
        p.duration
            .as_ref()
            .map(|d| format!(" · {:.1} s", d.seconds as f64 + f64::from(d.nanos) / 1e9))
            .unwrap_or_default(),
    );
    let _ = write!(
        out,
        "<h3>Process tree <span class=\"count\">{}</span></h3>",
        p.processes.len()
    );
    process_tree(out, &p.processes);
    html::table(
        out,
        "Commands",
        &["pid", "parent", "command", "cwd"],
        &p.commands,
        |c| {
            vec![
                c.pid.to_string(),
                c.parent_pid.to_string(),
                format!("<code>{}</code>", text(&html::argv_line(&c.argv))),
                format!("<code>{}</code>", text(&c.cwd)),
            ]
        },
    );
    html::table(
        out,
        "Files written",
        &["path", "pid", "bytes", "sha256"],
        &p.file_writes,
        |w| {
            vec![
                format!("<code>{}</code>", text(&w.path)),
                w.pid.to_string(),
                w.bytes_written.to_string(),
                format!("<code>{}</code>", text(&w.sha256)),
            ]
        },
    );
    html::table(
        out,
        "Sockets",
        &["op", "address", "hostnames", "pid", "result"],
        &p.sockets,
        |s| {
            vec![
                paddock_proto::v1::SocketOp::try_from(s.op)
                    .map(|o| {
                        o.as_str_name()
                            .trim_start_matches("SOCKET_OP_")
                            .to_lowercase()
                    })
                    .unwrap_or_default(),
                format!(
                    "<code>{} {}:{}</code>",
                    text(&s.protocol),
                    text(&s.address),
                    s.port
                ),
                text(&s.hostnames.join(", ")),
                s.pid.to_string(),
                if s.error.is_empty() {
                    s.result.to_string()
                } else {
                    text(&s.error)
                },
            ]
        },
    );
    html::table(
        out,
        "HTTP requests",
        &["method", "host", "path", "address", "status"],
        &p.http_requests,
        |h| {
            vec![
                text(&h.method),
                format!("<code>{}</code>", text(&h.host)),
                format!("<code>{}</code>", text(&h.path)),
                format!("<code>{}:{}</code>", text(&h.address), h.port),
                if h.refused.is_empty() {
                    h.response_status.to_string()
                } else {
                    format!("refused: {}", text(&h.refused))
                },
            ]
        },
    );
    html::table(
        out,
        "TLS",
        &["SNI", "address", "ALPN", "intercepted"],
        &p.tls,
        |t| {
            vec![
                format!("<code>{}</code>", text(&t.sni)),
                format!("<code>{}:{}</code>", text(&t.address), t.port),
                text(&t.alpn.join(", ")),
                if t.intercepted {
                    "yes".into()
                } else {
                    text(&t.handshake_error)
                },
            ]
        },
    );
    html::table(
        out,
        "DNS",
        &["name", "types", "answered", "answers"],
        &p.dns,
        |d| {
            vec![
                format!("<code>{}</code>", text(&d.hostname)),
                text(&d.types.join(", ")),
                if d.answered { "yes" } else { "no" }.into(),
                text(&d.answers.join(", ")),
            ]
        },
    );
    html::table(
        out,
        "Bait accesses",
        &["bait", "how", "pid", "detail"],
        &p.bait_accesses,
        |b| {
            vec![
                format!("<strong>{}</strong>", text(&b.bait)),
                text(&b.how),
                b.pid.to_string(),
                format!("<code>{}</code>", text(&b.detail)),
            ]
        },
    );
    let written: Vec<_> = p.files.iter().filter(|f| f.write || f.delete).collect();
    html::table(
        out,
        "Files changed",
        &["path", "write", "delete"],
        &written,
        |f| {
            vec![
                format!("<code>{}</code>", text(&f.path)),
                if f.write { "yes" } else { "" }.into(),
                if f.delete { "yes" } else { "" }.into(),
            ]
        },
    );
}

/// Nested lists from pid and parent pid; a process whose parent was not
/// seen is a root. Cycles and depth are bounded, and at most
/// [`MAX_ITEMS`] processes are shown.
fn process_tree(out: &mut String, processes: &[Process]) {
    if processes.is_empty() {
        out.push_str("<p class=\"none\">none</p>");
        return;
    }
    let pids: HashSet<u32> = processes.iter().map(|p| p.pid).collect();
    let mut children: BTreeMap<u32, Vec<&Process>> = BTreeMap::new();
    let mut roots = Vec::new();
    for p in processes {
        if p.parent_pid != p.pid && pids.contains(&p.parent_pid) {
            children.entry(p.parent_pid).or_default().push(p);
        } else {
            roots.push(p);
        }
    }
    let mut shown = HashSet::new();
    out.push_str("<ul class=\"tree\">");
    for root in roots {
        tree_node(out, root, &children, &mut shown, 0);
    }
    // Parents that point at each other have no root: shown at the top.
    for p in processes {
        if !shown.contains(&p.pid) {
            tree_node(out, p, &children, &mut shown, 0);
        }
    }
    out.push_str("</ul>");
    let hidden = pids.len().saturating_sub(shown.len());
    if hidden > 0 {
        let _ = write!(out, "<p class=\"more\">… and {hidden} more</p>");
    }
}

fn tree_node(
    out: &mut String,
    p: &Process,
    children: &BTreeMap<u32, Vec<&Process>>,
    shown: &mut HashSet<u32>,
    depth: usize,
) {
    if shown.len() >= MAX_ITEMS || depth > 64 || !shown.insert(p.pid) {
        return;
    }
    let command = if p.argv.is_empty() {
        p.executable.clone()
    } else {
        html::argv_line(&p.argv)
    };
    let _ = write!(
        out,
        "<li><span class=\"mono\">{}</span> <code>{}</code> <span class=\"note\">exit {}</span>",
        p.pid,
        text(&command),
        p.exit_code
    );
    if let Some(kids) = children.get(&p.pid) {
        out.push_str("<ul class=\"tree\">");
        for kid in kids {
            tree_node(out, kid, children, shown, depth + 1);
        }
        out.push_str("</ul>");
    }
    out.push_str("</li>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, parent: u32, argv: &str) -> Process {
        Process {
            pid,
            parent_pid: parent,
            argv: argv.split(' ').map(String::from).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_process_tree_nests_children_under_parents() {
        let mut out = String::new();
        process_tree(
            &mut out,
            &[
                proc(1, 0, "npm install"),
                proc(2, 1, "sh -c x"),
                proc(3, 2, "curl <x>"),
            ],
        );
        let (npm, sh, curl) = (
            out.find("npm install").unwrap(),
            out.find("sh -c x").unwrap(),
            out.find("curl &lt;x&gt;").unwrap(),
        );
        assert!(npm < sh && sh < curl);
        assert_eq!(out.matches("<ul class=\"tree\">").count(), 3);
    }

    #[test]
    fn a_cycle_in_the_process_tree_ends() {
        let mut out = String::new();
        process_tree(
            &mut out,
            &[proc(1, 2, "a"), proc(2, 1, "b"), proc(3, 3, "c")],
        );
        // 1 and 2 are each other's parents, 3 its own: each is shown once.
        for name in ["a", "b", "c"] {
            assert_eq!(out.matches(&format!("<code>{name}</code>")).count(), 1);
        }
    }

    #[test]
    fn changes_rank_commands_and_hosts_first() {
        assert!(kind_rank(ChangeKind::Command as i32) < kind_rank(ChangeKind::Capability as i32));
        assert!(kind_rank(ChangeKind::Host as i32) < kind_rank(ChangeKind::FileRead as i32));
        assert!(kind_rank(ChangeKind::FileWrite as i32) < kind_rank(ChangeKind::Dependency as i32));
    }
}
