//! PyPI through the Simple repository API (PEP 503/691), which every
//! mirror serves: `GET <index>/<normalised name>/` lists each file with its
//! hashes, size, upload time and yanked flag. JSON is asked for; an HTML
//! index is read as a fallback.

use paddock_proto::v1::{ArtifactKind, Ecosystem, Release};
use serde::Deserialize;

use super::{artifact, join, timestamp, ReleaseParts};
use crate::client::RegistryClient;
use crate::digest::digest;
use crate::RegistryError;

const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Debug, Deserialize)]
pub struct SimpleProject {
    #[serde(default)]
    pub versions: Vec<String>,
    pub files: Vec<SimpleFile>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimpleFile {
    pub filename: String,
    pub url: String,
    #[serde(default)]
    pub hashes: std::collections::BTreeMap<String, String>,
    pub size: Option<u64>,
    #[serde(rename = "upload-time")]
    pub upload_time: Option<String>,
    #[serde(default)]
    pub yanked: serde_json::Value,
}

impl SimpleFile {
    fn is_yanked(&self) -> bool {
        match &self.yanked {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::String(_) => true,
            _ => false,
        }
    }
}

/// PEP 503 normalisation: lowercase, runs of `-_.` become `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !dash {
                out.push('-');
            }
            dash = true;
        } else {
            out.push(c.to_ascii_lowercase());
            dash = false;
        }
    }
    out
}

/// The version in a distribution file name: wheels
/// (`name-ver-tags.whl`), sdists (`name-ver.tar.gz`, `.zip`) and eggs.
pub fn version_of(filename: &str) -> Option<String> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        return stem.split('-').nth(1).map(str::to_owned);
    }
    let stem = [".tar.gz", ".tar.bz2", ".tgz", ".zip", ".tar"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    stem.rsplit_once('-').map(|(_, v)| v.to_owned())
}

fn kind_of(filename: &str) -> ArtifactKind {
    if filename.ends_with(".whl") {
        ArtifactKind::Wheel
    } else {
        ArtifactKind::Sdist
    }
}

pub async fn resolve(
    client: &RegistryClient,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    let url = format!("{}{}/", client.url, normalize(name));
    let fetched = client
        .http
        .get_metadata(&url, &format!("{SIMPLE_JSON}, text/html;q=0.1"))
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: format!("PyPI project {name}"),
            url: url.clone(),
        })?;
    let project = if fetched.content_type.contains("json") {
        serde_json::from_slice::<SimpleProject>(&fetched.body).map_err(|e| {
            RegistryError::Malformed {
                url: url.clone(),
                reason: e.to_string(),
            }
        })?
    } else {
        parse_html(&String::from_utf8_lossy(&fetched.body))
    };
    release_from_project(&project, name, version, &fetched.url)
}

pub fn release_from_project(
    project: &SimpleProject,
    name: &str,
    version: Option<&str>,
    page_url: &str,
) -> Result<Release, RegistryError> {
    let files: Vec<(String, &SimpleFile)> = project
        .files
        .iter()
        .filter_map(|f| version_of(&f.filename).map(|v| (v, f)))
        .collect();
    let same = |a: &str, b: &str| crate::version::compare(Ecosystem::Pypi, a, b).is_eq();
    let version = match version {
        Some(v) => {
            if !files.iter().any(|(fv, _)| same(fv, v)) {
                return Err(RegistryError::NoSuchVersion {
                    package: name.to_owned(),
                    version: v.to_owned(),
                });
            }
            v.to_owned()
        }
        None => {
            let live: Vec<&str> = files
                .iter()
                .filter(|(_, f)| !f.is_yanked())
                .map(|(v, _)| v.as_str())
                .collect();
            crate::version::latest(Ecosystem::Pypi, live)
                .ok_or_else(|| RegistryError::NoRelease {
                    package: name.to_owned(),
                    reason: "no files that are not yanked".into(),
                })?
                .to_owned()
        }
    };
    let chosen: Vec<&SimpleFile> = files
        .iter()
        .filter(|(fv, _)| same(fv, &version))
        .map(|(_, f)| *f)
        .collect();
    let mut artifacts = Vec::new();
    for f in &chosen {
        let digests = f
            .hashes
            .iter()
            .map(|(alg, value)| digest(alg, value.to_ascii_lowercase()))
            .collect();
        let url = join(page_url, &f.url)?;
        let url = url.split('#').next().unwrap_or(&url).to_owned();
        artifacts.push(artifact(
            &f.filename,
            url,
            f.size.unwrap_or(0),
            kind_of(&f.filename),
            digests,
        ));
    }
    // The sdist, as the reference system analyses; else a pure-Python
    // wheel; else the first wheel.
    let selected = chosen
        .iter()
        .position(|f| kind_of(&f.filename) == ArtifactKind::Sdist)
        .or_else(|| {
            chosen
                .iter()
                .position(|f| f.filename.ends_with("-none-any.whl"))
        })
        .unwrap_or(0);
    let pick = chosen.get(selected);
    Ok(ReleaseParts {
        eco: Ecosystem::Pypi,
        name: name.to_owned(),
        version,
        published_at: pick
            .and_then(|f| f.upload_time.as_deref())
            .and_then(timestamp),
        yanked: !chosen.is_empty() && chosen.iter().all(|f| f.is_yanked()),
        artifacts,
        selected,
    }
    .build())
}

/// Reads the HTML form of a Simple page: `<a href="url#sha256=hex"
/// data-yanked>filename</a>`.
pub fn parse_html(html: &str) -> SimpleProject {
    let mut files = Vec::new();
    for chunk in html.split("<a ").skip(1) {
        let Some((attrs, rest)) = chunk.split_once('>') else {
            continue;
        };
        let Some(text) = rest.split("</a>").next() else {
            continue;
        };
        let href = attr(attrs, "href").unwrap_or_default();
        let mut hashes = std::collections::BTreeMap::new();
        if let Some((_, fragment)) = href.split_once('#') {
            if let Some((alg, value)) = fragment.split_once('=') {
                hashes.insert(alg.to_owned(), value.to_owned());
            }
        }
        files.push(SimpleFile {
            filename: html_unescape(text.trim()),
            url: html_unescape(&href),
            hashes,
            size: None,
            upload_time: None,
            yanked: serde_json::Value::Bool(attrs.contains("data-yanked")),
        });
    }
    SimpleProject {
        versions: Vec::new(),
        files,
    }
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    let start = attrs.find(&format!("{name}=\""))? + name.len() + 2;
    let end = attrs[start..].find('"')? + start;
    Some(attrs[start..end].to_owned())
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_come_from_file_names() {
        assert_eq!(normalize("Zope.Interface__x"), "zope-interface-x");
        assert_eq!(
            version_of("requests-2.32.3-py3-none-any.whl").as_deref(),
            Some("2.32.3")
        );
        assert_eq!(
            version_of("foo-bar-1.0rc1.tar.gz").as_deref(),
            Some("1.0rc1")
        );
        assert_eq!(version_of("README.txt"), None);
    }

    #[test]
    fn html_indexes_are_read() {
        let page = r#"<html><body><a href="../../packages/ab/x-1.0.tar.gz#sha256=00ff" data-requires-python="&gt;=3">x-1.0.tar.gz</a><br/>
        <a href="x-0.9.tar.gz#sha256=11" data-yanked="">x-0.9.tar.gz</a></body></html>"#;
        let project = parse_html(page);
        assert_eq!(project.files.len(), 2);
        assert_eq!(project.files[0].hashes["sha256"], "00ff");
        assert!(project.files[1].is_yanked());
        let release =
            release_from_project(&project, "x", None, "http://127.0.0.1:1/simple/x/").unwrap();
        assert_eq!(release.package.unwrap().version, "1.0");
        assert_eq!(
            release.artifacts[0].url,
            "http://127.0.0.1:1/packages/ab/x-1.0.tar.gz"
        );
    }
}
