//! Server connections -> one desired-state document: only the fields that differ from
//! the documented defaults, in catalog order, and every value that must not (secrets,
//! sensitive entries) or cannot (masked, IDs instead of names) be written as a value
//! turned into a `${env:...}` reference with a predictable name.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::catalog::{FieldSpec, catalog};
use crate::model::{
    Body, Connection, escape_pointer_token, pointer_get, pointer_mut, pointer_tokens,
    sensitive_pointers,
};

/// The schema file export writes beside the documents, so the comment below resolves.
pub const SCHEMA_FILE: &str = "connections.schema.json";
/// The first line of every exported file, so editors validate against the schema written
/// beside it.
pub const SCHEMA_LINE: &str = "# yaml-language-server: $schema=./connections.schema.json";

/// One project's desired-state document and the variables it references.
#[derive(Debug, Clone)]
pub struct ProjectDocument {
    /// The document (`apiVersion`, `project`, `connections`).
    pub document: Value,
    /// Every variable the document references, in order of appearance.
    pub variables: Vec<String>,
}

/// Builds the document of one project from its current connections.
pub fn project_document(project: &str, connections: &[Connection]) -> ProjectDocument {
    let mut names = VariableNames::default();
    let entries: Vec<Value> = connections
        .iter()
        .map(|c| Value::Object(connection_entry(project, c, &mut names)))
        .collect();
    let mut document = Map::new();
    document.insert("apiVersion".into(), "apinizer-gitops/v1".into());
    document.insert("project".into(), project.into());
    document.insert("connections".into(), Value::Array(entries));
    ProjectDocument {
        document: Value::Object(document),
        variables: names.in_order,
    }
}

/// One connection entry: `type`, `name`, then the fields worth writing.
fn connection_entry(project: &str, connection: &Connection, names: &mut VariableNames) -> Body {
    let mut entry = Map::new();
    entry.insert("type".into(), connection.kind.clone().into());
    entry.insert("name".into(), connection.name.clone().into());
    let sensitive = sensitive_pointers(&connection.kind, &connection.fields);
    let mut fields = connection.fields.clone();
    fields.values_mut().for_each(escape_templates);
    for (field, spec) in catalog().all_fields(&connection.kind) {
        if field == "name" {
            continue;
        }
        let pointer = format!("/{}", escape_pointer_token(field));
        let entries = sensitive
            .iter()
            .filter(|p| p.starts_with(&format!("{pointer}/")));
        for entry_pointer in entries {
            let reference = names.reference(project, connection, entry_pointer);
            if let Some(slot) = pointer_mut(&mut fields, entry_pointer) {
                *slot = reference;
            }
        }
        let value = match field_treatment(connection, &fields, field, spec) {
            Treatment::Reference => names.reference(project, connection, &pointer),
            Treatment::Omit => continue,
            Treatment::Value(value) => value,
        };
        entry.insert(field.to_string(), value);
    }
    entry
}

/// Writes every `${` of server text as `$${`, so that loading the file gives the text
/// back instead of resolving a variable the server wrote (a logback `${HOSTNAME}`, or a
/// crafted `${env:APINIZER_TOKEN}`). Map keys are never resolved, so they stay as they are.
fn escape_templates(value: &mut Value) {
    match value {
        Value::String(text) if text.contains("${") => *text = text.replace("${", "$${"),
        Value::Array(items) => items.iter_mut().for_each(escape_templates),
        Value::Object(map) => map.values_mut().for_each(escape_templates),
        _ => {}
    }
}

/// What to write for one field.
enum Treatment {
    /// A `${env:...}` reference.
    Reference,
    /// Nothing: absent, null, the default, or filled in by the server.
    Omit,
    /// This value.
    Value(Value),
}

fn field_treatment(
    connection: &Connection,
    fields: &Body,
    field: &str,
    spec: &FieldSpec,
) -> Treatment {
    let value = current_value(connection, fields, field, spec);
    let unreadable = spec.secret || spec.response_name.is_some();
    if unreadable && value.is_some() {
        return Treatment::Reference;
    }
    if value.is_none() && spec.masked_in_get && is_needed(connection, field, spec) {
        return Treatment::Reference;
    }
    match value {
        None => Treatment::Omit,
        Some(_) if spec.rewrite == Some(crate::catalog::Rewrite::ServerFillsWhenEmpty) => {
            Treatment::Omit
        }
        Some(v) => {
            let stripped = spec.without_nested_defaults(v);
            if Some(&stripped) == spec.default.as_ref() {
                Treatment::Omit
            } else {
                Treatment::Value(stripped)
            }
        }
    }
}

/// The value the server returned (a secret counts as present), `None` when null or absent.
fn current_value(
    connection: &Connection,
    fields: &Body,
    field: &str,
    spec: &FieldSpec,
) -> Option<Value> {
    if connection
        .secrets
        .contains(&format!("/{}", escape_pointer_token(field)))
    {
        return Some(Value::Null);
    }
    let by_name = fields.get(field);
    let by_response_name = spec.response_name.as_ref().and_then(|r| fields.get(r));
    by_name
        .filter(|v| !v.is_null())
        .or(by_response_name.filter(|v| !v.is_null()))
        .cloned()
}

/// Whether a hidden value must be written for the file to validate: the field is
/// required, or a rule whose condition holds for this connection requires it.
fn is_needed(connection: &Connection, field: &str, spec: &FieldSpec) -> bool {
    if spec.required {
        return true;
    }
    let Some(object) = catalog().connection_type(&connection.kind) else {
        return false;
    };
    object.rules.iter().any(|rule| {
        rule.require.iter().any(|r| r == field)
            && rule.applies(&connection.fields, |f| catalog().field(&connection.kind, f))
    })
}

/// Predictable, unique variable names: `<PROJECT>_<CONNECTION>_<FIELD>`.
#[derive(Default)]
struct VariableNames {
    taken: BTreeSet<String>,
    in_order: Vec<String>,
}

impl VariableNames {
    /// The name for the value at `pointer` of a connection; a numeric suffix keeps two
    /// different values apart when their names would collide.
    fn claim(&mut self, project: &str, connection: &Connection, pointer: &str) -> String {
        let base = variable_name(project, &connection.name, &field_label(connection, pointer));
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        self.in_order.push(name.clone());
        name
    }

    /// A `${env:NAME}` reference under a freshly claimed name.
    fn reference(&mut self, project: &str, connection: &Connection, pointer: &str) -> Value {
        Value::String(format!(
            "${{env:{}}}",
            self.claim(project, connection, pointer)
        ))
    }
}

/// The field part of a variable name: the pointer's tokens, with a list index replaced by
/// the item's `name` (webhook header) and a trailing `value` token dropped.
fn field_label(connection: &Connection, pointer: &str) -> String {
    let tokens = pointer_tokens(pointer);
    let mut parts = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let is_last = i + 1 == tokens.len();
        if is_last && token == "value" && i > 0 {
            break;
        }
        let item_name = token.parse::<usize>().ok().and_then(|_| {
            let item_pointer = format!("/{}", tokens[..=i].join("/"));
            pointer_get(&connection.fields, &item_pointer)?
                .get("name")?
                .as_str()
                .map(str::to_string)
        });
        parts.push(item_name.unwrap_or_else(|| token.clone()));
    }
    parts.join("_")
}

/// `<PROJECT>_<CONNECTION>_<FIELD>` in upper snake case: camelCase words split,
/// every other non-alphanumeric character becomes `_`.
/// A name that would start with a digit gets a leading `_` (a shell variable cannot).
pub fn variable_name(project: &str, connection: &str, field: &str) -> String {
    let name = [project, connection, field]
        .iter()
        .map(|part| upper_snake(part))
        .collect::<Vec<_>>()
        .join("_");
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

fn upper_snake(text: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// The file text: the schema line, export's marker (with the hash of what follows), then
/// the document as YAML in the document's key order (catalog field order), strings quoted
/// where YAML would read them otherwise.
pub fn to_yaml(document: &Value) -> String {
    // Server text: a secret of the run it echoes reads `(sensitive)` in the file too.
    let body = crate::redact::scrub(&crate::render::yaml::to_yaml(document)).into_owned();
    format!("{SCHEMA_LINE}\n{}\n{body}", super::files::marker(&body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn current(kind: &str, name: &str, fields: Value) -> Connection {
        Connection::from_body(kind, name, fields.as_object().unwrap().clone(), false)
    }

    fn export_one(connection: &Connection) -> (Value, Vec<String>) {
        let doc = project_document("Payments", std::slice::from_ref(connection));
        (doc.document["connections"][0].clone(), doc.variables)
    }

    #[test]
    fn variable_names_are_upper_snake() {
        assert_eq!(
            variable_name("Payments", "alerts-smtp", "password"),
            "PAYMENTS_ALERTS_SMTP_PASSWORD"
        );
        assert_eq!(
            variable_name("my.proj", "esLogs", "caKeystoreFilePass"),
            "MY_PROJ_ES_LOGS_CA_KEYSTORE_FILE_PASS"
        );
        let name = variable_name("2024 ops", "x", "password");
        assert_eq!(name, "_2024_OPS_X_PASSWORD");
        assert!(crate::refs::is_variable_name(&name));
    }

    #[test]
    fn defaults_are_left_out_and_readable_secrets_become_references() {
        let email = current(
            "email",
            "alerts-smtp",
            json!({"host": "smtp.example.com", "port": 587, "auth": true,
                   "username": "u", "password": "canary-secret", "enabled": true,
                   "defaultEncoding": "UTF-8", "additionalProperties": [], "from": null}),
        );
        let (entry, vars) = export_one(&email);
        assert_eq!(
            entry,
            json!({"type": "email", "name": "alerts-smtp", "host": "smtp.example.com",
                   "auth": true, "username": "u",
                   "password": "${env:PAYMENTS_ALERTS_SMTP_PASSWORD}"})
        );
        assert_eq!(vars, vec!["PAYMENTS_ALERTS_SMTP_PASSWORD"]);
        assert!(!entry.to_string().contains("canary-secret"));
    }

    #[test]
    fn masked_values_become_references_only_where_needed() {
        let db = current(
            "database",
            "orders",
            json!({"dbType": "POSTGRES", "jdbcUrl": "jdbc:x", "useCredentials": true,
                   "username": "app", "password": null}),
        );
        let (entry, vars) = export_one(&db);
        assert_eq!(entry["password"], "${env:PAYMENTS_ORDERS_PASSWORD}");
        assert_eq!(vars.len(), 1);
        let no_creds = current(
            "database",
            "orders",
            json!({"dbType": "POSTGRES", "jdbcUrl": "jdbc:x", "useCredentials": false,
                   "password": null}),
        );
        let (entry, vars) = export_one(&no_creds);
        assert!(entry.get("password").is_none());
        assert!(vars.is_empty());
    }

    #[test]
    fn keystore_ids_become_name_references() {
        let kafka = current(
            "kafka",
            "events",
            json!({"topicName": "t", "enableSecure": true, "protocolTypes": ["TLS_1_2"],
                   "keyStoreId": "64f0c0ffee", "propertiesMap": {
                       "bootstrap.servers": {"value": "b:9092", "valueType": "STRING"}}}),
        );
        let (entry, vars) = export_one(&kafka);
        assert_eq!(
            entry["keyStoreName"],
            "${env:PAYMENTS_EVENTS_KEY_STORE_NAME}"
        );
        assert!(entry.get("keyStoreId").is_none());
        assert!(entry.get("trustStoreName").is_none());
        assert_eq!(vars, vec!["PAYMENTS_EVENTS_KEY_STORE_NAME"]);
    }

    #[test]
    fn sensitive_entries_become_references() {
        let kafka = current(
            "kafka",
            "events",
            json!({"topicName": "t", "propertiesMap": {
                "bootstrap.servers": {"value": "b:9092"},
                "sasl.jaas.config": {"value": "canary-jaas"}}}),
        );
        let (entry, _) = export_one(&kafka);
        assert_eq!(
            entry["propertiesMap"]["sasl.jaas.config"]["value"],
            "${env:PAYMENTS_EVENTS_PROPERTIES_MAP_SASL_JAAS_CONFIG}"
        );
        let hook = current(
            "webhook",
            "notify",
            json!({"fullUrl": "https://x", "headerList": [
                {"name": "Accept", "value": "json"},
                {"name": "Authorization", "value": "Bearer canary"}]}),
        );
        let (entry, vars) = export_one(&hook);
        assert_eq!(entry["headerList"][0]["value"], "json");
        assert_eq!(vars, vec!["PAYMENTS_NOTIFY_HEADER_LIST_AUTHORIZATION"]);
        assert!(!entry.to_string().contains("canary"));
    }

    #[test]
    fn server_text_holding_a_reference_is_escaped_and_reads_back_as_text() {
        let logback = current(
            "logback",
            "file",
            json!({"logPath": "/var/log/", "description": "${env:APINIZER_TOKEN}",
                   "logPattern": "%d ${HOSTNAME} $${x} [%m]%n"}),
        );
        let (entry, vars) = export_one(&logback);
        assert_eq!(entry["description"], "$${env:APINIZER_TOKEN}");
        assert_eq!(entry["logPattern"], "%d $${HOSTNAME} $$${x} [%m]%n");
        assert!(
            vars.is_empty(),
            "no variable comes from server text: {vars:?}"
        );
        for (field, text) in [
            ("description", "${env:APINIZER_TOKEN}"),
            ("logPattern", "%d ${HOSTNAME} $${x} [%m]%n"),
        ] {
            let written = entry[field].as_str().unwrap();
            let segments = crate::refs::parse_template(written).unwrap();
            assert_eq!(segments, vec![crate::refs::Segment::Literal(text.into())]);
        }
    }

    #[test]
    fn nested_defaults_and_server_filled_values_are_left_out() {
        let es = current(
            "elasticsearch",
            "logs",
            json!({"elasticHostList": [{"scheme": "http", "host": "es", "port": 9200}],
                   "accessType": "READ"}),
        );
        let (entry, _) = export_one(&es);
        assert_eq!(entry["elasticHostList"], json!([{"host": "es"}]));
        assert_eq!(entry["accessType"], "READ");
        let logback = current(
            "logback",
            "file",
            json!({"logPath": "/var/log/", "logPodName": "sandbox-host"}),
        );
        let (entry, _) = export_one(&logback);
        assert!(entry.get("logPodName").is_none());
    }

    #[test]
    fn colliding_names_get_a_suffix() {
        let hook = current(
            "webhook",
            "n",
            json!({"fullUrl": "https://x", "headerList": [
                {"name": "X-Token", "value": "a"}, {"name": "X_Token", "value": "b"}]}),
        );
        let (_, vars) = export_one(&hook);
        assert_eq!(
            vars,
            vec![
                "PAYMENTS_N_HEADER_LIST_X_TOKEN",
                "PAYMENTS_N_HEADER_LIST_X_TOKEN_2"
            ]
        );
    }

    #[test]
    fn yaml_quotes_what_needs_it_and_reads_back_the_same() {
        let document = json!({"project": "P", "connections": [{
            "type": "logback", "name": "x",
            "a": "${env:P_X_PASSWORD}", "b": "true", "c": "587", "d": "",
            "e": "%d{yyyy-MM-dd}.%i.log", "f": "<queue-name>", "g": "key: value # not a comment",
            "h": "- item", "i": "null", "j": 25, "k": false, "l": [], "m": {"k.with.dots": {"value": "1"}},
            "n": "line one\nline two", "o": "~", "p": "@at", "q": "'quoted'"}]});
        let text = to_yaml(&document);
        assert!(text.starts_with(SCHEMA_LINE));
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, document, "{text}");
    }
}
