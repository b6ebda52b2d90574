//! Timing and the printed table: each figure next to its bound and the ratio
//! figure / bound, one row as soon as it is measured.

use std::time::{Duration, Instant};

/// What a bound means for its figure.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// A budget the figure should stay under (ratio below 1 is within it).
    Ceiling(Duration),
    /// The least the figure can be (latency x requests / parallelism): a ratio close
    /// to 1 means the tool adds little beyond the server's own latency.
    Floor(Duration),
    /// What linear growth from a smaller run predicts: a ratio above 1 means the cost
    /// grows faster than the input.
    Linear(Duration),
}

impl Bound {
    fn duration(self) -> Duration {
        match self {
            Bound::Ceiling(d) | Bound::Floor(d) | Bound::Linear(d) => d,
        }
    }

    fn text(self) -> String {
        match self {
            Bound::Ceiling(d) => format!("<= {}", seconds(d)),
            Bound::Floor(d) => format!(">= {}", seconds(d)),
            Bound::Linear(d) => format!("~ {}", seconds(d)),
        }
    }
}

/// One measured figure.
pub struct Row {
    /// What was measured.
    pub figure: String,
    /// Median wall time.
    pub measured: Duration,
    /// Its bound.
    pub bound: Bound,
    /// Throughput, request counts, speedups.
    pub detail: String,
}

/// Prints the table head.
pub fn print_header(title: &str) {
    println!("{title}");
    println!(
        "{:<48} {:>10} {:>12} {:>7}  detail",
        "figure", "median", "bound", "ratio"
    );
    print_rule();
}

/// A line as wide as the table.
fn print_rule() {
    println!("{}", "-".repeat(104));
}

/// Prints one row (stdout is flushed by the newline: rows show up as they are measured).
pub fn print_row(row: &Row) {
    let ratio = row.measured.as_secs_f64() / row.bound.duration().as_secs_f64();
    println!(
        "{:<48} {:>10} {:>12} {:>7.2}  {}",
        row.figure,
        seconds(row.measured),
        row.bound.text(),
        ratio,
        row.detail
    );
}

/// Prints the legend under the table.
pub fn print_legend() {
    print_rule();
    println!("ratio = median / bound. '<=' bound: a budget, ratio < 1 is within it.");
    println!("'>=' bound: latency x requests / parallelism, the floor; ratio near 1 is ideal.");
    println!("'~' bound: linear growth from the smaller run; ratio above 1 is superlinear.");
}

/// Runs `work` `runs` times; the median wall time and the last run's result.
pub fn median<T>(runs: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    median_timed(runs, || {
        let start = Instant::now();
        let result = work();
        (start.elapsed(), result)
    })
}

/// Runs `work` `runs` times, each timing its own part (setup left out); the median
/// time and the last run's result.
pub fn median_timed<T>(runs: usize, mut work: impl FnMut() -> (Duration, T)) -> (Duration, T) {
    assert!(runs > 0, "at least one run");
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let (time, result) = work();
        times.push(time);
        last = Some(result);
    }
    times.sort();
    (times[runs / 2], last.expect("ran at least once"))
}

/// A duration as seconds with three decimals (`0.085 s`).
pub fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Items per second for `count` items in `d`.
pub fn per_second(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64()
}
