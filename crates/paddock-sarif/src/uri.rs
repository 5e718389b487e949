//! File paths turned into relative URI references (RFC 3986), the only
//! kind of URI Paddock writes in a log.
//!
//! A path comes from the package (a file name its author chose) or from
//! a lockfile's location, so it is hostile input: each `/`-separated
//! segment is percent-encoded (UTF-8) except RFC 3986's unreserved
//! characters, which makes spaces, `%`, `?`, `#`, `:` (a first segment
//! with a colon would read as a scheme), `\`, control characters and
//! non-ASCII text safe, and the reference decodes back to the same name.
//! Absolute paths and `..` segments are refused rather than rewritten: a
//! location outside its base is never written. Empty and `.` segments are
//! dropped; a path with nothing left is the base itself, `.`.
//!
//! Kept here rather than in a URL crate because the job is only encoding
//! segments, which `percent-encoding` does; joining and normalising URLs
//! (what `url` does) is exactly what must not happen to a hostile path.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What is left unencoded in a segment: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest path accepted, in bytes: far past any real file name, short
/// enough that one hostile name cannot bloat a log.
pub const MAX_PATH_BYTES: usize = 4096;

/// The reference to the base directory itself.
pub const BASE_ITSELF: &str = ".";

/// Why a path cannot be written as a location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` cannot be a location: {reason}")]
pub struct UnsafePath {
    /// The path, shortened to 200 characters.
    pub path: String,
    pub reason: &'static str,
}

/// The relative URI reference of `path` (`/`-separated, relative to its
/// base), or why there is none.
pub fn relative_uri(path: &str) -> Result<String, UnsafePath> {
    let refuse = |reason| UnsafePath {
        path: path.chars().take(200).collect(),
        reason,
    };
    if path.len() > MAX_PATH_BYTES {
        return Err(refuse("longer than 4096 bytes"));
    }
    if path.starts_with('/') {
        return Err(refuse(
            "it is absolute; give it relative to its base (uriBaseId)",
        ));
    }
    let mut segments = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(refuse("it has a `..` segment, which leaves its base")),
            s => segments.push(utf8_percent_encode(s, SEGMENT).to_string()),
        }
    }
    if segments.is_empty() {
        return Ok(BASE_ITSELF.to_owned());
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_stay_readable() {
        assert_eq!(
            relative_uri("package/lib/index.js").unwrap(),
            "package/lib/index.js"
        );
        assert_eq!(relative_uri("a_b-c.d~e").unwrap(), "a_b-c.d~e");
    }

    #[test]
    fn hostile_names_are_percent_encoded() {
        assert_eq!(relative_uri("lib/a b.js").unwrap(), "lib/a%20b.js");
        assert_eq!(relative_uri("lib/100%.js").unwrap(), "lib/100%25.js");
        assert_eq!(relative_uri("lib/ü.js").unwrap(), "lib/%C3%BC.js");
        assert_eq!(relative_uri("a?b#c").unwrap(), "a%3Fb%23c");
        // A colon in the first segment would read as a scheme.
        assert_eq!(relative_uri("c:/x").unwrap(), "c%3A/x");
        assert_eq!(relative_uri("a\\..\\b").unwrap(), "a%5C..%5Cb");
        assert_eq!(relative_uri("new\nline").unwrap(), "new%0Aline");
    }

    #[test]
    fn empty_and_dot_segments_are_dropped() {
        assert_eq!(relative_uri("./a//b/./c").unwrap(), "a/b/c");
        assert_eq!(relative_uri("").unwrap(), BASE_ITSELF);
        assert_eq!(relative_uri("./").unwrap(), BASE_ITSELF);
    }

    #[test]
    fn paths_that_leave_their_base_are_refused() {
        for path in ["/etc/passwd", "../x", "a/../../x", "a/..", "//host/x"] {
            let err = relative_uri(path).unwrap_err();
            assert_eq!(err.path, path);
        }
        assert!(relative_uri(&"a".repeat(MAX_PATH_BYTES + 1)).is_err());
    }
}
