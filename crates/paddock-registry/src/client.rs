//! One client for every ecosystem: resolve a release, download and verify
//! its artifact, and extract it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{Artifact, Ecosystem, Release};

use crate::config::RegistriesConfig;
use crate::ecosystems;
use crate::extract::{self, ExtractReport};
use crate::http::Http;
use crate::{digest, RegistryError};

/// A registry client for one ecosystem.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    pub(crate) eco: Ecosystem,
    pub(crate) http: Http,
    pub(crate) url: String,
    pub(crate) api_url: Option<String>,
    pub(crate) extract_limits: extract::ExtractLimits,
}

/// A downloaded, verified artifact.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The artifact with `size` and `sha256` set from the bytes received.
    pub artifact: Artifact,
    pub bytes: Bytes,
    /// How many registry digests were checked (0: the registry published
    /// none that can be checked, as Packagist often does).
    pub digests_checked: usize,
}

impl RegistryClient {
    /// The client for `eco`, or an error naming the setting to set.
    pub fn new(eco: Ecosystem, config: &RegistriesConfig) -> Result<Self, RegistryError> {
        let endpoint = config.endpoint(eco);
        let url = endpoint.url.clone().ok_or_else(|| not_configured(eco))?;
        let url = url.trim_start_matches("sparse+").to_owned();
        let url = if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        };
        Ok(Self {
            eco,
            http: Http::new(&config.http, cli_name(eco))?,
            url,
            api_url: endpoint.api_url.clone(),
            extract_limits: config.extract.clone(),
        })
    }

    pub fn ecosystem(&self) -> Ecosystem {
        self.eco
    }

    /// The base URL this client reads from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The registry's API host for feeds, where configured apart from `url`.
    pub fn api_url(&self) -> Option<&str> {
        self.api_url.as_deref()
    }

    /// Resolves `name` at `version` (the latest release when `None`) to a
    /// release with every artifact the registry lists and the one chosen
    /// for analysis.
    #[tracing::instrument(skip(self), fields(eco = cli_name(self.eco)))]
    pub async fn resolve(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Release, RegistryError> {
        validate_name(self.eco, name)?;
        let version = version.filter(|v| !v.is_empty());
        match self.eco {
            Ecosystem::Pypi => ecosystems::pypi::resolve(self, name, version).await,
            Ecosystem::Npm => ecosystems::npm::resolve(self, name, version).await,
            Ecosystem::Rubygems => ecosystems::rubygems::resolve(self, name, version).await,
            Ecosystem::Packagist => ecosystems::packagist::resolve(self, name, version).await,
            Ecosystem::CratesIo => ecosystems::crates::resolve(self, name, version).await,
            Ecosystem::Unspecified => Err(RegistryError::InvalidName(name.to_owned())),
        }
    }

    /// Downloads `artifact` and checks it against the registry's digests
    /// and size. A mismatch is an error.
    #[tracing::instrument(skip_all, fields(filename = %artifact.filename))]
    pub async fn download(&self, artifact: &Artifact) -> Result<Downloaded, RegistryError> {
        let fetched = self.http.get_artifact(&artifact.url).await?;
        let bytes = fetched.body;
        let digests_checked =
            digest::verify(&artifact.filename, &bytes, &artifact.registry_digests)?;
        if artifact.size != 0 && artifact.size != bytes.len() as u64 {
            return Err(RegistryError::SizeMismatch {
                filename: artifact.filename.clone(),
                expected: artifact.size,
                actual: bytes.len() as u64,
            });
        }
        if digests_checked == 0 {
            tracing::warn!(filename = %artifact.filename, "the registry published no digest Paddock can check; recording the sha256 of what was received");
        }
        let mut artifact = artifact.clone();
        artifact.size = bytes.len() as u64;
        artifact.sha256 = digest::sha256_hex(&bytes);
        Ok(Downloaded {
            artifact,
            bytes,
            digests_checked,
        })
    }

    /// Writes `downloaded` into `dir` under its file name and extracts it
    /// into `dir/package`. Returns the archive's path and the report.
    pub fn extract_into(
        &self,
        downloaded: &Downloaded,
        dir: &Path,
    ) -> Result<(PathBuf, ExtractReport), RegistryError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| RegistryError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let filename = safe_filename(&downloaded.artifact.filename);
        let archive = dir.join(&filename);
        std::fs::write(&archive, &downloaded.bytes).map_err(io(&archive))?;
        let report = extract::extract_auto(&archive, &dir.join("package"), &self.extract_limits)
            .map_err(|source| RegistryError::Extract { filename, source })?;
        Ok((archive, report))
    }
}

/// The file name to store an artifact under: the registry's, stripped of
/// anything that could make it a path.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.trim_start_matches('.') {
        "" => "artifact".to_owned(),
        rest => rest.to_owned(),
    }
}

fn not_configured(eco: Ecosystem) -> RegistryError {
    let (setting, hint) = match eco {
        Ecosystem::Pypi => (
            "registries.pypi.url (PADDOCK__REGISTRIES__PYPI__URL) to a Simple index",
            ", or configure pip's index-url",
        ),
        Ecosystem::Npm => (
            "registries.npm.url (PADDOCK__REGISTRIES__NPM__URL)",
            ", or install npm and set its registry",
        ),
        Ecosystem::Rubygems => (
            "registries.rubygems.url (PADDOCK__REGISTRIES__RUBYGEMS__URL)",
            ", or install gem and add a source with `gem sources --add`",
        ),
        Ecosystem::Packagist => (
            "registries.packagist.url (PADDOCK__REGISTRIES__PACKAGIST__URL)",
            ", or install composer and configure its repository",
        ),
        Ecosystem::CratesIo | Ecosystem::Unspecified => (
            "registries.crates_io.url (PADDOCK__REGISTRIES__CRATES_IO__URL) to a sparse index",
            ", or use cargo once so that its index configuration exists",
        ),
    };
    RegistryError::NotConfigured {
        ecosystem: cli_name(eco),
        setting,
        hint,
    }
}

/// Refuses names that no registry allows and that could change the shape of
/// a URL or path: empty, too long, control characters, `..`, leading `/`.
pub fn validate_name(eco: Ecosystem, name: &str) -> Result<(), RegistryError> {
    let bad = || RegistryError::InvalidName(name.to_owned());
    if name.is_empty() || name.len() > 214 || name.contains("..") || name.starts_with('/') {
        return Err(bad());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    let ok = match eco {
        // @scope/name
        Ecosystem::Npm => {
            let rest = name
                .strip_prefix('@')
                .map_or(Some(name), |scoped| scoped.split_once('/').map(|(_, n)| n));
            let scope_ok = name.strip_prefix('@').is_none_or(|s| {
                s.split_once('/')
                    .is_some_and(|(sc, _)| !sc.is_empty() && sc.chars().all(allowed))
            });
            scope_ok
                && rest.is_some_and(|n| !n.is_empty() && n.chars().all(|c| allowed(c) || c == '~'))
        }
        // vendor/name
        Ecosystem::Packagist => name.split_once('/').is_some_and(|(v, n)| {
            !v.is_empty() && !n.is_empty() && v.chars().all(allowed) && n.chars().all(allowed)
        }),
        _ => name.chars().all(allowed),
    };
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_reshape_a_url_are_refused() {
        assert!(validate_name(Ecosystem::Npm, "@scope/left-pad").is_ok());
        assert!(validate_name(Ecosystem::Npm, "left-pad").is_ok());
        assert!(validate_name(Ecosystem::Npm, "@scope/../x").is_err());
        assert!(validate_name(Ecosystem::Npm, "a/b").is_err());
        assert!(validate_name(Ecosystem::Packagist, "symfony/console").is_ok());
        assert!(validate_name(Ecosystem::Packagist, "console").is_err());
        assert!(validate_name(Ecosystem::Pypi, "zope.interface").is_ok());
        assert!(validate_name(Ecosystem::Pypi, "a b").is_err());
        assert!(validate_name(Ecosystem::CratesIo, "serde?x=1").is_err());
    }

    #[test]
    fn artifact_file_names_cannot_be_paths() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("left-pad-1.3.0.tgz"), "left-pad-1.3.0.tgz");
        assert_eq!(safe_filename(".."), "artifact");
        assert_eq!(safe_filename("a b;c.whl"), "a_b_c.whl");
    }
}
