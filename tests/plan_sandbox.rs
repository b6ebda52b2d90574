//! `plan` against the sandbox, the binary driven the way a pipeline would: a sandbox
//! seeded from the desired state shows no changes (quirky types included), every action is
//! detected and rendered in all three formats, one server-side change is one field-level
//! update, secrets are compared but never shown, saved plans hold no secret value.

mod plan_support;

use std::collections::BTreeMap;

use apinizer_gitops::model::Connection;
use apinizer_gitops::plan::fingerprint;
use plan_support::{Server, canary_env, examples, files, output, resolved, serve};
use serde_json::{Value, json};

fn connection(kind: &str, name: &str, body: Value) -> Connection {
    Connection::from_body(kind, name, body.as_object().unwrap().clone(), false)
}

/// The examples' folder, its canary variables and a sandbox seeded from it.
fn examples_server() -> (BTreeMap<String, String>, Server) {
    let env = canary_env(&examples());
    let server = serve(resolved(&examples(), &env), &[]);
    (env, server)
}

fn json_plan(
    server: &Server,
    dir: &std::path::Path,
    env: &BTreeMap<String, String>,
    args: &[&str],
) -> Value {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let assert = server.cli(dir, env, &all).assert().success();
    serde_json::from_str(&output(&assert).0).unwrap()
}

/// What `schemas/plan.schema.json` finds wrong with a JSON report.
fn schema_errors(plan: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("../schemas/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator.iter_errors(plan).map(|e| e.to_string()).collect()
}

fn assert_matches_schema(plan: &Value) {
    let errors = schema_errors(plan);
    assert!(errors.is_empty(), "{errors:?}");
}

/// One text key of every change of a JSON report, in order.
fn change_values<'a>(report: &'a Value, key: &str) -> Vec<&'a str> {
    changes(report).map(|c| c[key].as_str().unwrap()).collect()
}

fn changes(report: &Value) -> impl Iterator<Item = &Value> {
    report["changes"].as_array().unwrap().iter()
}

/// The change of a JSON report or saved plan that names this connection.
fn change_named<'a>(report: &'a Value, name: &str) -> &'a Value {
    changes(report).find(|c| c["name"] == name).unwrap()
}

fn assert_no_canary(texts: &[&str]) {
    for text in texts {
        assert!(!text.contains("canary"), "a secret value leaked:\n{text}");
    }
}

#[test]
fn a_sandbox_seeded_from_the_examples_shows_no_changes() {
    let (env, server) = examples_server();
    let dir = examples();
    let (stdout, stderr) = server.run(
        dir.parent().unwrap(),
        &env,
        &["plan", "--detailed-exitcode", "-f", "connections"],
        0,
    );
    assert_eq!(
        stdout.lines().last(),
        Some("No changes. 14 connections match the desired state.")
    );
    assert_no_canary(&[&stdout, &stderr]);
}

const QUIRKS: &str = r#"
project: Quirks
connections:
  - type: kafka
    name: secure-events
    topicName: events
    propertiesMap:
      bootstrap.servers: {value: "k:9093"}
      key.serializer: {value: org.apache.kafka.common.serialization.StringSerializer}
      value.serializer: {value: org.apache.kafka.common.serialization.StringSerializer}
      retries: {value: "3", valueType: INTEGER}
    enableSecure: true
    protocolTypes: [TLS_1_3, TLS_1_2]
    keyStoreName: payments-keystore
    trustStoreName: payments-truststore
  - type: logback
    name: file-log
    logPath: /var/log/apinizer
    logFileName: /traffic
  - type: elasticsearch
    name: read-logs
    elasticHostList: [{host: es.internal}]
    accessType: READ
    authenticate: true
    elasticUsername: reader
    elasticPassword: ${env:QUIRKS_ES_PASSWORD}
  - type: database
    name: orders-db
    dbType: POSTGRES
    jdbcUrl: jdbc:postgresql://${env:QUIRKS_DB_HOST}:5432/orders
    username: orders
    password: ${env:QUIRKS_DB_PASSWORD}
"#;

#[test]
fn quirky_types_round_trip_without_changes() {
    let dir = files(&[("quirks.yaml", QUIRKS)]);
    let env = canary_env(&dir.path().join("connections"));
    let server = serve(resolved(&dir.path().join("connections"), &env), &[]);
    let (stdout, stderr) = server.run(dir.path(), &env, &["plan", "--detailed-exitcode"], 0);
    assert!(
        stdout.contains("No changes. 4 connections match the desired state."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Note: 3 connections hold write-only values that cannot be compared (database 1, elasticsearch 1, kafka 1); -v lists them\n"),
        "{stdout}"
    );
    let (stdout, _) = server.run(dir.path(), &env, &["plan", "-v"], 0);
    assert!(
        stdout
            .contains("Quirks/kafka/secure-events: cannot compare /keyStoreName, /trustStoreName"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Quirks/elasticsearch/read-logs: cannot compare /elasticPassword"),
        "{stdout}"
    );
    assert_no_canary(&[&stdout, &stderr]);
}

#[test]
fn one_field_changed_on_the_server_is_one_update_naming_its_path() {
    let (env, server) = examples_server();
    let mut smtp = server.get("Payments", "alerts-smtp");
    smtp.fields.insert("port".into(), json!(2525));
    server.put("Payments", &smtp);
    let dir = examples();
    let plan = json_plan(&server, dir.parent().unwrap(), &env, &["-f", "connections"]);
    assert_eq!(plan["summary"]["update"], 1);
    let change = &plan["changes"][0];
    assert_eq!(
        (&change["project"], &change["name"], &change["action"]),
        (&json!("Payments"), &json!("alerts-smtp"), &json!("update"))
    );
    assert_eq!(
        change["fields"],
        json!([{"path": "/port", "before": 2525, "after": 587, "sensitive": false}])
    );
    assert_eq!(change["source"]["file"], "connections/payments/data.yaml");
}

#[test]
fn a_changed_readable_secret_is_sensitive_and_never_printed() {
    let (env, server) = examples_server();
    let mut smtp = server.get("Payments", "alerts-smtp");
    smtp.secrets.insert(
        "/password".into(),
        "canary-server-side-password".to_string().into(),
    );
    server.put("Payments", &smtp);
    let dir = examples();
    let cwd = dir.parent().unwrap();
    let mut outputs = Vec::new();
    for format in ["text", "json", "markdown"] {
        let assert = server
            .cli(
                cwd,
                &env,
                &["plan", "-f", "connections", "--format", format, "-vv"],
            )
            .assert()
            .success();
        outputs.push(output(&assert));
    }
    let texts: Vec<&str> = outputs
        .iter()
        .flat_map(|(o, e)| [o.as_str(), e.as_str()])
        .collect();
    assert_no_canary(&texts);
    assert!(
        outputs[0].0.contains("+password: (sensitive, changed)"),
        "{}",
        outputs[0].0
    );
    let plan: Value = serde_json::from_str(&outputs[1].0).unwrap();
    assert_eq!(
        plan["changes"][0]["fields"],
        json!([{"path": "/password", "sensitive": true, "before_present": true, "after_present": true}])
    );
}

const SHOP: &str = r#"
project: Shop
prune: true
ignore: ["legacy-*"]
connections:
  - type: email
    name: fresh-mail
    host: smtp.example.com
  - type: email
    name: changed-mail
    host: smtp.example.com
    port: 2525
    auth: true
    username: shop
    password: ${env:SHOP_SMTP_PASSWORD}
  - type: syslog
    name: swapped
    syslogServerHostname: syslog.example.com
  - type: email
    name: renamed-mail
    renamedFrom: old-mail
    host: smtp.example.com
  - type: webhook
    name: same-hook
    fullUrl: https://hooks.example.com/x
"#;

fn shop_server(env: &BTreeMap<String, String>) -> Server {
    let smtp = |name: &str, extra: Value| {
        let mut body = json!({"host": "smtp.example.com"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ("Shop".to_string(), connection("email", name, body))
    };
    let password = &env["SHOP_SMTP_PASSWORD"];
    serve(
        vec![
            smtp(
                "changed-mail",
                json!({"port": 587, "auth": true, "username": "shop", "password": password}),
            ),
            smtp("swapped", json!({})),
            smtp("old-mail", json!({})),
            smtp("gone-mail", json!({})),
            smtp("legacy-mail", json!({})),
            (
                "Shop".into(),
                connection(
                    "webhook",
                    "same-hook",
                    json!({"fullUrl": "https://hooks.example.com/x"}),
                ),
            ),
        ],
        &[],
    )
}

fn shop() -> (tempfile::TempDir, BTreeMap<String, String>, Server) {
    let dir = files(&[("shop.yaml", SHOP)]);
    let env = canary_env(&dir.path().join("connections"));
    let server = shop_server(&env);
    (dir, env, server)
}

#[test]
fn every_action_is_detected_and_rendered_in_three_formats() {
    let (dir, env, server) = shop();
    let text = server
        .cli(dir.path(), &env, &["plan", "--detailed-exitcode"])
        .assert()
        .code(2);
    let (text, _) = output(&text);
    insta::assert_snapshot!("plan_every_action_text", text);
    let markdown = server
        .cli(dir.path(), &env, &["plan", "--format", "markdown"])
        .assert()
        .success();
    let (markdown, _) = output(&markdown);
    // The sandbox's port changes between runs.
    let stable = markdown.replace(&server.url, "http://sandbox");
    insta::assert_snapshot!("plan_every_action_markdown", stable);
    let plan = json_plan(&server, dir.path(), &env, &[]);
    assert_matches_schema(&plan);
    let actions: Vec<(&str, &str)> = changes(&plan)
        .map(|c| (c["action"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("rename", "renamed-mail"),
            ("create", "fresh-mail"),
            ("update", "changed-mail"),
            ("replace", "swapped"),
            ("delete", "gone-mail"),
        ]
    );
    assert_eq!(plan["summary"]["unchanged"], 1);
    assert_eq!(
        plan["unmanaged"],
        json!([{"project": "Shop", "type": "email", "name": "legacy-mail"}])
    );
    assert_no_canary(&[&text, &markdown, &plan.to_string()]);
}

#[test]
fn selection_limits_the_plan_and_prune() {
    let (dir, env, server) = shop();
    let plan = json_plan(&server, dir.path(), &env, &["--type", "syslog"]);
    let actions = change_values(&plan, "action");
    assert_eq!(
        actions,
        vec!["create"],
        "no email is listed, so `swapped` is new and nothing is pruned"
    );
    let plan = json_plan(
        &server,
        dir.path(),
        &env,
        &["--name", "gone-*", "--name", "CHANGED-*"],
    );
    let names = change_values(&plan, "name");
    assert_eq!(names, vec!["changed-mail", "gone-mail"]);
}

#[test]
fn a_selection_that_matches_nothing_is_an_error_with_the_closest_name() {
    let (dir, env, server) = shop();
    for command in [&["plan"][..], &["drift"], &["apply", "--auto-approve"]] {
        let before = server.requests();
        let args = [command, &["--project", "Shpo"]].concat();
        let (stdout, stderr) = server.run(dir.path(), &env, &args, 1);
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains(
                "error: --project `Shpo` matches no project of the desired-state files; did you mean `Shop`? (there are: Shop); nothing was sent to the server"
            ),
            "{stderr}"
        );
        assert_eq!(server.requests(), before, "{command:?} sent a request");
    }
    let (_, stderr) = server.run(dir.path(), &env, &["drift", "--name", "chnaged-mail"], 1);
    assert!(
        stderr.contains("--name `chnaged-mail` matches no connection of the selected projects in the files or on the server; did you mean `changed-mail`?"),
        "{stderr}"
    );
    let (_, stderr) = server.run(dir.path(), &env, &["plan", "--type", "kafka"], 1);
    assert!(
        stderr.contains("--type `kafka` matches no connection"),
        "{stderr}"
    );
}

#[test]
fn a_saved_plan_holds_references_and_fingerprints_but_no_secret() {
    let (dir, env, server) = shop();
    let path = dir.path().join("plan.json");
    server
        .cli(dir.path(), &env, &["plan", "--out", "plan.json"])
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_no_canary(&[&text]);
    let saved: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["format_version"], 1);
    assert_eq!(saved["server"], server.url.as_str());
    assert_eq!(saved["tool_version"], env!("CARGO_PKG_VERSION"));
    let changed = change_named(&saved, "changed-mail");
    assert_eq!(changed["desired"]["password"], "${env:SHOP_SMTP_PASSWORD}");
    assert_eq!(changed["fingerprint"].as_str().unwrap().len(), 64);
}

#[test]
fn a_literal_secret_allowed_for_a_trial_cannot_be_saved() {
    let literal = SHOP.replace("${env:SHOP_SMTP_PASSWORD}", "canary-literal-password");
    let dir = files(&[("shop.yaml", &literal)]);
    let server = shop_server(&BTreeMap::from([(
        "SHOP_SMTP_PASSWORD".to_string(),
        "x".to_string(),
    )]));
    let (stdout, stderr) = server.run(
        dir.path(),
        &BTreeMap::new(),
        &["plan", "--allow-literal-secrets", "--out", "plan.json"],
        1,
    );
    assert!(
        stderr.contains("Shop/email/changed-mail at /password (a secret field"),
        "{stderr}"
    );
    assert_no_canary(&[&stdout, &stderr]);
    assert!(!dir.path().join("plan.json").exists());
}

#[test]
fn a_project_missing_on_the_server_is_an_error_naming_it() {
    let dir = files(&[(
        "ghost.yaml",
        "project: Ghost\nconnections:\n  - type: syslog\n    name: s\n    syslogServerHostname: h\n",
    )]);
    let server = serve(vec![], &["Other"]);
    let (stdout, stderr) = server.run(dir.path(), &BTreeMap::new(), &["plan"], 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("project Ghost does not exist on the server"),
        "{stderr}"
    );
    assert!(stderr.contains("404"), "{stderr}");
}

#[test]
fn missing_variables_are_all_listed_before_any_request() {
    let dir = files(&[
        ("shop.yaml", SHOP),
        (
            "more.yaml",
            "project: Shop\nconnections:\n  - type: linux-script\n    name: l\n    hostName: h\n    username: u\n    password: ${env:SHOP_SSH_PASSWORD}\n",
        ),
    ]);
    // Secret-only variables are needed by apply (plan and drift preview without them).
    let apply = ["apply", "--auto-approve", "--server", "http://127.0.0.1:9"];
    let assert = Server::offline_cli(dir.path(), &apply).assert().code(1);
    let (_, stderr) = output(&assert);
    assert!(
        stderr.contains("missing environment variables: SHOP_SMTP_PASSWORD, SHOP_SSH_PASSWORD"),
        "{stderr}"
    );
}

#[test]
fn single_gets_only_where_a_desired_secret_needs_comparing() {
    let plain =
        "project: Q\nconnections:\n  - type: syslog\n    name: s\n    syslogServerHostname: h\n";
    let secret = "  - type: email\n    name: m\n    host: h\n    auth: true\n    username: u\n    password: ${env:Q_PW}\n";
    for (text, expected) in [(plain.to_string(), 14), (format!("{plain}{secret}"), 15)] {
        let dir = files(&[("q.yaml", &text)]);
        let env = canary_env(&dir.path().join("connections"));
        let server = serve(resolved(&dir.path().join("connections"), &env), &[]);
        let before = server.requests();
        server
            .cli(dir.path(), &env, &["plan", "--detailed-exitcode"])
            .assert()
            .code(0);
        assert_eq!(
            server.requests() - before,
            expected,
            "14 lists, one GET per readable secret"
        );
    }
}

#[test]
fn a_rejected_token_is_an_api_error_that_never_shows_the_token() {
    let (dir, env, server) = shop();
    let assert = server
        .cli(dir.path(), &env, &["plan"])
        .env("APINIZER_TOKEN", "canary-wrong-token")
        .assert()
        .code(1);
    let (stdout, stderr) = output(&assert);
    assert_eq!(stdout, "");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        stderr.contains("the server refused the API token (APINIZER_TOKEN or --token-file)"),
        "{stderr}"
    );
    assert_no_canary(&[&stderr]);
}

#[test]
fn a_plan_file_that_cannot_be_written_is_an_error() {
    let (dir, env, server) = shop();
    let (stdout, stderr) = server.run(
        dir.path(),
        &env,
        &["plan", "--out", "no/such/dir/plan.json"],
        1,
    );
    assert!(
        stderr.contains("cannot write plan file no/such/dir/plan.json"),
        "{stderr}"
    );
    assert_eq!(
        stdout, "",
        "nothing is printed when the plan cannot be saved"
    );
}

#[test]
fn ignore_fields_leave_server_side_differences_alone() {
    let text = SHOP.replace(
        "    port: 2525\n",
        "    port: 2525\n    ignoreFields: [/port]\n",
    );
    let dir = files(&[("shop.yaml", &text)]);
    let env = canary_env(&dir.path().join("connections"));
    let server = shop_server(&env);
    let plan = json_plan(&server, dir.path(), &env, &[]);
    let names = change_values(&plan, "name");
    assert!(!names.contains(&"changed-mail"), "{names:?}");
    assert_eq!(plan["summary"]["unchanged"], 2);
}

#[test]
fn a_fingerprint_is_the_same_from_a_list_and_from_a_single_get() {
    let (_, server) = examples_server();
    for (project, kind, name) in [
        ("Payments", "email", "alerts-smtp"),
        ("Payments", "webhook", "fraud-alerts"),
        ("Payments", "kafka", "payment-events"),
        ("Observability", "elasticsearch", "traffic-logs"),
    ] {
        let listed = server
            .with_client(async |client| client.list_connections(project, kind).await.unwrap());
        let listed = listed.into_iter().find(|c| c.name == name).unwrap();
        let single = server.get(project, name);
        assert_eq!(
            fingerprint(&listed),
            fingerprint(&single),
            "{project}/{kind}/{name}"
        );
    }
}

const REFERENCED: &str = r#"
project: Refs
connections:
  - type: database
    name: orders-db
    dbType: POSTGRES
    useCredentials: false
    jdbcUrl: jdbc:postgresql://${env:DB_HOST}:5432/app
  - type: webhook
    name: hook
    fullUrl: https://hooks.example.com/${env:HOOK_PATH}
  - type: email
    name: files
    host: ${env:MAIL_HOST}
"#;

/// A sandbox whose connections hold earlier values of the referenced variables.
fn referenced_server() -> Server {
    let refs = |c: Connection| ("Refs".to_string(), c);
    serve(
        vec![
            refs(connection(
                "database",
                "orders-db",
                json!({"dbType": "POSTGRES", "useCredentials": false,
                "jdbcUrl": "jdbc:postgresql://canary-db-host:5432/app"}),
            )),
            refs(connection(
                "webhook",
                "hook",
                json!({"fullUrl": "https://hooks.example.com/canary-hook-path"}),
            )),
            refs(connection(
                "ftp",
                "files",
                json!({"host": "canary-ftp-host", "username": "u", "password": "p", "protocol": "FTP"}),
            )),
        ],
        &[],
    )
}

#[test]
fn values_the_desired_state_takes_from_references_are_withheld_on_the_current_side() {
    let server = referenced_server();
    let dir = files(&[("refs.yaml", REFERENCED)]);
    let env = BTreeMap::from([
        ("DB_HOST".to_string(), "db.internal".to_string()),
        ("HOOK_PATH".to_string(), "new-path".to_string()),
        ("MAIL_HOST".to_string(), "smtp.internal".to_string()),
    ]);
    let (text, text_err) = server.run(dir.path(), &env, &["plan", "--out", "plan.json"], 0);
    assert!(
        text.contains("(withheld: desired value comes from ${env:DB_HOST})"),
        "{text}"
    );
    assert!(
        text.contains("jdbc:postgresql://${env:DB_HOST}:5432/app"),
        "{text}"
    );
    assert!(text.contains("(withheld: desired value comes from ${env:HOOK_PATH})"));
    assert!(text.contains("(withheld: desired value comes from ${env:MAIL_HOST})"));
    let (markdown, md_err) = server.run(dir.path(), &env, &["plan", "--format", "markdown"], 0);
    assert!(markdown.contains("(withheld: desired value comes from ${env:DB_HOST})"));
    let plan = json_plan(&server, dir.path(), &env, &[]);
    assert_matches_schema(&plan);
    let mut tampered = plan.clone();
    tampered["changes"][0]["fields"][0]["before"] = json!("x");
    assert!(
        !schema_errors(&tampered).is_empty(),
        "a withheld field must not carry `before`"
    );
    let db = change_named(&plan, "orders-db");
    assert_eq!(
        db["fields"][0],
        json!({"path": "/jdbcUrl", "after": "jdbc:postgresql://${env:DB_HOST}:5432/app",
               "sensitive": false, "before_withheld": true})
    );
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let json = plan.to_string();
    assert_no_canary(&[&text, &text_err, &markdown, &md_err, &json, &saved]);
}
