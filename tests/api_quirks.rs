//! The documented wire quirks, both directions, over loopback HTTP: elasticsearch's two
//! `type` keys, kafka keystore names answered as IDs, logback rewrites, secrets null in
//! lists and masked in GET (email's password readable in GET), complete responses.

mod common;

use apinizer_gitops::sandbox::{WORKER_HOSTNAME, reference_id};
use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// The raw text of one GET answer.
async fn raw_get(sandbox: &apinizer_gitops::sandbox::RunningSandbox, name: &str) -> String {
    raw_http()
        .get(format!(
            "{}/apiops/projects/{PROJECT}/connections/{name}/",
            sandbox.url
        ))
        .bearer_auth(&sandbox.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn elasticsearch(name: &str, access: &str) -> apinizer_gitops::model::Connection {
    connection(
        "elasticsearch",
        name,
        json!({"elasticHostList": [{"host": "es", "port": 9200}], "accessType": access}),
    )
}

#[tokio::test]
async fn elasticsearch_access_type_is_a_second_type_key_both_ways() {
    let (sandbox, client) = started().await;
    create(&client, &elasticsearch("logs", "READ")).await;

    let text = raw_get(&sandbox, "logs").await;
    assert!(
        text.starts_with(r#"{"success":true,"resultList":[{"type":"elasticsearch","name":"logs","#),
        "{text}"
    );
    assert!(
        text.ends_with(r#""type":"READ"}],"resultCount":1}"#),
        "{text}"
    );
    assert_eq!(text.matches(r#""type":"#).count(), 2);

    let got = fetch(&client, "logs").await;
    assert_eq!(got.kind, "elasticsearch");
    assert_eq!(got.fields["accessType"], "READ");
    let listed = client
        .list_connections(PROJECT, "elasticsearch")
        .await
        .unwrap();
    assert_eq!(listed[0].fields["accessType"], "READ");
}

#[tokio::test]
async fn a_hand_written_double_type_body_is_understood() {
    let (sandbox, client) = started().await;
    let body = r#"{"type":"elasticsearch","name":"es2","elasticHostList":[{"host":"h"}],"type":"READ_WRITE"}"#;
    let response = raw_http()
        .post(format!(
            "{}/apiops/projects/{PROJECT}/connections/es2/",
            sandbox.url
        ))
        .bearer_auth(&sandbox.token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let got = fetch(&client, "es2").await;
    assert_eq!(got.fields["accessType"], "READ_WRITE");
}

#[tokio::test]
async fn kafka_keystore_names_come_back_as_stable_ids() {
    let (_sandbox, client) = started().await;
    let kafka = connection(
        "kafka",
        "events",
        json!({
            "topicName": "t",
            "propertiesMap": {
                "bootstrap.servers": {"value": "b:9092", "valueType": "STRING"},
                "key.serializer": {"value": "k", "valueType": "STRING"},
                "value.serializer": {"value": "v", "valueType": "STRING"},
                "max.block.ms": {"value": "3000", "valueType": "INTEGER"}
            },
            "enableSecure": true, "protocolTypes": ["TLS_1_2"], "keyStoreName": "ks"
        }),
    );
    create(&client, &kafka).await;
    let got = fetch(&client, "events").await;
    let id = got.fields["keyStoreId"].as_str().unwrap().to_string();
    assert!(id.starts_with("ks-id-"), "{id}");
    assert_eq!(id, reference_id("ks"));
    assert!(!got.fields.contains_key("keyStoreName"));
    assert_eq!(got.fields.get("trustStoreId"), None);
    assert_eq!(got.fields["propertiesMap"]["max.block.ms"]["value"], "3000");

    // Re-applying the same name gives the same id.
    client
        .update_connection(PROJECT, "events", &kafka)
        .await
        .unwrap();
    let again = fetch(&client, "events").await;
    assert_eq!(again.fields["keyStoreId"], id.as_str());
}

#[tokio::test]
async fn logback_paths_are_rewritten_by_the_server() {
    let (_sandbox, client) = started().await;
    let logback = connection(
        "logback",
        "files",
        json!({"logPath": "/var/log/apinizer", "logFileName": "/traffic", "logPodName": ""}),
    );
    create(&client, &logback).await;
    let got = fetch(&client, "files").await;
    assert_eq!(got.fields["logPath"], "/var/log/apinizer/");
    assert_eq!(got.fields["logFileName"], "traffic");
    assert_eq!(got.fields["logPodName"], WORKER_HOSTNAME);
    assert_eq!(got.fields["maxFileSize"], 25);
}

#[tokio::test]
async fn secrets_are_null_in_lists_and_masked_in_some_gets() {
    let (_sandbox, client) = started().await;
    create(&client, &email("mail", "canary-mail-pw")).await;
    let database = connection(
        "database",
        "db",
        json!({"dbType": "POSTGRES", "jdbcUrl": "jdbc:postgresql://h/db",
               "username": "u", "password": "canary-db-pw"}),
    );
    create(&client, &database).await;
    let hook = connection(
        "webhook",
        "hook",
        json!({"fullUrl": "https://hooks.example.com",
               "headerList": [{"name": "Authorization", "value": "Bearer canary-hook"}]}),
    );
    create(&client, &hook).await;

    // Lists: every secret null, so nothing lands in `secrets`.
    let mails = client.list_connections(PROJECT, "email").await.unwrap();
    assert_eq!(mails[0].fields.get("password"), None);
    assert!(mails[0].secrets.is_empty());
    let dbs = client.list_connections(PROJECT, "database").await.unwrap();
    assert!(dbs[0].secrets.is_empty());

    // GET: email's password comes back in full, database's is masked.
    let mail = fetch(&client, "mail").await;
    let password = mail.secrets.get("/password").unwrap();
    assert_eq!(password.expose_secret(), "canary-mail-pw");
    let db = fetch(&client, "db").await;
    assert_eq!(db.fields.get("password"), None);
    assert!(db.secrets.is_empty());

    // Sensitive entries are not secrets for the server: they come back, into `secrets`.
    let hooks = client.list_connections(PROJECT, "webhook").await.unwrap();
    let header = hooks[0].secrets.get("/headerList/0/value").unwrap();
    assert_eq!(header.expose_secret(), "Bearer canary-hook");
    assert_eq!(hooks[0].fields["headerList"][0]["value"], Value::Null);
}

#[tokio::test]
async fn responses_carry_every_field_and_extra_keys_are_tolerated() {
    let (sandbox, client) = started().await;
    create(&client, &email("mail", "pw")).await;
    let text = raw_get(&sandbox, "mail").await;
    let body: Value = serde_json::from_str(&text).unwrap();
    let item = &body["resultList"][0];
    assert_eq!(item["addressToTest"], Value::Null);
    assert_eq!(item["additionalProperties"], json!([]));
    assert_eq!(item["defaultEncoding"], "UTF-8");
    assert!(item["id"].is_string() && item["projectId"].is_string());

    let got = fetch(&client, "mail").await;
    assert!(!got.fields.contains_key("id"));
    assert!(!got.fields.contains_key("projectId"));
    assert_eq!(got.fields["host"], "smtp.example.com");
}
