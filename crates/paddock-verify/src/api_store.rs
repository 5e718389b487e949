//! A running Paddock's API as a results store: each release is looked up
//! with GetResult (the results index answers without scanning).

use std::collections::{HashMap, HashSet};

use paddock_proto::v1::analysis_service_client::AnalysisServiceClient;
use paddock_proto::v1::{GetResultRequest, PackageRef, Severity};
use tonic::transport::Channel;

use crate::store::{keep_latest, Analysed, AnalysedArtifact, Reason, ReleaseKey, StoreError};

/// Lookups in flight at once.
const CONCURRENCY: usize = 16;

/// The API at one URL.
#[derive(Debug, Clone)]
pub struct ApiStore {
    url: String,
    token: Option<String>,
    client: AnalysisServiceClient<Channel>,
}

impl ApiStore {
    /// Connects to `url` (`http://127.0.0.1:50051`); `token` is sent as a
    /// bearer token.
    pub async fn connect(url: &str, token: Option<String>) -> Result<Self, StoreError> {
        let err = |reason: String| StoreError {
            store: format!("api:{url}"),
            reason,
        };
        let channel = Channel::from_shared(url.to_owned())
            .map_err(|e| err(format!("not a URL: {e}")))?
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(30))
            .connect()
            .await
            .map_err(|e| {
                err(format!(
                    "cannot connect ({e}): is `paddock up` (or `paddock serve api`) running there?"
                ))
            })?;
        Ok(Self {
            url: url.to_owned(),
            token,
            client: AnalysisServiceClient::new(channel),
        })
    }

    pub fn describe(&self) -> String {
        format!("api:{}", self.url)
    }

    /// The verdicts the API has for `wanted`.
    pub async fn lookup(
        &self,
        wanted: &HashSet<ReleaseKey>,
    ) -> Result<HashMap<ReleaseKey, Analysed>, StoreError> {
        use futures::StreamExt;
        let store = self.describe();
        let mut answers = futures::stream::iter(wanted.iter().cloned())
            .map(|key| {
                let mut client = self.client.clone();
                let token = self.token.clone();
                async move {
                    let mut request = tonic::Request::new(GetResultRequest {
                        package: Some(PackageRef {
                            ecosystem: key.ecosystem as i32,
                            name: key.name.clone(),
                            version: key.version.clone(),
                        }),
                    });
                    if let Some(token) = &token {
                        if let Ok(v) = format!("Bearer {token}").parse() {
                            request.metadata_mut().insert("authorization", v);
                        }
                    }
                    (key, client.get_result(request).await)
                }
            })
            .buffer_unordered(CONCURRENCY);
        let mut found = HashMap::new();
        while let Some((key, answer)) = answers.next().await {
            let r = match answer {
                Ok(r) => r.into_inner(),
                Err(s) if s.code() == tonic::Code::NotFound => continue,
                Err(s) => {
                    return Err(StoreError {
                        store,
                        reason: format!("{key:?}: {} ({:?})", s.message(), s.code()),
                    })
                }
            };
            let Some(verdict) = r.verdict else { continue };
            let reasons = Reason::heaviest_first(&verdict.reasons);
            let artifact = r
                .static_result
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .or_else(|| {
                    r.release
                        .as_ref()
                        .and_then(|rel| rel.artifacts.get(rel.selected_artifact as usize))
                })
                .map(|a| {
                    AnalysedArtifact::new(
                        &a.filename,
                        &a.sha256,
                        a.registry_digests
                            .iter()
                            .map(|d| (d.algorithm.clone(), d.value.clone())),
                    )
                });
            let judged_at = verdict.created_at.and_then(|t| {
                chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
                    .map(|d| d.to_rfc3339())
            });
            let name = verdict
                .package
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| key.name.clone());
            let analysed = Analysed {
                name,
                severity: Severity::try_from(verdict.severity).unwrap_or(Severity::Unspecified),
                score: verdict.score,
                reasons,
                judged_at,
                artifact,
                store: store.clone(),
            };
            keep_latest(&mut found, key, analysed);
        }
        Ok(found)
    }
}
