//! Secrets through their whole life, driven through the binary against the sandbox:
//! previews (`plan`, `drift`, `export`) without secret variables send only GETs, a saved
//! plan made without them is applied with them, rotation re-sends write-only values, and
//! references to the tool's or the CI's own credentials are refused.

mod apply_support;

use std::collections::BTreeMap;
use std::path::Path;

use apinizer_gitops::refs::reference_uses;
use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{
    Server, assert_no_canary, example_projects, example_variables, examples, examples_as_seed,
    examples_dir, text,
};
use secrecy::ExposeSecret;

/// A sandbox holding the examples, resolved with the canary values.
fn seeded() -> Server {
    Server::start(SandboxConfig {
        projects: example_projects(),
        seed: examples_as_seed(),
        ..SandboxConfig::default()
    })
}

/// The examples' variables that only plain (non-sensitive) fields use, with their values.
fn plain_variables() -> BTreeMap<String, String> {
    let sensitive: Vec<String> = examples()
        .projects
        .values()
        .flat_map(|p| &p.connections)
        .flat_map(|c| reference_uses(&c.template))
        .filter(|r| r.sensitive)
        .map(|r| r.variable)
        .collect();
    example_variables()
        .into_iter()
        .filter(|(name, _)| !sensitive.contains(name))
        .collect()
}

/// Runs the binary with exactly these variables; returns exit code, stdout, stderr, all
/// checked for canary values.
fn run(
    server: &Server,
    variables: &BTreeMap<String, String>,
    args: &[&str],
) -> (i32, String, String) {
    let output = server
        .command()
        .envs(variables)
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_no_canary("stdout", &stdout);
    assert_no_canary("stderr", &stderr);
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

fn examples_arg() -> String {
    examples_dir().display().to_string()
}

#[test]
fn the_examples_have_plain_and_secret_variables() {
    let plain = plain_variables();
    assert_eq!(plain.keys().collect::<Vec<_>>(), ["PAYMENTS_DB_HOST"]);
    assert!(example_variables().len() > plain.len() + 5);
}

#[test]
fn previews_without_secret_variables_compare_the_rest_and_send_only_gets() {
    let server = seeded();
    let plain = plain_variables();
    let files = examples_arg();
    let before = server.sandbox.request_count();
    for format in ["text", "markdown"] {
        let (code, stdout, stderr) =
            run(&server, &plain, &["plan", "-f", &files, "--format", format]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert!(
            stdout
                .contains("not compared: ${env:PAYMENTS_SMTP_PASSWORD} is not set; apply needs it"),
            "{format}: {stdout}"
        );
    }
    let (code, json, _) = run(&server, &plain, &["plan", "-f", &files, "--format", "json"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let note = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["variable"] == "PAYMENTS_SMTP_PASSWORD")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(note["kind"], "unset_variable");
    assert_eq!(note["name"], "alerts-smtp");
    assert_eq!(note["paths"], serde_json::json!(["/password"]));
    let (code, stdout, _) = run(
        &server,
        &plain,
        &["plan", "-f", &files, "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("No changes. 14 connections match the desired state."),
        "{stdout}"
    );
    let notes = stdout.matches("not compared: ${env:").count();
    let secret_variables = example_variables().len() - plain.len();
    assert_eq!(notes, secret_variables, "once per variable: {stdout}");
    let (code, stdout, _) = run(&server, &plain, &["drift", "-f", &files]);
    assert_eq!(code, 0, "{stdout}");
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("exported");
    let (code, _, stderr) = run(
        &server,
        &BTreeMap::new(),
        &["export", "--out", &out_dir.display().to_string()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(server.sandbox.request_count() > before);
    assert_eq!(server.sandbox.write_request_count(), 0);
}

/// Changes a plain field of `alerts-smtp` behind the tool's back.
fn drift_alerts_smtp(server: &Server) {
    let mut smtp = server
        .snapshot("Payments")
        .into_iter()
        .find(|c| c.name == "alerts-smtp")
        .unwrap();
    smtp.fields.insert("port".into(), 2525.into());
    let client = server.client();
    server
        .block_on(client.update_connection("Payments", "alerts-smtp", &smtp))
        .unwrap();
}

#[test]
fn drift_without_secret_variables_is_detected_and_sends_no_write() {
    let server = seeded();
    drift_alerts_smtp(&server);
    let writes = server.sandbox.write_request_count();
    let plain = plain_variables();
    let files = examples_arg();
    let (code, stdout, _) = run(
        &server,
        &plain,
        &["plan", "-f", &files, "--detailed-exitcode"],
    );
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("~ update Payments/email/alerts-smtp"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&server, &plain, &["drift", "-f", &files]);
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(server.sandbox.write_request_count(), writes);
}

/// With `alerts-smtp` drifted on the server, `plan --out` of the examples with only their
/// plain variables (no secret): the folder holding the plan file, and the file.
fn plan_saved_without_secrets(server: &Server) -> (tempfile::TempDir, std::path::PathBuf) {
    drift_alerts_smtp(server);
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    let plan_arg = plan_file.display().to_string();
    let files = examples_arg();
    let (code, _, stderr) = run(
        server,
        &plain_variables(),
        &["plan", "-f", &files, "--out", &plan_arg],
    );
    assert_eq!(code, 0, "{stderr}");
    (dir, plan_file)
}

#[test]
fn a_plan_saved_without_secrets_is_applied_with_the_secrets_of_apply() {
    let server = seeded();
    let (_dir, plan_file) = plan_saved_without_secrets(&server);
    let plan_arg = plan_file.display().to_string();
    assert_no_canary("plan file", &std::fs::read_to_string(&plan_file).unwrap());
    let writes = server.sandbox.write_request_count();
    let (code, _, stderr) = run(&server, &plain_variables(), &["apply", &plan_arg]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("missing environment variables: PAYMENTS_SMTP_PASSWORD"),
        "{stderr}"
    );
    assert_eq!(
        server.sandbox.write_request_count(),
        writes,
        "nothing written"
    );
    let (code, stdout, stderr) = run(&server, &example_variables(), &["apply", &plan_arg]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let smtp = server
        .snapshot("Payments")
        .into_iter()
        .find(|c| c.name == "alerts-smtp")
        .unwrap();
    assert_eq!(smtp.fields["port"], 587);
    let stored = smtp
        .secrets
        .get("/password")
        .unwrap()
        .expose_secret()
        .to_string();
    assert_eq!(stored, example_variables()["PAYMENTS_SMTP_PASSWORD"]);
}

#[test]
fn apply_lists_every_missing_variable_before_any_write() {
    let server = seeded();
    drift_alerts_smtp(&server);
    let writes = server.sandbox.write_request_count();
    let files = examples_arg();
    let (code, _, stderr) = run(
        &server,
        &plain_variables(),
        &["apply", "--auto-approve", "-f", &files],
    );
    assert_eq!(code, 1);
    let secret_names: Vec<String> = example_variables()
        .into_keys()
        .filter(|n| !plain_variables().contains_key(n))
        .collect();
    let line = stderr
        .lines()
        .find(|l| l.contains("missing environment variables"))
        .unwrap();
    for name in &secret_names {
        assert!(line.contains(name.as_str()), "{name}: {stderr}");
    }
    assert_eq!(server.sandbox.write_request_count(), writes);
}

#[test]
fn a_plain_variable_is_still_required_by_previews() {
    let server = seeded();
    let before = server.sandbox.request_count();
    let files = examples_arg();
    for command in ["plan", "drift"] {
        let (code, _, stderr) = run(&server, &BTreeMap::new(), &[command, "-f", &files]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("error: missing environment variables: PAYMENTS_DB_HOST ("),
            "{stderr}"
        );
    }
    assert_eq!(
        server.sandbox.request_count(),
        before,
        "no request before the error"
    );
}

/// A folder with one file holding `text`.
fn file_with(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, text).unwrap();
    let arg = path.display().to_string();
    (dir, arg)
}

fn validate(file: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = assert_cmd::Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .env_remove("APINIZER_GITOPS_ALLOW_ENV")
        .envs(env.iter().copied())
        .args(["validate", "-f", file])
        .args(extra)
        .output()
        .unwrap();
    (output.status.code().unwrap_or(-1), text(&output.stdout))
}

const OWN_TOKEN: &str = "project: Payments\nconnections:\n  - type: email\n    name: mail\n    host: smtp.example.com\n    description: ${env:APINIZER_TOKEN}\n  - type: webhook\n    name: hook\n    fullUrl: https://hooks.example.com/x?t=${env:GITHUB_TOKEN}\n    headerList:\n      - name: X-Job\n        value: ${env:CI_JOB_JWT_V2}\n";

#[test]
fn references_to_the_tools_or_the_cis_own_credentials_are_errors_at_their_place() {
    let (_dir, file) = file_with(OWN_TOKEN);
    let (code, stdout) = validate(&file, &[], &[]);
    assert_eq!(code, 1, "{stdout}");
    for (place, name) in [
        (":6:18: error:", "APINIZER_TOKEN"),
        (":9:14: error:", "GITHUB_TOKEN"),
        (":12:16: error:", "CI_JOB_JWT_V2"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("${{env:{name}}}")))
            .unwrap_or_else(|| panic!("{name}: {stdout}"));
        assert!(line.contains(place), "{line}");
    }
    let allowed_all = validate(&file, &["--allow-env", "*"], &[]);
    assert_eq!(allowed_all.0, 1, "--allow-env cannot admit them");
}

#[test]
fn a_plan_with_such_a_reference_stops_before_any_request() {
    let (dir, file) = file_with(OWN_TOKEN);
    let server = seeded();
    let before = server.sandbox.request_count();
    let variables: BTreeMap<String, String> = [
        ("GITHUB_TOKEN", "canary-gh"),
        ("CI_JOB_JWT_V2", "canary-jwt"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let output = server
        .command()
        .current_dir(dir.path())
        .envs(&variables)
        .args(["apply", "--auto-approve", "-f", &file])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("may not reference the credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("canary") && !text(&output.stdout).contains("canary"));
    assert_eq!(server.sandbox.request_count(), before);
}

const PREFIXED: &str = "project: Payments\nconnections:\n  - type: email\n    name: mail\n    host: ${env:PAYMENTS_SMTP_HOST}\n    auth: true\n    username: u\n    password: ${env:BILLING_SMTP_PASSWORD}\n";

#[test]
fn allow_env_restricts_references_to_matching_names() {
    let (_dir, file) = file_with(PREFIXED);
    assert_eq!(validate(&file, &[], &[]).0, 0);
    let (code, stdout) = validate(&file, &["--allow-env", "PAYMENTS_*"], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(":8:15: error: connection `mail`: `${env:BILLING_SMTP_PASSWORD}` is not allowed: --allow-env / APINIZER_GITOPS_ALLOW_ENV allows only PAYMENTS_*"),
        "{stdout}"
    );
    assert!(!stdout.contains("PAYMENTS_SMTP_HOST"), "{stdout}");
    let from_env = validate(
        &file,
        &[],
        &[("APINIZER_GITOPS_ALLOW_ENV", "PAYMENTS_*,OTHER_*")],
    );
    assert_eq!(from_env.0, 1, "{}", from_env.1);
    let both = validate(
        &file,
        &["--allow-env", "PAYMENTS_*", "--allow-env", "BILLING_*"],
        &[],
    );
    assert_eq!(both.0, 0, "{}", both.1);
    let (code, _) = validate(&file, &["--allow-env", "a["], &[]);
    assert_eq!(code, 1);
}

#[test]
fn a_variable_feeding_a_secret_and_a_plain_field_is_an_error_naming_both() {
    let first = "project: Payments\nconnections:\n  - type: email\n    name: mail\n    host: h\n    auth: true\n    username: u\n    password: ${env:SHARED}\n";
    let second = "project: Payments\nconnections:\n  - type: syslog\n    name: log\n    syslogServerHostname: h\n    description: token ${env:SHARED}\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), first).unwrap();
    std::fs::write(dir.path().join("b.yaml"), second).unwrap();
    let (code, stdout) = validate(&dir.path().display().to_string(), &[], &[]);
    assert_eq!(code, 1, "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("${env:SHARED}"))
        .unwrap();
    assert!(
        line.contains("b.yaml:6:18: error: connection `log`"),
        "{line}"
    );
    assert!(
        line.contains("`/description`") && line.contains("`/password` of mail"),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "{}:8:15",
            Path::new(&dir.path().join("a.yaml")).display()
        )),
        "{line}"
    );
}

/// The examples' variables with a new database password, as a rotation sets it.
fn rotated_variables() -> BTreeMap<String, String> {
    let mut variables = example_variables();
    variables.insert("PAYMENTS_DB_PASSWORD".into(), NEW_DB_PASSWORD.to_string());
    variables
}

const NEW_DB_PASSWORD: &str = "canary-rotated-db-password";

/// The password the sandbox stores for `ledger-db` (its state, not a masking GET).
fn stored_db_password(server: &Server) -> String {
    let ledger = server
        .snapshot("Payments")
        .into_iter()
        .find(|c| c.name == "ledger-db")
        .unwrap();
    ledger
        .secrets
        .get("/password")
        .unwrap()
        .expose_secret()
        .to_string()
}

fn assert_no_new_password(what: &str, text: &str) {
    assert!(
        !text.contains(NEW_DB_PASSWORD),
        "{what} leaks the new password:\n{text}"
    );
}

#[test]
fn a_changed_write_only_secret_is_no_change_without_rotate() {
    let server = seeded();
    let files = examples_arg();
    let (code, stdout, _) = run(
        &server,
        &rotated_variables(),
        &["plan", "-f", &files, "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("No changes."), "{stdout}");
}

#[test]
fn rotate_plans_an_update_that_re_sends_the_write_only_password_and_apply_stores_it() {
    let server = seeded();
    let files = examples_arg();
    let variables = rotated_variables();
    let (code, stdout, stderr) = run(
        &server,
        &variables,
        &["plan", "-f", &files, "--rotate", "LEDGER-*"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_no_new_password("plan", &stdout);
    assert!(
        stdout.contains("~ update Payments/database/ledger-db (rotate: re-sends /password)"),
        "{stdout}"
    );
    let diff_line = |sign: char, shown: &str| {
        stdout
            .lines()
            .any(|l| l.starts_with(sign) && l.contains("password:") && l.contains(shown))
    };
    assert!(diff_line('+', "(sensitive, re-sent)"), "{stdout}");
    assert!(diff_line('-', "(sensitive)"), "{stdout}");
    assert!(
        stdout.contains("Plan: 0 to create, 1 to update"),
        "{stdout}"
    );
    let (code, json, _) = run(
        &server,
        &variables,
        &[
            "plan",
            "-f",
            &files,
            "--rotate",
            "ledger-db",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let field = &report["changes"][0]["fields"][0];
    assert_eq!(field["path"], "/password");
    assert_eq!(field["rotated"], true);
    assert_eq!(field["sensitive"], true);
    assert_eq!(server.sandbox.write_request_count(), 0, "plan wrote");
    let (code, stdout, stderr) = run(
        &server,
        &variables,
        &[
            "apply",
            "--auto-approve",
            "-f",
            &files,
            "--rotate",
            "ledger-db",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_no_new_password("apply stdout", &stdout);
    assert_no_new_password("apply stderr", &stderr);
    assert!(stdout.contains("1 updated"), "{stdout}");
    assert_eq!(stored_db_password(&server), NEW_DB_PASSWORD);
    assert_eq!(server.sandbox.write_request_count(), 1, "one PUT");
}

#[test]
fn a_rotation_saved_without_secrets_is_performed_by_apply_file_with_its_environment() {
    let server = seeded();
    let files = examples_arg();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("rotate.plan");
    let plan_arg = plan_file.display().to_string();
    let (code, stdout, stderr) = run(
        &server,
        &plain_variables(),
        &["plan", "-f", &files, "--rotate", "*", "--out", &plan_arg],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("~ update Payments/database/ledger-db (rotate: re-sends /password)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("alerts-smtp (rotate"),
        "email's password is readable: {stdout}"
    );
    let saved = std::fs::read_to_string(&plan_file).unwrap();
    assert_no_canary("plan file", &saved);
    assert!(saved.contains("\"rotated\": true"), "{saved}");
    let variables = rotated_variables();
    let (code, stdout, stderr) = run(&server, &variables, &["apply", &plan_arg]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_no_new_password("apply FILE", &format!("{stdout}{stderr}"));
    assert_eq!(stored_db_password(&server), NEW_DB_PASSWORD);
}

#[test]
fn a_rotate_glob_matching_nothing_to_rotate_is_an_error_before_any_write() {
    let server = seeded();
    let files = examples_arg();
    for glob in ["nothing-*", "alerts-smtp"] {
        let (code, _, stderr) = run(
            &server,
            &example_variables(),
            &["apply", "--auto-approve", "-f", &files, "--rotate", glob],
        );
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "--rotate `{glob}` matches no existing connection with write-only values"
            )),
            "{stderr}"
        );
    }
    assert_eq!(server.sandbox.write_request_count(), 0);
}

#[test]
fn an_edited_plan_file_referencing_the_tools_token_is_refused_before_any_write() {
    let server = seeded();
    let (_dir, plan_file) = plan_saved_without_secrets(&server);
    let plan_arg = plan_file.display().to_string();
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    saved["changes"][0]["desired"]["description"] = "${env:APINIZER_TOKEN}".into();
    std::fs::write(&plan_file, saved.to_string()).unwrap();
    let writes = server.sandbox.write_request_count();
    let (code, stdout, stderr) = run(&server, &example_variables(), &["apply", &plan_arg]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Payments/email/alerts-smtp at /description: `${env:APINIZER_TOKEN}` is apinizer-gitops's own API token"),
        "{stderr}"
    );
    assert!(!stderr.contains(&server.sandbox.token) && !stdout.contains(&server.sandbox.token));
    assert_eq!(server.sandbox.write_request_count(), writes);
}
