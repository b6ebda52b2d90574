//! The two sides of a change as shown in diffs: canonical YAML of the connection (`type`,
//! `name`, then fields in catalog order), references as written, every sensitive value as
//! `(sensitive)` (or `(sensitive, changed)` on the desired side when the plan knows it
//! changed), a current value where the template writes a reference as `(withheld: ...)`.
//! Both sides start from the template, so only planned changes differ.

use serde_json::{Map, Value};
use similar::TextDiff;

use super::printable;
use super::yaml::to_yaml;
use crate::catalog::{FieldSpec, Kind, catalog};
use crate::model::{Body, pointer_remove, pointer_set, sensitive_pointers};
use crate::plan::{Action, Change, SENSITIVE, withheld_text};

/// How a sensitive value the plan changes is shown on the desired side.
const SENSITIVE_CHANGED: &str = "(sensitive, changed)";

/// The unified diff (current above desired) of an update, rename or replace.
pub fn connection_diff(change: &Change) -> Option<String> {
    if !matches!(
        change.action,
        Action::Update | Action::Rename | Action::Replace
    ) {
        return None;
    }
    let current = to_yaml(&current_view(change)?);
    let desired = to_yaml(&desired_view(change)?);
    let diff = TextDiff::from_lines(&current, &desired)
        .unified_diff()
        .context_radius(3)
        .header("current", "desired")
        .to_string();
    // YAML quoting escapes line breaks already; this catches what it leaves (DEL, C1
    // controls, bidirectional overrides), so no value can act on the terminal.
    Some(diff.lines().map(|line| printable(line) + "\n").collect())
}

/// The desired connection as shown.
fn desired_view(change: &Change) -> Option<Value> {
    let template = change.desired.as_ref()?;
    let mut fields = masked_template(change)?;
    for field in &change.fields {
        if field.path == "/name" {
            continue;
        }
        let value = if field.sensitive {
            field
                .after_present
                .then(|| Value::String(SENSITIVE_CHANGED.to_string()))
        } else {
            field.after.clone()
        };
        set_or_remove(&mut fields, &field.path, value);
    }
    Some(shown(&template.kind, &template.name, &fields))
}

/// The current connection as shown: a replaced or deleted one as the server holds it;
/// otherwise the template with every planned change undone.
fn current_view(change: &Change) -> Option<Value> {
    if let (Some(fields), Some(kind), Some(name)) = (
        &change.current_fields,
        &change.current_kind,
        &change.current_name,
    ) {
        return Some(shown(kind, name, fields));
    }
    let template = change.desired.as_ref()?;
    let mut fields = masked_template(change)?;
    let mut name = template.name.clone();
    for field in &change.fields {
        match (field.path.as_str(), &field.before) {
            ("/name", Some(Value::String(before))) => name = before.clone(),
            _ if field.sensitive => {
                let shown = field.before_present.then(|| SENSITIVE.into());
                set_or_remove(&mut fields, &field.path, shown);
            }
            _ if field.before_withheld => {
                let shown = field
                    .after
                    .as_ref()
                    .map(|a| Value::String(withheld_text(a)));
                set_or_remove(&mut fields, &field.path, shown);
            }
            _ => set_or_remove(&mut fields, &field.path, field.before.clone()),
        }
    }
    Some(shown(&template.kind, &name, &fields))
}

/// The template's fields with sensitive values masked and ignored fields left out.
fn masked_template(change: &Change) -> Option<Body> {
    let template = change.desired.as_ref()?;
    let mut fields = template.fields.clone();
    let mut sensitive = sensitive_pointers(&template.kind, &fields);
    sensitive.extend(template.secrets.iter().map(|(p, _)| p.clone()));
    for pointer in sensitive {
        pointer_set(&mut fields, &pointer, Value::String(SENSITIVE.to_string()));
    }
    for pointer in &change.ignore_fields {
        pointer_remove(&mut fields, pointer);
    }
    Some(fields)
}

fn set_or_remove(fields: &mut Body, path: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            pointer_set(fields, path, v);
        }
        None => {
            pointer_remove(fields, path);
        }
    }
}

/// `type`, `name`, then the known fields in catalog order (nulls left out).
fn shown(kind: &str, name: &str, fields: &Body) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), Value::String(kind.to_string()));
    out.insert("name".into(), Value::String(name.to_string()));
    for (field, spec) in catalog().all_fields(kind) {
        if let Some(v) = fields
            .get(field)
            .filter(|v| !v.is_null() && field != "name")
        {
            out.insert(field.to_string(), ordered(spec, v));
        }
    }
    Value::Object(out)
}

/// A value with nested object keys in catalog order and map keys sorted.
fn ordered(spec: &FieldSpec, value: &Value) -> Value {
    match (spec.kind, value) {
        (Kind::Object, Value::Object(map)) => match spec.object_spec() {
            Some(object) => Value::Object(
                object
                    .fields
                    .iter()
                    .filter_map(|(k, s)| {
                        let v = map.get(k).filter(|v| !v.is_null())?;
                        Some((k.clone(), ordered(s, v)))
                    })
                    .collect(),
            ),
            None => value.clone(),
        },
        (Kind::Map, Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let values = spec.values.as_deref();
            Value::Object(
                keys.into_iter()
                    .map(|k| {
                        (
                            k.clone(),
                            values.map_or(map[k].clone(), |s| ordered(s, &map[k])),
                        )
                    })
                    .collect(),
            )
        }
        (Kind::Array, Value::Array(items)) => match spec.items.as_deref() {
            Some(item) => Value::Array(items.iter().map(|v| ordered(item, v)).collect()),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}
