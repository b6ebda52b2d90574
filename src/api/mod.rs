//! The Apinizer Management API client: [`Client`] (reqwest + rustls), the wire codec
//! ([`wire`]), typed errors ([`ApiError`]), retries and the run's shared concurrency
//! limit ([`retry`]).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

mod budget;
mod client;
mod error;
pub mod retry;
mod tls;
mod token;
pub mod wire;

pub use client::{Client, PreparedClient, normalised_server};
pub use retry::{Backoff, RetryStats};

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A bearer token (`APINIZER_TOKEN`, `--token-file`).
    Token(SecretString),
    /// Username and password for `POST /apiops/auth/token`.
    Credentials {
        /// Apinizer username.
        username: String,
        /// Apinizer password.
        password: SecretString,
    },
}

/// Everything the client needs to reach a server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Manager URL, without `/apiops`.
    pub server: String,
    /// Authentication.
    pub auth: Auth,
    /// Concurrent requests for the whole run.
    pub parallelism: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries for 429, 500, 502, 503, 504 and connection errors.
    pub retries: u32,
    /// Extra CA certificate (PEM).
    pub ca_cert: Option<PathBuf>,
    /// Skip TLS verification.
    pub insecure_skip_tls_verify: bool,
    /// Allow a token over plain http to a non-loopback host.
    pub allow_insecure_http: bool,
    /// The largest answer read (`--max-response-size`); past it the request fails.
    pub max_response_bytes: u64,
}

/// The default of `--max-response-size`: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Per-environment outcome of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentResult {
    /// Environment name.
    pub environment_name: String,
    /// Whether it deployed.
    pub success: bool,
    /// Server message.
    pub message: String,
}

/// `deploymentResult` of a create, update or delete.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentResult {
    /// Overall success (true when the server sent no deploymentResult).
    pub success: bool,
    /// Per-environment results.
    pub environments: Vec<EnvironmentResult>,
}

/// An API failure a person can act on.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// `error` code of the envelope, or a local cause (`timeout`, `connection`).
    pub error: String,
    /// `error_description`.
    pub description: String,
    /// `validation_errors` items as (field, message).
    pub validation_errors: Vec<(String, String)>,
}
