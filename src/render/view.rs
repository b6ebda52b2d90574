//! The two sides of a change, shown (text and markdown: canonical YAML, diffs) or handed
//! to policy engines (JSON `before` / `after`).
//!
//! A side is the connection as `type`, `name`, then fields in catalog order, references as
//! written. Sensitive values read `(sensitive)` (`(sensitive, changed)` on the desired side
//! when the plan knows it changed) and a current value where the template writes a
//! reference reads `(withheld: ...)`; the data form leaves both out and lists their
//! pointers. An update's or rename's current side is the template with every planned change
//! undone, so only planned changes differ; the sides of a replace or delete come from the
//! server and, like export, leave documented defaults out (both sides of a replace alike).

use serde_json::{Map, Value};
use similar::TextDiff;

use super::printable;
use super::yaml::to_yaml;
use crate::catalog::{FieldSpec, Kind, catalog};
use crate::model::{
    Body, pointer_get, pointer_remove, pointer_set, pointer_tokens, sensitive_pointers,
};
use crate::plan::{Action, Change, SENSITIVE, holds_reference, normalise, withheld_text};

/// How a sensitive value the plan changes is shown on the desired side.
const SENSITIVE_CHANGED: &str = "(sensitive, changed)";
/// How a sensitive value `--rotate` re-sends is shown on the desired side.
const SENSITIVE_RESENT: &str = "(sensitive, re-sent)";
/// How a plain value `--rotate` re-sends is shown on the current side (the server does
/// not return it).
const NOT_RETURNED: &str = "(not returned by the server)";

/// One side of a change.
#[derive(Debug, Clone)]
pub struct Side {
    /// Connection type.
    pub kind: String,
    /// Connection name.
    pub name: String,
    /// Fields with placeholders where values are not shown.
    fields: Body,
    /// Pointers whose value is sensitive (shown as a placeholder, left out of data).
    pub sensitive: Vec<String>,
    /// Pointers whose current value is withheld (the desired value there comes from
    /// references).
    pub withheld: Vec<String>,
}

impl Side {
    /// `type`, `name`, then the known fields in catalog order (nulls left out).
    pub fn shown(&self) -> Value {
        ordered_connection(&self.kind, &self.name, &self.fields)
    }

    /// The connection as compared (defaults filled in, values normalised), without the
    /// sensitive and withheld values.
    pub fn data(&self) -> Value {
        let mut fields = self.fields.clone();
        let left_out = || self.sensitive.iter().chain(&self.withheld);
        for pointer in left_out() {
            pointer_remove(&mut fields, pointer);
        }
        let mut normalised = normalise(&self.kind, &fields);
        for pointer in left_out() {
            pointer_remove(&mut normalised, pointer);
        }
        normalised.retain(|_, v| !v.is_null());
        ordered_connection(&self.kind, &self.name, &normalised)
    }
}

/// The unified diff (current above desired) of a change: a create's body as added lines,
/// a delete's as removed lines.
pub fn connection_diff(change: &Change) -> String {
    let yaml = |side: Option<Side>| side.map(|s| to_yaml(&s.shown())).unwrap_or_default();
    // The current side of an update is the template with the changes undone: its
    // unchanged `${var:...}` fields carry the same note, so only changes differ.
    let from_template = change.current_fields.is_none();
    let unchanged =
        |pointer: &str| from_template && change.fields.iter().all(|f| f.path != pointer);
    let current = with_var_notes(yaml(current_side(change)), change, unchanged);
    let desired = with_var_notes(yaml(desired_side(change)), change, |_| true);
    let diff = TextDiff::from_lines(&current, &desired)
        .unified_diff()
        .context_radius(3)
        .header("current", "desired")
        .to_string();
    // YAML quoting escapes line breaks already; this catches what it leaves (DEL, C1
    // controls, bidirectional overrides), so no value can act on the terminal.
    diff.lines().map(|line| printable(line) + "\n").collect()
}

/// `host: db.prod.internal  # ${var:DB_HOST}`: each top-level field written with
/// `${var:...}` (and chosen by `noted`) gets the text as written as a YAML comment.
fn with_var_notes(yaml: String, change: &Change, noted: impl Fn(&str) -> bool) -> String {
    let mut lines: Vec<String> = yaml.lines().map(str::to_string).collect();
    for (pointer, written) in &change.var_templates {
        let [field] = &pointer_tokens(pointer)[..] else {
            continue;
        };
        if !noted(pointer) {
            continue;
        }
        let key = format!("{field}:");
        if let Some(line) = lines.iter_mut().find(|l| l.starts_with(&key)) {
            let written: String = written
                .chars()
                .map(|c| match c {
                    c if c.is_control() => c.escape_default().to_string(),
                    c => c.to_string(),
                })
                .collect();
            line.push_str(&format!("  # {written}"));
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The desired side; None for a delete.
pub fn desired_side(change: &Change) -> Option<Side> {
    let template = change.desired.as_ref()?;
    let (mut fields, mut sensitive) = masked_template(change)?;
    for field in change.fields.iter().filter(|f| f.path != "/name") {
        let value = if field.sensitive {
            if field.after_present {
                sensitive.push(field.path.clone());
            }
            let shown = if field.rotated {
                SENSITIVE_RESENT
            } else {
                SENSITIVE_CHANGED
            };
            field
                .after_present
                .then(|| Value::String(shown.to_string()))
        } else {
            field.after.clone()
        };
        set_or_remove(&mut fields, &field.path, value);
    }
    if change.action == Action::Replace {
        fields = without_defaults(&template.kind, fields);
    }
    Some(side(
        &template.kind,
        &template.name,
        fields,
        sensitive,
        Vec::new(),
    ))
}

/// The current side; None for a create.
pub fn current_side(change: &Change) -> Option<Side> {
    if change.action == Action::Create {
        return None;
    }
    if let (Some(fields), Some(kind), Some(name)) = (
        &change.current_fields,
        &change.current_kind,
        &change.current_name,
    ) {
        return Some(server_side(change, kind, name, fields));
    }
    let template = change.desired.as_ref()?;
    let (mut fields, mut sensitive) = masked_template(change)?;
    let mut withheld = Vec::new();
    let mut name = template.name.clone();
    for field in &change.fields {
        match (field.path.as_str(), &field.before) {
            ("/name", Some(Value::String(before))) => name = before.clone(),
            // The server holds a value it does not return: a sensitive one stays
            // `(sensitive)`, a plain one is named so and left out of the data.
            _ if field.rotated && field.sensitive => {}
            _ if field.rotated => {
                withheld.push(field.path.clone());
                set_or_remove(&mut fields, &field.path, Some(NOT_RETURNED.into()));
            }
            _ if field.sensitive => {
                let shown = field.before_present.then(|| SENSITIVE.into());
                if field.before_present {
                    sensitive.push(field.path.clone());
                }
                set_or_remove(&mut fields, &field.path, shown);
            }
            _ if field.before_withheld => {
                withheld.push(field.path.clone());
                let shown = field
                    .after
                    .as_ref()
                    .map(|a| Value::String(withheld_text(a)));
                set_or_remove(&mut fields, &field.path, shown);
            }
            _ => set_or_remove(&mut fields, &field.path, field.before.clone()),
        }
    }
    sensitive.retain(|p| pointer_get(&fields, p).is_some_and(|v| !v.is_null()));
    Some(side(&template.kind, &name, fields, sensitive, withheld))
}

/// A replaced or deleted connection as the server holds it (secrets already read
/// `(sensitive)`, referenced fields `(withheld: ...)`), defaults left out.
fn server_side(change: &Change, kind: &str, name: &str, fields: &Body) -> Side {
    let sensitive = present_sensitive(kind, fields);
    let withheld = change.desired.as_ref().map_or_else(Vec::new, |template| {
        template
            .fields
            .iter()
            .filter(|(field, desired)| {
                holds_reference(desired) && fields.get(*field).is_some_and(|v| !v.is_null())
            })
            .map(|(field, _)| format!("/{}", crate::model::escape_pointer_token(field)))
            .collect()
    });
    let fields = without_defaults(kind, fields.clone());
    side(kind, name, fields, sensitive, withheld)
}

fn side(
    kind: &str,
    name: &str,
    fields: Body,
    sensitive: Vec<String>,
    withheld: Vec<String>,
) -> Side {
    Side {
        kind: kind.to_string(),
        name: name.to_string(),
        fields,
        sensitive,
        withheld,
    }
}

/// Pointers of the sensitive values a body holds (non-null).
fn present_sensitive(kind: &str, fields: &Body) -> Vec<String> {
    sensitive_pointers(kind, fields)
        .into_iter()
        .filter(|p| pointer_get(fields, p).is_some_and(|v| !v.is_null()))
        .collect()
}

/// The template's fields with sensitive values masked and ignored fields left out, and
/// the pointers masked.
fn masked_template(change: &Change) -> Option<(Body, Vec<String>)> {
    let template = change.desired.as_ref()?;
    let mut fields = template.fields.clone();
    let mut sensitive = sensitive_pointers(&template.kind, &fields);
    sensitive.extend(template.secrets.iter().map(|(p, _)| p.clone()));
    sensitive.sort();
    sensitive.dedup();
    for pointer in &sensitive {
        pointer_set(&mut fields, pointer, Value::String(SENSITIVE.to_string()));
    }
    for pointer in &change.ignore_fields {
        pointer_remove(&mut fields, pointer);
    }
    sensitive.retain(|p| pointer_get(&fields, p).is_some());
    Some((fields, sensitive))
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

/// The fields without documented defaults, top level and nested.
fn without_defaults(kind: &str, fields: Body) -> Body {
    fields
        .into_iter()
        .filter_map(|(field, value)| {
            let Some(spec) = catalog().field(kind, &field) else {
                return Some((field, value));
            };
            let value = spec.without_nested_defaults(value);
            (spec.default.as_ref() != Some(&value)).then_some((field, value))
        })
        .collect()
}

/// `type`, `name`, then the known fields in catalog order (nulls left out).
fn ordered_connection(kind: &str, name: &str, fields: &Body) -> Value {
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
