//! Held refusals: a caller past its own rate is answered RESOURCE_EXHAUSTED only after as much of
//! its wait as the hold bound and its deadline allow, and the answer's `RetryInfo` gives what is
//! left of the wait.
//!
//! A client that honours `RetryInfo` sees no difference: it retries when the wait is over either
//! way. A client that ignores it and resends at once (the hostile client of the `overload`
//! benchmark keeps 64 calls in flight) gets one answer per wait for each call it keeps open,
//! instead of thousands a second — and each of those refusals costs the server a request to parse,
//! a token to check and an answer to write. Holding costs a timer and a few hundred bytes per held
//! call, bounded by [`Holds`]' cap (past it, refusals are answered at once, as without holding) and
//! by the concurrent streams a connection may open.
//!
//! Only the per-caller rates are held: their wait is the caller's own. Refusals for a full queue
//! or a saturated process are answered at once, so another caller can take the slot.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The shortest wait a held refusal names: a caller that reads `RetryInfo` always finds one.
const MIN_RETRY: Duration = Duration::from_millis(1);

/// The bound on held refusals.
pub struct Holds {
    longest: Duration,
    cap: usize,
    held: Arc<AtomicUsize>,
}

/// How to answer one refusal.
#[derive(Debug, PartialEq, Eq)]
pub struct Hold {
    /// How long to hold the answer (zero: answer at once).
    pub hold: Duration,
    /// The wait the answer names.
    pub retry: Duration,
}

/// One held refusal, counted until dropped.
pub struct Held {
    held: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.held.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Holds {
    /// Holds at most `longest` each, at most `cap` at once; either zero turns holding off.
    pub fn new(longest: Duration, cap: usize) -> Holds {
        Holds {
            longest,
            cap,
            held: Arc::default(),
        }
    }

    /// Refusals held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// How to answer a caller that must wait `wait`, whose call may last `budget` (its deadline,
    /// less the margin to answer before it): the hold, and the counted slot it takes.
    pub fn plan(&self, wait: Duration, budget: Duration) -> (Hold, Option<Held>) {
        let hold = wait.min(self.longest).min(budget);
        if hold.is_zero() || self.cap == 0 {
            return (Hold::at_once(wait), None);
        }
        let taken = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.cap).then_some(n + 1)
            })
            .is_ok();
        if !taken {
            return (Hold::at_once(wait), None);
        }
        let plan = Hold {
            hold,
            retry: wait.saturating_sub(hold).max(MIN_RETRY),
        };
        (
            plan,
            Some(Held {
                held: self.held.clone(),
            }),
        )
    }
}

impl Hold {
    fn at_once(wait: Duration) -> Hold {
        Hold {
            hold: Duration::ZERO,
            retry: wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_refusal_is_held_for_the_wait_within_the_bound_and_the_deadline() {
        let holds = Holds::new(1_000 * MS, 4);
        let (plan, slot) = holds.plan(300 * MS, 10_000 * MS);
        assert_eq!(
            plan,
            Hold {
                hold: 300 * MS,
                retry: MS
            }
        );
        assert!(slot.is_some());
        // Longer than the bound: the rest of the wait is named.
        let (plan, _slot) = holds.plan(2_500 * MS, 10_000 * MS);
        assert_eq!(
            plan,
            Hold {
                hold: 1_000 * MS,
                retry: 1_500 * MS
            }
        );
        // The caller's deadline comes first.
        let (plan, _slot) = holds.plan(800 * MS, 50 * MS);
        assert_eq!(
            plan,
            Hold {
                hold: 50 * MS,
                retry: 750 * MS
            }
        );
    }

    #[test]
    fn past_the_cap_refusals_are_answered_at_once_and_slots_come_back() {
        let holds = Holds::new(1_000 * MS, 2);
        let a = holds.plan(100 * MS, 10_000 * MS).1;
        let b = holds.plan(100 * MS, 10_000 * MS).1;
        assert_eq!(holds.held(), 2);
        let (plan, none) = holds.plan(100 * MS, 10_000 * MS);
        assert_eq!(
            plan,
            Hold {
                hold: Duration::ZERO,
                retry: 100 * MS
            }
        );
        assert!(none.is_none());
        drop((a, b));
        assert_eq!(holds.held(), 0);
        assert!(holds.plan(100 * MS, 10_000 * MS).1.is_some());
    }

    #[test]
    fn zero_turns_holding_off() {
        for holds in [Holds::new(Duration::ZERO, 8), Holds::new(1_000 * MS, 0)] {
            let (plan, slot) = holds.plan(100 * MS, 10_000 * MS);
            assert_eq!(
                plan,
                Hold {
                    hold: Duration::ZERO,
                    retry: 100 * MS
                }
            );
            assert!(slot.is_none());
        }
    }
}
