//! Values files (DESIGN.md 1.2): per-environment, non-secret values kept in git for
//! `${var:NAME}` references. Read with the desired-state YAML loader (file:line:column,
//! duplicate and unknown keys, size limit); a values file names no server and no
//! credentials, so a pull request cannot redirect where the token goes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{Kind, scalar_text};
use crate::desired::yaml::{self, Location, Node, NodeValue};
use crate::diag::Diagnostic;
use crate::refs::{Segment, convert_scalar, is_variable_name, parse_template};

/// The keys a values file may have.
const KEYS: &[&str] = &["apiVersion", "environment", "values"];

/// Keys that would name a server or credentials: refused with a hint of their own.
const FORBIDDEN_KEYS: &[&str] = &[
    "server",
    "url",
    "token",
    "tokenFile",
    "username",
    "password",
    "credentials",
    "caCert",
];

/// The longest environment name.
const MAX_ENVIRONMENT_LENGTH: usize = 64;

/// The values of every `--values` file read, later files winning, and the environment
/// they name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Values {
    /// The environment of the last file that names one.
    pub environment: Option<String>,
    /// Every value by name: a string, number or boolean.
    pub values: BTreeMap<String, Value>,
    /// The files read, in order (for messages).
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

/// Why a `${var:...}` template cannot be substituted.
#[derive(Debug, Clone, PartialEq)]
pub enum SubstituteError {
    /// Names not defined in any values file.
    Missing(Vec<String>),
    /// A whole reference in a number or boolean field whose value does not convert.
    NotConvertible {
        /// The variable.
        name: String,
        /// Its value, as written in the values file.
        value: String,
    },
    /// A value ending in `$` right before a `${env:...}` reference, which cannot be
    /// written as a template.
    DollarBeforeReference(String),
}

impl Values {
    /// `env/prod.yaml, env/extra.yaml`, or a note that none was given.
    pub fn files_read(&self) -> String {
        if self.files.is_empty() {
            return "no values file was given (--values FILE)".to_string();
        }
        let names: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        format!("values files read: {}", names.join(", "))
    }

    /// The template text with every `${var:NAME}` replaced by its value. A whole
    /// reference in an integer, number or boolean field (`kind`) becomes that type;
    /// anything else stays a template string (`${` of values escaped as `$${`), with its
    /// `${env:...}` references kept.
    pub fn substitute(&self, text: &str, kind: Option<Kind>) -> Result<Value, SubstituteError> {
        let segments = parse_template(text).unwrap_or_default();
        if let [Segment::Value(name)] = segments.as_slice() {
            let value = self.lookup(name)?;
            if let Some(kind @ (Kind::Integer | Kind::Number | Kind::Boolean)) = kind {
                return convert(value, kind).ok_or_else(|| SubstituteError::NotConvertible {
                    name: name.clone(),
                    value: scalar_text(value),
                });
            }
        }
        let missing: Vec<String> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Value(name) if !self.values.contains_key(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        if !missing.is_empty() {
            return Err(SubstituteError::Missing(missing));
        }
        self.template_text(&segments).map(Value::String)
    }

    /// Refuses values that differ from those a saved plan was made with (`saved`; `None`:
    /// no values), naming the environments and the differing names.
    pub fn check_agrees(&self, saved: Option<&Values>) -> Result<(), String> {
        let empty = Values::default();
        let saved = saved.unwrap_or(&empty);
        let mut differences = Vec::new();
        if self.environment != saved.environment {
            let name = |e: &Option<String>| e.clone().unwrap_or_else(|| "(none)".to_string());
            differences.push(format!(
                "environment {} (the plan's: {})",
                name(&self.environment),
                name(&saved.environment)
            ));
        }
        let names: std::collections::BTreeSet<&String> =
            self.values.keys().chain(saved.values.keys()).collect();
        let differing: Vec<&str> = names
            .into_iter()
            .filter(|n| self.values.get(*n) != saved.values.get(*n))
            .map(String::as_str)
            .collect();
        if !differing.is_empty() {
            differences.push(format!("values of {}", differing.join(", ")));
        }
        if differences.is_empty() {
            return Ok(());
        }
        Err(format!(
            "the --values files disagree with the plan file: {}; the plan holds the values it was made with, so apply it without --values, or make a new plan with these values",
            differences.join("; ")
        ))
    }

    fn lookup(&self, name: &str) -> Result<&Value, SubstituteError> {
        self.values
            .get(name)
            .ok_or_else(|| SubstituteError::Missing(vec![name.to_string()]))
    }

    /// Literal runs (literals and values) escaped, `${env:...}` references kept.
    fn template_text(&self, segments: &[Segment]) -> Result<String, SubstituteError> {
        let mut out = String::new();
        let mut run = String::new();
        let mut last_value = String::new();
        for segment in segments {
            match segment {
                Segment::Literal(text) => run.push_str(text),
                Segment::Value(name) => {
                    run.push_str(&scalar_text(&self.values[name]));
                    last_value.clone_from(name);
                }
                Segment::Variable(name) => {
                    if run.ends_with('$') {
                        return Err(SubstituteError::DollarBeforeReference(last_value));
                    }
                    out.push_str(&std::mem::take(&mut run).replace("${", "$${"));
                    out.push_str(&format!("${{env:{name}}}"));
                }
            }
        }
        out.push_str(&run.replace("${", "$${"));
        Ok(out)
    }
}

/// A value as a field kind: numbers and booleans as they are, text parsed.
fn convert(value: &Value, kind: Kind) -> Option<Value> {
    match (value, kind) {
        (Value::Number(n), Kind::Integer) if n.is_i64() || n.is_u64() => Some(value.clone()),
        (Value::Number(_), Kind::Number) | (Value::Bool(_), Kind::Boolean) => Some(value.clone()),
        (Value::String(text), _) => {
            Some(convert_scalar(text.clone(), kind)).filter(|v| !v.is_string())
        }
        _ => None,
    }
}

/// Whether a string holds a `${var:...}` reference.
pub fn has_value_reference(text: &str) -> bool {
    text.contains("${var:")
        && parse_template(text)
            .is_ok_and(|segments| segments.iter().any(|s| matches!(s, Segment::Value(_))))
}

/// Loads the values files in order (later values win). Errors are diagnostics at
/// file:line:column.
pub fn load(files: &[PathBuf], out: &mut Vec<Diagnostic>) -> Values {
    let mut values = Values {
        files: files.to_vec(),
        ..Values::default()
    };
    for file in files {
        load_file(file, &mut values, out);
    }
    values
}

/// [`load`] for commands that read values files on their own (`apply FILE`, `export`):
/// any problem is an error, every diagnostic on its own line.
pub fn load_or_error(files: &[PathBuf]) -> Result<Values, String> {
    let mut diagnostics = Vec::new();
    let values = load(files, &mut diagnostics);
    if diagnostics.is_empty() {
        return Ok(values);
    }
    let texts: Vec<String> = diagnostics.iter().map(Diagnostic::render_text).collect();
    Err(texts.join("\n"))
}

fn load_file(file: &Path, values: &mut Values, out: &mut Vec<Diagnostic>) {
    let error = |message: String, hint: &str, at: Location| {
        Diagnostic::error(message)
            .at(file, at.line, at.column)
            .with_hint(hint.to_string())
    };
    let bytes = match crate::desired::read_capped(file) {
        Ok(bytes) => bytes,
        Err(message) => {
            let hint = "check the --values path and its permissions";
            out.push(error(message, hint, Location::default()));
            return;
        }
    };
    let documents = match yaml::parse_documents(&bytes) {
        Ok(documents) => documents,
        Err(e) => {
            let mut diagnostic =
                Diagnostic::error(e.message).at(file, e.location.line, e.location.column);
            diagnostic.hint = e.hint;
            out.push(diagnostic);
            return;
        }
    };
    let [document] = documents.as_slice() else {
        let hint = "a values file holds one document: apiVersion, environment, values";
        let at = documents.get(1).map_or(Location::default(), |d| d.location);
        out.push(error(
            "a values file holds exactly one document".into(),
            hint,
            at,
        ));
        return;
    };
    let mut problems = Vec::new();
    check_document(document, values, &mut problems);
    out.extend(
        problems
            .into_iter()
            .map(|(message, hint, at)| error(message, &hint, at)),
    );
}

type Problem = (String, String, Location);

fn check_document(document: &Node, values: &mut Values, out: &mut Vec<Problem>) {
    let Some(entries) = document.as_map() else {
        let message = format!(
            "a values file is a mapping, not {}",
            document.value.describe()
        );
        out.push((
            message,
            "write apiVersion, environment and values".into(),
            document.location,
        ));
        return;
    };
    report_keys(entries, KEYS, out, |key| {
        if FORBIDDEN_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            "a values file cannot name a server or credentials: set them in the pipeline (--server, APINIZER_URL, APINIZER_TOKEN)".to_string()
        } else {
            "the keys are apiVersion, environment and values".to_string()
        }
    });
    match document.get("apiVersion") {
        Some(node) if node.as_str() == Some(crate::desired::API_VERSION) => {}
        Some(node) => out.push((
            "unsupported apiVersion in a values file".into(),
            format!("write apiVersion: {}", crate::desired::API_VERSION),
            node.location,
        )),
        None => out.push((
            "missing `apiVersion`".into(),
            format!("write apiVersion: {}", crate::desired::API_VERSION),
            document.location,
        )),
    }
    if let Some(node) = document.get("environment") {
        match node.as_str().filter(|name| is_environment_name(name)) {
            Some(name) => values.environment = Some(name.to_string()),
            None => out.push((
                "`environment` must be a name of letters, digits, `.`, `_` and `-` (at most 64)"
                    .into(),
                "write e.g. environment: production".into(),
                node.location,
            )),
        }
    }
    match document.get("values").map(|n| (n, &n.value)) {
        Some((_, NodeValue::Map(entries))) => check_values(entries, values, out),
        Some((_, NodeValue::Null)) | None => {}
        Some((node, other)) => out.push((
            format!("`values` must be a mapping, not {}", other.describe()),
            "write values: {NAME: value}".into(),
            node.location,
        )),
    }
}

fn check_values(entries: &[(Node, Node)], values: &mut Values, out: &mut Vec<Problem>) {
    report_keys(entries, &[], out, |_| String::new());
    for (key, value) in entries {
        let name = key.key_text();
        if !is_variable_name(&name) {
            out.push((
                format!("invalid value name `{}`", printable(&name)),
                "use letters, digits and `_`, not starting with a digit".into(),
                key.location,
            ));
            continue;
        }
        match &value.value {
            NodeValue::String(_) | NodeValue::Number(_) | NodeValue::Bool(_) => {
                values.values.insert(name, value.to_json());
            }
            other => out.push((
                format!(
                    "value `{name}` must be a string, number or boolean, not {}",
                    other.describe()
                ),
                "values are scalars; write one name per value".into(),
                value.location,
            )),
        }
    }
}

/// Duplicate keys, and keys outside `known` (when `known` is not empty).
fn report_keys(
    entries: &[(Node, Node)],
    known: &[&str],
    out: &mut Vec<Problem>,
    hint: impl Fn(&str) -> String,
) {
    let mut seen: BTreeMap<String, Location> = BTreeMap::new();
    for (key, _) in entries {
        let text = key.key_text();
        if let Some(first) = seen.get(&text) {
            out.push((
                format!(
                    "duplicate key `{}` (first written at line {})",
                    printable(&text),
                    first.line
                ),
                "write each key once".into(),
                key.location,
            ));
            continue;
        }
        seen.insert(text.clone(), key.location);
        if !known.is_empty() && !known.contains(&text.as_str()) {
            out.push((
                format!("unknown key `{}`", printable(&text)),
                hint(&text),
                key.location,
            ));
        }
    }
}

/// Key text bounded and without control characters, for messages.
fn printable(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 64 {
        shown.push('…');
    }
    shown
}

/// Whether an environment name is safe to print and use in a marker: letters, digits,
/// `.`, `_`, `-`, at most 64.
pub fn is_environment_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ENVIRONMENT_LENGTH
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(pairs: Value) -> Values {
        Values {
            values: serde_json::from_value(pairs).unwrap(),
            ..Values::default()
        }
    }

    #[test]
    fn whole_references_take_the_field_type_and_embedded_ones_text() {
        let v = values(json!({"PORT": 587, "TEXT_PORT": "25", "HOST": "db", "ON": true}));
        assert_eq!(
            v.substitute("${var:PORT}", Some(Kind::Integer)),
            Ok(json!(587))
        );
        assert_eq!(
            v.substitute("${var:TEXT_PORT}", Some(Kind::Integer)),
            Ok(json!(25))
        );
        assert_eq!(
            v.substitute("${var:ON}", Some(Kind::Boolean)),
            Ok(json!(true))
        );
        assert_eq!(
            v.substitute("${var:PORT}", Some(Kind::String)),
            Ok(json!("587"))
        );
        assert_eq!(
            v.substitute(
                "jdbc://${var:HOST}:${var:PORT}/${env:DB}",
                Some(Kind::String)
            ),
            Ok(json!("jdbc://db:587/${env:DB}"))
        );
        assert_eq!(
            v.substitute("${var:HOST}", Some(Kind::Integer)),
            Err(SubstituteError::NotConvertible {
                name: "HOST".into(),
                value: "db".into()
            })
        );
    }

    #[test]
    fn values_holding_reference_syntax_stay_literal() {
        let v = values(json!({"A": "${env:TOKEN}", "D": "x$"}));
        assert_eq!(v.substitute("${var:A}", None), Ok(json!("$${env:TOKEN}")));
        assert_eq!(
            v.substitute("${var:D}${env:B}", None),
            Err(SubstituteError::DollarBeforeReference("D".into()))
        );
        assert_eq!(v.substitute("${var:D}{x}", None), Ok(json!("x$${x}")));
    }

    #[test]
    fn every_missing_name_is_listed() {
        let v = values(json!({"A": "a"}));
        assert_eq!(
            v.substitute("${var:B}-${var:A}-${var:C}", None),
            Err(SubstituteError::Missing(vec!["B".into(), "C".into()]))
        );
    }

    fn problems(text: &str) -> Vec<Problem> {
        let documents = yaml::parse_documents(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        check_document(&documents[0], &mut Values::default(), &mut out);
        out
    }

    #[test]
    fn bad_values_files_are_errors_at_their_place() {
        let found = problems(
            "apiVersion: apinizer-gitops/v1\nserver: https://evil.example\nvalues:\n  A: 1\n  A: 2\n  1B: x\n  C: [1]\n",
        );
        let messages: Vec<String> = found
            .iter()
            .map(|p| format!("{}:{}", p.2.line, p.0))
            .collect();
        assert!(
            messages.contains(&"2:unknown key `server`".to_string()),
            "{messages:?}"
        );
        assert!(found[0].1.contains("cannot name a server"));
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("5:duplicate key `A`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("6:invalid value name")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("7:value `C` must be")),
            "{messages:?}"
        );
        assert!(problems("environment: prod\n")[0].0.contains("apiVersion"));
        assert!(
            problems("apiVersion: apinizer-gitops/v1\nenvironment: \"a b\"\n")[0]
                .0
                .contains("environment")
        );
    }
}
