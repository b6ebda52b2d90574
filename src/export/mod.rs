//! Export: reads what the server holds and writes desired-state YAML, one file per
//! project, that validates and plans to `No changes.` with the listed variables set.

mod document;
mod files;
mod parameterise;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::api::{ApiError, Client};
use crate::catalog::{catalog, type_names};
use crate::model::Connection;
use crate::plan::Selection;
use crate::whole_file;

pub use document::{
    ProjectDocument, SCHEMA_FILE, SCHEMA_LINE, project_document, to_yaml, variable_name,
};
pub use files::{MARKER_PREFIX, file_name};
pub use parameterise::parameterise;

/// What to export: the `--project`, `--type` and `--name` flags as given.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// Project name globs; all visible projects when empty.
    pub projects: Vec<String>,
    /// Connection types; all 14 when empty.
    pub types: Vec<String>,
    /// Connection name globs (ignoring case); all when empty.
    pub names: Vec<String>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A bad `--project`, `--type` or `--name`.
    #[error("{0}")]
    Selection(String),
    /// The server refused or failed.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// Files export may not write (shared by two projects, or not its own).
    #[error("{0}")]
    Refused(String),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<ApiError> for ExportError {
    fn from(error: ApiError) -> Self {
        ExportError::Api(Box::new(error))
    }
}

/// Reads the selected projects and builds one document per project, in name order.
pub async fn read_projects(
    client: &Client,
    request: &ExportRequest,
) -> Result<Vec<(String, ProjectDocument)>, ExportError> {
    let selection = selection(&request.projects, &request.types, &request.names)?;
    let projects = selected_projects(client, &selection).await?;
    let lists = projects.iter().map(|p| list_project(client, p, &selection));
    let listed = futures::future::try_join_all(lists).await?;
    let connections: Vec<(&str, &str)> = listed
        .iter()
        .flatten()
        .map(|c| (c.kind.as_str(), c.name.as_str()))
        .collect();
    selection
        .check_connections(&connections, "of the selected projects on the server")
        .map_err(|e| ExportError::Selection(e.to_string()))?;
    let reads = projects
        .iter()
        .zip(listed)
        .map(|(p, listed)| read_project(client, p, listed));
    let connections = futures::future::try_join_all(reads).await?;
    Ok(projects
        .into_iter()
        .zip(connections)
        .map(|(project, conns)| {
            let document = project_document(&project, &conns);
            (project, document)
        })
        .collect())
}

/// Writes one file per document into `out_dir` ([`files::file_name`]) and the schema
/// their first-line comment names (`DIR/connections.schema.json`), prints what it wrote,
/// then the variables to set. Nothing is written when two projects would share a file, or
/// (without `force`) when any target is a link or a file export did not write or that
/// changed since: the error names every such file.
pub fn write_files(
    out_dir: &Path,
    documents: &[(String, ProjectDocument)],
    force: bool,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Write { path, source }
    };
    let paths = files::paths(out_dir, documents.iter().map(|(p, _)| p.as_str()))
        .map_err(ExportError::Refused)?;
    let schema = out_dir.join(SCHEMA_FILE);
    refuse_foreign_files(&paths, &schema, force)?;
    std::fs::create_dir_all(out_dir).map_err(write_error(out_dir))?;
    let mut variables = Vec::new();
    for ((_, document), path) in documents.iter().zip(&paths) {
        whole_file::write(path, &to_yaml(&document.document)).map_err(write_error(path))?;
        let count = document.document["connections"]
            .as_array()
            .map_or(0, Vec::len);
        let _ = writeln!(
            out,
            "Wrote {} ({})",
            path.display(),
            crate::diag::counted(count, "connection", "connections")
        );
        variables.extend(document.variables.iter().cloned());
    }
    crate::schema::write_connections_schema(&schema).map_err(write_error(&schema))?;
    let _ = writeln!(
        out,
        "Wrote {} (the JSON Schema the files name)",
        schema.display()
    );
    if !variables.is_empty() {
        let _ = writeln!(out, "Set these variables before plan/apply:");
        for name in variables {
            let _ = writeln!(out, "{name}");
        }
    }
    Ok(())
}

/// An error naming every target (project files, the schema) that export may not replace;
/// with `force`, only what even `--force` does not replace (a folder).
fn refuse_foreign_files(paths: &[PathBuf], schema: &Path, force: bool) -> Result<(), ExportError> {
    let targets = paths
        .iter()
        .map(|path| (path.as_path(), files::yaml_refusal as fn(&str) -> _))
        .chain([(schema, files::schema_refusal as fn(&str) -> _)]);
    let refused: Vec<String> = targets
        .filter_map(|(path, why_not_ours)| {
            let refusal = files::refusal(path, why_not_ours).filter(|r| !(force && r.forceable))?;
            Some(format!("{} {}", path.display(), refusal.reason))
        })
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let remedy = if force {
        "move these away"
    } else {
        "move these away, or pass --force to replace files and links"
    };
    Err(ExportError::Refused(format!(
        "{}\nnothing was written: export replaces only files it wrote itself and nobody changed since; {remedy}",
        refused.join("\n")
    )))
}

/// The run's selection (the same rules as plan's: unknown types and bad globs refused).
fn selection(
    projects: &[String],
    types: &[String],
    names: &[String],
) -> Result<Selection, ExportError> {
    Selection::new(projects, types, names).map_err(|e| ExportError::Selection(e.to_string()))
}

/// The selected projects, sorted; a `--project` glob that matches none is an error naming
/// it and the projects that exist.
async fn selected_projects(
    client: &Client,
    selection: &Selection,
) -> Result<Vec<String>, ExportError> {
    let mut projects = client.list_projects().await?;
    projects.sort();
    let names: Vec<&str> = projects.iter().map(String::as_str).collect();
    selection
        .check_projects(&names, "on the server")
        .map_err(|e| ExportError::Selection(e.to_string()))?;
    Ok(projects
        .into_iter()
        .filter(|p| selection.project(p) && addressable(p, || format!("project `{p}`")))
        .collect())
}

/// Every selected connection of a project as listed.
async fn list_project(
    client: &Client,
    project: &str,
    selection: &Selection,
) -> Result<Vec<Connection>, ExportError> {
    let types: Vec<&str> = type_names().filter(|t| selection.kind(t)).collect();
    let lists = types
        .iter()
        .map(|kind| client.list_connections(project, kind));
    let listed = futures::future::try_join_all(lists).await?;
    Ok(listed
        .into_iter()
        .flatten()
        .filter(|c| selection.name(&c.name))
        .filter(|c| addressable(&c.name, || format!("{project}/{}/{}", c.kind, c.name)))
        .collect())
}

/// A project's listed connections, secrets fetched one by one where a list hides them,
/// sorted by type (catalog order) and name.
async fn read_project(
    client: &Client,
    project: &str,
    listed: Vec<Connection>,
) -> Result<Vec<Connection>, ExportError> {
    let whole = listed.into_iter().map(|c| read_whole(client, project, c));
    let mut connections = futures::future::try_join_all(whole).await?;
    let order = |kind: &str| type_names().position(|t| t == kind);
    connections.sort_by(|a, b| {
        (order(&a.kind), a.name.to_lowercase()).cmp(&(order(&b.kind), b.name.to_lowercase()))
    });
    Ok(connections)
}

/// Whether a name can be written to a desired-state file; one that is not a safe path
/// parameter (validate would refuse the file; plan never writes or deletes it) is left
/// out with a warning naming `what`.
fn addressable(name: &str, what: impl FnOnce() -> String) -> bool {
    let Some(why) = crate::model::unsafe_name(name) else {
        return true;
    };
    tracing::warn!(
        "export leaves out {}: the name {why}, so it cannot be addressed safely",
        crate::diag::printable(&what())
    );
    false
}

/// The connection with the values a list hides, when its type has any.
async fn read_whole(
    client: &Client,
    project: &str,
    listed: Connection,
) -> Result<Connection, ExportError> {
    let hides_values = catalog()
        .all_fields(&listed.kind)
        .any(|(_, spec)| spec.hidden_in_list());
    if !hides_values {
        return Ok(listed);
    }
    let whole = client.get_connection(project, &listed.name).await?;
    Ok(whole.unwrap_or(listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_bad_globs_are_selection_errors() {
        let err = selection(&[], &["smtp".into()], &[]).unwrap_err();
        assert!(err.to_string().contains("invalid --type `smtp`"), "{err}");
        assert!(selection(&[], &[], &["[".into()]).is_err());
    }

    #[test]
    fn files_and_the_variable_list_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let documents = vec![(
            "Payments".to_string(),
            ProjectDocument {
                document: serde_json::json!({"project": "Payments", "connections": []}),
                variables: vec!["PAYMENTS_X_PASSWORD".into()],
            },
        )];
        let mut out = Vec::new();
        write_files(dir.path(), &documents, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("(0 connections)"));
        assert!(text.ends_with("Set these variables before plan/apply:\nPAYMENTS_X_PASSWORD\n"));
        let written = std::fs::read_to_string(dir.path().join("Payments.yaml")).unwrap();
        assert!(written.starts_with(SCHEMA_LINE));
        // The comment's relative path resolves from the written file.
        let named = SCHEMA_LINE.split("$schema=").nth(1).unwrap();
        let schema = std::fs::read_to_string(dir.path().join(named)).unwrap();
        assert_eq!(
            schema,
            format!("{}\n", crate::schema::connections_schema_text())
        );
    }
}
