//! The apply engine on the wire: hand-built plans executed against a sandbox on loopback
//! (phases, complete bodies, deployment results, stop after a failure, idempotent
//! deletes, renames, replaces, ignored fields).

mod apply_support;

use apinizer_gitops::apply::{self, ApplyOptions, ApplyReport, Outcome};
use apinizer_gitops::model::Connection;
use apinizer_gitops::plan::{Action, Change, Plan};
use apinizer_gitops::refs::MapEnv;
use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, example_variables, examples};
use secrecy::ExposeSecret;
use serde_json::json;
use std::time::Duration;

const OPTIONS: ApplyOptions = ApplyOptions {
    parallelism: 4,
    continue_on_error: false,
    grace: Duration::from_secs(5),
};

fn change(project: &str, action: Action, desired: Option<Connection>, name: &str) -> Change {
    Change {
        project: project.into(),
        kind: desired.as_ref().map_or("email".into(), |d| d.kind.clone()),
        name: name.into(),
        action,
        current_name: None,
        current_kind: None,
        current_fields: None,
        desired,
        fields: Vec::new(),
        ignore_fields: Vec::new(),
        source: None,
        fingerprint: None,
        var_templates: Default::default(),
    }
}

/// Every example as a create.
fn creates() -> Vec<Change> {
    examples()
        .projects
        .values()
        .flat_map(|p| {
            p.connections.iter().map(move |c| {
                change(
                    &p.name,
                    Action::Create,
                    Some(c.template.clone()),
                    &c.template.name,
                )
            })
        })
        .collect()
}

fn email(name: &str, host: &str) -> Connection {
    let fields = json!({"host": host, "auth": true, "username": "u", "password": "${env:PW}"});
    Connection::from_body("email", name, fields.as_object().unwrap().clone(), true)
}

fn run(
    server: &Server,
    plan: &Plan,
    env: &MapEnv,
    options: ApplyOptions,
) -> (ApplyReport, Vec<String>) {
    let client = server.client();
    let mut lines = Vec::new();
    let never = apply::Interrupt::never();
    let report = server.block_on(apply::execute(
        plan,
        &client,
        env,
        options,
        &never,
        &mut |c| lines.push(c.line()),
    ));
    (report, lines)
}

fn env() -> MapEnv {
    let mut vars = example_variables();
    vars.insert("PW".into(), "canary-pw-secret".into());
    MapEnv(vars)
}

#[test]
fn creates_of_all_14_types_land_complete_with_secrets_and_deployments() {
    let server = Server::with_example_projects();
    let plan = Plan {
        changes: creates(),
        ..Plan::default()
    };
    let (report, lines) = run(&server, &plan, &env(), OPTIONS);
    assert!(report.succeeded(), "{lines:#?}");
    assert_eq!(lines.len(), 14);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("created ") && l.contains("(deployed: dev ok, prod ok)")),
        "{lines:#?}"
    );
    assert_eq!(
        report.summary(),
        "Apply complete: 14 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed."
    );
    let smtp = server
        .snapshot("Payments")
        .into_iter()
        .find(|c| c.name == "alerts-smtp")
        .unwrap();
    let password = smtp
        .secrets
        .get("/password")
        .unwrap()
        .expose_secret()
        .to_string();
    assert_eq!(password, example_variables()["PAYMENTS_SMTP_PASSWORD"]);
    assert_eq!(
        smtp.fields["defaultEncoding"], "UTF-8",
        "absent fields are sent with defaults"
    );
    for line in &lines {
        apply_support::assert_no_canary("report", line);
    }
}

#[test]
fn a_failed_deployment_is_a_failed_change() {
    let server = Server::start(SandboxConfig {
        projects: vec!["P".into()],
        failing_environments: vec!["prod".into()],
        ..SandboxConfig::default()
    });
    let plan = Plan {
        changes: vec![change("P", Action::Create, Some(email("m", "h")), "m")],
        ..Plan::default()
    };
    let (report, lines) = run(&server, &plan, &env(), OPTIONS);
    assert!(lines[0].contains("dev ok, prod FAILED"), "{lines:?}");
    assert!(
        report
            .summary()
            .ends_with("0 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 1 failed.")
    );
    assert!(!report.succeeded());
}

#[test]
fn after_the_first_failure_no_new_change_starts_unless_asked() {
    let server = Server::start(SandboxConfig {
        projects: vec!["P".into()],
        ..SandboxConfig::default()
    });
    let plan = Plan {
        changes: vec![
            change("Missing", Action::Create, Some(email("a", "h")), "a"),
            change("P", Action::Create, Some(email("b", "h")), "b"),
            change("P", Action::Delete, None, "c"),
        ],
        ..Plan::default()
    };
    let sequential = ApplyOptions {
        parallelism: 1,
        continue_on_error: false,
        grace: Duration::from_secs(5),
    };
    let (report, lines) = run(&server, &plan, &env(), sequential);
    assert!(
        lines[0].starts_with("failed to create Missing/email/a: "),
        "{lines:?}"
    );
    assert!(
        lines[0].contains("404"),
        "the API error is shown: {lines:?}"
    );
    assert!(matches!(report.changes[1].outcome, Outcome::NotStarted));
    assert!(matches!(report.changes[2].outcome, Outcome::NotStarted));
    assert_eq!(server.snapshot("P").len(), 0, "nothing else was written");

    let keep_going = ApplyOptions {
        parallelism: 1,
        continue_on_error: true,
        grace: Duration::from_secs(5),
    };
    let (report, lines) = run(&server, &plan, &env(), keep_going);
    assert_eq!(
        report.changes.iter().filter(|c| c.failed()).count(),
        1,
        "{lines:?}"
    );
    assert!(lines[1].starts_with("created P/email/b"), "{lines:?}");
    assert!(
        lines[2].contains("already absent"),
        "a delete of a missing connection succeeds: {lines:?}"
    );
}

#[test]
fn renames_replaces_and_ignored_fields() {
    let seed_hook = Connection::from_body(
        "webhook",
        "x",
        json!({"fullUrl": "https://hooks.example.com"})
            .as_object()
            .unwrap()
            .clone(),
        false,
    );
    let server = Server::start(SandboxConfig {
        projects: vec!["P".into()],
        seed: vec![
            ("P".into(), email("old", "old-host").clone()),
            ("P".into(), seed_hook),
            ("P".into(), email("kept", "server-host")),
        ],
        ..SandboxConfig::default()
    });
    let mut rename = change("P", Action::Rename, Some(email("new", "new-host")), "new");
    rename.current_name = Some("old".into());
    let mut replace = change("P", Action::Replace, Some(email("x", "h")), "x");
    replace.current_kind = Some("webhook".into());
    let mut update = change(
        "P",
        Action::Update,
        Some(email("kept", "desired-host")),
        "kept",
    );
    update.ignore_fields = vec!["/host".into()];
    let plan = Plan {
        changes: vec![rename, replace, update],
        ..Plan::default()
    };
    let (report, lines) = run(&server, &plan, &env(), OPTIONS);
    assert!(report.succeeded(), "{lines:?}");
    let names: Vec<(String, String)> = server
        .snapshot("P")
        .into_iter()
        .map(|c| (c.name, c.kind))
        .collect();
    assert!(names.contains(&("new".into(), "email".into())), "{names:?}");
    assert!(!names.iter().any(|(n, _)| n == "old"), "{names:?}");
    assert!(names.contains(&("x".into(), "email".into())), "{names:?}");
    let kept = server
        .snapshot("P")
        .into_iter()
        .find(|c| c.name == "kept")
        .unwrap();
    assert_eq!(
        kept.fields["host"], "server-host",
        "an ignored field is never overwritten"
    );
    assert!(
        report.changes[0]
            .line()
            .starts_with("renamed P/email/new (was old)")
    );
    assert!(
        report.changes[1]
            .line()
            .starts_with("replaced P/email/x (was webhook)")
    );
}
