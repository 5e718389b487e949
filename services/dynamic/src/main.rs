//! `paddock-dynamic`: the dynamic analysis service on its own. The same as
//! `paddock serve dynamic`; options and configuration are `paddock`'s.

fn main() -> std::process::ExitCode {
    paddock_cli::main_with(["paddock", "serve", "dynamic"])
}
