//! Environments (DESIGN.md 1.2): one set of files, a values file per environment, two
//! sandboxes. `${var:...}` values are shown in plans; `${env:...}` values never are.

mod plan_support;

use std::collections::BTreeMap;
use std::path::Path;

use plan_support::{Server, output, serve};

const FILES: &str = "apiVersion: apinizer-gitops/v1
project: Shop
connections:
  - type: email
    name: mail
    host: smtp.${var:DOMAIN}
    port: ${var:SMTP_PORT}
    auth: true
    username: alerts
    password: ${env:SHOP_SMTP_PASSWORD}
    from: noreply@${var:DOMAIN}
";

const PRODUCTION: &str = "apiVersion: apinizer-gitops/v1
environment: production
values:
  DOMAIN: prod.example.com
  SMTP_PORT: 587
";

const STAGING: &str = "apiVersion: apinizer-gitops/v1
environment: staging
values:
  DOMAIN: staging.example.com
  SMTP_PORT: \"2525\"
";

const CANARY: &str = "canary-env-secret-9f1";

fn workspace() -> tempfile::TempDir {
    let dir = plan_support::files(&[("shop.yaml", FILES)]);
    std::fs::create_dir_all(dir.path().join("env")).unwrap();
    std::fs::write(dir.path().join("env/production.yaml"), PRODUCTION).unwrap();
    std::fs::write(dir.path().join("env/staging.yaml"), STAGING).unwrap();
    dir
}

fn env() -> BTreeMap<String, String> {
    BTreeMap::from([("SHOP_SMTP_PASSWORD".to_string(), CANARY.to_string())])
}

fn run(server: &Server, dir: &Path, args: &[&str], code: i32) -> String {
    let (stdout, stderr) = server.run(dir, &env(), args, code);
    assert!(
        !stdout.contains(CANARY) && !stderr.contains(CANARY),
        "{stdout}{stderr}"
    );
    stdout
}

#[test]
fn one_set_of_files_plans_applies_and_drifts_per_environment() {
    let dir = workspace();
    let production = serve(vec![], &["Shop"]);
    let staging = serve(vec![], &["Shop"]);
    for (server, values, host, port) in [
        (
            &production,
            "env/production.yaml",
            "smtp.prod.example.com",
            587,
        ),
        (
            &staging,
            "env/staging.yaml",
            "smtp.staging.example.com",
            2525,
        ),
    ] {
        let plan = run(
            server,
            dir.path(),
            &["plan", "--values", values, "--detailed-exitcode"],
            2,
        );
        assert!(plan.contains(host), "{plan}");
        assert!(plan.contains(&port.to_string()), "{plan}");
        run(
            server,
            dir.path(),
            &["apply", "--values", values, "--auto-approve"],
            0,
        );
        let stored = server.get("Shop", "mail");
        assert_eq!(stored.fields["host"], host);
        assert_eq!(stored.fields["port"], port);
        run(server, dir.path(), &["drift", "--values", values], 0);
    }
    // Staging's values against production's server: the values are the change.
    let crossed = run(
        &production,
        dir.path(),
        &[
            "plan",
            "--values",
            "env/staging.yaml",
            "--detailed-exitcode",
        ],
        2,
    );
    assert!(crossed.contains("smtp.staging.example.com"), "{crossed}");
    assert!(crossed.contains("smtp.prod.example.com"), "{crossed}");
    // The environment variable, later files win.
    let mut cmd = production.cli(dir.path(), &env(), &["drift"]);
    cmd.env(
        "APINIZER_GITOPS_VALUES",
        "env/staging.yaml,env/production.yaml",
    );
    cmd.assert().code(0);
}

#[test]
fn missing_values_are_all_listed_with_the_files_read_before_any_request() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("env/empty.yaml"),
        "apiVersion: apinizer-gitops/v1\nenvironment: empty\nvalues: {}\n",
    )
    .unwrap();
    let server = serve(vec![], &["Shop"]);
    let before = server.requests();
    let stdout = run(
        &server,
        dir.path(),
        &["plan", "--values", "env/empty.yaml"],
        1,
    );
    assert!(stdout.is_empty(), "{stdout}");
    let (_, stderr) = server.run(
        dir.path(),
        &env(),
        &["plan", "--values", "env/empty.yaml"],
        1,
    );
    assert!(stderr.contains("shop.yaml:6:11"), "{stderr}");
    assert!(stderr.contains("not defined: `DOMAIN`"), "{stderr}");
    assert!(stderr.contains("not defined: `SMTP_PORT`"), "{stderr}");
    assert!(
        stderr.contains("values files read: env/empty.yaml"),
        "{stderr}"
    );
    let (_, stderr) = server.run(dir.path(), &env(), &["plan"], 1);
    assert!(stderr.contains("no values file was given"), "{stderr}");
    assert_eq!(server.requests(), before);
}

#[test]
fn validate_checks_each_environment_and_names_it() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("env/broken.yaml"),
        "apiVersion: apinizer-gitops/v1\nenvironment: broken\nvalues:\n  DOMAIN: d\n  SMTP_PORT: many\n",
    )
    .unwrap();
    let validate = |args: &[&str], code: i32| {
        let assert = Server::offline_cli(dir.path(), args).assert().code(code);
        output(&assert).0
    };
    validate(&["validate"], 0);
    validate(&["validate", "--values", "env/production.yaml"], 0);
    let each = validate(&["validate", "--values-each", "env/*.yaml"], 1);
    assert!(
        each.contains("environment broken: `port` takes ${var:SMTP_PORT}, whose value \"many\""),
        "{each}"
    );
    assert!(!each.contains("environment production"), "{each}");
    assert!(!each.contains("environment staging"), "{each}");
}

#[test]
fn secret_fields_may_not_take_values() {
    let dir = workspace();
    let text = FILES.replace("${env:SHOP_SMTP_PASSWORD}", "${var:DOMAIN}");
    std::fs::write(dir.path().join("connections/shop.yaml"), text).unwrap();
    for args in [
        &["validate"][..],
        &["validate", "--values", "env/production.yaml"][..],
    ] {
        let assert = Server::offline_cli(dir.path(), args).assert().code(1);
        let stdout = output(&assert).0;
        assert!(
            stdout.contains("shop.yaml:10:15: error: connection `mail`: field `password` is a secret: ${var:...} values are committed in git"),
            "{stdout}"
        );
    }
}

#[test]
fn a_values_file_cannot_name_a_server_or_credentials() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("env/evil.yaml"),
        "apiVersion: apinizer-gitops/v1\nserver: http://127.0.0.1:9\nvalues:\n  DOMAIN: d\n  DOMAIN: e\n  SMTP_PORT: 1\n",
    )
    .unwrap();
    let assert = Server::offline_cli(dir.path(), &["validate", "--values", "env/evil.yaml"])
        .assert()
        .code(1);
    let stdout = output(&assert).0;
    assert!(
        stdout.contains("env/evil.yaml:2:1: error: unknown key `server`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cannot name a server or credentials"),
        "{stdout}"
    );
    assert!(
        stdout.contains("env/evil.yaml:5:3: error: duplicate key `DOMAIN`"),
        "{stdout}"
    );
}

#[test]
fn plans_show_var_values_with_their_source_and_name_the_environment() {
    let dir = workspace();
    let production = serve(vec![], &["Shop"]);
    let staging = serve(vec![], &["Shop"]);
    run(
        &production,
        dir.path(),
        &["apply", "--values", "env/production.yaml", "--auto-approve"],
        0,
    );
    let values = "env/staging.yaml";
    let text = run(&production, dir.path(), &["plan", "--values", values], 0);
    assert!(text.starts_with("Environment: staging\n\n"), "{text}");
    assert!(text.contains("-host: smtp.prod.example.com\n"), "{text}");
    assert!(
        text.contains("+host: smtp.staging.example.com  # smtp.${var:DOMAIN}\n"),
        "{text}"
    );
    assert!(text.contains("+port: 2525  # ${var:SMTP_PORT}\n"), "{text}");
    assert!(!text.contains("withheld"), "{text}");

    let json = run(
        &production,
        dir.path(),
        &["plan", "--values", values, "--format", "json"],
        0,
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["environment"], "staging");
    let host = &report["changes"][0]["fields"][0];
    assert_eq!(
        (
            &host["path"],
            &host["before"],
            &host["after"],
            &host["after_template"]
        ),
        (
            &serde_json::json!("/host"),
            &serde_json::json!("smtp.prod.example.com"),
            &serde_json::json!("smtp.staging.example.com"),
            &serde_json::json!("smtp.${var:DOMAIN}")
        )
    );
    assert_eq!(
        report["changes"][0]["after"]["from"],
        "noreply@staging.example.com"
    );

    // One sticky comment per environment: the markers differ, each names its environment.
    let marker = |server: &Server, values: &str| {
        let markdown = run(
            server,
            dir.path(),
            &["plan", "--values", values, "--format", "markdown"],
            0,
        );
        assert!(
            markdown.contains(&format!("environment `{}`", &values[4..values.len() - 5])),
            "{markdown}"
        );
        markdown.lines().next().unwrap().to_string()
    };
    let a = marker(&staging, "env/staging.yaml");
    let b = marker(&production, "env/production.yaml");
    assert!(
        a.starts_with("<!-- apinizer-gitops plan ") && b.starts_with("<!-- apinizer-gitops plan ")
    );
    assert_ne!(a, b);
}

#[test]
fn saved_plans_keep_their_values_and_refuse_disagreeing_ones() {
    let dir = workspace();
    let staging = serve(vec![], &["Shop"]);
    run(
        &staging,
        dir.path(),
        &[
            "plan",
            "--values",
            "env/staging.yaml",
            "--out",
            "staging.plan",
        ],
        0,
    );
    let saved = std::fs::read_to_string(dir.path().join("staging.plan")).unwrap();
    assert!(saved.contains("\"environment\": \"staging\""), "{saved}");
    assert!(
        saved.contains("\"DOMAIN\": \"staging.example.com\""),
        "{saved}"
    );
    assert!(!saved.contains(CANARY));

    let writes = staging.writes();
    let (_, stderr) = staging.run(
        dir.path(),
        &env(),
        &[
            "apply",
            "staging.plan",
            "--values",
            "env/production.yaml",
            "--auto-approve",
        ],
        1,
    );
    assert!(
        stderr.contains("the --values files disagree with the plan file: environment production (the plan's: staging); values of DOMAIN, SMTP_PORT"),
        "{stderr}"
    );
    assert_eq!(staging.writes(), writes);

    let applied = run(
        &staging,
        dir.path(),
        &[
            "apply",
            "staging.plan",
            "--values",
            "env/staging.yaml",
            "--auto-approve",
        ],
        0,
    );
    assert!(applied.starts_with("Environment: staging\n"), "{applied}");
    assert_eq!(
        staging.get("Shop", "mail").fields["host"],
        "smtp.staging.example.com"
    );
    // No values file needed: the plan holds the values (here already in effect).
    let again = run(
        &staging,
        dir.path(),
        &["apply", "staging.plan", "--auto-approve"],
        0,
    );
    assert!(again.contains("Already applied"), "{again}");
}

#[test]
fn export_with_values_writes_var_references_that_plan_clean_in_another_environment() {
    let files = "apiVersion: apinizer-gitops/v1\nproject: Shop\nconnections:\n  - type: email\n    name: mail\n    host: ${var:SMTP_HOST}\n    port: ${var:SMTP_PORT}\n    auth: true\n    username: alerts\n    password: ${env:SHOP_SMTP_PASSWORD}\n";
    let dir = plan_support::files(&[("shop.yaml", files)]);
    std::fs::create_dir_all(dir.path().join("env")).unwrap();
    // 587 is the documented default, which export leaves out: other ports here.
    let write = |name: &str, environment: &str, host: &str, extra: &str| {
        let port = if host.contains("staging") { 2526 } else { 2525 };
        let text = format!(
            "apiVersion: apinizer-gitops/v1\nenvironment: {environment}\nvalues:\n  SMTP_HOST: {host}\n  SMTP_PORT: {port}\n{extra}"
        );
        std::fs::write(dir.path().join(name), text).unwrap();
    };
    write(
        "env/production.yaml",
        "production",
        "smtp.prod.internal",
        "",
    );
    write("env/staging.yaml", "staging", "smtp.staging.internal", "");
    write(
        "env/shared.yaml",
        "shared",
        "smtp.prod.internal",
        "  OTHER_HOST: smtp.prod.internal\n",
    );
    let production = serve(vec![], &["Shop"]);
    let staging = serve(vec![], &["Shop"]);
    for (server, values) in [
        (&production, "env/production.yaml"),
        (&staging, "env/staging.yaml"),
    ] {
        run(
            server,
            dir.path(),
            &["apply", "--values", values, "--auto-approve"],
            0,
        );
    }
    let exported = run(
        &production,
        dir.path(),
        &[
            "export",
            "--values",
            "env/production.yaml",
            "--out",
            "exported",
        ],
        0,
    );
    let text = std::fs::read_to_string(dir.path().join("exported/Shop.yaml"))
        .unwrap_or_else(|e| panic!("{e}: {exported}"));
    assert!(text.contains("host: ${var:SMTP_HOST}"), "{text}");
    assert!(text.contains("port: ${var:SMTP_PORT}"), "{text}");
    assert!(!text.contains(CANARY) && !exported.contains(CANARY));
    let mut env = env();
    for line in exported
        .lines()
        .skip_while(|l| !l.starts_with("Set these"))
        .skip(1)
    {
        env.insert(line.to_string(), CANARY.to_string());
    }
    for (server, values) in [
        (&staging, "env/staging.yaml"),
        (&production, "env/production.yaml"),
    ] {
        let (stdout, stderr) = server.run(
            dir.path(),
            &env,
            &[
                "plan",
                "-f",
                "exported",
                "--values",
                values,
                "--detailed-exitcode",
            ],
            0,
        );
        assert!(stdout.contains("No changes."), "{stdout}{stderr}");
    }
    // A value shared by two names is reported, not guessed.
    let shared = run(
        &production,
        dir.path(),
        &["export", "--values", "env/shared.yaml", "--out", "shared"],
        0,
    );
    assert!(
        shared.contains("Note: Shop/email/mail host: its value is shared by OTHER_HOST, SMTP_HOST; written as is"),
        "{shared}"
    );
    let text = std::fs::read_to_string(dir.path().join("shared/Shop.yaml"))
        .unwrap_or_else(|e| panic!("{e}: {shared}"));
    assert!(text.contains("host: smtp.prod.internal"), "{text}");
}

#[test]
fn the_environments_example_validates_and_plans_per_environment() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/environments");
    let assert = Server::offline_cli(
        &example,
        &[
            "validate",
            "-f",
            "connections",
            "--values-each",
            "env/*.yaml",
        ],
    )
    .assert()
    .code(0);
    assert!(output(&assert).0.starts_with("Valid: 2 connections"));
    let secrets = BTreeMap::from([
        ("PAYMENTS_DB_PASSWORD".to_string(), CANARY.to_string()),
        ("PAYMENTS_SMTP_PASSWORD".to_string(), CANARY.to_string()),
    ]);
    for (environment, host) in [
        ("staging", "db.staging.internal"),
        ("production", "db.prod.internal"),
    ] {
        let server = serve(vec![], &["Payments"]);
        let values = format!("env/{environment}.yaml");
        let args = [
            "plan",
            "-f",
            "connections",
            "--values",
            &values,
            "--format",
            "markdown",
        ];
        let (stdout, stderr) = server.run(&example, &secrets, &args, 0);
        assert!(
            stdout.contains(&format!("environment `{environment}`")),
            "{stdout}"
        );
        assert!(stdout.contains(host), "{stdout}");
        assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
    }
}
