//! Shared helpers of the plan and drift tests: a sandbox seeded from desired-state files
//! (in-process, on a free port), the binary pointed at it, and raw writes through the
//! client.

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use apinizer_gitops::api::{Auth, Client, ClientConfig};
use apinizer_gitops::desired::{LoadOptions, load};
use apinizer_gitops::model::Connection;
use apinizer_gitops::refs::{MapEnv, resolve_connection};
use apinizer_gitops::sandbox::{GetMasking, RunningSandbox, SandboxConfig};
use assert_cmd::Command;
use secrecy::SecretString;

#[path = "../shared/own_runtime.rs"]
mod own_runtime;
use own_runtime::start_sandbox;

/// The fixed token of every test sandbox.
pub const TOKEN: &str = "test-token-plan";

/// A running sandbox and the runtime that drives it.
pub struct Server {
    /// Base URL.
    pub url: String,
    runtime: tokio::runtime::Runtime,
    sandbox: RunningSandbox,
}

/// The variables the files reference, each set to a canary value (`canary-<name>`).
pub fn canary_env(dir: &Path) -> BTreeMap<String, String> {
    let loaded = load(&options(dir)).expect("test files are valid");
    loaded
        .state
        .variables()
        .into_iter()
        .map(|name| {
            let value = format!("canary-{}", name.to_lowercase());
            (name, value)
        })
        .collect()
}

fn options(dir: &Path) -> LoadOptions {
    LoadOptions {
        paths: vec![dir.display().to_string()],
        allow_literal_secrets: false,
        values_files: None,
        ..LoadOptions::default()
    }
}

/// Every connection of the files, resolved with `env`, by project.
pub fn resolved(dir: &Path, env: &BTreeMap<String, String>) -> Vec<(String, Connection)> {
    let loaded = load(&options(dir)).expect("test files are valid");
    let env = MapEnv(env.clone());
    let mut out = Vec::new();
    for project in loaded.state.projects.values() {
        for c in &project.connections {
            let connection = resolve_connection(&c.template, &env).expect("variables set");
            out.push((project.name.clone(), connection));
        }
    }
    out
}

/// Starts a sandbox holding these connections (and these extra empty projects).
pub fn serve(seed: Vec<(String, Connection)>, projects: &[&str]) -> Server {
    serve_with(seed, projects, GetMasking::default())
}

/// [`serve`] with single GETs masking values as `get_masking` reads the docs.
pub fn serve_with(
    seed: Vec<(String, Connection)>,
    projects: &[&str],
    get_masking: GetMasking,
) -> Server {
    let (runtime, sandbox) = start_sandbox(SandboxConfig {
        token: Some(TOKEN.into()),
        projects: projects.iter().map(|p| p.to_string()).collect(),
        seed,
        get_masking,
        ..SandboxConfig::default()
    });
    Server {
        url: sandbox.url.clone(),
        runtime,
        sandbox,
    }
}

impl Server {
    /// The binary with the server, token and variables set, run in `dir`.
    pub fn cli(&self, dir: &Path, env: &BTreeMap<String, String>, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("apinizer-gitops").unwrap();
        cmd.current_dir(dir)
            .env_remove("APINIZER_TOKEN_FILE")
            .env_remove("APINIZER_USERNAME")
            .env_remove("APINIZER_PASSWORD")
            .env("APINIZER_URL", &self.url)
            .env("APINIZER_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .envs(env)
            .args(args);
        cmd
    }

    /// Runs the binary, checks its exit code and returns its stdout and stderr.
    pub fn run(
        &self,
        dir: &Path,
        env: &BTreeMap<String, String>,
        args: &[&str],
        code: i32,
    ) -> (String, String) {
        output(&self.cli(dir, env, args).assert().code(code))
    }

    /// Requests the sandbox has answered so far.
    pub fn requests(&self) -> u64 {
        self.sandbox.request_count()
    }

    /// Writes (POST, PUT, DELETE) the sandbox has accepted so far.
    pub fn writes(&self) -> usize {
        self.sandbox.write_count()
    }

    /// Runs a client call on the server's runtime.
    pub fn with_client<T>(&self, call: impl AsyncFnOnce(Client) -> T) -> T {
        let config = ClientConfig {
            server: self.url.clone(),
            auth: Auth::Token(SecretString::from(TOKEN)),
            parallelism: 4,
            timeout: Duration::from_secs(10),
            retries: 0,
            ca_cert: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
            max_response_bytes: apinizer_gitops::api::DEFAULT_MAX_RESPONSE_BYTES,
        };
        self.runtime.block_on(async move {
            let client = Client::connect(config).await.expect("client connects");
            call(client).await
        })
    }

    /// Replaces a connection on the server with a raw PUT.
    pub fn put(&self, project: &str, connection: &Connection) {
        self.with_client(async |client| {
            client
                .update_connection(project, &connection.name, connection)
                .await
                .expect("PUT succeeds");
        });
    }

    /// The connection as the server returns it on a single GET.
    pub fn get(&self, project: &str, name: &str) -> Connection {
        self.with_client(async |client| {
            client.get_connection(project, name).await.unwrap().unwrap()
        })
    }
}

/// Writes files below a fresh temporary folder: `connections/<name>`.
pub fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join("connections").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The repository's examples folder.
pub fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections")
}

/// stdout and stderr of a finished command, as text.
pub fn output(assert: &assert_cmd::assert::Assert) -> (String, String) {
    let out = assert.get_output();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Server {
    /// The binary with a token but no reachable server: for errors raised before any
    /// request.
    pub fn offline_cli(dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("apinizer-gitops").unwrap();
        cmd.current_dir(dir)
            .env_remove("APINIZER_URL")
            .env("APINIZER_TOKEN", TOKEN)
            .args(args);
        cmd
    }
}
