//! Access tokens for the BigQuery API, from the `gcp_auth` crate.
//!
//! [`Credentials`] picks the source: none (the emulator), a service
//! account's key file, or Google's application-default chain as
//! `gcp_auth::provider` walks it (`GOOGLE_APPLICATION_CREDENTIALS`,
//! gcloud's `application-default login`, the GCE/GKE metadata server, the
//! gcloud CLI). `gcp_auth` signs the service account's JWT, exchanges it at
//! the key's `token_uri`, caches each token until shortly before it
//! expires and retries a failed exchange a few times; it reads the
//! environment itself, the one part of the sink that does.
//!
//! Around it, Paddock keeps its own limits and advice:
//! - a key file over [`MAX_KEY_FILE_BYTES`] is refused unread, and a key
//!   file of another kind (a user login, a workload-identity federation
//!   file) is refused with what to use instead;
//! - getting a token takes at most the client's `timeout`;
//! - a token that cannot be had is a transient error. `gcp_auth` does not
//!   say whether the endpoint refused the key or was unreachable, and a
//!   credentials problem is not the rows' fault either way: the rows stay
//!   held (never dead-lettered for it) and the log says what to fix.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gcp_auth::TokenProvider;
use serde::Deserialize;

use super::config::Credentials;
use super::error::BigQueryError;

/// The OAuth scope the sink asks for.
pub const BIGQUERY_SCOPE: &str = "https://www.googleapis.com/auth/bigquery";
/// The largest key file read (Google's keys are about 2.3 KB).
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// How the application-default chain is named in errors.
const CHAIN: &str = "the application-default chain";

/// Gives the `Authorization` header for each request.
pub(crate) struct Authenticator {
    provider: Option<Arc<dyn TokenProvider>>,
    origin: String,
    deadline: Duration,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("source", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Resolves `credentials` to a token source. A key file is read and
    /// checked here, so a bad file fails at startup, not at the first
    /// insert; the application-default chain is walked here too (which may
    /// fetch a first token). Each step takes at most `deadline`.
    pub(crate) async fn new(
        credentials: &Credentials,
        deadline: Duration,
    ) -> Result<Self, BigQueryError> {
        let (provider, origin): (Option<Arc<dyn TokenProvider>>, String) = match credentials {
            Credentials::None => (None, "no credentials".to_owned()),
            Credentials::File(path) => {
                let origin = path.display().to_string();
                let text = read_key_file(path).await?;
                let (account, email) = service_account(&text, &origin)?;
                (
                    Some(Arc::new(account)),
                    format!("service account {email} ({origin})"),
                )
            }
            Credentials::ApplicationDefault => {
                let found = tokio::time::timeout(deadline, gcp_auth::provider())
                    .await
                    .map_err(|_| BigQueryError::Token {
                        origin: CHAIN.to_owned(),
                        reason: format!("no credentials found within {deadline:?}"),
                        transient: true,
                    })?
                    .map_err(|e| BigQueryError::Credentials {
                        origin: CHAIN.to_owned(),
                        reason: format!(
                            "{}; set GOOGLE_APPLICATION_CREDENTIALS or bigquery.credentials to a \
                             service-account key file, run `gcloud auth application-default \
                             login`, or run where a metadata server gives the attached service \
                             account's token",
                            error_chain(&e)
                        ),
                    })?;
                (Some(found), CHAIN.to_owned())
            }
        };
        Ok(Self {
            provider,
            origin,
            deadline,
        })
    }

    /// Where tokens come from, for logs (no secrets).
    pub(crate) fn describe(&self) -> String {
        self.origin.clone()
    }

    /// The `Authorization` header value, `None` without credentials.
    pub(crate) async fn authorization(&self) -> Result<Option<String>, BigQueryError> {
        let Some(provider) = &self.provider else {
            return Ok(None);
        };
        let error = |reason: String| BigQueryError::Token {
            origin: self.origin.clone(),
            reason,
            transient: true,
        };
        let token = tokio::time::timeout(self.deadline, provider.token(&[BIGQUERY_SCOPE]))
            .await
            .map_err(|_| error(format!("no token within {:?}", self.deadline)))?
            .map_err(|e| {
                error(format!(
                    "{}; check that the token endpoint is reachable and that the key is valid \
                     (create a new key, or log in again with `gcloud auth application-default \
                     login`); the rows stay held meanwhile",
                    error_chain(&e)
                ))
            })?;
        Ok(Some(format!("Bearer {}", token.as_str())))
    }
}

/// An error and its sources, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

async fn read_key_file(path: &Path) -> Result<String, BigQueryError> {
    let error = |reason: String| BigQueryError::Credentials {
        origin: path.display().to_string(),
        reason,
    };
    let cannot_read = |e: std::io::Error| {
        error(format!(
            "cannot read the file: {e}; set bigquery.credentials to a readable key file, or to \
             \"application-default\""
        ))
    };
    let size = tokio::fs::metadata(path).await.map_err(cannot_read)?.len();
    if size > MAX_KEY_FILE_BYTES {
        return Err(error(format!(
            "the file is {size} bytes, more than a key file's {MAX_KEY_FILE_BYTES}: is this the \
             right file?"
        )));
    }
    tokio::fs::read_to_string(path).await.map_err(cannot_read)
}

/// What is read of a key file before `gcp_auth` reads it all.
#[derive(Deserialize)]
struct KeyKind {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    client_email: String,
}

/// A service account's token source, and its e-mail for logs.
fn service_account(
    text: &str,
    origin: &str,
) -> Result<(gcp_auth::CustomServiceAccount, String), BigQueryError> {
    let error = |reason: String| BigQueryError::Credentials {
        origin: origin.to_owned(),
        reason,
    };
    let key: KeyKind = serde_json::from_str(text)
        .map_err(|e| error(format!("not a credentials JSON file: {e}")))?;
    match key.kind.as_str() {
        "service_account" => {}
        "authorized_user" => {
            return Err(error(
                "a gcloud user login is not read from a path: set bigquery.credentials = \
                 \"application-default\" (it finds the login where `gcloud auth \
                 application-default login` puts it), or give a service-account key"
                    .into(),
            ))
        }
        other => {
            return Err(error(format!(
                "credentials of type {other:?} are not supported: use a service-account key \
                 (\"service_account\"), or \"application-default\" for a gcloud login or the \
                 metadata server"
            )))
        }
    }
    let account = gcp_auth::CustomServiceAccount::from_json(text).map_err(|e| {
        error(format!(
            "not a usable service-account key: {}; download the key again",
            error_chain(&e)
        ))
    })?;
    Ok((account, key.client_email))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use base64::Engine as _;
    use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use serde_json::{json, Value};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A throwaway 2048-bit RSA key made for this test with
    /// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`. It
    /// signs nothing but this test's JWTs and is not registered anywhere.
    const TEST_ONLY_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCnyxmY9+w0XXDw
xoGbg3oSkBnGZaoLgFaGo5RvoxSXDyGtwBK7ktuTFqJkH8d/qa7ONmh12XSw4LaK
mL75KZGllukdhfw+jamFGhx28WOOg/oAqjjwOsOdVRZo6Wbhx6zvhqoqKmwOGqC2
VErvjAB2ktrIy33ANeJ0d5NQDwR7ogc41miEZgVIAxQ9s6cPs95fqtl7uJ59jn36
YVCJZg1709BIjsqbXyYto8x1W+k5yGS3Easc7BADq+q3oOiODpb5Vyf0rDryljVs
F5+JVtBbQrLvrRLdXwf6uSWiXlfd7TuX3wX6hAXupLvvdLJ4P6yEwLLNdFxkrJ4i
+mMW9WU7AgMBAAECggEAAw8mCOWlZxpvT4/qYHHBNkskkbslWWF5oBdci7yCkeDF
UZCAolv98WyUODli9cF3Xdn4F+A+gh1Wtqgsjpr1INYIGN7X7DLlkXcaHuWbMVn8
WgWb55MPRfQ0U9Ho/bX1r3zaMM4K6SbrIXopGCqu/lXd89xh6oxaGJs3yX5zdMIh
oyto9gEKPw8eT8N6NeGcmqJ0HfYgj9j9NulCDP4QJunBXPyA0YwOf6EOGArb1vtj
053Mv0s+lCOmSuSHJ88hMzt3Ayi4EC+/V3jPi2PdgdQht7W+WSEQhG+b0RWz3slq
qecW3vJOPT84S4J/2p7OjP+/XMFj3l1rs20R92DloQKBgQDb9MnIYjZ/gLCjCrO0
SGi1k5W1WQTyWgCijf65NJvfqbzffrc+L3mzgnWSWB+P6NZufQANSNiSzZioNjAo
T195gfn8VOO4yTc/PpKy+3v9ZPXgepZxSS3KZkH3EBvMY3btZZGRicZDR+aG8e6K
7rs9K8yB2drgQSOEoAUCfJWIbQKBgQDDShGd/n9K/cFv2OAu97D6V/n8Ax+6Cj8H
pEuc+HQcWVUyriPs0uqz3lRM+mJTx581vFpC/wz3Z8s9bllq9jS22qJaEytabEIM
A9xN9waVgcNuWBDNpnAPtvazA4yIUBIXncmOFOl1Xy0qPmzTT4cfUfkCz3GvHzgZ
NSxLcvNrRwKBgHYoq/UvfWNFOJ59c0gX1dglLjk7VwLyAoFQklPfxRSD1GijY8DO
NCyQmqRBHsNqKzczg0Gfrmg+dhF2+qvM59cYUbiRybtMrJcXACuSGWtoPwWWFRdK
XoTqJemZB7XmgM7Kz0ZFovIlv9siQCj2UjNsQfJHm+L4WyI17DsHvjSJAoGAcv3k
TcITtlahVni/2SgkX+T54Dj+r49k+dz2YSGzTRYVItiDcunnJa6euQ0eZPLAfuW/
yH9iZTQK6stVf7Ql6h3nR17OQlpIscZ8LLRufg6AwzK8Ajwk9DvqHBLU51cusBVL
H4yUw3YdpChJ8Et95yVfmRYJfPLHF6DFyk+PofUCgYAgUYVVO2WpKdQpUGIxt5VN
B+bz0FeeGQmx96FMkj0YmlFU72iQwSN6SPEHkgMrHU5inXsr72MhkM9ME/loZvwd
Tl1zcen5ZkSNlbN5OriUthLVaXgQjspDD2biXTaO3sJ5IkrsNdbWUecBpvEZ+9vk
o63fAMbS8NebWfEkXqwfBQ==
-----END PRIVATE KEY-----
";

    fn service_account_file(token_uri: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": "paddock-test",
            "private_key_id": "key-1",
            "private_key": TEST_ONLY_KEY,
            "client_email": "sink@paddock-test.iam.gserviceaccount.com",
            "client_id": "1",
            "auth_uri": "http://127.0.0.1:1/auth",
            "token_uri": token_uri,
        })
        .to_string()
    }

    /// A loopback token endpoint answering every request with `status` and
    /// `body`; it keeps each request's form body.
    async fn token_endpoint(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let body_start = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(i + 4);
                    }
                };
                let Some(body_start) = body_start else {
                    continue;
                };
                let head = String::from_utf8_lossy(&request[..body_start]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while request.len() < body_start + length {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&request[body_start..]).into_owned());
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        (url, seen)
    }

    async fn key_file(text: &str) -> (tempfile::TempDir, Credentials) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        tokio::fs::write(&path, text).await.unwrap();
        (dir, Credentials::File(path))
    }

    /// A JWT part (base64url, with or without padding).
    fn unbase64(part: &str) -> Vec<u8> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .unwrap()
    }

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&unbase64(part)).unwrap()
    }

    #[tokio::test]
    async fn a_service_account_key_is_exchanged_at_its_token_uri_for_a_bigquery_token() {
        let (token_uri, seen) = token_endpoint(
            200,
            r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}"#,
        )
        .await;
        let (_dir, credentials) = key_file(&service_account_file(&token_uri)).await;
        let auth = Authenticator::new(&credentials, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            auth.describe()
                .starts_with("service account sink@paddock-test.iam.gserviceaccount.com ("),
            "{}",
            auth.describe()
        );
        assert_eq!(
            auth.authorization().await.unwrap().as_deref(),
            Some("Bearer tok-1")
        );
        // The token is cached: a second request does not exchange again.
        assert_eq!(
            auth.authorization().await.unwrap().as_deref(),
            Some("Bearer tok-1")
        );
        let requests = seen.lock().unwrap().clone();
        assert_eq!(requests.len(), 1, "{requests:?}");

        // The exchange is a JWT-bearer grant whose assertion the key signed,
        // for the BigQuery scope, addressed to the key's token URI.
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(requests[0].as_bytes())
                .into_owned()
                .collect();
        assert_eq!(
            form["grant_type"],
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        );
        let parts: Vec<&str> = form["assertion"].split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode_part(parts[0])["alg"], "RS256");
        let claims = decode_part(parts[1]);
        assert_eq!(claims["iss"], "sink@paddock-test.iam.gserviceaccount.com");
        assert_eq!(claims["scope"], BIGQUERY_SCOPE);
        assert_eq!(claims["aud"], token_uri.as_str());
        let key = PrivatePkcs8KeyDer::from_pem_slice(TEST_ONLY_KEY.as_bytes()).unwrap();
        let key = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public().as_ref());
        let signature = unbase64(parts[2]);
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &signature).unwrap();
        let tampered = format!("{}.{}x", parts[0], parts[1]);
        assert!(public.verify(tampered.as_bytes(), &signature).is_err());
    }

    #[tokio::test]
    async fn a_refused_key_is_a_transient_token_error_with_advice() {
        let (token_uri, _seen) = token_endpoint(400, r#"{"error":"invalid_grant"}"#).await;
        let (_dir, credentials) = key_file(&service_account_file(&token_uri)).await;
        let auth = Authenticator::new(&credentials, Duration::from_secs(10))
            .await
            .unwrap();
        let error = auth.authorization().await.unwrap_err();
        assert!(error.is_transient(), "{error}");
        let text = error.to_string();
        assert!(text.contains("the rows stay held"), "{text}");
        assert!(text.contains("create a new key"), "{text}");
    }

    #[tokio::test]
    async fn key_files_are_recognised_or_refused_with_advice() {
        let refused = |text: String| async move {
            let (_dir, credentials) = key_file(&text).await;
            Authenticator::new(&credentials, Duration::from_secs(5))
                .await
                .unwrap_err()
                .to_string()
        };
        let user = json!({"type": "authorized_user", "client_id": "i",
                          "client_secret": "s", "refresh_token": "r"});
        let error = refused(user.to_string()).await;
        assert!(error.contains("\"application-default\""), "{error}");

        let error = refused(r#"{"type": "external_account"}"#.into()).await;
        assert!(
            error.contains("\"external_account\" are not supported"),
            "{error}"
        );

        let broken =
            service_account_file("http://127.0.0.1:1/token").replace("MIIEvAIB", "MIIEvXIB");
        let error = refused(broken).await;
        assert!(
            error.contains("not a usable service-account key"),
            "{error}"
        );

        let error = refused("not json".into()).await;
        assert!(error.contains("not a credentials JSON file"), "{error}");

        let huge = " ".repeat(MAX_KEY_FILE_BYTES as usize + 1);
        let error = refused(huge).await;
        assert!(error.contains("more than a key file's"), "{error}");

        let missing = Credentials::File("/nonexistent/key.json".into());
        let error = Authenticator::new(&missing, Duration::from_secs(5))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("bigquery credentials from /nonexistent/key.json: cannot read"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn no_credentials_send_no_header() {
        let auth = Authenticator::new(&Credentials::None, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(auth.authorization().await.unwrap(), None);
    }
}
