//! `plan` and `drift` refuse bad flags and missing settings with exit 1 and a message a
//! person can act on, before reading any file or reaching any server.

use assert_cmd::Command;
use predicates::str::contains;

fn cmd(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("apinizer-gitops").unwrap();
    for var in [
        "APINIZER_URL",
        "APINIZER_TOKEN",
        "APINIZER_TOKEN_FILE",
        "APINIZER_USERNAME",
        "APINIZER_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args);
    cmd
}

#[test]
fn plan_without_a_server_says_how_to_give_one() {
    cmd(&["plan"]).assert().code(1).stdout("").stderr(contains(
        "no server given: pass --server URL or set APINIZER_URL",
    ));
}

#[test]
fn drift_without_credentials_lists_the_ways_to_give_them() {
    cmd(&["drift", "--server", "http://127.0.0.1:9"])
        .assert()
        .code(1)
        .stderr(contains("no credentials: set APINIZER_TOKEN"));
}

#[test]
fn an_empty_or_missing_token_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("token");
    std::fs::write(&empty, "\n").unwrap();
    cmd(&[
        "plan",
        "--server",
        "http://127.0.0.1:9",
        "--token-file",
        empty.to_str().unwrap(),
    ])
    .assert()
    .code(1)
    .stderr(contains("is empty"));
    let missing = dir.path().join("nope");
    cmd(&[
        "plan",
        "--server",
        "http://127.0.0.1:9",
        "--token-file",
        missing.to_str().unwrap(),
    ])
    .assert()
    .code(1)
    .stderr(contains("cannot read --token-file"));
}

#[test]
fn a_bad_name_glob_is_refused() {
    cmd(&["plan", "--server", "http://127.0.0.1:9", "--name", "a[b"])
        .env("APINIZER_TOKEN", "t")
        .assert()
        .code(1)
        .stderr(contains("invalid --name `a[b`"));
}
