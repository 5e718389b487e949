//! The fixture registry: one loopback HTTP server that speaks each
//! registry's real response formats for the fixture packages, with faults
//! that tests switch on (errors, 429 with `Retry-After`, garbage, truncated
//! bodies, tampered artifacts).
//!
//! | ecosystem | base URL (for `registries.<eco>.url`) | documents |
//! |---|---|---|
//! | PyPI | `/pypi/simple/` | Simple API (JSON per PEP 691, or HTML), files under `/files/pypi/` |
//! | npm | `/npm/` | packuments, tarballs at `/npm/<name>/-/<file>.tgz` |
//! | RubyGems | `/rubygems/` | `api/v1/versions/<name>.json`, `gems/<file>.gem`; the compact index `gem install --source` uses (`versions`, `names`, `info/<name>`) and quick gemspecs (`quick/Marshal.4.8/<name>-<version>.gemspec.rz`) |
//! | Packagist | `/packagist/` | `packages.json`, minified `p2/<vendor>/<name>.json`, dists under `/files/packagist/` |
//! | crates.io | `/crates/index/` | sparse index with `config.json`, downloads under `/crates/api/v1/crates/` |
//!
//! Dependencies ([`FixturePackage::dependencies`]) are listed where each
//! client reads them: npm `versions[v].dependencies`, Packagist `require`,
//! the crates index's `deps`, the RubyGems compact index's `info` lines;
//! pip reads them from the wheel's `METADATA`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use paddock_proto::v1::Ecosystem;
use paddock_registry::digest::{sha1_hex, sha256_hex, sri_sha512};
use paddock_registry::ecosystems::{crates::index_path, pypi::normalize};
use paddock_registry::{Endpoint, RegistriesConfig};
use serde_json::{json, Value};

use crate::packages::{self, Built, FixturePackage};

/// A misbehaviour for requests whose path starts with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status the next `times` requests.
    Status { status: u16, times: u32 },
    /// Answer 429 with `Retry-After: <seconds>` the next `times` requests.
    RateLimited { retry_after_secs: u32, times: u32 },
    /// Answer 200 with bytes that are not the document.
    Garbage,
    /// Answer with the first half of the real body (and a correct
    /// Content-Length of the whole, so the connection ends early).
    Truncated,
    /// Serve an artifact whose bytes differ from what the metadata says.
    Tampered,
    /// Wait this long before answering.
    Delay { millis: u64 },
}

#[derive(Debug, Default)]
struct State {
    packages: Vec<FixturePackage>,
    artifacts: HashMap<String, Vec<u8>>,
    faults: Vec<(String, Fault)>,
    requests: Vec<String>,
}

/// A running fixture registry.
#[derive(Debug)]
pub struct FixtureRegistry {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FixtureRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FixtureRegistry {
    /// Serves [`packages::catalogue`].
    pub async fn start() -> Self {
        Self::with_packages(packages::catalogue()).await
    }

    /// Serves `packages`.
    pub async fn with_packages(packages: Vec<FixturePackage>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the fixture registry");
        let addr = listener.local_addr().expect("a bound address");
        let mut state = State::default();
        for pkg in &packages {
            for built in artifacts_of(pkg) {
                state
                    .artifacts
                    .insert(artifact_key(pkg.eco, &built.filename), built.bytes);
            }
        }
        state.packages = packages;
        let state = Arc::new(Mutex::new(state));
        let app = axum::Router::new().fallback({
            let state = state.clone();
            move |uri: Uri, headers: HeaderMap| {
                let state = state.clone();
                async move {
                    let delay = delay_for(&state, uri.path());
                    if let Some(delay) = delay {
                        tokio::time::sleep(delay).await;
                    }
                    handle(&state, addr, &uri, &headers)
                }
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of one ecosystem's registry.
    pub fn url(&self, eco: Ecosystem) -> String {
        let path = match eco {
            Ecosystem::Pypi => "pypi/simple/",
            Ecosystem::Npm => "npm/",
            Ecosystem::Rubygems => "rubygems/",
            Ecosystem::Packagist => "packagist/",
            Ecosystem::CratesIo | Ecosystem::Unspecified => "crates/index/",
        };
        format!("{}/{path}", self.origin())
    }

    /// The feed host of one ecosystem (RSS, changes feeds).
    pub fn api_url(&self, eco: Ecosystem) -> String {
        let path = match eco {
            Ecosystem::Pypi => "pypi/",
            Ecosystem::Npm => "npm-replicate/",
            Ecosystem::Rubygems => "rubygems/",
            Ecosystem::Packagist => "packagist/",
            Ecosystem::CratesIo | Ecosystem::Unspecified => "crates/",
        };
        format!("{}/{path}", self.origin())
    }

    /// A configuration pointing every registry here, with quick retries.
    pub fn registries_config(&self) -> RegistriesConfig {
        let mut config = RegistriesConfig::default();
        for eco in paddock_proto::ecosystem::ALL {
            *config.endpoint_mut(eco) = Endpoint {
                url: Some(self.url(eco)),
                api_url: Some(self.api_url(eco)),
            };
        }
        config.http.backoff_initial = std::time::Duration::from_millis(20);
        config.http.max_retry_after = std::time::Duration::from_secs(2);
        config
    }

    /// `PADDOCK__REGISTRIES__<ECO>__URL` and `…__API_URL` for every
    /// ecosystem, for a `paddock` process pointed at this registry.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for eco in paddock_proto::ecosystem::ALL {
            let key = paddock_proto::ecosystem::subject_token(eco)
                .replace('-', "_")
                .to_uppercase();
            out.push((format!("PADDOCK__REGISTRIES__{key}__URL"), self.url(eco)));
            out.push((
                format!("PADDOCK__REGISTRIES__{key}__API_URL"),
                self.api_url(eco),
            ));
        }
        out
    }

    /// Switches a fault on for paths starting with `path_prefix`.
    pub fn fault(&self, path_prefix: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push((path_prefix.to_owned(), fault));
    }

    /// Switches every fault off.
    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Publishes a release, as a registry does: its artifacts are built now
    /// and served, and every feed lists it from the next request on (at
    /// its `published` time; npm's changes feed gives its package the next
    /// sequence number).
    pub fn publish(&self, pkg: FixturePackage) {
        let built = artifacts_of(&pkg);
        self.publish_built(pkg, built);
    }

    /// Publishes a release with the given artifact bytes instead of its
    /// built ones (a hostile archive: the registry serves it, and its
    /// metadata's digests are of these bytes).
    pub fn publish_built(&self, pkg: FixturePackage, built: Vec<Built>) {
        let mut s = self.state.lock().unwrap();
        for b in built {
            s.artifacts
                .insert(artifact_key(pkg.eco, &b.filename), b.bytes);
        }
        s.packages.push(pkg);
    }

    /// The packages served.
    pub fn packages(&self) -> Vec<FixturePackage> {
        self.state.lock().unwrap().packages.clone()
    }
}

/// Every artifact of a release: the sdist and a wheel on PyPI, one file
/// elsewhere.
pub fn artifacts_of(pkg: &FixturePackage) -> Vec<Built> {
    let mut out = vec![packages::build(pkg)];
    if pkg.eco == Ecosystem::Pypi {
        out.push(packages::wheel(pkg));
    }
    out
}

fn artifact_key(eco: Ecosystem, filename: &str) -> String {
    format!(
        "{}/{filename}",
        paddock_proto::ecosystem::subject_token(eco)
    )
}

/// `{"<name>": "<requirement>", ...}`.
fn dependency_map(pkg: &FixturePackage) -> Value {
    Value::Object(
        pkg.dependencies
            .iter()
            .map(|(name, req)| (name.clone(), json!(req)))
            .collect(),
    )
}

/// A gem's releases, oldest first (compact index order).
fn sorted_gem_releases<'a>(s: &'a State, name: &str) -> Vec<&'a FixturePackage> {
    let mut releases: Vec<&FixturePackage> = s
        .packages
        .iter()
        .filter(|p| p.eco == Ecosystem::Rubygems && p.name == name)
        .collect();
    releases.sort_by(|a, b| {
        paddock_registry::version::compare(Ecosystem::Rubygems, &a.version, &b.version)
    });
    releases
}

/// A compact index `info/<name>` file: `---` then per release
/// `<version> <dep>:<req>&<req>,...|checksum:<sha256 of the .gem>`.
fn compact_index_info(
    releases: &[&FixturePackage],
    artifact: &dyn Fn(&FixturePackage) -> Built,
) -> String {
    let mut out = String::from("---\n");
    for pkg in releases {
        let deps: Vec<String> = pkg
            .dependencies
            .iter()
            .map(|(name, req)| {
                let mut reqs: Vec<String> = packages::gem_requirements(req)
                    .into_iter()
                    .map(|(op, v)| format!("{op} {v}"))
                    .collect();
                reqs.sort();
                format!("{name}:{}", reqs.join("&"))
            })
            .collect();
        let checksum = sha256_hex(&artifact(pkg).bytes);
        out.push_str(&format!(
            "{} {}|checksum:{checksum}\n",
            pkg.version,
            deps.join(",")
        ));
    }
    out
}

/// MD5 (RFC 1321) in lowercase hex: the compact index's `versions` file
/// names each gem's `info` file by it.
fn md5_hex(data: &[u8]) -> String {
    const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    let k: [u32; 64] =
        std::array::from_fn(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in msg.chunks(64) {
        let m: Vec<u32> = block
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(SHIFTS[i / 16 * 4 + i % 4]));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    state
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn delay_for(state: &Mutex<State>, path: &str) -> Option<std::time::Duration> {
    let s = state.lock().unwrap();
    s.faults.iter().find_map(|(prefix, fault)| match fault {
        Fault::Delay { millis } if path.starts_with(prefix.as_str()) => {
            Some(std::time::Duration::from_millis(*millis))
        }
        _ => None,
    })
}

fn handle(state: &Mutex<State>, addr: SocketAddr, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let fault = {
        let mut s = state.lock().unwrap();
        s.requests.push(path.clone());
        let mut hit = None;
        for (prefix, fault) in s.faults.iter_mut() {
            if !path.starts_with(prefix.as_str()) || matches!(fault, Fault::Delay { .. }) {
                continue;
            }
            match fault {
                Fault::Status { times, .. } | Fault::RateLimited { times, .. } if *times == 0 => {
                    continue
                }
                Fault::Status { times, .. } | Fault::RateLimited { times, .. } => {
                    *times -= 1;
                }
                _ => {}
            }
            hit = Some(fault.clone());
            break;
        }
        hit
    };
    match fault {
        Some(Fault::Status { status, .. }) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "fixture fault\n",
            )
                .into_response();
        }
        Some(Fault::RateLimited {
            retry_after_secs, ..
        }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                "slow down\n",
            )
                .into_response();
        }
        Some(Fault::Garbage) => {
            return (StatusCode::OK, "<html>this is not the document</html>").into_response()
        }
        _ => {}
    }
    let origin = format!("http://{addr}");
    let s = state.lock().unwrap();
    let query = uri.query().unwrap_or_default().to_owned();
    let response = route(
        &s,
        &origin,
        &path,
        &query,
        headers,
        fault == Some(Fault::Tampered),
    );
    drop(s);
    match (fault, response) {
        (Some(Fault::Truncated), Ok((ctype, body))) => {
            // Promise the whole body, send half: the client sees the
            // connection end early.
            let half = body[..body.len() / 2].to_vec();
            let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(half))]);
            Response::builder()
                .header(header::CONTENT_TYPE, ctype)
                .header(header::CONTENT_LENGTH, body.len())
                .body(Body::from_stream(stream))
                .expect("a valid response")
        }
        (_, Ok((ctype, body))) => ([(header::CONTENT_TYPE, ctype)], body).into_response(),
        (_, Err(status)) => (status, "not found\n").into_response(),
    }
}

type Routed = Result<(String, Vec<u8>), StatusCode>;

fn json_doc(value: Value) -> Routed {
    Ok((
        "application/json".into(),
        serde_json::to_vec(&value).expect("serialising json"),
    ))
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        pair.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

fn rfc2822(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.to_rfc2822())
        .unwrap_or_default()
}

fn rss(items: &[(String, String, String)]) -> Routed {
    let body: String = items
        .iter()
        .map(|(title, link, date)| format!("<item><title><![CDATA[{title}]]></title><link>{link}</link><pubDate>{date}</pubDate></item>\n"))
        .collect();
    let doc = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>updates</title>\n{body}</channel></rss>\n");
    Ok(("application/rss+xml".into(), doc.into_bytes()))
}

fn route(
    s: &State,
    origin: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    tampered: bool,
) -> Routed {
    let decoded = path
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%40", "@");
    let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let of = |eco| {
        s.packages
            .iter()
            .filter(move |p: &&FixturePackage| p.eco == eco)
    };
    // The bytes served for a release's main artifact (built once at start).
    let main_artifact = |pkg: &FixturePackage| -> Built {
        let filename = packages::artifact_filename(pkg);
        let bytes = s
            .artifacts
            .get(&artifact_key(pkg.eco, &filename))
            .cloned()
            .unwrap_or_default();
        Built { filename, bytes }
    };
    let artifact = |eco: Ecosystem, filename: &str| -> Routed {
        let mut bytes = s
            .artifacts
            .get(&artifact_key(eco, filename))
            .cloned()
            .ok_or(StatusCode::NOT_FOUND)?;
        if tampered {
            bytes.push(b'!');
        }
        Ok(("application/octet-stream".into(), bytes))
    };
    match segments.as_slice() {
        // Feeds, newest first as the registries list them.
        ["pypi", "rss", "updates.xml"] => {
            let mut items: Vec<_> = of(Ecosystem::Pypi).collect();
            items.sort_by(|a, b| b.published.cmp(&a.published));
            rss(&items
                .iter()
                .map(|p| {
                    (
                        format!("{} {}", p.name, p.version),
                        format!("{origin}/project/{}/{}/", p.name, p.version),
                        rfc2822(&p.published),
                    )
                })
                .collect::<Vec<_>>())
        }
        ["pypi", "rss", "project", name, "releases.xml"] => {
            let items: Vec<_> = of(Ecosystem::Pypi)
                .filter(|p| normalize(&p.name) == normalize(name))
                .collect();
            if items.is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            rss(&items
                .iter()
                .map(|p| {
                    (
                        p.version.clone(),
                        format!("{origin}/project/{}/{}/", p.name, p.version),
                        rfc2822(&p.published),
                    )
                })
                .collect::<Vec<_>>())
        }
        ["crates", "rss", "updates.xml"] => {
            let mut items: Vec<_> = of(Ecosystem::CratesIo).collect();
            items.sort_by(|a, b| b.published.cmp(&a.published));
            rss(&items
                .iter()
                .map(|p| {
                    (
                        format!("{} v{}", p.name, p.version),
                        format!("{origin}/crates/{}/{}", p.name, p.version),
                        rfc2822(&p.published),
                    )
                })
                .collect::<Vec<_>>())
        }
        ["npm-replicate", "registry", "_changes"] => {
            // Each release is a change to its package's document, numbered
            // in publication order; as in CouchDB, a document is listed once,
            // at the sequence of its latest change.
            let since: usize = query_param(query, "since")
                .and_then(|s| s.parse().ok())
                .unwrap_or(usize::MAX);
            let mut latest: Vec<(usize, &str)> = Vec::new();
            let mut last_seq = 0;
            for (i, p) in of(Ecosystem::Npm).enumerate() {
                last_seq = i + 1;
                latest.retain(|(_, n)| *n != p.name);
                latest.push((last_seq, &p.name));
            }
            let results: Vec<Value> = latest
                .iter()
                .filter(|(seq, _)| *seq > since)
                .map(|(seq, n)| json!({"seq": seq, "id": n, "changes": [{"rev": "1-x"}]}))
                .collect();
            json_doc(json!({"results": results, "last_seq": last_seq}))
        }
        ["packagist", "metadata", "changes.json"] => {
            let Some(since) = query_param(query, "since") else {
                return Err(StatusCode::BAD_REQUEST);
            };
            let since: i64 = since.parse().map_err(|_| StatusCode::BAD_REQUEST)?;
            let mut actions = Vec::new();
            for p in of(Ecosystem::Packagist) {
                let t = chrono::DateTime::parse_from_rfc3339(&p.published)
                    .map(|d| d.timestamp())
                    .unwrap_or(0);
                if t * 10_000 >= since && !actions.iter().any(|a: &Value| a["package"] == p.name) {
                    actions.push(json!({"type": "update", "package": p.name, "time": t}));
                }
            }
            json_doc(
                json!({"actions": actions, "timestamp": chrono::Utc::now().timestamp() * 10_000}),
            )
        }
        ["rubygems", "api", "v1", "timeframe_versions.json"] => {
            let parse = |k| {
                query_param(query, k).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            };
            let (Some(from), Some(to)) = (parse("from"), parse("to")) else {
                return Err(StatusCode::BAD_REQUEST);
            };
            let page: usize = query_param(query, "page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let list: Vec<Value> = of(Ecosystem::Rubygems)
                .filter(|p| chrono::DateTime::parse_from_rfc3339(&p.published).is_ok_and(|t| t >= from && t <= to))
                .map(|p| json!({"name": p.name, "number": p.version, "platform": "ruby", "created_at": p.published}))
                .collect();
            // Pages of 50, as the real API.
            let chunk: Vec<Value> = list
                .into_iter()
                .skip((page.max(1) - 1) * 50)
                .take(50)
                .collect();
            json_doc(Value::Array(chunk))
        }
        // PyPI Simple API.
        ["pypi", "simple", project, ""] | ["pypi", "simple", project] => {
            let releases: Vec<_> = of(Ecosystem::Pypi)
                .filter(|p| normalize(&p.name) == *project)
                .collect();
            if releases.is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            let mut files = Vec::new();
            for pkg in &releases {
                let mut built_files = vec![main_artifact(pkg)];
                if pkg.eco == Ecosystem::Pypi {
                    let wheel = packages::wheel_filename(pkg);
                    let bytes = s
                        .artifacts
                        .get(&artifact_key(pkg.eco, &wheel))
                        .cloned()
                        .unwrap_or_default();
                    built_files.push(Built {
                        filename: wheel,
                        bytes,
                    });
                }
                for built in built_files {
                    files.push(json!({
                        "filename": built.filename,
                        "url": format!("../../../files/pypi/{}", built.filename),
                        "hashes": {"sha256": sha256_hex(&built.bytes)},
                        "size": built.bytes.len(),
                        "upload-time": pkg.published,
                        "yanked": false,
                    }));
                }
            }
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if accept.contains("application/vnd.pypi.simple.v1+json") {
                let doc = json!({
                    "meta": {"api-version": "1.1"},
                    "name": project,
                    "versions": releases.iter().map(|p| p.version.clone()).collect::<Vec<_>>(),
                    "files": files,
                });
                Ok((
                    "application/vnd.pypi.simple.v1+json".into(),
                    serde_json::to_vec(&doc).expect("json"),
                ))
            } else {
                let links: String = files
                    .iter()
                    .map(|f| {
                        format!(
                            "<a href=\"{}#sha256={}\">{}</a><br/>\n",
                            f["url"].as_str().unwrap(),
                            f["hashes"]["sha256"].as_str().unwrap(),
                            f["filename"].as_str().unwrap()
                        )
                    })
                    .collect();
                Ok((
                    "text/html".into(),
                    format!("<!DOCTYPE html><html><body>\n{links}</body></html>\n").into_bytes(),
                ))
            }
        }
        ["files", "pypi", filename] => artifact(Ecosystem::Pypi, filename),
        // npm: tarballs, then packuments (scoped names have two segments).
        ["npm", .., "-", filename] => artifact(Ecosystem::Npm, filename),
        ["npm", name @ ..] => {
            let name = name.join("/");
            let releases: Vec<_> = of(Ecosystem::Npm).filter(|p| p.name == name).collect();
            let latest = paddock_registry::version::latest(
                Ecosystem::Npm,
                releases.iter().map(|p| p.version.as_str()),
            )
            .ok_or(StatusCode::NOT_FOUND)?;
            let mut versions = serde_json::Map::new();
            let mut time = serde_json::Map::new();
            time.insert("created".into(), json!("2026-11-01T00:00:00.000Z"));
            for pkg in &releases {
                let built = main_artifact(pkg);
                let mut doc = json!({
                    "name": pkg.name,
                    "version": pkg.version,
                    "dist": {
                        "tarball": format!("{origin}/npm/{}/-/{}", pkg.name, built.filename),
                        "integrity": sri_sha512(&built.bytes),
                        "shasum": sha1_hex(&built.bytes),
                    },
                });
                if !pkg.dependencies.is_empty() {
                    doc["dependencies"] = dependency_map(pkg);
                }
                versions.insert(pkg.version.clone(), doc);
                time.insert(pkg.version.clone(), json!(pkg.published));
            }
            json_doc(
                json!({"name": name, "dist-tags": {"latest": latest}, "versions": versions, "time": time}),
            )
        }
        // RubyGems.
        ["rubygems", "api", "v1", "versions", file] => {
            let name = file.strip_suffix(".json").ok_or(StatusCode::NOT_FOUND)?;
            let releases: Vec<_> = of(Ecosystem::Rubygems).filter(|p| p.name == name).collect();
            if releases.is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            let list: Vec<Value> = releases
                .iter()
                .rev()
                .map(|pkg| {
                    let built = main_artifact(pkg);
                    json!({"number": pkg.version, "platform": "ruby", "created_at": pkg.published, "prerelease": false, "sha": sha256_hex(&built.bytes)})
                })
                .collect();
            json_doc(Value::Array(list))
        }
        ["rubygems", "gems", filename] => artifact(Ecosystem::Rubygems, filename),
        // The source root: `gem` 3.3 probes it (HEAD) before using the
        // compact index under it.
        ["rubygems", ""] => Ok(("text/plain".into(), b"fixture rubygems\n".to_vec())),
        // RubyGems compact index.
        ["rubygems", "names"] => {
            let mut names: Vec<&str> = of(Ecosystem::Rubygems).map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            let mut body = String::from("---\n");
            for n in names {
                body.push_str(n);
                body.push('\n');
            }
            Ok(("text/plain; charset=utf-8".into(), body.into_bytes()))
        }
        ["rubygems", "versions"] => {
            let mut names: Vec<&str> = of(Ecosystem::Rubygems).map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            let created = of(Ecosystem::Rubygems)
                .map(|p| p.published.as_str())
                .max()
                .unwrap_or("2026-11-01T00:00:00Z");
            let mut body = format!("created_at: {created}\n---\n");
            for n in names {
                let releases = sorted_gem_releases(s, n);
                let versions: Vec<&str> = releases.iter().map(|p| p.version.as_str()).collect();
                let info = compact_index_info(&releases, &main_artifact);
                body.push_str(&format!(
                    "{n} {} {}\n",
                    versions.join(","),
                    md5_hex(info.as_bytes())
                ));
            }
            Ok(("text/plain; charset=utf-8".into(), body.into_bytes()))
        }
        ["rubygems", "info", name] => {
            let releases = sorted_gem_releases(s, name);
            if releases.is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            let info = compact_index_info(&releases, &main_artifact);
            Ok(("text/plain; charset=utf-8".into(), info.into_bytes()))
        }
        ["rubygems", "quick", "Marshal.4.8", file] => {
            let pkg = of(Ecosystem::Rubygems)
                .find(|p| *file == format!("{}-{}.gemspec.rz", p.name, p.version))
                .ok_or(StatusCode::NOT_FOUND)?;
            Ok((
                "application/octet-stream".into(),
                packages::gemspec_rz(pkg).bytes,
            ))
        }
        // Packagist: the repository document Composer reads first, then
        // minified p2.
        ["packagist", "packages.json"] => {
            json_doc(json!({"packages": [], "metadata-url": "/packagist/p2/%package%.json"}))
        }
        ["packagist", "p2", vendor, file] => {
            let name = format!(
                "{vendor}/{}",
                file.strip_suffix(".json").ok_or(StatusCode::NOT_FOUND)?
            );
            let mut releases: Vec<_> = of(Ecosystem::Packagist)
                .filter(|p| p.name == name)
                .collect();
            if releases.is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            releases.reverse();
            // Full entries, newest first, then minified as Packagist does:
            // each entry after the first repeats only what changed, and
            // `"__unset"` removes a key the previous one had.
            let mut list = Vec::new();
            let mut previous: Option<serde_json::Map<String, Value>> = None;
            for pkg in releases {
                let built = main_artifact(pkg);
                let mut entry = serde_json::Map::new();
                entry.insert("name".into(), json!(name));
                entry.insert("version".into(), json!(format!("v{}", pkg.version)));
                entry.insert(
                    "version_normalized".into(),
                    json!(format!("{}.0", pkg.version)),
                );
                entry.insert("type".into(), json!("library"));
                entry.insert("license".into(), json!(["MIT"]));
                entry.insert("time".into(), json!(pkg.published));
                entry.insert("dist".into(), json!({"type": "zip", "url": format!("{origin}/files/packagist/{}", built.filename), "reference": packages::reference(pkg), "shasum": sha1_hex(&built.bytes)}));
                if !pkg.dependencies.is_empty() {
                    entry.insert("require".into(), dependency_map(pkg));
                }
                let minified = match &previous {
                    None => entry.clone(),
                    Some(prev) => {
                        let mut diff: serde_json::Map<String, Value> = entry
                            .iter()
                            .filter(|(k, v)| prev.get(*k) != Some(*v))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        for k in prev.keys().filter(|k| !entry.contains_key(*k)) {
                            diff.insert(k.clone(), json!("__unset"));
                        }
                        diff
                    }
                };
                list.push(Value::Object(minified));
                previous = Some(entry);
            }
            json_doc(json!({"packages": {name: list}, "minified": "composer/2.0"}))
        }
        ["files", "packagist", filename] => artifact(Ecosystem::Packagist, filename),
        // crates.io sparse index and downloads.
        ["crates", "index", "config.json"] => json_doc(
            json!({"dl": format!("{origin}/crates/api/v1/crates"), "api": format!("{origin}/crates")}),
        ),
        ["crates", "index", rest @ ..] => {
            let name = rest.last().copied().unwrap_or_default();
            let releases: Vec<_> = of(Ecosystem::CratesIo)
                .filter(|p| p.name == name && index_path(&p.name) == rest.join("/"))
                .collect();
            if releases.is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            let mut body = String::new();
            for pkg in releases {
                let built = main_artifact(pkg);
                let deps: Vec<Value> = pkg
                    .dependencies
                    .iter()
                    .map(|(dep, req)| {
                        // As `cargo publish` sends it: `1` is `^1`.
                        let req = if req.starts_with(|c: char| c.is_ascii_digit()) {
                            format!("^{req}")
                        } else {
                            req.clone()
                        };
                        json!({"name": dep, "req": req, "features": [], "optional": false, "default_features": true, "target": null, "kind": "normal"})
                    })
                    .collect();
                let line = json!({"name": pkg.name, "vers": pkg.version, "deps": deps, "cksum": sha256_hex(&built.bytes), "features": {}, "yanked": false, "pubtime": pkg.published});
                body.push_str(&line.to_string());
                body.push('\n');
            }
            Ok(("text/plain".into(), body.into_bytes()))
        }
        ["crates", "api", "v1", "crates", name, version, "download"] => {
            artifact(Ecosystem::CratesIo, &format!("{name}-{version}.crate"))
        }
        _ => Err(StatusCode::NOT_FOUND),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc_1321() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }
}
