//! `apply` from the binary against a sandbox on loopback: convergence for all 14 types,
//! under injected faults, and after being killed midway.

mod apply_support;

use std::time::{Duration, Instant};

use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, example_projects, examples_dir};

#[test]
fn all_14_types_converge_plan_apply_plan() {
    let server = Server::with_example_projects();
    let first = server.plan_examples();
    assert!(first.contains("Plan: 14 to create, 0 to update"), "{first}");
    let (code, stdout, stderr) = server.apply_examples();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("created Payments/email/alerts-smtp (deployed: dev ok, prod ok)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Apply complete: 14 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed."
        ),
        "{stdout}"
    );
    let again = server.plan_examples();
    assert!(again.contains("No changes."), "{again}");
    server.assert_holds_examples_once();
    let writes = server.sandbox.write_count();
    let (code, stdout, _) = server.apply_examples();
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Apply complete: 0 created, 0 updated"),
        "{stdout}"
    );
    assert_eq!(
        server.sandbox.write_count(),
        writes,
        "a converged apply writes nothing"
    );
}

#[test]
fn prune_deletes_the_undesired_and_ignore_keeps_legacy_connections() {
    let extra = |name: &str| {
        let fields = serde_json::json!({"fullUrl": "https://old.example.com"});
        let body = fields.as_object().unwrap().clone();
        (
            "Payments".to_string(),
            Connection::from_body("webhook", name, body, false),
        )
    };
    let mut seed = apply_support::examples_as_seed();
    seed.push(extra("tmp-hook"));
    seed.push(extra("legacy-hook"));
    let server = Server::start(SandboxConfig {
        seed,
        ..SandboxConfig::default()
    });
    let (code, stdout, stderr) = server.apply_examples();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("deleted Payments/webhook/tmp-hook (undeployed: dev ok, prod ok)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 created, 0 updated, 0 renamed, 0 replaced, 1 deleted, 0 failed."),
        "{stdout}"
    );
    let names: Vec<String> = server
        .snapshot("Payments")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(names.contains(&"legacy-hook".to_string()), "{names:?}");
    assert!(!names.contains(&"tmp-hook".to_string()), "{names:?}");
}

#[test]
fn apply_under_a_20_percent_fail_rate_converges_in_two_runs_without_duplicates() {
    let server = Server::start(SandboxConfig {
        projects: example_projects(),
        fail_rate: 0.2,
        fault_seed: Some(7),
        retry_after_secs: 0,
        ..SandboxConfig::default()
    });
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (code, stdout, stderr) = server.apply_examples();
        runs.push(format!("exit {code}\n{stdout}\n{stderr}"));
        if code == 0 {
            break;
        }
    }
    assert!(runs.last().unwrap().starts_with("exit 0"), "{runs:#?}");
    server.assert_holds_examples_once();
    let check = Server::start(SandboxConfig {
        seed: server.snapshot_all(),
        ..SandboxConfig::default()
    });
    assert!(
        check.plan_examples().contains("No changes."),
        "nothing desired is lost"
    );
}

#[test]
fn an_apply_killed_midway_converges_when_run_again() {
    let server = Server::start(SandboxConfig {
        projects: example_projects(),
        latency: Some(Duration::from_millis(60)),
        ..SandboxConfig::default()
    });
    let mut child = server
        .process()
        .envs(apply_support::example_variables())
        .args(["apply", "--auto-approve", "--parallelism", "2", "-f"])
        .arg(examples_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.sandbox.write_count() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let written = server.sandbox.write_count();
    assert!(
        (3..14).contains(&written),
        "killed midway, after {written} writes"
    );
    let (code, stdout, stderr) = server.apply_examples();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    server.assert_holds_examples_once();
    assert!(server.plan_examples().contains("No changes."));
}

#[test]
fn apply_refuses_without_auto_approve_when_stdin_is_not_a_terminal() {
    let server = Server::with_example_projects();
    server
        .command_with_example_env()
        .args(["apply", "-f"])
        .arg(examples_dir())
        .write_stdin("yes\n")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--auto-approve"));
    assert_eq!(server.sandbox.write_count(), 0);
}

#[test]
fn apply_with_a_missing_variable_lists_every_name_and_writes_nothing() {
    let server = Server::with_example_projects();
    server
        .command_with_example_env()
        .env_remove("PAYMENTS_SMTP_PASSWORD")
        .env_remove("OBSERVABILITY_SSH_PASSWORD")
        .args(["apply", "--auto-approve", "-f"])
        .arg(examples_dir())
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "OBSERVABILITY_SSH_PASSWORD, PAYMENTS_SMTP_PASSWORD",
        ));
    assert_eq!(server.sandbox.write_count(), 0);
}

#[test]
fn apply_with_json_format_prints_one_document_holding_the_plan_and_the_report() {
    let server = Server::with_example_projects();
    let output = server
        .command_with_example_env()
        .args(["apply", "--auto-approve", "--format", "json", "-f"])
        .arg(examples_dir())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = apply_support::text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(document["command"], "apply");
    assert_eq!(document["summary"]["create"], 14);
    assert_eq!(document["changes"][0]["action"], "create");
    assert_eq!(document["apply"]["summary"]["created"], 14);
    assert_eq!(
        document["apply"]["changes"][0]["deployment"]["success"],
        true
    );
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schemas/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let stderr = apply_support::text(&output.stderr);
    assert!(
        stderr.contains("created Payments/email/alerts-smtp"),
        "live lines on stderr"
    );
}
