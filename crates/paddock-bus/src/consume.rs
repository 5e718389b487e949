//! The consume discipline: one delivery at a time to a typed handler.
//!
//! For each delivery: check and decode the body (a rejection dead-letters
//! it), run the handler under its own span, parented to the publisher's
//! trace, report progress while it runs, then settle:
//!
//! | handler outcome | disposition |
//! |---|---|
//! | `Ok(())` | ack (confirmed by the server when `confirm_acks` is set) |
//! | `Retryable`, deliveries left | nak with delay `backoff(attempt)` |
//! | `Retryable`, last delivery | copy to the dead-letter stream, terminate |
//! | `Permanent` or panic-free rejection | copy to the dead-letter stream, terminate |
//! | `Later(delay)` | nak with that delay: not a failure, the handler is waiting for something (the handler must settle for good before the consumer's last delivery) |
//! | panic | nak with delay (treated as retryable) |
//! | shutdown grace expired | nak without delay, so another replica takes it |

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::FutureExt;
use paddock_proto::WireMessage;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::codec;
use crate::config::ConsumerSettings;
use crate::metrics::{BusMetrics, ConsumerLabels, OutcomeLabels};
use crate::names::headers;
use crate::names::ConsumerSpec;
use crate::BoxError;

/// One delivery of a decoded message to a handler.
#[derive(Debug, Clone)]
pub struct Delivery<M> {
    pub message: M,
    pub subject: String,
    /// The publisher's deduplication id, if it set one.
    pub msg_id: Option<String>,
    /// 1 for the first delivery, 2 for the first redelivery, and so on.
    pub attempt: u64,
    pub stream_sequence: u64,
}

/// How a handler failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Might succeed later (a dependency is down, a timeout): redeliver.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Can never succeed (invalid content): dead-letter.
    #[error("permanent: {0}")]
    Permanent(String),
    /// Not ready yet (waiting for another message, a deadline): redeliver
    /// after this delay. Not a failure; it still counts as a delivery.
    #[error("later: in {0:?}")]
    Later(Duration),
}

impl HandlerError {
    pub fn retryable(reason: impl std::fmt::Display) -> Self {
        Self::Retryable(reason.to_string())
    }

    pub fn permanent(reason: impl std::fmt::Display) -> Self {
        Self::Permanent(reason.to_string())
    }
}

/// Handles one message type. Must be idempotent: a message can be delivered
/// more than once (after a crash, or when an ack is lost).
pub trait Handler<M>: Send + Sync + 'static {
    fn handle(
        &self,
        delivery: Delivery<M>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<M, F, Fut> Handler<M> for F
where
    M: Send + 'static,
    F: Fn(Delivery<M>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    fn handle(
        &self,
        delivery: Delivery<M>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self(delivery)
    }
}

/// How a delivery is settled with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    Ack,
    Nak(Duration),
    Progress,
    Term,
}

/// A delivered, not yet settled message.
pub(crate) trait Inbound: Send + Sync + 'static {
    fn subject(&self) -> &str;
    fn headers(&self) -> Option<&HeaderMap>;
    fn payload(&self) -> &Bytes;
    fn attempt(&self) -> u64;
    fn stream_sequence(&self) -> u64;
    fn settle(&self, how: Settle) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// Where dead letters go: the bus's own raw publish.
pub(crate) trait DeadLetterSink: Send + Sync + 'static {
    fn publish_dead_letter(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// The settings one consume loop applies to every delivery.
#[derive(Debug, Clone)]
pub(crate) struct Discipline {
    pub spec: ConsumerSpec,
    pub settings: ConsumerSettings,
    pub max_deliver: i64,
    pub progress_every: Duration,
    pub max_message_bytes: usize,
    pub metrics: Arc<BusMetrics>,
}

impl Discipline {
    pub fn new(
        spec: &ConsumerSpec,
        settings: &ConsumerSettings,
        ack_wait: Duration,
        max_deliver: i64,
        max_message_bytes: usize,
        metrics: Arc<BusMetrics>,
    ) -> Self {
        let progress_every = settings
            .progress_interval
            .unwrap_or(ack_wait / 3)
            .max(Duration::from_millis(50));
        Self {
            spec: spec.clone(),
            settings: settings.clone(),
            max_deliver,
            progress_every,
            max_message_bytes,
            metrics,
        }
    }

    pub(crate) fn count(&self, outcome: &'static str) {
        self.metrics
            .settled
            .get_or_create(&OutcomeLabels {
                consumer: self.spec.durable.clone(),
                outcome,
            })
            .inc();
    }
}

/// The handlers of one consume loop: at most `concurrency` at once, each
/// holding a slot until its message is settled.
pub(crate) struct Workers<M, H, D> {
    handler: Arc<H>,
    discipline: Arc<Discipline>,
    dead_letters: D,
    slots: Arc<tokio::sync::Semaphore>,
    hard_stop: CancellationToken,
    tasks: tokio::task::JoinSet<()>,
    _message: std::marker::PhantomData<fn() -> M>,
}

impl<M, H, D> Workers<M, H, D>
where
    M: WireMessage,
    H: Handler<M>,
    D: DeadLetterSink + Clone,
{
    pub fn new(handler: H, discipline: Discipline, dead_letters: D) -> Self {
        let concurrency = discipline.settings.concurrency.max(1);
        Self {
            handler: Arc::new(handler),
            discipline: Arc::new(discipline),
            dead_letters,
            slots: Arc::new(tokio::sync::Semaphore::new(concurrency)),
            hard_stop: CancellationToken::new(),
            tasks: tokio::task::JoinSet::new(),
            _message: std::marker::PhantomData,
        }
    }

    /// Waits for a free slot.
    pub async fn slot(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// A free slot, if there is one now.
    pub fn try_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Handles `inbound` in the background; `slot` is freed once it is settled.
    pub fn spawn<I: Inbound>(&mut self, inbound: I, slot: tokio::sync::OwnedSemaphorePermit) {
        let (handler, discipline, dead_letters, hard_stop) = (
            self.handler.clone(),
            self.discipline.clone(),
            self.dead_letters.clone(),
            self.hard_stop.clone(),
        );
        self.tasks.spawn(async move {
            process::<M, H, _, _>(inbound, &*handler, &discipline, &dead_letters, &hard_stop).await;
            drop(slot);
        });
        while self.tasks.try_join_next().is_some() {}
    }

    /// Lets in-flight handlers finish within the shutdown grace period, then
    /// cancels the rest, which return their messages to the stream.
    pub async fn shut_down(mut self) {
        tracing::info!(in_flight = self.tasks.len(), "stopping consumer");
        let grace = self.discipline.settings.shutdown_grace;
        let tasks = &mut self.tasks;
        let drained =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            self.hard_stop.cancel();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

/// Decodes, handles and settles one delivery.
pub(crate) async fn process<M, H, I, D>(
    inbound: I,
    handler: &H,
    discipline: &Discipline,
    dead_letters: &D,
    hard_stop: &CancellationToken,
) where
    M: WireMessage,
    H: Handler<M>,
    I: Inbound,
    D: DeadLetterSink,
{
    let attempt = inbound.attempt();
    let span = tracing::info_span!(
        "bus.handle",
        consumer = %discipline.spec.durable,
        subject = %inbound.subject(),
        attempt,
        stream_sequence = inbound.stream_sequence(),
    );
    crate::trace::set_parent_from(&span, inbound.headers());

    let message = match codec::decode::<M>(
        inbound.headers(),
        inbound.payload(),
        discipline.max_message_bytes,
    ) {
        Ok(message) => message,
        Err(rejection) => {
            async {
                tracing::warn!(reason = %rejection, "rejecting message that can never be processed");
                dead_letter(&inbound, &rejection.to_string(), discipline, dead_letters).await;
            }
            .instrument(span)
            .await;
            return;
        }
    };

    let delivery = Delivery {
        message,
        subject: inbound.subject().to_owned(),
        msg_id: inbound
            .headers()
            .and_then(|h| h.get(headers::MSG_ID))
            .map(|v| v.as_str().to_owned()),
        attempt,
        stream_sequence: inbound.stream_sequence(),
    };

    let labels = ConsumerLabels {
        consumer: discipline.spec.durable.clone(),
    };
    let in_flight = discipline.metrics.in_flight.get_or_create(&labels).clone();
    in_flight.inc();
    let started = Instant::now();

    let work = AssertUnwindSafe(handler.handle(delivery).instrument(span.clone())).catch_unwind();
    tokio::pin!(work);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + discipline.progress_every,
        discipline.progress_every,
    );
    let outcome = loop {
        tokio::select! {
            result = &mut work => break Some(result),
            _ = ticker.tick() => {
                if let Err(error) = inbound.settle(Settle::Progress).await {
                    tracing::warn!(parent: &span, %error, "progress report failed; the message may be redelivered");
                }
            }
            _ = hard_stop.cancelled() => break None,
        }
    };
    in_flight.dec();
    discipline
        .metrics
        .handler_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());

    async {
        match outcome {
            None => {
                tracing::info!("shutdown grace expired; returning message to the stream");
                settle_or_warn(&inbound, Settle::Nak(Duration::ZERO)).await;
                discipline.count("interrupted");
            }
            Some(Ok(Ok(()))) => ack(&inbound, discipline).await,
            Some(Ok(Err(HandlerError::Permanent(reason)))) => {
                tracing::warn!(%reason, "handler failed permanently");
                dead_letter(&inbound, &reason, discipline, dead_letters).await;
            }
            Some(Ok(Err(HandlerError::Later(delay)))) => {
                tracing::debug!(
                    delay_ms = delay.as_millis() as u64,
                    "not ready; redelivering later"
                );
                settle_or_warn(&inbound, Settle::Nak(delay)).await;
                discipline.count("later");
            }
            Some(Ok(Err(HandlerError::Retryable(reason)))) => {
                retry_or_give_up(&inbound, &reason, discipline, dead_letters).await;
            }
            Some(Err(panic)) => {
                let reason = panic_message(&panic);
                tracing::error!(%reason, "handler panicked");
                retry_or_give_up(
                    &inbound,
                    &format!("handler panicked: {reason}"),
                    discipline,
                    dead_letters,
                )
                .await;
            }
        }
    }
    .instrument(span)
    .await;
}

/// Acknowledges a handled delivery (confirmed by the server when
/// `confirm_acks` is set).
pub(crate) async fn ack<I: Inbound>(inbound: &I, discipline: &Discipline) {
    if let Err(error) = inbound.settle(Settle::Ack).await {
        tracing::warn!(%error, "ack failed; the message will be redelivered and handled again");
    }
    discipline.count("ack");
}

pub(crate) async fn retry_or_give_up<I: Inbound, D: DeadLetterSink>(
    inbound: &I,
    reason: &str,
    discipline: &Discipline,
    dead_letters: &D,
) {
    let attempt = inbound.attempt();
    if discipline.max_deliver > 0 && attempt >= discipline.max_deliver as u64 {
        let reason = format!("gave up after {attempt} deliveries: {reason}");
        tracing::warn!(%reason, "retries exhausted");
        dead_letter(inbound, &reason, discipline, dead_letters).await;
    } else {
        let delay = discipline.settings.backoff(attempt);
        tracing::info!(%reason, delay_ms = delay.as_millis() as u64, "retryable failure; redelivering later");
        settle_or_warn(inbound, Settle::Nak(delay)).await;
        discipline.count("retry");
    }
}

/// Copies the message to the dead-letter subject with the reason, then
/// terminates it. If the copy fails the message is nak'ed instead: it is
/// never dropped.
pub(crate) async fn dead_letter<I: Inbound, D: DeadLetterSink>(
    inbound: &I,
    reason: &str,
    discipline: &Discipline,
    dead_letters: &D,
) {
    let spec = &discipline.spec;
    let dlq_headers = dead_letter_headers(
        inbound.headers(),
        reason,
        inbound.subject(),
        spec,
        inbound.stream_sequence(),
        inbound.attempt(),
    );

    match dead_letters
        .publish_dead_letter(
            &spec.dead_letter_subject,
            dlq_headers,
            inbound.payload().clone(),
        )
        .await
    {
        Ok(()) => {
            settle_or_warn(inbound, Settle::Term).await;
            discipline.count("dead_letter");
        }
        Err(error) => {
            tracing::error!(%error, "dead-letter publish failed; keeping the message for redelivery");
            settle_or_warn(
                inbound,
                Settle::Nak(discipline.settings.backoff(inbound.attempt())),
            )
            .await;
            discipline.count("retry");
        }
    }
}

pub(crate) async fn settle_or_warn<I: Inbound>(inbound: &I, how: Settle) {
    if let Err(error) = inbound.settle(how).await {
        tracing::warn!(%error, ?how, "settling the message failed; the server will redeliver it after the ack wait");
    }
}

/// Header values may not contain control characters; reasons are bounded.
/// The headers of a dead letter: the original message's, plus why it was
/// dead-lettered, where it came from and how often it was delivered, and a
/// message id that makes the copy unique per (stream message, consumer),
/// even if terminating fails and the message comes back.
pub fn dead_letter_headers(
    original: Option<&HeaderMap>,
    reason: &str,
    subject: &str,
    spec: &ConsumerSpec,
    stream_sequence: u64,
    attempt: u64,
) -> HeaderMap {
    let mut dlq_headers = original.cloned().unwrap_or_default();
    dlq_headers.insert(headers::DLQ_REASON, header_safe(reason).as_str());
    dlq_headers.insert(headers::DLQ_SUBJECT, header_safe(subject).as_str());
    dlq_headers.insert(headers::DLQ_STREAM, spec.stream_name.as_str());
    dlq_headers.insert(headers::DLQ_SEQUENCE, stream_sequence.to_string().as_str());
    dlq_headers.insert(headers::DLQ_CONSUMER, spec.durable.as_str());
    dlq_headers.insert(headers::DLQ_DELIVERIES, attempt.to_string().as_str());
    let id = format!(
        "dlq:{}:{}:{}",
        spec.stream_name, stream_sequence, spec.durable
    );
    dlq_headers.insert(headers::MSG_ID, id.as_str());
    dlq_headers
}

/// A consume loop's pull requests as readiness sees them: ready after the
/// first pull that works, not ready (and backing off) while they fail.
/// Shared by [`crate::JetStreamBus::consume`] and `consume_batches`.
#[derive(Debug, Default)]
pub(crate) struct PullHealth {
    failures: u64,
    ready: bool,
}

impl PullHealth {
    /// A pull request worked.
    pub(crate) fn pulled(&mut self, bus: &crate::JetStreamBus, spec: &ConsumerSpec) {
        if self.failures > 0 || !self.ready {
            bus.report(spec, Ok(()));
            self.ready = true;
        }
        self.failures = 0;
    }

    /// A pull request failed: reports it and returns how long to wait
    /// before the next.
    pub(crate) fn failed(
        &mut self,
        bus: &crate::JetStreamBus,
        spec: &ConsumerSpec,
        settings: &ConsumerSettings,
        error: &dyn std::fmt::Display,
    ) -> Duration {
        self.failures += 1;
        self.ready = false;
        let delay = settings.backoff(self.failures);
        bus.report(spec, Err(format!("pull requests failing: {error}")));
        tracing::warn!(%error, consumer = %spec.durable, delay_ms = delay.as_millis() as u64, "pull request failed; retrying");
        delay
    }
}

pub(crate) fn header_safe(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(1024)
        .collect();
    if out.is_empty() {
        out.push('-');
    }
    out
}

pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_lose_control_characters_and_are_bounded() {
        assert_eq!(header_safe("a\r\nb"), "a  b");
        assert_eq!(header_safe(&"x".repeat(5000)).len(), 1024);
        assert_eq!(header_safe(""), "-");
    }
}
