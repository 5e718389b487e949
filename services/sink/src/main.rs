//! `paddock-sink`: the sinks on their own (Parquet, and BigQuery when
//! configured). The same as `paddock serve sink`; options and
//! configuration are `paddock`'s.

fn main() -> std::process::ExitCode {
    paddock_cli::main_with(["paddock", "serve", "sink"])
}
