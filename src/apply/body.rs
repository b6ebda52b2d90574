//! Complete request bodies: the API wants every field on update, so a resolved desired
//! connection gets every catalog field of its type (the documented default or null when
//! absent), and fields the user told us to ignore keep the server's current value.

use serde_json::Value;

use crate::catalog::catalog;
use crate::model::{Connection, Secrets, pointer_get, pointer_mut, pointer_tokens};

/// The body to send: `resolved` (a desired connection with references resolved) with every
/// catalog field of its type present, and for each JSON Pointer in `ignore_fields` the
/// value `current` holds (so an ignored field is never overwritten).
pub(super) fn complete(
    mut resolved: Connection,
    current: Option<&Connection>,
    ignore_fields: &[String],
) -> Connection {
    fill_absent_fields(&mut resolved);
    if let Some(current) = current {
        for pointer in ignore_fields {
            keep_current_value(&mut resolved, current, pointer);
        }
    }
    resolved
}

/// Adds every catalog field the connection lacks, with its documented default or null.
fn fill_absent_fields(connection: &mut Connection) {
    for (name, spec) in catalog().all_fields(&connection.kind) {
        if name == "name" || connection.fields.contains_key(name) {
            continue;
        }
        let value = spec.default.clone().unwrap_or(Value::Null);
        connection.fields.insert(name.to_string(), value);
    }
}

/// Replaces the value at `pointer` with the current server value (secret or not).
fn keep_current_value(body: &mut Connection, current: &Connection, pointer: &str) {
    body.secrets = secrets_outside(&body.secrets, pointer);
    let current_value = pointer_get(&current.fields, pointer)
        .cloned()
        .unwrap_or(Value::Null);
    set_at_pointer(&mut body.fields, pointer, current_value);
    for (secret_pointer, value) in current.secrets.iter() {
        if is_within(secret_pointer, pointer) {
            body.secrets.insert(secret_pointer.clone(), value.clone());
        }
    }
}

/// The secrets that do not live at or below `pointer`.
fn secrets_outside(secrets: &Secrets, pointer: &str) -> Secrets {
    let mut kept = Secrets::default();
    for (p, value) in secrets.iter().filter(|(p, _)| !is_within(p, pointer)) {
        kept.insert(p.clone(), value.clone());
    }
    kept
}

/// Whether `pointer` is `ancestor` or lies below it.
fn is_within(pointer: &str, ancestor: &str) -> bool {
    pointer == ancestor
        || pointer
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Sets a value by JSON Pointer; a top-level field is inserted when absent, a nested one
/// only when its parent exists (an ignored entry of a missing map has nothing to keep).
fn set_at_pointer(fields: &mut crate::model::Body, pointer: &str, value: Value) {
    if let Some(slot) = pointer_mut(fields, pointer) {
        *slot = value;
        return;
    }
    if let [only] = pointer_tokens(pointer).as_slice() {
        fields.insert(only.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;

    fn connection(kind: &str, fields: Value) -> Connection {
        Connection::from_body(kind, "alerts", fields.as_object().unwrap().clone(), false)
    }

    #[test]
    fn absent_fields_take_defaults_or_null() {
        let body = complete(connection("email", json!({"host": "h"})), None, &[]);
        assert_eq!(body.fields["port"], 587);
        assert_eq!(body.fields["enabled"], true);
        assert_eq!(body.fields["additionalProperties"], json!([]));
        assert_eq!(body.fields["username"], Value::Null);
        assert!(
            !body.fields.contains_key("name"),
            "name is the connection's own"
        );
        let expected = catalog().all_fields("email").count() - 1;
        assert_eq!(body.fields.len(), expected);
    }

    #[test]
    fn given_values_are_kept() {
        let body = complete(
            connection("email", json!({"host": "h", "port": 25})),
            None,
            &[],
        );
        assert_eq!(body.fields["port"], 25);
    }

    #[test]
    fn ignored_fields_keep_the_current_value() {
        let desired = connection("email", json!({"host": "new", "port": 25}));
        let current = connection("email", json!({"host": "old", "port": 587}));
        let body = complete(desired, Some(&current), &["/host".to_string()]);
        assert_eq!(body.fields["host"], "old");
        assert_eq!(body.fields["port"], 25);
    }

    #[test]
    fn an_ignored_secret_keeps_the_current_secret() {
        let desired = connection("email", json!({"host": "h", "password": "desired-pw"}));
        let current = connection("email", json!({"host": "h", "password": "current-pw"}));
        let body = complete(desired, Some(&current), &["/password".to_string()]);
        let kept = body.secrets.get("/password").unwrap().expose_secret();
        assert_eq!(kept, "current-pw");
        assert_eq!(body.fields["password"], Value::Null);
    }

    #[test]
    fn an_ignored_map_entry_keeps_the_current_entry() {
        let desired = connection(
            "kafka",
            json!({"topicName": "t", "propertiesMap": {"acks": {"value": "1"}}}),
        );
        let current = connection(
            "kafka",
            json!({"topicName": "t", "propertiesMap": {"acks": {"value": "all"}}}),
        );
        let body = complete(
            desired,
            Some(&current),
            &["/propertiesMap/acks/value".to_string()],
        );
        assert_eq!(body.fields["propertiesMap"]["acks"]["value"], "all");
    }

    #[test]
    fn pointer_ancestry_respects_token_boundaries() {
        assert!(is_within("/a/b", "/a"));
        assert!(is_within("/a", "/a"));
        assert!(!is_within("/ab", "/a"));
    }
}
