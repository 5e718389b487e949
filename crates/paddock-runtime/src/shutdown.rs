//! Shutdown on SIGTERM or SIGINT.
//!
//! A service passes the token to every component; components stop in the
//! order the service awaits them (consumers first, so in-flight work is
//! finished or returned, then the HTTP endpoints, then owned processes).

use tokio_util::sync::CancellationToken;

/// A token cancelled on the first SIGTERM or SIGINT. Later signals are
/// logged and otherwise ignored: shutdown is already bounded by each
/// component's grace period, and exiting early would orphan the processes
/// this one owns (such as a local nats-server).
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let fired = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; finishing in-flight work");
        fired.cancel();
        loop {
            wait_for_signal().await;
            tracing::info!("already shutting down; in-flight work is bounded by its grace period");
        }
    });
    token
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
