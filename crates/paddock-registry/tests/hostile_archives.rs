//! Hostile archives: each is refused with a clear error, and nothing is
//! written outside the extraction directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use paddock_registry::extract::{
    extract, extract_auto, ArchiveFormat, ExtractError, ExtractLimits,
};

/// A tar entry whose name and link target are written raw, bypassing the
/// tar builder's own path checks, as an attacker's tool would.
fn raw_entry(tar: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, body: &[u8]) {
    let mut header = tar::Header::new_ustar();
    let bytes = header.as_mut_bytes();
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    bytes[157..157 + link.len()].copy_from_slice(link.as_bytes());
    header.set_entry_type(kind);
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.extend_from_slice(header.as_bytes());
    tar.extend_from_slice(body);
    let pad = (512 - body.len() % 512) % 512;
    tar.extend(std::iter::repeat_n(0u8, pad));
}

fn finish(mut tar: Vec<u8>) -> Vec<u8> {
    tar.extend([0u8; 1024]);
    tar
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A sandbox: `root/archive` and `root/out`; afterwards `root` must hold
/// nothing else, and nothing may have appeared next to it.
struct Scene {
    root: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        Self {
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn archive(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn out(&self) -> PathBuf {
        self.root.path().join("out")
    }

    fn assert_nothing_outside(&self, archive_name: &str) {
        let mut names: Vec<_> = std::fs::read_dir(self.root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected = vec![archive_name.to_owned(), "out".to_owned()];
        expected.sort();
        assert_eq!(
            names, expected,
            "something was written outside the extraction directory"
        );
    }
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            n += count_files(&entry.path());
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn a_zip_bomb_is_stopped_by_the_expansion_ratio() {
    let scene = Scene::new();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("package/zeros.bin", options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..512 {
        zip.write_all(&chunk).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(
        bytes.len() < 2 << 20,
        "the bomb is small: {} bytes",
        bytes.len()
    );
    let archive = scene.archive("bomb.zip", &bytes);

    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::Ratio { .. }), "{err}");
    assert!(err.to_string().contains("decompression bomb"));
    let written: u64 = std::fs::metadata(scene.out().join("package/zeros.bin"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(written < 128 << 20, "stopped early, after {written} bytes");
    scene.assert_nothing_outside("bomb.zip");
}

#[test]
fn a_gzip_bomb_in_a_tarball_is_stopped_too() {
    let scene = Scene::new();
    let mut tar = tar::Builder::new(Vec::new());
    let body = vec![0u8; 300 << 20];
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "package/zeros", body.as_slice())
        .unwrap();
    let bytes = gzip(&tar.into_inner().unwrap());
    let archive = scene.archive("bomb.tgz", &bytes);
    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::Ratio { .. }), "{err}");
    scene.assert_nothing_outside("bomb.tgz");
}

#[test]
fn dot_dot_paths_are_refused() {
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/ok.js",
        tar::EntryType::Regular,
        "",
        b"ok",
    );
    raw_entry(
        &mut tar,
        "package/../../escaped.txt",
        tar::EntryType::Regular,
        "",
        b"pwned",
    );
    let archive = scene.archive("traversal.tgz", &gzip(&finish(tar)));
    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::PathTraversal { .. }), "{err}");
    assert!(err.to_string().contains("package/../../escaped.txt"));
    assert!(!scene.root.path().join("escaped.txt").exists());
    assert!(!scene
        .root
        .path()
        .parent()
        .unwrap()
        .join("escaped.txt")
        .exists());
    scene.assert_nothing_outside("traversal.tgz");
}

#[test]
fn absolute_paths_are_refused() {
    let scene = Scene::new();
    let target = scene.root.path().join("absolute-target.txt");
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        target.to_str().unwrap(),
        tar::EntryType::Regular,
        "",
        b"pwned",
    );
    let archive = scene.archive("absolute.tar", &finish(tar));
    let err = extract(
        &archive,
        ArchiveFormat::Tar,
        &scene.out(),
        &ExtractLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::AbsolutePath { .. }), "{err}");
    assert!(!target.exists());
    scene.assert_nothing_outside("absolute.tar");
}

#[test]
fn a_symlink_to_a_host_file_is_refused() {
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/passwd",
        tar::EntryType::Symlink,
        "/etc/passwd",
        b"",
    );
    let archive = scene.archive("symlink.tgz", &gzip(&finish(tar)));
    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::LinkOutside { .. }), "{err}");
    assert!(err.to_string().contains("/etc/passwd"));
    assert!(
        std::fs::symlink_metadata(scene.out().join("package/passwd")).is_err(),
        "no link on disk"
    );

    // A relative link that climbs out is refused as well.
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/lib/x",
        tar::EntryType::Symlink,
        "../../../etc/passwd",
        b"",
    );
    let archive = scene.archive("symlink.tgz", &gzip(&finish(tar)));
    assert!(matches!(
        extract_auto(&archive, &scene.out(), &ExtractLimits::default()),
        Err(ExtractError::LinkOutside { .. })
    ));
    scene.assert_nothing_outside("symlink.tgz");
}

#[test]
fn in_tree_links_are_recorded_but_not_created() {
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/real.js",
        tar::EntryType::Regular,
        "",
        b"x",
    );
    raw_entry(
        &mut tar,
        "package/alias.js",
        tar::EntryType::Symlink,
        "real.js",
        b"",
    );
    let archive = scene.archive("links.tgz", &gzip(&finish(tar)));
    let report = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap();
    assert_eq!(
        report.links,
        [("package/alias.js".to_owned(), "real.js".to_owned())]
    );
    assert!(std::fs::symlink_metadata(scene.out().join("package/alias.js")).is_err());
    assert_eq!(
        std::fs::read(scene.out().join("package/real.js")).unwrap(),
        b"x"
    );
}

#[test]
fn a_hard_link_out_of_the_tree_is_refused() {
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/shadow",
        tar::EntryType::Link,
        "../../etc/shadow",
        b"",
    );
    let archive = scene.archive("hardlink.tar", &finish(tar));
    let err = extract(
        &archive,
        ArchiveFormat::Tar,
        &scene.out(),
        &ExtractLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::LinkOutside { .. }), "{err}");
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/passwd",
        tar::EntryType::Link,
        "/etc/passwd",
        b"",
    );
    let archive = scene.archive("hardlink.tar", &finish(tar));
    assert!(matches!(
        extract(
            &archive,
            ArchiveFormat::Tar,
            &scene.out(),
            &ExtractLimits::default()
        ),
        Err(ExtractError::LinkOutside { .. })
    ));
    scene.assert_nothing_outside("hardlink.tar");
}

#[test]
fn device_files_are_refused() {
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(&mut tar, "package/mem", tar::EntryType::Char, "", b"");
    let archive = scene.archive("device.tar", &finish(tar));
    let err = extract(
        &archive,
        ArchiveFormat::Tar,
        &scene.out(),
        &ExtractLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExtractError::SpecialFile {
                kind: "character device",
                ..
            }
        ),
        "{err}"
    );
    scene.assert_nothing_outside("device.tar");
}

#[test]
fn a_hundred_thousand_files_exceed_the_entry_limit() {
    let scene = Scene::new();
    let mut tar = Vec::with_capacity(100_000 * 512 + 1024);
    for i in 0..100_000 {
        raw_entry(
            &mut tar,
            &format!("package/f{i}"),
            tar::EntryType::Regular,
            "",
            b"",
        );
    }
    let archive = scene.archive("many.tgz", &gzip(&finish(tar)));
    let limits = ExtractLimits::default();
    let err = extract_auto(&archive, &scene.out(), &limits).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooManyEntries { limit: 20_000 }),
        "{err}"
    );
    assert!(count_files(&scene.out()) <= limits.max_entries as usize);
    scene.assert_nothing_outside("many.tgz");
}

#[test]
fn deep_nesting_is_refused() {
    let scene = Scene::new();
    let mut tar = tar::Builder::new(Vec::new());
    let deep = (0..60)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/")
        + "/f";
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, &deep, &b"x"[..]).unwrap();
    let archive = scene.archive("deep.tar", &tar.into_inner().unwrap());
    let err = extract(
        &archive,
        ArchiveFormat::Tar,
        &scene.out(),
        &ExtractLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::TooDeep { .. }), "{err}");
}

fn gem(data_tar_gz: &[u8]) -> Vec<u8> {
    let mut outer = tar::Builder::new(Vec::new());
    for (name, body) in [
        (
            "metadata.gz",
            gzip(b"--- !ruby/object:Gem::Specification\nname: demo\n"),
        ),
        ("data.tar.gz", data_tar_gz.to_vec()),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(body.len() as u64);
        header.set_mode(0o444);
        header.set_cksum();
        outer
            .append_data(&mut header, name, body.as_slice())
            .unwrap();
    }
    outer.into_inner().unwrap()
}

#[test]
fn a_gem_with_a_corrupt_inner_tar_is_refused() {
    let scene = Scene::new();
    let mut garbage = gzip(&finish({
        let mut t = Vec::new();
        raw_entry(
            &mut t,
            "lib/demo.rb",
            tar::EntryType::Regular,
            "",
            b"puts 1",
        );
        t
    }));
    let len = garbage.len();
    garbage.truncate(len / 2);
    let archive = scene.archive("demo-1.0.0.gem", &gem(&garbage));
    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(
        matches!(err, ExtractError::Corrupt { format: "gem", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("data.tar.gz"), "{err}");
    scene.assert_nothing_outside("demo-1.0.0.gem");
}

#[test]
fn a_well_formed_gem_extracts_with_its_metadata() {
    let scene = Scene::new();
    let mut inner = Vec::new();
    raw_entry(
        &mut inner,
        "lib/demo.rb",
        tar::EntryType::Regular,
        "",
        b"puts 1\n",
    );
    let archive = scene.archive("demo-1.0.0.gem", &gem(&gzip(&finish(inner))));
    let report = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap();
    assert_eq!(
        std::fs::read(scene.out().join("lib/demo.rb")).unwrap(),
        b"puts 1\n"
    );
    assert!(report.gem_metadata.unwrap().contains("name: demo"));
}

#[test]
fn a_truncated_tarball_is_a_corrupt_archive() {
    let scene = Scene::new();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "package/a.js",
        tar::EntryType::Regular,
        "",
        &[b'a'; 5000],
    );
    let mut bytes = gzip(&finish(tar));
    bytes.truncate(bytes.len() - 10);
    let archive = scene.archive("cut.tgz", &bytes);
    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::Corrupt { .. }), "{err}");
}

#[test]
fn garbage_is_not_an_archive() {
    let scene = Scene::new();
    let archive = scene.archive("page.tgz", b"<html>rate limited</html>");
    let err = extract_auto(&archive, &scene.out(), &ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::UnknownFormat { .. }), "{err}");
}
