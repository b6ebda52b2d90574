//! Helpers of the apply_*, export_* and quickstart tests: an in-process sandbox on a free
//! loopback port (its own runtime, so tests drive the real binary synchronously), the
//! examples resolved with canary values, and the binary with the sandbox's credentials.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apinizer_gitops::desired::{self, DesiredState, LoadOptions};
use apinizer_gitops::model::Connection;
use apinizer_gitops::refs::{MapEnv, resolve_connection};
use apinizer_gitops::sandbox::{RunningSandbox, SandboxConfig};
use assert_cmd::Command;

#[path = "../shared/own_runtime.rs"]
pub mod own_runtime;
use own_runtime::start_sandbox;

/// Every value the examples reference; secrets carry a canary that must never show up.
pub fn example_variables() -> BTreeMap<String, String> {
    let state = examples();
    state
        .variables()
        .into_iter()
        .map(|name| {
            let value = if name == "PAYMENTS_DB_HOST" {
                "ledger-db.internal".to_string()
            } else {
                format!("canary-{}-secret", name.to_lowercase())
            };
            (name, value)
        })
        .collect()
}

/// The folder of the examples.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections")
}

/// The examples, loaded and validated.
pub fn examples() -> DesiredState {
    load(&examples_dir())
}

/// Desired-state files loaded and validated; panics with the diagnostics otherwise.
pub fn load(path: &Path) -> DesiredState {
    let options = LoadOptions {
        paths: vec![path.display().to_string()],
        allow_literal_secrets: false,
        values_files: None,
        ..LoadOptions::default()
    };
    desired::load(&options)
        .unwrap_or_else(|d| panic!("{} does not load: {d:#?}", path.display()))
        .state
}

/// The examples resolved with `example_variables()`, as sandbox seed.
pub fn examples_as_seed() -> Vec<(String, Connection)> {
    let env = MapEnv(example_variables());
    examples()
        .projects
        .values()
        .flat_map(|p| p.connections.iter().map(move |c| (p.name.clone(), c)))
        .map(|(project, c)| {
            let resolved = resolve_connection(&c.template, &env).expect("every variable set");
            (project, resolved)
        })
        .collect()
}

/// The examples' project names.
pub fn example_projects() -> Vec<String> {
    examples().projects.keys().cloned().collect()
}

/// A sandbox with its own runtime; stops when dropped.
pub struct Server {
    /// The running sandbox (write counts, snapshots).
    pub sandbox: RunningSandbox,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Starts a sandbox on a free loopback port.
    pub fn start(config: SandboxConfig) -> Server {
        let (runtime, sandbox) = start_sandbox(config);
        Server { sandbox, runtime }
    }

    /// An empty sandbox with the examples' projects.
    pub fn with_example_projects() -> Server {
        Server::start(SandboxConfig {
            projects: example_projects(),
            ..SandboxConfig::default()
        })
    }

    /// The binary, pointed at this sandbox with its token, with a clean APINIZER_* env.
    pub fn command(&self) -> Command {
        Command::from_std(self.process())
    }

    /// The same as a plain process (to spawn and kill).
    pub fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("apinizer-gitops"));
        for name in [
            "APINIZER_URL",
            "APINIZER_TOKEN",
            "APINIZER_TOKEN_FILE",
            "APINIZER_USERNAME",
            "APINIZER_PASSWORD",
            "NO_COLOR",
            "RUST_LOG",
        ] {
            cmd.env_remove(name);
        }
        cmd.env("APINIZER_URL", &self.sandbox.url)
            .env("APINIZER_TOKEN", &self.sandbox.token);
        cmd
    }

    /// The connections a project holds now (secrets included, in `secrets`).
    pub fn snapshot(&self, project: &str) -> Vec<Connection> {
        self.sandbox.snapshot(project).expect("the project exists")
    }

    /// Runs a future on the sandbox's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Text of an output buffer.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics when any canary value appears in the text.
pub fn assert_no_canary(what: &str, text: &str) {
    for (name, value) in example_variables() {
        if value.starts_with("canary-") {
            assert!(
                !text.contains(&value),
                "{what} leaks the value of {name}:\n{text}"
            );
        }
    }
}

impl Server {
    /// A client for this sandbox with a short backoff (tests stay fast).
    pub fn client(&self) -> apinizer_gitops::api::Client {
        let config = apinizer_gitops::api::ClientConfig {
            server: self.sandbox.url.clone(),
            auth: apinizer_gitops::api::Auth::Token(self.sandbox.token.clone().into()),
            parallelism: 4,
            timeout: std::time::Duration::from_secs(5),
            retries: 4,
            ca_cert: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
            max_response_bytes: apinizer_gitops::api::DEFAULT_MAX_RESPONSE_BYTES,
        };
        let backoff = apinizer_gitops::api::Backoff {
            base: std::time::Duration::from_millis(5),
        };
        self.block_on(apinizer_gitops::api::Client::connect_with(config, backoff))
            .expect("client connects")
    }
}

impl Server {
    /// The binary with the examples' variables (canary secrets) set.
    pub fn command_with_example_env(&self) -> Command {
        let mut cmd = self.command();
        cmd.envs(example_variables());
        cmd
    }

    /// `plan -f examples`: its stdout; panics when it fails.
    pub fn plan_examples(&self) -> String {
        let output = self
            .command_with_example_env()
            .arg("plan")
            .arg("-f")
            .arg(examples_dir())
            .output()
            .unwrap();
        let stdout = text(&output.stdout);
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "plan failed:\n{stdout}\n{stderr}");
        assert_no_canary("plan stdout", &stdout);
        assert_no_canary("plan stderr", &stderr);
        stdout
    }

    /// `apply --auto-approve -f examples`: exit code, stdout, stderr (canary-checked).
    pub fn apply_examples(&self) -> (i32, String, String) {
        let output = self
            .command_with_example_env()
            .args(["apply", "--auto-approve", "-f"])
            .arg(examples_dir())
            .output()
            .unwrap();
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_no_canary("apply stdout", &stdout);
        assert_no_canary("apply stderr", &stderr);
        (output.status.code().unwrap_or(-1), stdout, stderr)
    }

    /// Every desired example is on the server exactly once, with its desired type.
    pub fn assert_holds_examples_once(&self) {
        for (project, desired) in examples_as_seed() {
            let held: Vec<Connection> = self
                .snapshot(&project)
                .into_iter()
                .filter(|c| c.name.eq_ignore_ascii_case(&desired.name))
                .collect();
            assert_eq!(
                held.len(),
                1,
                "{project}/{} held {} times",
                desired.name,
                held.len()
            );
            assert_eq!(held[0].kind, desired.kind);
        }
    }
}

impl Server {
    /// Every connection of the examples' projects, as seed for another sandbox.
    pub fn snapshot_all(&self) -> Vec<(String, Connection)> {
        example_projects()
            .into_iter()
            .flat_map(|p| self.snapshot(&p).into_iter().map(move |c| (p.clone(), c)))
            .collect()
    }
}
