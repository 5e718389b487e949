//! The bus on a NATS JetStream server.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, AckKind, Context};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use paddock_proto::WireMessage;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::consume::{DeadLetterSink, Discipline, Inbound, Settle, Workers};
use crate::metrics::{BusMetrics, SubjectLabels};
use crate::topology::{self, TopologyPlan};
use crate::{codec, BoxError, Bus, BusConfig, BusError, ConsumerSpec, Handler, Names, Published};

/// A [`Bus`] backed by a NATS JetStream server.
#[derive(Debug, Clone)]
pub struct JetStreamBus {
    inner: Arc<Inner>,
    readiness: Option<Readiness>,
}

/// Told how each consume loop of a bus is doing, keyed by its consumer:
/// `Ok` once it pulls; `Err(reason)` while it starts, when it could not
/// start, while its pull requests fail, and after it stopped. A service's
/// health reports it, so a service is ready only while its consumers pull.
#[derive(Clone)]
pub struct Readiness(Arc<ReportFn>);

/// A consume loop's state: ready, or not and why.
type ReportFn = dyn Fn(&ConsumerSpec, Result<(), String>) + Send + Sync;

impl Readiness {
    pub fn new(report: impl Fn(&ConsumerSpec, Result<(), String>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(report))
    }
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readiness(..)")
    }
}

#[derive(Debug)]
struct Inner {
    client: async_nats::Client,
    js: Context,
    names: Names,
    config: BusConfig,
    url: String,
    metrics: Arc<BusMetrics>,
}

impl JetStreamBus {
    /// Connects to `url` and checks that JetStream answers.
    ///
    /// `url` may be a comma-separated list of a cluster's servers
    /// (`nats://a:4222,nats://b:4222`): the client connects to one and
    /// learns the rest from it. A user and password may be given in a URL
    /// (`nats://user:secret@host:4222`, percent-encoded); they are never
    /// shown in errors or logs.
    pub async fn connect(
        url: &str,
        config: &BusConfig,
        metrics: Arc<BusMetrics>,
    ) -> Result<Self, BusError> {
        let names = Names::new(&config.prefix)?;
        let (servers, user_password) = server_list(url);
        let url = servers.join(",");
        let url = url.as_str();
        let connect_err = |source: BoxError| BusError::Connect {
            url: url.to_owned(),
            source,
        };
        let addresses = servers
            .iter()
            .map(|s| {
                s.parse::<async_nats::ServerAddr>().map_err(|e| {
                    connect_err(
                        format!("`{s}` is not a NATS server address ({e}); give nats://host:port, several separated by commas").into(),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut options = match (&config.credentials_file, user_password) {
            (Some(path), _) => async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| connect_err(Box::new(e)))?,
            (None, Some((user, password))) => {
                async_nats::ConnectOptions::with_user_and_password(user, password)
            }
            (None, None) => async_nats::ConnectOptions::new(),
        };
        options = options
            .name(format!("paddock/{}", config.prefix))
            .connection_timeout(config.connect_timeout);
        let client = options
            .connect(addresses)
            .await
            .map_err(|e| connect_err(Box::new(e)))?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(config.request_timeout);
        // A cluster answers only once it has a JetStream meta leader.
        let mut retry = ElectionRetry::new(config.election_timeout);
        loop {
            match js.query_account().await {
                Ok(_) => break,
                Err(e) if retry.again().await => {
                    tracing::debug!(error = %e, "JetStream does not answer yet; retrying");
                }
                Err(e) => {
                    return Err(BusError::JetStreamUnavailable {
                        url: url.to_owned(),
                        source: Box::new(e),
                    })
                }
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                js,
                names,
                config: config.clone(),
                url: url.to_owned(),
                metrics,
            }),
            readiness: None,
        })
    }

    /// This bus, reporting its consume loops' state to `readiness`.
    pub fn with_readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = Some(readiness);
        self
    }

    pub(crate) fn report(&self, spec: &ConsumerSpec, state: Result<(), String>) {
        if let Some(readiness) = &self.readiness {
            (readiness.0)(spec, state);
        }
    }

    pub(crate) fn consumer_settings(&self) -> &crate::ConsumerSettings {
        &self.inner.config.consumer
    }

    pub(crate) fn max_message_bytes(&self) -> usize {
        self.inner.config.max_message_bytes
    }

    pub(crate) fn metrics(&self) -> &Arc<BusMetrics> {
        &self.inner.metrics
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.inner.client
    }

    pub fn jetstream(&self) -> &Context {
        &self.inner.js
    }

    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The `artifacts` object store (keyed by sha256).
    pub async fn artifacts(
        &self,
    ) -> Result<async_nats::jetstream::object_store::ObjectStore, BusError> {
        let name = self.inner.names.artifacts_bucket();
        self.ride_out("opening the artifact store", || {
            self.inner.js.get_object_store(&name)
        })
        .await
        .map_err(|e| BusError::Missing {
            what: "object store",
            name,
            source: Box::new(e),
        })
    }

    /// A key-value bucket of the topology, such as `feed-cursors`.
    pub async fn key_value(
        &self,
        name: &str,
    ) -> Result<async_nats::jetstream::kv::Store, BusError> {
        self.ride_out("opening a key-value bucket", || {
            self.inner.js.get_key_value(name)
        })
        .await
        .map_err(|e| BusError::Missing {
            what: "key-value bucket",
            name: name.to_owned(),
            source: Box::new(e),
        })
    }

    /// The topology this bus's configuration plans.
    pub fn plan(&self) -> TopologyPlan {
        topology::plan(&self.inner.names, &self.inner.config.topology)
    }

    /// Creates or updates the topology (idempotent), retried while a
    /// cluster elects leaders (for `bus.election_timeout`).
    #[tracing::instrument(skip_all, fields(prefix = %self.inner.names.prefix()))]
    pub async fn ensure_topology(&self) -> Result<(), BusError> {
        let plan = self.plan();
        self.ride_out("applying the topology", || {
            topology::apply(&self.inner.js, &plan)
        })
        .await
    }

    /// This bus's settings.
    pub fn config(&self) -> &BusConfig {
        &self.inner.config
    }

    /// Runs `op` again, with a growing pause, while it fails the way calls
    /// fail during a leader election (timeouts, no responders, no leader,
    /// JetStream unavailable) and `bus.election_timeout` has not passed:
    /// for KV, object-store and topology calls, which fail for a few
    /// seconds while a cluster elects a leader after a node restarts. Other
    /// errors, and the last one, are returned at once.
    pub async fn ride_out<T, E, F, Fut>(&self, what: &str, mut op: F) -> Result<T, E>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut retry = ElectionRetry::new(self.inner.config.election_timeout);
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(error) if during_election(&error.to_string()) && retry.again().await => {
                    tracing::debug!(%error, "{what} failed; retrying while the cluster may be electing a leader");
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The durable pull consumer of `spec` (created by the topology).
    pub async fn open_consumer(&self, spec: &ConsumerSpec) -> Result<PullConsumer, BusError> {
        let err = |source: BoxError| BusError::Consumer {
            stream: spec.stream_name.clone(),
            consumer: spec.durable.clone(),
            source,
        };
        // Boxed: the lookups' futures are large, and every consume loop
        // holds this one.
        self.ride_out("opening a consumer", || {
            Box::pin(async {
                let stream = self
                    .inner
                    .js
                    .get_stream(&spec.stream_name)
                    .await
                    .map_err(|e| err(Box::new(e)))?;
                stream.get_consumer(&spec.durable).await.map_err(err)
            })
        })
        .await
    }

    /// What the server holds for `spec`'s consumer now: messages pending,
    /// deliveries awaiting an ack, the ack floor, redeliveries.
    pub async fn consumer_info(
        &self,
        spec: &ConsumerSpec,
    ) -> Result<jetstream::consumer::Info, BusError> {
        let mut consumer = self.open_consumer(spec).await?;
        match consumer.info().await {
            Ok(info) => Ok(info.clone()),
            Err(e) => Err(BusError::Consumer {
                stream: spec.stream_name.clone(),
                consumer: spec.durable.clone(),
                source: Box::new(e),
            }),
        }
    }
}

impl JetStreamBus {
    /// Records a message a producer (not a consumer) can never deliver on
    /// the dead-letter stream, as `dlq.<producer>`, with the reason and the
    /// subject it was meant for: the same headers a consumer's dead letter
    /// carries, minus the stream position it never had.
    pub async fn record_dead_letter<M: WireMessage>(
        &self,
        producer: &str,
        intended_subject: &str,
        msg_id: &str,
        message: &M,
        reason: &str,
    ) -> Result<(), BusError> {
        let (mut headers, body) = codec::encode(message, msg_id);
        headers.insert(
            crate::names::headers::DLQ_REASON,
            crate::consume::header_safe(reason).as_str(),
        );
        headers.insert(
            crate::names::headers::DLQ_SUBJECT,
            crate::consume::header_safe(intended_subject).as_str(),
        );
        headers.insert(crate::names::headers::DLQ_CONSUMER, producer);
        let subject = self.inner.names.dead_letter(producer);
        self.publish_dead_letter(&subject, headers, body)
            .await
            .map_err(|source| BusError::Publish { subject, source })
    }
}

impl Bus for JetStreamBus {
    fn names(&self) -> &Names {
        &self.inner.names
    }

    async fn publish<M: WireMessage>(
        &self,
        subject: &str,
        msg_id: &str,
        message: &M,
    ) -> Result<Published, BusError> {
        let span = tracing::info_span!("bus.publish", subject, msg_id);
        async {
            let (headers, body) = codec::encode(message, msg_id);
            let err = |source: BoxError| BusError::Publish {
                subject: subject.to_owned(),
                source,
            };
            // During a leader election (a node restart in a cluster) the
            // stream does not answer for a few seconds: the same message
            // (same id, so stored once) is sent again until it is stored or
            // bus.election_timeout passes.
            let mut retry = ElectionRetry::new(self.inner.config.election_timeout);
            let ack = loop {
                let sent = match self
                    .inner
                    .js
                    .publish_with_headers(subject.to_owned(), headers.clone(), body.clone())
                    .await
                {
                    Ok(pending) => pending.await,
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(ack) => break ack,
                    Err(e) if transient(e.kind()) && retry.again().await => {
                        self.inner.metrics.publish_retries.inc();
                        tracing::debug!(subject, error = %e, "publish not acknowledged; retrying");
                    }
                    Err(e) if transient(e.kind()) => {
                        return Err(err(format!(
                            "no JetStream stream acknowledged it within {:?} ({e}): the cluster may be electing a leader for the stream, or no stream stores this subject (run `paddock topology --apply`)",
                            self.inner.config.election_timeout
                        )
                        .into()))
                    }
                    Err(e) => return Err(err(Box::new(e))),
                }
            };
            let labels = SubjectLabels {
                stream: ack.stream.clone(),
            };
            if ack.duplicate {
                self.inner
                    .metrics
                    .publish_duplicates
                    .get_or_create(&labels)
                    .inc();
            } else {
                self.inner.metrics.published.get_or_create(&labels).inc();
            }
            Ok(Published {
                stream: ack.stream,
                sequence: ack.sequence,
                duplicate: ack.duplicate,
            })
        }
        .instrument(span)
        .await
    }

    async fn consume<M: WireMessage, H: Handler<M>>(
        &self,
        spec: &ConsumerSpec,
        handler: H,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        self.report(spec, Err("starting".into()));
        let opened = async {
            let mut consumer = self.open_consumer(spec).await?;
            let info = consumer.info().await.map_err(|e| BusError::Consumer {
                stream: spec.stream_name.clone(),
                consumer: spec.durable.clone(),
                source: Box::new(e),
            })?;
            let config = (info.config.ack_wait, info.config.max_deliver);
            Ok::<_, BusError>((consumer, config))
        }
        .await;
        let (consumer, (ack_wait, max_deliver)) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                self.report(spec, Err(format!("cannot start: {error}")));
                return Err(error);
            }
        };
        let settings = &self.inner.config.consumer;
        let discipline = Discipline::new(
            spec,
            settings,
            ack_wait,
            max_deliver,
            self.inner.config.max_message_bytes,
            self.inner.metrics.clone(),
        );
        let mut workers = Workers::new(handler, discipline, self.clone());
        tracing::info!(consumer = %spec.durable, stream = %spec.stream_name, "consuming");

        let mut pulls = crate::consume::PullHealth::default();
        'pull: while !shutdown.is_cancelled() {
            // Pull only as many messages as there are free handler slots, so
            // no message waits in this process with its ack timer running.
            let first = tokio::select! {
                _ = shutdown.cancelled() => break 'pull,
                slot = workers.slot() => slot,
            };
            let mut slots = vec![first];
            while let Some(slot) = workers.try_slot() {
                slots.push(slot);
            }
            let batch = consumer
                .batch()
                .max_messages(slots.len())
                .expires(settings.pull_expires)
                .messages()
                .await;
            let mut batch = match batch {
                Ok(batch) => {
                    pulls.pulled(self, spec);
                    batch
                }
                Err(error) => {
                    let delay = pulls.failed(self, spec, settings, &error);
                    drop(slots);
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'pull,
                        _ = tokio::time::sleep(delay) => continue 'pull,
                    }
                }
            };
            loop {
                let next = tokio::select! {
                    _ = shutdown.cancelled() => {
                        // Hand back what this pull already delivered.
                        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(50), batch.next()).await {
                            let _ = msg.ack_with(AckKind::Nak(None)).await;
                        }
                        break 'pull;
                    }
                    next = batch.next() => next,
                };
                match next {
                    None => break,
                    Some(Err(error)) => {
                        tracing::debug!(%error, "pull batch ended with an error");
                        break;
                    }
                    Some(Ok(msg)) => {
                        let Some(slot) = slots.pop() else {
                            // The server sent more than asked: return it.
                            let _ = msg.ack_with(AckKind::Nak(None)).await;
                            continue;
                        };
                        workers.spawn(JsInbound::new(msg, settings.confirm_acks), slot);
                    }
                }
            }
        }

        self.report(spec, Err("stopped".into()));
        workers.shut_down().await;
        Ok(())
    }
}

impl DeadLetterSink for JetStreamBus {
    async fn publish_dead_letter(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<(), BoxError> {
        self.inner
            .js
            .publish_with_headers(subject.to_owned(), headers, payload)
            .await?
            .await?;
        Ok(())
    }
}

/// Splits `user:password@` out of a URL, percent-decoding both.
/// Whether a publish failure may pass once the cluster has a leader.
fn transient(kind: jetstream::context::PublishErrorKind) -> bool {
    use jetstream::context::PublishErrorKind as K;
    matches!(
        kind,
        K::StreamNotFound | K::TimedOut | K::BrokenPipe | K::Other
    )
}

/// Whether an error's text is one a JetStream call gives while a cluster
/// has no leader for it.
fn during_election(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "timed out",
        "timeout",
        "no responders",
        "not available",
        "unavailable",
        "leader",
        "503",
        "broken pipe",
        "disconnected",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// Retries with a growing pause for a bounded time.
struct ElectionRetry {
    deadline: tokio::time::Instant,
    pause: std::time::Duration,
}

impl ElectionRetry {
    fn new(within: std::time::Duration) -> Self {
        Self {
            deadline: tokio::time::Instant::now() + within,
            pause: std::time::Duration::from_millis(50),
        }
    }

    /// Waits before the next attempt; false when time is up.
    async fn again(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause.min(self.deadline - now)).await;
        self.pause = (self.pause * 2).min(std::time::Duration::from_secs(1));
        true
    }
}

/// The servers of a comma-separated list, without credentials, and the
/// first user and password given in any of them.
fn server_list(urls: &str) -> (Vec<String>, Option<(String, String)>) {
    let mut servers = Vec::new();
    let mut credentials = None;
    for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let (server, user_password) = split_credentials(url);
        servers.push(server);
        credentials = credentials.or(user_password);
    }
    (servers, credentials)
}

fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    (
        format!("{scheme}://{host}"),
        Some((percent_decode(user), percent_decode(password))),
    )
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) struct JsInbound {
    msg: jetstream::Message,
    attempt: u64,
    sequence: u64,
    /// Whether an ack waits for the server's confirmation.
    confirm: bool,
}

impl JsInbound {
    pub(crate) fn new(msg: jetstream::Message, confirm: bool) -> Self {
        let (attempt, sequence) = msg
            .info()
            .map(|i| (i.delivered.max(1) as u64, i.stream_sequence))
            .unwrap_or((1, 0));
        Self {
            msg,
            attempt,
            sequence,
            confirm,
        }
    }
}

impl Inbound for JsInbound {
    fn subject(&self) -> &str {
        self.msg.subject.as_str()
    }

    fn headers(&self) -> Option<&HeaderMap> {
        self.msg.headers.as_ref()
    }

    fn payload(&self) -> &Bytes {
        &self.msg.payload
    }

    fn attempt(&self) -> u64 {
        self.attempt
    }

    fn stream_sequence(&self) -> u64 {
        self.sequence
    }

    async fn settle(&self, how: Settle) -> Result<(), BoxError> {
        match how {
            // Terminations, and acks when `confirm_acks` is set, are
            // confirmed by the server, so a lost one is noticed here rather
            // than as a surprise redelivery.
            Settle::Ack if self.confirm => self.msg.double_ack().await,
            Settle::Ack => self.msg.ack().await,
            Settle::Term => self.msg.double_ack_with(AckKind::Term).await,
            Settle::Nak(delay) => {
                self.msg
                    .ack_with(AckKind::Nak((!delay.is_zero()).then_some(delay)))
                    .await
            }
            Settle::Progress => self.msg.ack_with(AckKind::Progress).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_decoded() {
        assert_eq!(
            split_credentials("nats://static:s%40cret%3A1@nats:4222"),
            (
                "nats://nats:4222".to_owned(),
                Some(("static".to_owned(), "s@cret:1".to_owned()))
            )
        );
        assert_eq!(
            split_credentials("nats://127.0.0.1:4222"),
            ("nats://127.0.0.1:4222".to_owned(), None)
        );
        assert_eq!(
            split_credentials("127.0.0.1:4222"),
            ("127.0.0.1:4222".to_owned(), None)
        );
    }

    #[test]
    fn a_server_list_is_split_and_keeps_credentials_out_of_sight() {
        assert_eq!(
            server_list("nats://a:4222, nats://u:p%40ss@b:4222 ,nats://c:4222"),
            (
                vec![
                    "nats://a:4222".to_owned(),
                    "nats://b:4222".to_owned(),
                    "nats://c:4222".to_owned()
                ],
                Some(("u".to_owned(), "p@ss".to_owned()))
            )
        );
        assert_eq!(
            server_list("nats://127.0.0.1:4222"),
            (vec!["nats://127.0.0.1:4222".to_owned()], None)
        );
    }
}
