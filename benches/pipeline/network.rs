//! Figures against the in-process sandbox with a fixed latency per request: `plan` and
//! `apply` at several parallelisms, side by side, each next to the floor latency x
//! requests / parallelism.

use std::time::{Duration, Instant};

use apinizer_gitops::api::{Auth, Client, ClientConfig};
use apinizer_gitops::apply::{self, ApplyOptions, ChangeReport};
use apinizer_gitops::model::Connection;
use apinizer_gitops::plan::{self, Action, Computed, Plan, PlanRequest, Selection};
use apinizer_gitops::sandbox::{RunningSandbox, SandboxConfig, start};
use secrecy::SecretString;
use tokio::runtime::Runtime;

use crate::table::{Bound, Row, median_timed, print_row};
use crate::workload::Workload;

/// Latency the sandbox adds to every response.
pub const LATENCY: Duration = Duration::from_millis(10);

/// The parallelisms compared, with how many runs each gets (parallelism 1 is the slow
/// one: a single run keeps the whole bench short).
const PLAN_RUNS: &[(usize, usize)] = &[(1, 1), (8, 3), (32, 3)];

/// The parallelisms of the apply figures and their runs.
const APPLY_RUNS: &[(usize, usize)] = &[(1, 1), (8, 3)];

/// Sequential requests of the round-trip figures.
const ROUND_TRIPS: u32 = 200;

/// Budget of one request on loopback without latency.
const ROUND_TRIP_BUDGET: Duration = Duration::from_millis(1);

/// The bearer token of every bench sandbox (not a secret: loopback only).
const TOKEN: &str = "bench-token";

/// A sandbox on a runtime of its own, as a separate server process would be.
struct Server {
    sandbox: RunningSandbox,
    _runtime: Runtime,
}

impl Server {
    fn start(
        seed: Vec<(String, Connection)>,
        projects: Vec<String>,
        latency: Option<Duration>,
    ) -> Server {
        let runtime = Runtime::new().expect("sandbox runtime");
        let config = SandboxConfig {
            listen: "127.0.0.1:0".into(),
            token: Some(TOKEN.into()),
            projects,
            seed,
            latency,
            ..SandboxConfig::default()
        };
        let sandbox = runtime.block_on(start(config)).expect("sandbox starts");
        Server {
            sandbox,
            _runtime: runtime,
        }
    }

    /// Runs `work` and counts the requests the sandbox answered meanwhile.
    fn counting<T>(&self, work: impl FnOnce() -> T) -> (T, u64) {
        let before = self.sandbox.request_count();
        let result = work();
        (result, self.sandbox.request_count() - before)
    }

    /// What the CLI builds from `--server`, `APINIZER_TOKEN` and `--parallelism`.
    fn client_config(&self, parallelism: usize) -> ClientConfig {
        ClientConfig {
            server: self.sandbox.url.clone(),
            auth: Auth::Token(SecretString::from(TOKEN)),
            parallelism,
            timeout: Duration::from_secs(30),
            retries: 0,
            ca_cert: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
            max_response_bytes: apinizer_gitops::api::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// `plan` of the whole workload against a sandbox already in sync, at each parallelism.
pub fn plan(workload: &Workload) {
    let seed = workload.seed();
    let sample = seed.first().cloned().expect("a connection to read");
    let runtime = Runtime::new().expect("client runtime");
    round_trip(&runtime, &sample, None);
    round_trip(&runtime, &sample, Some(LATENCY));
    let server = Server::start(seed, workload.project_names(), Some(LATENCY));
    compare_parallelism("plan", PLAN_RUNS, |parallelism| {
        let start = Instant::now();
        let (computed, requests) =
            server.counting(|| plan_once(&server, &runtime, workload, parallelism));
        assert_in_sync(&computed.plan);
        (start.elapsed(), requests)
    });
}

/// `apply` of a plan made only of creates (the workload into empty projects), at each
/// parallelism. Every run gets a fresh sandbox and its plan beforehand: only the
/// execution is timed.
pub fn apply(workload: &Workload) {
    let runtime = Runtime::new().expect("client runtime");
    let command = format!("apply {} creates", workload.shape.connections);
    compare_parallelism(&command, APPLY_RUNS, |parallelism| {
        let server = Server::start(Vec::new(), workload.project_names(), Some(LATENCY));
        let computed = plan_once(&server, &runtime, workload, parallelism);
        let creates = computed.plan.count(Action::Create);
        assert_eq!(
            creates, workload.shape.connections,
            "a create per connection"
        );
        let options = ApplyOptions {
            parallelism,
            continue_on_error: false,
            grace: std::time::Duration::from_secs(30),
        };
        let start = Instant::now();
        let mut quiet = |_: &ChangeReport| {};
        let never = apply::Interrupt::never();
        let (report, requests) = server.counting(|| {
            let execution = apply::execute(
                &computed.plan,
                &computed.client,
                &workload.env,
                options,
                &never,
                &mut quiet,
            );
            runtime.block_on(execution)
        });
        let time = start.elapsed();
        assert!(
            report.succeeded(),
            "every create succeeds: {}",
            report.summary()
        );
        (time, requests)
    });
}

/// Single GETs one after the other from a sandbox holding one connection: what one
/// request costs beyond the latency (HTTP on loopback, encoding and parsing at both ends,
/// and the 1 ms resolution of the sandbox's timer). Every other network row pays this
/// per request.
fn round_trip(
    runtime: &Runtime,
    (project, connection): &(String, Connection),
    latency: Option<Duration>,
) {
    let server = Server::start(
        vec![(project.clone(), connection.clone())],
        Vec::new(),
        latency,
    );
    let client = runtime
        .block_on(Client::connect(server.client_config(1)))
        .unwrap_or_else(|e| panic!("client connects: {e}"));
    let start = Instant::now();
    let (_, requests) = server.counting(|| {
        for _ in 0..ROUND_TRIPS {
            runtime
                .block_on(client.get_connection(project, &connection.name))
                .unwrap_or_else(|e| panic!("GET failed: {e}"))
                .expect("the seeded connection exists");
        }
    });
    let time = start.elapsed();
    let (label, bound) = match latency {
        Some(latency) => (
            format!("latency {} ms", latency.as_millis()),
            Bound::Floor(latency * ROUND_TRIPS),
        ),
        None => (
            "no latency".to_string(),
            Bound::Ceiling(ROUND_TRIP_BUDGET * ROUND_TRIPS),
        ),
    };
    print_row(&Row {
        figure: format!("round trip: {ROUND_TRIPS} GETs one by one, {label}"),
        measured: time,
        bound,
        detail: format!(
            "{:.2} ms per request, {requests} requests",
            time.as_secs_f64() * 1000.0 / f64::from(ROUND_TRIPS)
        ),
    });
}

/// One row per parallelism: the median of `once` (its wall time and request count)
/// against latency x requests / parallelism, and the speedup over the first row.
fn compare_parallelism(
    command: &str,
    parallelisms: &[(usize, usize)],
    mut once: impl FnMut(usize) -> (Duration, u64),
) {
    let mut first_row: Option<(usize, Duration)> = None;
    for &(parallelism, runs) in parallelisms {
        let (time, requests) = median_timed(runs, || once(parallelism));
        let floor = LATENCY * u32::try_from(requests).expect("few requests") / parallelism as u32;
        let speedup = match first_row {
            None => "baseline".to_string(),
            Some((first, first_time)) => format!(
                "speedup {:.1}x over parallelism {first}",
                first_time.as_secs_f64() / time.as_secs_f64()
            ),
        };
        first_row.get_or_insert((parallelism, time));
        print_row(&Row {
            figure: format!("{command} --parallelism {parallelism}"),
            measured: time,
            bound: Bound::Floor(floor),
            detail: format!("{requests} requests, {speedup}, median of {runs}"),
        });
    }
}

/// One `plan` as the CLI computes it: load, resolve, connect, read, diff.
fn plan_once(
    server: &Server,
    runtime: &Runtime,
    workload: &Workload,
    parallelism: usize,
) -> Computed {
    let request = PlanRequest {
        load: workload.load_options(),
        selection: Selection::default(),
        client: server.client_config(parallelism),
        env: &workload.env,
        max_deletes: None,
        unset_secrets: plan::UnsetSecrets::Refuse,
    };
    runtime
        .block_on(plan::compute(request))
        .unwrap_or_else(|e| panic!("plan failed: {e}"))
}

fn assert_in_sync(plan: &Plan) {
    assert!(
        !plan.has_changes(),
        "the seeded sandbox should match the files: {} changes",
        plan.changes.len()
    );
}
