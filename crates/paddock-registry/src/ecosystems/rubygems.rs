//! RubyGems: `GET /api/v1/versions/<name>.json` lists every version with
//! its platform, pre-release flag and `sha` (the sha256 of the `.gem`);
//! files are served at `/gems/<name>-<version>[-<platform>].gem`.

use paddock_proto::v1::{ArtifactKind, Ecosystem, Release};
use serde::Deserialize;

use super::{artifact, timestamp, ReleaseParts};
use crate::client::RegistryClient;
use crate::digest::digest;
use crate::RegistryError;

#[derive(Debug, Clone, Deserialize)]
pub struct GemVersion {
    pub number: String,
    #[serde(default = "ruby")]
    pub platform: String,
    pub created_at: Option<String>,
    #[serde(default)]
    pub prerelease: bool,
    pub sha: Option<String>,
    #[serde(default)]
    pub yanked: bool,
}

fn ruby() -> String {
    "ruby".into()
}

pub async fn resolve(
    client: &RegistryClient,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    let url = format!("{}api/v1/versions/{name}.json", client.url);
    let versions: Vec<GemVersion> =
        client
            .http
            .get_json(&url)
            .await?
            .ok_or_else(|| RegistryError::NotFound {
                what: format!("gem {name}"),
                url: url.clone(),
            })?;
    release_from_versions(&versions, &client.url, name, version)
}

pub fn release_from_versions(
    versions: &[GemVersion],
    base: &str,
    name: &str,
    version: Option<&str>,
) -> Result<Release, RegistryError> {
    // The pure-Ruby build is the one that installs everywhere.
    let candidates: Vec<&GemVersion> = versions
        .iter()
        .filter(|v| v.platform == "ruby" && !v.yanked)
        .collect();
    let chosen = match version {
        Some(wanted) => versions
            .iter()
            .filter(|v| v.number == wanted)
            .min_by_key(|v| v.platform != "ruby")
            .ok_or_else(|| RegistryError::NoSuchVersion {
                package: name.to_owned(),
                version: wanted.to_owned(),
            })?,
        None => {
            let latest = crate::version::latest(
                Ecosystem::Rubygems,
                candidates.iter().map(|v| v.number.as_str()),
            )
            .ok_or_else(|| RegistryError::NoRelease {
                package: name.to_owned(),
                reason: "no installable versions".into(),
            })?;
            candidates
                .iter()
                .find(|v| v.number == latest)
                .copied()
                .expect("latest comes from the candidates")
        }
    };
    let filename = if chosen.platform == "ruby" {
        format!("{name}-{}.gem", chosen.number)
    } else {
        format!("{name}-{}-{}.gem", chosen.number, chosen.platform)
    };
    let digests = chosen
        .sha
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| digest("sha256", s.to_ascii_lowercase()))
        .collect();
    Ok(ReleaseParts {
        eco: Ecosystem::Rubygems,
        name: name.to_owned(),
        version: chosen.number.clone(),
        published_at: chosen.created_at.as_deref().and_then(timestamp),
        artifacts: vec![artifact(
            &filename,
            format!("{base}gems/{filename}"),
            0,
            ArtifactKind::Gem,
            digests,
        )],
        selected: 0,
        yanked: chosen.yanked,
    }
    .build())
}
