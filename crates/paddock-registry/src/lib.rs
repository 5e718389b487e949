//! Registry clients: resolve, download, verify and safely extract releases
//! from PyPI, npm, RubyGems, Packagist and crates.io, and poll their feeds.
//!
//! # Layout
//!
//! - [`extract`]: hostile-archive extraction with limits.

pub mod extract;
