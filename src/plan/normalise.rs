//! Normalisation before comparing, all derived from the catalog: absent == null, documented
//! defaults on both sides, only known fields, set-like lists unordered, maps by key, the
//! server's rewrites, scalars as the field's type, empty collections == null.
//!
//! Secrets never leave `SecretString` here: before comparing, each secret slot is replaced
//! by a marker saying only whether the two sides hold the same value.

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::{FieldSpec, Kind, Rewrite, catalog};
use crate::model::{
    Body, Connection, pointer_get, pointer_mut, pointer_remove, sensitive_pointers,
};

/// Marker of a secret both sides hold with the same value.
const SAME_SECRET: &str = "\u{0}secret:same";
/// Marker of a desired secret that differs from (or is missing on) the current side.
const DESIRED_SECRET: &str = "\u{0}secret:desired";
/// Marker of a current secret that differs from (or is missing on) the desired side.
const CURRENT_SECRET: &str = "\u{0}secret:current";

/// The comparable forms of a desired (resolved) and a current connection.
#[derive(Debug)]
pub(crate) struct Comparison {
    /// Desired side, normalised.
    pub desired: Body,
    /// Current side, normalised.
    pub current: Body,
    /// Pointers the server did not return (write-only): left out of the comparison.
    pub unknown: Vec<String>,
}

/// Builds the comparable forms of both sides. `ignore` pointers are left out.
pub(crate) fn compare_view(
    desired: &Connection,
    current: &Connection,
    ignore: &[String],
) -> Comparison {
    compare_view_leaving_out(desired, &Body::new(), current, ignore, &[])
}

/// [`compare_view`] that also leaves `uncompared` pointers out of the comparison (values
/// a preview could not resolve) while still telling, in `unknown`, whether the server
/// returns them (so `--rotate` knows what it re-sends). A field `desired` lacks is taken
/// from `under` (a resolved overlay's template), so no whole copy is made.
pub(crate) fn compare_view_leaving_out(
    desired: &Connection,
    under: &Body,
    current: &Connection,
    ignore: &[String],
    uncompared: &[String],
) -> Comparison {
    let mut d = normalise_by(&desired.kind, |name| {
        desired.fields.get(name).or_else(|| under.get(name))
    });
    let mut c = normalise(&current.kind, &current.fields);
    mark_secrets(desired, current, &mut d, &mut c);
    let unknown: Vec<String> = write_only_pointers(desired, under, &d, &c)
        .into_iter()
        .filter(|p| !is_within_any(p, ignore))
        .collect();
    for pointer in &unknown {
        if let Some(slot) = pointer_mut(&mut d, pointer) {
            *slot = Value::Null;
        }
    }
    accept_server_filled_values(&desired.kind, &mut d, &c);
    for pointer in ignore.iter().chain(uncompared) {
        pointer_remove(&mut d, pointer);
        pointer_remove(&mut c, pointer);
    }
    Comparison {
        desired: d,
        current: c,
        unknown,
    }
}

/// Whether a pointer is one of `roots` or lies inside one.
fn is_within_any(pointer: &str, roots: &[String]) -> bool {
    roots.iter().any(|root| {
        pointer == root
            || pointer
                .strip_prefix(root.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Pointers a desired connection sets but whose current value is unknown: fields the
/// server may mask (secrets, `masked_in_get`, keystore names answered as IDs) and
/// sensitive entries, when the current side holds null there.
fn write_only_pointers(desired: &Connection, under: &Body, d: &Body, c: &Body) -> Vec<String> {
    let mut candidates: Vec<String> = catalog()
        .all_fields(&desired.kind)
        .filter(|(_, spec)| spec.hidden_in_list())
        .map(|(name, _)| format!("/{}", crate::model::escape_pointer_token(name)))
        .collect();
    let sensitive = [&desired.fields, under]
        .into_iter()
        .flat_map(|fields| sensitive_pointers(&desired.kind, fields));
    for pointer in sensitive {
        if !candidates.contains(&pointer) {
            candidates.push(pointer);
        }
    }
    candidates
        .into_iter()
        .filter(|p| pointer_get(d, p).is_some_and(|v| !v.is_null()))
        .filter(|p| parent_exists(c, p) && pointer_get(c, p).is_none_or(Value::is_null))
        .collect()
}

fn parent_exists(body: &Body, pointer: &str) -> bool {
    match pointer.rfind('/') {
        Some(0) | None => true,
        Some(i) => pointer_get(body, &pointer[..i]).is_some_and(|v| !v.is_null()),
    }
}

/// An empty desired value of a field the server fills in (logback `logPodName`) accepts
/// whatever the server holds.
fn accept_server_filled_values(kind: &str, d: &mut Body, c: &Body) {
    for (name, spec) in catalog().all_fields(kind) {
        if spec.rewrite != Some(Rewrite::ServerFillsWhenEmpty) {
            continue;
        }
        let empty = d.get(name).is_none_or(|v| v.is_null() || v == "");
        if empty {
            d.insert(
                name.to_string(),
                c.get(name).cloned().unwrap_or(Value::Null),
            );
        }
    }
}

/// Puts a marker in each secret slot of both normalised bodies: the same marker on both
/// sides when the values are equal, different ones otherwise. Normalising keeps every
/// slot a secret can sit in where it was (no sensitive entry lies in a set-like list, the
/// one structure normalising reorders), so marking after it is marking before it.
fn mark_secrets(desired: &Connection, current: &Connection, d: &mut Body, c: &mut Body) {
    for (pointer, value) in desired.secrets.iter() {
        let same = current
            .secrets
            .get(pointer)
            .is_some_and(|other| other.expose_secret() == value.expose_secret());
        let (mine, theirs) = if same {
            (SAME_SECRET, Some(SAME_SECRET))
        } else {
            (DESIRED_SECRET, None)
        };
        set_marker(d, pointer, mine);
        if let Some(marker) = theirs {
            set_marker(c, pointer, marker);
        }
    }
    for (pointer, _) in current.secrets.iter() {
        if pointer_get(c, pointer).is_none_or(|v| v != SAME_SECRET) {
            set_marker(c, pointer, CURRENT_SECRET);
        }
    }
}

fn set_marker(body: &mut Body, pointer: &str, marker: &str) {
    if let Some(slot) = pointer_mut(body, pointer) {
        *slot = Value::String(marker.to_string());
    }
}

/// The comparable form of a connection's fields: every field the type knows (except
/// `name`), in catalog order, with defaults, rewrites and coercions applied.
pub fn normalise(kind: &str, fields: &Body) -> Body {
    normalise_by(kind, |name| fields.get(name))
}

/// [`normalise`] of the fields `field` looks up by name.
fn normalise_by<'a>(kind: &str, field: impl Fn(&str) -> Option<&'a Value>) -> Body {
    let known = catalog()
        .all_fields(kind)
        .filter(|(name, _)| *name != "name");
    let mut out = Body::with_capacity(known.clone().count());
    for (name, spec) in known {
        out.insert(name.to_string(), normalise_value(spec, field(name)));
    }
    out
}

fn normalise_value(spec: &FieldSpec, value: Option<&Value>) -> Value {
    let value = match value {
        Some(v) if !v.is_null() => v.clone(),
        _ => spec.default.clone().unwrap_or(Value::Null),
    };
    if value.is_null() {
        return value;
    }
    let normalised = match spec.kind {
        Kind::String => rewrite(spec.rewrite, as_string(value)),
        Kind::Integer | Kind::Number => as_number(value),
        Kind::Boolean => as_boolean(value),
        Kind::Object => normalise_object(spec, value),
        Kind::Array => normalise_array(spec, value),
        Kind::Map => normalise_map(spec, value),
        Kind::Any => value,
    };
    empty_as_null(normalised)
}

fn empty_as_null(value: Value) -> Value {
    match &value {
        Value::Array(items) if items.is_empty() => Value::Null,
        Value::Object(map) if map.is_empty() => Value::Null,
        _ => value,
    }
}

/// Scalars sent where a string is expected (kafka property values) compare as text.
fn as_string(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other,
    }
}

fn as_number(value: Value) -> Value {
    match &value {
        Value::String(s) => serde_json::from_str::<serde_json::Number>(s.trim())
            .map(Value::Number)
            .unwrap_or(value),
        _ => value,
    }
}

fn as_boolean(value: Value) -> Value {
    match value.as_str() {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        _ => value,
    }
}

fn rewrite(rule: Option<Rewrite>, value: Value) -> Value {
    let Value::String(s) = value else {
        return value;
    };
    let rewritten = match rule {
        Some(Rewrite::TrailingSlash) if !s.is_empty() && !s.ends_with('/') => format!("{s}/"),
        Some(Rewrite::StripLeadingSlash) => s.trim_start_matches('/').to_string(),
        _ => s,
    };
    Value::String(rewritten)
}

fn normalise_object(spec: &FieldSpec, value: Value) -> Value {
    let (Some(object), Value::Object(map)) = (spec.object_spec(), &value) else {
        return value;
    };
    Value::Object(
        object
            .fields
            .iter()
            .map(|(name, field)| (name.clone(), normalise_value(field, map.get(name))))
            .collect(),
    )
}

fn normalise_array(spec: &FieldSpec, value: Value) -> Value {
    let Value::Array(items) = value else {
        return value;
    };
    let mut items: Vec<Value> = match spec.items.as_deref() {
        Some(item) => items
            .iter()
            .map(|v| normalise_value(item, Some(v)))
            .collect(),
        None => items,
    };
    if spec.set {
        items.sort_by_cached_key(|v| v.to_string());
        items.dedup();
    }
    Value::Array(items)
}

fn normalise_map(spec: &FieldSpec, value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let normalised: Map<String, Value> = keys
        .into_iter()
        .map(|k| {
            let v = match spec.values.as_deref() {
                Some(values) => normalise_value(values, map.get(k)),
                None => map[k].clone(),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(normalised)
}

/// The digest of a current connection's canonical non-secret fields: sha256 over its type,
/// name and normalised fields, leaving out everything the server may mask (so a list and a
/// single GET of the same connection agree).
pub fn fingerprint(current: &Connection) -> String {
    let mut fields = normalise(&current.kind, &current.fields);
    let hidden: Vec<String> = catalog()
        .all_fields(&current.kind)
        .filter(|(_, spec)| spec.hidden_in_list())
        .map(|(name, _)| name.to_string())
        .collect();
    for name in hidden {
        fields.shift_remove(&name);
    }
    for pointer in sensitive_pointers(&current.kind, &current.fields) {
        pointer_remove(&mut fields, &pointer);
    }
    let canonical = serde_json::json!({
        "type": current.kind,
        "name": current.name,
        "fields": fields,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conn(kind: &str, v: Value) -> Connection {
        Connection::from_body(kind, "c", v.as_object().unwrap().clone(), false)
    }

    fn same(kind: &str, desired: Value, current: Value) -> bool {
        let view = compare_view(&conn(kind, desired), &conn(kind, current), &[]);
        view.desired == view.current
    }

    #[test]
    fn absent_null_and_default_are_equal() {
        assert!(same(
            "email",
            json!({"host": "h"}),
            json!({"host": "h", "port": 587, "auth": null, "additionalProperties": []})
        ));
        assert!(!same(
            "email",
            json!({"host": "h"}),
            json!({"host": "h", "port": 25})
        ));
    }

    #[test]
    fn set_like_lists_compare_unordered_and_lists_in_order() {
        let a = json!({"topicName": "t", "protocolTypes": ["TLS_1_2", "TLS_1_3"]});
        let b = json!({"topicName": "t", "protocolTypes": ["TLS_1_3", "TLS_1_2"]});
        assert!(same("kafka", a, b));
        let hosts = |x: &str, y: &str| json!({"elasticHostList": [{"host": x}, {"host": y}]});
        assert!(!same("elasticsearch", hosts("a", "b"), hosts("b", "a")));
    }

    #[test]
    fn nested_defaults_and_number_strings_in_maps() {
        assert!(same(
            "elasticsearch",
            json!({"elasticHostList": [{"host": "e"}]}),
            json!({"elasticHostList": [{"host": "e", "port": 9200, "scheme": "http"}]})
        ));
        assert!(same(
            "kafka",
            json!({"propertiesMap": {"retries": {"value": "3"}, "acks": {"value": "all"}}}),
            json!({"propertiesMap": {"acks": {"value": "all"}, "retries": {"value": 3}}})
        ));
    }

    #[test]
    fn logback_rewrites_and_server_filled_pod_name() {
        assert!(same(
            "logback",
            json!({"logPath": "/var/log", "logFileName": "/app", "logPodName": ""}),
            json!({"logPath": "/var/log/", "logFileName": "app", "logPodName": "worker-1"})
        ));
        assert!(!same(
            "logback",
            json!({"logPath": "/var/log", "logPodName": "pod-a"}),
            json!({"logPath": "/var/log/", "logPodName": "worker-1"})
        ));
    }

    #[test]
    fn masked_current_values_are_unknown_not_drift() {
        let desired = conn("database", json!({"jdbcUrl": "j", "password": "pw"}));
        let current = conn("database", json!({"jdbcUrl": "j", "password": null}));
        let view = compare_view(&desired, &current, &[]);
        assert_eq!(view.unknown, vec!["/password"]);
        assert_eq!(view.desired, view.current);
    }

    #[test]
    fn kafka_keystore_names_answered_as_ids_are_unknown() {
        let desired = conn("kafka", json!({"topicName": "t", "keyStoreName": "ks"}));
        let current = conn("kafka", json!({"topicName": "t", "keyStoreId": "id-1"}));
        let view = compare_view(&desired, &current, &[]);
        assert_eq!(view.unknown, vec!["/keyStoreName"]);
        assert_eq!(view.desired, view.current);
        let named = conn("kafka", json!({"topicName": "t", "keyStoreName": "other"}));
        assert!(!same(
            "kafka",
            json!({"topicName": "t", "keyStoreName": "ks"}),
            json!(named.fields)
        ));
    }

    #[test]
    fn readable_secrets_compare_without_leaving_their_wrapper() {
        let d = json!({"host": "h", "password": "canary-one"});
        assert!(same(
            "email",
            d.clone(),
            json!({"host": "h", "password": "canary-one"})
        ));
        let view = compare_view(
            &conn("email", d),
            &conn("email", json!({"host": "h", "password": "canary-two"})),
            &[],
        );
        assert_ne!(view.desired, view.current);
        assert!(!format!("{view:?}").contains("canary"));
    }

    #[test]
    fn ignored_write_only_fields_are_not_noted() {
        let desired = conn("database", json!({"jdbcUrl": "j", "password": "pw"}));
        let current = conn("database", json!({"jdbcUrl": "j"}));
        let view = compare_view(&desired, &current, &["/password".to_string()]);
        assert!(view.unknown.is_empty());
        assert!(is_within_any("/a/b", &["/a".to_string()]));
        assert!(!is_within_any("/ab", &["/a".to_string()]));
    }

    #[test]
    fn ignored_pointers_are_left_out() {
        let view = compare_view(
            &conn("email", json!({"host": "a", "port": 1})),
            &conn("email", json!({"host": "b", "port": 1})),
            &["/host".to_string()],
        );
        assert_eq!(view.desired, view.current);
    }

    #[test]
    fn fingerprints_ignore_secrets_and_masked_fields_but_see_the_rest() {
        let a = conn("database", json!({"jdbcUrl": "j", "password": "x"}));
        let b = conn(
            "database",
            json!({"jdbcUrl": "j", "password": null, "id": "9"}),
        );
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = conn("database", json!({"jdbcUrl": "k"}));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
