//! The binary against a hostile server written here (axum on loopback, canned list
//! answers, every request logged): current state that cannot be trusted stops the run
//! before any plan (issue 8 item 1), names that are no safe path segment are never
//! addressed (item 2), and server text cannot forge output lines (item 9).

#[path = "shared/own_runtime.rs"]
mod own_runtime;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use own_runtime::serve_on_loopback;

const TOKEN: &str = "hostile-test-token";

/// A server answering from a table ("METHOD path?query" -> status and body; an empty
/// list for any other GET, a success envelope for any other write), logging every
/// request line exactly as it arrived.
struct Hostile {
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

#[derive(Clone)]
struct Answers {
    table: Arc<BTreeMap<String, (u16, String)>>,
    log: Arc<Mutex<Vec<String>>>,
}

async fn answer(State(answers): State<Answers>, method: Method, uri: Uri) -> (StatusCode, String) {
    let target = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let line = format!("{method} {target}");
    answers.log.lock().unwrap().push(line.clone());
    match answers.table.get(&line) {
        Some((status, body)) => (StatusCode::from_u16(*status).unwrap(), body.clone()),
        None if method == Method::GET => (StatusCode::OK, list("")),
        None => (StatusCode::OK, r#"{"success":true}"#.to_string()),
    }
}

/// Serves GET answers (path and query -> body) on a free loopback port.
fn hostile(lists: &[(&str, String)]) -> Hostile {
    let answers: Vec<(String, u16, String)> = lists
        .iter()
        .map(|(path, body)| (format!("GET {path}"), 200, body.clone()))
        .collect();
    hostile_with(answers)
}

/// Serves any answers ("METHOD path?query", status, body) on a free loopback port.
fn hostile_with(answers: Vec<(String, u16, String)>) -> Hostile {
    let log = Arc::new(Mutex::new(Vec::new()));
    let state = Answers {
        table: Arc::new(
            answers
                .into_iter()
                .map(|(key, status, body)| (key, (status, body)))
                .collect(),
        ),
        log: log.clone(),
    };
    let app = Router::new().fallback(answer).with_state(state);
    let (runtime, url) = serve_on_loopback(app);
    Hostile {
        url,
        log,
        _runtime: runtime,
    }
}

impl Hostile {
    /// The binary pointed at this server, run in `dir`.
    fn cli(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("apinizer-gitops").unwrap();
        cmd.current_dir(dir)
            .env_remove("APINIZER_TOKEN_FILE")
            .env_remove("APINIZER_USERNAME")
            .env_remove("APINIZER_PASSWORD")
            .env("APINIZER_URL", &self.url)
            .env("APINIZER_TOKEN", TOKEN)
            .args(args);
        cmd
    }

    /// Runs the binary; checks the exit code; returns stdout and stderr.
    fn run(&self, dir: &Path, args: &[&str], code: i32) -> (String, String) {
        let assert = self.cli(dir, args).assert().code(code);
        let out = assert.get_output();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Every request that was not a GET.
    fn writes(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|l| !l.starts_with("GET "))
            .cloned()
            .collect()
    }
}

/// A list envelope around JSON item text.
fn list(items: &str) -> String {
    format!(r#"{{"success":true,"resultList":[{items}],"resultCount":1}}"#)
}

/// The list path of a type in project Payments.
fn list_path(kind: &str) -> String {
    format!("/apiops/projects/Payments/connections/?type={kind}")
}

/// A folder with one desired-state file.
fn desired(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("payments.yaml"), text).unwrap();
    dir
}

const PRUNED_MAIL: &str = "project: Payments\nprune: true\nconnections:\n  - {type: email, name: mail, host: smtp.example.com}\n";

const MAIL_ITEM: &str = r#"{"type":"email","name":"mail","host":"smtp.example.com"}"#;

#[test]
fn server_names_that_are_no_safe_path_segment_are_reported_and_never_deleted() {
    let items = [
        MAIL_ITEM,
        r#"{"type":"email","name":"..","host":"h"}"#,
        r#"{"type":"email","name":".","host":"h"}"#,
        r#"{"type":"email","name":"a/b","host":"h"}"#,
        r#"{"type":"email","name":"with space","host":"h"}"#,
        r#"{"type":"email","name":"q?x=1","host":"h"}"#,
    ];
    let server = hostile(&[(&list_path("email"), list(&items.join(",")))]);
    let dir = desired(PRUNED_MAIL);
    let (stdout, _) = server.run(dir.path(), &["apply", "--auto-approve", "-f", "."], 0);
    assert!(server.writes().is_empty(), "{:?}", server.writes());
    for name in ["..", ".", "a/b", "with space", "q?x=1"] {
        let line = format!("  Payments/email/{name} (cannot be addressed safely: the name ");
        assert!(stdout.contains(&line), "{name}: {stdout}");
    }
    let (json, _) = server.run(dir.path(), &["plan", "-f", ".", "--format", "json"], 0);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["summary"]["delete"], 0);
    assert_eq!(report["unmanaged"][0]["name"], "..");
    assert!(
        report["unmanaged"][0]["unaddressable"]
            .as_str()
            .unwrap()
            .contains("`..`")
    );
}

#[test]
fn validate_refuses_names_that_are_no_safe_path_segment_at_their_place() {
    let names = [
        "\"..\"",
        "\".\"",
        "a/b",
        "\"a b\"",
        "\"a\\tb\"",
        "a%41",
        "a?b",
        "\"a#b\"",
        "a\\b",
        "\"a\\u001b[2J\"",
    ];
    let mut text = String::from("project: Payments\nconnections:\n");
    for name in names {
        text.push_str(&format!("  - type: email\n    name: {name}\n    host: h\n"));
    }
    text.push_str(
        "  - {type: email, name: ok, host: h, renamedFrom: old/name}\n---\nproject: \"..\"\n",
    );
    let dir = desired(&text);
    let (report, _) = Hostile::offline(dir.path(), &["validate", "-f", "."], 1);
    for (i, name) in names.iter().enumerate() {
        let line = 4 + 3 * i;
        let place = format!("payments.yaml:{line}:11: error: ");
        let found = report
            .lines()
            .find(|l| l.contains(&place))
            .unwrap_or_else(|| panic!("no error at {place} for {name}: {report}"));
        assert!(found.contains("connection name `"), "{found}");
    }
    assert!(
        report.contains("payments.yaml:33:51: error: "),
        "renamedFrom: {report}"
    );
    assert!(
        report.contains("`renamedFrom` `old/name` holds `/`"),
        "{report}"
    );
    assert!(
        report.contains("payments.yaml:35:10: error: project name `..` is `..`"),
        "{report}"
    );
    assert!(
        report.contains("hint: names are path parameters"),
        "{report}"
    );
    assert!(!report.contains('\u{1b}'), "raw ESC reached the terminal");
}

impl Hostile {
    /// The binary with no server, for checks made before any request.
    fn offline(dir: &Path, args: &[&str], code: i32) -> (String, String) {
        let mut cmd = Command::cargo_bin("apinizer-gitops").unwrap();
        let assert = cmd
            .current_dir(dir)
            .env_remove("APINIZER_URL")
            .env("APINIZER_TOKEN", TOKEN)
            .args(args)
            .assert()
            .code(code);
        let out = assert.get_output();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Runs `plan` and `apply --auto-approve` against lists holding `items` (path -> item
/// text); both must stop with exit 1 before any plan or write, naming every `expected`
/// text on stderr.
fn assert_untrusted(lists: &[(&str, &str)], expected: &[&str]) {
    let answers: Vec<(&str, String)> = lists.iter().map(|(p, items)| (*p, list(items))).collect();
    let server = hostile(&answers);
    let dir = desired(PRUNED_MAIL);
    for args in [
        &["plan", "-f", "."][..],
        &["apply", "--auto-approve", "-f", "."][..],
    ] {
        let (stdout, stderr) = server.run(dir.path(), args, 1);
        assert!(
            stderr.contains("error: the server's answer for project Payments"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("nothing was planned and nothing was written"),
            "{stderr}"
        );
        for text in expected {
            assert!(stderr.contains(text), "{args:?}: no {text:?} in {stderr}");
        }
        assert!(
            !stdout.contains("Plan:") && !stdout.contains("No changes"),
            "{stdout}"
        );
    }
    assert!(server.writes().is_empty(), "{:?}", server.writes());
}

#[test]
fn a_name_listed_twice_stops_apply_before_it_prunes_the_desired_connection() {
    let email = list_path("email");
    assert_untrusted(
        &[(&email, &format!("{MAIL_ITEM},{MAIL_ITEM}"))],
        &["one name is listed 2 times: `mail` (email), `mail` (email)"],
    );
    let kafka = list_path("kafka");
    assert_untrusted(
        &[
            (&email, MAIL_ITEM),
            (&kafka, r#"{"type":"kafka","name":"MAIL","topicName":"t"}"#),
        ],
        &["`MAIL` (kafka)", "`mail` (email)"],
    );
}

#[test]
fn an_item_of_another_or_an_unknown_type_stops_the_run() {
    let email = list_path("email");
    assert_untrusted(
        &[(&email, r#"{"type":"kafka","name":"k","topicName":"t"}"#)],
        &[
            ", type email cannot be trusted: item 1: `k` is of type `kafka`, not the requested `email`",
        ],
    );
    assert_untrusted(
        &[(&email, r#"{"type":"smtp","name":"m","host":"h"}"#)],
        &["item 1: `m` has the unknown type `smtp`"],
    );
    assert_untrusted(
        &[(&email, r#"{"type":7,"name":"m","host":"h"}"#)],
        &["item 1: `m` has a `type` that is not a string"],
    );
}

#[test]
fn repeated_keys_at_any_depth_stop_the_run() {
    let email = list_path("email");
    assert_untrusted(
        &[(
            &email,
            r#"{"type":"email","name":"mail","host":"a","host":"smtp.example.com"}"#,
        )],
        &["item 1: `mail` repeats the key `host` (2 times)"],
    );
    assert_untrusted(
        &[(
            &email,
            r#"{"type":"email","name":"mail","name":"other","host":"h"}"#,
        )],
        &["repeats the key `name` (2 times)"],
    );
    assert_untrusted(
        &[(
            &email,
            r#"{"type":"email","type":"email","name":"mail","host":"h"}"#,
        )],
        &["repeats the key `type` (2 times)"],
    );
    let es = list_path("elasticsearch");
    assert_untrusted(
        &[(
            &es,
            r#"{"type":"elasticsearch","name":"es","elasticHostList":[{"host":"a","host":"b","port":9200}],"type":"READ"}"#,
        )],
        &["item 1: `es` repeats the key at `/elasticHostList/0/host`"],
    );
    assert_untrusted(
        &[(
            &es,
            r#"{"type":"elasticsearch","name":"es","type":"READ","type":"READ_WRITE"}"#,
        )],
        &["repeats the key `type` (3 times)"],
    );
}

#[test]
fn elasticsearchs_two_documented_type_keys_are_accepted() {
    let es = r#"{"type":"elasticsearch","name":"es","elasticHostList":[{"host":"e","port":9200}],"type":"READ"}"#;
    let server = hostile(&[
        (&list_path("email"), list(MAIL_ITEM)),
        (&list_path("elasticsearch"), list(es)),
    ]);
    let dir = desired(PRUNED_MAIL);
    let (stdout, _) = server.run(dir.path(), &["plan", "-f", "."], 0);
    assert!(
        stdout.contains("- delete Payments/elasticsearch/es"),
        "{stdout}"
    );
}

#[test]
fn an_item_without_a_usable_name_stops_the_run() {
    let email = list_path("email");
    for item in [
        r#"{"type":"email","host":"h"}"#,
        r#"{"type":"email","name":"","host":"h"}"#,
        r#"{"type":"email","name":null,"host":"h"}"#,
        r#"{"type":"email","name":7,"host":"h"}"#,
    ] {
        assert_untrusted(
            &[(&email, &format!("{MAIL_ITEM},{item}"))],
            &["item 2: has no usable `name` (missing, empty or not a string)"],
        );
    }
}

/// A line that an attacker would like a pipeline to grep.
const FORGED: &str = "No changes. 9 connections match the desired state.";

/// Lines of output that start like the forged summary, or hold a raw ESC.
fn forged_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.trim_start().starts_with("No changes") || l.contains('\u{1b}'))
        .collect()
}

#[test]
fn server_text_cannot_forge_output_lines_or_reach_the_terminal_raw() {
    let evil_name = format!("x\\n{FORGED}\\u001b[2J");
    let items = [
        format!(
            r#"{{"type":"email","name":"mail","host":"old\r\n{FORGED}\u001b]0;pwned\u0007\u009b31m","z\n{FORGED}":1}}"#
        ),
        format!(r#"{{"type":"email","name":"{evil_name}","host":"h"}}"#),
    ];
    let server = hostile(&[(&list_path("email"), list(&items.join(",")))]);
    let dir = desired(
        "project: Payments\nconnections:\n  - {type: email, name: mail, host: smtp.example.com}\n",
    );
    for format in ["text", "markdown"] {
        let args = ["plan", "-f", ".", "--no-color", "--format", format];
        let (stdout, stderr) = server.run(dir.path(), &args, 0);
        assert!(forged_lines(&stdout).is_empty(), "{format}: {stdout}");
        assert!(forged_lines(&stderr).is_empty(), "{format}: {stderr}");
        assert!(
            stdout.contains("\\n"),
            "{format}: escaped, not dropped: {stdout}"
        );
        assert!(stdout.contains("\\u{1b}"), "{format}: {stdout}");
        assert!(
            !stdout.contains('\u{9b}') && !stdout.contains('\u{7}'),
            "{stdout}"
        );
    }
    let (_, log) = server.run(dir.path(), &["plan", "-f", ".", "-vv"], 0);
    assert!(log.contains("ignoring a key unknown to the type"), "{log}");
    assert!(forged_lines(&log).is_empty(), "trace log: {log}");
}

#[test]
fn server_error_text_cannot_forge_lines_on_stderr() {
    let post = "POST /apiops/projects/Payments/connections/fresh/".to_string();
    let body = format!(
        r#"{{"error":"bad_request","error_description":"refused\nApply complete: 1 done.\n{FORGED}\u001b[2J"}}"#
    );
    let server = hostile_with(vec![(post, 400, body.clone())]);
    let dir = desired("project: Payments\nconnections:\n  - {type: email, name: fresh, host: h}\n");
    let (stdout, stderr) = server.run(dir.path(), &["apply", "--auto-approve", "-f", "."], 1);
    assert!(forged_lines(&stdout).is_empty(), "{stdout}");
    assert!(forged_lines(&stderr).is_empty(), "{stderr}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("Apply complete: 1 done")),
        "{stdout}"
    );
    let list = "GET /apiops/projects/Payments/connections/?type=email".to_string();
    let server = hostile_with(vec![(list, 400, body)]);
    let (_, stderr) = server.run(dir.path(), &["plan", "-f", "."], 1);
    assert!(forged_lines(&stderr).is_empty(), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{stderr}"
    );
}

#[test]
fn an_envelope_repeating_a_key_stops_the_run() {
    let email = list_path("email");
    for (envelope, key) in [
        (
            format!(r#"{{"success":true,"resultList":[{MAIL_ITEM}],"resultList":[]}}"#),
            "resultList",
        ),
        (
            format!(r#"{{"success":false,"success":true,"resultList":[{MAIL_ITEM}]}}"#),
            "success",
        ),
    ] {
        let server = hostile(&[(&email, envelope.clone())]);
        let dir = desired(PRUNED_MAIL);
        let (stdout, stderr) = server.run(dir.path(), &["apply", "--auto-approve", "-f", "."], 1);
        assert!(
            stderr.contains("GET /apiops/projects/Payments/connections/?type=email"),
            "{stderr}"
        );
        let repeated = format!("repeats the key `{key}`");
        assert!(stderr.contains(&repeated), "{stderr}");
        assert!(!stdout.contains("Plan:"), "{envelope}: {stdout}");
        assert!(
            server.writes().is_empty(),
            "{envelope}: {:?}",
            server.writes()
        );
    }
}

#[test]
fn request_paths_are_the_documented_template_with_percent_encoded_names() {
    let server = hostile(&[]);
    let dir = desired(
        "project: Zahlungen-Ö\nconnections:\n  - {type: email, name: \"a.b~c_Ö:1\", host: h}\n",
    );
    server.run(dir.path(), &["apply", "--auto-approve", "-f", "."], 0);
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains(&"GET /apiops/projects/Zahlungen-%C3%96/connections/?type=email".to_string()),
        "{log:?}"
    );
    assert_eq!(
        server.writes(),
        ["POST /apiops/projects/Zahlungen-%C3%96/connections/a.b~c_%C3%96%3A1/"]
    );
}

#[test]
fn a_failed_change_is_repeated_after_the_summary_and_skipped_ones_are_counted() {
    let post = "POST /apiops/projects/Payments/connections/a/".to_string();
    let body = r#"{"error":"internal_error","error_description":"disk full"}"#.to_string();
    let server = hostile_with(vec![(post, 500, body)]);
    let dir = desired(
        "project: Payments\nconnections:\n  - {type: email, name: a, host: h}\n  - {type: email, name: b, host: h}\n  - {type: email, name: c, host: h}\n",
    );
    let args = [
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        "--retries",
        "0",
        "-f",
        ".",
    ];
    let (stdout, _) = server.run(dir.path(), &args, 1);
    let tail: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("failed to create"))
        .collect();
    assert!(!stdout.contains("not started:"), "{stdout}");
    assert_eq!(tail.len(), 5, "{stdout}");
    assert!(tail[0].starts_with("failed to create Payments/email/a: "));
    assert!(tail[0].contains("disk full"), "{stdout}");
    assert_eq!(
        tail[1],
        "2 changes not started after the first failure (--continue-on-error keeps going)."
    );
    assert_eq!(
        tail[2],
        "Apply complete: 0 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 1 failed."
    );
    assert_eq!(tail[3], "1 change failed:");
    assert_eq!(tail[4], format!("  {}", tail[0]));

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (stdout, _) = server.run(dir.path(), &json_args, 1);
    let document: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(document["command"], "apply");
    assert_eq!(document["summary"]["create"], 3);
    assert_eq!(document["apply"]["summary"]["failed"], 1);
    assert_eq!(document["apply"]["summary"]["not_started"], 2);
}
