//! `export --values FILE`: a field whose whole value equals a value of the file is written
//! as `${var:NAME}`, so exporting one environment with its values gives files that plan
//! clean against another environment with that one's values.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ProjectDocument;
use crate::values::Values;

/// Writes `${var:NAME}` into the documents where a whole value equals a value of
/// `values` (strings and numbers; booleans are too common to mean a value). A value
/// shared by several names is left as it is; the returned lines say where.
pub fn parameterise(documents: &mut [(String, ProjectDocument)], values: &Values) -> Vec<String> {
    let mut by_text: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in &values.values {
        if let Some(text) = matchable(value) {
            by_text.entry(text).or_default().push(name);
        }
    }
    let mut ambiguous = Vec::new();
    for (project, document) in documents.iter_mut() {
        let connections = document.document["connections"].as_array_mut();
        for entry in connections.into_iter().flatten() {
            let label = format!(
                "{project}/{}/{}",
                entry["type"].as_str().unwrap_or_default(),
                entry["name"].as_str().unwrap_or_default()
            );
            let Some(fields) = entry.as_object_mut() else {
                continue;
            };
            for (field, value) in fields.iter_mut() {
                if field != "type" && field != "name" {
                    replace(value, &by_text, &format!("{label} {field}"), &mut ambiguous);
                }
            }
        }
    }
    ambiguous
}

/// The text a value matches by, for strings without `${` (references and escaped server
/// text are never replaced) and numbers.
fn matchable(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.contains("${") && !text.is_empty() => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn replace(
    value: &mut Value,
    by_text: &BTreeMap<String, Vec<&str>>,
    place: &str,
    ambiguous: &mut Vec<String>,
) {
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace(item, by_text, place, ambiguous)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| replace(item, by_text, place, ambiguous)),
        _ => match matchable(value).and_then(|text| by_text.get(&text)) {
            Some(names) if names.len() == 1 => {
                *value = Value::String(format!("${{var:{}}}", names[0]));
            }
            Some(names) => ambiguous.push(format!(
                "{place}: its value is shared by {}; written as is",
                names.join(", ")
            )),
            None => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_values_become_references_and_shared_ones_are_reported() {
        let mut documents = vec![(
            "P".to_string(),
            ProjectDocument {
                document: json!({"connections": [{
                    "type": "email", "name": "db.prod", "host": "db.prod", "port": 587,
                    "auth": true, "password": "${env:PW}", "from": "a@db.prod",
                    "list": [{"host": "shared"}]
                }]}),
                variables: Vec::new(),
            },
        )];
        let values = Values {
            values: serde_json::from_value(json!({
                "HOST": "db.prod", "PORT": "587", "ON": true, "PW": "${env:PW}",
                "A": "shared", "B": "shared"
            }))
            .unwrap(),
            ..Values::default()
        };
        let notes = parameterise(&mut documents, &values);
        let entry = &documents[0].1.document["connections"][0];
        assert_eq!(entry["name"], "db.prod");
        assert_eq!(entry["host"], "${var:HOST}");
        assert_eq!(entry["port"], "${var:PORT}");
        assert_eq!(entry["auth"], true);
        assert_eq!(entry["password"], "${env:PW}");
        assert_eq!(entry["from"], "a@db.prod");
        assert_eq!(entry["list"][0]["host"], "shared");
        assert_eq!(
            notes,
            ["P/email/db.prod list: its value is shared by A, B; written as is"]
        );
    }
}
