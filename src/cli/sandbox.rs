//! `apinizer-gitops sandbox`: runs the local Apinizer-compatible server until Ctrl-C.
//! Prints its URL and token on stdout (the `export` lines paste into a shell).

use std::io::Write;

use anyhow::{Context, bail};

use super::{EXIT_ERROR, SandboxArgs};
use crate::desired::{self, LoadOptions};
use crate::model::Connection;
use crate::refs::{self, ProcessEnv};
use crate::sandbox::{self, SandboxConfig};

/// Seconds a random 429 of `--fail-rate` asks clients to wait.
const RANDOM_RETRY_AFTER_SECS: u64 = 1;

/// Runs the command; returns the exit code.
pub fn run(args: SandboxArgs) -> u8 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_ERROR;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_ERROR
        }
    }
}

async fn serve(args: SandboxArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        bail!("--fail-rate must be between 0.0 and 1.0");
    }
    let (projects, seed) = load_seed(&args.seed)?;
    let config = SandboxConfig {
        listen: args.listen.clone(),
        token: args.token.clone(),
        credentials: args.username.clone().zip(args.password.clone()),
        projects: args.projects.iter().cloned().chain(projects).collect(),
        seed,
        latency: args.latency,
        fail_rate: args.fail_rate,
        retry_after_secs: RANDOM_RETRY_AFTER_SECS,
        ..SandboxConfig::default()
    };
    let running = sandbox::start(config)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    announce(&running.url, &running.token, args.username.is_some())?;
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    running.shutdown().await;
    Ok(())
}

/// The start-up lines on stdout.
fn announce(url: &str, token: &str, token_endpoint: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "Sandbox listening on {url}")?;
    writeln!(out, "export APINIZER_URL={url}")?;
    writeln!(out, "export APINIZER_TOKEN={token}")?;
    if token_endpoint {
        writeln!(
            out,
            "Token endpoint: POST {url}/apiops/auth/token (grant_type=client_credentials)"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The initial content from `--seed`: project names, and connections by project.
type Seed = (Vec<String>, Vec<(String, Connection)>);

/// Desired-state files under `--seed` become the initial content (secrets from the
/// process environment).
fn load_seed(paths: &[String]) -> anyhow::Result<Seed> {
    if paths.is_empty() {
        return Ok(Seed::default());
    }
    let options = LoadOptions {
        paths: paths.to_vec(),
        allow_literal_secrets: true,
    };
    let loaded = desired::load(&options).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(describe).collect();
        anyhow::anyhow!("--seed files are invalid:\n{}", lines.join("\n"))
    })?;
    let mut projects = Vec::new();
    let mut seed = Vec::new();
    let mut missing = Vec::new();
    for (name, project) in loaded.state.projects {
        projects.push(name.clone());
        for desired in project.connections {
            match refs::resolve_connection(&desired.template, &ProcessEnv) {
                Ok(connection) => seed.push((name.clone(), connection)),
                Err(refs::MissingVariables(names)) => missing.extend(names),
            }
        }
    }
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        bail!(
            "--seed needs these environment variables: {}",
            missing.join(", ")
        );
    }
    Ok((projects, seed))
}

/// `file:line:column: message (hint)` of a seed diagnostic.
fn describe(d: &crate::diag::Diagnostic) -> String {
    let place = d
        .file
        .as_ref()
        .map(|f| format!("{}:{}:{}: ", f.display(), d.line, d.column))
        .unwrap_or_default();
    let hint = d
        .hint
        .as_ref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    format!("{place}{}{hint}", d.message)
}
