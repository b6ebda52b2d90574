//! A sandbox on a free loopback port with a runtime of its own, so that a synchronous test
//! can drive the real binary against it. Included by the test-support modules.

use apinizer_gitops::sandbox::{self, RunningSandbox, SandboxConfig};

/// Starts the sandbox (listening on `127.0.0.1:0`) on a new two-thread runtime.
pub fn start_sandbox(config: SandboxConfig) -> (tokio::runtime::Runtime, RunningSandbox) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = SandboxConfig {
        listen: "127.0.0.1:0".into(),
        ..config
    };
    let sandbox = runtime
        .block_on(sandbox::start(config))
        .expect("sandbox starts");
    (runtime, sandbox)
}
