//! Digests: computing them over downloaded bytes and checking them against
//! what the registry published. A mismatch is an error, never a warning.

use base64::Engine as _;
use paddock_proto::v1::RegistryDigest;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

use crate::RegistryError;

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A registry digest record.
pub fn digest(algorithm: &str, value: impl Into<String>) -> RegistryDigest {
    RegistryDigest {
        algorithm: algorithm.to_owned(),
        value: value.into(),
    }
}

/// Checks `bytes` against every digest Paddock can compute (`sha256`,
/// `sha512`, `sha1`, and npm's SRI `integrity`); others (`md5`,
/// `blake2b_256`, `git-reference`) are kept for the record. Returns how many
/// digests were checked: zero means the registry published none that can be
/// checked.
pub fn verify(
    filename: &str,
    bytes: &[u8],
    digests: &[RegistryDigest],
) -> Result<usize, RegistryError> {
    let mut checked = 0;
    for d in digests {
        let actual = match d.algorithm.as_str() {
            "sha256" => hex::encode(Sha256::digest(bytes)),
            "sha512" => hex::encode(Sha512::digest(bytes)),
            "sha1" => hex::encode(Sha1::digest(bytes)),
            "integrity" => {
                // Subresource integrity: `<alg>-<base64>`, possibly several,
                // space-separated; the strongest supported one is checked.
                let Some(actual) = sri_actual(&d.value, bytes) else {
                    continue;
                };
                actual
            }
            _ => continue,
        };
        let expected = if d.algorithm == "integrity" {
            strongest_sri(&d.value).unwrap_or_default()
        } else {
            d.value.to_ascii_lowercase()
        };
        if actual != expected {
            return Err(RegistryError::DigestMismatch {
                filename: filename.to_owned(),
                algorithm: d.algorithm.clone(),
                expected,
                actual,
            });
        }
        checked += 1;
    }
    Ok(checked)
}

fn strongest_sri(value: &str) -> Option<String> {
    let entries: Vec<&str> = value.split_whitespace().collect();
    ["sha512-", "sha256-", "sha1-"].iter().find_map(|prefix| {
        entries
            .iter()
            .find(|e| e.starts_with(prefix))
            .map(|e| (*e).to_owned())
    })
}

fn sri_actual(value: &str, bytes: &[u8]) -> Option<String> {
    let expected = strongest_sri(value)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let (alg, _) = expected.split_once('-')?;
    let encoded = match alg {
        "sha512" => b64.encode(Sha512::digest(bytes)),
        "sha256" => b64.encode(Sha256::digest(bytes)),
        "sha1" => b64.encode(Sha1::digest(bytes)),
        _ => return None,
    };
    Some(format!("{alg}-{encoded}"))
}

/// npm's SRI string for `bytes` (sha512), as registries publish it.
pub fn sri_sha512(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

/// Lowercase hex sha1 of `bytes`.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_digests_pass_and_count() {
        let body = b"hello";
        let digests = vec![
            digest("sha256", sha256_hex(body)),
            digest("sha1", sha1_hex(body)),
            digest("integrity", sri_sha512(body)),
            digest("md5", "5d41402abc4b2a76b9719d911017c592"),
        ];
        assert_eq!(verify("x", body, &digests).unwrap(), 3);
    }

    #[test]
    fn a_mismatch_names_expected_and_actual() {
        let err = verify(
            "x.tgz",
            b"tampered",
            &[digest("sha256", sha256_hex(b"original"))],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&sha256_hex(b"original")) && text.contains(&sha256_hex(b"tampered")),
            "{text}"
        );
        let err = verify(
            "x.tgz",
            b"tampered",
            &[digest("integrity", sri_sha512(b"original"))],
        )
        .unwrap_err();
        assert!(matches!(err, RegistryError::DigestMismatch { .. }));
    }

    #[test]
    fn uppercase_hex_from_a_registry_is_accepted() {
        assert_eq!(
            verify(
                "x",
                b"a",
                &[digest("sha256", sha256_hex(b"a").to_uppercase())]
            )
            .unwrap(),
            1
        );
    }
}
