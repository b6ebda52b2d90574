//! One connection of a document: `type`, `name`, the type's fields from the catalog,
//! `renamedFrom` and `ignoreFields`.

use std::collections::BTreeMap;

use super::values::ValueChecker;
use super::yaml::{Location, Node, NodeValue};
use super::{Scope, check_pointer_list};
use crate::catalog::{catalog, scalar_text, type_names};
use crate::diag::{Diagnostic, did_you_mean};
use crate::model::{Connection, sensitive_pointers, unsafe_name};
use crate::refs::{ReferenceUse, reference_uses};

/// Keys every connection may have besides its type's fields.
const CONNECTION_KEYS: [&str; 5] = ["type", "name", "renamedFrom", "ignoreFields", "protect"];

/// A connection that passed its checks (other parts of the run may still have failed).
#[derive(Debug)]
pub(super) struct ParsedConnection {
    /// The template: references unresolved, literal secrets split off.
    pub template: Connection,
    /// `renamedFrom`.
    pub renamed_from: Option<String>,
    /// The connection's own `ignoreFields`.
    pub ignore_fields: Vec<String>,
    /// Where `protect: true` is written (`protect: false` or absent: `None`).
    pub protect: Option<Location>,
    /// Where the connection starts.
    pub location: Location,
    /// Where its `name` is written.
    pub name_location: Location,
    /// Fields written with `${var:...}`, as written, by JSON Pointer.
    pub var_templates: BTreeMap<String, String>,
    /// Every reference and where its value is written.
    pub references: Vec<(ReferenceUse, Location)>,
}

/// Checks one item of `connections`. Diagnostics go to `out`; the connection is returned
/// when its type and name are known (even if some field was wrong, so that later checks
/// such as duplicate names still see it).
pub(super) fn check_connection(
    node: &Node,
    scope: &Scope,
    allow_literal_secrets: bool,
    out: &mut Vec<Diagnostic>,
) -> Option<ParsedConnection> {
    let Some(entries) = node.as_map() else {
        let message = format!(
            "a connection must be a mapping with `type` and `name`, not {}",
            node.value.describe()
        );
        out.push(scope.diagnostic(Diagnostic::error(message), node.location));
        return None;
    };
    let name = connection_name(node, scope, out);
    let scope = &scope.with_connection(name.as_ref().map(|(n, _)| n.as_str()));
    let kind = connection_kind(node, scope, out);
    let mut checker = ValueChecker {
        scope,
        out,
        allow_literal_secrets,
        locations: BTreeMap::new(),
        var_templates: BTreeMap::new(),
    };
    let is_elasticsearch = kind == Some("elasticsearch");
    checker.report_duplicate_keys(entries, |key| duplicate_hint(key, is_elasticsearch));
    let renamed_from = node.get("renamedFrom").and_then(|n| {
        let old = scalar_string(n, "renamedFrom", &mut checker)?;
        check_path_name(&old, "`renamedFrom`", n.location, scope, checker.out);
        Some(old)
    });
    let protect = node
        .get("protect")
        .and_then(|n| protect_flag(n, &mut checker));
    let kind = kind?;
    let known: Vec<&str> = catalog().all_fields(kind).map(|(f, _)| f).collect();
    let ignore_fields = node
        .get("ignoreFields")
        .map(|n| check_pointer_list(n, &known, scope, checker.out))
        .unwrap_or_default();
    let body = check_fields(node, entries, kind, &mut checker);
    let (name, name_location) = name?;
    if let Some(old) = renamed_from
        .as_ref()
        .filter(|old| old.eq_ignore_ascii_case(&name))
    {
        let message = format!(
            "`renamedFrom: {old}` is the connection's own name (names compare ignoring case)"
        );
        let hint = "write the old name, or remove `renamedFrom` once the rename is applied";
        let at = node
            .get("renamedFrom")
            .map_or(node.location, |n| n.location);
        checker.error(at, message, Some(hint.to_string()));
    }
    let template = Connection::from_body(kind, &name, body, true);
    let references = reference_uses(&template)
        .into_iter()
        .map(|r| {
            let at = checker.locations.get(&r.pointer).copied();
            (r, at.unwrap_or(node.location))
        })
        .collect();
    Some(ParsedConnection {
        template,
        renamed_from,
        ignore_fields,
        protect,
        location: node.location,
        name_location,
        var_templates: checker.var_templates,
        references,
    })
}

/// The type's fields: values, required fields, rules, sensitive entries.
fn check_fields(
    node: &Node,
    entries: &[(Node, Node)],
    kind: &'static str,
    checker: &mut ValueChecker,
) -> crate::model::Body {
    let catalog = catalog();
    let lookup = move |field: &str| catalog.field(kind, field);
    let candidates: Vec<&'static str> = catalog
        .all_fields(kind)
        .map(|(name, _)| name)
        .chain(CONNECTION_KEYS[2..].iter().copied())
        .collect();
    let aliases = &catalog.types[kind].aliases;
    let body = checker.check_entries(entries, "", &lookup, &candidates, aliases, &CONNECTION_KEYS);
    let own_fields = catalog.types[kind]
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v));
    checker.check_required(&body, "", own_fields, node.location);
    let rules = &catalog.types[kind].rules;
    checker.check_rules(rules, &body, "", node.location, &lookup);
    let secret_fields: Vec<&str> = catalog
        .all_fields(kind)
        .filter(|(_, spec)| spec.secret)
        .map(|(name, _)| name)
        .collect();
    checker.warn_sensitive_literals(&body, sensitive_pointers(kind, &body), &secret_fields);
    body
}

fn duplicate_hint(key: &str, is_elasticsearch: bool) -> String {
    if key == "type" && is_elasticsearch {
        "the first `type` is the connection type; use accessType for the access mode (READ_WRITE | READ)"
            .to_string()
    } else {
        "remove one of them".to_string()
    }
}

/// The discriminator, checked against the 14 types (with did-you-mean).
fn connection_kind(node: &Node, scope: &Scope, out: &mut Vec<Diagnostic>) -> Option<&'static str> {
    let all: Vec<&'static str> = type_names().collect();
    let Some(value) = node.get("type") else {
        let error = Diagnostic::error("missing required field `type`")
            .with_hint(format!("one of: {}", all.join(", ")));
        out.push(scope.diagnostic(error, node.location));
        return None;
    };
    let text = value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| scalar_text(&value.to_json()));
    if let Some(kind) = all.iter().find(|k| **k == text) {
        return Some(kind);
    }
    let hint = match did_you_mean(&text, all.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("one of: {}", all.join(", ")),
    };
    let error = Diagnostic::error(format!("unknown connection type `{text}`")).with_hint(hint);
    out.push(scope.diagnostic(error, value.location));
    None
}

/// The connection name and where it is written.
fn connection_name(
    node: &Node,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Option<(String, Location)> {
    let missing = |message: &str, at: Location, out: &mut Vec<Diagnostic>| {
        let error = Diagnostic::error(message).with_hint("add `name: my-connection`");
        out.push(scope.diagnostic(error, at));
        None
    };
    let Some(value) = node.get("name") else {
        return missing("missing required field `name`", node.location, out);
    };
    let name = match &value.value {
        NodeValue::String(s) if !s.trim().is_empty() => s.clone(),
        NodeValue::Number(_) | NodeValue::Bool(_) => scalar_text(&value.to_json()),
        _ => return missing("`name` must be a non-empty string", value.location, out),
    };
    check_path_name(&name, "connection name", value.location, scope, out);
    Some((name, value.location))
}

/// A connection or project name must be one safe path segment (DESIGN.md 1); the error
/// is placed at the name. The name is still returned by the callers, so that checks of
/// the rest of the connection go on.
pub(super) fn check_path_name(
    name: &str,
    what: &str,
    at: Location,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(why) = unsafe_name(name) {
        let error = Diagnostic::error(format!("{what} `{name}` {why}")).with_hint(
            "names are path parameters of the API: no spaces, `/`, `\\`, `?`, `#`, `%` or control characters, and not `.` or `..`",
        );
        out.push(scope.diagnostic(error, at));
    }
}

/// A scalar as a string, or an error naming the key.
fn scalar_string(node: &Node, key: &str, checker: &mut ValueChecker) -> Option<String> {
    match &node.value {
        NodeValue::String(s) if !s.is_empty() => Some(s.clone()),
        NodeValue::Null => None,
        NodeValue::Number(_) | NodeValue::Bool(_) => Some(scalar_text(&node.to_json())),
        other => {
            let message = format!("`{key}` must be a string, not {}", other.describe());
            checker.error(node.location, message, None);
            None
        }
    }
}

/// `protect: true | false`: where a true one is written.
fn protect_flag(node: &Node, checker: &mut ValueChecker) -> Option<Location> {
    match node.value {
        NodeValue::Bool(true) => Some(node.location),
        NodeValue::Bool(false) | NodeValue::Null => None,
        ref other => {
            let message = format!("`protect` must be true or false, not {}", other.describe());
            let hint = "`protect: true` forbids deleting or replacing the connection";
            checker.error(node.location, message, Some(hint.to_string()));
            None
        }
    }
}
