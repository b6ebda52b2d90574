//! The sandbox's in-memory state and the documented behaviour of each endpoint:
//! case-insensitive names, already-exists / not-found envelopes, rename via PUT, type
//! change refused, validation from the catalog, server-side rewrites, secrets null in
//! lists, masked fields null in GET, kafka keystore names answered as IDs.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::wire;
use crate::catalog::{FieldSpec, Kind, Rewrite, catalog, effective_value};
use crate::model::{Body, Connection};

/// The hostname the sandbox fills into empty `server_fills_when_empty` fields.
pub const WORKER_HOSTNAME: &str = "worker-1";

/// An API error answer: status and the documented envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// HTTP status.
    pub status: u16,
    /// The envelope's `error`.
    pub error: &'static str,
    /// The envelope's `error_description`.
    pub description: String,
    /// `validation_errors` as (field, message).
    pub validation: Vec<(String, String)>,
}

impl Failure {
    fn new(status: u16, error: &'static str, description: String) -> Self {
        Failure {
            status,
            error,
            description,
            validation: Vec::new(),
        }
    }

    /// A 400 `bad_request`.
    pub fn bad_request(description: String) -> Self {
        Self::new(400, "bad_request", description)
    }

    /// The error envelope as JSON.
    pub fn body(&self) -> Value {
        let mut body = json!({"error": self.error, "error_description": self.description});
        if !self.validation.is_empty() {
            let items: Vec<Value> = self
                .validation
                .iter()
                .map(|(field, message)| json!({"field": field, "message": message}))
                .collect();
            body["validation_errors"] = Value::Array(items);
        }
        body
    }
}

/// Which answer a connection is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// List: secrets and masked fields null.
    List,
    /// Single GET: masked fields null, unmasked secrets in full.
    Get,
}

/// A write the sandbox applied (a state change; a PUT that changes nothing is not one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRecord {
    /// POST, PUT or DELETE.
    pub method: String,
    /// The project.
    pub project: String,
    /// The connection name after the write (lower-case).
    pub name: String,
}

/// One stored connection.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    connection: Connection,
}

/// The whole server state.
#[derive(Default)]
pub struct Store {
    /// Projects by exact (case-sensitive) name; connections by lower-case name.
    projects: BTreeMap<String, IndexMap<String, Stored>>,
    /// Applied writes, with a digest of the state each produced (never exposed).
    writes: Vec<(WriteRecord, [u8; 32])>,
    next_id: u64,
    /// How single GETs mask values (the docs read both ways).
    get_masking: GetMasking,
}

/// Which reading of the docs' contradiction on GET masking the sandbox serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GetMasking {
    /// The nine type pages: a GET answers the fields they call masked as null.
    #[default]
    TypePages,
    /// crud/get-connection.md: a GET answers every value in full, secrets included.
    Nothing,
}

/// Debug shows project names and the number of writes; never digests of secrets.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("projects", &self.projects.keys().collect::<Vec<_>>())
            .field("writes", &self.writes.len())
            .finish()
    }
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

fn not_found(name: &str) -> String {
    format!("Connection (name: {name}) was not found!")
}

fn already_exists(name: &str) -> String {
    format!("Connection (name: {name}) already exists!")
}

/// A digest of a connection's whole state, to tell repeated writes apart.
fn digest(connection: &Connection) -> [u8; 32] {
    let text = wire::encode_body(
        &connection.kind,
        &connection.name,
        &connection.expose_body(),
    );
    Sha256::digest(text.as_bytes()).into()
}

/// The ID the sandbox answers for a keystore / truststore name (deterministic).
pub fn reference_id(name: &str) -> String {
    let hash = hex::encode(Sha256::digest(name.as_bytes()));
    format!("{name}-id-{}", &hash[..8])
}

impl Store {
    /// An empty store whose GETs mask values as `get_masking` reads the docs.
    pub fn new(get_masking: GetMasking) -> Store {
        Store {
            get_masking,
            ..Store::default()
        }
    }

    /// Creates an empty project (no-op when it exists).
    pub fn add_project(&mut self, name: &str) {
        self.projects.entry(name.to_string()).or_default();
    }

    /// Project names.
    pub fn project_names(&self) -> Vec<String> {
        self.projects.keys().cloned().collect()
    }

    /// Stores a seed connection as is (rewrites applied, no validation, no write log).
    pub fn seed(&mut self, project: &str, connection: Connection) {
        let connection = rewritten(connection);
        let id = self.new_id();
        self.projects
            .entry(project.to_string())
            .or_default()
            .insert(key(&connection.name), Stored { id, connection });
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:024x}", self.next_id)
    }

    fn project(&self, project: &str) -> Result<&IndexMap<String, Stored>, Failure> {
        self.projects
            .get(project)
            .ok_or_else(|| project_not_found(project))
    }

    fn project_mut(&mut self, project: &str) -> Result<&mut IndexMap<String, Stored>, Failure> {
        self.projects
            .get_mut(project)
            .ok_or_else(|| project_not_found(project))
    }

    /// Connections of a type, rendered for a list answer.
    pub fn list(&self, project: &str, kind: Option<&str>) -> Result<Vec<String>, Failure> {
        let connections = self.project(project)?;
        let kind = kind.filter(|k| !k.is_empty()).ok_or_else(|| {
            Failure::bad_request(
                "Connection type can not be empty! Use ?type=<type>, e.g. ?type=email".into(),
            )
        })?;
        check_kind(kind)?;
        Ok(connections
            .values()
            .filter(|s| s.connection.kind == kind)
            .map(|s| render(project, s, View::List, self.get_masking))
            .collect())
    }

    /// One connection rendered for a GET answer.
    pub fn get(&self, project: &str, name: &str) -> Result<String, Failure> {
        let stored = self
            .project(project)?
            .get(&key(name))
            .ok_or_else(|| Failure::new(404, "not_found", not_found(name)))?;
        Ok(render(project, stored, View::Get, self.get_masking))
    }

    /// POST: creates a connection; returns it as stored.
    pub fn create(
        &mut self,
        project: &str,
        path_name: &str,
        connection: Connection,
    ) -> Result<Connection, Failure> {
        let existing = self.project(project)?;
        if key(path_name) != key(&connection.name) {
            return Err(Failure::bad_request(format!(
                "Connection name in path ({path_name}) does not match the name in the body ({})!",
                connection.name
            )));
        }
        if existing.contains_key(&key(&connection.name)) {
            return Err(Failure::bad_request(already_exists(&connection.name)));
        }
        validate(&connection)?;
        let connection = rewritten(connection);
        let id = self.new_id();
        self.record("POST", project, &connection);
        self.project_mut(project)?.insert(
            key(&connection.name),
            Stored {
                id,
                connection: connection.clone(),
            },
        );
        Ok(connection)
    }

    /// PUT: replaces a connection, renaming it when the body carries another name.
    pub fn update(
        &mut self,
        project: &str,
        path_name: &str,
        connection: Connection,
    ) -> Result<Connection, Failure> {
        let connections = self.project(project)?;
        let current = connections
            .get(&key(path_name))
            .ok_or_else(|| Failure::bad_request(not_found(path_name)))?;
        if current.connection.kind != connection.kind {
            return Err(Failure::bad_request(format!(
                "Connection type can not be changed (from {} to {})! Delete it and create it again.",
                current.connection.kind, connection.kind
            )));
        }
        let renamed = key(path_name) != key(&connection.name);
        if renamed && connections.contains_key(&key(&connection.name)) {
            return Err(Failure::bad_request(already_exists(&connection.name)));
        }
        validate(&connection)?;
        let connection = rewritten(connection);
        let id = current.id.clone();
        let changed = digest(&current.connection) != digest(&connection);
        if changed {
            self.record("PUT", project, &connection);
        }
        let connections = self.project_mut(project)?;
        connections.shift_remove(&key(path_name));
        connections.insert(
            key(&connection.name),
            Stored {
                id,
                connection: connection.clone(),
            },
        );
        Ok(connection)
    }

    /// DELETE: removes a connection; returns it.
    pub fn delete(&mut self, project: &str, name: &str) -> Result<Connection, Failure> {
        let removed = self
            .project_mut(project)?
            .shift_remove(&key(name))
            .ok_or_else(|| Failure::bad_request(not_found(name)))?;
        self.record("DELETE", project, &removed.connection);
        Ok(removed.connection)
    }

    fn record(&mut self, method: &str, project: &str, connection: &Connection) {
        let record = WriteRecord {
            method: method.to_string(),
            project: project.to_string(),
            name: key(&connection.name),
        };
        self.writes.push((record, digest(connection)));
    }

    /// Every applied write, in order.
    pub fn write_log(&self) -> Vec<WriteRecord> {
        self.writes.iter().map(|(r, _)| r.clone()).collect()
    }

    /// Writes that repeated the previous write of the same connection exactly (same
    /// method, same resulting state): work a retry duplicated.
    pub fn duplicate_writes(&self) -> usize {
        let mut last: BTreeMap<(&str, &str), (&str, &[u8; 32])> = BTreeMap::new();
        let mut duplicates = 0;
        for (record, state) in &self.writes {
            let slot = (record.project.as_str(), record.name.as_str());
            let entry = (record.method.as_str(), state);
            if last.insert(slot, entry) == Some(entry) {
                duplicates += 1;
            }
        }
        duplicates
    }

    /// The connections of a project as stored (secrets in `secrets`).
    pub fn snapshot(&self, project: &str) -> Option<Vec<Connection>> {
        let connections = self.projects.get(project)?;
        Some(connections.values().map(|s| s.connection.clone()).collect())
    }
}

fn project_not_found(project: &str) -> Failure {
    Failure::new(404, "not_found", format!("Project '{project}' not found"))
}

/// Refuses a discriminator that is not one of the 14 types.
pub fn check_kind(kind: &str) -> Result<(), Failure> {
    if catalog().connection_type(kind).is_some() {
        return Ok(());
    }
    let valid = catalog().enums["ConnectionType"].join(", ");
    Err(Failure::bad_request(format!(
        "Invalid connection type: {kind}. Valid types: {valid}"
    )))
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

/// Required fields, enum values and the catalog's `require` rules.
fn validate(connection: &Connection) -> Result<(), Failure> {
    let body = connection.expose_body();
    let kind = &connection.kind;
    let mut problems = Vec::new();
    if connection.name.trim().is_empty() {
        problems.push(("name".to_string(), "must not be empty".to_string()));
    }
    for (field, spec) in catalog().all_fields(kind).filter(|(f, _)| *f != "name") {
        // The value the server would see: the sent one, or the documented default.
        let value = effective_value(&body, field, Some(spec));
        if spec.required && is_empty(Some(&value)) {
            problems.push((field.to_string(), "must not be empty".to_string()));
        }
        if let Some(message) = Some(&value)
            .filter(|v| !v.is_null())
            .and_then(|v| enum_problem(spec, v))
        {
            problems.push((field.to_string(), message));
        }
        if let Value::Object(map) = &value {
            let missing = spec.required_keys.iter().filter(|k| !map.contains_key(*k));
            problems.extend(missing.map(|k| (format!("{field}.{k}"), "is required".to_string())));
        }
    }
    let rules = catalog()
        .connection_type(kind)
        .map(|t| t.rules.as_slice())
        .unwrap_or_default();
    for rule in rules
        .iter()
        .filter(|r| r.applies(&body, |f| catalog().field(kind, f)))
    {
        for field in rule.require.iter().filter(|f| is_empty(body.get(*f))) {
            let condition = rule.describe_condition();
            problems.push((field.clone(), format!("is required when {condition}")));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure {
        validation: problems,
        ..Failure::new(400, "validation_failed", "Validation failed".to_string())
    })
}

/// An enum violation of a value (or of an array's items).
fn enum_problem(spec: &FieldSpec, value: &Value) -> Option<String> {
    let (allowed, values): (_, Vec<&Value>) = match (spec.kind, value) {
        (Kind::Array, Value::Array(items)) => {
            (spec.items.as_ref()?.enum_values()?, items.iter().collect())
        }
        (_, Value::String(_)) => (spec.enum_values()?, vec![value]),
        _ => return None,
    };
    let bad = values
        .iter()
        .find(|v| !v.as_str().is_some_and(|s| allowed.iter().any(|a| a == s)))?;
    Some(format!(
        "{} is not one of [{}]",
        crate::catalog::scalar_text(bad),
        allowed.join(", ")
    ))
}

/// Applies the server-side rewrites the catalog documents (logback paths, pod name).
fn rewritten(mut connection: Connection) -> Connection {
    for (field, spec) in catalog().all_fields(&connection.kind) {
        let Some(rewrite) = spec.rewrite else {
            continue;
        };
        let current = connection.fields.get(field).and_then(Value::as_str);
        let new = match (rewrite, current) {
            (Rewrite::TrailingSlash, Some(s)) if !s.ends_with('/') => format!("{s}/"),
            (Rewrite::StripLeadingSlash, Some(s)) if s.starts_with('/') => {
                s.trim_start_matches('/').to_string()
            }
            (Rewrite::ServerFillsWhenEmpty, None | Some("")) => WORKER_HOSTNAME.to_string(),
            _ => continue,
        };
        connection
            .fields
            .insert(field.to_string(), Value::String(new));
    }
    connection
}

/// The value a response shows for an unset field: the default, else an empty value of
/// the field's kind.
fn unset_value(spec: &FieldSpec) -> Value {
    match (&spec.default, spec.kind) {
        (Some(default), _) => default.clone(),
        (None, Kind::Array) => json!([]),
        (None, Kind::Map) => json!({}),
        _ => Value::Null,
    }
}

/// A stored connection as the API answers it: every catalog field of the type, the
/// extra `id` and `projectId` a live server may send, reference names as IDs, and
/// hidden fields null.
fn render(project: &str, stored: &Stored, view: View, get_masking: GetMasking) -> String {
    let connection = &stored.connection;
    let body = connection.expose_body();
    let mut out = Body::new();
    out.insert("id".into(), Value::String(stored.id.clone()));
    out.insert("projectId".into(), Value::String(reference_id(project)));
    for (field, spec) in catalog().all_fields(&connection.kind) {
        if field == "name" {
            continue;
        }
        let value = body
            .get(field)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| unset_value(spec));
        if let Some(response_name) = &spec.response_name {
            let id = value
                .as_str()
                .map(reference_id)
                .map_or(Value::Null, Value::String);
            out.insert(response_name.clone(), id);
            continue;
        }
        let hidden = match view {
            View::List => spec.hidden_in_list(),
            View::Get => get_masking == GetMasking::TypePages && spec.masked_in_get,
        };
        out.insert(field.to_string(), if hidden { Value::Null } else { value });
    }
    wire::encode_body(&connection.kind, &connection.name, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(name: &str, password: &str) -> Connection {
        let body = json!({"host": "smtp", "auth": true, "username": "u", "password": password});
        Connection::from_body("email", name, body.as_object().unwrap().clone(), false)
    }

    fn store() -> Store {
        let mut store = Store::default();
        store.add_project("P");
        store
    }

    #[test]
    fn names_are_case_insensitive_and_duplicates_refused() {
        let mut s = store();
        s.create("P", "Mail", email("Mail", "pw")).unwrap();
        let again = s.create("P", "MAIL", email("MAIL", "pw")).unwrap_err();
        assert_eq!(again.description, "Connection (name: MAIL) already exists!");
        assert!(s.get("P", "mail").is_ok());
    }

    #[test]
    fn validation_lists_required_and_rule_fields() {
        let body = json!({"auth": true, "port": 25});
        let c = Connection::from_body("email", "m", body.as_object().unwrap().clone(), false);
        let err = store().create("P", "m", c).unwrap_err();
        assert_eq!(err.error, "validation_failed");
        let fields: Vec<&str> = err.validation.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["host", "username", "password"]);
    }

    #[test]
    fn enum_values_are_checked() {
        let body = json!({"syslogServerHostname": "h", "syslogSeverity": "LOUD"});
        let c = Connection::from_body("syslog", "s", body.as_object().unwrap().clone(), false);
        let err = store().create("P", "s", c).unwrap_err();
        assert_eq!(err.validation[0].0, "syslogSeverity");
        assert!(err.validation[0].1.starts_with("LOUD is not one of"));
    }

    #[test]
    fn required_map_keys_are_checked() {
        let body =
            json!({"topicName": "t", "propertiesMap": {"bootstrap.servers": {"value": "b"}}});
        let c = Connection::from_body("kafka", "k", body.as_object().unwrap().clone(), false);
        let err = store().create("P", "k", c).unwrap_err();
        let fields: Vec<&str> = err.validation.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "propertiesMap.key.serializer",
                "propertiesMap.value.serializer"
            ]
        );
    }

    #[test]
    fn an_identical_put_is_not_a_write() {
        let mut s = store();
        s.create("P", "m", email("m", "pw")).unwrap();
        s.update("P", "m", email("m", "pw")).unwrap();
        s.update("P", "m", email("m", "pw2")).unwrap();
        assert_eq!(s.write_log().len(), 2);
        assert_eq!(s.duplicate_writes(), 0);
    }

    #[test]
    fn logback_values_are_rewritten() {
        let body = json!({"logPath": "/var/log", "logFileName": "/traffic"});
        let c = Connection::from_body("logback", "l", body.as_object().unwrap().clone(), false);
        let stored = store().create("P", "l", c).unwrap();
        assert_eq!(stored.fields["logPath"], "/var/log/");
        assert_eq!(stored.fields["logFileName"], "traffic");
        assert_eq!(stored.fields["logPodName"], WORKER_HOSTNAME);
    }
}
