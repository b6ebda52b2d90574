//! `validate --format github` (workflow commands, annotations on the pull-request diff)
//! and `--format gitlab` (a Code Quality report), as a pipeline runs them, with input
//! crafted to break out of a workflow command.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn validate(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .current_dir(dir)
        .arg("validate")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An unknown field (error, line 5 column 5) and a wrong type (error, line 4 column 11).
const BROKEN: &str = "project: P\nconnections:\n  - type: email\n    port: '25'\n    prot: 1\n    name: mail\n    host: h\n";

/// A literal secret, a warning under `--allow-literal-secrets` (line 6 column 15).
const LITERAL_SECRET: &str = "project: P\nconnections:\n  - type: email\n    name: mail\n    host: h\n    auth: true\n    username: u\n    password: canary-0c41-secret\n";

#[test]
fn github_prints_one_workflow_command_per_error_with_its_place_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), BROKEN).unwrap();
    let output = validate(dir.path(), &["--format", "github", "-f", "broken.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        lines[0],
        "::error file=broken.yaml,line=4,col=11,title=apinizer-gitops%3A connection mail::\
         `port` must be an integer, not a string%0Ahint: write the value without quotes, or use a whole ${env:NAME} reference"
    );
    assert!(
        lines[1].starts_with(
            "::error file=broken.yaml,line=5,col=5,title=apinizer-gitops%3A connection mail::unknown field `prot`"
        ),
        "{text}"
    );
    assert!(lines[1].contains("%0Ahint: did you mean `port`?"), "{text}");
}

#[test]
fn github_warnings_are_warning_commands_and_a_valid_run_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), LITERAL_SECRET).unwrap();
    let args = [
        "--format",
        "github",
        "--allow-literal-secrets",
        "-f",
        "s.yaml",
    ];
    let output = validate(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with("::warning file=s.yaml,line=8,col=15,title=apinizer-gitops%3A connection mail::field `password` is a secret"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains("canary-0c41-secret"), "{text}");
}

#[test]
fn github_escapes_what_would_end_a_property_or_the_command() {
    // A file name holding the property separators and the escape character, and a
    // connection name holding a newline that would start a command of its own.
    let dir = tempfile::tempdir().unwrap();
    let name = "a,b:c%d.yaml";
    let yaml = "project: P\nconnections:\n  - type: email\n    name: \"x\\n::error::forged\"\n    host: h\n    prot: 1\n";
    std::fs::write(dir.path().join(name), yaml).unwrap();
    let output = validate(dir.path(), &["--format", "github", "-f", name]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            line.starts_with("::error file=a%2Cb%3Ac%25d.yaml,"),
            "{text}"
        );
        assert!(!line.contains("\n::error::forged"), "{text}");
    }
    assert!(
        !text.lines().any(|l| l.starts_with("::error::forged")),
        "{text}"
    );
}

#[test]
fn github_diagnostics_without_a_place_have_no_file_property() {
    let dir = tempfile::tempdir().unwrap();
    let output = validate(dir.path(), &["--format", "github", "-f", "missing"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with("::error title=apinizer-gitops::path `missing` does not exist"),
        "{text}"
    );
}

fn report(output: &std::process::Output) -> Vec<Value> {
    let value: Value = serde_json::from_slice(&output.stdout).expect("a JSON report on stdout");
    value.as_array().expect("an array").clone()
}

#[test]
fn gitlab_prints_a_code_quality_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), BROKEN).unwrap();
    let output = validate(dir.path(), &["--format", "gitlab", "-f", "broken.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let issues = report(&output);
    assert_eq!(issues.len(), 2);
    let first = &issues[0];
    assert_eq!(
        first["description"],
        "connection `mail`: `port` must be an integer, not a string\nhint: write the value without quotes, or use a whole ${env:NAME} reference"
    );
    assert_eq!(first["check_name"], "apinizer-gitops-error");
    assert_eq!(first["severity"], "major");
    assert_eq!(first["location"]["path"], "broken.yaml");
    assert_eq!(first["location"]["lines"]["begin"], 4);
    assert_eq!(issues[1]["location"]["lines"]["begin"], 5);
    let fingerprints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert!(fingerprints.iter().all(|f| f.len() == 64));
    assert_ne!(fingerprints[0], fingerprints[1]);
    // Stable across runs, so GitLab can tell new findings from old ones.
    let again = report(&validate(
        dir.path(),
        &["--format", "gitlab", "-f", "broken.yaml"],
    ));
    assert_eq!(again, issues);
}

#[test]
fn gitlab_reports_warnings_as_minor_and_a_valid_run_as_an_empty_array() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), LITERAL_SECRET).unwrap();
    let args = [
        "--format",
        "gitlab",
        "--allow-literal-secrets",
        "-f",
        "s.yaml",
    ];
    let output = validate(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0));
    let issues = report(&output);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["severity"], "minor");
    assert_eq!(issues[0]["check_name"], "apinizer-gitops-warning");
    assert!(!stdout(&output).contains("canary-0c41-secret"));

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connections");
    let output = validate(
        dir.path(),
        &["--format", "gitlab", "-f", &examples.display().to_string()],
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(report(&output).is_empty());
}

#[test]
fn gitlab_places_a_diagnostic_without_a_file_on_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let output = validate(dir.path(), &["--format", "gitlab", "-f", "missing"]);
    assert_eq!(output.status.code(), Some(1));
    let issues = report(&output);
    assert_eq!(issues[0]["location"]["path"], "missing");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 1);
}
