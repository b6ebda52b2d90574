//! Checks YAML values against catalog field specs and turns them into JSON: kinds,
//! enums, ranges, formats, base64 content, nested objects, maps, secrets, references.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde_json::Value;

use super::Scope;
use super::yaml::{Location, Node, NodeValue};
use crate::catalog::{FieldSpec, Format, Kind, ObjectSpec, scalar_text};
use crate::diag::{Diagnostic, did_you_mean, same_name};
use crate::model::{Body, escape_pointer_token, is_whole_reference, pointer_tokens};
use crate::refs::{Segment, parse_template};
use crate::values::{SubstituteError, Values, has_value_reference};

/// Checks the values of one connection, remembering where each JSON Pointer was written
/// so later checks (rules, sensitive entries) can point at it.
pub(super) struct ValueChecker<'a> {
    /// File, project and connection of every diagnostic.
    pub scope: &'a Scope,
    /// Where diagnostics go.
    pub out: &'a mut Vec<Diagnostic>,
    /// Literal secrets are warnings, not errors.
    pub allow_literal_secrets: bool,
    /// The place of every value checked, by JSON Pointer (`/elasticHostList/0/port`).
    pub locations: BTreeMap<String, Location>,
    /// Every value written with `${var:...}`, as written, by JSON Pointer.
    pub var_templates: BTreeMap<String, String>,
}

/// The message and hint of a `${var:...}` that cannot be substituted (values are not
/// secret, so they may be named).
fn substitute_message(field: &str, error: &SubstituteError, values: &Values) -> (String, String) {
    match error {
        SubstituteError::Missing(names) => {
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            (
                format!("`{field}`: ${{var:...}} not defined: {}", list.join(", ")),
                format!("define them under `values:`; {}", values.files_read()),
            )
        }
        SubstituteError::NotConvertible { name, value } => (
            format!(
                "`{field}` takes ${{var:{name}}}, whose value {value:?} does not convert to the field's type"
            ),
            format!("set {name} to a valid value; {}", values.files_read()),
        ),
        SubstituteError::DollarBeforeReference(name) => (
            format!(
                "`{field}`: the value of {name} ends with `$` right before a ${{env:...}} reference"
            ),
            "end the value without `$`, or move the `$` into the file".to_string(),
        ),
    }
}

/// `/elasticHostList/0/port` as `elasticHostList[0].port` for messages.
pub(super) fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer_tokens(pointer) {
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else if token.contains(['.', '/', ' ']) {
            out.push_str(&format!("[\"{token}\"]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// A pointer one level below `base`.
pub(super) fn child_pointer(base: &str, token: &str) -> String {
    let token = escape_pointer_token(token);
    let mut pointer = String::with_capacity(base.len() + 1 + token.len());
    pointer.push_str(base);
    pointer.push('/');
    pointer.push_str(&token);
    pointer
}

impl ValueChecker<'_> {
    /// Records an error at a place.
    pub fn error(&mut self, location: Location, message: String, hint: Option<String>) {
        let mut diagnostic = self.scope.diagnostic(Diagnostic::error(message), location);
        diagnostic.hint = hint;
        self.out.push(diagnostic);
    }

    fn warning(&mut self, location: Location, message: String, hint: String) {
        let diagnostic = self
            .scope
            .diagnostic(Diagnostic::warning(message), location);
        self.out.push(diagnostic.with_hint(hint));
    }

    /// Reports every key written twice in a mapping, naming both lines.
    pub fn report_duplicate_keys(
        &mut self,
        entries: &[(Node, Node)],
        hint: impl Fn(&str) -> String,
    ) {
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for (key, _) in entries {
            let text = key.key_text();
            match seen.get(&text) {
                Some(first) => {
                    let message = format!(
                        "duplicate key `{text}` (first written at line {})",
                        first.line
                    );
                    let hint = hint(&text);
                    self.error(key.location, message, Some(hint));
                }
                None => {
                    seen.insert(text, key.location);
                }
            }
        }
    }

    /// Checks the fields of a mapping against `fields` (name -> spec); keys in `reserved`
    /// are left to the caller. Returns the body of the valid, non-null values.
    pub fn check_entries(
        &mut self,
        entries: &[(Node, Node)],
        pointer: &str,
        fields: &dyn Fn(&str) -> Option<&'static FieldSpec>,
        candidates: &[&'static str],
        aliases: &'static IndexMap<String, String>,
        reserved: &[&str],
    ) -> Body {
        // Sized up front: a grown map keeps up to 40% slack, on every template held.
        let mut body = Body::with_capacity(entries.len());
        for (key, value) in entries {
            let name = key.key_text();
            if reserved.contains(&name.as_str()) || body.contains_key(&name) {
                continue;
            }
            let field_pointer = child_pointer(pointer, &name);
            self.locations.insert(field_pointer.clone(), key.location);
            let Some(spec) = fields(&name) else {
                let hint = unknown_field_hint(&name, fields, candidates, aliases);
                let message = format!("unknown field `{}`", display_path(&field_pointer));
                self.error(key.location, message, Some(hint));
                continue;
            };
            if let Some(json) = self.check_value(value, spec, &field_pointer) {
                body.insert(name, json);
            }
        }
        body
    }

    /// Reports required fields that are absent or null, at the mapping's place.
    pub fn check_required<'f>(
        &mut self,
        body: &Body,
        pointer: &str,
        required: impl Iterator<Item = (&'f str, &'f FieldSpec)>,
        location: Location,
    ) {
        for (name, spec) in required {
            if spec.required && body.get(name).is_none_or(Value::is_null) {
                let message = format!(
                    "missing required field `{}`",
                    display_path(&child_pointer(pointer, name))
                );
                let hint = required_hint(spec);
                self.error(location, message, Some(hint));
            }
        }
    }

    /// Checks one value; `None` when it is null (absent) or invalid.
    pub fn check_value(&mut self, node: &Node, spec: &FieldSpec, pointer: &str) -> Option<Value> {
        self.locations.insert(pointer.to_string(), node.location);
        if node.is_null() {
            return None;
        }
        if let Some(text) = node.as_str().filter(|t| has_value_reference(t)) {
            return self.check_value_reference(node, text, spec, pointer);
        }
        if spec.secret {
            return self.check_secret(node, pointer);
        }
        match (&node.value, spec.kind) {
            (_, Kind::Any) => Some(node.to_json()),
            (NodeValue::String(text), Kind::String) => self.check_string(node, text, spec, pointer),
            (NodeValue::Bool(_) | NodeValue::Number(_), Kind::String) => {
                let text = scalar_text(&node.to_json());
                self.check_string(node, &text, spec, pointer)
            }
            (NodeValue::String(text), Kind::Integer | Kind::Number | Kind::Boolean)
                if is_whole_reference(text) =>
            {
                self.check_template(node, text, pointer)
                    .map(|_| Value::String(text.clone()))
            }
            (NodeValue::Number(n), Kind::Integer) if n.is_i64() || n.is_u64() => {
                self.check_range(node, n.as_i64(), spec, pointer);
                Some(node.to_json())
            }
            (NodeValue::Number(_), Kind::Number) | (NodeValue::Bool(_), Kind::Boolean) => {
                Some(node.to_json())
            }
            (NodeValue::Seq(items), Kind::Array) => self.check_array(node, items, spec, pointer),
            (NodeValue::Map(entries), Kind::Object) => {
                let object = spec.object_spec()?;
                Some(Value::Object(
                    self.check_object(node, entries, object, pointer),
                ))
            }
            (NodeValue::Map(entries), Kind::Map) => self.check_map(node, entries, spec, pointer),
            _ => {
                self.type_mismatch(node, spec, pointer);
                None
            }
        }
    }

    /// A value written with `${var:...}`: refused in a secret field (the value would be
    /// committed); with values files loaded, substituted and checked as if written so.
    fn check_value_reference(
        &mut self,
        node: &Node,
        text: &str,
        spec: &FieldSpec,
        pointer: &str,
    ) -> Option<Value> {
        if spec.secret {
            let field = display_path(pointer);
            let message = format!(
                "field `{field}` is a secret: ${{var:...}} values are committed in git, use ${{env:NAME}}"
            );
            let hint = secret_hint(self.scope, &field);
            self.error(node.location, message, Some(hint));
            return None;
        }
        let Some(values) = self.scope.values() else {
            return Some(Value::String(text.to_string()));
        };
        match values.substitute(text, Some(spec.kind)) {
            Ok(value) => {
                self.var_templates
                    .insert(pointer.to_string(), text.to_string());
                let substituted = Node::from_json(&value, node.location);
                self.check_value(&substituted, spec, pointer)
            }
            Err(error) => {
                let (message, hint) = substitute_message(&display_path(pointer), &error, values);
                self.error(node.location, message, Some(hint));
                // Kept as written, so the field is not also reported missing.
                Some(Value::String(text.to_string()))
            }
        }
    }

    fn type_mismatch(&mut self, node: &Node, spec: &FieldSpec, pointer: &str) {
        let expected = match spec.kind {
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::Boolean => "a boolean",
            Kind::Array => "a list",
            Kind::Object | Kind::Map => "a mapping",
            Kind::String => "a string",
            Kind::Any => "a value",
        };
        let message = format!(
            "`{}` must be {expected}, not {}",
            display_path(pointer),
            node.value.describe()
        );
        let yaml11 = node
            .as_str()
            .filter(|_| spec.kind == Kind::Boolean)
            .and_then(super::yaml::yaml11_boolean_hint);
        let hint = yaml11.unwrap_or_else(|| match (&node.value, spec.kind) {
            (NodeValue::String(text), Kind::Integer | Kind::Number | Kind::Boolean)
                if text.trim().parse::<f64>().is_ok() || text.parse::<bool>().is_ok() =>
            {
                "write the value without quotes, or use a whole ${env:NAME} reference".to_string()
            }
            _ => match &spec.unit {
                Some(unit) => format!("write {expected} here, in {unit}"),
                None => format!("write {expected} here"),
            },
        });
        self.error(node.location, message, Some(hint));
    }

    /// A secret must be one whole `${env:NAME}` reference; a literal is never echoed.
    fn check_secret(&mut self, node: &Node, pointer: &str) -> Option<Value> {
        if let Some(text) = node.as_str()
            && is_whole_reference(text)
        {
            return self
                .check_template(node, text, pointer)
                .map(|_| node.to_json());
        }
        let field = display_path(pointer);
        if let Some(provider) = node.as_str().and_then(crate::refs::unknown_provider) {
            let message = format!(
                "`{field}`: {}",
                crate::refs::unknown_provider_message(provider)
            );
            let hint = secret_hint(self.scope, &display_path(pointer));
            self.error(node.location, message, Some(hint));
            return None;
        }
        if matches!(node.value, NodeValue::Seq(_) | NodeValue::Map(_)) {
            let message = format!("`{field}` must be a string reference");
            self.error(
                node.location,
                message,
                Some(secret_hint(self.scope, &display_path(pointer))),
            );
            return None;
        }
        let message =
            format!("field `{field}` is a secret: use ${{env:NAME}}, not a literal value");
        let hint = secret_hint(self.scope, &display_path(pointer));
        if self.allow_literal_secrets {
            self.warning(node.location, message, hint);
        } else {
            self.error(node.location, message, Some(hint));
        }
        Some(Value::String(scalar_text(&node.to_json())))
    }

    /// Parses references in a string; malformed ones are errors. Returns whether the text
    /// holds any reference.
    fn check_template(&mut self, node: &Node, text: &str, pointer: &str) -> Option<bool> {
        match parse_template(text) {
            Ok(segments) => Some(segments.iter().any(|s| matches!(s, Segment::Variable(_)))),
            Err(e) => {
                let message = format!("`{}`: {}", display_path(pointer), e.message);
                let hint =
                    "write ${env:NAME} (NAME: letters, digits, `_`), or $${ for a literal ${";
                self.error(node.location, message, Some(hint.to_string()));
                None
            }
        }
    }

    fn check_string(
        &mut self,
        node: &Node,
        text: &str,
        spec: &FieldSpec,
        pointer: &str,
    ) -> Option<Value> {
        let has_references = self.check_template(node, text, pointer)?;
        if !has_references {
            self.check_literal_string(node, text, spec, pointer);
        }
        Some(Value::String(text.to_string()))
    }

    /// Enum, length, format and content checks, for strings without references.
    fn check_literal_string(&mut self, node: &Node, text: &str, spec: &FieldSpec, pointer: &str) {
        // Named only on an error: most strings pass.
        let field = || display_path(pointer);
        if let Some(values) = spec.enum_values()
            && !values.iter().any(|v| v == text)
        {
            let hint = enum_hint(text, spec, values);
            let message = format!("`{}` has unknown value `{text}`", field());
            self.error(node.location, message, Some(hint));
        }
        if let Some(min) = spec.min_length
            && text.chars().count() < min
        {
            let message = format!("`{}` must be at least {min} characters long", field());
            self.error(node.location, message, None);
        }
        if spec.format == Some(Format::HttpUrl) && !is_http_url(text) {
            let message = format!("`{}` must be an absolute http:// or https:// URL", field());
            let hint = "e.g. https://hooks.example.com/notify".to_string();
            self.error(node.location, message, Some(hint));
        }
        if spec.is_base64_content() && !is_base64(text) {
            let message = format!("`{}` must be base64-encoded file content", field());
            let hint = "encode the file with `base64 -w0 FILE`, or use ${env:NAME}".to_string();
            self.error(node.location, message, Some(hint));
        }
    }

    fn check_range(&mut self, node: &Node, value: Option<i64>, spec: &FieldSpec, pointer: &str) {
        let too_low = spec.minimum.is_some_and(|m| value.is_none_or(|v| v < m));
        let too_high = spec.maximum.is_some_and(|m| value.is_none_or(|v| v > m));
        if too_low || too_high {
            let range = match (spec.minimum, spec.maximum) {
                (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
                (Some(lo), None) => format!("at least {lo}"),
                (None, Some(hi)) => format!("at most {hi}"),
                (None, None) => unreachable!("a range check needs a bound"),
            };
            let message = format!(
                "`{}` must be {range}, got {}",
                display_path(pointer),
                scalar_text(&node.to_json())
            );
            self.error(node.location, message, None);
        }
    }

    fn check_array(
        &mut self,
        node: &Node,
        items: &[Node],
        spec: &FieldSpec,
        pointer: &str,
    ) -> Option<Value> {
        if let Some(min) = spec.min_items
            && items.len() < min
        {
            let message = format!(
                "`{}` needs at least {min} item{}",
                display_path(pointer),
                if min == 1 { "" } else { "s" }
            );
            self.error(node.location, message, None);
        }
        let item_spec = spec.items.as_deref()?;
        let values = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                self.check_value(item, item_spec, &child_pointer(pointer, &i.to_string()))
            })
            .collect();
        Some(Value::Array(values))
    }

    /// A nested object: its fields, required fields and rules.
    pub fn check_object(
        &mut self,
        node: &Node,
        entries: &[(Node, Node)],
        object: &'static ObjectSpec,
        pointer: &str,
    ) -> Body {
        self.report_duplicate_keys(entries, |_| "remove one of them".to_string());
        let candidates: Vec<&'static str> = object.fields.keys().map(String::as_str).collect();
        let lookup = |name: &str| object.fields.get(name);
        let aliases = &object.aliases;
        let body = self.check_entries(entries, pointer, &lookup, &candidates, aliases, &[]);
        let fields = object.fields.iter().map(|(k, v)| (k.as_str(), v));
        self.check_required(&body, pointer, fields, node.location);
        self.check_rules(&object.rules, &body, pointer, node.location, &lookup);
        body
    }

    fn check_map(
        &mut self,
        node: &Node,
        entries: &[(Node, Node)],
        spec: &FieldSpec,
        pointer: &str,
    ) -> Option<Value> {
        self.report_duplicate_keys(entries, |_| "remove one of them".to_string());
        let value_spec = spec.values.as_deref()?;
        let mut body = Body::new();
        for (key, value) in entries {
            let name = key.key_text();
            if body.contains_key(&name) {
                continue;
            }
            if let Some(json) = self.check_value(value, value_spec, &child_pointer(pointer, &name))
            {
                body.insert(name, json);
            }
        }
        for key in &spec.required_keys {
            if !body.contains_key(key) {
                let message = format!("`{}` lacks the required key `{key}`", display_path(pointer));
                let hint = format!("required keys: {}", spec.required_keys.join(", "));
                self.error(node.location, message, Some(hint));
            }
        }
        Some(Value::Object(body))
    }

    /// Warns about values without any reference in entries that carry credentials in
    /// practice (`Bearer ${env:TOKEN}` is fine).
    pub fn warn_sensitive_literals(
        &mut self,
        body: &Body,
        pointers: Vec<String>,
        secret_fields: &[&str],
    ) {
        for pointer in pointers {
            let top = pointer_tokens(&pointer)
                .into_iter()
                .next()
                .unwrap_or_default();
            if secret_fields.contains(&top.as_str()) {
                continue;
            }
            let literal = crate::model::pointer_get(body, &pointer)
                .and_then(Value::as_str)
                .is_some_and(|s| crate::refs::references_in(&Value::from(s)).is_empty());
            if literal {
                let location = self.locations.get(&pointer).copied().unwrap_or_default();
                let entry = entry_name(body, &pointer);
                let message = format!(
                    "`{}` (`{entry}`) looks like a credential but is a literal value",
                    display_path(&pointer)
                );
                let hint = secret_hint(self.scope, &entry);
                self.warning(location, message, hint);
            }
        }
    }
}

/// The name of a sensitive entry: a list item's `name` (webhook header) or a map key
/// (kafka property).
fn entry_name(body: &Body, pointer: &str) -> String {
    let tokens = pointer_tokens(pointer);
    let Some(entry) = tokens.get(1) else {
        return tokens.concat();
    };
    if entry.parse::<usize>().is_ok() {
        let item = format!("/{}/{entry}/name", escape_pointer_token(&tokens[0]));
        if let Some(name) = crate::model::pointer_get(body, &item).and_then(Value::as_str) {
            return name.to_string();
        }
    }
    entry.clone()
}

/// The Apinizer spelling of an unknown field: another tool's name for it (`databaseType`
/// -> `dbType`, `bootstrapServers` -> a `propertiesMap` key), else the closest field, with
/// what that field is for.
fn unknown_field_hint(
    name: &str,
    fields: &dyn Fn(&str) -> Option<&'static FieldSpec>,
    candidates: &[&str],
    aliases: &IndexMap<String, String>,
) -> String {
    let described = |field: &str| match fields(field).and_then(FieldSpec::description_with_unit) {
        Some(description) => format!("`{field}`: {description}"),
        None => format!("`{field}`"),
    };
    let alias = aliases.iter().find(|(alias, _)| same_name(alias, name));
    if let Some((_, target)) = alias {
        return match target.split_once('/') {
            Some((map, key)) => format!(
                "`{name}` is not a field here: write it as the `{map}` key `{key}`: \
                 `{map}: {{{key}: {{value: ...}}}}`"
            ),
            None => format!("the Apinizer name is {}", described(target)),
        };
    }
    match did_you_mean(name, candidates.iter().copied()) {
        Some(s) => match fields(s).and_then(FieldSpec::description_with_unit) {
            Some(description) => format!("did you mean `{s}`? {description}"),
            None => format!("did you mean `{s}`?"),
        },
        None => format!("known fields: {}", candidates.join(", ")),
    }
}

/// The allowed value an unknown enum value meant: another spelling of it (`POSTGRESQL`,
/// `TLSv1.2`), the same value in other case, or a close one.
fn enum_hint(text: &str, spec: &FieldSpec, values: &[String]) -> String {
    if let Some((_, value)) = spec
        .enum_aliases()
        .find(|(alias, _)| same_name(alias, text))
    {
        return format!("did you mean `{value}`? Apinizer spells `{text}` as `{value}`");
    }
    match did_you_mean(text, values.iter().map(String::as_str)) {
        Some(s) if same_name(s, text) => format!("did you mean `{s}`? values are case-sensitive"),
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("allowed values: {}", values.join(", ")),
    }
}

fn required_hint(spec: &FieldSpec) -> String {
    match spec.enum_values() {
        Some(values) => format!("add it; allowed values: {}", values.join(", ")),
        None => "add it to the connection".to_string(),
    }
}

/// A hint with a predictable variable name (`MAIL_PASSWORD` for `mail` / `password`).
fn secret_hint(scope: &Scope, label: &str) -> String {
    let name = format!(
        "{}_{label}",
        scope.connection.as_deref().unwrap_or_default()
    );
    let variable: String = name
        .trim_matches('_')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("write ${{env:{variable}}} and set {variable} in the environment")
}

/// Whether the text is an absolute `http://` or `https://` URL with a host.
fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace)
    })
}

/// Whether the text is standard base64 (line breaks allowed, `=` padding at the end).
fn is_base64(text: &str) -> bool {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() || !compact.len().is_multiple_of(4) {
        return false;
    }
    let padding = compact.iter().rev().take_while(|b| **b == b'=').count();
    padding <= 2
        && compact[..compact.len() - padding]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_naturally() {
        assert_eq!(
            display_path("/elasticHostList/0/port"),
            "elasticHostList[0].port"
        );
        assert_eq!(
            display_path("/propertiesMap/bootstrap.servers/value"),
            "propertiesMap[\"bootstrap.servers\"].value"
        );
    }

    #[test]
    fn urls_and_base64() {
        assert!(is_http_url("https://a.example/x?y"));
        assert!(!is_http_url("ftp://a"));
        assert!(!is_http_url("https:///x"));
        assert!(is_base64("aGVs\nbG8="));
        assert!(!is_base64("<base64-encoded-file>"));
        assert!(!is_base64("abc"));
    }
}
