//! Compiles csrc/murmur3.c with the system C compiler, like the `cc` crate
//! does, without depending on it.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn tool(var: &str, default: &str) -> String {
    let target = env::var("TARGET").unwrap_or_default().replace('-', "_");
    env::var(format!("{var}_{target}"))
        .or_else(|_| env::var(var))
        .unwrap_or_else(|_| default.to_owned())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{cmd:?} exited with {status}")),
        Err(err) => Err(format!("{cmd:?} could not start: {err}")),
    }
}

fn build(out: &PathBuf) -> Result<(), String> {
    let cc = tool("CC", "cc");
    let ar = tool("AR", "ar");
    let object = out.join("murmur3.o");
    let mut compile = Command::new(&cc);
    compile.args(["-c", "-O2", "-fPIC", "-std=c99", "-Wall"]);
    if env::var("PROFILE").as_deref() == Ok("debug") {
        compile.arg("-g");
    }
    compile.arg("csrc/murmur3.c").arg("-o").arg(&object);
    run(&mut compile)?;
    run(Command::new(&ar).arg("crs").arg(out.join("libmurmur3.a")).arg(&object))
}

fn main() {
    println!("cargo:rerun-if-changed=csrc/murmur3.c");
    println!("cargo:rerun-if-changed=csrc/murmur3.h");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=AR");
    println!("cargo:rerun-if-env-changed=MURMUR3_PURE");
    println!("cargo:rustc-check-cfg=cfg(murmur3_pure)");

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let msvc = env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("msvc");
    if env::var_os("MURMUR3_PURE").is_some() || msvc {
        println!("cargo:rustc-cfg=murmur3_pure");
        return;
    }
    match build(&out) {
        Ok(()) => {
            println!("cargo:rustc-link-search=native={}", out.display());
            println!("cargo:rustc-link-lib=static=murmur3");
        }
        Err(err) => {
            println!("cargo:warning=murmur3-ffi: building the C library failed ({err}); using the pure-Rust implementation");
            println!("cargo:rustc-cfg=murmur3_pure");
        }
    }
}
