//! Injected failures: a seeded random share of requests (`--fail-rate`) and faults a
//! test queues explicitly. Some faults strike after a write was applied, so a client
//! sees an error for a write that happened.

use std::collections::VecDeque;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 `internal_error`.
    ServerError,
    /// 503 `service_unavailable`.
    Unavailable,
    /// 429 `rate_limit_exceeded` with `Retry-After` and `retry_after` (seconds).
    TooManyRequests {
        /// Seconds the client is told to wait.
        retry_after: u64,
    },
    /// The connection is closed without a complete answer.
    Drop,
}

/// A fault and when it strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injected {
    /// The fault.
    pub fault: Fault,
    /// Strike after the request was handled (a write is then applied).
    pub after_handling: bool,
}

/// The fault source of one sandbox.
#[derive(Debug)]
pub struct Faults {
    rate: f64,
    retry_after: u64,
    rng: Mutex<StdRng>,
    queued: Mutex<VecDeque<Injected>>,
}

impl Faults {
    /// A source failing `rate` of the requests, reproducibly when `seed` is given.
    pub fn new(rate: f64, retry_after: u64, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Faults {
            rate: rate.clamp(0.0, 1.0),
            retry_after,
            rng: Mutex::new(rng),
            queued: Mutex::new(VecDeque::new()),
        }
    }

    /// Queues a fault for the next request.
    pub fn push(&self, injected: Injected) {
        self.queued.lock().expect("faults lock").push_back(injected);
    }

    /// The fault for the next request, if any: a queued one first, else a random draw.
    /// Only writes can fail after handling; a 429 always comes first.
    pub fn draw(&self, is_write: bool) -> Option<Injected> {
        if let Some(queued) = self.queued.lock().expect("faults lock").pop_front() {
            return Some(queued);
        }
        let mut rng = self.rng.lock().expect("faults lock");
        if self.rate <= 0.0 || !rng.random_bool(self.rate) {
            return None;
        }
        let fault = match rng.random_range(0..4) {
            0 => Fault::ServerError,
            1 => Fault::Unavailable,
            2 => Fault::TooManyRequests {
                retry_after: self.retry_after,
            },
            _ => Fault::Drop,
        };
        let rate_limit = matches!(fault, Fault::TooManyRequests { .. });
        let after_handling = is_write && !rate_limit && rng.random_bool(0.5);
        Some(Injected {
            fault,
            after_handling,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_draws_are_reproducible() {
        let draws = |seed| {
            let f = Faults::new(0.5, 0, Some(seed));
            (0..50).map(|_| f.draw(true)).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert!(draws(7).iter().any(Option::is_some));
        assert!(draws(7).iter().any(Option::is_none));
    }

    #[test]
    fn queued_faults_come_first_and_reads_never_fail_late() {
        let f = Faults::new(1.0, 1, Some(1));
        let queued = Injected {
            fault: Fault::Drop,
            after_handling: true,
        };
        f.push(queued);
        assert_eq!(f.draw(false), Some(queued));
        for _ in 0..20 {
            assert!(!f.draw(false).unwrap().after_handling);
        }
    }
}
