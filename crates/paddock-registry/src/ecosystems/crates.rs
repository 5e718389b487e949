//! crates.io through its sparse index: `config.json` names the download
//! template, and `<prefix path>/<name>` holds one JSON line per version
//! with `cksum` (the sha256 of the `.crate`) and `yanked`.

use paddock_proto::v1::{ArtifactKind, Ecosystem, Release};
use serde::Deserialize;

use super::{artifact, timestamp, ReleaseParts};
use crate::client::RegistryClient;
use crate::digest::digest;
use crate::RegistryError;

#[derive(Debug, Deserialize)]
pub struct IndexConfig {
    pub dl: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexLine {
    pub name: String,
    pub vers: String,
    pub cksum: String,
    #[serde(default)]
    pub yanked: bool,
    pub pubtime: Option<String>,
}

/// The index path of a crate: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// The download URL from the index's `dl` template.
pub fn download_url(dl: &str, name: &str, version: &str, cksum: &str) -> String {
    let markers = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    if !markers.iter().any(|m| dl.contains(m)) {
        return format!("{}/{name}/{version}/download", dl.trim_end_matches('/'));
    }
    let prefix = index_path(name);
    let prefix = prefix
        .rsplit_once('/')
        .map_or(String::new(), |(p, _)| p.to_owned());
    dl.replace("{crate}", name)
        .replace("{version}", version)
        .replace("{prefix}", &prefix)
        .replace("{lowerprefix}", &prefix.to_ascii_lowercase())
        .replace("{sha256-checksum}", cksum)
}

pub async fn resolve(
    client: &RegistryClient,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    let config_url = format!("{}config.json", client.url);
    let config: IndexConfig =
        client
            .http
            .get_json(&config_url)
            .await?
            .ok_or_else(|| RegistryError::NotFound {
                what: "the sparse index's config.json".into(),
                url: config_url.clone(),
            })?;
    let url = format!("{}{}", client.url, index_path(name));
    let fetched = client
        .http
        .get_metadata(&url, "text/plain, */*")
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: format!("crate {name}"),
            url: url.clone(),
        })?;
    let lines = parse_index(&fetched.body, &url)?;
    release_from_index(&lines, &config.dl, name, version)
}

pub fn parse_index(body: &[u8], url: &str) -> Result<Vec<IndexLine>, RegistryError> {
    let text = std::str::from_utf8(body).map_err(|e| RegistryError::Malformed {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| RegistryError::Malformed {
                url: url.to_owned(),
                reason: e.to_string(),
            })
        })
        .collect()
}

pub fn release_from_index(
    lines: &[IndexLine],
    dl: &str,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    let line = match version {
        Some(v) => {
            lines
                .iter()
                .find(|l| l.vers == v)
                .ok_or_else(|| RegistryError::NoSuchVersion {
                    package: name.to_owned(),
                    version: v.to_owned(),
                })?
        }
        None => {
            let live = lines.iter().filter(|l| !l.yanked).map(|l| l.vers.as_str());
            let latest = crate::version::latest(Ecosystem::CratesIo, live).ok_or_else(|| {
                RegistryError::NoRelease {
                    package: name.to_owned(),
                    reason: "every version is yanked".into(),
                }
            })?;
            lines
                .iter()
                .find(|l| l.vers == latest)
                .expect("latest comes from the lines")
        }
    };
    // The index spells the name canonically; the request may differ in case.
    let canonical = &line.name;
    let filename = format!("{canonical}-{}.crate", line.vers);
    let url = download_url(dl, canonical, &line.vers, &line.cksum);
    Ok(ReleaseParts {
        eco: Ecosystem::CratesIo,
        name: canonical.clone(),
        version: line.vers.clone(),
        published_at: line.pubtime.as_deref().and_then(timestamp),
        artifacts: vec![artifact(
            &filename,
            url,
            0,
            ArtifactKind::Crate,
            vec![digest("sha256", line.cksum.to_ascii_lowercase())],
        )],
        selected: 0,
        yanked: line.yanked,
    }
    .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_cargo() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde"), "se/rd/serde");
    }

    #[test]
    fn download_templates_expand() {
        assert_eq!(
            download_url("http://h/api/v1/crates", "itoa", "1.0.0", "ab"),
            "http://h/api/v1/crates/itoa/1.0.0/download"
        );
        assert_eq!(
            download_url(
                "http://h/{prefix}/{crate}/{crate}-{version}.crate?sum={sha256-checksum}",
                "serde",
                "1.0.0",
                "ab"
            ),
            "http://h/se/rd/serde/serde-1.0.0.crate?sum=ab"
        );
    }
}
