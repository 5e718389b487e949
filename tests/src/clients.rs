//! Running the real package managers of this machine (npm, pnpm, yarn,
//! pip, uv, poetry, gem, bundler, composer, cargo) against the fixture
//! registry: each in a directory of its own with a throwaway HOME and its
//! settings scrubbed from the environment, bounded in time, failing the
//! test with its output when it fails. A client that is not installed is
//! skipped with a note on stderr ([`missing`]).

use std::path::Path;
use std::time::Duration;

/// How long one client command may take.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// True, with a note on stderr, when `program` is not installed.
pub fn missing(program: &str) -> bool {
    if have(program) {
        return false;
    }
    eprintln!("skipped: `{program}` is not installed");
    true
}

/// Settings of the package managers (and of the cargo running these
/// tests) that must not leak into the ones run here.
pub const SCRUBBED: [&str; 17] = [
    "npm_config_",
    "NPM_CONFIG_",
    "PNPM_",
    "YARN_",
    "COREPACK_",
    "PIP_",
    "UV_",
    "POETRY_",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "GEM_",
    "BUNDLE_",
    "RUBY",
    "COMPOSER",
    "CARGO",
    "RUSTFLAGS",
    "CUSTOM_COMPILE_COMMAND",
];

/// A package manager run in `dir` with a throwaway HOME (`dir/home`,
/// unless `env` sets HOME), its settings scrubbed from the environment
/// (and `CI`, under which some switch to a frozen lockfile), then `env`.
pub fn command(
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CI")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if !env.iter().any(|(k, _)| *k == "HOME") {
        std::fs::create_dir_all(dir.join("home")).expect("creating a throwaway HOME");
        cmd.env("HOME", dir.join("home"));
    }
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if SCRUBBED.iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(&key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs [`command`], failing the test with its output unless it succeeds
/// within [`TIMEOUT`]; returns its stdout.
pub async fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, String)]) -> Vec<u8> {
    let out = tokio::time::timeout(TIMEOUT, command(dir, program, args, env).output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} timed out"))
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
