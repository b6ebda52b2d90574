//! Guardrails against destructive changes (DESIGN.md 4.3): a plan that deletes or replaces
//! a protected connection is refused, and so is one with more deletes plus replaces than
//! `--max-deletes` allows. Both name every change they refuse.

use super::diff::SelectedProject;
use super::{Action, Change, Plan, PlanError};
use crate::diag::printable;

/// Refuses the plan when it deletes or replaces a connection that a project's `protect`
/// glob or the connection's own `protect: true` protects, naming each one and what
/// protects it.
pub(crate) fn refuse_protected(projects: &[SelectedProject], plan: &Plan) -> Result<(), PlanError> {
    let refused: Vec<String> = projects
        .iter()
        .flat_map(|project| {
            plan.changes
                .iter()
                .filter(|c| c.project == project.name)
                .filter_map(|change| {
                    let reason = protection(project, change)?;
                    let line = format!("{}: protected by {reason}", described(change));
                    Some(format!("  {}", printable(&line)))
                })
        })
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Protected(refused))
    }
}

/// What protects the connection a delete or replace would remove; `None` for other
/// actions and unprotected connections.
fn protection(project: &SelectedProject, change: &Change) -> Option<String> {
    if !destroys(change.action) {
        return None;
    }
    let names = std::iter::once(change.name.as_str()).chain(change.current_name.as_deref());
    if let Some(glob) = names
        .into_iter()
        .find_map(|name| project.protect.matching(name))
    {
        let place = project
            .protect
            .source
            .as_ref()
            .map(|at| format!(" (`protect` of project {} at {at})", project.name))
            .unwrap_or_default();
        return Some(format!("`{glob}`{place}"));
    }
    let desired = project
        .connections
        .iter()
        .find(|c| change.action == Action::Replace && c.desired.template.name == change.name)?;
    let at = desired.desired.protect.as_ref()?;
    Some(format!("`protect: true` at {at}"))
}

/// Refuses the plan when its deletes plus replaces exceed `max`, listing them.
pub fn check_delete_budget(plan: &Plan, max: Option<usize>) -> Result<(), PlanError> {
    let Some(max) = max else {
        return Ok(());
    };
    let destructive: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| destroys(c.action))
        .map(|c| format!("  {}", printable(&described(c))))
        .collect();
    if destructive.len() <= max {
        return Ok(());
    }
    Err(PlanError::OverDeleteBudget {
        max,
        changes: destructive,
    })
}

/// Whether the action removes the connection the server holds (a replace deletes it
/// before creating the new one).
fn destroys(action: Action) -> bool {
    matches!(action, Action::Delete | Action::Replace)
}

/// `delete P/type/name` or `replace P/type/name (was oldtype)`: only deletes and
/// replaces are ever described.
fn described(change: &Change) -> String {
    match &change.current_kind {
        Some(old) if change.action == Action::Replace => {
            format!("replace {} (was {old})", change.address())
        }
        _ => format!("delete {}", change.address()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{ProtectGlobs, SourceRef};
    use crate::plan::CurrentState;
    use crate::plan::fixtures::{conn, project, wanted};
    use crate::plan::{Selection, diff};
    use serde_json::json;

    fn at(line: u64) -> SourceRef {
        SourceRef {
            file: "connections/p.yaml".into(),
            line,
            column: 3,
        }
    }

    fn diff_of(
        project: SelectedProject,
        current: Vec<crate::model::Connection>,
    ) -> Result<Plan, PlanError> {
        let state = CurrentState::from([("P".to_string(), current)]);
        diff(&[project], &state, &Selection::default(), "http://s")
    }

    #[test]
    fn deleting_or_replacing_a_protected_connection_is_refused_naming_what_protects_it() {
        let mut swapped = wanted("email", "swap", json!({"host": "h"}));
        swapped.desired.protect = Some(at(9));
        let mut p = project(
            true,
            vec![swapped, wanted("email", "kept", json!({"host": "h"}))],
        );
        p.protect = ProtectGlobs {
            globs: vec!["LEDGER-*".into()],
            source: Some(at(2)),
        };
        let current = vec![
            conn("graylog", "swap", json!({"hostname": "h"})),
            conn("email", "kept", json!({"host": "old"})),
            conn("email", "ledger-core", json!({"host": "h"})),
            conn("email", "other", json!({"host": "h"})),
        ];
        let err = diff_of(p, current).unwrap_err().to_string();
        assert!(err.contains("  replace P/email/swap (was graylog): protected by `protect: true` at connections/p.yaml:9\n"), "{err}");
        assert!(err.contains("  delete P/email/ledger-core: protected by `LEDGER-*` (`protect` of project P at connections/p.yaml:2)\n"), "{err}");
        assert!(!err.contains("other") && !err.contains("kept"), "{err}");
    }

    #[test]
    fn updates_and_renames_of_protected_connections_are_allowed() {
        let mut renamed = wanted("email", "ledger-new", json!({"host": "h"}));
        renamed.desired.renamed_from = Some("ledger-old".into());
        renamed.desired.protect = Some(at(9));
        let mut p = project(
            true,
            vec![renamed, wanted("email", "ledger-x", json!({"host": "h"}))],
        );
        p.protect.globs = vec!["ledger-*".into()];
        let current = vec![
            conn("email", "ledger-old", json!({"host": "old"})),
            conn("email", "ledger-x", json!({"host": "old"})),
        ];
        let plan = diff_of(p, current).unwrap();
        assert_eq!(plan.changes.len(), 2);
    }

    #[test]
    fn the_delete_budget_counts_deletes_and_replaces() {
        let p = project(true, vec![wanted("email", "swap", json!({"host": "h"}))]);
        let current = vec![
            conn("graylog", "swap", json!({"hostname": "h"})),
            conn("email", "gone", json!({"host": "h"})),
        ];
        let plan = diff_of(p, current).unwrap();
        assert!(check_delete_budget(&plan, None).is_ok());
        assert!(check_delete_budget(&plan, Some(2)).is_ok());
        let err = check_delete_budget(&plan, Some(1)).unwrap_err().to_string();
        assert_eq!(
            err,
            "the plan deletes or replaces 2 connections, more than --max-deletes 1 allows:\n  replace P/email/swap (was graylog)\n  delete P/email/gone\nnothing was written; raise --max-deletes if you mean it"
        );
    }
}
