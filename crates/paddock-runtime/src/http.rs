//! Health and metrics over HTTP.
//!
//! | path | answer |
//! |---|---|
//! | `/healthz` | `200 ok` while the process runs (liveness) |
//! | `/readyz` | `200` when every registered component is ready, else `503`; the body lists each component |
//! | `/metrics` | Prometheus/OpenMetrics text of the service's registry |

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the endpoints listen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address of `/healthz`, `/readyz` and `/metrics`; unset: not served.
    pub listen: Option<SocketAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

/// Readiness of a service's components.
#[derive(Debug, Clone, Default)]
pub struct Health {
    components: Arc<Mutex<BTreeMap<String, Result<(), String>>>>,
}

impl Health {
    /// Registers `component` as not yet ready.
    pub fn register(&self, component: &str) {
        self.lock()
            .insert(component.to_owned(), Err("starting".into()));
    }

    pub fn set_ready(&self, component: &str) {
        self.lock().insert(component.to_owned(), Ok(()));
    }

    pub fn set_unready(&self, component: &str, reason: impl Into<String>) {
        self.lock().insert(component.to_owned(), Err(reason.into()));
    }

    /// Sets `component` ready (`Ok`) or not ready with the reason.
    pub fn set(&self, component: &str, state: Result<(), String>) {
        self.lock().insert(component.to_owned(), state);
    }

    /// The health component of a consume loop: `consumer <durable>`.
    pub fn consumer_component(durable: &str) -> String {
        format!("consumer {durable}")
    }

    /// A bus readiness hook that reports each consume loop as its own
    /// component, so `/readyz` names the consumer that is not pulling.
    pub fn bus_readiness(&self) -> paddock_bus::Readiness {
        let health = self.clone();
        paddock_bus::Readiness::new(move |spec, state| {
            health.set(&Self::consumer_component(&spec.durable), state)
        })
    }

    /// Registers the consume loops of `specs` as not yet ready: a service
    /// counts as ready only once its consumers pull.
    pub fn register_consumers<'a>(
        &self,
        specs: impl IntoIterator<Item = &'a paddock_bus::ConsumerSpec>,
    ) {
        for spec in specs {
            self.register(&Self::consumer_component(&spec.durable));
        }
    }

    /// True when every registered component is ready.
    pub fn is_ready(&self) -> bool {
        self.lock().values().all(Result::is_ok)
    }

    fn report(&self) -> serde_json::Value {
        let components: serde_json::Map<_, _> = self
            .lock()
            .iter()
            .map(|(name, state)| {
                let v = match state {
                    Ok(()) => serde_json::json!({"ready": true}),
                    Err(reason) => serde_json::json!({"ready": false, "reason": reason}),
                };
                (name.clone(), v)
            })
            .collect();
        serde_json::json!({ "ready": self.is_ready(), "components": components })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Result<(), String>>> {
        self.components.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Registers `paddock_build_info{service, version} 1`, so that every
/// service's `/metrics` says what is running even before any traffic.
pub fn register_build_info(registry: &mut Registry, service: &str, version: &str) {
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    let info: Family<Vec<(String, String)>, Gauge> = Family::default();
    info.get_or_create(&vec![
        ("service".into(), service.into()),
        ("version".into(), version.into()),
    ])
    .set(1);
    registry.register("build_info", "The running service and its version", info);
}

/// The process's metrics registry, shared: each service registers its
/// metrics as it starts, and `/metrics` encodes whatever is registered.
#[derive(Debug, Clone)]
pub struct SharedRegistry {
    registry: Arc<Mutex<Registry>>,
}

impl SharedRegistry {
    pub fn new(registry: Registry) -> Self {
        Self {
            registry: Arc::new(Mutex::new(registry)),
        }
    }

    /// Registers metrics: `register` is given the registry for the time of
    /// the call (a lock held for it, never across an `.await`).
    pub fn register(&self, register: impl FnOnce(&mut Registry)) {
        register(&mut self.lock());
    }

    /// Everything registered, in the Prometheus text format.
    pub fn encode(&self, out: &mut String) -> std::fmt::Result {
        prometheus_client::encoding::text::encode(out, &self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
struct AppState {
    health: Health,
    registry: SharedRegistry,
}

/// Serves the endpoints on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    health: Health,
    registry: SharedRegistry,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(AppState { health, registry });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let code = if state.health.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(state.health.report()))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = String::new();
    match state.registry.encode(&mut body) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("encoding metrics failed: {e}\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_every_component() {
        let health = Health::default();
        assert!(health.is_ready(), "nothing registered yet");
        health.register("bus");
        health.register("consumer");
        assert!(!health.is_ready());
        health.set_ready("bus");
        assert!(!health.is_ready());
        health.set_ready("consumer");
        assert!(health.is_ready());
        health.set_unready("bus", "disconnected");
        assert_eq!(
            health.report()["components"]["bus"]["reason"],
            "disconnected"
        );
    }
}
