//! The BigQuery destination's configuration (`[sink.bigquery]`).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::BigQueryError;

/// The public BigQuery REST root.
pub const DEFAULT_ENDPOINT: &str = "https://bigquery.googleapis.com";

/// Where the sink writes in BigQuery, how it authenticates, and how it
/// sizes and retries its requests.
///
/// ```toml
/// [sink.bigquery]
/// project = "my-project"
/// dataset = "paddock"
/// credentials = "/etc/paddock/bigquery-writer.json"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BigQueryConfig {
    /// The Google Cloud project holding the dataset; queries and inserts
    /// are billed to it. Required when the BigQuery sink is on.
    pub project: Option<String>,
    /// The dataset the tables are in; created (in `location`) if missing.
    /// Default `paddock`.
    pub dataset: String,
    /// Where the dataset is created and queries run, such as `US`, `EU` or
    /// `europe-west1`. Default `US`. An existing dataset keeps its own.
    pub location: String,
    /// The REST root, without `/bigquery/v2`. Default the public service;
    /// tests point it at the emulator (`http://127.0.0.1:<port>`).
    pub endpoint: String,
    /// How to authenticate: `"none"` (the emulator), `"application-default"`
    /// (default: `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's
    /// application-default login, then the GCE/GKE metadata server, then the
    /// gcloud CLI), or the path of a service-account key file.
    pub credentials: Credentials,
    /// Rows per insert request at most. Default 500, BigQuery's
    /// recommendation; its limit is 50,000.
    pub batch_rows: usize,
    /// Bytes per insert request at most (JSON body). Default 9 MiB, under
    /// BigQuery's 10 MB limit. A single row above it is still sent alone,
    /// and BigQuery decides.
    pub max_request_bytes: usize,
    /// Timeout of each HTTP request, such as `30s`. Default 30 s.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How many times a request that failed transiently (no connection, a
    /// timeout, 429, 502, 503, 504) is retried before the write fails and
    /// the messages are redelivered later. Default 5.
    pub retries: u32,
    /// The first retry's delay, doubling on each retry up to 32 s, such as
    /// `1s`. Default 1 s.
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// Also write the reference system's tables (`analysis`,
    /// `staticanalysis`), so its queries run on Paddock's dataset. Default
    /// false.
    pub reference_tables: bool,
}

impl Default for BigQueryConfig {
    fn default() -> Self {
        Self {
            project: None,
            dataset: "paddock".to_owned(),
            location: "US".to_owned(),
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            credentials: Credentials::default(),
            batch_rows: 500,
            max_request_bytes: 9 << 20,
            timeout: Duration::from_secs(30),
            retries: 5,
            retry_backoff: Duration::from_secs(1),
            reference_tables: false,
        }
    }
}

impl BigQueryConfig {
    /// The configuration for a project, with every other field defaulted.
    pub fn for_project(project: impl Into<String>) -> Self {
        Self {
            project: Some(project.into()),
            ..Self::default()
        }
    }

    /// Checks what can be checked without the network: the project is set
    /// and every name is one BigQuery accepts.
    pub fn validate(&self) -> Result<(), BigQueryError> {
        let project = self.project()?;
        validate_project(project)?;
        validate_dataset(&self.dataset)?;
        if self.location.trim().is_empty() {
            return Err(BigQueryError::Config(
                "bigquery.location is empty: set it to the dataset's location, such as \"US\""
                    .into(),
            ));
        }
        match url::Url::parse(&self.endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(BigQueryError::Config(format!(
                    "bigquery.endpoint {:?} is not an http(s) URL: leave it unset for the \
                     public service, or give the emulator's root such as http://127.0.0.1:9050",
                    self.endpoint
                )))
            }
        }
        if !(1..=50_000).contains(&self.batch_rows) {
            return Err(BigQueryError::Config(format!(
                "bigquery.batch_rows is {}: it must be between 1 and 50000",
                self.batch_rows
            )));
        }
        if self.max_request_bytes < 1024 {
            return Err(BigQueryError::Config(format!(
                "bigquery.max_request_bytes is {}: it must be at least 1024",
                self.max_request_bytes
            )));
        }
        if self.timeout.is_zero() {
            return Err(BigQueryError::Config(
                "bigquery.timeout is zero: give a duration such as \"30s\"".into(),
            ));
        }
        Ok(())
    }

    /// The project, or an error saying it must be set.
    pub fn project(&self) -> Result<&str, BigQueryError> {
        self.project.as_deref().ok_or_else(|| {
            BigQueryError::Config(
                "bigquery.project is not set: give the Google Cloud project that holds the \
                 dataset"
                    .into(),
            )
        })
    }
}

/// How the client authenticates. In configuration, a string: `"none"`,
/// `"application-default"`, or a file path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credentials {
    /// No `Authorization` header: the emulator.
    None,
    /// Google's application-default credentials, looked up in order by
    /// `gcp_auth`: the service-account key named by
    /// `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
    /// `~/.config/gcloud/application_default_credentials.json`, the GCE/GKE
    /// metadata server (workload identity), then `gcloud auth
    /// print-access-token`.
    #[default]
    ApplicationDefault,
    /// A service-account key file.
    File(PathBuf),
}

impl Serialize for Credentials {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Credentials::None => serializer.serialize_str("none"),
            Credentials::ApplicationDefault => serializer.serialize_str("application-default"),
            Credentials::File(path) => serializer.serialize_str(&path.to_string_lossy()),
        }
    }
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "none" => Credentials::None,
            "application-default" => Credentials::ApplicationDefault,
            "" => {
                return Err(serde::de::Error::custom(
                    "bigquery.credentials is empty: give \"none\", \"application-default\" \
                     or the path of a key file",
                ))
            }
            path => Credentials::File(PathBuf::from(path)),
        })
    }
}

/// BigQuery project ids: 6 to 30 lowercase letters, digits and hyphens, or
/// a domain-scoped `example.com:name`. Only these characters ever reach a
/// query's table reference.
pub(crate) fn validate_project(project: &str) -> Result<(), BigQueryError> {
    let (domain, name) = match project.rsplit_once(':') {
        Some((domain, name)) => (Some(domain), name),
        None => (None, project),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase();
    let domain_ok = domain.is_none_or(|d| {
        !d.is_empty()
            && d.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    });
    if name_ok && domain_ok {
        Ok(())
    } else {
        Err(BigQueryError::Config(format!(
            "bigquery.project {project:?} is not a project id (lowercase letters, digits and \
             hyphens, starting with a letter)"
        )))
    }
}

/// Dataset ids: letters, digits and underscores, at most 1024.
pub(crate) fn validate_dataset(dataset: &str) -> Result<(), BigQueryError> {
    if is_identifier(dataset) {
        Ok(())
    } else {
        Err(BigQueryError::Config(format!(
            "bigquery.dataset {dataset:?} is not a dataset id (letters, digits and \
             underscores, at most 1024)"
        )))
    }
}

/// Letters, digits and underscores, 1 to 1024 of them: the dataset and
/// table ids this client accepts (BigQuery allows more in table ids; the
/// sink's tables need no more).
pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 1024
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_credentials_parse() {
        let config: BigQueryConfig = serde_json::from_value(serde_json::json!({
            "project": "paddock-prod",
            "credentials": "/etc/key.json",
            "timeout": "10s",
        }))
        .unwrap();
        assert_eq!(config.dataset, "paddock");
        assert_eq!(config.location, "US");
        assert_eq!(config.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(config.batch_rows, 500);
        assert_eq!(config.max_request_bytes, 9 * 1024 * 1024);
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.retries, 5);
        assert!(!config.reference_tables);
        assert_eq!(
            config.credentials,
            Credentials::File(PathBuf::from("/etc/key.json"))
        );
        config.validate().unwrap();

        let none: Credentials = serde_json::from_value("none".into()).unwrap();
        assert_eq!(none, Credentials::None);
        let adc: Credentials = serde_json::from_value("application-default".into()).unwrap();
        assert_eq!(adc, Credentials::ApplicationDefault);
        assert_eq!(BigQueryConfig::default().credentials, adc);
    }

    #[test]
    fn unknown_keys_and_bad_names_are_refused() {
        let error = serde_json::from_value::<BigQueryConfig>(serde_json::json!({"projet": "x"}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `projet`"), "{error}");

        let missing = BigQueryConfig::default()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(missing.contains("bigquery.project is not set"), "{missing}");
        for bad in ["my`project", "Paddock", "a b", "x;DROP", ""] {
            let config = BigQueryConfig::for_project(bad);
            assert!(config.validate().is_err(), "{bad:?}");
        }
        let config = BigQueryConfig::for_project("example.com:paddock-1");
        config.validate().unwrap();
        let mut config = BigQueryConfig::for_project("paddock-test");
        config.dataset = "pad`dock".into();
        assert!(config.validate().is_err());
        config.dataset = "paddock_2".into();
        config.endpoint = "ftp://x".into();
        assert!(config.validate().is_err());
    }
}
