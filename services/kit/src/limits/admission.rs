//! Fair admission: a bounded number of calls run at once in the process, each agency (and the task
//! force) may hold only part of them, and the calls waiting for a slot queue per agency and are
//! admitted round-robin across agencies. One agency's flood therefore fills its own queue (then is
//! refused), while another agency's call waits at most for the next slot to free.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use p06_auth::Agency;
use tokio::sync::oneshot;

/// Why a call was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's agency already has `queued` calls waiting (its queue bound).
    AgencyQueueFull { agency: Agency, queued: usize },
    /// The process has `queued` calls waiting in all (saturated): shed.
    Saturated { queued: usize },
}

/// The bounds of admission.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionBounds {
    /// Calls running at once in the process.
    pub in_flight: usize,
    /// Calls of one agency running at once.
    pub agency_in_flight: usize,
    /// Calls of one agency waiting for a slot.
    pub agency_queue: usize,
    /// Calls waiting in all, beyond which calls are shed.
    pub total_queue: usize,
}

#[derive(Default)]
struct State {
    running: [usize; 4],
    total: usize,
    queues: [VecDeque<oneshot::Sender<()>>; 4],
    queued: usize,
    /// The agency the next free slot is offered to first.
    next: usize,
}

pub struct Admission {
    bounds: AdmissionBounds,
    state: Mutex<State>,
}

fn index(agency: Agency) -> usize {
    match agency {
        Agency::Police => 0,
        Agency::Health => 1,
        Agency::Justice => 2,
        Agency::Taskforce => 3,
    }
}

/// The outcome of asking for a slot.
pub enum Entry {
    Admitted(Permit),
    Queued(Waiter),
}

/// A running call's slot, given back when dropped.
pub struct Permit {
    admission: Arc<Admission>,
    agency: usize,
}

/// A queued call; [`Waiter::admitted`] completes when a slot is given to it.
pub struct Waiter {
    admission: Arc<Admission>,
    agency: usize,
    rx: Option<oneshot::Receiver<()>>,
}

impl Admission {
    pub fn new(bounds: AdmissionBounds) -> Arc<Self> {
        let bounds = AdmissionBounds {
            in_flight: bounds.in_flight.max(1),
            agency_in_flight: bounds.agency_in_flight.clamp(1, bounds.in_flight.max(1)),
            ..bounds
        };
        Arc::new(Self {
            bounds,
            state: Mutex::new(State::default()),
        })
    }

    pub fn bounds(&self) -> AdmissionBounds {
        self.bounds
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot now, a place in the agency's queue, or a refusal.
    pub fn enter(self: &Arc<Self>, agency: Agency) -> Result<Entry, Refusal> {
        let a = index(agency);
        let mut state = self.lock();
        // Callers that gave up while queued leave closed senders behind.
        let before = state.queues[a].len();
        state.queues[a].retain(|tx| !tx.is_closed());
        state.queued -= before - state.queues[a].len();
        if state.total < self.bounds.in_flight
            && state.running[a] < self.bounds.agency_in_flight
            && state.queues[a].is_empty()
        {
            state.total += 1;
            state.running[a] += 1;
            return Ok(Entry::Admitted(Permit {
                admission: self.clone(),
                agency: a,
            }));
        }
        if state.queues[a].len() >= self.bounds.agency_queue {
            return Err(Refusal::AgencyQueueFull {
                agency,
                queued: state.queues[a].len(),
            });
        }
        if state.queued >= self.bounds.total_queue {
            return Err(Refusal::Saturated {
                queued: state.queued,
            });
        }
        let (tx, rx) = oneshot::channel();
        state.queues[a].push_back(tx);
        state.queued += 1;
        Ok(Entry::Queued(Waiter {
            admission: self.clone(),
            agency: a,
            rx: Some(rx),
        }))
    }

    fn release(&self, agency: usize) {
        let mut state = self.lock();
        state.total -= 1;
        state.running[agency] -= 1;
        self.dispatch(&mut state);
    }

    /// Gives free slots to queued calls, one agency after the other.
    fn dispatch(&self, state: &mut State) {
        while state.total < self.bounds.in_flight && state.queued > 0 {
            let mut granted = false;
            for step in 0..4 {
                let b = (state.next + step) % 4;
                if state.running[b] >= self.bounds.agency_in_flight {
                    continue;
                }
                while let Some(tx) = state.queues[b].pop_front() {
                    state.queued -= 1;
                    if tx.send(()).is_ok() {
                        state.total += 1;
                        state.running[b] += 1;
                        state.next = (b + 1) % 4;
                        granted = true;
                        break;
                    }
                }
                if granted {
                    break;
                }
            }
            if !granted {
                break;
            }
        }
    }

    /// (running, queued) of `agency`, for tests and diagnostics.
    pub fn load(&self, agency: Agency) -> (usize, usize) {
        let state = self.lock();
        let a = index(agency);
        (state.running[a], state.queues[a].len())
    }
}

impl Waiter {
    /// Completes with the slot given to this call.
    pub async fn admitted(mut self) -> Permit {
        let rx = self.rx.as_mut().expect("a waiter is awaited once");
        // The admission outlives its waiters (they hold it), so the sender is never dropped
        // unsent except when the waiter was purged, which only happens once it is closed.
        let _ = rx.await;
        self.rx = None;
        Permit {
            admission: self.admission.clone(),
            agency: self.agency,
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // Given a slot just as the caller gave up: hand it on.
        if let Some(mut rx) = self.rx.take()
            && rx.try_recv().is_ok()
        {
            self.admission.release(self.agency);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.release(self.agency);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> AdmissionBounds {
        AdmissionBounds {
            in_flight: 3,
            agency_in_flight: 2,
            agency_queue: 2,
            total_queue: 3,
        }
    }

    fn admitted(entry: Result<Entry, Refusal>) -> Permit {
        match entry {
            Ok(Entry::Admitted(p)) => p,
            _ => panic!("expected a slot"),
        }
    }

    fn queued(entry: Result<Entry, Refusal>) -> Waiter {
        match entry {
            Ok(Entry::Queued(w)) => w,
            _ => panic!("expected a queue place"),
        }
    }

    #[tokio::test]
    async fn a_flooding_agency_fills_its_own_share_and_queue_and_the_others_still_run() {
        let admission = Admission::new(bounds());
        let p1 = admitted(admission.enter(Agency::Police));
        let _p2 = admitted(admission.enter(Agency::Police));
        let w1 = queued(admission.enter(Agency::Police));
        let _w2 = queued(admission.enter(Agency::Police));
        assert_eq!(
            admission.enter(Agency::Police).err(),
            Some(Refusal::AgencyQueueFull {
                agency: Agency::Police,
                queued: 2
            })
        );
        assert_eq!(admission.load(Agency::Police), (2, 2));
        // Police hold 2 of 3 slots: the task force runs at once.
        let t = admitted(admission.enter(Agency::Taskforce));
        // All slots busy: health queues, and is served before police's queue at the next release.
        let h = queued(admission.enter(Agency::Health));
        assert_eq!(
            admission.enter(Agency::Justice).err(),
            Some(Refusal::Saturated { queued: 3 })
        );
        drop(t);
        let _h = h.admitted().await;
        assert_eq!(admission.load(Agency::Health), (1, 0));
        drop(p1);
        let _p3 = w1.admitted().await;
        assert_eq!(admission.load(Agency::Police), (2, 1));
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_frees_its_place_and_its_slot() {
        let admission = Admission::new(AdmissionBounds {
            in_flight: 1,
            agency_in_flight: 1,
            agency_queue: 1,
            total_queue: 4,
        });
        let p = admitted(admission.enter(Agency::Police));
        let w = queued(admission.enter(Agency::Police));
        drop(w);
        // Its closed place is purged: another caller may queue.
        let w2 = queued(admission.enter(Agency::Police));
        // Given the slot, then dropped before seeing it: the slot is released again.
        drop(p);
        drop(w2);
        assert_eq!(admission.load(Agency::Police), (0, 0));
        let _p = admitted(admission.enter(Agency::Health));
    }
}
