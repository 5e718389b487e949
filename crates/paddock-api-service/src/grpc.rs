//! `paddock.v1.AnalysisService` over tonic.
//!
//! Every call is authorised first (see [`crate::auth`]), then answered
//! through [`Results`]; errors become gRPC statuses whose messages say what
//! to do. WatchAlerts streams are counted per caller (the token's name, or
//! the peer address on an open API) and in total; beyond either limit a
//! new stream is refused with RESOURCE_EXHAUSTED.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use paddock_bus::{CancellationToken, JetStreamBus};
use paddock_feed::{PublishError, ReleasePublisher};
use paddock_proto::v1::analysis_service_server::AnalysisService;
use paddock_proto::v1::watch_alerts_request::Start as WireStart;
use paddock_proto::v1::{
    Ecosystem, FeedSource, GetDiffRequest, GetDiffResponse, GetResultRequest, GetResultResponse,
    ListReleasesRequest, ListReleasesResponse, PackageRef, Severity, SubmitRequest, SubmitResponse,
    WatchAlertsRequest, WatchAlertsResponse,
};
use paddock_registry::{RegistriesConfig, RegistryClient, RegistryError};
use tonic::{Request, Response, Status};

use crate::auth::{Auth, Caller, Denied, Role};
use crate::query::{AlertFilter, QueryError, Results, Start, StoredAlert};
use crate::ApiMetrics;

/// Stream limits.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    pub per_client: usize,
    pub total: usize,
}

/// The service.
#[derive(Clone)]
pub struct Api {
    pub(crate) results: Results,
    pub(crate) auth: Arc<Auth>,
    hub: crate::watch::Hub,
    submit: Arc<Submitter>,
    streams: Arc<StreamCounts>,
    metrics: Arc<ApiMetrics>,
    /// Ends every open stream, so that shutdown is not held by clients.
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

struct Submitter {
    publisher: ReleasePublisher,
    registries: RegistriesConfig,
}

impl Api {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn new(
        bus: &JetStreamBus,
        results: Results,
        hub: crate::watch::Hub,
        auth: Arc<Auth>,
        registries: RegistriesConfig,
        limits: StreamLimits,
        metrics: Arc<ApiMetrics>,
        shutdown: CancellationToken,
    ) -> Result<Self, PublishError> {
        Ok(Self {
            results,
            auth,
            hub,
            submit: Arc::new(Submitter {
                publisher: ReleasePublisher::new(bus).await?,
                registries,
            }),
            streams: Arc::new(StreamCounts {
                limits,
                open: Mutex::new(HashMap::new()),
            }),
            metrics,
            shutdown,
        })
    }

    fn authorize<T>(&self, request: &Request<T>, needs: Role) -> Result<Caller, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        self.auth
            .check(header, needs)
            .map_err(|denied| match denied {
                Denied::Missing | Denied::Unknown => Status::unauthenticated(denied.to_string()),
                Denied::Forbidden { .. } => Status::permission_denied(denied.to_string()),
            })
    }

    fn observe(&self, method: &'static str, result: Result<(), &Status>) {
        let code = match result {
            Ok(()) => "ok".to_owned(),
            Err(s) => format!("{:?}", s.code()).to_lowercase(),
        };
        self.metrics
            .requests
            .get_or_create(&crate::RequestLabels {
                method: method.to_owned(),
                code,
            })
            .inc();
    }
}

/// Open WatchAlerts streams, per caller.
struct StreamCounts {
    limits: StreamLimits,
    open: Mutex<HashMap<String, usize>>,
}

/// One open stream; released when the stream ends or its client goes.
struct StreamSlot {
    counts: Arc<StreamCounts>,
    client: String,
}

impl StreamCounts {
    fn acquire(self: &Arc<Self>, client: String) -> Result<StreamSlot, Status> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = open.values().sum();
        if total >= self.limits.total {
            return Err(Status::resource_exhausted(format!(
                "this server already serves {total} alert streams (api.max_streams): retry later or connect to another replica"
            )));
        }
        let mine = open.entry(client.clone()).or_default();
        if *mine >= self.limits.per_client {
            return Err(Status::resource_exhausted(format!(
                "{client} already has {mine} open alert streams (api.max_streams_per_client is {}): close one, or filter one stream instead of opening several",
                self.limits.per_client
            )));
        }
        *mine += 1;
        Ok(StreamSlot {
            counts: self.clone(),
            client,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

fn query_status(e: QueryError) -> Status {
    match e {
        QueryError::Invalid(m) => Status::invalid_argument(m),
        QueryError::NotFound(m) => Status::not_found(m),
        QueryError::Unavailable(m) => Status::unavailable(format!(
            "{m} (the bus or its streams are unavailable; retry)"
        )),
    }
}

fn package_arg(package: Option<PackageRef>, needs_version: bool) -> Result<PackageRef, Status> {
    let p = package.ok_or_else(|| {
        Status::invalid_argument("`package` is missing: set its ecosystem and name")
    })?;
    match Ecosystem::try_from(p.ecosystem) {
        Ok(Ecosystem::Unspecified) | Err(_) => {
            return Err(Status::invalid_argument(
                "`package.ecosystem` is missing or unknown: use ECOSYSTEM_PYPI, ECOSYSTEM_NPM, ECOSYSTEM_RUBYGEMS, ECOSYSTEM_PACKAGIST or ECOSYSTEM_CRATES_IO",
            ))
        }
        Ok(_) => {}
    }
    if p.name.trim().is_empty() {
        return Err(Status::invalid_argument("`package.name` is empty"));
    }
    if p.name.len() > 512 || p.version.len() > 256 {
        return Err(Status::invalid_argument(
            "`package.name` (512 bytes) or `package.version` (256 bytes) is too long for any registry",
        ));
    }
    if needs_version && p.version.is_empty() {
        return Err(Status::invalid_argument("`package.version` is empty"));
    }
    Ok(p)
}

fn registry_status(e: &RegistryError) -> Status {
    let text = e.to_string();
    match e {
        RegistryError::NotFound { .. } | RegistryError::NoSuchVersion { .. } => {
            Status::not_found(text)
        }
        RegistryError::NotConfigured { .. } => Status::failed_precondition(text),
        RegistryError::NoRelease { .. } | RegistryError::NoArtifact { .. } => {
            Status::failed_precondition(text)
        }
        _ if e.is_transient() => Status::unavailable(text),
        _ => Status::failed_precondition(text),
    }
}

type AlertStream = Pin<Box<dyn Stream<Item = Result<WatchAlertsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AnalysisService for Api {
    #[tracing::instrument(skip_all, fields(package))]
    async fn submit(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let result = async {
            let caller = self.authorize(&request, Role::Submit)?;
            let package = package_arg(request.into_inner().package, false)?;
            tracing::Span::current().record("package", tracing::field::display(&package));
            let client = RegistryClient::new(package.ecosystem(), &self.submit.registries)
                .map_err(|e| registry_status(&e))?;
            let version = Some(package.version.as_str()).filter(|v| !v.is_empty());
            let (release, published) = self
                .submit
                .publisher
                .fetch_and_publish(&client, &package.name, version, FeedSource::Manual, "api")
                .await
                .map_err(|e| match &e {
                    PublishError::Registry(r) => registry_status(r),
                    _ => Status::unavailable(format!("{e} (retry)")),
                })?;
            tracing::info!(caller = %caller.name, release = %release.package.clone().unwrap_or_default(), duplicate = published.duplicate, "submitted");
            Ok(Response::new(SubmitResponse {
                release: Some(release),
                queued: !published.duplicate,
            }))
        }
        .await;
        self.observe("submit", result.as_ref().map(|_| ()));
        result
    }

    #[tracing::instrument(skip_all)]
    async fn get_result(
        &self,
        request: Request<GetResultRequest>,
    ) -> Result<Response<GetResultResponse>, Status> {
        let result = async {
            self.authorize(&request, Role::Read)?;
            let package = package_arg(request.into_inner().package, false)?;
            let found = self.results.get(&package).await.map_err(query_status)?;
            Ok(Response::new(GetResultResponse {
                release: found.release,
                static_result: found.static_result,
                dynamic_result: found.dynamic_result,
                verdict: found.alert.as_ref().and_then(|a| a.verdict.clone()),
                index: Some(found.index),
                alert: found.alert,
                expired: found.expired,
            }))
        }
        .await;
        self.observe("get_result", result.as_ref().map(|_| ()));
        result
    }

    #[tracing::instrument(skip_all)]
    async fn list_releases(
        &self,
        request: Request<ListReleasesRequest>,
    ) -> Result<Response<ListReleasesResponse>, Status> {
        let result = async {
            self.authorize(&request, Role::Read)?;
            let request = request.into_inner();
            let package = package_arg(request.package, false)?;
            let limit = match request.limit {
                0 => 100,
                n => n as usize,
            };
            let (releases, truncated) = self
                .results
                .list(package.ecosystem(), &package.name, limit)
                .await
                .map_err(query_status)?;
            if releases.is_empty() {
                return Err(Status::not_found(format!(
                    "no release of {} {} has been analysed here (or they have aged out): submit one with Submit or `paddock submit`",
                    paddock_proto::ecosystem::cli_name(package.ecosystem()),
                    package.name
                )));
            }
            Ok(Response::new(ListReleasesResponse {
                releases,
                truncated,
            }))
        }
        .await;
        self.observe("list_releases", result.as_ref().map(|_| ()));
        result
    }

    #[tracing::instrument(skip_all)]
    async fn get_diff(
        &self,
        request: Request<GetDiffRequest>,
    ) -> Result<Response<GetDiffResponse>, Status> {
        let result = async {
            self.authorize(&request, Role::Read)?;
            let request = request.into_inner();
            let package = package_arg(request.package, false)?;
            let answer = self
                .results
                .diff(
                    package.ecosystem(),
                    &package.name,
                    &request.from_version,
                    &request.to_version,
                )
                .await
                .map_err(query_status)?;
            Ok(Response::new(GetDiffResponse {
                change: Some(answer.change),
                computed: answer.computed,
                verdict: answer.verdict,
            }))
        }
        .await;
        self.observe("get_diff", result.as_ref().map(|_| ()));
        result
    }

    type WatchAlertsStream = AlertStream;

    #[tracing::instrument(skip_all)]
    async fn watch_alerts(
        &self,
        request: Request<WatchAlertsRequest>,
    ) -> Result<Response<Self::WatchAlertsStream>, Status> {
        let result = async {
            let caller = self.authorize(&request, Role::Read)?;
            let client = if self.auth.is_open() {
                request
                    .remote_addr()
                    .map(|a: SocketAddr| a.ip().to_string())
                    .unwrap_or_else(|| "unknown peer".into())
            } else {
                format!("token `{}`", caller.name)
            };
            let request = request.into_inner();
            let min_severity = Severity::try_from(request.min_severity).map_err(|_| {
                Status::invalid_argument(format!(
                    "min_severity {} is not a severity",
                    request.min_severity
                ))
            })?;
            let mut ecosystems = Vec::new();
            for e in &request.ecosystems {
                match Ecosystem::try_from(*e) {
                    Ok(Ecosystem::Unspecified) | Err(_) => {
                        return Err(Status::invalid_argument(format!(
                            "ecosystems: {e} is not an ecosystem"
                        )))
                    }
                    Ok(eco) if !ecosystems.contains(&eco) => ecosystems.push(eco),
                    Ok(_) => {}
                }
            }
            let start = match request.start {
                None => Start::New,
                Some(WireStart::StartSequence(s)) => Start::Sequence(s),
                Some(WireStart::FromBeginning(true)) => Start::Beginning,
                Some(WireStart::FromBeginning(false)) => Start::New,
                Some(WireStart::StartTime(t)) => {
                    let secs = u64::try_from(t.seconds)
                        .map_err(|_| Status::invalid_argument("start_time is before 1970"))?;
                    Start::Time(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::new(secs, t.nanos.clamp(0, 999_999_999) as u32),
                    )
                }
            };
            let slot = self.streams.acquire(client)?;
            let filter = AlertFilter {
                min_severity,
                ecosystems,
            };
            let alerts = self.hub.watch(filter, start, self.shutdown.clone());
            let gauge = self.metrics.watch_streams.clone();
            gauge.inc();
            let guard = Guard(slot, gauge);
            let stream = alerts
                .take_until(self.shutdown.clone().cancelled_owned())
                .map(move |item| {
                    let _keep = &guard;
                    item.map(
                        |StoredAlert {
                             sequence,
                             stored_at,
                             alert,
                         }| {
                            let t = stored_at
                                .duration_since(std::time::UNIX_EPOCH)
                                .unwrap_or_default();
                            WatchAlertsResponse {
                                sequence,
                                alert: Some(alert),
                                stored_at: Some(pbjson_types::Timestamp {
                                    seconds: t.as_secs() as i64,
                                    nanos: t.subsec_nanos() as i32,
                                }),
                            }
                        },
                    )
                    .map_err(query_status)
                });
            Ok(Response::new(Box::pin(stream) as AlertStream))
        }
        .await;
        self.observe("watch_alerts", result.as_ref().map(|_| ()));
        result
    }
}

/// Holds a stream's slot and its gauge entry until the stream is dropped.
struct Guard(
    #[allow(dead_code)] StreamSlot,
    prometheus_client::metrics::gauge::Gauge,
);

impl Drop for Guard {
    fn drop(&mut self) {
        self.1.dec();
    }
}
