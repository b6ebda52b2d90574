//! `apply FILE`: a saved plan is the approval; it applies from a fresh process with no
//! YAML and secrets only in the environment, and is refused (nothing written) when stale,
//! made for another server or version, or when a variable is missing.

mod apply_support;

use std::path::{Path, PathBuf};

use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, assert_no_canary, examples_as_seed, examples_dir, text};
use predicates::str::contains;

/// A sandbox holding the examples, except that alerts-smtp has another port (an update).
fn drifted() -> Server {
    let seed = examples_as_seed()
        .into_iter()
        .map(|(project, mut c)| {
            if c.name == "alerts-smtp" {
                c.fields.insert("port".into(), 2525.into());
            }
            (project, c)
        })
        .collect();
    Server::start(SandboxConfig {
        seed,
        ..SandboxConfig::default()
    })
}

/// `plan --out` into a temp folder; returns the folder and the plan file.
fn save_plan(server: &Server) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("changes.plan");
    server
        .command_with_example_env()
        .args(["plan", "-f"])
        .arg(examples_dir())
        .arg("--out")
        .arg(&file)
        .assert()
        .success();
    assert_no_canary("plan file", &std::fs::read_to_string(&file).unwrap());
    (dir, file)
}

/// `apply FILE` from a folder with no YAML in it.
fn apply_file(server: &Server, cwd: &Path, file: &Path) -> assert_cmd::assert::Assert {
    server
        .command_with_example_env()
        .current_dir(cwd)
        .arg("apply")
        .arg(file)
        .assert()
}

fn alerts_smtp(server: &Server) -> Connection {
    server
        .snapshot("Payments")
        .into_iter()
        .find(|c| c.name == "alerts-smtp")
        .unwrap()
}

#[test]
fn a_saved_plan_applies_from_a_fresh_process_with_secrets_only_in_the_environment() {
    let server = drifted();
    let (dir, file) = save_plan(&server);
    // The server URL is spelt differently (with /apiops/) than when the plan was made.
    let output = server
        .command_with_example_env()
        .env("APINIZER_URL", format!("{}/apiops/", server.sandbox.url))
        .current_dir(dir.path())
        .arg("apply")
        .arg(&file)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("updated Payments/email/alerts-smtp"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Apply complete: 0 created, 1 updated"),
        "{stdout}"
    );
    assert_no_canary("apply stdout", &stdout);
    assert_eq!(alerts_smtp(&server).fields["port"], 587);
    assert!(server.plan_examples().contains("No changes."));
}

#[test]
fn a_stale_saved_plan_is_refused_and_nothing_is_written() {
    let server = drifted();
    let (dir, file) = save_plan(&server);
    let mut changed = alerts_smtp(&server);
    changed
        .fields
        .insert("host".into(), "smtp.changed.example.com".into());
    let client = server.client();
    server
        .block_on(client.update_connection("Payments", "alerts-smtp", &changed))
        .unwrap();
    let writes = server.sandbox.write_count();
    apply_file(&server, dir.path(), &file)
        .code(1)
        .stderr(contains(
            "plan is stale: Payments/email/alerts-smtp changed since the plan was made",
        ));
    assert_eq!(server.sandbox.write_count(), writes, "nothing written");
}

#[test]
fn a_saved_plan_for_another_server_is_refused() {
    let server = drifted();
    let other = drifted();
    let (dir, file) = save_plan(&server);
    other
        .command_with_example_env()
        .current_dir(dir.path())
        .arg("apply")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains("the plan was made for"));
    assert_eq!(other.sandbox.write_count(), 0);
    assert_eq!(server.sandbox.write_count(), 0);
}

#[test]
fn a_saved_plan_of_another_version_is_refused() {
    let server = drifted();
    let (dir, file) = save_plan(&server);
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    saved["tool_version"] = "0.0.1-other".into();
    std::fs::write(&file, saved.to_string()).unwrap();
    apply_file(&server, dir.path(), &file)
        .code(1)
        .stderr(contains("apinizer-gitops 0.0.1-other"));
    assert_eq!(server.sandbox.write_count(), 0);
}

#[test]
fn a_saved_plan_lists_every_missing_variable_before_any_write() {
    let server = drifted();
    let (dir, file) = save_plan(&server);
    server
        .command_with_example_env()
        .env_remove("PAYMENTS_SMTP_PASSWORD")
        .current_dir(dir.path())
        .arg("apply")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains("PAYMENTS_SMTP_PASSWORD"));
    assert_eq!(server.sandbox.write_count(), 0);
}

#[test]
fn a_missing_plan_file_is_an_error() {
    let server = drifted();
    let dir = tempfile::tempdir().unwrap();
    apply_file(&server, dir.path(), &dir.path().join("nope.plan"))
        .code(1)
        .stderr(contains("cannot read plan file"));
}

#[test]
fn a_variable_that_does_not_convert_to_its_field_type_is_refused_before_any_write() {
    let server = drifted();
    let dir = tempfile::tempdir().unwrap();
    let desired = dir.path().join("syslog.yaml");
    std::fs::write(
        &desired,
        "project: Payments\nconnections:\n  - type: syslog\n    name: audit\n    syslogServerHostname: h\n    syslogPort: ${env:SYSLOG_PORT}\n",
    )
    .unwrap();
    let file = dir.path().join("syslog.plan");
    let run = |port: &str, args: &[&str]| {
        server
            .command_with_example_env()
            .env("SYSLOG_PORT", port)
            .current_dir(dir.path())
            .args(args)
            .assert()
    };
    let refused = "Payments/syslog/audit: `syslogPort` takes ${env:SYSLOG_PORT}, whose value is not an integer";
    let refusals = [
        run("canary-port", &["plan", "-f", "syslog.yaml"]),
        run(
            "canary-port",
            &["apply", "-f", "syslog.yaml", "--auto-approve"],
        ),
        {
            run(
                "514",
                &["plan", "-f", "syslog.yaml", "--out", "syslog.plan"],
            )
            .success();
            run("canary-port", &["apply", "syslog.plan"])
        },
    ];
    for assert in refusals {
        let assert = assert.code(1).stderr(contains(refused));
        assert!(!text(&assert.get_output().stderr).contains("canary-port"));
    }
    assert!(file.exists());
    assert_eq!(server.sandbox.write_count(), 0);
}
