//! HTML building blocks: escaping, links with query parameters, the page
//! frame with its inline style, badges and bounded lists.
//!
//! Every string that came from a package or the bus is attacker-written;
//! it reaches the page only through [`escape`] (text and attribute values)
//! or [`href`] (percent-encoded, then escaped).

use std::fmt::Write as _;

use paddock_proto::ecosystem::severity_token;
use paddock_proto::v1::{AnalysisStatus, Phase, Severity};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// At most this many items of one list are rendered on a page.
pub const MAX_ITEMS: usize = 500;
/// At most this many characters of one value (a snippet, a command) are
/// rendered; the rest is cut with `…`.
pub const MAX_VALUE_CHARS: usize = 2000;

/// Escapes text for HTML element content and quoted attribute values.
/// Kept here rather than pulled in: five characters, and the tests below
/// pin it against hostile input.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline have no place
            // in a page; they are shown as the replacement character.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// [`escape`] of at most [`MAX_VALUE_CHARS`] characters of `s`.
pub fn text(s: &str) -> String {
    match s.char_indices().nth(MAX_VALUE_CHARS) {
        Some((i, _)) => format!("{}…", escape(&s[..i])),
        None => escape(s),
    }
}

/// Query components keep only unreserved characters as they are.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A link to `path` with `params` percent-encoded, escaped for an
/// attribute value.
pub fn href(path: &str, params: &[(&str, &str)]) -> String {
    let mut url = path.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(k);
        url.push('=');
        url.extend(utf8_percent_encode(v, QUERY));
    }
    escape(&url)
}

/// `<a href=…>text</a>`.
pub fn link(path: &str, params: &[(&str, &str)], label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", href(path, params), text(label))
}

/// A severity badge; unscored shows as a dash.
pub fn severity_badge(severity: i32) -> String {
    match Severity::try_from(severity) {
        Ok(Severity::Unspecified) | Err(_) => "<span class=\"sev sev-none\">–</span>".into(),
        Ok(s) => {
            let t = severity_token(s);
            format!("<span class=\"sev sev-{t}\">{t}</span>")
        }
    }
}

/// `completed`, `error-timeout`, …
pub fn status_name(status: i32) -> String {
    AnalysisStatus::try_from(status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("ANALYSIS_STATUS_")
                .to_lowercase()
                .replace('_', "-")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// A status with a class that colours failures.
pub fn status_badge(status: i32) -> String {
    let name = status_name(status);
    let class = match AnalysisStatus::try_from(status) {
        Ok(AnalysisStatus::Completed) => "ok",
        Ok(AnalysisStatus::Unspecified | AnalysisStatus::Skipped) | Err(_) => "none",
        Ok(_) => "bad",
    };
    format!("<span class=\"status status-{class}\">{name}</span>")
}

/// `install`, `import`, `execute`; `static` for unspecified.
pub fn phase_name(phase: i32) -> &'static str {
    match Phase::try_from(phase) {
        Ok(Phase::Install) => "install",
        Ok(Phase::Import) => "import",
        Ok(Phase::Execute) => "execute",
        _ => "static",
    }
}

/// `2026-12-07 07:33:05 UTC` of a protobuf timestamp; empty when unset.
pub fn timestamp(t: Option<&pbjson_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// The same for a system time.
pub fn system_time(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// An argument vector as one line, arguments with spaces or quotes quoted.
pub fn argv_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A section: a heading, then `items` rendered by `row` into a table with
/// `columns`, at most [`MAX_ITEMS`] rows, "… and N more" after them.
pub fn table<T>(
    out: &mut String,
    heading: &str,
    columns: &[&str],
    items: &[T],
    mut row: impl FnMut(&T) -> Vec<String>,
) {
    let _ = write!(
        out,
        "<h3>{heading} <span class=\"count\">{}</span></h3>",
        items.len()
    );
    if items.is_empty() {
        out.push_str("<p class=\"none\">none</p>");
        return;
    }
    out.push_str("<table><thead><tr>");
    for c in columns {
        let _ = write!(out, "<th>{c}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for item in items.iter().take(MAX_ITEMS) {
        out.push_str("<tr>");
        for cell in row(item) {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    more(out, items.len());
}

/// "… and N more" when `total` exceeds [`MAX_ITEMS`].
pub fn more(out: &mut String, total: usize) {
    if total > MAX_ITEMS {
        let _ = write!(
            out,
            "<p class=\"more\">… and {} more</p>",
            total - MAX_ITEMS
        );
    }
}

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d232b;background:#f6f7f9}\
header{background:#1d2733;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}\
header a{color:#fff;text-decoration:none;font-weight:600}\
header .brand{font-size:18px;letter-spacing:.5px}\
header form{margin-left:auto}\
header input{padding:4px 8px;border-radius:4px;border:0;width:260px}\
main{padding:16px 24px;max-width:1400px}\
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #d5dae1;padding-bottom:4px}\
h3{font-size:15px;margin:16px 0 6px}\
.count{color:#6b7684;font-weight:400;font-size:13px}\
a{color:#1a5fb4}\
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:8px}\
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}\
th{background:#eef1f4;font-weight:600;font-size:13px}\
.time{white-space:nowrap;font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12.5px}\
code,pre,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12.5px;word-break:break-all}\
pre{background:#fff;border:1px solid #e4e7eb;padding:6px 8px;white-space:pre-wrap;margin:4px 0}\
.sev{display:inline-block;min-width:56px;text-align:center;border-radius:3px;padding:1px 6px;font-size:12px;font-weight:700;text-transform:uppercase;color:#fff}\
.sev-critical{background:#7a0a1c}.sev-high{background:#c01c28}.sev-medium{background:#e66100}\
.sev-low{background:#b59500}.sev-info{background:#5e81ac}.sev-none{background:#9aa3ad}\
.status{font-size:12px;font-weight:600}.status-ok{color:#26a269}.status-bad{color:#c01c28}.status-none{color:#6b7684}\
.added{color:#26a269;font-weight:700}.removed{color:#c01c28;font-weight:700}\
.none,.more,.note{color:#6b7684}\
.notice{background:#fff4d6;border:1px solid #e5c07b;padding:8px 12px;margin:8px 0}\
.error{background:#fde8e8;border:1px solid #e8a0a0;padding:12px 16px;margin:12px 0}\
.meta{color:#4a5562;margin:0 0 8px}\
.filters{margin:8px 0 12px}.filters select,.filters button{padding:3px 6px}\
ul.tree{list-style:none;padding-left:18px;margin:2px 0}ul.tree li{margin:2px 0}\
.finding{background:#fff;border:1px solid #e4e7eb;padding:8px 12px;margin:8px 0}\
";

/// A whole page: the frame, the search box, `body`; `refresh` reloads it
/// every so many seconds (the live feed, without script).
pub fn page(title: &str, body: &str, refresh: Option<u32>) -> String {
    let refresh = refresh
        .map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">"))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">{refresh}\
<title>{title} · paddock</title><style>{STYLE}</style></head><body>\
<header><a class=\"brand\" href=\"/\">paddock</a><a href=\"/\">alerts</a>\
<form method=\"get\" action=\"/search\"><input type=\"search\" name=\"q\" placeholder=\"search packages\" aria-label=\"search packages\"></form>\
</header><main>{body}</main></body></html>",
        title = text(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape("\"><img src=x onerror='alert(1)'>&"),
            "&quot;&gt;&lt;img src=x onerror=&#39;alert(1)&#39;&gt;&amp;"
        );
        assert_eq!(
            escape("a\u{0}b\u{1b}[31m\tc\n"),
            "a\u{FFFD}b\u{FFFD}[31m\tc\n"
        );
    }

    #[test]
    fn links_encode_then_escape() {
        assert_eq!(
            href("/package", &[("eco", "npm"), ("name", "@s/a b&\"<x>")]),
            "/package?eco=npm&amp;name=%40s%2Fa%20b%26%22%3Cx%3E"
        );
        let l = link("/r", &[("v", "1")], "<b>");
        assert_eq!(l, "<a href=\"/r?v=1\">&lt;b&gt;</a>");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(MAX_VALUE_CHARS + 10);
        let t = text(&long);
        assert!(t.ends_with('…'));
        assert_eq!(t.chars().count(), MAX_VALUE_CHARS + 1);
    }

    #[test]
    fn tables_are_bounded() {
        let items: Vec<u32> = (0..(MAX_ITEMS as u32 + 7)).collect();
        let mut out = String::new();
        table(&mut out, "n", &["n"], &items, |n| vec![n.to_string()]);
        assert_eq!(out.matches("<tr>").count(), MAX_ITEMS + 1);
        assert!(out.contains("… and 7 more"));
    }

    #[test]
    fn argv_quotes_what_needs_it() {
        let argv = ["sh", "-c", "curl x | sh", "it's"].map(String::from);
        assert_eq!(argv_line(&argv), "sh -c 'curl x | sh' 'it'\\''s'");
    }
}
