//! `validate`: load and check every desired-state file offline; with `--check-env`, also
//! check that every referenced variable is set. One writer per `--format`: text, JSON,
//! GitHub workflow commands and a GitLab Code Quality report.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{EXIT_ERROR, ValidateArgs, ValidateFormat};
use crate::desired::{self, LoadOptions, Loaded};
use crate::diag::{self, Diagnostic};
use crate::refs::{Env, ProcessEnv, references_in_connection, unconvertible_references};

/// Runs `validate` and returns the exit code (0 valid, 1 invalid).
pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> u8 {
    let base = match args.files.load_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let (runs, mut diagnostics) = environment_runs(args);
    let mut loaded = None;
    for values_files in runs {
        let (run_loaded, found) = validate_once(args, &base, values_files);
        diagnostics.extend(found);
        loaded = loaded.or(run_loaded);
    }
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diagnostics.into_iter().partition(Diagnostic::is_error);
    match args.format {
        ValidateFormat::Json => print_json(&errors, &warnings, out),
        ValidateFormat::Text => print_text(&errors, &warnings, loaded.as_ref(), out),
        ValidateFormat::Github => print_github(&errors, &warnings, out),
        ValidateFormat::Gitlab => {
            let fallback = args.files.files.first().map_or(".", String::as_str);
            print_gitlab(&errors, &warnings, fallback, out)
        }
    }
    if errors.is_empty() { 0 } else { EXIT_ERROR }
}

/// The values files of each validation: one run with `--values` (or none: references
/// left as written), or one run per file `--values-each` matches.
fn environment_runs(args: &ValidateArgs) -> (Vec<Option<Vec<PathBuf>>>, Vec<Diagnostic>) {
    match &args.values_each {
        Some(glob) => {
            let (files, errors) = desired::files::expand(std::slice::from_ref(glob));
            (files.into_iter().map(|f| Some(vec![f])).collect(), errors)
        }
        None if args.files.values.files.is_empty() => (vec![None], Vec::new()),
        None => (vec![Some(args.files.values.files.clone())], Vec::new()),
    }
}

/// The `environment:` the values files name, or else the first file (the file's own
/// problems are reported by the load).
fn environment_name(files: &[PathBuf]) -> String {
    let values = crate::values::load(files, &mut Vec::new());
    let file = || {
        files
            .first()
            .map(|f| f.display().to_string())
            .unwrap_or_default()
    };
    values.environment.unwrap_or_else(file)
}

/// One load of the files with one set of values files; with `--values-each` every
/// diagnostic names the environment (its `environment:`, or the file).
fn validate_once(
    args: &ValidateArgs,
    base: &LoadOptions,
    values_files: Option<Vec<PathBuf>>,
) -> (Option<Loaded>, Vec<Diagnostic>) {
    let label = values_files
        .as_ref()
        .filter(|_| args.values_each.is_some())
        .map(|files| environment_name(files));
    let options = LoadOptions {
        values_files,
        ..base.clone()
    };
    let (loaded, mut diagnostics) = match desired::load(&options) {
        Ok(loaded) => {
            let mut diagnostics = loaded.warnings.clone();
            if args.check_env {
                diagnostics.extend(environment_problems(&loaded, &ProcessEnv));
            }
            (Some(loaded), diagnostics)
        }
        Err(diagnostics) => (None, diagnostics),
    };
    if let Some(environment) = label {
        for diagnostic in &mut diagnostics {
            diagnostic.message = format!("environment {environment}: {}", diagnostic.message);
        }
    }
    (loaded, diagnostics)
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

/// One workflow command per diagnostic, errors first (`::error file=F,line=L,col=C,title=T::M`,
/// `::warning ...`), escaped by the runner's rules so no value can end the command early
/// or start a command of its own.
fn print_github(errors: &[Diagnostic], warnings: &[Diagnostic], out: &mut dyn Write) {
    for diagnostic in errors.iter().chain(warnings) {
        let _ = writeln!(out, "{}", github_command(diagnostic));
    }
}

fn github_command(diagnostic: &Diagnostic) -> String {
    let mut properties = Vec::new();
    if let Some(file) = &diagnostic.file {
        properties.push(format!(
            "file={}",
            github_property(&file.display().to_string())
        ));
        if diagnostic.line > 0 {
            properties.push(format!("line={}", diagnostic.line));
        }
        if diagnostic.column > 0 {
            properties.push(format!("col={}", diagnostic.column));
        }
    }
    let title = match &diagnostic.connection {
        Some(connection) => format!("apinizer-gitops: connection {connection}"),
        None => "apinizer-gitops".to_string(),
    };
    properties.push(format!("title={}", github_property(&title)));
    format!(
        "::{} {}::{}",
        diagnostic.severity.word(),
        properties.join(","),
        github_data(&message_with_hint(diagnostic))
    )
}

/// The message and, on a line of its own, the hint.
fn message_with_hint(diagnostic: &Diagnostic) -> String {
    match &diagnostic.hint {
        Some(hint) => format!("{}\nhint: {hint}", diagnostic.message),
        None => diagnostic.message.clone(),
    }
}

/// The runner's escaping of a command's message: `%`, CR and LF.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The runner's escaping of a property value: the message's, plus `:` and `,`, which
/// would end the value.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A GitLab Code Quality report: a JSON array with one issue per diagnostic. Errors are
/// `major`, warnings `minor`; a diagnostic without a file is placed on `fallback_path`
/// (the first `-f` argument) line 1, since GitLab needs a place. Fingerprints are digests
/// of the place and message, made unique within the report.
fn print_gitlab(
    errors: &[Diagnostic],
    warnings: &[Diagnostic],
    fallback_path: &str,
    out: &mut dyn Write,
) {
    let mut seen = BTreeSet::new();
    let issues: Vec<Value> = errors
        .iter()
        .chain(warnings)
        .map(|diagnostic| gitlab_issue(diagnostic, fallback_path, &mut seen))
        .collect();
    let text = serde_json::to_string_pretty(&issues).expect("a report serialises");
    let _ = writeln!(out, "{text}");
}

fn gitlab_issue(
    diagnostic: &Diagnostic,
    fallback_path: &str,
    seen: &mut BTreeSet<String>,
) -> Value {
    let path = diagnostic
        .file
        .as_ref()
        .map_or(fallback_path.to_string(), |f| f.display().to_string());
    let description = match &diagnostic.connection {
        Some(connection) => format!(
            "connection `{connection}`: {}",
            message_with_hint(diagnostic)
        ),
        None => message_with_hint(diagnostic),
    };
    let place = format!(
        "{path}\0{}\0{}\0{}\0{description}",
        diagnostic.line,
        diagnostic.column,
        diagnostic.severity.word()
    );
    let mut fingerprint = hex::encode(Sha256::digest(place.as_bytes()));
    let mut repeat = 1;
    while !seen.insert(fingerprint.clone()) {
        repeat += 1;
        fingerprint = hex::encode(Sha256::digest(format!("{place}\0{repeat}").as_bytes()));
    }
    json!({
        "description": description,
        "check_name": format!("apinizer-gitops-{}", diagnostic.severity.word()),
        "fingerprint": fingerprint,
        "severity": if diagnostic.is_error() { "major" } else { "minor" },
        "location": { "path": path, "lines": { "begin": diagnostic.line.max(1) } },
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_values_are_escaped_by_the_runner_rules() {
        assert_eq!(github_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(github_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn fingerprints_of_identical_findings_differ() {
        let finding = Diagnostic::error("same").at(std::path::Path::new("f.yaml"), 1, 1);
        let mut seen = BTreeSet::new();
        let first = gitlab_issue(&finding, ".", &mut seen);
        let second = gitlab_issue(&finding, ".", &mut seen);
        assert_ne!(first["fingerprint"], second["fingerprint"]);
        assert_eq!(first["description"], second["description"]);
    }
}
