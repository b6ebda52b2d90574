//! `export` against a sandbox holding the examples (secrets are canaries): one valid file
//! per project, references instead of secret values, the variables listed, and a plan on
//! the exported files with those variables set finds nothing to change.

mod apply_support;

use std::collections::BTreeMap;
use std::path::Path;

use apinizer_gitops::model::{Connection, escape_pointer_token, is_whole_reference};
use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, assert_no_canary, examples_as_seed, load, text};
use serde_json::Value;

/// The examples plus a secured kafka connection (its keystore comes back as an ID only),
/// and an empty project.
fn seeded() -> Server {
    Server::start(SandboxConfig {
        seed: seed(),
        projects: vec!["Empty".into()],
        ..SandboxConfig::default()
    })
}

fn seed() -> Vec<(String, Connection)> {
    let secured = serde_json::json!({
        "topicName": "audit", "enableSecure": true, "protocolTypes": ["TLS_1_2"],
        "keyStoreName": "payments-keystore",
        "propertiesMap": {
            "bootstrap.servers": {"value": "k:9093"},
            "key.serializer": {"value": "x.StringSerializer"},
            "value.serializer": {"value": "x.StringSerializer"}}});
    let kafka = Connection::from_body(
        "kafka",
        "audit-events",
        secured.as_object().unwrap().clone(),
        false,
    );
    let mut all = examples_as_seed();
    all.push(("Payments".into(), kafka));
    all
}

/// Exports every project into a fresh folder; returns the folder and stdout.
fn export(server: &Server) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = server
        .command()
        .args(["export", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "export failed: {stderr}");
    assert_no_canary("export stdout", &stdout);
    assert_no_canary("export stderr", &stderr);
    (dir, stdout)
}

#[test]
fn export_writes_one_valid_file_per_project_without_secret_values() {
    let server = seeded();
    let (dir, stdout) = export(&server);
    for project in ["Payments", "Observability", "Empty"] {
        let path = dir.path().join(format!("{project}.yaml"));
        let content = std::fs::read_to_string(&path).unwrap();
        assert!(
            content.starts_with("# yaml-language-server: $schema="),
            "{content}"
        );
        assert!(content.contains(&format!("project: {project}")));
        assert_no_canary(&path.display().to_string(), &content);
        assert!(stdout.contains(&format!("{}", path.display())), "{stdout}");
    }
    let exported = load(dir.path());
    assert_eq!(exported.connection_count(), seed().len());
    let payments = std::fs::read_to_string(dir.path().join("Payments.yaml")).unwrap();
    assert!(
        payments.contains("keyStoreName: ${env:PAYMENTS_AUDIT_EVENTS_KEY_STORE_NAME}"),
        "a keystore known only by its ID becomes a reference:\n{payments}"
    );
    let listed = listed_variables(&stdout);
    assert_eq!(
        listed,
        exported.variables(),
        "the list names every reference"
    );
    assert!(
        listed.contains(&"PAYMENTS_ALERTS_SMTP_PASSWORD".to_string()),
        "{listed:?}"
    );
}

#[test]
fn export_limits_to_a_project_and_type() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    server
        .command()
        .args(["export", "--project", "Pay*", "--type", "email", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // One project file and the schema its first-line comment names.
    assert_eq!(names, ["Payments.yaml", "connections.schema.json"]);
    let exported = load(dir.path());
    let payments = &exported.projects["Payments"];
    assert!(
        payments
            .connections
            .iter()
            .all(|c| c.template.kind == "email")
    );
    assert_eq!(payments.connections.len(), 1);
}

#[test]
fn export_refuses_a_selection_that_matches_nothing_and_writes_nothing() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (flag, value, message) in [
        (
            "--project",
            "Nope",
            "--project `Nope` matches no project on the server",
        ),
        ("--type", "smtp", "invalid --type `smtp`"),
        (
            "--name",
            "no-such-connection",
            "--name `no-such-connection` matches no connection of the selected projects on the server",
        ),
    ] {
        server
            .command()
            .args(["export", flag, value, "--out"])
            .arg(&out)
            .assert()
            .code(1)
            .stderr(predicates::str::contains(message));
        assert!(!out.exists());
    }
}

#[test]
fn export_into_a_folder_that_cannot_be_made_fails_with_the_path() {
    let server = seeded();
    let file = tempfile::NamedTempFile::new().unwrap();
    server
        .command()
        .args(["export", "--out"])
        .arg(file.path().join("sub"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("cannot write"));
}

#[test]
fn export_without_a_token_says_what_to_set() {
    let server = seeded();
    server
        .command()
        .env_remove("APINIZER_TOKEN")
        .args(["export", "--out", "unused"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("APINIZER_TOKEN"));
}

#[test]
fn exported_files_plan_to_no_changes_with_the_variables_set() {
    let server = seeded();
    let (dir, _) = export(&server);
    let variables = variables_for(dir.path(), &seed());
    let output = server
        .command()
        .args(["plan", "-f"])
        .arg(dir.path())
        .envs(&variables)
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("No changes."), "{stdout}");
    assert_no_canary("plan stdout", &stdout);
}

/// The names after "Set these variables before plan/apply:".
fn listed_variables(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("Set these variables"))
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// The value each exported reference stands for: what the seed holds at that place.
fn variables_for(dir: &Path, seed: &[(String, Connection)]) -> BTreeMap<String, String> {
    let exported = load(dir);
    let mut variables = BTreeMap::new();
    for project in exported.projects.values() {
        for desired in &project.connections {
            let template = &desired.template;
            let (_, original) = seed
                .iter()
                .find(|(p, c)| *p == project.name && c.name == template.name)
                .expect("exported connections come from the seed");
            let body = original.expose_body();
            let mut found = Vec::new();
            whole_references(
                &Value::Object(template.fields.clone()),
                String::new(),
                &mut found,
            );
            for (pointer, name) in found {
                let value = pointer_value(&body, &pointer);
                variables.insert(name, value);
            }
        }
    }
    variables
}

fn whole_references(value: &Value, pointer: String, found: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) if is_whole_reference(s) => {
            found.push((pointer, s[6..s.len() - 1].to_string()));
        }
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            whole_references(v, format!("{pointer}/{}", escape_pointer_token(k)), found)
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| whole_references(v, format!("{pointer}/{i}"), found)),
        _ => {}
    }
}

/// The seed's value at a pointer as text; a keystore ID or masked field the seed lacks
/// gets a stand-in (the server cannot show it, so any value plans the same).
fn pointer_value(body: &apinizer_gitops::model::Body, pointer: &str) -> String {
    match apinizer_gitops::model::pointer_get(body, pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "stand-in".to_string(),
        Some(other) => other.to_string(),
    }
}
