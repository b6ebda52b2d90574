//! JSON Schemas generated from the catalog (`schemas/*.json`).
//!
//! The connections schema (draft 2020-12) describes a desired-state document for editors
//! (yaml-language-server) and CI: per-type properties, required fields, enums, nested
//! objects, `${env:...}` and `${var:...}` references wherever a value may come from the
//! environment or a values file (secrets: `${env:...}` only), and the catalog's
//! conditional rules as `if` / `then`. `null` is accepted wherever a value is optional,
//! because the loader reads `null` as absent.

use serde_json::{Map, Value, json};

use crate::catalog::{
    Catalog, Condition, FieldSpec, Format, Kind, ObjectSpec, Rule, catalog, facts,
};
use crate::desired::API_VERSION;

/// A whole `${env:NAME}` or `${var:NAME}` reference (a plain field: either source).
const REFERENCE_PATTERN: &str = r"^\$\{(env|var):[A-Za-z_][A-Za-z0-9_]*\}$";
/// A whole `${env:NAME}` reference: a secret's only form (`${var:...}` values are
/// committed in git, so the loader refuses them in secret fields).
const SECRET_REFERENCE_PATTERN: &str = r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$";
/// The schema's identity, beside the plan report's.
pub const SCHEMA_ID: &str = "https://apinizer-gitops.dev/schemas/connections.schema.json";
/// What an editor shows for a literal where a secret reference belongs.
const SECRET_MESSAGE: &str = "Secret field: write a whole ${env:NAME} reference (e.g. ${env:DB_PASSWORD}); literal values and ${var:NAME} (committed in values files) are refused";
/// What an editor shows for a malformed reference.
const REFERENCE_MESSAGE: &str =
    "Write a whole ${env:NAME} or ${var:NAME} reference (NAME: letters, digits, `_`)";
/// A string holding at least one reference.
const EMBEDDED_REFERENCE_PATTERN: &str = r"\$\{(env|var):[A-Za-z_][A-Za-z0-9_]*\}";

/// The JSON Schema of the desired-state files, pretty-printed.
pub fn connections_schema_text() -> String {
    serde_json::to_string_pretty(&connections_schema()).expect("a schema serialises")
}

/// Writes the connections schema (with a final newline) to `file`, creating its folder.
pub fn write_connections_schema(file: &std::path::Path) -> std::io::Result<()> {
    if let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    crate::whole_file::write(file, &format!("{}\n", connections_schema_text()))
}

/// The JSON Schema of the desired-state files.
pub fn connections_schema() -> Value {
    let catalog = catalog();
    let type_names: Vec<&str> = catalog.types.keys().map(String::as_str).collect();
    let mut defs = Map::new();
    defs.insert(
        "reference".into(),
        reference_schema(REFERENCE_PATTERN, REFERENCE_MESSAGE),
    );
    defs.insert(
        "secretReference".into(),
        reference_schema(SECRET_REFERENCE_PATTERN, SECRET_MESSAGE),
    );
    defs.insert(
        "withReference".into(),
        json!({"type": "string", "pattern": EMBEDDED_REFERENCE_PATTERN}),
    );
    defs.insert(
        "ignoreFields".into(),
        described(
            json!({"type": ["array", "null"], "items": {"type": "string", "pattern": "^/"}}),
            "JSON Pointers (RFC 6901) left out of the comparison, e.g. /port",
        ),
    );
    defs.insert(
        "connection".into(),
        connection_dispatch(catalog, &type_names),
    );
    for (name, object) in &catalog.objects {
        let mut schema = object_schema(object, Map::new(), &[]);
        schema["title"] = object.title.clone().into();
        defs.insert(format!("object.{name}"), schema);
    }
    for (name, object) in &catalog.types {
        defs.insert(format!("type.{name}"), type_schema(catalog, name, object));
    }
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "apinizer-gitops desired-state document",
        "description": "One project's desired connections. Generated from the connection-type catalog; do not edit.",
        "type": "object",
        "additionalProperties": false,
        "required": ["project"],
        "properties": {
            "apiVersion": described(json!({"const": API_VERSION}), "Format version; when present exactly this"),
            "project": described(json!({"type": "string", "minLength": 1}), "Apinizer project name (case-sensitive)"),
            "prune": described(json!({"type": ["boolean", "null"]}), "Delete connections of the project that are not desired"),
            "allowEmpty": described(json!({"type": ["boolean", "null"]}), "Allow prune with no desired connection"),
            "ignore": described(json!({"type": ["array", "null"], "items": {"type": "string"}}), "Connection-name globs never touched"),
            "protect": described(json!({"type": ["array", "null"], "items": {"type": "string"}}), "Connection-name globs (ignoring case) never deleted or replaced: a plan that would is refused"),
            "ignoreFields": ignore_fields(),
            "connections": described(json!({"type": ["array", "null"], "items": {"$ref": "#/$defs/connection"}}), "The project's connections; each has a `type` (one of the 14) and a `name`")
        },
        "$defs": defs
    });
    title_properties(&mut schema);
    schema
}

/// Gives every property its name as `title`: hovers show it as the heading (instead of
/// the enclosing object's title).
fn title_properties(schema: &mut Value) {
    if let Some(properties) = schema["properties"].as_object_mut() {
        for (name, property) in properties.iter_mut() {
            property["title"] = name.clone().into();
        }
    }
}

/// A schema with the same text as `description` and `markdownDescription`.
fn described(mut schema: Value, text: &str) -> Value {
    schema["description"] = text.into();
    schema["markdownDescription"] = text.into();
    schema
}

fn ignore_fields() -> Value {
    described(
        json!({"$ref": "#/$defs/ignoreFields"}),
        "JSON Pointers (RFC 6901) left out of the comparison, e.g. /port",
    )
}

/// A whole reference matching `pattern`, with the message editors show for anything else.
fn reference_schema(pattern: &str, message: &str) -> Value {
    json!({
        "type": "string",
        "pattern": pattern,
        "patternErrorMessage": message,
        "errorMessage": message,
    })
}

/// `null`: the field is absent. yaml-language-server takes a field's `anyOf` for wholly
/// matched, and joins the branches' titles in its hover (`port || port`), when no branch
/// differs in title or description; this one differs. The other branches carry none, as
/// a matched branch's description would replace the field's own in the hover.
fn absent() -> Value {
    json!({"type": "null", "description": "null: absent, the documented default applies"})
}

/// `type` picks the per-type schema.
fn connection_dispatch(catalog: &Catalog, type_names: &[&str]) -> Value {
    let branches: Vec<Value> = type_names
        .iter()
        .map(|name| {
            json!({
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": format!("#/$defs/type.{name}")}
            })
        })
        .collect();
    let listing: Vec<String> = catalog
        .types
        .iter()
        .map(|(name, t)| format!("- `{name}`: {}", t.title))
        .collect();
    let mut kind = described(json!({"enum": type_names}), "The connection type");
    kind["markdownDescription"] = format!("The connection type:\n\n{}", listing.join("\n")).into();
    let mut dispatch = json!({
        "title": "connection",
        "type": "object",
        "required": ["type", "name"],
        "properties": {"type": kind},
        "allOf": branches
    });
    title_properties(&mut dispatch);
    dispatch
}

fn type_schema(catalog: &Catalog, name: &str, object: &ObjectSpec) -> Value {
    let mut leading = Map::new();
    let kind = format!("The connection type: {}", object.title);
    leading.insert("type".into(), described(json!({"const": name}), &kind));
    let name_spec = &catalog.common["name"];
    let mut name_schema = json!({"type": "string", "minLength": 1});
    describe_field(&mut name_schema, name_spec, None, "name");
    leading.insert("name".into(), name_schema);
    leading.insert(
        "renamedFrom".into(),
        described(
            json!({"type": ["string", "null"]}),
            "The previous name, to rename in place",
        ),
    );
    leading.insert("ignoreFields".into(), ignore_fields());
    leading.insert(
        "protect".into(),
        described(
            json!({"type": ["boolean", "null"]}),
            "Never delete or replace this connection: a plan that would is refused",
        ),
    );
    for (field, spec) in &catalog.common {
        if field != "name" {
            leading.insert(field.clone(), field_schema(spec, None, field));
        }
    }
    let mut schema = object_schema(object, leading, &["type", "name"]);
    schema["title"] = object.title.clone().into();
    schema
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
        properties.insert(field.clone(), field_schema(spec, Some(object), field));
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
    title_properties(&mut schema);
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

/// One field: its JSON type (or a reference where the loader accepts one), or null,
/// with the catalog's description for hovers.
fn field_schema(spec: &FieldSpec, object: Option<&ObjectSpec>, field: &str) -> Value {
    let mut schema = if spec.secret {
        json!({"anyOf": [{"$ref": "#/$defs/secretReference"}, absent()]})
    } else {
        let mut branches = match typed_schema(spec) {
            // One flat anyOf: yaml-language-server's hover reads nested ones as all matched.
            Value::Object(mut typed) if typed.len() == 1 && typed.contains_key("anyOf") => {
                match typed.remove("anyOf") {
                    Some(Value::Array(inner)) => inner,
                    _ => unreachable!("anyOf holds a list"),
                }
            }
            typed => vec![typed],
        };
        branches.push(absent());
        json!({"anyOf": branches})
    };
    if let Some(default) = &spec.default {
        schema["default"] = default.clone();
    }
    describe_field(&mut schema, spec, object, field);
    schema
}

/// `description` (one line, with the unit) and `markdownDescription` (the field's facts).
fn describe_field(schema: &mut Value, spec: &FieldSpec, object: Option<&ObjectSpec>, field: &str) {
    if let Some(description) = spec.description_with_unit() {
        schema["description"] = description.into();
    }
    schema["markdownDescription"] = facts::markdown(spec, object, field).into();
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
    // `const` for one value: an `enum` would be listed as the field's allowed values in
    // yaml-language-server's hover.
    let matcher = match values.as_slice() {
        [one] => json!({"const": one}),
        _ => json!({"enum": values}),
    };
    (matcher, holds_when_absent)
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

/// The JSON Schema of the plan report (`plan`, `drift` and `apply --format json`; apply's
/// adds what it did under `apply`).
pub fn plan_schema() -> Value {
    let mut schema = crate::render::json::plan_schema();
    schema["properties"]["apply"] = crate::apply::report::schema();
    schema
}

/// [`plan_schema`], pretty-printed.
pub fn plan_schema_text() -> String {
    serde_json::to_string_pretty(&plan_schema()).expect("a schema serialises")
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
        assert_eq!(
            email["password"]["anyOf"][0]["$ref"],
            "#/$defs/secretReference"
        );
        let message = &schema["$defs"]["secretReference"]["patternErrorMessage"];
        assert!(message.as_str().unwrap().starts_with("Secret field"));
        // Values files are committed: a secret never comes from one.
        let secret_pattern = schema["$defs"]["secretReference"]["pattern"].as_str();
        assert!(!secret_pattern.unwrap().contains("var"));
        let pattern = schema["$defs"]["reference"]["pattern"].as_str();
        assert!(pattern.unwrap().contains("(env|var)"));
        let port = &email["port"]["anyOf"];
        assert_eq!(port[0]["maximum"], 65535);
        assert_eq!(port[1]["$ref"], "#/$defs/reference");
    }

    /// Counts (described, all) properties of every object schema; rule conditions and
    /// consequences (`if`, `then`, `not`, `allOf`) only restate properties.
    fn description_coverage(schema: &Value, path: &str, missing: &mut Vec<String>) -> usize {
        let Some(object) = schema.as_object() else {
            return 0;
        };
        let mut all = 0;
        for (key, value) in object {
            if matches!(key.as_str(), "if" | "then" | "not" | "allOf") {
                continue;
            }
            if key == "properties" {
                for (name, property) in value.as_object().unwrap() {
                    all += 1;
                    let has = |k: &str| property[k].as_str().is_some_and(|t| !t.is_empty());
                    if !has("description") || !has("markdownDescription") {
                        missing.push(format!("{path}/{name}"));
                    }
                    all += description_coverage(property, &format!("{path}/{name}"), missing);
                }
            } else {
                all += description_coverage(value, &format!("{path}/{key}"), missing);
            }
        }
        all
    }

    #[test]
    fn every_property_has_a_description_and_a_hover() {
        let schema = connections_schema();
        let mut missing = Vec::new();
        let all = description_coverage(&schema, "", &mut missing);
        eprintln!("description coverage: {}/{all}", all - missing.len());
        assert!(all >= 320, "{all}");
        assert!(missing.is_empty(), "without a description: {missing:#?}");
        assert_eq!(schema["$id"], SCHEMA_ID);
        let port = &schema["$defs"]["object.ElasticHost"]["properties"]["port"];
        assert_eq!(port["description"], "Elasticsearch HTTP port");
        let timeout = &schema["$defs"]["type.database"]["properties"]["connectionTimeout"];
        assert_eq!(
            timeout["description"],
            "How long to wait for a connection (ms)"
        );
    }

    /// Completion labels come from titles: type and object names, never `$defs` keys.
    #[test]
    fn every_type_and_object_definition_has_a_readable_title() {
        let schema = connections_schema();
        let defs = schema["$defs"].as_object().unwrap();
        let typed: Vec<_> = defs
            .iter()
            .filter(|(key, _)| key.contains('.') || *key == "connection")
            .collect();
        assert_eq!(typed.len(), 14 + 5 + 1);
        for (key, def) in typed {
            let title = def["title"].as_str().unwrap_or_default();
            assert!(
                !title.is_empty() && !title.contains('.'),
                "{key}: {title:?}"
            );
        }
        assert_eq!(
            schema["$defs"]["type.email"]["title"],
            "Email connection (SMTP)"
        );
        let port = &schema["$defs"]["object.ElasticHost"]["properties"]["port"];
        assert_eq!(port["title"], "port");
    }

    /// Hover-friendly alternatives (see `absent`): every field's `anyOf` is flat, ends
    /// with the described null branch, and no other branch has a title or description.
    #[test]
    fn field_alternatives_keep_hovers_whole() {
        let schema = connections_schema();
        let resolve = |branch: &Value| match branch["$ref"].as_str() {
            Some(r) => schema["$defs"][r.trim_start_matches("#/$defs/")].clone(),
            None => branch.clone(),
        };
        for (key, def) in schema["$defs"].as_object().unwrap() {
            let Some(properties) = def["properties"].as_object() else {
                continue;
            };
            for (name, property) in properties {
                let Some(branches) = property["anyOf"].as_array() else {
                    continue;
                };
                let (null, others) = branches.split_last().unwrap();
                assert_eq!(*null, absent(), "{key}.{name}");
                // A nested object's title names it in completion; its hover is its own.
                let plain = others.iter().filter(|b| {
                    !b["$ref"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("#/$defs/object."))
                });
                for branch in plain.map(resolve) {
                    let described = ["title", "description", "markdownDescription"]
                        .iter()
                        .any(|word| branch.get(*word).is_some());
                    assert!(!described, "{key}.{name}: {branch}");
                }
                assert!(
                    branches.iter().all(|b| b.get("anyOf").is_none()),
                    "{key}.{name}"
                );
            }
        }
    }

    #[test]
    fn rules_become_if_then() {
        let schema = connections_schema();
        let rule = &schema["$defs"]["type.email"]["allOf"][0];
        assert_eq!(rule["if"]["properties"]["auth"]["const"], json!(true));
        assert_eq!(rule["then"]["required"], json!(["username", "password"]));
        let db = &schema["$defs"]["type.database"]["allOf"][0];
        assert_eq!(db["if"]["required"], json!([]));
    }
}
