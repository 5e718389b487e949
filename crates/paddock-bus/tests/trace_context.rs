//! Trace context published with a message is the parent of the consumer's
//! handler span. This file holds one test: it installs a global subscriber.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bus, quick_config, release, wait_until};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use paddock_bus::{Bus, CancellationToken, Delivery};
use paddock_proto::v1::{Ecosystem, Release};
use paddock_testkit::{unique_prefix, TestNats};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn the_publishers_trace_is_the_parent_of_the_handler_span() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let nats = TestNats::start().await;
    let bus = bus(nats.url(), &quick_config(&unique_prefix())).await;
    let subject = bus.names().release(Ecosystem::Npm);
    bus.publish(&subject, "traced", &release("traced", "1"))
        .instrument(tracing::info_span!("feed.poll"))
        .await
        .unwrap();

    let done = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, done, shutdown) = (bus.clone(), done.clone(), shutdown.clone());
        tokio::spawn(async move {
            let spec = bus.names().static_consumer();
            bus.consume(
                &spec,
                move |_d: Delivery<Release>| {
                    let done = done.clone();
                    async move {
                        tracing::info_span!("static.analyse").in_scope(|| {});
                        done.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                },
                shutdown,
            )
            .await
        })
    };
    wait_until(Duration::from_secs(10), "the handler", || {
        done.load(Ordering::SeqCst) == 1
    })
    .await;
    shutdown.cancel();
    task.await.unwrap().unwrap();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let find = |name: &str| {
        spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
            panic!(
                "no span {name} among {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
    };
    let poll = find("feed.poll");
    let publish = find("bus.publish");
    let handle = find("bus.handle");
    let inner = find("static.analyse");

    assert_eq!(publish.parent_span_id, poll.span_context.span_id());
    assert_eq!(
        handle.span_context.trace_id(),
        poll.span_context.trace_id(),
        "one trace end to end"
    );
    assert_eq!(
        handle.parent_span_id,
        publish.span_context.span_id(),
        "the publish span is the handler's parent"
    );
    assert!(handle.parent_span_is_remote);
    assert_eq!(inner.parent_span_id, handle.span_context.span_id());
}
