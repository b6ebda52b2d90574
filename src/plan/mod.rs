//! The plan: current state, normalisation, the diff, and saved plan files.
//! (Stub: implemented by the plan work. The types below are the contract with `render`
//! and `apply`.)

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::desired::SourceRef;
use crate::model::Connection;

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// PUT on the old path with the new name (plus field changes).
    Rename,
    /// POST a new connection.
    Create,
    /// PUT changed fields.
    Update,
    /// DELETE then POST (the type changed).
    Replace,
    /// DELETE (prune).
    Delete,
}

/// One field that differs. Sensitive fields carry no values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON Pointer into the connection body (`/port`).
    pub path: String,
    /// Current value (None when absent or sensitive).
    pub before: Option<Value>,
    /// Desired value as written (references shown as `${env:...}`; None when absent or
    /// sensitive).
    pub after: Option<Value>,
    /// A secret or sensitive entry: values never shown.
    pub sensitive: bool,
}

/// One planned change.
#[derive(Debug, Clone)]
pub struct Change {
    /// Project name.
    pub project: String,
    /// Connection type (the desired one; for delete, the current one).
    pub kind: String,
    /// Connection name (the desired one; for delete, the current one).
    pub name: String,
    /// What to do.
    pub action: Action,
    /// The name on the server now (rename: the old name; otherwise the current spelling).
    pub current_name: Option<String>,
    /// The type on the server now (replace).
    pub current_kind: Option<String>,
    /// The desired connection as written (references unresolved). None for delete.
    pub desired: Option<Connection>,
    /// Field-level differences.
    pub fields: Vec<FieldChange>,
    /// JSON Pointers left out of the comparison.
    pub ignore_fields: Vec<String>,
    /// Where the desired connection is written.
    pub source: Option<SourceRef>,
    /// Digest of the current state's canonical non-secret fields (None for create).
    pub fingerprint: Option<String>,
}

/// A current connection that is neither desired nor pruned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    /// Project name.
    pub project: String,
    /// Connection type.
    pub kind: String,
    /// Connection name.
    pub name: String,
}

/// The whole plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The server the plan was made against.
    pub server: String,
    /// Changes, in apply order (renames, creates and updates, replaces, deletes).
    pub changes: Vec<Change>,
    /// Connections that match the desired state.
    pub unchanged: usize,
    /// Connections not desired and not pruned.
    pub unmanaged: Vec<Unmanaged>,
    /// Notes for the reader (write-only fields that cannot be compared, ...).
    pub notes: Vec<String>,
}
