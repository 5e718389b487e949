//! What the API's tests share: a real nats-server with the topology, the
//! API service run in-process as `paddock up` runs it, and messages
//! published on the bus as the pipeline's services publish them.
#![allow(dead_code)] // each test file uses some of it

use std::sync::Arc;
use std::time::Duration;

use paddock_api_service::{ApiConfig, ApiServiceConfig, Bound};
use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, BusConfig, CancellationToken, JetStreamBus, Published};
use paddock_proto::v1::analysis_service_client::AnalysisServiceClient;
use paddock_proto::v1::{
    Alert, AnalysisRun, AnalysisStatus, BehaviorChange, Change, ChangeAction, ChangeKind,
    DynamicResult, Ecosystem, FeedSource, Finding, PackageRef, Phase, PhaseResult, Reason, Release,
    Severity, StaticResult, Verdict,
};
use paddock_runtime::http::{Health, SharedRegistry};
use paddock_runtime::service::ServiceContext;
use paddock_testkit::TestNats;
use tonic::transport::Channel;

/// An API with no tokens on loopback, ephemeral ports.
pub fn open_api() -> ApiConfig {
    ApiConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        web_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ApiConfig::default()
    }
}

/// One running API replica.
pub struct RunningApi {
    pub bound: Bound,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
    pub health: Health,
    pub metrics: SharedRegistry,
}

impl RunningApi {
    pub async fn client(&self) -> AnalysisServiceClient<Channel> {
        AnalysisServiceClient::connect(self.bound.grpc_url.clone())
            .await
            .expect("connecting to the API")
    }

    /// The value of one metric (a counter's `_total`, a gauge), 0 when absent.
    pub fn metric(&self, name: &str) -> f64 {
        let mut text = String::new();
        self.metrics.encode(&mut text).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0.0)
    }

    /// Stops the replica and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(20), &mut self.task).await;
    }
}

impl Drop for RunningApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts an API replica on its own bus connection (as its own process
/// would have). Panics with the start error.
pub async fn start_api(nats: &TestNats, bus_config: &BusConfig, api: ApiConfig) -> RunningApi {
    try_start_api(nats, bus_config, api).await.unwrap()
}

/// [`start_api`], returning the start error.
pub async fn try_start_api(
    nats: &TestNats,
    bus_config: &BusConfig,
    api: ApiConfig,
) -> Result<RunningApi, String> {
    start_with(
        nats,
        bus_config,
        api,
        paddock_registry::RegistriesConfig::default(),
    )
    .await
}

/// [`try_start_api`] with Submit resolving releases at `registries`.
pub async fn start_with(
    nats: &TestNats,
    bus_config: &BusConfig,
    api: ApiConfig,
    registries: paddock_registry::RegistriesConfig,
) -> Result<RunningApi, String> {
    let bus = JetStreamBus::connect(nats.url(), bus_config, Arc::new(BusMetrics::default()))
        .await
        .map_err(|e| e.to_string())?;
    let shutdown = CancellationToken::new();
    let health = Health::default();
    let metrics = SharedRegistry::new(prometheus_client::registry::Registry::default());
    let (cx, starting) =
        ServiceContext::new(bus, health.clone(), metrics.clone(), shutdown.clone());
    let (announce, announced) = tokio::sync::oneshot::channel();
    let config = ApiServiceConfig {
        api,
        registries,
        max_message_bytes: bus_config.max_message_bytes,
        announce: Some(announce),
    };
    let running = match starting.drive(paddock_api_service::run(config, cx)).await {
        Ok(running) => running,
        Err(Err(error)) => return Err(error.to_string()),
        Err(Ok(())) => return Err("the API ended before it started".into()),
    };
    let task = tokio::spawn(async move {
        if let Err(e) = running.await {
            eprintln!("api replica ended: {e}");
        }
    });
    let bound = announced.await.map_err(|e| e.to_string())?;
    Ok(RunningApi {
        bound,
        shutdown,
        task,
        health,
        metrics,
    })
}

pub fn package(eco: Ecosystem, name: &str, version: &str) -> PackageRef {
    PackageRef {
        ecosystem: eco as i32,
        name: name.into(),
        version: version.into(),
    }
}

fn run(id: &str) -> Option<AnalysisRun> {
    Some(AnalysisRun {
        run_id: id.into(),
        ..Default::default()
    })
}

pub async fn publish_release(bus: &JetStreamBus, p: &PackageRef) -> Published {
    let release = Release {
        package: Some(p.clone()),
        source: FeedSource::Manual as i32,
        ..Default::default()
    };
    bus.publish(
        &bus.names().release(p.ecosystem()),
        &paddock_bus::names::release_msg_id(p),
        &release,
    )
    .await
    .unwrap()
}

/// A static result with one finding per `(rule id, severity)`.
pub fn static_result(p: &PackageRef, run_id: &str, findings: &[(&str, Severity)]) -> StaticResult {
    StaticResult {
        package: Some(p.clone()),
        run: run(run_id),
        status: AnalysisStatus::Completed as i32,
        findings: findings
            .iter()
            .map(|(id, sev)| Finding {
                rule_id: (*id).into(),
                severity: *sev as i32,
                title: format!("{id} title"),
                confidence: 0.9,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

pub async fn publish_static(bus: &JetStreamBus, r: &StaticResult) -> Published {
    let p = r.package.as_ref().unwrap();
    let id = paddock_bus::names::result_msg_id("static", p, &r.run.as_ref().unwrap().run_id);
    bus.publish(&bus.names().static_result(p.ecosystem()), &id, r)
        .await
        .unwrap()
}

/// A dynamic result whose install phase completed with `status`.
pub fn dynamic_result(p: &PackageRef, run_id: &str, status: AnalysisStatus) -> DynamicResult {
    DynamicResult {
        package: Some(p.clone()),
        run: run(run_id),
        status: status as i32,
        phases: vec![PhaseResult {
            phase: Phase::Install as i32,
            status: status as i32,
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub async fn publish_dynamic(bus: &JetStreamBus, r: &DynamicResult) -> Published {
    let p = r.package.as_ref().unwrap();
    let id = paddock_bus::names::result_msg_id("dynamic", p, &r.run.as_ref().unwrap().run_id);
    bus.publish(&bus.names().dynamic_result(p.ecosystem()), &id, r)
        .await
        .unwrap()
}

/// An alert as the diff service makes it: `severity`, compared with
/// `previous` (empty: none), one added behaviour per `added`.
pub fn alert(
    p: &PackageRef,
    id: &str,
    severity: Severity,
    previous: &str,
    added: &[&str],
) -> Alert {
    let verdict = Verdict {
        package: Some(p.clone()),
        severity: severity as i32,
        score: severity as i32 as f64 * 2.0,
        previous_version: previous.into(),
        reasons: added
            .iter()
            .map(|a| Reason {
                source: "change".into(),
                code: "host".into(),
                description: format!("new: {a}"),
                weight: 1.0,
                severity: severity as i32,
            })
            .collect(),
        has_static: true,
        has_dynamic: true,
        ..Default::default()
    };
    let change = (!added.is_empty()).then(|| BehaviorChange {
        package: Some(p.clone()),
        previous_version: previous.into(),
        severity: severity as i32,
        changes: added
            .iter()
            .map(|a| Change {
                kind: ChangeKind::Host as i32,
                action: ChangeAction::Added as i32,
                value: (*a).into(),
                phase: Phase::Install as i32,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    });
    Alert {
        alert_id: id.into(),
        package: Some(p.clone()),
        severity: severity as i32,
        summary: format!("{p}: {severity:?}"),
        verdict: Some(verdict),
        change,
        ..Default::default()
    }
}

pub async fn publish_alert(bus: &JetStreamBus, a: &Alert) -> Published {
    let p = a.package.as_ref().unwrap();
    let severity = Severity::try_from(a.severity).unwrap();
    bus.publish(
        &bus.names().alert(severity, p.ecosystem()),
        &format!("alert:{}", a.alert_id),
        a,
    )
    .await
    .unwrap()
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
