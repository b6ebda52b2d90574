//! JSON Schemas generated from the catalog (`schemas/*.json`).

/// The JSON Schema of the desired-state files, pretty-printed.
pub fn connections_schema_text() -> String {
    String::from("{}")
}
