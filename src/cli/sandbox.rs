//! `apinizer-gitops sandbox`: runs the local Apinizer-compatible server until Ctrl-C.
//! Prints its URL and token on stdout (the `export` lines paste into a shell).

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};

use super::{EXIT_ERROR, SandboxArgs};
use crate::desired::{self, LoadOptions};
use crate::model::Connection;
use crate::plan::{self, PlanError};
use crate::refs::{self, Env, ProcessEnv};
use crate::sandbox::{self, GetMasking, SandboxConfig};

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
    // The token endpoint advertises whole seconds.
    if args
        .token_ttl
        .is_some_and(|ttl| ttl < Duration::from_secs(1))
    {
        bail!("--token-ttl must be at least 1s");
    }
    let (projects, seed) = load_seed(&args.seed, &ProcessEnv)?;
    let config = SandboxConfig {
        listen: args.listen.clone(),
        token: args.token.clone(),
        credentials: args.username.clone().zip(args.password.clone()),
        projects: args.projects.iter().cloned().chain(projects).collect(),
        seed,
        latency: args.latency,
        fail_rate: args.fail_rate,
        retry_after_secs: RANDOM_RETRY_AFTER_SECS,
        token_ttl: args.token_ttl,
        get_masking: if args.unmasked_get {
            GetMasking::Nothing
        } else {
            GetMasking::TypePages
        },
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

/// Desired-state files under `--seed` become the initial content (variables from `env`,
/// the process environment). A number or boolean field whose variable holds text of
/// another type is refused, as `plan` refuses it, rather than stored as a string.
fn load_seed(paths: &[String], env: &dyn Env) -> anyhow::Result<Seed> {
    if paths.is_empty() {
        return Ok(Seed::default());
    }
    let options = LoadOptions {
        paths: paths.to_vec(),
        allow_literal_secrets: true,
        values_files: None,
        ..LoadOptions::default()
    };
    let loaded = desired::load(&options).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(describe).collect();
        anyhow::anyhow!("--seed files are invalid:\n{}", lines.join("\n"))
    })?;
    let mut projects = Vec::new();
    let mut seed = Vec::new();
    let mut missing = Vec::new();
    let templates = loaded.state.projects.iter().flat_map(|(name, project)| {
        project
            .connections
            .iter()
            .map(move |desired| (name.as_str(), &desired.template))
    });
    if let Err(PlanError::UnconvertibleVariables(problems)) =
        plan::check_conversions(templates, env)
    {
        bail!(
            "--seed variables do not fit their fields: {}",
            problems.join("; ")
        );
    }
    for (name, project) in loaded.state.projects {
        projects.push(name.clone());
        for desired in project.connections {
            match refs::resolve_connection(&desired.template, env) {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::refs::MapEnv;

    fn seed_file(dir: &tempfile::TempDir) -> String {
        let path = dir.path().join("seed.yaml");
        let text = "project: P\nconnections:\n  - type: email\n    name: mail\n    host: smtp.example.com\n    port: ${env:MAIL_PORT}\n";
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn env_with_port(port: &str) -> MapEnv {
        MapEnv(BTreeMap::from([(
            "MAIL_PORT".to_string(),
            port.to_string(),
        )]))
    }

    #[test]
    fn a_variable_that_does_not_convert_to_the_field_type_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let error = load_seed(&[seed_file(&dir)], &env_with_port("canary-not-a-port"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("P/email/mail"), "{error}");
        assert!(error.contains("MAIL_PORT"), "{error}");
        assert!(error.contains("integer"), "{error}");
        assert!(!error.contains("canary-not-a-port"), "{error}");
    }

    #[test]
    fn a_variable_that_converts_is_seeded_as_its_type() {
        let dir = tempfile::tempdir().unwrap();
        let (_, seed) = load_seed(&[seed_file(&dir)], &env_with_port("587")).unwrap();
        assert_eq!(seed[0].1.fields["port"], serde_json::json!(587));
    }
}
