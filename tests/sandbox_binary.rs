//! `apinizer-gitops sandbox` from the binary: it prints its URL and token, answers the
//! documented endpoints like the README's curl lines, and refuses bad flags.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use serde_json::{Value, json};

const TOKEN: &str = "canary-binary-token";

/// A running `sandbox` process, killed on drop.
struct SandboxProcess {
    child: Child,
    url: String,
    /// Kept open: a closed pipe would fail the sandbox's later start-up lines.
    _stdout: BufReader<ChildStdout>,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns the binary and reads the three start-up lines.
fn spawn(extra: &[&str]) -> (SandboxProcess, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apinizer-gitops"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--project",
            "Payments",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = stdout
        .by_ref()
        .lines()
        .take(3)
        .map(|l| l.unwrap())
        .collect();
    let url = lines[0]
        .strip_prefix("Sandbox listening on ")
        .expect("first line names the URL")
        .to_string();
    (
        SandboxProcess {
            child,
            url,
            _stdout: stdout,
        },
        lines,
    )
}

/// Sends with the sandbox token.
async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the sandbox answers")
}

/// Sends with the sandbox token and reads the JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    send(request).await.json().await.expect("a JSON answer")
}

#[tokio::test]
async fn the_sandbox_command_serves_the_documented_endpoints() {
    let (mut process, lines) = spawn(&["--token", TOKEN, "-vv"]);
    let url = process.url.clone();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    assert_eq!(lines[1], format!("export APINIZER_URL={url}"));
    assert_eq!(lines[2], format!("export APINIZER_TOKEN={TOKEN}"));

    let http = reqwest::Client::new();
    let api = format!("{url}/apiops/projects");
    let health = http
        .get(format!("{url}/apiops/test/healthcheck"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "OK");

    let projects: Value = json_of(http.get(format!("{api}/"))).await;
    assert_eq!(
        projects,
        json!({"status": "SUCCESS", "resultList": [{"name": "Payments", "description": null}], "resultCount": 1})
    );

    let body = json!({"type": "email", "name": "alerts", "host": "smtp.example.com", "port": 587,
                      "auth": true, "username": "u", "password": "canary-binary-pw"});
    let created: Value = json_of(
        http.post(format!("{api}/Payments/connections/alerts/"))
            .json(&body),
    )
    .await;
    assert_eq!(created["success"], true);
    assert_eq!(
        created["deploymentResult"]["deploymentResults"][0]["environmentName"],
        "dev"
    );

    let listed: Value = json_of(http.get(format!("{api}/Payments/connections/?type=email"))).await;
    assert_eq!(listed["resultCount"], 1);
    assert_eq!(listed["resultList"][0]["password"], Value::Null);

    let mut renamed = body.clone();
    renamed["name"] = json!("alerts-smtp");
    let put = send(
        http.put(format!("{api}/Payments/connections/alerts/"))
            .json(&renamed),
    )
    .await;
    assert_eq!(put.status(), 200);
    let got: Value = json_of(http.get(format!("{api}/Payments/connections/alerts-smtp/"))).await;
    assert_eq!(got["resultList"][0]["password"], "canary-binary-pw");

    let deleted = send(http.delete(format!("{api}/Payments/connections/alerts-smtp/"))).await;
    assert_eq!(deleted.status(), 200);
    let gone = send(http.get(format!("{api}/Payments/connections/alerts-smtp/"))).await;
    assert_eq!(gone.status(), 404);

    process.child.kill().unwrap();
    let mut stderr = String::new();
    process
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("sandbox request"),
        "-vv logs requests: {stderr}"
    );
    assert!(!stderr.contains(TOKEN) && !stderr.contains("canary-binary-pw"));
}

#[test]
fn a_random_token_is_printed_when_none_is_given() {
    let (_process, lines) = spawn(&[]);
    let token = lines[2].strip_prefix("export APINIZER_TOKEN=").unwrap();
    assert!(token.len() >= 32, "{token}");
}

#[test]
fn bad_flags_exit_1_with_a_clear_error() {
    cargo_bin_cmd!("apinizer-gitops")
        .args(["sandbox", "--listen", "127.0.0.1:0", "--fail-rate", "2"])
        .assert()
        .code(1)
        .stderr(contains("--fail-rate must be between 0.0 and 1.0"));
    cargo_bin_cmd!("apinizer-gitops")
        .args(["sandbox", "--listen", "not-an-address"])
        .assert()
        .code(1)
        .stderr(contains("cannot listen on not-an-address"));
    cargo_bin_cmd!("apinizer-gitops")
        .args(["sandbox", "--listen", "127.0.0.1:0", "--token-ttl", "500ms"])
        .args(["--username", "u", "--password", "p"])
        .assert()
        .code(1)
        .stderr(contains("--token-ttl must be at least 1s"));
}

/// Logs in at the token endpoint (expecting 200); the JSON answer.
async fn log_in(http: &reqwest::Client, url: &str) -> Value {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "admin"),
        ("client_secret", "canary-binary-pw"),
    ];
    let response = http
        .post(format!("{url}/apiops/auth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn with_a_token_ttl_each_login_issues_a_token_that_expires() {
    let (process, _) = spawn(&[
        "--token",
        TOKEN,
        "--username",
        "admin",
        "--password",
        "canary-binary-pw",
        "--token-ttl",
        "1s",
    ]);
    let http = reqwest::Client::new();
    let first = log_in(&http, &process.url).await;
    let second = log_in(&http, &process.url).await;
    assert_eq!(first["expires_in"], 1);
    assert_ne!(first["access_token"], second["access_token"]);
    assert_ne!(first["access_token"], TOKEN);
    let projects = format!("{}/apiops/projects/", process.url);
    let token = first["access_token"].as_str().unwrap();
    let live = http.get(&projects).bearer_auth(token).send().await.unwrap();
    assert_eq!(live.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let expired = http.get(&projects).bearer_auth(token).send().await.unwrap();
    assert_eq!(expired.status(), 401);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["error"], "token_expired");
    let fixed = json_of(http.get(&projects)).await;
    assert_eq!(
        fixed["status"], "SUCCESS",
        "the --token token never expires"
    );
}
