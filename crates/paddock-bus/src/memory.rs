//! The bus in one process, for `paddock analyze` and unit tests.
//!
//! It implements the same [`Bus`] contract with the same consume discipline
//! (decode checks, backoff, dead letters) as [`crate::JetStreamBus`], with
//! streams bound to the same subjects. Messages live in memory for the life
//! of the process; deduplication by message id is permanent rather than
//! windowed. Every consumer starts at the first message, like a new durable
//! consumer with deliver-all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use paddock_proto::WireMessage;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::consume::{DeadLetterSink, Discipline, Inbound, Settle, Workers};
use crate::metrics::BusMetrics;
use crate::names::{headers, subject_matches, StreamKind};
use crate::{codec, BoxError, Bus, BusConfig, BusError, ConsumerSpec, Handler, Names, Published};

/// A [`Bus`] that lives in this process.
#[derive(Debug, Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    names: Names,
    config: BusConfig,
    state: Mutex<State>,
    wake: Notify,
    metrics: Arc<BusMetrics>,
}

#[derive(Debug, Default)]
struct State {
    streams: Vec<MemStream>,
}

#[derive(Debug)]
struct MemStream {
    name: String,
    subjects: String,
    messages: Vec<Stored>,
    ids: HashSet<String>,
    consumers: HashMap<String, MemConsumer>,
}

#[derive(Debug, Clone)]
struct Stored {
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
}

#[derive(Debug, Default)]
struct MemConsumer {
    /// Next never-delivered message.
    cursor: usize,
    /// Messages to deliver again, by due time.
    redeliver: BTreeMap<(Instant, usize), ()>,
    /// Deliveries so far, per message index.
    attempts: HashMap<usize, u64>,
}

/// A message a consumer gave up on, as stored on the dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub subject: String,
    pub original_subject: String,
    pub reason: String,
    pub payload: Bytes,
}

impl MemoryBus {
    pub fn new(config: &BusConfig) -> Result<Self, BusError> {
        let names = Names::new(&config.prefix)?;
        let streams = StreamKind::ALL
            .into_iter()
            .map(|kind| MemStream {
                name: names.stream(kind),
                subjects: names.stream_subjects(kind),
                messages: Vec::new(),
                ids: HashSet::new(),
                consumers: HashMap::new(),
            })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                names,
                config: config.clone(),
                state: Mutex::new(State { streams }),
                wake: Notify::new(),
                metrics: Arc::new(BusMetrics::default()),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written
        // (every critical section is a few plain assignments).
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn store(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<Published, BusError> {
        let mut state = self.state();
        let stream = state
            .streams
            .iter_mut()
            .find(|s| subject_matches(&s.subjects, subject))
            .ok_or_else(|| BusError::NoStream(subject.to_owned()))?;
        let id = headers.get(headers::MSG_ID).map(|v| v.as_str().to_owned());
        if let Some(id) = &id {
            if !stream.ids.insert(id.clone()) {
                let sequence = stream.messages.len() as u64;
                return Ok(Published {
                    stream: stream.name.clone(),
                    sequence,
                    duplicate: true,
                });
            }
        }
        stream.messages.push(Stored {
            subject: subject.to_owned(),
            headers,
            payload,
        });
        let sequence = stream.messages.len() as u64;
        let name = stream.name.clone();
        drop(state);
        self.inner.wake.notify_waiters();
        Ok(Published {
            stream: name,
            sequence,
            duplicate: false,
        })
    }

    /// Every message stored on the dead-letter stream so far.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        let dlq = self.inner.names.stream(StreamKind::DeadLetters);
        let state = self.state();
        let Some(stream) = state.streams.iter().find(|s| s.name == dlq) else {
            return Vec::new();
        };
        stream
            .messages
            .iter()
            .map(|m| {
                let header = |name| {
                    m.headers
                        .get(name)
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default()
                };
                DeadLetter {
                    subject: m.subject.clone(),
                    original_subject: header(headers::DLQ_SUBJECT),
                    reason: header(headers::DLQ_REASON),
                    payload: m.payload.clone(),
                }
            })
            .collect()
    }

    /// Messages stored on subjects matching `filter`, decoded as `M`.
    pub fn messages<M: WireMessage>(&self, filter: &str) -> Vec<M> {
        let state = self.state();
        state
            .streams
            .iter()
            .flat_map(|s| s.messages.iter())
            .filter(|m| subject_matches(filter, &m.subject))
            .filter_map(|m| codec::decode::<M>(Some(&m.headers), &m.payload, usize::MAX).ok())
            .collect()
    }

    /// The next message due for `spec`, marking its delivery.
    fn next_for(&self, spec: &ConsumerSpec) -> Next {
        let mut state = self.state();
        let Some(stream) = state
            .streams
            .iter_mut()
            .find(|s| s.name == spec.stream_name)
        else {
            return Next::NoStream;
        };
        let consumer = stream.consumers.entry(spec.durable.clone()).or_default();
        let now = Instant::now();
        let due = consumer.redeliver.keys().next().copied();
        let index = match due {
            Some((at, index)) if at <= now => {
                consumer.redeliver.remove(&(at, index));
                Some(index)
            }
            _ => {
                let found = stream.messages[consumer.cursor..]
                    .iter()
                    .position(|m| subject_matches(&spec.filter_subject, &m.subject))
                    .map(|offset| consumer.cursor + offset);
                consumer.cursor = found.map_or(stream.messages.len(), |i| i + 1);
                found
            }
        };
        match index {
            Some(index) => {
                let attempt = consumer.attempts.entry(index).or_insert(0);
                *attempt += 1;
                let stored = stream.messages[index].clone();
                Next::Message {
                    index,
                    attempt: *attempt,
                    stored,
                }
            }
            None => Next::Wait(due.map(|(at, _)| at)),
        }
    }

    fn schedule_redelivery(&self, spec: &ConsumerSpec, index: usize, delay: Duration) {
        let mut state = self.state();
        if let Some(stream) = state
            .streams
            .iter_mut()
            .find(|s| s.name == spec.stream_name)
        {
            let consumer = stream.consumers.entry(spec.durable.clone()).or_default();
            consumer
                .redeliver
                .insert((Instant::now() + delay, index), ());
        }
        drop(state);
        self.inner.wake.notify_waiters();
    }
}

enum Next {
    Message {
        index: usize,
        attempt: u64,
        stored: Stored,
    },
    Wait(Option<Instant>),
    NoStream,
}

impl Bus for MemoryBus {
    fn names(&self) -> &Names {
        &self.inner.names
    }

    async fn publish<M: WireMessage>(
        &self,
        subject: &str,
        msg_id: &str,
        message: &M,
    ) -> Result<Published, BusError> {
        let (headers, body) = codec::encode(message, msg_id);
        self.store(subject, headers, body)
    }

    async fn consume<M: WireMessage, H: Handler<M>>(
        &self,
        spec: &ConsumerSpec,
        handler: H,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        let config = &self.inner.config;
        let discipline = Discipline::new(
            spec,
            &config.consumer,
            config.topology.ack_wait,
            config.topology.max_deliver,
            config.max_message_bytes,
            self.inner.metrics.clone(),
        );
        let mut workers = Workers::new(handler, discipline, self.clone());

        'outer: loop {
            let slot = tokio::select! {
                _ = shutdown.cancelled() => break 'outer,
                slot = workers.slot() => slot,
            };
            loop {
                let woken = self.inner.wake.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                match self.next_for(spec) {
                    Next::NoStream => return Err(BusError::NoStream(spec.stream_name.clone())),
                    Next::Message {
                        index,
                        attempt,
                        stored,
                    } => {
                        let inbound = MemInbound {
                            bus: self.clone(),
                            spec: spec.clone(),
                            index,
                            attempt,
                            stored,
                        };
                        workers.spawn(inbound, slot);
                        continue 'outer;
                    }
                    Next::Wait(due) => {
                        let sleep = async {
                            match due {
                                Some(at) => tokio::time::sleep_until(at).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            _ = shutdown.cancelled() => break 'outer,
                            _ = woken => {}
                            _ = sleep => {}
                        }
                    }
                }
            }
        }

        workers.shut_down().await;
        Ok(())
    }
}

impl DeadLetterSink for MemoryBus {
    async fn publish_dead_letter(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<(), BoxError> {
        self.store(subject, headers, payload)?;
        Ok(())
    }
}

struct MemInbound {
    bus: MemoryBus,
    spec: ConsumerSpec,
    index: usize,
    attempt: u64,
    stored: Stored,
}

impl Inbound for MemInbound {
    fn subject(&self) -> &str {
        &self.stored.subject
    }

    fn headers(&self) -> Option<&HeaderMap> {
        Some(&self.stored.headers)
    }

    fn payload(&self) -> &Bytes {
        &self.stored.payload
    }

    fn attempt(&self) -> u64 {
        self.attempt
    }

    fn stream_sequence(&self) -> u64 {
        self.index as u64 + 1
    }

    async fn settle(&self, how: Settle) -> Result<(), BoxError> {
        if let Settle::Nak(delay) = how {
            self.bus.schedule_redelivery(&self.spec, self.index, delay);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use paddock_proto::v1::{Ecosystem, PackageRef, Release};

    use super::*;
    use crate::{Delivery, HandlerError};

    fn release(name: &str) -> Release {
        Release {
            package: Some(PackageRef {
                ecosystem: Ecosystem::Npm as i32,
                name: name.into(),
                version: "1.0.0".into(),
            }),
            ..Default::default()
        }
    }

    fn quick_config() -> BusConfig {
        let mut config = BusConfig::default();
        config.consumer.backoff_initial = Duration::from_millis(10);
        config.topology.max_deliver = 3;
        config
    }

    #[tokio::test]
    async fn duplicates_are_absorbed_and_consumers_see_each_message_once() {
        let bus = MemoryBus::new(&quick_config()).unwrap();
        let subject = bus.names().release(Ecosystem::Npm);
        assert!(
            !bus.publish(&subject, "a", &release("a"))
                .await
                .unwrap()
                .duplicate
        );
        assert!(
            bus.publish(&subject, "a", &release("a"))
                .await
                .unwrap()
                .duplicate
        );
        bus.publish(&subject, "b", &release("b")).await.unwrap();

        let seen = Arc::new(Mutex::new(Vec::new()));
        let shutdown = CancellationToken::new();
        let task = {
            let (bus, seen, shutdown) = (bus.clone(), seen.clone(), shutdown.clone());
            tokio::spawn(async move {
                let spec = bus.names().static_consumer();
                bus.consume(
                    &spec,
                    move |d: Delivery<Release>| {
                        let seen = seen.clone();
                        async move {
                            seen.lock().unwrap().push(d.message.package.unwrap().name);
                            Ok(())
                        }
                    },
                    shutdown,
                )
                .await
            })
        };
        tokio::time::timeout(Duration::from_secs(5), async {
            while seen.lock().unwrap().len() < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert_eq!(*seen.lock().unwrap(), ["a", "b"]);
    }

    #[tokio::test]
    async fn retryable_failures_are_redelivered_then_dead_lettered() {
        let bus = MemoryBus::new(&quick_config()).unwrap();
        let subject = bus.names().release(Ecosystem::Pypi);
        bus.publish(&subject, "x", &release("x")).await.unwrap();
        let calls = Arc::new(AtomicU64::new(0));
        let shutdown = CancellationToken::new();
        let task = {
            let (bus, calls, shutdown) = (bus.clone(), calls.clone(), shutdown.clone());
            tokio::spawn(async move {
                let spec = bus.names().dynamic_consumer();
                bus.consume(
                    &spec,
                    move |_d: Delivery<Release>| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        async { Err(HandlerError::retryable("registry down")) }
                    },
                    shutdown,
                )
                .await
            })
        };
        tokio::time::timeout(Duration::from_secs(5), async {
            while bus.dead_letters().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let dead = bus.dead_letters();
        assert_eq!(dead.len(), 1);
        assert!(
            dead[0]
                .reason
                .contains("gave up after 3 deliveries: registry down"),
            "{}",
            dead[0].reason
        );
        assert_eq!(dead[0].original_subject, subject);
        assert_eq!(dead[0].subject, bus.names().dead_letter("dynamic"));
    }

    #[tokio::test]
    async fn a_subject_without_a_stream_is_an_error() {
        let bus = MemoryBus::new(&BusConfig::default()).unwrap();
        let err = bus
            .publish("elsewhere.release.npm", "id", &release("a"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no stream stores subject"));
    }
}
