//! JSON Schemas generated from the catalog (`schemas/*.json`).
//!
//! The connections schema (draft 2020-12) describes a desired-state document for editors
//! (yaml-language-server) and CI: per-type properties, required fields, enums, nested
//! objects, `${env:...}` references wherever a value may come from the environment, and
//! the catalog's conditional rules as `if` / `then`. `null` is accepted wherever a value
//! is optional, because the loader reads `null` as absent.

use serde_json::{Map, Value, json};

use crate::catalog::{Catalog, Condition, FieldSpec, Format, Kind, ObjectSpec, Rule, catalog};
use crate::desired::API_VERSION;

/// A whole `${env:NAME}` reference.
const REFERENCE_PATTERN: &str = r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$";
/// A string holding at least one reference.
const EMBEDDED_REFERENCE_PATTERN: &str = r"\$\{env:[A-Za-z_][A-Za-z0-9_]*\}";

/// The JSON Schema of the desired-state files, pretty-printed.
pub fn connections_schema_text() -> String {
    serde_json::to_string_pretty(&connections_schema()).expect("a schema serialises")
}

/// The JSON Schema of the desired-state files.
pub fn connections_schema() -> Value {
    let catalog = catalog();
    let type_names: Vec<&str> = catalog.types.keys().map(String::as_str).collect();
    let mut defs = Map::new();
    defs.insert(
        "reference".into(),
        json!({"type": "string", "pattern": REFERENCE_PATTERN}),
    );
    defs.insert(
        "withReference".into(),
        json!({"type": "string", "pattern": EMBEDDED_REFERENCE_PATTERN}),
    );
    defs.insert(
        "ignoreFields".into(),
        json!({
            "description": "JSON Pointers (RFC 6901) left out of the comparison, e.g. /port",
            "type": ["array", "null"],
            "items": {"type": "string", "pattern": "^/"}
        }),
    );
    defs.insert("connection".into(), connection_dispatch(&type_names));
    for (name, object) in &catalog.objects {
        defs.insert(
            format!("object.{name}"),
            object_schema(object, Map::new(), &[]),
        );
    }
    for (name, object) in &catalog.types {
        defs.insert(format!("type.{name}"), type_schema(catalog, name, object));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "apinizer-gitops desired-state document",
        "description": "One project's desired connections. Generated from the connection-type catalog; do not edit.",
        "type": "object",
        "additionalProperties": false,
        "required": ["project"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "project": {"description": "Apinizer project name (case-sensitive)", "type": "string", "minLength": 1},
            "prune": {"description": "Delete connections of the project that are not desired", "type": ["boolean", "null"]},
            "allowEmpty": {"description": "Allow prune with no desired connection", "type": ["boolean", "null"]},
            "ignore": {"description": "Connection-name globs never touched", "type": ["array", "null"], "items": {"type": "string"}},
            "ignoreFields": {"$ref": "#/$defs/ignoreFields"},
            "connections": {"type": ["array", "null"], "items": {"$ref": "#/$defs/connection"}}
        },
        "$defs": defs
    })
}

/// `type` picks the per-type schema.
fn connection_dispatch(type_names: &[&str]) -> Value {
    let branches: Vec<Value> = type_names
        .iter()
        .map(|name| {
            json!({
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": format!("#/$defs/type.{name}")}
            })
        })
        .collect();
    json!({
        "type": "object",
        "required": ["type", "name"],
        "properties": {"type": {"description": "The connection type", "enum": type_names}},
        "allOf": branches
    })
}

fn type_schema(catalog: &Catalog, name: &str, object: &ObjectSpec) -> Value {
    let mut leading = Map::new();
    leading.insert("type".into(), json!({"const": name}));
    leading.insert("name".into(), json!({"type": "string", "minLength": 1}));
    leading.insert(
        "renamedFrom".into(),
        json!({"description": "The previous name, to rename in place", "type": ["string", "null"]}),
    );
    leading.insert(
        "ignoreFields".into(),
        json!({"$ref": "#/$defs/ignoreFields"}),
    );
    for (field, spec) in &catalog.common {
        if field != "name" {
            leading.insert(field.clone(), field_schema(spec));
        }
    }
    object_schema(object, leading, &["type", "name"])
}

/// An object's properties (after `leading`), required fields and rules.
fn object_schema(
    object: &ObjectSpec,
    leading: Map<String, Value>,
    always_required: &[&str],
) -> Value {
    let mut properties = leading;
    let mut required: Vec<String> = always_required.iter().map(|s| s.to_string()).collect();
    for (field, spec) in &object.fields {
        properties.insert(field.clone(), field_schema(spec));
        if spec.required {
            required.push(field.clone());
        }
    }
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    });
    let rules: Vec<Value> = object
        .rules
        .iter()
        .map(|r| rule_schema(r, object))
        .collect();
    if !rules.is_empty() {
        schema["allOf"] = Value::Array(rules);
    }
    schema
}

/// One field: its JSON type (or a reference where the loader accepts one), or null.
fn field_schema(spec: &FieldSpec) -> Value {
    let mut schema = if spec.secret {
        json!({"anyOf": [{"$ref": "#/$defs/reference"}, {"type": "null"}],
               "description": "Secret: must be a ${env:NAME} reference"})
    } else {
        json!({"anyOf": [typed_schema(spec), {"type": "null"}]})
    };
    if let Some(default) = &spec.default {
        schema["default"] = default.clone();
    }
    schema
}

/// The schema of a non-null value.
fn typed_schema(spec: &FieldSpec) -> Value {
    match spec.kind {
        Kind::String => string_schema(spec),
        Kind::Integer | Kind::Number => {
            let mut number = json!({"type": spec.kind.json_name()});
            if let Some(min) = spec.minimum {
                number["minimum"] = min.into();
            }
            if let Some(max) = spec.maximum {
                number["maximum"] = max.into();
            }
            json!({"anyOf": [number, {"$ref": "#/$defs/reference"}]})
        }
        Kind::Boolean => json!({"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/reference"}]}),
        Kind::Array => {
            let mut array = json!({"type": "array"});
            if let Some(items) = &spec.items {
                array["items"] = typed_schema(items);
            }
            if let Some(min) = spec.min_items {
                array["minItems"] = min.into();
            }
            array
        }
        Kind::Object => match &spec.object {
            Some(name) => json!({"$ref": format!("#/$defs/object.{name}")}),
            None => json!({"type": "object"}),
        },
        Kind::Map => {
            let mut map = json!({"type": "object"});
            if let Some(values) = &spec.values {
                map["additionalProperties"] = typed_schema(values);
            }
            if !spec.required_keys.is_empty() {
                map["required"] = json!(spec.required_keys);
            }
            map
        }
        Kind::Any => json!({}),
    }
}

fn string_schema(spec: &FieldSpec) -> Value {
    let mut literal = json!({"type": "string"});
    if let Some(values) = spec.enum_values() {
        literal = json!({"enum": values});
    }
    if let Some(min) = spec.min_length {
        literal["minLength"] = min.into();
    }
    if spec.format == Some(Format::HttpUrl) {
        literal["pattern"] = r"^https?://[^/?#\s]+".into();
    }
    if spec.is_base64_content() {
        literal["pattern"] = r"^[A-Za-z0-9+/=\s]+$".into();
        literal["contentEncoding"] = "base64".into();
    }
    if literal == json!({"type": "string"}) {
        return literal;
    }
    json!({"anyOf": [literal, {"$ref": "#/$defs/withReference"}]})
}

/// A catalog rule as `if` / `then` (or a bare constraint when unconditional).
fn rule_schema(rule: &Rule, object: &ObjectSpec) -> Value {
    let then = rule_consequence(rule, object);
    let mut condition_properties = Map::new();
    let mut condition_required = Vec::new();
    for (field, condition) in &rule.when {
        let default = object.fields.get(field).and_then(|s| s.default.as_ref());
        let (matcher, holds_when_absent) = condition_schema(condition, default);
        condition_properties.insert(field.clone(), matcher);
        if !holds_when_absent {
            condition_required.push(field.clone());
        }
    }
    for field in &rule.when_set {
        condition_properties.insert(field.clone(), json!({"not": {"type": "null"}}));
        condition_required.push(field.clone());
    }
    if condition_properties.is_empty() {
        return then;
    }
    json!({
        "if": {"properties": condition_properties, "required": condition_required},
        "then": then
    })
}

/// The values that satisfy a condition (null included when the default does), and
/// whether an absent field satisfies it through its default.
fn condition_schema(condition: &Condition, default: Option<&Value>) -> (Value, bool) {
    let mut values: Vec<Value> = match condition {
        Condition::Equals(v) => vec![v.clone()],
        Condition::OneOf(vs) => vs.clone(),
    };
    let holds_when_absent = default.is_some_and(|d| condition.holds(d));
    if holds_when_absent {
        values.push(Value::Null);
    }
    (json!({"enum": values}), holds_when_absent)
}

fn rule_consequence(rule: &Rule, object: &ObjectSpec) -> Value {
    let mut parts = Vec::new();
    if !rule.require.is_empty() {
        let present: Map<String, Value> = rule
            .require
            .iter()
            .map(|f| (f.clone(), json!({"not": {"type": "null"}})))
            .collect();
        parts.push(json!({"required": rule.require, "properties": present}));
    }
    if !rule.require_any_true.is_empty() {
        let options: Vec<Value> = rule
            .require_any_true
            .iter()
            .map(|f| is_true_or_reference(f, object))
            .collect();
        parts.push(json!({"anyOf": options}));
    }
    if rule.at_most_one_true.len() >= 2 {
        let both: Vec<Value> = rule
            .at_most_one_true
            .iter()
            .map(|f| json!({"properties": {f: {"const": true}}, "required": [f]}))
            .collect();
        parts.push(json!({"not": {"allOf": both}}));
    }
    for field in &rule.forbid_true {
        parts.push(json!({"properties": {field: {"not": {"const": true}}}}));
    }
    match parts.len() {
        1 => parts.remove(0),
        _ => json!({"allOf": parts}),
    }
}

/// The field is true (explicitly, or by a `true` default) or is a reference.
fn is_true_or_reference(field: &str, object: &ObjectSpec) -> Value {
    let default_true = object
        .fields
        .get(field)
        .and_then(|s| s.default.as_ref())
        .is_some_and(|d| *d == Value::Bool(true));
    let mut accepted = vec![json!({"const": true}), json!({"$ref": "#/$defs/reference"})];
    if default_true {
        accepted.push(json!({"type": "null"}));
        return json!({"properties": {field: {"anyOf": accepted}}});
    }
    json!({"properties": {field: {"anyOf": accepted}}, "required": [field]})
}

/// The JSON Schema of the plan report (`plan --format json`), pretty-printed.
pub fn plan_schema_text() -> String {
    serde_json::to_string_pretty(&crate::render::json::plan_schema()).expect("a schema serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_definition_and_a_branch() {
        let schema = connections_schema();
        for name in crate::catalog::type_names() {
            let def = &schema["$defs"][format!("type.{name}")];
            assert_eq!(def["properties"]["type"]["const"], name);
            assert_eq!(def["additionalProperties"], false);
        }
        let branches = schema["$defs"]["connection"]["allOf"].as_array().unwrap();
        assert_eq!(branches.len(), 14);
    }

    #[test]
    fn secrets_must_be_references_and_numbers_may_be() {
        let schema = connections_schema();
        let email = &schema["$defs"]["type.email"]["properties"];
        assert_eq!(email["password"]["anyOf"][0]["$ref"], "#/$defs/reference");
        let port = &email["port"]["anyOf"][0]["anyOf"];
        assert_eq!(port[0]["maximum"], 65535);
        assert_eq!(port[1]["$ref"], "#/$defs/reference");
    }

    #[test]
    fn rules_become_if_then() {
        let schema = connections_schema();
        let rule = &schema["$defs"]["type.email"]["allOf"][0];
        assert_eq!(rule["if"]["properties"]["auth"]["enum"], json!([true]));
        assert_eq!(rule["then"]["required"], json!(["username", "password"]));
        let db = &schema["$defs"]["type.database"]["allOf"][0];
        assert_eq!(db["if"]["required"], json!([]));
    }
}
