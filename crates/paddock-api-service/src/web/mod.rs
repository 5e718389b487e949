//! The read-only web page: server-rendered HTML over HTTP/1.1 (HTTPS with
//! `api.tls`), no script, nothing fetched from elsewhere.
//!
//! # Layout
//!
//! - this module: the router, authentication, the security headers every
//!   response carries, and how a failed read becomes a status and a page;
//! - [`html`]: escaping, links and the page frame;
//! - [`pages`]: one function per page (alerts, package, release, diff,
//!   search);
//! - [`results`]: a release's stored results (verdict, findings, phases);
//! - [`tls`]: a listener that hands axum TLS connections.
//!
//! # Invariants
//!
//! - Package names and versions travel in query parameters, never in path
//!   segments (they contain `/`, `@`, `..`), and are capped in length.
//! - Every value that came from a package or the bus is escaped.
//! - Every list on a page is capped at [`html::MAX_ITEMS`] rows.
//! - With tokens configured, every page but `/healthz` needs one with the
//!   read role (bearer, or the password of basic authentication).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use paddock_bus::CancellationToken;
use tokio::net::TcpListener;

use crate::auth::{Auth, Denied, Role};
use crate::query::{QueryError, Results};
use crate::TlsFiles;

pub mod html;
pub mod pages;
pub mod results;
pub mod tls;

/// The longest package name accepted in a query parameter.
pub const MAX_NAME_BYTES: usize = 512;
/// The longest version accepted.
pub const MAX_VERSION_BYTES: usize = 256;
/// The longest search query accepted.
pub const MAX_SEARCH_BYTES: usize = 256;

/// What the page reads.
#[derive(Debug, Clone)]
pub struct WebState {
    pub results: Results,
    pub auth: Arc<Auth>,
}

impl WebState {
    pub fn new(results: Results, auth: Arc<Auth>) -> Self {
        Self { results, auth }
    }
}

/// The page's routes with authentication and security headers.
pub fn router(state: WebState) -> Router {
    let pages = Router::new()
        .route("/", get(pages::alerts))
        .route("/package", get(pages::package))
        .route("/release", get(pages::release))
        .route("/diff", get(pages::diff))
        .route("/search", get(pages::search))
        .fallback(not_found_route)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_read))
        .with_state(state);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(pages)
        .layer(middleware::map_response(security_headers))
}

/// Serves the page until `shutdown`: HTTPS when `tls` is set, else HTTP.
pub async fn serve(
    listener: TcpListener,
    state: WebState,
    tls: Option<TlsFiles>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(state);
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
        }
        Some(files) => {
            let config = tls::server_config(&files)?;
            let listener = tls::TlsListener::new(listener, config, shutdown.clone())?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
        }
    }
}

/// Why a page cannot be shown; each is one status and one error page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// 400: a parameter is missing, too long or malformed.
    BadRequest(String),
    /// 404, with what to do about it.
    NotFound { message: String, hint: String },
    /// 503: the bus cannot be read.
    Unavailable(String),
}

impl PageError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            message: message.into(),
            hint: String::new(),
        }
    }
}

impl From<QueryError> for PageError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Invalid(m) => Self::BadRequest(m),
            QueryError::NotFound(m) => Self::not_found(m),
            QueryError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message, hint) = match self {
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad request", m, String::new()),
            PageError::NotFound { message, hint } => {
                (StatusCode::NOT_FOUND, "not found", message, hint)
            }
            PageError::Unavailable(m) => {
                tracing::warn!(error = %m, "the web page cannot read the bus");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    format!("{m} (the message bus cannot be read right now: try again shortly)"),
                    String::new(),
                )
            }
        };
        let body = format!(
            "<h1>{}</h1><div class=\"error\"><p>{}</p>{hint}</div>",
            status.as_u16(),
            html::text(&message),
        );
        (status, Html(html::page(title, &body, None))).into_response()
    }
}

async fn not_found_route() -> PageError {
    PageError::not_found(
        "there is no such page: the pages are /, /package, /release, /diff and /search",
    )
}

/// Parsed query parameters, or the reason they are not.
pub(crate) fn params<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, PageError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| PageError::BadRequest(format!("the query parameters: {}", e.body_text())))
}

/// `value` if it is at most `max` bytes.
pub(crate) fn capped<'a>(what: &str, value: &'a str, max: usize) -> Result<&'a str, PageError> {
    if value.len() > max {
        return Err(PageError::BadRequest(format!(
            "the {what} is {} bytes long; at most {max} are accepted",
            value.len()
        )));
    }
    Ok(value)
}

/// Lets a request through with a read token (or on an open API); else 401
/// with a basic-authentication challenge, so a browser asks for the token.
async fn require_read(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.auth.check(authorization, Role::Read) {
        Ok(_) => next.run(request).await,
        Err(denied) => {
            let status = match denied {
                Denied::Forbidden { .. } => StatusCode::FORBIDDEN,
                Denied::Missing | Denied::Unknown => StatusCode::UNAUTHORIZED,
            };
            let body = format!(
                "<h1>{}</h1><div class=\"error\"><p>{}</p><p>Sign in with any user name and an API token with the read role as the password.</p></div>",
                status.as_u16(),
                html::escape(&denied.to_string()),
            );
            let mut response = (status, Html(html::page("sign in", &body, None))).into_response();
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"paddock\""),
                );
            }
            response
        }
    }
}

/// The content security policy: inline style and nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_read_error_is_one_status() {
        for (error, status) in [
            (QueryError::Invalid("x".into()), StatusCode::BAD_REQUEST),
            (QueryError::NotFound("x".into()), StatusCode::NOT_FOUND),
            (
                QueryError::Unavailable("x".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ] {
            assert_eq!(PageError::from(error).into_response().status(), status);
        }
    }

    #[test]
    fn long_parameters_are_refused() {
        assert!(capped("name", &"a".repeat(MAX_NAME_BYTES), MAX_NAME_BYTES).is_ok());
        assert!(matches!(
            capped("name", &"a".repeat(MAX_NAME_BYTES + 1), MAX_NAME_BYTES),
            Err(PageError::BadRequest(m)) if m.contains("at most 512")
        ));
    }
}
