//! Canary token and canary secrets never appear in logs captured at trace level (the
//! client's, the sandbox's and the HTTP stack's), nor in errors or Debug output.

mod common;

use std::time::Duration;

use apinizer_gitops::api::{Auth, Client};
use apinizer_gitops::sandbox::Fault;
use common::*;
use secrecy::SecretString;
use serde_json::json;

const CANARY_TOKEN: &str = "canary-token-7f3a";
const CANARY_PASSWORD: &str = "canary-login-pw-19c";
const CANARY_SECRETS: [&str; 3] = ["canary-smtp-pw-55e", "canary-db-pw-a01", "canary-hook-b77"];

fn assert_clean(what: &str, text: &str) {
    for canary in [CANARY_TOKEN, CANARY_PASSWORD]
        .into_iter()
        .chain(CANARY_SECRETS)
    {
        assert!(!text.contains(canary), "{what} leaks {canary}");
    }
}

#[tokio::test]
async fn no_secret_reaches_trace_logs_errors_or_debug_output() {
    let capture = Capture::install_trace_subscriber();

    let mut config = sandbox_config();
    config.token = Some(CANARY_TOKEN.into());
    config.credentials = Some(("admin".into(), CANARY_PASSWORD.into()));
    let sandbox = start(config).await;
    let mut settings = client_config(&sandbox);
    settings.auth = Auth::Credentials {
        username: "admin".into(),
        password: SecretString::from(CANARY_PASSWORD),
    };
    let client = connect(settings.clone()).await;
    let mut debug_output = format!("{settings:?} {client:?} {sandbox:?}");

    let connections = [
        email("mail", CANARY_SECRETS[0]),
        connection(
            "database",
            "db",
            json!({"dbType": "POSTGRES", "jdbcUrl": "jdbc:x", "username": "u",
                   "password": CANARY_SECRETS[1]}),
        ),
        connection(
            "webhook",
            "hook",
            json!({"fullUrl": "https://h",
                   "headerList": [{"name": "X-Api-Key", "value": CANARY_SECRETS[2]}]}),
        ),
    ];
    for c in &connections {
        create(&client, c).await;
        sandbox.inject(Fault::Drop, true);
        let again = client.update_connection(PROJECT, &c.name, c).await;
        debug_output.push_str(&format!("{c:?} {again:?}"));
        let fetched = client.get_connection(PROJECT, &c.name).await;
        debug_output.push_str(&format!("{fetched:?}"));
        let listed = client.list_connections(PROJECT, &c.kind).await;
        debug_output.push_str(&format!("{listed:?}"));
    }
    let duplicate = client.create_connection(PROJECT, &connections[0]).await;
    let invalid = client
        .create_connection(
            PROJECT,
            &connection(
                "email",
                "bad",
                json!({"auth": true, "password": CANARY_SECRETS[0]}),
            ),
        )
        .await
        .unwrap_err();
    debug_output.push_str(&format!("{duplicate:?} {invalid} {invalid:?}"));

    let mut wrong = settings.clone();
    wrong.auth = Auth::Credentials {
        username: "admin".into(),
        password: SecretString::from(CANARY_SECRETS[1]),
    };
    let refused = Client::connect(wrong).await.unwrap_err();
    debug_output.push_str(&format!("{refused} {refused:?}"));

    let mut slow = settings;
    slow.auth = Auth::Token(SecretString::from(CANARY_TOKEN));
    slow.timeout = Duration::from_millis(1);
    let slow_client = connect(slow).await;
    let timeout = slow_client.list_projects().await;
    debug_output.push_str(&format!("{timeout:?}"));

    let logs = capture.text();
    assert!(logs.contains("api request"), "trace logs were captured");
    assert!(logs.contains("/apiops/projects/Payments/connections/mail/"));
    assert_clean("the trace log", &logs);
    assert_clean("Debug and Display output", &debug_output);
}
