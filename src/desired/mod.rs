//! Desired state: the loader of `-f` files, folders and globs into validated projects.
//! (Stub: implemented by the loader work.)

pub mod yaml;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diag::Diagnostic;
use crate::model::Connection;

/// What to load and how strictly.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Files, folders and globs as given on the command line.
    pub paths: Vec<String>,
    /// Literal secrets are warnings instead of errors.
    pub allow_literal_secrets: bool,
}

/// A successful load: the state plus warnings.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The desired state.
    pub state: DesiredState,
    /// Warnings (literal sensitive values, ...).
    pub warnings: Vec<Diagnostic>,
}

/// Every desired project, by name.
#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    /// Projects by exact (case-sensitive) name.
    pub projects: BTreeMap<String, DesiredProject>,
}

/// One project's settings and connections, merged over all its documents.
#[derive(Debug, Clone, Default)]
pub struct DesiredProject {
    /// The project name.
    pub name: String,
    /// Delete current connections that are not desired.
    pub prune: bool,
    /// Allow prune with no desired connection.
    pub allow_empty: bool,
    /// Connection-name globs never touched.
    pub ignore: Vec<String>,
    /// The desired connections, in file order.
    pub connections: Vec<DesiredConnection>,
    /// Where the project's documents start.
    pub sources: Vec<SourceRef>,
}

/// One desired connection.
#[derive(Debug, Clone)]
pub struct DesiredConnection {
    /// The connection as written: references unresolved, literal secrets split off.
    pub template: Connection,
    /// The previous name, for a rename.
    pub renamed_from: Option<String>,
    /// JSON Pointers left out of the comparison (connection's and document's).
    pub ignore_fields: Vec<String>,
    /// Where the connection starts.
    pub source: SourceRef,
}

/// A place in a desired-state file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceRef {
    /// The file, as found from the command-line paths.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

/// Loads and validates every file. Errors are all the diagnostics of the run, sorted by
/// file and line.
pub fn load(_options: &LoadOptions) -> Result<Loaded, Vec<Diagnostic>> {
    todo!("desired::load")
}
