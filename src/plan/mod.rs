//! The plan: current state, normalisation, the diff, and saved plan files.
//!
//! The types below are the contract with `render` and `apply`. [`compute`] is the one
//! pipeline "load desired + connect + read current + diff" that `plan`, `drift` and `apply`
//! share.

mod current;
mod diff;
#[cfg(test)]
pub(crate) mod fixtures;
mod guard;
mod masking;
mod normalise;
mod note;
mod saved;
mod selection;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{ApiError, Client, ClientConfig, PreparedClient};
use crate::desired::{DesiredProject, DesiredState, LoadOptions, SourceRef};
use crate::diag::Diagnostic;
use crate::model::{Body, Connection};
use crate::refs::Env;
use crate::values::Values;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use diff::{CurrentState, SelectedConnection, SelectedProject, diff, in_sync};
pub use guard::check_delete_budget;
pub use normalise::{fingerprint, normalise};
pub use note::{Note, NoteKind};
pub use saved::{
    SAVED_PLAN_FORMAT_VERSION, SavedChange, SavedPlan, SavedSource, Standing, standing,
};
pub use selection::{BadSelection, EmptySelection, Selection};

/// How a sensitive value is shown in any output.
pub const SENSITIVE: &str = crate::redact::SENSITIVE;

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

impl Action {
    /// The apply phase (0 runs first): renames, then creates and updates, then replaces,
    /// then deletes. Renames free old names before creates; deletes come last so nothing
    /// is lost before its successor exists.
    pub fn phase(self) -> usize {
        match self {
            Action::Rename => 0,
            Action::Create | Action::Update => 1,
            Action::Replace => 2,
            Action::Delete => 3,
        }
    }
}

/// One field that differs. Sensitive fields carry no values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON Pointer into the connection body (`/port`).
    pub path: String,
    /// Current value (None when absent, sensitive or withheld).
    pub before: Option<Value>,
    /// Desired value as written (references shown as `${env:...}`; None when absent or
    /// sensitive).
    pub after: Option<Value>,
    /// A secret or sensitive entry: values never shown.
    pub sensitive: bool,
    /// Whether the server holds a value here (for a sensitive change, the only thing
    /// shown about the current side).
    #[serde(default)]
    pub before_present: bool,
    /// Whether the desired state sets a value here (for a sensitive change, the only thing
    /// shown about the desired side).
    #[serde(default)]
    pub after_present: bool,
    /// The desired value here comes from `${env:...}` references, so the server's value
    /// (likely an earlier value of the same, often secret, variables) is left out of
    /// `before` (DESIGN.md 1.1).
    #[serde(default)]
    pub before_withheld: bool,
    /// `--rotate`: the server does not return this value, and the update re-sends it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotated: bool,
}

/// How a current value is shown in place of the server's when the desired value at that
/// place comes from references: names the variables, never a value.
pub fn withheld_text(desired: &Value) -> String {
    let references: Vec<String> = crate::refs::references_in(desired)
        .iter()
        .map(|name| format!("${{env:{name}}}"))
        .collect();
    format!(
        "(withheld: desired value comes from {})",
        references.join(", ")
    )
}

/// Whether a desired value (or anything inside it) is written with a reference.
pub fn holds_reference(desired: &Value) -> bool {
    !crate::refs::references_in(desired).is_empty()
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
    /// The type on the server now (replace, delete).
    pub current_kind: Option<String>,
    /// The current connection's fields for display (replace, delete): secrets it holds
    /// read `(sensitive)`.
    pub current_fields: Option<Body>,
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
    /// Fields the desired state writes with `${var:...}`, as written, by JSON Pointer:
    /// their values (from values files, not secret) are shown with where they come from.
    pub var_templates: BTreeMap<String, String>,
}

impl Change {
    /// The pointers `--rotate` re-sends with this change.
    pub fn rotated_paths(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|f| f.rotated)
            .map(|f| f.path.as_str())
            .collect()
    }

    /// `project/type/name` as the plan prints it.
    pub fn address(&self) -> String {
        format!("{}/{}/{}", self.project, self.kind, self.name)
    }
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
    /// Why the name cannot be addressed safely (it is never written or deleted), when
    /// it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unaddressable: Option<String>,
}

impl Unmanaged {
    /// `project/type/name`, with why it cannot be addressed when it cannot; printable.
    pub fn text(&self) -> String {
        let address = format!("{}/{}/{}", self.project, self.kind, self.name);
        let mut text = crate::diag::printable(&address).into_owned();
        if let Some(why) = &self.unaddressable {
            text.push_str(&format!(
                " (cannot be addressed safely: the name {}; never written or deleted)",
                crate::diag::printable(why)
            ));
        }
        text
    }
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
    /// Notes for the reader (write-only fields that cannot be compared, ...), sorted.
    pub notes: Vec<Note>,
    /// The values `${var:...}` took and the environment they name (none when the run
    /// read no values).
    pub values: Option<Values>,
}

impl Plan {
    /// The environment the plan is for, when its values files name one.
    pub fn environment(&self) -> Option<&str> {
        self.values.as_ref()?.environment.as_deref()
    }
}

impl Plan {
    /// Number of changes with this action.
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Why a plan could not be made (or a saved plan not used). Every message is meant for a
/// person and never carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The desired-state files are invalid.
    #[error("{} in the desired-state files", crate::diag::counted(count_errors(.0), "error", "errors"))]
    Invalid(Vec<Diagnostic>),
    /// Variables referenced by the selected connections are not set.
    #[error(
        "missing environment variables: {} (set them before running; nothing was sent to the server)",
        .0.join(", ")
    )]
    MissingVariables(Vec<String>),
    /// Variables hold text that does not convert to their number or boolean field.
    #[error(
        "{} (set them to valid values; nothing was sent to the server)",
        .0.join("; ")
    )]
    UnconvertibleVariables(Vec<String>),
    /// The plan deletes or replaces protected connections (one line each).
    #[error(
        "the plan would delete or replace protected connections:\n{}\nnothing was written; to delete or replace one, first remove its protection in a change of its own",
        .0.join("\n")
    )]
    Protected(Vec<String>),
    /// The plan deletes plus replaces more connections than `--max-deletes` allows.
    #[error(
        "the plan deletes or replaces {} connections, more than --max-deletes {max} allows:\n{}\nnothing was written; raise --max-deletes if you mean it",
        .changes.len(),
        .changes.join("\n")
    )]
    OverDeleteBudget {
        /// The budget.
        max: usize,
        /// Each delete and replace (one line each).
        changes: Vec<String>,
    },
    /// A desired project does not exist on the server.
    #[error("project {project} does not exist on the server ({error})")]
    ProjectNotFound {
        /// The project.
        project: String,
        /// The server's answer.
        error: Box<ApiError>,
    },
    /// The server's answer about a project cannot be trusted (DESIGN.md 3): no plan is
    /// made from it.
    #[error(
        "the server's answer for project {project}{} cannot be trusted: {problems}; nothing was planned and nothing was written",
        .kind.as_ref().map(|k| format!(", type {k}")).unwrap_or_default()
    )]
    UntrustedAnswer {
        /// The project.
        project: String,
        /// The type listed, when the problem lies within one list.
        kind: Option<String>,
        /// What is wrong, item by item (printable; names only, never a value).
        problems: String,
    },
    /// The API failed.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// Bad flags or settings.
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
    },
    /// A saved plan cannot be written, read or used.
    #[error("{message}")]
    SavedPlan {
        /// What is wrong.
        message: String,
    },
}

impl PlanError {
    /// The message made safe to print: the guardrail refusals list one change a line
    /// (their items are escaped when built); every other message is kept on one line.
    pub fn printable_message(&self) -> String {
        let text = self.to_string();
        match self {
            PlanError::Protected(_) | PlanError::OverDeleteBudget { .. } => text,
            _ => crate::diag::printable(&text).into_owned(),
        }
    }
}

impl From<ApiError> for PlanError {
    fn from(error: ApiError) -> Self {
        PlanError::Api(Box::new(error))
    }
}

impl From<BadSelection> for PlanError {
    fn from(error: BadSelection) -> Self {
        PlanError::Input {
            message: error.to_string(),
        }
    }
}

impl From<EmptySelection> for PlanError {
    fn from(error: EmptySelection) -> Self {
        PlanError::Input {
            message: format!("{error}; nothing was sent to the server"),
        }
    }
}

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count()
}

/// Everything one planning run needs.
pub struct PlanRequest<'a> {
    /// Which files to load.
    pub load: LoadOptions,
    /// Which projects, types and names to look at.
    pub selection: Selection,
    /// How to reach the server.
    pub client: ClientConfig,
    /// Where `${env:...}` values come from.
    pub env: &'a dyn Env,
    /// Refuse a plan with more deletes plus replaces (`--max-deletes`).
    pub max_deletes: Option<usize>,
    /// What an unset variable that only sensitive values use does.
    pub unset_secrets: UnsetSecrets,
}

/// What an unset variable that only sensitive values use does to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnsetSecrets {
    /// An error, like any missing variable: `apply` must send the value.
    #[default]
    Refuse,
    /// The value is not compared, with a note: `plan` and `drift` are previews, which
    /// never show a sensitive value, so they run without the secrets.
    LeaveUncompared,
}

/// A computed plan with what produced it.
#[derive(Debug)]
pub struct Computed {
    /// The plan.
    pub plan: Plan,
    /// Warnings from loading the files.
    pub warnings: Vec<Diagnostic>,
    /// The connected client (apply goes on with it).
    pub client: Client,
}

/// The shared pipeline: load and validate the files, resolve the selection's references
/// (every missing variable is reported before any request), connect, read the current
/// state and diff; a plan that removes protected connections or exceeds the delete
/// budget is refused.
pub async fn compute(request: PlanRequest<'_>) -> Result<Computed, PlanError> {
    let loaded = crate::desired::load(&request.load).map_err(PlanError::Invalid)?;
    // The HTTP client reads the system's trust roots on the core that resolving the
    // references (one thread) leaves idle; nothing is sent before the selection is valid.
    let client_config = request.client;
    let prepared =
        tokio::task::spawn_blocking(move || PreparedClient::new(client_config).map_err(Box::new));
    let names: Vec<&str> = loaded.state.projects.keys().map(String::as_str).collect();
    request
        .selection
        .check_projects(&names, "of the desired-state files")?;
    let desired_names = desired_names(&loaded.state, &request.selection);
    let projects = select(
        loaded.state,
        &request.selection,
        request.env,
        request.unset_secrets,
    )?;
    let prepared = prepared
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .map_err(|e| *e)?;
    let client = prepared.connect().await?;
    let projects: Arc<[SelectedProject]> = projects.into();
    let selection = Arc::new(request.selection);
    let reads =
        current::read_and_diff(&client, Arc::clone(&projects), Arc::clone(&selection)).await?;
    let on_server = reads.iter().flat_map(|r| &r.on_server);
    check_selected_connections(&desired_names, &selection, on_server)?;
    let parts = reads.into_iter().map(|r| r.plan).collect();
    let mut plan = diff::assemble(&projects, parts, &selection, client.server_url())?;
    check_delete_budget(&plan, request.max_deletes)?;
    plan.values = loaded
        .values
        .as_deref()
        .filter(|v| v.environment.is_some() || !v.values.is_empty())
        .cloned();
    Ok(Computed {
        plan,
        warnings: loaded.warnings,
        client,
    })
}

/// Refuses a `--type` or `--name` that selects no connection of the selected projects,
/// in the files or on the server (a delete-only selection is a selection too).
fn check_selected_connections<'a>(
    desired: &'a [(String, String)],
    selection: &Selection,
    on_server: impl Iterator<Item = &'a (String, String)>,
) -> Result<(), PlanError> {
    let connections: Vec<(&str, &str)> = desired
        .iter()
        .chain(on_server)
        .map(|(kind, name)| (kind.as_str(), name.as_str()))
        .collect();
    selection
        .check_connections(
            &connections,
            "of the selected projects in the files or on the server",
        )
        .map_err(|e| PlanError::Input {
            message: format!("{e}; nothing was written"),
        })
}

/// The (type, name) of every desired connection of the selected projects.
fn desired_names(state: &DesiredState, selection: &Selection) -> Vec<(String, String)> {
    state
        .projects
        .values()
        .filter(|p| selection.project(&p.name))
        .flat_map(|p| &p.connections)
        .map(|c| (c.template.kind.clone(), c.template.name.clone()))
        .collect()
}

/// Refuses templates whose whole-value references in number and boolean fields hold text
/// of another type (`syslogPort: ${env:PORT}` with `PORT=abc`): the problems are listed
/// at once, by connection, field and variable (never a value), before any write.
pub fn check_conversions<'a>(
    templates: impl IntoIterator<Item = (&'a str, &'a Connection)>,
    env: &dyn Env,
) -> Result<(), PlanError> {
    let problems: Vec<String> = templates
        .into_iter()
        .flat_map(|(project, template)| {
            crate::refs::unconvertible_references(template, env)
                .into_iter()
                .map(move |r| format!("{project}/{}/{}: {r}", template.kind, template.name))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PlanError::UnconvertibleVariables(problems))
    }
}

/// The selected part of the desired state, resolved. Lists every missing variable at
/// once, then every variable whose value does not convert to its field's type.
pub fn select(
    state: DesiredState,
    selection: &Selection,
    env: &dyn Env,
    unset_secrets: UnsetSecrets,
) -> Result<Vec<SelectedProject>, PlanError> {
    let chosen: Vec<DesiredProject> = state
        .projects
        .into_values()
        .filter(|p| selection.project(&p.name))
        .collect();
    // Projects resolve independently: one part of them per core.
    let parts = crate::parallel::in_parts(chosen, |part| {
        part.into_iter()
            .map(|project| select_project(project, selection, env, unset_secrets))
            .collect::<Vec<_>>()
    });
    let mut missing = Vec::new();
    let mut projects = Vec::new();
    for (project, unset) in parts.into_iter().flatten() {
        projects.push(project);
        missing.extend(unset);
    }
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(PlanError::MissingVariables(missing));
    }
    check_conversions(
        projects.iter().flat_map(|p| {
            p.connections
                .iter()
                .map(|c| (p.name.as_str(), &c.desired.template))
        }),
        env,
    )?;
    Ok(projects)
}

/// One project's selected connections, resolved, with the variables missing for them.
fn select_project(
    project: DesiredProject,
    selection: &Selection,
    env: &dyn Env,
    unset_secrets: UnsetSecrets,
) -> (SelectedProject, Vec<String>) {
    let mut missing = Vec::new();
    let mut connections = Vec::new();
    for desired in project.connections {
        let template = &desired.template;
        if !selection.connection(&template.kind, &template.name) {
            continue;
        }
        let resolution = match unset_secrets {
            UnsetSecrets::Refuse => {
                crate::refs::resolve_overlay(template, env).map(|c| (c, Vec::new()))
            }
            UnsetSecrets::LeaveUncompared => crate::refs::resolve_for_preview(template, env),
        };
        match resolution {
            Ok((resolved, uncompared)) => connections.push(SelectedConnection {
                desired,
                resolved,
                uncompared,
            }),
            Err(crate::refs::MissingVariables(names)) => missing.extend(names),
        }
    }
    let project = SelectedProject {
        name: project.name,
        prune: project.prune,
        ignore: project.ignore,
        protect: project.protect,
        connections,
    };
    (project, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::MapEnv;

    fn state(yaml: &str) -> DesiredState {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.yaml");
        std::fs::write(&file, yaml).unwrap();
        let options = LoadOptions {
            paths: vec![file.display().to_string()],
            allow_literal_secrets: false,
            values_files: None,
            ..LoadOptions::default()
        };
        crate::desired::load(&options).unwrap().state
    }

    const TWO: &str = "project: P\nconnections:\n  - type: email\n    name: a\n    host: ${env:HOST_A}\n  - type: linux-script\n    name: b\n    hostName: h\n    username: u\n    password: ${env:PW_B}\n";

    #[test]
    fn a_variable_that_does_not_convert_to_its_field_type_is_refused() {
        let yaml = "project: P\nconnections:\n  - type: syslog\n    name: s\n    syslogServerHostname: h\n    syslogPort: ${env:PORT}\n";
        let env = MapEnv([("PORT".to_string(), "canary-port".to_string())].into());
        let err = select(
            state(yaml),
            &Selection::default(),
            &env,
            UnsetSecrets::Refuse,
        )
        .unwrap_err();
        let message = err.to_string();
        assert_eq!(
            message,
            "P/syslog/s: `syslogPort` takes ${env:PORT}, whose value is not an integer (set them to valid values; nothing was sent to the server)"
        );
        let env = MapEnv([("PORT".to_string(), "514".to_string())].into());
        let projects = select(
            state(yaml),
            &Selection::default(),
            &env,
            UnsetSecrets::Refuse,
        )
        .unwrap();
        assert_eq!(
            projects[0].connections[0].resolved.fields["syslogPort"],
            514
        );
    }

    #[test]
    fn every_missing_variable_is_listed_at_once() {
        let err = select(
            state(TWO),
            &Selection::default(),
            &MapEnv::default(),
            UnsetSecrets::Refuse,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "missing environment variables: HOST_A, PW_B (set them before running; nothing was sent to the server)"
        );
    }

    #[test]
    fn a_preview_needs_only_the_variables_of_plain_fields() {
        let env = MapEnv([("HOST_A".to_string(), "smtp".to_string())].into());
        let preview = UnsetSecrets::LeaveUncompared;
        let projects = select(state(TWO), &Selection::default(), &env, preview).unwrap();
        let script = &projects[0].connections[1];
        assert_eq!(script.uncompared.len(), 1);
        assert_eq!(script.uncompared[0].variable, "PW_B");
        assert_eq!(script.uncompared_pointers(), ["/password"]);
        let err = select(
            state(TWO),
            &Selection::default(),
            &MapEnv::default(),
            preview,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("missing environment variables: HOST_A ("),
            "{err}"
        );
    }

    #[test]
    fn the_selection_limits_what_is_resolved() {
        let selection = Selection::new(&[], &["email".into()], &[]).unwrap();
        let env = MapEnv([("HOST_A".to_string(), "smtp".to_string())].into());
        let projects = select(state(TWO), &selection, &env, UnsetSecrets::Refuse).unwrap();
        assert_eq!(projects[0].connections.len(), 1);
        assert_eq!(projects[0].connections[0].resolved.fields["host"], "smtp");
        assert_eq!(
            projects[0].connections[0].desired.template.fields["host"],
            "${env:HOST_A}"
        );
        let other = Selection::new(&["Q*".into()], &[], &[]).unwrap();
        assert!(
            select(state(TWO), &other, &env, UnsetSecrets::Refuse)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn api_errors_carry_status_method_path_and_validation_errors() {
        let error = ApiError {
            method: "PUT".into(),
            path: "/apiops/projects/P/connections/x/".into(),
            status: Some(400),
            error: "validation_failed".into(),
            description: "Invalid body".into(),
            validation_errors: vec![("port".into(), "must be positive".into())],
        };
        assert_eq!(
            PlanError::from(error).to_string(),
            "PUT /apiops/projects/P/connections/x/: 400 validation_failed: Invalid body (validation errors: port: must be positive)"
        );
    }
}
