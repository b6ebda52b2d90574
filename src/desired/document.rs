//! One YAML document: `apiVersion`, `project`, `prune`, `allowEmpty`, `ignore`,
//! `protect`, `ignoreFields` and `connections`.

use super::connection::{ParsedConnection, check_connection, check_path_name};
use super::yaml::{Location, Node, NodeValue};
use super::{Scope, check_pointer_list};
use crate::catalog::catalog;
use crate::diag::{Diagnostic, did_you_mean};

/// The only accepted `apiVersion`.
pub const API_VERSION: &str = "apinizer-gitops/v1";

const TOP_LEVEL_KEYS: [&str; 8] = [
    "apiVersion",
    "project",
    "prune",
    "allowEmpty",
    "ignore",
    "protect",
    "ignoreFields",
    "connections",
];

/// A project setting and where it was written.
#[derive(Debug, Clone)]
pub(super) struct Setting<T> {
    pub value: T,
    pub location: Location,
}

/// A checked document.
#[derive(Debug)]
pub(super) struct ParsedDocument {
    /// The project and where it is named.
    pub project: Option<Setting<String>>,
    pub prune: Option<Setting<bool>>,
    pub allow_empty: Option<Setting<bool>>,
    pub ignore: Option<Setting<Vec<String>>>,
    /// Connection-name globs never deleted or replaced.
    pub protect: Option<Setting<Vec<String>>>,
    /// The document's `ignoreFields`, for all its connections.
    pub ignore_fields: Vec<String>,
    pub connections: Vec<ParsedConnection>,
    /// Where the document starts.
    pub location: Location,
}

/// Checks one document of a file; diagnostics go to `out`.
pub(super) fn check_document(
    document: &Node,
    scope: &Scope,
    allow_literal_secrets: bool,
    out: &mut Vec<Diagnostic>,
) -> Option<ParsedDocument> {
    let Some(entries) = document.as_map() else {
        let message = format!(
            "not a desired-state document: expected a mapping with `project` and `connections`, found {}",
            document.value.describe()
        );
        out.push(scope.diagnostic(
            Diagnostic::error(message).with_hint(STRAY_HINT),
            document.location,
        ));
        return None;
    };
    report_top_level_keys(entries, scope, out);
    let project = project_name(document, scope, out);
    let scope = &scope.with_project(project.as_ref().map(|p| p.value.as_str()));
    check_api_version(document, scope, out);
    let connections = document
        .get("connections")
        .map(|n| check_connections(n, scope, allow_literal_secrets, out))
        .unwrap_or_default();
    Some(ParsedDocument {
        prune: boolean_setting(document, "prune", scope, out),
        allow_empty: boolean_setting(document, "allowEmpty", scope, out),
        ignore: document
            .get("ignore")
            .and_then(|n| glob_setting(n, "ignore", scope, out)),
        protect: document
            .get("protect")
            .and_then(|n| glob_setting(n, "protect", scope, out)),
        ignore_fields: document
            .get("ignoreFields")
            .map(|n| check_pointer_list(n, &all_field_names(), scope, out))
            .unwrap_or_default(),
        project,
        connections,
        location: document.location,
    })
}

/// Every field name of every type (a document-level `ignoreFields` covers them all).
fn all_field_names() -> Vec<&'static str> {
    let catalog = catalog();
    let mut names: Vec<&'static str> = catalog
        .types
        .keys()
        .flat_map(|kind| catalog.all_fields(kind).map(|(f, _)| f))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

const STRAY_HINT: &str = "Every YAML file under the -f paths must be a desired-state file \
     (`project:` and `connections:`); move other YAML files elsewhere";

fn report_top_level_keys(entries: &[(Node, Node)], scope: &Scope, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, Location)> = Vec::new();
    for (key, _) in entries {
        let text = key.key_text();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == text) {
            let message = format!(
                "duplicate key `{text}` (first written at line {})",
                first.line
            );
            let error = Diagnostic::error(message).with_hint("remove one of them");
            out.push(scope.diagnostic(error, key.location));
            continue;
        }
        seen.push((text.clone(), key.location));
        if !TOP_LEVEL_KEYS.contains(&text.as_str()) {
            let hint = match did_you_mean(&text, TOP_LEVEL_KEYS) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "top-level keys: {}. {STRAY_HINT}",
                    TOP_LEVEL_KEYS.join(", ")
                ),
            };
            let error =
                Diagnostic::error(format!("unknown top-level key `{text}`")).with_hint(hint);
            out.push(scope.diagnostic(error, key.location));
        }
    }
}

fn project_name(
    document: &Node,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Option<Setting<String>> {
    let Some(node) = document.get("project") else {
        let error = Diagnostic::error("missing required key `project`").with_hint(format!(
            "name the Apinizer project, e.g. `project: Payments`. {STRAY_HINT}"
        ));
        out.push(scope.diagnostic(error, document.location));
        return None;
    };
    match node.as_str() {
        Some(name) if !name.trim().is_empty() => {
            check_path_name(name, "project name", node.location, scope, out);
            Some(Setting {
                value: name.to_string(),
                location: node.location,
            })
        }
        _ => {
            let error = Diagnostic::error("`project` must be a non-empty string")
                .with_hint("e.g. `project: Payments`");
            out.push(scope.diagnostic(error, node.location));
            None
        }
    }
}

fn check_api_version(document: &Node, scope: &Scope, out: &mut Vec<Diagnostic>) {
    let Some(node) = document.get("apiVersion") else {
        return;
    };
    if node.as_str() != Some(API_VERSION) {
        let error = Diagnostic::error(format!("`apiVersion` must be `{API_VERSION}`")).with_hint(
            format!("write `apiVersion: {API_VERSION}` or leave it out. {STRAY_HINT}"),
        );
        out.push(scope.diagnostic(error, node.location));
    }
}

fn boolean_setting(
    document: &Node,
    key: &str,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Option<Setting<bool>> {
    let node = document.get(key)?;
    match node.value {
        NodeValue::Bool(value) => Some(Setting {
            value,
            location: node.location,
        }),
        NodeValue::Null => None,
        ref other => {
            let message = format!("`{key}` must be true or false, not {}", other.describe());
            let mut diagnostic = scope.diagnostic(Diagnostic::error(message), node.location);
            diagnostic.hint = node.as_str().and_then(super::yaml::yaml11_boolean_hint);
            out.push(diagnostic);
            None
        }
    }
}

/// The strings of a list, or errors naming each bad item.
pub(super) fn string_list(
    node: &Node,
    key: &str,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Vec<(String, Location)> {
    let items = match &node.value {
        NodeValue::Seq(items) => items,
        NodeValue::Null => return Vec::new(),
        other => {
            let message = format!("`{key}` must be a list, not {}", other.describe());
            out.push(scope.diagnostic(Diagnostic::error(message), node.location));
            return Vec::new();
        }
    };
    let mut strings = Vec::new();
    for item in items {
        match item.as_str() {
            Some(text) => strings.push((text.to_string(), item.location)),
            None => {
                let message = format!(
                    "`{key}` items must be strings, not {}",
                    item.value.describe()
                );
                out.push(scope.diagnostic(Diagnostic::error(message), item.location));
            }
        }
    }
    strings
}

/// A project setting holding connection-name globs (`ignore`, `protect`).
fn glob_setting(
    node: &Node,
    key: &str,
    scope: &Scope,
    out: &mut Vec<Diagnostic>,
) -> Option<Setting<Vec<String>>> {
    if node.is_null() {
        return None;
    }
    let mut globs = Vec::new();
    for (glob, location) in string_list(node, key, scope, out) {
        match globset::Glob::new(&glob) {
            Ok(_) => globs.push(glob),
            Err(e) => {
                let error = Diagnostic::error(format!("invalid glob `{glob}` in `{key}`: {e}"))
                    .with_hint("connection-name globs look like `legacy-*`");
                out.push(scope.diagnostic(error, location));
            }
        }
    }
    Some(Setting {
        value: globs,
        location: node.location,
    })
}

fn check_connections(
    node: &Node,
    scope: &Scope,
    allow_literal_secrets: bool,
    out: &mut Vec<Diagnostic>,
) -> Vec<ParsedConnection> {
    match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .filter_map(|item| check_connection(item, scope, allow_literal_secrets, out))
            .collect(),
        NodeValue::Null => Vec::new(),
        other => {
            let error = Diagnostic::error(format!(
                "`connections` must be a list, not {}",
                other.describe()
            ))
            .with_hint("write each connection as a list item starting with `- type: ...`");
            out.push(scope.diagnostic(error, node.location));
            Vec::new()
        }
    }
}
