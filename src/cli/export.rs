//! `export`: server -> desired-state YAML files, then the variables to set.

use std::io::Write;

use super::ExportArgs;
use super::block_on;
use super::server::client_config;
use crate::api::Client;
use crate::export::{ExportRequest, parameterise, read_projects, write_files};
use crate::refs::Env;

/// Runs `export` and returns its exit code (0 written, 1 error).
pub fn run(args: &ExportArgs, env: &dyn Env, out: &mut dyn Write) -> u8 {
    block_on(execute(args, env, out))
}

/// `export` on the caller's runtime (the quickstart runs it beside its sandbox).
pub async fn execute(args: &ExportArgs, env: &dyn Env, out: &mut dyn Write) -> u8 {
    match export(args, env, out).await {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("error: {message}");
            super::EXIT_ERROR
        }
    }
}

async fn export(args: &ExportArgs, env: &dyn Env, out: &mut dyn Write) -> Result<(), String> {
    let values = crate::values::load_or_error(&args.values.files)?;
    let config = client_config(&args.server, env).map_err(|e| format!("{e:#}"))?;
    let client = Client::connect(config).await.map_err(|e| e.to_string())?;
    let request = ExportRequest {
        projects: args.selection.projects.clone(),
        types: args.selection.types.clone(),
        names: args.selection.names.clone(),
    };
    let mut documents = read_projects(&client, &request)
        .await
        .map_err(|e| e.to_string())?;
    for note in parameterise(&mut documents, &values) {
        let _ = writeln!(out, "Note: {}", crate::diag::printable(&note));
    }
    write_files(&args.out, &documents, args.force, out).map_err(|e| e.to_string())
}
