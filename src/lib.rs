//! apinizer-gitops: GitOps for the connections of the Apinizer API management platform.
//!
//! Data flows through one module per step:
//! files -> [`desired`] state -> current state ([`api`] client) -> [`plan`] (diff) ->
//! [`render`] / saved plan -> [`apply`] -> report. The [`catalog`] of the 14 connection
//! types drives validation, defaults, normalisation, secret handling and the [`schema`]s;
//! [`model`] is the connection every step passes along; [`refs`] resolves `${env:...}`; [`values`] loads the `--values` files `${var:...}` takes;
//! [`redact`] keeps the run's secrets out of every server text it prints;
//! [`sandbox`] is the local Apinizer-compatible server; [`export`] writes YAML from a
//! server; [`whole_file`] writes the files they save whole or not at all; [`cli`] parses
//! flags and dispatches.

pub mod api;
pub mod apply;
pub mod catalog;
pub mod cli;
pub mod desired;
pub mod diag;
pub mod export;
pub mod model;
pub mod parallel;
pub mod plan;
pub mod redact;
pub mod refs;
pub mod render;
pub mod sandbox;
pub mod schema;
pub mod values;
pub mod whole_file;
