//! `apply --auto-approve` at latency, as a pipeline's deploy step runs it: every
//! connection a create (into empty projects), then every connection an update (one
//! field changed in the files). Each run gets a fresh sandbox.

use std::time::Duration;

use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::RequestCounts;

use crate::figures::{network_bound, print_against_bound, runs_text, with_requests};
use crate::process::{Invocation, Run, median_run};
use crate::server::{Server, ms};
use crate::workload::Workload;

/// The parallelisms compared, each with the ratio to the bound it should stay within.
const PARALLELISMS: [(usize, f64); 2] = [(8, 1.2), (32, 1.3)];

/// Where an apply starts from and what it must write.
struct Start<'a> {
    /// `creates` or `updates`, as the row names them.
    writes: &'static str,
    /// The requests of that kind.
    written: fn(&RequestCounts) -> u64,
    /// The connections the sandbox holds before.
    seed: Vec<(String, Connection)>,
    /// The projects it holds, empty.
    projects: Vec<String>,
    /// The files applied.
    files: &'a Workload,
}

/// Rows of `apply` at each parallelism for creates (`files` into empty projects) and
/// updates (`files` over `previous`, the same connections with another description),
/// at `latency` with `round_trip` measured at it.
pub fn creates_and_updates(
    files: &Workload,
    previous: &Workload,
    (latency, round_trip): (Duration, Duration),
    runs: usize,
) {
    let starts = [
        Start {
            writes: "creates",
            written: |counts| counts.creates,
            seed: Vec::new(),
            projects: files.project_names(),
            files,
        },
        Start {
            writes: "updates",
            written: |counts| counts.updates,
            seed: previous.seed(),
            projects: Vec::new(),
            files,
        },
    ];
    for start in &starts {
        for (parallelism, target) in PARALLELISMS {
            let run = median_run(
                runs,
                |run: &Run| run.exited.wall,
                || apply_once(start, latency, parallelism),
            );
            let figure = format!(
                "apply {} {} --parallelism {parallelism}, {}",
                files.shape.connections,
                start.writes,
                ms(latency)
            );
            let detail = format!("target ratio {target}; {}", runs_text(runs));
            let bound = network_bound(&run, round_trip, parallelism);
            print_against_bound(&figure, run.exited, bound, with_requests(&run, &detail));
        }
    }
}

/// One apply on a fresh sandbox; checks it wrote a change per connection.
fn apply_once(start: &Start, latency: Duration, parallelism: usize) -> Run {
    let server = Server::start(start.seed.clone(), start.projects.clone(), latency);
    let apply = Invocation::new(&["apply", "--auto-approve"], start.files.variables())
        .files(start.files.folder());
    let run = server.run(apply, parallelism);
    assert_eq!(
        (start.written)(&run.requests) as usize,
        start.files.shape.connections,
        "one of the {} per connection",
        start.writes
    );
    run
}
