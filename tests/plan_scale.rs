//! Plans at scale against the sandbox: a 10,000-connection no-change plan stays a few
//! lines of text and a markdown comment that fits; a 1,000-update markdown comment keeps
//! whole diffs. The figures are printed (`--nocapture`) for the issue's before/after note.

mod plan_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use apinizer_gitops::model::Connection;
use plan_support::{Server, output, resolved, serve};
use serde_json::json;

/// Bodies cycling through types with write-only values (database, ldap, elasticsearch)
/// and without (email, webhook), like a real estate of connections.
fn entry(i: usize) -> String {
    match i % 7 {
        0 | 1 => format!(
            "  - type: database\n    name: db-{i:05}\n    description: d{i}\n    dbType: POSTGRES\n    jdbcUrl: jdbc:postgresql://db:5432/app{i}\n    username: app\n    password: ${{env:DB_PASSWORD}}\n"
        ),
        2 | 3 => format!(
            "  - type: ldap\n    name: ldap-{i:05}\n    description: d{i}\n    serverAddress: ldaps://ldap:636\n    username: cn=app\n    password: ${{env:LDAP_PASSWORD}}\n    baseDn: ou=people\n"
        ),
        4 => format!(
            "  - type: elasticsearch\n    name: es-{i:05}\n    description: d{i}\n    elasticHostList: [{{host: es}}]\n    authenticate: true\n    elasticUsername: u\n    elasticPassword: ${{env:ES_PASSWORD}}\n"
        ),
        5 => format!(
            "  - type: email\n    name: mail-{i:05}\n    description: d{i}\n    host: smtp\n"
        ),
        _ => format!(
            "  - type: webhook\n    name: hook-{i:05}\n    description: d{i}\n    fullUrl: https://hooks.example.com/{i}\n"
        ),
    }
}

/// `count` connections in 10 files over two projects.
fn workload(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("connections");
    std::fs::create_dir_all(&folder).unwrap();
    for file in 0..10 {
        let mut text = format!(
            "apiVersion: apinizer-gitops/v1\nproject: Scale{}\nprune: true\nconnections:\n",
            file % 2
        );
        for i in (file..count).step_by(10) {
            text.push_str(&entry(i));
        }
        std::fs::write(folder.join(format!("f{file}.yaml")), text).unwrap();
    }
    dir
}

fn env() -> BTreeMap<String, String> {
    ["DB_PASSWORD", "LDAP_PASSWORD", "ES_PASSWORD"]
        .into_iter()
        .map(|name| (name.to_string(), format!("canary-{name}")))
        .collect()
}

/// A sandbox holding the workload, the first `updated` connections with another
/// description.
fn server(dir: &Path, env: &BTreeMap<String, String>, updated: usize) -> Server {
    let mut seed = resolved(&dir.join("connections"), env);
    seed.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    for (_, connection) in seed.iter_mut().take(updated) {
        let changed: &mut Connection = connection;
        changed
            .fields
            .insert("description".into(), json!("changed on the server"));
    }
    serve(seed, &[])
}

fn plan(server: &Server, dir: &Path, env: &BTreeMap<String, String>, format: &str) -> String {
    let assert = server
        .cli(dir, env, &["plan", "--format", format])
        .assert()
        .success();
    let (stdout, stderr) = output(&assert);
    assert!(!stdout.contains("canary") && !stderr.contains("canary"));
    stdout
}

#[test]
fn a_no_change_plan_of_10000_connections_is_a_few_lines_and_a_comment_that_fits() {
    let dir = workload(10_000);
    let env = env();
    let server = server(dir.path(), &env, 0);
    let text = plan(&server, dir.path(), &env, "text");
    let markdown = plan(&server, dir.path(), &env, "markdown");
    let mut figures = String::new();
    let _ = write!(
        figures,
        "10k no-change: {} text lines, {} markdown characters",
        text.lines().count(),
        markdown.chars().count()
    );
    eprintln!("figures: {figures}");
    assert!(
        text.contains("No changes. 10000 connections match the desired state."),
        "{text}"
    );
    assert!(text.lines().count() <= 5, "{text}");
    assert!(markdown.chars().count() <= 65_000);
}

#[test]
fn a_1000_update_markdown_comment_keeps_whole_diffs() {
    let dir = workload(1_000);
    let env = env();
    let server = server(dir.path(), &env, 1_000);
    let markdown = plan(&server, dir.path(), &env, "markdown");
    let diffs = markdown.matches("```diff").count();
    eprintln!(
        "figures: 1k updates: {} markdown characters, {diffs} diffs kept",
        markdown.chars().count()
    );
    assert!(markdown.chars().count() <= 65_000);
    assert!(diffs >= 10, "{diffs} diffs kept");
    assert_eq!(
        markdown.matches("```").count() % 2,
        0,
        "no diff is cut in half"
    );
}
