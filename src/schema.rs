//! JSON Schemas generated from the catalog (`schemas/*.json`).

/// The JSON Schema of the desired-state files, pretty-printed.
pub fn connections_schema_text() -> String {
    String::from("{}")
}

/// The JSON Schema of the plan report (`plan --format json`), pretty-printed.
pub fn plan_schema_text() -> String {
    serde_json::to_string_pretty(&crate::render::json::plan_schema()).expect("a schema serialises")
}
