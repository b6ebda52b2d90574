//! `ApiError`: one actionable message per failure, and the questions callers ask of it.

use std::fmt;

use serde::Deserialize;

use super::ApiError;

/// The `error` of a 2xx answer to a write that is not the API's envelope.
pub(crate) const UNREADABLE_ANSWER: &str = "unreadable_answer";

/// Statuses worth retrying: rate limiting and transient server failures.
const RETRYABLE_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// The error envelope of the API: `{error, error_description, validation_errors,
/// retry_after}`. Every field is optional so that odd bodies still yield an error.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub validation_errors: Option<Vec<ValidationItem>>,
    #[serde(default)]
    pub retry_after: Option<serde_json::Value>,
}

/// One `validation_errors` item.
#[derive(Debug, Deserialize)]
pub(crate) struct ValidationItem {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorEnvelope {
    /// Parses an error body; anything unreadable gives an empty envelope.
    pub fn parse(body: &str) -> Self {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// The body's `retry_after` in seconds (a number or a numeric string).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self.retry_after.as_ref()? {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl ApiError {
    /// An error built from a response status and its (error envelope) body.
    pub(crate) fn from_response(method: &str, path: &str, status: u16, body: &str) -> Self {
        let envelope = ErrorEnvelope::parse(body);
        let validation_errors = envelope
            .validation_errors
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                (
                    item.field.unwrap_or_default(),
                    item.message.unwrap_or_default(),
                )
            })
            .collect();
        ApiError {
            method: method.to_string(),
            path: path.to_string(),
            status: Some(status),
            error: envelope.error.unwrap_or_else(|| fallback_code(status)),
            description: envelope.error_description.unwrap_or_default(),
            validation_errors,
        }
    }

    /// A 3xx answer, never followed: it names the status and where it pointed, and
    /// keeps the token with the configured server.
    pub(crate) fn redirect(
        method: &str,
        path: &str,
        status: u16,
        location: Option<&str>,
        server: &str,
    ) -> Self {
        let target = location.map_or_else(
            || " without a Location".to_string(),
            |l| format!(" to {}", l.escape_debug()),
        );
        ApiError {
            method: method.to_string(),
            path: path.to_string(),
            status: Some(status),
            error: "redirect".to_string(),
            description: format!(
                "the server redirects{target}; redirects are never followed, so the token stays with {server}: point --server (or APINIZER_URL) at the Manager URL that answers directly (check the scheme, host, port and path prefix)"
            ),
            validation_errors: Vec::new(),
        }
    }

    /// An error that happened on this side of the wire (timeout, connection, bad
    /// response, bad configuration).
    pub(crate) fn local(method: &str, path: &str, error: &str, description: String) -> Self {
        ApiError {
            method: method.to_string(),
            path: path.to_string(),
            status: None,
            error: error.to_string(),
            description,
            validation_errors: Vec::new(),
        }
    }

    /// The `error` of an answer whose items cannot be trusted (another type than asked
    /// for, a repeated key, a name twice, no usable name).
    pub const UNTRUSTED_ANSWER: &'static str = "untrusted_answer";

    /// A configuration problem found before any request.
    pub(crate) fn config(error: &str, description: String) -> Self {
        Self::local("", "", error, description)
    }

    /// The connection does not exist (GET 404 `not_found`, or PUT/DELETE 400 "was not
    /// found"). A missing project is not this: see [`ApiError::is_project_not_found`].
    pub fn is_not_found(&self) -> bool {
        if self.is_project_not_found() {
            return false;
        }
        match self.status {
            Some(404) => true,
            Some(400) => self.description.contains("was not found"),
            _ => false,
        }
    }

    /// The project named in the path does not exist (404 "Project 'X' not found").
    pub fn is_project_not_found(&self) -> bool {
        self.status == Some(404) && self.description.starts_with("Project '")
    }

    /// A create met an existing name (400 "already exists", or 409
    /// `duplicate_name` / `conflict`).
    pub fn is_already_exists(&self) -> bool {
        match self.status {
            Some(409) => true,
            Some(400) => self.description.contains("already exists"),
            _ => false,
        }
    }

    /// The same error with advice appended to its description.
    pub(crate) fn with_hint(mut self, hint: &str) -> Self {
        self.description = if self.description.is_empty() {
            hint.to_string()
        } else {
            format!("{}; {hint}", self.description)
        };
        self
    }

    /// A write answered 2xx with something that is not the API's envelope: whether it
    /// happened is known only by re-reading the connection.
    pub fn is_unconfirmed_write(&self) -> bool {
        self.error == UNREADABLE_ANSWER
    }

    /// Worth retrying: 429, 500, 502, 503, 504, or a connection failure.
    pub fn is_retryable(&self) -> bool {
        match self.status {
            Some(status) => RETRYABLE_STATUSES.contains(&status),
            None => self.error == "connection",
        }
    }
}

/// An `error` code for a response whose body carried none.
fn fallback_code(status: u16) -> String {
    match status {
        400 => "bad_request",
        401 => "unauthorized_client",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        429 => "rate_limit_exceeded",
        _ => "http_error",
    }
    .to_string()
}

/// Every part but the method is server text (or may quote it), so the whole line is
/// scrubbed of the run's secrets.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        self.write_line(&mut line)?;
        f.write_str(&crate::redact::scrub(&line))
    }
}

impl ApiError {
    fn write_line(&self, f: &mut impl fmt::Write) -> fmt::Result {
        if !self.method.is_empty() {
            write!(f, "{} {}: ", self.method, self.path)?;
        }
        if let Some(status) = self.status {
            write!(f, "{status} ")?;
        }
        write!(f, "{}", self.error)?;
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        for (i, (field, message)) in self.validation_errors.iter().enumerate() {
            let lead = if i == 0 {
                " (validation errors: "
            } else {
                "; "
            };
            write!(f, "{lead}{field}: {message}")?;
        }
        if !self.validation_errors.is_empty() {
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_actionable_line() {
        let e = ApiError::from_response(
            "PUT",
            "/apiops/projects/P/connections/x/",
            400,
            r#"{"error":"bad_request","error_description":"Connection (name: x) was not found!"}"#,
        );
        assert_eq!(
            e.to_string(),
            "PUT /apiops/projects/P/connections/x/: 400 bad_request: Connection (name: x) was not found!"
        );
        assert!(e.is_not_found());
        assert!(!e.is_retryable());
    }

    #[test]
    fn validation_errors_are_listed() {
        let body = r#"{"error":"validation_failed","error_description":"Invalid","validation_errors":[{"field":"host","message":"is required"},{"field":"port","message":"must be a number"}]}"#;
        let e = ApiError::from_response("POST", "/p", 400, body);
        assert_eq!(
            e.to_string(),
            "POST /p: 400 validation_failed: Invalid (validation errors: host: is required; port: must be a number)"
        );
    }

    #[test]
    fn classifies_the_documented_envelopes() {
        let project = ApiError::from_response(
            "GET",
            "/p",
            404,
            r#"{"error":"not_found","error_description":"Project 'X' not found"}"#,
        );
        assert!(project.is_project_not_found());
        assert!(!project.is_not_found());
        let exists = ApiError::from_response(
            "POST",
            "/p",
            400,
            r#"{"error":"bad_request","error_description":"Connection (name: a) already exists!"}"#,
        );
        assert!(exists.is_already_exists());
        let conflict = ApiError::from_response("POST", "/p", 409, r#"{"error":"duplicate_name"}"#);
        assert!(conflict.is_already_exists());
        let busy = ApiError::from_response("GET", "/p", 429, "not json");
        assert_eq!(busy.error, "rate_limit_exceeded");
        assert!(busy.is_retryable());
        let dropped = ApiError::local("GET", "/p", "connection", "connection reset".into());
        assert!(dropped.is_retryable());
        assert_eq!(dropped.to_string(), "GET /p: connection: connection reset");
    }

    #[test]
    fn retry_after_accepts_numbers_and_strings() {
        assert_eq!(
            ErrorEnvelope::parse(r#"{"retry_after": 3}"#).retry_after_seconds(),
            Some(3)
        );
        assert_eq!(
            ErrorEnvelope::parse(r#"{"retry_after": "2"}"#).retry_after_seconds(),
            Some(2)
        );
    }
}
