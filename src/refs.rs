//! `${env:NAME}` references: parsing, listing and resolution with type conversion.
//! (Stub: implemented by the loader work.)

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::Connection;

/// Where variable values come from.
pub trait Env: Send + Sync {
    /// The value of a variable, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed map of variables (tests, seeding).
#[derive(Debug, Default, Clone)]
pub struct MapEnv(pub BTreeMap<String, String>);

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Variables that a resolution needed and the environment lacked (names only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingVariables(pub Vec<String>);

/// Names of every variable referenced in a value, in order of appearance, deduplicated.
pub fn references_in(_value: &Value) -> Vec<String> {
    todo!("refs::references_in")
}

/// Resolves every reference of a template connection (fields and secrets) and converts
/// whole-value references in number and boolean fields to that type. The result keeps all
/// sensitive values in `secrets`.
pub fn resolve_connection(
    _template: &Connection,
    _env: &dyn Env,
) -> Result<Connection, MissingVariables> {
    todo!("refs::resolve_connection")
}
