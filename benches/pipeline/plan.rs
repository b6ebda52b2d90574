//! `plan` of a workload against a sandbox already in sync: CPU only (no latency) and at
//! the network's latency, where the network part is held against the bound.

use std::time::Duration;

use crate::figures::{
    network_bound, print_against_bound, print_budget, print_memory, runs_text, with_requests,
};
use crate::process::{Exited, Invocation, Run, median_run};
use crate::server::{Server, ms};
use crate::table::seconds;
use crate::workload::Workload;

/// The parallelisms compared at latency.
const PARALLELISMS: [usize; 2] = [8, 32];

/// The parallelism of the CPU-only figure of the large workload (`plan`'s default).
const DEFAULT_PARALLELISM: usize = 8;

/// Budget of the whole plan at latency, at parallelism 8 only.
const LATENCY_BUDGET: (usize, Duration) = (8, Duration::from_secs(2));

/// The ratio the network part should stay within.
const NETWORK_PART_TARGET: f64 = 1.15;

/// Budgets of a CPU-only plan: its time and its peak RSS in MB.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Wall time.
    pub time: Duration,
    /// Peak RSS.
    pub memory_mb: f64,
}

/// A plan of `workload` against `server` at `parallelism`, `runs` times; the median run.
fn median_plan(server: &Server, workload: &Workload, parallelism: usize, runs: usize) -> Run {
    median_run(
        runs,
        |run: &Run| run.exited.wall,
        || {
            // `--detailed-exitcode`: exit 2 (a failed run) if the sandbox were not in sync.
            let plan = Invocation::new(&["plan", "--detailed-exitcode"], workload.variables())
                .files(workload.folder());
            server.run(plan, parallelism)
        },
    )
}

/// Rows of `plan` at each parallelism, without latency (against `budget`) and at
/// `latency` (against the bound, whole and network part, with `round_trip` measured at
/// `latency`). Returns the CPU-only median at parallelism 8, the base of the scaling
/// rows.
pub fn at_latency(
    workload: &Workload,
    budget: Budget,
    (latency, round_trip): (Duration, Duration),
    runs: usize,
) -> Exited {
    let seed = workload.seed();
    let cpu_only = Server::start(seed.clone(), Vec::new(), Duration::ZERO);
    let networked = Server::start(seed, Vec::new(), latency);
    let size = workload.shape.label();
    let mut base = None;
    for parallelism in PARALLELISMS {
        let figure = format!("plan {size} --parallelism {parallelism}");
        let local = median_plan(&cpu_only, workload, parallelism, runs);
        print_local(&format!("{figure}, 0 ms"), &local, budget.time, runs);
        if base.is_none() {
            print_memory(&format!("plan {size}"), local.exited, budget.memory_mb);
            base = Some(local.exited);
        }
        let remote = median_plan(&networked, workload, parallelism, runs);
        let bound = network_bound(&remote, round_trip, parallelism);
        let how = format!(
            "{} x {:.2} ms / {parallelism}{}; {}",
            remote.requests.total(),
            round_trip.as_secs_f64() * 1000.0,
            budget_note(parallelism),
            runs_text(runs)
        );
        let at_latency = format!("{figure}, {}", ms(latency));
        print_against_bound(
            &at_latency,
            remote.exited,
            bound,
            with_requests(&remote, &how),
        );
        let network_part = Exited {
            wall: remote.exited.wall.saturating_sub(local.exited.wall),
            peak_rss: None,
        };
        print_against_bound(
            &format!("  network part ({} - 0 ms)", ms(latency)),
            network_part,
            bound,
            format!("the rows above subtracted; target ratio {NETWORK_PART_TARGET}"),
        );
    }
    base.expect("a parallelism ran")
}

/// One CPU-only row (and its memory row) of `workload` at the default parallelism.
pub fn cpu_only(workload: &Workload, budget: Budget, runs: usize) -> Exited {
    let server = Server::start(workload.seed(), Vec::new(), Duration::ZERO);
    let run = median_plan(&server, workload, DEFAULT_PARALLELISM, runs);
    let figure = format!("plan {}", workload.shape.label());
    let with_parallelism = format!("{figure} --parallelism {DEFAULT_PARALLELISM}, 0 ms");
    print_local(&with_parallelism, &run, budget.time, runs);
    print_memory(&figure, run.exited, budget.memory_mb);
    run.exited
}

fn print_local(figure: &str, run: &Run, budget: Duration, runs: usize) {
    print_budget(
        figure,
        run.exited,
        budget,
        with_requests(run, &runs_text(runs)),
    );
}

/// The whole-plan budget where one applies: ` (budget 2.000 s)`.
fn budget_note(parallelism: usize) -> String {
    match LATENCY_BUDGET {
        (p, budget) if p == parallelism => {
            format!(" (budget {})", seconds(budget))
        }
        _ => String::new(),
    }
}
