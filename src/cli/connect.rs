//! From the server flags and environment to a client configuration: the URL, and a token
//! (`--token-file`, `APINIZER_TOKEN`) or credentials (`APINIZER_USERNAME`,
//! `APINIZER_PASSWORD`).

use secrecy::SecretString;

use super::ServerArgs;
use crate::api::{Auth, ClientConfig};

/// The client configuration the flags and environment describe.
pub fn client_config(args: &ServerArgs) -> Result<ClientConfig, String> {
    let server = args
        .server
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or("no server given: use --server URL or set APINIZER_URL")?;
    Ok(ClientConfig {
        server,
        auth: auth(args)?,
        parallelism: usize::from(args.parallelism),
        timeout: args.timeout,
        retries: args.retries,
        ca_cert: args.ca_cert.clone(),
        insecure_skip_tls_verify: args.insecure_skip_tls_verify,
        allow_insecure_http: args.allow_insecure_http,
    })
}

/// The token file given explicitly wins, then `APINIZER_TOKEN`, then credentials.
fn auth(args: &ServerArgs) -> Result<Auth, String> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        return Ok(Auth::Token(SecretString::from(token.to_string())));
    }
    if let Some(token) = non_empty_var("APINIZER_TOKEN") {
        return Ok(Auth::Token(SecretString::from(token)));
    }
    match (non_empty_var("APINIZER_USERNAME"), non_empty_var("APINIZER_PASSWORD")) {
        (Some(username), Some(password)) => Ok(Auth::Credentials {
            username,
            password: SecretString::from(password),
        }),
        _ => Err("no credentials: set APINIZER_TOKEN, give --token-file, or set APINIZER_USERNAME and APINIZER_PASSWORD".to_string()),
    }
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
