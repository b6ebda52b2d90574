//! The sandbox: an in-memory Apinizer-compatible server (axum) with the documented
//! behaviour and quirks (DESIGN.md section 6), plus latency and injected faults for
//! tests and benchmarks.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::model::Connection;

mod counters;
mod faults;
mod routes;
mod store;
mod tokens;

pub use counters::{RequestCounts, RequestKind};
pub use faults::{Fault, Injected};
pub use store::{GetMasking, WORKER_HOSTNAME, WriteRecord, reference_id};

/// Environments every deployment reports on.
const ENVIRONMENTS: [&str; 2] = ["dev", "prod"];

/// How to run a sandbox.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Listen address (`127.0.0.1:0` for a free port; empty means that too).
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
    /// Seed of the fault generator, for reproducible runs.
    pub fault_seed: Option<u64>,
    /// Seconds a random 429 asks the client to wait.
    pub retry_after_secs: u64,
    /// Environments (`dev`, `prod`) whose deployment reports failure.
    pub failing_environments: Vec<String>,
    /// Lifetime of tokens from the token endpoint: each login then issues a new token
    /// that is refused with 401 `token_expired` after it. `None` (the default) hands
    /// out the sandbox's one token, which never expires.
    pub token_ttl: Option<Duration>,
    /// Which fields single GETs answer as null.
    pub get_masking: GetMasking,
}

/// State shared by every request handler.
pub(crate) struct Shared {
    token: String,
    credentials: Option<(String, String)>,
    issued_tokens: tokens::IssuedTokens,
    store: Mutex<store::Store>,
    faults: faults::Faults,
    latency: Option<Duration>,
    failing_environments: Vec<String>,
    /// Requests received (healthcheck aside) by kind, answered or not.
    requests: counters::RequestCounters,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store)
            .field("latency", &self.latency)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, store::Store> {
        self.store.lock().expect("sandbox store lock")
    }

    /// `deploymentResult` with one entry per environment.
    fn deployment_result(&self) -> Value {
        let results: Vec<Value> = ENVIRONMENTS
            .iter()
            .map(|env| {
                let failed = self.failing_environments.iter().any(|f| f == env);
                let message = if failed {
                    "Deployment failed: no worker reachable"
                } else {
                    "Deployed successfully"
                };
                json!({"environmentName": env, "success": !failed, "message": message})
            })
            .collect();
        let success = results.iter().all(|r| r["success"] == true);
        json!({"success": success, "deploymentResults": results})
    }
}

/// A started sandbox. Debug never shows the token.
pub struct RunningSandbox {
    /// Base URL, e.g. `http://127.0.0.1:8091`.
    pub url: String,
    /// The accepted token.
    pub token: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("url", &self.url)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// Stops accepting requests and waits for the server to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server stops (Ctrl-C handling is the caller's).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }

    /// Makes the next request (healthcheck aside) fail with this fault.
    pub fn inject(&self, fault: Fault, after_handling: bool) {
        self.shared.faults.push(Injected {
            fault,
            after_handling,
        });
    }

    /// Every write the sandbox applied, in order.
    pub fn write_log(&self) -> Vec<WriteRecord> {
        self.shared.store().write_log()
    }

    /// Number of writes applied.
    pub fn write_count(&self) -> usize {
        self.write_log().len()
    }

    /// Writes that repeated the previous write of the same connection exactly.
    pub fn duplicate_writes(&self) -> usize {
        self.shared.store().duplicate_writes()
    }

    /// The connections of a project as stored; `None` for an unknown project.
    pub fn snapshot(&self, project: &str) -> Option<Vec<Connection>> {
        self.shared.store().snapshot(project)
    }

    /// Tokens the token endpoint issued (successful logins).
    pub fn token_requests(&self) -> u64 {
        self.shared.issued_tokens.issued_count()
    }

    /// Makes every token issued so far invalid (401 `unauthorized_client` "Invalid
    /// token"), as a revocation would; the `--token` token stays valid.
    pub fn revoke_issued_tokens(&self) {
        self.shared.issued_tokens.revoke_all();
    }

    /// Refuses every bearer token (401 `unauthorized_client` "Invalid token") while the
    /// token endpoint keeps issuing new ones, or stops doing so.
    pub fn refuse_all_tokens(&self, refuse: bool) {
        self.shared.issued_tokens.set_refuse_all(refuse);
    }

    /// Requests received (healthcheck aside).
    pub fn request_count(&self) -> u64 {
        self.request_counts().total()
    }

    /// Requests received (healthcheck aside), by kind.
    pub fn request_counts(&self) -> RequestCounts {
        self.shared.requests.read()
    }

    /// Write requests (POST, PUT, DELETE) on connections received, whether or not they
    /// changed anything: a read-only command must leave this at 0.
    pub fn write_request_count(&self) -> u64 {
        self.request_counts().writes()
    }
}

fn random_token() -> String {
    format!("sbx_{}", hex::encode(rand::random::<[u8; 16]>()))
}

fn initial_store(config: &SandboxConfig) -> store::Store {
    let mut store = store::Store::new(config.get_masking);
    for project in &config.projects {
        store.add_project(project);
    }
    for (project, connection) in &config.seed {
        store.seed(project, connection.clone());
    }
    store
}

/// Starts a sandbox on the current tokio runtime.
pub async fn start(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
    let listen = if config.listen.is_empty() {
        "127.0.0.1:0"
    } else {
        config.listen.as_str()
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let token = config.token.clone().unwrap_or_else(random_token);
    let shared = Arc::new(Shared {
        token: token.clone(),
        credentials: config.credentials.clone(),
        issued_tokens: tokens::IssuedTokens::new(config.token_ttl),
        store: Mutex::new(initial_store(&config)),
        faults: faults::Faults::new(config.fail_rate, config.retry_after_secs, config.fault_seed),
        latency: config.latency,
        failing_environments: config.failing_environments.clone(),
        requests: counters::RequestCounters::default(),
    });
    let app = routes::router(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(url = %format!("http://{address}"), "sandbox listening");
    Ok(RunningSandbox {
        url: format!("http://{address}"),
        token,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}
