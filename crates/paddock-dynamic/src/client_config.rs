//! What configures the package managers and TLS clients inside the
//! sandbox: the registry proxy, the analysis's trust bundle, and each
//! client's own configuration files.

use std::path::Path;

/// The environment that points the package managers at the registry
/// proxy.
pub(crate) fn proxy_env() -> Vec<String> {
    let base = paddock_netsim::proxy::base_url();
    vec![
        format!("PIP_INDEX_URL={base}/pypi/simple/"),
        format!("PIP_TRUSTED_HOST={}", paddock_netsim::HOST_ADDR),
        format!("npm_config_registry={base}/npm/"),
    ]
}

/// Where the sandbox finds the analysis's CA certificate (`ca.pem`) and
/// the system roots with it ([`TRUST_BUNDLE`]).
pub(crate) use paddock_proto::sandbox::TRUST_DIR;
pub(crate) const TRUST_BUNDLE: &str = "ca-bundle.pem";
/// Debian's system bundle (OpenSSL's default file: Python's `ssl`, Ruby,
/// PHP, curl), replaced by the bundle with the analysis's CA in it.
pub(crate) const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Writes the analysis's CA certificate and a bundle of the image's
/// system roots plus it. A program that trusts the system store, or that
/// follows the variables of [`trust_env`], accepts the catch-all's minted
/// certificates; one that pins or brings its own roots does not.
pub(crate) fn write_trust(dir: &Path, rootfs: &Path, ca_pem: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ca.pem"), ca_pem)?;
    let system = rootfs.join(SYSTEM_BUNDLE.trim_start_matches('/'));
    let mut bundle = std::fs::read(&system).unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with(b"\n") {
        bundle.push(b'\n');
    }
    bundle.extend_from_slice(ca_pem.as_bytes());
    std::fs::write(dir.join(TRUST_BUNDLE), bundle)
}

/// Each runtime's own way to be told about extra roots.
pub(crate) fn trust_env() -> Vec<String> {
    let bundle = format!("{TRUST_DIR}/{TRUST_BUNDLE}");
    let mut env = vec![format!("NODE_EXTRA_CA_CERTS={TRUST_DIR}/ca.pem")];
    for var in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PIP_CERT",
        "GIT_SSL_CAINFO",
        "CARGO_HTTP_CAINFO",
    ] {
        env.push(format!("{var}={bundle}"));
    }
    env
}

/// gem's source, Composer's repository and cargo's source replacement, in
/// the sandbox's home (which the sandbox can also read and change: it is
/// the package's own configuration to tamper with).
pub(crate) fn write_client_config(home: &Path) -> std::io::Result<()> {
    let base = paddock_netsim::proxy::base_url();
    std::fs::write(
        home.join(".gemrc"),
        format!("---\n:sources:\n- {base}/rubygems/\n:update_sources: false\n"),
    )?;
    let composer = home.join(".composer");
    std::fs::create_dir_all(&composer)?;
    std::fs::write(
        composer.join("config.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "config": {"secure-http": false, "cafile": format!("{TRUST_DIR}/{TRUST_BUNDLE}")},
            "repositories": {
                // Turns off Composer's built-in default repository.
                "packagist": false,
                "paddock": {"type": "composer", "url": format!("{base}/packagist")},
            },
        }))
        .unwrap_or_default(),
    )?;
    let cargo = home.join(".cargo");
    std::fs::create_dir_all(&cargo)?;
    std::fs::write(
        cargo.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"paddock\"\n\n[source.paddock]\nregistry = \"sparse+{base}/crates/\"\n\n[net]\nretry = 0\n"
        ),
    )?;
    Ok(())
}
