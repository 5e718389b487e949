//! The registry proxy: the only way the sandbox's package managers reach a
//! registry.
//!
//! Inside the sandbox every client is configured with a base URL on the
//! internet host ([`PROXY_PORT`]): pip's index `…/pypi/simple/`, npm's
//! registry `…/npm/`, gem's source `…/rubygems/`, Composer's repository
//! `…/packagist` and cargo's replacement source `sparse+…/crates/`. The
//! proxy forwards only requests of the shapes those clients make, for
//! names that are valid in the ecosystem, to the configured upstream
//! registries (the same configuration the feed reads), from the worker's
//! own network. Metadata comes back with its download URLs rewritten to
//! the proxy, and only URLs the proxy handed out that way can be
//! downloaded: the proxy is not a way out to anywhere else. Everything else
//! is refused and recorded, as is every download (the dependencies an
//! install pulled).
//!
//! Nothing from the sandbox's request but the path is forwarded (no
//! headers, no body), and a path carrying a bait value is refused before it
//! reaches an upstream.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paddock_proto::v1::{Ecosystem, FetchedPackage, HttpRequest, PackageRef};
use paddock_registry::ecosystems::{crates, npm, pypi};
use paddock_registry::http::Http;
use paddock_registry::RegistriesConfig;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::conn::{self, Body, Conn, Head};
use crate::host::{http_record, scan_request};
use crate::record::{now, Recorder};
use crate::sniff::HttpHead;
use crate::{HOST_ADDR, PROXY_PORT};

/// Longest request target the proxy looks at.
pub const MAX_TARGET: usize = 2048;
/// Metadata is served from memory this long.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// Metadata held in memory at most (bytes).
const MAX_METADATA_CACHE: usize = 256 << 20;
/// Downloads fetched and served at once (each is held in memory while it
/// is sent), so that a package cannot make the worker hold many large
/// artifacts together.
const MAX_DOWNLOADS: usize = 4;

/// Handed-out download URLs remembered at most.
const MAX_ISSUED: usize = 200_000;

/// The proxy's base URL as the sandbox sees it.
pub fn base_url() -> String {
    format!("http://{HOST_ADDR}:{PROXY_PORT}")
}

/// A fetched document: content type and body.
type Document = (String, Vec<u8>);

/// A download URL the proxy put into metadata it served.
#[derive(Debug, Clone)]
struct Issued {
    url: String,
    package: PackageRef,
}

/// Shared by every analysis of a worker: upstreams, caches and the URLs
/// handed out.
#[derive(Debug)]
pub struct Proxy {
    registries: RegistriesConfig,
    http: Option<Http>,
    issued: Mutex<HashMap<String, Issued>>,
    metadata: Mutex<HashMap<String, (Instant, Option<Document>)>>,
    /// Downloads are kept here by the sha256 of their URL.
    cache_dir: Option<PathBuf>,
    downloads: Arc<Semaphore>,
}

/// What the proxy answers.
struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    refused: String,
    /// Held until the reply is sent (downloads).
    _permit: Option<OwnedSemaphorePermit>,
}

impl Reply {
    fn ok(content_type: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type: content_type.into(),
            body,
            refused: String::new(),
            _permit: None,
        }
    }

    fn refused(status: u16, why: impl Into<String>) -> Self {
        let why = why.into();
        Self {
            status,
            content_type: "text/plain".into(),
            body: format!("paddock registry proxy: {why}\n").into_bytes(),
            refused: why,
            _permit: None,
        }
    }

    fn status(status: u16, why: &str) -> Self {
        Self {
            status,
            content_type: "text/plain".into(),
            body: format!("paddock registry proxy: {why}\n").into_bytes(),
            refused: String::new(),
            _permit: None,
        }
    }
}

impl Proxy {
    /// `registries` are the upstreams (unset ones are refused);
    /// `cache_dir` keeps downloads across analyses.
    pub fn new(registries: RegistriesConfig, cache_dir: Option<PathBuf>) -> Self {
        let http = match Http::new(&registries.http, "registry-proxy") {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::error!(error = %e, "the registry proxy has no HTTP client: every registry request will fail");
                None
            }
        };
        if let Some(dir) = &cache_dir {
            let _ = std::fs::create_dir_all(dir);
        }
        Self {
            registries,
            http,
            issued: Mutex::new(HashMap::new()),
            metadata: Mutex::new(HashMap::new()),
            cache_dir,
            downloads: Arc::new(Semaphore::new(MAX_DOWNLOADS)),
        }
    }

    /// Serves one connection from the sandbox.
    pub async fn serve(&self, mut conn: Conn, rec: &Recorder) {
        let dest = SocketAddrV4::new(HOST_ADDR, PROXY_PORT);
        loop {
            let head = match conn.read_head().await {
                Head::Request(h) => h,
                Head::Closed => return,
                Head::Bad(e) => {
                    let why = format!("unacceptable request: {e}");
                    rec.http(HttpRequest {
                        address: HOST_ADDR.to_string(),
                        port: PROXY_PORT.into(),
                        via: "registry-proxy".into(),
                        refused: why.clone(),
                        response_status: 400,
                        at: Some(now()),
                        ..Default::default()
                    });
                    let body = format!("paddock registry proxy: {why}\n");
                    conn.respond(400, "text/plain", body.as_bytes(), false, false)
                        .await;
                    return;
                }
            };
            let has_body = head.chunked || head.content_length.unwrap_or(0) > 0;
            let body = if has_body {
                conn.read_body(&head, 1 << 20).await
            } else {
                Body {
                    complete: true,
                    ..Default::default()
                }
            };
            let mut record = http_record(&head, &body, &dest, "", "registry-proxy", 0);
            let reply = if scan_request(rec, &head, &body, &record) {
                Reply::refused(403, "the request carries a bait value")
            } else if has_body {
                Reply::refused(405, "requests with a body are not forwarded")
            } else {
                self.handle(&head, rec).await
            };
            record.response_status = reply.status.into();
            record.refused = reply.refused.clone();
            if !reply.refused.is_empty() {
                tracing::info!(target = %truncate(&head.target, 200), why = %reply.refused, "registry proxy refused a request");
            }
            rec.http(record);
            let keep = conn::keep_alive(&head) && body.complete && reply.refused.is_empty();
            let head_only = head.method == "HEAD";
            if !conn
                .respond(
                    reply.status,
                    &reply.content_type,
                    &reply.body,
                    keep,
                    head_only,
                )
                .await
                || !keep
            {
                return;
            }
        }
    }

    async fn handle(&self, head: &HttpHead, rec: &Recorder) -> Reply {
        if head.method != "GET" && head.method != "HEAD" {
            return Reply::refused(405, format!("method {} is not forwarded", head.method));
        }
        if head.target.len() > MAX_TARGET {
            return Reply::refused(
                414,
                format!(
                    "request target of {} bytes (at most {MAX_TARGET})",
                    head.target.len()
                ),
            );
        }
        if !head.target.starts_with('/') {
            return Reply::refused(
                403,
                format!(
                    "not a registry request: {} (only registry paths are forwarded)",
                    truncate(&head.target, 200)
                ),
            );
        }
        let (path, query) = head
            .target
            .split_once('?')
            .unwrap_or((head.target.as_str(), ""));
        if path.contains("..")
            || path.contains("//")
            || path.contains('\\')
            || path.to_ascii_lowercase().contains("%2e")
            || path.chars().any(|c| c.is_control() || c == ' ')
        {
            return Reply::refused(403, "a path that could reach outside the registry");
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["pypi", "simple", project] | ["pypi", "simple", project, ""] => {
                self.pypi_project(project).await
            }
            ["pypi", "files", id, _filename] => self.download(id, rec).await,
            ["npm", "-", "files", id, _filename] => self.download(id, rec).await,
            ["npm", scope, name] if scope.starts_with('@') => {
                self.npm_packument(&format!("{scope}/{name}")).await
            }
            ["npm", name] => {
                let name = name.replace("%2f", "/").replace("%2F", "/");
                self.npm_packument(&name).await
            }
            ["rubygems", rest @ ..] => self.rubygems(rest, query, rec).await,
            ["packagist", "packages.json"] => Reply::ok(
                "application/json",
                json!({
                    "packages": [],
                    "metadata-url": "/packagist/p2/%package%.json",
                })
                .to_string()
                .into_bytes(),
            ),
            ["packagist", "p2", vendor, file] => self.packagist(vendor, file).await,
            ["packagist", "files", id, _filename] => self.download(id, rec).await,
            ["crates", "config.json"] => Reply::ok(
                "application/json",
                json!({
                    "dl": format!("{}/crates/dl/{{crate}}/{{version}}/download", base_url()),
                    "api": null,
                })
                .to_string()
                .into_bytes(),
            ),
            ["crates", "dl", name, version, "download"] => {
                self.crate_download(name, version, rec).await
            }
            ["crates", rest @ ..] => self.crates_index(rest).await,
            _ => Reply::refused(
                403,
                format!(
                    "not an allow-listed registry path: {}",
                    truncate(&head.target, 200)
                ),
            ),
        }
    }

    fn upstream(&self, eco: Ecosystem) -> Option<String> {
        let url = self.registries.endpoint(eco).url.clone()?;
        let url = url.strip_prefix("sparse+").unwrap_or(&url).to_owned();
        Some(if url.ends_with('/') { url } else { url + "/" })
    }

    /// Fetches metadata (cached for a few minutes); `None` is a 404.
    async fn metadata(&self, url: &str, accept: &str) -> Result<Option<Document>, Reply> {
        let key = format!("{accept} {url}");
        if let Some((at, doc)) = self
            .metadata
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if at.elapsed() < METADATA_TTL {
                return Ok(doc.clone());
            }
        }
        let Some(http) = &self.http else {
            return Err(Reply::status(502, "no HTTP client"));
        };
        match http.get_metadata(url, accept).await {
            Ok(doc) => {
                let doc = doc.map(|f| (f.content_type, f.body.to_vec()));
                let mut cache = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
                // Bounded: a package can make the proxy fetch many large
                // documents.
                let held: usize = cache
                    .values()
                    .map(|(_, d)| d.as_ref().map_or(0, |(_, b)| b.len()))
                    .sum();
                if cache.len() > 10_000 || held > MAX_METADATA_CACHE {
                    cache.clear();
                }
                cache.insert(key, (Instant::now(), doc.clone()));
                Ok(doc)
            }
            Err(e) => {
                tracing::warn!(%url, error = %e, "the registry proxy could not fetch metadata");
                Err(Reply::status(502, "the upstream registry failed"))
            }
        }
    }

    /// Remembers a download URL and returns its id.
    fn issue(&self, url: &str, package: PackageRef) -> String {
        let id = hex::encode(&Sha256::digest(url.as_bytes())[..16]);
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        if issued.len() >= MAX_ISSUED {
            issued.clear();
        }
        issued.insert(
            id.clone(),
            Issued {
                url: url.to_owned(),
                package,
            },
        );
        id
    }

    async fn download(&self, id: &str, rec: &Recorder) -> Reply {
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        let Some(issued) = issued else {
            return Reply::refused(403, "not a download the proxy handed out");
        };
        self.fetch_artifact(&issued.url, issued.package, rec).await
    }

    async fn fetch_artifact(&self, url: &str, package: PackageRef, rec: &Recorder) -> Reply {
        let Ok(permit) = self.downloads.clone().acquire_owned().await else {
            return Reply::status(502, "the proxy is shutting down");
        };
        let cached = self.cache_path(url).and_then(|p| std::fs::read(p).ok());
        let bytes = match cached {
            Some(b) => b,
            None => {
                let Some(http) = &self.http else {
                    return Reply::status(502, "no HTTP client");
                };
                match http.get_artifact(url).await {
                    Ok(f) => {
                        let bytes = f.body.to_vec();
                        self.store(url, &bytes);
                        bytes
                    }
                    Err(paddock_registry::RegistryError::NotFound { .. }) => {
                        return Reply::status(404, "not found upstream")
                    }
                    Err(e) => {
                        tracing::warn!(%url, error = %e, "the registry proxy could not download");
                        return Reply::status(502, "the upstream registry failed");
                    }
                }
            }
        };
        rec.fetched(FetchedPackage {
            package: Some(package),
            url: url.to_owned(),
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
        Reply {
            _permit: Some(permit),
            ..Reply::ok("application/octet-stream", bytes)
        }
    }

    fn cache_path(&self, url: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        Some(dir.join(hex::encode(Sha256::digest(url.as_bytes()))))
    }

    fn store(&self, url: &str, bytes: &[u8]) {
        let Some(path) = self.cache_path(url) else {
            return;
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    async fn pypi_project(&self, project: &str) -> Reply {
        if paddock_registry::client::validate_name(Ecosystem::Pypi, project).is_err() {
            return Reply::refused(403, "not a valid PyPI project name");
        }
        let Some(base) = self.upstream(Ecosystem::Pypi) else {
            return Reply::refused(403, "no PyPI registry is configured");
        };
        let page = format!("{base}{}/", pypi::normalize(project));
        let accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1";
        let (content_type, body) = match self.metadata(&page, accept).await {
            Ok(Some(doc)) => doc,
            Ok(None) => return Reply::status(404, "no such project"),
            Err(r) => return r,
        };
        let files: Vec<(String, String, Value)> = if content_type.contains("json") {
            let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
                return Reply::status(502, "the upstream sent malformed JSON");
            };
            doc["files"]
                .as_array()
                .map(|files| {
                    files
                        .iter()
                        .filter_map(|f| {
                            Some((
                                f["filename"].as_str()?.to_owned(),
                                f["url"].as_str()?.to_owned(),
                                f.clone(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            let doc = pypi::parse_html(&String::from_utf8_lossy(&body));
            doc.files
                .into_iter()
                .map(|f| {
                    let v = json!({"filename": f.filename, "url": f.url, "hashes": f.hashes});
                    (f.filename, f.url, v)
                })
                .collect()
        };
        let mut out = Vec::new();
        for (filename, url, mut entry) in files {
            let Some(absolute) = resolve(&page, &url) else {
                continue;
            };
            let (absolute, _fragment) = absolute.split_once('#').unwrap_or((&absolute, ""));
            let version = pypi::version_of(&filename).unwrap_or_default();
            let id = self.issue(
                absolute,
                PackageRef {
                    ecosystem: Ecosystem::Pypi as i32,
                    name: pypi::normalize(project),
                    version,
                },
            );
            entry["url"] = json!(format!(
                "{}/pypi/files/{id}/{}",
                base_url(),
                path_safe(&filename)
            ));
            out.push(entry);
        }
        let doc =
            json!({"meta": {"api-version": "1.0"}, "name": pypi::normalize(project), "files": out});
        Reply::ok(
            "application/vnd.pypi.simple.v1+json",
            doc.to_string().into_bytes(),
        )
    }

    async fn npm_packument(&self, name: &str) -> Reply {
        if paddock_registry::client::validate_name(Ecosystem::Npm, name).is_err() {
            return Reply::refused(403, "not a valid npm package name");
        }
        let Some(base) = self.upstream(Ecosystem::Npm) else {
            return Reply::refused(403, "no npm registry is configured");
        };
        let url = npm::packument_url(&base, name);
        let body = match self.metadata(&url, "application/json").await {
            Ok(Some((_, body))) => body,
            Ok(None) => return Reply::status(404, "no such package"),
            Err(r) => return r,
        };
        let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
            return Reply::status(502, "the upstream sent malformed JSON");
        };
        if let Some(versions) = doc.get_mut("versions").and_then(Value::as_object_mut) {
            for (version, v) in versions.iter_mut() {
                let Some(tarball) = v["dist"]["tarball"].as_str().map(str::to_owned) else {
                    continue;
                };
                let Some(absolute) = resolve(&url, &tarball) else {
                    continue;
                };
                let filename = absolute
                    .rsplit('/')
                    .next()
                    .unwrap_or("package.tgz")
                    .to_owned();
                let id = self.issue(
                    &absolute,
                    PackageRef {
                        ecosystem: Ecosystem::Npm as i32,
                        name: name.to_owned(),
                        version: version.clone(),
                    },
                );
                v["dist"]["tarball"] = json!(format!(
                    "{}/npm/-/files/{id}/{}",
                    base_url(),
                    path_safe(&filename)
                ));
            }
        }
        Reply::ok("application/json", doc.to_string().into_bytes())
    }

    async fn rubygems(&self, rest: &[&str], query: &str, rec: &Recorder) -> Reply {
        let Some(base) = self.upstream(Ecosystem::Rubygems) else {
            return Reply::refused(403, "no RubyGems source is configured");
        };
        let valid =
            |n: &str| paddock_registry::client::validate_name(Ecosystem::Rubygems, n).is_ok();
        let path = rest.join("/");
        let allowed = match rest {
            // gem checks the source's root (HEAD) before the compact index.
            [""]
            | ["versions"]
            | ["names"]
            | ["specs.4.8.gz"]
            | ["latest_specs.4.8.gz"]
            | ["prerelease_specs.4.8.gz"] => true,
            ["info", name] => valid(name),
            ["quick", "Marshal.4.8", file] => file.strip_suffix(".gemspec.rz").is_some_and(valid),
            ["api", "v1", "dependencies"] => query
                .strip_prefix("gems=")
                .is_some_and(|g| g.split(',').all(valid)),
            ["gems", file] => {
                return match file.strip_suffix(".gem").filter(|s| valid(s)) {
                    Some(stem) => {
                        let (name, version) = split_gem(stem);
                        self.fetch_artifact(
                            &format!("{base}gems/{file}"),
                            PackageRef {
                                ecosystem: Ecosystem::Rubygems as i32,
                                name,
                                version,
                            },
                            rec,
                        )
                        .await
                    }
                    None => Reply::refused(403, "not a gem file name"),
                }
            }
            _ => false,
        };
        if !allowed {
            return Reply::refused(403, format!("not an allow-listed RubyGems path: /{path}"));
        }
        let url = if query.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{query}")
        };
        match self.metadata(&url, "*/*").await {
            Ok(Some((content_type, body))) => Reply::ok(content_type, body),
            Ok(None) => Reply::status(404, "not found upstream"),
            Err(r) => r,
        }
    }

    async fn packagist(&self, vendor: &str, file: &str) -> Reply {
        let Some(stem) = file.strip_suffix(".json") else {
            return Reply::refused(403, "not a Composer metadata file");
        };
        let package = stem.strip_suffix("~dev").unwrap_or(stem);
        let name = format!("{vendor}/{package}");
        if paddock_registry::client::validate_name(Ecosystem::Packagist, &name).is_err() {
            return Reply::refused(403, "not a valid Composer package name");
        }
        let Some(base) = self.upstream(Ecosystem::Packagist) else {
            return Reply::refused(403, "no Composer repository is configured");
        };
        let url = format!("{base}p2/{vendor}/{file}");
        let body = match self.metadata(&url, "application/json").await {
            Ok(Some((_, body))) => body,
            Ok(None) => return Reply::status(404, "no such package"),
            Err(r) => return r,
        };
        let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
            return Reply::status(502, "the upstream sent malformed JSON");
        };
        if let Some(packages) = doc.get_mut("packages").and_then(Value::as_object_mut) {
            for (pkg_name, entries) in packages.iter_mut() {
                let Some(entries) = entries.as_array_mut() else {
                    continue;
                };
                // Minified lists inherit the version only per entry.
                for entry in entries.iter_mut() {
                    let version = entry["version"].as_str().unwrap_or_default().to_owned();
                    let Some(dist_url) = entry["dist"]["url"].as_str().map(str::to_owned) else {
                        continue;
                    };
                    let Some(absolute) = resolve(&url, &dist_url) else {
                        continue;
                    };
                    let id = self.issue(
                        &absolute,
                        PackageRef {
                            ecosystem: Ecosystem::Packagist as i32,
                            name: pkg_name.clone(),
                            version: version.trim_start_matches('v').to_owned(),
                        },
                    );
                    entry["dist"]["url"] =
                        json!(format!("{}/packagist/files/{id}/dist.zip", base_url()));
                }
            }
        }
        Reply::ok("application/json", doc.to_string().into_bytes())
    }

    async fn crates_index(&self, rest: &[&str]) -> Reply {
        let Some(name) = rest.last() else {
            return Reply::refused(403, "not an index path");
        };
        let lower = name.to_ascii_lowercase();
        if paddock_registry::client::validate_name(Ecosystem::CratesIo, name).is_err()
            || crates::index_path(&lower) != rest.join("/").to_ascii_lowercase()
        {
            return Reply::refused(403, "not a sparse index path");
        }
        let Some(base) = self.upstream(Ecosystem::CratesIo) else {
            return Reply::refused(403, "no crates.io index is configured");
        };
        match self
            .metadata(&format!("{base}{}", rest.join("/")), "*/*")
            .await
        {
            Ok(Some((content_type, body))) => Reply::ok(content_type, body),
            Ok(None) => Reply::status(404, "no such crate"),
            Err(r) => r,
        }
    }

    async fn crate_download(&self, name: &str, version: &str, rec: &Recorder) -> Reply {
        let version_ok = !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c));
        if paddock_registry::client::validate_name(Ecosystem::CratesIo, name).is_err()
            || !version_ok
        {
            return Reply::refused(403, "not a crate download");
        }
        let Some(base) = self.upstream(Ecosystem::CratesIo) else {
            return Reply::refused(403, "no crates.io index is configured");
        };
        let config = match self
            .metadata(&format!("{base}config.json"), "application/json")
            .await
        {
            Ok(Some((_, body))) => serde_json::from_slice::<Value>(&body).unwrap_or_default(),
            Ok(None) => return Reply::status(502, "the upstream index has no config.json"),
            Err(r) => return r,
        };
        let Some(dl) = config["dl"].as_str() else {
            return Reply::status(502, "the upstream index's config.json has no dl");
        };
        let url = crates::download_url(dl, name, version, "");
        self.fetch_artifact(
            &url,
            PackageRef {
                ecosystem: Ecosystem::CratesIo as i32,
                name: name.to_owned(),
                version: version.to_owned(),
            },
            rec,
        )
        .await
    }
}

/// `reference` resolved against `base`; only http(s) results.
fn resolve(base: &str, reference: &str) -> Option<String> {
    let joined = url::Url::parse(base).ok()?.join(reference).ok()?;
    matches!(joined.scheme(), "http" | "https").then(|| joined.to_string())
}

/// A file name safe as one path segment.
fn path_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `name-1.2.3` (or `name-1.2.3-x86_64-linux`) into name and version.
fn split_gem(stem: &str) -> (String, String) {
    let parts: Vec<&str> = stem.split('-').collect();
    match parts
        .iter()
        .position(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        Some(i) if i > 0 => (parts[..i].join("-"), parts[i..].join("-")),
        _ => (stem.to_owned(), String::new()),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_owned();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gem_file_names_split_at_the_version() {
        assert_eq!(split_gem("rake-13.0.6"), ("rake".into(), "13.0.6".into()));
        assert_eq!(
            split_gem("nokogiri-1.15.0-x86_64-linux"),
            ("nokogiri".into(), "1.15.0-x86_64-linux".into())
        );
        assert_eq!(split_gem("ruby-xz-1.0"), ("ruby-xz".into(), "1.0".into()));
    }

    #[test]
    fn relative_links_resolve_against_the_page() {
        assert_eq!(
            resolve(
                "http://127.0.0.1:1/pypi/simple/x/",
                "../../../files/pypi/x-1.0.tar.gz"
            )
            .as_deref(),
            Some("http://127.0.0.1:1/files/pypi/x-1.0.tar.gz")
        );
        assert_eq!(resolve("http://127.0.0.1:1/a/", "file:///etc/passwd"), None);
    }
}
