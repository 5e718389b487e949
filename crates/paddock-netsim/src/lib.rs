//! The sandbox's simulated internet.
//!
//! Per analysis, a second network namespace (the "internet host") joined
//! to the sandbox's by a veth pair. Paddock serves it from its own
//! process: sockets are opened inside that namespace and served by tasks
//! of the worker, so nothing inside the namespace can reach anything
//! else, while the registry proxy forwards allow-listed requests to the
//! configured registries from the worker's own network.

pub mod conn;
/// DNS wire format: the trace's parser, so a name is recorded in one form.
pub use paddock_trace::dns;
pub mod exfil;
pub mod host;
pub mod proxy;
pub mod record;
pub mod sniff;
pub mod tls;

pub use host::InternetHost;
pub use proxy::Proxy;
pub use record::{Captured, Exfiltration, Recorder};

/// The name pool's prefix length.
pub use paddock_proto::sandbox::NAME_POOL_PREFIX_LEN as NAME_POOL_PREFIX;
/// The sandbox's addresses and ports: one source for every crate.
pub use paddock_proto::sandbox::{
    CATCHALL_PORT, HOST_ADDR, LINK_PREFIX_LEN, NAME_POOL, NAME_POOL_SIZE, PROXY_PORT, SANDBOX_ADDR,
};
