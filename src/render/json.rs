//! The JSON report: stable keys, documented by `schemas/plan.schema.json` (generated from
//! [`plan_schema`]).

use serde::Serialize;
use serde_json::{Value, json};

use super::{Context, Side, current_side, desired_side};
use crate::plan::{Action, Change, FieldChange, Note, Plan, SAVED_PLAN_FORMAT_VERSION};

/// The version of the JSON report format.
pub const REPORT_FORMAT_VERSION: u32 = SAVED_PLAN_FORMAT_VERSION;

#[derive(Serialize)]
struct Report<'a> {
    format_version: u32,
    command: &'static str,
    server: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    changes_present: bool,
    summary: Summary,
    changes: Vec<ReportChange<'a>>,
    unmanaged: Vec<ReportUnmanaged<'a>>,
    notes: &'a [Note],
}

#[derive(Serialize)]
struct Summary {
    create: usize,
    update: usize,
    rename: usize,
    replace: usize,
    delete: usize,
    unchanged: usize,
    unmanaged: usize,
}

#[derive(Serialize)]
struct ReportChange<'a> {
    project: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'a str,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_type: Option<&'a str>,
    fields: Vec<ReportField<'a>>,
    before: Option<Value>,
    after: Option<Value>,
    sensitive_paths: Vec<String>,
    withheld_paths: Vec<String>,
    source: Option<ReportSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<&'static str>,
}

#[derive(Serialize)]
struct ReportField<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a Value>,
    sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    before_present: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after_present: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    before_withheld: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    after_template: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    rotated: bool,
}

#[derive(Serialize)]
struct ReportSource {
    file: String,
    line: u64,
}

#[derive(Serialize)]
struct ReportUnmanaged<'a> {
    project: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unaddressable: Option<&'a str>,
}

/// Renders the plan as pretty JSON (with a trailing newline).
pub fn render(plan: &Plan, context: &Context) -> String {
    serde_json::to_string_pretty(&report(plan, context.wording.command()))
        .expect("a report serialises")
        + "\n"
}

/// The report as a JSON value, `command` naming the command that prints it (`apply`
/// adds its own report beside it).
pub fn report(plan: &Plan, command: &'static str) -> Value {
    let report = Report {
        format_version: REPORT_FORMAT_VERSION,
        command,
        server: &plan.server,
        environment: plan.environment(),
        changes_present: plan.has_changes(),
        summary: Summary {
            create: plan.count(Action::Create),
            update: plan.count(Action::Update),
            rename: plan.count(Action::Rename),
            replace: plan.count(Action::Replace),
            delete: plan.count(Action::Delete),
            unchanged: plan.unchanged,
            unmanaged: plan.unmanaged.len(),
        },
        changes: plan.changes.iter().map(report_change).collect(),
        unmanaged: plan
            .unmanaged
            .iter()
            .map(|u| ReportUnmanaged {
                project: &u.project,
                kind: &u.kind,
                name: &u.name,
                unaddressable: u.unaddressable.as_deref(),
            })
            .collect(),
        notes: &plan.notes,
    };
    serde_json::to_value(report).expect("a report serialises")
}

fn report_change(change: &Change) -> ReportChange<'_> {
    let before = current_side(change);
    let after = desired_side(change);
    let sides = || before.iter().chain(after.iter());
    let mut sensitive_paths: Vec<String> = sides().flat_map(|s| s.sensitive.clone()).collect();
    sensitive_paths.sort();
    sensitive_paths.dedup();
    let withheld_paths = before
        .as_ref()
        .map_or_else(Vec::new, |s| s.withheld.clone());
    ReportChange {
        project: &change.project,
        kind: &change.kind,
        name: &change.name,
        action: change.action,
        current_name: change.current_name.as_deref().filter(|n| *n != change.name),
        current_type: change.current_kind.as_deref().filter(|k| *k != change.kind),
        fields: change
            .fields
            .iter()
            .map(|field| report_field(field, change))
            .collect(),
        before: before.as_ref().map(Side::data),
        after: after.as_ref().map(Side::data),
        sensitive_paths,
        withheld_paths,
        source: change.source.as_ref().map(|s| ReportSource {
            file: s.file.display().to_string(),
            line: s.line,
        }),
        warning: (change.action == Action::Replace).then_some(super::REPLACE_WARNING),
    }
}

/// A field change; a sensitive one never carries values, only whether each side holds one.
fn report_field<'a>(field: &'a FieldChange, change: &'a Change) -> ReportField<'a> {
    let shown = !field.sensitive;
    let presence = |present: bool| Some(present).filter(|_| field.sensitive);
    ReportField {
        path: &field.path,
        before: field.before.as_ref().filter(|_| shown),
        after: field.after.as_ref().filter(|_| shown),
        sensitive: field.sensitive,
        before_present: presence(field.before_present),
        after_present: presence(field.after_present),
        before_withheld: field.before_withheld,
        after_template: change.var_templates.get(&field.path).map(String::as_str),
        rotated: field.rotated,
    }
}

/// The JSON Schema of the report.
pub fn plan_schema() -> Value {
    let count = json!({"type": "integer", "minimum": 0});
    let name = json!({"type": "string", "minLength": 1});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://apinizer-gitops.dev/schemas/plan.schema.json",
        "title": "apinizer-gitops plan report",
        "description": "Output of `apinizer-gitops plan --format json`, `drift --format json` and `apply --format json` (one document: the plan, and under `apply` what was done).",
        "if": {"properties": {"command": {"const": "apply"}}},
        "then": {"required": ["apply"]},
        "else": {"not": {"required": ["apply"]}},
        "type": "object",
        "additionalProperties": false,
        "required": ["format_version", "command", "server", "changes_present", "summary", "changes", "unmanaged", "notes"],
        "properties": {
            "format_version": {"const": REPORT_FORMAT_VERSION, "description": "Version of this report format."},
            "command": {"enum": ["plan", "drift", "apply"], "description": "The command that printed the report; apply's also holds `apply`, what it did."},
            "server": {"type": "string", "description": "The Apinizer Manager URL the plan was made against."},
            "environment": {"type": "string", "description": "The environment the values files (--values) name; absent when they name none."},
            "changes_present": {"type": "boolean", "description": "Whether apply would change anything (drift detected)."},
            "summary": {
                "type": "object",
                "additionalProperties": false,
                "required": ["create", "update", "rename", "replace", "delete", "unchanged", "unmanaged"],
                "properties": {
                    "create": count, "update": count, "rename": count, "replace": count,
                    "delete": count, "unchanged": count, "unmanaged": count
                }
            },
            "changes": {"type": "array", "items": {"$ref": "#/$defs/change"}, "description": "Changes in apply order."},
            "unmanaged": {"type": "array", "items": {"$ref": "#/$defs/connection"}, "description": "Connections not in the desired state and not pruned."},
            "notes": {"type": "array", "items": {"$ref": "#/$defs/note"}, "description": "Notes such as write-only fields that could not be compared, sorted by kind, project, type, name."}
        },
        "$defs": definitions(&name)
    })
}

/// The schema's `$defs`: connections, notes, bodies, changes and their fields.
fn definitions(name: &Value) -> Value {
    let mut defs = json!({
        "connection": {
            "type": "object",
            "additionalProperties": false,
            "required": ["project", "type", "name"],
            "properties": {
                "project": name, "type": {"$ref": "#/$defs/connectionType"}, "name": name,
                "unaddressable": {"type": "string", "description": "Why the name cannot be addressed safely as a path parameter (e.g. `..`); such a connection is never written or deleted."}
            }
        },
        "connectionType": {"enum": crate::catalog::type_names().collect::<Vec<_>>()},
        "pointer": {"type": "string", "pattern": "^(/([^~]|~[01])*)+$", "description": "JSON Pointer (RFC 6901) into the connection body."},
        "note": {
            "type": "object",
            "additionalProperties": false,
            "required": ["kind", "project", "type", "name", "paths"],
            "properties": {
                "kind": {"enum": ["write_only", "already_in_effect", "unset_variable"], "description": "write_only: the server does not return these values, so they are not compared (`--rotate` re-sends them). already_in_effect (apply FILE): the server already holds what the saved change makes; it is left out. unset_variable: plan or drift ran without `variable`, which these sensitive values use, so they are not compared; apply needs it."},
                "project": name,
                "type": {"$ref": "#/$defs/connectionType"},
                "name": name,
                "paths": {"type": "array", "items": {"$ref": "#/$defs/pointer"}},
                "variable": {"type": "string", "description": "The unset variable (unset_variable notes only)."}
            }
        },
        "body": {
            "description": "The whole connection as compared: `type`, `name`, then every field with its default filled in, references as written (${env:NAME}); sensitive and withheld values left out (see sensitive_paths, withheld_paths). null where the side does not exist (before of a create, after of a delete).",
            "oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["type", "name"], "properties": {"type": {"$ref": "#/$defs/connectionType"}, "name": name}}
            ]
        }
    });
    defs["change"] = change_definition(name);
    defs["field"] = field_definition();
    defs
}

fn change_definition(name: &Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["project", "type", "name", "action", "fields", "before", "after", "sensitive_paths", "withheld_paths", "source"],
        "properties": {
            "project": name,
            "type": {"$ref": "#/$defs/connectionType"},
            "name": name,
            "action": {"enum": ["rename", "create", "update", "replace", "delete"]},
            "current_name": {"type": "string", "description": "The name on the server now (rename)."},
            "current_type": {"$ref": "#/$defs/connectionType", "description": "The type on the server now (replace)."},
            "warning": {"const": super::REPLACE_WARNING, "description": "Replace only: the connection is deleted and created again, so policies that use it break in between."},
            "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}},
            "before": {"$ref": "#/$defs/body", "description": "The connection on the server now (null for create)."},
            "after": {"$ref": "#/$defs/body", "description": "The connection as desired (null for delete)."},
            "sensitive_paths": {"type": "array", "items": {"$ref": "#/$defs/pointer"}, "description": "Sensitive values left out of before and after (either side holds one there)."},
            "withheld_paths": {"type": "array", "items": {"$ref": "#/$defs/pointer"}, "description": "Current values left out of before because the desired value there comes from ${env:...} references (likely an earlier value of those variables)."},
            "source": {
                "description": "Where the desired connection is written (null for delete).",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["file", "line"],
                        "properties": {"file": {"type": "string"}, "line": {"type": "integer", "minimum": 1}}
                    }
                ]
            }
        }
    })
}

fn field_definition() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["path", "sensitive"],
        "properties": {
            "path": {"$ref": "#/$defs/pointer"},
            "before": {"description": "Current value; absent when unset, sensitive or withheld."},
            "after": {"description": "Desired value as written (references as ${env:NAME}, ${var:NAME} resolved: see after_template); absent when unset or sensitive."},
            "sensitive": {"type": "boolean", "description": "A secret or sensitive entry: no values are ever given."},
            "before_present": {"type": "boolean", "description": "Sensitive entries only: whether the server holds a value."},
            "after_present": {"type": "boolean", "description": "Sensitive entries only: whether the desired state sets a value."},
            "before_withheld": {"const": true, "description": "The desired value comes from ${env:...} references, so the server's value (likely an earlier value of those variables) is not given; present only when true."},
            "after_template": {"type": "string", "description": "The desired value as written with ${var:NAME} references (after is what they resolve to, from the values files)."},
            "rotated": {"const": true, "description": "`--rotate`: the server does not return this value and the update re-sends it (from the environment at apply time); present only when true."}
        },
        "dependentSchemas": {"before_withheld": {"not": {"required": ["before"]}}},
        "if": {"properties": {"sensitive": {"const": true}}},
        "then": {
            "required": ["before_present", "after_present"],
            "not": {"anyOf": [{"required": ["before"]}, {"required": ["after"]}]}
        },
        "else": {"not": {"anyOf": [{"required": ["before_present"]}, {"required": ["after_present"]}]}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::every_action_plan;
    use crate::render::Wording;

    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/plan.schema.json");
        let generated = crate::schema::plan_schema_text() + "\n";
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "schemas/plan.schema.json is stale: run `UPDATE_SCHEMAS=1 cargo test --lib render::json`"
        );
    }

    #[test]
    fn reports_validate_against_the_schema() {
        let validator = jsonschema::validator_for(&plan_schema()).unwrap();
        for plan in [every_action_plan(), Plan::default()] {
            for wording in [Wording::Plan, Wording::Drift] {
                let report: Value =
                    serde_json::from_str(&render(&plan, &Context::new(wording))).unwrap();
                let errors: Vec<String> = validator
                    .iter_errors(&report)
                    .map(|e| e.to_string())
                    .collect();
                assert!(errors.is_empty(), "{errors:?}");
            }
        }
    }

    #[test]
    fn the_schema_rejects_values_on_sensitive_fields() {
        let validator = jsonschema::validator_for(&plan_schema()).unwrap();
        let mut report: Value =
            serde_json::from_str(&render(&every_action_plan(), &Context::default())).unwrap();
        report["changes"][3]["fields"][0]["after"] = json!("leak");
        assert!(!validator.is_valid(&report));
    }
}
