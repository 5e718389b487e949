//! Finds the system zlib with pkg-config and tells cargo how to link it.

use std::env;
use std::process::Command;

fn pkg_config_libs() -> Option<String> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = Command::new(pkg_config)
        .args(["--libs", "zlib"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=ZLIB_LIB_DIR");

    if let Ok(dir) = env::var("ZLIB_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=z");
        return;
    }
    let target_windows = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows");
    match pkg_config_libs() {
        Some(flags) => {
            let mut linked = false;
            for flag in flags.split_whitespace() {
                if let Some(dir) = flag.strip_prefix("-L") {
                    println!("cargo:rustc-link-search=native={dir}");
                } else if let Some(lib) = flag.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib={lib}");
                    linked = true;
                }
            }
            if !linked {
                println!("cargo:rustc-link-lib=z");
            }
        }
        None => {
            println!("cargo:warning=zlib-checksums: pkg-config did not find zlib; trying to link `{}` from the default paths", if target_windows { "zlib" } else { "z" });
            println!("cargo:rustc-link-lib={}", if target_windows { "zlib" } else { "z" });
        }
    }
}
