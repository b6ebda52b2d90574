//! What an apply did: one entry per change with its outcome and deployment results, the
//! text lines a pipeline log shows, and the stable summary line.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::api::DeploymentResult;
use crate::diag::counted;
use crate::plan::{Action, Change};

const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

/// How one change ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The server accepted it; the deployment may still have failed.
    Done {
        /// The deployment result of the last request (create for a replace).
        deployment: DeploymentResult,
        /// Extra information (e.g. "already present and matching").
        note: Option<String>,
    },
    /// The change failed; `message` is safe to show (never a secret).
    Failed {
        /// What went wrong.
        message: String,
    },
    /// Not started because an earlier change failed.
    NotStarted,
    /// Stopped by a signal: not started (`started: false`), or still in flight when the
    /// grace period after the signal ended, so the server may or may not hold it.
    Interrupted {
        /// The signal (`SIGINT`, `SIGTERM`).
        signal: &'static str,
        /// Whether its requests had started.
        started: bool,
    },
}

/// One change and its outcome.
#[derive(Debug, Clone)]
pub struct ChangeReport {
    /// Index of the change in the plan.
    pub index: usize,
    /// Project name.
    pub project: String,
    /// Connection type.
    pub kind: String,
    /// Connection name (the new one for a rename).
    pub name: String,
    /// What was done.
    pub action: Action,
    /// The old name (rename) or old type (replace), for the report line.
    pub previous: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
}

impl ChangeReport {
    /// A report for a change with the given outcome.
    pub fn new(index: usize, change: &Change, outcome: Outcome) -> Self {
        let previous = match change.action {
            Action::Rename => change.current_name.clone(),
            Action::Replace => change.current_kind.clone(),
            _ => None,
        };
        ChangeReport {
            index,
            project: change.project.clone(),
            kind: change.kind.clone(),
            name: change.name.clone(),
            action: change.action,
            previous,
            outcome,
        }
    }

    /// Whether it counts as failed: the request failed, or the deployment did.
    pub fn failed(&self) -> bool {
        match &self.outcome {
            Outcome::Done { deployment, .. } => !deployment.success,
            Outcome::Failed { .. } => true,
            Outcome::NotStarted | Outcome::Interrupted { .. } => false,
        }
    }

    /// Whether it was skipped after an earlier failure: such changes are counted, not
    /// listed, in text, so the failure stands out (changes an interrupt kept from starting
    /// are still listed: every change of an interrupted run is reported).
    pub fn skipped_after_failure(&self) -> bool {
        matches!(self.outcome, Outcome::NotStarted)
    }

    /// The report line, red when it failed and colour is on.
    pub fn painted_line(&self, colour: bool) -> String {
        if colour && self.failed() {
            format!("{RED}{}{RESET}", self.line())
        } else {
            self.line()
        }
    }

    /// The plain report line (`created Payments/email/alerts-smtp (deployed: dev ok)`),
    /// [`printable`](crate::diag::printable): names and server messages stay on it.
    pub fn line(&self) -> String {
        crate::diag::printable(&self.raw_line()).into_owned()
    }

    fn raw_line(&self) -> String {
        let address = format!("{}/{}/{}", self.project, self.kind, self.name);
        match &self.outcome {
            Outcome::Done { deployment, note } => {
                let mut line = format!("{} {address}", past_tense(self.action));
                if let Some(previous) = &self.previous {
                    line.push_str(&format!(" (was {previous})"));
                }
                line.push_str(&deployment_text(self.action, deployment));
                if let Some(note) = note {
                    line.push_str(&format!("; {note}"));
                }
                line
            }
            Outcome::Failed { message } => {
                format!("failed to {} {address}: {message}", verb(self.action))
            }
            Outcome::NotStarted => format!(
                "not started: {} {address} (an earlier change failed)",
                verb(self.action)
            ),
            Outcome::Interrupted {
                signal,
                started: false,
            } => format!(
                "not started: {} {address} (interrupted by {signal})",
                verb(self.action)
            ),
            Outcome::Interrupted { signal, .. } => format!(
                "interrupted: {} {address} (still in flight after the --timeout grace period that followed {signal}: the server may or may not hold the change; re-run apply to converge)",
                verb(self.action)
            ),
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Every change of the plan, in plan order.
    pub changes: Vec<ChangeReport>,
    /// The signal that stopped the run early, if one came.
    pub interrupted_by: Option<&'static str>,
}

impl ApplyReport {
    /// Whether every change was done and deployed.
    pub fn succeeded(&self) -> bool {
        self.changes
            .iter()
            .all(|c| matches!(c.outcome, Outcome::Done { .. }) && !c.failed())
    }

    /// Changes done (and deployed) with this action.
    pub fn done(&self, action: Action) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action == action && matches!(c.outcome, Outcome::Done { .. }))
            .filter(|c| !c.failed())
            .count()
    }

    /// Changes that failed (request or deployment).
    pub fn failed(&self) -> usize {
        self.changes.iter().filter(|c| c.failed()).count()
    }

    /// `Apply complete: N created, N updated, N renamed, N replaced, N deleted, N failed.`
    pub fn summary(&self) -> String {
        format!(
            "Apply complete: {} created, {} updated, {} renamed, {} replaced, {} deleted, {} failed.",
            self.done(Action::Create),
            self.done(Action::Update),
            self.done(Action::Rename),
            self.done(Action::Replace),
            self.done(Action::Delete),
            self.failed()
        )
    }

    /// Changes that did not start (after the first failure, or after an interrupt).
    pub fn not_started(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| {
                matches!(
                    c.outcome,
                    Outcome::NotStarted | Outcome::Interrupted { started: false, .. }
                )
            })
            .count()
    }

    /// Changes still in flight when the grace period after an interrupt ended.
    pub fn interrupted(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Interrupted { started: true, .. }))
            .count()
    }
}

/// Writes the report: every change line when `with_lines` (a terminal showed a progress
/// bar instead) except those skipped after a failure, which one line counts; the summary; then
/// every failure again, so none is lost among the other lines. Failures red when `colour`.
pub fn render(
    report: &ApplyReport,
    with_lines: bool,
    colour: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if with_lines {
        for change in report.changes.iter().filter(|c| !c.skipped_after_failure()) {
            writeln!(out, "{}", change.painted_line(colour))?;
        }
    }
    let skipped = counted(report.not_started(), "change", "changes");
    if let Some(signal) = report.interrupted_by {
        writeln!(
            out,
            "Interrupted by {signal}: {skipped} not started, {} interrupted; re-run apply to converge.",
            report.interrupted()
        )?;
    } else if report.not_started() > 0 {
        writeln!(
            out,
            "{skipped} not started after the first failure (--continue-on-error keeps going)."
        )?;
    }
    writeln!(out, "{}", report.summary())?;
    let failed: Vec<&ChangeReport> = report.changes.iter().filter(|c| c.failed()).collect();
    if !failed.is_empty() {
        writeln!(
            out,
            "{} failed:",
            counted(failed.len(), "change", "changes")
        )?;
        for change in failed {
            writeln!(out, "  {}", change.painted_line(colour))?;
        }
    }
    Ok(())
}

/// The report as one JSON document (`--format json`): every change with its outcome and
/// deployment results, the counts and the summary line.
pub fn to_json(report: &ApplyReport) -> Value {
    let changes: Vec<Value> = report.changes.iter().map(change_json).collect();
    json!({
        "changes": changes,
        "summary": {
            "created": report.done(Action::Create),
            "updated": report.done(Action::Update),
            "renamed": report.done(Action::Rename),
            "replaced": report.done(Action::Replace),
            "deleted": report.done(Action::Delete),
            "failed": report.failed(),
            "not_started": report.not_started(),
            "interrupted": report.interrupted(),
        },
        "interrupted_by": report.interrupted_by,
        "summary_line": report.summary(),
    })
}

/// The JSON Schema of [`to_json`]'s document (`apply` in `apply --format json`).
pub fn schema() -> Value {
    let count = json!({"type": "integer", "minimum": 0});
    let text = json!({"type": "string"});
    let environment = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["environment", "success", "message"],
        "properties": {"environment": text, "success": {"type": "boolean"}, "message": text}
    });
    let deployment = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["success", "environments"],
        "properties": {"success": {"type": "boolean"}, "environments": {"type": "array", "items": environment}}
    });
    let change = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["project", "type", "name", "action", "failed", "line", "outcome"],
        "properties": {
            "project": text, "type": text, "name": text,
            "action": {"enum": ["rename", "create", "update", "replace", "delete"]},
            "failed": {"type": "boolean", "description": "The request or the deployment failed."},
            "line": {"type": "string", "description": "The change's line as text output shows it."},
            "previous": {"type": "string", "description": "The old name (rename) or old type (replace)."},
            "outcome": {"enum": ["done", "failed", "not_started", "interrupted"]},
            "message": {"type": "string", "description": "Why it failed or stopped, or a note on a done change."},
            "deployment": deployment
        }
    });
    let summary = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["created", "updated", "renamed", "replaced", "deleted", "failed", "not_started", "interrupted"],
        "properties": {
            "created": count, "updated": count, "renamed": count, "replaced": count,
            "deleted": count, "failed": count, "not_started": count, "interrupted": count
        }
    });
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "What apply did: every change of the plan with its outcome.",
        "required": ["changes", "summary", "interrupted_by", "summary_line"],
        "properties": {
            "changes": {"type": "array", "items": change},
            "summary": summary,
            "interrupted_by": {"description": "The signal that stopped the run, if one did.", "oneOf": [{"type": "null"}, text]},
            "summary_line": {"type": "string", "description": "`Apply complete: ...` as text output prints it."}
        }
    })
}

fn change_json(change: &ChangeReport) -> Value {
    let mut entry = json!({
        "project": change.project,
        "type": change.kind,
        "name": change.name,
        "action": change.action,
        "failed": change.failed(),
        "line": change.line(),
    });
    if let Some(previous) = &change.previous {
        entry["previous"] = previous.clone().into();
    }
    let (outcome, detail) = match &change.outcome {
        Outcome::Done { deployment, note } => {
            entry["deployment"] = deployment_json(deployment);
            ("done", note.clone())
        }
        Outcome::Failed { message } => ("failed", Some(message.clone())),
        Outcome::NotStarted => ("not_started", None),
        Outcome::Interrupted { started: false, .. } => ("not_started", Some(change.line())),
        Outcome::Interrupted { .. } => ("interrupted", Some(change.line())),
    };
    entry["outcome"] = outcome.into();
    if let Some(detail) = detail {
        entry["message"] = detail.into();
    }
    entry
}

fn deployment_json(deployment: &DeploymentResult) -> Value {
    let environments: Vec<Value> = deployment
        .environments
        .iter()
        .map(|e| json!({"environment": e.environment_name, "success": e.success, "message": e.message}))
        .collect();
    json!({"success": deployment.success, "environments": environments})
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Rename => "rename",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

fn past_tense(action: Action) -> &'static str {
    match action {
        Action::Rename => "renamed",
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
    }
}

/// ` (deployed: dev ok, prod FAILED: reason)`, or nothing when the server reported no
/// environments and no failure.
fn deployment_text(action: Action, deployment: &DeploymentResult) -> String {
    let word = if action == Action::Delete {
        "undeployed"
    } else {
        "deployed"
    };
    if deployment.environments.is_empty() {
        return if deployment.success {
            String::new()
        } else {
            format!(" (not {word}: deployment failed)")
        };
    }
    let parts: Vec<String> = deployment
        .environments
        .iter()
        .map(|e| match (e.success, e.message.is_empty()) {
            (true, _) => format!("{} ok", e.environment_name),
            (false, true) => format!("{} FAILED", e.environment_name),
            (false, false) => format!("{} FAILED: {}", e.environment_name, e.message),
        })
        .collect();
    format!(" ({word}: {})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::EnvironmentResult;

    fn report(action: Action, outcome: Outcome) -> ChangeReport {
        ChangeReport {
            index: 0,
            project: "Payments".into(),
            kind: "email".into(),
            name: "alerts-smtp".into(),
            action,
            previous: None,
            outcome,
        }
    }

    fn deployed(envs: &[(&str, bool)]) -> Outcome {
        Outcome::Done {
            deployment: DeploymentResult {
                success: envs.iter().all(|(_, ok)| *ok),
                environments: envs
                    .iter()
                    .map(|(name, ok)| EnvironmentResult {
                        environment_name: name.to_string(),
                        success: *ok,
                        message: if *ok {
                            String::new()
                        } else {
                            "worker down".into()
                        },
                    })
                    .collect(),
            },
            note: None,
        }
    }

    #[test]
    fn a_done_change_shows_each_environment() {
        let r = report(Action::Create, deployed(&[("dev", true), ("prod", true)]));
        assert_eq!(
            r.line(),
            "created Payments/email/alerts-smtp (deployed: dev ok, prod ok)"
        );
        assert!(!r.failed());
    }

    #[test]
    fn a_failed_deployment_counts_as_failed() {
        let r = report(Action::Update, deployed(&[("dev", true), ("prod", false)]));
        assert_eq!(
            r.line(),
            "updated Payments/email/alerts-smtp (deployed: dev ok, prod FAILED: worker down)"
        );
        assert!(r.failed());
        let all = ApplyReport {
            changes: vec![r],
            ..ApplyReport::default()
        };
        assert!(
            all.summary()
                .ends_with("0 updated, 0 renamed, 0 replaced, 0 deleted, 1 failed.")
        );
        assert!(!all.succeeded());
    }

    #[test]
    fn renames_and_replaces_name_what_they_were() {
        let mut r = report(Action::Rename, deployed(&[]));
        r.previous = Some("old-smtp".into());
        assert_eq!(
            r.line(),
            "renamed Payments/email/alerts-smtp (was old-smtp)"
        );
        let mut r = report(Action::Replace, deployed(&[]));
        r.previous = Some("kafka".into());
        assert_eq!(r.line(), "replaced Payments/email/alerts-smtp (was kafka)");
    }

    #[test]
    fn failures_and_skips_are_reported() {
        let failed = report(
            Action::Delete,
            Outcome::Failed {
                message: "HTTP 500".into(),
            },
        );
        assert_eq!(
            failed.line(),
            "failed to delete Payments/email/alerts-smtp: HTTP 500"
        );
        let skipped = report(Action::Create, Outcome::NotStarted);
        assert!(skipped.line().starts_with("not started: create"));
        let all = ApplyReport {
            changes: vec![failed, skipped],
            ..ApplyReport::default()
        };
        let mut out = Vec::new();
        render(&all, true, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            concat!(
                "failed to delete Payments/email/alerts-smtp: HTTP 500\n",
                "1 change not started after the first failure (--continue-on-error keeps going).\n",
                "Apply complete: 0 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 1 failed.\n",
                "1 change failed:\n",
                "  failed to delete Payments/email/alerts-smtp: HTTP 500\n"
            )
        );
        let mut out = Vec::new();
        render(&all, false, true, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(
                "1 failed.\n1 change failed:\n  \x1b[31mfailed to delete Payments/email/alerts-smtp: HTTP 500\x1b[0m\n"
            ),
            "{text:?}"
        );
        assert!(!text.contains("not started:"));
    }

    #[test]
    fn the_json_report_carries_outcomes_deployments_and_counts() {
        let all = ApplyReport {
            changes: vec![
                report(Action::Create, deployed(&[("dev", true), ("prod", false)])),
                report(Action::Delete, Outcome::NotStarted),
            ],
            ..ApplyReport::default()
        };
        let doc = to_json(&all);
        assert_eq!(doc["summary"]["failed"], 1);
        assert_eq!(doc["summary"]["not_started"], 1);
        assert_eq!(doc["changes"][0]["outcome"], "done");
        assert_eq!(doc["changes"][0]["failed"], true);
        assert_eq!(
            doc["changes"][0]["deployment"]["environments"][1]["environment"],
            "prod"
        );
        assert_eq!(doc["changes"][1]["outcome"], "not_started");
        assert_eq!(doc["changes"][1]["action"], "delete");
        assert_eq!(doc["summary_line"], all.summary());
    }

    #[test]
    fn an_interrupted_run_reports_every_change_and_the_summary() {
        let interrupted = |started| Outcome::Interrupted {
            signal: "SIGTERM",
            started,
        };
        let all = ApplyReport {
            changes: vec![
                report(Action::Create, deployed(&[])),
                report(Action::Update, interrupted(true)),
                report(Action::Delete, interrupted(false)),
            ],
            interrupted_by: Some("SIGTERM"),
        };
        assert_eq!(
            all.changes[2].line(),
            "not started: delete Payments/email/alerts-smtp (interrupted by SIGTERM)"
        );
        assert!(all.changes[1].line().starts_with(
            "interrupted: update Payments/email/alerts-smtp (still in flight after the --timeout grace period that followed SIGTERM"
        ));
        assert!(!all.succeeded());
        let mut out = Vec::new();
        render(&all, false, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "Interrupted by SIGTERM: 1 change not started, 1 interrupted; re-run apply to converge.\n\
             Apply complete: 1 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed.\n"
        );
        let doc = to_json(&all);
        assert_eq!(doc["summary"]["not_started"], 1);
        assert_eq!(doc["summary"]["interrupted"], 1);
        assert_eq!(doc["interrupted_by"], "SIGTERM");
        assert_eq!(doc["changes"][1]["outcome"], "interrupted");
        assert_eq!(doc["changes"][2]["outcome"], "not_started");
    }

    #[test]
    fn an_empty_run_succeeds() {
        let all = ApplyReport::default();
        assert!(all.succeeded());
        assert_eq!(
            all.summary(),
            "Apply complete: 0 created, 0 updated, 0 renamed, 0 replaced, 0 deleted, 0 failed."
        );
    }
}
