//! The order in which a plan's changes run, phase by phase ([`crate::plan::Action::phase`]).

use crate::plan::Change;

/// The changes grouped by phase, in phase order, each with its index in the plan. Empty
/// phases are left out; within a phase the plan's order is kept.
pub(super) fn in_order(changes: &[Change]) -> Vec<Vec<(usize, &Change)>> {
    let mut phases: Vec<Vec<(usize, &Change)>> = vec![Vec::new(); 4];
    for (index, change) in changes.iter().enumerate() {
        phases[change.action.phase()].push((index, change));
    }
    phases.retain(|p| !p.is_empty());
    phases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    fn change(name: &str, action: Action) -> Change {
        Change {
            project: "P".into(),
            kind: "email".into(),
            name: name.into(),
            action,
            current_name: None,
            current_kind: None,
            current_fields: None,
            desired: None,
            fields: Vec::new(),
            ignore_fields: Vec::new(),
            source: None,
            fingerprint: None,
            var_templates: Default::default(),
        }
    }

    #[test]
    fn phases_run_renames_then_writes_then_replaces_then_deletes() {
        let plan = vec![
            change("d", Action::Delete),
            change("c", Action::Create),
            change("x", Action::Replace),
            change("u", Action::Update),
            change("r", Action::Rename),
        ];
        let names: Vec<Vec<&str>> = in_order(&plan)
            .iter()
            .map(|p| p.iter().map(|(_, c)| c.name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["r"], vec!["c", "u"], vec!["x"], vec!["d"]]);
        assert_eq!(in_order(&plan)[0][0].0, 4, "plan index is kept");
    }

    #[test]
    fn empty_phases_are_left_out() {
        let plan = vec![change("d", Action::Delete)];
        assert_eq!(in_order(&plan).len(), 1);
        assert!(in_order(&[]).is_empty());
    }
}
