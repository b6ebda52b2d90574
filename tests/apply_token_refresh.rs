//! A pipeline that logs in with a username and password outlives its tokens: the
//! binary renews them and applies every change exactly once, without printing them.

mod apply_support;

use std::time::{Duration, Instant};

use apinizer_gitops::sandbox::SandboxConfig;
use apply_support::{Server, example_projects, examples_dir, text};

const CANARY_PASSWORD: &str = "canary-pipeline-pw-3c7";

#[test]
fn an_apply_longer_than_the_token_lifetime_renews_and_converges() {
    let server = Server::start(SandboxConfig {
        projects: example_projects(),
        credentials: Some(("deployer".into(), CANARY_PASSWORD.into())),
        token_ttl: Some(Duration::from_secs(1)),
        latency: Some(Duration::from_millis(40)),
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    let output = server
        .command_with_example_env()
        .env_remove("APINIZER_TOKEN")
        .env("APINIZER_USERNAME", "deployer")
        .env("APINIZER_PASSWORD", CANARY_PASSWORD)
        .args([
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "-vvv",
            "-f",
        ])
        .arg(examples_dir())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        started.elapsed() > Duration::from_millis(1500),
        "the run outlives its first token"
    );
    server.assert_holds_examples_once();
    assert_eq!(server.sandbox.duplicate_writes(), 0);
    let logins = server.sandbox.token_requests();
    let requests = server.sandbox.request_count();
    assert!(logins >= 2, "{logins} logins");
    assert!(
        logins * 5 < requests,
        "{logins} logins for {requests} requests"
    );
    for printed in [&stdout, &stderr] {
        assert!(!printed.contains(CANARY_PASSWORD) && !printed.contains("sbx_"));
    }
}
