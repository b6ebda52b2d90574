//! `apply`: plan now and execute after confirmation, or execute a saved plan file (the
//! file is the approval) after checking it is for this server and this version, that
//! every variable is set, and that nothing it touches changed since it was made.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::runtime::Runtime;

use super::plan::{Purpose, compute_from_flags, print_report, report_context};
use super::server::client_config;
use super::{ApplyArgs, EXIT_ERROR, LogArgs, OutputFormat};
use crate::api::Client;
use crate::apply::{self, ApplyOptions, ApplyReport, ChangeReport};
use crate::plan::Action;
use crate::plan::{self, Plan, PlanError, SavedPlan, UnsetSecrets};
use crate::refs::{Env, MissingVariables, ReferencePolicy};
use crate::render::Wording;
use crate::render::{Context, counted};

/// Where the command runs: progress bar or plain lines, and whether a person can answer.
#[derive(Debug, Clone, Copy)]
struct Console {
    stdout_is_terminal: bool,
    stdin_is_terminal: bool,
    /// Failures in red.
    colour: bool,
}

/// Runs `apply`; returns the exit code (0 every change done, 1 otherwise).
pub fn run(args: &ApplyArgs, log: &LogArgs, env: &dyn Env, out: &mut dyn Write) -> u8 {
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let console = Console {
        stdout_is_terminal,
        stdin_is_terminal: std::io::stdin().is_terminal(),
        colour: super::logging::colour_enabled(log.no_color, stdout_is_terminal),
    };
    let result = match &args.plan_file {
        Some(path) => apply_saved(args, path, log, env, out, console),
        None => plan_and_apply(args, log, env, out, console),
    };
    result.unwrap_or_else(|message| {
        // Each line printable: only the line breaks the message itself makes remain.
        let lines: Vec<_> = message.split('\n').map(crate::diag::printable).collect();
        eprintln!("error: {}", lines.join("\n"));
        EXIT_ERROR
    })
}

/// Plans now, shows the plan, asks (unless `--auto-approve`), executes.
fn plan_and_apply(
    args: &ApplyArgs,
    log: &LogArgs,
    env: &dyn Env,
    out: &mut dyn Write,
    console: Console,
) -> Result<u8, String> {
    if !args.auto_approve && !console.stdin_is_terminal {
        return Err(
            "standard input is not a terminal, so apply cannot ask for confirmation: \
                    pass --auto-approve, or save a plan with `plan --out FILE` and run `apply FILE`"
                .into(),
        );
    }
    let purpose = Purpose {
        unset_secrets: UnsetSecrets::Refuse,
        rotate: &args.rotate,
    };
    let Some((runtime, computed)) = compute_from_flags(&args.target, env, purpose) else {
        return Ok(EXIT_ERROR);
    };
    let context = report_context(Wording::Plan, Some(&args.target), log);
    show_plan(&computed.plan, args.format, &context, out);
    if !computed.plan.has_changes() {
        return finish(
            &computed.plan,
            &ApplyReport::default(),
            args.format,
            out,
            console,
        );
    }
    if !args.auto_approve {
        confirm_on_terminal(&computed.plan, args.format, &context, out)?;
    }
    let execution = execute_plan(&computed.plan, &computed.client, env, args, out, console);
    runtime.block_on(execution)
}

/// Executes a saved plan; refuses (writing nothing) a plan for another server or
/// version, a missing variable, or a connection changed since the plan was made.
fn apply_saved(
    args: &ApplyArgs,
    path: &Path,
    log: &LogArgs,
    env: &dyn Env,
    out: &mut dyn Write,
    console: Console,
) -> Result<u8, String> {
    let saved = SavedPlan::load(path).map_err(|e| e.to_string())?;
    check_tool_version(&saved)?;
    check_named_server(&saved, args.target.server.server.as_deref())?;
    check_values(&saved, &args.target.files.values.files)?;
    let config = client_config(&args.target.server, env).map_err(|e| format!("{e:#}"))?;
    let runtime = Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let client = runtime
        .block_on(Client::connect(config))
        .map_err(|e| e.to_string())?;
    let plan = saved.into_plan();
    let policy = ReferencePolicy::new(&args.target.files.allow_env)?;
    apply::check_references(&plan, &policy)?;
    apply::check_variables(&plan, env)
        .map_err(|MissingVariables(names)| PlanError::MissingVariables(names).to_string())?;
    let templates = plan.changes.iter().filter_map(|c| {
        let template = c.desired.as_ref()?;
        Some((c.project.as_str(), template))
    });
    crate::plan::check_conversions(templates, env).map_err(|e| e.to_string())?;
    let remaining = runtime.block_on(apply::remaining(plan, &client, env))?;
    let plan = remaining.plan;
    plan::check_delete_budget(&plan, args.target.max_deletes).map_err(|e| e.to_string())?;
    if !plan.has_changes() && args.format != OutputFormat::Json {
        let _ = writeln!(
            out,
            "Already applied: {} changes are in effect.",
            remaining.in_effect
        );
        return Ok(0);
    }
    show_plan(
        &plan,
        args.format,
        &report_context(Wording::Plan, None, log),
        out,
    );
    runtime.block_on(execute_plan(&plan, &client, env, args, out, console))
}

/// The token goes only to a server the user names: `apply FILE` needs `--server` (or
/// `APINIZER_URL`), and it must be the plan's server. Both are checked before any
/// connection, so an edited plan file cannot redirect the token.
fn check_named_server(saved: &SavedPlan, named: Option<&str>) -> Result<(), String> {
    let planned = saved.server.escape_debug();
    let Some(named) = named.filter(|s| !s.trim().is_empty()) else {
        return Err(format!(
            "apply FILE sends the API token only to a server you name: pass --server {planned} (or set APINIZER_URL) to apply this plan, which was made for {planned}"
        ));
    };
    // Normalised like the plan's URL (no trailing `/`, no `/apiops`).
    let named = crate::api::normalised_server(named).map_err(|e| e.to_string())?;
    saved.check_server(&named).map_err(|e| e.to_string())
}

/// `apply FILE` needs no values file (the plan holds the values); given ones must agree
/// with the plan's.
fn check_values(saved: &SavedPlan, files: &[PathBuf]) -> Result<(), String> {
    if files.is_empty() {
        return Ok(());
    }
    crate::values::load_or_error(files)?.check_agrees(saved.values.as_ref())
}

/// Refuses a plan written by another version of the tool.
fn check_tool_version(saved: &SavedPlan) -> Result<(), String> {
    let ours = env!("CARGO_PKG_VERSION");
    if saved.tool_version == ours {
        return Ok(());
    }
    Err(format!(
        "the plan was made by apinizer-gitops {} but this is {ours}: make a new plan with this version",
        saved.tool_version
    ))
}

/// Prints the plan before applying it; with `--format json` the plan goes into the one
/// document printed at the end instead.
fn show_plan(plan: &Plan, format: OutputFormat, context: &Context, out: &mut dyn Write) {
    if format != OutputFormat::Json {
        print_report(plan, format, context, out);
    }
}

/// Asks the person at the terminal; with `--format json` (stdout kept for the document)
/// the plan as text and the question go to stderr.
fn confirm_on_terminal(
    plan: &Plan,
    format: OutputFormat,
    context: &Context,
    out: &mut dyn Write,
) -> Result<(), String> {
    let mut stderr = std::io::stderr();
    let asked: &mut dyn Write = if format == OutputFormat::Json {
        print_report(plan, OutputFormat::Text, context, &mut stderr);
        &mut stderr
    } else {
        out
    };
    confirm(&mut std::io::stdin().lock(), asked, &question(plan))
}

/// `Apply 1 create, 2 updates and 1 delete to https://apinizer.example.com?` then the
/// question only `yes` answers.
fn question(plan: &Plan) -> String {
    let words = [
        (Action::Rename, "rename", "renames"),
        (Action::Create, "create", "creates"),
        (Action::Update, "update", "updates"),
        (Action::Replace, "replace", "replaces"),
        (Action::Delete, "delete", "deletes"),
    ];
    let parts: Vec<String> = words
        .iter()
        .map(|(action, one, many)| (plan.count(*action), one, many))
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| counted(n, one, many))
        .collect();
    let list = match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "no change".to_string(),
    };
    format!(
        "\nApply {list} to {}?\nDo you want to perform these actions? Only 'yes' will be accepted: ",
        plan.server
    )
}

/// Asks `question`; only `yes` goes on.
fn confirm(input: &mut dyn BufRead, out: &mut dyn Write, question: &str) -> Result<(), String> {
    let _ = write!(out, "{question}");
    let _ = out.flush();
    let mut answer = String::new();
    input
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err("apply cancelled: the answer was not 'yes'; nothing was written".into())
    }
}

/// Runs the changes with progress and writes the report; returns the exit code.
async fn execute_plan(
    plan: &Plan,
    client: &Client,
    env: &dyn Env,
    args: &ApplyArgs,
    out: &mut dyn Write,
    console: Console,
) -> Result<u8, String> {
    let options = ApplyOptions {
        parallelism: usize::from(args.target.server.parallelism),
        continue_on_error: args.continue_on_error,
        grace: args.target.server.timeout,
    };
    let (_graceful, interrupt) = super::interrupt::graceful();
    let json = args.format == OutputFormat::Json;
    let colour = console.colour;
    let report = if console.stdout_is_terminal {
        let bar = progress_bar(plan.changes.len());
        let mut tick = |done: &ChangeReport| {
            bar.inc(1);
            bar.set_message(done.line());
        };
        let report = apply::execute(plan, client, env, options, &interrupt, &mut tick).await;
        bar.finish_and_clear();
        report
    } else {
        // With JSON on stdout, the live lines go to stderr so stdout stays parseable.
        let mut stderr = std::io::stderr();
        let live: &mut dyn Write = if json { &mut stderr } else { &mut *out };
        // Changes not started are counted at the end, not listed.
        let mut line = |done: &ChangeReport| {
            if !done.skipped_after_failure() {
                let _ = writeln!(live, "{}", done.painted_line(colour));
            }
        };
        apply::execute(plan, client, env, options, &interrupt, &mut line).await
    };
    finish(plan, &report, args.format, out, console)
}

/// The report: for `--format json` one document, the plan's report (`command: apply`)
/// with what was done under `apply`; otherwise every line again after a progress bar, then
/// the summary line and the failures. Exits 130 after an interrupt.
fn finish(
    plan: &Plan,
    report: &ApplyReport,
    format: OutputFormat,
    out: &mut dyn Write,
    console: Console,
) -> Result<u8, String> {
    let written = if format == OutputFormat::Json {
        let mut document = crate::render::json::report(plan, "apply");
        document["apply"] = apply::report::to_json(report);
        let text = serde_json::to_string_pretty(&document).expect("a JSON value serialises");
        writeln!(out, "{text}")
    } else {
        apply::report::render(report, console.stdout_is_terminal, console.colour, out)
    };
    written.map_err(|e| format!("cannot write the report: {e}"))?;
    if report.interrupted_by.is_some() {
        return Ok(super::interrupt::EXIT_INTERRUPTED);
    }
    // DESIGN.md: 0 all done, 1 any change failed or not started.
    Ok(if report.succeeded() {
        0
    } else {
        super::EXIT_ERROR
    })
}

/// The bar: how far, how long so far, how long still to go, the last change.
const PROGRESS_TEMPLATE: &str = "{bar:30} {pos}/{len} {elapsed} elapsed, ETA {eta} {wide_msg}";

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(PROGRESS_TEMPLATE) {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_names_the_server_and_the_counts() {
        let mut plan = crate::plan::fixtures::every_action_plan();
        assert_eq!(
            question(&plan),
            "\nApply 1 rename, 1 create, 2 updates, 1 replace and 1 delete to http://s?\nDo you want to perform these actions? Only 'yes' will be accepted: "
        );
        plan.changes.retain(|c| c.action == Action::Create);
        assert!(question(&plan).starts_with("\nApply 1 create to http://s?\n"));
    }

    #[test]
    fn the_progress_bar_shows_elapsed_time_and_eta() {
        assert!(ProgressStyle::with_template(PROGRESS_TEMPLATE).is_ok());
        assert!(PROGRESS_TEMPLATE.contains("{elapsed}") && PROGRESS_TEMPLATE.contains("{eta}"));
    }

    #[test]
    fn only_yes_confirms() {
        let mut out = Vec::new();
        assert!(confirm(&mut "yes\n".as_bytes(), &mut out, "Sure? ").is_ok());
        assert_eq!(String::from_utf8(out).unwrap(), "Sure? ");
        for answer in ["y\n", "YES please\n", "\n", ""] {
            let err = confirm(&mut answer.as_bytes(), &mut Vec::new(), "?").unwrap_err();
            assert!(err.contains("cancelled"), "{answer:?}");
        }
    }
}
