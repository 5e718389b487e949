//! What the `paddock` binary's tests share: the binary with a clean
//! environment, and its output as text.
#![allow(dead_code)] // each test file uses some of it

use std::process::{Command, Output};

pub const PADDOCK: &str = env!("CARGO_BIN_EXE_paddock");

/// A command with a clean environment: no PADDOCK__ variables leak in from
/// the developer's shell.
pub fn paddock() -> Command {
    let mut cmd = Command::new(PADDOCK);
    for (key, _) in std::env::vars() {
        if key.starts_with("PADDOCK") && key != "PADDOCK_NATS_SERVER" {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("running paddock")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
