//! TLS failures are one clear line, never retried (issue 8, item 6), and `--ca-cert`
//! with the server's own `openssl req -x509`-style certificate (CA:TRUE) is trusted for
//! that server. Certificates are made here with rcgen; the server is a loopback TLS
//! listener (tokio-rustls) that answers one HTTP/1.1 request per connection.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apinizer_gitops::api::{ApiError, Auth, Client, ClientConfig, DEFAULT_MAX_RESPONSE_BYTES};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A certificate and its key.
struct Made {
    pem: String,
    der: CertificateDer<'static>,
    key: KeyPair,
    params: CertificateParams,
}

fn params(names: &[&str], ca: bool) -> CertificateParams {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    params
}

/// Self-signed, like `openssl req -x509` (CA:TRUE when `ca`).
fn self_signed(params: CertificateParams) -> Made {
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Made {
        pem: cert.pem(),
        der: cert.der().clone(),
        key,
        params,
    }
}

fn signed_by(params: CertificateParams, issuer: &Made) -> Made {
    let key = KeyPair::generate().unwrap();
    let authority = Issuer::from_params(&issuer.params, &issuer.key);
    let cert = params.signed_by(&key, &authority).unwrap();
    Made {
        pem: cert.pem(),
        der: cert.der().clone(),
        key,
        params,
    }
}

/// A TLS server presenting `chain`; counts the connections it accepted.
struct TlsServer {
    url: String,
    connections: Arc<AtomicUsize>,
}

async fn serve(chain: &[&Made]) -> TlsServer {
    let certs: Vec<CertificateDer<'static>> = chain.iter().map(|m| m.der.clone()).collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain[0].key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"status":"SUCCESS","resultList":[{"name":"Payments"}]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    TlsServer {
        url: format!("https://127.0.0.1:{port}"),
        connections,
    }
}

fn write_pem(dir: &Path, name: &str, made: &Made) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, &made.pem).unwrap();
    path
}

async fn projects(server: &TlsServer, ca_cert: Option<&Path>) -> Result<Vec<String>, ApiError> {
    let config = ClientConfig {
        server: server.url.clone(),
        auth: Auth::Token(SecretString::from("canary-tls-token")),
        parallelism: 1,
        timeout: Duration::from_secs(10),
        retries: 4,
        ca_cert: ca_cert.map(Path::to_path_buf),
        insecure_skip_tls_verify: false,
        allow_insecure_http: false,
        max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
    };
    let backoff = apinizer_gitops::api::Backoff {
        base: Duration::from_millis(200),
    };
    Client::connect_with(config, backoff)
        .await?
        .list_projects()
        .await
}

/// The error is one line of the `tls` kind, says `expected` and names the fixes, and
/// was not retried (one connection only).
async fn assert_refused(server: &TlsServer, ca_cert: Option<&Path>, expected: &str) {
    let error = projects(server, ca_cert).await.unwrap_err();
    let message = error.to_string();
    assert_eq!(error.error, "tls", "{message}");
    assert!(message.contains(expected), "{message}");
    assert!(message.contains("--insecure-skip-tls-verify"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    assert!(!error.is_retryable());
    assert_eq!(server.connections.load(Ordering::SeqCst), 1, "retried");
}

#[tokio::test]
async fn the_servers_own_ca_true_certificate_in_ca_cert_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let own = self_signed(params(&["127.0.0.1", "localhost"], true));
    let server = serve(&[&own]).await;
    let file = write_pem(dir.path(), "own.pem", &own);
    assert_eq!(projects(&server, Some(&file)).await.unwrap(), ["Payments"]);

    // Without it: named as what it is, with the fix.
    let server = serve(&[&own]).await;
    assert_refused(
        &server,
        None,
        "presents a CA certificate (CA:TRUE) as its own certificate: pass --ca-cert FILE",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_issuer_is_named_with_the_fix() {
    let ca = self_signed(params(&[], true));
    let leaf = signed_by(params(&["127.0.0.1"], false), &ca);
    let server = serve(&[&leaf, &ca]).await;
    assert_refused(&server, None, "is issued by an unknown CA").await;
    let message = projects(&server, None).await.unwrap_err().to_string();
    assert!(message.contains("pass --ca-cert FILE"), "{message}");
}

#[tokio::test]
async fn a_certificate_issued_by_the_ca_cert_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let ca = self_signed(params(&[], true));
    let leaf = signed_by(params(&["127.0.0.1"], false), &ca);
    let server = serve(&[&leaf, &ca]).await;
    let file = write_pem(dir.path(), "ca.pem", &ca);
    assert_eq!(projects(&server, Some(&file)).await.unwrap(), ["Payments"]);
}

#[tokio::test]
async fn a_name_mismatch_is_named_even_for_the_pinned_own_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = self_signed(params(&[], true));
    let leaf = signed_by(params(&["apinizer.example.com"], false), &ca);
    let server = serve(&[&leaf, &ca]).await;
    let file = write_pem(dir.path(), "ca.pem", &ca);
    assert_refused(&server, Some(&file), "is not issued for the name 127.0.0.1").await;

    let own = self_signed(params(&["apinizer.example.com"], true));
    let server = serve(&[&own]).await;
    let file = write_pem(dir.path(), "own.pem", &own);
    assert_refused(&server, Some(&file), "is not issued for the name 127.0.0.1").await;
}

#[tokio::test]
async fn an_expired_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ca = self_signed(params(&[], true));
    let mut old = params(&["127.0.0.1"], false);
    old.not_before = rcgen::date_time_ymd(2020, 1, 1);
    old.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let leaf = signed_by(old, &ca);
    let server = serve(&[&leaf, &ca]).await;
    let file = write_pem(dir.path(), "ca.pem", &ca);
    assert_refused(&server, Some(&file), "has expired").await;
}

#[tokio::test]
async fn a_ca_certificate_presented_as_the_servers_own_is_named_when_not_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let root = self_signed(params(&[], true));
    let intermediate = signed_by(params(&["127.0.0.1"], true), &root);
    let server = serve(&[&intermediate, &root]).await;
    let file = write_pem(dir.path(), "root.pem", &root);
    assert_refused(
        &server,
        Some(&file),
        "presents a CA certificate (CA:TRUE) as its own certificate: pass --ca-cert FILE with exactly that certificate",
    )
    .await;
}

#[tokio::test]
async fn a_ca_cert_file_without_a_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.pem");
    std::fs::write(&file, "not a certificate\n").unwrap();
    let server = serve(&[&self_signed(params(&["127.0.0.1"], true))]).await;
    let message = projects(&server, Some(&file))
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("holds no PEM certificate"), "{message}");
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_one_line_and_does_not_retry() {
    let ca = self_signed(params(&[], true));
    let leaf = signed_by(params(&["127.0.0.1"], false), &ca);
    let server = serve(&[&leaf, &ca]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "project: Payments\nconnections:\n  - type: email\n    name: m\n    host: h\n    port: 25\n",
    )
    .unwrap();
    let url = server.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("apinizer-gitops")
            .unwrap()
            .env_remove("RUST_LOG")
            .env_remove("APINIZER_TOKEN_FILE")
            .env("APINIZER_TOKEN", "canary-tls-token")
            .args(["plan", "--server", &url, "-f"])
            .arg(dir.path())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("tls: the certificate of 127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("is issued by an unknown CA"), "{stderr}");
    // The plan reads 14 type lists in parallel; none is retried.
    assert!(server.connections.load(Ordering::SeqCst) <= 14, "retried");
}
