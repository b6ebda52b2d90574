//! The printed table: each figure next to its bound and the ratio figure / bound, with
//! the peak memory of the process measured; one row as soon as it is measured.

use std::time::Duration;

use apinizer_gitops::sandbox::RequestCounts;

/// A measured or bounding amount.
#[derive(Debug, Clone, Copy)]
pub enum Quantity {
    /// Wall time.
    Time(Duration),
    /// Memory in MB (10^6 bytes).
    Megabytes(f64),
    /// A factor between two figures (`100k / 10k`).
    Factor(f64),
}

impl Quantity {
    fn value(self) -> f64 {
        match self {
            Quantity::Time(d) => d.as_secs_f64(),
            Quantity::Megabytes(mb) | Quantity::Factor(mb) => mb,
        }
    }

    fn text(self) -> String {
        match self {
            Quantity::Time(d) => seconds(d),
            Quantity::Megabytes(mb) => format!("{mb:.0} MB"),
            Quantity::Factor(f) => format!("{f:.2}x"),
        }
    }
}

/// What a bound means for its figure.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// A budget the figure should stay under (ratio below 1 is within it).
    Ceiling(Quantity),
    /// The least the figure can be (requests x round trip / parallelism): a ratio close
    /// to 1 means the tool adds little beyond the server's own latency.
    Floor(Quantity),
}

impl Bound {
    fn quantity(self) -> Quantity {
        match self {
            Bound::Ceiling(q) | Bound::Floor(q) => q,
        }
    }

    fn text(self) -> String {
        match self {
            Bound::Ceiling(q) => format!("<= {}", q.text()),
            Bound::Floor(q) => format!(">= {}", q.text()),
        }
    }
}

/// One measured figure.
pub struct Row {
    /// What was measured.
    pub figure: String,
    /// The median.
    pub measured: Quantity,
    /// Its bound.
    pub bound: Bound,
    /// Peak resident memory of the process measured, in MB.
    pub peak_rss: Option<f64>,
    /// Requests by kind, how the bound is made, runs.
    pub detail: String,
}

/// Prints the table head.
pub fn print_header(title: &str) {
    println!("{title}");
    println!(
        "{:<44} {:>9} {:>12} {:>6} {:>8}  detail",
        "figure", "median", "bound", "ratio", "peak RSS"
    );
    print_rule();
}

/// A line as wide as the table.
fn print_rule() {
    println!("{}", "-".repeat(120));
}

/// Prints one row (stdout is flushed by the newline: rows show up as they are measured).
pub fn print_row(row: &Row) {
    let ratio = row.measured.value() / row.bound.quantity().value();
    let rss = row
        .peak_rss
        .map_or_else(String::new, |mb| Quantity::Megabytes(mb).text());
    println!(
        "{:<44} {:>9} {:>12} {:>6.2} {:>8}  {}",
        row.figure,
        row.measured.text(),
        row.bound.text(),
        ratio,
        rss,
        row.detail
    );
}

/// Prints the legend under the table and the bench's own wall time.
pub fn print_legend(total: Duration) {
    print_rule();
    println!("ratio = median / bound. '<=' bound: a budget, ratio < 1 is within it.");
    println!("'>=' bound: requests x measured round trip / parallelism; ratio near 1 is ideal.");
    println!("network part: median at the latency minus median without it, against that bound.");
    println!(
        "peak RSS: the apinizer-gitops process (wait4 ru_maxrss in a launcher), not the bench."
    );
    println!("whole bench: {}", seconds(total));
}

/// A duration as seconds with three decimals (`0.085 s`).
pub fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Requests by kind as a row shows them: `140 lists + 27 GETs + 0 writes`.
pub fn requests_text(counts: &RequestCounts) -> String {
    let mut parts = vec![
        format!("{} lists", counts.lists),
        format!("{} GETs", counts.gets),
    ];
    let writes = [
        (counts.creates, "creates"),
        (counts.updates, "updates"),
        (counts.deletes, "deletes"),
    ];
    let written: Vec<String> = writes
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {kind}"))
        .collect();
    if written.is_empty() {
        parts.push("0 writes".into());
    }
    parts.extend(written);
    if counts.other > 0 {
        parts.push(format!("{} other", counts.other));
    }
    parts.join(" + ")
}
