//! `validate`: load, parse and check every file; no server.

use std::time::Duration;

use crate::figures::{print_budget, runs_text};
use crate::process::{Exited, Invocation, median_run};
use crate::workload::Workload;

/// `validate -f DIR` of `workload`, `runs` times, against `budget`; the median run.
pub fn run(workload: &Workload, budget: Duration, runs: usize) -> Exited {
    let exited = median_run(
        runs,
        |exited: &Exited| exited.wall,
        || {
            Invocation::new(&["validate"], workload.variables())
                .files(workload.folder())
                .run()
        },
    );
    let figure = format!("validate {}", workload.shape.label());
    print_budget(&figure, exited, budget, runs_text(runs));
    exited
}
