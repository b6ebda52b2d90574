//! Tokens issued by the sandbox's token endpoint. Without a TTL the endpoint hands out
//! the sandbox's one token (the default, as before); with a TTL every call issues a new
//! random token that expires after it, so that clients can be tested for renewal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::store::Failure;

/// The token endpoint's book of issued tokens.
#[derive(Debug)]
pub(crate) struct IssuedTokens {
    ttl: Option<Duration>,
    /// Issued token -> the instant it stops being accepted.
    expiries: Mutex<HashMap<String, Instant>>,
    issued: AtomicU64,
    /// Refuse every bearer token, even a just-issued one (a broken server or a user
    /// barred from the API), while the endpoint keeps issuing.
    refuse_all: AtomicBool,
}

/// A token handed out: its value and its advertised lifetime in seconds.
pub(crate) struct Grant {
    pub token: String,
    pub expires_in: u64,
}

/// Lifetime advertised when no TTL is configured (the documented example).
const DEFAULT_EXPIRES_IN: u64 = 3600;

impl IssuedTokens {
    pub fn new(ttl: Option<Duration>) -> Self {
        IssuedTokens {
            ttl,
            expiries: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
            refuse_all: AtomicBool::new(false),
        }
    }

    /// A token for a successful login: `static_token` without a TTL, a fresh one with.
    pub fn issue(&self, static_token: &str) -> Grant {
        self.issued.fetch_add(1, Ordering::Relaxed);
        let Some(ttl) = self.ttl else {
            return Grant {
                token: static_token.to_string(),
                expires_in: DEFAULT_EXPIRES_IN,
            };
        };
        let token = super::random_token();
        self.lock().insert(token.clone(), Instant::now() + ttl);
        Grant {
            token,
            // The wire carries whole seconds; never advertise more than the real TTL.
            expires_in: ttl.as_secs(),
        }
    }

    /// Turns refusing every bearer token on or off.
    pub fn set_refuse_all(&self, refuse: bool) {
        self.refuse_all.store(refuse, Ordering::Relaxed);
    }

    /// Whether every bearer token is refused.
    pub fn refuses_all(&self) -> bool {
        self.refuse_all.load(Ordering::Relaxed)
    }

    /// Accepts a live issued token; 401 `token_expired` for an expired one and the
    /// connection pages' 401 `unauthorized_client` "Invalid token" for anything else.
    pub fn check(&self, presented: &str) -> Result<(), Failure> {
        match self.lock().get(presented) {
            Some(expiry) if Instant::now() < *expiry => Ok(()),
            Some(_) => Err(Failure {
                status: 401,
                error: "token_expired",
                description: "The access token has expired".to_string(),
                validation: Vec::new(),
            }),
            None => Err(invalid_token()),
        }
    }

    /// Forgets every issued token, as a server restart or a revocation would.
    pub fn revoke_all(&self) {
        self.lock().clear();
    }

    /// Successful calls of the token endpoint so far.
    pub fn issued_count(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.expiries.lock().expect("sandbox token lock")
    }
}

/// The documented 401 of the connection endpoints.
pub(crate) fn invalid_token() -> Failure {
    Failure {
        status: 401,
        error: "unauthorized_client",
        description: "Invalid token".to_string(),
        validation: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_ttl_the_static_token_is_handed_out() {
        let tokens = IssuedTokens::new(None);
        let grant = tokens.issue("static");
        assert_eq!((grant.token.as_str(), grant.expires_in), ("static", 3600));
        assert_eq!(tokens.issued_count(), 1);
    }

    #[test]
    fn issued_tokens_expire_and_can_be_revoked() {
        let tokens = IssuedTokens::new(Some(Duration::from_millis(30)));
        let grant = tokens.issue("static");
        assert_ne!(grant.token, "static");
        assert!(tokens.check(&grant.token).is_ok());
        assert_eq!(
            tokens.check("other").unwrap_err().error,
            "unauthorized_client"
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(
            tokens.check(&grant.token).unwrap_err().error,
            "token_expired"
        );
        let live = tokens.issue("static");
        tokens.revoke_all();
        assert_eq!(
            tokens.check(&live.token).unwrap_err().error,
            "unauthorized_client"
        );
    }
}
