//! Builds every fixture package into a directory, reproducibly:
//! `cargo run -p paddock-testkit --bin build-fixtures -- <dir>`.
//! Artifacts land in `<dir>/<ecosystem>/<file>`; each line printed is
//! `<sha256>  <path>`.

use paddock_testkit::registry::artifacts_of;

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: build-fixtures <output directory>");
        return std::process::ExitCode::from(2);
    };
    for pkg in paddock_testkit::packages::catalogue() {
        let eco_dir = dir.join(paddock_proto::ecosystem::subject_token(pkg.eco));
        if let Err(e) = std::fs::create_dir_all(&eco_dir) {
            eprintln!("build-fixtures: creating {}: {e}", eco_dir.display());
            return std::process::ExitCode::FAILURE;
        }
        for built in artifacts_of(&pkg) {
            let path = eco_dir.join(&built.filename);
            if let Err(e) = std::fs::write(&path, &built.bytes) {
                eprintln!("build-fixtures: writing {}: {e}", path.display());
                return std::process::ExitCode::FAILURE;
            }
            println!(
                "{}  {}",
                paddock_registry::digest::sha256_hex(&built.bytes),
                path.display()
            );
        }
    }
    std::process::ExitCode::SUCCESS
}
