//! Retries, rate limiting, timeouts and the shared concurrency limit against a sandbox
//! that injects faults (some after the write was applied).

mod common;

use std::time::{Duration, Instant};

use apinizer_gitops::api::{ApiError, Client};
use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::Fault;
use common::*;
use serde_json::json;

/// Create, and when a retried create meets "already exists", re-read and accept the
/// connection if it holds what was sent (what apply does).
async fn create_or_adopt(client: &Client, connection: &Connection) {
    match client.create_connection(PROJECT, connection).await {
        Ok(_) => {}
        Err(e) if e.is_already_exists() => {
            let current = fetch(client, &connection.name).await;
            assert_eq!(current.fields["port"], connection.fields["port"]);
        }
        Err(e) => panic!("create failed: {e}"),
    }
}

#[tokio::test]
async fn under_fail_rate_retries_succeed_without_duplicate_writes() {
    let mut config = sandbox_config();
    config.fail_rate = 0.3;
    config.fault_seed = Some(42);
    let sandbox = start(config).await;
    let mut client_settings = client_config(&sandbox);
    client_settings.retries = 8;
    let client = connect(client_settings).await;

    for i in 0..10 {
        let name = format!("mail-{i}");
        let original = email(&name, "pw");
        create_or_adopt(&client, &original).await;
        // The same body twice: idempotent, no new write.
        client
            .update_connection(PROJECT, &name, &original)
            .await
            .unwrap();
        client
            .update_connection(PROJECT, &name, &original)
            .await
            .unwrap();
        let mut changed = email(&name, "pw");
        changed.fields.insert("port".into(), json!(2525));
        client
            .update_connection(PROJECT, &name, &changed)
            .await
            .unwrap();
        assert_eq!(fetch(&client, &name).await.fields["port"], 2525);
        client.delete_connection(PROJECT, &name).await.unwrap();
    }

    assert!(client.stats().retries() > 0, "the seed injects faults");
    assert_eq!(sandbox.write_count(), 30, "{:?}", sandbox.write_log());
    assert_eq!(sandbox.duplicate_writes(), 0);
    assert!(sandbox.snapshot(PROJECT).unwrap().is_empty());
}

#[tokio::test]
async fn a_429_waits_the_advertised_time_and_lowers_concurrency() {
    let (sandbox, client) = started().await;
    sandbox.inject(Fault::TooManyRequests { retry_after: 1 }, false);
    let started_at = Instant::now();
    assert_eq!(client.list_projects().await.unwrap(), vec![PROJECT]);
    assert!(started_at.elapsed() >= Duration::from_secs(1));
    assert_eq!(client.stats().rate_limited(), 1);
    assert_eq!(client.concurrency_limit(), 2, "halved from 4");
}

#[tokio::test]
async fn a_slow_server_surfaces_as_a_clear_timeout() {
    let mut config = sandbox_config();
    config.latency = Some(Duration::from_secs(2));
    let sandbox = start(config).await;
    let mut settings = client_config(&sandbox);
    settings.timeout = Duration::from_millis(200);
    let client = connect(settings).await;
    let started_at = Instant::now();
    let err: ApiError = client.list_projects().await.unwrap_err();
    assert!(started_at.elapsed() < Duration::from_secs(2));
    assert_eq!(err.error, "timeout");
    assert_eq!(
        err.to_string(),
        "GET /apiops/projects/: timeout: timed out after 200ms"
    );
}

#[tokio::test]
async fn dropped_connections_and_5xx_are_retried_then_surface() {
    let (sandbox, client) = started().await;
    sandbox.inject(Fault::Drop, false);
    sandbox.inject(Fault::ServerError, false);
    assert_eq!(client.list_projects().await.unwrap(), vec![PROJECT]);
    assert_eq!(client.stats().retries(), 2);

    for _ in 0..5 {
        sandbox.inject(Fault::Unavailable, false);
    }
    let err = client.list_projects().await.unwrap_err();
    assert_eq!(err.status, Some(503));
    assert_eq!(client.stats().retries(), 6, "4 more retries, then give up");
}

#[tokio::test]
async fn a_write_applied_before_a_lost_answer_is_not_repeated() {
    let (sandbox, client) = started().await;
    sandbox.inject(Fault::Drop, true);
    let err = client
        .create_connection(PROJECT, &email("once", "pw"))
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(sandbox.write_count(), 1);

    sandbox.inject(Fault::ServerError, true);
    client.delete_connection(PROJECT, "once").await.unwrap();
    assert_eq!(sandbox.write_count(), 2);
}

#[tokio::test]
async fn one_concurrency_limit_is_shared_by_clones() {
    let mut config = sandbox_config();
    config.latency = Some(Duration::from_millis(100));
    let sandbox = start(config).await;
    let mut settings = client_config(&sandbox);
    settings.parallelism = 2;
    let client = connect(settings).await;
    let started_at = Instant::now();
    let calls = (0..6).map(|_| {
        let clone = client.clone();
        async move { clone.list_projects().await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert!(started_at.elapsed() >= Duration::from_millis(300));
    assert_eq!(client.stats().attempts(), 6);
}
