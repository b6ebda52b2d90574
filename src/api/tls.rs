//! TLS trust and TLS failures. `--ca-cert` certificates are added to the system roots;
//! a certificate in that file that the server presents as its own is trusted for that
//! server even when it is marked as a CA (`openssl req -x509` makes such certificates),
//! as curl `--cacert` does. A certificate failure becomes one line naming the cause
//! and the fix.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// A rustls configuration trusting the system roots, `extra` as roots, and `extra`'s
/// self-signed certificates when a server presents one of them as its own.
pub(super) fn trusting(
    extra: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let platform =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra.clone(), provider.clone())
            .map_err(|e| format!("cannot load the system's root certificates: {e}"))?;
    let verifier = PinnedOrPlatform {
        platform,
        pinned: extra,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, plus: a server certificate refused only because it is a CA
/// certificate is accepted when it is exactly one of the `--ca-cert` certificates and
/// names the server.
#[derive(Debug)]
struct PinnedOrPlatform {
    platform: rustls_platform_verifier::Verifier,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for PinnedOrPlatform {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.platform.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verdict {
            Err(error)
                if is_ca_used_as_end_entity(&error)
                    && self.pinned.iter().any(|c| c == end_entity) =>
            {
                // webpki checks the validity period before the CA flag, so this
                // certificate is current; its name is all that is left to check.
                names_server(end_entity, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.platform.supported_verify_schemes()
    }
}

/// Checks that a certificate is issued for the server's name.
fn names_server(
    cert: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
) -> Result<(), rustls::Error> {
    let parsed = webpki::EndEntityCert::try_from(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    parsed
        .verify_is_valid_for_subject_name(server_name)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
}

fn is_ca_used_as_end_entity(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
            if matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
    )
}

/// The rustls error behind a transport failure, if TLS is what failed.
pub(super) fn cause<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(cause) = current {
        if let Some(tls) = unwrapped(cause) {
            return Some(tls);
        }
        current = cause.source();
    }
    None
}

/// `error` as a rustls error, looking inside the wrappers whose `source()` skips what
/// they wrap (an `io::Error`, a boxed error).
fn unwrapped<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    unwrapped(inner)
}

/// How to get past a refused certificate, for every cause.
const TRUST_FIX: &str = "pass --ca-cert FILE with the CA that issued it (or the server's own self-signed certificate), or --insecure-skip-tls-verify for a trial only";

/// One line naming what is wrong with the server's certificate (or the handshake) and
/// the fix.
pub(super) fn describe(error: &rustls::Error, host: &str) -> String {
    let rustls::Error::InvalidCertificate(certificate) = error else {
        return format!(
            "TLS handshake with {host} failed: {error}; check that --server names the Manager's https:// port, or pass --insecure-skip-tls-verify for a trial only"
        );
    };
    match certificate {
        CertificateError::UnknownIssuer => format!(
            "the certificate of {host} is issued by an unknown CA (not in the system roots nor --ca-cert): {TRUST_FIX}"
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!(
                "the certificate of {host} is not issued for the name {host}: use the host name the certificate names in --server, or pass --insecure-skip-tls-verify for a trial only"
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
            "the certificate of {host} has expired: renew it on the server, or pass --insecure-skip-tls-verify for a trial only"
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
            "the certificate of {host} is not valid yet (check the clocks): or pass --insecure-skip-tls-verify for a trial only"
        ),
        _ if is_ca_used_as_end_entity(error) => format!(
            "{host} presents a CA certificate (CA:TRUE) as its own certificate: pass --ca-cert FILE with exactly that certificate to trust it for this server, or --insecure-skip-tls-verify for a trial only"
        ),
        other => format!("the certificate of {host} is refused ({other:?}): {TRUST_FIX}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_names_the_flags() {
        let causes = [
            CertificateError::UnknownIssuer,
            CertificateError::NotValidForName,
            CertificateError::Expired,
            CertificateError::NotValidYet,
            CertificateError::Other(rustls::OtherError(Arc::new(
                webpki::Error::CaUsedAsEndEntity,
            ))),
            CertificateError::BadSignature,
        ];
        for cause in causes {
            let text = describe(&rustls::Error::InvalidCertificate(cause), "h.example");
            assert!(text.contains("--insecure-skip-tls-verify"), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
        let ca = describe(
            &rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(webpki::Error::CaUsedAsEndEntity),
            ))),
            "h",
        );
        assert!(
            ca.contains("CA:TRUE") && ca.contains("--ca-cert FILE"),
            "{ca}"
        );
    }

    #[test]
    fn the_cause_is_found_inside_io_errors() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        assert!(matches!(
            cause(&io),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ));
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(io);
        let outer = std::io::Error::other(boxed);
        assert!(cause(&outer).is_some());
        let plain = std::io::Error::other("connection reset");
        assert!(cause(&plain).is_none());
    }
}
