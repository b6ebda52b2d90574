//! Renderers of a plan: text for terminals and logs, JSON for machines (documented by
//! `schemas/plan.schema.json`), markdown for pull-request comments.
//!
//! The summary lines are a public interface (pipelines grep them): keep them stable.

pub mod json;
pub mod markdown;
pub mod text;
mod view;
pub mod yaml;

use crate::plan::{Action, Change, Plan};

pub use crate::diag::printable;

pub use view::connection_diff;

/// Whether the report speaks of a plan or of drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// `plan`: what apply would change.
    Plan,
    /// `drift`: how the server differs from the desired state.
    Drift,
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
    printable(&text).into_owned()
}

/// `Plan: N to create, ...` or `No changes. N connections match the desired state.`
pub fn summary_line(plan: &Plan) -> String {
    if !plan.has_changes() {
        return format!(
            "No changes. {} connections match the desired state.",
            plan.unchanged
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

/// The drift headline: `Drift detected: ...` or `In sync: ...`.
pub fn drift_line(plan: &Plan) -> String {
    if plan.has_changes() {
        format!(
            "Drift detected: {} connections differ from the desired state.",
            plan.changes.len()
        )
    } else {
        format!(
            "In sync: {} connections match the desired state.",
            plan.unchanged
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{conn, every_action_plan, plan_of, project, wanted};
    use serde_json::json;

    /// Snapshots live with the integration tests' snapshots.
    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({snapshot_path => "../../tests/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, text);
        });
    }

    #[test]
    fn text_report_of_every_action() {
        let text = text::render(&every_action_plan(), Wording::Plan, false);
        assert!(!text.contains("canary"));
        assert!(!text.contains('\x1b'));
        snapshot("render_text_every_action", &text);
    }

    #[test]
    fn drift_report_leads_with_the_drift_line() {
        let text = text::render(&every_action_plan(), Wording::Drift, false);
        assert!(text.starts_with("Drift detected: 6 connections differ from the desired state.\n"));
        let in_sync = text::render(
            &Plan {
                unchanged: 2,
                ..Plan::default()
            },
            Wording::Drift,
            false,
        );
        assert!(in_sync.starts_with("In sync: 2 connections match the desired state.\n"));
        assert!(in_sync.contains("\nNo changes. 2 connections match the desired state.\n"));
    }

    #[test]
    fn colour_only_when_asked() {
        let text = text::render(&every_action_plan(), Wording::Plan, true);
        assert!(text.contains("\x1b[32m+ create P/email/fresh\x1b[0m"));
    }

    #[test]
    fn markdown_report_of_every_action() {
        let text = markdown::render(&every_action_plan(), Wording::Plan);
        assert!(!text.contains("canary"));
        snapshot("render_markdown_every_action", &text);
    }

    #[test]
    fn json_report_of_every_action_has_no_secret() {
        let text = json::render(&every_action_plan(), Wording::Plan);
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
        let text = text::render(&one_sided_sensitive_entries(), Wording::Plan, false);
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
        let markdown = markdown::render(&one_sided_sensitive_entries(), Wording::Plan);
        assert!(
            !markdown
                .lines()
                .any(|l| l.starts_with('-') && l.contains("sasl.jaas.config")),
            "{markdown}"
        );
    }

    #[test]
    fn json_tells_which_side_holds_a_sensitive_entry_without_values() {
        let text = json::render(&one_sided_sensitive_entries(), Wording::Plan);
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
