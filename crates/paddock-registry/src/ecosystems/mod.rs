//! One module per registry: its document shapes and how a release and its
//! artifacts are read from them.

pub mod crates;
pub mod npm;
pub mod packagist;
pub mod pypi;
pub mod rubygems;

use paddock_proto::v1::{
    Artifact, ArtifactKind, Ecosystem, FeedSource, PackageRef, RegistryDigest, Release,
};
use paddock_proto::well_known::Timestamp;

use crate::RegistryError;

/// Resolves `relative` against `base` (an absolute URL).
pub(crate) fn join(base: &str, relative: &str) -> Result<String, RegistryError> {
    let base_url = url::Url::parse(base).map_err(|e| RegistryError::Malformed {
        url: base.to_owned(),
        reason: e.to_string(),
    })?;
    base_url
        .join(relative)
        .map(|u| u.to_string())
        .map_err(|e| RegistryError::Malformed {
            url: base.to_owned(),
            reason: format!("bad link `{relative}`: {e}"),
        })
}

/// An RFC 3339 time as a protobuf timestamp.
pub(crate) fn timestamp(text: &str) -> Option<Timestamp> {
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&format!("{text}Z")))
        .ok()?;
    Some(Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    })
}

pub(crate) struct ReleaseParts {
    pub eco: Ecosystem,
    pub name: String,
    pub version: String,
    pub published_at: Option<Timestamp>,
    pub artifacts: Vec<Artifact>,
    pub selected: usize,
    pub yanked: bool,
}

impl ReleaseParts {
    pub fn build(self) -> Release {
        let prerelease = crate::version::is_prerelease(self.eco, &self.version);
        Release {
            package: Some(PackageRef {
                ecosystem: self.eco as i32,
                name: self.name,
                version: self.version,
            }),
            published_at: self.published_at,
            discovered_at: None,
            source: FeedSource::Manual as i32,
            feed_name: String::new(),
            artifacts: self.artifacts,
            selected_artifact: self.selected as u32,
            yanked: self.yanked,
            prerelease,
        }
    }
}

pub(crate) fn artifact(
    filename: &str,
    url: String,
    size: u64,
    kind: ArtifactKind,
    digests: Vec<RegistryDigest>,
) -> Artifact {
    Artifact {
        filename: filename.to_owned(),
        size,
        sha256: String::new(),
        registry_digests: digests,
        object_key: String::new(),
        url,
        kind: kind as i32,
    }
}
