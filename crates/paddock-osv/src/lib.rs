//! OSV malicious-package reports: Paddock's verdicts written in the
//! layout of ossf/malicious-packages, withdrawn when a verdict is
//! lowered, and known malicious releases read back from OSV exports.
//!
//! # Layout
//!
//! - [`report()`]: one analysed release's [`Report`] from its verdict and,
//!   when at hand, its static and dynamic results and behaviour change;
//!   the id and file naming are explained in [`mod@report`];
//! - [`model`]: the OSV fields Paddock writes, as types;
//! - `details`: the two to four sentences of `details`, written from the
//!   evidence; [`iocs`]: the indicators (domains, IPs, URLs, files),
//!   deduplicated, bounded and without the sandbox's own traffic;
//! - [`ReportDir`] ([`mod@dir`]): a directory of reports, updated per
//!   package, written atomically, withdrawn into `osv/withdrawn`;
//! - [`KnownMalicious`] ([`known`]): records read from an export
//!   directory or zip, looked up by release;
//! - [`rules`]: the database's acceptance rules, to check any report;
//! - [`names`]: OSV ecosystem names, ecosystem directories, canonical
//!   package names; [`config`]: [`OsvConfig`].
//!
//! # Invariants
//!
//! - No registry host is named here: the report URL comes from
//!   configuration, and hosts to ignore are configured.
//! - Reports Paddock writes pass the OSV schema and [`rules::check`]
//!   (tested for every ecosystem, with and without dynamic results,
//!   updated and withdrawn).
//! - Everything read from disk (an export, an existing report) is
//!   bounded in size and count, and a bad file is an error or a warning
//!   naming it, never a panic.

pub mod config;
mod details;
pub mod dir;
mod error;
pub mod iocs;
pub mod known;
pub mod model;
pub mod names;
pub mod report;
pub mod rules;

pub use config::{ConfigError, OsvConfig};
pub use dir::{Outcome, ReportDir, Tree, Withdrawn, Written};
pub use error::OsvError;
pub use known::{Hit, Known, KnownMalicious, Limits, LoadStats, Matched};
pub use model::Report;
pub use report::{report, Input};
