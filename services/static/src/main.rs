//! `paddock-static`: the static analysis service on its own. The same as
//! `paddock serve static`; options and configuration are `paddock`'s.

fn main() -> std::process::ExitCode {
    paddock_cli::main_with(["paddock", "serve", "static"])
}
