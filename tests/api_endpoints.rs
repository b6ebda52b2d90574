//! Every endpoint through the client against the sandbox over loopback HTTP: success
//! paths and the documented errors; raw requests for what the client never sends.

mod common;

use apinizer_gitops::api::{Auth, Client};
use common::*;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

#[tokio::test]
async fn healthcheck_and_projects() {
    let (sandbox, client) = started().await;
    client.healthcheck().await.unwrap();
    assert_eq!(client.list_projects().await.unwrap(), vec![PROJECT]);
    let text = raw_http()
        .get(format!("{}/apiops/test/healthcheck", sandbox.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "OK");

    let hello = format!("{}/apiops/test/hello/World", sandbox.url);
    let greeting = raw_http()
        .get(&hello)
        .bearer_auth(&sandbox.token)
        .send()
        .await
        .unwrap();
    assert_eq!(greeting.text().await.unwrap(), "Hello World");
    let anonymous = raw_http().get(&hello).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let unknown = raw_http()
        .get(format!("{}/apiops/nothing/", sandbox.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn create_list_get_update_rename_delete() {
    let (sandbox, client) = started().await;

    let created = create(&client, &email("alerts", "pw-1")).await;
    assert!(created.success);
    let envs: Vec<&str> = created
        .environments
        .iter()
        .map(|e| e.environment_name.as_str())
        .collect();
    assert_eq!(envs, ["dev", "prod"]);

    let listed = client.list_connections(PROJECT, "email").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "alerts");
    assert!(
        client
            .list_connections(PROJECT, "kafka")
            .await
            .unwrap()
            .is_empty()
    );

    let mut changed = email("alerts", "pw-2");
    changed.fields.insert("port".into(), json!(25));
    client
        .update_connection(PROJECT, "ALERTS", &changed)
        .await
        .unwrap();
    let got = fetch(&client, "Alerts").await;
    assert_eq!(got.fields["port"], 25);
    assert_eq!(
        got.secrets.get("/password").unwrap().expose_secret(),
        "pw-2"
    );

    let renamed = email("alerts-smtp", "pw-2");
    client
        .update_connection(PROJECT, "alerts", &renamed)
        .await
        .unwrap();
    assert!(
        client
            .get_connection(PROJECT, "alerts")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        client
            .get_connection(PROJECT, "alerts-smtp")
            .await
            .unwrap()
            .is_some()
    );

    let deleted = client
        .delete_connection(PROJECT, "alerts-smtp")
        .await
        .unwrap();
    assert!(deleted.success);
    assert!(
        client
            .get_connection(PROJECT, "alerts-smtp")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(sandbox.write_count(), 4);
}

#[tokio::test]
async fn documented_connection_errors() {
    let (_sandbox, client) = started().await;
    create(&client, &email("mail", "pw")).await;
    create(&client, &email("other", "pw")).await;

    let twice = client
        .create_connection(PROJECT, &email("MAIL", "pw"))
        .await
        .unwrap_err();
    assert!(twice.is_already_exists());
    assert_eq!(
        twice.to_string(),
        "POST /apiops/projects/Payments/connections/MAIL/: 400 bad_request: Connection (name: MAIL) already exists!"
    );

    let missing = client
        .update_connection(PROJECT, "x", &email("x", "pw"))
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(
        missing.to_string(),
        "PUT /apiops/projects/Payments/connections/x/: 400 bad_request: Connection (name: x) was not found!"
    );
    assert!(
        client
            .delete_connection(PROJECT, "x")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(client.get_connection(PROJECT, "x").await.unwrap().is_none());

    let collision = client
        .update_connection(PROJECT, "mail", &email("Other", "pw"))
        .await
        .unwrap_err();
    assert!(collision.is_already_exists(), "{collision}");

    let kafka = connection("kafka", "mail", json!({"topicName": "t"}));
    let type_change = client
        .update_connection(PROJECT, "mail", &kafka)
        .await
        .unwrap_err();
    assert_eq!(type_change.status, Some(400));
    assert!(
        type_change.description.contains("can not be changed"),
        "{type_change}"
    );
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    let (sandbox, client) = started().await;
    let incomplete = connection("email", "m", json!({"auth": true, "port": 25}));
    let err = client
        .create_connection(PROJECT, &incomplete)
        .await
        .unwrap_err();
    assert_eq!(err.error, "validation_failed");
    let fields: Vec<&str> = err
        .validation_errors
        .iter()
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(fields, ["host", "username", "password"]);
    assert!(err.to_string().contains(
        "(validation errors: host: must not be empty; username: is required when auth == true"
    ));
    let bad_enum = connection(
        "webhook",
        "w",
        json!({"fullUrl": "https://x", "httpMethod": "FETCH"}),
    );
    let err = client
        .create_connection(PROJECT, &bad_enum)
        .await
        .unwrap_err();
    assert_eq!(err.validation_errors[0].0, "httpMethod");
    assert_eq!(sandbox.write_count(), 0);
}

#[tokio::test]
async fn a_missing_project_is_an_error_naming_it() {
    let (_sandbox, client) = started().await;
    let err = client.list_connections("Nope", "email").await.unwrap_err();
    assert!(err.is_project_not_found());
    assert!(!err.is_not_found());
    assert_eq!(
        err.to_string(),
        "GET /apiops/projects/Nope/connections/?type=email: 404 not_found: Project 'Nope' not found"
    );
    let get = client.get_connection("Nope", "x").await.unwrap_err();
    assert!(get.is_project_not_found());
    // Project names are case-sensitive.
    assert!(client.list_connections("payments", "email").await.is_err());
}

#[tokio::test]
async fn deployment_results_follow_deploy_to_worker_and_environments() {
    let mut config = sandbox_config();
    config.failing_environments = vec!["prod".into()];
    let sandbox = start(config).await;
    let client = connect(client_config(&sandbox)).await;
    let result = create(&client, &email("a", "pw")).await;
    assert!(!result.success);
    assert!(result.environments[0].success);
    assert!(!result.environments[1].success);
    assert!(result.environments[1].message.contains("failed"));

    let mut quiet = email("b", "pw");
    quiet.fields.insert("deployToWorker".into(), json!(false));
    let result = create(&client, &quiet).await;
    assert!(result.success);
    assert!(result.environments.is_empty());
}

#[tokio::test]
async fn raw_requests_the_client_never_sends() {
    let sandbox = start(sandbox_config()).await;
    let http = raw_http();
    let base = format!("{}/apiops/projects/{PROJECT}/connections/", sandbox.url);

    let no_type = http
        .get(&base)
        .bearer_auth(&sandbox.token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 400);
    let body: Value = no_type.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");

    let bad_type = http
        .get(format!("{base}?type=ops-genie"))
        .bearer_auth(&sandbox.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_type.status(), 400);

    let bad_token = http
        .get(format!("{base}?type=email"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), 401);
    let body: Value = bad_token.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "unauthorized_client", "error_description": "Invalid token"})
    );

    let mismatch = http
        .post(format!("{base}a/"))
        .bearer_auth(&sandbox.token)
        .header("Content-Type", "application/json")
        .body(r#"{"type":"email","name":"b","host":"h"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 400);
    let body: Value = mismatch.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );

    let malformed = http
        .post(format!("{base}a/"))
        .bearer_auth(&sandbox.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(sandbox.write_count(), 0);
}

#[tokio::test]
async fn token_endpoint_and_credentials() {
    let mut config = sandbox_config();
    config.credentials = Some(("admin".into(), "canary-password".into()));
    let sandbox = start(config).await;

    let mut with_credentials = client_config(&sandbox);
    with_credentials.auth = Auth::Credentials {
        username: "admin".into(),
        password: SecretString::from("canary-password"),
    };
    let client = connect(with_credentials.clone()).await;
    assert_eq!(client.list_projects().await.unwrap(), vec![PROJECT]);

    with_credentials.auth = Auth::Credentials {
        username: "admin".into(),
        password: SecretString::from("wrong-canary"),
    };
    let err = Client::connect(with_credentials).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "POST /apiops/auth/token: 401 unauthorized_client: Bad credentials"
    );

    let grant = raw_http()
        .post(format!("{}/apiops/auth/token", sandbox.url))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin"),
            ("client_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 400);
    let body: Value = grant.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn server_url_forms_and_transport_rules() {
    let sandbox = start(sandbox_config()).await;
    for suffix in ["/", "/apiops", "/apiops/"] {
        let mut config = client_config(&sandbox);
        config.server = format!("{}{suffix}", sandbox.url);
        let client = connect(config).await;
        assert_eq!(client.server_url(), sandbox.url);
        assert_eq!(client.list_projects().await.unwrap(), vec![PROJECT]);
    }

    let mut remote = client_config(&sandbox);
    remote.server = "http://apinizer.example.com".into();
    let err = Client::connect(remote.clone()).await.unwrap_err();
    assert_eq!(err.error, "insecure_http");
    assert!(err.to_string().contains("--allow-insecure-http"));
    remote.allow_insecure_http = true;
    assert!(Client::connect(remote).await.is_ok());

    let mut bad_ca = client_config(&sandbox);
    bad_ca.ca_cert = Some("/nonexistent/ca.pem".into());
    let err = Client::connect(bad_ca).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot read --ca-cert /nonexistent/ca.pem"),
        "{err}"
    );

    let not_pem = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_pem.path(), "not a certificate").unwrap();
    let mut garbage = client_config(&sandbox);
    garbage.ca_cert = Some(not_pem.path().to_path_buf());
    let err = Client::connect(garbage).await.unwrap_err();
    assert!(
        err.to_string().contains("holds no PEM certificate"),
        "{err}"
    );
}

/// The docs' base-URL page lists `/apiops/projects` (no slash) as incorrect: the sandbox
/// answers project and connection paths without their `/` with Spring's 404, while the
/// token and healthcheck paths work only without one.
#[tokio::test]
async fn paths_without_the_documented_trailing_slash_are_spring_404s() {
    let (sandbox, client) = started().await;
    create(&client, &email("mail", "pw")).await;
    let http = raw_http();
    let url = |path: &str| format!("{}{path}", sandbox.url);
    let connections = format!("/apiops/projects/{PROJECT}/connections");
    let slashless = [
        ("GET", "/apiops/projects".to_string()),
        ("GET", format!("{connections}?type=email")),
        ("GET", format!("{connections}/mail")),
        ("PUT", format!("{connections}/mail")),
        ("DELETE", format!("{connections}/mail")),
        ("GET", "/apiops/test/healthcheck/".to_string()),
        ("POST", "/apiops/auth/token/".to_string()),
    ];
    for (method, path) in slashless {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = http
            .request(method.clone(), url(&path))
            .bearer_auth(&sandbox.token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{method} {path}");
        let body: Value = answer.json().await.unwrap();
        let bare_path = path.split('?').next().unwrap();
        assert_eq!(body["status"], 404, "{body}");
        assert_eq!(body["error"], "Not Found", "{body}");
        assert_eq!(body["path"], bare_path, "{body}");
        assert!(body["timestamp"].as_str().is_some_and(|t| t.len() >= 20));
    }
    // The slash forms, the README's curl lines, still answer; nothing was deleted above.
    for path in [
        "/apiops/projects/".to_string(),
        format!("{connections}/?type=email"),
        format!("{connections}/mail/"),
    ] {
        let answer = http
            .get(url(&path))
            .bearer_auth(&sandbox.token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
    }
    let health = http.get(url("/apiops/test/healthcheck")).send().await;
    assert_eq!(health.unwrap().status(), 200);
}
