//! An HTTP proxy on loopback in front of a real service (the BigQuery
//! emulator), answering chosen requests with an error status instead of
//! forwarding them: how a test shows what a client does with a 403 or a
//! 503 the emulator itself never sends.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// What to answer instead of forwarding.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Requests whose path contains this.
    pub path_contains: String,
    pub status: u16,
    /// The JSON body answered.
    pub body: serde_json::Value,
    /// How many requests to fail; `None`: all of them.
    pub times: Option<usize>,
}

impl Fault {
    /// A Google API error body (`{"error": {"code", "message", "errors":
    /// [{"reason"}]}}`), as BigQuery answers one.
    pub fn google(path_contains: &str, status: u16, reason: &str, message: &str) -> Self {
        Self {
            path_contains: path_contains.into(),
            status,
            body: serde_json::json!({
                "error": {
                    "code": status,
                    "message": message,
                    "errors": [{"reason": reason, "message": message, "domain": "global"}],
                    "status": reason,
                }
            }),
            times: None,
        }
    }

    pub fn times(mut self, times: usize) -> Self {
        self.times = Some(times);
        self
    }
}

#[derive(Default)]
struct State {
    faults: Vec<Fault>,
    /// Requests answered with a fault, by path.
    served: Vec<String>,
}

/// The proxy; stops when dropped.
pub struct FaultProxy {
    origin: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy forwarding to `upstream` (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port for the fault proxy");
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let state: Arc<Mutex<State>> = Default::default();
        let client = reqwest::Client::new();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let app = axum::Router::new().fallback({
            let state = state.clone();
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (state, client, upstream) = (state.clone(), client.clone(), upstream.clone());
                async move {
                    if let Some(fault) = take_fault(&state, uri.path()) {
                        return (
                            StatusCode::from_u16(fault.status).unwrap(),
                            [("content-type", "application/json")],
                            fault.body.to_string(),
                        )
                            .into_response();
                    }
                    forward(&client, &upstream, method, &uri, headers, body).await
                }
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            origin,
            state,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Adds a fault (the first matching one answers).
    pub fn fail(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    /// Forward everything from now on.
    pub fn heal(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// The paths of the requests answered with a fault so far.
    pub fn served(&self) -> Vec<String> {
        self.state.lock().unwrap().served.clone()
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn take_fault(state: &Mutex<State>, path: &str) -> Option<Fault> {
    let mut state = state.lock().unwrap();
    let index = state
        .faults
        .iter()
        .position(|f| path.contains(&f.path_contains) && f.times != Some(0))?;
    let fault = &mut state.faults[index];
    if let Some(times) = &mut fault.times {
        *times -= 1;
    }
    let fault = fault.clone();
    state.served.push(path.to_owned());
    Some(fault)
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url = format!(
        "{upstream}{}",
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = client.request(method, url).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer
                .headers()
                .get("content-type")
                .cloned()
                .unwrap_or_else(|| "application/json".parse().unwrap());
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            response.headers_mut().insert("content-type", content_type);
            response
        }
        Err(error) => (
            StatusCode::BAD_GATEWAY,
            format!("the fault proxy could not reach {upstream}: {error}"),
        )
            .into_response(),
    }
}
