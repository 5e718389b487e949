//! Turning a resolved release into a `Release` message: download and verify
//! the chosen artifact, store it once in the object store (keyed by its
//! sha256), and publish with the release's deduplication id. Shared by the
//! feed service and `paddock submit`.

use async_nats::jetstream::object_store::ObjectStore;
use bytes::Bytes;
use paddock_bus::names::release_msg_id;
use paddock_bus::{Bus, JetStreamBus, Published};
use paddock_proto::v1::{Artifact, ArtifactKind, Ecosystem, FeedSource, PackageRef, Release};
use paddock_proto::well_known::Timestamp;
use paddock_registry::{digest, RegistryClient, RegistryError};

/// What can stop a release from being published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Bus(#[from] paddock_bus::BusError),
    #[error(
        "object store {bucket}: {reason}; run `paddock topology --apply` if it does not exist"
    )]
    ObjectStore { bucket: String, reason: String },
}

impl PublishError {
    /// Whether the same release may succeed later (retry the poll) rather
    /// than never (record and skip it).
    pub fn is_transient(&self) -> bool {
        match self {
            PublishError::Registry(e) => e.is_transient(),
            PublishError::Bus(_) | PublishError::ObjectStore { .. } => true,
        }
    }
}

/// Publishes releases with their artifacts.
#[derive(Clone)]
pub struct ReleasePublisher {
    bus: JetStreamBus,
    artifacts: ObjectStore,
    bucket: String,
}

impl std::fmt::Debug for ReleasePublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReleasePublisher")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl ReleasePublisher {
    pub async fn new(bus: &JetStreamBus) -> Result<Self, PublishError> {
        Ok(Self {
            bus: bus.clone(),
            artifacts: bus.artifacts().await?,
            bucket: bus.names().artifacts_bucket(),
        })
    }

    pub fn bus(&self) -> &JetStreamBus {
        &self.bus
    }

    /// Stores `bytes` under their sha256 unless already there; returns the key.
    /// Retried while a cluster elects the store's leader
    /// (`bus.election_timeout`).
    pub async fn store(&self, bytes: &Bytes) -> Result<String, PublishError> {
        let key = digest::sha256_hex(bytes);
        self.bus
            .ride_out("storing an artifact", || async {
                if self.artifacts.info(&key).await.is_ok() {
                    return Ok(());
                }
                self.artifacts
                    .put(key.as_str(), &mut bytes.as_ref())
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|reason| PublishError::ObjectStore {
                bucket: self.bucket.clone(),
                reason,
            })?;
        Ok(key)
    }

    /// Resolves, downloads, verifies, stores and publishes one release.
    pub async fn fetch_and_publish(
        &self,
        client: &RegistryClient,
        name: &str,
        version: Option<&str>,
        source: FeedSource,
        feed_name: &str,
    ) -> Result<(Release, Published), PublishError> {
        let mut release = client.resolve(name, version).await?;
        let index = release.selected_artifact as usize;
        let artifact =
            release
                .artifacts
                .get(index)
                .cloned()
                .ok_or_else(|| RegistryError::NoArtifact {
                    package: name.to_owned(),
                    version: version.unwrap_or("latest").to_owned(),
                    reason: "the registry listed no artifact".into(),
                })?;
        let downloaded = client.download(&artifact).await?;
        let key = self.store(&downloaded.bytes).await?;
        let mut stored = downloaded.artifact;
        stored.object_key = key;
        release.artifacts[index] = stored;
        release.source = source as i32;
        release.feed_name = feed_name.to_owned();
        release.discovered_at = Some(now());
        let published = self.publish(&release).await?;
        Ok((release, published))
    }

    /// Stores a local artifact and publishes it as a release of `package`.
    pub async fn publish_local(
        &self,
        package: PackageRef,
        filename: &str,
        bytes: Bytes,
        kind: ArtifactKind,
    ) -> Result<(Release, Published), PublishError> {
        let key = self.store(&bytes).await?;
        let release = Release {
            package: Some(package),
            discovered_at: Some(now()),
            source: FeedSource::Local as i32,
            feed_name: "local".into(),
            artifacts: vec![Artifact {
                filename: filename.to_owned(),
                size: bytes.len() as u64,
                sha256: key.clone(),
                object_key: key,
                kind: kind as i32,
                ..Default::default()
            }],
            ..Default::default()
        };
        let published = self.publish(&release).await?;
        Ok((release, published))
    }

    /// Publishes `release` on `release.<eco>` with its deduplication id.
    pub async fn publish(&self, release: &Release) -> Result<Published, PublishError> {
        let package = release.package.clone().unwrap_or_default();
        let subject = self.bus.names().release(package.ecosystem());
        Ok(self
            .bus
            .publish(&subject, &release_msg_id(&package), release)
            .await?)
    }

    /// Records a release that can never be published on the dead-letter
    /// stream (`<prefix>.dlq.feed`) with the reason.
    pub async fn record_failure(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        reason: &str,
    ) -> Result<(), PublishError> {
        let release = Release {
            package: Some(PackageRef {
                ecosystem: eco as i32,
                name: name.to_owned(),
                version: version.to_owned(),
            }),
            discovered_at: Some(now()),
            source: FeedSource::Feed as i32,
            ..Default::default()
        };
        let id = format!(
            "feed-failure:{}",
            release_msg_id(release.package.as_ref().expect("set above"))
        );
        self.bus
            .record_dead_letter(
                "feed",
                &self.bus.names().release(eco),
                &id,
                &release,
                reason,
            )
            .await?;
        Ok(())
    }
}

fn now() -> Timestamp {
    let now = chrono::Utc::now();
    Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    }
}
