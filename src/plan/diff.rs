//! The diff engine: matches desired and current connections by (project, name ignoring
//! case) and plans create, update, rename, replace and delete, plus the unmanaged report.

use std::collections::{BTreeMap, HashMap};

use globset::GlobSet;
use serde_json::Value;

use super::normalise::{
    Comparison, compare_view, compare_view_leaving_out, fingerprint, normalise,
};
use super::selection::Selection;
use super::{
    Action, Change, FieldChange, Note, NoteKind, Plan, PlanError, SENSITIVE, Unmanaged,
    holds_reference, withheld_text,
};
use crate::catalog::catalog;
use crate::desired::{DesiredConnection, ProtectGlobs};
use crate::model::{
    Body, Connection, escape_pointer_token, pointer_get, sensitive_pointers, unsafe_name,
};
use crate::refs::ReferenceUse;

/// What the server holds: every selected project's connections of the selected types.
pub type CurrentState = BTreeMap<String, Vec<Connection>>;

/// A desired connection in the selection, with its resolved form (references replaced by
/// the environment's values; compared, never shown).
#[derive(Debug, Clone)]
pub struct SelectedConnection {
    /// The connection as written.
    pub desired: DesiredConnection,
    /// Its references resolved, as an overlay ([`crate::refs::resolve_overlay`]): the
    /// top-level fields resolving changed and every sensitive value; the rest is the
    /// template's. [`SelectedConnection::resolved_connection`] gives the whole.
    pub resolved: Connection,
    /// Sensitive values a preview left unresolved (their variables are unset): not
    /// compared, noted once per variable.
    pub uncompared: Vec<ReferenceUse>,
}

impl SelectedConnection {
    /// The pointers of the values a preview left unresolved.
    pub(crate) fn uncompared_pointers(&self) -> Vec<String> {
        self.uncompared.iter().map(|r| r.pointer.clone()).collect()
    }

    /// The whole resolved connection.
    pub fn resolved_connection(&self) -> Connection {
        crate::refs::overlay_onto(&self.resolved, &self.desired.template)
    }

    /// The comparable forms of this connection and its current counterpart.
    pub(crate) fn compare_with(&self, current: &Connection) -> Comparison {
        compare_view_leaving_out(
            &self.resolved,
            &self.desired.template.fields,
            current,
            &self.desired.ignore_fields,
            &self.uncompared_pointers(),
        )
    }
}

/// A desired project in the selection.
#[derive(Debug, Clone)]
pub struct SelectedProject {
    /// The project name.
    pub name: String,
    /// Delete current connections that are not desired.
    pub prune: bool,
    /// Connection-name globs never touched.
    pub ignore: Vec<String>,
    /// Connection-name globs never deleted or replaced.
    pub protect: ProtectGlobs,
    /// The selected desired connections, in file order.
    pub connections: Vec<SelectedConnection>,
}

/// How a desired connection found its current counterpart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Same name (ignoring case).
    Name,
    /// Its `renamedFrom` name; the new name does not exist yet.
    RenamedFrom,
}

/// The current connection each desired one corresponds to, by index into `current`.
/// Names win over `renamedFrom`: a rename only claims an old name no desired connection
/// holds, and each current connection is claimed once. Names are looked up in a map, so
/// matching a project costs one pass over each side.
pub(crate) fn match_connections(
    desired: &[SelectedConnection],
    current: &[Connection],
) -> Vec<Option<(usize, Match)>> {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::with_capacity(current.len());
    for (i, connection) in current.iter().enumerate() {
        let key = connection.name.to_ascii_lowercase();
        by_name.entry(key).or_default().push(i);
    }
    let mut taken = vec![false; current.len()];
    let mut claim = |name: &str| {
        let i = *by_name
            .get(&name.to_ascii_lowercase())?
            .iter()
            .find(|&&i| !taken[i])?;
        taken[i] = true;
        Some(i)
    };
    let mut matches: Vec<Option<(usize, Match)>> = desired
        .iter()
        .map(|d| claim(&d.desired.template.name).map(|i| (i, Match::Name)))
        .collect();
    for (d, slot) in desired.iter().zip(matches.iter_mut()) {
        let Some(old) = d.desired.renamed_from.as_deref().filter(|_| slot.is_none()) else {
            continue;
        };
        *slot = claim(old).map(|i| (i, Match::RenamedFrom));
    }
    matches
}

/// A project's desired connections matched to its current ones, each pair of the same
/// type compared once and settled (the reader uses what the comparison could not see to
/// choose its GETs; the diff keeps the rest).
pub(crate) struct Matched {
    /// The current connection of each desired one.
    pub matches: Vec<Option<(usize, Match)>>,
    /// What each desired connection matched to a current one of its type comes to.
    pub settled: Vec<Option<Settled>>,
}

impl Matched {
    /// Matches, compares and settles a project's connections.
    pub(crate) fn of(
        project: &SelectedProject,
        current: &[Connection],
        selection: &Selection,
    ) -> Matched {
        let matches = match_connections(&project.connections, current);
        let settled = project
            .connections
            .iter()
            .zip(&matches)
            .map(|(selected, found)| {
                let (i, how) = (*found)?;
                let current = &current[i];
                (current.kind == selected.resolved.kind)
                    .then(|| Settled::of(&project.name, selected, current, how, selection))
            })
            .collect();
        Matched { matches, settled }
    }
}

/// A desired connection compared with its current one of the same type: an update or a
/// rename, or unchanged, with its write-only note; the comparison itself is not kept.
pub(crate) struct Settled {
    /// Pointers the server did not return (write-only, or a GET may tell).
    pub unknown: Vec<String>,
    note: Option<Note>,
    /// Boxed: a plan holds one `Settled` per matched connection, most of them unchanged.
    change: Option<Box<Change>>,
}

impl Settled {
    /// Compares and settles one pair.
    pub(crate) fn of(
        project: &str,
        selected: &SelectedConnection,
        current: &Connection,
        how: Match,
        selection: &Selection,
    ) -> Settled {
        let view = selected.compare_with(current);
        let rotate = selection.rotates(&selected.desired.template.name);
        // An unresolved value has its own note ("not compared: ... is not set").
        let uncompared = selected.uncompared_pointers();
        let write_only: Vec<String> = view
            .unknown
            .iter()
            .filter(|p| !uncompared.contains(p))
            .cloned()
            .collect();
        let note =
            (!write_only.is_empty()).then(|| write_only_note(project, selected, &write_only));
        let mut fields = field_changes(selected, current, &view);
        if rotate {
            fields.extend(rotated_fields(selected, current, &view.unknown));
        }
        let action = match how {
            Match::RenamedFrom => Some(Action::Rename),
            Match::Name if fields.is_empty() => None,
            Match::Name => Some(Action::Update),
        };
        let change = action.map(|action| {
            Box::new(Change {
                fields,
                fingerprint: Some(fingerprint(current)),
                current_name: Some(current.name.clone()),
                ..change_for(project, selected, action)
            })
        });
        Settled {
            unknown: view.unknown,
            note,
            change,
        }
    }

    fn add_to(self, plan: &mut Plan) {
        plan.notes.extend(self.note);
        match self.change {
            Some(change) => plan.changes.push(*change),
            None => plan.unchanged += 1,
        }
    }
}

/// Plans every selected project against the current state.
pub fn diff(
    projects: &[SelectedProject],
    current: &CurrentState,
    selection: &Selection,
    server: &str,
) -> Result<Plan, PlanError> {
    let empty = Vec::new();
    let parts = projects
        .iter()
        .map(|project| {
            let currents = current.get(&project.name).unwrap_or(&empty);
            let matched = Matched::of(project, currents, selection);
            diff_project(project, currents, matched, selection)
        })
        .collect::<Result<Vec<Plan>, PlanError>>()?;
    assemble(projects, parts, selection, server)
}

/// The whole plan from each project's part: guarded against protected deletes and a
/// rotation that names nothing, with the notes and apply order it is shown in.
pub(crate) fn assemble(
    projects: &[SelectedProject],
    parts: Vec<Plan>,
    selection: &Selection,
    server: &str,
) -> Result<Plan, PlanError> {
    let mut plan = Plan {
        server: server.to_string(),
        ..Plan::default()
    };
    for part in parts {
        plan.changes.extend(part.changes);
        plan.unchanged += part.unchanged;
        plan.unmanaged.extend(part.unmanaged);
        plan.notes.extend(part.notes);
    }
    super::guard::refuse_protected(projects, &plan)?;
    let rotated: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| !c.rotated_paths().is_empty())
        .map(|c| c.name.as_str())
        .collect();
    selection.check_rotation(&rotated)?;
    plan.notes.extend(unset_variable_notes(projects));
    // Stable: file order holds within a phase.
    plan.changes.sort_by_key(|c| c.action.phase());
    plan.notes.sort();
    Ok(plan)
}

/// For every selected connection, one note per unset variable whose sensitive values a
/// preview left uncompared (renderers summarise them once per variable).
fn unset_variable_notes(projects: &[SelectedProject]) -> Vec<Note> {
    let mut notes = Vec::new();
    for project in projects {
        for selected in &project.connections {
            let mut by_variable: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for reference in &selected.uncompared {
                let paths = by_variable.entry(&reference.variable).or_default();
                paths.push(reference.pointer.clone());
            }
            let t = &selected.desired.template;
            notes.extend(by_variable.into_iter().map(|(variable, paths)| Note {
                kind: NoteKind::UnsetVariable,
                project: project.name.clone(),
                connection_type: t.kind.clone(),
                name: t.name.clone(),
                paths,
                variable: Some(variable.to_string()),
            }));
        }
    }
    notes
}

/// One project's part of the plan, from its matched and compared connections.
pub(crate) fn diff_project(
    project: &SelectedProject,
    currents: &[Connection],
    matched: Matched,
    selection: &Selection,
) -> Result<Plan, PlanError> {
    let mut plan = Plan::default();
    let mut claimed = vec![false; currents.len()];
    let pairs = project.connections.iter().zip(matched.matches);
    for ((selected, found), settled) in pairs.zip(matched.settled) {
        let Some((i, _)) = found else {
            plan.changes.push(create(&project.name, selected));
            continue;
        };
        claimed[i] = true;
        match settled {
            None => plan
                .changes
                .push(replace(&project.name, selected, &currents[i])),
            Some(settled) => settled.add_to(&mut plan),
        }
    }
    let ignore = ignore_globs(project)?;
    for (current, _) in currents.iter().zip(&claimed).filter(|(_, m)| !**m) {
        if !selection.name(&current.name) {
            continue;
        }
        let ignored = ignore
            .as_ref()
            .is_some_and(|set| set.is_match(&current.name));
        // A name that is no safe path segment (`..`, `a/b`) would address another
        // resource: it is reported, never deleted.
        let unaddressable = unsafe_name(&current.name);
        if project.prune && !ignored && unaddressable.is_none() {
            plan.changes.push(delete(&project.name, current));
        } else {
            plan.unmanaged.push(Unmanaged {
                project: project.name.clone(),
                kind: current.kind.clone(),
                name: current.name.clone(),
                unaddressable,
            });
        }
    }
    Ok(plan)
}

fn ignore_globs(project: &SelectedProject) -> Result<Option<GlobSet>, PlanError> {
    super::selection::glob_set("ignore", &project.ignore, true).map_err(|e| PlanError::Input {
        message: format!("project {}: {e}", project.name),
    })
}

/// `--rotate`: one change per value the server does not return, re-sent with the update
/// (sensitive ones without values).
fn rotated_fields(
    selected: &SelectedConnection,
    current: &Connection,
    unknown: &[String],
) -> Vec<FieldChange> {
    let template = &selected.desired.template;
    let sensitive = SensitivePaths::of(&[template, &selected.resolved, current]);
    let after = normalise(&template.kind, &template.fields);
    unknown
        .iter()
        .map(|path| {
            let sensitive = sensitive.covers(path);
            FieldChange {
                path: path.clone(),
                before: None,
                after: present(pointer_get(&after, path)).filter(|_| !sensitive),
                sensitive,
                before_present: false,
                after_present: true,
                before_withheld: false,
                rotated: true,
            }
        })
        .collect()
}

fn write_only_note(project: &str, selected: &SelectedConnection, unknown: &[String]) -> Note {
    let t = &selected.desired.template;
    Note {
        kind: NoteKind::WriteOnly,
        project: project.to_string(),
        connection_type: t.kind.clone(),
        name: t.name.clone(),
        paths: unknown.to_vec(),
        variable: None,
    }
}

/// Whether the server's connection already is the desired one by the plan's own
/// comparison (same type, same name, no differing field); apply uses it to confirm a
/// create that met "already exists".
pub fn in_sync(resolved: &Connection, current: &Connection, ignore_fields: &[String]) -> bool {
    if resolved.kind != current.kind || resolved.name != current.name {
        return false;
    }
    let view = compare_view(resolved, current, ignore_fields);
    differing_paths(&resolved.kind, &view.desired, &view.current).is_empty()
}

/// The field-level differences of two comparable forms, with values taken from forms
/// that hold no secret: before from the current fields, after from the template.
fn field_changes(
    selected: &SelectedConnection,
    current: &Connection,
    view: &Comparison,
) -> Vec<FieldChange> {
    let template = &selected.desired.template;
    let mut out = Vec::new();
    if template.name != current.name {
        out.push(FieldChange {
            path: "/name".to_string(),
            before: Some(Value::String(current.name.clone())),
            after: Some(Value::String(template.name.clone())),
            sensitive: false,
            before_present: true,
            after_present: true,
            before_withheld: false,
            rotated: false,
        });
    }
    let differing = differing_paths(&template.kind, &view.desired, &view.current);
    if differing.is_empty() {
        return out;
    }
    let before = normalise(&current.kind, &current.fields);
    let after = normalise(&template.kind, &template.fields);
    let sensitive = SensitivePaths::of(&[template, &selected.resolved, current]);
    for path in differing {
        // Presence comes from the comparable forms (secrets as markers), so a sensitive
        // entry held by one side only is told truthfully without its value.
        let before_present = present(pointer_get(&view.current, &path)).is_some();
        let after_present = present(pointer_get(&view.desired, &path)).is_some();
        let change = if sensitive.covers(&path) {
            FieldChange {
                path,
                before: None,
                after: None,
                sensitive: true,
                before_present,
                after_present,
                before_withheld: false,
                rotated: false,
            }
        } else {
            let desired = present(pointer_get(&after, &path));
            let current = present(pointer_get(&before, &path));
            // The server's value where the template writes a reference is likely an
            // earlier value of that (often secret) variable: never shown.
            let before_withheld =
                current.is_some() && desired.as_ref().is_some_and(holds_reference);
            FieldChange {
                before: current.filter(|_| !before_withheld),
                after: desired,
                path,
                sensitive: false,
                before_present,
                after_present,
                before_withheld,
                rotated: false,
            }
        };
        out.push(change);
    }
    out
}

fn present(value: Option<&Value>) -> Option<Value> {
    value.filter(|v| !v.is_null()).cloned()
}

/// JSON Pointers of every sensitive value (secret fields of the type, sensitive entries on
/// any side).
struct SensitivePaths(Vec<String>);

impl SensitivePaths {
    fn of(connections: &[&Connection]) -> Self {
        let kind = &connections[0].kind;
        let mut paths: Vec<String> = catalog()
            .all_fields(kind)
            .filter(|(_, spec)| spec.secret)
            .map(|(name, _)| format!("/{}", escape_pointer_token(name)))
            .collect();
        for c in connections {
            paths.extend(sensitive_pointers(&c.kind, &c.fields));
            paths.extend(c.secrets.iter().map(|(p, _)| p.clone()));
        }
        SensitivePaths(paths)
    }

    /// Whether a change at `path` would show a sensitive value (the path is one, holds
    /// one, or lies inside one).
    fn covers(&self, path: &str) -> bool {
        self.0.iter().any(|s| {
            s == path || s.starts_with(&format!("{path}/")) || path.starts_with(&format!("{s}/"))
        })
    }
}

/// Pointers where two comparable forms differ: nested objects, maps and lists recurse
/// (lists of equal length item by item), set-like lists compare whole.
fn differing_paths(kind: &str, desired: &Body, current: &Body) -> Vec<String> {
    let mut out = Vec::new();
    for (name, d) in desired {
        let c = current.get(name).unwrap_or(&Value::Null);
        if d == c {
            // The common case: equal fields build no path.
            continue;
        }
        let path = format!("/{}", escape_pointer_token(name));
        let is_set = catalog().field(kind, name).is_some_and(|s| s.set);
        if is_set {
            if d != c {
                out.push(path);
            }
        } else {
            collect_differences(d, c, path, &mut out);
        }
    }
    out
}

fn collect_differences(d: &Value, c: &Value, path: String, out: &mut Vec<String>) {
    if d == c {
        return;
    }
    match (d, c) {
        (Value::Object(dm), Value::Object(cm)) => {
            let extra = cm.keys().filter(|k| !dm.contains_key(*k));
            for key in dm.keys().chain(extra) {
                let dv = dm.get(key).unwrap_or(&Value::Null);
                let cv = cm.get(key).unwrap_or(&Value::Null);
                collect_differences(dv, cv, format!("{path}/{}", escape_pointer_token(key)), out);
            }
        }
        (Value::Array(da), Value::Array(ca)) if da.len() == ca.len() => {
            for (i, (dv, cv)) in da.iter().zip(ca).enumerate() {
                collect_differences(dv, cv, format!("{path}/{i}"), out);
            }
        }
        _ if d != c => out.push(path),
        _ => {}
    }
}

fn change_for(project: &str, selected: &SelectedConnection, action: Action) -> Change {
    let template = &selected.desired.template;
    Change {
        project: project.to_string(),
        kind: template.kind.clone(),
        name: template.name.clone(),
        action,
        current_name: None,
        current_kind: None,
        current_fields: None,
        desired: Some(template.clone()),
        fields: Vec::new(),
        ignore_fields: selected.desired.ignore_fields.clone(),
        source: Some(selected.desired.source.clone()),
        fingerprint: None,
        var_templates: selected.desired.var_templates.clone(),
    }
}

fn create(project: &str, selected: &SelectedConnection) -> Change {
    change_for(project, selected, Action::Create)
}

fn replace(project: &str, selected: &SelectedConnection, current: &Connection) -> Change {
    let mut current_fields = shown_fields(current);
    withhold_referenced_fields(&mut current_fields, &selected.desired.template);
    Change {
        current_name: Some(current.name.clone()),
        current_kind: Some(current.kind.clone()),
        current_fields: Some(current_fields),
        fingerprint: Some(fingerprint(current)),
        ..change_for(project, selected, Action::Replace)
    }
}

fn delete(project: &str, current: &Connection) -> Change {
    Change {
        project: project.to_string(),
        kind: current.kind.clone(),
        name: current.name.clone(),
        action: Action::Delete,
        current_name: Some(current.name.clone()),
        current_kind: Some(current.kind.clone()),
        current_fields: Some(shown_fields(current)),
        desired: None,
        fields: Vec::new(),
        ignore_fields: Vec::new(),
        source: None,
        fingerprint: Some(fingerprint(current)),
        var_templates: Default::default(),
    }
}

/// In a replaced connection's shown fields, each field the template writes with a
/// reference (same field name) reads as withheld: the old value may be an earlier value
/// of that variable.
fn withhold_referenced_fields(fields: &mut Body, template: &Connection) {
    for (name, desired) in &template.fields {
        if let Some(slot) = fields.get_mut(name).filter(|v| !v.is_null())
            && holds_reference(desired)
        {
            *slot = Value::String(withheld_text(desired));
        }
    }
}

/// A current connection's fields as they may be shown: each secret it holds reads
/// `(sensitive)`.
fn shown_fields(current: &Connection) -> Body {
    let mut fields = current.fields.clone();
    for (pointer, _) in current.secrets.iter() {
        if let Some(slot) = crate::model::pointer_mut(&mut fields, pointer) {
            *slot = Value::String(SENSITIVE.to_string());
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::*;
    use serde_json::json;

    fn actions(plan: &Plan) -> Vec<(Action, &str)> {
        plan.changes
            .iter()
            .map(|c| (c.action, c.name.as_str()))
            .collect()
    }

    #[test]
    fn matching_ignores_case_and_equal_connections_are_unchanged() {
        let plan = plan_of(
            project(false, vec![wanted("email", "Mail", json!({"host": "h"}))]),
            vec![conn(
                "email",
                "Mail",
                json!({"host": "h", "port": 587, "id": "x"}),
            )],
        );
        assert!(plan.changes.is_empty());
        assert_eq!(plan.unchanged, 1);
    }

    #[test]
    fn one_changed_field_is_one_update_naming_its_path() {
        let plan = plan_of(
            project(
                false,
                vec![wanted(
                    "elasticsearch",
                    "es",
                    json!({"elasticHostList": [{"host": "e"}]}),
                )],
            ),
            vec![conn(
                "elasticsearch",
                "es",
                json!({"elasticHostList": [{"host": "e", "port": 9300}]}),
            )],
        );
        assert_eq!(actions(&plan), vec![(Action::Update, "es")]);
        let f = &plan.changes[0].fields;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, "/elasticHostList/0/port");
        assert_eq!(
            (f[0].before.clone(), f[0].after.clone()),
            (Some(json!(9300)), Some(json!(9200)))
        );
        assert!(plan.changes[0].fingerprint.is_some());
    }

    #[test]
    fn a_current_value_where_the_template_writes_a_reference_is_withheld() {
        let plan = plan_of(
            project(
                false,
                vec![
                    wanted(
                        "email",
                        "m",
                        json!({"host": "smtp.${env:DOMAIN}", "port": 25}),
                    ),
                    wanted(
                        "elasticsearch",
                        "es",
                        json!({"elasticHostList": [{"host": "${env:ES}"}]}),
                    ),
                ],
            ),
            vec![
                conn("email", "m", json!({"host": "smtp.old", "port": 587})),
                conn(
                    "elasticsearch",
                    "es",
                    json!({"elasticHostList": [{"host": "a"}, {"host": "b"}]}),
                ),
            ],
        );
        let fields: Vec<(&str, Option<&Value>, bool)> = plan
            .changes
            .iter()
            .flat_map(|c| &c.fields)
            .map(|f| (f.path.as_str(), f.before.as_ref(), f.before_withheld))
            .collect();
        assert!(fields.contains(&("/host", None, true)), "{fields:?}");
        assert!(
            fields.contains(&("/port", Some(&json!(587)), false)),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("/elasticHostList", None, true)),
            "{fields:?}"
        );
    }

    #[test]
    fn a_replaced_connection_withholds_fields_the_template_writes_with_references() {
        let plan = plan_of(
            project(
                false,
                vec![wanted("email", "x", json!({"host": "${env:H}"}))],
            ),
            vec![conn(
                "ftp",
                "x",
                json!({"host": "old-host", "port": 21, "protocol": "FTP"}),
            )],
        );
        let shown = plan.changes[0].current_fields.as_ref().unwrap();
        assert_eq!(
            shown["host"],
            "(withheld: desired value comes from ${env:H})"
        );
        assert_eq!(shown["port"], 21);
    }

    #[test]
    fn every_action_in_apply_order() {
        let plan = every_action_plan();
        assert_eq!(
            actions(&plan),
            vec![
                (Action::Rename, "new-name"),
                (Action::Create, "fresh"),
                (Action::Update, "changed"),
                (Action::Update, "mail"),
                (Action::Replace, "swap"),
                (Action::Delete, "gone"),
            ]
        );
        let rename = &plan.changes[0];
        assert_eq!(rename.current_name.as_deref(), Some("old-name"));
        assert_eq!(rename.fields[0].path, "/name");
        assert_eq!(plan.changes[4].current_kind.as_deref(), Some("email"));
        assert_eq!(plan.unmanaged.len(), 1);
        assert_eq!(plan.unmanaged[0].name, "legacy-1");
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.notes.len(), 1);
    }

    #[test]
    fn a_name_wins_over_another_connections_renamed_from() {
        let mut renamed = wanted("email", "a", json!({"host": "h"}));
        renamed.desired.renamed_from = Some("x".into());
        let plan = plan_of(
            project(
                false,
                vec![renamed, wanted("email", "x", json!({"host": "h"}))],
            ),
            vec![conn("email", "x", json!({"host": "h"}))],
        );
        assert_eq!(actions(&plan), vec![(Action::Create, "a")]);
        assert_eq!(plan.unchanged, 1);
    }

    #[test]
    fn without_prune_extra_connections_are_unmanaged() {
        let plan = plan_of(
            project(false, vec![]),
            vec![conn("email", "x", json!({"host": "h"}))],
        );
        assert!(plan.changes.is_empty());
        assert_eq!(plan.unmanaged[0].name, "x");
    }

    #[test]
    fn rename_is_only_planned_when_the_new_name_does_not_exist() {
        let mut renamed = wanted("email", "new", json!({"host": "h"}));
        renamed.desired.renamed_from = Some("old".into());
        let plan = plan_of(
            project(false, vec![renamed]),
            vec![
                conn("email", "new", json!({"host": "h"})),
                conn("email", "old", json!({"host": "h"})),
            ],
        );
        assert!(plan.changes.is_empty());
        assert_eq!(plan.unmanaged[0].name, "old");
    }

    #[test]
    fn a_changed_readable_secret_is_a_sensitive_change_without_values() {
        let plan = plan_of_one(
            "email",
            "m",
            json!({"host": "h", "password": "canary-new"}),
            json!({"host": "h", "password": "canary-old"}),
        );
        let change = &plan.changes[0];
        assert_eq!(change.fields.len(), 1);
        let f = &change.fields[0];
        assert_eq!(
            (f.path.as_str(), f.sensitive, &f.before, &f.after),
            ("/password", true, &None, &None)
        );
        assert!(!format!("{:?}", plan.changes).contains("canary"));
    }

    /// A selected email connection whose password variable is unset, as a preview
    /// resolves it.
    fn previewed(name: &str) -> SelectedConnection {
        let body = json!({"host": "h", "auth": true, "username": "u", "password": "${env:PW}"});
        let mut selected = wanted("email", name, body);
        let env = crate::refs::MapEnv::default();
        let (resolved, uncompared) =
            crate::refs::resolve_for_preview(&selected.desired.template, &env).unwrap();
        selected.resolved = resolved;
        selected.uncompared = uncompared;
        selected
    }

    #[test]
    fn an_unresolved_secret_is_not_compared_and_noted_once_per_variable() {
        let current = |name: &str| {
            conn(
                "email",
                name,
                json!({"host": "h", "auth": true, "username": "u", "password": "canary-pw"}),
            )
        };
        let plan = plan_of(
            project(false, vec![previewed("a"), previewed("b")]),
            vec![current("a"), current("b")],
        );
        assert!(plan.changes.is_empty(), "{:?}", plan.changes);
        assert_eq!(plan.unchanged, 2);
        let texts: Vec<String> = plan.notes.iter().map(Note::text).collect();
        assert_eq!(
            texts,
            [
                "P/email/a: not compared: ${env:PW} is not set; apply needs it (/password)",
                "P/email/b: not compared: ${env:PW} is not set; apply needs it (/password)"
            ]
        );
        let moved = conn(
            "email",
            "a",
            json!({"host": "other", "auth": true, "username": "u"}),
        );
        let plan = plan_of(project(false, vec![previewed("a")]), vec![moved]);
        let paths: Vec<&str> = plan.changes[0]
            .fields
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(paths, ["/host"]);
    }

    #[test]
    fn write_only_fields_are_noted_once_and_not_drift() {
        let plan = plan_of(
            project(
                false,
                vec![wanted(
                    "ftp",
                    "f",
                    json!({"host": "h", "password": "pw", "protocol": "FTP"}),
                )],
            ),
            vec![conn(
                "ftp",
                "f",
                json!({"host": "h", "password": null, "protocol": "FTP"}),
            )],
        );
        assert!(plan.changes.is_empty());
        assert_eq!(plan.notes.len(), 1);
        assert!(
            plan.notes[0]
                .text()
                .contains("P/ftp/f: cannot compare /password")
        );
    }

    #[test]
    fn sensitive_entries_are_marked_and_plain_entries_show_values() {
        let body = |jaas: &str, servers: &str| {
            json!({"topicName": "t", "propertiesMap": {
                "bootstrap.servers": {"value": servers}, "sasl.jaas.config": {"value": jaas}}})
        };
        let plan = plan_of(
            project(false, vec![wanted("kafka", "k", body("canary-a", "b:1"))]),
            vec![conn("kafka", "k", body("canary-b", "b:2"))],
        );
        let fields = &plan.changes[0].fields;
        assert_eq!(fields[0].path, "/propertiesMap/bootstrap.servers/value");
        assert_eq!(fields[0].after, Some(json!("b:1")));
        assert_eq!(fields[1].path, "/propertiesMap/sasl.jaas.config/value");
        assert!(fields[1].sensitive && fields[1].before.is_none());
    }

    #[test]
    fn ignore_fields_hide_differences() {
        let mut w = wanted("email", "m", json!({"host": "a"}));
        w.desired.ignore_fields = vec!["/host".into()];
        let plan = plan_of(
            project(false, vec![w]),
            vec![conn("email", "m", json!({"host": "b"}))],
        );
        assert!(plan.changes.is_empty());
    }

    #[test]
    fn set_changes_name_the_whole_list() {
        let plan = plan_of(
            project(
                false,
                vec![wanted(
                    "kafka",
                    "k",
                    json!({"topicName": "t", "protocolTypes": ["TLS_1_3"]}),
                )],
            ),
            vec![conn(
                "kafka",
                "k",
                json!({"topicName": "t", "protocolTypes": ["TLS_1_2"]}),
            )],
        );
        assert_eq!(plan.changes[0].fields[0].path, "/protocolTypes");
    }

    #[test]
    fn a_bad_ignore_glob_is_an_error_naming_the_project() {
        let mut p = project(true, vec![]);
        p.ignore = vec!["a[".into()];
        let state = CurrentState::from([("P".to_string(), vec![conn("email", "x", json!({}))])]);
        let err = diff(&[p], &state, &Selection::default(), "s").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("project P: invalid ignore `a[`"),
            "{err}"
        );
    }
}
