//! The markdown report for pull-request comments: the summary line and a table, one
//! collapsible `<details>` per project with a ```diff block per update, rename or
//! replace, cut to fit [`MAX_CHARS`] with a note of what was left out.

use super::{
    Wording, action_symbol, change_target, connection_diff, drift_line, printable, source_text,
    summary_line, unmanaged_block,
};
use crate::plan::{Action, Change, Plan};

/// The most characters a report may hold (GitHub comments take 65,536).
pub const MAX_CHARS: usize = 65_000;

/// Room kept for the note about what was cut.
const NOTE_RESERVE: usize = 400;

/// One change as listed: its line and its diff block.
struct Item<'a> {
    change: &'a Change,
    line: String,
    diff: Option<String>,
}

/// What fits: which lines and diff blocks are kept.
struct Cut {
    keep_line: Vec<bool>,
    keep_diff: Vec<bool>,
}

/// Renders the plan as markdown of at most [`MAX_CHARS`] characters.
pub fn render(plan: &Plan, wording: Wording) -> String {
    render_capped(plan, wording, MAX_CHARS)
}

fn render_capped(plan: &Plan, wording: Wording, max: usize) -> String {
    let items: Vec<Item> = plan.changes.iter().map(item).collect();
    let all = Cut {
        keep_line: vec![true; items.len()],
        keep_diff: vec![true; items.len()],
    };
    let full = compose(plan, wording, &items, &all);
    if full.chars().count() <= max {
        return full;
    }
    let cut = fit(plan, wording, &items, max.saturating_sub(NOTE_RESERVE));
    let mut text = compose(plan, wording, &items, &cut);
    text.push_str(&cut_note(&items, &cut, max));
    text
}

fn item(change: &Change) -> Item<'_> {
    let mut line = format!(
        "- `{}` `{}`",
        action_symbol(change.action),
        change_target(change)
    );
    if let Some(source) = source_text(change) {
        line.push_str(&format!(" ({source})"));
    }
    Item {
        change,
        line: line + "\n",
        diff: connection_diff(change).map(|d| format!("\n```diff\n{d}```\n\n")),
    }
}

/// Keeps every change line that fits, then diff blocks in plan order while they fit.
fn fit(plan: &Plan, wording: Wording, items: &[Item], budget: usize) -> Cut {
    let mut cut = Cut {
        keep_line: vec![true; items.len()],
        keep_diff: vec![false; items.len()],
    };
    let mut used = compose(plan, wording, items, &cut).chars().count();
    for i in (0..items.len()).rev() {
        if used <= budget {
            break;
        }
        cut.keep_line[i] = false;
        used -= items[i].line.chars().count();
    }
    for (i, item) in items.iter().enumerate() {
        let Some(diff) = &item.diff else { continue };
        let size = diff.chars().count();
        if cut.keep_line[i] && used + size <= budget {
            cut.keep_diff[i] = true;
            used += size;
        }
    }
    cut
}

fn cut_note(items: &[Item], cut: &Cut, max: usize) -> String {
    let diffs = items
        .iter()
        .zip(&cut.keep_diff)
        .filter(|(i, keep)| i.diff.is_some() && !**keep)
        .count();
    let lines = cut.keep_line.iter().filter(|k| !**k).count();
    format!(
        "\n> **Cut to fit {max} characters:** left out {diffs} diff block(s) and {lines} change line(s). Run `apinizer-gitops plan` for the full plan.\n"
    )
}

fn compose(plan: &Plan, wording: Wording, items: &[Item], cut: &Cut) -> String {
    let mut out = String::new();
    let title = match wording {
        Wording::Plan => "### apinizer-gitops plan\n\n".to_string(),
        Wording::Drift => format!("### apinizer-gitops drift\n\n**{}**\n\n", drift_line(plan)),
    };
    out.push_str(&title);
    out.push_str(&format!("**{}**\n\n", summary_line(plan)));
    out.push_str(&summary_table(plan));
    for project in projects_in_order(plan) {
        out.push_str(&project_section(project, items, cut));
    }
    if !plan.notes.is_empty() {
        out.push_str("\n**Notes**\n\n");
        for note in &plan.notes {
            out.push_str(&format!("- {}\n", printable(note)));
        }
    }
    out.push_str(&unmanaged_block(
        plan,
        "\n**Unmanaged** (not in the desired state, left alone)\n\n",
        |name| format!("- `{name}`\n"),
    ));
    out
}

fn summary_table(plan: &Plan) -> String {
    let rows = [
        ("create", plan.count(Action::Create)),
        ("update", plan.count(Action::Update)),
        ("rename", plan.count(Action::Rename)),
        ("replace", plan.count(Action::Replace)),
        ("delete", plan.count(Action::Delete)),
        ("unchanged", plan.unchanged),
        ("unmanaged", plan.unmanaged.len()),
    ];
    let mut out = String::from("| | count |\n|---|---:|\n");
    for (label, n) in rows {
        out.push_str(&format!("| {label} | {n} |\n"));
    }
    out
}

fn projects_in_order(plan: &Plan) -> Vec<&str> {
    let mut projects: Vec<&str> = Vec::new();
    for change in &plan.changes {
        if !projects.contains(&change.project.as_str()) {
            projects.push(&change.project);
        }
    }
    projects
}

fn project_section(project: &str, items: &[Item], cut: &Cut) -> String {
    let mine: Vec<usize> = (0..items.len())
        .filter(|i| items[*i].change.project == project)
        .collect();
    let mut out = format!(
        "\n<details><summary><b>{}</b>: {} change(s)</summary>\n\n",
        printable(project),
        mine.len()
    );
    for i in mine {
        if !cut.keep_line[i] {
            continue;
        }
        out.push_str(&items[i].line);
        if cut.keep_diff[i]
            && let Some(diff) = &items[i].diff
        {
            out.push_str(diff);
        }
    }
    out.push_str("\n</details>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_without_changes_has_the_table_and_no_details() {
        let plan = Plan {
            unchanged: 3,
            ..Plan::default()
        };
        let text = render(&plan, Wording::Plan);
        assert!(text.contains("**No changes. 3 connections match the desired state.**"));
        assert!(text.contains("| unchanged | 3 |"));
        assert!(!text.contains("<details>"));
    }

    #[test]
    fn a_long_report_is_cut_with_a_note() {
        let plan = crate::plan::fixtures::every_action_plan();
        let full = render(&plan, Wording::Plan);
        let max = full.chars().count() - 200;
        let cut = render_capped(&plan, Wording::Plan, max);
        assert!(
            cut.chars().count() <= max,
            "{} > {max}",
            cut.chars().count()
        );
        assert!(cut.contains(&format!("Cut to fit {max} characters:** left out")));
        assert!(cut.contains("diff block(s) and 0 change line(s)"));
        assert!(cut.contains("- `- delete` `P/email/gone`"));
        let tiny = render_capped(&plan, Wording::Plan, 1200);
        assert!(tiny.chars().count() <= 1200);
        assert!(tiny.contains("change line(s)"));
    }
}
