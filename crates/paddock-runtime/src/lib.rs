//! What every Paddock service shares.
//!
//! # Layout
//!
//! - [`config`]: typed, layered configuration — built-in defaults, then a
//!   TOML file, then `PADDOCK__SECTION__KEY` environment variables — that
//!   rejects unknown keys with an error naming the key. The environment is
//!   passed in, never read here.
//! - [`telemetry`]: tracing with human or JSON logs, OpenTelemetry spans
//!   (exported over OTLP when an endpoint is configured).
//! - [`http`]: the `/healthz`, `/readyz` and `/metrics` endpoints, the
//!   readiness components and the shared metrics registry behind them.
//! - [`service`]: the one shape of a service, `run(config,
//!   ServiceContext)`, and how a composer starts services one by one.
//! - [`shutdown`]: a cancellation token fired by SIGTERM or SIGINT.
//! - [`nats_server`]: starts and stops a local `nats-server` with JetStream,
//!   for `paddock up` and the test harness.

pub mod config;
pub mod http;
pub mod nats_server;
pub mod service;
pub mod shutdown;
pub mod telemetry;
