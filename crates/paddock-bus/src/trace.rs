//! W3C trace context in message headers, through OpenTelemetry's own
//! `traceparent` propagator.
//!
//! The publisher writes the current span's context; the consumer makes it
//! the parent of the handler's span (or, for a batch, a link).

use async_nats::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::names::headers::TRACEPARENT;

struct Writer<'a>(&'a mut HeaderMap);

impl Injector for Writer<'_> {
    fn set(&mut self, key: &str, value: String) {
        // Only `traceparent` is carried: `tracestate` is vendor data the
        // consumers never read.
        if key == TRACEPARENT {
            self.0.insert(TRACEPARENT, value.as_str());
        }
    }
}

struct Reader<'a>(&'a HeaderMap);

impl Extractor for Reader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT)
            .then(|| self.0.get(TRACEPARENT))
            .flatten()
            .map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// Writes the current span's trace context into `headers`, if it has one.
pub(crate) fn inject_current(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut Writer(headers));
    }
}

/// The remote span context in `headers`; `None` when absent or malformed
/// (it is attacker-controllable input and is never trusted further).
pub(crate) fn remote_context(headers: Option<&HeaderMap>) -> Option<SpanContext> {
    let cx = TraceContextPropagator::new().extract(&Reader(headers?));
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

/// Makes the trace context in `headers` (if any) the parent of `span`.
pub(crate) fn set_parent_from(span: &tracing::Span, headers: Option<&HeaderMap>) {
    if let Some(sc) = remote_context(headers) {
        // An error only means no OpenTelemetry layer is installed.
        let _ = span.set_parent(Context::new().with_remote_span_context(sc));
    }
}

/// Links the trace in `headers` (if any) to `span`: a batch continues one
/// message's trace and links the others'.
pub(crate) fn add_link_from(span: &tracing::Span, headers: Option<&HeaderMap>) {
    if let Some(sc) = remote_context(headers) {
        span.add_link(sc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, value);
        headers
    }

    #[test]
    fn a_valid_traceparent_is_read_as_remote() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let sc = remote_context(Some(&with(value))).unwrap();
        assert!(sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_sampled());
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for bad in [
            "",
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(remote_context(Some(&with(bad))).is_none(), "{bad}");
        }
        assert!(remote_context(None).is_none());
    }
}
