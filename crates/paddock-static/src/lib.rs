//! Static analysis of an extracted package tree: no network, no bus.
//!
//! # Layout
//!
//! - [`facts`]: per-file type (from content), size, sha256, line lengths.
//! - [`parse`]: tree-sitter parsing for five languages (cargo features
//!   `javascript`, `typescript`, `python`, `ruby`, `php`, `rust`) and the
//!   facts extracted from each tree.
//! - [`signals`]: the reference system's string and identifier signals with
//!   its thresholds, plus entropy and minified/obfuscated detection.
//! - [`metadata`]: manifests: install hooks, URL dependencies, identity.
//! - [`rules`]: capability and threat rules, as data over the facts.
//! - [`analyze`]: the whole tree on all cores, within byte and time limits.

pub mod analyze;
pub mod deobf;
pub mod facts;
pub mod flow;
pub mod metadata;
pub mod parse;
pub mod rules;
pub mod signals;

pub use analyze::{analyze_tree, StaticConfig};
