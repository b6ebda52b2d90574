//! The current-state reader (DESIGN.md 3): one list call per (project, type), all at once
//! within the client's concurrency limit; a single GET only where it can return what the
//! list did not, as [`GetLearner`] learns it; each project diffed as soon as its answers
//! are in, its connections compared once.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::try_join_all;
use tokio::task::JoinSet;

use super::diff::{Matched, SelectedConnection, SelectedProject, Settled, diff_project};
use super::masking::GetLearner;
use super::selection::Selection;
use super::{Plan, PlanError};
use crate::api::{ApiError, Client};
use crate::catalog::{catalog, type_names};
use crate::diag::printable;
use crate::model::Connection;

/// What reading one project gave: the (type, name) of each connection the server holds,
/// and the project's part of the plan.
pub(crate) struct ProjectRead {
    /// Type and name of every connection listed.
    pub on_server: Vec<(String, String)>,
    /// The project's changes, unchanged count, unmanaged connections and notes.
    pub plan: Plan,
}

/// Reads and diffs every selected project, each in a task of its own so that one
/// project's comparisons overlap the others' requests. A project that does not exist, or
/// whose answers cannot be trusted, stops the run.
pub(crate) async fn read_and_diff(
    client: &Client,
    projects: Arc<[SelectedProject]>,
    selection: Arc<Selection>,
) -> Result<Vec<ProjectRead>, PlanError> {
    let learner = Arc::new(GetLearner::default());
    let mut tasks = JoinSet::new();
    for index in 0..projects.len() {
        let reader = ProjectReader {
            client: client.clone(),
            projects: Arc::clone(&projects),
            index,
            selection: Arc::clone(&selection),
            learner: Arc::clone(&learner),
        };
        tasks.spawn(async move { (index, reader.read().await) });
    }
    let mut reads: Vec<Option<ProjectRead>> = (0..projects.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, read) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        reads[index] = Some(read?);
    }
    Ok(reads
        .into_iter()
        .map(|r| r.expect("every task joined"))
        .collect())
}

/// One project's reader, owning what its task needs.
struct ProjectReader {
    client: Client,
    projects: Arc<[SelectedProject]>,
    index: usize,
    selection: Arc<Selection>,
    learner: Arc<GetLearner>,
}

impl ProjectReader {
    fn project(&self) -> &SelectedProject {
        &self.projects[self.index]
    }

    async fn read(self) -> Result<ProjectRead, PlanError> {
        let name = &self.project().name;
        let kinds = type_names().filter(|k| self.selection.kind(k));
        let lists = try_join_all(kinds.map(|kind| list(&self.client, name, kind))).await?;
        let currents: Vec<Connection> = lists.into_iter().flatten().collect();
        check_unique_names(name, &currents)?;
        let (currents, mut matched) = self
            .off_the_runtime(move |project, selection| {
                let mut currents = currents;
                let matched = Matched::of(project, &currents, selection);
                forget_settled_fields(&mut currents, &matched);
                (currents, matched)
            })
            .await;
        for (d, settled) in self.fetch_hidden_values(&currents, &matched).await? {
            matched.settled[d] = Some(settled);
        }
        let on_server = currents
            .iter()
            .map(|c| (c.kind.clone(), c.name.clone()))
            .collect();
        let plan = self
            .off_the_runtime(move |project, selection| {
                diff_project(project, &currents, matched, selection)
            })
            .await?;
        Ok(ProjectRead { on_server, plan })
    }

    /// Runs CPU work on a blocking thread, so that the runtime's workers keep every other
    /// project's requests moving meanwhile.
    async fn off_the_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SelectedProject, &Selection) -> T + Send + 'static,
    ) -> T {
        let projects = Arc::clone(&self.projects);
        let selection = Arc::clone(&self.selection);
        let index = self.index;
        tokio::task::spawn_blocking(move || work(&projects[index], &selection))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// GETs the matched connections whose comparison lacks a hidden value a GET may
    /// return; answers (desired index, the pair settled again with the GET's connection)
    /// for each GET made.
    async fn fetch_hidden_values(
        &self,
        currents: &[Connection],
        matched: &Matched,
    ) -> Result<Vec<(usize, Settled)>, PlanError> {
        let project = self.project();
        let gets = project
            .connections
            .iter()
            .enumerate()
            .filter_map(|(d, selected)| {
                let (i, how) = matched.matches[d]?;
                let settled = matched.settled[d].as_ref()?;
                let rotate = self.selection.rotates(&selected.desired.template.name);
                let fields = fields_to_fetch(selected, &settled.unknown, rotate);
                if fields.is_empty() {
                    return None;
                }
                let listed = &currents[i];
                Some(async move {
                    let Some(get) = self.learner.decide(&listed.kind, &fields).await else {
                        return Ok::<_, PlanError>(None);
                    };
                    // Boxed: a request's state is large, and most of these futures
                    // end at `decide` without one.
                    let get_one = Box::pin(fetch(&self.client, &project.name, listed));
                    let Some(connection) = get_one.await? else {
                        return Ok(None);
                    };
                    let settled =
                        Settled::of(&project.name, selected, &connection, how, &self.selection);
                    get.answered(|field| !settled.unknown.iter().any(|p| top_field(p) == field));
                    Ok(Some((d, settled)))
                })
            });
        let fetched: Vec<_> = try_join_all(gets).await?;
        Ok(fetched.into_iter().flatten().collect())
    }
}

/// A settled pair needs nothing more of its current connection than its type and name
/// (to GET it, and to list what the server holds): its fields go, so that a plan holds
/// the current state of only what it shows (replaced and deleted connections).
fn forget_settled_fields(currents: &mut [Connection], matched: &Matched) {
    let settled = matched.matches.iter().zip(&matched.settled);
    for (found, _) in settled.filter(|(_, settled)| settled.is_some()) {
        if let Some((i, _)) = found {
            let current = &mut currents[*i];
            current.fields = Default::default();
            current.secrets = Default::default();
        }
    }
}

/// The hidden fields (top-level names) a single GET could answer for this connection:
/// those its comparison could not see, less values a preview left unresolved (unless
/// rotated: `--rotate` needs to know whether the server returns them) and reference names
/// the server answers as IDs (a GET never returns them readable).
fn fields_to_fetch(selected: &SelectedConnection, unknown: &[String], rotate: bool) -> Vec<String> {
    let uncompared = selected.uncompared_pointers();
    let kind = &selected.resolved.kind;
    let mut fields: Vec<String> = unknown
        .iter()
        .filter(|p| rotate || !uncompared.contains(p))
        .map(|p| top_field(p))
        .filter(|field| {
            catalog()
                .field(kind, field)
                .is_none_or(|spec| spec.response_name.is_none())
        })
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// The top-level field a JSON Pointer lies in (`/headerList/1/value` -> `headerList`).
fn top_field(pointer: &str) -> String {
    let token = pointer.trim_start_matches('/');
    let token = token.split('/').next().unwrap_or_default();
    token.replace("~1", "/").replace("~0", "~")
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

async fn list(client: &Client, project: &str, kind: &str) -> Result<Vec<Connection>, PlanError> {
    tracing::debug!(project, kind, "listing connections");
    match client.list_connections(project, kind).await {
        Ok(connections) => Ok(connections),
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

/// A single GET of a listed connection, checked to answer that very connection.
async fn fetch(
    client: &Client,
    project: &str,
    listed: &Connection,
) -> Result<Option<Connection>, PlanError> {
    tracing::debug!(project, name = %printable(&listed.name), "reading connection for hidden fields");
    let Some(connection) = client.get_connection(project, &listed.name).await? else {
        return Ok(None);
    };
    if connection.kind != listed.kind || connection.name != listed.name {
        return Err(PlanError::UntrustedAnswer {
            project: project.to_string(),
            kind: Some(listed.kind.clone()),
            problems: format!(
                "GET of `{}` answered `{}` of type {}",
                printable(&listed.name),
                printable(&connection.name),
                connection.kind
            ),
        });
    }
    Ok(Some(connection))
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
