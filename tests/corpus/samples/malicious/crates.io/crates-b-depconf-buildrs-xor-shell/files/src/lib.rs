//! Bindings to the telemetry agent.

use std::time::{SystemTime, UNIX_EPOCH};

/// Telemetry severity levels understood by the agent.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// Protocol version of the agent ABI.
pub fn abi_version() -> u32 {
    3
}

/// Milliseconds since the epoch, as the agent timestamps events.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Encode an event the way the agent's line protocol expects.
pub fn encode_event(name: &str, severity: Severity, value: f64) -> String {
    format!("{},sev={} value={} {}", name.replace(' ', "_"), severity as u32, value, now_ms())
}
