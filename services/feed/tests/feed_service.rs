//! `paddock-feed` as its own process: against the fixture registry and a
//! real nats-server, every fixture release is published, and SIGTERM stops
//! it cleanly.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::process::{Command, Stdio};
use std::time::Duration;

use paddock_testkit::registry::FixtureRegistry;
use paddock_testkit::{unique_prefix, TestNats};

#[tokio::test]
async fn the_feed_binary_publishes_every_fixture_release_and_stops_on_sigterm() {
    let registry = FixtureRegistry::start().await;
    let nats = TestNats::start().await;
    let prefix = unique_prefix();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paddock-feed"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PADDOCK") && key != "PADDOCK_NATS_SERVER" {
            cmd.env_remove(key);
        }
    }
    cmd.envs(registry.env_vars());
    for key in ["PYPI", "NPM", "RUBYGEMS", "PACKAGIST", "CRATES_IO"] {
        cmd.env(format!("PADDOCK__FEED__{key}__INITIAL_LOOKBACK"), "365days");
        cmd.env(format!("PADDOCK__FEED__{key}__INTERVAL"), "200ms");
    }
    cmd.env("PADDOCK__FEED__NPM__INITIAL_TOKEN", "0")
        .env("PADDOCK__FEED__PACKAGIST__INITIAL_TOKEN", "0")
        .env("PADDOCK__BUS__PREFIX", &prefix)
        .env("PADDOCK__HTTP__LISTEN", "127.0.0.1:0")
        .args(["--nats-url", nats.url()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();

    let js = async_nats::jetstream::new(nats.client().await);
    let expected = registry.packages().len() as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut count = 0;
    while tokio::time::Instant::now() < deadline {
        if let Ok(mut stream) = js.get_stream(format!("{prefix}_RELEASES")).await {
            count = stream.info().await.unwrap().state.messages;
            if count >= expected {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // More polls must not add duplicates.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut stream = js.get_stream(format!("{prefix}_RELEASES")).await.unwrap();
    let settled = stream.info().await.unwrap().state.messages;

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(count, expected, "every fixture release was published");
    assert_eq!(settled, expected, "later polls published no duplicate");
    assert!(status.success(), "{status:?}");
}
