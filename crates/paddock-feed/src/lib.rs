//! Getting releases onto the bus: each registry's new-release feed read
//! from a cursor, and the publisher that downloads a release's artifact,
//! verifies it, stores it once in the object store and publishes the
//! release with its deduplication id.
//!
//! The feed service that polls these on an interval and keeps the cursors
//! is `paddock-feed-service`; `paddock submit` uses the publisher directly.
//!
//! # Layout
//!
//! - [`sources`]: each registry's feed format and cursor, one poll at a
//!   time.
//! - [`publisher`]: resolve → download → verify → store → publish, and the
//!   dead-letter record of a release that can never be published.

pub mod publisher;
pub mod sources;

pub use publisher::{PublishError, ReleasePublisher};
