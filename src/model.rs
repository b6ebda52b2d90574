//! The connection as every step sees it: YAML field names (elasticsearch `accessType`),
//! the discriminator and name held apart, and every sensitive value split off into
//! [`Secrets`] so that it cannot reach Debug output, logs or files by accident.

use std::borrow::Cow;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::catalog::{FieldSpec, catalog};

/// A JSON object body.
pub type Body = Map<String, Value>;

/// One connection: desired (resolved or template) or current (read from the server).
#[derive(Debug, Clone)]
pub struct Connection {
    /// The discriminator (`email`, `kafka`, ..., `linux-script`).
    pub kind: String,
    /// The connection name.
    pub name: String,
    /// Every other field, in model form. Sensitive values are `null` here and live in
    /// `secrets`.
    pub fields: Body,
    /// Sensitive values by JSON Pointer into `fields` (`/password`,
    /// `/headerList/0/value`, `/propertiesMap/sasl.jaas.config/value`).
    pub secrets: Secrets,
}

impl Connection {
    /// Builds a connection from a body, moving every sensitive value the catalog names
    /// into `secrets`. `keep_references` leaves whole `${env:...}` strings in place (a
    /// template's references are printable; its literals are not).
    pub fn from_body(kind: &str, name: &str, mut fields: Body, keep_references: bool) -> Self {
        let mut secrets = Secrets::default();
        for pointer in sensitive_pointers(kind, &fields) {
            let Some(slot) = pointer_mut(&mut fields, &pointer) else {
                continue;
            };
            let keep = keep_references && slot.as_str().is_some_and(is_whole_reference);
            if slot.is_null() || keep {
                continue;
            }
            let text = match slot.take() {
                Value::String(s) => s,
                other => other.to_string(),
            };
            secrets.insert(pointer, SecretString::from(text));
        }
        Connection {
            kind: kind.to_string(),
            name: name.to_string(),
            fields,
            secrets,
        }
    }

    /// The whole body with secrets put back in. Only the wire encoder of a request body
    /// and the sandbox's store may call this; the result must never be logged or printed.
    pub fn expose_body(&self) -> Body {
        let mut body = self.fields.clone();
        for (pointer, secret) in self.secrets.iter() {
            if let Some(slot) = pointer_mut(&mut body, pointer) {
                *slot = Value::String(secret.expose_secret().to_string());
            }
        }
        body
    }
}

/// Whether a string is exactly one `${env:NAME}` or `${var:NAME}` reference.
pub fn is_whole_reference(s: &str) -> bool {
    s.strip_prefix("${env:")
        .or_else(|| s.strip_prefix("${var:"))
        .and_then(|rest| rest.strip_suffix('}'))
        .is_some_and(|name| !name.is_empty() && !name.contains(['{', '}', '$']))
}

/// Why a connection or project name cannot be used as a path parameter (DESIGN.md 1),
/// or `None` when it can: empty, `.` or `..` (a path segment a URL normalises away),
/// or holding `/`, `\\`, `?`, `#`, `%`, whitespace or a control character.
pub fn unsafe_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".to_string());
    }
    if name == "." || name == ".." {
        return Some(format!("is `{name}`, a path segment that URLs drop"));
    }
    let bad = name.chars().find(|c| {
        matches!(c, '/' | '\\' | '?' | '#' | '%') || c.is_whitespace() || c.is_control()
    })?;
    Some(match bad {
        ' ' => "holds a space".to_string(),
        c if c.is_control() => format!("holds a control character ({})", c.escape_unicode()),
        c if c.is_whitespace() => format!("holds whitespace ({})", c.escape_unicode()),
        c => format!("holds `{c}`"),
    })
}

/// Sensitive values by JSON Pointer, in pointer order. Debug shows the pointers only. A
/// sorted list, not a map: a connection holds one or two, and a plan holds one set per
/// connection (a map's first node is ten times the size).
#[derive(Clone, Default)]
pub struct Secrets(Vec<(String, SecretString)>);

impl Secrets {
    fn position(&self, pointer: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(p, _)| p.as_str().cmp(pointer))
    }

    /// Stores a value.
    pub fn insert(&mut self, pointer: String, value: SecretString) {
        match self.position(&pointer) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (pointer, value)),
        }
    }

    /// A value by pointer.
    pub fn get(&self, pointer: &str) -> Option<&SecretString> {
        self.position(pointer).ok().map(|i| &self.0[i].1)
    }

    /// Pointers and values, in pointer order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &SecretString)> {
        self.0.iter().map(|(p, v)| (p, v))
    }

    /// Drops the value at this pointer, if any.
    pub fn remove(&mut self, pointer: &str) {
        if let Ok(i) = self.position(pointer) {
            self.0.remove(i);
        }
    }

    /// Whether a value is held at this pointer.
    pub fn contains(&self, pointer: &str) -> bool {
        self.position(pointer).is_ok()
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.0.iter().map(|(p, _)| p))
            .finish()
    }
}

/// JSON Pointers (RFC 6901) of every sensitive value present in a body of this type:
/// secret fields, and the values of sensitive map / list entries (webhook
/// `Authorization` headers, kafka `sasl.jaas.config`).
pub fn sensitive_pointers(kind: &str, fields: &Body) -> Vec<String> {
    let catalog = catalog();
    let mut out = Vec::new();
    let sensitive = |(_, spec): &(&str, &FieldSpec)| spec.secret || spec.sensitive.is_some();
    for (name, spec) in catalog.all_fields(kind).filter(sensitive) {
        let Some(value) = fields.get(name) else {
            continue;
        };
        let base = format!("/{}", escape_pointer_token(name));
        if spec.secret {
            out.push(base.clone());
        }
        if let Some(sensitivity) = &spec.sensitive {
            out.extend(sensitive_entries(spec, sensitivity, value, &base));
        }
    }
    out
}

fn sensitive_entries(
    spec: &FieldSpec,
    sensitivity: &crate::catalog::Sensitivity,
    value: &Value,
    base: &str,
) -> Vec<String> {
    let value_field = entry_value_field(spec);
    let suffix = value_field
        .map(|f| format!("/{}", escape_pointer_token(f)))
        .unwrap_or_default();
    match (value, &sensitivity.key_field) {
        (Value::Object(map), None) => map
            .keys()
            .filter(|k| sensitivity.matches(k))
            .map(|k| format!("{base}/{}{suffix}", escape_pointer_token(k)))
            .collect(),
        (Value::Array(items), Some(key_field)) => items
            .iter()
            .enumerate()
            .filter(|(_, item)| {
                item.get(key_field)
                    .and_then(Value::as_str)
                    .is_some_and(|n| sensitivity.matches(n))
            })
            .map(|(i, _)| format!("{base}/{i}{suffix}"))
            .collect(),
        _ => Vec::new(),
    }
}

/// The field of a map value / list item that holds the sensitive text: `value` for kafka
/// MapValue and webhook headers, none for plain string maps.
fn entry_value_field(spec: &FieldSpec) -> Option<&'static str> {
    let nested = spec.values.as_deref().or(spec.items.as_deref())?;
    let object = nested.object_spec()?;
    object
        .fields
        .get_key_value("value")
        .map(|(k, _)| k.as_str())
}

/// Escapes one JSON Pointer reference token (`~` -> `~0`, `/` -> `~1`).
pub fn escape_pointer_token(token: &str) -> String {
    if !token.contains(['~', '/']) {
        return token.to_string();
    }
    token.replace('~', "~0").replace('/', "~1")
}

/// Splits a JSON Pointer into unescaped tokens (`/a~1b/0` -> `["a/b", "0"]`).
pub fn pointer_tokens(pointer: &str) -> Vec<String> {
    tokens(pointer).map(Cow::into_owned).collect()
}

/// The unescaped tokens of a JSON Pointer, borrowed where nothing is escaped (lookups run
/// for every field of every connection).
fn tokens(pointer: &str) -> impl Iterator<Item = Cow<'_, str>> {
    pointer.split('/').skip(1).map(|t| match t.contains('~') {
        true => Cow::Owned(t.replace("~1", "/").replace("~0", "~")),
        false => Cow::Borrowed(t),
    })
}

/// A mutable slot in a body by JSON Pointer.
pub fn pointer_mut<'a>(body: &'a mut Body, pointer: &str) -> Option<&'a mut Value> {
    let mut tokens = tokens(pointer);
    let mut slot = body.get_mut(tokens.next()?.as_ref())?;
    for token in tokens {
        slot = match slot {
            Value::Object(map) => map.get_mut(token.as_ref())?,
            Value::Array(items) => items.get_mut(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(slot)
}

/// A value in a body by JSON Pointer.
pub fn pointer_get<'a>(body: &'a Body, pointer: &str) -> Option<&'a Value> {
    let mut tokens = tokens(pointer);
    let mut slot = body.get(tokens.next()?.as_ref())?;
    for token in tokens {
        slot = match slot {
            Value::Object(map) => map.get(token.as_ref())?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(slot)
}

/// Sets the value at a JSON Pointer, creating missing objects on the way (an array index
/// equal to the length appends). Returns whether the value was set.
pub fn pointer_set(body: &mut Body, pointer: &str, value: Value) -> bool {
    let tokens = pointer_tokens(pointer);
    let Some((last, parents)) = tokens.split_last() else {
        return false;
    };
    let slot: &mut Map<String, Value> = body;
    let mut tail: Option<&mut Value> = None;
    for token in parents {
        let next = match tail.take() {
            None => slot
                .entry(token.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Some(Value::Object(map)) => map
                .entry(token.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Some(Value::Array(items)) => {
                match token.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(item) => item,
                    None => return false,
                }
            }
            Some(_) => return false,
        };
        tail = Some(next);
    }
    match tail {
        None => {
            slot.insert(last.clone(), value);
            true
        }
        Some(Value::Object(map)) => {
            map.insert(last.clone(), value);
            true
        }
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items[i] = value;
                true
            }
            Ok(i) if i == items.len() => {
                items.push(value);
                true
            }
            _ => false,
        },
        Some(_) => false,
    }
}

/// Removes the value at a JSON Pointer (an array item shifts the rest), if present.
pub fn pointer_remove(body: &mut Body, pointer: &str) -> Option<Value> {
    let tokens = pointer_tokens(pointer);
    let (last, parents) = tokens.split_last()?;
    if parents.is_empty() {
        return body.shift_remove(last);
    }
    let parent: String = parents
        .iter()
        .map(|t| format!("/{}", escape_pointer_token(t)))
        .collect();
    match pointer_mut(body, &parent)? {
        Value::Object(map) => map.shift_remove(last),
        Value::Array(items) => {
            let i = last.parse::<usize>().ok().filter(|i| *i < items.len())?;
            Some(items.remove(i))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Body {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn secrets_keep_pointer_order_and_one_value_a_pointer() {
        let mut secrets = Secrets::default();
        for (pointer, value) in [("/b", "1"), ("/a", "2"), ("/c", "3"), ("/a", "4")] {
            secrets.insert(pointer.into(), value.into());
        }
        let held: Vec<(&str, &str)> = secrets
            .iter()
            .map(|(p, v)| (p.as_str(), v.expose_secret()))
            .collect();
        assert_eq!(held, [("/a", "4"), ("/b", "1"), ("/c", "3")]);
        secrets.remove("/b");
        secrets.remove("/missing");
        assert!(!secrets.contains("/b") && secrets.contains("/c"));
        assert_eq!(secrets.get("/a").map(|v| v.expose_secret()), Some("4"));
        assert_eq!(secrets.len(), 2);
        assert_eq!(format!("{secrets:?}"), r#"{"/a", "/c"}"#);
    }

    #[test]
    fn names_that_are_not_one_safe_path_segment_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a?b",
            "a#b",
            "a%2e",
            "a b",
            "a\tb",
            "a\nb",
            "\u{1b}[2J",
            "a\u{7f}",
            "a\u{85}",
            "a\u{2028}",
            " x",
        ] {
            assert!(unsafe_name(bad).is_some(), "{bad:?}");
        }
        for good in ["alerts-smtp", "a.b", "...", "Ödeme_1", "x~y", "a:b"] {
            assert_eq!(unsafe_name(good), None, "{good:?}");
        }
        assert_eq!(unsafe_name("a/b").unwrap(), "holds `/`");
        assert_eq!(
            unsafe_name("a\u{1b}").unwrap(),
            "holds a control character (\\u{1b})"
        );
    }

    #[test]
    fn secrets_are_split_off_and_hidden_from_debug() {
        let b = body(json!({"host": "h", "auth": true, "password": "canary-pw-123"}));
        let c = Connection::from_body("email", "m", b, false);
        assert_eq!(c.fields["password"], Value::Null);
        assert!(!format!("{c:?}").contains("canary-pw-123"));
        assert_eq!(c.expose_body()["password"], "canary-pw-123");
    }

    #[test]
    fn references_stay_in_templates() {
        let b = body(json!({"password": "${env:PW}"}));
        let c = Connection::from_body("email", "m", b, true);
        assert_eq!(c.fields["password"], "${env:PW}");
        assert!(c.secrets.is_empty());
    }

    #[test]
    fn sensitive_entries_of_maps_and_lists() {
        let kafka = body(json!({"propertiesMap": {
            "bootstrap.servers": {"value": "b:9092"},
            "sasl.jaas.config": {"value": "secret-jaas"}}}));
        assert_eq!(
            sensitive_pointers("kafka", &kafka),
            vec!["/propertiesMap/sasl.jaas.config/value"]
        );
        let hook = body(json!({"headerList": [
            {"name": "Accept", "value": "x"}, {"name": "X-Api-Key", "value": "k"}]}));
        assert_eq!(
            sensitive_pointers("webhook", &hook),
            vec!["/headerList/1/value"]
        );
    }

    #[test]
    fn pointer_escaping_round_trips() {
        let mut b = body(json!({"a/b": {"c~d": [1, 2]}}));
        let p = format!(
            "/{}/{}/1",
            escape_pointer_token("a/b"),
            escape_pointer_token("c~d")
        );
        assert_eq!(pointer_get(&b, &p), Some(&json!(2)));
        *pointer_mut(&mut b, &p).unwrap() = json!(3);
        assert_eq!(b["a/b"]["c~d"][1], 3);
    }

    #[test]
    fn pointer_set_creates_parents_and_remove_takes_values_out() {
        let mut b = body(json!({"list": [{"x": 1}]}));
        assert!(pointer_set(&mut b, "/a/b", json!(1)));
        assert!(pointer_set(&mut b, "/list/0/y", json!(2)));
        assert!(pointer_set(&mut b, "/list/1", json!(3)));
        assert!(!pointer_set(&mut b, "/list/5/z", json!(4)));
        assert_eq!(
            Value::Object(b.clone()),
            json!({"list": [{"x": 1, "y": 2}, 3], "a": {"b": 1}})
        );
        assert_eq!(
            pointer_remove(&mut b, "/list/0"),
            Some(json!({"x": 1, "y": 2}))
        );
        assert_eq!(pointer_remove(&mut b, "/a"), Some(json!({"b": 1})));
        assert_eq!(pointer_remove(&mut b, "/nope/x"), None);
        assert_eq!(Value::Object(b), json!({"list": [3]}));
    }
}
