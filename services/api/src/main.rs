//! `paddock-api`: the API service (gRPC and the web page) on its own. The
//! same as `paddock serve api`; options and configuration are `paddock`'s.

fn main() -> std::process::ExitCode {
    paddock_cli::main_with(["paddock", "serve", "api"])
}
