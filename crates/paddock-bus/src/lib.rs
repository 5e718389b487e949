//! Paddock's message bus: NATS JetStream with an explicit disposition for
//! every message.
//!
//! # Layout
//!
//! - [`names`]: every wire name (streams, subjects, consumers, KV buckets,
//!   object store, message ids, KV keys), built from one prefix. No other
//!   module, and no service, formats a subject by hand.
//! - [`config`]: the typed settings of the bus, the topology and consumers.
//! - [`topology`]: the plan of streams, consumers and buckets, and its
//!   idempotent creation on a server.
//! - [`codec`]: protobuf bodies and the headers that describe them
//!   (message type, schema version, W3C `traceparent`).
//! - [`Bus`]: the publish/consume contract, implemented by [`JetStreamBus`].
//! - [`consume`]: the consume discipline: one delivery at a time to a typed
//!   handler.
//! - [`batch`]: the same discipline for consumers that take deliveries as a
//!   batch (the sinks).
//! - [`metrics`]: the bus's Prometheus metrics, declared once.
//!
//! # Invariants
//!
//! - A message is acknowledged only after its handler returned `Ok`, that is,
//!   after the handler's effect is durable.
//! - A retryable failure is negatively acknowledged with an exponentially
//!   growing delay; on the consumer's last allowed delivery it is dead-lettered
//!   instead of being silently dropped.
//! - A message that can never succeed (wrong type header, unknown schema,
//!   oversized or undecodable body, or a permanent handler error) is copied to
//!   the dead-letter stream with the reason, and only then terminated.
//! - While a handler runs, progress is reported at a third of the ack wait,
//!   so a healthy long-running handler is never redelivered.

pub mod artifact;
pub mod batch;
pub mod codec;
pub mod config;
pub mod consume;
mod error;
mod jetstream;
pub mod metrics;
pub mod names;
pub mod topology;
mod trace;

use std::future::Future;

pub use async_nats::HeaderMap;
pub use batch::{BatchContext, BatchDelivery, BatchHandler, Disposition};
pub use config::{BatchConfig, BusConfig, ConsumerSettings, StreamSettings, TopologyConfig};
pub use consume::{Delivery, Handler, HandlerError};
pub use error::{BoxError, BusError};
pub use jetstream::{JetStreamBus, Readiness};
pub use names::{ConsumerSpec, Names, StreamKind};
use paddock_proto::WireMessage;
pub use tokio_util::sync::CancellationToken;

/// The outcome of a publish that the bus accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The stream that stored the message.
    pub stream: String,
    /// Its sequence number in that stream.
    pub sequence: u64,
    /// True when a message with the same id was already stored inside the
    /// stream's duplicate window, so this one was absorbed.
    pub duplicate: bool,
}

/// Publish and consume typed messages.
///
/// Contract:
/// - [`Bus::publish`] returns only once the message is durably stored (the
///   stream's publish acknowledgement). The message id deduplicates within the
///   stream's duplicate window.
/// - [`Bus::consume`] runs until `shutdown` is cancelled, handing each
///   message to `handler` under the consumer's discipline (see the crate
///   docs), and returns after in-flight work is finished or negatively
///   acknowledged.
pub trait Bus: Clone + Send + Sync + 'static {
    /// The wire names this bus uses.
    fn names(&self) -> &Names;

    /// Publishes `message` on `subject` with the deduplication id `msg_id`.
    fn publish<M: WireMessage>(
        &self,
        subject: &str,
        msg_id: &str,
        message: &M,
    ) -> impl Future<Output = Result<Published, BusError>> + Send;

    /// Consumes from the durable consumer `consumer` until `shutdown`.
    fn consume<M: WireMessage, H: Handler<M>>(
        &self,
        consumer: &ConsumerSpec,
        handler: H,
        shutdown: CancellationToken,
    ) -> impl Future<Output = Result<(), BusError>> + Send;
}
