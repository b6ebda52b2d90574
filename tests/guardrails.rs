//! Guardrails against destructive changes, the binary driven against the sandbox:
//! protected connections, the delete budget (`--max-deletes`), replaces announced,
//! saved plans that converge when re-applied, and the small validation holes (a
//! `renamedFrom` equal to the name, a pruned project without connections).

mod plan_support;

use std::collections::BTreeMap;

use apinizer_gitops::model::Connection;
use plan_support::{Server, files, output, serve};
use serde_json::{Value, json};

fn connection(kind: &str, name: &str, body: Value) -> Connection {
    Connection::from_body(kind, name, body.as_object().unwrap().clone(), false)
}

/// A graylog connection of project `Ledger` (graylog needs no secret).
fn graylog(name: &str, port: u16) -> (String, Connection) {
    let body = json!({"hostname": "logs.example.com", "port": port});
    ("Ledger".to_string(), connection("graylog", name, body))
}

fn no_env() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn a_pruned_project_without_connections_is_the_same_error_in_validate_and_plan() {
    let dir = files(&[(
        "ledger.yaml",
        "project: Ledger\nprune: true\nconnections: []\n",
    )]);
    let server = serve(vec![graylog("ledger-logs", 12201)], &[]);
    let expected = "connections/ledger.yaml:2:8: error: project Ledger has `prune: true` but its files declare no connection: that would delete every connection of the project\n  hint: add `allowEmpty: true` if you mean it";
    let (stdout, _) = server.run(dir.path(), &no_env(), &["validate"], 1);
    assert!(stdout.contains(expected), "{stdout}");
    let requests = server.requests();
    let (_, stderr) = server.run(dir.path(), &no_env(), &["plan"], 1);
    assert!(stderr.contains(expected), "{stderr}");
    assert_eq!(server.requests(), requests, "refused before any request");
    let allowed = files(&[(
        "ledger.yaml",
        "project: Ledger\nprune: true\nallowEmpty: true\nconnections: []\n",
    )]);
    server.run(allowed.path(), &no_env(), &["validate"], 0);
}

#[test]
fn a_renamed_from_equal_to_the_name_is_a_validation_error() {
    let text = "project: Ledger\nconnections:\n  - type: graylog\n    name: ledger-logs\n    renamedFrom: Ledger-Logs\n    hostname: h\n";
    let dir = files(&[("ledger.yaml", text)]);
    let assert = Server::offline_cli(dir.path(), &["validate"])
        .assert()
        .code(1);
    let (stdout, _) = output(&assert);
    assert!(
        stdout.contains("connections/ledger.yaml:5:18: error: connection `ledger-logs`: `renamedFrom: Ledger-Logs` is the connection's own name"),
        "{stdout}"
    );
}

/// A pruned `Ledger` project protecting `ledger-*`; the files keep `app-logs` only.
const PRUNED_LEDGER: &str = "project: Ledger\nprune: true\nprotect: [\"Ledger-*\"]\nconnections:\n  - type: graylog\n    name: app-logs\n    hostname: logs.example.com\n    port: 12201\n";

#[test]
fn a_protected_connection_removed_from_the_files_of_a_pruned_project_is_never_deleted() {
    let dir = files(&[("ledger.yaml", PRUNED_LEDGER)]);
    let server = serve(
        vec![
            graylog("app-logs", 12201),
            graylog("ledger-core", 12201),
            graylog("LEDGER-audit", 12201),
            graylog("scratch", 12201),
        ],
        &[],
    );
    let expected = [
        "error: the plan would delete or replace protected connections:\n",
        "  delete Ledger/graylog/ledger-core: protected by `Ledger-*` (`protect` of project Ledger at ./connections/ledger.yaml:3)\n",
        "  delete Ledger/graylog/LEDGER-audit: protected by `Ledger-*`",
        "nothing was written",
    ];
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["drift"],
        &["plan", "--out", "ledger.plan"],
    ] {
        let (stdout, stderr) = server.run(dir.path(), &no_env(), args, 1);
        for fragment in expected {
            assert!(stderr.contains(fragment), "{args:?}: {stderr}");
        }
        assert!(!stderr.contains("scratch"), "{stderr}");
        assert!(stdout.is_empty(), "{args:?}: no plan is shown: {stdout}");
    }
    assert_eq!(server.writes(), 0);
    assert!(!dir.path().join("ledger.plan").exists());
}

#[test]
fn a_type_change_of_a_protected_connection_is_refused_and_an_update_is_applied() {
    let text = "project: Ledger\nconnections:\n  - type: syslog\n    name: core\n    protect: true\n    syslogServerHostname: logs.example.com\n  - type: graylog\n    name: kept\n    protect: true\n    hostname: logs.example.com\n    port: 12201\n";
    let dir = files(&[("ledger.yaml", text)]);
    let server = serve(vec![graylog("core", 12201), graylog("kept", 2000)], &[]);
    let (_, stderr) = server.run(dir.path(), &no_env(), &["apply", "--auto-approve"], 1);
    assert!(
        stderr.contains("  replace Ledger/syslog/core (was graylog): protected by `protect: true` at ./connections/ledger.yaml:5\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("kept"), "an update is allowed: {stderr}");
    assert_eq!(server.writes(), 0);
    assert_eq!(server.get("Ledger", "core").kind, "graylog");
    let update = "project: Ledger\nconnections:\n  - type: graylog\n    name: kept\n    protect: true\n    hostname: logs.example.com\n    port: 12201\n";
    let updated = files(&[("ledger.yaml", update)]);
    server.run(updated.path(), &no_env(), &["apply", "--auto-approve"], 0);
    assert_eq!(server.get("Ledger", "kept").fields["port"], 12201);
}

/// A pruned `Ledger` project whose files keep `app-logs`; the server holds three more.
fn three_to_delete() -> (tempfile::TempDir, Server) {
    let text = PRUNED_LEDGER.replace("protect: [\"Ledger-*\"]\n", "");
    let dir = files(&[("ledger.yaml", &text)]);
    let server = serve(
        vec![
            graylog("app-logs", 12201),
            graylog("old-a", 1),
            graylog("old-b", 1),
            graylog("old-c", 1),
        ],
        &[],
    );
    (dir, server)
}

const OVER_BUDGET: [&str; 5] = [
    "error: the plan deletes or replaces 3 connections, more than --max-deletes 2 allows:\n",
    "  delete Ledger/graylog/old-a\n",
    "  delete Ledger/graylog/old-b\n",
    "  delete Ledger/graylog/old-c\n",
    "nothing was written; raise --max-deletes if you mean it",
];

#[test]
fn a_delete_budget_exceeded_by_one_refuses_plan_apply_and_drift() {
    let (dir, server) = three_to_delete();
    for args in [
        &["plan", "--max-deletes", "2"][..],
        &["apply", "--auto-approve", "--max-deletes", "2"],
        &["drift", "--max-deletes", "2"],
    ] {
        let (_, stderr) = server.run(dir.path(), &no_env(), args, 1);
        for fragment in OVER_BUDGET {
            assert!(stderr.contains(fragment), "{args:?}: {stderr}");
        }
    }
    assert_eq!(server.writes(), 0);
    let (stdout, _) = server.run(dir.path(), &no_env(), &["plan", "--max-deletes", "3"], 0);
    assert!(stdout.contains("3 to delete"), "{stdout}");
    server.run(
        dir.path(),
        &no_env(),
        &["apply", "--auto-approve", "--max-deletes", "3"],
        0,
    );
    assert_eq!(server.writes(), 3);
}

#[test]
fn a_saved_plan_honours_the_budget_given_at_apply_time() {
    let (dir, server) = three_to_delete();
    server.run(dir.path(), &no_env(), &["plan", "--out", "ledger.plan"], 0);
    let (_, stderr) = server.run(
        dir.path(),
        &no_env(),
        &["apply", "ledger.plan", "--max-deletes", "2"],
        1,
    );
    for fragment in OVER_BUDGET {
        assert!(stderr.contains(fragment), "{stderr}");
    }
    assert_eq!(server.writes(), 0);
    server.run(
        dir.path(),
        &no_env(),
        &["apply", "ledger.plan", "--max-deletes", "3"],
        0,
    );
    assert_eq!(server.writes(), 3);
}

#[test]
fn a_negative_or_non_numeric_budget_is_a_usage_error() {
    let dir = files(&[]);
    for flag in ["--max-deletes=-1", "--max-deletes=many"] {
        Server::offline_cli(dir.path(), &["plan", flag])
            .assert()
            .failure()
            .stderr(predicates::str::contains("--max-deletes"));
    }
}

/// A pruned `Ledger` project with one change of each kind but replace: `app-logs` is
/// updated, `new-logs` created, `old-audit` renamed to `audit-logs`, `scratch` deleted.
fn four_changes() -> (tempfile::TempDir, Server) {
    let text = "project: Ledger\nprune: true\nconnections:\n  - {type: graylog, name: app-logs, hostname: logs.example.com, port: 12201}\n  - {type: graylog, name: new-logs, hostname: logs.example.com, port: 12201}\n  - {type: graylog, name: audit-logs, renamedFrom: old-audit, hostname: logs.example.com, port: 12201}\n";
    let dir = files(&[("ledger.yaml", text)]);
    let server = serve(
        vec![
            graylog("app-logs", 2000),
            graylog("old-audit", 12201),
            graylog("scratch", 12201),
        ],
        &[],
    );
    server.run(dir.path(), &no_env(), &["plan", "--out", "ledger.plan"], 0);
    (dir, server)
}

#[test]
fn a_saved_plan_applied_twice_is_already_applied_the_second_time() {
    let (dir, server) = four_changes();
    let (stdout, _) = server.run(dir.path(), &no_env(), &["apply", "ledger.plan"], 0);
    assert!(
        stdout.contains(
            "Apply complete: 1 created, 1 updated, 1 renamed, 0 replaced, 1 deleted, 0 failed."
        ),
        "{stdout}"
    );
    let writes = server.writes();
    let (stdout, _) = server.run(dir.path(), &no_env(), &["apply", "ledger.plan"], 0);
    assert_eq!(stdout, "Already applied: 4 changes are in effect.\n");
    assert_eq!(server.writes(), writes, "nothing written again");
    let (stdout, _) = server.run(
        dir.path(),
        &no_env(),
        &["apply", "ledger.plan", "--format", "json"],
        0,
    );
    let plan: Value = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(plan["changes"], json!([]));
    let kinds: Vec<&Value> = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["kind"])
        .collect();
    assert_eq!(kinds, vec!["already_in_effect"; 4]);
}

#[test]
fn a_saved_plan_half_made_by_hand_applies_the_rest() {
    let (dir, server) = four_changes();
    server.put("Ledger", &graylog("app-logs", 12201).1);
    server.with_client(async |client| {
        client
            .create_connection("Ledger", &graylog("new-logs", 12201).1)
            .await
            .expect("POST succeeds");
    });
    let writes = server.writes();
    let (stdout, _) = server.run(dir.path(), &no_env(), &["apply", "ledger.plan", "-v"], 0);
    assert!(
        stdout.contains(
            "Apply complete: 0 created, 0 updated, 1 renamed, 0 replaced, 1 deleted, 0 failed."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ledger/graylog/app-logs: already in effect, left out"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ledger/graylog/new-logs: already in effect, left out"),
        "{stdout}"
    );
    assert_eq!(server.writes(), writes + 2, "only the rest is written");
    let (stdout, _) = server.run(dir.path(), &no_env(), &["plan"], 0);
    assert!(stdout.contains("No changes."), "{stdout}");
}

#[test]
fn a_saved_plan_whose_connection_differs_from_before_and_after_is_stale() {
    let (dir, server) = four_changes();
    server.put("Ledger", &graylog("app-logs", 3000).1);
    server.put("Ledger", &graylog("scratch", 3000).1);
    let writes = server.writes();
    let (_, stderr) = server.run(dir.path(), &no_env(), &["apply", "ledger.plan"], 1);
    assert!(
        stderr.contains("plan is stale: Ledger/graylog/app-logs changed since the plan was made"),
        "{stderr}"
    );
    assert!(
        stderr.contains("plan is stale: Ledger/graylog/scratch changed since the plan was made"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(server.writes(), writes);
}

#[test]
fn a_replace_is_announced_in_every_format_and_the_text_plan_ends_with_a_warning() {
    let text = "project: Ledger\nprune: true\nconnections:\n  - {type: syslog, name: core, syslogServerHostname: logs.example.com}\n";
    let dir = files(&[("ledger.yaml", text)]);
    let server = serve(vec![graylog("core", 12201), graylog("scratch", 1)], &[]);
    let warning = "deleted and created again: policies that use it break in between";
    let (plain, _) = server.run(dir.path(), &no_env(), &["plan"], 0);
    assert!(
        plain.contains(&format!(
            "-/+ replace Ledger/syslog/core (was graylog)\n  warning: {warning}\n"
        )),
        "{plain}"
    );
    assert_eq!(
        plain.lines().last(),
        Some(
            "Warning: this plan deletes 1 connection and replaces 1 connection (deleted and created again); Apinizer does not check which policies use a connection, so APIs that use them break."
        )
    );
    let (markdown, _) = server.run(dir.path(), &no_env(), &["plan", "--format", "markdown"], 0);
    assert!(
        markdown.contains(&format!(
            "`Ledger/syslog/core (was graylog)` — **warning:** {warning}"
        )),
        "{markdown}"
    );
    let (json_text, _) = server.run(dir.path(), &no_env(), &["plan", "--format", "json"], 0);
    let report: Value = serde_json::from_str(&json_text).unwrap();
    let changes = report["changes"].as_array().unwrap();
    let replace = changes.iter().find(|c| c["action"] == "replace").unwrap();
    assert_eq!(replace["warning"], warning);
    let delete = changes.iter().find(|c| c["action"] == "delete").unwrap();
    assert!(delete.get("warning").is_none());
    let only_updates = files(&[(
        "ledger.yaml",
        "project: Ledger\nconnections:\n  - {type: graylog, name: core, hostname: logs.example.com, port: 1}\n",
    )]);
    let (plain, _) = server.run(only_updates.path(), &no_env(), &["plan"], 0);
    assert!(
        !plain.contains("Warning:") && !plain.contains("warning:"),
        "{plain}"
    );
}
