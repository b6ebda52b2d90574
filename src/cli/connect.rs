//! What every server command shares: the client configuration from flags and the
//! environment, and the runtime the async commands run on.

use std::future::Future;

use secrecy::SecretString;

use super::ServerArgs;
use crate::api::{Auth, ClientConfig};
use crate::refs::Env;

/// The client configuration: server from `--server`/`APINIZER_URL`, token from
/// `APINIZER_TOKEN`, `--token-file`/`APINIZER_TOKEN_FILE`, or
/// `APINIZER_USERNAME`/`APINIZER_PASSWORD`. The error says what to set.
pub fn client_config(args: &ServerArgs, env: &dyn Env) -> Result<ClientConfig, String> {
    let server = args
        .server
        .clone()
        .ok_or("no server: pass --server URL or set APINIZER_URL")?;
    Ok(ClientConfig {
        server,
        auth: auth(args, env)?,
        parallelism: usize::from(args.parallelism),
        timeout: args.timeout,
        retries: args.retries,
        ca_cert: args.ca_cert.clone(),
        insecure_skip_tls_verify: args.insecure_skip_tls_verify,
        allow_insecure_http: args.allow_insecure_http,
    })
}

fn auth(args: &ServerArgs, env: &dyn Env) -> Result<Auth, String> {
    if let Some(token) = env.var("APINIZER_TOKEN").filter(|t| !t.is_empty()) {
        return Ok(Auth::Token(SecretString::from(token)));
    }
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
        return Ok(Auth::Token(SecretString::from(text.trim().to_string())));
    }
    match (env.var("APINIZER_USERNAME"), env.var("APINIZER_PASSWORD")) {
        (Some(username), Some(password)) => Ok(Auth::Credentials {
            username,
            password: SecretString::from(password),
        }),
        _ => Err(
            "no API token: set APINIZER_TOKEN, pass --token-file PATH, or set \
                  APINIZER_USERNAME and APINIZER_PASSWORD"
                .into(),
        ),
    }
}

/// Runs an async command to completion on a fresh runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(future)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::MapEnv;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        server: ServerArgs,
    }

    fn flags(args: &[&str]) -> ServerArgs {
        Flags::parse_from(std::iter::once("x").chain(args.iter().copied())).server
    }

    #[test]
    fn a_missing_server_or_token_says_what_to_set() {
        let env = MapEnv::default();
        let err = client_config(&flags(&[]), &env).unwrap_err();
        assert!(err.contains("--server"), "{err}");
        let err = client_config(&flags(&["--server", "http://127.0.0.1:1"]), &env).unwrap_err();
        assert!(err.contains("APINIZER_TOKEN"), "{err}");
    }

    #[test]
    fn the_token_comes_from_the_environment_or_a_file() {
        let env = MapEnv([("APINIZER_TOKEN".to_string(), "t".to_string())].into());
        let config = client_config(&flags(&["--server", "http://h"]), &env).unwrap();
        assert!(matches!(config.auth, Auth::Token(_)));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "tok\n").unwrap();
        let path = file.path().to_str().unwrap();
        let args = flags(&["--server", "http://h", "--token-file", path]);
        let config = client_config(&args, &MapEnv::default()).unwrap();
        assert!(matches!(config.auth, Auth::Token(_)));
        let missing = flags(&["--server", "http://h", "--token-file", "/nonexistent/t"]);
        assert!(client_config(&missing, &MapEnv::default()).is_err());
    }
}
