//! Apply: executes a plan's changes against the server in phases (renames, creates and
//! updates, replaces, deletes), each phase in parallel, with complete bodies whose
//! secrets are resolved from the environment at the last moment.
//!
//! Retries never duplicate work: a create that meets "already exists" re-reads the
//! connection and succeeds when it already matches; a delete or rename whose target is
//! gone re-checks and succeeds when the goal holds. The tool keeps no state file, so a
//! re-run after an interruption simply converges.
//!
//! An [`Interrupt`] stops a run gracefully: no change starts after it, the changes in
//! flight may finish within the grace period (the per-request timeout), and every change
//! is reported, those cut off as interrupted.

mod body;
mod interrupt;
mod phases;
mod remaining;
pub mod report;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;

use crate::api::{ApiError, Client, DeploymentResult};
use crate::model::Connection;
use crate::plan::{Action, Change, Plan};
use crate::refs::{Env, MissingVariables, ReferencePolicy, reference_uses, resolve_connection};

pub use interrupt::{Interrupt, InterruptSender};
pub use remaining::{Remaining, remaining};
pub use report::{ApplyReport, ChangeReport, Outcome};

/// How to run an apply.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Changes in flight at once within a phase.
    pub parallelism: usize,
    /// Keep starting changes after one failed.
    pub continue_on_error: bool,
    /// How long changes in flight may still run after an interrupt (`--timeout`).
    pub grace: Duration,
}

/// Checks, before any write, that every variable the plan's desired connections reference
/// is set; the error lists every missing name (never a value).
pub fn check_variables(plan: &Plan, env: &dyn Env) -> Result<(), MissingVariables> {
    let mut missing: Vec<String> = Vec::new();
    for template in plan.changes.iter().filter_map(|c| c.desired.as_ref()) {
        if let Err(MissingVariables(names)) = resolve_connection(template, env) {
            missing.extend(names);
        }
    }
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingVariables(missing))
    }
}

/// Refuses, before any write, a plan whose desired bodies reference what the files may
/// not (the tool's or a CI's own credentials, a name outside `--allow-env`) or feed one
/// variable to a secret and to a plain field: an edited plan file gets no further than
/// the files would. Each problem names the change and pointer, never a value.
pub fn check_references(plan: &Plan, policy: &ReferencePolicy) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut sensitive_at: std::collections::BTreeMap<String, String> = Default::default();
    let mut plain_at: std::collections::BTreeMap<String, String> = Default::default();
    for change in &plan.changes {
        let Some(template) = &change.desired else {
            continue;
        };
        for reference in reference_uses(template) {
            let place = format!("{} at {}", change.address(), reference.pointer);
            if let Err(refusal) = policy.check(&reference.variable) {
                problems.push(format!("{place}: {}", refusal.message));
            }
            let seen = if reference.sensitive {
                &mut sensitive_at
            } else {
                &mut plain_at
            };
            seen.entry(reference.variable).or_insert(place);
        }
    }
    for (variable, plain) in &plain_at {
        if let Some(secret) = sensitive_at.get(variable) {
            problems.push(format!(
                "`${{env:{variable}}}` feeds the plain field {plain} and the sensitive {secret}: its value would be stored readable"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the plan file references variables it may not:\n{}\nnothing was written",
            problems.join("\n")
        ))
    }
}

/// Executes the plan and reports every change, calling `on_done` as each one ends (for
/// progress). Never panics on server errors: they become failed changes. After
/// `interrupt`, no change starts and those in flight get `options.grace` to end.
pub async fn execute(
    plan: &Plan,
    client: &Client,
    env: &dyn Env,
    options: ApplyOptions,
    interrupt: &Interrupt,
    on_done: &mut dyn FnMut(&ChangeReport),
) -> ApplyReport {
    let executor = Executor {
        client,
        env,
        options,
        interrupt,
        stop: AtomicBool::new(false),
        started: plan
            .changes
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect(),
    };
    let grace_over = async {
        let signal = interrupt.wait().await;
        tokio::time::sleep(options.grace).await;
        signal
    };
    let mut grace_over = std::pin::pin!(grace_over);
    let mut changes = Vec::with_capacity(plan.changes.len());
    'phases: for phase in phases::in_order(&plan.changes) {
        let mut running = futures::stream::iter(phase)
            .map(|(index, change)| executor.run(index, change))
            .buffer_unordered(options.parallelism.max(1));
        loop {
            tokio::select! {
                biased;
                report = running.next() => match report {
                    Some(report) => {
                        on_done(&report);
                        changes.push(report);
                    }
                    None => break,
                },
                _ = &mut grace_over => break 'phases,
            }
        }
    }
    if let Some(signal) = interrupt.received() {
        let mut reported = vec![false; plan.changes.len()];
        changes.iter().for_each(|c| reported[c.index] = true);
        let cut_off = plan
            .changes
            .iter()
            .enumerate()
            .filter(|(i, _)| !reported[*i]);
        for (index, change) in cut_off {
            let started = executor.started[index].load(Ordering::SeqCst);
            let report = ChangeReport::new(index, change, Outcome::Interrupted { signal, started });
            on_done(&report);
            changes.push(report);
        }
    }
    changes.sort_by_key(|c| c.index);
    ApplyReport {
        changes,
        interrupted_by: interrupt.received(),
    }
}

/// Shared state of one apply run.
struct Executor<'a> {
    client: &'a Client,
    env: &'a dyn Env,
    options: ApplyOptions,
    /// Once received, no change starts.
    interrupt: &'a Interrupt,
    /// Set by the first failure; later changes do not start unless continue_on_error.
    stop: AtomicBool,
    /// Per change of the plan: whether it started (for the report after an interrupt).
    started: Vec<AtomicBool>,
}

impl Executor<'_> {
    /// Runs one change unless the run was interrupted or an earlier change failed, and
    /// reports it.
    async fn run(&self, index: usize, change: &Change) -> ChangeReport {
        if let Some(signal) = self.interrupt.received() {
            let outcome = Outcome::Interrupted {
                signal,
                started: false,
            };
            return ChangeReport::new(index, change, outcome);
        }
        if self.stop.load(Ordering::SeqCst) && !self.options.continue_on_error {
            return ChangeReport::new(index, change, Outcome::NotStarted);
        }
        self.started[index].store(true, Ordering::SeqCst);
        let outcome = match self.perform(change).await {
            Ok(done) => done,
            Err(message) => Outcome::Failed { message },
        };
        let report = ChangeReport::new(index, change, outcome);
        if report.failed() {
            tracing::debug!(change = %report.line(), "change failed");
            self.stop.store(true, Ordering::SeqCst);
        }
        report
    }

    /// Sends the requests of one change.
    async fn perform(&self, change: &Change) -> Result<Outcome, String> {
        match change.action {
            Action::Create => self.create(change).await,
            Action::Update | Action::Rename => self.update(change).await,
            Action::Replace => {
                let removed = self.delete(change, current_name(change)).await?;
                let created = self.create(change).await?;
                Ok(replaced(removed, created))
            }
            Action::Delete => self.delete(change, current_name(change)).await,
        }
    }

    /// POST; "already exists" after a retry succeeds when the server already matches.
    async fn create(&self, change: &Change) -> Result<Outcome, String> {
        let body = self.body(change, None)?;
        match self.client.create_connection(&change.project, &body).await {
            Ok(deployment) => Ok(done(deployment)),
            Err(error) if error.is_already_exists() => {
                self.confirm_present(change, &body, error, ALREADY_PRESENT)
                    .await
            }
            Err(error) if error.is_unconfirmed_write() => {
                self.confirm_present(change, &body, error, CONFIRMED).await
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// PUT on the current path (the old name for a rename) with the desired name in the
    /// body; a rename whose old name is gone after a retry succeeds when the new one
    /// matches.
    async fn update(&self, change: &Change) -> Result<Outcome, String> {
        let path_name = current_name(change);
        let current = self.current_for_ignored_fields(change, path_name).await?;
        let body = self.body(change, current.as_ref())?;
        let result = self
            .client
            .update_connection(&change.project, path_name, &body)
            .await;
        match result {
            Ok(deployment) => Ok(done(deployment)),
            Err(error) if change.action == Action::Rename && error.is_not_found() => {
                self.confirm_present(change, &body, error, ALREADY_PRESENT)
                    .await
            }
            Err(error) if error.is_unconfirmed_write() => {
                self.confirm_present(change, &body, error, CONFIRMED).await
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// DELETE; "not found" means the goal already holds (a retried delete, or a re-run).
    async fn delete(&self, change: &Change, name: &str) -> Result<Outcome, String> {
        match self.client.delete_connection(&change.project, name).await {
            Ok(deployment) => Ok(done(deployment)),
            Err(error) if error.is_not_found() => Ok(Outcome::Done {
                deployment: no_deployment(),
                note: Some("already absent".into()),
            }),
            Err(error) if error.is_unconfirmed_write() => {
                self.confirm_absent(change, name, error).await
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// The complete body: resolved now, every field present, ignored fields kept.
    fn body(&self, change: &Change, current: Option<&Connection>) -> Result<Connection, String> {
        let template = change
            .desired
            .as_ref()
            .ok_or_else(|| "the plan holds no desired connection for this change".to_string())?;
        let resolved =
            resolve_connection(template, self.env).map_err(|MissingVariables(names)| {
                let noun = if names.len() == 1 {
                    "variable"
                } else {
                    "variables"
                };
                format!("missing environment {noun}: {}", names.join(", "))
            })?;
        Ok(body::complete(resolved, current, &change.ignore_fields))
    }

    /// The server's connection when some of its fields must be kept (ignoreFields).
    async fn current_for_ignored_fields(
        &self,
        change: &Change,
        path_name: &str,
    ) -> Result<Option<Connection>, String> {
        if change.ignore_fields.is_empty() {
            return Ok(None);
        }
        self.client
            .get_connection(&change.project, path_name)
            .await
            .map_err(|e| e.to_string())
    }

    /// After "already exists" (create), "not found" (rename) or an answer that did not
    /// confirm the write: succeeds (with `note`) when the server now holds the desired
    /// connection, else reports the original error.
    async fn confirm_present(
        &self,
        change: &Change,
        body: &Connection,
        original: ApiError,
        note: &str,
    ) -> Result<Outcome, String> {
        let current = self.reread(change, &change.name, &original).await?;
        match current {
            Some(current) if crate::plan::in_sync(body, &current, &change.ignore_fields) => {
                Ok(Outcome::Done {
                    deployment: no_deployment(),
                    note: Some(note.into()),
                })
            }
            _ => Err(not_confirmed(
                &original,
                "the server does not hold what was sent",
            )),
        }
    }

    /// After a delete whose answer did not confirm it: succeeds when the connection is
    /// gone.
    async fn confirm_absent(
        &self,
        change: &Change,
        name: &str,
        original: ApiError,
    ) -> Result<Outcome, String> {
        match self.reread(change, name, &original).await? {
            None => Ok(Outcome::Done {
                deployment: no_deployment(),
                note: Some(CONFIRMED.into()),
            }),
            Some(_) => Err(not_confirmed(&original, "the connection is still there")),
        }
    }

    /// GETs the connection to learn what a write did; a failure names both errors.
    async fn reread(
        &self,
        change: &Change,
        name: &str,
        original: &ApiError,
    ) -> Result<Option<Connection>, String> {
        self.client
            .get_connection(&change.project, name)
            .await
            .map_err(|e| format!("{original}; re-reading it failed: {e}"))
    }
}

/// The note of a write confirmed by re-reading after an answer that did not say.
const CONFIRMED: &str = "unreadable answer; confirmed by re-reading";
/// The note of a create or rename whose goal already held.
const ALREADY_PRESENT: &str = "already present and matching";

/// The failure of a write whose answer did not confirm it, for a non-envelope answer
/// ("unreadable answer ..."), else the server's own error.
fn not_confirmed(original: &ApiError, found: &str) -> String {
    if original.is_unconfirmed_write() {
        format!("unreadable answer, and re-reading shows {found}: {original}")
    } else {
        original.to_string()
    }
}

/// A replace's outcome: the create's, failed when the old connection's removal from the
/// workers failed (the old one may still run there).
fn replaced(removed: Outcome, created: Outcome) -> Outcome {
    let undeploy_failed =
        matches!(&removed, Outcome::Done { deployment, .. } if !deployment.success);
    match created {
        Outcome::Done { mut deployment, .. } if undeploy_failed => {
            deployment.success = false;
            Outcome::Done {
                deployment,
                note: Some("the old connection was not undeployed everywhere".into()),
            }
        }
        other => other,
    }
}

/// The name the server knows the connection by now.
fn current_name(change: &Change) -> &str {
    change.current_name.as_deref().unwrap_or(&change.name)
}

fn done(deployment: DeploymentResult) -> Outcome {
    Outcome::Done {
        deployment,
        note: None,
    }
}

/// What a request that sent nothing reports: success, no environments.
fn no_deployment() -> DeploymentResult {
    DeploymentResult {
        success: true,
        environments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::MapEnv;
    use serde_json::json;

    fn template(fields: serde_json::Value) -> Connection {
        Connection::from_body("email", "m", fields.as_object().unwrap().clone(), true)
    }

    fn change_with(desired: Connection) -> Change {
        Change {
            project: "P".into(),
            kind: "email".into(),
            name: "m".into(),
            action: Action::Create,
            current_name: None,
            current_kind: None,
            current_fields: None,
            desired: Some(desired),
            fields: Vec::new(),
            ignore_fields: Vec::new(),
            source: None,
            fingerprint: None,
            var_templates: Default::default(),
        }
    }

    #[test]
    fn a_replace_whose_undeploy_failed_is_failed() {
        let ok = done(no_deployment());
        let undeploy_failed = done(DeploymentResult {
            success: false,
            environments: Vec::new(),
        });
        assert!(
            matches!(replaced(ok.clone(), ok.clone()), Outcome::Done { deployment, note: None } if deployment.success)
        );
        let Outcome::Done { deployment, note } = replaced(undeploy_failed, ok) else {
            panic!("still done");
        };
        assert!(!deployment.success);
        assert!(note.unwrap().contains("not undeployed"));
    }

    #[test]
    fn missing_variables_are_all_listed_once() {
        let a = template(json!({"host": "${env:HOST}", "password": "${env:PW}"}));
        let b = template(json!({"host": "${env:HOST}", "password": "${env:OTHER}"}));
        let plan = Plan {
            changes: vec![change_with(a), change_with(b)],
            ..Plan::default()
        };
        let env = MapEnv([("PW".to_string(), "x".to_string())].into());
        let MissingVariables(names) = check_variables(&plan, &env).unwrap_err();
        assert_eq!(names, vec!["HOST", "OTHER"]);
    }
}
