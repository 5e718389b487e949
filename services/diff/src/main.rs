//! `paddock-diff`: the diff service on its own. The same as
//! `paddock serve diff`; options and configuration are `paddock`'s.

fn main() -> std::process::ExitCode {
    paddock_cli::main_with(["paddock", "serve", "diff"])
}
