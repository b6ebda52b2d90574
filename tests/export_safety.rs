//! `export` writes only what it means to, driven as a pipeline would against the sandbox:
//! never through a symbolic link planted in `--out`, never two projects into one file,
//! never over a file it did not write (or that changed since) without `--force`, and server
//! text holding `${` is written as `$${`, so it reads back as text and never resolves a
//! variable (the token) on the next apply.

mod apply_support;

use std::path::Path;

use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, text};
use serde_json::json;

fn email(name: &str) -> Connection {
    let body = json!({"host": "smtp.example.com", "port": 587, "auth": false});
    Connection::from_body("email", name, body.as_object().unwrap().clone(), false)
}

/// One email connection named `alerts` in each project.
fn seed(projects: &[&str]) -> Vec<(String, Connection)> {
    projects
        .iter()
        .map(|p| (p.to_string(), email("alerts")))
        .collect()
}

/// A sandbox holding `seed(projects)`.
fn with_projects(projects: &[&str]) -> Server {
    Server::start(SandboxConfig {
        seed: seed(projects),
        ..SandboxConfig::default()
    })
}

/// Runs `export --out DIR` plus `extra`; exit code, stdout, stderr.
fn export(server: &Server, dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = server
        .command()
        .args(["export", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    (code, text(&output.stdout), text(&output.stderr))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[cfg(unix)]
#[test]
fn export_never_writes_through_a_symlink_planted_in_out() {
    let server = with_projects(&["Payments"]);
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let planted = out.join("Payments.yaml");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let planted_schema = out.join("connections.schema.json");
    std::os::unix::fs::symlink(&victim, &planted_schema).unwrap();

    let (code, stdout, stderr) = export(&server, &out, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("Payments.yaml is a symbolic link"),
        "{stderr}"
    );
    assert!(
        stderr.contains("connections.schema.json is a symbolic link"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(read(&victim), "precious");
    assert!(planted.symlink_metadata().unwrap().is_symlink());

    let (code, _, stderr) = export(&server, &out, &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&victim), "precious", "the link's target is untouched");
    for path in [&planted, &planted_schema] {
        assert!(!path.symlink_metadata().unwrap().is_symlink());
    }
    assert!(read(&planted).contains("project: Payments"));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2, "no stray file");
}

#[test]
fn every_project_gets_a_file_of_its_own_and_unsafe_names_are_left_out() {
    let mut seed = seed(&["team/a", "team_a", ".hidden", "a:b"]);
    seed.push(("team_a".into(), email("two words")));
    let server = Server::start(SandboxConfig {
        seed,
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = export(&server, dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for (file, project) in [
        ("team_a.yaml", "team_a"),
        ("%2Ehidden.yaml", ".hidden"),
        ("a%3Ab.yaml", "a:b"),
    ] {
        let content = read(&dir.path().join(file));
        assert!(
            content.contains(&format!("project: {project}\n")),
            "{file}: {content}"
        );
    }
    assert!(
        stderr.contains("export leaves out project `team/a`: the name holds `/`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("export leaves out team_a/email/two words: the name holds a space"),
        "{stderr}"
    );
    assert!(!read(&dir.path().join("team_a.yaml")).contains("two words"));
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 4, "three projects and the schema");
    server
        .command()
        .args(["validate", "-f"])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn projects_differing_only_in_case_are_refused_and_nothing_is_written() {
    let server = with_projects(&["Ops", "ops"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = export(&server, &out, &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("projects `Ops` and `ops` would share the file ops.yaml"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn export_replaces_only_its_own_unchanged_files_unless_forced() {
    let server = with_projects(&["Payments", "Other"]);
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("Payments.yaml");
    let hand_written = "apiVersion: apinizer-gitops/v1\nproject: Payments\nconnections: []\n";
    std::fs::write(&mine, hand_written).unwrap();

    let (code, _, stderr) = export(&server, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("Payments.yaml was not written by export"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(read(&mine), hand_written);
    assert!(
        !dir.path().join("Other.yaml").exists(),
        "no file at all is written"
    );

    let (code, _, stderr) = export(&server, dir.path(), &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    let exported = read(&mine);
    assert!(
        exported
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("# Written by apinizer-gitops export, sha256:"),
        "{exported}"
    );

    let (code, _, stderr) = export(&server, dir.path(), &[]);
    assert_eq!(code, 0, "its own unchanged files are replaced: {stderr}");

    let schema = dir.path().join("connections.schema.json");
    std::fs::write(&schema, "{\"title\": \"my own schema\"}").unwrap();
    let (code, _, stderr) = export(&server, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("connections.schema.json was not written by export"),
        "{stderr}"
    );
    assert!(read(&schema).contains("my own schema"));
    assert_eq!(export(&server, dir.path(), &["--force"]).0, 0);

    std::fs::write(&mine, format!("{exported}# my note\n")).unwrap();
    let (code, _, stderr) = export(&server, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("Payments.yaml was changed since export wrote it"),
        "{stderr}"
    );
    assert!(read(&mine).ends_with("# my note\n"));
}

#[test]
fn server_text_holding_references_is_exported_as_text_and_never_resolved() {
    let pattern = "%d{HH:mm:ss} ${HOSTNAME} [%thread] %m%n";
    let planted = "${env:APINIZER_TOKEN}";
    let body = json!({"logPath": "/var/log/", "logPattern": pattern, "description": planted});
    let logback =
        Connection::from_body("logback", "file", body.as_object().unwrap().clone(), false);
    let source = Server::start(SandboxConfig {
        seed: vec![("Payments".into(), logback)],
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = export(&source, dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("Set these variables"), "{stdout}");
    let file = read(&dir.path().join("Payments.yaml"));
    assert!(file.contains("$${HOSTNAME}"), "{file}");
    assert!(file.contains("$${env:APINIZER_TOKEN}"), "{file}");

    let plan = source
        .command()
        .args(["plan", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    assert!(
        text(&plan.stdout).contains("No changes."),
        "{}",
        text(&plan.stdout)
    );

    let target = Server::start(SandboxConfig {
        projects: vec!["Payments".into()],
        ..SandboxConfig::default()
    });
    let apply = target
        .command()
        .args(["apply", "--auto-approve", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", text(&apply.stderr));
    let stored = &target.snapshot("Payments")[0];
    assert_eq!(stored.fields["description"], planted);
    assert_eq!(stored.fields["logPattern"], pattern);
    let everything = format!("{:?}{}", stored.fields, text(&apply.stdout));
    assert!(
        !everything.contains(&target.sandbox.token),
        "the token was sent"
    );
}

#[test]
fn a_folder_in_the_way_stops_export_even_with_force_and_nothing_is_written() {
    let server = with_projects(&["Payments", "Other"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("Payments.yaml")).unwrap();
    let (code, _, stderr) = export(&server, dir.path(), &["--force"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("Payments.yaml is not a regular file"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!dir.path().join("Other.yaml").exists());
    assert!(!dir.path().join("connections.schema.json").exists());
}
