//! Access tokens for the BigQuery API.
//!
//! [`Credentials`] picks the source: none (the emulator), a key file, or
//! Google's application-default chain. A key file is either a service
//! account's key (`"type": "service_account"`: an RS256-signed JWT is
//! exchanged at the key's `token_uri`) or a user's login
//! (`"type": "authorized_user"`: its refresh token is exchanged). Without
//! a file, the GCE/GKE metadata server gives the attached service
//! account's token (workload identity).
//!
//! Tokens are cached until 60 s before they expire. Nothing here reads the
//! environment: the binary passes what it found in [`CredentialsEnv`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde::Deserialize;
use serde_json::{json, Value};

use super::config::Credentials;
use super::error::BigQueryError;

/// The OAuth scope the sink asks for.
pub const BIGQUERY_SCOPE: &str = "https://www.googleapis.com/auth/bigquery";
/// Where authorized-user files without a `token_uri` exchange their
/// refresh token.
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The metadata server's host on GCE and GKE.
const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
/// How the metadata server is named in errors.
const METADATA_ORIGIN: &str = "the metadata server";
/// What to do when the metadata server gives no token.
const METADATA_ADVICE: &str = "; without a metadata server (outside Google Cloud, or with no \
     service account attached) set bigquery.credentials or GOOGLE_APPLICATION_CREDENTIALS to a \
     key file, or run `gcloud auth application-default login`";
/// Tokens are refreshed this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime asked for in a service account's JWT (Google's maximum).
const JWT_LIFETIME_SECONDS: i64 = 3600;

/// What the application-default chain looks at, as the binary found it in
/// its environment (libraries do not read the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialsEnv {
    /// `GOOGLE_APPLICATION_CREDENTIALS`: a key file to use first.
    pub application_credentials: Option<PathBuf>,
    /// `HOME`: gcloud's login is
    /// `$HOME/.config/gcloud/application_default_credentials.json`.
    pub home: Option<PathBuf>,
    /// `GCE_METADATA_HOST`: the metadata server's `host[:port]`, default
    /// `metadata.google.internal`.
    pub metadata_host: Option<String>,
}

impl CredentialsEnv {
    /// gcloud's application-default login file under `home`.
    pub fn gcloud_file(home: &Path) -> PathBuf {
        home.join(".config")
            .join("gcloud")
            .join("application_default_credentials.json")
    }
}

/// Gives the `Authorization` header for each request, fetching and caching
/// tokens.
pub(crate) struct Authenticator {
    source: Source,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

struct CachedToken {
    header: String,
    refresh_at: Instant,
}

enum Source {
    Anonymous,
    ServiceAccount(Box<ServiceAccount>),
    AuthorizedUser(AuthorizedUser),
    Metadata { url: String },
}

/// A service account's key: who it is and how it signs.
pub(crate) struct ServiceAccount {
    pub(crate) client_email: String,
    pub(crate) private_key_id: Option<String>,
    pub(crate) token_uri: String,
    pub(crate) key: RsaKeyPair,
    pub(crate) origin: String,
}

struct AuthorizedUser {
    client_id: String,
    client_secret: String,
    refresh_token: String,
    token_uri: String,
    origin: String,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("source", &self.describe())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Resolves `credentials` to a token source. Key files are read and
    /// parsed here, so a bad file fails at startup, not at the first insert.
    pub(crate) async fn new(
        credentials: &Credentials,
        env: &CredentialsEnv,
        http: reqwest::Client,
    ) -> Result<Self, BigQueryError> {
        let source = match credentials {
            Credentials::None => Source::Anonymous,
            Credentials::File(path) => read_key_file(path).await?,
            Credentials::ApplicationDefault => application_default(env).await?,
        };
        Ok(Self {
            source,
            http,
            cache: tokio::sync::Mutex::new(None),
        })
    }

    /// Where tokens come from, for logs (no secrets).
    pub(crate) fn describe(&self) -> String {
        match &self.source {
            Source::Anonymous => "no credentials".to_owned(),
            Source::ServiceAccount(sa) => {
                format!("service account {} ({})", sa.client_email, sa.origin)
            }
            Source::AuthorizedUser(user) => format!("user login ({})", user.origin),
            Source::Metadata { url } => format!("the metadata server ({url})"),
        }
    }

    /// The `Authorization` header value, `None` without credentials.
    pub(crate) async fn authorization(&self) -> Result<Option<String>, BigQueryError> {
        if matches!(self.source, Source::Anonymous) {
            return Ok(None);
        }
        let mut cache = self.cache.lock().await;
        if let Some(token) = cache.as_ref() {
            if Instant::now() < token.refresh_at {
                return Ok(Some(token.header.clone()));
            }
        }
        let (token, lifetime) = self.fetch().await?;
        let header = format!("Bearer {token}");
        *cache = Some(CachedToken {
            header: header.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN),
        });
        Ok(Some(header))
    }

    /// Drops the cached token (the server refused it).
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn fetch(&self) -> Result<(String, Duration), BigQueryError> {
        match &self.source {
            Source::Anonymous => Ok((String::new(), Duration::MAX)),
            Source::ServiceAccount(sa) => {
                let assertion = jwt_assertion(sa, unix_now())?;
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                    .append_pair("assertion", &assertion)
                    .finish();
                let request = self.http.post(&sa.token_uri).header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
                token_request(request.body(form), &sa.origin).await
            }
            Source::AuthorizedUser(user) => {
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("client_id", &user.client_id)
                    .append_pair("client_secret", &user.client_secret)
                    .append_pair("refresh_token", &user.refresh_token)
                    .finish();
                let request = self.http.post(&user.token_uri).header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
                token_request(request.body(form), &user.origin).await
            }
            Source::Metadata { url } => {
                let request = self.http.get(url).header("Metadata-Flavor", "Google");
                token_request(request, METADATA_ORIGIN).await
            }
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

async fn token_request(
    request: reqwest::RequestBuilder,
    origin: &str,
) -> Result<(String, Duration), BigQueryError> {
    let error = |reason: String, transient: bool| BigQueryError::Token {
        origin: origin.to_owned(),
        reason,
        transient,
    };
    let response = request.send().await.map_err(|e| {
        error(
            if origin == METADATA_ORIGIN {
                format!("request failed: {e}{METADATA_ADVICE}")
            } else {
                format!("request failed: {e}; check that the token endpoint is reachable")
            },
            true,
        )
    })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| error(format!("reading the response: {e}"), true))?;
    if !status.is_success() {
        // OAuth errors: {"error": "invalid_grant", "error_description": "..."}.
        let detail = serde_json::from_slice::<Value>(&body)
            .ok()
            .map(|v| {
                let code = v["error"].as_str().unwrap_or_default().to_owned();
                let description = v["error_description"].as_str().unwrap_or_default();
                format!("{code} {description}").trim().to_owned()
            })
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
        let transient = status.is_server_error() || status.as_u16() == 429;
        let advice = if transient {
            ""
        } else if origin == METADATA_ORIGIN {
            METADATA_ADVICE
        } else {
            "; the credentials were refused: create a new key or log in again \
             (`gcloud auth application-default login`)"
        };
        return Err(error(
            format!("http {}: {detail}{advice}", status.as_u16()),
            transient,
        ));
    }
    let token: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| error(format!("the response is not a token: {e}"), false))?;
    let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
    Ok((token.access_token, lifetime))
}

/// The application-default chain: the explicit file, gcloud's login, the
/// metadata server.
async fn application_default(env: &CredentialsEnv) -> Result<Source, BigQueryError> {
    if let Some(path) = &env.application_credentials {
        return read_key_file(path).await.map_err(|e| match e {
            BigQueryError::Credentials { origin, reason } => BigQueryError::Credentials {
                origin: format!("GOOGLE_APPLICATION_CREDENTIALS={origin}"),
                reason,
            },
            other => other,
        });
    }
    if let Some(home) = &env.home {
        let path = CredentialsEnv::gcloud_file(home);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return read_key_file(&path).await;
        }
    }
    let host = env
        .metadata_host
        .as_deref()
        .unwrap_or(DEFAULT_METADATA_HOST);
    let mut url =
        format!("http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes=");
    url.extend(url::form_urlencoded::byte_serialize(
        BIGQUERY_SCOPE.as_bytes(),
    ));
    Ok(Source::Metadata { url })
}

async fn read_key_file(path: &Path) -> Result<Source, BigQueryError> {
    let origin = path.display().to_string();
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| BigQueryError::Credentials {
            origin: origin.clone(),
            reason: format!(
                "cannot read the file: {e}; set bigquery.credentials to a readable key file, \
                 or to \"application-default\""
            ),
        })?;
    parse_key_file(&text, &origin)
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type", default)]
    kind: String,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

fn parse_key_file(text: &str, origin: &str) -> Result<Source, BigQueryError> {
    let error = |reason: String| BigQueryError::Credentials {
        origin: origin.to_owned(),
        reason,
    };
    let file: KeyFile = serde_json::from_str(text)
        .map_err(|e| error(format!("not a credentials JSON file: {e}")))?;
    let missing = |field: &str| {
        error(format!(
            "the {} file has no {field:?}: download the key again",
            file.kind
        ))
    };
    match file.kind.as_str() {
        "service_account" => {
            let pem = file
                .private_key
                .as_deref()
                .ok_or_else(|| missing("private_key"))?;
            let key = rsa_key_from_pem(pem).map_err(error)?;
            Ok(Source::ServiceAccount(Box::new(ServiceAccount {
                client_email: file
                    .client_email
                    .clone()
                    .ok_or_else(|| missing("client_email"))?,
                private_key_id: file.private_key_id.clone(),
                token_uri: file
                    .token_uri
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned()),
                key,
                origin: origin.to_owned(),
            })))
        }
        "authorized_user" => Ok(Source::AuthorizedUser(AuthorizedUser {
            client_id: file.client_id.clone().ok_or_else(|| missing("client_id"))?,
            client_secret: file
                .client_secret
                .clone()
                .ok_or_else(|| missing("client_secret"))?,
            refresh_token: file
                .refresh_token
                .clone()
                .ok_or_else(|| missing("refresh_token"))?,
            token_uri: file
                .token_uri
                .clone()
                .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned()),
            origin: origin.to_owned(),
        })),
        other => Err(error(format!(
            "credentials of type {other:?} are not supported: use a service-account key \
             (\"service_account\"), a gcloud login (\"authorized_user\"), or the metadata \
             server (no file)"
        ))),
    }
}

/// The RSA key of a PEM `PRIVATE KEY` (PKCS#8, as Google issues them) or
/// `RSA PRIVATE KEY` (PKCS#1).
pub(crate) fn rsa_key_from_pem(pem: &str) -> Result<RsaKeyPair, String> {
    let (label, der) = pem_block(pem)?;
    let parsed = match label.as_str() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        other => {
            return Err(format!(
                "the private key is a PEM {other:?}, not an RSA private key"
            ))
        }
    };
    parsed.map_err(|e| format!("the private key is not a usable RSA key: {e}"))
}

/// The label and decoded contents of the first PEM block.
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or("the private key is not PEM (no BEGIN line)")?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or("malformed PEM BEGIN line")?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + "-----".len();
    let end_marker = format!("-----END {label}-----");
    let body_end = rest
        .find(&end_marker)
        .ok_or("the PEM block has no END line")?;
    let body: String = rest[body_start..body_end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("the PEM body is not base64: {e}"))?;
    Ok((label, der))
}

/// The signed JWT a service account exchanges for an access token: RS256,
/// `iss` the account, `aud` its token URI, valid for an hour from `now`.
pub(crate) fn jwt_assertion(sa: &ServiceAccount, now: i64) -> Result<String, BigQueryError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &sa.private_key_id {
        header["kid"] = Value::String(kid.clone());
    }
    let claims = json!({
        "iss": sa.client_email,
        "scope": BIGQUERY_SCOPE,
        "aud": sa.token_uri,
        "iat": now,
        "exp": now + JWT_LIFETIME_SECONDS,
    });
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let mut signature = vec![0; sa.key.public().modulus_len()];
    sa.key
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| BigQueryError::Credentials {
            origin: sa.origin.clone(),
            reason: "signing the token request failed".into(),
        })?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

#[cfg(test)]
mod tests {
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

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

    fn service_account_file() -> String {
        json!({
            "type": "service_account",
            "project_id": "paddock-test",
            "private_key_id": "key-1",
            "private_key": TEST_ONLY_KEY,
            "client_email": "sink@paddock-test.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.example.test/token",
        })
        .to_string()
    }

    fn decode_part(part: &str) -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn service_account_jwt_is_signed_rs256_with_the_expected_claims() {
        let Source::ServiceAccount(sa) =
            parse_key_file(&service_account_file(), "key.json").unwrap()
        else {
            panic!("a service account")
        };
        let jwt = jwt_assertion(&sa, 1_800_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode_part(parts[0]),
            json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"})
        );
        assert_eq!(
            decode_part(parts[1]),
            json!({
                "iss": "sink@paddock-test.iam.gserviceaccount.com",
                "scope": BIGQUERY_SCOPE,
                "aud": "https://oauth2.example.test/token",
                "iat": 1_800_000_000,
                "exp": 1_800_003_600,
            })
        );
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, sa.key.public().as_ref());
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &signature).unwrap();
        // Tampered claims do not verify.
        let tampered = format!("{}.{}x", parts[0], parts[1]);
        assert!(public.verify(tampered.as_bytes(), &signature).is_err());
    }

    #[test]
    fn key_files_are_recognised_or_refused_with_advice() {
        let user = json!({
            "type": "authorized_user",
            "client_id": "id",
            "client_secret": "secret",
            "refresh_token": "refresh",
        })
        .to_string();
        let Source::AuthorizedUser(user) = parse_key_file(&user, "adc.json").unwrap() else {
            panic!("an authorized user")
        };
        assert_eq!(user.token_uri, DEFAULT_TOKEN_URI);

        let error = parse_key_file(r#"{"type": "external_account"}"#, "x.json")
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("\"external_account\" are not supported"),
            "{error}"
        );

        let broken = service_account_file().replace("MIIEvAIB", "MIIEvXIB");
        let error = parse_key_file(&broken, "k.json").err().unwrap().to_string();
        assert!(error.contains("not a usable RSA key"), "{error}");

        let error = parse_key_file(r#"{"type": "service_account"}"#, "k.json")
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("no \"private_key\""), "{error}");

        let error = parse_key_file("not json", "k.json")
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.starts_with("bigquery credentials from k.json: not a credentials JSON file"),
            "{error}"
        );
    }

    #[test]
    fn pem_blocks_need_their_markers() {
        assert!(rsa_key_from_pem("MIIEvAIBADANBg").is_err());
        let error =
            rsa_key_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .err()
                .unwrap();
        assert!(error.contains("\"CERTIFICATE\""), "{error}");
    }

    #[test]
    fn the_gcloud_login_lives_under_home() {
        assert_eq!(
            CredentialsEnv::gcloud_file(Path::new("/home/u")),
            PathBuf::from("/home/u/.config/gcloud/application_default_credentials.json")
        );
    }
}
