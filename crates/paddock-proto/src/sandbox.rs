//! Facts about the sandbox that every crate reading or writing its records
//! must agree on, in one place: the simulated internet's addresses and
//! ports, where the harness lives inside the sandbox, its own programs
//! (drivers and package managers), the install, artifact and home paths,
//! and which file operations write. The trace, the simulated internet, the diff and the
//! dynamic analysis all read them from here.

use std::net::Ipv4Addr;

use crate::v1::{Ecosystem, FileOp};

/// The sandbox's address on its link to the internet host.
pub const SANDBOX_ADDR: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 2);
/// The internet host's address on that link: the sandbox's resolver, and
/// the registry proxy.
pub const HOST_ADDR: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 1);
/// The link's prefix length.
pub const LINK_PREFIX_LEN: u8 = 24;
/// Names resolved inside the sandbox get addresses from here, one each, in
/// the order they are asked for: such an address says nothing by itself;
/// the name it was handed out for does.
pub const NAME_POOL: Ipv4Addr = Ipv4Addr::new(10, 232, 0, 0);
/// The name pool's prefix length.
pub const NAME_POOL_PREFIX_LEN: u8 = 16;
/// How many addresses the name pool holds.
pub const NAME_POOL_SIZE: u32 = 1 << (32 - NAME_POOL_PREFIX_LEN as u32);
/// The resolver's port on [`HOST_ADDR`].
pub const RESOLVER_PORT: u16 = 53;
/// The registry proxy's port on [`HOST_ADDR`].
pub const PROXY_PORT: u16 = 3141;
/// Where the redirect rule sends every other TCP connection.
pub const CATCHALL_PORT: u16 = 9;

/// Where the drivers (the harness's own programs) live inside the sandbox.
pub const DRIVER_DIR: &str = "/opt/paddock/";
/// The install area: the writable directory the package and its
/// dependencies are installed into, and the phases' working directory.
pub const INSTALL_DIR: &str = "/app/";
/// Where the artifact under analysis is mounted read-only.
pub const ARTIFACT_DIR: &str = "/artifact/";
/// The sandbox user's home, writable like the install area.
pub const HOME_DIR: &str = "/root/";

/// The interpreter and the driver (a file in [`DRIVER_DIR`]) that run an
/// ecosystem's phases: the harness's own processes.
pub fn driver(eco: Ecosystem) -> (&'static str, &'static str) {
    match eco {
        Ecosystem::Npm => ("node", "analyze-node.js"),
        Ecosystem::Rubygems => ("ruby", "analyze-ruby.rb"),
        Ecosystem::Packagist => ("php", "analyze-php.php"),
        Ecosystem::CratesIo => ("python3", "analyze-rust.py"),
        Ecosystem::Pypi | Ecosystem::Unspecified => ("python3", "analyze-python.py"),
    }
}

/// The programs that install packages, by name: a driver launches exactly
/// one of them per install (and `cargo run` for a crate's import and
/// execute). What they do is the harness's, not the package's.
pub const PACKAGE_MANAGERS: &[&str] = &[
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "pip",
    "pip3",
    "gem",
    "bundle",
    "bundler",
    "composer",
    "composer.phar",
    "cargo",
];

/// A directory above without its trailing `/`: a mount point, a `cwd`.
pub fn mount_point(dir: &str) -> &str {
    dir.trim_end_matches('/')
}

/// Where the sandbox finds the analysis's CA certificate and trust bundle.
pub const TRUST_DIR: &str = "/opt/paddock-tls";

/// The `n`-th address of the [`NAME_POOL`] (the first name gets 1), or
/// `None` past its end (its last address, the broadcast, included).
pub fn pool_address(n: u32) -> Option<Ipv4Addr> {
    (n < NAME_POOL_SIZE - 1).then(|| Ipv4Addr::from(u32::from(NAME_POOL) + n))
}

/// Whether `address` was handed out from the [`NAME_POOL`].
pub fn in_name_pool(address: Ipv4Addr) -> bool {
    let mask = u32::MAX << (32 - u32::from(NAME_POOL_PREFIX_LEN));
    u32::from(address) & mask == u32::from(NAME_POOL)
}

impl FileOp {
    /// Whether the operation creates or changes what is at its path: its
    /// content, a new entry, its mode or owner, or a link to it. A rename
    /// writes its target (and removes its source).
    pub fn writes(self) -> bool {
        matches!(
            self,
            FileOp::OpenWrite
                | FileOp::Create
                | FileOp::Mkdir
                | FileOp::Chmod
                | FileOp::Chown
                | FileOp::Link
                | FileOp::Symlink
        )
    }

    /// Whether the operation removes what is at its path.
    pub fn removes(self) -> bool {
        matches!(self, FileOp::Delete | FileOp::Rmdir | FileOp::Rename)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_address_is_in_the_pool_and_nothing_around_it_is() {
        let first = pool_address(1).unwrap();
        let last = pool_address(NAME_POOL_SIZE - 2).unwrap();
        assert!(in_name_pool(first) && in_name_pool(last));
        assert_eq!(pool_address(NAME_POOL_SIZE - 1), None);
        let before = Ipv4Addr::from(u32::from(NAME_POOL) - 1);
        let after = Ipv4Addr::from(u32::from(NAME_POOL) + NAME_POOL_SIZE);
        assert!(!in_name_pool(before) && !in_name_pool(after));
        // The sandbox's link is outside the pool.
        assert!(!in_name_pool(HOST_ADDR) && !in_name_pool(SANDBOX_ADDR));
        assert_eq!(NAME_POOL_SIZE, 1 << (32 - u32::from(NAME_POOL_PREFIX_LEN)));
    }

    #[test]
    fn every_operation_is_classified_once() {
        for op in [
            FileOp::OpenRead,
            FileOp::OpenWrite,
            FileOp::Create,
            FileOp::Mkdir,
            FileOp::Chmod,
            FileOp::Chown,
            FileOp::Link,
            FileOp::Symlink,
            FileOp::Delete,
            FileOp::Rmdir,
            FileOp::Rename,
            FileOp::Stat,
        ] {
            assert!(!(op.writes() && op.removes()), "{op:?}");
        }
        assert!(!FileOp::OpenRead.writes() && !FileOp::Stat.writes());
    }
}
