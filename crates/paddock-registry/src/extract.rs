//! Safe extraction of hostile archives.
//!
//! Every archive Paddock opens was written by a potential attacker. This
//! module extracts tar, tar.gz (npm tarballs, sdists, `.crate`), zip
//! (wheels, zip sdists, Composer dists) and `.gem` (a tar holding
//! `data.tar.gz` and `metadata.gz`) into a fresh directory, and refuses:
//!
//! - absolute paths and `..` components (path traversal);
//! - symbolic and hard links that point out of the tree (links inside the
//!   tree are recorded in the report, never created on disk, so no later
//!   entry can write through them);
//! - device files, FIFOs and other special entries;
//! - more files, more bytes, deeper paths or a higher expansion ratio than
//!   the limits allow (zip and gzip bombs).
//!
//! Limits are checked against the bytes actually written, never against
//! sizes the archive declares. Files get mode 0644 or 0755: set-uid bits and
//! ownership from the archive are dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

/// Bounds on what one archive may expand to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractLimits {
    /// Total bytes written for the whole archive.
    pub max_total_bytes: u64,
    /// Bytes of any single file.
    pub max_file_bytes: u64,
    /// Number of entries (files, directories and links).
    pub max_entries: u64,
    /// Written bytes per archive byte, checked once more than
    /// `ratio_floor_bytes` were written (small archives cannot be bombs).
    pub max_ratio: u64,
    pub ratio_floor_bytes: u64,
    /// Path components of any entry.
    pub max_depth: usize,
    /// Bytes of a `.gem`'s `metadata.gz` once decompressed.
    pub max_metadata_bytes: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 1 << 30,
            max_file_bytes: 256 << 20,
            max_entries: 20_000,
            max_ratio: 200,
            ratio_floor_bytes: 32 << 20,
            max_depth: 48,
            max_metadata_bytes: 8 << 20,
        }
    }
}

/// The container formats Paddock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Tar,
    TarGz,
    Zip,
    /// A RubyGems package: a plain tar with `data.tar.gz` and `metadata.gz`.
    Gem,
}

impl ArchiveFormat {
    /// The format from the first bytes of the file and, for the one format
    /// that has no magic of its own (`.gem` is a plain tar), its name.
    pub fn detect(head: &[u8], filename: &str) -> Option<Self> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Self::TarGz)
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(Self::Zip)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            if filename.ends_with(".gem") {
                Some(Self::Gem)
            } else {
                Some(Self::Tar)
            }
        } else {
            None
        }
    }
}

/// Why an archive was refused. Nothing outside the destination is ever
/// written; what was written inside it before the error stays there for
/// inspection.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("entry `{entry}` has an absolute path")]
    AbsolutePath { entry: String },
    #[error("entry `{entry}` escapes the package with `..`")]
    PathTraversal { entry: String },
    #[error("entry `{entry}` is a link to `{target}`, outside the package")]
    LinkOutside { entry: String, target: String },
    #[error("entry `{entry}` is a {kind}, which packages may not contain")]
    SpecialFile { entry: String, kind: &'static str },
    #[error("entry `{entry}` is nested {depth} levels deep (limit {limit})")]
    TooDeep {
        entry: String,
        depth: usize,
        limit: usize,
    },
    #[error("more than {limit} entries")]
    TooManyEntries { limit: u64 },
    #[error("entry `{entry}` is larger than the per-file limit of {limit} bytes")]
    FileTooLarge { entry: String, limit: u64 },
    #[error("expands to more than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("expands more than {limit} times its compressed size ({written} bytes from {compressed}): a decompression bomb")]
    Ratio {
        written: u64,
        compressed: u64,
        limit: u64,
    },
    #[error("not a {format} archive, or a corrupt one: {reason}")]
    Corrupt {
        format: &'static str,
        reason: String,
    },
    #[error(
        "cannot recognise the archive format of `{filename}` (expected tar, tar.gz, zip or .gem)"
    )]
    UnknownFormat { filename: String },
    #[error("writing {path}: {source}")]
    Io { path: String, source: io::Error },
}

/// What an extraction produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractReport {
    pub files: u64,
    pub directories: u64,
    pub bytes: u64,
    /// In-tree links, as (entry, target): recorded, not created.
    pub links: Vec<(String, String)>,
    /// A `.gem`'s decompressed `metadata.gz` (the gemspec as YAML).
    pub gem_metadata: Option<String>,
}

/// Extracts `archive` into `dest` (created if missing, should be empty).
pub fn extract(
    archive: &Path,
    format: ArchiveFormat,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractReport, ExtractError> {
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| ExtractError::Io { path, source }
    };
    fs::create_dir_all(dest).map_err(io_err(dest))?;
    let compressed = fs::metadata(archive).map_err(io_err(archive))?.len();
    let file = File::open(archive).map_err(io_err(archive))?;
    let mut sink = Sink {
        dest: dest.to_path_buf(),
        limits,
        compressed,
        report: ExtractReport::default(),
        entries: 0,
    };
    match format {
        ArchiveFormat::Tar => drop(extract_tar(file, &mut sink, "tar")?),
        ArchiveFormat::TarGz => {
            let rest = extract_tar(GzDecoder::new(file), &mut sink, "tar.gz")?;
            finish_gzip(rest, "tar.gz", limits)?;
        }
        ArchiveFormat::Zip => extract_zip(file, &mut sink)?,
        ArchiveFormat::Gem => extract_gem(file, &mut sink)?,
    }
    Ok(sink.report)
}

/// Extracts `archive`, detecting its format from its content and name.
pub fn extract_auto(
    archive: &Path,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractReport, ExtractError> {
    let mut head = [0u8; 512];
    let mut file = File::open(archive).map_err(|source| ExtractError::Io {
        path: archive.display().to_string(),
        source,
    })?;
    let n = read_up_to(&mut file, &mut head).map_err(|source| ExtractError::Io {
        path: archive.display().to_string(),
        source,
    })?;
    let filename = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = ArchiveFormat::detect(&head[..n], &filename).ok_or_else(|| {
        ExtractError::UnknownFormat {
            filename: filename.clone(),
        }
    })?;
    extract(archive, format, dest, limits)
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Where entries go, with the running totals the limits apply to.
struct Sink<'a> {
    dest: PathBuf,
    limits: &'a ExtractLimits,
    compressed: u64,
    report: ExtractReport,
    entries: u64,
}

impl Sink<'_> {
    fn count_entry(&mut self) -> Result<(), ExtractError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ExtractError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    fn directory(&mut self, entry: &str) -> Result<(), ExtractError> {
        self.count_entry()?;
        let Some(rel) = safe_path(entry, self.limits.max_depth)? else {
            return Ok(());
        };
        let path = self.dest.join(rel);
        fs::create_dir_all(&path).map_err(|source| ExtractError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.report.directories += 1;
        Ok(())
    }

    fn link(&mut self, entry: &str, target: &str, hard: bool) -> Result<(), ExtractError> {
        self.count_entry()?;
        let Some(rel) = safe_path(entry, self.limits.max_depth)? else {
            return Ok(());
        };
        let outside = || ExtractError::LinkOutside {
            entry: entry.to_owned(),
            target: target.to_owned(),
        };
        if target.starts_with('/') || target.starts_with('\\') {
            return Err(outside());
        }
        // A hard link's target is an archive path; a symlink's is relative
        // to the link's own directory.
        let base = if hard {
            PathBuf::new()
        } else {
            rel.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let mut depth: isize = base.components().count() as isize;
        for part in target.split(['/', '\\']) {
            match part {
                "" | "." => {}
                ".." => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(outside());
                    }
                }
                _ => depth += 1,
            }
        }
        self.report
            .links
            .push((entry.to_owned(), target.to_owned()));
        Ok(())
    }

    fn file(
        &mut self,
        entry: &str,
        mut content: impl Read,
        executable: bool,
    ) -> Result<(), ExtractError> {
        self.count_entry()?;
        let Some(rel) = safe_path(entry, self.limits.max_depth)? else {
            return Ok(());
        };
        let path = self.dest.join(rel);
        let io_err = |source| ExtractError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err)?;
        }
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if executable { 0o755 } else { 0o644 });
        }
        let mut out = options.open(&path).map_err(io_err)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = match content.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(corrupt_from_io(e)),
            };
            written += n as u64;
            if written > self.limits.max_file_bytes {
                return Err(ExtractError::FileTooLarge {
                    entry: entry.to_owned(),
                    limit: self.limits.max_file_bytes,
                });
            }
            self.add_bytes(n as u64)?;
            out.write_all(&buf[..n]).map_err(io_err)?;
        }
        self.report.files += 1;
        Ok(())
    }

    fn add_bytes(&mut self, n: u64) -> Result<(), ExtractError> {
        let total = &mut self.report.bytes;
        *total += n;
        if *total > self.limits.max_total_bytes {
            return Err(ExtractError::TooLarge {
                limit: self.limits.max_total_bytes,
            });
        }
        if *total > self.limits.ratio_floor_bytes
            && *total / self.compressed.max(1) > self.limits.max_ratio
        {
            return Err(ExtractError::Ratio {
                written: *total,
                compressed: self.compressed,
                limit: self.limits.max_ratio,
            });
        }
        Ok(())
    }
}

/// Errors while reading entry content are archive corruption (truncated
/// streams, bad checksums), except our own limit errors passed through.
fn corrupt_from_io(e: io::Error) -> ExtractError {
    ExtractError::Corrupt {
        format: "compressed",
        reason: e.to_string(),
    }
}

/// The entry's path relative to the destination, or `None` for the root
/// itself. Refuses absolute paths, `..`, NUL bytes and excessive depth.
fn safe_path(entry: &str, max_depth: usize) -> Result<Option<PathBuf>, ExtractError> {
    if entry.starts_with('/') || entry.starts_with('\\') || entry.as_bytes().get(1) == Some(&b':') {
        return Err(ExtractError::AbsolutePath {
            entry: entry.to_owned(),
        });
    }
    let mut out = PathBuf::new();
    let mut depth = 0;
    for part in entry.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(ExtractError::PathTraversal {
                    entry: entry.to_owned(),
                })
            }
            p if p.contains('\0') => {
                return Err(ExtractError::Corrupt {
                    format: "archive",
                    reason: format!("entry name with a NUL byte: {entry:?}"),
                })
            }
            p => {
                depth += 1;
                out.push(p);
            }
        }
    }
    if depth > max_depth {
        return Err(ExtractError::TooDeep {
            entry: truncate(entry),
            depth,
            limit: max_depth,
        });
    }
    debug_assert!(out.components().all(|c| matches!(c, Component::Normal(_))));
    Ok((depth > 0).then_some(out))
}

fn truncate(entry: &str) -> String {
    if entry.len() <= 200 {
        entry.to_owned()
    } else {
        let mut end = 200;
        while !entry.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &entry[..end])
    }
}

/// Reads a gzip stream to its end, so that a truncated or tampered stream
/// fails its length and CRC check even when the tar inside looked complete.
fn finish_gzip(
    rest: impl Read,
    format: &'static str,
    limits: &ExtractLimits,
) -> Result<(), ExtractError> {
    io::copy(&mut rest.take(limits.max_total_bytes), &mut io::sink())
        .map(drop)
        .map_err(|e| ExtractError::Corrupt {
            format,
            reason: format!("the compressed stream is damaged: {e}"),
        })
}

/// Extracts every entry; returns the reader positioned after the archive.
fn extract_tar<R: Read>(
    reader: R,
    sink: &mut Sink<'_>,
    format: &'static str,
) -> Result<R, ExtractError> {
    let corrupt = |e: io::Error| ExtractError::Corrupt {
        format,
        reason: e.to_string(),
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(corrupt)? {
        let entry = entry.map_err(corrupt)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous | T::GNUSparse => {
                let mode = entry.header().mode().unwrap_or(0o644);
                sink.file(&name, entry, mode & 0o111 != 0)?;
            }
            T::Directory => sink.directory(&name)?,
            T::Symlink | T::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                sink.link(&name, &target, kind == T::Link)?;
            }
            T::Char => {
                return Err(ExtractError::SpecialFile {
                    entry: name,
                    kind: "character device",
                })
            }
            T::Block => {
                return Err(ExtractError::SpecialFile {
                    entry: name,
                    kind: "block device",
                })
            }
            T::Fifo => {
                return Err(ExtractError::SpecialFile {
                    entry: name,
                    kind: "FIFO",
                })
            }
            // Metadata entries (pax and GNU long names) are consumed by the
            // tar reader; anything else is skipped.
            _ => {}
        }
    }
    Ok(archive.into_inner())
}

fn extract_zip(reader: impl Read + Seek, sink: &mut Sink<'_>) -> Result<(), ExtractError> {
    let corrupt = |e: zip::result::ZipError| ExtractError::Corrupt {
        format: "zip",
        reason: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(reader).map_err(corrupt)?;
    if archive.len() as u64 > sink.limits.max_entries {
        return Err(ExtractError::TooManyEntries {
            limit: sink.limits.max_entries,
        });
    }
    for i in 0..archive.len() {
        let file = archive.by_index(i).map_err(corrupt)?;
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        let mode = file.unix_mode().unwrap_or(0o644);
        const S_IFMT: u32 = 0o170000;
        const S_IFLNK: u32 = 0o120000;
        const S_IFREG: u32 = 0o100000;
        let file_type = mode & S_IFMT;
        if file.is_dir() {
            sink.directory(&name)?;
        } else if file_type == S_IFLNK {
            let mut target = String::new();
            file.take(4096)
                .read_to_string(&mut target)
                .map_err(|e| ExtractError::Corrupt {
                    format: "zip",
                    reason: e.to_string(),
                })?;
            sink.link(&name, &target, false)?;
        } else if file_type != 0 && file_type != S_IFREG {
            return Err(ExtractError::SpecialFile {
                entry: name,
                kind: "special file",
            });
        } else {
            sink.file(&name, file, mode & 0o111 != 0)?;
        }
    }
    Ok(())
}

fn extract_gem(reader: impl Read, sink: &mut Sink<'_>) -> Result<(), ExtractError> {
    let corrupt = |e: io::Error| ExtractError::Corrupt {
        format: "gem",
        reason: e.to_string(),
    };
    let mut outer = tar::Archive::new(reader);
    let mut saw_data = false;
    for entry in outer.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match name.as_str() {
            "data.tar.gz" => {
                saw_data = true;
                let limits = sink.limits;
                extract_tar(GzDecoder::new(&mut entry), sink, "gem data.tar.gz")
                    .and_then(|rest| finish_gzip(rest, "gem data.tar.gz", limits))
                    .map_err(|e| match e {
                        ExtractError::Corrupt { reason, .. } => ExtractError::Corrupt {
                            format: "gem",
                            reason: format!("its data.tar.gz is corrupt: {reason}"),
                        },
                        other => other,
                    })?;
            }
            "metadata.gz" => {
                let mut text = String::new();
                let limit = sink.limits.max_metadata_bytes;
                GzDecoder::new(&mut entry)
                    .take(limit + 1)
                    .read_to_string(&mut text)
                    .map_err(|e| ExtractError::Corrupt {
                        format: "gem",
                        reason: format!("its metadata.gz is corrupt: {e}"),
                    })?;
                if text.len() as u64 > limit {
                    return Err(ExtractError::FileTooLarge {
                        entry: "metadata.gz".into(),
                        limit,
                    });
                }
                sink.report.gem_metadata = Some(text);
            }
            // Signatures and checksums.yaml.gz are not package content.
            _ => {}
        }
    }
    if !saw_data {
        return Err(ExtractError::Corrupt {
            format: "gem",
            reason: "it has no data.tar.gz".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_confined_to_the_destination() {
        assert_eq!(
            safe_path("package/index.js", 8).unwrap(),
            Some(PathBuf::from("package/index.js"))
        );
        assert_eq!(safe_path("./a//b/", 8).unwrap(), Some(PathBuf::from("a/b")));
        assert_eq!(safe_path(".", 8).unwrap(), None);
        assert!(matches!(
            safe_path("../x", 8),
            Err(ExtractError::PathTraversal { .. })
        ));
        assert!(matches!(
            safe_path("a/../../x", 8),
            Err(ExtractError::PathTraversal { .. })
        ));
        assert!(matches!(
            safe_path("a\\..\\x", 8),
            Err(ExtractError::PathTraversal { .. })
        ));
        assert!(matches!(
            safe_path("/etc/passwd", 8),
            Err(ExtractError::AbsolutePath { .. })
        ));
        assert!(matches!(
            safe_path("C:\\x", 8),
            Err(ExtractError::AbsolutePath { .. })
        ));
        assert!(matches!(
            safe_path("a/b/c", 2),
            Err(ExtractError::TooDeep { depth: 3, .. })
        ));
    }

    #[test]
    fn formats_are_detected_from_content() {
        assert_eq!(
            ArchiveFormat::detect(&[0x1f, 0x8b, 8], "x.tgz"),
            Some(ArchiveFormat::TarGz)
        );
        assert_eq!(
            ArchiveFormat::detect(b"PK\x03\x04rest", "x.whl"),
            Some(ArchiveFormat::Zip)
        );
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(
            ArchiveFormat::detect(&tar, "x.tar"),
            Some(ArchiveFormat::Tar)
        );
        assert_eq!(
            ArchiveFormat::detect(&tar, "x-1.0.gem"),
            Some(ArchiveFormat::Gem)
        );
        assert_eq!(ArchiveFormat::detect(b"<html>", "x.tgz"), None);
    }
}
