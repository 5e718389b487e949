//! Generates Rust code for `proto/paddock/v1` with protox (no `protoc`
//! binary), prost/tonic for the messages and service, and pbjson for the
//! canonical protobuf JSON mapping.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    // Read at run time: a build script compiled once and reused for
    // another checkout (a shared CARGO_TARGET_DIR) must read that
    // checkout's protos, not the first one's.
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR")
            .ok_or_else(|| anyhow::anyhow!("cargo sets CARGO_MANIFEST_DIR for build scripts"))?,
    )
    .join("../../proto");
    let files = [
        "paddock/v1/common.proto",
        "paddock/v1/release.proto",
        "paddock/v1/static_analysis.proto",
        "paddock/v1/dynamic_analysis.proto",
        "paddock/v1/verdict.proto",
        "paddock/v1/analysis_service.proto",
    ];
    println!("cargo:rerun-if-changed={}", root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }

    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(
        std::env::var_os("OUT_DIR")
            .ok_or_else(|| anyhow::anyhow!("cargo sets OUT_DIR for build scripts"))?,
    );
    let descriptor_path = out.join("paddock_descriptor.bin");
    std::fs::write(&descriptor_path, prost::Message::encode_to_vec(&fds))?;

    // Type names give every message `prost::Name`, whose full name is the
    // message-type header on the bus.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    // Well-known types come from pbjson-types, which adds their JSON mapping.
    config.prost_types_path("::pbjson_types");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds_with_config(fds, config)?;

    let descriptors = std::fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .build(&[".paddock.v1"])?;
    Ok(())
}
