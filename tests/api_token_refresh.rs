//! Token renewal for username/password logins, over loopback against the sandbox with
//! short-lived tokens: renewed before expiry and after a refusal, once for all
//! concurrent requests, never for a static token, never duplicating a write, and never
//! logged.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use apinizer_gitops::api::{Auth, Client};
use apinizer_gitops::sandbox::RunningSandbox;
use common::*;
use futures::future::join_all;
use secrecy::SecretString;

const CANARY_STATIC_TOKEN: &str = "canary-static-token-4d1";
const CANARY_PASSWORD: &str = "canary-login-pw-8e2";
/// Prefix of every token the sandbox issues (random otherwise).
const ISSUED_TOKEN_PREFIX: &str = "sbx_";

/// Trace-level logs of every test of this binary (installed once).
fn trace_logs() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(Capture::install_trace_subscriber)
}

/// A sandbox whose login issues tokens living `ttl`.
async fn sandbox_with_ttl(ttl: Option<Duration>) -> RunningSandbox {
    trace_logs();
    let mut config = sandbox_config();
    config.token = Some(CANARY_STATIC_TOKEN.into());
    config.credentials = Some(("admin".into(), CANARY_PASSWORD.into()));
    config.token_ttl = ttl;
    start(config).await
}

/// A client that logs in with the sandbox's credentials.
async fn login(sandbox: &RunningSandbox, parallelism: usize) -> Client {
    let mut settings = client_config(sandbox);
    settings.auth = Auth::Credentials {
        username: "admin".into(),
        password: SecretString::from(CANARY_PASSWORD),
    };
    settings.parallelism = parallelism;
    connect(settings).await
}

/// `count` concurrent project listings; all must succeed.
async fn list_concurrently(client: &Client, count: usize) {
    let calls = (0..count).map(|_| client.list_projects());
    for result in join_all(calls).await {
        assert_eq!(result.expect("listing succeeds"), vec![PROJECT.to_string()]);
    }
}

#[tokio::test]
async fn a_run_longer_than_the_ttl_renews_the_token_not_per_request() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(1))).await;
    let client = login(&sandbox, 4).await;
    let started = Instant::now();
    let mut requests = 0;
    while started.elapsed() < Duration::from_millis(2600) {
        client
            .list_projects()
            .await
            .expect("no 401 across expiries");
        requests += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Login, then a renewal about every 0.9 s (a tenth of the lifetime before expiry).
    let logins = sandbox.token_requests();
    assert!((3..=5).contains(&logins), "{logins} logins");
    assert!(requests > 20, "{requests} requests");
    assert_eq!(client.stats().retries(), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_at_expiry_share_one_renewal() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(1))).await;
    let client = login(&sandbox, 8).await;
    tokio::time::sleep(Duration::from_millis(950)).await;
    list_concurrently(&client, 16).await;
    assert_eq!(sandbox.token_requests(), 2, "login and one renewal");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_refused_at_once_share_one_renewal() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(60))).await;
    let client = login(&sandbox, 8).await;
    sandbox.revoke_issued_tokens();
    let before = sandbox.request_count();
    list_concurrently(&client, 16).await;
    assert_eq!(sandbox.token_requests(), 2, "login and one renewal");
    let made = sandbox.request_count() - before;
    assert!(
        (17..=33).contains(&made),
        "16 listings, one login, at most one refused try each: {made}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_write_refused_for_its_token_is_sent_again_once_and_applied_once() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(60))).await;
    let client = login(&sandbox, 2).await;
    sandbox.revoke_issued_tokens();
    let result = client
        .create_connection(PROJECT, &email("alerts", "pw"))
        .await
        .expect("created after one renewal");
    assert!(result.success);
    assert_eq!(sandbox.write_count(), 1);
    assert_eq!(sandbox.duplicate_writes(), 0);
    sandbox.revoke_issued_tokens();
    client
        .delete_connection(PROJECT, "alerts")
        .await
        .expect("deleted after one renewal");
    assert_eq!(sandbox.write_count(), 2);
    assert!(sandbox.snapshot(PROJECT).unwrap().is_empty());
    assert_eq!(sandbox.token_requests(), 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_freshly_issued_token_the_server_refuses_is_a_clear_error() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(60))).await;
    let client = login(&sandbox, 2).await;
    sandbox.refuse_all_tokens(true);
    let before = sandbox.request_count();
    let error = client
        .create_connection(PROJECT, &email("alerts", "pw"))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert_eq!(error.status, Some(401));
    assert!(
        message.contains("the server refused a freshly issued token"),
        "{message}"
    );
    assert!(message.starts_with("POST /apiops/projects/Payments/connections/alerts/: 401 unauthorized_client: Invalid token;"), "{message}");
    assert_eq!(sandbox.request_count() - before, 3, "try, login, one retry");
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(sandbox.write_count(), 0);
    assert!(!message.contains(ISSUED_TOKEN_PREFIX) && !message.contains(CANARY_PASSWORD));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_static_token_the_server_refuses_is_never_renewed() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(60))).await;
    let mut settings = client_config(&sandbox);
    settings.auth = Auth::Token(SecretString::from("canary-unknown-token-0b9"));
    let client = connect(settings).await;
    let error = client.list_projects().await.unwrap_err();
    let message = error.to_string();
    assert_eq!(
        message,
        "GET /apiops/projects/: 401 unauthorized_client: Invalid token; the server refused the API token (APINIZER_TOKEN or --token-file): it may be expired, revoked or mistyped; create a new Personal API Access Token"
    );
    assert_eq!(sandbox.request_count(), 1, "no retry");
    assert_eq!(sandbox.token_requests(), 0);
    assert!(!format!("{error:?}").contains("canary-unknown-token"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn without_a_ttl_the_sandbox_keeps_its_one_token() {
    let sandbox = sandbox_with_ttl(None).await;
    let client = login(&sandbox, 2).await;
    list_concurrently(&client, 4).await;
    assert_eq!(sandbox.token_requests(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn renewals_and_refusals_never_log_the_password_or_a_token() {
    let sandbox = sandbox_with_ttl(Some(Duration::from_secs(1))).await;
    let client = login(&sandbox, 4).await;
    sandbox.revoke_issued_tokens();
    list_concurrently(&client, 4).await;
    tokio::time::sleep(Duration::from_millis(950)).await;
    list_concurrently(&client, 4).await;
    sandbox.refuse_all_tokens(true);
    let error = client.list_projects().await.unwrap_err();
    assert!(sandbox.token_requests() >= 4);
    let logs = trace_logs().text();
    assert!(
        logs.contains("token refused; renewing it"),
        "trace logs captured"
    );
    for text in [
        logs.as_str(),
        &error.to_string(),
        &format!("{client:?} {sandbox:?}"),
    ] {
        for canary in [CANARY_PASSWORD, CANARY_STATIC_TOKEN, ISSUED_TOKEN_PREFIX] {
            assert!(!text.contains(canary), "leaks {canary}");
        }
    }
    sandbox.shutdown().await;
}
