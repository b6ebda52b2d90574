//! The memory answers may take. One answer is read up to `--max-response-size`; all the
//! answers held at once (being read, or read and being decoded) take at most twice that
//! together, so a server answering every parallel request with gigabytes costs a bounded
//! amount of memory, not `--parallelism` times the limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many single-answer limits all held answers may take together.
const ANSWERS_HELD_AT_ONCE: u64 = 2;

/// The bytes held by answers of one run, against its total.
#[derive(Debug)]
pub(super) struct AnswerBudget {
    held: AtomicU64,
    total: u64,
}

/// The bytes one answer holds; given back when it is dropped.
#[derive(Debug)]
pub(super) struct Held {
    budget: Arc<AnswerBudget>,
    bytes: u64,
}

impl AnswerBudget {
    /// A budget for answers of at most `per_answer` bytes each.
    pub fn new(per_answer: u64) -> Arc<Self> {
        Arc::new(AnswerBudget {
            held: AtomicU64::new(0),
            total: per_answer.saturating_mul(ANSWERS_HELD_AT_ONCE),
        })
    }

    /// The most all answers may hold together.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// An answer holding nothing yet.
    pub fn hold(self: &Arc<Self>) -> Held {
        Held {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

impl Held {
    /// Records that the answer now holds `bytes`; false when all answers together now
    /// hold more than the budget.
    pub fn grow_to(&mut self, bytes: u64) -> bool {
        let delta = bytes.saturating_sub(self.bytes);
        self.bytes += delta;
        let before = self.budget.held.fetch_add(delta, Ordering::AcqRel);
        before + delta <= self.budget.total
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_share_twice_the_single_limit_and_give_it_back() {
        let budget = AnswerBudget::new(10);
        let mut a = budget.hold();
        let mut b = budget.hold();
        assert!(a.grow_to(10));
        assert!(b.grow_to(10));
        let mut c = budget.hold();
        assert!(!c.grow_to(1));
        drop(c);
        drop(a);
        assert!(b.grow_to(8) && budget.hold().grow_to(10));
        assert_eq!(budget.held.load(Ordering::Relaxed), 10);
    }
}
