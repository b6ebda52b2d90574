//! `apinizer-gitops quickstart` tells the whole story with nothing set up and exits 0.

use assert_cmd::Command;

#[test]
fn quickstart_tells_the_story_from_an_empty_folder_and_exits_0() {
    // No checkout around: the examples come from the binary.
    let empty = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .current_dir(empty.path())
        .env_remove("APINIZER_URL")
        .env_remove("APINIZER_TOKEN")
        .env_remove("APINIZER_TOKEN_FILE")
        .arg("quickstart")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let story = [
        "The example files (embedded in the binary) are in ",
        "=== 1. An empty Apinizer-compatible sandbox is running at http://127.0.0.1:",
        "=== 2. plan",
        "Plan: 14 to create",
        "=== 3. apply",
        "Apply complete: 14 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed.",
        "=== 4. plan again",
        "No changes.",
        "=== 5. Someone edits",
        "=== 6. drift",
        "drift exited with 2",
        "Quickstart complete",
    ];
    let mut rest = stdout.as_ref();
    for step in story {
        let at = rest
            .find(step)
            .unwrap_or_else(|| panic!("missing {step:?} (in order) in:\n{stdout}"));
        rest = &rest[at + step.len()..];
    }
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[test]
fn quickstart_with_files_that_do_not_load_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "project: [\n").unwrap();
    Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["quickstart", "-f"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("invalid"));
}
