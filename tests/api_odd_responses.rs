//! Defensive parsing against a server that answers the other documented readings (and
//! some broken bodies): a tiny axum server with canned answers on loopback, driven
//! through the real client.

mod common;

use apinizer_gitops::api::{Auth, Client, ClientConfig};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::connect;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether the rate-limited route has answered 429 already.
static RATE_LIMITED_ONCE: AtomicBool = AtomicBool::new(false);
use secrecy::SecretString;
use serde_json::json;

/// Serves canned answers; returns a client for it.
async fn odd_server() -> Client {
    let connections = "/apiops/projects/P/connections";
    let app = Router::new()
        .route(
            "/apiops/projects/",
            get(|| async {
                r#"{"status":"SUCCESS","resultList":[{"name":"A","extra":1},{"name":null}],"resultCount":"2"}"#
            }),
        )
        .route(
            &format!("{connections}/"),
            get(|q: axum::extract::RawQuery| async move {
                match q.0.as_deref() {
                    Some("type=elasticsearch") => {
                        r#"{"success":true,"resultList":[{"name":"es","type":"READ","unknownField":5,"elasticHostList":null}],"resultCount":1}"#
                    }
                    _ => {
                        r#"{"success":true,"resultList":[{"type":"kafka","name":"k","keyStoreName":"ks","propertiesMap":{"max.block.ms":{"value":3000,"valueType":"INTEGER"},"acks":{"value":true}}}]}"#
                    }
                }
            }),
        )
        .route(&format!("{connections}/broken/"), get(|| async { "{not json" }))
        .route(
            "/apiops/projects/Busy/connections/",
            get(|| async {
                if RATE_LIMITED_ONCE.swap(true, Ordering::SeqCst) {
                    (StatusCode::OK, r#"{"success":true,"resultList":[]}"#)
                } else {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        r#"{"error":"rate_limit_exceeded","error_description":"Slow down","retry_after":1}"#,
                    )
                }
            }),
        )
        .route(
            &format!("{connections}/typeless/"),
            get(|| async { r#"{"success":true,"resultList":[{"name":"x"}],"resultCount":1}"# }),
        )
        .route(
            &format!("{connections}/legacy/"),
            get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    r#"{"error":"bad_request","error_description":"Connection (name: legacy) was not found!"}"#,
                )
            })
            .post(|| async { "" })
            .put(|| async { r#"{"success":false,"error":"deploy_failed","error_description":"No worker"}"# })
            .delete(|| async {
                (StatusCode::CONFLICT, r#"{"error":"duplicate_name","error_description":"Name taken"}"#)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    connect(ClientConfig {
        server: url,
        auth: Auth::Token(SecretString::from("t")),
        parallelism: 2,
        timeout: std::time::Duration::from_secs(5),
        retries: 1,
        ca_cert: None,
        insecure_skip_tls_verify: false,
        allow_insecure_http: false,
        max_response_bytes: apinizer_gitops::api::DEFAULT_MAX_RESPONSE_BYTES,
    })
    .await
}

#[tokio::test]
async fn other_readings_of_the_docs_are_accepted() {
    let client = odd_server().await;
    assert_eq!(client.list_projects().await.unwrap(), vec!["A"]);

    let es = client.list_connections("P", "elasticsearch").await.unwrap();
    assert_eq!(es[0].kind, "elasticsearch");
    assert_eq!(es[0].fields["accessType"], "READ");
    // null is absent (DESIGN.md 4.2): not kept.
    assert_eq!(es[0].fields.get("elasticHostList"), None);
    assert!(!es[0].fields.contains_key("unknownField"));

    let kafka = client.list_connections("P", "kafka").await.unwrap();
    assert_eq!(kafka[0].fields["keyStoreName"], "ks");
    assert_eq!(
        kafka[0].fields["propertiesMap"],
        json!({"max.block.ms": {"value": "3000", "valueType": "INTEGER"}, "acks": {"value": "true"}})
    );

    assert!(
        client
            .get_connection("P", "legacy")
            .await
            .unwrap()
            .is_none()
    );
    // An empty 200 does not confirm a write: apply re-reads the connection to learn.
    let unconfirmed = client
        .create_connection("P", &common::email("legacy", "pw"))
        .await
        .unwrap_err();
    assert!(unconfirmed.is_unconfirmed_write(), "{unconfirmed}");
    assert!(
        unconfirmed.to_string().starts_with(
            "POST /apiops/projects/P/connections/legacy/: 200 unreadable_answer: the answer is not the API's envelope (an empty body"
        ),
        "{unconfirmed}"
    );
}

#[tokio::test]
async fn broken_answers_are_clear_errors() {
    let client = odd_server().await;
    let broken = client.get_connection("P", "broken").await.unwrap_err();
    assert_eq!(
        broken.to_string(),
        "GET /apiops/projects/P/connections/broken/: invalid_response: unexpected response body: malformed JSON at line 1 column 2"
    );
    let typeless = client.get_connection("P", "typeless").await.unwrap_err();
    assert!(
        typeless.to_string().contains("has no known `type`"),
        "{typeless}"
    );

    let failed = client
        .update_connection("P", "legacy", &common::email("legacy", "pw"))
        .await
        .unwrap_err();
    assert_eq!(
        failed.to_string(),
        "PUT /apiops/projects/P/connections/legacy/: 200 deploy_failed: No worker"
    );
    let conflict = client.delete_connection("P", "legacy").await.unwrap_err();
    assert!(conflict.is_already_exists());
    assert!(!conflict.is_retryable());
}

#[tokio::test]
async fn a_body_retry_after_without_header_is_honoured() {
    let client = odd_server().await;
    let started = Instant::now();
    assert!(
        client
            .list_connections("Busy", "email")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(client.stats().rate_limited(), 1);
}
