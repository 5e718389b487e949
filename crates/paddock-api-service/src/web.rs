//! The read-only web page (being written).

use std::sync::Arc;

use paddock_bus::CancellationToken;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::query::Results;
use crate::TlsFiles;

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

/// Serves the page until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: WebState,
    tls: Option<TlsFiles>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let _ = (state, tls);
    let app = axum::Router::new();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
