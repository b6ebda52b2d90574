//! `plan`: diff the desired state against the server, print it, optionally save it.
//! Also the pieces `drift` (and `apply`) share: computing a plan from the flags and
//! printing a report.

use std::io::{IsTerminal, Write};

use tokio::runtime::Runtime;

use super::{EXIT_CHANGES, EXIT_ERROR, LogArgs, OutputFormat, PlanArgs, SelectionArgs, TargetArgs};
use crate::diag::Diagnostic;
use crate::plan::{Computed, Plan, PlanError, PlanRequest, SavedPlan, Selection, UnsetSecrets};
use crate::refs::Env;
use crate::render::{self, Context, Origin, Wording};

/// Runs `plan` with variables from `env`, printing the plan on `out`.
pub fn run(args: PlanArgs, log: &LogArgs, env: &dyn Env, out: &mut dyn Write) -> u8 {
    let purpose = Purpose {
        unset_secrets: UnsetSecrets::LeaveUncompared,
        rotate: &args.rotate,
    };
    let Some((_runtime, computed)) = compute_from_flags(&args.target, env, purpose) else {
        return EXIT_ERROR;
    };
    if let Some(path) = &args.out {
        let saved = SavedPlan::from_plan(&computed.plan).and_then(|s| s.write(path));
        if let Err(error) = saved {
            report_error(&error);
            return EXIT_ERROR;
        }
        tracing::info!(path = %path.display(), "plan saved");
    }
    let context = report_context(Wording::Plan, Some(&args.target), log);
    print_report(&computed.plan, args.format, &context, out);
    if computed.plan.has_changes() && args.detailed_exitcode {
        EXIT_CHANGES
    } else {
        0
    }
}

/// What a command needs of its plan beyond the target.
#[derive(Debug, Clone, Copy)]
pub struct Purpose<'a> {
    /// Previews (`plan`, `drift`) run without secret-only variables; `apply` needs them.
    pub unset_secrets: UnsetSecrets,
    /// `--rotate` globs (`plan`, `apply`).
    pub rotate: &'a [String],
}

/// Loads, connects, reads and diffs as the flags say; reports any error on stderr.
/// Returns the runtime with the plan: the computed client keeps working on it (apply).
pub fn compute_from_flags(
    target: &TargetArgs,
    env: &dyn Env,
    purpose: Purpose<'_>,
) -> Option<(Runtime, Computed)> {
    let result = request(target, env, purpose).and_then(|request| {
        let runtime = Runtime::new().map_err(|e| PlanError::Input {
            message: format!("cannot start the async runtime: {e}"),
        })?;
        let computed = runtime.block_on(crate::plan::compute(request))?;
        Ok((runtime, computed))
    });
    match result {
        Ok((runtime, computed)) => {
            print_diagnostics(&computed.warnings);
            Some((runtime, computed))
        }
        Err(error) => {
            report_error(&error);
            None
        }
    }
}

fn request<'a>(
    target: &TargetArgs,
    env: &'a dyn Env,
    purpose: Purpose<'_>,
) -> Result<PlanRequest<'a>, PlanError> {
    let TargetArgs {
        files,
        selection,
        server,
        max_deletes,
    } = target;
    Ok(PlanRequest {
        load: files
            .load_options()
            .map_err(|message| PlanError::Input { message })?,
        selection: Selection::new(&selection.projects, &selection.types, &selection.names)?
            .with_rotation(purpose.rotate)?,
        client: super::server::client_config(server, env).map_err(|e| PlanError::Input {
            message: format!("{e:#}"),
        })?,
        env,
        max_deletes: *max_deletes,
        unset_secrets: purpose.unset_secrets,
    })
}

/// How a plan is rendered for this run: colour on a terminal unless turned off, every
/// note with `-v`, and the files and selection the markdown header names (none for a
/// saved plan).
pub fn report_context(wording: Wording, target: Option<&TargetArgs>, log: &LogArgs) -> Context {
    Context {
        wording,
        colour: super::logging::colour_enabled(log.no_color, std::io::stdout().is_terminal()),
        verbose: log.verbose > 0,
        origin: target.map(origin).unwrap_or_default(),
    }
}

fn origin(target: &TargetArgs) -> Origin {
    let SelectionArgs {
        projects,
        types,
        names,
    } = &target.selection;
    let flag = |flag: &str, values: &[String]| {
        values
            .iter()
            .map(|v| format!("{flag} {v}"))
            .collect::<Vec<_>>()
    };
    let mut selection = flag("--project", projects);
    selection.extend(flag("--type", types));
    selection.extend(flag("--name", names));
    Origin {
        files: target.files.files.clone(),
        selection,
        environment: None,
    }
}

/// Prints a plan on `out` (stdout) in the chosen format.
pub fn print_report(plan: &Plan, format: OutputFormat, context: &Context, out: &mut dyn Write) {
    let text = match format {
        OutputFormat::Text => render::text::render(plan, context),
        OutputFormat::Json => render::json::render(plan, context),
        OutputFormat::Markdown => render::markdown::render(plan, context),
    };
    let _ = write!(out, "{text}");
}

/// Prints an error (and any diagnostics it carries) on stderr, on one line: the server's
/// text in it cannot start a line of its own.
pub fn report_error(error: &PlanError) {
    if let PlanError::Invalid(diagnostics) = error {
        print_diagnostics(diagnostics);
    }
    eprintln!("error: {}", error.printable_message());
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{}", d.render_text());
    }
}
