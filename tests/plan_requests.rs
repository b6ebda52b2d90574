//! The fewest requests the API allows (DESIGN.md 3): one list per (project, type), then a
//! single GET only where it can return what the list did not, learnt per run for each
//! (type, hidden field). Counted on the sandbox, under both readings of the docs'
//! contradiction on GET masking; counts, never timings.

mod plan_support;

use std::collections::BTreeMap;

use apinizer_gitops::sandbox::GetMasking;
use plan_support::{Server, files, resolved, serve_with};

/// Connections of each type in the fixed workload.
const EACH: usize = 6;

/// Types the API lists, one request each per project.
const LISTS: u64 = 14;

/// One project: `EACH` emails (password readable by GET), databases and LDAP
/// directories (passwords the type pages call masked), kafka clusters with a keystore
/// (its name answered as an ID, never readable), webhooks (nothing hidden).
fn workload() -> String {
    let mut yaml = String::from("apiVersion: apinizer-gitops/v1\nproject: P\nconnections:\n");
    for i in 0..EACH {
        yaml.push_str(&format!(
            "  - type: email\n    name: mail-{i}\n    host: smtp.example.com\n    auth: true\n    username: alerts\n    password: ${{env:MAIL_PW}}\n\
             \x20 - type: database\n    name: db-{i}\n    dbType: POSTGRES\n    jdbcUrl: jdbc:postgresql://db:5432/x\n    useCredentials: true\n    username: app\n    password: ${{env:DB_PW}}\n\
             \x20 - type: ldap\n    name: ldap-{i}\n    serverAddress: ldap://ldap.example.com:389\n    username: cn=svc\n    baseDn: dc=example\n    password: ${{env:LDAP_PW}}\n\
             \x20 - type: kafka\n    name: kafka-{i}\n    topicName: t\n    enableSecure: true\n    protocolTypes: [TLS_1_2]\n    keyStoreName: ks\n    propertiesMap:\n      bootstrap.servers: {{value: \"k:9093\", valueType: STRING}}\n      key.serializer: {{value: a, valueType: STRING}}\n      value.serializer: {{value: b, valueType: STRING}}\n\
             \x20 - type: webhook\n    name: hook-{i}\n    httpMethod: POST\n    fullUrl: https://h.example.com/x\n"
        ));
    }
    yaml
}

fn env(db_password: &str) -> BTreeMap<String, String> {
    [
        ("MAIL_PW", "canary-mail-password"),
        ("DB_PW", db_password),
        ("LDAP_PW", "canary-ldap-password"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A sandbox holding the workload as planned (in sync), answering GETs as `masking`
/// reads the docs.
fn in_sync(dir: &std::path::Path, masking: GetMasking) -> Server {
    serve_with(resolved(dir, &env("canary-db-password")), &[], masking)
}

/// The requests one `plan` makes, and its output.
fn plan(server: &Server, dir: &std::path::Path, env: &BTreeMap<String, String>) -> (u64, String) {
    let before = server.requests();
    let (out, _) = server.run(dir, env, &["plan", "-f", "."], 0);
    (server.requests() - before, out)
}

#[test]
fn masked_fields_cost_three_gets_per_type_and_readable_ones_one_per_connection() {
    let dir = files(&[("p.yaml", &workload())]);
    let server = in_sync(dir.path(), GetMasking::TypePages);
    let (requests, out) = plan(&server, dir.path(), &env("canary-db-password"));
    // Every email (its password comes back readable), three databases and three LDAP
    // directories (null three times: write-only for the run), no kafka (IDs), no webhook.
    let expected = LISTS + EACH as u64 + 3 + 3;
    assert_eq!(requests, expected, "{out}");
    assert!(out.contains("No changes."), "{out}");
    // The databases the learning did not fetch are write-only notes like the fetched ones.
    let notes =
        "connections hold write-only values that cannot be compared (database 6, kafka 6, ldap 6)";
    assert!(out.contains(notes), "{out}");
    assert!(!out.contains("canary-"), "{out}");
}

#[test]
fn a_server_whose_get_answers_secrets_gets_every_connection_that_needs_one() {
    let dir = files(&[("p.yaml", &workload())]);
    let server = in_sync(dir.path(), GetMasking::Nothing);
    let (requests, out) = plan(&server, dir.path(), &env("canary-db-password"));
    // Emails, databases and LDAP directories all answer their passwords; kafka never
    // answers the keystore's name.
    assert_eq!(requests, LISTS + 3 * EACH as u64, "{out}");
    assert!(out.contains("No changes."), "{out}");
    // So a rotated database password is seen on every database, never shown.
    let (_, out) = plan(&server, dir.path(), &env("canary-db-password-2"));
    assert!(
        out.contains(&format!("{EACH} to update")),
        "every database updates: {out}"
    );
    assert!(!out.contains("canary-"), "{out}");
}

#[test]
fn nothing_to_compare_means_no_get() {
    let dir = files(&[("p.yaml", &workload())]);
    let server = in_sync(dir.path(), GetMasking::Nothing);
    // A preview without the secrets compares no password: the lists are all it needs.
    let before = server.requests();
    let (out, _) = server.run(dir.path(), &BTreeMap::new(), &["plan", "-f", "."], 0);
    assert_eq!(server.requests() - before, LISTS, "{out}");
}
