//! The sandbox the commands talk to, on a tokio runtime of its own (as a separate
//! server process would be), and the round trip every network bound is made of.

use std::time::{Duration, Instant};

use apinizer_gitops::api::{Auth, Client, ClientConfig};
use apinizer_gitops::model::Connection;
use apinizer_gitops::sandbox::{RunningSandbox, SandboxConfig, start};
use secrecy::SecretString;
use tokio::runtime::Runtime;

use crate::process::{Invocation, Run};
use crate::table::{Bound, Quantity, Row, print_row};

/// The bearer token of every bench sandbox (not a secret: loopback only).
const TOKEN: &str = "bench-token";

/// Sequential requests of a round-trip figure.
const ROUND_TRIPS: u32 = 100;

/// Budget of one request on loopback without latency.
const ROUND_TRIP_BUDGET: Duration = Duration::from_millis(1);

/// A running sandbox.
pub struct Server {
    sandbox: RunningSandbox,
    _runtime: Runtime,
}

impl Server {
    /// A sandbox holding `seed`, with the empty `projects`, answering after `latency`.
    pub fn start(
        seed: Vec<(String, Connection)>,
        projects: Vec<String>,
        latency: Duration,
    ) -> Server {
        let runtime = Runtime::new().expect("sandbox runtime");
        let config = SandboxConfig {
            listen: "127.0.0.1:0".into(),
            token: Some(TOKEN.into()),
            projects,
            seed,
            latency: Some(latency),
            ..SandboxConfig::default()
        };
        let sandbox = runtime.block_on(start(config)).expect("sandbox starts");
        Server {
            sandbox,
            _runtime: runtime,
        }
    }

    /// Runs `invocation` against this sandbox at `parallelism`, counting the requests
    /// it made.
    pub fn run(&self, invocation: Invocation, parallelism: usize) -> Run {
        let invocation = invocation.server(&self.sandbox.url, TOKEN, parallelism);
        let before = self.sandbox.request_counts();
        let exited = invocation.run();
        let requests = self.sandbox.request_counts().since(&before);
        Run { exited, requests }
    }

    /// What a client built from `--server`, `APINIZER_TOKEN` and `--parallelism 1` gets.
    fn client_config(&self) -> ClientConfig {
        ClientConfig {
            server: self.sandbox.url.clone(),
            auth: Auth::Token(SecretString::from(TOKEN)),
            parallelism: 1,
            timeout: Duration::from_secs(30),
            retries: 0,
            ca_cert: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
            max_response_bytes: apinizer_gitops::api::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// Single GETs one after the other from a sandbox holding one connection at `latency`:
/// what one request costs (the latency, HTTP on loopback, encoding and parsing at both
/// ends, the sandbox timer's resolution). Prints its row; returns the mean.
pub fn round_trip((project, connection): (String, Connection), latency: Duration) -> Duration {
    let name = connection.name.clone();
    let server = Server::start(vec![(project.clone(), connection)], Vec::new(), latency);
    let runtime = Runtime::new().expect("client runtime");
    let client = runtime
        .block_on(Client::connect(server.client_config()))
        .unwrap_or_else(|e| panic!("client connects: {e}"));
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        runtime
            .block_on(client.get_connection(&project, &name))
            .unwrap_or_else(|e| panic!("GET failed: {e}"))
            .expect("the seeded connection exists");
    }
    let time = start.elapsed();
    let mean = time / ROUND_TRIPS;
    let bound = if latency.is_zero() {
        Bound::Ceiling(Quantity::Time(ROUND_TRIP_BUDGET * ROUND_TRIPS))
    } else {
        Bound::Floor(Quantity::Time(latency * ROUND_TRIPS))
    };
    print_row(&Row {
        figure: format!("round trip: {ROUND_TRIPS} GETs one by one, {}", ms(latency)),
        measured: Quantity::Time(time),
        bound,
        peak_rss: None,
        detail: format!("{:.2} ms per request", mean.as_secs_f64() * 1000.0),
    });
    mean
}

/// A latency as rows name it: `20 ms`.
pub fn ms(latency: Duration) -> String {
    format!("{} ms", latency.as_millis())
}
