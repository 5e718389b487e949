//! The consume discipline for handlers that take deliveries in batches
//! (the sinks, which store many messages in one write).
//!
//! The loop pulls only while the batch has room, and a pull never outlives
//! the batch's deadline, so no delivered message waits unseen with its ack
//! timer running. A batch is handed over when it holds `max_messages`
//! messages or `max_bytes` bytes, or when its oldest message has waited
//! `max_age`. While it waits and while the handler runs, every message in
//! it reports progress. The handler answers one [`Disposition`] per
//! delivery, and each is settled as [`crate::consume`] settles a single
//! delivery: the same dead-letter headers, backoff, metrics and panic
//! handling. A redelivery of a message already in the batch (the server
//! gave up waiting for it) is settled together with it, never handed over
//! twice.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime};

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::BatchConfig;
use crate::consume::{self, Discipline, Inbound, Settle};
use crate::jetstream::JsInbound;
use crate::metrics::ConsumerLabels;
use crate::names::headers;
use crate::{BoxError, BusError, ConsumerSpec, JetStreamBus};

/// Settles run this many at a time (each waits for the server's answer).
const SETTLE_CONCURRENCY: usize = 64;

/// One undecoded delivery in a batch: a batch handler routes on the
/// message-type header itself (one stream carries several types).
#[derive(Debug, Clone)]
pub struct BatchDelivery {
    pub subject: String,
    pub headers: Option<HeaderMap>,
    pub payload: Bytes,
    /// The publisher's deduplication id, if it set one.
    pub msg_id: Option<String>,
    /// 1 for the first delivery, 2 for the first redelivery, and so on.
    pub attempt: u64,
    pub stream_sequence: u64,
    /// When the stream stored the message.
    pub published: SystemTime,
}

/// What becomes of one delivery of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done: acknowledge it.
    Ack,
    /// Failed, may succeed later: redeliver after the consumer's backoff;
    /// on its last allowed delivery it is dead-lettered with this reason.
    Retry(String),
    /// Not ready yet: redeliver after this delay (still counts as a
    /// delivery).
    Later(Duration),
    /// Can never succeed: copy it to the dead-letter stream with this
    /// reason, then terminate it.
    DeadLetter(String),
}

/// What a batch handler may ask of its consumer.
#[derive(Debug, Clone)]
pub struct BatchContext {
    consumer: PullConsumer,
}

impl BatchContext {
    /// The consumer's acknowledgement floor: every stream sequence at or
    /// below it was acknowledged.
    pub async fn ack_floor(&self) -> Result<u64, BoxError> {
        let mut consumer = self.consumer.clone();
        Ok(consumer.info().await?.ack_floor.stream_sequence)
    }
}

/// Handles batches of one consumer. Called from one task: a handler keeps
/// its own state without locking. Must be idempotent per delivery, like
/// [`crate::Handler`].
pub trait BatchHandler: Send + 'static {
    /// One disposition per delivery, in order. A missing one is treated as
    /// [`Disposition::Retry`].
    fn handle(
        &mut self,
        batch: &[BatchDelivery],
        context: &BatchContext,
    ) -> impl std::future::Future<Output = Vec<Disposition>> + Send;
}

/// A delivery held for the next batch, with any redeliveries of it that
/// arrived meanwhile.
struct Held {
    inbound: JsInbound,
    again: Vec<JsInbound>,
    delivery: BatchDelivery,
}

impl Held {
    fn all(&self) -> impl Iterator<Item = &JsInbound> {
        std::iter::once(&self.inbound).chain(&self.again)
    }
}

impl JetStreamBus {
    /// Consumes `spec` in batches until `shutdown`, then hands the batch
    /// being gathered to the handler within the shutdown grace, or back to
    /// the stream.
    pub async fn consume_batches<H: BatchHandler>(
        &self,
        spec: &ConsumerSpec,
        batch: &BatchConfig,
        mut handler: H,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        self.report(spec, Err("starting".into()));
        let opened = async {
            let mut consumer = self.open_consumer(spec).await?;
            let info = consumer
                .info()
                .await
                .map_err(|e| BusError::Consumer {
                    stream: spec.stream_name.clone(),
                    consumer: spec.durable.clone(),
                    source: Box::new(e),
                })?
                .config
                .clone();
            Ok::<_, BusError>((consumer, info))
        }
        .await;
        let (consumer, config) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                self.report(spec, Err(format!("cannot start: {error}")));
                return Err(error);
            }
        };
        let settings = self.consumer_settings().clone();
        let discipline = Discipline::new(
            spec,
            &settings,
            config.ack_wait,
            config.max_deliver,
            self.max_message_bytes(),
            self.metrics().clone(),
        );
        let max_messages = batch
            .max_rows
            .clamp(1, config.max_ack_pending.max(1) as usize);
        let context = BatchContext {
            consumer: consumer.clone(),
        };
        tracing::info!(consumer = %spec.durable, stream = %spec.stream_name, max_messages, "consuming in batches");

        let mut held: Vec<Held> = Vec::new();
        let mut held_bytes = 0usize;
        let mut oldest: Option<Instant> = None;
        let mut progress = tokio::time::interval(discipline.progress_every);
        progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pulls = crate::consume::PullHealth::default();
        // A batch being handled when shutdown comes may run on for the
        // shutdown grace; then it is cut short and returned to the stream.
        let hard_stop = CancellationToken::new();
        let watchdog = {
            let (shutdown, hard_stop, grace) =
                (shutdown.clone(), hard_stop.clone(), settings.shutdown_grace);
            tokio::spawn(async move {
                shutdown.cancelled().await;
                tokio::time::sleep(grace).await;
                hard_stop.cancel();
            })
        };
        'pull: while !shutdown.is_cancelled() {
            let due = oldest.is_some_and(|t| t.elapsed() >= batch.max_age);
            if due || held.len() >= max_messages || held_bytes >= batch.max_bytes {
                let taken = std::mem::take(&mut held);
                self.hand_over(taken, &mut handler, &context, &discipline, &hard_stop)
                    .await;
                held_bytes = 0;
                oldest = None;
                continue;
            }
            let expires = match oldest {
                Some(t) => (t + batch.max_age)
                    .saturating_duration_since(Instant::now())
                    .clamp(
                        Duration::from_millis(100),
                        settings.pull_expires.max(Duration::from_millis(100)),
                    ),
                None => settings.pull_expires,
            };
            let pulled = consumer
                .batch()
                .max_messages(max_messages - held.len())
                .expires(expires)
                .messages()
                .await;
            let mut pulled = match pulled {
                Ok(pulled) => {
                    pulls.pulled(self, spec);
                    pulled
                }
                Err(error) => {
                    let delay = pulls.failed(self, spec, &settings, &error);
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'pull,
                        _ = tokio::time::sleep(delay) => continue 'pull,
                    }
                }
            };
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => {
                        // Hand back what this pull delivered after the
                        // batch was closed.
                        while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_millis(50), pulled.next()).await {
                            let _ = message.ack_with(AckKind::Nak(None)).await;
                        }
                        break 'pull;
                    }
                    _ = progress.tick() => progress_all(&held).await,
                    next = pulled.next() => match next {
                        None => break,
                        Some(Err(error)) => {
                            tracing::debug!(%error, consumer = %spec.durable, "pull batch ended with an error");
                            break;
                        }
                        Some(Ok(message)) => {
                            if let Some(bytes) = self.take(message, &mut held, &discipline).await {
                                held_bytes += bytes;
                                oldest.get_or_insert_with(Instant::now);
                            }
                        }
                    }
                }
            }
        }

        // Shutdown: the gathered batch is handed over within the grace
        // period; what is left after it is returned to the stream.
        self.report(spec, Err("stopped".into()));
        self.hand_over(held, &mut handler, &context, &discipline, &hard_stop)
            .await;
        watchdog.abort();
        Ok(())
    }

    /// Holds one pulled message for the batch; the bytes it adds, if any.
    async fn take(
        &self,
        message: jetstream::Message,
        held: &mut Vec<Held>,
        discipline: &Discipline,
    ) -> Option<usize> {
        let published = match message.info() {
            Ok(info) => SystemTime::from(info.published),
            Err(error) => {
                tracing::warn!(%error, "a message without JetStream metadata; returning it");
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return None;
            }
        };
        let inbound = JsInbound::new(message, discipline.settings.confirm_acks);
        let sequence = inbound.stream_sequence();
        if let Some(same) = held
            .iter_mut()
            .find(|h| h.inbound.stream_sequence() == sequence)
        {
            same.again.push(inbound);
            return None;
        }
        let bytes = inbound.payload().len();
        if bytes > discipline.max_message_bytes {
            let reason = format!(
                "message of {bytes} bytes exceeds the limit of {} bytes",
                discipline.max_message_bytes
            );
            consume::dead_letter(&inbound, &reason, discipline, self).await;
            return None;
        }
        let delivery = BatchDelivery {
            subject: inbound.subject().to_owned(),
            headers: inbound.headers().cloned(),
            payload: inbound.payload().clone(),
            msg_id: inbound
                .headers()
                .and_then(|h| h.get(headers::MSG_ID))
                .map(|v| v.as_str().to_owned()),
            attempt: inbound.attempt(),
            stream_sequence: sequence,
            published,
        };
        held.push(Held {
            inbound,
            again: Vec::new(),
            delivery,
        });
        Some(bytes)
    }

    /// Runs the handler on `held` (progress reported meanwhile), then
    /// settles each delivery by its disposition. When `hard_stop` fires
    /// first, every delivery goes back to the stream.
    async fn hand_over<H: BatchHandler>(
        &self,
        held: Vec<Held>,
        handler: &mut H,
        context: &BatchContext,
        discipline: &Discipline,
        hard_stop: &CancellationToken,
    ) {
        if held.is_empty() {
            return;
        }
        let span = tracing::info_span!(
            "bus.handle_batch",
            consumer = %discipline.spec.durable,
            messages = held.len(),
        );
        // The batch's span continues the trace of its first message; the
        // others' traces are linked to it.
        crate::trace::set_parent_from(&span, held[0].inbound.headers());
        for other in &held[1..] {
            crate::trace::add_link_from(&span, other.inbound.headers());
        }
        let labels = ConsumerLabels {
            consumer: discipline.spec.durable.clone(),
        };
        let in_flight = discipline.metrics.in_flight.get_or_create(&labels).clone();
        in_flight.inc_by(held.len() as i64);
        let started = Instant::now();

        let deliveries: Vec<BatchDelivery> = held.iter().map(|h| h.delivery.clone()).collect();
        let outcome = {
            let work = AssertUnwindSafe(
                handler
                    .handle(&deliveries, context)
                    .instrument(span.clone()),
            )
            .catch_unwind();
            tokio::pin!(work);
            let mut ticker = tokio::time::interval_at(
                tokio::time::Instant::now() + discipline.progress_every,
                discipline.progress_every,
            );
            loop {
                tokio::select! {
                    result = &mut work => break Some(result),
                    _ = ticker.tick() => progress_all(&held).await,
                    _ = hard_stop.cancelled() => break None,
                }
            }
        };
        in_flight.dec_by(held.len() as i64);
        discipline
            .metrics
            .handler_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());

        let dispositions: Vec<Option<Disposition>> = match outcome {
            None => {
                tracing::info!(parent: &span, "shutdown grace expired; returning the batch to the stream");
                vec![None; held.len()]
            }
            Some(Ok(mut dispositions)) => {
                if dispositions.len() != held.len() {
                    tracing::error!(parent: &span, expected = held.len(), got = dispositions.len(), "the batch handler answered the wrong number of dispositions; retrying the rest");
                }
                dispositions.resize(
                    held.len(),
                    Disposition::Retry("the handler gave no disposition".into()),
                );
                dispositions.into_iter().map(Some).collect()
            }
            Some(Err(panic)) => {
                let reason = format!("handler panicked: {}", consume::panic_message(&panic));
                tracing::error!(parent: &span, %reason, "batch handler panicked");
                vec![Some(Disposition::Retry(reason)); held.len()]
            }
        };
        futures::stream::iter(held.iter().zip(dispositions))
            .for_each_concurrent(SETTLE_CONCURRENCY, |(held, disposition)| {
                self.settle(held, disposition, discipline)
            })
            .instrument(span)
            .await;
    }

    /// Settles one held delivery and its redeliveries.
    async fn settle(&self, held: &Held, disposition: Option<Disposition>, discipline: &Discipline) {
        let Some(disposition) = disposition else {
            for inbound in held.all() {
                consume::settle_or_warn(inbound, Settle::Nak(Duration::ZERO)).await;
            }
            discipline.count("interrupted");
            return;
        };
        let the_rest = match disposition {
            Disposition::Ack => {
                consume::ack(&held.inbound, discipline).await;
                Settle::Ack
            }
            Disposition::Later(delay) => {
                consume::settle_or_warn(&held.inbound, Settle::Nak(delay)).await;
                discipline.count("later");
                Settle::Nak(delay)
            }
            Disposition::Retry(reason) => {
                consume::retry_or_give_up(&held.inbound, &reason, discipline, self).await;
                Settle::Nak(discipline.settings.backoff(held.inbound.attempt()))
            }
            Disposition::DeadLetter(reason) => {
                tracing::warn!(sequence = held.inbound.stream_sequence(), %reason, "dead-lettering a message that can never be handled");
                consume::dead_letter(&held.inbound, &reason, discipline, self).await;
                Settle::Term
            }
        };
        // A redelivery of the same message (same stream sequence): the
        // first delivery speaks for it, so this one follows it without
        // being counted. A retried message's copies are only nak'ed, since
        // terminating a copy would terminate the message.
        for again in &held.again {
            consume::settle_or_warn(again, the_rest).await;
        }
    }
}

/// Reports progress on every held delivery.
async fn progress_all(held: &[Held]) {
    futures::stream::iter(held.iter().flat_map(Held::all))
        .for_each_concurrent(SETTLE_CONCURRENCY, |inbound| async move {
            if let Err(error) = inbound.settle(Settle::Progress).await {
                tracing::debug!(%error, "progress report failed");
            }
        })
        .await;
}
