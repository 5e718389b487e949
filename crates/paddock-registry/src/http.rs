//! HTTP for registries: timeouts, size limits, and retries with backoff on
//! 5xx, 429 (honouring `Retry-After`) and connection failures.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::RegistryError;

/// HTTP behaviour shared by every registry client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    #[serde(with = "humantime_serde")]
    pub connect_timeout: std::time::Duration,
    /// Whole-request limit for metadata documents.
    #[serde(with = "humantime_serde")]
    pub metadata_timeout: Duration,
    /// Whole-request limit for artifact downloads.
    #[serde(with = "humantime_serde")]
    pub download_timeout: Duration,
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// First retry delay; doubles per attempt, up to `max_retry_after`. A
    /// `Retry-After` wins, up to `max_retry_after` too.
    #[serde(with = "humantime_serde")]
    pub backoff_initial: Duration,
    #[serde(with = "humantime_serde")]
    pub max_retry_after: Duration,
    pub max_metadata_bytes: u64,
    pub max_artifact_bytes: u64,
    /// Sent with every request; registries ask crawlers to identify.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            metadata_timeout: Duration::from_secs(60),
            download_timeout: Duration::from_secs(300),
            attempts: 4,
            backoff_initial: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            max_metadata_bytes: 64 << 20,
            max_artifact_bytes: 512 << 20,
            user_agent: format!(
                "paddock/{} (malicious package detection)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// An HTTP client for one ecosystem.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    settings: HttpSettings,
    ecosystem: &'static str,
}

/// A successful response body with the final URL and content type.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub content_type: String,
    pub body: Bytes,
}

impl Http {
    pub fn new(settings: &HttpSettings, ecosystem: &'static str) -> Result<Self, RegistryError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| RegistryError::Unreachable {
                ecosystem,
                url: String::new(),
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Self {
            client,
            settings: settings.clone(),
            ecosystem,
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// A metadata document; `None` for 404 and 410.
    pub async fn get_metadata(
        &self,
        url: &str,
        accept: &str,
    ) -> Result<Option<Fetched>, RegistryError> {
        self.get(
            url,
            accept,
            self.settings.metadata_timeout,
            self.settings.max_metadata_bytes,
        )
        .await
    }

    /// A JSON metadata document decoded as `T`; `None` for 404 and 410.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Option<T>, RegistryError> {
        let Some(fetched) = self.get_metadata(url, "application/json").await? else {
            return Ok(None);
        };
        serde_json::from_slice(&fetched.body)
            .map(Some)
            .map_err(|e| RegistryError::Malformed {
                url: url.to_owned(),
                reason: e.to_string(),
            })
    }

    /// An artifact; a 404 is an error.
    pub async fn get_artifact(&self, url: &str) -> Result<Fetched, RegistryError> {
        self.get(
            url,
            "*/*",
            self.settings.download_timeout,
            self.settings.max_artifact_bytes,
        )
        .await?
        .ok_or_else(|| RegistryError::NotFound {
            what: "artifact".into(),
            url: url.to_owned(),
        })
    }

    async fn get(
        &self,
        url: &str,
        accept: &str,
        timeout: Duration,
        limit: u64,
    ) -> Result<Option<Fetched>, RegistryError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.settings.attempts.max(1);
            match self.try_get(url, accept, timeout, limit).await {
                Ok(result) => return Ok(result),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry { error, after }) => {
                    if last {
                        return Err(match error {
                            RegistryError::Status { url, status, .. } => RegistryError::Status {
                                url,
                                status,
                                retried: format!(" (after {attempt} attempts)"),
                            },
                            other => other,
                        });
                    }
                    let backoff = paddock_proto::backoff::Backoff {
                        initial: self.settings.backoff_initial,
                        max: self.settings.max_retry_after,
                    }
                    .delay(u64::from(attempt) - 1);
                    let delay = after.map_or(backoff, |a| a.min(self.settings.max_retry_after));
                    tracing::info!(%url, attempt, delay_ms = delay.as_millis() as u64, %error, "retrying registry request");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn try_get(
        &self,
        url: &str,
        accept: &str,
        timeout: Duration,
        limit: u64,
    ) -> Result<Option<Fetched>, Failure> {
        let unreachable = |e: reqwest::Error| RegistryError::Unreachable {
            ecosystem: self.ecosystem,
            url: url.to_owned(),
            reason: describe(&e),
        };
        let response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, accept)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| Failure::Retry {
                error: unreachable(e),
                after: None,
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Ok(None);
        }
        if !status.is_success() {
            let error = RegistryError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                retried: String::new(),
            };
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                Failure::Retry {
                    error,
                    after: retry_after(response.headers()),
                }
            } else {
                Failure::Fatal(error)
            });
        }
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(Failure::Fatal(RegistryError::TooLarge {
                url: url.to_owned(),
                limit,
            }));
        }
        let final_url = response.url().to_string();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut body = BytesMut::new();
        let mut response = response;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(Failure::Fatal(RegistryError::TooLarge {
                            url: url.to_owned(),
                            limit,
                        }));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // A body cut short is transient: try again.
                Err(e) => {
                    return Err(Failure::Retry {
                        error: unreachable(e),
                        after: None,
                    })
                }
            }
        }
        Ok(Some(Fetched {
            url: final_url,
            content_type,
            body: body.freeze(),
        }))
    }
}

enum Failure {
    Retry {
        error: RegistryError,
        after: Option<Duration>,
    },
    Fatal(RegistryError),
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The innermost cause of a reqwest error, which says what actually failed
/// (connection refused, DNS, timeout, body cut short).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    if e.is_timeout() {
        text.push_str(" (timed out)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
