//! Hand-built desired and current connections for unit tests of the plan and its
//! renderers.

use serde_json::{Value, json};

use super::diff::{CurrentState, SelectedConnection, SelectedProject, diff};
use super::{Plan, Selection};
use crate::desired::{DesiredConnection, ProtectGlobs, SourceRef};
use crate::model::Connection;

/// A connection from a JSON body (secrets split off).
pub(crate) fn conn(kind: &str, name: &str, body: Value) -> Connection {
    Connection::from_body(kind, name, body.as_object().unwrap().clone(), false)
}

/// A selected connection whose template needs no resolution.
pub(crate) fn wanted(kind: &str, name: &str, body: Value) -> SelectedConnection {
    let template = Connection::from_body(kind, name, body.as_object().unwrap().clone(), true);
    SelectedConnection {
        resolved: template.clone(),
        uncompared: Vec::new(),
        desired: DesiredConnection {
            template,
            renamed_from: None,
            ignore_fields: Vec::new(),
            protect: None,
            source: SourceRef {
                file: "connections/p.yaml".into(),
                line: 7,
                column: 5,
            },
            var_templates: Default::default(),
        },
    }
}

pub(crate) fn project(prune: bool, connections: Vec<SelectedConnection>) -> SelectedProject {
    SelectedProject {
        name: "P".into(),
        prune,
        ignore: vec!["legacy-*".into()],
        protect: ProtectGlobs::default(),
        connections,
    }
}

pub(crate) fn plan_of(project: SelectedProject, current: Vec<Connection>) -> Plan {
    let state = CurrentState::from([("P".to_string(), current)]);
    diff(&[project], &state, &Selection::default(), "http://s").unwrap()
}

/// The plan of one desired connection against the server's one of the same name.
pub(crate) fn plan_of_one(kind: &str, name: &str, desired: Value, current: Value) -> Plan {
    plan_of(
        project(false, vec![wanted(kind, name, desired)]),
        vec![conn(kind, name, current)],
    )
}

/// A plan with every action, a changed secret, a write-only note and an unmanaged
/// connection.
pub(crate) fn every_action_plan() -> Plan {
    let mut renamed = wanted("email", "new-name", json!({"host": "h"}));
    renamed.desired.renamed_from = Some("old-name".into());
    let secret =
        json!({"host": "smtp", "auth": true, "username": "u", "password": "canary-new-pw"});
    let desired = vec![
        wanted(
            "email",
            "fresh",
            json!({"host": "h", "password": "${env:FRESH_PW}"}),
        ),
        wanted("syslog", "swap", json!({"syslogServerHostname": "s"})),
        wanted(
            "kafka",
            "changed",
            json!({"topicName": "t", "enableSecure": false,
            "propertiesMap": {"bootstrap.servers": {"value": "${env:KAFKA}"}, "acks": {"value": "all"}}}),
        ),
        wanted("email", "mail", secret),
        wanted(
            "ftp",
            "files",
            json!({"host": "f", "username": "u", "password": "p", "protocol": "FTP"}),
        ),
        renamed,
    ];
    let current = vec![
        conn(
            "kafka",
            "changed",
            json!({"topicName": "old", "enableSecure": false,
            "propertiesMap": {"bootstrap.servers": {"value": "${env:KAFKA}"}, "acks": {"value": "1"}}}),
        ),
        conn("email", "swap", json!({"host": "h"})),
        conn(
            "email",
            "mail",
            json!({"host": "smtp", "auth": true, "username": "u", "password": "canary-old-pw"}),
        ),
        conn(
            "ftp",
            "files",
            json!({"host": "f", "username": "u", "password": null, "protocol": "FTP"}),
        ),
        conn("email", "old-name", json!({"host": "h"})),
        conn("email", "gone", json!({"host": "h"})),
        conn("email", "legacy-1", json!({"host": "h"})),
    ];
    plan_of(project(true, desired), current)
}
