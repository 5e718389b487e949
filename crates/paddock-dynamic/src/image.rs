//! The sandbox's root filesystem: one Debian rootfs for all five
//! ecosystems, built with `mmdebstrap` from `sandbox-images/packages.txt`
//! and cached under a hash of everything that goes into it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The Debian release the image is built from.
pub const SUITE: &str = "bookworm";
/// The package list (sandbox-images/packages.txt).
pub const PACKAGES: &str = include_str!("../../../sandbox-images/packages.txt");
/// Bumped whenever [`finish`] changes what it writes into the rootfs.
const RECIPE: &str = "paddock-image-1";

/// The resolver configuration inside the sandbox: the simulated
/// internet's resolver, one query at a time (so glibc `send`s each one and
/// the trace shows its name), and quick give-ups while nothing answers.
pub fn resolv_conf() -> String {
    format!(
        "nameserver {}\noptions single-request timeout:1 attempts:1\n",
        paddock_sandbox::netns::RESOLVER_ADDR
    )
}

/// `[dynamic.image]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ImageConfig {
    /// A rootfs made elsewhere (say, the production image from
    /// sandbox-images/Dockerfile, exported): used as it is, nothing built.
    pub rootfs: Option<PathBuf>,
    /// Where built images are kept, one directory per hash. Unset: the
    /// caller's default (`~/.cache/paddock/images` for the CLI).
    pub cache_dir: Option<PathBuf>,
    /// A Debian mirror for mmdebstrap. Unset: mmdebstrap's own default.
    pub mirror: Option<String>,
    /// Build the image when it is missing (else fail, saying how to).
    #[serde(default = "yes")]
    pub build: bool,
}

fn yes() -> bool {
    true
}

/// Why no rootfs is available.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the sandbox rootfs {0} is not built; run `paddock image build` (takes about a minute) or set dynamic.image.build = true")]
    NotBuilt(PathBuf),
    #[error("the configured rootfs {0} does not exist")]
    Missing(PathBuf),
    #[error("mmdebstrap failed building {target} (log: {log}); is Debian's `mmdebstrap` installed and a Debian mirror reachable? Set dynamic.image.mirror for another mirror")]
    Build { target: PathBuf, log: PathBuf },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ImageError {
    let what = what.into();
    move |source| ImageError::Io { what, source }
}

/// The packages, one per entry.
pub fn packages() -> Vec<&'static str> {
    PACKAGES
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The image's identity: a hash of the recipe, the suite, the packages
/// and the files written into it.
pub fn image_hash() -> String {
    let mut h = Sha256::new();
    for part in [RECIPE, SUITE, &packages().join(","), &resolv_conf()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_owned()
}

/// The rootfs to use: the configured one, or the cached build of this
/// hash (built now if allowed).
pub fn ensure(config: &ImageConfig, default_cache: &Path) -> Result<PathBuf, ImageError> {
    if let Some(rootfs) = &config.rootfs {
        return if rootfs.join("usr").is_dir() {
            Ok(rootfs.clone())
        } else {
            Err(ImageError::Missing(rootfs.clone()))
        };
    }
    let cache = config.cache_dir.clone().unwrap_or(default_cache.to_owned());
    let dir = cache.join(image_hash());
    let rootfs = dir.join("rootfs");
    if dir.join("complete").exists() {
        return Ok(rootfs);
    }
    if !config.build {
        return Err(ImageError::NotBuilt(rootfs));
    }
    build(&cache, config.mirror.as_deref())
}

/// Builds the image into `cache/<hash>` (unless another process just did)
/// and returns its rootfs. Concurrent builders wait on a lock file.
pub fn build(cache: &Path, mirror: Option<&str>) -> Result<PathBuf, ImageError> {
    let hash = image_hash();
    let dir = cache.join(&hash);
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(cache).map_err(io(format!("creating {}", cache.display())))?;
    let lock = std::fs::File::create(cache.join(format!("{hash}.lock")))
        .map_err(io("creating the image lock file"))?;
    lock.lock().map_err(io("locking the image cache"))?;
    if dir.join("complete").exists() {
        return Ok(rootfs);
    }
    let partial = cache.join(format!("{hash}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io("removing a partial image"))?;
    }
    std::fs::create_dir_all(&partial).map_err(io("creating the image directory"))?;
    let log_path = cache.join(format!("{hash}.log"));
    let log = std::fs::File::create(&log_path).map_err(io("creating the build log"))?;
    tracing::info!(hash, target = %partial.display(), "building the sandbox rootfs with mmdebstrap");
    let target = partial.join("rootfs");
    // mmdebstrap dies with the thread waiting for it (and so with
    // `paddock`, even SIGKILLed) where util-linux's setpriv is there.
    let mut cmd = match ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
    {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--", "mmdebstrap"]);
            c
        }
        None => Command::new("mmdebstrap"),
    };
    cmd.args(["--mode=root", "--variant=apt", "--format=directory"])
        .arg(format!("--include={}", packages().join(",")))
        .args([
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
        ])
        .arg(SUITE)
        .arg(&target);
    if let Some(mirror) = mirror {
        cmd.arg(mirror);
    }
    let status = cmd
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(io("build log"))?)
        .stderr(log)
        .status()
        .map_err(io("running mmdebstrap (Debian package `mmdebstrap`)"))?;
    if !status.success() {
        return Err(ImageError::Build {
            target: target.clone(),
            log: log_path,
        });
    }
    finish(&target)?;
    std::fs::write(partial.join("complete"), &hash).map_err(io("marking the image complete"))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io("replacing an incomplete image"))?;
    }
    std::fs::rename(&partial, &dir).map_err(io("moving the image into place"))?;
    Ok(rootfs)
}

/// What Paddock writes into the rootfs after the packages: its own
/// resolver, a neutral host name, the mount points, no host leftovers.
fn finish(root: &Path) -> Result<(), ImageError> {
    let write = |rel: &str, body: &str| -> Result<(), ImageError> {
        let path = root.join(rel);
        let _ = std::fs::remove_file(&path);
        let mut f = std::fs::File::create(&path).map_err(io(format!("writing {rel}")))?;
        f.write_all(body.as_bytes())
            .map_err(io(format!("writing {rel}")))
    };
    write("etc/resolv.conf", &resolv_conf())?;
    write(
        "etc/hosts",
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )?;
    write("etc/hostname", "localhost\n")?;
    // mmdebstrap copies the host's machine id in some modes: a fixed one
    // tells the package nothing about the worker.
    write("etc/machine-id", "")?;
    for dir in ["app", "artifact", "opt/paddock", "root/.ssh", "tmp"] {
        std::fs::create_dir_all(root.join(dir)).map_err(io(format!("creating /{dir}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_list_has_every_ecosystem_client() {
        let p = packages();
        for needed in [
            "nodejs",
            "npm",
            "python3-pip",
            "ruby",
            "composer",
            "cargo-web",
        ] {
            assert!(p.contains(&needed), "{needed} missing from {p:?}");
        }
        assert!(p.iter().all(|p| !p.contains(' ') && !p.contains('#')));
    }

    #[test]
    fn the_hash_is_stable_and_short() {
        assert_eq!(image_hash(), image_hash());
        assert_eq!(image_hash().len(), 16);
    }
}
