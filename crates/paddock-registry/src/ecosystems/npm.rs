//! npm: the packument (`GET /<name>`) lists every version with its
//! `dist.tarball`, `dist.integrity` (SRI) and `dist.shasum` (sha1), the
//! `dist-tags` (`latest`, `next`…) and publish times.

use std::collections::BTreeMap;

use paddock_proto::v1::{ArtifactKind, Ecosystem, Release};
use serde::Deserialize;

use super::{artifact, timestamp, ReleaseParts};
use crate::client::RegistryClient;
use crate::digest::digest;
use crate::RegistryError;

#[derive(Debug, Deserialize)]
pub struct Packument {
    #[serde(default, rename = "dist-tags")]
    pub dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub versions: BTreeMap<String, VersionDoc>,
    #[serde(default)]
    pub time: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct VersionDoc {
    pub dist: Option<Dist>,
    #[serde(default)]
    pub deprecated: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Dist {
    pub tarball: Option<String>,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
    #[serde(rename = "unpackedSize")]
    pub unpacked_size: Option<u64>,
}

/// The packument URL: scoped names keep their `@` and escape the `/`.
pub fn packument_url(base: &str, name: &str) -> String {
    format!("{base}{}", name.replace('/', "%2f"))
}

pub async fn resolve(
    client: &RegistryClient,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    let url = packument_url(&client.url, name);
    let doc: Packument =
        client
            .http
            .get_json(&url)
            .await?
            .ok_or_else(|| RegistryError::NotFound {
                what: format!("npm package {name}"),
                url: url.clone(),
            })?;
    release_from_packument(&doc, name, version, &url)
}

pub fn release_from_packument(
    doc: &Packument,
    name: &str,
    version: Option<&str>,
    url: &str,
) -> Result<Release, RegistryError> {
    if doc.time.contains_key("unpublished") {
        return Err(RegistryError::NoRelease {
            package: name.to_owned(),
            reason: "every version was unpublished".into(),
        });
    }
    let requested = version.unwrap_or("latest");
    // A version, or a dist-tag such as `latest` or `next`.
    let version = if doc.versions.contains_key(requested) {
        requested.to_owned()
    } else if let Some(tagged) = doc.dist_tags.get(requested) {
        tagged.clone()
    } else if version.is_none() {
        crate::version::latest(Ecosystem::Npm, doc.versions.keys().map(String::as_str))
            .ok_or_else(|| RegistryError::NoRelease {
                package: name.to_owned(),
                reason: "no versions".into(),
            })?
            .to_owned()
    } else {
        return Err(RegistryError::NoSuchVersion {
            package: name.to_owned(),
            version: requested.to_owned(),
        });
    };
    let doc_version = doc
        .versions
        .get(&version)
        .ok_or_else(|| RegistryError::NoSuchVersion {
            package: name.to_owned(),
            version: version.clone(),
        })?;
    let dist = doc_version
        .dist
        .as_ref()
        .ok_or_else(|| RegistryError::Malformed {
            url: url.to_owned(),
            reason: format!("version {version} has no dist"),
        })?;
    let tarball = dist
        .tarball
        .clone()
        .ok_or_else(|| RegistryError::NoArtifact {
            package: name.to_owned(),
            version: version.clone(),
            reason: "no dist.tarball".into(),
        })?;
    let mut digests = Vec::new();
    if let Some(integrity) = dist.integrity.as_deref().filter(|s| !s.is_empty()) {
        digests.push(digest("integrity", integrity));
    }
    if let Some(shasum) = dist.shasum.as_deref().filter(|s| !s.is_empty()) {
        digests.push(digest("sha1", shasum.to_ascii_lowercase()));
    }
    let filename = tarball
        .rsplit('/')
        .next()
        .unwrap_or("package.tgz")
        .to_owned();
    let published_at = doc
        .time
        .get(&version)
        .and_then(|t| t.as_str())
        .and_then(timestamp);
    Ok(ReleaseParts {
        eco: Ecosystem::Npm,
        name: name.to_owned(),
        version,
        published_at,
        artifacts: vec![artifact(
            &filename,
            tarball,
            0,
            ArtifactKind::NpmTarball,
            digests,
        )],
        selected: 0,
        // npm has no yanking; deprecation is advice, not removal.
        yanked: false,
    }
    .build())
}
