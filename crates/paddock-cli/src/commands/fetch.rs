//! `paddock fetch`: resolve, download, verify and extract a release.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use paddock_proto::ecosystem;

use paddock_registry::discover::{discover, SystemProbe};
use paddock_registry::extract::extract_auto;
use paddock_registry::RegistryClient;

use crate::cli::FetchArgs;
use crate::config::PaddockConfig;

pub async fn run(
    args: FetchArgs,
    mut config: PaddockConfig,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let package = args.package;
    if let Some(local) = &package.local {
        return extract_local(local, args.out, &config);
    }
    let (client, name, version) = registry_target(&package, &mut config, env, "fetch")?;
    eprintln!("registry: {}", client.url());

    let release = client.resolve(name, version).await?;
    let package_ref = release.package.clone().unwrap_or_default();
    let artifact = release
        .artifacts
        .get(release.selected_artifact as usize)
        .context("the registry listed no artifact")?;
    let downloaded = client.download(artifact).await?;

    let out = args
        .out
        .unwrap_or_else(|| default_out(&package_ref.name, &package_ref.version));
    let (archive, report) = client.extract_into(&downloaded, &out)?;

    println!("package:   {package_ref}");
    if release.artifacts.len() > 1 {
        let others: Vec<&str> = release
            .artifacts
            .iter()
            .map(|a| a.filename.as_str())
            .filter(|f| *f != artifact.filename)
            .collect();
        println!("also:      {}", others.join(", "));
    }
    println!("artifact:  {}", downloaded.artifact.filename);
    println!("url:       {}", downloaded.artifact.url);
    println!("size:      {} bytes", downloaded.artifact.size);
    println!("sha256:    {}", downloaded.artifact.sha256);
    for d in &downloaded.artifact.registry_digests {
        let checked = matches!(
            d.algorithm.as_str(),
            "sha256" | "sha512" | "sha1" | "integrity"
        );
        println!(
            "registry:  {} {} {}",
            d.algorithm,
            d.value,
            if checked { "(verified)" } else { "(recorded)" }
        );
    }
    if downloaded.digests_checked == 0 {
        println!("warning:   the registry published no digest that can be checked");
    }
    println!("saved:     {}", archive.display());
    println!(
        "extracted: {} ({} files, {} bytes)",
        out.join("package").display(),
        report.files,
        report.bytes
    );
    if !report.links.is_empty() {
        println!("links:     {} recorded, not created", report.links.len());
    }
    if let Some(metadata) = &report.gem_metadata {
        let path = out.join("metadata.yaml");
        std::fs::write(&path, metadata).with_context(|| format!("writing {}", path.display()))?;
        println!("gemspec:   {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn extract_local(
    local: &Path,
    out: Option<PathBuf>,
    config: &PaddockConfig,
) -> anyhow::Result<ExitCode> {
    let stem = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "artifact".into());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{stem}.extracted")));
    let report = extract_auto(local, &out.join("package"), &config.registries.extract)
        .with_context(|| format!("extracting {}", local.display()))?;
    let bytes = std::fs::read(local).with_context(|| format!("reading {}", local.display()))?;
    println!("artifact:  {}", local.display());
    println!("size:      {} bytes", bytes.len());
    println!(
        "sha256:    {}",
        paddock_registry::digest::sha256_hex(&bytes)
    );
    println!(
        "extracted: {} ({} files, {} bytes)",
        out.join("package").display(),
        report.files,
        report.bytes
    );
    Ok(ExitCode::SUCCESS)
}

/// The registry client and the package a `<ecosystem> <package>[@version]`
/// command line names; unset registry URLs are discovered first.
pub fn registry_target<'a>(
    package: &'a crate::cli::PackageArgs,
    config: &mut PaddockConfig,
    env: &[(String, String)],
    command: &str,
) -> anyhow::Result<(RegistryClient, &'a str, Option<&'a str>)> {
    let (Some(eco), Some(spec)) = (package.ecosystem.as_deref(), package.package.as_deref()) else {
        anyhow::bail!("usage: paddock {command} <ecosystem> <package>[@version], or paddock {command} --local <artifact>");
    };
    let eco = ecosystem::parse(eco)?;
    let (name, version) = split_spec(spec);
    discover(&mut config.registries, &SystemProbe::new(env.to_vec()));
    Ok((RegistryClient::new(eco, &config.registries)?, name, version))
}

/// `name@version`, where a leading `@` belongs to an npm scope.
pub fn split_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.rfind('@') {
        Some(i) if i > 0 => (&spec[..i], Some(&spec[i + 1..]).filter(|v| !v.is_empty())),
        _ => (spec, None),
    }
}

fn default_out(name: &str, version: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!("{}-{version}", safe.trim_start_matches(['_', '.'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_at_the_version_not_the_scope() {
        assert_eq!(split_spec("left-pad"), ("left-pad", None));
        assert_eq!(split_spec("left-pad@1.3.0"), ("left-pad", Some("1.3.0")));
        assert_eq!(split_spec("@scope/pkg"), ("@scope/pkg", None));
        assert_eq!(
            split_spec("@scope/pkg@2.0.0"),
            ("@scope/pkg", Some("2.0.0"))
        );
        assert_eq!(split_spec("pkg@"), ("pkg", None));
    }

    #[test]
    fn output_directories_are_plain_names() {
        assert_eq!(
            default_out("@scope/pkg", "1.0"),
            PathBuf::from("scope_pkg-1.0")
        );
        assert_eq!(default_out("../x", "1"), PathBuf::from("x-1"));
    }
}
