//! Embeds the default rule set: every file under the workspace's `rules/`
//! directory becomes `(relative path, contents)` in `builtin_rules.rs`.

use std::path::{Path, PathBuf};

fn main() {
    // Read at run time, not `env!`: a build script compiled once and
    // reused for another checkout (a shared CARGO_TARGET_DIR) must embed
    // that checkout's rules.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../../rules");
    let root = root
        .canonicalize()
        .expect("the workspace has a rules/ directory");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from("/// Every file of the shipped rule set: (path under `rules/`, text).\npub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path
            .strip_prefix(&root)
            .expect("under rules/")
            .to_string_lossy()
            .replace('\\', "/");
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    // A build script's one input from cargo; the library never reads the
    // environment.
    #[allow(clippy::disallowed_methods)]
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let dest = PathBuf::from(out_dir).join("builtin_rules.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("rules/ is readable")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("toml" | "yar" | "yara" | "txt")
        ) {
            out.push(path);
        }
    }
}
