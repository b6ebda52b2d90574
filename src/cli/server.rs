//! `ServerArgs` -> `api::ClientConfig`: where the server URL and the credentials come
//! from (`--token-file` / `APINIZER_TOKEN_FILE`, `APINIZER_TOKEN`,
//! `APINIZER_USERNAME` + `APINIZER_PASSWORD`, in that order).

use anyhow::{Context, anyhow, bail};
use secrecy::SecretString;

use super::ServerArgs;
use crate::api::{Auth, Client, ClientConfig};
use crate::refs::{Env, ProcessEnv};

/// The hint every "no credentials" error ends with.
const AUTH_HINT: &str = "set APINIZER_TOKEN, pass --token-file PATH (or APINIZER_TOKEN_FILE), or set APINIZER_USERNAME and APINIZER_PASSWORD";

/// Builds the client configuration from flags and environment variables.
pub fn client_config(args: &ServerArgs, env: &dyn Env) -> anyhow::Result<ClientConfig> {
    let server = args
        .server
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| anyhow!("no server given: pass --server URL or set APINIZER_URL"))?;
    Ok(ClientConfig {
        server,
        auth: auth(args, env)?,
        parallelism: usize::from(args.parallelism),
        timeout: args.timeout,
        retries: args.retries,
        ca_cert: args.ca_cert.clone(),
        insecure_skip_tls_verify: args.insecure_skip_tls_verify,
        allow_insecure_http: args.allow_insecure_http,
        max_response_bytes: args.max_response_size,
    })
}

/// Connects with the process environment; the error is ready to print.
pub async fn connect(args: &ServerArgs) -> anyhow::Result<Client> {
    let config = client_config(args, &ProcessEnv)?;
    Ok(Client::connect(config).await?)
}

/// Parses `--max-response-size`: bytes, or a number with `KiB`, `MiB` or `GiB` (also
/// `K`, `M`, `G`; case-insensitive), e.g. `64MiB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        other => {
            return Err(format!(
                "unknown unit {other:?}: use bytes, KiB, MiB or GiB"
            ));
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 64MiB"))?;
    match number.checked_mul(1 << shift) {
        Some(0) | None => Err(format!(
            "{text:?} must be at least 1 byte and at most 16 EiB"
        )),
        Some(bytes) => Ok(bytes),
    }
}

fn non_empty(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name).filter(|v| !v.trim().is_empty())
}

fn auth(args: &ServerArgs, env: &dyn Env) -> anyhow::Result<Auth> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --token-file {}", path.display()))?;
        let token = text.trim();
        if token.is_empty() {
            bail!("--token-file {} is empty; {AUTH_HINT}", path.display());
        }
        return Ok(Auth::Token(SecretString::from(token.to_string())));
    }
    if let Some(token) = non_empty(env, "APINIZER_TOKEN") {
        return Ok(Auth::Token(SecretString::from(token.trim().to_string())));
    }
    match (
        non_empty(env, "APINIZER_USERNAME"),
        non_empty(env, "APINIZER_PASSWORD"),
    ) {
        (Some(username), Some(password)) => Ok(Auth::Credentials {
            username,
            password: SecretString::from(password),
        }),
        (Some(_), None) => bail!("APINIZER_USERNAME is set but APINIZER_PASSWORD is not"),
        (None, Some(_)) => bail!("APINIZER_PASSWORD is set but APINIZER_USERNAME is not"),
        (None, None) => bail!("no credentials: {AUTH_HINT}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;
    use std::time::Duration;

    use secrecy::ExposeSecret;

    use super::*;
    use crate::refs::MapEnv;

    fn args() -> ServerArgs {
        ServerArgs {
            server: Some("https://apinizer.example.com".into()),
            token_file: None,
            parallelism: 3,
            timeout: Duration::from_secs(5),
            retries: 2,
            ca_cert: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
            max_response_size: crate::api::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    fn env(vars: &[(&str, &str)]) -> MapEnv {
        MapEnv(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn token_from_env() {
        let config = client_config(&args(), &env(&[("APINIZER_TOKEN", "canary-tok")])).unwrap();
        let Auth::Token(token) = &config.auth else {
            panic!("expected a token");
        };
        assert_eq!(token.expose_secret(), "canary-tok");
        assert_eq!(config.parallelism, 3);
        assert!(!format!("{config:?}").contains("canary-tok"));
    }

    #[test]
    fn token_file_wins_and_is_trimmed() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "  file-token  ").unwrap();
        let mut a = args();
        a.token_file = Some(file.path().to_path_buf());
        let config = client_config(&a, &env(&[("APINIZER_TOKEN", "env-token")])).unwrap();
        let Auth::Token(token) = &config.auth else {
            panic!("expected a token");
        };
        assert_eq!(token.expose_secret(), "file-token");
    }

    #[test]
    fn credentials_need_both_variables() {
        let both = env(&[
            ("APINIZER_USERNAME", "u"),
            ("APINIZER_PASSWORD", "canary-pw"),
        ]);
        let config = client_config(&args(), &both).unwrap();
        assert!(matches!(config.auth, Auth::Credentials { .. }));
        assert!(!format!("{config:?}").contains("canary-pw"));
        let half = env(&[("APINIZER_USERNAME", "u")]);
        let err = client_config(&args(), &half).unwrap_err().to_string();
        assert!(err.contains("APINIZER_PASSWORD is not"), "{err}");
    }

    #[test]
    fn missing_server_or_credentials_are_clear_errors() {
        let err = client_config(&args(), &env(&[])).unwrap_err().to_string();
        assert!(
            err.starts_with("no credentials: set APINIZER_TOKEN"),
            "{err}"
        );
        let mut a = args();
        a.server = None;
        let err = client_config(&a, &env(&[("APINIZER_TOKEN", "t")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--server"), "{err}");
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512 k"), Ok(512 << 10));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        for bad in ["", "0", "1TB", "MiB", "-1", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_token_file_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut a = args();
        a.token_file = Some(file.path().to_path_buf());
        let err = client_config(&a, &env(&[])).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
    }
}
