//! What a report needs besides its verdict, kept on disk per release:
//! `<dir>/.paddock/pending/<ecosystem>/<name>/<version>/` holding
//! `static.pb`, `dynamic.pb` and `verdict.pb` (the verdict with its
//! behaviour change, as an `Alert`).
//!
//! Results and verdicts come from two streams consumed independently, in
//! other batches, maybe by a sink started since: what one message leaves
//! here the other finds, whichever comes first.
//!
//! # Invariants
//!
//! - A release's directory has exactly three levels under the pending
//!   root: the ecosystem's report directory (`npm`, `crates.io`…), then
//!   the canonical name and the version, each escaped to
//!   `A-Z a-z 0-9 _ - =` ([`paddock_bus::names::escape_key`]), or `~` and
//!   their sha256 when the escape is longer than 200 bytes. No package
//!   name or version can leave the root, and two spellings of one
//!   package (`Foo.Bar`, `foo-bar` on PyPI) share a directory.
//! - Each file is the stream sequence of its message (8 bytes,
//!   big-endian) followed by the message's protobuf encoding, written to
//!   a temporary file, synced and renamed over the old one. A message
//!   older than the one kept (a redelivery after a later message) does
//!   not replace it.
//! - A file is read only up to the bus's message limit; a larger or
//!   malformed one counts as absent, with a warning.
//! - [`Pending::sweep`] removes a release's directory once nothing was
//!   written to it for the retention: the verdict is the last thing a
//!   release gets, so this is the retention after the verdict.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use paddock_proto::v1::PackageRef;
use sha2::{Digest, Sha256};

/// The longest escaped name or version used as a directory name.
const MAX_COMPONENT_BYTES: usize = 200;

/// One kind of evidence kept for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The `StaticResult`.
    Static,
    /// The `DynamicResult`.
    Dynamic,
    /// An `Alert` holding the verdict and its behaviour change.
    Verdict,
}

impl Part {
    pub fn file_name(self) -> &'static str {
        match self {
            Part::Static => "static.pb",
            Part::Dynamic => "dynamic.pb",
            Part::Verdict => "verdict.pb",
        }
    }

    const ALL: [Part; 3] = [Part::Static, Part::Dynamic, Part::Verdict];
}

/// The pending evidence under one report directory (see the module
/// documentation).
#[derive(Debug, Clone)]
pub struct Pending {
    root: PathBuf,
    max_message_bytes: usize,
}

impl Pending {
    /// The store under `dir/.paddock/pending`, reading files of at most
    /// `max_message_bytes` (the bus's limit) plus the sequence.
    pub fn new(dir: &Path, max_message_bytes: usize) -> Self {
        Self {
            root: dir.join(".paddock").join("pending"),
            max_message_bytes,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of a release, or why it can have none (and so can
    /// never be reported): no ecosystem Paddock reports on, a name that
    /// cannot be a report directory, no version.
    pub fn release_dir(&self, package: &PackageRef) -> Result<PathBuf, String> {
        let eco = package.ecosystem();
        let Some(eco_dir) = paddock_osv::names::ecosystem_dir(eco) else {
            return Err("the release has no ecosystem Paddock reports on".into());
        };
        paddock_osv::names::name_components(eco, &package.name).map_err(|e| e.to_string())?;
        if package.version.trim().is_empty() {
            return Err("the release has no version".into());
        }
        let name = paddock_osv::names::canonical_name(eco, &package.name);
        Ok(self
            .root
            .join(eco_dir)
            .join(component(&name))
            .join(component(&package.version)))
    }

    /// Keeps `body`, the message of stream sequence `sequence`, as
    /// `part` of the release in `release` (from [`Pending::release_dir`]).
    /// `false`: a later message's is kept and this one was not written.
    pub fn put(
        &self,
        release: &Path,
        part: Part,
        sequence: u64,
        body: &[u8],
    ) -> std::io::Result<bool> {
        let path = release.join(part.file_name());
        if self.sequence_of(&path)?.is_some_and(|kept| kept > sequence) {
            return Ok(false);
        }
        std::fs::create_dir_all(release)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".paddock-")
            .suffix(".tmp")
            .tempfile_in(release)?;
        tmp.write_all(&sequence.to_be_bytes())?;
        tmp.write_all(body)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        if let Ok(d) = std::fs::File::open(release) {
            // Makes the rename durable; not every file system syncs
            // directories, and the rename has happened either way.
            let _ = d.sync_all();
        }
        Ok(true)
    }

    /// The kept `part` of a release: its message's stream sequence and
    /// encoding, if there is one.
    pub fn get(&self, release: &Path, part: Part) -> std::io::Result<Option<(u64, Vec<u8>)>> {
        let path = release.join(part.file_name());
        let limit = self.max_message_bytes as u64 + 8;
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() < 8 || bytes.len() as u64 > limit {
            tracing::warn!(path = %path.display(), bytes = bytes.len(), "a pending file of the wrong size is ignored");
            return Ok(None);
        }
        let body = bytes.split_off(8);
        let sequence = u64::from_be_bytes(bytes.try_into().unwrap_or_default());
        Ok(Some((sequence, body)))
    }

    fn sequence_of(&self, path: &Path) -> std::io::Result<Option<u64>> {
        let mut head = [0u8; 8];
        match std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)) {
            Ok(()) => Ok(Some(u64::from_be_bytes(head))),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Removes every release directory nothing was written to for `keep`
    /// before `now`, and the name and ecosystem directories it leaves
    /// empty; returns how many releases were removed.
    pub fn sweep(&self, keep: Duration, now: SystemTime) -> std::io::Result<usize> {
        let mut removed = 0;
        for eco in subdirectories(&self.root)? {
            for name in subdirectories(&eco)? {
                for release in subdirectories(&name)? {
                    let newest = Part::ALL
                        .iter()
                        .filter_map(|p| std::fs::symlink_metadata(release.join(p.file_name())).ok())
                        .filter_map(|m| m.modified().ok())
                        .max();
                    let stale = match newest {
                        Some(t) => now.duration_since(t).is_ok_and(|age| age >= keep),
                        // Nothing kept (an interrupted first write): the
                        // directory's own time says how old it is.
                        None => std::fs::symlink_metadata(&release)
                            .and_then(|m| m.modified())
                            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= keep)),
                    };
                    if stale {
                        std::fs::remove_dir_all(&release)?;
                        removed += 1;
                    }
                }
                // Only an empty directory is removed; one still in use stays.
                let _ = std::fs::remove_dir(&name);
            }
            let _ = std::fs::remove_dir(&eco);
        }
        Ok(removed)
    }
}

/// A name or version as one directory name (see the module
/// documentation).
fn component(text: &str) -> String {
    let escaped = paddock_bus::names::escape_key(text);
    if escaped.len() <= MAX_COMPONENT_BYTES {
        escaped
    } else {
        format!("~{}", hex::encode(Sha256::digest(text.as_bytes())))
    }
}

/// The real directories (not links) in `dir`; none when it is missing.
fn subdirectories(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for item in listing {
        let item = item?;
        if item.file_type()?.is_dir() {
            out.push(item.path());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::v1::Ecosystem;

    fn package(eco: Ecosystem, name: &str, version: &str) -> PackageRef {
        PackageRef {
            ecosystem: eco.into(),
            name: name.into(),
            version: version.into(),
        }
    }

    #[test]
    fn release_directories_stay_three_levels_under_the_root() {
        let p = Pending::new(Path::new("/r"), 1 << 20);
        let dir =
            |eco: Ecosystem, name: &str, version: &str| p.release_dir(&package(eco, name, version));
        assert_eq!(
            dir(Ecosystem::Npm, "@Scope/Pkg", "1.0.0").unwrap(),
            Path::new("/r/.paddock/pending/npm/=40scope=2Fpkg/1=2E0=2E0")
        );
        assert_eq!(
            dir(Ecosystem::Pypi, "Foo.Bar", "1.0").unwrap(),
            dir(Ecosystem::Pypi, "foo-bar", "1.0").unwrap(),
            "one PyPI project, two spellings"
        );
        let traversal = dir(Ecosystem::Npm, "x", "../../../etc").unwrap();
        assert_eq!(
            traversal.parent().unwrap(),
            Path::new("/r/.paddock/pending/npm/x")
        );
        let long = dir(Ecosystem::Npm, "x", &"9".repeat(300)).unwrap();
        let last = long.file_name().unwrap().to_str().unwrap();
        assert!(last.starts_with('~') && last.len() == 65, "{last}");
        assert!(dir(Ecosystem::Npm, "../etc", "1").is_err());
        assert!(dir(Ecosystem::Unspecified, "x", "1").is_err());
        assert!(dir(Ecosystem::Npm, "x", " ").is_err());
    }
}
