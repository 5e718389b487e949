//! Layered configuration: defaults, then a TOML file, then environment.
//!
//! Environment variables are named `PADDOCK__` followed by the key path in
//! upper case with `__` between levels: `PADDOCK__BUS__URL` sets `bus.url`,
//! `PADDOCK__BUS__CONSUMER__CONCURRENCY` sets `bus.consumer.concurrency`.
//! Values are parsed as TOML-like scalars (`8`, `true`, `"text"`), falling
//! back to a plain string.

use std::path::Path;

use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The environment variable prefix.
pub const ENV_PREFIX: &str = "PADDOCK__";

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} does not exist; pass an existing file or none at all")]
    MissingFile { path: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Loads `T` from its defaults, then `file` (if given), then the
/// `PADDOCK__…` entries of `env`. Unknown keys in any layer are an error
/// that names the key and where it came from.
pub fn load<T>(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::MissingFile {
                path: path.display().to_string(),
            });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let key = rest
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(".");
        let value: Value = raw.parse().expect("parsing a figment value is infallible");
        figment = figment.merge(EnvVar {
            name: name.clone(),
            inner: Serialized::default(&key, value),
        });
    }
    figment
        .extract::<T>()
        .map_err(|e| ConfigError::Invalid(describe(e)))
}

/// One environment variable as a figment provider, so that errors name the
/// variable rather than the code that read it.
struct EnvVar {
    name: String,
    inner: Serialized<Value>,
}

impl figment::Provider for EnvVar {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        self.inner.data()
    }
}

fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let mut text = e.kind.to_string();
            if !e.path.is_empty() {
                text.push_str(&format!(" at `{}`", e.path.join(".")));
            }
            if let Some(meta) = &e.metadata {
                match &meta.source {
                    Some(figment::Source::File(path)) => {
                        text.push_str(&format!(" in {}", path.display()))
                    }
                    _ => text.push_str(&format!(" in {}", meta.name)),
                }
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        port: u16,
        enabled: bool,
        label: String,
    }

    impl Default for Sample {
        fn default() -> Self {
            Self {
                name: "default".into(),
                inner: Inner::default(),
            }
        }
    }

    impl Default for Inner {
        fn default() -> Self {
            Self {
                port: 1,
                enabled: false,
                label: "d".into(),
            }
        }
    }

    fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let path = dir.path().join("paddock.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "name = \"file\"\n[inner]\nport = 2\nlabel = \"from-file\"\n",
        );
        let env = vec![
            ("PADDOCK__INNER__PORT".to_owned(), "3".to_owned()),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ];
        let got: Sample = load(Some(&file), env).unwrap();
        assert_eq!(got.name, "file");
        assert_eq!(got.inner.port, 3, "environment wins over the file");
        assert_eq!(got.inner.label, "from-file", "the file wins over defaults");
        assert!(!got.inner.enabled, "defaults fill the rest");
    }

    #[test]
    fn unknown_keys_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, "[inner]\nprot = 2\n");
        let err = load::<Sample>(Some(&file), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot") && err.contains("inner"), "{err}");
        assert!(err.contains("paddock.toml"), "names the file: {err}");

        let env = vec![("PADDOCK__INNER__COLOUR".to_owned(), "blue".to_owned())];
        let err = load::<Sample>(None, env).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
        assert!(
            err.contains("environment variable PADDOCK__INNER__COLOUR"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_and_missing_files_are_clear_errors() {
        let env = vec![("PADDOCK__INNER__PORT".to_owned(), "not-a-port".to_owned())];
        let err = load::<Sample>(None, env).unwrap_err().to_string();
        assert!(err.contains("inner.port"), "{err}");

        let err =
            load::<Sample>(Some(Path::new("/nonexistent/paddock.toml")), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/paddock.toml"));
    }

    #[test]
    fn environment_values_are_typed() {
        let env = vec![
            ("PADDOCK__INNER__ENABLED".to_owned(), "true".to_owned()),
            ("PADDOCK__NAME".to_owned(), "from env".to_owned()),
        ];
        let got: Sample = load(None, env).unwrap();
        assert!(got.inner.enabled);
        assert_eq!(got.name, "from env");
    }
}
