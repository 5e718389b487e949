//! Real lockfiles, written by the real clients of this machine resolving
//! against the fixture registry over loopback: [`generate`] makes a
//! project that depends on the given packages, runs the client in its
//! lock-only mode (nothing is installed where the client allows it, and
//! no install script runs), and returns the lockfile's path, or `None`
//! with a note on stderr when the client is not installed.
//!
//! ```no_run
//! # async fn demo(registry: &paddock_testkit::registry::FixtureRegistry) {
//! use paddock_testkit::lockfiles::{generate, Client};
//! let dir = tempfile::tempdir().unwrap();
//! // A tree root and a trojaned release pinned exactly.
//! let deps = [("paddock-tree", "^1.0.0"), ("paddock-trojaned", "1.4.1")];
//! if let Some(lockfile) = generate(Client::Npm, registry, dir.path(), &deps).await {
//!     assert!(lockfile.ends_with("package-lock.json"));
//! }
//! # }
//! ```
//!
//! Requirements are written in the ecosystem's own syntax, as in
//! [`FixturePackage::dependencies`](crate::packages::FixturePackage):
//! npm `^1.0.0` or `1.4.1`, PyPI `>=1.0` or `==1.4.1`, RubyGems `~> 1.0`
//! or `= 1.4.1`, Composer `^1.0` or `1.4.1`, Cargo `1` or `=1.4.1`. The
//! project's files and the lockfile are written in `dir`; the client's
//! HOME, caches and stores under `dir/.clients/`.

use std::path::{Path, PathBuf};

use paddock_proto::v1::Ecosystem;
use serde_json::json;

use crate::clients::{have, missing, run};
use crate::registry::FixtureRegistry;

/// A client that writes a lockfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// `npm install --package-lock-only`: package-lock.json v3.
    Npm,
    /// `pnpm install --lockfile-only`: pnpm-lock.yaml.
    Pnpm,
    /// yarn classic's `yarn install` (it has no lock-only mode; scripts
    /// are ignored): yarn.lock v1.
    YarnClassic,
    /// yarn berry's `yarn install --mode=update-lockfile`, run as
    /// `yarn-berry` (scripts/install-deps installs it beside classic).
    YarnBerry,
    /// pip-tools' `pip-compile --generate-hashes`: requirements.txt.
    PipCompile,
    /// `uv pip compile --generate-hashes`: requirements.txt.
    UvPipCompile,
    /// `uv lock`: uv.lock.
    UvLock,
    /// `poetry lock`: poetry.lock.
    Poetry,
    /// `bundle lock`: Gemfile.lock.
    Bundler,
    /// `composer update --no-install`: composer.lock.
    Composer,
    /// `cargo generate-lockfile` (the cargo running the tests, else the
    /// one on PATH): Cargo.lock.
    Cargo,
}

impl Client {
    pub const ALL: [Client; 11] = [
        Client::Npm,
        Client::Pnpm,
        Client::YarnClassic,
        Client::YarnBerry,
        Client::PipCompile,
        Client::UvPipCompile,
        Client::UvLock,
        Client::Poetry,
        Client::Bundler,
        Client::Composer,
        Client::Cargo,
    ];

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Client::Npm | Client::Pnpm | Client::YarnClassic | Client::YarnBerry => Ecosystem::Npm,
            Client::PipCompile | Client::UvPipCompile | Client::UvLock | Client::Poetry => {
                Ecosystem::Pypi
            }
            Client::Bundler => Ecosystem::Rubygems,
            Client::Composer => Ecosystem::Packagist,
            Client::Cargo => Ecosystem::CratesIo,
        }
    }

    /// The program run.
    pub fn program(self) -> String {
        match self {
            Client::Npm => "npm".into(),
            Client::Pnpm => "pnpm".into(),
            Client::YarnClassic => "yarn".into(),
            Client::YarnBerry => "yarn-berry".into(),
            Client::PipCompile => "pip-compile".into(),
            Client::UvPipCompile | Client::UvLock => "uv".into(),
            Client::Poetry => "poetry".into(),
            Client::Bundler => "bundle".into(),
            Client::Composer => "composer".into(),
            Client::Cargo => std::env::var_os("CARGO")
                .map_or_else(|| "cargo".into(), |c| c.to_string_lossy().into_owned()),
        }
    }

    /// The file name of the lockfile it writes.
    pub fn lockfile(self) -> &'static str {
        match self {
            Client::Npm => "package-lock.json",
            Client::Pnpm => "pnpm-lock.yaml",
            Client::YarnClassic | Client::YarnBerry => "yarn.lock",
            Client::PipCompile | Client::UvPipCompile => "requirements.txt",
            Client::UvLock => "uv.lock",
            Client::Poetry => "poetry.lock",
            Client::Bundler => "Gemfile.lock",
            Client::Composer => "composer.lock",
            Client::Cargo => "Cargo.lock",
        }
    }

    /// Whether the client is installed (with a note on stderr when not).
    async fn installed(self) -> bool {
        let program = self.program();
        let on_path = if self == Client::Cargo {
            Path::new(&program).is_file() || have(&program)
        } else {
            !missing(&program)
        };
        if !on_path || self != Client::YarnClassic {
            return on_path;
        }
        // `yarn` may be berry (through corepack): not the classic asked for.
        let version = tokio::process::Command::new("yarn")
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let classic = version.starts_with("1.");
        if !classic {
            eprintln!("skipped: `yarn` is {version:?}, not yarn classic (1.x)");
        }
        classic
    }
}

/// The project name the generated manifests give (the project itself is
/// not a release: lockfiles that list it, list it as a path or workspace).
pub const PROJECT: &str = "paddock-lockfile-project";

/// The ecosystem's requirement for exactly `version`, for [`generate`].
pub fn exactly(eco: Ecosystem, version: &str) -> String {
    match eco {
        Ecosystem::Pypi => format!("=={version}"),
        Ecosystem::Rubygems => format!("= {version}"),
        Ecosystem::CratesIo => format!("={version}"),
        _ => version.to_owned(),
    }
}

/// Writes a project depending on `dependencies` (name, requirement) in
/// `dir`, has `client` lock it against `registry`, and returns the
/// lockfile's path; `None` when the client is not installed. Fails the
/// test, with the client's output, when the client fails.
pub async fn generate(
    client: Client,
    registry: &FixtureRegistry,
    dir: &Path,
    dependencies: &[(&str, &str)],
) -> Option<PathBuf> {
    if !client.installed().await {
        return None;
    }
    let scratch = dir.join(".clients");
    std::fs::create_dir_all(scratch.join("home")).expect("creating the client's directories");
    let path = |p: &str| scratch.join(p).display().to_string();
    let home = ("HOME", path("home"));
    let url = registry.url(client.ecosystem());
    let program = client.program();
    let write = |name: &str, body: String| {
        std::fs::write(dir.join(name), body).expect("writing the project's manifest")
    };
    match client {
        Client::Npm | Client::Pnpm | Client::YarnClassic | Client::YarnBerry => {
            let deps: serde_json::Map<String, serde_json::Value> = dependencies
                .iter()
                .map(|(n, r)| ((*n).to_owned(), json!(r)))
                .collect();
            write(
                "package.json",
                json!({"name": PROJECT, "version": "0.0.0", "private": true, "dependencies": deps})
                    .to_string(),
            );
        }
        _ => {}
    }
    match client {
        Client::Npm => {
            std::fs::write(scratch.join("npmrc"), "").expect("writing an empty npmrc");
            let args = [
                "install",
                "--package-lock-only",
                "--ignore-scripts",
                "--registry",
                &url,
                "--cache",
                &path("npm-cache"),
                "--userconfig",
                &path("npmrc"),
                "--no-audit",
                "--no-fund",
                "--no-update-notifier",
                "--loglevel",
                "warn",
            ];
            run(dir, &program, &args, &[home]).await;
        }
        Client::Pnpm => {
            let args = [
                "install",
                "--lockfile-only",
                "--ignore-scripts",
                "--no-frozen-lockfile",
                &format!("--registry={url}"),
                &format!("--store-dir={}", path("pnpm-store")),
                &format!("--cache-dir={}", path("pnpm-cache")),
                "--config.update-notifier=false",
                "--reporter=append-only",
            ];
            run(dir, &program, &args, &[home]).await;
        }
        Client::YarnClassic => {
            write("yarnrc", format!("registry \"{url}\"\n"));
            let args = [
                "install",
                "--non-interactive",
                "--ignore-scripts",
                "--no-progress",
                "--no-default-rc",
                "--use-yarnrc",
                "yarnrc",
                "--cache-folder",
                &path("yarn-cache"),
                "--registry",
                &url,
            ];
            run(dir, &program, &args, &[home]).await;
        }
        Client::YarnBerry => {
            write(
                ".yarnrc.yml",
                format!(
                    "npmRegistryServer: \"{}\"\nunsafeHttpWhitelist:\n  - \"127.0.0.1\"\nenableTelemetry: false\nenableGlobalCache: false\ncacheFolder: \"{}\"\nglobalFolder: \"{}\"\nenableImmutableInstalls: false\nenableScripts: false\nnodeLinker: node-modules\n",
                    url.trim_end_matches('/'),
                    path("berry-cache"),
                    path("berry-global"),
                ),
            );
            let args = ["install", "--mode=update-lockfile"];
            run(dir, &program, &args, &[home]).await;
        }
        Client::PipCompile | Client::UvPipCompile => {
            let lines: String = dependencies
                .iter()
                .map(|(n, r)| format!("{n}{r}\n"))
                .collect();
            write("requirements.in", lines);
            if client == Client::PipCompile {
                let args = [
                    "--quiet",
                    "--generate-hashes",
                    "--no-emit-index-url",
                    "--index-url",
                    &url,
                    "--cache-dir",
                    &path("pip-tools-cache"),
                    "--pip-args",
                    "--isolated --disable-pip-version-check",
                    "--output-file",
                    "requirements.txt",
                    "requirements.in",
                ];
                run(dir, &program, &args, &[home]).await;
            } else {
                let args = [
                    "pip",
                    "compile",
                    "--quiet",
                    "--no-config",
                    "--generate-hashes",
                    "--index-url",
                    &url,
                    "--cache-dir",
                    &path("uv-cache"),
                    "--output-file",
                    "requirements.txt",
                    "requirements.in",
                ];
                run(dir, &program, &args, &[home, uv_offline()]).await;
            }
        }
        Client::UvLock | Client::Poetry => {
            let requires: Vec<String> = dependencies
                .iter()
                .map(|(n, r)| format!("{:?}", format!("{n}{r}")))
                .collect();
            let mut pyproject = format!(
                "[project]\nname = \"{PROJECT}\"\nversion = \"0.0.0\"\nrequires-python = \">=3.9\"\ndependencies = [{}]\n",
                requires.join(", ")
            );
            if client == Client::UvLock {
                write("pyproject.toml", pyproject);
                let args = [
                    "lock",
                    "--quiet",
                    "--no-config",
                    "--default-index",
                    &url,
                    "--cache-dir",
                    &path("uv-cache"),
                ];
                run(dir, &program, &args, &[home, uv_offline()]).await;
            } else {
                pyproject.push_str(&format!(
                    "\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"fixture\"\nurl = \"{url}\"\npriority = \"primary\"\n"
                ));
                write("pyproject.toml", pyproject);
                let env = [
                    home,
                    ("POETRY_CACHE_DIR", path("poetry-cache")),
                    ("POETRY_CONFIG_DIR", path("poetry-config")),
                    ("POETRY_DATA_DIR", path("poetry-data")),
                    // No keyring lookups for the source's credentials.
                    (
                        "PYTHON_KEYRING_BACKEND",
                        "keyring.backends.null.Keyring".into(),
                    ),
                ];
                run(dir, &program, &["lock", "--no-interaction"], &env).await;
            }
        }
        Client::Bundler => {
            let mut gemfile = format!("source \"{url}\"\n\n");
            for (name, req) in dependencies {
                let reqs: Vec<String> = crate::packages::gem_requirements(req)
                    .into_iter()
                    .map(|(op, v)| format!("\"{op} {v}\""))
                    .collect();
                gemfile.push_str(&format!("gem \"{name}\", {}\n", reqs.join(", ")));
            }
            write("Gemfile", gemfile);
            let env = [
                home,
                ("BUNDLE_USER_HOME", path("bundle-home")),
                ("BUNDLE_APP_CONFIG", path("bundle-config")),
            ];
            run(dir, &program, &["lock"], &env).await;
        }
        Client::Composer => {
            let require: serde_json::Map<String, serde_json::Value> = dependencies
                .iter()
                .map(|(n, r)| ((*n).to_owned(), json!(r)))
                .collect();
            let manifest = json!({
                "name": "paddock/lockfile-project",
                "repositories": [
                    {"type": "composer", "url": url},
                    {"packagist": false},
                ],
                "require": require,
                "config": {"secure-http": false},
            });
            write("composer.json", manifest.to_string());
            let args = [
                "update",
                "--no-install",
                "--no-interaction",
                "--no-progress",
                "--no-audit",
            ];
            let env = [
                home,
                ("COMPOSER_HOME", path("composer-home")),
                ("COMPOSER_CACHE_DIR", path("composer-cache")),
            ];
            run(dir, &program, &args, &env).await;
        }
        Client::Cargo => {
            let cargo_home = scratch.join("cargo-home");
            std::fs::create_dir_all(&cargo_home).expect("creating CARGO_HOME");
            std::fs::write(
                cargo_home.join("config.toml"),
                format!(
                    "[source.crates-io]\nreplace-with = \"fixture\"\n\n[source.fixture]\nregistry = \"sparse+{url}\"\n"
                ),
            )
            .expect("writing the cargo configuration");
            let mut manifest = format!(
                "[package]\nname = \"{PROJECT}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n"
            );
            for (name, req) in dependencies {
                manifest.push_str(&format!("{name} = {}\n", json!(req)));
            }
            write("Cargo.toml", manifest);
            std::fs::create_dir_all(dir.join("src")).expect("creating src");
            write("src/lib.rs", String::new());
            let env = [
                ("CARGO_HOME", cargo_home.display().to_string()),
                // rustup, which cargo asks for the host, lives there.
                (
                    "HOME",
                    std::env::var_os("HOME")
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                ),
            ];
            run(dir, &program, &["generate-lockfile"], &env).await;
        }
    }
    let lockfile = dir.join(client.lockfile());
    assert!(
        lockfile.is_file(),
        "{client:?} succeeded but wrote no {}",
        client.lockfile()
    );
    Some(lockfile)
}

/// uv uses the Python it finds, and downloads none.
fn uv_offline() -> (&'static str, String) {
    ("UV_PYTHON_DOWNLOADS", "never".into())
}
