//! Servers on a free loopback port with a runtime of their own, so that a synchronous test
//! can drive the real binary against them: the sandbox, or a test server's router.
//! Included by the test-support modules and the hostile-server tests.

#![allow(dead_code)] // each includer uses a different part

use apinizer_gitops::sandbox::{self, RunningSandbox, SandboxConfig};

/// A new two-thread runtime for a server.
fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts the sandbox (listening on `127.0.0.1:0`) on a new two-thread runtime.
pub fn start_sandbox(config: SandboxConfig) -> (tokio::runtime::Runtime, RunningSandbox) {
    let runtime = server_runtime();
    let config = SandboxConfig {
        listen: "127.0.0.1:0".into(),
        ..config
    };
    let sandbox = runtime
        .block_on(sandbox::start(config))
        .expect("sandbox starts");
    (runtime, sandbox)
}

/// Serves `app` on `127.0.0.1:0` from a new two-thread runtime; answers the runtime
/// (the server lives as long as it does) and the server's base URL.
pub fn serve_on_loopback(app: axum::Router) -> (tokio::runtime::Runtime, String) {
    let runtime = server_runtime();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, url)
}
