//! Renderers of a plan: text for terminals and logs, JSON for machines (documented by
//! `schemas/plan.schema.json`), markdown for pull-request comments.
//!
//! The summary lines are a public interface (pipelines grep them): keep them stable.

pub mod json;
pub mod markdown;
pub mod text;
mod view;
pub mod yaml;

use std::collections::BTreeMap;

use crate::plan::{Action, Change, Note, NoteKind, Plan};

pub use crate::diag::{counted, printable};

pub use view::{Side, connection_diff, current_side, desired_side};

/// Whether the report speaks of a plan or of drift.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Wording {
    /// `plan`: what apply would change.
    #[default]
    Plan,
    /// `drift`: how the server differs from the desired state.
    Drift,
}

impl Wording {
    /// The command that prints the report.
    pub fn command(self) -> &'static str {
        match self {
            Wording::Plan => "plan",
            Wording::Drift => "drift",
        }
    }
}

/// How a report is rendered, beyond the plan itself.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Plan or drift.
    pub wording: Wording,
    /// ANSI colour (text only).
    pub colour: bool,
    /// List every note instead of one summary line per kind (text, `-v`).
    pub verbose: bool,
    /// What the plan was made from (markdown header and sticky-comment marker).
    pub origin: Origin,
}

impl Context {
    /// A context for this wording, everything else off.
    pub fn new(wording: Wording) -> Self {
        Context {
            wording,
            ..Context::default()
        }
    }
}

/// The run's inputs a report names: never a credential.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The `-f` paths or globs as given.
    pub files: Vec<String>,
    /// The selection flags as given (`--project Pay*`), empty for everything.
    pub selection: Vec<String>,
    /// The environment the run is for, when there is one.
    pub environment: Option<String>,
}

/// `+ create`, `~ update`, `> rename`, `-/+ replace`, `- delete`.
pub fn action_symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+ create",
        Action::Update => "~ update",
        Action::Rename => "> rename",
        Action::Replace => "-/+ replace",
        Action::Delete => "- delete",
    }
}

/// The change's line after its symbol: `project/type/name`, with the old name of a rename
/// and the old type of a replace; [`printable`].
pub fn change_target(change: &Change) -> String {
    let mut text = change.address();
    match change.action {
        Action::Rename => {
            let old = change.current_name.as_deref().unwrap_or("?");
            text.push_str(&format!(" (from {old})"));
        }
        Action::Replace => {
            let old = change.current_kind.as_deref().unwrap_or("?");
            text.push_str(&format!(" (was {old})"));
        }
        _ => {}
    }
    let rotated = change.rotated_paths();
    if !rotated.is_empty() {
        text.push_str(&format!(" (rotate: re-sends {})", rotated.join(", ")));
    }
    printable(&text).into_owned()
}

/// What a replace does to the policies that use the connection; every format says it.
pub const REPLACE_WARNING: &str =
    "deleted and created again: policies that use it break in between";

/// The warning a text plan ends with when it deletes or replaces anything.
pub fn destructive_warning(plan: &Plan) -> Option<String> {
    let deletes = plan.count(Action::Delete);
    let replaces = plan.count(Action::Replace);
    if deletes + replaces == 0 {
        return None;
    }
    Some(format!(
        "Warning: this plan deletes {} and replaces {} (deleted and created again); Apinizer does not check which policies use a connection, so APIs that use them break.",
        counted(deletes, "connection", "connections"),
        counted(replaces, "connection", "connections"),
    ))
}

/// `Plan: N to create, ...` or `No changes. N connections match the desired state.`
pub fn summary_line(plan: &Plan) -> String {
    if !plan.has_changes() {
        return format!(
            "No changes. {} the desired state.",
            matching(plan.unchanged)
        );
    }
    format!(
        "Plan: {} to create, {} to update, {} to rename, {} to replace, {} to delete. {} unchanged, {} unmanaged.",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Rename),
        plan.count(Action::Replace),
        plan.count(Action::Delete),
        plan.unchanged,
        plan.unmanaged.len()
    )
}

/// `N connections match` / `1 connection matches`.
fn matching(n: usize) -> String {
    let verb = if n == 1 { "matches" } else { "match" };
    format!("{} {verb}", counted(n, "connection", "connections"))
}

/// The drift headline: `Drift detected: ...` or `In sync: ...`.
pub fn drift_line(plan: &Plan) -> String {
    let n = plan.changes.len();
    if plan.has_changes() {
        let verb = if n == 1 { "differs" } else { "differ" };
        format!(
            "Drift detected: {} {verb} from the desired state.",
            counted(n, "connection", "connections")
        )
    } else {
        format!("In sync: {} the desired state.", matching(plan.unchanged))
    }
}

/// The unmanaged connections ([`crate::plan::Unmanaged::text`]) under a heading, one
/// item each; empty when there are none.
pub fn unmanaged_block(plan: &Plan, heading: &str, item: impl Fn(&str) -> String) -> String {
    if plan.unmanaged.is_empty() {
        return String::new();
    }
    let mut out = heading.to_string();
    for u in &plan.unmanaged {
        out.push_str(&item(&u.text()));
    }
    out
}

/// `file:line` of a change's desired connection; [`printable`].
pub fn source_text(change: &Change) -> Option<String> {
    change
        .source
        .as_ref()
        .map(|s| printable(&format!("{}:{}", s.file.display(), s.line)).into_owned())
}

/// The notes of one kind, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSummary<'a> {
    /// What the notes say.
    pub kind: NoteKind,
    /// The variable they are about (notes of an unset variable are summed per variable).
    pub variable: Option<&'a str>,
    /// The notes, in plan order (sorted).
    pub notes: Vec<&'a Note>,
}

impl NoteSummary<'_> {
    /// `429 connections hold write-only values that cannot be compared (database 160,
    /// ldap 160, elasticsearch 109)`: types by count, most first.
    pub fn line(&self) -> String {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for note in &self.notes {
            *by_type.entry(note.connection_type.as_str()).or_default() += 1;
        }
        let mut types: Vec<(&str, usize)> = by_type.into_iter().collect();
        types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let types: Vec<String> = types.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let n = self.notes.len();
        let (one, many) = self.kind.summary_phrase();
        let line = format!(
            "{} {} ({})",
            counted(n, "connection", "connections"),
            if n == 1 { one } else { many },
            types.join(", ")
        );
        match self.kind.summary_lead(self.variable) {
            Some(lead) => format!("{lead}: {line}"),
            None => line,
        }
    }
}

/// The plan's notes grouped by kind, kinds in their declared order.
pub fn note_summaries(plan: &Plan) -> Vec<NoteSummary<'_>> {
    let mut by_kind: BTreeMap<(NoteKind, Option<&str>), Vec<&Note>> = BTreeMap::new();
    for note in &plan.notes {
        let key = (note.kind, note.variable.as_deref());
        by_kind.entry(key).or_default().push(note);
    }
    by_kind
        .into_iter()
        .map(|((kind, variable), notes)| NoteSummary {
            kind,
            variable,
            notes,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{conn, every_action_plan, plan_of, plan_of_one, project, wanted};
    use serde_json::json;

    /// Snapshots live with the integration tests' snapshots.
    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({snapshot_path => "../../tests/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, text);
        });
    }

    #[test]
    fn text_report_of_every_action() {
        let text = text::render(&every_action_plan(), &Context::default());
        assert!(!text.contains("canary"));
        assert!(!text.contains('\x1b'));
        snapshot("render_text_every_action", &text);
    }

    #[test]
    fn drift_report_leads_with_the_drift_line() {
        let text = text::render(&every_action_plan(), &Context::new(Wording::Drift));
        assert!(text.starts_with("Drift detected: 6 connections differ from the desired state.\n"));
        let in_sync = text::render(
            &Plan {
                unchanged: 2,
                ..Plan::default()
            },
            &Context::new(Wording::Drift),
        );
        assert!(in_sync.starts_with("In sync: 2 connections match the desired state.\n"));
        assert!(in_sync.contains("\nNo changes. 2 connections match the desired state.\n"));
    }

    #[test]
    fn colour_only_when_asked() {
        let context = Context {
            colour: true,
            ..Context::default()
        };
        let text = text::render(&every_action_plan(), &context);
        assert!(text.contains("\x1b[32m+ create P/email/fresh\x1b[0m"));
    }

    #[test]
    fn markdown_report_of_every_action() {
        let text = markdown::render(&every_action_plan(), &Context::default());
        assert!(!text.contains("canary"));
        snapshot("render_markdown_every_action", &text);
    }

    #[test]
    fn json_report_of_every_action_has_no_secret() {
        let text = json::render(&every_action_plan(), &Context::default());
        assert!(!text.contains("canary"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["summary"]["update"], 2);
        let mail = &v["changes"][3];
        assert_eq!(
            mail["fields"][0],
            serde_json::json!({"path": "/password", "sensitive": true, "before_present": true, "after_present": true})
        );
        assert_eq!(
            mail["source"],
            serde_json::json!({"file": "connections/p.yaml", "line": 7})
        );
    }

    #[test]
    fn json_changes_carry_whole_bodies_without_sensitive_values() {
        let text = json::render(&every_action_plan(), &Context::default());
        assert!(!text.contains("canary") && !text.contains("(sensitive"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let change = |name: &str| {
            v["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .unwrap()
                .clone()
        };
        let create = change("fresh");
        assert_eq!(create["before"], json!(null));
        assert_eq!(create["after"]["host"], "h");
        assert_eq!(
            create["after"]["port"], 587,
            "defaults filled in: as compared"
        );
        assert!(create["after"].get("password").is_none());
        assert_eq!(create["sensitive_paths"], json!(["/password"]));
        let delete = change("gone");
        assert_eq!(delete["after"], json!(null));
        assert_eq!(delete["before"]["name"], "gone");
        assert_eq!(delete["before"]["host"], "h");
        let update = change("mail");
        assert_eq!(update["before"]["username"], "u");
        assert_eq!(update["sensitive_paths"], json!(["/password"]));
        let kafka = change("changed");
        assert_eq!(kafka["before"]["topicName"], "old");
        assert_eq!(kafka["after"]["topicName"], "t");
        let replace = change("swap");
        assert_eq!(replace["before"]["type"], "email");
        assert_eq!(replace["after"]["type"], "syslog");
    }

    #[test]
    fn notes_are_one_line_per_kind_unless_verbose_and_sorted_data_in_json() {
        let plan = every_action_plan();
        let text = text::render(&plan, &Context::default());
        assert!(text.contains(
            "\nNote: 1 connection holds write-only values that cannot be compared (ftp 1); -v lists them\n"
        ));
        let verbose = Context {
            verbose: true,
            ..Context::default()
        };
        let text = text::render(&plan, &verbose);
        assert!(text.contains("\nNote: P/ftp/files: cannot compare /password (write-only: the server does not return the value)\n"));
        let v: serde_json::Value =
            serde_json::from_str(&json::render(&plan, &Context::default())).unwrap();
        assert_eq!(
            v["notes"],
            json!([{"kind": "write_only", "project": "P", "type": "ftp", "name": "files", "paths": ["/password"]}])
        );
    }

    #[test]
    fn each_change_line_appears_once_with_its_body_below() {
        let text = text::render(&every_action_plan(), &Context::default());
        for line in [
            "> rename P/email/new-name (from old-name)",
            "+ create P/email/fresh",
            "~ update P/kafka/changed",
            "~ update P/email/mail",
            "-/+ replace P/syslog/swap (was email)",
            "- delete P/email/gone",
        ] {
            assert_eq!(text.matches(line).count(), 1, "{line}\n{text}");
            let below = text.split(&format!("{line}\n")).nth(1).unwrap();
            // A replace says what it does to the policies first.
            let warning = format!("  warning: {REPLACE_WARNING}\n");
            let below = below.strip_prefix(&warning).unwrap_or(below);
            assert!(below.starts_with("--- current\n+++ desired\n@@"), "{line}");
        }
        assert_eq!(
            text.lines().filter(|l| l.starts_with("~ update")).count(),
            2
        );
    }

    #[test]
    fn multi_line_values_diff_as_block_scalars_line_by_line() {
        let plan = plan_of_one(
            "email",
            "m",
            json!({"host": "h", "description": "line one\nline two\nline three\n"}),
            json!({"host": "h", "description": "line one\nline 2\nline three\n"}),
        );
        let text = text::render(&plan, &Context::default());
        assert!(
            text.contains("description: |\n   line one\n-  line 2\n+  line two\n   line three\n"),
            "{text}"
        );
    }

    /// Desired holds a sensitive kafka entry, the server lost it; the server holds another
    /// that the file does not want.
    fn one_sided_sensitive_entries() -> Plan {
        let desired = wanted(
            "kafka",
            "events",
            json!({"topicName": "t", "enableSecure": false, "propertiesMap": {
                "sasl.jaas.config": {"value": "${env:JAAS}"}}}),
        );
        let current = conn(
            "kafka",
            "events",
            json!({"topicName": "t", "enableSecure": false, "propertiesMap": {
                "ssl.key.password": {"value": "canary-server-pw"}}}),
        );
        plan_of(project(false, vec![desired]), vec![current])
    }

    #[test]
    fn a_sensitive_entry_on_one_side_only_is_shown_only_on_that_side() {
        let text = text::render(&one_sided_sensitive_entries(), &Context::default());
        assert!(!text.contains("canary"), "{text}");
        let lines_with = |sign: char, key: &str| {
            text.lines()
                .filter(|l| l.starts_with(sign) && l.contains(key))
                .count()
        };
        assert_eq!(lines_with('-', "sasl.jaas.config"), 0, "{text}");
        assert_eq!(lines_with('+', "sasl.jaas.config"), 1, "{text}");
        assert_eq!(lines_with('-', "ssl.key.password"), 1, "{text}");
        assert_eq!(lines_with('+', "ssl.key.password"), 0, "{text}");
        let markdown = markdown::render(&one_sided_sensitive_entries(), &Context::default());
        assert!(
            !markdown
                .lines()
                .any(|l| l.starts_with('-') && l.contains("sasl.jaas.config")),
            "{markdown}"
        );
    }

    #[test]
    fn json_tells_which_side_holds_a_sensitive_entry_without_values() {
        let text = json::render(&one_sided_sensitive_entries(), &Context::default());
        assert!(!text.contains("canary"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["changes"][0]["fields"],
            json!([
                {"path": "/propertiesMap/sasl.jaas.config", "sensitive": true,
                 "before_present": false, "after_present": true},
                {"path": "/propertiesMap/ssl.key.password", "sensitive": true,
                 "before_present": true, "after_present": false}
            ])
        );
    }
}
