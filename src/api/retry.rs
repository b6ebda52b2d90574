//! Retry timing and the run's shared, adaptive concurrency limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The longest a server may make us wait for one retry (`Retry-After`).
const MAX_ADVERTISED_WAIT: Duration = Duration::from_secs(120);
/// The longest computed backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Successful responses needed to give back one slot after a 429 lowered the limit.
const SUCCESSES_PER_RESTORED_SLOT: u64 = 10;

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The wait before the first retry (doubled for each further one).
    pub base: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(250),
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1-based): `base * 2^(retry-1)`, capped,
    /// with "equal jitter" (between half and all of it) so clients spread out.
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let full = self.base.saturating_mul(1 << exponent).min(MAX_BACKOFF);
        let half = full / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

/// A server-advertised wait, capped so that a hostile value cannot hang the run.
pub fn advertised_wait(seconds: u64) -> Duration {
    Duration::from_secs(seconds).min(MAX_ADVERTISED_WAIT)
}

/// Counters of one run's requests, shared by every clone of the client.
#[derive(Debug, Default)]
pub struct RetryStats {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

impl RetryStats {
    /// Counts one attempt sent.
    pub fn record_attempt(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one retry.
    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one 429 answer.
    pub fn record_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Attempts sent (first tries and retries).
    pub fn attempts(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Retries sent.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// 429 answers received.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }
}

/// One concurrency limit for the whole run. A 429 halves it (never below 1); every
/// few successes give one slot back, up to the configured parallelism.
#[derive(Debug)]
pub struct AdaptiveLimit {
    semaphore: Semaphore,
    max: usize,
    current: AtomicUsize,
    /// Slots to retire as soon as a running request gives its permit back.
    debt: AtomicUsize,
    successes: AtomicU64,
}

/// A slot in the limit; dropping it frees the slot (or retires it, after a 429).
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    limit: &'a AdaptiveLimit,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        if self.limit.take_debt() {
            permit.forget();
        }
    }
}

impl AdaptiveLimit {
    /// A limit of `parallelism` concurrent requests (at least 1).
    pub fn new(parallelism: usize) -> Arc<Self> {
        let max = parallelism.max(1);
        Arc::new(AdaptiveLimit {
            semaphore: Semaphore::new(max),
            max,
            current: AtomicUsize::new(max),
            debt: AtomicUsize::new(0),
            successes: AtomicU64::new(0),
        })
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Slot<'_> {
        let permit = self
            .semaphore
            .acquire()
            .await
            .expect("the semaphore is never closed");
        Slot {
            permit: Some(permit),
            limit: self,
        }
    }

    /// The current limit.
    pub fn current(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }

    /// A 429 arrived: halve the limit (at least 1).
    pub fn lower(&self) {
        let mut current = self.current();
        loop {
            let target = (current / 2).max(1);
            if target == current {
                return;
            }
            match self.current.compare_exchange(
                current,
                target,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
        let retire = current - (current / 2).max(1);
        self.successes.store(0, Ordering::Relaxed);
        for _ in 0..retire {
            match self.semaphore.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(_) => {
                    self.debt.fetch_add(1, Ordering::AcqRel);
                }
            }
        }
        tracing::info!(limit = self.current(), "rate limited: lowering concurrency");
    }

    /// A request succeeded: after enough of them, give one slot back.
    pub fn record_success(&self) {
        if self.current() >= self.max {
            return;
        }
        let count = self.successes.fetch_add(1, Ordering::Relaxed) + 1;
        if !count.is_multiple_of(SUCCESSES_PER_RESTORED_SLOT) {
            return;
        }
        let raised = self
            .current
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
                (c < self.max).then_some(c + 1)
            });
        // Restoring a slot first cancels a retirement still pending.
        if raised.is_ok() && !self.take_debt() {
            self.semaphore.add_permits(1);
        }
    }

    /// Takes one unit of debt, if any.
    fn take_debt(&self) -> bool {
        self.debt
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |d| d.checked_sub(1))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
        };
        let first = b.delay(1);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let third = b.delay(3);
        assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
        assert!(b.delay(30) <= MAX_BACKOFF);
    }

    #[tokio::test]
    async fn a_429_halves_the_limit_and_successes_restore_it() {
        let limit = AdaptiveLimit::new(8);
        let held = limit.acquire().await;
        limit.lower();
        assert_eq!(limit.current(), 4);
        assert_eq!(limit.semaphore.available_permits(), 3);
        drop(held);
        assert_eq!(limit.semaphore.available_permits(), 4);
        for _ in 0..SUCCESSES_PER_RESTORED_SLOT {
            limit.record_success();
        }
        assert_eq!(limit.current(), 5);
        assert_eq!(limit.semaphore.available_permits(), 5);
    }

    #[tokio::test]
    async fn busy_slots_are_retired_when_released() {
        let limit = AdaptiveLimit::new(2);
        let a = limit.acquire().await;
        let b = limit.acquire().await;
        limit.lower();
        assert_eq!(limit.current(), 1);
        drop(a);
        assert_eq!(limit.semaphore.available_permits(), 0);
        drop(b);
        assert_eq!(limit.semaphore.available_permits(), 1);
    }

    #[test]
    fn advertised_waits_are_capped() {
        assert_eq!(advertised_wait(2), Duration::from_secs(2));
        assert_eq!(advertised_wait(100_000), MAX_ADVERTISED_WAIT);
    }
}
