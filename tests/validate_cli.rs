//! `validate` as a pipeline runs it: exit codes, text and JSON reports, several files,
//! `--check-env`, `--allow-literal-secrets`, and secrets that never reach the output.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::repo;
use serde_json::Value;

fn validate(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .current_dir(repo())
        .arg("validate")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON report on stdout")
}

#[test]
fn the_examples_are_valid() {
    let output = validate(&["-f", "examples/connections"]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert_eq!(
        text(&output.stdout),
        "Valid: 14 connections in 2 projects (4 files).\n"
    );
}

#[test]
fn every_error_of_a_broken_file_is_listed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "broken.yaml",
        "project: Payments\nconnections:\n  - type: email\n    name: mail\n    host: smtp\n    port: '25'\n    prot: 1\n  - type: kafak\n    name: k\n",
    );
    let output = validate(&["-f", &file]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("{file}:6:11: error: connection `mail`: `port` must be an integer, not a string")
    );
    assert!(lines[1].starts_with("  hint: write the value without quotes"));
    assert!(lines[2].starts_with(&format!(
        "{file}:7:5: error: connection `mail`: unknown field `prot`"
    )));
    assert_eq!(
        lines[3],
        "  hint: did you mean `port`? SMTP port (25 plain, 587 STARTTLS, 465 SSL/TLS)"
    );
    assert!(lines[4].starts_with(&format!(
        "{file}:8:11: error: connection `k`: unknown connection type `kafak`"
    )));
    assert_eq!(lines.last(), Some(&"Invalid: 3 errors."));

    let report = json(&validate(&["--format", "json", "-f", &file]));
    assert_eq!(report["valid"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3);
    let places: Vec<(u64, u64)> = errors
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(places, [(6, 11), (7, 5), (8, 11)]);
    assert_eq!(errors[0]["file"], file.as_str());
    assert_eq!(errors[0]["severity"], "error");
    assert_eq!(errors[0]["project"], "Payments");
    assert_eq!(errors[0]["connection"], "mail");
    assert_eq!(
        errors[1]["hint"],
        "did you mean `port`? SMTP port (25 plain, 587 STARTTLS, 465 SSL/TLS)"
    );
}

#[test]
fn a_project_over_two_files_must_agree_and_keep_names_unique() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "project: P\nprune: true\nconnections:\n  - {type: graylog, name: Logs, hostname: h}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "project: P\nprune: false\nconnections:\n  - {type: syslog, name: logs, syslogServerHostname: h}\n",
    );
    let folder = dir.path().display().to_string();
    let report = json(&validate(&["--format", "json", "-f", &folder]));
    let messages: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{} {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let a = format!("{folder}/a.yaml");
    let b = format!("{folder}/b.yaml");
    assert_eq!(
        messages[0],
        format!("{b}:2 `prune: false` disagrees with `prune: true` at {a}:2 for project `P`")
    );
    assert_eq!(
        messages[1],
        format!("{b}:4 duplicate connection name `logs` in project `P`: also defined at {a}:4")
    );
}

#[test]
fn a_stray_yaml_file_is_a_loud_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.yaml", "project: P\nconnections: []\n");
    write(
        dir.path(),
        "k8s/deployment.yml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
    );
    write(dir.path(), "README.md", "not yaml, not loaded\n");
    let output = validate(&["-f", &dir.path().display().to_string()]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("deployment.yml:1:13: error: `apiVersion` must be `apinizer-gitops/v1`"),
        "{stdout}"
    );
    assert!(stdout.contains("unknown top-level key `kind`"), "{stdout}");
    assert!(
        stdout.contains("missing required key `project`"),
        "{stdout}"
    );
    assert!(!stdout.contains("README"), "{stdout}");
}

#[test]
fn paths_that_match_nothing_are_errors() {
    let output = validate(&["-f", "no/such/dir"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("error: path `no/such/dir` does not exist"));
    let output = validate(&["-f", "examples/**/*.json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("error: `examples/**/*.json` matches no YAML file"));
    let output = validate(&["-f", "examples/[oops"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("error: invalid glob `examples/[oops`"));
    let output = validate(&["-f", "examples/connections/payments/*.yaml"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("Valid: 8 connections in 1 project (2 files)."));
}

#[test]
fn check_env_lists_every_missing_variable() {
    let mut command = Command::cargo_bin("apinizer-gitops").unwrap();
    command.current_dir(repo()).env_clear();
    let output = command
        .args([
            "validate",
            "--check-env",
            "--format",
            "json",
            "-f",
            "examples/connections/observability",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let mut missing: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        [
            "environment variable `OBSERVABILITY_ES_PASSWORD` is not set",
            "environment variable `OBSERVABILITY_SNMP_AUTH_PASSPHRASE` is not set",
            "environment variable `OBSERVABILITY_SNMP_PRIV_PASSPHRASE` is not set",
            "environment variable `OBSERVABILITY_SSH_PASSWORD` is not set",
        ]
    );

    let mut command = Command::cargo_bin("apinizer-gitops").unwrap();
    for name in [
        "OBSERVABILITY_ES_PASSWORD",
        "OBSERVABILITY_SNMP_AUTH_PASSPHRASE",
        "OBSERVABILITY_SNMP_PRIV_PASSPHRASE",
        "OBSERVABILITY_SSH_PASSWORD",
    ] {
        command.env(name, "canary-env-value-77");
    }
    let output = command
        .current_dir(repo())
        .args([
            "validate",
            "--check-env",
            "-f",
            "examples/connections/observability",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(!text(&output.stdout).contains("canary-env-value-77"));
}

const CANARY: &str = "canary-7f3a9c-secret";

fn literal_secrets_file(dir: &Path) -> String {
    write(
        dir,
        "secrets.yaml",
        &format!(
            "project: P\nconnections:\n  - type: email\n    name: mail\n    host: h\n    auth: true\n    username: u\n    password: {CANARY}\n  - type: webhook\n    name: hook\n    fullUrl: https://h/x\n    headerList:\n      - name: Authorization\n        value: Bearer {CANARY}\n  - type: snmp\n    name: s\n    connectionString: udp:h/162\n    securityOrCommunityName: c\n    pduOidForMessage: 1.3\n    authPassphrase: short-{CANARY}\n    privPassphrase: 12345\n"
        ),
    )
}

#[test]
fn literal_secrets_are_errors_that_never_echo_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = literal_secrets_file(dir.path());
    for format in ["text", "json", "github", "gitlab"] {
        let output = validate(&["-vv", "--format", format, "-f", &file]);
        assert_eq!(output.status.code(), Some(1));
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!all.contains(CANARY), "{all}");
        assert!(!all.contains("12345"), "{all}");
        assert!(
            all.contains("field `password` is a secret: use ${env:NAME}"),
            "{all}"
        );
        assert!(all.contains("field `authPassphrase` is a secret"), "{all}");
        assert!(all.contains("field `privPassphrase` is a secret"), "{all}");
    }
}

#[test]
fn allow_literal_secrets_turns_them_into_warnings_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = literal_secrets_file(dir.path());
    let output = validate(&["--allow-literal-secrets", "-f", &file]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(stdout, "Valid: 3 connections in 1 project (1 file).\n");
    assert!(
        stderr.contains("warning: connection `mail`: field `password` is a secret"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`headerList[0].value` (`Authorization`) looks like a credential"),
        "{stderr}"
    );
    assert!(!stderr.contains(CANARY) && !stdout.contains(CANARY));
    let report = json(&validate(&[
        "--allow-literal-secrets",
        "--format",
        "json",
        "-f",
        &file,
    ]));
    assert_eq!(report["valid"], true);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 4);
    assert!(!report.to_string().contains(CANARY));
}

#[test]
fn references_embedded_escaped_and_typed_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "refs.yaml",
        "project: P\nconnections:\n  - type: database\n    name: db\n    dbType: POSTGRES\n    jdbcUrl: jdbc:postgresql://${env:DB_HOST}:${env:DB_PORT}/app\n    description: costs $${HOME} and $5\n    useCredentials: ${env:DB_USE_CREDENTIALS}\n    maxPoolSize: ${env:DB_POOL}\n",
    );
    let output = validate(&["-f", &file]);
    assert!(output.status.success(), "{}", text(&output.stdout));
}

#[test]
fn check_env_rejects_variables_that_do_not_fit_the_field_type() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "typed.yaml",
        "project: P\nconnections:\n  - type: database\n    name: db\n    dbType: POSTGRES\n    jdbcUrl: jdbc:postgresql://h/app\n    useCredentials: ${env:DB_USE_CREDENTIALS}\n    maxPoolSize: ${env:DB_POOL}\n",
    );
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .env("DB_POOL", "canary-not-a-number")
        .env("DB_USE_CREDENTIALS", "false")
        .args(["validate", "--check-env", "-f", &file])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("`maxPoolSize` takes ${env:DB_POOL}, whose value is not an integer"),
        "{stdout}"
    );
    assert!(!stdout.contains("canary-not-a-number"));
    assert_eq!(stdout.matches("error:").count(), 1, "{stdout}");
}

/// Variables named in a file's header comment (`#   NAME   what it is`).
fn documented_variables(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| {
            l.strip_prefix("#   ")?
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn examples_document_their_variables_and_resolve() {
    use apinizer_gitops::desired::{LoadOptions, load};
    use apinizer_gitops::refs::{MapEnv, references_in_connection, resolve_connection};

    let folder = repo().join("examples/connections");
    let loaded = load(&LoadOptions {
        paths: vec![folder.display().to_string()],
        allow_literal_secrets: false,
        values_files: None,
        ..LoadOptions::default()
    })
    .unwrap();
    let mut documented: Vec<String> = common::yaml_files(&folder)
        .iter()
        .flat_map(|f| documented_variables(f))
        .collect();
    let mut used = loaded.state.variables();
    documented.sort();
    used.sort();
    assert_eq!(documented, used);

    let env = MapEnv(
        used.iter()
            .map(|n| (n.clone(), format!("value-of-{n}")))
            .collect(),
    );
    for project in loaded.state.projects.values() {
        for connection in &project.connections {
            let resolved = resolve_connection(&connection.template, &env).unwrap();
            assert!(references_in_connection(&resolved).is_empty());
            let debug = format!("{resolved:?}");
            for secret in ["PASSWORD", "PASSPHRASE", "TOKEN", "JAAS"] {
                assert!(!debug.contains(&format!("_{secret}")), "{debug}");
            }
        }
    }
}
