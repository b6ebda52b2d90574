//! The markdown report for pull-request comments: a hidden marker line for sticky
//! comments, the server, tool version and selection, the summary line and a table, one
//! collapsible `<details>` per project with each change line and its ```diff block, the
//! notes collapsed, then the unmanaged names.
//!
//! Cut to fit [`MAX_CHARS`]: the budget goes, in order, to the summary and counts (the
//! header, the table and one line per note kind), every change line, whole diffs in plan
//! order, then note and unmanaged lines; a last line names what was left out.

use sha2::{Digest, Sha256};

use super::{
    Context, Origin, REPLACE_WARNING, Wording, action_symbol, change_target, connection_diff,
    counted, drift_line, note_summaries, printable, source_text, summary_line,
};
use crate::plan::{Action, Plan};

/// The most characters a report may hold (GitHub comments take 65,536).
pub const MAX_CHARS: usize = 65_000;

/// Room kept for the note about what was cut.
const CUT_NOTE_RESERVE: usize = 400;

/// A piece of the report that may be left out, and its size in characters.
struct Piece {
    text: String,
    size: usize,
}

impl Piece {
    fn new(text: String) -> Self {
        let size = text.chars().count();
        Piece { text, size }
    }
}

/// Everything the report may hold, before cutting.
struct Parts {
    /// Per change: its line and its diff block.
    lines: Vec<Piece>,
    diffs: Vec<Piece>,
    /// Per note, then per unmanaged connection: one list item.
    notes: Vec<Piece>,
    unmanaged: Vec<Piece>,
}

/// Which pieces are kept.
struct Kept {
    lines: Vec<bool>,
    diffs: Vec<bool>,
    notes: Vec<bool>,
    unmanaged: Vec<bool>,
}

impl Kept {
    fn all(parts: &Parts, keep: bool) -> Kept {
        Kept {
            lines: vec![keep; parts.lines.len()],
            diffs: vec![keep; parts.diffs.len()],
            notes: vec![keep; parts.notes.len()],
            unmanaged: vec![keep; parts.unmanaged.len()],
        }
    }
}

/// Renders the plan as markdown of at most [`MAX_CHARS`] characters.
pub fn render(plan: &Plan, context: &Context) -> String {
    render_capped(plan, context, MAX_CHARS)
}

fn render_capped(plan: &Plan, context: &Context, max: usize) -> String {
    let parts = parts(plan);
    let everything = Kept::all(&parts, true);
    let full = compose(plan, context, &parts, &everything);
    if full.chars().count() <= max {
        return full;
    }
    let kept = fit(plan, context, &parts, max.saturating_sub(CUT_NOTE_RESERVE));
    let mut text = compose(plan, context, &parts, &kept);
    text.push_str(&cut_note(&kept, max));
    text
}

fn parts(plan: &Plan) -> Parts {
    // Change lines stay short (every one must fit before any diff); the source file goes
    // with the diff.
    let lines = plan.changes.iter().map(|change| {
        let warning = if change.action == Action::Replace {
            format!(" — **warning:** {REPLACE_WARNING}")
        } else {
            String::new()
        };
        Piece::new(format!(
            "- {} {}{warning}\n",
            code_span(action_symbol(change.action)),
            code_span(&change_target(change))
        ))
    });
    let diffs = plan.changes.iter().map(|change| {
        let source = source_text(change)
            .map(|s| format!("\n{}\n", code_span(&s)))
            .unwrap_or_default();
        let diff = connection_diff(change);
        let fence = backtick_fence(&diff, 3);
        Piece::new(format!("{source}\n{fence}diff\n{diff}{fence}\n\n"))
    });
    let notes = plan
        .notes
        .iter()
        .map(|note| Piece::new(format!("- {}\n", printable(&note.text()))));
    let unmanaged = plan
        .unmanaged
        .iter()
        .map(|u| Piece::new(format!("- {}\n", code_span(&u.text()))));
    Parts {
        lines: lines.collect(),
        diffs: diffs.collect(),
        notes: notes.collect(),
        unmanaged: unmanaged.collect(),
    }
}

/// A run of backticks longer than any in `text` and at least `min` long: a code span or
/// fence delimited by it cannot be ended early by the text (CommonMark), so a server value
/// holding "```" cannot close a diff block and inject markdown into the comment.
fn backtick_fence(text: &str, min: usize) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(min.max(longest + 1))
}

/// `text` as an inline code span that no backtick in it can end.
fn code_span(text: &str) -> String {
    let fence = backtick_fence(text, 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Keeps pieces in priority order while they fit: every change line that fits, then
/// whole diffs in plan order (of kept lines), then notes, then unmanaged names.
fn fit(plan: &Plan, context: &Context, parts: &Parts, budget: usize) -> Kept {
    let mut kept = Kept::all(parts, false);
    // Composition is additive: the skeleton plus the size of each kept piece.
    let mut used = compose(plan, context, parts, &kept).chars().count();
    let mut take = |pieces: &[Piece], keep: &mut [bool], allowed: &dyn Fn(usize) -> bool| {
        for (i, piece) in pieces.iter().enumerate() {
            if allowed(i) && used + piece.size <= budget {
                keep[i] = true;
                used += piece.size;
            }
        }
    };
    take(&parts.lines, &mut kept.lines, &|_| true);
    let lines = kept.lines.clone();
    take(&parts.diffs, &mut kept.diffs, &|i| lines[i]);
    take(&parts.notes, &mut kept.notes, &|_| true);
    take(&parts.unmanaged, &mut kept.unmanaged, &|_| true);
    kept
}

/// `> Cut to fit 65000 characters: left out 990 diffs, 0 change lines, 4300 notes and 0
/// unmanaged names.`
fn cut_note(kept: &Kept, max: usize) -> String {
    let left_out = |keep: &[bool]| keep.iter().filter(|k| !**k).count();
    format!(
        "\n> **Cut to fit {max} characters:** left out {}, {}, {} and {}. Run `apinizer-gitops plan` for the full plan.\n",
        counted(left_out(&kept.diffs), "diff", "diffs"),
        counted(left_out(&kept.lines), "change line", "change lines"),
        counted(left_out(&kept.notes), "note", "notes"),
        counted(
            left_out(&kept.unmanaged),
            "unmanaged name",
            "unmanaged names"
        ),
    )
}

fn compose(plan: &Plan, context: &Context, parts: &Parts, kept: &Kept) -> String {
    let mut out = header(plan, context);
    out.push_str(&format!("**{}**\n\n", summary_line(plan)));
    out.push_str(&summary_table(plan));
    for project in projects_in_order(plan) {
        out.push_str(&project_section(plan, project, parts, kept));
    }
    let summaries = note_summaries(plan);
    if !summaries.is_empty() {
        let lines: Vec<String> = summaries.iter().map(|s| s.line()).collect();
        out.push_str(&format!(
            "\n<details><summary>Notes: {}</summary>\n\n",
            lines.join("; ")
        ));
        push_kept(&mut out, &parts.notes, &kept.notes);
        out.push_str("\n</details>\n");
    }
    if !plan.unmanaged.is_empty() {
        out.push_str("\n**Unmanaged** (not in the desired state, left alone)\n\n");
        push_kept(&mut out, &parts.unmanaged, &kept.unmanaged);
    }
    out
}

fn push_kept(out: &mut String, pieces: &[Piece], kept: &[bool]) {
    for (piece, keep) in pieces.iter().zip(kept) {
        if *keep {
            out.push_str(&piece.text);
        }
    }
}

/// The marker, the title and what the plan was made against.
fn header(plan: &Plan, context: &Context) -> String {
    let command = context.wording.command();
    let mut origin = context.origin.clone();
    if origin.environment.is_none() {
        origin.environment = plan.environment().map(str::to_string);
    }
    let mut out = format!(
        "{}\n### apinizer-gitops {command}\n\n",
        marker(command, &origin)
    );
    if context.wording == Wording::Drift {
        out.push_str(&format!("**{}**\n\n", drift_line(plan)));
    }
    let mut facts = vec![
        format!("Server `{}`", plan.server),
        format!("apinizer-gitops {}", env!("CARGO_PKG_VERSION")),
    ];
    if let Some(environment) = &origin.environment {
        facts.push(format!("environment `{environment}`"));
    }
    if !origin.files.is_empty() {
        facts.push(format!("files `{}`", origin.files.join(" ")));
    }
    facts.push(if origin.selection.is_empty() {
        "selection: everything".to_string()
    } else {
        format!("selection `{}`", origin.selection.join(" "))
    });
    out.push_str(&facts.join(" · "));
    out.push_str("\n\n");
    out
}

/// `<!-- apinizer-gitops plan 0123456789abcdef -->`: the same for the same command, files,
/// selection and environment, so a pipeline can find and update its own comment.
pub fn marker(command: &str, origin: &Origin) -> String {
    // JSON keeps the parts apart: no two different origins read the same.
    let canonical = serde_json::json!([origin.files, origin.selection, origin.environment]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    let key: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("<!-- apinizer-gitops {command} {key} -->")
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

fn project_section(plan: &Plan, project: &str, parts: &Parts, kept: &Kept) -> String {
    let mine: Vec<usize> = (0..plan.changes.len())
        .filter(|i| plan.changes[*i].project == project)
        .collect();
    let mut out = format!(
        "\n<details><summary><b>{}</b>: {}</summary>\n\n",
        printable(project),
        counted(mine.len(), "change", "changes")
    );
    for i in mine {
        if kept.lines[i] {
            out.push_str(&parts.lines[i].text);
        }
        if kept.diffs[i] {
            out.push_str(&parts.diffs[i].text);
        }
    }
    out.push_str("\n</details>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::every_action_plan;

    #[test]
    fn backticks_in_names_and_values_cannot_end_a_code_span_or_a_diff_block() {
        use crate::plan::fixtures::{conn, plan_of, project, wanted};
        use serde_json::json;
        let script = "x\n```\n# Approved\n![t](http://127.0.0.1/t)\n";
        let plan = plan_of(
            project(
                false,
                vec![wanted(
                    "email",
                    "m",
                    json!({"host": "h", "description": script}),
                )],
            ),
            vec![
                conn("email", "m", json!({"host": "old", "description": script})),
                conn("email", "a`b", json!({"host": "h"})),
            ],
        );
        let text = render(&plan, &Context::default());
        assert!(text.contains("\n````diff\n"), "{text}");
        assert_eq!(text.matches("\n````\n").count(), 1, "{text}");
        assert!(text.contains("- ``P/email/a`b``\n"), "{text}");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_span("plain"), "`plain`");
    }

    #[test]
    fn a_plan_without_changes_has_the_table_and_no_details() {
        let plan = Plan {
            unchanged: 3,
            ..Plan::default()
        };
        let text = render(&plan, &Context::default());
        assert!(text.contains("**No changes. 3 connections match the desired state.**"));
        assert!(text.contains("| unchanged | 3 |"));
        assert!(!text.contains("<details>"));
    }

    #[test]
    fn a_long_report_keeps_lines_before_diffs_and_diffs_before_notes() {
        let plan = every_action_plan();
        let context = Context::default();
        let full = render(&plan, &context);
        let max = full.chars().count() - 200;
        let cut = render_capped(&plan, &context, max);
        assert!(
            cut.chars().count() <= max,
            "{} > {max}",
            cut.chars().count()
        );
        assert!(cut.contains(&format!("Cut to fit {max} characters:** left out")));
        assert!(cut.contains(", 0 change lines, "), "{cut}");
        assert!(cut.contains("- `- delete` `P/email/gone`"));
        assert!(cut.contains("Notes: 1 connection holds write-only values"));
        let tiny = render_capped(&plan, &context, 1500);
        assert!(tiny.chars().count() <= 1500);
        assert!(tiny.contains(" change lines, "), "{tiny}");
        assert!(tiny.starts_with("<!-- apinizer-gitops plan "));
    }

    #[test]
    fn the_marker_is_stable_for_the_same_inputs_and_differs_otherwise() {
        let origin = |selection: &[&str]| Origin {
            files: vec!["connections".into()],
            selection: selection.iter().map(|s| s.to_string()).collect(),
            environment: None,
        };
        let a = marker("plan", &origin(&["--project", "P"]));
        assert_eq!(a, marker("plan", &origin(&["--project", "P"])));
        assert!(a.starts_with("<!-- apinizer-gitops plan ") && a.ends_with(" -->"));
        assert_ne!(a, marker("plan", &origin(&["--project", "Q"])));
        assert_ne!(a, marker("drift", &origin(&["--project", "P"])));
        let mut with_environment = origin(&["--project", "P"]);
        with_environment.environment = Some("prod".into());
        assert_ne!(a, marker("plan", &with_environment));
    }

    #[test]
    fn the_header_names_server_version_and_selection_but_no_credential() {
        let mut context = Context::default();
        context.origin.selection = vec!["--project".into(), "Pay*".into()];
        let text = render(&every_action_plan(), &context);
        let second = text.lines().nth(1).unwrap();
        assert_eq!(second, "### apinizer-gitops plan");
        assert!(text.contains(&format!(
            "Server `http://s` · apinizer-gitops {} · selection `--project Pay*`",
            env!("CARGO_PKG_VERSION")
        )));
    }
}
