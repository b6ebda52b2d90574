//! `validate`: load and check every desired-state file offline; with `--check-env`, also
//! check that every referenced variable is set.

use std::collections::BTreeSet;
use std::io::Write;

use super::{EXIT_ERROR, OutputFormat, ValidateArgs};
use crate::desired::{self, LoadOptions, Loaded};
use crate::diag::{self, Diagnostic};
use crate::refs::{Env, ProcessEnv, references_in_connection, unconvertible_references};

/// Runs `validate` and returns the exit code (0 valid, 1 invalid).
pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> u8 {
    let options = LoadOptions {
        paths: args.files.files.clone(),
        allow_literal_secrets: args.files.allow_literal_secrets,
    };
    let (loaded, diagnostics) = match desired::load(&options) {
        Ok(loaded) => {
            let mut diagnostics = loaded.warnings.clone();
            if args.check_env {
                diagnostics.extend(environment_problems(&loaded, &ProcessEnv));
            }
            (Some(loaded), diagnostics)
        }
        Err(diagnostics) => (None, diagnostics),
    };
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diagnostics.into_iter().partition(Diagnostic::is_error);
    match args.format {
        OutputFormat::Json => print_json(&errors, &warnings, out),
        _ => print_text(&errors, &warnings, loaded.as_ref(), out),
    }
    if errors.is_empty() { 0 } else { EXIT_ERROR }
}

/// One error per variable that is referenced but not set, and one per number or boolean
/// field whose variable does not convert (names only, never values).
fn environment_problems(loaded: &Loaded, env: &dyn Env) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut reported = BTreeSet::new();
    for project in loaded.state.projects.values() {
        for connection in &project.connections {
            let here = |message: String, hint: String| {
                let source = &connection.source;
                Diagnostic::error(message)
                    .at(&source.file, source.line, source.column)
                    .in_project(Some(&project.name))
                    .in_connection(Some(&connection.template.name))
                    .with_hint(hint)
            };
            for name in references_in_connection(&connection.template) {
                if env.var(&name).is_none() && reported.insert(name.clone()) {
                    let message = format!("environment variable `{name}` is not set");
                    errors.push(here(
                        message,
                        format!("export {name}=... before plan or apply"),
                    ));
                }
            }
            for reference in unconvertible_references(&connection.template, env) {
                let hint = format!(
                    "set {} to a valid {}",
                    reference.variable,
                    reference.kind.json_name()
                );
                errors.push(here(reference.to_string(), hint));
            }
        }
    }
    diag::sort(&mut errors);
    errors
}

fn print_json(errors: &[Diagnostic], warnings: &[Diagnostic], out: &mut dyn Write) {
    let report = diag::json_report(errors, warnings);
    let text = serde_json::to_string_pretty(&report).expect("a report serialises");
    let _ = writeln!(out, "{text}");
}

/// Errors and the summary go to `out` (they are the result); warnings to stderr. Write
/// errors (a closed pipe) are ignored, not a panic.
fn print_text(
    errors: &[Diagnostic],
    warnings: &[Diagnostic],
    loaded: Option<&Loaded>,
    out: &mut dyn Write,
) {
    for warning in warnings {
        eprintln!("{}", warning.render_text());
    }
    for error in errors {
        let _ = writeln!(out, "{}", error.render_text());
    }
    let _ = match loaded {
        Some(loaded) if errors.is_empty() => writeln!(out, "{}", valid_summary(loaded)),
        _ => writeln!(
            out,
            "Invalid: {} error{}.",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        ),
    };
}

/// `Valid: 12 connections in 2 projects (3 files).`
fn valid_summary(loaded: &Loaded) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "Valid: {} in {} ({}).",
        plural(loaded.state.connection_count(), "connection"),
        plural(loaded.state.projects.len(), "project"),
        plural(loaded.files.len(), "file"),
    )
}
