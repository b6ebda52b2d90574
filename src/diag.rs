//! Diagnostics: an error or warning about desired-state input, with its place and a hint.

use std::path::PathBuf;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the run (exit 1).
    Error,
    /// Reported; the run goes on.
    Warning,
}

/// One finding about the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, when known.
    pub file: Option<PathBuf>,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// The project, when known.
    pub project: Option<String>,
    /// The connection, when known.
    pub connection: Option<String>,
    /// What is wrong. Never contains a secret value.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}
