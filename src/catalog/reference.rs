//! The field reference, `docs/connection-types.md`, generated from the catalog: per type
//! every field with its facts (see `facts`) and a minimal and a complete example. A test
//! compares the committed file with this output.

use std::fmt::Write as _;

use super::{FieldSpec, ObjectSpec, catalog, facts};

/// A minimal and a complete desired-state document of one connection type.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The connection type.
    pub kind: &'static str,
    /// Only the required fields (and those the defaults make required).
    pub minimal: &'static str,
    /// Every field of the type.
    pub complete: &'static str,
}

macro_rules! examples {
    ($($kind:literal),* $(,)?) => {
        [$(Example {
            kind: $kind,
            minimal: include_str!(concat!("examples/minimal/", $kind, ".yaml")),
            complete: include_str!(concat!("examples/complete/", $kind, ".yaml")),
        }),*]
    };
}

/// The examples of the 14 types, in catalog order.
pub const EXAMPLES: [Example; 14] = examples![
    "email",
    "kafka",
    "elasticsearch",
    "database",
    "ldap",
    "ftp",
    "rabbitMq",
    "activeMq",
    "snmp",
    "linux-script",
    "graylog",
    "syslog",
    "webhook",
    "logback",
];

const PREAMBLE: &str = "\
# Connection types: field reference

Generated from the connection-type catalog (`src/catalog/catalog.yaml`); do not edit.
`UPDATE_SCHEMAS=1 cargo test --test schema` regenerates it with the JSON Schemas.

Every connection is one entry under `connections:` with a `type` (one of the 14 below) and
a `name`; `renamedFrom` and `ignoreFields` work on every type (see the README). Field names
are the Apinizer API's own. A value may be a `${env:NAME}` reference wherever a string,
number or boolean goes; secret fields accept nothing else. `null` means absent, so the
documented default applies. Units are the API's: most timeouts are milliseconds, the
webhook `timeout` is seconds.

Columns: **Required** is `yes`, `no`, or the condition under which the field is required;
**Notes** lists allowed values, other rules and how the field is handled (secret,
write-only: the server answers it as null, answered as an ID, base64 file content).
";

/// The whole reference as Markdown.
pub fn connection_types_markdown() -> String {
    let catalog = catalog();
    let mut out = String::from(PREAMBLE);
    out.push_str("\n## Contents\n\n");
    for (name, spec) in &catalog.types {
        let _ = writeln!(out, "- [`{name}`](#{}): {}", anchor(name), spec.title);
    }
    out.push_str("- [Nested objects](#nested-objects)\n");
    out.push_str("\n## Common fields\n\nEvery type has these.\n\n");
    let common = catalog.common.iter().map(|(f, s)| (f.as_str(), s));
    field_table(&mut out, common, None);
    for example in EXAMPLES {
        let spec = &catalog.types[example.kind];
        let _ = writeln!(out, "\n## {}\n\n{}.\n", example.kind, spec.title);
        let fields = spec.fields.iter().map(|(f, s)| (f.as_str(), s));
        field_table(&mut out, fields, Some(spec));
        other_names(&mut out, spec);
        code_block(&mut out, "Minimal example", example.minimal);
        code_block(&mut out, "Complete example (every field)", example.complete);
    }
    out.push_str("\n## Nested objects\n");
    for (name, spec) in &catalog.objects {
        let _ = writeln!(out, "\n### {name}\n\n{}.\n", spec.title);
        let fields = spec.fields.iter().map(|(f, s)| (f.as_str(), s));
        field_table(&mut out, fields, Some(spec));
    }
    out
}

/// GitHub's heading anchor of a type name (`rabbitMq` -> `rabbitmq`).
fn anchor(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn field_table<'a>(
    out: &mut String,
    fields: impl Iterator<Item = (&'a str, &'a FieldSpec)>,
    object: Option<&ObjectSpec>,
) {
    out.push_str("| Field | Type | Unit | Default | Required | Description | Notes |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for (field, spec) in fields {
        let required = match object {
            Some(object) => facts::required_text(spec, object, field),
            None if spec.required => "yes".to_string(),
            None => "no".to_string(),
        };
        let cells = [
            format!("`{field}`"),
            facts::type_text(spec),
            spec.unit.clone().unwrap_or_default(),
            facts::default_text(spec)
                .map(|d| format!("`{d}`"))
                .unwrap_or_default(),
            required,
            spec.description.clone().unwrap_or_default(),
            notes(spec, object, field),
        ];
        let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", escaped.join(" | "));
    }
}

/// Allowed values, rules other than plain requiredness, limits and flags.
fn notes(spec: &FieldSpec, object: Option<&ObjectSpec>, field: &str) -> String {
    let mut notes = Vec::new();
    if let Some(values) = facts::enum_values(spec) {
        let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        notes.push(format!("values: {}", list.join(", ")));
    }
    let rules = object.map(|o| facts::rules(o, field)).unwrap_or_default();
    notes.extend(rules.into_iter().filter(|r| !r.starts_with("required")));
    notes.extend(facts::limits(spec));
    notes.extend(facts::flags(spec));
    notes.join("; ")
}

/// Other tools' names of the type's fields that `validate` leads to the Apinizer spelling.
fn other_names(out: &mut String, spec: &ObjectSpec) {
    if spec.aliases.is_empty() {
        return;
    }
    let pairs: Vec<String> = spec
        .aliases
        .iter()
        .map(|(alias, target)| match target.split_once('/') {
            Some((map, key)) => format!("`{alias}` -> `{map}` key `{key}`"),
            None => format!("`{alias}` -> `{target}`"),
        })
        .collect();
    let _ = writeln!(
        out,
        "\nOther tools' names (validate hints the Apinizer spelling): {}.",
        pairs.join(", ")
    );
}

fn code_block(out: &mut String, title: &str, text: &str) {
    let _ = write!(out, "\n{title}:\n\n```yaml\n{text}```\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_follow_the_catalog_order() {
        let kinds: Vec<&str> = EXAMPLES.iter().map(|e| e.kind).collect();
        let types: Vec<&str> = super::super::type_names().collect();
        assert_eq!(kinds, types);
    }

    #[test]
    fn every_field_of_every_type_is_listed() {
        let text = connection_types_markdown();
        for (kind, spec) in &catalog().types {
            let after = text.split(&format!("\n## {kind}\n")).nth(1).unwrap();
            let section = after.split("\n## ").next().unwrap();
            for field in spec.fields.keys() {
                assert!(
                    section.contains(&format!("| `{field}` |")),
                    "{kind}.{field}"
                );
            }
        }
        assert!(text.contains("| `timeout` | integer | s | `2` | no |"));
    }
}
