//! SIGINT and SIGTERM sent to the real binary, as a pipeline's cancel button does.
//! `apply` stops starting changes, lets those in flight finish within `--timeout`, reports
//! every change so that the printed lines match what the server stored, prints the
//! summary and exits 130; a second signal exits at once. `plan`, `drift`, `export` and an
//! `apply` still planning exit 130 promptly, leave no file behind and write nothing.
//! Servers: the sandbox with `--latency`, and a hostile loopback server whose writes hang
//! or keep failing. Unix only: the signals are sent with `kill`.
#![cfg(unix)]

mod apply_support;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, text};

/// Writes one desired-state file with `count` email connections named `mail-NN`.
fn emails(dir: &Path, count: usize) {
    let mut yaml =
        String::from("apiVersion: apinizer-gitops/v1\nproject: Payments\nconnections:\n");
    for i in 0..count {
        yaml.push_str(&format!(
            "  - type: email\n    name: mail-{i:02}\n    host: smtp.example.com\n    auth: false\n"
        ));
    }
    std::fs::write(dir.join("payments.yaml"), yaml).unwrap();
}

/// Sends a signal (`INT`, `TERM`) with the `kill` command.
fn signal(child: &Child, name: &str) {
    let sent = std::process::Command::new("kill")
        .args(["-s", name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -s {name} failed");
}

/// Lines of a child's pipe as they come, on a thread.
fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Reads lines until one satisfies `wanted` (within a minute); returns all read so far.
fn read_until(lines: &mpsc::Receiver<String>, mut wanted: impl FnMut(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
            let found = wanted(&line);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }
    panic!("the wanted line never came; read: {seen:#?}");
}

/// Waits (at most `limit`) for the child to exit.
fn exit_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rest(lines: &mpsc::Receiver<String>) -> Vec<String> {
    lines.iter().collect()
}

#[test]
fn sigint_during_apply_reports_every_change_as_the_sandbox_stored_it() {
    let server = Server::start(SandboxConfig {
        projects: vec!["Payments".into()],
        latency: Some(Duration::from_millis(150)),
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    emails(dir.path(), 40);
    let mut child = server
        .process()
        .args(["apply", "--auto-approve", "--parallelism", "2", "-f"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let mut created_so_far = 0;
    let mut seen = read_until(&stdout, |line| {
        created_so_far += usize::from(line.starts_with("created "));
        created_so_far == 4
    });
    signal(&child, "INT");
    let status = exit_within(&mut child, Duration::from_secs(30));
    seen.extend(rest(&stdout));
    let errors = rest(&stderr).join("\n");
    assert_eq!(status.code(), Some(130), "{seen:#?}\n{errors}");
    assert!(
        errors.contains("SIGINT received: no new change starts"),
        "{errors}"
    );

    let stored: BTreeSet<String> = server
        .snapshot("Payments")
        .into_iter()
        .map(|c| c.name)
        .collect();
    let created: BTreeSet<String> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("created Payments/email/"))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .collect();
    let not_started: BTreeSet<String> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("not started: create Payments/email/"))
        .map(|rest| {
            rest.strip_suffix(" (interrupted by SIGINT)")
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(created, stored, "printed lines match what the server holds");
    assert!(
        created.len() >= 4 && created.len() < 40,
        "{}",
        created.len()
    );
    assert_eq!(
        created.len() + not_started.len(),
        40,
        "every change is reported"
    );
    assert!(created.is_disjoint(&not_started));
    let noun = if not_started.len() == 1 {
        "change"
    } else {
        "changes"
    };
    assert!(seen.contains(&format!(
        "Interrupted by SIGINT: {} {noun} not started, 0 interrupted; re-run apply to converge.",
        not_started.len()
    )));
    assert_eq!(
        seen.last().unwrap(),
        &format!(
            "Apply complete: {} created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed.",
            stored.len()
        )
    );

    let again = server
        .command()
        .args(["apply", "--auto-approve", "--parallelism", "8", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(server.snapshot("Payments").len(), 40, "a re-run converges");
}

/// A loopback server with one empty project whose writes never answer (`hang`) or
/// always answer 503 (`busy`); it counts the writes it received.
mod hostile {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::{get, post};

    pub struct Hostile {
        pub url: String,
        writes: Arc<AtomicUsize>,
        _runtime: tokio::runtime::Runtime,
    }

    impl Hostile {
        pub fn start() -> Hostile {
            let writes = Arc::new(AtomicUsize::new(0));
            let counter = writes.clone();
            let write = move |Path((_, name)): Path<(String, String)>| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    if name == "hang" {
                        std::future::pending::<()>().await;
                    }
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"error":"service_unavailable","error_description":"busy"}"#,
                    )
                }
            };
            let app = Router::new()
                .route(
                    "/apiops/projects/",
                    get(|| async {
                        r#"{"status":"SUCCESS","resultList":[{"name":"Payments"}],"resultCount":1}"#
                    }),
                )
                .route(
                    "/apiops/projects/Payments/connections/",
                    get(|| async { r#"{"success":true,"resultList":[],"resultCount":0}"# }),
                )
                .route(
                    "/apiops/projects/{project}/connections/{name}/",
                    post(write),
                );
            let (runtime, url) = crate::apply_support::own_runtime::serve_on_loopback(app);
            Hostile {
                url,
                writes,
                _runtime: runtime,
            }
        }

        pub fn writes(&self) -> usize {
            self.writes.load(Ordering::SeqCst)
        }
    }
}

/// `apply` of one email named `name` against the hostile server, with extra flags.
fn apply_against(server: &hostile::Hostile, dir: &Path, name: &str, extra: &[&str]) -> Child {
    let yaml = format!(
        "apiVersion: apinizer-gitops/v1\nproject: Payments\nconnections:\n  - type: email\n    name: {name}\n    host: smtp.example.com\n    auth: false\n"
    );
    std::fs::write(dir.join("payments.yaml"), yaml).unwrap();
    std::process::Command::new(assert_cmd::cargo::cargo_bin("apinizer-gitops"))
        .env_clear()
        .env("APINIZER_URL", &server.url)
        .env("APINIZER_TOKEN", "canary-hostile-token")
        .args(["apply", "--auto-approve", "-f"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the server received a write: the apply is executing.
fn wait_for_write(server: &hostile::Hostile) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.writes() == 0 {
        assert!(Instant::now() < deadline, "no write arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_signal_exits_at_once_without_waiting_for_the_hanging_write() {
    let server = hostile::Hostile::start();
    let dir = tempfile::tempdir().unwrap();
    let mut child = apply_against(&server, dir.path(), "hang", &["--timeout", "120s"]);
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    wait_for_write(&server);
    signal(&child, "TERM");
    read_until(&stderr, |l| {
        l.starts_with("SIGTERM received: no new change starts")
    });
    signal(&child, "INT");
    let status = exit_within(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let printed = rest(&stdout).join("\n");
    assert!(!printed.contains("Apply complete"), "{printed}");
    assert!(
        rest(&stderr)
            .iter()
            .any(|l| l == "SIGINT received: exiting")
    );
}

#[test]
fn a_change_still_in_flight_after_the_timeout_grace_is_reported_interrupted() {
    let server = hostile::Hostile::start();
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--timeout", "2s", "--retries", "1000"];
    let mut child = apply_against(&server, dir.path(), "busy", &flags);
    let stdout = lines_of(child.stdout.take().unwrap());
    wait_for_write(&server);
    signal(&child, "INT");
    let status = exit_within(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130));
    let printed = rest(&stdout);
    assert!(
        printed.iter().any(|l| l.starts_with(
            "interrupted: create Payments/email/busy (still in flight after the --timeout grace period that followed SIGINT"
        )),
        "{printed:#?}"
    );
    assert!(printed.contains(
        &"Interrupted by SIGINT: 0 changes not started, 1 interrupted; re-run apply to converge."
            .to_string()
    ));
    assert_eq!(
        printed.last().unwrap(),
        "Apply complete: 0 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed."
    );
}

#[test]
fn plan_drift_export_and_a_planning_apply_exit_130_promptly_and_leave_no_file() {
    let server = Server::start(SandboxConfig {
        projects: vec!["Payments".into()],
        latency: Some(Duration::from_secs(120)),
        ..SandboxConfig::default()
    });
    let files = tempfile::tempdir().unwrap();
    emails(files.path(), 1);
    let out = tempfile::tempdir().unwrap();
    let plan_file = out.path().join("changes.plan");
    let export_dir = out.path().join("exported");
    let mut plan: Vec<OsString> = vec!["plan".into(), "--out".into(), plan_file.into()];
    let mut drift: Vec<OsString> = vec!["drift".into()];
    let mut apply: Vec<OsString> = vec!["apply".into(), "--auto-approve".into()];
    for args in [&mut plan, &mut drift, &mut apply] {
        args.push("-f".into());
        args.push(files.path().into());
    }
    let export: Vec<OsString> = vec!["export".into(), "--out".into(), export_dir.into()];
    let runs = [
        (plan, "INT"),
        (drift, "TERM"),
        (export, "INT"),
        (apply, "TERM"),
    ];
    for (args, name) in runs {
        let mut child = server
            .process()
            .arg("-v")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = lines_of(child.stderr.take().unwrap());
        read_until(&stderr, |l| l.contains("listening for SIGINT and SIGTERM"));
        std::thread::sleep(Duration::from_millis(200));
        signal(&child, name);
        let status = exit_within(&mut child, Duration::from_secs(20));
        assert_eq!(status.code(), Some(130), "{args:?}");
        let files: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
        assert!(files.is_empty(), "{args:?} left {files:?}");
    }
    assert_eq!(server.sandbox.write_count(), 0, "nothing was written");
}
