//! The Apinizer Management API client. (Stub: implemented by the client work.)

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::model::Connection;

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
}

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

/// The client. Cheap to clone; clones share one concurrency limit.
#[derive(Debug, Clone)]
pub struct Client {}

impl Client {
    /// Builds the client (and fetches a token when given credentials).
    pub async fn connect(_config: ClientConfig) -> Result<Client, ApiError> {
        todo!()
    }
    /// The server URL this client talks to.
    pub fn server_url(&self) -> &str {
        todo!()
    }
    /// Project names visible to the user.
    pub async fn list_projects(&self) -> Result<Vec<String>, ApiError> {
        todo!()
    }
    /// Connections of one type in a project (secrets null).
    pub async fn list_connections(
        &self,
        _project: &str,
        _kind: &str,
    ) -> Result<Vec<Connection>, ApiError> {
        todo!()
    }
    /// One connection by name; `None` when it does not exist.
    pub async fn get_connection(
        &self,
        _project: &str,
        _name: &str,
    ) -> Result<Option<Connection>, ApiError> {
        todo!()
    }
    /// POST a new connection.
    pub async fn create_connection(
        &self,
        _project: &str,
        _connection: &Connection,
    ) -> Result<DeploymentResult, ApiError> {
        todo!()
    }
    /// PUT a connection at `path_name` (the current name; the body may carry a new one).
    pub async fn update_connection(
        &self,
        _project: &str,
        _path_name: &str,
        _connection: &Connection,
    ) -> Result<DeploymentResult, ApiError> {
        todo!()
    }
    /// DELETE a connection.
    pub async fn delete_connection(
        &self,
        _project: &str,
        _name: &str,
    ) -> Result<DeploymentResult, ApiError> {
        todo!()
    }
}
