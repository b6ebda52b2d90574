//! The current-state reader: one list call per (project, type), all in parallel within the
//! client's concurrency limit; a single GET only where a desired value needs comparing and
//! the list answered null.

use std::collections::BTreeMap;

use futures::future::try_join_all;

use super::PlanError;
use super::diff::{CurrentState, SelectedProject, match_connections};
use super::selection::Selection;
use crate::api::{ApiError, Client};
use crate::catalog::type_names;
use crate::diag::printable;
use crate::model::Connection;

/// Reads every selected project's connections of the selected types. A project that does
/// not exist is an error naming it.
pub async fn read_current(
    client: &Client,
    projects: &[SelectedProject],
    selection: &Selection,
) -> Result<CurrentState, PlanError> {
    let kinds: Vec<&str> = type_names().filter(|k| selection.kind(k)).collect();
    let lists = projects
        .iter()
        .flat_map(|p| kinds.iter().map(move |kind| list(client, &p.name, kind)));
    let mut state = CurrentState::new();
    for (project, connections) in try_join_all(lists).await? {
        state.entry(project).or_default().extend(connections);
    }
    for (project, connections) in &state {
        check_unique_names(project, connections)?;
    }
    fetch_hidden_values(client, projects, selection, &mut state).await?;
    Ok(state)
}

/// One name twice in a project (ignoring case, across types) would let a plan match the
/// desired connection to one entry and prune the other, deleting what is desired.
fn check_unique_names(project: &str, connections: &[Connection]) -> Result<(), PlanError> {
    let mut by_name: BTreeMap<String, Vec<&Connection>> = BTreeMap::new();
    for connection in connections {
        by_name
            .entry(connection.name.to_lowercase())
            .or_default()
            .push(connection);
    }
    let problems: Vec<String> = by_name
        .values()
        .filter(|same| same.len() > 1)
        .map(|same| {
            let listed: Vec<String> = same
                .iter()
                .map(|c| format!("`{}` ({})", printable(&c.name), c.kind))
                .collect();
            format!(
                "one name is listed {} times: {}",
                same.len(),
                listed.join(", ")
            )
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(PlanError::UntrustedAnswer {
        project: project.to_string(),
        kind: None,
        problems: problems.join("; "),
    })
}

async fn list(
    client: &Client,
    project: &str,
    kind: &str,
) -> Result<(String, Vec<Connection>), PlanError> {
    tracing::debug!(project, kind, "listing connections");
    match client.list_connections(project, kind).await {
        Ok(connections) => Ok((project.to_string(), connections)),
        Err(error) if names_a_missing_project(&error) => Err(PlanError::ProjectNotFound {
            project: project.to_string(),
            error: Box::new(error),
        }),
        Err(error) if error.error == ApiError::UNTRUSTED_ANSWER => {
            Err(PlanError::UntrustedAnswer {
                project: project.to_string(),
                kind: Some(kind.to_string()),
                problems: error.description,
            })
        }
        Err(error) => Err(error.into()),
    }
}

/// A list answered 404 with the API's envelope: the project does not exist. A bare 404
/// (no envelope: a wrong `--server` path, a proxy) stays an API error, so it is not
/// mistaken for a missing project.
fn names_a_missing_project(error: &crate::api::ApiError) -> bool {
    error.status == Some(404) && !error.description.is_empty()
}

/// Replaces list entries by a single GET where the desired state sets a value the list
/// answered null (secrets, masked fields): the GET may return it readable.
async fn fetch_hidden_values(
    client: &Client,
    projects: &[SelectedProject],
    selection: &Selection,
    state: &mut CurrentState,
) -> Result<(), PlanError> {
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for project in projects {
        let Some(currents) = state.get(&project.name) else {
            continue;
        };
        let matches = match_connections(&project.connections, currents);
        for (selected, found) in project.connections.iter().zip(matches) {
            let Some((i, _)) = found else {
                continue;
            };
            let current = &currents[i];
            let same_kind = current.kind == selected.resolved.kind;
            // An unresolved value is not compared; whether the server returns it matters
            // only to `--rotate`.
            let uncompared = selected.uncompared_pointers();
            let rotate = selection.rotates(&selected.desired.template.name);
            let needs_value = || {
                selected
                    .compare_with(current)
                    .unknown
                    .iter()
                    .any(|p| rotate || !uncompared.contains(p))
            };
            if same_kind && needs_value() {
                wanted.push((project.name.clone(), i));
            }
        }
    }
    let gets = wanted.iter().map(|(project, i)| {
        let name = state[project][*i].name.clone();
        async move { get(client, project, &name).await.map(|c| (project, *i, c)) }
    });
    for (project, i, fetched) in try_join_all(gets).await? {
        let Some(connection) = fetched else { continue };
        let listed = &state[project][i];
        if connection.kind != listed.kind || connection.name != listed.name {
            return Err(PlanError::UntrustedAnswer {
                project: project.clone(),
                kind: Some(listed.kind.clone()),
                problems: format!(
                    "GET of `{}` answered `{}` of type {}",
                    printable(&listed.name),
                    printable(&connection.name),
                    connection.kind
                ),
            });
        }
        state.get_mut(project).expect("listed project")[i] = connection;
    }
    Ok(())
}

async fn get(client: &Client, project: &str, name: &str) -> Result<Option<Connection>, ApiError> {
    tracing::debug!(project, name, "reading connection for write-only fields");
    client.get_connection(project, name).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;

    #[test]
    fn one_name_twice_in_a_project_across_types_and_case_is_untrusted() {
        let c =
            |kind: &str, name: &str| Connection::from_body(kind, name, Default::default(), false);
        assert!(check_unique_names("P", &[c("email", "a"), c("kafka", "b")]).is_ok());
        let error = check_unique_names(
            "P",
            &[c("email", "Mail"), c("kafka", "mAIL"), c("ftp", "x")],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the server's answer for project P cannot be trusted: one name is listed 2 times: `Mail` (email), `mAIL` (kafka); nothing was planned and nothing was written"
        );
        let hostile =
            check_unique_names("P", &[c("email", "n\nx"), c("email", "N\nX")]).unwrap_err();
        assert!(!hostile.to_string().contains('\n'), "{hostile}");
    }

    #[test]
    fn only_a_404_envelope_names_a_missing_project() {
        let path = "/apiops/projects/P/connections/?type=email";
        let envelope = r#"{"error":"not_found","error_description":"Project 'P' not found"}"#;
        let missing = ApiError::from_response("GET", path, 404, envelope);
        assert!(names_a_missing_project(&missing));
        for bare in ["", "<html>Not Found</html>"] {
            let error = ApiError::from_response("GET", path, 404, bare);
            assert!(!names_a_missing_project(&error), "{bare:?}");
        }
    }
}
