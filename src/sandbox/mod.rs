//! The sandbox: an in-memory Apinizer-compatible server. (Stub: implemented by the
//! sandbox work.)

use std::time::Duration;

use crate::model::Connection;

/// How to run a sandbox.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Listen address (`127.0.0.1:0` for a free port).
    pub listen: String,
    /// Accepted bearer token; random when `None`.
    pub token: Option<String>,
    /// Username and password accepted by the token endpoint.
    pub credentials: Option<(String, String)>,
    /// Projects that exist, empty.
    pub projects: Vec<String>,
    /// Initial connections by project (projects are created as needed).
    pub seed: Vec<(String, Connection)>,
    /// Latency added to every response.
    pub latency: Option<Duration>,
    /// Share of requests that fail.
    pub fail_rate: f64,
}

/// A started sandbox.
#[derive(Debug)]
pub struct RunningSandbox {
    /// Base URL, e.g. `http://127.0.0.1:8091`.
    pub url: String,
    /// The accepted token.
    pub token: String,
}

/// Starts a sandbox on the current tokio runtime.
pub async fn start(_config: SandboxConfig) -> std::io::Result<RunningSandbox> {
    todo!()
}
