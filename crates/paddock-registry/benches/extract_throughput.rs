//! Extraction throughput on a large real artifact.
//!
//! `cargo bench -p paddock-registry --bench extract_throughput [-- ECO NAME[@VERSION]]`
//! downloads the artifact through the registry configured or discovered on
//! this machine (default: npm `typescript@5.6.3`, 22 MB unpacked), verifies it,
//! and extracts it repeatedly with the default limits, printing MB/s of
//! extracted output and of compressed input. Without a reachable registry it
//! falls back to a generated 64 MiB source tree.

use std::time::Instant;

use paddock_registry::discover::{discover, SystemProbe};
use paddock_registry::extract::{extract_auto, ExtractLimits};
use paddock_registry::{RegistriesConfig, RegistryClient};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (eco, spec) = match args.as_slice() {
        [eco, spec, ..] => (eco.clone(), spec.clone()),
        _ => ("npm".to_owned(), "typescript@5.6.3".to_owned()),
    };
    let work = tempfile::tempdir().unwrap();
    let archive = match download(&eco, &spec, work.path()).await {
        Ok(path) => path,
        Err(error) => {
            println!("no real artifact ({error}); using a generated 64 MiB tree");
            generated(work.path())
        }
    };
    let compressed = std::fs::metadata(&archive).unwrap().len();
    let limits = ExtractLimits {
        max_total_bytes: 4 << 30,
        max_entries: 1_000_000,
        ..Default::default()
    };
    let mut best = f64::MAX;
    let mut written = 0;
    for round in 0..5 {
        let dest = work.path().join(format!("out-{round}"));
        let started = Instant::now();
        let report = extract_auto(&archive, &dest, &limits).unwrap();
        best = best.min(started.elapsed().as_secs_f64());
        written = report.bytes;
        std::fs::remove_dir_all(&dest).unwrap();
    }
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "extracted {} ({:.1} MB compressed, {:.1} MB, best of 5) in {:.3} s: {:.0} MB/s extracted, {:.0} MB/s of archive",
        archive.file_name().unwrap().to_string_lossy(),
        mb(compressed),
        mb(written),
        best,
        mb(written) / best,
        mb(compressed) / best
    );
}

async fn download(
    eco: &str,
    spec: &str,
    dir: &std::path::Path,
) -> Result<std::path::PathBuf, String> {
    let eco = paddock_proto::ecosystem::parse(eco).map_err(|e| e.to_string())?;
    let mut config = RegistriesConfig::default();
    #[allow(clippy::disallowed_methods)] // a bench binary reads its own environment
    let env: Vec<(String, String)> = std::env::vars().collect();
    discover(&mut config, &SystemProbe::new(env));
    let client = RegistryClient::new(eco, &config).map_err(|e| e.to_string())?;
    let (name, version) = match spec.rfind('@') {
        Some(i) if i > 0 => (&spec[..i], Some(&spec[i + 1..])),
        _ => (spec, None),
    };
    let release = client
        .resolve(name, version)
        .await
        .map_err(|e| e.to_string())?;
    let artifact = &release.artifacts[release.selected_artifact as usize];
    let downloaded = client.download(artifact).await.map_err(|e| e.to_string())?;
    println!(
        "downloaded {} ({} digests verified)",
        release.package.unwrap(),
        downloaded.digests_checked
    );
    let path = dir.join(paddock_registry::client::safe_filename(&artifact.filename));
    std::fs::write(&path, &downloaded.bytes).map_err(|e| e.to_string())?;
    Ok(path)
}

fn generated(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("generated.tar.gz");
    let file = std::fs::File::create(&path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    let line = "export function pad(s, n) { return String(s).padStart(n, ' '); } // filler\n";
    // 2,048 files of 32 KiB: 64 MiB of source.
    for i in 0..2048 {
        let content = format!("{}// file {i}\n", line.repeat(32 * 1024 / line.len()));
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("package/src/f{i}.js"),
            content.as_bytes(),
        )
        .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    path
}
