//! Helpers shared by the integration tests: an in-process sandbox on a free loopback
//! port and a client for it; the repository's files and the docs examples.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use std::time::Duration;

use apinizer_gitops::api::{Auth, Backoff, Client, ClientConfig};
use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::{self, RunningSandbox, SandboxConfig};
use secrecy::SecretString;
use serde_json::Value;

/// The project every test sandbox has.
pub const PROJECT: &str = "Payments";

/// A sandbox config on a free port with the test project.
pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        listen: "127.0.0.1:0".into(),
        projects: vec![PROJECT.into()],
        ..SandboxConfig::default()
    }
}

/// Starts a sandbox.
pub async fn start(config: SandboxConfig) -> RunningSandbox {
    sandbox::start(config).await.expect("sandbox starts")
}

/// A client configuration for a sandbox (bearer token).
pub fn client_config(sandbox: &RunningSandbox) -> ClientConfig {
    ClientConfig {
        server: sandbox.url.clone(),
        auth: Auth::Token(SecretString::from(sandbox.token.clone())),
        parallelism: 4,
        timeout: Duration::from_secs(5),
        retries: 4,
        ca_cert: None,
        insecure_skip_tls_verify: false,
        allow_insecure_http: false,
        max_response_bytes: apinizer_gitops::api::DEFAULT_MAX_RESPONSE_BYTES,
    }
}

/// A short backoff, so that retried tests stay fast.
pub fn fast_backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(5),
    }
}

/// A connected client for a configuration, with the short backoff.
pub async fn connect(config: ClientConfig) -> Client {
    Client::connect_with(config, fast_backoff())
        .await
        .expect("client connects")
}

/// A connection from a JSON object of model-form fields (secrets split off).
pub fn connection(kind: &str, name: &str, fields: Value) -> Connection {
    let body = fields.as_object().expect("an object").clone();
    Connection::from_body(kind, name, body, false)
}

/// A valid email connection with a secret password.
pub fn email(name: &str, password: &str) -> Connection {
    connection(
        "email",
        name,
        serde_json::json!({
            "host": "smtp.example.com", "port": 587, "auth": true,
            "username": "alerts@example.com", "password": password,
        }),
    )
}

/// Raw HTTP for what the client never sends.
pub fn raw_http() -> reqwest::Client {
    reqwest::Client::new()
}

/// A connection of the test project that must exist.
pub async fn fetch(client: &Client, name: &str) -> Connection {
    client
        .get_connection(PROJECT, name)
        .await
        .expect("GET succeeds")
        .expect("the connection exists")
}

/// A default sandbox and a client for it.
pub async fn started() -> (RunningSandbox, Client) {
    let sandbox = start(sandbox_config()).await;
    let client = connect(client_config(&sandbox)).await;
    (sandbox, client)
}

/// Creates a connection in the test project; it must succeed.
pub async fn create(
    client: &Client,
    connection: &Connection,
) -> apinizer_gitops::api::DeploymentResult {
    client
        .create_connection(PROJECT, connection)
        .await
        .expect("create succeeds")
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/reference/docs-examples` beside the checkout (CI: `../shared`; a worktree
/// may sit one level deeper), or `None` when absent.
pub fn docs_examples_dir() -> Option<PathBuf> {
    repo()
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/reference/docs-examples"))
        .find(|f| f.join("EXPECT.tsv").is_file())
}

/// `(file, expectation)` rows of `EXPECT.tsv`.
pub fn expectations(folder: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(folder.join("EXPECT.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

/// Every `.yaml` / `.yml` file below a folder, sorted.
pub fn yaml_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A log sink for the global tracing subscriber, read back by canary tests.
#[derive(Clone, Default)]
pub struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Installs a trace-level subscriber writing here (once per test binary).
    pub fn install_trace_subscriber() -> Capture {
        let capture = Capture::default();
        let sink = capture.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .init();
        capture
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
