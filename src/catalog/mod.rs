//! The connection-type catalog: every field of the 14 Apinizer connection types with its
//! JSON type, default, enum, secret flag and conditional rules.
//!
//! It is the one source of truth: validation (`desired`), normalisation (`plan`), secret
//! handling, the sandbox and the generated JSON Schemas (`schema`) all read it. The data
//! lives in `catalog.yaml` beside this file and is embedded in the binary.

pub mod facts;
pub mod reference;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The raw catalog text, embedded at build time.
const CATALOG_YAML: &str = include_str!("catalog.yaml");

/// The discriminators of the 14 connection types, in the catalog's order.
pub fn type_names() -> impl Iterator<Item = &'static str> {
    catalog().types.keys().map(String::as_str)
}

/// The parsed catalog, built once per process.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let catalog: Catalog =
            serde_saphyr::from_str(CATALOG_YAML).expect("embedded catalog.yaml is valid");
        catalog.check_references();
        catalog
    })
}

/// The whole catalog: enums, common fields, nested object types and connection types.
#[derive(Debug, Deserialize)]
pub struct Catalog {
    /// Named enumerations, referenced by `FieldSpec::enum_name`.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Other tools' spellings of enum values, by enum: `POSTGRESQL` -> `POSTGRES`.
    #[serde(default)]
    pub enum_aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// Fields every connection type has (`name`, `description`, `deployToWorker`, `enabled`).
    pub common: IndexMap<String, FieldSpec>,
    /// Nested object types (ElasticHost, MapValue, ...).
    pub objects: IndexMap<String, ObjectSpec>,
    /// The connection types, keyed by discriminator.
    pub types: IndexMap<String, ObjectSpec>,
}

/// A set of fields plus the rules that tie them together: a connection type or a nested
/// object.
#[derive(Debug, Deserialize)]
pub struct ObjectSpec {
    /// A short human name (`Email connection (SMTP)`), for schema titles and headings.
    pub title: String,
    /// Other tools' names of a field -> the Apinizer field, or `map/key` for a key of a
    /// map field (`bootstrapServers` -> `propertiesMap/bootstrap.servers`).
    #[serde(default)]
    pub aliases: IndexMap<String, String>,
    /// Fields in documentation order.
    pub fields: IndexMap<String, FieldSpec>,
    /// Conditional rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// The JSON type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A JSON string.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// true / false.
    Boolean,
    /// A list; see `FieldSpec::items`.
    Array,
    /// A nested object; see `FieldSpec::object`.
    Object,
    /// A free-keyed map; see `FieldSpec::values`.
    Map,
    /// Anything (undocumented item shapes).
    Any,
}

impl Kind {
    /// The word used in messages and JSON Schemas.
    pub fn json_name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Array => "array",
            Kind::Object | Kind::Map => "object",
            Kind::Any => "any",
        }
    }
}

/// How the server rewrites a value it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rewrite {
    /// A trailing `/` is appended when missing (logback `logPath`).
    TrailingSlash,
    /// A leading `/` is removed (logback `logFileName`).
    StripLeadingSlash,
    /// An empty or missing value is filled in by the server (logback `logPodName`).
    ServerFillsWhenEmpty,
}

/// A string format checked by validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// An absolute `http://` or `https://` URL.
    HttpUrl,
}

/// Entries of a map or list whose values carry credentials in practice.
#[derive(Debug, Clone, Deserialize)]
pub struct Sensitivity {
    /// For lists of objects: the field naming the entry (webhook header `name`). Maps use
    /// their key.
    pub key_field: Option<String>,
    /// Entry names that are sensitive (compared ignoring case).
    #[serde(default)]
    pub exact: Vec<String>,
    /// Substrings that make an entry name sensitive (compared ignoring case).
    #[serde(default)]
    pub contains: Vec<String>,
}

impl Sensitivity {
    /// Whether an entry with this name (header name, property key) is sensitive.
    pub fn matches(&self, entry_name: &str) -> bool {
        let lower = entry_name.to_ascii_lowercase();
        self.exact
            .iter()
            .any(|e| e.eq_ignore_ascii_case(entry_name))
            || self.contains.iter().any(|c| lower.contains(c.as_str()))
    }
}

/// One field of a connection type or nested object.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldSpec {
    /// JSON type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Must be present and non-null in desired state.
    #[serde(default)]
    pub required: bool,
    /// The documented default, if any.
    pub default: Option<Value>,
    /// Name of the enum under `Catalog::enums`.
    #[serde(rename = "enum")]
    pub enum_name: Option<String>,
    /// A secret: must be a reference, never printed.
    #[serde(default)]
    pub secret: bool,
    /// `base64` when the field carries base64 file content.
    pub content: Option<String>,
    /// The server may answer null for it (write-only).
    #[serde(default)]
    pub masked_in_get: bool,
    /// Field name in server responses when it differs (kafka `keyStoreId`).
    pub response_name: Option<String>,
    /// Field name on the wire when it differs from the YAML name.
    pub wire_name: Option<String>,
    /// An array whose order does not matter.
    #[serde(default)]
    pub set: bool,
    /// Server-side rewrite of the value.
    pub rewrite: Option<Rewrite>,
    /// Entries whose values are sensitive.
    pub sensitive: Option<Sensitivity>,
    /// Keys a map must hold.
    #[serde(default)]
    pub required_keys: Vec<String>,
    /// String format.
    pub format: Option<Format>,
    /// Smallest allowed integer.
    pub minimum: Option<i64>,
    /// Largest allowed integer.
    pub maximum: Option<i64>,
    /// Fewest array items.
    pub min_items: Option<usize>,
    /// Shortest string.
    pub min_length: Option<usize>,
    /// For `object`: the nested object's name under `Catalog::objects`.
    pub object: Option<String>,
    /// For `array`: the item spec.
    pub items: Option<Box<FieldSpec>>,
    /// For `map`: the value spec.
    pub values: Option<Box<FieldSpec>>,
    /// One line from the API docs: what the field is for (reference, schema hovers, hints).
    pub description: Option<String>,
    /// The unit of the value (`ms`, `s`, `MB`, `connections`), for durations and sizes.
    pub unit: Option<String>,
}

impl FieldSpec {
    /// The allowed values of an enum field.
    pub fn enum_values(&self) -> Option<&'static [String]> {
        let name = self.enum_name.as_ref()?;
        catalog().enums.get(name).map(Vec::as_slice)
    }

    /// Other spellings of the field's enum values (or of its list items' values), as
    /// (alias, value) pairs.
    pub fn enum_aliases(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        let name = self
            .enum_name
            .as_ref()
            .or_else(|| self.items.as_ref()?.enum_name.as_ref());
        name.and_then(|n| catalog().enum_aliases.get(n))
            .into_iter()
            .flatten()
            .map(|(alias, value)| (alias.as_str(), value.as_str()))
    }

    /// The nested object type of an `object` field.
    pub fn object_spec(&self) -> Option<&'static ObjectSpec> {
        self.object.as_ref().and_then(|o| catalog().objects.get(o))
    }

    /// Whether the value is base64 file content.
    pub fn is_base64_content(&self) -> bool {
        self.content.as_deref() == Some("base64")
    }

    /// The description with its unit, `Connect timeout (ms)`, for hovers and hints.
    pub fn description_with_unit(&self) -> Option<String> {
        let description = self.description.as_deref()?;
        Some(match &self.unit {
            Some(unit) => format!("{description} ({unit})"),
            None => description.to_string(),
        })
    }

    /// Whether list responses hide the value (secrets and masked content).
    pub fn hidden_in_list(&self) -> bool {
        self.secret || self.masked_in_get
    }

    /// The value without nulls and documented defaults inside nested objects (list
    /// items, map values), as export writes it and a replaced or deleted connection is
    /// shown.
    pub fn without_nested_defaults(&self, value: Value) -> Value {
        let spec = self;
        match (value, spec.kind) {
            (Value::Object(map), Kind::Object) => match spec.object_spec() {
                Some(object) => Value::Object(
                    map.into_iter()
                        .filter_map(|(k, v)| {
                            let nested = object.fields.get(&k);
                            let v = match nested {
                                Some(n) => n.without_nested_defaults(v),
                                None => v,
                            };
                            let is_default = nested.and_then(|n| n.default.as_ref()) == Some(&v);
                            (!v.is_null() && !is_default).then_some((k, v))
                        })
                        .collect(),
                ),
                None => Value::Object(map),
            },
            (Value::Array(items), Kind::Array) => match spec.items.as_deref() {
                Some(item) => Value::Array(
                    items
                        .into_iter()
                        .map(|v| item.without_nested_defaults(v))
                        .collect(),
                ),
                None => Value::Array(items),
            },
            (Value::Object(map), Kind::Map) => match spec.values.as_deref() {
                Some(values) => Value::Object(
                    map.into_iter()
                        .map(|(k, v)| (k, values.without_nested_defaults(v)))
                        .collect(),
                ),
                None => Value::Object(map),
            },
            (other, _) => other,
        }
    }
}

/// A condition on one field: equal to a value, or to one of a list of values.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// Any of these values.
    OneOf(Vec<Value>),
    /// Exactly this value.
    Equals(Value),
}

impl Condition {
    /// Whether the effective value satisfies the condition.
    pub fn holds(&self, value: &Value) -> bool {
        match self {
            Condition::OneOf(options) => options.contains(value),
            Condition::Equals(expected) => expected == value,
        }
    }

    /// The condition as written, for messages (`auth == true`, `protocol in [A, B]`).
    pub fn describe(&self, field: &str) -> String {
        match self {
            Condition::Equals(v) => format!("{field} == {}", scalar_text(v)),
            Condition::OneOf(vs) => {
                let list: Vec<String> = vs.iter().map(scalar_text).collect();
                format!("{field} in [{}]", list.join(", "))
            }
        }
    }
}

/// A scalar as written in YAML (strings unquoted).
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A conditional rule of a type or nested object.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    /// Every listed field must satisfy its condition (defaults apply).
    #[serde(default)]
    pub when: IndexMap<String, Condition>,
    /// Every listed field must be present (non-null).
    #[serde(default)]
    pub when_set: Vec<String>,
    /// Then these fields must be present, non-null and non-empty.
    #[serde(default)]
    pub require: Vec<String>,
    /// Then at least one of these booleans must be true.
    #[serde(default)]
    pub require_any_true: Vec<String>,
    /// At most one of these booleans may be true.
    #[serde(default)]
    pub at_most_one_true: Vec<String>,
    /// Then none of these booleans may be true.
    #[serde(default)]
    pub forbid_true: Vec<String>,
}

/// The value a rule sees for a field: the written value unless null, else the documented
/// default, else null.
pub fn effective_value(body: &Map<String, Value>, field: &str, spec: Option<&FieldSpec>) -> Value {
    body.get(field)
        .filter(|v| !v.is_null())
        .cloned()
        .or_else(|| spec.and_then(|s| s.default.clone()))
        .unwrap_or(Value::Null)
}

impl Rule {
    /// Whether the rule's condition holds on a body: every `when` field's effective value
    /// (defaults apply) satisfies its condition and every `when_set` field is written.
    /// `spec_of` finds a field's spec (of the type or of the nested object).
    pub fn applies<'a>(
        &self,
        body: &Map<String, Value>,
        spec_of: impl Fn(&str) -> Option<&'a FieldSpec>,
    ) -> bool {
        let conditions_hold = self.when.iter().all(|(field, condition)| {
            condition.holds(&effective_value(body, field, spec_of(field)))
        });
        let set = self
            .when_set
            .iter()
            .all(|field| body.get(field).is_some_and(|v| !v.is_null()));
        conditions_hold && set
    }

    /// The rule's condition as text (`auth == true and ...`), empty when unconditional.
    pub fn describe_condition(&self) -> String {
        let mut parts: Vec<String> = self.when.iter().map(|(f, c)| c.describe(f)).collect();
        parts.extend(self.when_set.iter().map(|f| format!("{f} is set")));
        parts.join(" and ")
    }
}

impl Catalog {
    /// A connection type by discriminator (exact spelling).
    pub fn connection_type(&self, name: &str) -> Option<&ObjectSpec> {
        self.types.get(name)
    }

    /// A field of a connection type, common fields included.
    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldSpec> {
        self.common
            .get(field)
            .or_else(|| self.types.get(type_name)?.fields.get(field))
    }

    /// Every field of a type: common fields first, then the type's own.
    pub fn all_fields<'a>(
        &'a self,
        type_name: &str,
    ) -> impl Iterator<Item = (&'a str, &'a FieldSpec)> + Clone + 'a {
        let own = self.types.get(type_name).map(|t| &t.fields);
        self.common
            .iter()
            .chain(own.into_iter().flatten())
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Panics at start-up when the embedded catalog names an enum or object it lacks; a
    /// unit test runs it so a bad edit never ships.
    fn check_references(&self) {
        let objects = self.types.values().chain(self.objects.values());
        for spec in objects
            .flat_map(|o| o.fields.values())
            .chain(self.common.values())
        {
            check_field_references(self, spec);
        }
        for (name, aliases) in &self.enum_aliases {
            let values = self.enums.get(name).expect("enum_aliases names an enum");
            for value in aliases.values() {
                assert!(
                    values.contains(value),
                    "catalog: {name} has no value {value}"
                );
            }
        }
        for (kind, spec) in &self.types {
            for target in spec.aliases.values() {
                let field = target.split('/').next().unwrap_or_default();
                assert!(
                    spec.fields.contains_key(field),
                    "catalog: {kind} alias target {target} is no field"
                );
            }
        }
    }
}

fn check_field_references(catalog: &Catalog, spec: &FieldSpec) {
    if let Some(e) = &spec.enum_name {
        assert!(catalog.enums.contains_key(e), "catalog: unknown enum {e}");
    }
    if let Some(o) = &spec.object {
        assert!(
            catalog.objects.contains_key(o),
            "catalog: unknown object {o}"
        );
    }
    for nested in spec.items.iter().chain(spec.values.iter()) {
        check_field_references(catalog, nested);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_the_14_documented_types() {
        let names: Vec<&str> = type_names().collect();
        assert_eq!(names.len(), 14);
        assert_eq!(catalog().enums["ConnectionType"], names);
    }

    #[test]
    fn field_counts_match_the_reference() {
        // The reference counts 191 type-specific fields (elasticsearch's `type` is our
        // `accessType`) and 23 nested object fields.
        let own: usize = catalog().types.values().map(|t| t.fields.len()).sum();
        let nested: usize = catalog().objects.values().map(|o| o.fields.len()).sum();
        assert_eq!(own, 191);
        assert_eq!(nested, 23);
    }

    #[test]
    fn secrets_and_quirks_are_marked() {
        let c = catalog();
        assert!(c.field("email", "password").unwrap().secret);
        assert!(!c.field("email", "password").unwrap().masked_in_get);
        assert!(c.field("snmp", "privPassphrase").unwrap().masked_in_get);
        let access = c.field("elasticsearch", "accessType").unwrap();
        assert_eq!(access.wire_name.as_deref(), Some("type"));
        let ks = c.field("kafka", "keyStoreName").unwrap();
        assert_eq!(ks.response_name.as_deref(), Some("keyStoreId"));
        assert_eq!(
            c.field("logback", "logPath").unwrap().rewrite,
            Some(Rewrite::TrailingSlash)
        );
    }

    #[test]
    fn rules_apply_with_defaults_and_written_values() {
        let c = catalog();
        let body = |v: Value| v.as_object().unwrap().clone();
        let spec_of = |f: &str| c.field("database", f);
        // database `useCredentials` defaults to true: the credentials rule applies unwritten.
        let credentials = &c.connection_type("database").unwrap().rules[0];
        assert!(credentials.applies(&body(serde_json::json!({})), spec_of));
        let off = body(serde_json::json!({"useCredentials": false}));
        assert!(!credentials.applies(&off, spec_of));
        // activeMq: a password needs a username only once the password is written.
        let password = &c.connection_type("activeMq").unwrap().rules[0];
        let spec_of = |f: &str| c.field("activeMq", f);
        assert!(!password.applies(&body(serde_json::json!({"password": null})), spec_of));
        assert!(password.applies(&body(serde_json::json!({"password": "x"})), spec_of));
    }

    /// Every field the catalog declares, with its owner (`common`, a type or an object).
    fn every_field() -> Vec<(String, &'static str, &'static FieldSpec)> {
        let c = catalog();
        let owned = |owner: &'static str, fields: &'static IndexMap<String, FieldSpec>| {
            fields
                .iter()
                .map(move |(f, s)| (owner.to_string(), f.as_str(), s))
        };
        let mut all: Vec<_> = owned("common", &c.common).collect();
        for (owner, spec) in c.types.iter().chain(c.objects.iter()) {
            all.extend(owned(owner.as_str(), &spec.fields));
        }
        all
    }

    #[test]
    fn every_field_has_a_one_line_description() {
        let fields = every_field();
        assert_eq!(fields.len(), 4 + 191 + 23);
        for (owner, field, spec) in fields {
            let description = spec.description.as_deref().unwrap_or_default();
            assert!(
                !description.is_empty() && !description.contains('\n') && description.len() <= 160,
                "{owner}.{field}: needs a one-line description (at most 160 characters)"
            );
        }
    }

    /// The lower-case words of a camelCase name (`connectionTimeoutInMs` -> connection,
    /// timeout, in, ms).
    fn words(name: &str) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for c in name.chars() {
            match words.last_mut() {
                Some(word) if !c.is_ascii_uppercase() => word.push(c),
                _ => words.push(c.to_ascii_lowercase().to_string()),
            }
        }
        words
    }

    /// A number whose name says it is a duration or a size must say in what.
    #[test]
    fn every_duration_and_size_field_has_a_unit() {
        const WORDS: [&str; 11] = [
            "timeout",
            "delay",
            "period",
            "age",
            "time",
            "heartbeat",
            "size",
            "cap",
            "history",
            "rollover",
            "ms",
        ];
        let mut checked = 0;
        for (owner, field, spec) in every_field() {
            let numeric = matches!(spec.kind, Kind::Integer | Kind::Number);
            if numeric && words(field).iter().any(|w| WORDS.contains(&w.as_str())) {
                checked += 1;
                assert!(
                    spec.unit.is_some(),
                    "{owner}.{field}: a duration or size needs a unit"
                );
            }
        }
        assert!(checked >= 30, "only {checked} duration/size fields found");
        let c = catalog();
        let unit = |kind: &str, field: &str| c.field(kind, field).unwrap().unit.as_deref();
        assert_eq!(unit("webhook", "timeout"), Some("s"));
        assert_eq!(unit("syslog", "syslogTimeout"), Some("ms"));
        assert_eq!(unit("database", "connectionTimeout"), Some("ms"));
        assert_eq!(unit("logback", "maxFileSize"), Some("MB"));
        assert_eq!(unit("rabbitMq", "basicPropertiesExpiration"), Some("ms"));
        assert_eq!(
            words("connectionTimeoutInMs"),
            ["connection", "timeout", "in", "ms"]
        );
    }

    /// `url` (the word most tools use) leads to each type's address field; logback writes
    /// local files and has none.
    #[test]
    fn every_type_with_an_address_knows_url() {
        for (kind, spec) in &catalog().types {
            let target = spec.aliases.get("url");
            assert_eq!(target.is_some(), kind != "logback", "{kind}: {target:?}");
        }
        let database = catalog().connection_type("database").unwrap();
        assert_eq!(database.aliases["databaseType"], "dbType");
        let kafka = catalog().connection_type("kafka").unwrap();
        assert_eq!(
            kafka.aliases["bootstrapServers"],
            "propertiesMap/bootstrap.servers"
        );
    }

    #[test]
    fn sensitivity_matches_names_and_substrings() {
        let headers = catalog().field("webhook", "headerList").unwrap();
        let s = headers.sensitive.as_ref().unwrap();
        assert!(s.matches("authorization"));
        assert!(s.matches("X-API-Key"));
        assert!(!s.matches("Content-Type"));
    }
}
