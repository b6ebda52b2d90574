//! `cargo bench --bench pipeline`: generates its own workload (2,000 connections of the
//! 14 types in 20 files over 4 projects), runs each step through the same library
//! functions the CLI calls, and prints one table: each figure, its bound and the ratio
//! figure / bound. Speed is measured here, never asserted in tests.
//!
//! `cargo bench --bench pipeline -- plan` runs only the sections whose name contains one
//! of the words given (`validate`, `diff`, `plan`, `apply`). Without cargo bench's
//! `--bench` flag (as under `cargo test --all-targets`) it prints a note and stops.

mod network;
mod offline;
mod table;
mod workload;

use workload::{Shape, Workload};

/// The workload of the validate, diff and plan figures.
const SHAPE: Shape = Shape {
    connections: 2_000,
    files: 20,
    projects: 4,
};

/// The workload of the apply figures: every connection a create.
const APPLY_SHAPE: Shape = Shape {
    connections: 500,
    files: 20,
    projects: 4,
};

/// How many times the connections the scaling figure diffs (all in one project).
const SCALE: usize = 4;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --benches` (or `--all-targets`) runs bench targets without
        // `--bench`: the figures take a minute and mean nothing in a debug build.
        println!("pipeline: figures are printed by `cargo bench` only");
        return;
    }
    let workload = Workload::generate(SHAPE);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    table::print_header(&format!(
        "apinizer-gitops pipeline: {} connections of 14 types, {} files, {} projects; \
         sandbox latency {} ms; {cpus} CPUs",
        SHAPE.connections,
        SHAPE.files,
        SHAPE.projects,
        network::LATENCY.as_millis()
    ));
    let wanted = Filter::from_args();
    if wanted.runs("validate") {
        offline::validate(&workload);
    }
    if wanted.runs("diff") {
        let diff_time = offline::diff_and_render(&workload);
        offline::diff_scaling(&workload, diff_time, SCALE);
    }
    if wanted.runs("plan") {
        network::plan(&workload);
    }
    if wanted.runs("apply") {
        network::apply(&Workload::generate(APPLY_SHAPE));
    }
    table::print_legend();
}

/// The section names given on the command line (flags such as cargo's `--bench` aside);
/// none means every section.
struct Filter(Vec<String>);

impl Filter {
    fn from_args() -> Filter {
        Filter(
            std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect(),
        )
    }

    fn runs(&self, section: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|word| section.contains(word.as_str()))
    }
}
