//! Reading a release's selected artifact back from the object store, as
//! every analysis service does: present, within the size limit, and
//! matching the sha256 the release carries. Bad artifacts are permanent
//! failures (dead-lettered with the reason); a store that cannot be read
//! right now is retryable.

use async_nats::jetstream::object_store::ObjectStore;
use paddock_proto::v1::{Artifact, PackageRef, Release};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::HandlerError;

/// A release's artifact, read and verified.
#[derive(Debug, Clone)]
pub struct StoredArtifact {
    pub package: PackageRef,
    pub artifact: Artifact,
    pub bytes: Vec<u8>,
    /// The sha256 of `bytes`, hex.
    pub sha256: String,
}

/// Reads and verifies `release`'s selected artifact from `store`.
pub async fn read_selected(
    store: &ObjectStore,
    release: &Release,
    max_bytes: u64,
) -> Result<StoredArtifact, HandlerError> {
    let package = release
        .package
        .clone()
        .ok_or_else(|| HandlerError::permanent("release without a package"))?;
    let artifact = release
        .artifacts
        .get(release.selected_artifact as usize)
        .cloned()
        .ok_or_else(|| HandlerError::permanent("release lists no artifact"))?;
    if artifact.object_key.is_empty() {
        return Err(HandlerError::permanent(
            "the release's artifact was never stored (empty object key)",
        ));
    }
    let mut object = store.get(&artifact.object_key).await.map_err(|e| {
        HandlerError::retryable(format!(
            "reading artifact {} from the object store: {e}",
            artifact.object_key
        ))
    })?;
    let mut bytes = Vec::new();
    (&mut object)
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| {
            HandlerError::retryable(format!("reading artifact {}: {e}", artifact.object_key))
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(HandlerError::permanent(format!(
            "artifact is over the limit of {max_bytes} bytes"
        )));
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if !artifact.sha256.is_empty() && sha256 != artifact.sha256 {
        return Err(HandlerError::permanent(format!(
            "artifact failed verification: sha256 expected {}, got {sha256}",
            artifact.sha256
        )));
    }
    Ok(StoredArtifact {
        package,
        artifact,
        bytes,
        sha256,
    })
}
