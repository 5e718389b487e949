//! The one shape of a Paddock service.
//!
//! Every service crate (`crates/paddock-<name>-service`) exposes
//!
//! ```text
//! pub async fn run(config: <Name>ServiceConfig, cx: ServiceContext) -> Result<(), <its error>>
//! ```
//!
//! `config` holds what the service needs, built by the composer (`paddock
//! up`) from the configuration file; [`ServiceContext`] holds what the
//! process shares: the bus, readiness, the metrics registry and the
//! shutdown token. `run` builds the service, registers its metrics and
//! readiness components, prints its start line, calls
//! [`ServiceContext::started`], and then runs until shutdown.
//!
//! Start-up is sequential: the composer drives one `run` until it says it
//! has started ([`Starting::drive`]), so start lines are printed in order
//! and before the process says it is ready, and an error before `started`
//! stops the process's start. After `started`, the rest of `run` is spawned
//! beside the other services; an error then is logged.

use std::future::Future;
use std::pin::Pin;

use paddock_bus::{CancellationToken, JetStreamBus};
use tokio::sync::oneshot;

use crate::http::{Health, SharedRegistry};

/// What every service's `run` is given besides its own configuration.
#[derive(Debug)]
pub struct ServiceContext {
    /// The bus connection, its topology already ensured.
    pub bus: JetStreamBus,
    /// Readiness: a service registers its components (its consumers with
    /// [`Health::register_consumers`]) before it says it has started.
    pub health: Health,
    /// The process's metrics registry.
    pub metrics: SharedRegistry,
    /// Cancelled when the process stops.
    pub shutdown: CancellationToken,
    started: Option<oneshot::Sender<()>>,
}

impl ServiceContext {
    /// A context for one service, and the handle its composer waits on.
    pub fn new(
        bus: JetStreamBus,
        health: Health,
        metrics: SharedRegistry,
        shutdown: CancellationToken,
    ) -> (Self, Starting) {
        let (sender, receiver) = oneshot::channel();
        let context = Self {
            bus,
            health,
            metrics,
            shutdown,
            started: Some(sender),
        };
        (context, Starting(receiver))
    }

    /// Says start-up is done (the service is built, registered and has
    /// printed its start line): the composer goes on with the next service.
    /// Later calls do nothing.
    pub fn started(&mut self) {
        if let Some(sender) = self.started.take() {
            let _ = sender.send(());
        }
    }
}

/// The composer's side of a service's start.
#[derive(Debug)]
pub struct Starting(oneshot::Receiver<()>);

impl Starting {
    /// Drives `run` until it calls [`ServiceContext::started`]; returns the
    /// rest of the run, to spawn, or, when `run` ended before starting,
    /// what it returned (a start error, or `Ok` when shutdown came first).
    /// `run` is boxed at once, so a large service future never sits in
    /// the composer's own.
    pub fn drive<F: Future>(self, run: F) -> impl Future<Output = Result<Pin<Box<F>>, F::Output>> {
        let mut run = Box::pin(run);
        let mut started = self.0;
        async move {
            tokio::select! {
                biased;
                ended = &mut run => Err(ended),
                signal = &mut started => match signal {
                    Ok(()) => Ok(run),
                    // The context was dropped without a start: let the run
                    // finish, it has nothing left to do but return.
                    Err(_) => Err(run.await),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (oneshot::Sender<()>, Starting) {
        let (sender, receiver) = oneshot::channel();
        (sender, Starting(receiver))
    }

    #[tokio::test]
    async fn a_run_that_starts_is_handed_back_running() {
        let (sender, starting) = pair();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let run = async move {
            let _ = sender.send(());
            done_rx.await.map_err(|_| "never finished")
        };
        let rest = starting.drive(run).await.expect("started");
        done_tx.send(()).unwrap();
        assert_eq!(rest.await, Ok(()));
    }

    #[tokio::test]
    async fn an_error_before_the_start_is_returned() {
        let (sender, starting) = pair();
        let run = async move {
            let _keep = sender;
            Err::<(), _>("cannot start")
        };
        assert_eq!(starting.drive(run).await.err(), Some(Err("cannot start")));
    }

    #[tokio::test]
    async fn a_run_that_drops_its_context_unstarted_is_waited_for() {
        let (sender, starting) = pair();
        let run = async move {
            drop(sender);
            tokio::task::yield_now().await;
            Err::<(), _>("gave up")
        };
        assert_eq!(starting.drive(run).await.err(), Some(Err("gave up")));
    }
}
