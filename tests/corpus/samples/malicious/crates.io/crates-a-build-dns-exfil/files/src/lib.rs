//! Internal telemetry client (placeholder).

pub const SERVICE: &str = "acme-internal-telemetry";

pub fn service_name() -> &'static str {
    SERVICE
}
