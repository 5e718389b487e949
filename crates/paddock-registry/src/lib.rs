//! Registry clients: resolve, download, verify and safely extract releases
//! from PyPI, npm, RubyGems, Packagist and crates.io.
//!
//! # Layout
//!
//! - [`config`]: where each registry is (never built in: configuration or
//!   the ecosystem client's own settings, see [`discover`]).
//! - [`client`]: [`RegistryClient`], one per ecosystem: resolve a release,
//!   download and verify an artifact, extract it.
//! - `ecosystems/`: each registry's documents and how releases are read
//!   from them.
//! - [`http`]: timeouts, size limits, retries on 5xx/429 with `Retry-After`.
//! - [`digest`]: checking downloaded bytes against registry digests.
//! - [`extract`]: hostile-archive extraction with limits.
//! - [`version`]: each ecosystem's version ordering.

pub mod client;
pub mod config;
pub mod digest;
pub mod discover;
pub mod ecosystems;
mod error;
pub mod extract;
pub mod http;
pub mod local;
pub mod version;

pub use client::{Downloaded, RegistryClient};
pub use config::{Endpoint, RegistriesConfig};
pub use error::RegistryError;
