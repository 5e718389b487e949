//! `paddock-feed`: the feed service on its own, for one container per
//! service. The same as `paddock serve feed`; options and configuration are
//! `paddock`'s (`--config`, `--nats-url`, `PADDOCK__…`).

fn main() -> std::process::ExitCode {
    paddock_cli::main_with(["paddock", "serve", "feed"])
}
