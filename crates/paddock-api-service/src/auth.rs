//! Bearer tokens with two roles.
//!
//! - `read`: GetResult, ListReleases, GetDiff, WatchAlerts and the web page.
//! - `submit`: Submit, and everything `read` may do.
//!
//! With no token configured the API is open, and then it only binds to
//! loopback unless `api.allow_unauthenticated_remote` is set. Tokens are
//! compared in constant time. The web page takes the same token as a
//! bearer token or as the password of HTTP basic authentication (the
//! browser's own prompt), with any user name.

use std::path::PathBuf;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Submit,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Submit => "submit",
        }
    }
}

/// `[[api.tokens]]`: one client's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it: shown in logs, never the token itself.
    pub name: String,
    pub role: Role,
    /// The token. Prefer `token_file` outside tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A file holding the token (a mounted secret), surrounding whitespace
    /// ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
}

/// Why a token configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("api token `{name}`: set exactly one of `token` and `token_file`")]
    Ambiguous { name: String },
    #[error("api token `{name}`: reading {path}: {source}")]
    Unreadable {
        name: String,
        path: String,
        source: std::io::Error,
    },
    #[error("api token `{name}` is shorter than 16 characters: use a long random token (for example `openssl rand -hex 32`)")]
    TooShort { name: String },
}

/// The configured tokens.
#[derive(Clone, Default)]
pub struct Auth {
    tokens: Vec<(String, Role, Vec<u8>)>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field(
                "tokens",
                &self.tokens.iter().map(|t| (&t.0, t.1)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Who called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name, or `anonymous` on an open API.
    pub name: String,
    pub role: Role,
}

/// Why a call is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("this API needs a token: send `authorization: Bearer <token>`")]
    Missing,
    #[error("the token is not one this API knows")]
    Unknown,
    #[error("the token `{name}` has the {has} role; this call needs the {needs} role")]
    Forbidden {
        name: String,
        has: &'static str,
        needs: &'static str,
    },
}

impl Auth {
    /// Reads the tokens (and token files).
    pub fn load(tokens: &[TokenConfig]) -> Result<Self, TokenError> {
        let mut out = Vec::with_capacity(tokens.len());
        for t in tokens {
            let secret = match (&t.token, &t.token_file) {
                (Some(token), None) => token.trim().to_owned(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .map_err(|source| TokenError::Unreadable {
                        name: t.name.clone(),
                        path: path.display().to_string(),
                        source,
                    })?
                    .trim()
                    .to_owned(),
                _ => {
                    return Err(TokenError::Ambiguous {
                        name: t.name.clone(),
                    })
                }
            };
            if secret.chars().count() < 16 {
                return Err(TokenError::TooShort {
                    name: t.name.clone(),
                });
            }
            out.push((t.name.clone(), t.role, secret.into_bytes()));
        }
        Ok(Self { tokens: out })
    }

    /// No tokens: every call is allowed.
    pub fn is_open(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Checks an `authorization` header's value for `needs`.
    pub fn check(&self, authorization: Option<&str>, needs: Role) -> Result<Caller, Denied> {
        if self.is_open() {
            return Ok(Caller {
                name: "anonymous".into(),
                role: Role::Submit,
            });
        }
        let presented = authorization
            .and_then(presented_token)
            .ok_or(Denied::Missing)?;
        // Every token is compared, so the time taken says nothing about
        // which one (or how much of one) matched.
        let mut found = None;
        for (name, role, secret) in &self.tokens {
            if constant_time_eq(secret, presented.as_bytes()) {
                found = Some((name, *role));
            }
        }
        let (name, role) = found.ok_or(Denied::Unknown)?;
        if role < needs {
            return Err(Denied::Forbidden {
                name: name.clone(),
                has: role.name(),
                needs: needs.name(),
            });
        }
        Ok(Caller {
            name: name.clone(),
            role,
        })
    }
}

/// The token of `Bearer <token>`, or the password of `Basic <user:pass>`.
fn presented_token(header: &str) -> Option<String> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.as_bytes())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text.split_once(':').map(|(_, pass)| pass.to_owned());
    }
    None
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::load(&[
            TokenConfig {
                name: "reader".into(),
                role: Role::Read,
                token: Some("read-token-0123456789".into()),
                token_file: None,
            },
            TokenConfig {
                name: "ci".into(),
                role: Role::Submit,
                token: Some("submit-token-0123456789".into()),
                token_file: None,
            },
        ])
        .unwrap()
    }

    #[test]
    fn roles_and_schemes() {
        let a = auth();
        assert_eq!(a.check(None, Role::Read), Err(Denied::Missing));
        assert_eq!(
            a.check(Some("Bearer nope"), Role::Read),
            Err(Denied::Unknown)
        );
        assert_eq!(
            a.check(Some("Bearer read-token-012345678"), Role::Read),
            Err(Denied::Unknown),
            "a prefix is not the token"
        );
        assert_eq!(
            a.check(Some("Bearer read-token-0123456789"), Role::Read)
                .unwrap()
                .name,
            "reader"
        );
        assert!(matches!(
            a.check(Some("Bearer read-token-0123456789"), Role::Submit),
            Err(Denied::Forbidden {
                needs: "submit",
                ..
            })
        ));
        assert_eq!(
            a.check(Some("bearer submit-token-0123456789"), Role::Read)
                .unwrap()
                .role,
            Role::Submit
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("me:read-token-0123456789");
        assert_eq!(
            a.check(Some(&format!("Basic {basic}")), Role::Read)
                .unwrap()
                .name,
            "reader"
        );
        assert!(Auth::default().check(None, Role::Submit).is_ok());
    }

    #[test]
    fn short_or_ambiguous_tokens_are_refused() {
        let t = |token: Option<&str>, file: Option<&str>| TokenConfig {
            name: "x".into(),
            role: Role::Read,
            token: token.map(Into::into),
            token_file: file.map(Into::into),
        };
        assert!(matches!(
            Auth::load(&[t(Some("short"), None)]),
            Err(TokenError::TooShort { .. })
        ));
        assert!(matches!(
            Auth::load(&[t(None, None)]),
            Err(TokenError::Ambiguous { .. })
        ));
        assert!(matches!(
            Auth::load(&[t(None, Some("/nonexistent/token"))]),
            Err(TokenError::Unreadable { .. })
        ));
    }
}
