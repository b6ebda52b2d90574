//! Saved plans (`plan --out FILE`, `apply FILE`): the changes, the desired bodies with
//! references (never values), a fingerprint of every touched connection's current state,
//! the server URL and the tool version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::normalise::fingerprint;
use super::{Action, Change, FieldChange, Note, Plan, PlanError, Unmanaged};
use crate::desired::SourceRef;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::catalog::catalog;
use crate::model::{Body, Connection, pointer_set, pointer_tokens};
use crate::refs::references_in;
use crate::values::Values;

/// The version of the saved-plan format this build reads and writes.
pub const SAVED_PLAN_FORMAT_VERSION: u32 = 1;

/// A plan file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    /// The file format's version.
    pub format_version: u32,
    /// The version of the tool that wrote it.
    pub tool_version: String,
    /// The server the plan was made against.
    pub server: String,
    /// Changes in apply order.
    pub changes: Vec<SavedChange>,
    /// Connections that matched.
    pub unchanged: usize,
    /// Connections neither desired nor pruned.
    pub unmanaged: Vec<Unmanaged>,
    /// Notes (write-only fields).
    pub notes: Vec<Note>,
    /// The values `${var:...}` took and their environment (in git, not secret): the
    /// desired bodies hold them already, so `apply FILE` needs no values file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Values>,
}

/// One change as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedChange {
    /// Project name.
    pub project: String,
    /// Connection type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection name.
    pub name: String,
    /// What to do.
    pub action: Action,
    /// The name on the server now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_name: Option<String>,
    /// The type on the server now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_type: Option<String>,
    /// The current fields for display (secrets read `(sensitive)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_fields: Option<Body>,
    /// The desired body as written: references, never values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Body>,
    /// Field-level differences.
    pub fields: Vec<FieldChange>,
    /// Pointers left out of the comparison.
    #[serde(default)]
    pub ignore_fields: Vec<String>,
    /// Where the desired connection is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SavedSource>,
    /// Digest of the current state's canonical non-secret fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Fields written with `${var:...}`, as written, by JSON Pointer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub var_templates: BTreeMap<String, String>,
}

/// A place in a desired-state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedSource {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl SavedPlan {
    /// The saved form of a plan. Refuses when a desired connection holds a literal
    /// sensitive value (a secret field allowed by `--allow-literal-secrets`, or a
    /// sensitive entry, only warned about), naming every one: a plan file never holds a
    /// secret value.
    pub fn from_plan(plan: &Plan) -> Result<SavedPlan, PlanError> {
        let literals: Vec<String> = plan.changes.iter().flat_map(literal_secrets).collect();
        if !literals.is_empty() {
            return Err(saved_error(format!(
                "cannot save the plan: a plan file never stores secret values, and these are literals: {}; write them as ${{env:NAME}}",
                literals.join("; ")
            )));
        }
        let changes = plan.changes.iter().map(saved_change).collect();
        Ok(SavedPlan {
            format_version: SAVED_PLAN_FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            server: plan.server.clone(),
            changes,
            unchanged: plan.unchanged,
            unmanaged: plan.unmanaged.clone(),
            notes: plan.notes.clone(),
            values: plan.values.clone(),
        })
    }

    /// Writes the file (whole or not at all).
    pub fn write(&self, path: &Path) -> Result<(), PlanError> {
        let text = serde_json::to_string_pretty(self).expect("a saved plan serialises");
        // The current fields and names are server text: no secret of the run in them.
        let text = crate::redact::scrub(&text);
        crate::whole_file::write(path, &format!("{text}\n"))
            .map_err(|e| saved_error(format!("cannot write plan file {}: {e}", path.display())))?;
        Ok(())
    }

    /// Reads a plan file and checks its format version.
    pub fn load(path: &Path) -> Result<SavedPlan, PlanError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| saved_error(format!("cannot read plan file {}: {e}", path.display())))?;
        let version: Option<u64> = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("format_version")?.as_u64());
        match version {
            Some(v) if v == u64::from(SAVED_PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(saved_error(format!(
                    "plan file {} has format version {v}; this apinizer-gitops {} reads version {SAVED_PLAN_FORMAT_VERSION}: make the plan again with this version",
                    path.display(),
                    env!("CARGO_PKG_VERSION")
                )));
            }
            None => {
                return Err(saved_error(format!(
                    "{} is not a plan file written by `apinizer-gitops plan --out` (no format_version)",
                    path.display()
                )));
            }
        }
        let plan: SavedPlan = serde_json::from_str(&text)
            .map_err(|e| saved_error(format!("plan file {} is damaged: {e}", path.display())))?;
        plan.check_names(path)?;
        Ok(plan)
    }

    /// Refuses an (edited) plan that names a project or connection that is no safe path
    /// segment (DESIGN.md 1): such a name is never written or deleted.
    fn check_names(&self, path: &Path) -> Result<(), PlanError> {
        let values = self.values.as_ref();
        let environment = values.and_then(|v| v.environment.as_deref());
        let bad_names = values.is_some_and(|v| {
            v.values.iter().any(|(n, value)| {
                !crate::refs::is_variable_name(n) || value.is_object() || value.is_array()
            })
        });
        if environment.is_some_and(|e| !crate::values::is_environment_name(e)) || bad_names {
            return Err(saved_error(format!(
                "plan file {} holds an environment or values that no values file can hold: make the plan again",
                path.display()
            )));
        }
        for change in &self.changes {
            let names = [
                Some(&change.project),
                Some(&change.name),
                change.current_name.as_ref(),
            ];
            for name in names.into_iter().flatten() {
                if let Some(why) = crate::model::unsafe_name(name) {
                    return Err(saved_error(format!(
                        "plan file {} names `{}`, which {why}: a name that is no safe path segment is never written or deleted",
                        path.display(),
                        crate::diag::printable(name)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Refuses to use the plan against another server than the one it was made for.
    pub fn check_server(&self, server: &str) -> Result<(), PlanError> {
        if same_server(&self.server, server) {
            return Ok(());
        }
        Err(saved_error(format!(
            "the plan was made for {} but the server is {server}; make a new plan for this server",
            self.server.escape_debug()
        )))
    }

    /// The plan the apply engine executes.
    pub fn into_plan(self) -> Plan {
        Plan {
            server: self.server,
            changes: self.changes.into_iter().map(into_change).collect(),
            unchanged: self.unchanged,
            unmanaged: self.unmanaged,
            notes: self.notes,
            values: self.values,
        }
    }
}

/// Where a saved change stands against the server now (DESIGN.md 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The server still holds what the plan saw: the change is to be made.
    Pending,
    /// The server already holds what the change makes, by the plan's own comparison.
    InEffect,
}

/// Where a change stands, from what the server holds under its current name
/// (`at_current`: the old name of a rename) and under its desired name (`at_desired`),
/// with `resolved` the desired connection with references resolved (None for a delete).
/// A connection that is neither what the plan saw (its fingerprint) nor what the change
/// makes is stale: refused. A replace whose old connection is gone (interrupted after
/// its delete) still has its create to do.
pub fn standing(
    change: &Change,
    at_current: Option<&Connection>,
    at_desired: Option<&Connection>,
    resolved: Option<&Connection>,
) -> Result<Standing, PlanError> {
    let made = match resolved {
        None => at_current.is_none(),
        Some(resolved) => {
            let old_gone = change.action != Action::Rename || at_current.is_none();
            old_gone
                && at_desired.is_some_and(|c| super::in_sync(resolved, c, &change.ignore_fields))
        }
    };
    // A rotation re-sends values the server does not return, so it can never be seen
    // in effect: it is made again (a repeated PUT of the same values is harmless).
    let rotation = !change.rotated_paths().is_empty();
    let unchanged = at_current.map(fingerprint) == change.fingerprint;
    let replace_half_done = change.action == Action::Replace && at_current.is_none();
    if made && !rotation {
        Ok(Standing::InEffect)
    } else if unchanged || replace_half_done || made {
        Ok(Standing::Pending)
    } else {
        Err(saved_error(format!(
            "plan is stale: {} changed since the plan was made; make a new plan",
            change.address()
        )))
    }
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

fn saved_error(message: String) -> PlanError {
    PlanError::SavedPlan { message }
}

/// Each literal sensitive value of the change's desired connection, as
/// `address at /pointer (why it was accepted)`: never the value.
fn literal_secrets(change: &Change) -> Vec<String> {
    let Some(template) = &change.desired else {
        return Vec::new();
    };
    template
        .secrets
        .iter()
        .filter(|(_, secret)| !holds_reference(secret.expose_secret()))
        .map(|(pointer, _)| {
            let reason = if is_secret_field(&template.kind, pointer) {
                "a secret field, accepted because of --allow-literal-secrets"
            } else {
                "a sensitive entry, accepted with a warning"
            };
            format!("{} at {pointer} ({reason})", change.address())
        })
        .collect()
}

/// Whether the pointer names a whole secret field of the type (`/password`), rather than
/// a sensitive entry inside a map or list (`/headerList/0/value`).
fn is_secret_field(kind: &str, pointer: &str) -> bool {
    match pointer_tokens(pointer).as_slice() {
        [field] => catalog().field(kind, field).is_some_and(|spec| spec.secret),
        _ => false,
    }
}

fn holds_reference(text: &str) -> bool {
    !references_in(&Value::String(text.to_string())).is_empty()
}

fn saved_change(change: &Change) -> SavedChange {
    let desired = change.desired.as_ref().map(savable_body);
    SavedChange {
        project: change.project.clone(),
        kind: change.kind.clone(),
        name: change.name.clone(),
        action: change.action,
        current_name: change.current_name.clone(),
        current_type: change.current_kind.clone(),
        current_fields: change.current_fields.clone(),
        desired,
        fields: change.fields.clone(),
        ignore_fields: change.ignore_fields.clone(),
        source: change.source.as_ref().map(|s| SavedSource {
            file: s.file.clone(),
            line: s.line,
            column: s.column,
        }),
        fingerprint: change.fingerprint.clone(),
        var_templates: change.var_templates.clone(),
    }
}

/// A template's body as saved: sensitive values that carry a reference
/// (`Bearer ${env:TOKEN}`) are templates and go back in; literals (refused before this
/// by [`literal_secrets`]) stay out.
fn savable_body(template: &Connection) -> Body {
    let mut body = template.fields.clone();
    for (pointer, secret) in template.secrets.iter() {
        if holds_reference(secret.expose_secret()) {
            pointer_set(
                &mut body,
                pointer,
                Value::String(secret.expose_secret().to_string()),
            );
        }
    }
    body
}

fn into_change(saved: SavedChange) -> Change {
    let desired = saved
        .desired
        .map(|body| Connection::from_body(&saved.kind, &saved.name, body, true));
    Change {
        project: saved.project,
        kind: saved.kind,
        name: saved.name,
        action: saved.action,
        current_name: saved.current_name,
        current_kind: saved.current_type,
        current_fields: saved.current_fields,
        desired,
        fields: saved.fields,
        ignore_fields: saved.ignore_fields,
        source: saved.source.map(|s| SourceRef {
            file: s.file,
            line: s.line,
            column: s.column,
        }),
        fingerprint: saved.fingerprint,
        var_templates: saved.var_templates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{conn, every_action_plan};
    use serde_json::json;

    fn plan_without_literals() -> Plan {
        let mut plan = every_action_plan();
        plan.changes
            .retain(|c| c.desired.as_ref().is_none_or(|d| d.secrets.is_empty()));
        plan
    }

    #[test]
    fn a_plan_file_naming_an_unsafe_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        SavedPlan::from_plan(&plan_without_literals())
            .unwrap()
            .write(&path)
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("\"name\": \"gone\"", "\"name\": \"..\"", 1);
        assert_ne!(text, edited, "the fixture deletes `gone`");
        std::fs::write(&path, edited).unwrap();
        let error = SavedPlan::load(&path).unwrap_err().to_string();
        assert!(error.contains("names `..`, which is `..`"), "{error}");
    }

    #[test]
    fn a_saved_plan_round_trips_with_references_and_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let plan = plan_without_literals();
        SavedPlan::from_plan(&plan).unwrap().write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("canary"));
        assert!(text.contains("${env:FRESH_PW}"));
        let loaded = SavedPlan::load(&path).unwrap();
        assert_eq!(loaded.tool_version, env!("CARGO_PKG_VERSION"));
        let back = loaded.into_plan();
        assert_eq!(back.changes.len(), plan.changes.len());
        for (a, b) in back.changes.iter().zip(&plan.changes) {
            assert_eq!(
                (a.action, &a.name, &a.fingerprint),
                (b.action, &b.name, &b.fingerprint)
            );
            assert_eq!(a.fields, b.fields);
        }
        let fresh = back.changes.iter().find(|c| c.name == "fresh").unwrap();
        assert_eq!(
            fresh.desired.as_ref().unwrap().fields["password"],
            "${env:FRESH_PW}"
        );
    }

    #[test]
    fn a_literal_secret_refuses_to_be_saved_without_echoing_it() {
        let err = SavedPlan::from_plan(&every_action_plan())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("P/email/mail at /password (a secret field, accepted because of --allow-literal-secrets)"),
            "{err}"
        );
        assert!(!err.contains("canary"));
    }

    #[test]
    fn every_literal_sensitive_value_is_named_with_its_own_reason() {
        let mut plan = every_action_plan();
        let hook = crate::plan::fixtures::wanted(
            "webhook",
            "w",
            json!({"fullUrl": "http://x",
            "headerList": [{"name": "Authorization", "value": "Bearer canary-header"}]}),
        );
        let mut extra = crate::plan::fixtures::plan_of(
            crate::plan::fixtures::project(false, vec![hook]),
            vec![],
        );
        plan.changes.append(&mut extra.changes);
        let err = SavedPlan::from_plan(&plan).unwrap_err().to_string();
        assert!(err.contains("P/email/mail at /password (a secret field, accepted because of --allow-literal-secrets)"), "{err}");
        assert!(
            err.contains(
                "P/webhook/w at /headerList/0/value (a sensitive entry, accepted with a warning)"
            ),
            "{err}"
        );
        assert!(!err.contains("canary"), "{err}");
    }

    #[test]
    fn a_sensitive_value_holding_a_reference_is_saved_as_written() {
        let mut plan = Plan::default();
        let hook = crate::plan::fixtures::wanted(
            "webhook",
            "w",
            json!({"fullUrl": "http://x",
            "headerList": [{"name": "Authorization", "value": "Bearer ${env:TOKEN}"}]}),
        );
        plan.changes.push(
            crate::plan::fixtures::plan_of(
                crate::plan::fixtures::project(false, vec![hook]),
                vec![],
            )
            .changes
            .remove(0),
        );
        let saved = SavedPlan::from_plan(&plan).unwrap();
        let body = saved.changes[0].desired.as_ref().unwrap();
        assert_eq!(body["headerList"][0]["value"], "Bearer ${env:TOKEN}");
        let back = saved.into_plan();
        assert!(
            back.changes[0]
                .desired
                .as_ref()
                .unwrap()
                .secrets
                .contains("/headerList/0/value")
        );
    }

    #[test]
    fn another_format_version_or_a_stranger_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, r#"{"format_version": 99}"#).unwrap();
        let err = SavedPlan::load(&path).unwrap_err().to_string();
        assert!(err.contains("format version 99"), "{err}");
        std::fs::write(&path, "[]").unwrap();
        let err = SavedPlan::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a plan file"), "{err}");
        let err = SavedPlan::load(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read plan file"), "{err}");
    }

    #[test]
    fn a_field_change_saved_before_withholding_existed_loads_as_not_withheld() {
        let old: FieldChange = serde_json::from_value(json!({
            "path": "/port", "before": 1, "after": 2, "sensitive": false
        }))
        .unwrap();
        assert!(!old.before_withheld);
    }

    #[test]
    fn another_server_is_refused() {
        let saved = SavedPlan::from_plan(&plan_without_literals()).unwrap();
        assert!(saved.check_server("http://s/").is_ok());
        let err = saved.check_server("http://other").unwrap_err().to_string();
        assert!(err.contains("made for http://s"), "{err}");
    }

    #[test]
    fn a_connection_that_is_neither_before_nor_after_makes_the_plan_stale() {
        let plan = plan_without_literals();
        let update = plan.changes.iter().find(|c| c.name == "changed").unwrap();
        let same = conn(
            "kafka",
            "changed",
            json!({"topicName": "old", "enableSecure": false,
            "propertiesMap": {"bootstrap.servers": {"value": "${env:KAFKA}"}, "acks": {"value": "1"}}}),
        );
        let now = |held: &Connection| standing(update, Some(held), Some(held), None);
        assert_eq!(now(&same).unwrap(), Standing::Pending);
        let moved = conn("kafka", "changed", json!({"topicName": "moved"}));
        let err = now(&moved).unwrap_err().to_string();
        assert!(err.contains("plan is stale: P/kafka/changed changed since the plan was made"));
        let create = plan.changes.iter().find(|c| c.name == "fresh").unwrap();
        let wanted = create.desired.clone().unwrap();
        let created = |held| standing(create, held, held, Some(&wanted));
        assert_eq!(created(None).unwrap(), Standing::Pending);
        assert_eq!(created(Some(&wanted)).unwrap(), Standing::InEffect);
        assert!(created(Some(&moved)).is_err());
    }

    #[test]
    fn a_delete_is_in_effect_once_gone_and_a_rename_once_the_old_name_is_gone() {
        let plan = plan_without_literals();
        let delete = plan
            .changes
            .iter()
            .find(|c| c.action == Action::Delete)
            .unwrap();
        assert_eq!(
            standing(delete, None, None, None).unwrap(),
            Standing::InEffect
        );
        let rename = plan
            .changes
            .iter()
            .find(|c| c.action == Action::Rename)
            .unwrap();
        let wanted = rename.desired.clone().unwrap();
        let old = conn("email", "old-name", json!({"host": "h"}));
        let both = standing(rename, Some(&old), Some(&wanted), Some(&wanted));
        assert_eq!(
            both.unwrap(),
            Standing::Pending,
            "the old name still exists"
        );
        let done = standing(rename, None, Some(&wanted), Some(&wanted));
        assert_eq!(done.unwrap(), Standing::InEffect);
    }

    #[test]
    fn a_replace_interrupted_after_its_delete_still_has_its_create_to_do() {
        let plan = plan_without_literals();
        let replace = plan
            .changes
            .iter()
            .find(|c| c.action == Action::Replace)
            .unwrap();
        let wanted = replace.desired.clone().unwrap();
        assert_eq!(
            standing(replace, None, None, Some(&wanted)).unwrap(),
            Standing::Pending
        );
        let replaced = standing(replace, Some(&wanted), Some(&wanted), Some(&wanted));
        assert_eq!(replaced.unwrap(), Standing::InEffect);
    }

    #[test]
    fn a_rotation_is_never_in_effect_yet_a_done_one_is_not_stale() {
        let plan = plan_without_literals();
        let mut update = plan
            .changes
            .iter()
            .find(|c| c.name == "changed")
            .unwrap()
            .clone();
        let wanted = update.desired.clone().unwrap();
        let done = standing(&update, Some(&wanted), Some(&wanted), Some(&wanted));
        assert_eq!(done.unwrap(), Standing::InEffect);
        update.fields.push(FieldChange {
            path: "/password".into(),
            before: None,
            after: None,
            sensitive: true,
            before_present: false,
            after_present: true,
            before_withheld: false,
            rotated: true,
        });
        let again = standing(&update, Some(&wanted), Some(&wanted), Some(&wanted));
        assert_eq!(again.unwrap(), Standing::Pending);
    }
}
