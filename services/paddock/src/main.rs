//! The `paddock` binary. All behaviour lives in the `paddock-cli` crate.

fn main() -> std::process::ExitCode {
    paddock_cli::main()
}
