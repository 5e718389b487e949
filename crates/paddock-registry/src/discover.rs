//! Registry addresses from the ecosystem clients installed on this machine.
//!
//! Paddock has no registry address built in. When `registries.<eco>.url` is
//! unset, it asks the ecosystem's own client, so that mirrors and private
//! registries configured for the client work for Paddock too:
//!
//! | ecosystem | where the address comes from |
//! |---|---|
//! | PyPI | `PIP_INDEX_URL`, `pip config get global.index-url`, else pip's own default index |
//! | npm | `npm_config_registry`, else `npm config get registry` |
//! | RubyGems | the first source of `gem sources --list` |
//! | Packagist | the first repository URL in `composer config --global --list` |
//! | crates.io | `CARGO_REGISTRIES_CRATES_IO_INDEX`, cargo's source replacement in `$CARGO_HOME/config.toml`, else the sparse index cargo has already used (`$CARGO_HOME/registry/index/<host>-<hash>/config.json`) |

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use paddock_proto::v1::Ecosystem;

use crate::config::RegistriesConfig;

/// What discovery can look at. [`SystemProbe`] looks at this machine;
/// tests pass their own environment and home.
pub trait Probe: Sync {
    /// An environment variable.
    fn env(&self, key: &str) -> Option<String>;
    /// The trimmed standard output of a command that succeeded.
    fn run(&self, program: &str, args: &[&str]) -> Option<String>;
}

/// Discovery on this machine, with the environment passed in.
#[derive(Debug, Clone)]
pub struct SystemProbe {
    env: Vec<(String, String)>,
}

impl SystemProbe {
    pub fn new(env: Vec<(String, String)>) -> Self {
        Self { env }
    }
}

impl Probe for SystemProbe {
    fn env(&self, key: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
    }

    fn run(&self, program: &str, args: &[&str]) -> Option<String> {
        let mut child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // A client that hangs must not hang Paddock.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match child.try_wait().ok()? {
                Some(status) if status.success() => break,
                Some(_) => return None,
                None if std::time::Instant::now() > deadline => {
                    let _ = child.kill();
                    return None;
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
        let out = out.trim().to_owned();
        (!out.is_empty() && out != "undefined" && out != "null").then_some(out)
    }
}

/// Fills every unset registry URL that a client's configuration supplies.
/// Returns (ecosystem, where it came from) for each one filled.
///
/// The clients are asked at the same time: each takes a few hundred
/// milliseconds to start (pip the longest), and `paddock analyze` waits
/// for all of them before it fetches anything.
pub fn discover(config: &mut RegistriesConfig, probe: &impl Probe) -> Vec<(Ecosystem, String)> {
    let unset: Vec<Ecosystem> = paddock_proto::ecosystem::ALL
        .into_iter()
        .filter(|eco| config.endpoint(*eco).url.is_none())
        .collect();
    let answers: Vec<(Ecosystem, Option<(String, String)>)> = std::thread::scope(|scope| {
        let asked: Vec<_> = unset
            .iter()
            .map(|&eco| {
                scope.spawn(move || {
                    let answer = match eco {
                        Ecosystem::Pypi => pypi(probe),
                        Ecosystem::Npm => npm(probe),
                        Ecosystem::Rubygems => rubygems(probe),
                        Ecosystem::Packagist => packagist(probe),
                        Ecosystem::CratesIo => crates(probe),
                        Ecosystem::Unspecified => None,
                    };
                    (eco, answer)
                })
            })
            .collect();
        asked
            .into_iter()
            .map(|handle| handle.join().expect("a probe does not panic"))
            .collect()
    });
    let mut found = Vec::new();
    for (eco, discovered) in answers {
        if let Some((url, source)) = discovered {
            tracing::debug!(eco = paddock_proto::ecosystem::cli_name(eco), %url, %source, "registry discovered");
            config.endpoint_mut(eco).url = Some(url);
            found.push((eco, source));
        }
    }
    found
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://") || s.starts_with("sparse+http")
}

fn pypi(p: &impl Probe) -> Option<(String, String)> {
    if let Some(url) = p.env("PIP_INDEX_URL").filter(|u| is_url(u)) {
        return Some((url, "PIP_INDEX_URL".into()));
    }
    for python in ["python3", "python"] {
        if let Some(url) = p
            .run(python, &["-m", "pip", "config", "get", "global.index-url"])
            .filter(|u| is_url(u))
        {
            return Some((url, "pip config global.index-url".into()));
        }
        let default = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)";
        if let Some(url) = p.run(python, &["-c", default]).filter(|u| is_url(u)) {
            return Some((url, "pip's default index".into()));
        }
    }
    None
}

fn npm(p: &impl Probe) -> Option<(String, String)> {
    for key in ["npm_config_registry", "NPM_CONFIG_REGISTRY"] {
        if let Some(url) = p.env(key).filter(|u| is_url(u)) {
            return Some((url, key.into()));
        }
    }
    p.run("npm", &["config", "get", "registry"])
        .filter(|u| is_url(u))
        .map(|u| (u, "npm config registry".into()))
}

fn rubygems(p: &impl Probe) -> Option<(String, String)> {
    let out = p.run("gem", &["sources", "--list"])?;
    out.lines()
        .map(str::trim)
        .find(|l| is_url(l))
        .map(|u| (u.to_owned(), "gem sources".into()))
}

fn packagist(p: &impl Probe) -> Option<(String, String)> {
    // Lines such as `[repositories.<name>.url] https://…`.
    let out = p.run("composer", &["config", "--global", "--list"])?;
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("[repositories."))
        .filter_map(|rest| rest.split_once(".url] "))
        .map(|(_, url)| url.trim().to_owned())
        .find(|u| is_url(u))
        .map(|u| (u, "composer config repositories".into()))
}

fn crates(p: &impl Probe) -> Option<(String, String)> {
    if let Some(url) = p
        .env("CARGO_REGISTRIES_CRATES_IO_INDEX")
        .filter(|u| is_url(u))
    {
        return Some((url, "CARGO_REGISTRIES_CRATES_IO_INDEX".into()));
    }
    let cargo_home = p
        .env("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| p.env("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    for name in ["config.toml", "config"] {
        let Ok(text) = std::fs::read_to_string(cargo_home.join(name)) else {
            continue;
        };
        if let Some(url) = replaced_source(&text) {
            return Some((
                url,
                format!(
                    "cargo source replacement in {}",
                    cargo_home.join(name).display()
                ),
            ));
        }
    }
    // The sparse index cargo has used: `<host>-<hash>/config.json`.
    let index_dir = cargo_home.join("registry").join("index");
    let mut candidates: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&index_dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().join("config.json").is_file())
        .filter_map(|e| {
            let dir = e.file_name().to_string_lossy().into_owned();
            let (host, hash) = dir.rsplit_once('-')?;
            (hash.len() == 16 && !host.is_empty()).then_some(())?;
            let modified = e.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, format!("sparse+https://{host}/")))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, url)| {
        (
            url,
            format!("cargo's index cache in {}", index_dir.display()),
        )
    })
}

/// `[source.crates-io] replace-with = "x"` → `[source.x] registry` or
/// `[registries.x] index`.
fn replaced_source(text: &str) -> Option<String> {
    let doc: toml_lite::Doc = toml_lite::parse(text);
    let target = doc.get("source.crates-io", "replace-with")?;
    doc.get(&format!("source.{target}"), "registry")
        .or_else(|| doc.get(&format!("registries.{target}"), "index"))
}

/// Just enough TOML for cargo's `key = "value"` tables.
mod toml_lite {
    pub struct Doc(Vec<(String, String, String)>);

    impl Doc {
        pub fn get(&self, table: &str, key: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(t, k, _)| t == table && k == key)
                .map(|(_, _, v)| v.clone())
        }
    }

    pub fn parse(text: &str) -> Doc {
        let mut table = String::new();
        let mut out = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = name.trim().replace('"', "");
            } else if let Some((k, v)) = line.split_once('=') {
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_owned();
                out.push((table.clone(), k.trim().to_owned(), v));
            }
        }
        Doc(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Fake {
        env: HashMap<String, String>,
        commands: HashMap<String, String>,
    }

    impl Probe for Fake {
        fn env(&self, key: &str) -> Option<String> {
            self.env.get(key).cloned()
        }
        fn run(&self, program: &str, args: &[&str]) -> Option<String> {
            self.commands
                .get(&format!("{program} {}", args.join(" ")))
                .cloned()
        }
    }

    #[test]
    fn clients_configuration_fills_unset_urls_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[source.crates-io]\nreplace-with = \"mirror\"\n\n[source.mirror]\nregistry = \"sparse+http://127.0.0.1:9/index/\"\n",
        )
        .unwrap();
        let fake = Fake {
            env: HashMap::from([
                ("CARGO_HOME".to_owned(), dir.path().display().to_string()),
                (
                    "PIP_INDEX_URL".to_owned(),
                    "http://127.0.0.1:9/simple/".to_owned(),
                ),
            ]),
            commands: HashMap::from([
                (
                    "npm config get registry".to_owned(),
                    "http://127.0.0.1:9/npm/".to_owned(),
                ),
                (
                    "gem sources --list".to_owned(),
                    "*** CURRENT SOURCES ***\n\nhttp://127.0.0.1:9/gems/".to_owned(),
                ),
            ]),
        };
        let mut config = RegistriesConfig::default();
        config.packagist.url = Some("http://configured/".into());
        let found = discover(&mut config, &fake);
        assert_eq!(
            config.pypi.url.as_deref(),
            Some("http://127.0.0.1:9/simple/")
        );
        assert_eq!(config.npm.url.as_deref(), Some("http://127.0.0.1:9/npm/"));
        assert_eq!(
            config.rubygems.url.as_deref(),
            Some("http://127.0.0.1:9/gems/")
        );
        assert_eq!(
            config.crates_io.url.as_deref(),
            Some("sparse+http://127.0.0.1:9/index/")
        );
        assert_eq!(
            config.packagist.url.as_deref(),
            Some("http://configured/"),
            "configuration wins"
        );
        assert_eq!(found.len(), 4);
    }

    #[test]
    fn the_index_cargo_already_used_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir
            .path()
            .join("registry/index/mirror.example-0123456789abcdef");
        std::fs::create_dir_all(&index).unwrap();
        std::fs::write(index.join("config.json"), "{}").unwrap();
        let fake = Fake {
            env: HashMap::from([("CARGO_HOME".to_owned(), dir.path().display().to_string())]),
            commands: HashMap::new(),
        };
        assert_eq!(crates(&fake).unwrap().0, "sparse+https://mirror.example/");
    }
}
