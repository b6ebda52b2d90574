//! The wire codec: the only place that knows how connections are spelled on the wire.
//!
//! - The discriminator `type` comes first, then `name`, then the fields.
//! - Elasticsearch's access mode (`accessType` in the model, catalog `wire_name: type`)
//!   is a SECOND `type` key, written last; serde cannot build such an object, so request
//!   bodies are hand-built JSON text.
//! - Responses are decoded keeping duplicate keys ([`RawObject`]): a `type` whose value
//!   is a discriminator is the discriminator, any other `type` is the field whose wire
//!   name is `type`.
//! - Nested objects repeating a key are remembered ([`RawObject::nested_repeats`]), so a
//!   list item can be refused instead of read last-wins ([`decode_list_item`]).
//! - Kafka `propertiesMap` values sent as numbers or booleans become strings.
//! - Keys the catalog does not know for the type (`id`, `projectId`, ...) are dropped.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::catalog;
use crate::model::{Body, Connection};

/// The key of the discriminator, and of fields whose wire name collides with it.
const TYPE_KEY: &str = "type";

/// A JSON object as it arrived: every entry in order, duplicate keys kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawObject {
    /// The top-level entries in order, a repeated key as often as it came.
    pub entries: Vec<(String, Value)>,
    /// Repeated keys of nested objects (which keep their last value), as JSON Pointers
    /// of the key (`/elasticHostList/0/host`).
    pub nested_repeats: Vec<String>,
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawObjectVisitor)
    }
}

struct RawObjectVisitor;

impl<'de> Visitor<'de> for RawObjectVisitor {
    type Value = RawObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
        let mut raw = RawObject::default();
        while let Some(key) = map.next_key::<String>()? {
            let seed = CheckedValue {
                pointer: format!("/{}", crate::model::escape_pointer_token(&key)),
                repeats: &mut raw.nested_repeats,
            };
            let value = map.next_value_seed(seed)?;
            raw.entries.push((key, value));
        }
        Ok(raw)
    }
}

/// Reads a JSON value like `serde_json::Value` does, noting each repeated key of an
/// object in it (the pointer of the key) instead of silently keeping the last value.
struct CheckedValue<'a> {
    pointer: String,
    repeats: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for CheckedValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CheckedValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = CheckedValue {
                pointer: format!("{}/{}", self.pointer, items.len()),
                repeats: &mut *self.repeats,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let pointer = format!(
                "{}/{}",
                self.pointer,
                crate::model::escape_pointer_token(&key)
            );
            if object.contains_key(&key) {
                self.repeats.push(pointer.clone());
            }
            let seed = CheckedValue {
                pointer,
                repeats: &mut *self.repeats,
            };
            let value = map.next_value_seed(seed)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Why a body could not be read as a connection. Never holds a field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// The request body of a connection, secrets included. The text goes straight into a
/// request; it must never be logged.
pub fn encode_request(connection: &Connection) -> String {
    encode_body(
        &connection.kind,
        &connection.name,
        &connection.expose_body(),
    )
}

/// Encodes a model-form body as wire JSON text: `type`, `name`, the fields (wire
/// names), and last any field whose wire name is `type` (elasticsearch access mode).
pub fn encode_body(kind: &str, name: &str, body: &Body) -> String {
    let mut entries: Vec<(&str, &Value)> = Vec::with_capacity(body.len() + 2);
    let kind_value = Value::String(kind.to_string());
    let name_value = Value::String(name.to_string());
    entries.push((TYPE_KEY, &kind_value));
    entries.push(("name", &name_value));
    let mut last = Vec::new();
    for (field, value) in body {
        match wire_name(kind, field) {
            Some(TYPE_KEY) if value.is_null() => {}
            Some(TYPE_KEY) => last.push((TYPE_KEY, value)),
            Some(renamed) => entries.push((renamed, value)),
            None => entries.push((field.as_str(), value)),
        }
    }
    entries.extend(last);
    object_text(&entries)
}

/// Hand-built JSON object text, so that a key may appear twice.
pub fn object_text(entries: &[(&str, &Value)]) -> String {
    let parts: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}:{}", json_text(&Value::from(*key)), json_text(value)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// Compact JSON text of any serialisable value.
pub fn json_text<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("JSON values always serialise")
}

/// The wire name of a model field, when it differs.
fn wire_name(kind: &str, field: &str) -> Option<&'static str> {
    catalog().field(kind, field)?.wire_name.as_deref()
}

/// The model field whose wire name is `key` (elasticsearch `type` -> `accessType`).
fn model_name_for_wire(kind: &str, key: &str) -> Option<&'static str> {
    catalog()
        .all_fields(kind)
        .find(|(_, spec)| spec.wire_name.as_deref() == Some(key))
        .map(|(name, _)| name)
}

/// Whether the type knows this response key (a field, or a field's response name).
fn is_known_key(kind: &str, key: &str) -> bool {
    catalog()
        .all_fields(kind)
        .any(|(name, spec)| name == key || spec.response_name.as_deref() == Some(key))
}

/// Whether a value is one of the 14 discriminators.
fn is_discriminator(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| catalog().connection_type(s).is_some())
}

/// Splits a wire object into (kind, name, model-form body with secrets still inline).
/// `kind_hint` is the list's `?type=`, used when the discriminator is missing.
pub fn decode_object(
    raw: RawObject,
    kind_hint: Option<&str>,
) -> Result<(String, String, Body), DecodeError> {
    let kind = find_kind(&raw, kind_hint)?;
    let mut name = None;
    // At most this many fields are kept: sized once, as every current connection is held.
    let mut body = Body::with_capacity(raw.entries.iter().filter(|(_, v)| !v.is_null()).count());
    let mut discriminator_seen = false;
    for (key, value) in raw.entries {
        if key == TYPE_KEY && !discriminator_seen && value.as_str() == Some(kind.as_str()) {
            discriminator_seen = true;
        } else if key == "name" {
            name = value.as_str().map(str::to_string);
        } else if value.is_null() {
            // Absent and null are the same value (DESIGN.md 4.2); servers answer every
            // field, mostly null, and keeping them would double what a plan holds.
        } else if let Some(field) = model_name_for_wire(&kind, &key) {
            body.insert(field.to_string(), value);
        } else if key != TYPE_KEY && is_known_key(&kind, &key) {
            body.insert(key, value);
        } else {
            tracing::trace!(key = %crate::diag::printable(&key), kind = %kind, "ignoring a key unknown to the type");
        }
    }
    let name = name.ok_or_else(|| DecodeError(format!("a {kind} connection without a name")))?;
    normalise_map_values(&kind, &mut body);
    Ok((kind, name, body))
}

/// The discriminator of an object: the first `type` that names a connection type, or
/// the hint.
fn find_kind(raw: &RawObject, kind_hint: Option<&str>) -> Result<String, DecodeError> {
    let from_body = raw
        .entries
        .iter()
        .find(|(key, value)| key == TYPE_KEY && is_discriminator(value))
        .and_then(|(_, value)| value.as_str());
    from_body
        .or(kind_hint)
        .map(str::to_string)
        .ok_or_else(|| DecodeError("a connection without a known `type`".to_string()))
}

/// Map values sent as numbers or booleans (kafka `propertiesMap` `value`) become
/// strings, as the catalog's MapValue says.
fn normalise_map_values(kind: &str, body: &mut Body) {
    for (field, spec) in catalog().all_fields(kind) {
        let Some(value_spec) = spec.values.as_deref() else {
            continue;
        };
        let Some(Value::Object(map)) = body.get_mut(field) else {
            continue;
        };
        let string_fields: Vec<&str> = value_spec
            .object_spec()
            .map(|o| {
                o.fields
                    .iter()
                    .filter(|(_, f)| f.kind == crate::catalog::Kind::String)
                    .map(|(n, _)| n.as_str())
                    .collect()
            })
            .unwrap_or_default();
        for entry in map.values_mut() {
            for name in &string_fields {
                if let Some(slot) = entry.get_mut(*name) {
                    stringify_scalar(slot);
                }
            }
        }
    }
}

fn stringify_scalar(slot: &mut Value) {
    if matches!(slot, Value::Number(_) | Value::Bool(_)) {
        *slot = Value::String(slot.to_string());
    }
}

/// Decodes one item of an answer after checking that it can be trusted: its `type` is
/// `kind` (the list's `?type=`; any discriminator for a single GET, `None`), no key is
/// repeated at any depth (but elasticsearch's discriminator and access-mode `type`),
/// and it has one non-empty string `name`. The error lists every problem and names the
/// item by its name when it has one (printable); never a field value.
pub fn decode_list_item(raw: RawObject, kind: Option<&str>) -> Result<Connection, DecodeError> {
    let name = raw
        .entries
        .iter()
        .find(|(key, _)| key == "name")
        .and_then(|(_, v)| v.as_str())
        .filter(|n| !n.is_empty());
    let mut problems = type_problems(&raw, kind);
    let effective = kind.or_else(|| find_kind(&raw, None).ok().and_then(|k| catalog_kind(&k)));
    problems.extend(repeated_keys(&raw, effective));
    if name.is_none() {
        problems.push("has no usable `name` (missing, empty or not a string)".to_string());
    }
    if !problems.is_empty() {
        let label = name.map_or(String::new(), |n| {
            format!("`{}` ", crate::diag::printable(n))
        });
        return Err(DecodeError(format!("{label}{}", problems.join(", "))));
    }
    decode_connection(raw, kind)
}

/// The item's `type` keys against the requested kind: one discriminator, equal to it
/// (a list item may leave it out: the list's type is meant); besides it at most one
/// field whose wire name is `type`, holding a value of its enum (elasticsearch).
fn type_problems(raw: &RawObject, kind: Option<&str>) -> Vec<String> {
    let types: Vec<&Value> = raw
        .entries
        .iter()
        .filter(|(key, _)| key == TYPE_KEY)
        .map(|(_, v)| v)
        .collect();
    let found = types
        .iter()
        .find(|v| is_discriminator(v))
        .and_then(|v| v.as_str());
    let Some(effective) = kind.or(found) else {
        return vec!["has no known `type`".to_string()];
    };
    let access_field = model_name_for_wire(effective, TYPE_KEY);
    let mut problems = Vec::new();
    let (mut discriminators, mut access_modes) = (0, 0);
    for value in &types {
        let Some(text) = value.as_str() else {
            problems.push("has a `type` that is not a string".to_string());
            continue;
        };
        let shown = crate::diag::printable(text);
        if is_discriminator(value) {
            discriminators += 1;
            if text != effective {
                problems.push(format!(
                    "is of type `{shown}`, not the requested `{effective}`"
                ));
            }
        } else if access_field.is_some_and(|f| is_enum_value(effective, f, value)) {
            access_modes += 1;
        } else {
            problems.push(format!("has the unknown type `{shown}`"));
        }
    }
    if discriminators > 1 || access_modes > 1 {
        problems.push("has more than one connection type or access mode `type`".to_string());
    }
    problems
}

/// The catalog's own spelling of a discriminator.
fn catalog_kind(kind: &str) -> Option<&'static str> {
    crate::catalog::type_names().find(|k| *k == kind)
}

/// Whether a value is one of the enum values of a field (elasticsearch access mode).
fn is_enum_value(kind: &str, field: &str, value: &Value) -> bool {
    let catalog = catalog();
    catalog
        .field(kind, field)
        .and_then(|spec| spec.enum_name.as_deref())
        .and_then(|name| catalog.enums.get(name))
        .is_some_and(|values| {
            value
                .as_str()
                .is_some_and(|v| values.iter().any(|e| e == v))
        })
}

/// Keys an item repeats: top-level ones (a key whose wire name is also the
/// discriminator's may come twice), then nested ones.
fn repeated_keys(raw: &RawObject, kind: Option<&str>) -> Vec<String> {
    let allowed_twice = kind.is_some_and(|k| model_name_for_wire(k, TYPE_KEY).is_some());
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &raw.entries {
        if seen.contains(&key.as_str()) {
            continue;
        }
        seen.push(key);
        let count = raw.entries.iter().filter(|(k, _)| k == key).count();
        let limit = if key == TYPE_KEY && allowed_twice {
            2
        } else {
            1
        };
        if count > limit {
            problems.push(format!(
                "repeats the key `{}` ({count} times)",
                crate::diag::printable(key)
            ));
        }
    }
    for pointer in &raw.nested_repeats {
        problems.push(format!(
            "repeats the key at `{}`",
            crate::diag::printable(pointer)
        ));
    }
    problems
}

/// Decodes a response object into a connection; secrets it carries go to `secrets`.
pub fn decode_connection(
    raw: RawObject,
    kind_hint: Option<&str>,
) -> Result<Connection, DecodeError> {
    let (kind, name, body) = decode_object(raw, kind_hint)?;
    Ok(Connection::from_body(&kind, &name, body, false))
}

/// Parses JSON text whose top level is an object, keeping duplicate keys. The error
/// names the place only, never the content (a body may hold secrets).
pub fn parse_object(text: &str) -> Result<RawObject, DecodeError> {
    serde_json::from_str(text).map_err(|e| describe_json_error(&e))
}

/// A JSON error by category and place, without the offending text. A repeated key of
/// an envelope is named (the key is one of our own field names, never a value).
pub fn describe_json_error(error: &serde_json::Error) -> DecodeError {
    let text = error.to_string();
    if let Some(key) = text
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split('`').next())
    {
        return DecodeError(format!(
            "repeats the key `{}` at line {} column {}",
            crate::diag::printable(key),
            error.line(),
            error.column()
        ));
    }
    let category = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "unexpected JSON shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    DecodeError(format!(
        "{category} at line {} column {}",
        error.line(),
        error.column()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Body {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn elasticsearch_writes_two_type_keys_discriminator_first() {
        let fields = body(json!({"accessType": "READ", "administrate": true}));
        let text = encode_body("elasticsearch", "es", &fields);
        assert_eq!(
            text,
            r#"{"type":"elasticsearch","name":"es","administrate":true,"type":"READ"}"#
        );
    }

    #[test]
    fn elasticsearch_round_trips_through_duplicate_keys() {
        let text = r#"{"type":"elasticsearch","name":"es","id":"x","administrate":true,"type":"READ_WRITE"}"#;
        let (kind, name, fields) = decode_object(parse_object(text).unwrap(), None).unwrap();
        assert_eq!((kind.as_str(), name.as_str()), ("elasticsearch", "es"));
        assert_eq!(
            fields,
            body(json!({"administrate": true, "accessType": "READ_WRITE"}))
        );
    }

    #[test]
    fn a_lone_access_type_uses_the_list_hint() {
        let text = r#"{"name":"es","type":"READ"}"#;
        let (kind, _, fields) =
            decode_object(parse_object(text).unwrap(), Some("elasticsearch")).unwrap();
        assert_eq!(kind, "elasticsearch");
        assert_eq!(fields["accessType"], "READ");
        let missing = decode_object(parse_object(text).unwrap(), None);
        assert!(missing.is_err());
    }

    #[test]
    fn kafka_ids_are_kept_and_map_values_become_strings() {
        let text = r#"{"type":"kafka","name":"k","keyStoreId":"ks-1","trustStoreName":"ts",
            "propertiesMap":{"max.block.ms":{"value":3000,"valueType":"INTEGER"}}}"#;
        let c = decode_connection(parse_object(text).unwrap(), None).unwrap();
        assert_eq!(c.fields["keyStoreId"], "ks-1");
        assert_eq!(c.fields["trustStoreName"], "ts");
        assert_eq!(c.fields["propertiesMap"]["max.block.ms"]["value"], "3000");
    }

    #[test]
    fn secrets_land_in_secrets_and_encode_back() {
        let text = r#"{"type":"email","name":"m","host":"h","password":"canary-pw"}"#;
        let c = decode_connection(parse_object(text).unwrap(), None).unwrap();
        assert!(c.fields["password"].is_null());
        assert!(!format!("{c:?}").contains("canary-pw"));
        assert_eq!(
            encode_request(&c),
            r#"{"type":"email","name":"m","host":"h","password":"canary-pw"}"#
        );
    }

    fn item_problems(text: &str, kind: Option<&str>) -> String {
        decode_list_item(parse_object(text).unwrap(), kind)
            .map(|c| c.name)
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn nested_repeated_keys_are_remembered_by_pointer() {
        let raw =
            parse_object(r#"{"a":{"x":1,"x":2},"l":[{"y~/":1,"y~/":2}],"m":{"k":{"v":1}},"a":3}"#)
                .unwrap();
        assert_eq!(raw.entries.len(), 4);
        assert_eq!(raw.nested_repeats, ["/a/x", "/l/0/y~0~1"]);
        assert_eq!(raw.entries[2].1, json!({"k": {"v": 1}}));
    }

    #[test]
    fn list_items_are_checked_before_they_are_decoded() {
        let ok = r#"{"type":"elasticsearch","name":"es","type":"READ"}"#;
        assert_eq!(item_problems(ok, Some("elasticsearch")), "es");
        assert_eq!(item_problems(ok, None), "es");
        let lone = r#"{"name":"es","type":"READ_WRITE"}"#;
        assert_eq!(item_problems(lone, Some("elasticsearch")), "es");
        assert_eq!(item_problems(lone, None), "error: `es` has no known `type`");
        assert_eq!(item_problems(r#"{"name":"m"}"#, Some("email")), "m");
        let cases = [
            (
                r#"{"type":"kafka","name":"k"}"#,
                "error: `k` is of type `kafka`, not the requested `email`",
            ),
            (
                r#"{"type":"READ","name":"r"}"#,
                "error: `r` has the unknown type `READ`",
            ),
            (
                r#"{"type":"email","name":"m","port":1,"port":2}"#,
                "error: `m` repeats the key `port` (2 times)",
            ),
            (
                r#"{"type":"email","host":"h"}"#,
                "error: has no usable `name` (missing, empty or not a string)",
            ),
            (
                r#"{"type":"email\n","name":"a\u001b"}"#,
                "error: `a\\u{1b}` has the unknown type `email\\n`",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(item_problems(text, Some("email")), expected, "{text}");
        }
        let twice = r#"{"type":"elasticsearch","name":"es","type":"elasticsearch"}"#;
        assert_eq!(
            item_problems(twice, Some("elasticsearch")),
            "error: `es` has more than one connection type or access mode `type`"
        );
    }

    #[test]
    fn json_errors_never_echo_content() {
        let err = parse_object(r#"{"password": "canary-secret" oops}"#).unwrap_err();
        assert!(!err.0.contains("canary"));
        assert!(err.0.contains("line 1"));
    }
}
