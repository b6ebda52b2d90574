//! The HTTP client: URLs, authentication, retries, the shared concurrency limit,
//! envelopes and logging (method, path, status, duration, attempt; never a body, never
//! the Authorization header).

// `ApiError` is the public error of the client contract (its fields are the message a
// person acts on); boxing it in private helpers only would buy nothing.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::budget::{AnswerBudget, Held};
use super::error::ErrorEnvelope;
use super::retry::{AdaptiveLimit, Backoff, RetryStats, advertised_wait};
use super::tls;
use super::token::{self, Bearer, Issued, Issuer, TokenSource};
use super::wire::{self, RawObject};
use super::{ApiError, Auth, ClientConfig, DeploymentResult, EnvironmentResult};
use crate::model::Connection;
use crate::redact;

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The client. Cheap to clone; clones share one concurrency limit and one set of
/// counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    server: String,
    auth: TokenSource,
    timeout: Duration,
    retries: u32,
    backoff: Backoff,
    limit: Arc<AdaptiveLimit>,
    stats: RetryStats,
    max_response_bytes: u64,
    answers: Arc<AnswerBudget>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.server)
            .field("timeout", &self.inner.timeout)
            .field("retries", &self.inner.retries)
            .field("limit", &self.inner.limit.current())
            .finish_non_exhaustive()
    }
}

/// What a request carries.
enum Payload {
    None,
    Json(String),
    Form(Vec<(&'static str, SecretString)>),
}

/// One logical request (retried as a whole).
struct Request {
    method: Method,
    /// Path and query, as shown in logs and errors.
    path: String,
    payload: Payload,
    authenticated: bool,
}

/// A response that arrived.
struct Reply {
    status: u16,
    retry_after: Option<u64>,
    /// The `Location` header of a redirect.
    location: Option<String>,
    body: String,
    /// The body's share of the run's answer budget, held until the reply is decoded.
    _held: Held,
}

/// A list / get / projects envelope.
#[derive(Deserialize)]
struct ResultEnvelope<T> {
    #[serde(flatten)]
    outcome: Outcome,
    #[serde(rename = "resultList")]
    result_list: Option<Vec<T>>,
}

/// `success` boolean or `status: SUCCESS|FAILURE`, with the error fields a FAILURE may
/// carry.
#[derive(Deserialize, Default)]
struct Outcome {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct ProjectItem {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct MutationEnvelope {
    #[serde(flatten)]
    outcome: Outcome,
    #[serde(rename = "deploymentResult", default)]
    deployment_result: Option<DeploymentWire>,
}

#[derive(Deserialize)]
struct DeploymentWire {
    #[serde(default)]
    success: Option<bool>,
    #[serde(rename = "deploymentResults", default)]
    deployment_results: Option<Vec<EnvironmentWire>>,
}

#[derive(Deserialize)]
struct EnvironmentWire {
    #[serde(rename = "environmentName", default)]
    environment_name: Option<String>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Lifetime in seconds; absent means unknown (renewed only when refused).
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Outcome {
    /// Whether the answer is the API's envelope at all (it says `success` or `status`).
    fn is_envelope(&self) -> bool {
        self.success.is_some() || self.status.is_some()
    }

    /// An error when the envelope says the call failed despite a 2xx status.
    fn check(&self, request: &Request, status: u16) -> Result<(), ApiError> {
        let failed = self.success == Some(false)
            || self
                .status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("FAILURE"));
        if !failed {
            return Ok(());
        }
        Err(ApiError {
            method: request.method.to_string(),
            path: request.path.clone(),
            status: Some(status),
            error: self.error.clone().unwrap_or_else(|| "failure".to_string()),
            description: self.error_description.clone().unwrap_or_default(),
            validation_errors: Vec::new(),
        })
    }
}

impl DeploymentWire {
    fn into_result(self) -> DeploymentResult {
        let environments: Vec<EnvironmentResult> = self
            .deployment_results
            .unwrap_or_default()
            .into_iter()
            .map(|e| EnvironmentResult {
                environment_name: e.environment_name.unwrap_or_default(),
                success: e.success.unwrap_or(false),
                message: e.message.unwrap_or_default(),
            })
            .collect();
        let success = self
            .success
            .unwrap_or_else(|| environments.iter().all(|e| e.success));
        DeploymentResult {
            success,
            environments,
        }
    }
}

/// One percent-encoded path segment.
fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// Refuses a path with an empty, `.` or `..` segment: a URL normalises those away, so
/// the request would reach another resource than the documented template names (a
/// connection named `..` would address its project). Nothing is sent.
fn check_segments(request: &Request) -> Result<(), ApiError> {
    let path = request.path.split('?').next().unwrap_or_default();
    let inner = path.strip_prefix('/').unwrap_or(path);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    let bad = inner.split('/').find(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        matches!(decoded.as_str(), "" | "." | "..")
    });
    match bad {
        None => Ok(()),
        Some(segment) => Err(ApiError::local(
            request.method.as_str(),
            &request.path,
            "unsafe_path",
            format!(
                "refusing to send a request with the path segment `{segment}`, which a URL normalises away (a project or connection name that is empty, `.` or `..`); nothing was sent"
            ),
        )),
    }
}

fn connections_path(project: &str) -> String {
    format!("/apiops/projects/{}/connections/", segment(project))
}

fn connection_path(project: &str, name: &str) -> String {
    format!("{}{}/", connections_path(project), segment(name))
}

/// The manager URL as the client uses it (no trailing `/`, no `/apiops`), or why it is
/// not usable.
pub fn normalised_server(raw: &str) -> Result<String, ApiError> {
    normalise_server(raw).map(|(server, _)| server)
}

/// The manager URL without trailing slashes or an `/apiops` suffix.
fn normalise_server(raw: &str) -> Result<(String, reqwest::Url), ApiError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let trimmed = trimmed
        .strip_suffix("/apiops")
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed).map_err(|e| {
        ApiError::config(
            "invalid_server",
            format!("--server is not a URL ({e}); e.g. https://apinizer.example.com"),
        )
    })?;
    refuse_credentials_in(&url)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ApiError::config(
            "invalid_server",
            format!("--server {trimmed:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok((trimmed.to_string(), url))
}

/// Refuses a URL with `user:password@`: the token is the only credential sent, and a
/// password in a URL ends up in logs, plans and plan files. The message shows the URL
/// without its user part, so it names no password.
fn refuse_credentials_in(url: &reqwest::Url) -> Result<(), ApiError> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(());
    }
    let mut bare = url.clone();
    // Both setters only fail for URLs without a host, which were refused already.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    Err(ApiError::config(
        "credentials_in_url",
        format!(
            "--server must not hold a user name or password (user:password@): pass {} and give the API token with APINIZER_TOKEN or --token-file (or APINIZER_USERNAME and APINIZER_PASSWORD)",
            bare.as_str().trim_end_matches('/')
        ),
    ))
}

/// Whether a URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses to send a token in clear text over the network.
fn check_transport(url: &reqwest::Url, allow_insecure_http: bool) -> Result<(), ApiError> {
    if url.scheme() == "http" && !is_loopback(url) && !allow_insecure_http {
        return Err(ApiError::config(
            "insecure_http",
            format!(
                "refusing to send the API token over plain http:// to {}; use https:// or pass --allow-insecure-http",
                url.host_str().unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// The HTTP client: redirects are never followed (a 3xx is an error, so the token and
/// the bodies stay with the configured origin); `--ca-cert` trust (section 2).
fn build_http(config: &ClientConfig) -> Result<reqwest::Client, ApiError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("apinizer-gitops/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    if config.insecure_skip_tls_verify {
        tracing::warn!(
            "--insecure-skip-tls-verify: TLS certificates are NOT verified; anyone on the network path can read the token and secrets"
        );
        builder = builder.tls_danger_accept_invalid_certs(true);
    } else if let Some(path) = &config.ca_cert {
        let tls = tls::trusting(read_ca_cert(path)?).map_err(|e| ApiError::config("ca_cert", e))?;
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder
        .build()
        .map_err(|e| ApiError::config("client", format!("cannot build the HTTP client: {e}")))
}

/// The certificates of a `--ca-cert` PEM file.
fn read_ca_cert(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, ApiError> {
    let refused = |why: String| ApiError::config("ca_cert", why);
    let pem = std::fs::read(path)
        .map_err(|e| refused(format!("cannot read --ca-cert {}: {e}", path.display())))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            refused(format!(
                "--ca-cert {} is not a PEM certificate: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(refused(format!(
            "--ca-cert {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// A transport error as text, with its causes (never a header or body).
fn describe_transport_error(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn retry_after_header(response: &reqwest::Response) -> Option<u64> {
    header_text(response, reqwest::header::RETRY_AFTER)?
        .trim()
        .parse()
        .ok()
}

/// A header's value, when it is visible ASCII.
fn header_text(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    Some(response.headers().get(name)?.to_str().ok()?.to_string())
}

/// A byte count as people read it (`64 MiB`, `1.5 KiB`, `12 bytes`).
pub(crate) fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// A client built but not logged in: building reads the system's trust roots (tens of
/// milliseconds), which `plan` does while it resolves the references; nothing is sent yet.
pub struct PreparedClient {
    config: ClientConfig,
    server: String,
    http: reqwest::Client,
}

impl PreparedClient {
    /// Checks the server URL and builds the HTTP client; no request is made.
    pub fn new(config: ClientConfig) -> Result<PreparedClient, ApiError> {
        let (server, url) = normalise_server(&config.server)?;
        check_transport(&url, config.allow_insecure_http)?;
        let http = build_http(&config)?;
        Ok(PreparedClient {
            config,
            server,
            http,
        })
    }

    /// Logs in (when given credentials) and gives the client.
    pub async fn connect(self) -> Result<Client, ApiError> {
        self.connect_with(Backoff::default()).await
    }

    async fn connect_with(self, backoff: Backoff) -> Result<Client, ApiError> {
        let PreparedClient {
            config,
            server,
            http,
        } = self;
        let auth = match config.auth {
            Auth::Token(token) => {
                redact::register(token.expose_secret());
                TokenSource::Static(token)
            }
            Auth::Credentials { username, password } => {
                redact::register(password.expose_secret());
                TokenSource::issued(username, password)
            }
        };
        let inner = Inner {
            http,
            server,
            auth,
            timeout: config.timeout,
            retries: config.retries,
            backoff,
            limit: AdaptiveLimit::new(config.parallelism),
            stats: RetryStats::default(),
            max_response_bytes: config.max_response_bytes,
            answers: AnswerBudget::new(config.max_response_bytes),
        };
        // Log in now, so that bad credentials fail before any work starts.
        inner.bearer().await?;
        Ok(Client {
            inner: Arc::new(inner),
        })
    }
}

impl Client {
    /// Builds the client (and fetches a token when given credentials).
    pub async fn connect(config: ClientConfig) -> Result<Client, ApiError> {
        Self::connect_with(config, Backoff::default()).await
    }

    /// Like [`Client::connect`] with a chosen backoff (tests use a short one).
    pub async fn connect_with(config: ClientConfig, backoff: Backoff) -> Result<Client, ApiError> {
        PreparedClient::new(config)?.connect_with(backoff).await
    }

    /// The server URL this client talks to (without `/apiops`).
    pub fn server_url(&self) -> &str {
        &self.inner.server
    }

    /// Request counters of the run (attempts, retries, 429s).
    pub fn stats(&self) -> &RetryStats {
        &self.inner.stats
    }

    /// The run's current concurrency limit (lowered by 429s).
    pub fn concurrency_limit(&self) -> usize {
        self.inner.limit.current()
    }

    /// `GET /apiops/test/healthcheck` (no authentication).
    pub async fn healthcheck(&self) -> Result<(), ApiError> {
        let request = Request {
            method: Method::GET,
            path: "/apiops/test/healthcheck".to_string(),
            payload: Payload::None,
            authenticated: false,
        };
        self.inner.send(&request).await.0.map(|_| ())
    }

    /// Project names visible to the user.
    pub async fn list_projects(&self) -> Result<Vec<String>, ApiError> {
        let request = get("/apiops/projects/".to_string());
        let items: Vec<ProjectItem> = self.inner.fetch_list(&request).await?;
        Ok(items.into_iter().filter_map(|p| p.name).collect())
    }

    /// Connections of one type in a project (secrets null).
    pub async fn list_connections(
        &self,
        project: &str,
        kind: &str,
    ) -> Result<Vec<Connection>, ApiError> {
        let path = format!("{}?type={}", connections_path(project), segment(kind));
        let request = get(path);
        let items: Vec<RawObject> = self.inner.fetch_list(&request).await?;
        let mut connections = Vec::with_capacity(items.len());
        let mut problems = Vec::new();
        for (i, raw) in items.into_iter().enumerate() {
            match wire::decode_list_item(raw, Some(kind)) {
                Ok(connection) => connections.push(connection),
                Err(e) => problems.push(format!("item {}: {e}", i + 1)),
            }
        }
        if problems.is_empty() {
            Ok(connections)
        } else {
            Err(untrusted_answer(&request, &problems))
        }
    }

    /// One connection by name; `None` when it does not exist.
    pub async fn get_connection(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<Connection>, ApiError> {
        let request = get(connection_path(project, name));
        let items: Vec<RawObject> = match self.inner.fetch_list(&request).await {
            Ok(items) => items,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(raw) = items.into_iter().next() else {
            return Ok(None);
        };
        wire::decode_list_item(raw, None)
            .map(Some)
            .map_err(|e| untrusted_answer(&request, &[e.to_string()]))
    }

    /// POST a new connection. A create retried after a lost answer may meet
    /// "already exists" ([`ApiError::is_already_exists`]); the caller re-reads.
    pub async fn create_connection(
        &self,
        project: &str,
        connection: &Connection,
    ) -> Result<DeploymentResult, ApiError> {
        let path = connection_path(project, &connection.name);
        self.inner.mutate(Method::POST, path, connection).await
    }

    /// PUT a connection at `path_name` (the current name; the body may carry a new one).
    pub async fn update_connection(
        &self,
        project: &str,
        path_name: &str,
        connection: &Connection,
    ) -> Result<DeploymentResult, ApiError> {
        let path = connection_path(project, path_name);
        self.inner.mutate(Method::PUT, path, connection).await
    }

    /// DELETE a connection. A delete retried after a lost answer that meets "was not
    /// found" succeeded earlier: it reports success with no environments.
    pub async fn delete_connection(
        &self,
        project: &str,
        name: &str,
    ) -> Result<DeploymentResult, ApiError> {
        let request = Request {
            method: Method::DELETE,
            path: connection_path(project, name),
            payload: Payload::None,
            authenticated: true,
        };
        match self.inner.send(&request).await {
            (Ok(reply), _) => self.inner.deployment(&request, &reply),
            (Err(e), attempts) if attempts > 1 && e.is_not_found() => {
                tracing::debug!(path = %request.path, "retried delete found nothing left to delete");
                Ok(DeploymentResult {
                    success: true,
                    environments: Vec::new(),
                })
            }
            (Err(e), _) => Err(e),
        }
    }
}

fn get(path: String) -> Request {
    Request {
        method: Method::GET,
        path,
        payload: Payload::None,
        authenticated: true,
    }
}

/// Whether a non-2xx answer is the server refusing the bearer token.
fn is_token_refusal(reply: &Reply) -> bool {
    token::is_refusal(
        reply.status,
        ErrorEnvelope::parse(&reply.body).error.as_deref(),
    )
}

/// An answer whose items cannot be trusted ([`ApiError::UNTRUSTED_ANSWER`]): nothing may
/// be planned from it.
fn untrusted_answer(request: &Request, problems: &[String]) -> ApiError {
    ApiError::local(
        request.method.as_str(),
        &request.path,
        ApiError::UNTRUSTED_ANSWER,
        problems.join("; "),
    )
}

/// A 2xx answer to a write that is not the API's envelope (`what` says what it was,
/// never its text).
fn unconfirmed(request: &Request, reply: &Reply, what: &str) -> ApiError {
    ApiError {
        method: request.method.to_string(),
        path: request.path.clone(),
        status: Some(reply.status),
        error: super::error::UNREADABLE_ANSWER.to_string(),
        description: format!(
            "the answer is not the API's envelope ({what}, {} bytes), so it does not confirm the write",
            reply.body.len()
        ),
        validation_errors: Vec::new(),
    }
}

fn invalid_response(request: &Request, why: &str) -> ApiError {
    ApiError::local(
        request.method.as_str(),
        &request.path,
        "invalid_response",
        format!("unexpected response body: {why}"),
    )
}

/// A boxed, sendable future of the token call (it is reached from `send`, which it
/// calls itself, so the cycle needs a box).
type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<TokenResponse, ApiError>> + Send + 'a>>;

/// `POST /apiops/auth/token` with the form-encoded client credentials.
fn fetch_token<'a>(inner: &'a Inner, issuer: &'a Issuer) -> TokenFuture<'a> {
    Box::pin(async move {
        let request = Request {
            method: Method::POST,
            path: "/apiops/auth/token".to_string(),
            payload: Payload::Form(vec![
                ("grant_type", SecretString::from("client_credentials")),
                ("client_id", SecretString::from(issuer.username.clone())),
                ("client_secret", issuer.password.clone()),
            ]),
            authenticated: false,
        };
        let reply = inner.send(&request).await.0?;
        serde_json::from_str(&reply.body)
            .map_err(|e| invalid_response(&request, &wire::describe_json_error(&e).0))
    })
}

/// Advice on a refused static token (never the token itself).
const STATIC_TOKEN_REFUSED: &str = "the server refused the API token (APINIZER_TOKEN or --token-file): it may be expired, revoked or mistyped; create a new Personal API Access Token";

/// Advice on a refusal that a renewal did not cure.
const FRESH_TOKEN_REFUSED: &str = "the server refused a freshly issued token; check that the user (APINIZER_USERNAME) may use the Management API and that the server accepts its own tokens";

impl Inner {
    /// A list-shaped answer (list, get, projects), envelope checked.
    async fn fetch_list<T: for<'de> Deserialize<'de>>(
        &self,
        request: &Request,
    ) -> Result<Vec<T>, ApiError> {
        let reply = self.send(request).await.0?;
        let envelope: ResultEnvelope<T> = serde_json::from_str(&reply.body)
            .map_err(|e| invalid_response(request, &wire::describe_json_error(&e).0))?;
        envelope.outcome.check(request, reply.status)?;
        Ok(envelope.result_list.unwrap_or_default())
    }

    /// POST or PUT of a connection body.
    async fn mutate(
        &self,
        method: Method,
        path: String,
        connection: &Connection,
    ) -> Result<DeploymentResult, ApiError> {
        // A server may echo the body (in an error, a name, a message): from now on its
        // secrets read `(sensitive)` in every server text shown.
        redact::register_secrets(&connection.secrets);
        let request = Request {
            method,
            path,
            payload: Payload::Json(wire::encode_request(connection)),
            authenticated: true,
        };
        let reply = self.send(&request).await.0?;
        self.deployment(&request, &reply)
    }

    /// The `deploymentResult` of a mutation answer. A 2xx whose body is not the API's
    /// envelope (`success` or `status`) does not confirm the write (a proxy's HTML page,
    /// an empty body): it is an [`ApiError::is_unconfirmed_write`] error, and the caller
    /// re-reads the connection to learn whether the server holds it.
    fn deployment(&self, request: &Request, reply: &Reply) -> Result<DeploymentResult, ApiError> {
        let envelope = match serde_json::from_str::<MutationEnvelope>(&reply.body) {
            Ok(envelope) if envelope.outcome.is_envelope() => envelope,
            Ok(_) => {
                return Err(unconfirmed(
                    request,
                    reply,
                    "JSON without `success` or `status`",
                ));
            }
            Err(_) if reply.body.trim().is_empty() => {
                return Err(unconfirmed(request, reply, "an empty body"));
            }
            Err(_) => {
                return Err(unconfirmed(
                    request,
                    reply,
                    "a body that is not a JSON object",
                ));
            }
        };
        envelope.outcome.check(request, reply.status)?;
        Ok(envelope
            .deployment_result
            .map(DeploymentWire::into_result)
            .unwrap_or(DeploymentResult {
                success: true,
                environments: Vec::new(),
            }))
    }

    /// Sends a request with retries. Returns the outcome and the attempts made.
    /// A 401 refusal of the token is not counted as an attempt: the server did not act,
    /// so the one retry with a renewed token cannot duplicate a write.
    async fn send(&self, request: &Request) -> (Result<Reply, ApiError>, u32) {
        if let Err(error) = check_segments(request) {
            return (Err(error), 0);
        }
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let bearer = match self.bearer_for(request).await {
                Ok(bearer) => bearer,
                Err(error) => return (Err(error), attempt),
            };
            let error = match self.attempt(request, attempt, bearer.as_ref()).await {
                Ok(reply) if (200..300).contains(&reply.status) => {
                    self.limit.record_success();
                    return (Ok(reply), attempt);
                }
                Ok(reply) if bearer.is_some() && is_token_refusal(&reply) => {
                    let refused = bearer.map_or(0, |b| b.generation);
                    if let Err(error) = self.after_refusal(request, &reply, refused, renewed).await
                    {
                        return (Err(error), attempt);
                    }
                    renewed = true;
                    attempt -= 1;
                    continue;
                }
                Ok(reply) => self.failed_reply(request, &reply),
                Err(error) => (error, None),
            };
            let (error, advertised) = error;
            if !error.is_retryable() || attempt > self.retries {
                return (Err(error), attempt);
            }
            let wait = advertised.unwrap_or_else(|| self.backoff.delay(attempt));
            tracing::debug!(
                method = %request.method,
                path = %request.path,
                "{}; retry {attempt}/{} in {}",
                error.error,
                self.retries,
                humantime::format_duration(Duration::from_millis(wait.as_millis() as u64))
            );
            self.stats.record_retry();
            tokio::time::sleep(wait).await;
        }
    }

    /// The token for an authenticated request (logging in or renewing first when due).
    async fn bearer_for(&self, request: &Request) -> Result<Option<Bearer>, ApiError> {
        if request.authenticated {
            self.bearer().await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// The current token; an issued one is renewed first when it is near expiry. The
    /// mutex is held across the token call, so concurrent requests wait for one renewal.
    async fn bearer(&self) -> Result<Bearer, ApiError> {
        match &self.auth {
            TokenSource::Static(token) => Ok(Bearer {
                token: token.clone(),
                generation: 0,
            }),
            TokenSource::Issued(issuer) => {
                let mut current = issuer.current.lock().await;
                if current.is_due(Instant::now()) {
                    self.renew(issuer, &mut current).await?;
                }
                Ok(current.bearer().expect("a token after a successful login"))
            }
        }
    }

    /// Decides on a 401 refusal of token `refused`: an error for a static token or for
    /// a token renewed already during this request; otherwise a renewal (unless another
    /// request renewed it meanwhile), after which the caller retries once.
    async fn after_refusal(
        &self,
        request: &Request,
        reply: &Reply,
        refused: u64,
        already_renewed: bool,
    ) -> Result<(), ApiError> {
        let error = || {
            ApiError::from_response(
                request.method.as_str(),
                &request.path,
                reply.status,
                &reply.body,
            )
        };
        let issuer = match &self.auth {
            TokenSource::Static(_) => return Err(error().with_hint(STATIC_TOKEN_REFUSED)),
            TokenSource::Issued(_) if already_renewed => {
                return Err(error().with_hint(FRESH_TOKEN_REFUSED));
            }
            TokenSource::Issued(issuer) => issuer,
        };
        tracing::debug!(method = %request.method, path = %request.path, error = %error().error, "token refused; renewing it and retrying once");
        let mut current = issuer.current.lock().await;
        if current.is_current(refused) {
            self.renew(issuer, &mut current).await?;
        }
        Ok(())
    }

    /// Logs in again and keeps the new token with its expiry.
    async fn renew(&self, issuer: &Issuer, current: &mut Issued) -> Result<(), ApiError> {
        let issued_at = Instant::now();
        let response = fetch_token(self, issuer).await?;
        redact::register(&response.access_token);
        tracing::debug!(expires_in = ?response.expires_in, "api token issued");
        current.replace(
            SecretString::from(response.access_token),
            issued_at,
            response.expires_in,
        );
        Ok(())
    }

    /// The error of a non-2xx answer and, for a 429, the wait it advertises (and a
    /// lower concurrency for the run).
    fn failed_reply(&self, request: &Request, reply: &Reply) -> (ApiError, Option<Duration>) {
        if (300..400).contains(&reply.status) {
            let error = ApiError::redirect(
                request.method.as_str(),
                &request.path,
                reply.status,
                reply.location.as_deref(),
                &self.server,
            );
            return (error, None);
        }
        let error = ApiError::from_response(
            request.method.as_str(),
            &request.path,
            reply.status,
            &reply.body,
        );
        if reply.status != StatusCode::TOO_MANY_REQUESTS.as_u16() {
            return (error, None);
        }
        self.stats.record_rate_limited();
        self.limit.lower();
        let seconds = reply
            .retry_after
            .or_else(|| ErrorEnvelope::parse(&reply.body).retry_after_seconds());
        (error, seconds.map(advertised_wait))
    }

    /// One attempt, inside a slot of the shared limit.
    async fn attempt(
        &self,
        request: &Request,
        attempt: u32,
        bearer: Option<&Bearer>,
    ) -> Result<Reply, ApiError> {
        let _slot = self.limit.acquire().await;
        self.stats.record_attempt();
        let started = Instant::now();
        let result = self.exchange(request, bearer).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(reply) => tracing::debug!(
                method = %request.method, path = %request.path, status = reply.status,
                elapsed_ms, attempt, "api request"
            ),
            Err(e) => tracing::debug!(
                method = %request.method, path = %request.path, error = %e.error,
                elapsed_ms, attempt, "api request failed"
            ),
        }
        result
    }

    /// Sends once and reads the whole answer within the timeout.
    async fn exchange(
        &self,
        request: &Request,
        bearer: Option<&Bearer>,
    ) -> Result<Reply, ApiError> {
        let url = format!("{}{}", self.server, request.path);
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(bearer) = bearer {
            builder = builder.bearer_auth(bearer.token.expose_secret());
        }
        builder = match &request.payload {
            Payload::None => builder,
            Payload::Json(text) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(text.clone()),
            Payload::Form(fields) => {
                let exposed: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (*k, v.expose_secret()))
                    .collect();
                builder.form(&exposed)
            }
        };
        let transport = |e: reqwest::Error| self.transport_error(request, &e);
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = retry_after_header(&response);
        let location = header_text(&response, reqwest::header::LOCATION);
        let (body, held) = self.read_bounded(request, response).await?;
        Ok(Reply {
            status,
            retry_after,
            location,
            body,
            _held: held,
        })
    }

    /// Reads the body chunk by chunk and stops at `max_response_bytes`, or when the
    /// answers held at once exceed their budget: a huge or endless answer costs at most
    /// the limit in memory, never the whole answer.
    async fn read_bounded(
        &self,
        request: &Request,
        mut response: reqwest::Response,
    ) -> Result<(String, Held), ApiError> {
        let limit = self.max_response_bytes;
        let announced = response.content_length();
        if announced.is_some_and(|length| length > limit) {
            return Err(self.too_large(request));
        }
        let mut held = self.answers.hold();
        let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(request, &e))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(self.too_large(request));
            }
            body.extend_from_slice(&chunk);
            if !held.grow_to(body.capacity() as u64) {
                return Err(self.too_much_at_once(request));
            }
        }
        let text = String::from_utf8(body)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok((text, held))
    }

    fn too_large(&self, request: &Request) -> ApiError {
        self.oversized(
            request,
            format!(
                "the answer is larger than {} (--max-response-size); nothing past the limit was read",
                format_size(self.max_response_bytes)
            ),
        )
    }

    fn too_much_at_once(&self, request: &Request) -> ApiError {
        self.oversized(
            request,
            format!(
                "the answers read at once hold more than {} (twice --max-response-size); reading stopped",
                format_size(self.answers.total())
            ),
        )
    }

    fn oversized(&self, request: &Request, what: String) -> ApiError {
        ApiError::local(
            request.method.as_str(),
            &request.path,
            "response_too_large",
            format!(
                "{what}. If a Manager really answers with that much, raise --max-response-size"
            ),
        )
    }

    fn transport_error(&self, request: &Request, error: &reqwest::Error) -> ApiError {
        let (code, description) = if let Some(cause) = tls::cause(error) {
            // Not retried: a certificate does not get better by asking again.
            ("tls", tls::describe(cause, &self.host()))
        } else if error.is_timeout() {
            (
                "timeout",
                format!(
                    "timed out after {}",
                    humantime::format_duration(self.timeout)
                ),
            )
        } else {
            ("connection", describe_transport_error(error))
        };
        ApiError::local(request.method.as_str(), &request.path, code, description)
    }

    /// The configured server's host (and port), as named in TLS errors.
    fn host(&self) -> String {
        reqwest::Url::parse(&self.server)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_string();
                Some(
                    url.port()
                        .map_or(host.clone(), |port| format!("{host}:{port}")),
                )
            })
            .unwrap_or_else(|| self.server.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalised() {
        for raw in [
            "http://h:1",
            "http://h:1/",
            "http://h:1/apiops",
            "http://h:1/apiops/",
        ] {
            assert_eq!(normalise_server(raw).unwrap().0, "http://h:1");
        }
        assert!(normalise_server("h:1").is_err());
        assert!(normalise_server("ftp://h").is_err());
    }

    #[test]
    fn paths_end_with_a_slash_and_encode_names() {
        assert_eq!(
            connection_path("My Project", "a/b c"),
            "/apiops/projects/My%20Project/connections/a%2Fb%20c/"
        );
        assert_eq!(connections_path("P"), "/apiops/projects/P/connections/");
    }

    #[test]
    fn paths_whose_segments_a_url_would_normalise_are_refused() {
        for (project, name) in [("P", ".."), ("P", "."), (".", "x"), ("", "x"), ("P", "")] {
            let request = get(connection_path(project, name));
            let error = check_segments(&request).unwrap_err();
            assert_eq!(error.error, "unsafe_path", "{project:?}/{name:?}");
        }
        let list = get(format!("{}?type=email", connections_path("..")));
        assert!(check_segments(&list).is_err());
        for fine in [connection_path("P", "a.b"), connection_path("P", "a/b")] {
            assert!(check_segments(&get(fine)).is_ok());
        }
        assert!(check_segments(&get("/apiops/projects/".to_string())).is_ok());
        assert!(check_segments(&get("/apiops/auth/token".to_string())).is_ok());
    }

    proptest::proptest! {
        /// Any name the tool would address reaches the server as exactly the template
        /// with that name percent-encoded: the URL parser normalises nothing away.
        #[test]
        fn safe_names_give_paths_no_url_normalises(
            project in proptest::prop_oneof!["[./a%?#~ -]{0,4}", ".{0,12}"],
            name in proptest::prop_oneof!["[./a%?#~ -]{0,4}", ".{0,12}"],
        ) {
            let safe = crate::model::unsafe_name(&project).is_none()
                && crate::model::unsafe_name(&name).is_none();
            let path = connection_path(&project, &name);
            let url = reqwest::Url::parse(&format!("http://127.0.0.1:1{path}")).unwrap();
            if safe {
                proptest::prop_assert!(check_segments(&get(path.clone())).is_ok());
                proptest::prop_assert_eq!(url.path(), path.as_str());
            }
            if url.path() != path {
                proptest::prop_assert!(check_segments(&get(path)).is_err());
            }
        }
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let (_, remote) = normalise_server("http://apinizer.example.com").unwrap();
        let err = check_transport(&remote, false).unwrap_err();
        assert_eq!(err.error, "insecure_http");
        assert!(err.to_string().contains("--allow-insecure-http"));
        assert!(check_transport(&remote, true).is_ok());
        for local in ["http://localhost:1", "http://127.0.0.2", "http://[::1]:8"] {
            let (_, url) = normalise_server(local).unwrap();
            assert!(check_transport(&url, false).is_ok(), "{local}");
        }
        let (_, tls) = normalise_server("https://apinizer.example.com").unwrap();
        assert!(check_transport(&tls, false).is_ok());
    }

    #[test]
    fn a_failure_envelope_is_an_error_despite_200() {
        let request = get("/apiops/projects/".to_string());
        let envelope: ResultEnvelope<ProjectItem> = serde_json::from_str(
            r#"{"status":"FAILURE","error":"forbidden","error_description":"No role"}"#,
        )
        .unwrap();
        let err = envelope.outcome.check(&request, 200).unwrap_err();
        assert_eq!(
            err.to_string(),
            "GET /apiops/projects/: 200 forbidden: No role"
        );
        let ok: ResultEnvelope<ProjectItem> =
            serde_json::from_str(r#"{"status":"SUCCESS","resultList":null}"#).unwrap();
        assert!(ok.outcome.check(&request, 200).is_ok());
        assert!(ok.result_list.is_none());
    }

    #[test]
    fn deployment_results_default_to_success() {
        let wire: MutationEnvelope = serde_json::from_str(
            r#"{"success":true,"deploymentResult":{"deploymentResults":[{"environmentName":"prod","success":false,"message":"down"}]}}"#,
        )
        .unwrap();
        let result = wire.deployment_result.unwrap().into_result();
        assert!(!result.success);
        assert_eq!(result.environments[0].environment_name, "prod");
    }
}
