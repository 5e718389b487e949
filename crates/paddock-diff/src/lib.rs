//! What a release does, what changed since the previous release of the
//! same package, and how bad that is.
//!
//! # Layout
//!
//! - [`profile`]: a release's behaviour profile, derived from its static
//!   and dynamic results, normalised so that noise (temp and cache paths,
//!   version strings, hashes, random names) does not count as change;
//! - [`normalize`]: the normalisation rules, in one place;
//! - [`sandbox`]: what the sandbox and its harness do in every analysis
//!   (plumbing addresses, install area and caches, the driver and package
//!   managers, credential locations), so it is not taken for the
//!   package's behaviour;
//! - [`diff`](mod@diff): the changes between two profiles;
//! - [`score`]: the verdict (score, severity, reasons) from findings and
//!   changes, by escalation rules that are data (`rules/scoring.toml`,
//!   documented in the crate's README);
//! - [`suppress`]: the users' allow-list of reviewed behaviours.
//!
//! # Use
//!
//! ```
//! use paddock_diff::{diff::diff, profile, score::Scoring, suppress::Suppressions};
//! # let (static_result, dynamic_result) = Default::default();
//! # let previous: Option<profile::Profile> = None;
//! let mut next = profile::from_static(&static_result);
//! next.merge(profile::from_dynamic(&dynamic_result));
//! let changes = previous.as_ref().map(|p| diff(p, &next)).unwrap_or_default();
//! let verdict = Scoring::builtin().verdict(&next, previous.as_ref(), &changes, &Suppressions::default());
//! assert_eq!(verdict.scoring_version, paddock_diff::score::SCORING_VERSION);
//! ```
//!
//! # Invariants
//!
//! Everything here is pure: no I/O (except [`suppress::Suppressions::load`]),
//! no clock, no environment. The same inputs give the same profile, the
//! same changes and the same verdict.

pub mod behaviour;
pub mod diff;
pub mod normalize;
pub mod profile;
pub mod sandbox;
pub mod score;
pub mod suppress;

pub use diff::diff;
pub use profile::{from_dynamic, from_static, ItemKey, Kind, PhaseLite, Profile};
pub use score::{Scoring, SCORING_VERSION};
pub use suppress::Suppressions;

/// The static and dynamic results of `paddock analyze --format json`
/// (`{"static": …, "dynamic": …}`), as recorded.
///
/// The protobuf JSON mapping does not read back `null`, which is how a
/// non-finite float (a NaN literal in a parsed source file) is written;
/// such fields are dropped (read as their defaults) first.
pub fn results_from_json(
    text: &str,
) -> Result<
    (
        paddock_proto::v1::StaticResult,
        Option<paddock_proto::v1::DynamicResult>,
    ),
    serde_json::Error,
> {
    fn drop_nulls(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(drop_nulls);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut value: serde_json::Value = serde_json::from_str(text)?;
    drop_nulls(&mut value);
    match value.get("static").cloned() {
        Some(s) => Ok((
            serde_json::from_value(s)?,
            value
                .get("dynamic")
                .cloned()
                .map(serde_json::from_value)
                .transpose()?,
        )),
        // `--static` prints the static result alone.
        None => Ok((serde_json::from_value(value)?, None)),
    }
}
