//! `drift` against the sandbox: exit 0 and `In sync:` when the server matches the files,
//! exit 2 and `Drift detected:` (plus the plan's summary line) when it does not.

mod plan_support;

use plan_support::{canary_env, examples, output, resolved, serve};
use serde_json::{Value, json};

#[test]
fn drift_exits_0_in_sync_and_2_on_drift() {
    let env = canary_env(&examples());
    let server = serve(resolved(&examples(), &env), &[]);
    let cwd = examples();
    let cwd = cwd.parent().unwrap();
    let in_sync = server
        .cli(cwd, &env, &["drift", "-f", "connections"])
        .assert()
        .code(0);
    let (stdout, _) = output(&in_sync);
    assert!(
        stdout.starts_with("In sync: 14 connections match the desired state.\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nNo changes. 14 connections match the desired state.\n"));

    let mut log = server.get("Observability", "audit-syslog");
    log.fields.insert("syslogPort".into(), json!(1514));
    server.put("Observability", &log);

    let drift = server
        .cli(cwd, &env, &["drift", "-f", "connections"])
        .assert()
        .code(2);
    let (stdout, stderr) = output(&drift);
    assert!(
        stdout.starts_with("Drift detected: 1 connection differs from the desired state.\n"),
        "{stdout}"
    );
    assert!(stdout.contains("~ update Observability/syslog/audit-syslog\n"));
    assert!(stdout.contains("Plan: 0 to create, 1 to update, 0 to rename, 0 to replace, 0 to delete. 13 unchanged, 0 unmanaged."));
    assert!(!stdout.contains("canary") && !stderr.contains("canary"));

    let json = server
        .cli(
            cwd,
            &env,
            &["drift", "-f", "connections", "--format", "json"],
        )
        .assert()
        .code(2);
    let report: Value = serde_json::from_str(&output(&json).0).unwrap();
    assert_eq!(
        (
            report["command"].as_str(),
            report["changes_present"].as_bool()
        ),
        (Some("drift"), Some(true))
    );
    assert_eq!(report["changes"][0]["fields"][0]["path"], "/syslogPort");
}

#[test]
fn drift_on_invalid_files_exits_1() {
    let dir = plan_support::files(&[(
        "bad.yaml",
        "project: P\nconnections:\n  - type: email\n    name: x\n    hots: h\n",
    )]);
    let assert =
        plan_support::Server::offline_cli(dir.path(), &["drift", "--server", "http://127.0.0.1:9"])
            .assert()
            .code(1);
    let (stdout, stderr) = output(&assert);
    assert_eq!(stdout, "");
    assert!(stderr.contains("bad.yaml:5:"), "{stderr}");
    assert!(
        stderr.contains(" in the desired-state files") && !stderr.contains("error(s)"),
        "{stderr}"
    );
}
