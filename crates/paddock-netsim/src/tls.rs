//! TLS interception for the catch-all: each analysis gets its own
//! throw-away certificate authority, trusted inside the sandbox only, and
//! the catch-all finishes every TLS handshake with a certificate minted
//! for the name the client asked for (its SNI, or the address it dialled).
//! What the client then sends is plain HTTP to the catch-all, recorded and
//! scanned for baits as any other request.
//!
//! The authority's private key lives in this process's memory only: it is
//! never written to a file, never handed to the sandbox and never put in a
//! result, and it is dropped with the [`Interceptor`] at the end of the
//! analysis. The sandbox gets the certificate ([`Interceptor::ca_pem`]).
//!
//! A client that pins its certificates, or that brings its own list of
//! roots, refuses the minted certificate: the handshake fails and that
//! failure is what gets recorded.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Distinct names one analysis may mint certificates for; past it, the
/// handshake fails (and is recorded) rather than the worker minting for
/// ever.
pub const MAX_MINTED: usize = 512;

/// Why an interceptor could not be made.
#[derive(Debug, thiserror::Error)]
#[error("creating the analysis's TLS authority: {0}")]
pub struct CaError(String);

/// One analysis's certificate authority and the certificates it minted.
pub struct Interceptor {
    ca_pem: String,
    minter: Arc<Minter>,
}

impl std::fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interceptor").finish_non_exhaustive()
    }
}

struct Minter {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
    provider: Arc<rustls::crypto::CryptoProvider>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").finish_non_exhaustive()
    }
}

impl Interceptor {
    /// A fresh authority with a new key.
    pub fn new() -> Result<Self, CaError> {
        let err = |e: rcgen::Error| CaError(e.to_string());
        let ca_key = KeyPair::generate().map_err(err)?;
        // Named after its key, so that two analyses' authorities never
        // share a name.
        let id = hex::encode(&Sha256::digest(ca_key.public_key_der())[..8]);
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            format!("Paddock analysis CA {id} (throw-away)"),
        );
        dn.push(DnType::OrganizationName, "Paddock sandbox");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = params.self_signed(&ca_key).map_err(err)?;
        Ok(Self {
            ca_pem: ca.pem(),
            minter: Arc::new(Minter {
                ca,
                ca_key,
                provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
                leaves: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The authority's certificate, PEM: what the sandbox trusts.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Finishes the handshake a client started (the bytes the sniffer
    /// already read come first), presenting a certificate for its SNI or,
    /// without one, for `address`.
    pub async fn accept<S>(
        &self,
        stream: S,
        already_read: Vec<u8>,
        address: &str,
    ) -> Result<tokio_rustls::server::TlsStream<Replay<S>>, String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let resolver = Resolver {
            minter: self.minter.clone(),
            fallback: address.to_owned(),
        };
        let mut config = rustls::ServerConfig::builder_with_provider(self.minter.provider.clone())
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        // HTTP/2 is not served: a client that offers both falls back.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        acceptor
            .accept(Replay::new(already_read, stream))
            .await
            .map_err(
                |e| match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                    Some(rustls::Error::AlertReceived(alert)) => {
                        format!("the client refused the certificate (alert {alert:?})")
                    }
                    Some(other) => other.to_string(),
                    None if e.kind() == io::ErrorKind::UnexpectedEof => {
                        "the client closed the connection during the handshake".into()
                    }
                    None => e.to_string(),
                },
            )
    }
}

impl Minter {
    fn leaf(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = leaves.get(name) {
            return Some(k.clone());
        }
        if leaves.len() >= MAX_MINTED {
            return None;
        }
        let minted = self.mint(name).map_err(|e| {
            tracing::warn!(name, error = %e, "could not mint a certificate");
        });
        let key = Arc::new(minted.ok()?);
        leaves.insert(name.to_owned(), key.clone());
        Some(key)
    }

    fn mint(&self, name: &str) -> Result<CertifiedKey, String> {
        // rcgen takes a name that parses as an address as an IP SAN.
        let mut params =
            CertificateParams::new(vec![name.to_owned()]).map_err(|e| e.to_string())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let cert = params
            .signed_by(&key, &self.ca, &self.ca_key)
            .map_err(|e| e.to_string())?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = self
            .provider
            .key_provider
            .load_private_key(der)
            .map_err(|e| e.to_string())?;
        Ok(CertifiedKey::new(
            vec![
                cert.der().clone(),
                CertificateDer::from(self.ca.der().to_vec()),
            ],
            signer,
        ))
    }
}

#[derive(Debug)]
struct Resolver {
    minter: Arc<Minter>,
    fallback: String,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name().unwrap_or(&self.fallback);
        self.minter.leaf(&name.to_ascii_lowercase())
    }
}

/// A stream whose first bytes were already read: they are read again
/// first.
#[derive(Debug)]
pub struct Replay<S> {
    pending: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Replay<S> {
    pub fn new(pending: Vec<u8>, inner: S) -> Self {
        Self {
            pending,
            at: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.pending.len() {
            let n = buf.remaining().min(self.pending.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.pending[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dynamic tests look for this header to prove the keys never
    /// reach the sandbox or a result: it must be what the keys look like.
    #[test]
    fn keys_are_p256_pkcs8_and_the_pem_is_the_certificate_only() {
        let i = Interceptor::new().unwrap();
        let der = i.minter.ca_key.serialize_der();
        let header = [
            0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
            0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ];
        assert!(der.starts_with(&header), "{der:02x?}");
        assert!(i
            .minter
            .ca_key
            .serialize_pem()
            .contains("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEH"));
        assert!(i.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!i.ca_pem().contains("PRIVATE"));
        // One minted certificate per name, cached.
        let a = i.minter.leaf("a.example").unwrap();
        assert!(Arc::ptr_eq(&a, &i.minter.leaf("a.example").unwrap()));
        assert_eq!(a.cert.len(), 2, "the leaf and the authority");
        assert!(
            i.minter.leaf("192.0.2.1").is_some(),
            "an address gets an IP SAN"
        );
    }
}
