//! The feed service: every registry's new-release feed, polled with a
//! durable cursor, each new release published once with its verified
//! artifact stored in the object store.
//!
//! # Layout
//!
//! - [`sources`]: each registry's feed format and cursor.
//! - [`publisher`]: resolve → download → verify → store → publish, shared
//!   with `paddock submit`.
//! - [`service`]: the polling loops, cursor discipline and failure records.
//! - [`config`], [`metrics`].

pub mod config;
pub mod metrics;
pub mod publisher;
pub mod service;
pub mod sources;

pub use config::{EcosystemFeed, FeedConfig};
pub use metrics::FeedMetrics;
pub use publisher::{PublishError, ReleasePublisher};
pub use service::{FeedError, FeedService, PollReport};
