//! `quickstart`: the whole story in one command against an in-process sandbox: plan,
//! apply, plan again (`No changes.`), a change made behind the tool's back, and `drift`
//! detecting it. Every step runs the real command through the same dispatch the command
//! line uses, with the same output.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::Value;

use super::{Cli, EXIT_CHANGES, QuickstartArgs, block_on, dispatch};
use crate::api::{Auth, Client, ClientConfig};
use crate::catalog::{Kind, catalog};
use crate::desired::{DesiredState, LoadOptions};
use crate::refs::{MapEnv, references_in};
use crate::sandbox::SandboxConfig;

/// The description the quickstart writes behind the tool's back.
const CHANGED_DESCRIPTION: &str = "edited by hand in the console";

/// Runs the story; 0 when every step went as expected, 1 otherwise.
pub fn run(args: &QuickstartArgs, out: &mut dyn Write) -> u8 {
    match story(args, out) {
        Ok(()) => {
            let _ = writeln!(out, "\nQuickstart complete: every step went as expected.");
            0
        }
        Err(message) => {
            let _ = writeln!(out, "\nQuickstart failed: {message}");
            eprintln!("error: {message}");
            super::EXIT_ERROR
        }
    }
}

/// The repository's `examples/connections`, embedded so the quickstart runs from any
/// folder (a `cargo install`ed binary has no checkout beside it). A test checks that the
/// list names every file of the folder.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "observability/logging.yaml",
        include_str!("../../examples/connections/observability/logging.yaml"),
    ),
    (
        "observability/operations.yaml",
        include_str!("../../examples/connections/observability/operations.yaml"),
    ),
    (
        "payments/data.yaml",
        include_str!("../../examples/connections/payments/data.yaml"),
    ),
    (
        "payments/messaging.yaml",
        include_str!("../../examples/connections/payments/messaging.yaml"),
    ),
];

/// Writes the embedded examples into `dir/connections` and returns that folder.
fn write_examples(dir: &Path) -> Result<PathBuf, String> {
    let root = dir.join("connections");
    for (name, text) in EXAMPLES {
        let path = root.join(name);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        written.map_err(|e| format!("cannot write the example {}: {e}", path.display()))?;
    }
    Ok(root)
}

fn story(args: &QuickstartArgs, out: &mut dyn Write) -> Result<(), String> {
    // Kept until the story ends: the steps read the examples from it.
    let examples_dir;
    let files = if args.files.is_empty() {
        examples_dir = tempfile::tempdir().map_err(|e| format!("cannot create a folder: {e}"))?;
        let root = write_examples(examples_dir.path())?;
        let _ = writeln!(
            out,
            "The example files (embedded in the binary) are in {}",
            root.display()
        );
        vec![root.display().to_string()]
    } else {
        args.files.clone()
    };
    let state = load(&files)?;
    let projects: Vec<String> = state.projects.keys().cloned().collect();
    let sandbox = SandboxThread::start(projects.clone())?;
    let mut env = demo_variables(&state);
    env.0.insert("APINIZER_TOKEN".into(), sandbox.token.clone());
    heading(
        out,
        &format!(
            "1. An empty Apinizer-compatible sandbox is running at {} with the {} {}",
            sandbox.url,
            if projects.len() == 1 {
                "project"
            } else {
                "projects"
            },
            projects.join(", ")
        ),
    );
    let _ = writeln!(
        out,
        "Demo values were set for: {}",
        demo_names(&env).join(", ")
    );
    let files: Vec<String> = files
        .iter()
        .flat_map(|f| ["-f".to_string(), f.clone()])
        .collect();
    let server = ["--server".to_string(), sandbox.url.clone()];
    let step = |out: &mut dyn Write, title: &str, command: &[&str]| -> u8 {
        heading(out, title);
        let argv: Vec<&str> = std::iter::once("apinizer-gitops")
            .chain(command.iter().copied())
            .chain(files.iter().map(String::as_str))
            .chain(server.iter().map(String::as_str))
            .collect();
        let _ = writeln!(out, "$ {}", argv.join(" "));
        match Cli::try_parse_from(argv) {
            Ok(cli) => dispatch(cli.command, &cli.log, &env, out),
            Err(e) => {
                let _ = writeln!(out, "{e}");
                super::EXIT_ERROR
            }
        }
    };
    expect(
        step(out, "2. plan: what would change", &["plan"]),
        0,
        "plan",
    )?;
    expect(
        step(out, "3. apply: make it so", &["apply", "--auto-approve"]),
        0,
        "apply",
    )?;
    let mut again = Vec::new();
    expect(
        step(&mut again, "4. plan again: nothing left to do", &["plan"]),
        0,
        "plan",
    )?;
    let _ = out.write_all(&again);
    if !String::from_utf8_lossy(&again).contains("No changes.") {
        return Err("the second plan still shows changes".into());
    }
    let changed = change_behind_the_back(&sandbox, &state)?;
    heading(
        out,
        &format!(
            "5. Someone edits {changed} in the console: description = \"{CHANGED_DESCRIPTION}\""
        ),
    );
    let code = step(
        out,
        "6. drift: the scheduled job notices (exit code 2)",
        &["drift"],
    );
    expect(code, EXIT_CHANGES, "drift")?;
    let _ = writeln!(
        out,
        "drift exited with {code}: drift detected, as expected."
    );
    Ok(())
}

fn heading(out: &mut dyn Write, title: &str) {
    let _ = writeln!(out, "\n=== {title}");
}

fn expect(code: u8, expected: u8, step: &str) -> Result<(), String> {
    if code == expected {
        Ok(())
    } else {
        Err(format!("{step} exited with {code}, expected {expected}"))
    }
}

fn load(files: &[String]) -> Result<DesiredState, String> {
    let options = LoadOptions {
        paths: files.to_vec(),
        allow_literal_secrets: false,
        values_files: None,
        ..LoadOptions::default()
    };
    match crate::desired::load(&options) {
        Ok(loaded) => Ok(loaded.state),
        Err(diagnostics) => Err(format!(
            "the desired-state files are invalid ({}); run `apinizer-gitops validate -f {}`",
            crate::diag::counted(diagnostics.len(), "problem", "problems"),
            files.join(" -f ")
        )),
    }
}

/// A demo value for every referenced variable: a number or boolean where a whole
/// reference stands for one, text otherwise.
fn demo_variables(state: &DesiredState) -> MapEnv {
    let mut values: BTreeMap<String, String> = state
        .variables()
        .into_iter()
        .map(|name| {
            let text = format!("demo-{}", name.to_lowercase().replace('_', "-"));
            (name, text)
        })
        .collect();
    let connections = state.projects.values().flat_map(|p| &p.connections);
    for connection in connections.map(|c| &c.template) {
        for (field, value) in &connection.fields {
            let whole = value.as_str().is_some_and(crate::model::is_whole_reference);
            let typed = match catalog().field(&connection.kind, field).map(|s| s.kind) {
                Some(Kind::Integer | Kind::Number) if whole => "1025",
                Some(Kind::Boolean) if whole => "true",
                _ => continue,
            };
            for name in references_in(value) {
                values.insert(name, typed.to_string());
            }
        }
    }
    MapEnv(values)
}

fn demo_names(env: &MapEnv) -> Vec<String> {
    env.0
        .keys()
        .filter(|k| *k != "APINIZER_TOKEN")
        .cloned()
        .collect()
}

/// Changes the description of a desired connection through the API client, as a person
/// in the console would; returns its address. The connection is one whose type has no
/// value the server masks: a GET of it is a complete body to PUT back.
fn change_behind_the_back(sandbox: &SandboxThread, state: &DesiredState) -> Result<String, String> {
    let fully_readable = |kind: &str| !catalog().all_fields(kind).any(|(_, f)| f.masked_in_get);
    let (project, name) = state
        .projects
        .values()
        .flat_map(|p| p.connections.iter().map(move |c| (p, &c.template)))
        .find(|(_, t)| fully_readable(&t.kind))
        .map(|(p, t)| (p.name.clone(), t.name.clone()))
        .ok_or("the files declare no connection whose values the server returns in full")?;
    let config = ClientConfig {
        server: sandbox.url.clone(),
        auth: Auth::Token(sandbox.token.clone().into()),
        parallelism: 1,
        timeout: std::time::Duration::from_secs(10),
        retries: 2,
        ca_cert: None,
        insecure_skip_tls_verify: false,
        allow_insecure_http: false,
        max_response_bytes: crate::api::DEFAULT_MAX_RESPONSE_BYTES,
    };
    block_on(async {
        let client = Client::connect(config).await.map_err(|e| e.to_string())?;
        let mut current = client
            .get_connection(&project, &name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{project}/{name} is missing after apply"))?;
        current
            .fields
            .insert("description".into(), Value::from(CHANGED_DESCRIPTION));
        client
            .update_connection(&project, &name, &current)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!("{project}/{}/{name}", current.kind))
    })
}

/// A sandbox served from its own thread and runtime, so every step can run the real
/// (blocking) command entry; it stops when dropped.
struct SandboxThread {
    url: String,
    token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SandboxThread {
    fn start(projects: Vec<String>) -> Result<Self, String> {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            block_on(async move {
                let config = SandboxConfig {
                    listen: "127.0.0.1:0".into(),
                    projects,
                    ..SandboxConfig::default()
                };
                match crate::sandbox::start(config).await {
                    Ok(sandbox) => {
                        let _ = started_tx.send(Ok((sandbox.url.clone(), sandbox.token.clone())));
                        let _ = stop_rx.await;
                        sandbox.shutdown().await;
                    }
                    Err(e) => {
                        let _ = started_tx.send(Err(format!("cannot start the sandbox: {e}")));
                    }
                }
            });
        });
        let (url, token) = started_rx
            .recv()
            .map_err(|_| "the sandbox thread stopped".to_string())??;
        Ok(SandboxThread {
            url,
            token,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for SandboxThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_examples_are_the_example_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections");
        let (on_disk, _) = crate::desired::files::expand(&[root.display().to_string()]);
        let mut on_disk: Vec<(String, String)> = on_disk
            .iter()
            .map(|path| {
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                (name, std::fs::read_to_string(path).unwrap())
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<(String, String)> = EXAMPLES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        embedded.sort();
        assert_eq!(embedded, on_disk, "add new example files to EXAMPLES");
    }

    #[test]
    fn the_embedded_examples_load_from_where_they_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = write_examples(dir.path()).unwrap();
        let state = load(&[root.display().to_string()]).unwrap();
        assert_eq!(state.connection_count(), 14);
    }
}
