//! What the sandbox and its harness do in every analysis, in one place, so
//! that none of it is taken for the package's behaviour.
//!
//! Every exclusion carries its reason. The principle: the driver
//! (`/opt/paddock/analyze-*`) and the package manager it launches are the
//! harness; the install area and the package managers' caches are where an
//! install is supposed to write; the sandbox's resolver and registry proxy
//! are its plumbing. Everything else a run shows is the package's.

use std::net::IpAddr;

use crate::normalize::clean_path;

/// Where the drivers live inside the sandbox image.
pub use paddock_proto::sandbox::DRIVER_DIR;
use paddock_proto::sandbox::{mount_point, ARTIFACT_DIR, HOME_DIR, INSTALL_DIR};
/// The internet host's address on the sandbox's link (its resolver and
/// registry proxy), the resolver's port (every DNS query goes there and is
/// recorded as a DNS name instead) and the registry proxy's (package
/// managers fetch dependencies through it, recorded as fetched packages
/// instead).
use paddock_proto::sandbox::{HOST_ADDR, PROXY_PORT as REGISTRY_PROXY_PORT, RESOLVER_PORT};
/// What an address of the name pool reads as when its name is unknown.
pub const POOL_ADDRESS: &str = "<resolved-address>";

/// Whether a connection or datagram is the sandbox's plumbing or local:
/// the resolver, the registry proxy, loopback, the unspecified address.
pub fn is_plumbing(address: &str, port: u32) -> bool {
    let harness_port = port == u32::from(RESOLVER_PORT) || port == u32::from(REGISTRY_PROXY_PORT);
    if harness_port && address.parse() == Ok(HOST_ADDR) {
        return true;
    }
    match address
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V4(a)) => a.is_loopback() || a.is_unspecified(),
        Ok(IpAddr::V6(a)) => {
            a.is_loopback()
                || a.is_unspecified()
                || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// An address as a profile shows it: an address of the name pool
/// ([`paddock_proto::sandbox::NAME_POOL`]) is replaced, since it says
/// nothing by itself; the name it was handed out for does.
pub fn display_address(address: &str) -> String {
    if address
        .parse()
        .is_ok_and(paddock_proto::sandbox::in_name_pool)
    {
        POOL_ADDRESS.to_owned()
    } else {
        address.to_owned()
    }
}

use paddock_proto::sandbox::PACKAGE_MANAGERS;

pub(crate) fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

pub(crate) fn is_interpreter(prog: &str) -> bool {
    matches!(prog, "node" | "nodejs" | "ruby" | "php" | "perl")
        || prog
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

pub(crate) fn is_shell(prog: &str) -> bool {
    matches!(prog, "sh" | "bash" | "dash")
}

/// Compilers, assemblers and linkers. A native build runs them with
/// arguments full of generated temp names; what they build shows when it
/// runs (a written file executed is `exec-written-file`), so the toolchain
/// itself is not compared.
const TOOLCHAIN: &[&str] = &[
    "rustc",
    "cc",
    "c++",
    "gcc",
    "g++",
    "clang",
    "clang++",
    "cc1",
    "cc1plus",
    "collect2",
    "ld",
    "ld.bfd",
    "ld.gold",
    "ld.lld",
    "lto-wrapper",
    "as",
    "ar",
    "ranlib",
    "strip",
    "make",
    "gmake",
    "cmake",
    "pkg-config",
];

/// Whether a command line runs the native toolchain.
pub fn is_toolchain(argv: &[String]) -> bool {
    argv.first().is_some_and(|a| {
        let prog = basename(a);
        TOOLCHAIN.contains(&prog)
            || prog
                .strip_prefix("x86_64-linux-gnu-")
                .is_some_and(|p| TOOLCHAIN.contains(&p))
    })
}

/// Whether a command line is one of the drivers.
pub fn is_driver(argv: &[String]) -> bool {
    argv.iter().take(2).any(|a| a.starts_with(DRIVER_DIR))
}

/// Whether a command line runs a package manager: directly (`npm
/// install`), through its interpreter (`node /usr/bin/npm`, `python3 -m
/// pip`, `php /usr/local/bin/composer`) or through `sh -c` (PHP's
/// `passthru`).
pub fn is_package_manager(argv: &[String]) -> bool {
    let Some(prog) = argv.first().map(|a| basename(a)) else {
        return false;
    };
    if PACKAGE_MANAGERS.contains(&prog) {
        return true;
    }
    if is_interpreter(prog) {
        let next = argv.get(1).map(String::as_str).unwrap_or_default();
        if next == "-m" {
            return argv.get(2).is_some_and(|m| m.starts_with("pip"));
        }
        return PACKAGE_MANAGERS.contains(&basename(next));
    }
    if is_shell(prog) && argv.get(1).is_some_and(|a| a == "-c") {
        let words: Vec<String> = argv
            .get(2)
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        return is_package_manager(&words);
    }
    false
}

/// A path as the lists below see it: cleaned lexically, with root's home
/// (or any user's) as `~`.
pub fn home_relative(path: &str) -> String {
    let p = clean_path(path);
    if p == mount_point(HOME_DIR) {
        return "~".to_owned();
    }
    if let Some(rest) = p.strip_prefix(HOME_DIR) {
        return format!("~/{rest}");
    }
    if let Some(rest) = p.strip_prefix("/home/") {
        return match rest.split_once('/') {
            Some((_, tail)) => format!("~/{tail}"),
            None => "~".to_owned(),
        };
    }
    p
}

/// Not files at all: descriptors the trace names by kind and number
/// (`pipe:[3]`, `socket:[7]`, gVisor's `host:[1]` for the streams it was
/// given, `anon_inode:[eventfd]`).
pub fn is_not_a_file(path: &str) -> bool {
    match path.split_once(":[") {
        Some((kind, rest)) => {
            !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && rest.ends_with(']')
        }
        None => path.starts_with("anon_inode:"),
    }
}

/// Where writes are expected. A prefix ending in `/` covers a directory's
/// contents (and the directory itself); one without covers every name
/// that starts with it.
const EXPECTED_WRITES: &[(&str, &str)] = &[
    (INSTALL_DIR, "the install area: the package and its dependencies are installed there (node_modules, PYTHONUSERBASE, GEM_HOME, vendor/, the cargo project)"),
    (ARTIFACT_DIR, "the artifact under analysis"),
    ("~/.npm/", "npm's cache and logs (npm_config_cache)"),
    // Each client's own directory in the XDG cache, not the whole of it:
    // droppers like to hide in ~/.cache.
    ("~/.cache/pip/", "pip's cache"),
    ("~/.cache/node-gyp/", "node-gyp's headers"),
    ("~/.cache/composer/", "composer's cache"),
    ("~/.cache/yarn/", "yarn's cache"),
    ("~/.cache/pnpm/", "pnpm's store"),
    ("~/.cargo/registry/", "cargo's download cache"),
    ("~/.cargo/git/", "cargo's git checkouts"),
    ("~/.cargo/.package-cache", "cargo's cache lock"),
    ("~/.composer/cache/", "composer's cache (COMPOSER_HOME)"),
    ("~/.gem/", "RubyGems' per-user spec cache"),
    ("~/.node-gyp/", "node-gyp's downloaded headers"),
    ("/tmp/pip-", "pip's build, unpack and wheel directories"),
    ("/tmp/npm-", "npm's staging directories"),
    ("/tmp/node-compile-cache/", "node's code cache"),
    ("/proc/self/", "a process's own settings (oom score, comm)"),
    ("/proc/thread-self/", "a thread's own settings"),
    ("/dev/pts/", "terminals"),
    ("/dev/fd/", "a process's own descriptors"),
];

/// Devices every program writes to or opens read-write.
const EXPECTED_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/console",
    "/dev/ptmx",
    "/dev/random",
    "/dev/urandom",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
];

fn under(path: &str, prefix: &str) -> bool {
    match prefix.strip_suffix('/') {
        Some(dir) => path == dir || path.starts_with(prefix),
        None => path.starts_with(prefix),
    }
}

/// Why a write or delete at this path is expected of any install, if it
/// is. `path` is as the trace recorded it.
pub fn expected_write(path: &str) -> Option<&'static str> {
    if is_not_a_file(path) {
        return Some("not a file");
    }
    let p = home_relative(path);
    if EXPECTED_DEVICES.contains(&p.as_str()) {
        return Some("a device every program uses");
    }
    if p.split('/').any(|c| c == "__pycache__") {
        // Python writes bytecode next to whatever it imports; the import
        // itself is the behaviour, and it shows elsewhere.
        return Some("python's bytecode cache");
    }
    EXPECTED_WRITES
        .iter()
        .find(|(prefix, _)| under(&p, prefix))
        .map(|(_, why)| *why)
}

/// Files that hold credentials: reading one is what a stealer does.
const CREDENTIAL_FILES: &[&str] = &[
    "~/.npmrc",
    "~/.yarnrc",
    "~/.pypirc",
    "~/.gem/credentials",
    "~/.netrc",
    "~/.git-credentials",
    "~/.config/git/credentials",
    "~/.config/gh/hosts.yml",
    "~/.docker/config.json",
    "~/.kube/config",
    "~/.cargo/credentials",
    "~/.cargo/credentials.toml",
    "~/.composer/auth.json",
    "~/.config/composer/auth.json",
    "~/.boto",
    "~/.s3cfg",
    "/etc/shadow",
    "/etc/gshadow",
];

/// Directories of credentials, browser profiles and crypto wallets.
const CREDENTIAL_DIRS: &[&str] = &[
    "~/.ssh/",
    "~/.aws/",
    "~/.gnupg/",
    "~/.kube/",
    "~/.azure/",
    "~/.config/gcloud/",
    "~/.password-store/",
    "~/.local/share/keyrings/",
    // browser profiles: saved passwords, cookies
    "~/.mozilla/firefox/",
    "~/.config/google-chrome/",
    "~/.config/chromium/",
    "~/.config/BraveSoftware/",
    "~/.config/microsoft-edge/",
    "~/.config/opera/",
    // messenger token stores and sessions
    "~/.config/discord/",
    "~/.config/discordcanary/",
    "~/.config/discordptb/",
    "~/.local/share/TelegramDesktop/",
    "~/.config/Slack/",
    "~/.config/Signal/",
    // crypto wallets
    "~/.bitcoin/",
    "~/.ethereum/",
    "~/.electrum/",
    "~/.litecoin/",
    "~/.dogecoin/",
    "~/.monero/",
    "~/.config/Exodus/",
    "~/.config/Electrum/",
    "~/.config/atomic/",
    "~/.config/solana/",
];

/// Whether reading this path is reading someone's secrets: a credential
/// file, a browser profile, a wallet, or a process environment
/// (`/proc/*/environ`, where the tokens of a CI job are). Other reads are
/// too common to compare: every program reads hundreds of files.
pub fn is_sensitive_read(path: &str) -> bool {
    let p = home_relative(path);
    if CREDENTIAL_FILES.contains(&p.as_str()) || CREDENTIAL_DIRS.iter().any(|d| under(&p, d)) {
        return true;
    }
    p.starts_with("/proc/") && p.ends_with("/environ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn plumbing_is_the_resolver_the_proxy_and_loopback() {
        let host = HOST_ADDR.to_string();
        let pool = |n| paddock_proto::sandbox::pool_address(n).unwrap().to_string();
        assert!(is_plumbing(&host, RESOLVER_PORT.into()));
        assert!(is_plumbing(&host, REGISTRY_PROXY_PORT.into()));
        assert!(is_plumbing("127.0.0.1", 8080));
        assert!(is_plumbing("::1", 80));
        assert!(is_plumbing("::ffff:127.0.0.1", 80));
        assert!(is_plumbing("0.0.0.0", 80));
        assert!(!is_plumbing(&host, 80));
        assert!(!is_plumbing(&pool(5), 443));
        assert!(!is_plumbing("203.0.113.9", 53));
        assert_eq!(display_address(&pool(265)), POOL_ADDRESS);
        assert_eq!(display_address("203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn package_managers_are_recognised_however_they_are_started() {
        for a in [
            &["npm", "install", "x"][..],
            &["node", "/usr/bin/npm", "install"],
            &["/usr/bin/python3", "-m", "pip", "install", "x"],
            &["python3.11", "-m", "pip"],
            &["php", "/usr/local/bin/composer", "require"],
            &["sh", "-c", "composer require --no-interaction 'x:1'"],
            &["gem", "install", "x"],
            &["cargo", "build", "--quiet"],
        ] {
            assert!(is_package_manager(&argv(a)), "{a:?}");
        }
        for a in [
            &["sh", "-c", "curl x | sh"][..],
            &["node", "install.js"],
            &["python3", "-c", "import pip"],
            &["python3", "setup.py"],
            &[],
        ] {
            assert!(!is_package_manager(&argv(a)), "{a:?}");
        }
        assert!(is_driver(&argv(&[
            "node",
            "/opt/paddock/analyze-node.js",
            "install"
        ])));
        assert!(!is_driver(&argv(&["node", "/app/x.js", "/opt/paddock/y"])));
    }

    #[test]
    fn expected_writes_are_the_install_area_caches_and_devices() {
        for p in [
            "/app",
            "/app/node_modules/x/index.js",
            "/root/.npm/_cacache/tmp/x",
            "/root/.cache/pip/http/x",
            "/root/.cargo/registry/src/x",
            "/tmp/pip-req-build-abc/setup.py",
            "/tmp/npm-12-x/y",
            "/dev/null",
            "/proc/self/oom_score_adj",
            "/usr/lib/python3/dist-packages/__pycache__/x.pyc",
            "pipe:[3]",
            "host:[1]",
            "anon_inode:[eventfd]",
            "/root//.npm/../.npm/x",
        ] {
            assert!(expected_write(p).is_some(), "{p}");
        }
        for p in [
            "/tmp/p.sh",
            "/root/.bashrc",
            "/root/.ssh/authorized_keys",
            "/etc/cron.d/x",
            "/application/x",
            "/usr/local/bin/node",
            "/app/../etc/passwd",
            "/proc/1/mem",
        ] {
            assert_eq!(expected_write(p), None, "{p}");
        }
    }

    #[test]
    fn sensitive_reads_are_credentials_profiles_wallets_and_environments() {
        for p in [
            "/root/.ssh/id_rsa",
            "/root/.aws/credentials",
            "/root/.npmrc",
            "/home/u/.pypirc",
            "/root/.gem/credentials",
            "/root/.docker/config.json",
            "/root/.kube/config",
            "/etc/shadow",
            "/proc/self/environ",
            "/proc/42/environ",
            "/root/.config/google-chrome/Default/Login Data",
            "/root/.ethereum/keystore/k",
            "/root/.mozilla/firefox",
        ] {
            assert!(is_sensitive_read(p), "{p}");
        }
        for p in [
            "/etc/passwd",
            "/app/.npmrc",
            "/root/.npm/x",
            "/proc/self/status",
            "/root/.sshx",
        ] {
            assert!(!is_sensitive_read(p), "{p}");
        }
        assert_eq!(home_relative("/home/bob"), "~");
        assert_eq!(home_relative("/home/bob/.aws/x"), "~/.aws/x");
    }
}
