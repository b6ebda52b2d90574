//! Property tests of the response decoder (issue 8, item 12): a loopback server answers
//! arbitrary JSON (repeated keys, wrong types, deep nesting, the API's own key names),
//! and every client call that decodes an answer (list, get, projects, a write's
//! envelope, an error envelope, the token endpoint) must return — an answer or an error
//! naming method and path — without panicking, within a bounded time.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apinizer_gitops::api::{Auth, Client, ClientConfig, DEFAULT_MAX_RESPONSE_BYTES};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use proptest::prelude::*;
use secrecy::SecretString;

/// Cases per property; each case is one HTTP round trip per call.
const CASES: u32 = 192;
/// The most one decoded call may take.
const BOUND: Duration = Duration::from_secs(5);

/// A JSON value that may repeat keys (serde_json's `Value` cannot).
#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn render(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(&b.to_string()),
            Json::Int(i) => out.push_str(&i.to_string()),
            Json::Float(f) => out.push_str(&serde_json::to_string(f).unwrap()),
            Json::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(out);
                }
                out.push(']');
            }
            Json::Object(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push(':');
                    value.render(out);
                }
                out.push('}');
            }
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        self.render(&mut out);
        out
    }
}

/// Keys the decoder looks for, so that generated objects reach deep into it.
const KEYS: [&str; 24] = [
    "success",
    "status",
    "resultList",
    "resultCount",
    "name",
    "type",
    "error",
    "error_description",
    "validation_errors",
    "field",
    "message",
    "deploymentResult",
    "deploymentResults",
    "environmentName",
    "retry_after",
    "propertiesMap",
    "value",
    "valueType",
    "host",
    "port",
    "password",
    "headerList",
    "access_token",
    "expires_in",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS.to_vec()).prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "SUCCESS",
            "FAILURE",
            "email",
            "kafka",
            "elasticsearch",
            "READ",
            "",
            "..",
            "a/b",
        ])
        .prop_map(str::to_string),
        "\\PC{0,16}",
        "[\\x00-\\x1f\\x7f\\u{202e}]{0,4}",
    ]
}

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Json::Float),
        string().prop_map(Json::Str),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            proptest::collection::vec((key(), inner), 0..8).prop_map(Json::Object),
        ]
    })
}

/// An answer shaped like the API's list envelope around arbitrary items, or arbitrary
/// JSON, or text that is not JSON at all.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (any::<bool>(), proptest::collection::vec(json(), 0..5)).prop_map(|(ok, items)| {
            Json::Object(vec![
                ("success".into(), Json::Bool(ok)),
                ("resultList".into(), Json::Array(items)),
            ])
            .text()
        }),
        3 => json().prop_map(|j| j.text()),
        1 => "\\PC{0,64}",
        1 => json().prop_map(|j| {
            // Cut off halfway (at a character boundary): an answer that ends early.
            let text = j.text();
            let cut = (0..=text.len() / 2).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text[..cut].to_string()
        }),
    ]
}

/// The next answer of the server: status and body.
type Answer = Arc<Mutex<(u16, String)>>;

async fn server(answer: Answer) -> Client {
    let app = axum::Router::new().fallback(move || {
        let (status, body) = answer.lock().unwrap().clone();
        async move {
            let status = StatusCode::from_u16(status).unwrap();
            (status, [("content-type", "application/json")], body).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    common::connect(ClientConfig {
        server: url,
        auth: Auth::Token(SecretString::from("canary-prop-token")),
        parallelism: 2,
        timeout: Duration::from_secs(4),
        retries: 0,
        ca_cert: None,
        insecure_skip_tls_verify: false,
        allow_insecure_http: false,
        max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
    })
    .await
}

/// Runs every decoding call once against the current answer; each must end in time,
/// and an error must name its method and path.
async fn decode_everything(client: &Client) {
    let email = common::email("m", "canary-prop-secret");
    let calls: Vec<(&str, futures::future::BoxFuture<'_, Result<String, String>>)> = vec![
        (
            "GET /apiops/projects/P/connections/?type=",
            Box::pin(async {
                let r = client.list_connections("P", "email").await;
                r.map(|v| format!("{v:?}")).map_err(|e| e.to_string())
            }),
        ),
        (
            "GET /apiops/projects/P/connections/?type=",
            Box::pin(async {
                let r = client.list_connections("P", "elasticsearch").await;
                r.map(|v| format!("{v:?}")).map_err(|e| e.to_string())
            }),
        ),
        (
            "GET /apiops/projects/P/connections/m/",
            Box::pin(async {
                let r = client.get_connection("P", "m").await;
                r.map(|v| format!("{v:?}")).map_err(|e| e.to_string())
            }),
        ),
        (
            "GET /apiops/projects/",
            Box::pin(async {
                let r = client.list_projects().await;
                r.map(|v| format!("{v:?}")).map_err(|e| e.to_string())
            }),
        ),
        (
            "POST /apiops/projects/P/connections/m/",
            Box::pin(async {
                let r = client.create_connection("P", &email).await;
                r.map(|v| format!("{v:?}")).map_err(|e| e.to_string())
            }),
        ),
        (
            "DELETE /apiops/projects/P/connections/m/",
            Box::pin(async {
                let r = client.delete_connection("P", "m").await;
                r.map(|v| format!("{v:?}")).map_err(|e| e.to_string())
            }),
        ),
    ];
    for (prefix, call) in calls {
        let outcome = tokio::time::timeout(BOUND, call)
            .await
            .unwrap_or_else(|_| panic!("{prefix}... took longer than {BOUND:?}"));
        if let Err(message) = outcome {
            assert!(message.starts_with(prefix), "{message}");
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn any_2xx_answer_decodes_or_fails_cleanly(body in body(), status in prop_oneof![Just(200u16), Just(201), Just(204)]) {
        let runtime = runtime();
        runtime.block_on(async {
            let answer: Answer = Arc::new(Mutex::new((status, if status == 204 { String::new() } else { body })));
            let client = server(answer).await;
            decode_everything(&client).await;
        });
        runtime.shutdown_background();
    }

    #[test]
    fn any_error_answer_decodes_into_a_message(body in body(), status in prop_oneof![Just(400u16), Just(401), Just(404), Just(409), Just(429), Just(500)]) {
        let runtime = runtime();
        runtime.block_on(async {
            let client = server(Arc::new(Mutex::new((status, body)))).await;
            decode_everything(&client).await;
        });
        runtime.shutdown_background();
    }
}
