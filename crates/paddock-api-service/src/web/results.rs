//! A release's stored results as HTML: the verdict and its reasons,
//! findings with their evidence, and each dynamic phase (the process tree,
//! commands, files written, network, DNS, bait accesses).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use paddock_proto::v1::{
    Alert, DynamicResult, Evidence, Finding, PhaseResult, Process, SocketOp, StaticResult, Verdict,
};

use super::html::{self, text, MAX_ITEMS};

pub(super) fn evidence_cell(e: &Evidence) -> String {
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

pub(super) fn verdict_section(out: &mut String, alert: Option<&Alert>) {
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

pub(super) fn verdict_body(out: &mut String, v: &Verdict) {
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

pub(super) fn static_section(out: &mut String, result: Option<&StaticResult>) {
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

pub(super) fn dynamic_section(out: &mut String, result: Option<&DynamicResult>) {
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
                SocketOp::try_from(s.op)
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
}
