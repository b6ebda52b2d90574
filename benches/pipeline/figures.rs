//! Rows shared by the sections: a command against its budget, its peak memory against
//! a ceiling, a command against the network bound, and how a 10x larger workload
//! scales.

use std::time::Duration;

use crate::process::{Exited, Run};
use crate::table::{Bound, Quantity, Row, print_row, requests_text};

/// What 10x the connections may cost at most, in time and in memory.
const SCALING_BUDGET: f64 = 11.0;

/// A command's median against a time budget (CPU-only rows).
pub fn print_budget(figure: &str, exited: Exited, budget: Duration, detail: String) {
    print_row(&Row {
        figure: figure.to_string(),
        measured: Quantity::Time(exited.wall),
        bound: Bound::Ceiling(Quantity::Time(budget)),
        peak_rss: exited.peak_rss,
        detail,
    });
}

/// A command's peak memory against a ceiling in MB (nothing where it is not reported).
pub fn print_memory(figure: &str, exited: Exited, ceiling_mb: f64) {
    if let Some(peak) = exited.peak_rss {
        print_row(&Row {
            figure: format!("{figure}: peak RSS"),
            measured: Quantity::Megabytes(peak),
            bound: Bound::Ceiling(Quantity::Megabytes(ceiling_mb)),
            peak_rss: None,
            detail: "of the apinizer-gitops process".into(),
        });
    }
}

/// The least a run can take: each request costs one round trip, `parallelism` at a time.
pub fn network_bound(run: &Run, round_trip: Duration, parallelism: usize) -> Duration {
    round_trip.mul_f64(run.requests.total() as f64 / parallelism as f64)
}

/// A figure at latency against its network bound.
pub fn print_against_bound(figure: &str, exited: Exited, bound: Duration, detail: String) {
    print_row(&Row {
        figure: figure.to_string(),
        measured: Quantity::Time(exited.wall),
        bound: Bound::Floor(Quantity::Time(bound)),
        peak_rss: exited.peak_rss,
        detail,
    });
}

/// A row's detail: the requests of `run` by kind, then `more`.
pub fn with_requests(run: &Run, more: &str) -> String {
    format!("{}; {more}", requests_text(&run.requests))
}

/// `large` / `small` in time and in memory, each against the scaling budget, when both
/// ran.
pub fn print_scaling(figure: &str, small: Option<Exited>, large: Option<Exited>) {
    let (Some(small), Some(large)) = (small, large) else {
        return;
    };
    let time = large.wall.as_secs_f64() / small.wall.as_secs_f64();
    print_factor(&format!("{figure}: time"), time);
    if let (Some(small), Some(large)) = (small.peak_rss, large.peak_rss) {
        print_factor(&format!("{figure}: peak RSS"), large / small);
    }
}

fn print_factor(figure: &str, factor: f64) {
    print_row(&Row {
        figure: figure.to_string(),
        measured: Quantity::Factor(factor),
        bound: Bound::Ceiling(Quantity::Factor(SCALING_BUDGET)),
        peak_rss: None,
        detail: "10x the connections".into(),
    });
}

/// How many runs a median was taken of, as the rows say it.
pub fn runs_text(runs: usize) -> String {
    match runs {
        1 => "one run".into(),
        n => format!("median of {n}"),
    }
}
