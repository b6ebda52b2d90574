//! The CI recipes of `examples/ci/`: every workflow and manifest parses and keeps its
//! promises (concurrency, permissions, no retry of drift, non-root), and each recipe's
//! shell steps run exactly as the CI system would run them (the same scripts, commands
//! and environment) against the sandbox: the pull-request plan exits 0, apply exits 0,
//! and drift exits 2 after a change made behind the tool's back. The GitHub and GitLab
//! APIs the comment and plan-lookup scripts call are a test server written here.

mod plan_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use plan_support::{Server, TOKEN, canary_env, serve};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_documents(relative: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(relative)).unwrap();
    serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh checkout: each (folder of this repository, place in the checkout).
fn lay_out(folders: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in folders {
        copy_tree(&repo().join(from), &dir.path().join(to));
    }
    dir
}

/// A fresh checkout as the recipes' READMEs lay it out: `connections/` (the examples)
/// and `ci/apinizer-gitops/` (examples/ci/scripts).
fn checkout() -> tempfile::TempDir {
    lay_out(&[
        ("examples/connections", "connections"),
        ("examples/ci/scripts", "ci/apinizer-gitops"),
    ])
}

/// A checkout of the environments recipes: one set of connections, `env/<name>.yaml`
/// per environment (examples/environments) and the scripts.
fn environments_checkout() -> tempfile::TempDir {
    lay_out(&[
        ("examples/environments/connections", "connections"),
        ("examples/environments/env", "env"),
        ("examples/ci/scripts", "ci/apinizer-gitops"),
    ])
}

/// The environments of examples/environments/env, sorted.
fn environment_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("examples/environments/env"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// One installation of the environments example: its own sandbox (project Payments,
/// empty) and the secrets and CI variables its jobs get.
struct Installation {
    name: String,
    server: Server,
    secrets: BTreeMap<String, String>,
}

/// One sandbox per environment of examples/environments (production, staging).
fn installations() -> Vec<Installation> {
    environment_names()
        .into_iter()
        .map(|name| {
            let server = serve(Vec::new(), &["Payments"]);
            let connections = repo().join("examples/environments/connections");
            let mut secrets: BTreeMap<String, String> = canary_env(&connections)
                .into_iter()
                .map(|(k, v)| (k, format!("{v}-{name}")))
                .collect();
            add_server_credentials(&mut secrets, &server);
            Installation {
                name,
                server,
                secrets,
            }
        })
        .collect()
}

/// The SMTP host each environment's values file gives alerts-smtp.
fn smtp_host(environment: &str) -> &'static str {
    match environment {
        "staging" => "smtp.staging.internal",
        _ => "smtp.example.com",
    }
}

/// Changes alerts-smtp's description in one installation, as a person in its console would.
fn change_alerts_smtp_behind_the_back(server: &Server) {
    edit_by_hand(server, "Payments", "alerts-smtp");
}

/// Fails when a log holds a value of a secret (a password canary).
fn assert_no_secret(secrets: &BTreeMap<String, String>, logs: &[&str]) {
    let secret_values = secrets
        .iter()
        .filter(|(k, _)| k.contains("PASSWORD"))
        .map(|(_, v)| v);
    for secret in secret_values {
        for log in logs {
            assert!(
                !log.contains(secret.as_str()),
                "a secret in the log:\n{log}"
            );
        }
    }
}

/// PATH with the built binary first, as the install step leaves it.
fn path_with_binary() -> String {
    let binary = assert_cmd::cargo::cargo_bin("apinizer-gitops");
    let bin_dir = binary.parent().unwrap().display().to_string();
    format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default())
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn shell(argv: &[&str], script: &str, dir: &Path, env: &BTreeMap<String, String>) -> Ran {
    let output = Command::new(argv[0])
        .args(&argv[1..])
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_with_binary())
        .env("HOME", dir)
        .envs(env)
        .output()
        .unwrap();
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The sandbox with the examples' two projects, empty, and the values of the secrets
/// and CI variables the recipes read.
fn sandbox() -> (Server, BTreeMap<String, String>) {
    let server = serve(Vec::new(), &["Payments", "Observability"]);
    let mut secrets = canary_env(&repo().join("examples/connections"));
    add_server_credentials(&mut secrets, &server);
    (server, secrets)
}

/// The CI variables that point the recipes at `server`: its URL and the tokens.
fn add_server_credentials(secrets: &mut BTreeMap<String, String>, server: &Server) {
    secrets.insert("APINIZER_URL".into(), server.url.clone());
    for token in [
        "APINIZER_TOKEN",
        "APINIZER_READ_TOKEN",
        "APINIZER_WRITE_TOKEN",
    ] {
        secrets.insert(token.into(), TOKEN.into());
    }
}

/// Changes a connection's description through the API, as a person in the console would.
fn change_behind_the_back(server: &Server) {
    edit_by_hand(server, "Observability", "audit-syslog");
}

/// Sets a connection's description to "edited by hand" with a raw PUT.
fn edit_by_hand(server: &Server, project: &str, name: &str) {
    let mut connection = server.get(project, name);
    connection
        .fields
        .insert("description".into(), json!("edited by hand"));
    server.put(project, &connection);
}

// ---------------------------------------------------------------------------------
// A fake GitHub and GitLab API: comments / notes, the pull request of a commit, runs.

#[derive(Default)]
struct Api {
    comments: Vec<Value>,
    next_id: u64,
    auth: Vec<String>,
}

const HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const WORKFLOW: &str = ".github/workflows/apinizer-gitops.yml";

fn api_answer(api: &mut Api, method: &str, path: &str, query: &str, body: &str) -> (u16, Value) {
    let page = query
        .split('&')
        .find_map(|p| p.strip_prefix("page="))
        .unwrap_or("1");
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let github = "/repos/acme/connections";
    let gitlab = "/api/v4/projects/5/merge_requests/3/notes";
    let list = |api: &Api| {
        if page == "1" {
            json!(api.comments)
        } else {
            json!([])
        }
    };
    match (method, path) {
        ("GET", p) if p == format!("{github}/issues/7/comments") || p == gitlab => (200, list(api)),
        ("POST", p) if p == format!("{github}/issues/7/comments") || p == gitlab => {
            api.next_id += 1;
            let comment = json!({
                "id": api.next_id,
                "body": body["body"],
                "user": {"login": "github-actions[bot]"},
                "author": {"id": 42},
            });
            api.comments.push(comment.clone());
            (201, comment)
        }
        ("PATCH" | "PUT", p) => {
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let comment = api.comments.iter_mut().find(|c| c["id"] == id);
            let comment = comment.expect("updates an existing comment");
            comment["body"] = body["body"].clone();
            (200, comment.clone())
        }
        ("GET", "/api/v4/user") => (200, json!({"id": 42, "username": "project_5_bot"})),
        ("GET", p) if p == format!("{github}/commits/{HEAD_SHA}/pulls") => (
            200,
            json!([{"number": 7, "merged_at": "2026-12-01T10:00:00Z", "head": {"sha": HEAD_SHA}}]),
        ),
        ("GET", p) if p == format!("{github}/commits/ffff/pulls") => (200, json!([])),
        ("GET", p) if p == format!("{github}/actions/runs") => (
            200,
            json!({"workflow_runs": [
                {"id": 98, "run_number": 2, "path": WORKFLOW},
                {"id": 555, "run_number": 9, "path": ".github/workflows/other.yml"},
                {"id": 99, "run_number": 3, "path": WORKFLOW},
            ]}),
        ),
        _ => (404, json!({"message": "Not Found"})),
    }
}

struct FakeApi {
    url: String,
    state: Arc<Mutex<Api>>,
    _runtime: tokio::runtime::Runtime,
}

fn fake_api(comments: Vec<Value>) -> FakeApi {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    let next_id = 1000;
    let state = Arc::new(Mutex::new(Api {
        comments,
        next_id,
        auth: Vec::new(),
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let shared = state.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let shared = shared.clone();
            async move {
                let mut api = shared.lock().unwrap();
                for name in ["authorization", "private-token"] {
                    if let Some(value) = headers.get(name) {
                        api.auth
                            .push(format!("{name}: {}", value.to_str().unwrap()));
                    }
                }
                let (status, value) = api_answer(
                    &mut api,
                    method.as_str(),
                    uri.path(),
                    uri.query().unwrap_or(""),
                    &String::from_utf8_lossy(&body),
                );
                (StatusCode::from_u16(status).unwrap(), axum::Json(value))
            }
        },
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeApi {
        url,
        state,
        _runtime: runtime,
    }
}

// ---------------------------------------------------------------------------------
// GitHub Actions: a small runner for the recipe's jobs.

const GITHUB_RECIPE: &str = "examples/ci/github-actions/apinizer-gitops.yml";
const GITHUB_ENVIRONMENTS_RECIPE: &str =
    "examples/ci/github-actions/apinizer-gitops-environments.yml";

fn github_workflow() -> Value {
    workflow(GITHUB_RECIPE)
}

fn workflow(recipe: &str) -> Value {
    let mut documents = yaml_documents(recipe);
    assert_eq!(documents.len(), 1);
    documents.remove(0)
}

/// What a job run left: its exit code per step name, and its checkout.
struct JobRun {
    codes: BTreeMap<String, i32>,
    dir: tempfile::TempDir,
    log: String,
}

/// Runs one job of the workflow as the runner would: each `run` step in
/// `bash --noprofile --norc -eo pipefail`, with the workflow, job and step `env`
/// (expressions resolved from `context`), `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`
/// files, and step outputs. Install steps are replaced by the built binary on PATH;
/// artifacts go to and come from `artifacts`. After a failing step only `if: always()`
/// steps run.
fn run_github_job(job_name: &str, context: &BTreeMap<String, String>, artifacts: &Path) -> JobRun {
    run_workflow_job(GITHUB_RECIPE, checkout(), job_name, context, artifacts)
}

/// [`run_github_job`] for one environment of the environments recipe (`context` holds
/// `matrix.environment` and that environment's secrets).
fn run_environment_job(
    job_name: &str,
    context: &BTreeMap<String, String>,
    artifacts: &Path,
) -> JobRun {
    run_environment_job_in(environments_checkout(), job_name, context, artifacts)
}

/// [`run_environment_job`] in a given checkout.
fn run_environment_job_in(
    checkout: tempfile::TempDir,
    job_name: &str,
    context: &BTreeMap<String, String>,
    artifacts: &Path,
) -> JobRun {
    let workflow = workflow(GITHUB_ENVIRONMENTS_RECIPE);
    if let Some(listed) = workflow["jobs"][job_name]["strategy"]["matrix"]["environment"].as_array()
    {
        let environment = &context["matrix.environment"];
        assert!(
            listed.contains(&json!(environment)),
            "{job_name}: {environment}"
        );
    }
    run_workflow_job(
        GITHUB_ENVIRONMENTS_RECIPE,
        checkout,
        job_name,
        context,
        artifacts,
    )
}

fn run_workflow_job(
    recipe: &str,
    checkout: tempfile::TempDir,
    job_name: &str,
    context: &BTreeMap<String, String>,
    artifacts: &Path,
) -> JobRun {
    let workflow = workflow(recipe);
    let job = &workflow["jobs"][job_name];
    let dir = checkout.path();
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    let resolve = |text: &str, outputs: &BTreeMap<String, String>| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            let expression = rest[start + 3..end].trim();
            let value = context
                .get(expression)
                .or_else(|| outputs.get(expression))
                .unwrap_or_else(|| panic!("the test does not know `{expression}`"));
            out.push_str(value);
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    };
    let mut codes = BTreeMap::new();
    let mut log = String::new();
    let mut failed = false;
    for (index, step) in job["steps"].as_array().unwrap().iter().enumerate() {
        // After a failure only `if: always()` steps run.
        if failed && !step["if"].as_str().is_some_and(|c| c.contains("always()")) {
            continue;
        }
        let name = step["name"]
            .as_str()
            .or(step["uses"].as_str())
            .unwrap()
            .to_string();
        let inputs = |key: &str| step["with"][key].as_str().map(|v| resolve(v, &outputs));
        if let Some(action) = step["uses"].as_str() {
            if action.starts_with("actions/upload-artifact@") {
                let store = artifacts.join(inputs("name").unwrap());
                std::fs::create_dir_all(&store).unwrap();
                for file in inputs("path").unwrap().lines().map(str::trim) {
                    if dir.join(file).exists() {
                        std::fs::copy(dir.join(file), store.join(file)).unwrap();
                    }
                }
            } else if action.starts_with("actions/download-artifact@") {
                let store = artifacts.join(inputs("name").unwrap());
                assert!(store.is_dir(), "{name}: no artifact {}", store.display());
                copy_tree(&store, dir);
            } else {
                assert!(action.starts_with("actions/checkout@"), "{action}");
            }
            codes.insert(name, 0);
            continue;
        }
        let script = step["run"].as_str().unwrap();
        assert!(
            !script.contains("${{"),
            "{name}: expressions belong in env, never in a script (injection)"
        );
        if name.starts_with("Install") {
            continue;
        }
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for scope in [&workflow["env"], &job["env"], &step["env"]] {
            for (key, value) in scope.as_object().into_iter().flatten() {
                let text = value.as_str().map_or(value.to_string(), str::to_string);
                env.insert(key.clone(), resolve(&text, &outputs));
            }
        }
        let output_file = dir.join(format!(".github-output-{index}"));
        std::fs::write(&output_file, "").unwrap();
        env.insert("GITHUB_OUTPUT".into(), output_file.display().to_string());
        env.insert(
            "GITHUB_STEP_SUMMARY".into(),
            dir.join(".summary").display().to_string(),
        );
        for key in ["GITHUB_API_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"] {
            if let Some(value) = context.get(key) {
                env.insert(key.into(), value.clone());
            }
        }
        let ran = shell(
            &["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"],
            script,
            dir,
            &env,
        );
        log.push_str(&format!(
            "--- {name} (exit {})\n{}{}",
            ran.code, ran.stdout, ran.stderr
        ));
        if let (Some(id), Ok(text)) = (step["id"].as_str(), std::fs::read_to_string(&output_file)) {
            for line in text.lines() {
                let (key, value) = line.split_once('=').unwrap();
                outputs.insert(format!("steps.{id}.outputs.{key}"), value.to_string());
            }
        }
        codes.insert(name, ran.code);
        failed |= ran.code != 0;
    }
    JobRun {
        codes,
        dir: checkout,
        log,
    }
}

impl JobRun {
    /// Checks a step's exit code, showing the job's log when it differs.
    fn exited(&self, step: &str, code: i32) -> &Self {
        assert_eq!(self.codes.get(step), Some(&code), "{step}:\n{}", self.log);
        self
    }

    /// Checks that the job's log says `text`.
    fn says(&self, text: &str) -> &Self {
        assert!(self.log.contains(text), "no {text:?} in:\n{}", self.log);
        self
    }
}

fn github_context(
    server_secrets: &BTreeMap<String, String>,
    api: &FakeApi,
) -> BTreeMap<String, String> {
    let mut context: BTreeMap<String, String> = server_secrets
        .iter()
        .map(|(k, v)| (format!("secrets.{k}"), v.clone()))
        .collect();
    context.insert("github.token".into(), "gh-token-canary".into());
    context.insert("github.event.pull_request.number".into(), "7".into());
    context.insert("github.event.pull_request.base.sha".into(), "base".into());
    context.insert("GITHUB_API_URL".into(), api.url.clone());
    context.insert("GITHUB_REPOSITORY".into(), "acme/connections".into());
    context.insert("GITHUB_SHA".into(), HEAD_SHA.into());
    context
}

/// The comment job may write pull-request comments only, and runs the base's script.
fn assert_comment_job_writes_only_comments_from_the_base(jobs: &Value) {
    assert_eq!(
        jobs["comment"]["permissions"],
        json!({"contents": "read", "pull-requests": "write"})
    );
    assert_eq!(
        jobs["comment"]["steps"][0]["with"]["ref"],
        "${{ github.event.pull_request.base.sha }}"
    );
}

#[test]
fn github_workflow_keeps_its_promises() {
    let workflow = github_workflow();
    let on = &workflow["on"];
    assert!(on["pull_request"].is_object() && on["push"].is_object());
    assert!(on["schedule"][0]["cron"].is_string());
    assert_eq!(workflow["permissions"], json!({}));
    let jobs = &workflow["jobs"];
    // Pull-request jobs run the branch's code: read-only GitHub token, read-only
    // Apinizer token; the comment job writes only comments and runs the base's script.
    assert_eq!(jobs["plan"]["permissions"], json!({"contents": "read"}));
    let plan_text = jobs["plan"].to_string();
    assert!(!plan_text.contains("secrets.APINIZER_TOKEN"), "{plan_text}");
    assert_comment_job_writes_only_comments_from_the_base(jobs);
    // Two applies never interleave, and a queued one is not cancelled.
    assert_eq!(
        jobs["apply"]["concurrency"],
        json!({"group": "apinizer-gitops-apply", "cancel-in-progress": false})
    );
    assert_eq!(
        jobs["drift"]["if"],
        "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    );
}

#[test]
fn github_recipe_plans_comments_applies_the_reviewed_plan_and_detects_drift() {
    let (server, secrets) = sandbox();
    let api = fake_api(Vec::new());
    let context = github_context(&secrets, &api);
    let artifacts = tempfile::tempdir().unwrap();

    // Pull request: validate, plan (exit 0), the plan uploaded, one comment.
    let plan = run_github_job("plan", &context, artifacts.path());
    assert!(plan.codes.values().all(|c| *c == 0), "{}", plan.log);
    assert_eq!(plan.codes["Plan"], 0);
    let summary = std::fs::read_to_string(plan.dir.path().join(".summary")).unwrap();
    assert!(summary.contains("14"), "{summary}");
    assert!(
        artifacts
            .path()
            .join("apinizer-plan-7/changes.plan")
            .is_file()
    );
    // Someone else's comment carrying the same marker, found first.
    let markdown = std::fs::read_to_string(plan.dir.path().join("plan.md")).unwrap();
    let marker = markdown.lines().next().unwrap();
    assert!(
        marker.starts_with("<!-- apinizer-gitops plan "),
        "{markdown}"
    );
    let look_alike = format!("{marker} not ours");
    api.state.lock().unwrap().comments.push(json!({
        "id": 1, "user": {"login": "mallory"}, "author": {"id": 666}, "body": look_alike,
    }));
    let comment = run_github_job("comment", &context, artifacts.path());
    assert!(comment.codes.values().all(|c| *c == 0), "{}", comment.log);
    let comment_again = run_github_job("comment", &context, artifacts.path());
    assert!(
        comment_again.codes.values().all(|c| *c == 0),
        "{}",
        comment_again.log
    );
    {
        let api = api.state.lock().unwrap();
        // One comment of ours, updated in place; the look-alike left alone.
        assert_eq!(api.comments.len(), 2, "{:?}", api.comments);
        assert_eq!(api.comments[0]["body"], look_alike.as_str());
        assert_eq!(api.comments[1]["body"], markdown.as_str());
        assert!(
            api.comments[1]["body"]
                .as_str()
                .unwrap()
                .contains("<!-- apinizer-gitops plan")
        );
        assert!(
            api.auth
                .iter()
                .all(|a| a == "authorization: Bearer gh-token-canary")
        );
    }
    comment_again.says("Updated the plan comment (1001)");

    // Merge: the reviewed plan of pull request 7 (the newest run) is applied.
    let apply = run_github_job("apply", &context, artifacts.path());
    apply.exited("Apply the reviewed plan (refused when stale)", 0);
    apply.says("pull request #7 (run 99");
    apply.says("Apply complete: 14 created");
    // A pull request whose plan would delete (the pruned project holds a connection
    // the files do not declare) is refused under the recipe's APINIZER_MAX_DELETES=0.
    let mut stray = server.get("Payments", "alerts-smtp");
    stray.name = "stray-smtp".into();
    server.with_client(async |client| {
        client.create_connection("Payments", &stray).await.unwrap();
    });
    let guarded = run_github_job("plan", &context, tempfile::tempdir().unwrap().path());
    guarded.exited("Plan", 1);
    guarded.says("more than --max-deletes 0 allows");
    server.with_client(async |client| {
        client
            .delete_connection("Payments", "stray-smtp")
            .await
            .unwrap();
    });

    // Nightly: in sync, then drift after a change behind the tool's back.
    let drift = run_github_job("drift", &context, artifacts.path());
    drift.exited("Drift (exit 2 fails the job)", 0);
    change_behind_the_back(&server);
    let drift = run_github_job("drift", &context, artifacts.path());
    drift.exited("Drift (exit 2 fails the job)", 2);
    let report =
        std::fs::read_to_string(artifacts.path().join("apinizer-drift-report/drift.json")).unwrap();
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["summary"]["update"], 1, "{report}");

    // A reviewed plan that went stale is refused, nothing written.
    let stale = tempfile::tempdir().unwrap();
    copy_tree(artifacts.path(), stale.path());
    let fresh = run_github_job("plan", &context, stale.path());
    fresh.exited("Plan", 0);
    let mut syslog = server.get("Observability", "audit-syslog");
    syslog
        .fields
        .insert("description".into(), json!("edited again"));
    server.put("Observability", &syslog);
    let refused = run_github_job("apply", &context, stale.path());
    refused.exited("Apply the reviewed plan (refused when stale)", 1);
    refused.says("stale");
    assert_eq!(
        server.get("Observability", "audit-syslog").fields["description"],
        "edited again"
    );
    assert_no_secret(&secrets, &[&plan.log, &apply.log, &refused.log, &drift.log]);
}

#[test]
fn the_comment_script_refuses_a_crafted_comment_id() {
    let (_server, secrets) = sandbox();
    let api = fake_api(Vec::new());
    let context = github_context(&secrets, &api);
    let artifacts = tempfile::tempdir().unwrap();
    let plan = run_github_job("plan", &context, artifacts.path());
    let markdown = std::fs::read_to_string(plan.dir.path().join("plan.md")).unwrap();
    let marker = markdown.lines().next().unwrap().to_string();
    api.state.lock().unwrap().comments.push(json!({
        "id": "5/../../../../admin", "user": {"login": "github-actions[bot]"}, "body": marker,
    }));
    let comment = run_github_job("comment", &context, artifacts.path());
    comment.exited("Post or update the plan comment", 1);
    comment.says("the comment id must be a number");
    assert_eq!(
        api.state.lock().unwrap().comments.len(),
        1,
        "nothing posted"
    );
}

#[test]
fn github_apply_without_a_reviewed_plan_applies_nothing() {
    let (server, secrets) = sandbox();
    let api = fake_api(Vec::new());
    let mut context = github_context(&secrets, &api);
    context.insert("GITHUB_SHA".into(), "ffff".into());
    let artifacts = tempfile::tempdir().unwrap();
    let apply = run_github_job("apply", &context, artifacts.path());
    let step = "Find the plan reviewed in the merged pull request";
    apply.exited(step, 1);
    apply.says("no merged pull request contains ffff");
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------------------------
// GitHub Actions over environments: one set of files, a matrix per environment.

#[test]
fn github_environments_workflow_keeps_its_promises() {
    let workflow = workflow(GITHUB_ENVIRONMENTS_RECIPE);
    assert_eq!(workflow["permissions"], json!({}));
    let jobs = &workflow["jobs"];
    let environments = json!(environment_names());
    for job in ["plan", "comment", "apply", "drift"] {
        let strategy = &jobs[job]["strategy"];
        let mut listed: Vec<Value> = strategy["matrix"]["environment"]
            .as_array()
            .unwrap()
            .clone();
        listed.sort_by_key(|v| v.to_string());
        assert_eq!(
            json!(listed),
            environments,
            "{job}: the example's environments"
        );
        // One environment's failure never cancels another's job (an apply half way).
        assert_eq!(strategy["fail-fast"], false, "{job}");
    }
    // Pull-request and drift jobs: read-only everywhere, this environment's read token,
    // its values file, and no connection secret (previews need none).
    for job in ["validate", "plan", "drift"] {
        assert_eq!(
            jobs[job]["permissions"],
            json!({"contents": "read"}),
            "{job}"
        );
        let text = jobs[job].to_string();
        assert!(!text.contains("secrets.APINIZER_TOKEN"), "{text}");
        assert!(!text.contains("PASSWORD"), "{text}");
    }
    for job in ["plan", "drift"] {
        assert_eq!(jobs[job]["environment"], "${{ matrix.environment }}-read");
        assert_eq!(
            jobs[job]["env"]["APINIZER_GITOPS_VALUES"],
            "env/${{ matrix.environment }}.yaml"
        );
    }
    assert_comment_job_writes_only_comments_from_the_base(jobs);
    // Applies: the environment's protected GitHub Environment, one at a time each.
    let apply = &jobs["apply"];
    assert_eq!(apply["environment"], "${{ matrix.environment }}");
    assert_eq!(
        apply["concurrency"],
        json!({"group": "apinizer-gitops-apply-${{ matrix.environment }}", "cancel-in-progress": false})
    );
    assert!(apply.to_string().contains("secrets.PAYMENTS_DB_PASSWORD"));
    assert!(!workflow["env"].to_string().contains("secrets."));
}

#[test]
fn github_environments_recipe_keeps_one_comment_one_apply_and_one_drift_per_environment() {
    let installations = installations();
    let api = fake_api(Vec::new());
    let artifacts = tempfile::tempdir().unwrap();
    let contexts: Vec<BTreeMap<String, String>> = installations
        .iter()
        .map(|installation| {
            let mut context = github_context(&installation.secrets, &api);
            context.insert("matrix.environment".into(), installation.name.clone());
            context
        })
        .collect();
    let each = || installations.iter().zip(&contexts);

    // Pull request: validate every environment once, then a plan per environment.
    let validate = run_environment_job("validate", &contexts[0], artifacts.path());
    validate.exited("Validate every environment (annotations on the diff)", 0);
    let mut markdowns = Vec::new();
    let mut logs = vec![validate.log.clone()];
    for (installation, context) in each() {
        let plan = run_environment_job("plan", context, artifacts.path());
        assert!(plan.codes.values().all(|c| *c == 0), "{}", plan.log);
        let store = artifacts
            .path()
            .join(format!("apinizer-plan-7-{}", installation.name));
        assert!(store.join("changes.plan").is_file());
        let markdown = std::fs::read_to_string(store.join("plan.md")).unwrap();
        assert!(
            markdown.contains(&format!("environment `{}`", installation.name)),
            "{markdown}"
        );
        assert!(
            markdown.contains(smtp_host(&installation.name)),
            "{markdown}"
        );
        markdowns.push(markdown);
        logs.push(plan.log);
    }
    let markers: Vec<&str> = markdowns
        .iter()
        .map(|m| m.lines().next().unwrap())
        .collect();
    assert_ne!(markers[0], markers[1], "one marker per environment");

    // One comment per environment, updated in place on the next push.
    for round in ["Posted the plan comment", "Updated the plan comment"] {
        for (_, context) in each() {
            let comment = run_environment_job("comment", context, artifacts.path());
            comment
                .exited("Post or update the plan comment", 0)
                .says(round);
        }
    }
    {
        let api = api.state.lock().unwrap();
        let bodies: Vec<&str> = api
            .comments
            .iter()
            .map(|c| c["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, markdowns, "two comments, neither duplicated");
    }

    // Merge: each environment applies its own reviewed plan, with its own values.
    for (installation, context) in each() {
        let apply = run_environment_job("apply", context, artifacts.path());
        apply.exited("Apply the reviewed plan (refused when stale)", 0);
        apply.says("Apply complete: 2 created");
        let smtp = installation.server.get("Payments", "alerts-smtp");
        assert_eq!(smtp.fields["host"], smtp_host(&installation.name));
        logs.push(apply.log);
    }
    // A plan reviewed for one environment is refused by the other's apply job.
    let (production, staging) = (&installations[0], &installations[1]);
    let crossed = tempfile::tempdir().unwrap();
    copy_tree(
        &artifacts.path().join("apinizer-plan-7-staging"),
        &crossed.path().join("apinizer-plan-7-production"),
    );
    let writes = production.server.writes();
    let refused = run_environment_job("apply", &contexts[0], crossed.path());
    refused.exited("Apply the reviewed plan (refused when stale)", 1);
    refused.says("the plan was made for");
    assert_eq!(production.server.writes(), writes, "nothing written");
    // A values file changed on main since the review: the reviewed plan is refused.
    let reviewed = tempfile::tempdir().unwrap();
    run_environment_job("plan", &contexts[1], reviewed.path()).exited("Plan", 0);
    let merged = environments_checkout();
    let values = merged.path().join("env/staging.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    std::fs::write(&values, text.replace("SMTP_PORT: 2525", "SMTP_PORT: 2526")).unwrap();
    let writes = staging.server.writes();
    let refused = run_environment_job_in(merged, "apply", &contexts[1], reviewed.path());
    refused.exited("Apply the reviewed plan (refused when stale)", 1);
    refused.says("disagree with the plan file");
    assert_eq!(staging.server.writes(), writes, "nothing written");

    // Nightly: in sync everywhere; a change behind the back in staging only.
    for (_, context) in each() {
        let drift = run_environment_job("drift", context, artifacts.path());
        drift.exited("Drift (exit 2 fails the job)", 0);
    }
    change_alerts_smtp_behind_the_back(&staging.server);
    for (installation, context) in each() {
        let drift = run_environment_job("drift", context, artifacts.path());
        let expected = if installation.name == "staging" { 2 } else { 0 };
        drift.exited("Drift (exit 2 fails the job)", expected);
        let report = artifacts.path().join(format!(
            "apinizer-drift-report-{}/drift.json",
            installation.name
        ));
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
        assert_eq!(
            report["environment"],
            installation.name.as_str(),
            "{report}"
        );
        assert_eq!(report["summary"]["update"], expected / 2, "{report}");
        logs.push(drift.log);
    }
    let logs: Vec<&str> = logs.iter().map(String::as_str).collect();
    for installation in &installations {
        assert_no_secret(&installation.secrets, &logs);
    }
}

// ---------------------------------------------------------------------------------
// GitLab CI.

const GITLAB_RECIPE: &str = "examples/ci/gitlab-ci/.gitlab-ci.yml";
const GITLAB_ENVIRONMENTS_RECIPE: &str = "examples/ci/gitlab-ci/environments.gitlab-ci.yml";

/// Expands `$NAME` and `${NAME}` from `variables`, as GitLab expands job variables.
fn expand(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let (name, after) = match tail.strip_prefix('{') {
            Some(braced) => braced.split_once('}').expect("closed ${"),
            None => {
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                (&tail[..end], &tail[end..])
            }
        };
        let value = variables.get(name);
        out.push_str(value.unwrap_or_else(|| panic!("the test does not know `${name}`")));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The job and the templates it `extends`, templates first (their keys are overridden).
fn with_templates<'a>(pipeline: &'a Value, job: &'a Value) -> Vec<&'a Value> {
    let names = match &job["extends"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().map(|n| n.as_str().unwrap()).collect(),
        _ => Vec::new(),
    };
    let mut chain: Vec<&Value> = names.into_iter().map(|n| &pipeline[n]).collect();
    chain.push(job);
    chain
}

/// Runs a job's `script` lines in one `sh -e`, as the runner does, with the pipeline's
/// and the job's `variables` (`$NAME` expanded from the CI/CD variables) on top of
/// `ci_variables`. Package installation lines (`apk add`) are left out: the test
/// machine has curl and jq.
fn run_gitlab_job(name: &str, ci_variables: &BTreeMap<String, String>, dir: &Path) -> Ran {
    run_pipeline_job(GITLAB_RECIPE, name, ci_variables, dir)
}

/// [`run_gitlab_job`] for any pipeline file, with `extends` (the templates' variables
/// under the job's) and `parallel: matrix:` (the instance's variables are in
/// `ci_variables`, and must be one the matrix lists).
fn run_pipeline_job(
    recipe: &str,
    name: &str,
    ci_variables: &BTreeMap<String, String>,
    dir: &Path,
) -> Ran {
    let pipeline = yaml_documents(recipe).remove(0);
    let job = &pipeline[name];
    let chain = with_templates(&pipeline, job);
    for part in &chain {
        for instance in part["parallel"]["matrix"].as_array().into_iter().flatten() {
            for (key, listed) in instance.as_object().unwrap() {
                let value = ci_variables.get(key).expect("a matrix instance");
                let listed = listed.as_array().unwrap();
                assert!(listed.contains(&json!(value)), "{name}: {key}={value}");
            }
        }
    }
    let mut env = ci_variables.clone();
    let scopes =
        std::iter::once(&pipeline["variables"]).chain(chain.iter().map(|p| &p["variables"]));
    for scope in scopes {
        for (key, value) in scope.as_object().into_iter().flatten() {
            let text = expand(value.as_str().unwrap(), &env);
            env.insert(key.clone(), text);
        }
    }
    let lines: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| !l.starts_with("apk add"))
        .collect();
    shell(&["sh", "-e", "-c"], &lines.join("\n"), dir, &env)
}

/// Apply holds `resource_group` and the write token; plan and drift the read token only.
fn assert_gitlab_apply_locks_and_tokens(pipeline: &Value, resource_group: &str) {
    assert_eq!(pipeline["apply"]["resource_group"], resource_group);
    assert_eq!(
        pipeline["apply"]["variables"]["APINIZER_TOKEN"],
        "$APINIZER_WRITE_TOKEN"
    );
    for job in ["plan", "drift"] {
        assert_eq!(
            pipeline[job]["variables"]["APINIZER_TOKEN"],
            "$APINIZER_READ_TOKEN"
        );
    }
}

#[test]
fn gitlab_pipeline_keeps_its_promises() {
    let pipeline = yaml_documents(GITLAB_RECIPE).remove(0);
    assert_gitlab_apply_locks_and_tokens(&pipeline, "apinizer-production");
    assert_eq!(
        pipeline["drift"]["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"schedule\""
    );
    assert_eq!(
        pipeline["validate"]["artifacts"]["reports"]["codequality"],
        "gl-code-quality-report.json"
    );
    assert_eq!(
        pipeline[".apinizer-gitops"]["image"]["entrypoint"],
        json!([""])
    );
}

#[test]
fn gitlab_recipe_plans_notes_applies_and_detects_drift() {
    let (server, mut variables) = sandbox();
    let api = fake_api(Vec::new());
    variables.insert("CI_API_V4_URL".into(), format!("{}/api/v4", api.url));
    variables.insert("CI_PROJECT_ID".into(), "5".into());
    variables.insert("CI_MERGE_REQUEST_IID".into(), "3".into());
    variables.insert("GITLAB_NOTE_TOKEN".into(), "glpat-canary".into());
    let mr = checkout();
    let validate = run_gitlab_job("validate", &variables, mr.path());
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);
    let report = std::fs::read_to_string(mr.path().join("gl-code-quality-report.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&report).unwrap(), json!([]));
    let plan = run_gitlab_job("plan", &variables, mr.path());
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    for _ in 0..2 {
        let note = run_gitlab_job("plan-note", &variables, mr.path());
        assert_eq!(note.code, 0, "{}{}", note.stdout, note.stderr);
    }
    {
        let api = api.state.lock().unwrap();
        assert_eq!(api.comments.len(), 1, "one note, updated in place");
        assert!(api.auth.iter().all(|a| a == "private-token: glpat-canary"));
    }

    let main = checkout();
    let apply = run_gitlab_job("apply", &variables, main.path());
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("Apply complete: 14 created"),
        "{}",
        apply.stdout
    );
    let drift = run_gitlab_job("drift", &variables, main.path());
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    change_behind_the_back(&server);
    let drift = run_gitlab_job("drift", &variables, main.path());
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(main.path().join("drift.json").is_file());

    // A broken file: validate fails, with the Code Quality report written.
    std::fs::write(
        main.path().join("connections/broken.yaml"),
        "project: P\nconnections:\n  - type: emial\n    name: x\n",
    )
    .unwrap();
    let invalid = run_gitlab_job("validate", &variables, main.path());
    assert_eq!(invalid.code, 1);
    let report = std::fs::read_to_string(main.path().join("gl-code-quality-report.json")).unwrap();
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report[0]["location"]["path"], "connections/broken.yaml");
}

#[test]
fn gitlab_environments_pipeline_keeps_its_promises() {
    let pipeline = yaml_documents(GITLAB_ENVIRONMENTS_RECIPE).remove(0);
    let template = &pipeline[".per-environment"];
    let mut listed = template["parallel"]["matrix"][0]["APINIZER_ENVIRONMENT"]
        .as_array()
        .unwrap()
        .clone();
    listed.sort_by_key(|v| v.to_string());
    assert_eq!(json!(listed), json!(environment_names()));
    assert_eq!(
        template["variables"]["APINIZER_GITOPS_VALUES"],
        "env/$APINIZER_ENVIRONMENT.yaml"
    );
    for job in ["plan", "apply", "drift"] {
        let extends = pipeline[job]["extends"].as_array().unwrap();
        assert!(extends.contains(&json!(".per-environment")), "{job}");
        // The environment's scoped variables (URL, tokens, secrets) reach the job.
        assert_eq!(
            pipeline[job]["environment"]["name"],
            "$APINIZER_ENVIRONMENT"
        );
    }
    // Reading jobs are no deployments; only apply deploys, one at a time per environment.
    assert_eq!(pipeline["plan"]["environment"]["action"], "prepare");
    assert_eq!(pipeline["drift"]["environment"]["action"], "verify");
    assert!(pipeline["apply"]["environment"]["action"].is_null());
    assert_gitlab_apply_locks_and_tokens(&pipeline, "apinizer-$APINIZER_ENVIRONMENT");
}

#[test]
fn gitlab_environments_recipe_keeps_one_note_one_apply_and_one_drift_per_environment() {
    let installations = installations();
    let api = fake_api(Vec::new());
    let variables: Vec<BTreeMap<String, String>> = installations
        .iter()
        .map(|installation| {
            let mut variables = installation.secrets.clone();
            variables.insert("APINIZER_ENVIRONMENT".into(), installation.name.clone());
            variables.insert("CI_API_V4_URL".into(), format!("{}/api/v4", api.url));
            variables.insert("CI_PROJECT_ID".into(), "5".into());
            variables.insert("CI_MERGE_REQUEST_IID".into(), "3".into());
            variables.insert("GITLAB_NOTE_TOKEN".into(), "glpat-canary".into());
            variables
        })
        .collect();
    let run = |job: &str, variables: &BTreeMap<String, String>, dir: &Path| {
        let ran = run_pipeline_job(GITLAB_ENVIRONMENTS_RECIPE, job, variables, dir);
        (ran.code, format!("{}{}", ran.stdout, ran.stderr))
    };

    // Merge request: validate once for every environment, plan each in its own job.
    let validate_dir = environments_checkout();
    let (code, log) = run("validate", &variables[0], validate_dir.path());
    assert_eq!(code, 0, "{log}");
    let note_dir = environments_checkout();
    for variables in &variables {
        let plan_dir = environments_checkout();
        let (code, log) = run("plan", variables, plan_dir.path());
        assert_eq!(code, 0, "{log}");
        // The note job gets every plan job's artifacts (`needs: [plan]`).
        let environment = &variables["APINIZER_ENVIRONMENT"];
        for file in [
            format!("plan-{environment}.md"),
            format!("changes-{environment}.plan"),
        ] {
            std::fs::copy(plan_dir.path().join(&file), note_dir.path().join(&file)).unwrap();
        }
    }
    for round in ["Posted the plan comment", "Updated the plan comment"] {
        let (code, log) = run("plan-note", &variables[0], note_dir.path());
        assert_eq!(code, 0, "{log}");
        assert_eq!(log.matches(round).count(), 2, "{log}");
    }
    {
        let api = api.state.lock().unwrap();
        assert_eq!(
            api.comments.len(),
            2,
            "one note per environment, updated in place"
        );
        for installation in &installations {
            let heading = format!("environment `{}`", installation.name);
            let notes = api
                .comments
                .iter()
                .filter(|c| c["body"].as_str().unwrap().contains(&heading));
            assert_eq!(notes.count(), 1, "{heading}");
        }
    }

    // Default branch: each environment plans and applies with its own values.
    for (installation, variables) in installations.iter().zip(&variables) {
        let main = environments_checkout();
        let (code, log) = run("apply", variables, main.path());
        assert_eq!(code, 0, "{log}");
        assert!(log.contains("Apply complete: 2 created"), "{log}");
        let smtp = installation.server.get("Payments", "alerts-smtp");
        assert_eq!(smtp.fields["host"], smtp_host(&installation.name));
        let (code, log) = run("drift", variables, main.path());
        assert_eq!(code, 0, "{log}");
    }
    // Drift behind the back in production only: only production's drift job fails.
    change_alerts_smtp_behind_the_back(&installations[0].server);
    for (installation, variables) in installations.iter().zip(&variables) {
        let (code, log) = run("drift", variables, environments_checkout().path());
        let expected = if installation.name == "production" {
            2
        } else {
            0
        };
        assert_eq!(code, expected, "{}: {log}", installation.name);
    }

    // A values file that lacks a name: validate fails, naming the environment.
    let broken = environments_checkout();
    let staging = broken.path().join("env/staging.yaml");
    let text = std::fs::read_to_string(&staging).unwrap();
    std::fs::write(&staging, text.replace("  SMTP_PORT: 2525\n", "")).unwrap();
    let (code, log) = run("validate", &variables[0], broken.path());
    assert_eq!(code, 1, "{log}");
    let report =
        std::fs::read_to_string(broken.path().join("gl-code-quality-report.json")).unwrap();
    assert!(
        report.contains("environment staging") && report.contains("SMTP_PORT"),
        "{report}"
    );
    assert!(!report.contains("environment production"), "{report}");
}

// ---------------------------------------------------------------------------------
// Kubernetes.

const KUBERNETES_RECIPE: &str = "examples/ci/kubernetes/drift-cronjob.yaml";

fn manifest(kind: &str) -> Value {
    yaml_documents(KUBERNETES_RECIPE)
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn kubernetes_cronjob_keeps_its_promises() {
    let cronjob = manifest("CronJob");
    let spec = &cronjob["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    let job = &spec["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 0);
    let rule = &job["podFailurePolicy"]["rules"][0];
    assert_eq!(rule["action"], "FailJob");
    assert_eq!(rule["onExitCodes"]["values"], json!([2]));
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let containers = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["initContainers"].as_array().unwrap());
    for container in containers {
        let security = &container["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{container}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{container}");
    }
    let drift = &pod["containers"][0];
    assert_eq!(drift["name"], rule["onExitCodes"]["containerName"]);
    let sources: Vec<&Value> = drift["envFrom"].as_array().unwrap().iter().collect();
    assert!(
        sources
            .iter()
            .any(|s| s["secretRef"]["name"] == "apinizer-gitops")
    );
    assert!(manifest("Secret")["stringData"]["APINIZER_TOKEN"].is_string());
}

/// The `drift` container of the CronJob: its `args`, and its environment from the
/// ConfigMap (plus `config`, as the README adds per environment) and the Secret, with
/// the `git` volume's mount path moved to `volume` (a folder laid out as git-sync leaves
/// it).
struct DriftContainer {
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

impl DriftContainer {
    fn new(volume: &Path, config: &[(&str, &str)]) -> DriftContainer {
        let cronjob = manifest("CronJob");
        let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let mount = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "git")
            .unwrap()["mountPath"]
            .as_str()
            .unwrap()
            .to_string();
        let moved = |text: &str| text.replace(&mount, &volume.display().to_string());
        let args = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| moved(a.as_str().unwrap()))
            .collect();
        let mut env = BTreeMap::new();
        for kind in ["ConfigMap", "Secret"] {
            let document = manifest(kind);
            let data = document["data"]
                .as_object()
                .or(document["stringData"].as_object())
                .unwrap();
            for (key, value) in data {
                env.insert(key.clone(), value.as_str().unwrap().to_string());
            }
        }
        for (key, value) in config {
            env.insert(key.to_string(), moved(value));
        }
        DriftContainer { args, env }
    }

    /// Runs the container's command against `server` with `secrets` (a real Secret
    /// lists every variable; the example's lists one) and returns its exit code and
    /// stdout.
    fn run(&self, server: &Server, secrets: &BTreeMap<String, String>) -> (i32, String) {
        let output = Command::new(assert_cmd::cargo::cargo_bin("apinizer-gitops"))
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .envs(secrets)
            .env("APINIZER_URL", &server.url)
            .env("APINIZER_TOKEN", TOKEN)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code().unwrap_or(-1), stdout)
    }
}

#[test]
fn kubernetes_drift_container_exits_0_in_sync_and_2_on_drift() {
    let (server, secrets) = sandbox();
    let volume = tempfile::tempdir().unwrap();
    copy_tree(
        &repo().join("examples/connections"),
        &volume.path().join("repo/connections"),
    );
    let container = DriftContainer::new(volume.path(), &[]);
    // Nothing applied yet: the whole desired state is missing, which is drift too.
    assert_eq!(container.run(&server, &secrets).0, 2);
    let main = checkout();
    let mut all = secrets.clone();
    all.insert("APINIZER_TOKEN".into(), TOKEN.into());
    let applied = shell(
        &["sh", "-e", "-c"],
        "ci/apinizer-gitops/plan-and-apply.sh",
        main.path(),
        &all,
    );
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let (code, stdout) = container.run(&server, &secrets);
    assert_eq!(code, 0, "{stdout}");
    change_behind_the_back(&server);
    let (code, stdout) = container.run(&server, &secrets);
    assert_eq!(code, 2);
    assert!(stdout.contains("audit-syslog"));
}

/// One CronJob per environment as the README says: the same container, the values file
/// named in that environment's ConfigMap, that installation's URL and token.
#[test]
fn kubernetes_drift_per_environment_fails_only_where_the_server_drifted() {
    let installations = installations();
    let volume = tempfile::tempdir().unwrap();
    for folder in ["connections", "env"] {
        copy_tree(
            &repo().join("examples/environments").join(folder),
            &volume.path().join("repo").join(folder),
        );
    }
    let readme = std::fs::read_to_string(repo().join("examples/ci/kubernetes/README.md")).unwrap();
    assert!(readme.contains("APINIZER_GITOPS_VALUES: /git/repo/env/staging.yaml"));
    for installation in &installations {
        let mut variables = installation.secrets.clone();
        let values = format!("env/{}.yaml", installation.name);
        variables.insert("APINIZER_GITOPS_VALUES".into(), values);
        let script = "ci/apinizer-gitops/plan-and-apply.sh";
        let applied = shell(
            &["sh", "-e", "-c"],
            script,
            environments_checkout().path(),
            &variables,
        );
        assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    }
    let drift = |installation: &Installation| {
        let values = format!("/git/repo/env/{}.yaml", installation.name);
        let container = DriftContainer::new(volume.path(), &[("APINIZER_GITOPS_VALUES", &values)]);
        // No secret of the installation is passed: drift needs none.
        container.run(&installation.server, &BTreeMap::new())
    };
    for installation in &installations {
        let (code, stdout) = drift(installation);
        assert_eq!(code, 0, "{}: {stdout}", installation.name);
    }
    let staging = installations.iter().find(|i| i.name == "staging").unwrap();
    change_alerts_smtp_behind_the_back(&staging.server);
    for installation in &installations {
        let (code, stdout) = drift(installation);
        let expected = if installation.name == "staging" { 2 } else { 0 };
        assert_eq!(code, expected, "{}: {stdout}", installation.name);
    }
}

/// Every recipe folder has its README, and every script a recipe calls exists.
#[test]
fn recipes_have_readmes_and_their_scripts_exist() {
    for folder in ["github-actions", "gitlab-ci", "kubernetes"] {
        assert!(
            repo()
                .join("examples/ci")
                .join(folder)
                .join("README.md")
                .is_file(),
            "{folder}"
        );
    }
    for recipe in [
        GITHUB_RECIPE,
        GITHUB_ENVIRONMENTS_RECIPE,
        GITLAB_RECIPE,
        GITLAB_ENVIRONMENTS_RECIPE,
    ] {
        let text = std::fs::read_to_string(repo().join(recipe)).unwrap();
        for (at, _) in text.match_indices("ci/apinizer-gitops/") {
            let name: String = text[at + 19..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect();
            if name.is_empty() {
                continue; // the folder named in a comment
            }
            assert!(
                repo().join("examples/ci/scripts").join(&name).is_file(),
                "{recipe}: {name}"
            );
        }
    }
}
