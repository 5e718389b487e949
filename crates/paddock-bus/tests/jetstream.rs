//! The bus against a real nats-server with JetStream.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;
use common::{bus, dead_letters, quick_config, release, wait_until};
use futures::TryStreamExt;
use paddock_bus::names::{headers, release_msg_id, StreamKind};
use paddock_bus::{Bus, CancellationToken, Delivery, HandlerError};
use paddock_proto::v1::{Ecosystem, Release};
use paddock_proto::WireMessage;
use paddock_testkit::{unique_prefix, TestNats};
use prost::Message;

async fn names_with_prefix(js: &jetstream::Context, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    names.retain(|n| n.starts_with(prefix) || n.contains(&format!("_{prefix}-")));
    names.sort();
    names
}

#[tokio::test]
async fn topology_creation_is_idempotent_sequentially_and_concurrently() {
    let nats = TestNats::start().await;
    let prefix = unique_prefix();
    let config = quick_config(&prefix);

    // Two connections (as two processes would have) at once, then again.
    let (a, b) = tokio::join!(bus(nats.url(), &config), bus(nats.url(), &config));
    a.ensure_topology().await.unwrap();
    b.ensure_topology().await.unwrap();

    let js = jetstream::new(nats.client().await);
    let streams = names_with_prefix(&js, &prefix).await;
    let expected_streams = [
        format!("KV_{prefix}-feed-cursors"),
        format!("KV_{prefix}-history"),
        format!("KV_{prefix}-results-index"),
        format!("OBJ_{prefix}-artifacts"),
        format!("{prefix}_ALERTS"),
        format!("{prefix}_DLQ"),
        format!("{prefix}_RELEASES"),
        format!("{prefix}_RESULTS"),
    ];
    let mut expected_streams = expected_streams.to_vec();
    expected_streams.sort();
    assert_eq!(streams, expected_streams);

    let releases = js.get_stream(format!("{prefix}_RELEASES")).await.unwrap();
    let mut consumers: Vec<String> = releases.consumer_names().try_collect().await.unwrap();
    consumers.sort();
    assert_eq!(
        consumers,
        [
            "api-index-releases",
            "dynamic",
            "sink-bigquery-releases",
            "sink-osv-releases",
            "sink-parquet-releases",
            "static"
        ]
    );
    let results = js.get_stream(format!("{prefix}_RESULTS")).await.unwrap();
    let mut consumers: Vec<String> = results.consumer_names().try_collect().await.unwrap();
    consumers.sort();
    assert_eq!(
        consumers,
        [
            "api-index-dynamic",
            "api-index-static",
            "diff-dynamic",
            "diff-static",
            "sink-bigquery-results",
            "sink-osv-results",
            "sink-parquet-results"
        ]
    );

    // Settings were applied as planned.
    let mut releases = releases;
    let info = releases.info().await.unwrap();
    assert_eq!(
        info.config.duplicate_window,
        config.topology.releases.duplicate_window
    );
    assert_eq!(info.config.max_age, config.topology.releases.max_age);
}

#[tokio::test]
async fn the_same_release_published_twice_is_stored_once() {
    let nats = TestNats::start().await;
    let bus = bus(nats.url(), &quick_config(&unique_prefix())).await;
    let rel = release("left-pad", "1.3.0");
    let id = release_msg_id(rel.package.as_ref().unwrap());
    let subject = bus.names().release(Ecosystem::Npm);

    let first = bus.publish(&subject, &id, &rel).await.unwrap();
    let second = bus.publish(&subject, &id, &rel).await.unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate, "the second publish is absorbed");
    assert_eq!(first.sequence, second.sequence);

    let mut stream = bus
        .jetstream()
        .get_stream(bus.names().stream(StreamKind::Releases))
        .await
        .unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
}

#[tokio::test]
async fn a_killed_handler_is_redelivered_to_a_surviving_replica() {
    let nats = TestNats::start().await;
    let config = quick_config(&unique_prefix());
    let victim_bus = bus(nats.url(), &config).await;
    let survivor_bus = bus(nats.url(), &config).await;
    let subject = victim_bus.names().release(Ecosystem::Npm);
    let spec = victim_bus.names().static_consumer();

    // The victim replica takes the message and hangs in its handler.
    let started = Arc::new(AtomicU64::new(0));
    let victim_shutdown = CancellationToken::new();
    let victim = {
        let (bus, spec, started) = (victim_bus.clone(), spec.clone(), started.clone());
        tokio::spawn(async move {
            bus.consume(
                &spec,
                move |_d: Delivery<Release>| {
                    started.fetch_add(1, Ordering::SeqCst);
                    async { std::future::pending::<Result<(), HandlerError>>().await }
                },
                victim_shutdown,
            )
            .await
        })
    };
    victim_bus
        .publish(&subject, "only", &release("a", "1"))
        .await
        .unwrap();
    wait_until(Duration::from_secs(10), "the victim to start", || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;

    // Kill it: its consumer task is aborted before any ack.
    victim.abort();
    let _ = victim.await;

    let handled = Arc::new(Mutex::new(Vec::new()));
    let shutdown = CancellationToken::new();
    let survivor = {
        let (bus, spec, handled, shutdown) = (
            survivor_bus.clone(),
            spec.clone(),
            handled.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            bus.consume(
                &spec,
                move |d: Delivery<Release>| {
                    handled
                        .lock()
                        .unwrap()
                        .push((d.message.package.unwrap().name, d.attempt));
                    async { Ok(()) }
                },
                shutdown,
            )
            .await
        })
    };
    wait_until(
        Duration::from_secs(15),
        "redelivery to the survivor",
        || !handled.lock().unwrap().is_empty(),
    )
    .await;
    shutdown.cancel();
    survivor.await.unwrap().unwrap();
    let handled = handled.lock().unwrap().clone();
    assert_eq!(
        handled,
        [("a".to_owned(), 2)],
        "processed once more, on the second delivery"
    );

    let info = survivor_bus.consumer_info(&spec).await.unwrap();
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(info.num_pending, 0);
}

#[tokio::test]
async fn two_replicas_split_a_thousand_messages_each_acked_once() {
    let nats = TestNats::start().await;
    let mut config = quick_config(&unique_prefix());
    config.consumer.concurrency = 16;
    let publisher = bus(nats.url(), &config).await;
    let subject = publisher.names().release(Ecosystem::Pypi);
    for i in 0..1000 {
        publisher
            .publish(&subject, &format!("m{i}"), &release(&format!("p{i}"), "1"))
            .await
            .unwrap();
    }

    let seen: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let shutdown = CancellationToken::new();
    let mut replicas = Vec::new();
    for replica in 0..2u8 {
        let bus = common::bus(nats.url(), &config).await;
        let (seen, shutdown) = (seen.clone(), shutdown.clone());
        replicas.push(tokio::spawn(async move {
            let spec = bus.names().dynamic_consumer();
            bus.consume(
                &spec,
                move |d: Delivery<Release>| {
                    let seen = seen.clone();
                    async move {
                        // A little work, so that both replicas get a share.
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        seen.lock()
                            .unwrap()
                            .entry(d.msg_id.unwrap())
                            .or_default()
                            .push(replica);
                        Ok(())
                    }
                },
                shutdown,
            )
            .await
        }));
    }
    wait_until(Duration::from_secs(60), "1000 messages", || {
        seen.lock().unwrap().len() == 1000
    })
    .await;
    // Give any duplicate delivery a chance to show up before stopping.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    for r in replicas {
        r.await.unwrap().unwrap();
    }

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1000);
    assert!(
        seen.values().all(|by| by.len() == 1),
        "a message was handled twice"
    );
    let by_replica = |r| seen.values().filter(|by| by[0] == r).count();
    assert!(
        by_replica(0) > 0 && by_replica(1) > 0,
        "replica 0: {}, replica 1: {}",
        by_replica(0),
        by_replica(1)
    );

    let spec = publisher.names().dynamic_consumer();
    let info = publisher.consumer_info(&spec).await.unwrap();
    assert_eq!(info.ack_floor.stream_sequence, 1000, "every message acked");
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(
        info.num_redelivered, 0,
        "nothing redelivered, so nothing acked twice"
    );
}

fn header(msg: &jetstream::message::StreamMessage, name: &str) -> String {
    msg.headers
        .get(name)
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_input_and_permanent_errors_are_dead_lettered_and_the_consumer_keeps_going() {
    let nats = TestNats::start().await;
    let mut config = quick_config(&unique_prefix());
    config.max_message_bytes = 2048;
    let bus = bus(nats.url(), &config).await;
    let subject = bus.names().release(Ecosystem::Rubygems);
    let js = bus.jetstream().clone();
    let good = release("good", "1").encode_to_vec();

    let raw = |type_header: Option<&str>, body: Vec<u8>, id: &str| {
        let mut h = async_nats::HeaderMap::new();
        if let Some(t) = type_header {
            h.insert(headers::MESSAGE_TYPE, t);
        }
        h.insert(headers::MSG_ID, id);
        (h, Bytes::from(body))
    };
    let cases = [
        (
            "wrong type",
            raw(Some("paddock.v1.Alert"), good.clone(), "wrong-type"),
        ),
        ("missing type", raw(None, good.clone(), "missing-type")),
        (
            "truncated",
            raw(
                Some(&Release::type_name()),
                good[..good.len() - 3].to_vec(),
                "truncated",
            ),
        ),
        (
            "oversized",
            raw(
                Some(&Release::type_name()),
                release(&"x".repeat(4096), "1").encode_to_vec(),
                "oversized",
            ),
        ),
    ];
    for (_, (h, body)) in &cases {
        js.publish_with_headers(subject.clone(), h.clone(), body.clone())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // A message that the handler refuses permanently, then a good one.
    bus.publish(&subject, "poison", &release("poison", "1"))
        .await
        .unwrap();
    bus.publish(&subject, "fine", &release("fine", "1"))
        .await
        .unwrap();

    let handled = Arc::new(Mutex::new(Vec::new()));
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, handled, shutdown) = (bus.clone(), handled.clone(), shutdown.clone());
        tokio::spawn(async move {
            let spec = bus.names().static_consumer();
            bus.consume(
                &spec,
                move |d: Delivery<Release>| {
                    let name = d.message.package.unwrap().name;
                    handled.lock().unwrap().push(name.clone());
                    async move {
                        if name == "poison" {
                            Err(HandlerError::permanent("archive is not a gzip stream"))
                        } else {
                            Ok(())
                        }
                    }
                },
                shutdown,
            )
            .await
        })
    };
    wait_until(Duration::from_secs(10), "the good message", || {
        handled.lock().unwrap().contains(&"fine".to_owned())
    })
    .await;
    let mut dlq = Vec::new();
    for _ in 0..100 {
        dlq = dead_letters(&bus).await;
        if dlq.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();

    assert_eq!(
        *handled.lock().unwrap(),
        ["poison", "fine"],
        "bad input never reaches the handler"
    );
    assert_eq!(dlq.len(), 5, "four bad messages and one permanent failure");
    let reasons: Vec<String> = dlq.iter().map(|m| header(m, headers::DLQ_REASON)).collect();
    for (expected, reason) in [
        "wrong message type `paddock.v1.Alert`",
        "missing Paddock-Type header",
        "undecodable paddock.v1.Release body",
        "exceeds the limit of 2048 bytes",
        "archive is not a gzip stream",
    ]
    .iter()
    .zip(&reasons)
    {
        assert!(
            reason.contains(expected),
            "expected `{expected}` in `{reason}`"
        );
    }
    for m in &dlq {
        assert_eq!(
            header(m, headers::DLQ_SUBJECT),
            subject,
            "the original subject is kept"
        );
        assert_eq!(header(m, headers::DLQ_CONSUMER), "static");
        assert_eq!(m.subject.as_str(), bus.names().dead_letter("static"));
    }
    // The body is kept verbatim for inspection.
    assert_eq!(dlq[2].payload.as_ref(), &good[..good.len() - 3]);
}

#[tokio::test]
async fn a_long_handler_is_kept_alive_by_progress_reports() {
    let nats = TestNats::start().await;
    let bus = bus(nats.url(), &quick_config(&unique_prefix())).await; // ack wait 2 s
    let subject = bus.names().release(Ecosystem::Packagist);
    bus.publish(&subject, "slow", &release("slow", "1"))
        .await
        .unwrap();

    let calls = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, calls, done, shutdown) =
            (bus.clone(), calls.clone(), done.clone(), shutdown.clone());
        tokio::spawn(async move {
            let spec = bus.names().dynamic_consumer();
            bus.consume(
                &spec,
                move |_d: Delivery<Release>| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let done = done.clone();
                    async move {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        done.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                },
                shutdown,
            )
            .await
        })
    };
    wait_until(Duration::from_secs(20), "the slow handler", || {
        done.load(Ordering::SeqCst) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "never redelivered while the handler ran"
    );

    let spec = bus.names().dynamic_consumer();
    let info = bus.consumer_info(&spec).await.unwrap();
    assert_eq!(info.num_redelivered, 0);
    assert_eq!(info.num_ack_pending, 0);
}

#[tokio::test]
async fn retryable_failures_come_back_after_growing_delays() {
    let nats = TestNats::start().await;
    let bus = bus(nats.url(), &quick_config(&unique_prefix())).await; // backoff 200 ms, doubling
    let subject = bus.names().release(Ecosystem::CratesIo);
    bus.publish(&subject, "flaky", &release("flaky", "1"))
        .await
        .unwrap();

    let attempts: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, attempts, shutdown) = (bus.clone(), attempts.clone(), shutdown.clone());
        tokio::spawn(async move {
            let spec = bus.names().static_consumer();
            bus.consume(
                &spec,
                move |d: Delivery<Release>| {
                    attempts.lock().unwrap().push((d.attempt, Instant::now()));
                    async move {
                        if d.attempt < 4 {
                            Err(HandlerError::retryable("registry returned 503"))
                        } else {
                            Ok(())
                        }
                    }
                },
                shutdown,
            )
            .await
        })
    };
    wait_until(Duration::from_secs(15), "four attempts", || {
        attempts.lock().unwrap().len() == 4
    })
    .await;
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(
        attempts.iter().map(|a| a.0).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1].1 - w[0].1).collect();
    for (gap, expected) in gaps.iter().zip([200u64, 400, 800]) {
        assert!(
            *gap >= Duration::from_millis(expected),
            "gap {gap:?} shorter than the {expected} ms backoff"
        );
    }
    assert!(
        gaps[0] < gaps[1] && gaps[1] < gaps[2],
        "delays grow: {gaps:?}"
    );
    assert!(
        dead_letters(&bus).await.is_empty(),
        "it succeeded before max_deliver"
    );
}

#[tokio::test]
async fn retries_exhausted_end_in_the_dead_letter_stream() {
    let nats = TestNats::start().await;
    let mut config = quick_config(&unique_prefix());
    config.topology.max_deliver = 2;
    config.consumer.backoff_initial = Duration::from_millis(50);
    let bus = bus(nats.url(), &config).await;
    let subject = bus.names().release(Ecosystem::Npm);
    bus.publish(&subject, "never", &release("never", "1"))
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let task = {
        let (bus, shutdown) = (bus.clone(), shutdown.clone());
        tokio::spawn(async move {
            let spec = bus.names().static_consumer();
            bus.consume(
                &spec,
                |_d: Delivery<Release>| async { Err(HandlerError::retryable("still down")) },
                shutdown,
            )
            .await
        })
    };
    let mut dlq = Vec::new();
    for _ in 0..200 {
        dlq = dead_letters(&bus).await;
        if !dlq.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!(
        header(&dlq[0], headers::DLQ_REASON),
        "gave up after 2 deliveries: still down"
    );
    assert_eq!(header(&dlq[0], headers::DLQ_DELIVERIES), "2");
}

#[tokio::test]
async fn different_prefixes_on_one_server_do_not_see_each_other() {
    let nats = TestNats::start().await;
    let a = bus(nats.url(), &quick_config(&unique_prefix())).await;
    let b = bus(nats.url(), &quick_config(&unique_prefix())).await;
    a.publish(
        &a.names().release(Ecosystem::Npm),
        "x",
        &release("from-a", "1"),
    )
    .await
    .unwrap();
    b.publish(
        &b.names().release(Ecosystem::Npm),
        "x",
        &release("from-b", "1"),
    )
    .await
    .unwrap();

    let mut handles = Vec::new();
    let shutdown = CancellationToken::new();
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    for bus in [a.clone(), b.clone()] {
        let (seen, shutdown) = (seen.clone(), shutdown.clone());
        handles.push(tokio::spawn(async move {
            let spec = bus.names().static_consumer();
            let prefix = bus.names().prefix().to_owned();
            bus.consume(
                &spec,
                move |d: Delivery<Release>| {
                    seen.lock()
                        .unwrap()
                        .push((prefix.clone(), d.message.package.unwrap().name));
                    async { Ok(()) }
                },
                shutdown,
            )
            .await
        }));
    }
    wait_until(Duration::from_secs(10), "both messages", || {
        seen.lock().unwrap().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let mut expected = vec![
        (a.names().prefix().to_owned(), "from-a".to_owned()),
        (b.names().prefix().to_owned(), "from-b".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_comma_separated_server_list_connects_to_a_server_that_answers() {
    let nats = TestNats::start().await;
    // The first seed is a closed loopback port, as a dead cluster node is.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("nats://{}", closed.local_addr().unwrap());
    drop(closed);
    let list = format!("{dead}, {}", nats.url());
    let config = quick_config(&unique_prefix());
    let bus = paddock_bus::JetStreamBus::connect(
        &list,
        &config,
        Arc::new(paddock_bus::metrics::BusMetrics::default()),
    )
    .await
    .unwrap_or_else(|e| panic!("connecting to {list}: {e}"));
    bus.ensure_topology().await.unwrap();
    let rel = release("left-pad", "1.3.0");
    let published = bus
        .publish(
            &bus.names().release(Ecosystem::Npm),
            &release_msg_id(rel.package.as_ref().unwrap()),
            &rel,
        )
        .await
        .unwrap();
    assert_eq!(published.sequence, 1);
    assert_eq!(bus.url(), list.replace(' ', ""));

    let error = paddock_bus::JetStreamBus::connect(
        "nats://127.0.0.1:4222,nats://[::1:bad",
        &config,
        Arc::new(paddock_bus::metrics::BusMetrics::default()),
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(error.contains("is not a NATS server address"), "{error}");
}
