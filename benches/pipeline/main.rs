//! `cargo bench --bench pipeline`: generates its own workload (2,000 connections of the
//! 14 types in 20 files over 4 projects), runs each step through the same library
//! functions the CLI calls, and prints one table: each figure, its bound and the ratio
//! figure / bound. Speed is measured here, never asserted in tests.

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

fn main() {
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
    offline::validate(&workload);
    offline::diff_and_render(&workload);
    network::plan(&workload);
    table::print_legend();
}
