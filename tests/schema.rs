//! The committed JSON Schema matches what the catalog generates, and every example file
//! (ours and the docs examples expected to pass) validates against it.

mod common;

use std::path::Path;

use apinizer_gitops::catalog::reference::{EXAMPLES, connection_types_markdown};
use apinizer_gitops::catalog::{catalog, type_names};
use apinizer_gitops::desired::yaml::parse_documents;
use apinizer_gitops::schema::connections_schema_text;
use assert_cmd::Command;

use common::{docs_examples_dir, expectations, repo, yaml_files};

#[test]
fn committed_schema_matches_the_catalog() {
    let path = repo().join("schemas/connections.schema.json");
    let generated = format!("{}\n", connections_schema_text());
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/connections.schema.json differs from what the catalog generates; \
         regenerate it with `UPDATE_SCHEMAS=1 cargo test --test schema` and commit it"
    );
}

#[test]
fn committed_field_reference_matches_the_catalog() {
    let path = repo().join("docs/connection-types.md");
    let generated = connection_types_markdown();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/connection-types.md differs from what the catalog generates; \
         regenerate it with `UPDATE_SCHEMAS=1 cargo test --test schema` and commit it"
    );
}

/// Every example of the field reference, written to a file and checked by the binary's
/// `validate` like a user's file: valid, without a warning.
#[test]
fn every_reference_example_passes_validate() {
    let dir = tempfile::tempdir().unwrap();
    let reference = connection_types_markdown();
    for example in EXAMPLES {
        for (variant, text) in [("minimal", example.minimal), ("complete", example.complete)] {
            assert!(
                reference.contains(text),
                "{} {variant} is not in the reference",
                example.kind
            );
            let file = dir.path().join(format!("{}-{variant}.yaml", example.kind));
            std::fs::write(&file, text).unwrap();
            let output = Command::cargo_bin("apinizer-gitops")
                .unwrap()
                .args(["validate", "-f"])
                .arg(&file)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success(),
                "{} {variant}: {stderr}",
                example.kind
            );
            assert!(
                !stderr.contains("warning"),
                "{} {variant}: {stderr}",
                example.kind
            );
        }
    }
}

/// The complete example of a type writes every one of its fields (common ones too), and
/// each example is one connection of its own type.
#[test]
fn complete_examples_write_every_field() {
    for example in EXAMPLES {
        for text in [example.minimal, example.complete] {
            let document = &parse_documents(text.as_bytes()).unwrap()[0].to_json();
            assert_eq!(document["connections"][0]["type"], example.kind);
        }
        let document = &parse_documents(example.complete.as_bytes()).unwrap()[0].to_json();
        let written = document["connections"][0].as_object().unwrap();
        for (field, _) in catalog().all_fields(example.kind) {
            assert!(
                written.contains_key(field),
                "{}: complete example lacks `{field}`",
                example.kind
            );
        }
    }
    assert_eq!(EXAMPLES.len(), type_names().count());
}

#[test]
fn reference_examples_validate_against_the_schema() {
    let validator = validator();
    for example in EXAMPLES {
        for text in [example.minimal, example.complete] {
            for document in parse_documents(text.as_bytes()).unwrap() {
                let errors: Vec<String> = validator
                    .iter_errors(&document.to_json())
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{}: {errors:#?}", example.kind);
            }
        }
    }
}

#[test]
fn schema_command_prints_the_schema() {
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed, format!("{}\n", connections_schema_text()));
}

#[test]
fn schema_out_writes_the_file_where_the_user_wants_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("editor/connections.schema.json");
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["schema", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("Wrote {}\n", file.display())
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written, format!("{}\n", connections_schema_text()));
}

#[test]
fn schema_out_into_an_unwritable_place_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["schema", "--out"])
        .arg(blocker.join("schema.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: cannot write "), "{stderr}");
    assert!(output.stdout.is_empty());
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&connections_schema_text()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Every document of a YAML file as JSON, through the loader's own YAML tree.
fn documents(file: &Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(file).unwrap();
    parse_documents(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e:?}", file.display()))
        .iter()
        .map(|d| d.to_json())
        .collect()
}

fn assert_valid(validator: &jsonschema::Validator, file: &Path) {
    for document in documents(file) {
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn examples_validate_against_the_schema() {
    let validator = validator();
    let files = yaml_files(&repo().join("examples/connections"));
    assert!(files.len() >= 4);
    for file in files {
        assert_valid(&validator, &file);
    }
}

#[test]
fn docs_examples_expected_ok_validate_against_the_schema() {
    let Some(folder) = docs_examples_dir() else {
        eprintln!("note: shared/reference/docs-examples is absent; skipping");
        return;
    };
    let validator = validator();
    let ok_files = expectations(&folder)
        .into_iter()
        .filter(|(_, expect)| expect == "ok");
    for (file, _) in ok_files {
        assert_valid(&validator, &folder.join(file));
    }
}

#[test]
fn schema_rejects_what_the_loader_rejects() {
    let validator = validator();
    let bad = [
        r#"{"project": "P", "connections": [{"type": "email", "name": "m", "host": "h", "auth": true, "username": "u"}]}"#,
        r#"{"project": "P", "connections": [{"type": "email", "name": "m", "host": "h", "prot": 1}]}"#,
        r#"{"project": "P", "connections": [{"type": "email", "name": "m", "host": "h", "password": "literal"}]}"#,
        r#"{"project": "P", "connections": [{"type": "ftp", "name": "f", "host": "h", "username": "u", "password": "${env:P}", "protocol": "FTPS"}]}"#,
        r#"{"project": "P", "connections": [{"type": "database", "name": "d", "dbType": "POSTGRES", "jdbcUrl": "j"}]}"#,
        r#"{"project": "P", "colections": []}"#,
    ];
    for text in bad {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(!validator.is_valid(&value), "accepted: {text}");
    }
    let good: serde_json::Value = serde_json::from_str(
        r#"{"project": "P", "connections": [{"type": "database", "name": "d", "dbType": "POSTGRES", "jdbcUrl": "j", "useCredentials": false, "maxPoolSize": "${env:POOL}"}]}"#,
    )
    .unwrap();
    assert!(validator.is_valid(&good));
}

/// `${var:NAME}` stands wherever `validate` takes it: whole in number, boolean and enum
/// fields, embedded in strings; never in a secret field (the loader refuses it there).
#[test]
fn schema_takes_var_references_except_in_secrets() {
    let validator = validator();
    let email = |fields: &str| -> serde_json::Value {
        let text = format!(
            r#"{{"project": "P", "connections": [{{"type": "email", "name": "m", "host": "h", {fields}}}]}}"#
        );
        serde_json::from_str(&text).unwrap()
    };
    for good in [
        r#""port": "${var:SMTP_PORT}""#,
        r#""port": "${env:SMTP_PORT}""#,
        r#""host": "smtp.${var:DOMAIN}", "enableStartTls": "${var:STARTTLS}""#,
        r#""auth": true, "username": "u", "password": "${env:SMTP_PASSWORD}""#,
    ] {
        let errors: Vec<String> = validator
            .iter_errors(&email(good))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{good}: {errors:#?}");
    }
    for bad in [
        r#""auth": true, "username": "u", "password": "${var:SMTP_PASSWORD}""#,
        r#""port": "${var:SMTP PORT}""#,
        r#""port": "${val:SMTP_PORT}""#,
    ] {
        assert!(!validator.is_valid(&email(bad)), "accepted: {bad}");
    }
    // An enum field: a whole or embedded reference of either source.
    let database = |db_type: &str| -> serde_json::Value {
        let text = format!(
            r#"{{"project": "P", "connections": [{{"type": "database", "name": "d", "dbType": "{db_type}", "jdbcUrl": "jdbc:${{var:URL}}", "useCredentials": false}}]}}"#
        );
        serde_json::from_str(&text).unwrap()
    };
    assert!(validator.is_valid(&database("${var:DB_TYPE}")));
    assert!(!validator.is_valid(&database("MYSQLX")));
}

#[test]
fn environments_example_validates_against_the_schema() {
    let validator = validator();
    for file in yaml_files(&repo().join("examples/environments/connections")) {
        assert_valid(&validator, &file);
    }
}

#[test]
fn schema_knows_the_protect_keys() {
    let validator = validator();
    let protected: serde_json::Value = serde_json::from_str(
        r#"{"project": "P", "protect": ["ledger-*"], "connections": [{"type": "graylog", "name": "g", "hostname": "h", "protect": true}]}"#,
    )
    .unwrap();
    assert!(validator.is_valid(&protected));
    for bad in [
        r#"{"project": "P", "protect": "ledger-*"}"#,
        r#"{"project": "P", "connections": [{"type": "graylog", "name": "g", "hostname": "h", "protect": "yes"}]}"#,
    ] {
        let value: serde_json::Value = serde_json::from_str(bad).unwrap();
        assert!(!validator.is_valid(&value), "accepted: {bad}");
    }
}

/// `schema | head -1`: a reader that goes away is no reason to panic.
#[test]
fn schema_and_completions_into_a_closed_pipe_do_not_panic() {
    for args in [&["schema"][..], &["completions", "bash"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_apinizer-gitops"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
