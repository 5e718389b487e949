//! `paddock image`: the dynamic-analysis sandbox's rootfs.

use std::process::ExitCode;

use anyhow::Context as _;
use paddock_dynamic::image;

use crate::cli::ImageCommand;
use crate::config::{default_image_cache, PaddockConfig};

pub async fn run(
    cmd: ImageCommand,
    config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let image = config.dynamic.analysis.image.clone();
    let cache = image
        .cache_dir
        .clone()
        .unwrap_or_else(|| default_image_cache(env));
    let rootfs = image
        .rootfs
        .clone()
        .unwrap_or_else(|| cache.join(image::image_hash()).join("rootfs"));
    match cmd {
        ImageCommand::Show => {
            println!("hash: {}", image::image_hash());
            println!("suite: {}", image::SUITE);
            println!("packages: {}", image::packages().join(" "));
            println!("rootfs: {}", rootfs.display());
            let built = match &image.rootfs {
                Some(r) => r.join("usr").is_dir(),
                None => rootfs
                    .parent()
                    .map(|d| d.join("complete").exists())
                    .unwrap_or(false),
            };
            println!("built: {}", if built { "yes" } else { "no" });
        }
        ImageCommand::Build => {
            if image.rootfs.is_some() {
                anyhow::bail!(
                    "dynamic.analysis.image.rootfs is set to {}: that rootfs is used as it is and nothing is built",
                    rootfs.display()
                );
            }
            eprintln!(
                "building the sandbox image {} into {} (about a minute; log beside it)",
                image::image_hash(),
                cache.display()
            );
            let mirror = image.mirror.clone();
            let built =
                tokio::task::spawn_blocking(move || image::build(&cache, mirror.as_deref()))
                    .await
                    .context("the build task failed")??;
            println!("{}", built.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
