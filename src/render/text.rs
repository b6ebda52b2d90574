//! The text report (DESIGN.md 4.4): one line per change, a unified diff per update,
//! rename or replace, notes, the summary line, then unmanaged names. Colour only when
//! asked for (a terminal without `NO_COLOR` / `--no-color`).

use super::{
    Wording, action_symbol, change_target, connection_diff, drift_line, printable, summary_line,
    unmanaged_block,
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
pub fn render(plan: &Plan, wording: Wording, colour: bool) -> String {
    let paint = Painter(colour);
    let mut out = String::new();
    if wording == Wording::Drift {
        out.push_str(&paint.apply(BOLD, &drift_line(plan)));
        out.push_str("\n\n");
    }
    for change in &plan.changes {
        let line = format!("{} {}", action_symbol(change.action), change_target(change));
        out.push_str(&paint.apply(action_colour(change.action), &line));
        out.push('\n');
    }
    for change in &plan.changes {
        if let Some(diff) = connection_diff(change) {
            out.push('\n');
            out.push_str(&paint.apply(
                BOLD,
                &format!(
                    "{} {}",
                    action_symbol(change.action),
                    printable(&change.address())
                ),
            ));
            out.push('\n');
            out.push_str(&paint.diff(&diff));
        }
    }
    if plan.has_changes() {
        out.push('\n');
    }
    for note in &plan.notes {
        out.push_str(&format!("Note: {}\n", printable(note)));
    }
    if !plan.notes.is_empty() {
        out.push('\n');
    }
    out.push_str(&paint.apply(BOLD, &summary_line(plan)));
    out.push('\n');
    out.push_str(&unmanaged_block(
        plan,
        "Unmanaged (not in the desired state, left alone):\n",
        |name| format!("  {name}\n"),
    ));
    out
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
