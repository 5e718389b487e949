//! SARIF 2.1.0 logs of Paddock's results, for CI code scanning (GitHub
//! reads SARIF): `paddock analyze --format sarif`, `paddock diff --format
//! sarif`, and `paddock verify`'s lockfile results through the generic
//! [`LogBuilder`].
//!
//! # Layout
//!
//! - [`model`]: the SARIF objects written, as serde types;
//! - [`builder`]: [`LogBuilder`], one run built rule by rule and result by
//!   result ([`NewResult`] at a [`Location`]), keeping the invariants
//!   below;
//! - [`rules`]: [`RuleInfo`] (a rule as the log describes it, filled by
//!   the caller from its own rules) and the severity, `security-severity`
//!   and precision mappings;
//! - [`analyze`]: [`analyze_log`], one release's findings and verdict;
//! - [`diff`](mod@diff): [`diff_log`], the behaviour changes between two
//!   releases and the newer one's verdict;
//! - [`fingerprint`](mod@fingerprint): `partialFingerprints`, stable when
//!   a line moves;
//! - [`uri`]: paths as percent-encoded relative references;
//! - [`verdict`]: the verdict and the package as properties;
//! - `text`: package text bounded and made safe to show.
//!
//! # Invariants
//!
//! - Every result's `ruleIndex` is its rule's index in
//!   `tool.driver.rules`.
//! - Every file location is a relative reference under a base declared in
//!   `run.originalUriBaseIds` (`PACKAGEROOT` for a package's files): never
//!   an absolute path, never `..`, never a path of the machine that wrote
//!   the log.
//! - Nothing is dropped for want of a place: a behaviour with no file
//!   (what the package did in the sandbox, a new dependency) is located
//!   at the package root with the sandbox phase as a logical location.
//! - Pure: no I/O, no clock, no environment; the same inputs give the
//!   same log.
//!
//! This crate depends on the wire contract only: callers map their own
//! rules (detection, behaviour, scoring, lockfile checks) into
//! [`RuleInfo`].

pub mod analyze;
pub mod builder;
pub mod diff;
pub mod fingerprint;
pub mod model;
pub mod rules;
mod text;
pub mod uri;
pub mod verdict;

pub use analyze::analyze_log;
pub use builder::{Location, LogBuilder, NewResult, SarifError, PACKAGE_ROOT};
pub use diff::{diff_log, DiffContext};
pub use fingerprint::{fingerprint, EVIDENCE_HASH_SCHEME, FINDING_SCHEME};
pub use model::{Level, Log, LogicalLocation};
pub use rules::{Help, RuleExample, RuleInfo};
