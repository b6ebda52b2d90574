//! The text report (DESIGN.md 4.4): each change once, its line with its body or diff
//! right below it (a create's desired body, a delete's current one, the unified diff of an
//! update, rename or replace), then the notes (one line per kind; every note with `-v`),
//! the summary line and the unmanaged names. Colour only when asked for (a terminal
//! without `NO_COLOR` / `--no-color`).

use super::{
    Context, REPLACE_WARNING, Wording, action_symbol, change_target, connection_diff,
    destructive_warning, drift_line, note_summaries, printable, summary_line, unmanaged_block,
};
use crate::plan::{Action, Plan};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";

/// Renders the plan as text.
pub fn render(plan: &Plan, context: &Context) -> String {
    let paint = Painter(context.colour);
    let mut out = String::new();
    if let Some(environment) = plan.environment() {
        out.push_str(&paint.apply(BOLD, &format!("Environment: {environment}")));
        out.push_str("\n\n");
    }
    if context.wording == Wording::Drift {
        out.push_str(&paint.apply(BOLD, &drift_line(plan)));
        out.push_str("\n\n");
    }
    for change in &plan.changes {
        let line = format!("{} {}", action_symbol(change.action), change_target(change));
        out.push_str(&paint.apply(action_colour(change.action), &line));
        out.push('\n');
        if change.action == Action::Replace {
            out.push_str(&paint.apply(MAGENTA, &format!("  warning: {REPLACE_WARNING}")));
            out.push('\n');
        }
        out.push_str(&paint.diff(&connection_diff(change)));
        out.push('\n');
    }
    let notes = notes(plan, context.verbose);
    if !notes.is_empty() {
        out.push_str(&notes);
        out.push('\n');
    }
    out.push_str(&paint.apply(BOLD, &summary_line(plan)));
    out.push('\n');
    out.push_str(&unmanaged_block(
        plan,
        "Unmanaged (not in the desired state, left alone):\n",
        |name| format!("  {name}\n"),
    ));
    if let Some(warning) = destructive_warning(plan).filter(|_| context.wording == Wording::Plan) {
        out.push_str(&paint.apply(RED, &warning));
        out.push('\n');
    }
    out
}

/// One `Note:` line per kind, or one per note when verbose.
fn notes(plan: &Plan, verbose: bool) -> String {
    if verbose {
        return plan
            .notes
            .iter()
            .map(|note| format!("Note: {}\n", printable(&note.text())))
            .collect();
    }
    note_summaries(plan)
        .iter()
        .map(|summary| format!("Note: {}; -v lists them\n", summary.line()))
        .collect()
}

fn action_colour(action: Action) -> &'static str {
    match action {
        Action::Create => GREEN,
        Action::Update => YELLOW,
        Action::Rename => CYAN,
        Action::Replace => MAGENTA,
        Action::Delete => RED,
    }
}

/// Wraps text in ANSI colour codes when colour is on.
struct Painter(bool);

impl Painter {
    fn apply(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn diff(&self, diff: &str) -> String {
        diff.lines()
            .map(|line| {
                let code = match line.as_bytes().first() {
                    _ if line.starts_with("---") || line.starts_with("+++") => BOLD,
                    Some(b'+') => GREEN,
                    Some(b'-') => RED,
                    Some(b'@') => CYAN,
                    _ => "",
                };
                let painted = if code.is_empty() {
                    line.to_string()
                } else {
                    self.apply(code, line)
                };
                painted + "\n"
            })
            .collect()
    }
}
