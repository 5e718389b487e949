//! An OSV malicious-packages export (a clone of the database, an `osv`
//! sink's directory, or a zip of either) as a known-malicious source.

use std::path::{Path, PathBuf};

use paddock_osv::known::{KnownMalicious, Limits, LoadStats, Matched};

use crate::known::{KnownRecord, KnownSource};
use crate::store::{ReleaseKey, StoreError};

/// The records of one export, loaded.
#[derive(Debug)]
pub struct OsvExport {
    path: PathBuf,
    known: KnownMalicious,
}

impl OsvExport {
    /// Loads the export at `path` (a directory of `*.json` reports, or a
    /// `.zip` of them). Unusable files are counted in [`Self::stats`],
    /// not fatal; an export that cannot be read at all is an error.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        let known = KnownMalicious::load(path, &Limits::default()).map_err(|e| StoreError {
            store: format!("osv:{}", path.display()),
            reason: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_owned(),
            known,
        })
    }

    /// What loading read and skipped.
    pub fn stats(&self) -> &LoadStats {
        self.known.stats()
    }
}

impl KnownSource for OsvExport {
    fn describe(&self) -> String {
        format!("osv:{}", self.path.display())
    }

    fn lookup(&self, release: &ReleaseKey) -> Vec<KnownRecord> {
        self.known
            .lookup(release.ecosystem, &release.name, &release.version)
            .into_iter()
            .map(|hit| KnownRecord {
                id: hit.id.clone(),
                summary: match hit.matched {
                    Matched::AllVersions => format!("{} (every version)", hit.summary),
                    _ => hit.summary.clone(),
                },
                source: format!("osv:{}", hit.source),
            })
            .collect()
    }
}
