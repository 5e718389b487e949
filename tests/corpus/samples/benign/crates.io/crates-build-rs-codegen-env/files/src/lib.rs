//! MIME types by file extension.
//!
//! ```
//! assert_eq!(mimedb_lite::from_extension("PNG"), Some("image/png"));
//! assert_eq!(mimedb_lite::from_path("site/index.html"), Some("text/html"));
//! ```

include!(concat!(env!("OUT_DIR"), "/mime_table.rs"));

/// Git commit the crate was built from ("release" for registry builds).
pub const GIT_HASH: &str = env!("MIMEDB_GIT_HASH");
/// Target triple the crate was built for.
pub const BUILD_TARGET: &str = env!("MIMEDB_BUILD_TARGET");

/// The MIME type for an extension (case-insensitive, without the dot).
pub fn from_extension(ext: &str) -> Option<&'static str> {
    let ext = ext.to_ascii_lowercase();
    TABLE
        .binary_search_by(|(e, _)| (*e).cmp(ext.as_str()))
        .ok()
        .map(|i| TABLE[i].1)
}

/// The MIME type for a path's extension.
pub fn from_path(path: &str) -> Option<&'static str> {
    let name = path.rsplit(['/', '\\']).next()?;
    let (_, ext) = name.rsplit_once('.')?;
    from_extension(ext)
}

/// All extensions registered for a MIME type.
pub fn extensions(mime: &str) -> impl Iterator<Item = &'static str> + '_ {
    TABLE.iter().filter(move |(_, m)| *m == mime).map(|(e, _)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(from_extension("js"), Some("application/javascript"));
        assert_eq!(from_extension("JPEG"), Some("image/jpeg"));
        assert_eq!(from_extension("exe"), None);
        assert_eq!(from_path("a/b.tar.gz"), Some("application/gzip"));
        assert_eq!(from_path("Makefile"), None);
        assert_eq!(extensions("image/jpeg").collect::<Vec<_>>(), ["jpeg", "jpg"]);
    }

    #[test]
    fn table_is_sorted() {
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(!GIT_HASH.is_empty() && !BUILD_TARGET.is_empty());
    }
}
