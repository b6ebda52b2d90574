//! Figures without a network: the loader (`validate`), the diff engine and the renderers.

use std::time::Duration;

use apinizer_gitops::plan::{Action, CurrentState, Plan, SelectedProject, Selection, diff};
use apinizer_gitops::render::{self, Context};
use serde_json::json;

use crate::table::{Bound, Row, median, per_second, print_row};
use crate::workload::{Shape, Workload, load_valid};

/// Runs of each offline figure (the median is printed).
const RUNS: usize = 5;

/// `validate`: load, parse and check every file.
pub fn validate(workload: &Workload) {
    let options = workload.load_options();
    let (time, loaded) = median(RUNS, || load_valid(&options));
    let count = loaded.state.connection_count();
    assert_eq!(count, workload.shape.connections, "every connection loaded");
    let files = format!("{} files", loaded.files.len());
    print_throughput(
        format!("validate: load {count} connections"),
        (time, count),
        Duration::from_secs(2),
        &files,
    );
}

/// The diff engine on every connection changed once, then each renderer on that plan.
/// Returns the diff's median, the base of the scaling figure.
pub fn diff_and_render(workload: &Workload) -> Duration {
    let (time, plan) = timed_diff(workload);
    print_throughput(
        format!("diff engine: {} updates", plan.changes.len()),
        (time, plan.changes.len()),
        Duration::from_millis(200),
        &format!("{} per project", per_project(workload)),
    );
    render_rows(&plan);
    time
}

/// The diff engine on `factor` times the connections, all in one project, next to what
/// linear growth from `base` (the median of `base_workload`) predicts.
pub fn diff_scaling(base_workload: &Workload, base: Duration, factor: usize) {
    let big = Workload::generate(Shape {
        connections: base_workload.shape.connections * factor,
        files: base_workload.shape.files,
        projects: 1,
    });
    let (time, plan) = timed_diff(&big);
    let updates = plan.changes.len();
    print_row(&Row {
        figure: format!("diff engine: {updates} updates, 1 project"),
        measured: time,
        bound: Bound::Linear(base * u32::try_from(factor).expect("small factor")),
        detail: format!(
            "{factor}x the connections, {}x per project, median of {RUNS}",
            per_project(&big) / per_project(base_workload)
        ),
    });
}

fn per_project(workload: &Workload) -> usize {
    workload.shape.connections / workload.shape.projects
}

/// Median time of `diff` over the workload against a server where every connection
/// differs once; the plan it made (checked: one update per connection).
fn timed_diff(workload: &Workload) -> (Duration, Plan) {
    let selected = workload.selected();
    let current = changed_once(&selected);
    let selection = Selection::default();
    let (time, plan) = median(RUNS, || {
        diff(&selected, &current, &selection, "http://bench").expect("diff succeeds")
    });
    let updates = plan.count(Action::Update);
    assert_eq!(updates, workload.shape.connections, "one update each");
    (time, plan)
}

/// A row of `count` connections handled in `time`, against a budget.
fn print_throughput(
    figure: String,
    (time, count): (Duration, usize),
    budget: Duration,
    note: &str,
) {
    print_row(&Row {
        figure,
        measured: time,
        bound: Bound::Ceiling(budget),
        detail: format!(
            "{:.0} connections/s, {note}, median of {RUNS}",
            per_second(count, time)
        ),
    });
}

/// The current state a plan would read: every desired connection, with one field that
/// differs (`description`, which every type has).
fn changed_once(selected: &[SelectedProject]) -> CurrentState {
    selected
        .iter()
        .map(|project| {
            let connections = project
                .connections
                .iter()
                .map(|c| {
                    let mut current = c.resolved.clone();
                    current
                        .fields
                        .insert("description".into(), json!("changed on the server"));
                    current
                })
                .collect();
            (project.name.clone(), connections)
        })
        .collect()
}

/// A plan renderer, as `--format` picks it.
type Renderer = fn(&Plan) -> String;

/// Text (with a unified diff per update), JSON and Markdown of the same plan.
fn render_rows(plan: &Plan) {
    let updates = plan.changes.len();
    let renderers: [(&str, Renderer); 3] = [
        ("text", |p| render::text::render(p, &Context::default())),
        ("json", |p| render::json::render(p, &Context::default())),
        ("markdown", |p| {
            render::markdown::render(p, &Context::default())
        }),
    ];
    for (format, renderer) in renderers {
        let (time, out) = median(RUNS, || renderer(plan));
        print_row(&Row {
            figure: format!("render --format {format}: {updates} updates"),
            measured: time,
            bound: Bound::Ceiling(Duration::from_millis(500)),
            detail: format!("{} KiB out, median of {RUNS}", out.len() / 1024),
        });
    }
}
