//! The wire against a hostile server (issue 8, items 3 to 8): a loopback HTTP server
//! written here answers what a broken proxy or a malicious Manager would, and the real
//! binary (or the real client) must stay bounded, refuse redirects, confirm writes,
//! keep the token with the server the user named and never print a secret it echoes.

mod common;
#[path = "shared/own_runtime.rs"]
mod own_runtime;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apinizer_gitops::api::{Auth, Client, ClientConfig, DEFAULT_MAX_RESPONSE_BYTES};
use assert_cmd::Command;
use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use own_runtime::serve_on_loopback;
use predicates::str::contains;
use secrecy::SecretString;

const PROJECT: &str = "Payments";
const CANARY_TOKEN: &str = "canary-token-hostile-4d1";
const CANARY_SECRET: &str = "canary-smtp-secret-8e2";

/// One request the hostile server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

type Handler = Arc<dyn Fn(&Seen) -> Response + Send + Sync>;

/// A hostile server on a free loopback port, on a runtime of its own (so synchronous
/// tests can drive the binary against it).
struct Hostile {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Hostile {
    fn start(handler: impl Fn(&Seen) -> Response + Send + Sync + 'static) -> Hostile {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = seen.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
                let handler = handler.clone();
                let log = log.clone();
                async move {
                    let request = Seen {
                        method: method.to_string(),
                        path: uri
                            .path_and_query()
                            .map_or(uri.path().to_string(), |p| p.to_string()),
                        authorization: headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                        body,
                    };
                    log.lock().unwrap().push(request.clone());
                    handler(&request)
                }
            },
        );
        let (runtime, url) = serve_on_loopback(app);
        Hostile {
            url,
            seen,
            runtime: Some(runtime),
        }
    }

    /// Runs a future (a client call) on the server's runtime.
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.as_ref().expect("running").block_on(future)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn writes(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method != "GET")
            .collect()
    }

    /// The binary pointed at this server with the canary token and secret.
    fn command(&self) -> Command {
        let mut cmd = bare_command();
        cmd.env("APINIZER_URL", &self.url)
            .env("APINIZER_TOKEN", CANARY_TOKEN)
            .env("ALERTS_SMTP_PASSWORD", CANARY_SECRET);
        cmd
    }

    /// A client for this server (for the client-level tests).
    async fn client(&self, max_response_bytes: u64) -> Client {
        common::connect(ClientConfig {
            server: self.url.clone(),
            auth: Auth::Token(SecretString::from(CANARY_TOKEN)),
            parallelism: 2,
            timeout: Duration::from_secs(20),
            retries: 2,
            ca_cert: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
            max_response_bytes,
        })
        .await
    }
}

/// The binary with no APINIZER_* variable of the developer's shell.
fn bare_command() -> Command {
    let mut cmd = Command::cargo_bin("apinizer-gitops").unwrap();
    for name in [
        "APINIZER_URL",
        "APINIZER_TOKEN",
        "APINIZER_TOKEN_FILE",
        "APINIZER_USERNAME",
        "APINIZER_PASSWORD",
        "RUST_LOG",
    ] {
        cmd.env_remove(name);
    }
    cmd
}

fn json(status: StatusCode, body: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn empty_list() -> Response {
    json(
        StatusCode::OK,
        r#"{"success":true,"resultList":[],"resultCount":0}"#,
    )
}

/// A desired-state folder with one email connection whose password is a reference.
fn desired() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("payments.yaml"),
        "project: Payments\nconnections:\n  - type: email\n    name: alerts-smtp\n    host: smtp.example.com\n    port: 587\n    auth: true\n    username: alerts@example.com\n    password: ${env:ALERTS_SMTP_PASSWORD}\n",
    )
    .unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_canary(what: &str, text: &str) {
    for canary in [CANARY_TOKEN, CANARY_SECRET] {
        assert!(!text.contains(canary), "{what} leaks {canary}:\n{text}");
    }
}

/// `apply --auto-approve -f DIR`: exit code, stdout, stderr (canary-checked).
fn apply(server: &Hostile, dir: &tempfile::TempDir, extra: &[&str]) -> (i32, String, String) {
    let output = server
        .command()
        .args(["apply", "--auto-approve", "--retries", "1", "-f"])
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_no_canary("apply stdout", &stdout);
    assert_no_canary("apply stderr", &stderr);
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

// ---- 3. Answers are bounded -------------------------------------------------------

/// Streams `total` bytes of a never-ending JSON string in 64 KiB chunks; counts what
/// it managed to send.
fn endless_answer(total: u64, sent: Arc<std::sync::atomic::AtomicU64>) -> Response {
    use std::sync::atomic::Ordering;
    let chunk = bytes_of(64 * 1024);
    let chunks = total / chunk.len() as u64;
    let head = futures::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
            br#"{"success":true,"resultList":[{"name":""#,
        ))
    });
    let body = futures::stream::iter(0..chunks).map(move |_| {
        sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Ok::<_, std::io::Error>(chunk.clone())
    });
    Response::new(Body::from_stream(head.chain(body)))
}

fn bytes_of(len: usize) -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b'a'; len])
}

use futures::StreamExt;

#[test]
fn an_answer_past_the_limit_fails_naming_method_and_path_and_is_not_read_further() {
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let server = Hostile::start(move |seen| {
        if seen.path.contains("type=email") {
            endless_answer(1 << 30, counter.clone())
        } else {
            // A Content-Length over the limit is refused before reading the body.
            let mut big = empty_list();
            *big.body_mut() = Body::from(vec![b' '; 3 << 20]);
            big
        }
    });
    let client = server.block_on(server.client(1 << 20));
    let error = server
        .block_on(client.list_connections(PROJECT, "email"))
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("GET /apiops/projects/Payments/connections/?type=email: response_too_large: the answer is larger than 1 MiB (--max-response-size)"),
        "{message}"
    );
    assert!(!error.is_retryable());
    // The client stopped reading: far less than the 1 GiB offered left the server
    // (socket buffers hold a few MiB at most).
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 64 << 20, "{sent} bytes were sent");

    let error = server
        .block_on(client.list_connections(PROJECT, "kafka"))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("?type=kafka: response_too_large"),
        "{error}"
    );
    // One attempt each: a too-large answer is not retried.
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn plan_stops_on_a_huge_answer_with_exit_1_and_the_documented_flag() {
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let server = Hostile::start(move |_| endless_answer(1 << 30, counter.clone()));
    let dir = desired();
    server
        .command()
        .args(["plan", "--max-response-size", "2MiB", "-f"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("GET /apiops/projects/Payments/connections/?type="))
        .stderr(contains("response_too_large"))
        .stderr(contains("--max-response-size"));
    // The default limit: 64 MiB.
    server
        .command()
        .args(["plan", "--type", "email", "-f"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains(
            "GET /apiops/projects/Payments/connections/?type=email: response_too_large: the answer is larger than 64 MiB",
        ));
    assert!(sent.load(std::sync::atomic::Ordering::Relaxed) < 512 << 20);
}

// ---- 4. A write counts only when the server confirms it ----------------------------

/// A server whose writes answer a proxy's HTML page; `stores` says whether the write
/// reached the store behind it anyway.
fn html_proxy(stores: bool) -> Hostile {
    let stored: Arc<Mutex<Option<String>>> = Arc::default();
    Hostile::start(move |seen| {
        let single = seen.path.ends_with("/alerts-smtp/");
        match (seen.method.as_str(), single) {
            ("POST", true) => {
                if stores {
                    *stored.lock().unwrap() = Some(seen.body.clone());
                }
                (
                    StatusCode::OK,
                    [("content-type", "text/html")],
                    "<html>Welcome</html>",
                )
                    .into_response()
            }
            ("GET", true) => match stored.lock().unwrap().as_ref() {
                Some(body) => json(
                    StatusCode::OK,
                    &format!(r#"{{"success":true,"resultList":[{body}],"resultCount":1}}"#),
                ),
                None => json(
                    StatusCode::NOT_FOUND,
                    r#"{"error":"not_found","error_description":"Connection not found"}"#,
                ),
            },
            _ => empty_list(),
        }
    })
}

#[test]
fn an_html_200_to_a_create_is_a_failure_when_the_server_holds_nothing() {
    let server = html_proxy(false);
    let (code, stdout, stderr) = apply(&server, &desired(), &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "unreadable answer, and re-reading shows the server does not hold what was sent"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("0 created"), "{stdout}");
    assert!(stdout.contains("1 failed."), "{stdout}");
    // Written once, then re-read: never written again.
    assert_eq!(server.writes().len(), 1);
}

#[test]
fn an_html_200_to_a_create_is_done_when_re_reading_finds_what_was_sent() {
    let server = html_proxy(true);
    let (code, stdout, stderr) = apply(&server, &desired(), &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("confirmed by re-reading"), "{stdout}");
    assert!(stdout.contains("1 created"), "{stdout}");
}

#[test]
fn an_empty_200_to_an_update_or_a_delete_is_a_failure_when_re_reading_shows_nothing_changed() {
    let item = |name: &str| {
        format!(
            r#"{{"type":"email","name":"{name}","host":"old.example.com","port":25,"auth":true,"username":"u","password":null}}"#
        )
    };
    let server = Hostile::start(move |seen| {
        let answer = |items: &str| {
            json(
                StatusCode::OK,
                &format!(r#"{{"success":true,"resultList":[{items}],"resultCount":1}}"#),
            )
        };
        match seen.method.as_str() {
            "PUT" | "DELETE" => (StatusCode::OK, "").into_response(),
            _ if seen.path.contains("type=email") => {
                answer(&format!("{},{}", item("alerts-smtp"), item("old-mail")))
            }
            _ if seen.path.ends_with("/alerts-smtp/") => answer(&item("alerts-smtp")),
            _ if seen.path.ends_with("/old-mail/") => answer(&item("old-mail")),
            _ => empty_list(),
        }
    });
    let dir = desired();
    let file = dir.path().join("payments.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        yaml.replace("project: Payments\n", "project: Payments\nprune: true\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = apply(&server, &dir, &["--continue-on-error"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "unreadable answer, and re-reading shows the server does not hold what was sent"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("unreadable answer, and re-reading shows the connection is still there"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 updated") && stdout.contains("0 deleted"),
        "{stdout}"
    );
    assert!(stdout.contains("2 failed."), "{stdout}");
    assert_eq!(server.writes().len(), 2, "each written once");
}

// ---- 5. Redirects are never followed ---------------------------------------------

#[test]
fn a_redirected_write_is_an_error_naming_status_and_location_and_the_token_stays_home() {
    let elsewhere = Hostile::start(|_| empty_list());
    let target = format!("{}/steal", elsewhere.url);
    let server = Hostile::start(move |seen| {
        if seen.method == "POST" {
            (StatusCode::FOUND, [("location", target.clone())], "").into_response()
        } else {
            empty_list()
        }
    });
    let (code, stdout, _) = apply(&server, &desired(), &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("302 redirect: the server redirects to"),
        "{stdout}"
    );
    assert!(stdout.contains(&elsewhere.url), "{stdout}");
    assert!(stdout.contains("point --server"), "{stdout}");
    assert!(stdout.contains("0 created"), "{stdout}");
    assert!(elsewhere.seen().is_empty(), "the redirect was followed");
    assert_eq!(server.writes().len(), 1, "a redirect is not retried");
}

#[test]
fn a_redirected_read_is_an_error_too() {
    let server = Hostile::start(|_| {
        (
            StatusCode::MOVED_PERMANENTLY,
            [("location", "https://login.example.com/sso")],
            "",
        )
            .into_response()
    });
    let client = server.block_on(server.client(DEFAULT_MAX_RESPONSE_BYTES));
    let error = server.block_on(client.list_projects()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("GET /apiops/projects/: 301 redirect: the server redirects to https://login.example.com/sso;"),
        "{message}"
    );
    assert_eq!(server.seen().len(), 1);
}

// ---- 7. Server text never carries a secret out -------------------------------------

#[test]
fn a_server_echoing_the_secret_and_the_token_prints_sensitive_instead() {
    let server = Hostile::start(|seen| {
        if seen.method == "POST" {
            let echoed = format!(
                r#"{{"error":"bad_request","error_description":"Invalid body {} with token {}","validation_errors":[{{"field":"password","message":"{} is too weak"}}]}}"#,
                seen.body.replace('"', "'"),
                seen.authorization.clone().unwrap_or_default(),
                CANARY_SECRET
            );
            json(StatusCode::BAD_REQUEST, &echoed)
        } else {
            empty_list()
        }
    });
    let (code, stdout, stderr) = apply(&server, &desired(), &["--format", "json"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    // apply() checked stdout and stderr for the canaries; the message is still useful.
    assert!(stdout.contains("Invalid body"), "{stdout}");
    assert!(stdout.contains("(sensitive) is too weak"), "{stdout}");
    // And the server did receive the real values (the scrubbing is of output only).
    let post = server.writes().remove(0);
    assert!(post.body.contains(CANARY_SECRET));
    assert_eq!(
        post.authorization.as_deref(),
        Some(format!("Bearer {CANARY_TOKEN}").as_str())
    );
}

#[test]
fn a_server_naming_a_connection_after_the_token_prints_sensitive_in_plans_and_plan_files() {
    let server = Hostile::start(|seen| {
        if seen.path.contains("type=webhook") {
            json(
                StatusCode::OK,
                &format!(
                    r#"{{"success":true,"resultList":[{{"type":"webhook","name":"hook-{CANARY_TOKEN}","fullUrl":"https://x/{CANARY_TOKEN}"}}],"resultCount":1}}"#
                ),
            )
        } else {
            empty_list()
        }
    });
    let dir = desired();
    let plan_file = dir.path().join("out.plan");
    for format in ["text", "json", "markdown"] {
        let output = server
            .command()
            .args(["plan", "--format", format, "-f"])
            .arg(dir.path().join("payments.yaml"))
            .arg("--out")
            .arg(&plan_file)
            .output()
            .unwrap();
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
        assert!(stdout.contains("hook-(sensitive)"), "{format}: {stdout}");
        assert_no_canary(format, &stdout);
        assert_no_canary("stderr", &text(&output.stderr));
        assert_no_canary("plan file", &std::fs::read_to_string(&plan_file).unwrap());
    }
}

#[test]
fn a_server_holding_a_resolved_secret_in_a_plain_field_plans_sensitive_instead() {
    let server = Hostile::start(|seen| {
        if seen.path.contains("type=email") || seen.path.ends_with("/alerts-smtp/") {
            json(
                StatusCode::OK,
                &format!(
                    r#"{{"success":true,"resultList":[{{"type":"email","name":"alerts-smtp","host":"smtp.example.com","port":587,"auth":true,"username":"alerts@example.com","password":null,"description":"pw is {CANARY_SECRET}"}}],"resultCount":1}}"#
                ),
            )
        } else {
            empty_list()
        }
    });
    let dir = desired();
    for format in ["text", "json", "markdown"] {
        let output = server
            .command()
            .args(["plan", "--format", format, "-f"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
        assert!(stdout.contains("pw is (sensitive)"), "{format}: {stdout}");
        assert_no_canary(format, &stdout);
    }
}

#[test]
fn a_server_echoing_the_token_into_a_description_exports_sensitive_instead() {
    let server = Hostile::start(|seen| {
        if seen.path == "/apiops/projects/" {
            json(
                StatusCode::OK,
                r#"{"status":"SUCCESS","resultList":[{"name":"Payments"}]}"#,
            )
        } else if seen.path.contains("type=email") {
            json(
                StatusCode::OK,
                &format!(
                    r#"{{"success":true,"resultList":[{{"type":"email","name":"mail","host":"h","port":25,"description":"seen {CANARY_TOKEN} here"}}],"resultCount":1}}"#
                ),
            )
        } else {
            empty_list()
        }
    });
    let out = tempfile::tempdir().unwrap();
    let output = server
        .command()
        .args(["export", "--project", PROJECT, "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_no_canary("export stdout", &text(&output.stdout));
    assert_no_canary("export stderr", &stderr);
    let mut exported = String::new();
    for entry in std::fs::read_dir(out.path()).unwrap() {
        exported.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(exported.contains("seen (sensitive) here"), "{exported}");
    assert_no_canary("exported file", &exported);
}

// ---- 8. Credentials go only where the user points ------------------------------------

#[test]
fn a_server_url_with_a_password_is_refused_naming_no_password() {
    let server = Hostile::start(|_| empty_list());
    let with_password = server
        .url
        .replace("http://", "http://admin:canary-url-pw-31@");
    let dir = desired();
    for url_source in ["flag", "env"] {
        let mut cmd = server.command();
        cmd.args(["plan", "-f"]).arg(dir.path());
        if url_source == "flag" {
            cmd.args(["--server", &with_password]);
        } else {
            cmd.env("APINIZER_URL", &with_password);
        }
        let output = cmd.output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("--server must not hold a user name or password"),
            "{stderr}"
        );
        assert!(stderr.contains(&server.url), "names the bare URL: {stderr}");
        assert!(!stderr.contains("canary-url-pw-31"), "{stderr}");
        assert!(!text(&output.stdout).contains("canary-url-pw-31"));
    }
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[test]
fn apply_file_without_a_named_server_is_refused_and_never_sends_the_token_to_the_file() {
    // The plan is made against the real server, then edited to point elsewhere.
    let real = Hostile::start(|_| empty_list());
    let attacker = Hostile::start(|_| empty_list());
    let dir = desired();
    let plan_file = dir.path().join("changes.plan");
    real.command()
        .args(["plan", "-f"])
        .arg(dir.path().join("payments.yaml"))
        .arg("--out")
        .arg(&plan_file)
        .assert()
        .success();
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["server"], real.url.as_str());
    saved["server"] = attacker.url.as_str().into();
    std::fs::write(&plan_file, saved.to_string()).unwrap();

    let before = real.seen().len();
    let output = real
        .command()
        .env_remove("APINIZER_URL")
        .arg("apply")
        .arg(&plan_file)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "apply FILE sends the API token only to a server you name: pass --server {}",
            attacker.url
        )),
        "{stderr}"
    );
    assert!(
        attacker.seen().is_empty(),
        "the token went to the plan file's URL"
    );

    // Naming the real server: refused as a plan for another server, before any request.
    real.command()
        .arg("apply")
        .arg(&plan_file)
        .assert()
        .code(1)
        .stderr(contains("the plan was made for"));
    assert_eq!(real.seen().len(), before);
    assert!(attacker.seen().is_empty());
}
