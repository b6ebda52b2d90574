//! The sandbox's HTTP surface: the documented endpoints, bearer auth, envelopes, and the
//! latency / fault layer. Logs method, path and status only, never a body.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Shared;
use super::counters::RequestKind;
use super::faults::{Fault, Injected};
use super::store::{Failure, check_kind};
use super::tokens::invalid_token;
use crate::api::wire;
use crate::model::Connection;

/// What a handler answers: a response, or an error envelope.
type Answer = Result<Response, Failure>;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        failure_response(&self)
    }
}

/// Every route of the sandbox, spelt as the docs spell them: project and connection paths
/// end with `/`, the token and healthcheck paths do not. Any other path (the same path
/// without its `/` included) is a 404 in Spring's shape, as a real server answers it.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/apiops/test/hello/{name}", get(hello))
        .route("/apiops/auth/token", post(token))
        .route("/apiops/projects/", get(projects))
        .route("/apiops/projects/{project}/connections/", get(list))
        .route(
            "/apiops/projects/{project}/connections/{name}/",
            get(read).post(write).put(write).delete(remove),
        )
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), chaos));
    Router::new()
        .route("/apiops/test/healthcheck", get(healthcheck))
        .merge(api)
        .with_state(shared)
}

/// Latency, injected faults and the request log line.
async fn chaos(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if let Some(latency) = shared.latency.filter(|l| !l.is_zero()) {
        tokio::time::sleep(latency).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    shared.requests.record(RequestKind::of(&method, &path));
    let is_write = matches!(method, Method::POST | Method::PUT | Method::DELETE);
    let injected = shared.faults.draw(is_write);
    let response = match injected {
        Some(Injected {
            fault,
            after_handling: false,
        }) => fault_response(fault),
        Some(Injected { fault, .. }) => {
            drop(next.run(request).await);
            fault_response(fault)
        }
        None => next.run(request).await,
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), fault = ?injected, "sandbox request");
    response
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ServerError => envelope_error(500, "internal_error", "Injected server error"),
        Fault::Unavailable => envelope_error(503, "service_unavailable", "Injected outage"),
        Fault::TooManyRequests { retry_after } => {
            let body = json!({
                "error": "rate_limit_exceeded",
                "error_description": "Too many requests",
                "retry_after": retry_after,
            });
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, body.to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Fault::Drop => dropped_connection(),
    }
}

/// A response whose body fails at once: the server closes the connection and the
/// client never gets a complete answer.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the sandbox"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(failing))
        .expect("static response parts are valid")
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response
}

fn envelope_error(status: u16, error: &'static str, description: &str) -> Response {
    failure(status, error, description).into_response()
}

fn failure(status: u16, error: &'static str, description: &str) -> Failure {
    Failure {
        status,
        error,
        description: description.to_string(),
        validation: Vec::new(),
    }
}

fn failure_response(failure: &Failure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, failure.body().to_string())
}

/// Bearer authentication: the sandbox's token or a live issued one; 401
/// `token_expired` or `unauthorized_client` "Invalid token" otherwise.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Failure> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        _ if shared.issued_tokens.refuses_all() => Err(invalid_token()),
        Some(token) if token == shared.token => Ok(()),
        Some(token) => shared.issued_tokens.check(token),
        None => Err(invalid_token()),
    }
}

async fn healthcheck() -> &'static str {
    "OK"
}

async fn hello(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Answer {
    authorize(&shared, &headers)?;
    Ok(format!("Hello {name}").into_response())
}

async fn token(
    State(shared): State<Arc<Shared>>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Answer {
    let Ok(Form(fields)) = form else {
        return Err(failure(
            400,
            "invalid_request",
            "Send application/x-www-form-urlencoded grant_type, client_id and client_secret",
        ));
    };
    if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(failure(
            400,
            "unsupported_grant_type",
            "GrantType value must be client_credentials!",
        ));
    }
    let presented = (fields.get("client_id"), fields.get("client_secret"));
    let accepted = shared
        .credentials
        .as_ref()
        .is_some_and(|(user, password)| presented == (Some(user), Some(password)));
    if !accepted {
        return Err(failure(401, "unauthorized_client", "Bad credentials"));
    }
    let grant = shared.issued_tokens.issue(&shared.token);
    let body = json!({"access_token": grant.token, "token_type": "Bearer", "expires_in": grant.expires_in});
    Ok(json_response(StatusCode::OK, body.to_string()))
}

async fn projects(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Answer {
    authorize(&shared, &headers)?;
    let names = shared.store().project_names();
    let items: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "description": null}))
        .collect();
    let body = json!({"status": "SUCCESS", "resultList": items, "resultCount": names.len()});
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// `{success, resultList, resultCount}` around connection texts built by the wire
/// codec (they may hold a key twice, so they are joined as text).
fn result_list(items: &[String]) -> Response {
    let body = format!(
        r#"{{"success":true,"resultList":[{}],"resultCount":{}}}"#,
        items.join(","),
        items.len()
    );
    json_response(StatusCode::OK, body)
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    authorize(&shared, &headers)?;
    let kind = query.get("type").map(String::as_str);
    let items = shared.store().list(&project, kind)?;
    Ok(result_list(&items))
}

async fn read(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((project, name)): Path<(String, String)>,
) -> Answer {
    authorize(&shared, &headers)?;
    let item = shared.store().get(&project, &name)?;
    Ok(result_list(&[item]))
}

/// Decodes a request body with the wire codec (ES double `type` included).
fn decode_request(body: &Bytes) -> Result<Connection, Failure> {
    let text =
        std::str::from_utf8(body).map_err(|_| Failure::bad_request("Body is not UTF-8".into()))?;
    let raw = wire::parse_object(text)
        .map_err(|e| Failure::bad_request(format!("Malformed JSON request: {e}")))?;
    let first_type = raw
        .entries
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| crate::catalog::scalar_text(v));
    let (kind, name, fields) = wire::decode_object(raw, None).map_err(|e| {
        let failure = match &first_type {
            Some(kind) => check_kind(kind).err(),
            None => None,
        };
        failure.unwrap_or_else(|| Failure::bad_request(format!("Invalid body: {e}")))
    })?;
    Ok(Connection::from_body(&kind, &name, fields, false))
}

/// `{success, deploymentResult}` of a write.
fn written(shared: &Shared, connection: &Connection, always_deploy: bool) -> Response {
    let deploy = connection
        .fields
        .get("deployToWorker")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mut body = json!({"success": true});
    if deploy || always_deploy {
        body["deploymentResult"] = shared.deployment_result();
    }
    json_response(StatusCode::OK, body.to_string())
}

/// POST (create) and PUT (update, rename): authorize, decode, apply, answer with the
/// deployment result.
async fn write(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    Path((project, name)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    authorize(&shared, &headers)?;
    let connection = decode_request(&body)?;
    let mut store = shared.store();
    let stored = if method == Method::POST {
        store.create(&project, &name, connection)?
    } else {
        store.update(&project, &name, connection)?
    };
    drop(store);
    Ok(written(&shared, &stored, false))
}

async fn remove(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((project, name)): Path<(String, String)>,
) -> Answer {
    authorize(&shared, &headers)?;
    let removed = shared.store().delete(&project, &name)?;
    Ok(written(&shared, &removed, true))
}

/// Spring Boot's answer to an unmapped path: `{timestamp, status, error, path}`, not the
/// Apinizer error envelope.
async fn unknown_endpoint(uri: axum::http::Uri) -> Response {
    let body = json!({
        "timestamp": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        "status": 404,
        "error": "Not Found",
        "path": uri.path(),
    });
    json_response(StatusCode::NOT_FOUND, body.to_string())
}
