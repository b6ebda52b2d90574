//! `${env:NAME}` references: parsing, listing and resolution with type conversion.
//!
//! A string may be one whole reference (`${env:DB_PASSWORD}`) or embed several
//! (`jdbc:postgresql://${env:DB_HOST}:5432/app`); `$${` writes a literal `${`. Names are
//! `[A-Za-z_][A-Za-z0-9_]*`; the only source is `env`. [`policy`] says which variables
//! a file may reference at all.

mod policy;

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::catalog::{FieldSpec, Kind, catalog};
use crate::model::{Body, Connection, escape_pointer_token, is_whole_reference};

pub use policy::{ReferencePolicy, Refusal};

/// Where variable values come from.
pub trait Env: Send + Sync {
    /// The value of a variable, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed map of variables (tests, seeding).
#[derive(Debug, Default, Clone)]
pub struct MapEnv(pub BTreeMap<String, String>);

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Variables that a resolution needed and the environment lacked (names only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingVariables(pub Vec<String>);

impl std::fmt::Display for MissingVariables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "missing environment variables: {}", self.0.join(", "))
    }
}

impl std::error::Error for MissingVariables {}

/// One piece of a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text taken as is (`$${` already turned into `${`).
    Literal(String),
    /// `${env:NAME}`.
    Variable(String),
    /// `${var:NAME}`: a value of the `--values` files (substituted when the files load).
    Value(String),
}

/// A malformed reference, with a message that names the offending text (never a value of
/// a variable; templates are written by people, not resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
}

/// The reference providers this version knows, with the form each is written in. A new
/// provider is one more entry here; messages list them from it.
pub const PROVIDERS: &[(&str, &str)] = &[("env", "${env:NAME}"), ("var", "${var:NAME}")];

/// Whether `provider` is a known reference provider.
pub fn is_known_provider(provider: &str) -> bool {
    PROVIDERS.iter().any(|(name, _)| *name == provider)
}

/// `unknown reference provider `vault`: only ${env:NAME} references exist`, phrased from
/// [`PROVIDERS`].
pub fn unknown_provider_message(provider: &str) -> String {
    let forms: Vec<&str> = PROVIDERS.iter().map(|(_, form)| *form).collect();
    let known = match forms.as_slice() {
        [one] => format!("only {one} references exist"),
        [rest @ .., last] => format!("the known references are {} and {last}", rest.join(", ")),
        [] => "no references exist".to_string(),
    };
    format!("unknown reference provider `{provider}`: {known}")
}

/// The provider of a value written wholly as `${provider:...}` with a provider this
/// version does not know (`vault` for `${vault:secret/x}`). Only a short identifier is
/// returned, so a message naming it never carries the rest of the value.
pub fn unknown_provider(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${")?.strip_suffix('}')?;
    let (provider, _) = inner.split_once(':')?;
    let identifier = !provider.is_empty()
        && provider.len() <= 32
        && provider
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (identifier && !is_known_provider(provider)).then_some(provider)
}

/// Splits a string into literal text and references. Errors on `${env:}`, unknown
/// sources (`${foo:X}`), bad names and an unclosed `${`.
pub fn parse_template(text: &str) -> Result<Vec<Segment>, TemplateError> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(index) = rest.find('$') {
        literal.push_str(&rest[..index]);
        let after = &rest[index..];
        if let Some(tail) = after.strip_prefix("$${") {
            literal.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let (segment, remaining) = parse_reference(tail)?;
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(segment);
            rest = remaining;
        } else {
            literal.push('$');
            rest = &after[1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

/// Parses `env:NAME}` or `var:NAME}` (the part after `${`); returns the reference and the
/// text after `}`.
fn parse_reference(tail: &str) -> Result<(Segment, &str), TemplateError> {
    let error = |message: String| Err(TemplateError { message });
    let Some(close) = tail.find('}') else {
        return error("unclosed reference `${`: expected `${env:NAME}`".to_string());
    };
    let inner = &tail[..close];
    let Some((source, name)) = inner.split_once(':') else {
        return error(format!(
            "reference `${{{inner}}}` has no source: write `${{env:{inner}}}`"
        ));
    };
    if !is_known_provider(source) {
        return error(format!(
            "{} (in `${{{inner}}}`)",
            unknown_provider_message(source)
        ));
    }
    if name.is_empty() {
        return error("empty variable name in `${env:}`".to_string());
    }
    if !is_variable_name(name) {
        return error(format!(
            "invalid variable name `{name}`: use letters, digits and `_`, not starting with a digit"
        ));
    }
    let segment = match source {
        "var" => Segment::Value(name.to_string()),
        _ => Segment::Variable(name.to_string()),
    };
    Ok((segment, &tail[close + 1..]))
}

/// Whether a name is a valid variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Names of every variable referenced in a value, in order of appearance, deduplicated.
pub fn references_in(value: &Value) -> Vec<String> {
    let mut names = Vec::new();
    collect_references(value, &mut names);
    names
}

fn collect_references(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::String(text) => add_names(text, names),
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, names)),
        Value::Object(map) => map.values().for_each(|v| collect_references(v, names)),
        _ => {}
    }
}

fn add_names(text: &str, names: &mut Vec<String>) {
    for segment in parse_template(text).unwrap_or_default() {
        if let Segment::Variable(name) = segment
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
}

/// Names of every variable a template connection references (fields and literal
/// secrets), in order of appearance, deduplicated.
pub fn references_in_connection(template: &Connection) -> Vec<String> {
    let mut names = references_in(&Value::Object(template.fields.clone()));
    for (_, secret) in template.secrets.iter() {
        add_names(secret.expose_secret(), &mut names);
    }
    names
}

/// One reference in a template: where it is written and whether the value it takes is
/// sensitive (a secret field or a sensitive entry, whose value must never be readable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceUse {
    /// JSON Pointer of the string holding the reference (`/password`, `/jdbcUrl`).
    pub pointer: String,
    /// The referenced variable.
    pub variable: String,
    /// The value lands in a secret field or a sensitive entry.
    pub sensitive: bool,
}

/// Every reference of a template connection (fields and literal secrets), in pointer
/// order within fields, then secrets; a variable written twice in one string is listed
/// once for it.
pub fn reference_uses(template: &Connection) -> Vec<ReferenceUse> {
    let mut strings = Vec::new();
    for (name, value) in &template.fields {
        collect_strings(
            value,
            format!("/{}", escape_pointer_token(name)),
            &mut strings,
        );
    }
    for (pointer, secret) in template.secrets.iter() {
        strings.push((pointer.clone(), secret.expose_secret().to_string()));
    }
    let sensitive = crate::model::sensitive_pointers(&template.kind, &template.fields);
    let is_sensitive = |pointer: &str| {
        template.secrets.contains(pointer) || sensitive.iter().any(|s| within(pointer, s))
    };
    let mut uses = Vec::new();
    for (pointer, text) in strings {
        let mut names = Vec::new();
        add_names(&text, &mut names);
        for variable in names {
            uses.push(ReferenceUse {
                sensitive: is_sensitive(&pointer),
                pointer: pointer.clone(),
                variable,
            });
        }
    }
    uses
}

/// Whether `pointer` is `root` or lies below it.
fn within(pointer: &str, root: &str) -> bool {
    pointer
        .strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The strings of a value that may hold a reference, with their pointers.
fn collect_strings(value: &Value, pointer: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) if text.contains("${") => out.push((pointer, text.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                collect_strings(
                    item,
                    format!("{pointer}/{}", escape_pointer_token(key)),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// Resolves every reference of a template connection (fields and secrets) and converts
/// whole-value references in number and boolean fields to that type. The result keeps all
/// sensitive values in `secrets`.
pub fn resolve_connection(
    template: &Connection,
    env: &dyn Env,
) -> Result<Connection, MissingVariables> {
    Ok(overlay_onto(&resolve_overlay(template, env)?, template))
}

/// [`resolve_connection`] kept small: `fields` holds only the template's top-level fields
/// that resolving can change (those holding a reference or a secret), every sensitive value
/// is in `secrets`; every other field is the template's as written. A plan holds one per
/// desired connection, so this is a tenth of a whole copy.
pub fn resolve_overlay(
    template: &Connection,
    env: &dyn Env,
) -> Result<Connection, MissingVariables> {
    resolve_fields(template, &changeable_fields(template), env)
}

/// The whole resolved connection: `overlay`'s fields in place of the template's.
pub fn overlay_onto(overlay: &Connection, template: &Connection) -> Connection {
    let mut fields = template.fields.clone();
    for (name, value) in &overlay.fields {
        if let Some(slot) = fields.get_mut(name) {
            slot.clone_from(value);
        }
    }
    Connection {
        kind: overlay.kind.clone(),
        name: overlay.name.clone(),
        fields,
        secrets: overlay.secrets.clone(),
    }
}

/// The top-level fields resolving may change: a string inside holds `${` (a reference or
/// an escaped `$${`), or a secret sits inside.
fn changeable_fields(template: &Connection) -> Vec<String> {
    let holds_secret = |name: &str| {
        template
            .secrets
            .iter()
            .any(|(pointer, _)| within(pointer, &format!("/{}", escape_pointer_token(name))))
    };
    template
        .fields
        .iter()
        .filter(|(name, value)| holds_reference_text(value) || holds_secret(name))
        .map(|(name, _)| name.clone())
        .collect()
}

fn holds_reference_text(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains("${"),
        Value::Array(items) => items.iter().any(holds_reference_text),
        Value::Object(map) => map.values().any(holds_reference_text),
        _ => false,
    }
}

/// Resolves the template's fields named `names` (with its secrets put back in first) into
/// a connection holding those fields and every sensitive value.
fn resolve_fields(
    template: &Connection,
    names: &[String],
    env: &dyn Env,
) -> Result<Connection, MissingVariables> {
    let mut missing = Vec::new();
    let mut body: Body = template
        .fields
        .iter()
        .filter(|(name, _)| names.contains(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    for (pointer, secret) in template.secrets.iter() {
        if let Some(slot) = crate::model::pointer_mut(&mut body, pointer) {
            *slot = Value::String(secret.expose_secret().to_string());
        }
    }
    for (name, value) in body.iter_mut() {
        let spec = catalog().field(&template.kind, name);
        resolve_value(value, spec, env, &mut missing);
    }
    if !missing.is_empty() {
        return Err(MissingVariables(missing));
    }
    let resolved = Connection::from_body(&template.kind, &template.name, body, false);
    // Resolved now: from here on a server echoing one reads `(sensitive)` (plan, apply).
    crate::redact::register_secrets(&resolved.secrets);
    Ok(resolved)
}

/// What a preview holds in place of a sensitive value whose variables are unset: it says
/// "the files set a value here" without one. Never sent: apply resolves the template
/// again and needs every variable.
const UNRESOLVED: &str = "\u{0}unresolved";

/// Resolves a template for a preview (`plan`, `drift`): a sensitive value whose variables
/// are not all set holds a placeholder, since a preview never shows it and only compares
/// it; the uses left unresolved are returned (they are not compared, and apply needs
/// them). Any other missing variable is an error as in [`resolve_connection`]. The
/// connection is an overlay, as [`resolve_overlay`] gives.
pub fn resolve_for_preview(
    template: &Connection,
    env: &dyn Env,
) -> Result<(Connection, Vec<ReferenceUse>), MissingVariables> {
    // Every variable set is the common case: only a failed resolution looks for the
    // sensitive uses it may leave out.
    if let Ok(resolved) = resolve_overlay(template, env) {
        return Ok((resolved, Vec::new()));
    }
    let unset: Vec<ReferenceUse> = reference_uses(template)
        .into_iter()
        .filter(|r| r.sensitive && env.var(&r.variable).is_none())
        .collect();
    // The fields are chosen on the template: a value left unresolved still overlays it.
    let names = changeable_fields(template);
    let mut partial = template.clone();
    for reference in &unset {
        if let Some(slot) = crate::model::pointer_mut(&mut partial.fields, &reference.pointer) {
            *slot = Value::Null;
        }
        partial.secrets.remove(&reference.pointer);
    }
    let mut resolved = resolve_fields(&partial, &names, env)?;
    for reference in &unset {
        let placeholder = secrecy::SecretString::from(UNRESOLVED);
        resolved
            .secrets
            .insert(reference.pointer.clone(), placeholder);
    }
    Ok((resolved, unset))
}

/// Resolves the strings of one value in place, guided by its catalog spec (when known)
/// so whole references in integer, number and boolean fields become that type.
fn resolve_value(
    value: &mut Value,
    spec: Option<&FieldSpec>,
    env: &dyn Env,
    missing: &mut Vec<String>,
) {
    match value {
        Value::String(text) => {
            let whole = is_whole_reference(text);
            let resolved = resolve_string(text, env, missing);
            *value = match spec.map(|s| s.kind) {
                Some(kind) if whole => convert_scalar(resolved, kind),
                _ => Value::String(resolved),
            };
        }
        Value::Array(items) => {
            let item_spec = spec.and_then(|s| s.items.as_deref());
            for item in items {
                resolve_value(item, item_spec, env, missing);
            }
        }
        Value::Object(map) => resolve_object(map, spec, env, missing),
        _ => {}
    }
}

fn resolve_object(
    map: &mut Body,
    spec: Option<&FieldSpec>,
    env: &dyn Env,
    missing: &mut Vec<String>,
) {
    let object = spec.and_then(FieldSpec::object_spec);
    let values = spec.and_then(|s| s.values.as_deref());
    for (key, nested) in map.iter_mut() {
        let nested_spec = match object {
            Some(o) => o.fields.get(key),
            None => values,
        };
        resolve_value(nested, nested_spec, env, missing);
    }
}

/// A resolved whole reference as the field's type; text that does not parse stays a
/// string (validation reports it with `--check-env`; the server would reject it).
pub(crate) fn convert_scalar(text: String, kind: Kind) -> Value {
    let converted = match kind {
        Kind::Integer => text.trim().parse::<i64>().ok().map(Value::from),
        Kind::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Kind::Boolean => text.trim().parse::<bool>().ok().map(Value::Bool),
        _ => None,
    };
    converted.unwrap_or(Value::String(text))
}

/// A whole-value reference in an integer, number or boolean field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedReference {
    /// The field (top-level name).
    pub field: String,
    /// The referenced variable.
    pub variable: String,
    /// The field's kind, which the value must convert to.
    pub kind: Kind,
}

impl std::fmt::Display for TypedReference {
    /// Names the field, the variable and the kind, never the value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let article = if self.kind == Kind::Integer {
            "an"
        } else {
            "a"
        };
        write!(
            f,
            "`{}` takes ${{env:{}}}, whose value is not {article} {}",
            self.field,
            self.variable,
            self.kind.json_name()
        )
    }
}

/// Every whole-value reference of a template in an integer, number or boolean field.
pub fn typed_references(template: &Connection) -> Vec<TypedReference> {
    catalog()
        .all_fields(&template.kind)
        .filter(|(_, spec)| matches!(spec.kind, Kind::Integer | Kind::Number | Kind::Boolean))
        .filter_map(|(field, spec)| {
            let text = template.fields.get(field)?.as_str()?;
            let variable = text.strip_prefix("${env:")?.strip_suffix('}')?;
            Some(TypedReference {
                field: field.to_string(),
                variable: variable.to_string(),
                kind: spec.kind,
            })
        })
        .collect()
}

/// The typed references whose variable is set to text that does not convert to the
/// field's kind (a value the server would reject, or store as the wrong type).
pub fn unconvertible_references(template: &Connection, env: &dyn Env) -> Vec<TypedReference> {
    typed_references(template)
        .into_iter()
        .filter(|r| {
            env.var(&r.variable)
                .is_some_and(|v| !converts_to(&v, r.kind))
        })
        .collect()
}

/// Whether a resolved value text fits a field kind (for `--check-env`).
pub fn converts_to(text: &str, kind: Kind) -> bool {
    match kind {
        Kind::Integer | Kind::Number | Kind::Boolean => {
            !convert_scalar(text.to_string(), kind).is_string()
        }
        _ => true,
    }
}

/// The text with every reference replaced by its value; names of unset variables are
/// added to `missing` (once each). A malformed template is left as is: validation
/// rejects it before anything resolves.
fn resolve_string(text: &str, env: &dyn Env, missing: &mut Vec<String>) -> String {
    let Ok(segments) = parse_template(text) else {
        return text.to_string();
    };
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Literal(literal) => out.push_str(&literal),
            Segment::Variable(name) => match env.var(&name) {
                Some(value) => out.push_str(&value),
                None if missing.contains(&name) => {}
                None => missing.push(name),
            },
            // Substituted when the files load; one left means no values were loaded.
            Segment::Value(name) => {
                let name = format!("var:{name}");
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> MapEnv {
        MapEnv(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn template(kind: &str, body: Value) -> Connection {
        Connection::from_body(kind, "c", body.as_object().unwrap().clone(), true)
    }

    #[test]
    fn parses_whole_embedded_and_escaped_references() {
        assert_eq!(
            parse_template("jdbc://${env:DB_HOST}:5432/$${x}").unwrap(),
            vec![
                Segment::Literal("jdbc://".into()),
                Segment::Variable("DB_HOST".into()),
                Segment::Literal(":5432/${x}".into()),
            ]
        );
        assert_eq!(
            parse_template("cost: $5").unwrap(),
            vec![Segment::Literal("cost: $5".into())]
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        for (text, fragment) in [
            ("${env:}", "empty variable name"),
            (
                "${foo:X}",
                "unknown reference provider `foo`: the known references are ${env:NAME} and ${var:NAME}",
            ),
            ("${env:X", "unclosed"),
            ("${X}", "no source"),
            ("${env:1X}", "invalid variable name"),
            ("${env:A-B}", "invalid variable name"),
        ] {
            let error = parse_template(text).unwrap_err();
            assert!(error.message.contains(fragment), "{text}: {error:?}");
        }
    }

    #[test]
    fn unknown_providers_are_named_only_when_the_value_is_shaped_like_a_reference() {
        assert_eq!(unknown_provider("${vault:secret/x}"), Some("vault"));
        assert_eq!(unknown_provider("${env:X}"), None);
        assert_eq!(unknown_provider("pa${ss:word}x"), None);
        assert_eq!(unknown_provider("${a b:c}"), None);
    }

    #[test]
    fn lists_names_in_order_without_duplicates() {
        let value = json!({"a": "${env:B}-${env:A}", "b": ["${env:B}", {"c": "${env:C}"}]});
        assert_eq!(references_in(&value), vec!["B", "A", "C"]);
    }

    #[test]
    fn resolves_and_converts_by_catalog_kind() {
        let t = template(
            "email",
            json!({"host": "smtp.${env:DOMAIN}", "port": "${env:PORT}", "auth": "${env:AUTH}",
                   "password": "${env:PW}", "description": "$${env:NOT}"}),
        );
        let env = env(&[
            ("DOMAIN", "example.com"),
            ("PORT", "2525"),
            ("AUTH", "true"),
            ("PW", "canary-secret"),
        ]);
        let resolved = resolve_connection(&t, &env).unwrap();
        assert_eq!(resolved.fields["host"], "smtp.example.com");
        assert_eq!(resolved.fields["port"], 2525);
        assert_eq!(resolved.fields["auth"], true);
        assert_eq!(resolved.fields["description"], "${env:NOT}");
        assert_eq!(resolved.fields["password"], Value::Null);
        assert_eq!(
            resolved.secrets.get("/password").unwrap().expose_secret(),
            "canary-secret"
        );
    }

    #[test]
    fn converts_nested_object_fields() {
        let t = template(
            "elasticsearch",
            json!({"elasticHostList": [{"host": "h", "port": "${env:ES_PORT}"}]}),
        );
        let resolved = resolve_connection(&t, &env(&[("ES_PORT", "9201")])).unwrap();
        assert_eq!(resolved.fields["elasticHostList"][0]["port"], 9201);
    }

    #[test]
    fn missing_variables_are_all_named() {
        let t = template(
            "database",
            json!({"jdbcUrl": "jdbc://${env:H}/${env:DB}", "password": "${env:PW}"}),
        );
        let error = resolve_connection(&t, &env(&[("DB", "x")])).unwrap_err();
        assert_eq!(error.0, vec!["H", "PW"]);
    }

    #[test]
    fn literal_secrets_of_templates_resolve_too() {
        let t = Connection::from_body(
            "email",
            "c",
            json!({"password": "pre-${env:PW}"})
                .as_object()
                .unwrap()
                .clone(),
            true,
        );
        assert_eq!(references_in_connection(&t), vec!["PW"]);
        let resolved = resolve_connection(&t, &env(&[("PW", "x")])).unwrap();
        assert_eq!(
            resolved.secrets.get("/password").unwrap().expose_secret(),
            "pre-x"
        );
    }

    #[test]
    fn reference_uses_tell_sensitive_places_from_plain_ones() {
        let hook = template(
            "webhook",
            json!({"fullUrl": "https://h/${env:PATH}?q=${env:PATH}",
                   "headerList": [{"name": "Authorization", "value": "Bearer ${env:TOKEN}"},
                                  {"name": "Accept", "value": "${env:ACCEPT}"}]}),
        );
        let uses: Vec<(String, String, bool)> = reference_uses(&hook)
            .into_iter()
            .map(|u| (u.pointer, u.variable, u.sensitive))
            .collect();
        let expected = [
            ("/fullUrl", "PATH", false),
            ("/headerList/0/value", "TOKEN", true),
            ("/headerList/1/value", "ACCEPT", false),
        ];
        for (pointer, variable, sensitive) in expected {
            assert!(
                uses.contains(&(pointer.into(), variable.into(), sensitive)),
                "{uses:?}"
            );
        }
        assert_eq!(uses.len(), 3, "{uses:?}");
        let mail = template("email", json!({"host": "h", "password": "${env:PW}"}));
        let uses = reference_uses(&mail);
        assert_eq!(uses.len(), 1);
        assert!(uses[0].sensitive && uses[0].pointer == "/password");
    }

    #[test]
    fn a_preview_leaves_out_sensitive_values_whose_variables_are_unset() {
        let t = template(
            "webhook",
            json!({"fullUrl": "https://${env:HOST}/x",
                   "headerList": [{"name": "Authorization", "value": "Bearer ${env:TOKEN}"}]}),
        );
        let (resolved, unset) = resolve_for_preview(&t, &env(&[("HOST", "h")])).unwrap();
        assert_eq!(resolved.fields["fullUrl"], "https://h/x");
        let placeholder = resolved.secrets.get("/headerList/0/value").unwrap();
        assert_eq!(placeholder.expose_secret(), UNRESOLVED);
        assert_eq!(resolved.fields["headerList"][0]["value"], Value::Null);
        assert_eq!(unset.len(), 1);
        assert_eq!(
            (unset[0].pointer.as_str(), unset[0].variable.as_str()),
            ("/headerList/0/value", "TOKEN")
        );
        let error = resolve_for_preview(&t, &env(&[])).unwrap_err();
        assert_eq!(error.0, vec!["HOST"]);
        let (full, none) =
            resolve_for_preview(&t, &env(&[("HOST", "h"), ("TOKEN", "canary")])).unwrap();
        assert!(none.is_empty());
        assert!(full.secrets.contains("/headerList/0/value"));
    }

    #[test]
    fn an_overlay_holds_only_the_fields_resolving_changes() {
        let t = template(
            "email",
            json!({"host": "smtp.${env:DOMAIN}", "port": 25, "description": "$${x}",
                   "username": "u", "password": "literal-canary"}),
        );
        let env = env(&[("DOMAIN", "example.com")]);
        let overlay = resolve_overlay(&t, &env).unwrap();
        let names: Vec<&str> = overlay.fields.keys().map(String::as_str).collect();
        assert_eq!(names, ["host", "description", "password"]);
        let secret = overlay.secrets.get("/password").unwrap();
        assert_eq!(secret.expose_secret(), "literal-canary");
    }

    #[test]
    fn an_overlay_onto_its_template_is_every_field_resolved() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections");
        let options = crate::desired::LoadOptions {
            paths: vec![folder.display().to_string()],
            ..Default::default()
        };
        let loaded = crate::desired::load(&options).expect("the shipped examples load");
        let templates: Vec<&Connection> = loaded
            .state
            .projects
            .values()
            .flat_map(|p| &p.connections)
            .map(|c| &c.template)
            .collect();
        let env = MapEnv(
            loaded
                .state
                .variables()
                .into_iter()
                .map(|name| (name, "4".to_string()))
                .collect(),
        );
        for template in templates {
            let every: Vec<String> = template.fields.keys().cloned().collect();
            let whole = resolve_fields(template, &every, &env).unwrap();
            let layered = resolve_connection(template, &env).unwrap();
            assert_eq!(layered.fields, whole.fields, "{}", template.name);
            let pointers = |c: &Connection| {
                c.secrets
                    .iter()
                    .map(|(p, v)| (p.clone(), v.expose_secret().to_string()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(pointers(&layered), pointers(&whole), "{}", template.name);
        }
    }

    #[test]
    fn unconvertible_text_stays_a_string() {
        assert!(converts_to("12", Kind::Integer));
        assert!(!converts_to("twelve", Kind::Integer));
        assert!(converts_to("anything", Kind::String));
    }
}
