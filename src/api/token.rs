//! The run's bearer token: a static one (`APINIZER_TOKEN`, `--token-file`), never
//! renewed, or one issued by `POST /apiops/auth/token`, renewed shortly before it
//! expires or when the server refuses it. One renewal serves every waiting request: the
//! issued token sits behind a tokio mutex held across the token call.

use std::time::{Duration, Instant};

use secrecy::SecretString;

/// Renew no later than this before expiry...
const MAX_MARGIN: Duration = Duration::from_secs(30);
/// ...or when less than this share (1/N) of the lifetime is left, whichever comes last,
/// so that short-lived tokens are not renewed on every request.
const LIFETIME_SHARE: u32 = 10;

/// `error` codes of a 401 that means "this token is no good" (the connection pages'
/// `unauthorized_client` "Invalid token", the error-handling page's `invalid_token` and
/// `token_expired`).
const REFUSAL_CODES: [&str; 3] = ["unauthorized_client", "invalid_token", "token_expired"];

/// Where the bearer token comes from.
pub(super) enum TokenSource {
    /// Given by the user; a refusal is final.
    Static(SecretString),
    /// Issued for these credentials; renewed as needed.
    Issued(Issuer),
}

/// Credentials and the token they were last given.
pub(super) struct Issuer {
    pub username: String,
    pub password: SecretString,
    pub current: tokio::sync::Mutex<Issued>,
}

/// The last issued token (none before the first login).
pub(super) struct Issued {
    token: Option<SecretString>,
    generation: u64,
    renew_at: Option<Instant>,
}

/// A token lent to one attempt, with the generation to name if the server refuses it.
#[derive(Clone)]
pub(super) struct Bearer {
    /// The token value.
    pub token: SecretString,
    /// Which issued token this is (0 for a static token).
    pub generation: u64,
}

impl TokenSource {
    /// A source for credentials that has not logged in yet.
    pub fn issued(username: String, password: SecretString) -> Self {
        TokenSource::Issued(Issuer {
            username,
            password,
            current: tokio::sync::Mutex::new(Issued {
                token: None,
                generation: 0,
                renew_at: None,
            }),
        })
    }
}

impl Issued {
    /// Whether the token must be renewed before use: none yet, or near its expiry.
    pub fn is_due(&self, now: Instant) -> bool {
        self.token.is_none() || self.renew_at.is_some_and(|at| now >= at)
    }

    /// Whether `generation` is still the current token (so a refusal of it calls for
    /// a renewal; otherwise another request renewed it already).
    pub fn is_current(&self, generation: u64) -> bool {
        self.generation == generation
    }

    /// Replaces the token with one issued at `issued_at` for `expires_in` seconds
    /// (no advertised lifetime: renewed only when refused).
    pub fn replace(&mut self, token: SecretString, issued_at: Instant, expires_in: Option<u64>) {
        self.token = Some(token);
        self.generation += 1;
        self.renew_at = expires_in.map(|seconds| renewal_instant(issued_at, seconds));
    }

    /// The current token; `None` before the first login.
    pub fn bearer(&self) -> Option<Bearer> {
        self.token.as_ref().map(|token| Bearer {
            token: token.clone(),
            generation: self.generation,
        })
    }
}

/// When to renew a token issued at `issued_at` for `expires_in` seconds.
fn renewal_instant(issued_at: Instant, expires_in: u64) -> Instant {
    let lifetime = Duration::from_secs(expires_in);
    let margin = MAX_MARGIN.min(lifetime / LIFETIME_SHARE);
    issued_at + lifetime - margin
}

/// Whether a 401 answer's `error` code says the token was refused (a body without a
/// code counts too: the status alone says so).
pub(super) fn is_refusal(status: u16, error_code: Option<&str>) -> bool {
    status == 401 && error_code.is_none_or(|code| REFUSAL_CODES.contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_leaves_thirty_seconds_or_a_tenth_of_the_lifetime() {
        let t0 = Instant::now();
        assert_eq!(renewal_instant(t0, 3600), t0 + Duration::from_secs(3570));
        assert_eq!(renewal_instant(t0, 60), t0 + Duration::from_secs(54));
        assert_eq!(renewal_instant(t0, 1), t0 + Duration::from_millis(900));
    }

    #[test]
    fn an_issued_token_is_due_first_and_near_expiry() {
        let t0 = Instant::now();
        let mut issued = Issued {
            token: None,
            generation: 0,
            renew_at: None,
        };
        assert!(issued.is_due(t0));
        assert!(issued.bearer().is_none());
        issued.replace(SecretString::from("a"), t0, Some(100));
        assert!(!issued.is_due(t0 + Duration::from_secs(89)));
        assert!(issued.is_due(t0 + Duration::from_secs(90)));
        assert!(issued.is_current(1) && !issued.is_current(0));
        issued.replace(SecretString::from("b"), t0, None);
        assert!(!issued.is_due(t0 + Duration::from_secs(1_000_000)));
        assert_eq!(issued.bearer().unwrap().generation, 2);
    }

    #[test]
    fn refusals_are_the_documented_401_codes() {
        for code in ["unauthorized_client", "invalid_token", "token_expired"] {
            assert!(is_refusal(401, Some(code)), "{code}");
        }
        assert!(is_refusal(401, None));
        assert!(!is_refusal(401, Some("forbidden")));
        assert!(!is_refusal(403, Some("invalid_token")));
    }
}
