//! Alert streams for many clients from one consumer.
//!
//! A replica follows ALERTS with one ordered consumer (the hub) and hands
//! every new alert to all its watchers through a broadcast channel, so a
//! thousand open WatchAlerts streams cost the server one consumer, not a
//! thousand (JetStream limits consumers per stream).
//!
//! A watch that starts in the past (a sequence, a time, the beginning)
//! first replays what the stream holds with a short-lived consumer of its
//! own, then joins the hub. It subscribes to the hub *before* the replay,
//! and skips hub alerts at or below the last sequence it delivered, so the
//! join loses and repeats nothing. A watcher too slow for the channel
//! (it lagged) replays the gap the same way and rejoins.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::stream::Stream;
use futures::{Stream as FutureStream, StreamExt};
use paddock_bus::{codec, CancellationToken};
use paddock_proto::v1::Alert;
use tokio::sync::broadcast;

use crate::query::{AlertFilter, QueryError, Start, StoredAlert};

/// One replica's alert hub.
#[derive(Clone)]
pub struct Hub {
    alerts: Stream,
    prefix: String,
    sender: broadcast::Sender<Arc<StoredAlert>>,
    max_message_bytes: usize,
    /// The stream's last sequence when the hub was opened: it passes on
    /// everything after it.
    opened_at: u64,
    replays: prometheus_client::metrics::counter::Counter,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub for `alerts` (the ALERTS stream) that passes on every alert
    /// stored from now on, holding `buffer` of them for slow watchers; call
    /// [`Hub::run`] to feed it.
    pub async fn open(
        alerts: Stream,
        prefix: &str,
        max_message_bytes: usize,
        buffer: usize,
        replays: prometheus_client::metrics::counter::Counter,
    ) -> Result<Self, QueryError> {
        let (sender, _) = broadcast::channel(buffer);
        let opened_at = alerts
            .clone()
            .info()
            .await
            .map_err(|e| QueryError::Unavailable(format!("reading the alerts stream: {e}")))?
            .state
            .last_sequence;
        Ok(Self {
            alerts,
            prefix: prefix.to_owned(),
            sender,
            max_message_bytes,
            opened_at,
            replays,
        })
    }

    /// Follows the stream's new alerts until `shutdown`, starting again
    /// (after the last alert it passed on) when the consumer fails.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut last = self.opened_at;
        let mut backoff = Duration::from_millis(100);
        loop {
            let start = DeliverPolicy::ByStartSequence {
                start_sequence: last + 1,
            };
            let followed = self.follow(start, &mut last, &shutdown).await;
            if shutdown.is_cancelled() {
                return;
            }
            if let Err(error) = followed {
                tracing::warn!(%error, "the alert hub lost the stream; following it again");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn follow(
        &self,
        start: DeliverPolicy,
        last: &mut u64,
        shutdown: &CancellationToken,
    ) -> Result<(), QueryError> {
        let (_, messages) = self
            .consumer(vec![format!("{}.alert.*.*", self.prefix)], start)
            .await?;
        let mut messages = Box::pin(messages);
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = messages.next() => next,
            };
            match next {
                Some(Ok(alert)) => {
                    *last = alert.sequence;
                    // No watchers is not an error.
                    let _ = self.sender.send(Arc::new(alert));
                }
                Some(Err(e)) => return Err(e),
                None => return Err(QueryError::Unavailable("the alert stream ended".into())),
            }
        }
    }

    /// An ordered consumer over `subjects` from `start`, decoded.
    async fn consumer(
        &self,
        mut subjects: Vec<String>,
        deliver_policy: DeliverPolicy,
    ) -> Result<
        (
            u64,
            impl FutureStream<Item = Result<StoredAlert, QueryError>> + Send + 'static,
        ),
        QueryError,
    > {
        let (filter_subject, filter_subjects) = if subjects.len() == 1 {
            (subjects.remove(0), Vec::new())
        } else {
            (String::new(), subjects)
        };
        let consumer = self
            .alerts
            .create_consumer(pull::OrderedConfig {
                filter_subject,
                filter_subjects,
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| QueryError::Unavailable(format!("following the alerts stream: {e}")))?;
        let pending = consumer.cached_info().num_pending;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| QueryError::Unavailable(format!("following the alerts stream: {e}")))?;
        let max = self.max_message_bytes;
        Ok((
            pending,
            messages.filter_map(move |m| async move {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        return Some(Err(QueryError::Unavailable(format!(
                            "following the alerts stream: {e}"
                        ))))
                    }
                };
                let (sequence, stored_at) = match m.info() {
                    Ok(i) => (i.stream_sequence, SystemTime::from(i.published)),
                    Err(_) => return None,
                };
                match codec::decode::<Alert>(m.headers.as_ref(), &m.payload, max) {
                    Ok(alert) => Some(Ok(StoredAlert {
                        sequence,
                        stored_at,
                        alert,
                    })),
                    Err(error) => {
                        tracing::warn!(sequence, %error, "skipping an unreadable alert");
                        None
                    }
                }
            }),
        ))
    }

    /// The stored alerts that pass `filter` from `from` (a sequence) on,
    /// up to what the stream holds now; the last sequence read.
    async fn replay(
        &self,
        filter: &AlertFilter,
        from: DeliverPolicy,
        out: &tokio::sync::mpsc::Sender<Result<StoredAlert, QueryError>>,
    ) -> Result<Option<u64>, QueryError> {
        let mut stream = self.alerts.clone();
        let last_stored = stream
            .info()
            .await
            .map_err(|e| QueryError::Unavailable(format!("reading the alerts stream: {e}")))?
            .state
            .last_sequence;
        if let DeliverPolicy::ByStartSequence { start_sequence } = from {
            if start_sequence > last_stored {
                return Ok(None);
            }
        }
        // Everything (not only the filtered subjects), so that the replay
        // knows where the stream ends even when nothing passes the filter.
        let (pending, messages) = self
            .consumer(vec![format!("{}.alert.*.*", self.prefix)], from)
            .await?;
        if pending == 0 {
            return Ok(None);
        }
        let mut messages = Box::pin(messages);
        let (mut last, mut read) = (None, 0u64);
        while let Some(item) = messages.next().await {
            let alert = item?;
            let sequence = alert.sequence;
            last = Some(sequence);
            read += 1;
            if filter.admits(&alert.alert) && out.send(Ok(alert)).await.is_err() {
                return Ok(last);
            }
            if read >= pending || sequence >= last_stored {
                break;
            }
        }
        Ok(last)
    }

    /// A watch: stored alerts from `start` (replayed), then new ones.
    pub fn watch(
        &self,
        filter: AlertFilter,
        start: Start,
        shutdown: CancellationToken,
    ) -> impl FutureStream<Item = Result<StoredAlert, QueryError>> + Send + 'static {
        let hub = self.clone();
        let mut live = self.sender.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            let replay_from = match start {
                Start::New => None,
                Start::Beginning | Start::Sequence(0) => Some(DeliverPolicy::All),
                Start::Sequence(start_sequence) => {
                    Some(DeliverPolicy::ByStartSequence { start_sequence })
                }
                Start::Time(t) => Some(DeliverPolicy::ByStartTime {
                    start_time: t.into(),
                }),
            };
            let mut last = match start {
                Start::Sequence(s) => s.saturating_sub(1),
                _ => 0,
            };
            if let Some(from) = replay_from {
                match hub.replay(&filter, from, &tx).await {
                    Ok(Some(l)) => last = last.max(l),
                    Ok(None) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
            loop {
                let received = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tx.closed() => return,
                    r = live.recv() => r,
                };
                match received {
                    Ok(alert) => {
                        if alert.sequence <= last {
                            continue;
                        }
                        last = alert.sequence;
                        if filter.admits(&alert.alert)
                            && tx.send(Ok((*alert).clone())).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a watcher lagged; replaying its gap");
                        hub.replays.inc();
                        let from = DeliverPolicy::ByStartSequence {
                            start_sequence: last + 1,
                        };
                        match hub.replay(&filter, from, &tx).await {
                            Ok(Some(l)) => last = last.max(l),
                            Ok(None) => {}
                            Err(e) => {
                                let _ = tx.send(Err(e)).await;
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx)
    }
}
