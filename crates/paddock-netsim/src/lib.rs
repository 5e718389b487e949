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

use std::net::Ipv4Addr;

pub use host::InternetHost;
pub use proxy::Proxy;
pub use record::{Captured, Exfiltration, Recorder};

/// The sandbox's address on its link to the internet host.
pub const SANDBOX_ADDR: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 2);
/// The internet host's address on that link: the sandbox's resolver, and
/// the registry proxy.
pub const HOST_ADDR: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 1);
/// The link's prefix length.
pub const LINK_PREFIX_LEN: u8 = 24;
/// Names resolved inside the sandbox get addresses from here, one each.
pub const NAME_POOL: Ipv4Addr = Ipv4Addr::new(10, 232, 0, 0);
pub const NAME_POOL_PREFIX: u8 = 16;
pub const NAME_POOL_SIZE: u32 = 1 << (32 - NAME_POOL_PREFIX as u32);
/// The registry proxy's port on [`HOST_ADDR`].
pub const PROXY_PORT: u16 = 3141;
/// Where the redirect rule sends every other TCP connection.
pub const CATCHALL_PORT: u16 = 9;
