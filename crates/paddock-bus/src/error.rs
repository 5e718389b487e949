//! The bus's error type.

/// A boxed error from a dependency.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong on the bus. Messages say what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The prefix or another name is not usable on the wire.
    #[error("invalid bus name `{name}`: {reason}")]
    InvalidName { name: String, reason: &'static str },

    /// The server could not be reached.
    #[error("cannot connect to nats at {url}: {source}; check that nats-server is running with -js and that bus.url is right")]
    Connect { url: String, source: BoxError },

    /// JetStream is not enabled or not answering.
    #[error("jetstream is not available at {url}: {source}; start nats-server with -js (JetStream enabled)")]
    JetStreamUnavailable { url: String, source: BoxError },

    /// Creating or updating part of the topology failed.
    #[error("cannot create {what} `{name}`: {source}")]
    Topology {
        what: &'static str,
        name: String,
        source: BoxError,
    },

    /// A bucket the topology should have made is not there.
    #[error("{what} `{name}` is not available: {source}; run `paddock topology --apply` or start `paddock up` to create it")]
    Missing {
        what: &'static str,
        name: String,
        source: BoxError,
    },

    /// A publish was not acknowledged by a stream.
    #[error("publish to `{subject}` failed: {source}")]
    Publish { subject: String, source: BoxError },

    /// A consumer could not be opened or pulled from.
    #[error("consumer `{consumer}` on stream `{stream}` failed: {source}; run `paddock topology --apply` or start `paddock up` to create it")]
    Consumer {
        stream: String,
        consumer: String,
        source: BoxError,
    },
}
