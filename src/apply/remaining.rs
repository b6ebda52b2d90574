//! A saved plan against the server as it is now: changes already in effect are left
//! out (a retried `apply FILE` converges), a connection that is neither what the plan saw
//! nor what it makes refuses the whole plan.

use crate::api::Client;
use crate::model::Connection;
use crate::plan::{Change, Note, NoteKind, Plan, Standing, standing};
use crate::refs::{Env, MissingVariables, resolve_connection};

/// The changes of a saved plan still to make.
#[derive(Debug)]
pub struct Remaining {
    /// The plan without the changes already in effect (each named in its notes).
    pub plan: Plan,
    /// How many changes were already in effect.
    pub in_effect: usize,
}

/// Re-reads every touched connection and sorts the changes out; the error names every
/// stale connection (escaped) and says nothing was written.
pub async fn remaining(
    mut plan: Plan,
    client: &Client,
    env: &dyn Env,
) -> Result<Remaining, String> {
    let checks = plan
        .changes
        .iter()
        .map(|change| standing_now(change, client, env));
    let standings = futures::future::join_all(checks).await;
    let problems: Vec<String> = standings
        .iter()
        .filter_map(|s| s.as_ref().err())
        .map(|problem| crate::diag::printable(problem).into_owned())
        .collect();
    if !problems.is_empty() {
        return Err(format!("{}\nnothing was written", problems.join("\n")));
    }
    let mut in_effect = 0;
    let mut changes = Vec::with_capacity(plan.changes.len());
    for (change, now) in plan.changes.into_iter().zip(standings) {
        if now == Ok(Standing::InEffect) {
            in_effect += 1;
            plan.notes.push(Note {
                kind: NoteKind::AlreadyInEffect,
                project: change.project.clone(),
                connection_type: change.kind.clone(),
                name: change.name.clone(),
                paths: Vec::new(),
                variable: None,
            });
        } else {
            changes.push(change);
        }
    }
    plan.changes = changes;
    Ok(Remaining { plan, in_effect })
}

/// One change's standing, from one read (two for a rename or a new spelling of the name).
async fn standing_now(change: &Change, client: &Client, env: &dyn Env) -> Result<Standing, String> {
    let current_name = change.current_name.as_deref().unwrap_or(&change.name);
    let read = async |name: &str| -> Result<Option<Connection>, String> {
        client
            .get_connection(&change.project, name)
            .await
            .map_err(|e| e.to_string())
    };
    let at_current = read(current_name).await?;
    let at_desired = if current_name == change.name {
        at_current.clone()
    } else {
        read(&change.name).await?
    };
    let resolved = match &change.desired {
        Some(template) => Some(resolve_connection(template, env).map_err(
            |MissingVariables(names)| {
                format!(
                    "{}: missing environment variable(s): {}",
                    change.address(),
                    names.join(", ")
                )
            },
        )?),
        None => None,
    };
    standing(
        change,
        at_current.as_ref(),
        at_desired.as_ref(),
        resolved.as_ref(),
    )
    .map_err(|e| e.to_string())
}
